import { describe, expect, it } from 'vitest';
import type { Sightings, SweepState } from '../../../lambdas/contracts/sweep.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import { SweepBehindError } from '../../../lambdas/domain/errors.js';
import { FAILED_CALLS_PATTERN } from '../../../lambdas/domain/filter-pattern.js';
import {
  DELIVERY_METRIC_PERIOD_SECONDS,
  MAX_PROOF_SPAN_MS,
  metricsWindowOf,
  nextStreamProof,
  STREAM_SETTLE_MS,
  type SubscriptionSeen,
  streamRecordsFor,
  withDelivered,
} from '../../../lambdas/domain/stream.js';
import { MAX_SIGHTED_EVIDENCE, MAX_SIGHTED_OWN } from '../../../lambdas/domain/sweep.js';
import { HOUR_MS, MINUTE_MS } from '../../../lambdas/domain/time.js';
import { ACCOUNT, disabledDecryptRecord, EXECUTION, KEY_ID, keyArnIn, OTHER_EXECUTION } from '../fixtures.js';

const KEY_ARN = keyArnIn('us-east-1');
const WORKFLOW_ROLE = `arn:aws:iam::${ACCOUNT}:role/guard-check`;
const DESTINATION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:guard-deliveries`;
const EXPECTED = { filterPattern: FAILED_CALLS_PATTERN, destinationArn: DESTINATION };
const NOW = new Date('2026-02-10T12:00:00.000Z');
const END = new Date(NOW.getTime() - STREAM_SETTLE_MS);
const PERIOD_MS = DELIVERY_METRIC_PERIOD_SECONDS * 1000;

function ago(ms: number): Date {
  return new Date(NOW.getTime() - ms);
}

/** The stack's own filter, made at `creationTime`. */
function stackFilter(creationTime: Date, overrides: Partial<SubscriptionSeen> = {}): SubscriptionSeen {
  return { ...EXPECTED, creationTime, ...overrides };
}

/** What a proof left in the sweep's state item. */
function proofState(sweptTo: Date | null, streamSince: Date | null): SweepState {
  return {
    keyArn: 'sweep#state',
    version: 7,
    sweptTo: sweptTo?.toISOString() ?? null,
    streamSince: streamSince?.toISOString() ?? null,
    running: null,
    last: null,
    updatedAt: NOW.toISOString(),
  };
}

const HOLD = {
  keyArn: KEY_ARN,
  keyId: KEY_ID,
  aliases: ['alias/billing'],
  executionArn: EXECUTION,
  from: '2026-02-01T00:00:00.000Z',
};

/** A failed Decrypt on the held key by the billing app at `eventTime`. */
function failure(eventID: string, eventTime: string): CloudTrailRecord {
  return disabledDecryptRecord({ eventID, eventTime });
}

/** A canary of the workflow's check role on the held key, at `eventTime`. */
function canary(eventID: string, eventTime: string): CloudTrailRecord {
  return disabledDecryptRecord({
    eventID,
    eventTime,
    eventName: 'Encrypt',
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/guard-check/session`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { arn: WORKFLOW_ROLE } },
    },
  });
}

/** `count` records a minute apart from 2026-02-02, made by `make`. */
function minutely(
  count: number,
  prefix: string,
  make: (id: string, time: string) => CloudTrailRecord,
): CloudTrailRecord[] {
  return Array.from({ length: count }, (_, i) =>
    make(`${prefix}-${i}`, new Date(Date.parse('2026-02-02T00:00:00Z') + i * MINUTE_MS).toISOString()),
  );
}

function sightings(overrides: Partial<Sightings> = {}): Sightings {
  return {
    keyArn: `sightings#${KEY_ARN}`,
    holdKeyArn: KEY_ARN,
    executionArn: EXECUTION,
    searchedFrom: '2026-01-31T23:30:00.000Z',
    sweptTo: '2026-02-09T00:00:00.000Z',
    records: [failure('early', '2026-02-02T00:00:00Z'), failure('late', '2026-02-09T00:00:00Z')],
    ingestedAt: { early: Date.parse('2026-02-02T00:05:00Z'), late: Date.parse('2026-02-09T00:04:00Z') },
    dropped: 0,
    version: 3,
    expiresAt: 1_800_000_000,
    ...overrides,
  };
}

