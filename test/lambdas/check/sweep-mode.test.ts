import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EncryptCommand } from '@aws-sdk/client-kms';
import { toItem } from '../../../lambdas/aws/hold-registry.js';
import { handler } from '../../../lambdas/check/index.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import type { WatchState } from '../../../lambdas/domain/types.js';
import { startWatch } from '../../../lambdas/domain/watch.js';
import { EXECUTION, OTHER_EXECUTION } from '../fixtures.js';
import {
  CONTEXT,
  canary,
  canaryRecord,
  checkEvent,
  DISABLED_AT,
  disabledCall,
  givenKey,
  givenRecords,
  holds,
  KEY_ARN,
  kms,
  logs,
  PLAN,
  REGION,
} from './check-world.js';

/** The sweep's sightings of this key's hold: `records`, swept up to `sweptTo`, for `executionArn`. */
function givenSightings(records: CloudTrailRecord[], sweptTo: string, executionArn = EXECUTION): void {
  holds.on(GetItemCommand, { Key: { keyArn: { S: `sightings#${KEY_ARN}` } } }).resolves({
    Item: toItem({
      keyArn: `sightings#${KEY_ARN}`,
      holdKeyArn: KEY_ARN,
      executionArn,
      searchedFrom: new Date(DISABLED_AT.getTime() - 1_800_000).toISOString(),
      sweptTo,
      records,
      ingestedAt: Object.fromEntries(records.map((r) => [r.eventID, Date.parse(r.eventTime) + 300_000])),
      dropped: 0,
      expiresAt: 1_900_000_000,
    }),
  });
}

beforeEach(() => {
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('KDG_SWEEP_MAX_AGE_SECONDS', '7500');
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  kms.reset();
  logs.reset();
  holds.reset();
});

describe('check handler with a sweep', () => {
  it('reads the hold from the sweep instead of searching, and stands as of the sweep', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenSightings([], '2026-01-01T05:30:00.000Z');
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
    expect(next).toMatchObject({ cursor: '2026-01-01T05:30:00.000Z', checks: 1, broke: false });
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(1);
  });

  it("finds at the next check a caller's failure the sweep saw, however late it was delivered", async () => {
    // Prepare: an observation check at 12:00 whose cursor is 06:00; the record's call was at 01:00.
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
    givenKey('Disabled');
    givenSightings(
      [canaryRecord('canary-1', '2026-01-01T00:00:10Z'), disabledCall('ev-late', '2026-01-01T01:00:00Z')],
      '2026-01-01T11:30:00.000Z',
    );
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T06:00:00.000Z',
      checks: 1,
      canaries: [canary('canary-1', '2026-01-01T00:00:10.000Z', true)],
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next.broke).toBe(true);
    expect(next.evidence.map((e) => e.eventID)).toEqual(['ev-late']);
  });

  it('proves the canary from the sightings and needs no search of its own', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenSightings([canaryRecord('canary-1', '2026-01-01T00:00:10Z')], '2026-01-01T05:00:00.000Z');
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      canaries: [canary('canary-1', '2026-01-01T00:00:10.000Z')],
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next.canariesSeen).toBe(1);
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
  });

  it('a last look searches, itself, what the sweep could not see yet: the ingestion lag before its end and after it', async () => {
    // Prepare: the final check at 00:30; the last sweep ended at 00:00, and a caller failed at 23:50,
    // its record delivered at 00:10: in no sightings, found by the final check's own search.
    vi.setSystemTime(new Date('2026-01-31T00:30:00.000Z'));
    givenKey('Disabled');
    givenSightings([canaryRecord('canary-last', '2026-01-31T00:00:00Z')], '2026-01-31T00:00:00.000Z');
    givenRecords([disabledCall('ev-last-minutes', '2026-01-30T23:50:00Z')]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-31T00:00:00.000Z',
      checks: 120,
      done: true,
      canaries: [canary('canary-last', '2026-01-31T00:00:00.000Z')],
    };

    // Act
    const next = await handler(checkEvent('FINAL', watch), CONTEXT);

    // Assess
    const inputs = logs.commandCalls(FilterLogEventsCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(1);
    expect(inputs[0]?.startTime).toBe(
      Date.parse('2026-01-31T00:00:00.000Z') - PLAN.ingestionLagSeconds * 1000,
    );
    expect(inputs[0]?.endTime).toBe(Date.parse('2026-01-31T00:30:00.000Z'));
    expect(next.broke).toBe(true);
    expect(next.evidence.map((e) => e.eventID)).toEqual(['ev-last-minutes']);
  });

  it.each([
    ['the sweep ended more than the accepted age ago', '2026-01-01T03:54:59.000Z', EXECUTION],
    ['the sightings are of another execution', '2026-01-01T05:30:00.000Z', OTHER_EXECUTION],
  ])('fails with SweepBehindError when %s', async (_case, sweptTo, executionArn) => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenSightings([], sweptTo, executionArn);
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Act
    const run = handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'SweepBehindError' });
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(0);
  });
});
