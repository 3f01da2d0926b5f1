import { DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, EncryptCommand, GetKeyLastUsageCommand } from '@aws-sdk/client-kms';
import { handler } from '../../../lambdas/check/index.js';
import { TAGS, type WatchState } from '../../../lambdas/domain/types.js';
import { startWatch } from '../../../lambdas/domain/watch.js';
import { ACCOUNT, EXECUTION } from '../fixtures.js';
import {
  CONTEXT,
  canary,
  canaryRecord,
  checkEvent,
  DISABLED_AT,
  disabledCall,
  givenKey,
  givenPendingKey,
  givenRecords,
  KEY_ARN,
  kms,
  LOG_GROUP,
  logs,
  PLAN,
  REGION,
  refusedPendingDeletion,
  scheduled,
} from './check-world.js';

beforeEach(() => {
  vi.stubEnv('AWS_REGION', REGION);
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  kms.reset();
  logs.reset();
});

describe('check handler', () => {
  it('OBSERVE quiet: advances the cursor and schedules the next check', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next).toMatchObject({
      phase: 'OBSERVE',
      cursor: '2026-01-01T06:00:00.000Z',
      checks: 1,
      nextCheckAt: '2026-01-01T12:00:00.000Z',
      done: false,
      broke: false,
      evidenceCount: 0,
    });
    const input = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(input?.startTime).toBe(Date.parse('2025-12-31T23:30:00.000Z'));
    expect(input?.endTime).toBe(Date.parse('2026-01-01T06:00:00.000Z'));
    expect(input?.filterPattern).toContain(KEY_ARN);
  });

  it('OBSERVE broke: a DisabledException on the key is evidence with an e-mail body', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([
      disabledCall('seen-before', '2026-01-01T05:50:00Z'),
      disabledCall('ev-new', '2026-01-01T11:40:00Z'),
    ]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T06:00:00.000Z',
      checks: 1,
      seenEventIds: ['seen-before'],
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next.broke).toBe(true);
    expect(next.evidenceCount).toBe(1);
    expect(next.evidence[0]).toMatchObject({
      eventID: 'ev-new',
      eventName: 'Decrypt',
      errorCode: 'DisabledException',
      principal: `arn:aws:iam::${ACCOUNT}:role/app`,
      sourceIPAddress: '203.0.113.10',
    });
    // Only what the next window (from 11:30) can return again is remembered.
    expect(next.seenEventIds).toEqual(['ev-new']);
    expect(next.reportText).toContain('ev-new');
    expect(next.subject).toContain('rolling back');
  });

  it('a key a person re-enabled: searches first, then answers keyChange with the evidence found', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Enabled');
    givenRecords([disabledCall('ev-before-enable', '2026-01-01T03:00:00Z')]);
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
    expect(next.keyChange).toEqual({
      error: 'KeyChangedExternallyError',
      cause: expect.stringMatching(/Enabled/),
    });
    expect(next.keyState).toBe('Enabled');
    expect(next.evidence.map((e) => e.eventID)).toEqual(['ev-before-enable']);
    expect(next.broke).toBe(true);
    // A changed key gets no canary: it would prove nothing (and succeed on an enabled key).
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(0);
  });

  it('a key another execution holds: answers keyChange, and reads GetKeyLastUsage for a use after the disable', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled', { [TAGS.execution]: `${EXECUTION}-other` });
    givenRecords([]);
    kms.on(GetKeyLastUsageCommand).resolves({
      KeyLastUsage: {
        Operation: 'Decrypt',
        Timestamp: new Date('2026-01-01T04:00:00Z'),
        CloudTrailEventId: 'ct-use',
      },
      TrackingStartDate: new Date('2025-01-01T00:00:00Z'),
    });

    // Act
    const next = await handler(
      checkEvent('OBSERVE', startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN })),
      CONTEXT,
    );

    // Assess
    expect(next.keyChange?.error).toBe('KeyChangedExternallyError');
    expect(next.keyChange?.cause).toContain(`${EXECUTION}-other`);
    expect(next.evidence.map((e) => e.eventID)).toEqual(['ct-use']);
  });

  it('a key deleted outside the workflow: evidence is reported, keyChange says so, nothing is left to give back', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('gone'), { name: 'NotFoundException' }));
    givenRecords([disabledCall('ev-gone', '2026-01-01T03:00:00Z')]);

    // Act
    const next = await handler(
      checkEvent('OBSERVE', startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN })),
      CONTEXT,
    );

    // Assess
    expect(next).toMatchObject({ keyState: 'NotFound', broke: false, evidenceCount: 1 });
    expect(next.keyChange?.cause).toMatch(/no longer exists/);
    expect(kms.commandCalls(GetKeyLastUsageCommand)).toHaveLength(0);
  });

  it('reads GetKeyLastUsage before every decision and whenever the key changed, not at each observation check', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const watch = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T06:00:00.000Z',
    };

    // Act
    await handler(checkEvent('OBSERVE', watch), CONTEXT);
    const quietReads = kms.commandCalls(GetKeyLastUsageCommand).length;
    givenKey('Enabled');
    const changed = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(quietReads).toBe(0);
    expect(kms.commandCalls(GetKeyLastUsageCommand)).toHaveLength(1);
    expect(changed.keyChange).toBeDefined();
  });

  it('FINAL quiet: done, observation report with GetKeyLastUsage before the disable', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-31T00:30:00.000Z'));
    givenKey('Disabled');
    givenRecords([canaryRecord('canary-last', '2026-01-31T00:00:00Z')]);
    kms.on(GetKeyLastUsageCommand).resolves({
      KeyLastUsage: {
        Operation: 'Decrypt',
        Timestamp: new Date('2025-06-01T00:00:00Z'),
        CloudTrailEventId: 'ct-old',
      },
      TrackingStartDate: new Date('2025-01-01T00:00:00Z'),
    });
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-31T00:00:00.000Z',
      checks: 120,
      scanned: 7,
      done: true,
      canaries: [canary('canary-last', '2026-01-31T00:00:00.000Z')],
    };

    // Act
    const next = await handler(checkEvent('FINAL', watch), CONTEXT);

    // Assess
    expect(next).toMatchObject({ phase: 'FINAL', done: true, broke: false, checks: 121, canariesSeen: 1 });
    expect(next.reportText).toContain('Checks run: 121');
    expect(next.reportText).toContain('DisabledException on this key: none seen.');
    expect(next.reportText).toContain('ScheduleKeyDeletion with a 30-day pending window');
    expect(next.reportText).toContain(`npx kms-deletion-guard approve ${EXECUTION}`);
    expect(next.subject.length).toBeLessThanOrEqual(100);
  });

  it('FINAL searches the whole hold again: a record delivered days after its call, behind every earlier window, is evidence', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-31T00:30:00.000Z'));
    givenKey('Disabled');
    // Called on day 3, delivered weeks later: every observation window that covered day 3 had passed.
    givenRecords([
      canaryRecord('canary-last', '2026-01-31T00:00:00Z'),
      disabledCall('ev-late', '2026-01-03T10:00:00Z'),
    ]);
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
    const input = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(input?.startTime).toBe(DISABLED_AT.getTime() - PLAN.ingestionLagSeconds * 1000);
    expect(input?.endTime).toBe(Date.parse('2026-01-31T00:30:00.000Z'));
    expect(next.broke).toBe(true);
    // The canary's own record, in the same search, never counts.
    expect(next.evidence.map((e) => e.eventID)).toEqual(['ev-late']);
  });

  it('FINAL broke: a successful use after the disable (GetKeyLastUsage) is evidence', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-31T00:30:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    kms.on(GetKeyLastUsageCommand).resolves({
      KeyLastUsage: {
        Operation: 'Encrypt',
        Timestamp: new Date('2026-01-20T08:00:00Z'),
        CloudTrailEventId: 'ct-after',
        KmsRequestId: 'req-1',
      },
      TrackingStartDate: new Date('2025-01-01T00:00:00Z'),
    });
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-31T00:00:00.000Z',
      checks: 120,
      done: true,
    };

    // Act
    const next = await handler(checkEvent('FINAL', watch), CONTEXT);

    // Assess
    expect(next.broke).toBe(true);
    expect(next.evidence).toEqual([
      expect.objectContaining({
        eventID: 'ct-after',
        eventName: 'Encrypt',
        eventTime: '2026-01-20T08:00:00.000Z',
        principal: 'unknown (from GetKeyLastUsage)',
      }),
    ]);
  });

  it('PENDING: KMSInvalidStateException on the key pending deletion is evidence', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-02-01T06:00:00.000Z'));
    givenPendingKey();
    givenRecords([refusedPendingDeletion(disabledCall('ev-pending', '2026-02-01T03:00:00Z'))]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    const deletionDate = '2026-03-03T00:00:00.000Z';
    const watch = startWatch('PENDING', {
      now: scheduledAt,
      plan: PLAN,
      deletionDate: new Date(deletionDate),
    });

    // Act
    const next = await handler(
      checkEvent('PENDING', watch, {
        deletion: scheduled(scheduledAt, deletionDate),
      }),
      CONTEXT,
    );

    // Assess
    expect(next).toMatchObject({ phase: 'PENDING', broke: true, evidenceCount: 1, done: false });
    expect(next.subject).toContain('cancelling deletion');
  });

  it('PENDING: a key no longer pending deletion answers keyChange after the whole hold was searched', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-02-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    const deletionDate = '2026-03-03T00:00:00.000Z';
    const watch = startWatch('PENDING', {
      now: scheduledAt,
      plan: PLAN,
      deletionDate: new Date(deletionDate),
    });

    // Act
    const next = await handler(
      checkEvent('PENDING', watch, { deletion: scheduled(scheduledAt, deletionDate) }),
      CONTEXT,
    );

    // Assess
    expect(next.keyChange).toEqual({
      error: 'KeyChangedExternallyError',
      cause: expect.stringMatching(/no longer pending deletion|not pending-deletion/),
    });
    const input = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(input?.startTime).toBe(DISABLED_AT.getTime() - PLAN.ingestionLagSeconds * 1000);
  });

  it('PENDING: a primary waiting for replicas (no DeletionDate) is checked at once and stops the watch', async () => {
    // Prepare
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    givenKey('PendingReplicaDeletion', { [TAGS.execution]: EXECUTION, [TAGS.status]: 'pending-deletion' });
    givenRecords([]);
    const watch = startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: null });
    vi.setSystemTime(new Date(watch.nextCheckAt));

    // Act
    const next = await handler(
      checkEvent('PENDING', watch, { deletion: scheduled(scheduledAt, null) }),
      CONTEXT,
    );

    // Assess
    expect(watch.nextCheckAt).toBe(scheduledAt.toISOString());
    expect(next.keyChange?.cause).toMatch(/PendingReplicaDeletion/);
  });

  it('PENDING at the deletion date: a key KMS deleted is the expected end, late evidence is reported but not acted on', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-03-03T00:00:00.000Z'));
    givenPendingKey();
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('gone'), { name: 'NotFoundException' }));
    givenRecords([refusedPendingDeletion(disabledCall('ev-too-late', '2026-03-02T23:50:00Z'))]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    const deletionDate = '2026-03-03T00:00:00.000Z';
    const watch: WatchState = {
      ...startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: new Date(deletionDate) }),
      cursor: '2026-03-02T23:40:00.000Z',
      done: true,
    };

    // Act
    const next = await handler(
      checkEvent('PENDING', watch, { deletion: scheduled(scheduledAt, deletionDate), atDeletion: true }),
      CONTEXT,
    );

    // Assess
    expect(next).toMatchObject({ done: true, broke: false, keyState: 'NotFound', evidenceCount: 1 });
    expect(next.keyChange).toBeUndefined();
    expect(next.reportText).toContain('too late to cancel');
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(0);
  });

  it('PENDING at the deletion date: a key KMS has not deleted yet still has its deletion cancelled on evidence', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-03-03T00:00:00.000Z'));
    givenPendingKey();
    givenRecords([refusedPendingDeletion(disabledCall('ev-last', '2026-03-02T23:50:00Z'))]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    const deletionDate = '2026-03-03T00:00:00.000Z';
    const watch: WatchState = {
      ...startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: new Date(deletionDate) }),
      cursor: '2026-03-02T23:40:00.000Z',
      done: true,
    };

    // Act
    const next = await handler(
      checkEvent('PENDING', watch, { deletion: scheduled(scheduledAt, deletionDate), atDeletion: true }),
      CONTEXT,
    );

    // Assess
    expect(next).toMatchObject({ broke: true, keyState: 'PendingDeletion', evidenceCount: 1 });
    expect(next.subject).toContain('cancelling deletion');
  });

  it('fails closed when the log group was re-created after the last check', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupName: LOG_GROUP, creationTime: Date.parse('2026-01-01T09:00:00Z') }],
    });
    const watch = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T06:00:00.000Z',
    };

    // Act
    const act = handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'EventSourceUnavailableError');
  });

  it('requires the record of the disable canary once it is older than the lag, and makes the next one', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([canaryRecord('canary-disable', '2026-01-01T00:00:00Z')]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      canaries: [canary('canary-disable', DISABLED_AT.toISOString())],
      canariesSeen: 0,
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next).toMatchObject({ broke: false, evidenceCount: 0, canariesSeen: 1 });
    expect(next.canaries).toEqual([
      canary('canary-disable', DISABLED_AT.toISOString(), true),
      canary('canary-now', '2026-01-01T06:00:00.000Z'),
    ]);
    // The breakage search's window covers the canary, so one search serves both.
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(1);
  });

  it('reaches back to a canary older than the breakage window, so one search serves both', async () => {
    // Prepare: the last check ran at 05:00, so this window starts at 04:30, after the 00:00 canary.
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([canaryRecord('canary-disable', '2026-01-01T00:00:00Z')]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T05:00:00.000Z',
      canaries: [canary('canary-disable', DISABLED_AT.toISOString())],
      canariesSeen: 0,
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next).toMatchObject({ broke: false, canariesSeen: 1 });
    // A second search could not be split across invocations; the check's own can.
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
    const query = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(query?.filterPattern).not.toContain('$.requestID');
    expect(query?.startTime).toBe(Date.parse('2025-12-31T23:59:00.000Z'));
  });

  it('throws EventSourceBlindError when a canary older than the lag is not in the source', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      canaries: [canary('canary-disable', DISABLED_AT.toISOString())],
    };

    // Act
    const act = handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'EventSourceBlindError',
      message: expect.stringMatching(
        /request ID canary-disable.*log group aws-cloudtrail-logs 360 minutes later/,
      ),
    });
  });

  it('does not look for a canary younger than the lag yet', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:20:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T06:00:00.000Z',
      canaries: [canary('canary-young', '2026-01-01T06:00:00.000Z')],
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
    expect(next.canaries?.map((c) => [c.requestId, c.seen])).toEqual([
      ['canary-young', false],
      ['canary-now', false],
    ]);
  });

  it("never counts the canary's record as evidence, but a real caller's failure in the same minute counts", async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([
      canaryRecord('canary-prev', '2026-01-01T06:00:00Z'),
      { ...disabledCall('ev-app', '2026-01-01T06:00:30Z'), requestID: 'app-request' },
    ]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T06:00:00.000Z',
      checks: 1,
      canaries: [canary('canary-prev', '2026-01-01T06:00:00.000Z')],
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next.broke).toBe(true);
    expect(next.evidence.map((e) => e.eventID)).toEqual(['ev-app']);
    // Breakage decides: no canary is made on a key about to be rolled back.
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(0);
  });

  it("never counts a record of the workflow's own role as evidence, even without a known request ID", async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([canaryRecord('lost-request-id', '2026-01-01T08:00:00Z')]);
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-01T06:00:00.000Z',
    };

    // Act
    const next = await handler(checkEvent('OBSERVE', watch), CONTEXT);

    // Assess
    expect(next).toMatchObject({ broke: false, evidenceCount: 0 });
  });

  it('FINAL: without any canary seen the observation proves nothing (EventSourceBlindError)', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-31T00:30:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    kms.on(GetKeyLastUsageCommand).resolves({ TrackingStartDate: new Date('2025-01-01T00:00:00Z') });
    const watch: WatchState = {
      ...startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN }),
      cursor: '2026-01-31T00:00:00.000Z',
      checks: 120,
      done: true,
    };

    // Act
    const act = handler(checkEvent('FINAL', watch), CONTEXT);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'EventSourceBlindError', message: /No canary/ });
  });

  it('PENDING: the canary must fail with KMSInvalidStateException; the last check makes none', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-03-02T23:40:00.000Z'));
    givenPendingKey();
    givenRecords([refusedPendingDeletion(canaryRecord('canary-pending', '2026-03-02T17:00:00Z'))]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    const deletionDate = '2026-03-03T00:00:00.000Z';
    const watch: WatchState = {
      ...startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: new Date(deletionDate) }),
      cursor: '2026-03-02T17:00:00.000Z',
      canaries: [
        { ...canary('canary-pending', '2026-03-02T17:00:00.000Z'), errorCode: 'KMSInvalidStateException' },
      ],
      canariesSeen: 200,
    };

    // Act
    const next = await handler(
      checkEvent('PENDING', watch, {
        deletion: scheduled(scheduledAt, deletionDate),
      }),
      CONTEXT,
    );

    // Assess
    expect(next).toMatchObject({ done: true, broke: false, canariesSeen: 201 });
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(0);
  });

  it('PENDING: makes a canary that KMS answers with KMSInvalidStateException', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-02-01T06:00:00.000Z'));
    givenPendingKey();
    givenRecords([]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    const deletionDate = '2026-03-03T00:00:00.000Z';

    // Act
    const next = await handler(
      checkEvent(
        'PENDING',
        startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: new Date(deletionDate) }),
        {
          deletion: scheduled(scheduledAt, deletionDate),
        },
      ),
      CONTEXT,
    );

    // Assess
    expect(next.canaries).toEqual([
      {
        requestId: 'canary-now',
        at: '2026-02-01T06:00:00.000Z',
        operation: 'Encrypt',
        errorCode: 'KMSInvalidStateException',
        seen: false,
      },
    ]);
  });

  it('rejects an event that breaks the contract', async () => {
    // Prepare
    const event = {
      ...checkEvent('PENDING', startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN })),
      deletion: null,
    };

    // Act
    const act = handler(event, CONTEXT);

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'InvalidHandlerEventError');
    expect(kms.calls()).toHaveLength(0);
  });
});
