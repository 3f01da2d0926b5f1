import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSightings } from '../../../lambdas/aws/hold-reader.js';
import { usePacing } from '../../../lambdas/aws/pacing.js';
import { putSightings, readSweepState } from '../../../lambdas/aws/sweep-registry.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import { SWEEP_MIN_PAGE_MS } from '../../../lambdas/domain/sweep.js';
import { handler } from '../../../lambdas/sweep/index.js';
import {
  ACCOUNT,
  disabledDecryptRecord,
  EXECUTION,
  holdRecord,
  KEY_ID,
  keyArnIn,
  OTHER_EXECUTION,
} from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

const LOG_GROUP = 'aws-cloudtrail-logs';
const HELD = keyArnIn('us-east-1');
const SECOND_ID = 'bbbbbbbb-0000-4000-8000-000000000002';
const SECOND = HELD.replace(KEY_ID, SECOND_ID);
const ENDED = HELD.replace(KEY_ID, 'cccccccc-0000-4000-8000-000000000003');
const UNHELD = HELD.replace(KEY_ID, 'dddddddd-0000-4000-8000-000000000004');
const NOW = new Date('2026-02-10T00:00:00.000Z');

const logs = mockClient(CloudWatchLogsClient);
let table: HoldTable;

/** A failed Decrypt on `keyArn` at `eventTime`. */
function failure(eventID: string, keyArn: string, eventTime = '2026-02-08T00:00:00Z'): CloudTrailRecord {
  return disabledDecryptRecord({
    eventID,
    eventTime,
    errorMessage: `${keyArn} is disabled.`,
    resources: [{ ARN: keyArn, accountId: ACCOUNT, type: 'AWS::KMS::Key' }],
    requestParameters: { keyId: keyArn },
  });
}

/** A log group of `pages` pages; page `i` holds `matches[i]`; each page costs `pageMs` of `clock`. */
function givenLogGroup(
  pages: number,
  matches: Readonly<Record<number, CloudTrailRecord[]>>,
  clock = { spentMs: 0 },
  pageMs = 0,
): FilterLogEventsCommandInput[] {
  const asked: FilterLogEventsCommandInput[] = [];
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, creationTime: 0 }] });
  logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
    asked.push(input);
    clock.spentMs += pageMs;
    const index = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
    const events = (matches[index] ?? []).map((r) => ({
      message: JSON.stringify(r),
      timestamp: Date.parse(r.eventTime),
      ingestionTime: Date.parse(r.eventTime) + 300_000,
    }));
    return { events, ...(index + 1 < pages ? { nextToken: `page-${index + 1}` } : {}) };
  });
  return asked;
}

/** A Lambda context of a 300 s function whose clock `clock` advances. */
function contextOf(clock: { spentMs: number }) {
  return { getRemainingTimeInMillis: () => 300_000 - clock.spentMs } as Parameters<typeof handler>[1];
}

async function seedHolds(): Promise<void> {
  await table.seed({ ...holdRecord('watching', { disabledAt: '2026-02-05T00:00:00.000Z' }), keyId: KEY_ID });
  await table.seed(
    holdRecord('pending-deletion', {
      keyArn: SECOND,
      execution: OTHER_EXECUTION,
      disabledAt: '2026-02-01T00:00:00.000Z',
    }),
  );
  await table.seed(holdRecord('ended', { keyArn: ENDED, disabledAt: '2026-01-01T00:00:00.000Z' }));
}

beforeAll(async () => {
  table = await startHoldTable();
});

afterAll(async () => {
  await table.close();
});

beforeEach(async () => {
  await table.clear();
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  process.env.KDG_LOG_GROUP = LOG_GROUP;
  process.env.KDG_INGESTION_LAG_SECONDS = '1800';
  process.env.KDG_SWEEP_INTERVAL_SECONDS = '3600';
  process.env.KDG_WORKFLOW_PRINCIPALS = `arn:aws:iam::${ACCOUNT}:role/guard-check`;
  // The pacing waits cost no real time here; the pacing test counts them on its clock.
  usePacing(async () => {});
});

afterEach(() => {
  logs.reset();
  vi.useRealTimers();
  usePacing(undefined);
});