describe('metricsWindowOf', () => {
  it('reads the first proof from the filter’s creation to the end', () => {
    // Prepare
    const created = ago(HOUR_MS);

    // Act
    const window = metricsWindowOf(null, stackFilter(created), END);

    // Assess
    expect(window).toEqual({ start: created, end: END });
  });

  it('reads a later proof from where the previous one stopped, not from the filter’s creation', () => {
    // Prepare
    const previous = proofState(ago(15 * MINUTE_MS), ago(2 * HOUR_MS));

    // Act
    const window = metricsWindowOf(previous, stackFilter(ago(2 * HOUR_MS)), END);

    // Assess
    expect(window).toEqual({ start: ago(15 * MINUTE_MS), end: END });
  });

  it('reaches back at most MAX_PROOF_SPAN_MS, for a first proof and after a long stop alike', () => {
    // Prepare
    const longAgo = ago(3 * 24 * HOUR_MS);

    // Act
    const first = metricsWindowOf(null, stackFilter(longAgo), END);
    const afterStop = metricsWindowOf(proofState(longAgo, longAgo), stackFilter(longAgo), END);

    // Assess
    for (const window of [first, afterStop]) {
      expect(window.start).toEqual(new Date(END.getTime() - MAX_PROOF_SPAN_MS));
      expect(window.end).toEqual(END);
    }
  });
});

