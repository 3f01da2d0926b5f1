import { describe, expect, it } from 'vitest';
import type { Sightings } from '../../../lambdas/contracts/sweep.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import { SweepBehindError } from '../../../lambdas/domain/errors.js';
import {
  MAX_SIGHTED_EVIDENCE,
  MAX_SIGHTED_OWN,
  sightingsOf,
  sweepWindowOf,
  sweptHoldOf,
  sweptRecordsFor,
} from '../../../lambdas/domain/sweep.js';
import {
  ACCOUNT,
  disabledDecryptRecord,
  EXECUTION,
  holdRecord,
  KEY_ID,
  keyArnIn,
  OTHER_EXECUTION,
} from '../fixtures.js';

const KEY_ARN = keyArnIn('us-east-1');
const WORKFLOW_ROLE = `arn:aws:iam::${ACCOUNT}:role/guard-check`;
const LAG_SECONDS = 1800;
const HOLD = {
  keyArn: KEY_ARN,
  keyId: KEY_ID,
  aliases: ['alias/billing'],
  executionArn: EXECUTION,
  from: '2026-02-01T00:00:00.000Z',
};

/** A canary of the workflow's check role on the held key, at `eventTime`. */
function canaryRecord(eventID: string, eventTime: string): CloudTrailRecord {
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

function hourly(count: number, make: (id: string, time: string) => CloudTrailRecord): CloudTrailRecord[] {
  return Array.from({ length: count }, (_, i) =>
    make(`ev-${i}`, new Date(Date.parse('2026-02-01T01:00:00Z') + i * 3_600_000).toISOString()),
  );
}

function sightings(overrides: Partial<Sightings> = {}): Sightings {
  return {
    keyArn: `sightings#${KEY_ARN}`,
    holdKeyArn: KEY_ARN,
    executionArn: EXECUTION,
    searchedFrom: '2026-01-31T23:30:00.000Z',
    sweptTo: '2026-02-10T00:00:00.000Z',
    records: [
      disabledDecryptRecord({ eventID: 'early', eventTime: '2026-02-02T00:00:00Z' }),
      disabledDecryptRecord({ eventID: 'late', eventTime: '2026-02-09T00:00:00Z' }),
    ],
    ingestedAt: { early: Date.parse('2026-02-02T00:05:00Z') },
    dropped: 0,
    expiresAt: 1_800_000_000,
    ...overrides,
  };
}

describe('sweptHoldOf', () => {
  it('searches a live hold from its disable less the ingestion lag, by the names the hold recorded', () => {
    // Prepare
    const hold = { ...holdRecord('watching'), keyId: KEY_ID, aliases: ['alias/billing'] };

    // Act
    const swept = sweptHoldOf(hold, LAG_SECONDS);

    // Assess
    expect(swept).toEqual({
      keyArn: KEY_ARN,
      keyId: KEY_ID,
      aliases: ['alias/billing'],
      executionArn: EXECUTION,
      from: '2026-01-31T23:30:00.000Z',
    });
  });

  it('takes the key ID from the ARN of a hold recorded before holds named their key', () => {
    // Act
    const swept = sweptHoldOf(holdRecord('pending-deletion'), LAG_SECONDS);

    // Assess
    expect(swept?.keyId).toBe(KEY_ID);
    expect(swept?.aliases).toEqual([]);
  });

  it('leaves an ended hold out', () => {
    // Act / Assess
    expect(sweptHoldOf(holdRecord('ended'), LAG_SECONDS)).toBeNull();
  });
});

describe('sweepWindowOf', () => {
  it('reaches back to the oldest hold and ends now', () => {
    // Prepare
    const now = new Date('2026-02-10T00:00:00Z');

    // Act
    const window = sweepWindowOf([{ ...HOLD, from: '2026-02-05T00:00:00.000Z' }, HOLD], now);

    // Assess
    expect(window).toEqual({ start: new Date(HOLD.from), end: now });
  });

  it('has no window without holds', () => {
    expect(sweepWindowOf([], new Date())).toBeNull();
  });
});

describe('sightingsOf', () => {
  it("keeps the hold's own records from its start, oldest first, with when each was ingested", () => {
    // Prepare
    const mine = disabledDecryptRecord({ eventID: 'mine', eventTime: '2026-02-03T00:00:00Z' });
    const before = disabledDecryptRecord({ eventID: 'before', eventTime: '2026-01-20T00:00:00Z' });
    const other = disabledDecryptRecord({
      eventID: 'other',
      errorMessage: `${keyArnIn('us-east-1').replace(KEY_ID, 'ffffffff-0000-4000-8000-000000000000')} is disabled.`,
      resources: [],
      requestParameters: { keyId: 'ffffffff-0000-4000-8000-000000000000' },
    });
    const canary = canaryRecord('canary', '2026-02-02T00:00:00Z');

    // Act
    const found = sightingsOf({
      hold: HOLD,
      records: [mine, before, other, canary],
      ingestedAt: new Map([['mine', 42]]),
      sweptTo: new Date('2026-02-10T00:00:00Z'),
      workflowPrincipalArns: [WORKFLOW_ROLE],
    });

    // Assess
    expect(found.records.map((r) => r.eventID)).toEqual(['canary', 'mine']);
    expect(found.ingestedAt).toEqual({ mine: 42 });
    expect(found).toMatchObject({
      holdKeyArn: KEY_ARN,
      executionArn: EXECUTION,
      searchedFrom: HOLD.from,
      dropped: 0,
    });
  });

  it('keeps the first callers and counts the rest, and the newest canaries', () => {
    // Prepare
    const callers = hourly(MAX_SIGHTED_EVIDENCE + 7, (id, time) =>
      disabledDecryptRecord({ eventID: id, eventTime: time }),
    );
    const canaries = hourly(MAX_SIGHTED_OWN + 3, (id, time) => canaryRecord(`c-${id}`, time));

    // Act
    const found = sightingsOf({
      hold: HOLD,
      records: [...callers, ...canaries],
      ingestedAt: new Map(),
      sweptTo: new Date('2026-03-10T00:00:00Z'),
      workflowPrincipalArns: [WORKFLOW_ROLE],
    });

    // Assess
    const ids = found.records.map((r) => r.eventID);
    expect(found.dropped).toBe(7);
    expect(ids).toContain('ev-0');
    expect(ids).not.toContain(`ev-${MAX_SIGHTED_EVIDENCE}`);
    expect(ids).not.toContain('c-ev-0');
    expect(ids).toContain(`c-ev-${MAX_SIGHTED_OWN + 2}`);
    expect(found.records).toHaveLength(MAX_SIGHTED_EVIDENCE + MAX_SIGHTED_OWN);
  });
});

describe('sweptRecordsFor', () => {
  const args = {
    executionArn: EXECUTION,
    keyArn: KEY_ARN,
    window: { start: new Date('2026-02-05T00:00:00Z'), end: new Date('2026-02-10T01:00:00Z') },
    now: new Date('2026-02-10T01:00:00Z'),
    maxAgeMs: 2 * 3_600_000,
  };

  it("answers the window's records up to the sweep's end, and stands as of it", () => {
    // Act
    const swept = sweptRecordsFor({ ...args, sightings: sightings() });

    // Assess
    expect(swept.records.map((r) => r.eventID)).toEqual(['late']);
    expect(swept.searchedTo).toEqual(new Date('2026-02-10T00:00:00.000Z'));
    expect(swept.searchedFrom).toEqual(new Date('2026-01-31T23:30:00.000Z'));
    expect(swept.ingestedAt.get('early')).toBe(Date.parse('2026-02-02T00:05:00Z'));
  });

  it('keeps a record whose time cannot be read: dropping it could hide a failed call', () => {
    // Prepare
    const unreadable = disabledDecryptRecord({ eventID: 'odd', eventTime: 'yesterday' });

    // Act
    const swept = sweptRecordsFor({ ...args, sightings: sightings({ records: [unreadable] }) });

    // Assess
    expect(swept.records.map((r) => r.eventID)).toEqual(['odd']);
  });

  it.each([
    ['no sweep has written any', null],
    ['they are of another execution', sightings({ executionArn: OTHER_EXECUTION })],
    ['they are of another key', sightings({ holdKeyArn: keyArnIn('eu-west-1') })],
    ['the last sweep is older than a sweep may take', sightings({ sweptTo: '2026-02-09T22:59:59.000Z' })],
  ])('fails with SweepBehindError when %s', (_case, given) => {
    // Act
    const read = () => sweptRecordsFor({ ...args, sightings: given });

    // Assess
    expect(read).toThrow(SweepBehindError);
  });
});