describe('sweep handler', () => {
  it('searches once for every live hold, from the oldest hold, and gives each hold its own records', async () => {
    // Prepare
    await seedHolds();
    const asked = givenLogGroup(3, {
      0: [failure('on-held', HELD)],
      2: [failure('on-second', SECOND), failure('on-unheld', UNHELD), failure('on-ended', ENDED)],
    });

    // Act
    const outcome = await handler({}, contextOf({ spentMs: 0 }));

    // Assess: one search of three pages, not scoped to any key, from the oldest live hold less the lag.
    expect(outcome).toMatchObject({ outcome: 'SWEPT', holds: 2, pages: 3, sweptTo: NOW.toISOString() });
    expect(asked).toHaveLength(3);
    expect(asked[0]?.startTime).toBe(Date.parse('2026-01-31T23:30:00.000Z'));
    expect(asked[0]?.filterPattern).not.toContain(KEY_ID);
    const held = await readSightings(HELD);
    expect(held).toMatchObject({
      executionArn: EXECUTION,
      sweptTo: NOW.toISOString(),
      searchedFrom: '2026-02-04T23:30:00.000Z',
    });
    expect(held?.records.map((r) => r.eventID)).toEqual(['on-held']);
    const second = await readSightings(SECOND);
    expect(second?.executionArn).toBe(OTHER_EXECUTION);
    expect(second?.records.map((r) => r.eventID)).toEqual(['on-second']);
    expect(await readSightings(ENDED)).toBeNull();
    expect((await readSweepState())?.last).toMatchObject({ holds: 2, pages: 3, matched: 2 });
  });

  it('starts no sweep within an interval of the last one, and starts one after it', async () => {
    // Prepare
    await seedHolds();
    const asked = givenLogGroup(1, {});
    await handler({}, contextOf({ spentMs: 0 }));

    // Act
    vi.setSystemTime(new Date(NOW.getTime() + 59 * 60_000));
    const early = await handler({}, contextOf({ spentMs: 0 }));
    vi.setSystemTime(new Date(NOW.getTime() + 60 * 60_000));
    const due = await handler({}, contextOf({ spentMs: 0 }));

    // Assess
    expect(early).toEqual({ outcome: 'NOT_DUE', sweptTo: NOW.toISOString() });
    expect(due).toMatchObject({
      outcome: 'SWEPT',
      sweptTo: new Date(NOW.getTime() + 3_600_000).toISOString(),
    });
    expect(asked).toHaveLength(2);
  });

  it('marks the time it looked when nothing is held', async () => {
    // Act
    const outcome = await handler({}, contextOf({ spentMs: 0 }));

    // Assess
    expect(outcome).toEqual({ outcome: 'IDLE', sweptTo: NOW.toISOString() });
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
    expect((await readSweepState())?.sweptTo).toBe(NOW.toISOString());
  });

  it('writes nothing for any hold until a search split across invocations is complete', async () => {
    // Prepare: 1,000 pages of 300 ms, the held key's failure on the last one.
    await seedHolds();
    const first = { spentMs: 0 };
    givenLogGroup(1000, { 999: [failure('at-the-end', HELD)] }, first, 300);

    // Act
    const stopped = await handler({}, contextOf(first));
    const between = await readSightings(HELD);
    const outcomes = [stopped];
    for (let i = 0; i < 5 && outcomes.at(-1)?.outcome === 'CONTINUES'; i += 1) {
      vi.setSystemTime(new Date(Date.now() + 5 * 60_000));
      const clock = { spentMs: 0 };
      givenLogGroup(1000, { 999: [failure('at-the-end', HELD)] }, clock, 300);
      outcomes.push(await handler({}, contextOf(clock)));
    }

    // Assess: the window the first invocation fixed, every page once, the record found.
    expect(stopped.outcome).toBe('CONTINUES');
    expect(between).toBeNull();
    expect(outcomes.at(-1)).toMatchObject({ outcome: 'SWEPT', pages: 1000, sweptTo: NOW.toISOString() });
    expect((await readSightings(HELD))?.records.map((r) => r.eventID)).toEqual(['at-the-end']);
  });

  it("finishes a split sweep whose holds' records together far exceed what a state could carry", async () => {
    // Prepare: 300 holds, each with a failure on the first page and a canary on the last of 1,000.
    const keys = Array.from({ length: 300 }, (_, i) =>
      HELD.replace(KEY_ID, `eeeeeeee-0000-4000-8000-${String(i).padStart(12, '0')}`),
    );
    for (const keyArn of keys) {
      await table.seed(holdRecord('watching', { keyArn, disabledAt: '2026-02-05T00:00:00.000Z' }));
    }
    const canary = (keyArn: string): CloudTrailRecord => ({
      ...failure(`canary-${keyArn}`, keyArn, '2026-02-09T00:00:00Z'),
      eventName: 'Encrypt',
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/guard-check/s`,
        accountId: ACCOUNT,
        sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/guard-check` } },
      },
    });
    const pages = {
      0: keys.map((keyArn) => failure(`early-${keyArn}`, keyArn, '2026-02-06T00:00:00Z')),
      999: keys.map(canary),
    };

    // Act
    const outcomes = [];
    for (let i = 0; i < 6 && outcomes.at(-1)?.outcome !== 'SWEPT'; i += 1) {
      const clock = { spentMs: 0 };
      givenLogGroup(1000, pages, clock, 300);
      outcomes.push(await handler({}, contextOf(clock)));
      vi.setSystemTime(new Date(Date.now() + 5 * 60_000));
    }

    // Assess: no carry error, and every hold has what the first and the last invocation found.
    expect(outcomes[0]?.outcome).toBe('CONTINUES');
    expect(outcomes.at(-1)).toMatchObject({ outcome: 'SWEPT', holds: 300, pages: 1000 });
    for (const keyArn of [keys[0], keys[299]] as string[]) {
      const ids = (await readSightings(keyArn))?.records.map((r) => r.eventID);
      expect(ids).toEqual([`early-${keyArn}`, `canary-${keyArn}`]);
    }
  });

  it('asks for at most one page every 500 ms, under half the account quota, waiting on the invocation clock', async () => {
    // Prepare: pages answer in 100 ms; the wait advances the same clock.
    await seedHolds();
    const clock = { spentMs: 0 };
    const asked = givenLogGroup(20, {}, clock, 100);
    const requestTimes: number[] = [];
    logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
      requestTimes.push(clock.spentMs);
      asked.push(input);
      clock.spentMs += 100;
      const index = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
      return { events: [], ...(index + 1 < 20 ? { nextToken: `page-${index + 1}` } : {}) };
    });
    usePacing(async (ms) => {
      clock.spentMs += ms;
    });

    // Act
    const outcome = await handler({}, contextOf(clock));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'SWEPT', pages: 20 });
    const gaps = requestTimes.slice(1).map((at, i) => at - (requestTimes[i] ?? 0));
    expect(Math.min(...gaps)).toBe(SWEEP_MIN_PAGE_MS);
  });

  it('writes nothing and keeps its state when the search fails: the checks see an ageing sweep', async () => {
    // Prepare
    await seedHolds();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, creationTime: 0 }] });
    logs
      .on(FilterLogEventsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const run = handler({}, contextOf({ spentMs: 0 }));

    // Assess
    await expect(run).rejects.toThrow('Rate exceeded');
    expect(await readSightings(HELD)).toBeNull();
    expect(await readSweepState()).toBeNull();
  });

  it('never puts older sightings over a later sweep of the same hold', async () => {
    // Prepare
    const later = {
      keyArn: `sightings#${HELD}`,
      holdKeyArn: HELD,
      executionArn: EXECUTION,
      searchedFrom: '2026-02-04T23:30:00.000Z',
      sweptTo: '2026-02-10T00:00:00.000Z',
      records: [],
      ingestedAt: {},
      dropped: 0,
      expiresAt: 1_800_000_000,
    };
    await putSightings(later);

    // Act
    const written = await putSightings({ ...later, sweptTo: '2026-02-09T23:00:00.000Z' });

    // Assess
    expect(written).toBe('CONFLICT');
    expect((await readSightings(HELD))?.sweptTo).toBe(later.sweptTo);
  });
});