describe('nextStreamProof', () => {
  it('counts the first proof from the filter’s creation, and stands the settle time behind now', () => {
    // Prepare
    const created = ago(HOUR_MS);

    // Act
    const proof = nextStreamProof({
      previous: null,
      filter: stackFilter(created),
      expected: EXPECTED,
      incidents: [],
      metricsFrom: created,
      now: NOW,
    });

    // Assess
    expect(proof).toEqual({ provenThrough: END, streamSince: created, broken: null });
  });

  it('keeps streamSince while the filter stays the stack’s and no delivery was lost', () => {
    // Prepare
    const since = ago(5 * HOUR_MS);
    const previous = proofState(ago(15 * MINUTE_MS), since);

    // Act
    const proof = nextStreamProof({
      previous,
      filter: stackFilter(ago(6 * HOUR_MS)),
      expected: EXPECTED,
      incidents: [{ metric: 'AWS/Logs DeliveryErrors', at: ago(12 * MINUTE_MS), value: 0 }],
      metricsFrom: ago(15 * MINUTE_MS),
      now: NOW,
    });

    // Assess: a data point of zero is no incident.
    expect(proof).toEqual({ provenThrough: END, streamSince: since, broken: null });
  });

  it('moves streamSince to the end of the latest period in which a delivery may be lost', () => {
    // Prepare
    const previous = proofState(ago(20 * MINUTE_MS), ago(5 * HOUR_MS));
    const first = ago(18 * MINUTE_MS);
    const latest = ago(13 * MINUTE_MS);

    // Act
    const proof = nextStreamProof({
      previous,
      filter: stackFilter(ago(6 * HOUR_MS)),
      expected: EXPECTED,
      incidents: [
        { metric: 'AWS/Lambda Throttles', at: latest, value: 1 },
        { metric: 'AWS/Logs DeliveryErrors', at: first, value: 4 },
      ],
      metricsFrom: ago(20 * MINUTE_MS),
      now: NOW,
    });

    // Assess
    expect(proof.provenThrough).toEqual(END);
    expect(proof.streamSince).toEqual(new Date(latest.getTime() + PERIOD_MS));
    expect(proof.broken).toContain('AWS/Lambda Throttles 1');
    expect(proof.broken).toContain('AWS/Logs DeliveryErrors 4');
  });

  it('never moves streamSince back for an incident older than it', () => {
    // Prepare: the stream was already counted from after the incident's period.
    const since = ago(14 * MINUTE_MS);
    const previous = proofState(ago(20 * MINUTE_MS), since);

    // Act
    const proof = nextStreamProof({
      previous,
      filter: stackFilter(ago(6 * HOUR_MS)),
      expected: EXPECTED,
      incidents: [{ metric: 'AWS/Lambda Errors', at: ago(19 * MINUTE_MS), value: 1 }],
      metricsFrom: ago(20 * MINUTE_MS),
      now: NOW,
    });

    // Assess
    expect(proof.streamSince).toEqual(since);
  });

  it('finds the subscription broken when the filter is gone', () => {
    // Act
    const proof = nextStreamProof({
      previous: proofState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS)),
      filter: null,
      expected: EXPECTED,
      incidents: [],
      metricsFrom: END,
      now: NOW,
    });

    // Assess
    expect(proof.provenThrough).toEqual(END);
    expect(proof.streamSince).toBeNull();
    expect(proof.broken).toMatch(/gone/);
  });

  it.each([
    ['its pattern was changed', { filterPattern: '{ $.errorCode = "DisabledException" }' }, 'pattern'],
    ['its pattern is empty (every event)', { filterPattern: '' }, 'pattern'],
    [
      'its destination was changed',
      { destinationArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:someone-else` },
      'someone-else',
    ],
  ])('finds the subscription broken when %s', (_case, change, named) => {
    // Act
    const proof = nextStreamProof({
      previous: proofState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS)),
      filter: stackFilter(ago(6 * HOUR_MS), change),
      expected: EXPECTED,
      incidents: [],
      metricsFrom: ago(15 * MINUTE_MS),
      now: NOW,
    });

    // Assess
    expect(proof.streamSince).toBeNull();
    expect(proof.broken).toMatch(/changed/);
    expect(proof.broken).toContain(named);
  });

  it('counts from the creation of a filter made again since the previous proof', () => {
    // Prepare: what was ingested between the deletion and the new filter was never delivered.
    const previous = proofState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    const remade = ago(12 * MINUTE_MS);

    // Act
    const proof = nextStreamProof({
      previous,
      filter: stackFilter(remade),
      expected: EXPECTED,
      incidents: [],
      metricsFrom: ago(15 * MINUTE_MS),
      now: NOW,
    });

    // Assess
    expect(proof.streamSince).toEqual(remade);
    expect(proof.broken).toContain(`made again at ${remade.toISOString()}`);
  });

  it('counts from now, not from the filter’s creation, once a broken subscription is whole again', () => {
    // Prepare: the previous proof found it broken; when it was mended is unknown.
    const previous = proofState(ago(15 * MINUTE_MS), null);

    // Act
    const proof = nextStreamProof({
      previous,
      filter: stackFilter(ago(6 * HOUR_MS)),
      expected: EXPECTED,
      incidents: [],
      metricsFrom: ago(15 * MINUTE_MS),
      now: NOW,
    });

    // Assess
    expect(proof.streamSince).toEqual(NOW);
    expect(proof.provenThrough).toEqual(END);
    expect(proof.broken).toMatch(/whole again/);
  });

  it('counts from now when the state was left by the search sweep (no streamSince at all)', () => {
    // Prepare: a stack switched from the search to the subscription keeps the search's state item.
    const { streamSince: _none, ...searched } = proofState(ago(30 * MINUTE_MS), null);

    // Act
    const proof = nextStreamProof({
      previous: searched,
      filter: stackFilter(ago(20 * MINUTE_MS)),
      expected: EXPECTED,
      incidents: [],
      metricsFrom: ago(30 * MINUTE_MS),
      now: NOW,
    });

    // Assess
    expect(proof.streamSince).toEqual(NOW);
  });

  it('proves nothing before where the metrics were read when they could not reach back far enough', () => {
    // Prepare: the previous proof stopped five hours ago; this one reads only MAX_PROOF_SPAN_MS back.
    const previous = proofState(ago(5 * HOUR_MS), ago(3 * 24 * HOUR_MS));
    const metricsFrom = new Date(END.getTime() - MAX_PROOF_SPAN_MS);

    // Act
    const proof = nextStreamProof({
      previous,
      filter: stackFilter(ago(4 * 24 * HOUR_MS)),
      expected: EXPECTED,
      incidents: [],
      metricsFrom,
      now: NOW,
    });

    // Assess
    expect(proof.streamSince).toEqual(metricsFrom);
    expect(proof.broken).toContain(`read only from ${metricsFrom.toISOString()}`);
  });

  it('counts a first proof of an old filter from where its metrics were read, not from the creation', () => {
    // Prepare
    const filter = stackFilter(ago(2 * 24 * HOUR_MS));
    const window = metricsWindowOf(null, filter, END);

    // Act
    const proof = nextStreamProof({
      previous: null,
      filter,
      expected: EXPECTED,
      incidents: [],
      metricsFrom: window.start,
      now: NOW,
    });

    // Assess
    expect(proof.streamSince?.getTime()).toBeGreaterThanOrEqual(window.start.getTime());
    expect(proof.streamSince).toEqual(new Date(END.getTime() - MAX_PROOF_SPAN_MS));
  });

  it('never counts from before the filter existed, nor from before what it read without a proof to stand on', () => {
    // Prepare: every combination of a previous proof, a creation and a metrics start.
    const previousStates = [
      null,
      proofState(null, null),
      proofState(ago(15 * MINUTE_MS), null),
      proofState(ago(15 * MINUTE_MS), ago(6 * HOUR_MS)),
      proofState(ago(10 * HOUR_MS), ago(20 * HOUR_MS)),
    ];
    const creations = [ago(30 * 24 * HOUR_MS), ago(7 * HOUR_MS), ago(14 * MINUTE_MS)];

    for (const previous of previousStates) {
      for (const created of creations) {
        const filter = stackFilter(created);
        const window = metricsWindowOf(previous, filter, END);

        // Act
        const proof = nextStreamProof({
          previous,
          filter,
          expected: EXPECTED,
          incidents: [],
          metricsFrom: window.start,
          now: NOW,
        });

        // Assess: without an unbroken proof before it, only what this proof read counts.
        const since = proof.streamSince?.getTime() ?? Number.NaN;
        expect(since).toBeGreaterThanOrEqual(created.getTime());
        if (!previous?.sweptTo || !previous.streamSince) {
          expect(since).toBeGreaterThanOrEqual(window.start.getTime());
        }
      }
    }
  });
});

describe('withDelivered', () => {
  const receivedAt = new Date('2026-02-09T12:00:00.000Z');

  it('adds a delivery’s records to the hold’s sightings, each once, keeping when each was first seen', () => {
    // Prepare: `late` is delivered again (a retried delivery), `new` for the first time.
    const current = sightings();

    // Act
    const merged = withDelivered({
      current,
      hold: HOLD,
      records: [failure('late', '2026-02-09T00:00:00Z'), failure('new', '2026-02-09T11:58:00Z')],
      receivedAt,
      workflowPrincipalArns: [WORKFLOW_ROLE],
    });

    // Assess
    expect(merged.records.map((r) => r.eventID)).toEqual(['early', 'late', 'new']);
    expect(merged.ingestedAt).toEqual({
      early: Date.parse('2026-02-02T00:05:00Z'),
      late: Date.parse('2026-02-09T00:04:00Z'),
      new: receivedAt.getTime(),
    });
    expect(merged).toMatchObject({
      holdKeyArn: KEY_ARN,
      executionArn: EXECUTION,
      searchedFrom: HOLD.from,
      sweptTo: receivedAt.toISOString(),
      dropped: 0,
    });
  });

  it('starts the sightings afresh when none were kept', () => {
    // Act
    const merged = withDelivered({
      current: null,
      hold: HOLD,
      records: [failure('first', '2026-02-03T00:00:00Z')],
      receivedAt,
      workflowPrincipalArns: [],
    });

    // Assess
    expect(merged.records.map((r) => r.eventID)).toEqual(['first']);
    expect(merged.ingestedAt).toEqual({ first: receivedAt.getTime() });
  });

  it('replaces another execution’s sightings of the key, its records and counts', () => {
    // Prepare
    const current = sightings({ executionArn: OTHER_EXECUTION, dropped: 7 });

    // Act
    const merged = withDelivered({
      current,
      hold: HOLD,
      records: [failure('mine', '2026-02-09T11:00:00Z')],
      receivedAt,
      workflowPrincipalArns: [],
    });

    // Assess
    expect(merged.executionArn).toBe(EXECUTION);
    expect(merged.records.map((r) => r.eventID)).toEqual(['mine']);
    expect(merged.ingestedAt).toEqual({ mine: receivedAt.getTime() });
    expect(merged.dropped).toBe(0);
  });

  it('drops records from before the hold began', () => {
    // Act
    const merged = withDelivered({
      current: null,
      hold: HOLD,
      records: [failure('before', '2026-01-31T23:59:59Z'), failure('after', '2026-02-01T00:00:00Z')],
      receivedAt,
      workflowPrincipalArns: [],
    });

    // Assess
    expect(merged.records.map((r) => r.eventID)).toEqual(['after']);
    expect(Object.keys(merged.ingestedAt)).toEqual(['after']);
  });

  it('keeps the first MAX_SIGHTED_EVIDENCE records of other callers and counts the rest, with those counted before', () => {
    // Prepare
    const others = minutely(MAX_SIGHTED_EVIDENCE + 10, 'other', failure);
    const current = sightings({ records: [], ingestedAt: {}, dropped: 3 });

    // Act
    const merged = withDelivered({
      current,
      hold: HOLD,
      records: others,
      receivedAt,
      workflowPrincipalArns: [WORKFLOW_ROLE],
    });

    // Assess
    expect(merged.records.map((r) => r.eventID)).toEqual(
      others.slice(0, MAX_SIGHTED_EVIDENCE).map((r) => r.eventID),
    );
    expect(merged.dropped).toBe(10 + 3);
  });

  it('keeps the newest MAX_SIGHTED_OWN canaries of the workflow, beside every other caller’s record', () => {
    // Prepare
    const canaries = minutely(MAX_SIGHTED_OWN + 20, 'canary', canary);
    const evidence = failure('evidence', '2026-02-01T12:00:00Z');

    // Act
    const merged = withDelivered({
      current: null,
      hold: HOLD,
      records: [...canaries, evidence],
      receivedAt,
      workflowPrincipalArns: [WORKFLOW_ROLE],
    });

    // Assess
    expect(merged.records).toHaveLength(MAX_SIGHTED_OWN + 1);
    expect(merged.records[0]?.eventID).toBe('evidence');
    expect(merged.records.slice(1).map((r) => r.eventID)).toEqual(canaries.slice(20).map((r) => r.eventID));
    expect(merged.dropped).toBe(0);
  });

  it('keeps records of other keys out of the hold’s sightings', () => {
    // Prepare
    const otherKey = KEY_ARN.replace(KEY_ID, 'dddddddd-0000-4000-8000-000000000004');
    const onOther = disabledDecryptRecord({
      eventID: 'other-key',
      eventTime: '2026-02-05T00:00:00Z',
      errorMessage: `${otherKey} is disabled.`,
      requestParameters: { keyId: otherKey },
      resources: [{ ARN: otherKey, accountId: ACCOUNT, type: 'AWS::KMS::Key' }],
    });

    // Act
    const merged = withDelivered({
      current: null,
      hold: HOLD,
      records: [onOther],
      receivedAt,
      workflowPrincipalArns: [],
    });

    // Assess
    expect(merged.records).toEqual([]);
  });
});

describe('streamRecordsFor', () => {
  const disabledAt = new Date('2026-02-01T00:30:00.000Z');
  const provenThrough = ago(12 * MINUTE_MS);
  const base = {
    executionArn: EXECUTION,
    keyArn: KEY_ARN,
    disabledAt,
    window: { start: new Date(0), end: NOW },
    now: NOW,
    maxAgeMs: 25 * MINUTE_MS,
  };

  it.each([
    ['no proof yet', null],
    ['a state with no proof', proofState(null, ago(HOUR_MS))],
  ])('fails with SweepBehindError when there is %s', (_case, state) => {
    // Act
    const read = () => streamRecordsFor({ ...base, state, sightings: sightings() });

    // Assess
    expect(read).toThrow(SweepBehindError);
    expect(read).toThrow(/Nothing has proven/);
  });

  it('fails with SweepBehindError when the proof is older than maxAge (it has stopped)', () => {
    // Prepare
    const state = proofState(ago(26 * MINUTE_MS), new Date('2026-01-01T00:00:00Z'));

    // Act
    const read = () => streamRecordsFor({ ...base, state, sightings: sightings() });

    // Assess
    expect(read).toThrow(SweepBehindError);
    expect(read).toThrow(/the proof has stopped/);
  });

  it('reads a proof exactly maxAge old', () => {
    // Prepare
    const state = proofState(ago(25 * MINUTE_MS), new Date('2026-01-01T00:00:00Z'));

    // Act
    const read = streamRecordsFor({ ...base, state, sightings: sightings() });

    // Assess
    expect(read.records).toHaveLength(2);
  });

  it('fails with SweepBehindError while the subscription is not whole', () => {
    // Prepare
    const state = proofState(provenThrough, null);

    // Act
    const read = () => streamRecordsFor({ ...base, state, sightings: sightings() });

    // Assess
    expect(read).toThrow(SweepBehindError);
    expect(read).toThrow(/not whole/);
  });

  it('fails with SweepBehindError when the deliveries are proven only since after the hold began', () => {
    // Prepare: one millisecond after the disable is too late, even with records kept.
    const state = proofState(provenThrough, new Date(disabledAt.getTime() + 1));

    // Act
    const read = () => streamRecordsFor({ ...base, state, sightings: sightings() });

    // Assess
    expect(read).toThrow(SweepBehindError);
    expect(read).toThrow(/after this hold/);
  });

  it('reads the records of a hold begun when the deliveries were proven from', () => {
    // Prepare
    const state = proofState(provenThrough, disabledAt);

    // Act
    const read = streamRecordsFor({ ...base, state, sightings: sightings() });

    // Assess
    expect(read).toMatchObject({ searchedFrom: disabledAt, searchedTo: provenThrough, subscription: true });
    expect(read.records.map((r) => r.eventID)).toEqual(['early', 'late']);
    expect(read.ingestedAt).toEqual(
      new Map([
        ['early', Date.parse('2026-02-02T00:05:00Z')],
        ['late', Date.parse('2026-02-09T00:04:00Z')],
      ]),
    );
  });

  it('includes records delivered past where the proof stands: a delivered record is evidence', () => {
    // Prepare
    const state = proofState(provenThrough, new Date('2026-01-15T00:00:00Z'));
    const recent = failure('recent', ago(2 * MINUTE_MS).toISOString());

    // Act
    const read = streamRecordsFor({
      ...base,
      state,
      sightings: sightings({ records: [...sightings().records, recent] }),
    });

    // Assess
    expect(read.records.map((r) => r.eventID)).toContain('recent');
    expect(read.searchedTo).toEqual(provenThrough);
  });

  it('reads only the window’s records, keeping one whose time cannot be read', () => {
    // Prepare
    const state = proofState(provenThrough, new Date('2026-01-15T00:00:00Z'));
    const unreadable = failure('unreadable', 'not a time');

    // Act
    const read = streamRecordsFor({
      ...base,
      state,
      sightings: sightings({ records: [...sightings().records, unreadable] }),
      window: { start: new Date('2026-02-05T00:00:00Z'), end: new Date('2026-02-09T06:00:00Z') },
    });

    // Assess: the window ends before the proof, so the check stands as of the window's end.
    expect(read.records.map((r) => r.eventID)).toEqual(['late', 'unreadable']);
    expect(read.searchedTo).toEqual(new Date('2026-02-09T06:00:00Z'));
  });

  it.each([
    ['another execution', { executionArn: OTHER_EXECUTION }],
    ['another key', { holdKeyArn: KEY_ARN.replace(KEY_ID, 'dddddddd-0000-4000-8000-000000000004') }],
  ])('reads no records from sightings of %s', (_case, change) => {
    // Prepare
    const state = proofState(provenThrough, new Date('2026-01-15T00:00:00Z'));

    // Act
    const read = streamRecordsFor({ ...base, state, sightings: sightings(change) });

    // Assess
    expect(read.records).toEqual([]);
    expect(read.ingestedAt.size).toBe(0);
    expect(read.subscription).toBe(true);
  });

  it('reads a quiet hold (no sightings) as no records, standing as of the proof', () => {
    // Prepare
    const state = proofState(provenThrough, new Date('2026-01-15T00:00:00Z'));

    // Act
    const read = streamRecordsFor({ ...base, state, sightings: null });

    // Assess
    expect(read).toMatchObject({ records: [], searchedTo: provenThrough, subscription: true });
  });
});
