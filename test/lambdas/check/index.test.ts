import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeKeyCommand,
  DisabledException,
  EncryptCommand,
  GetKeyLastUsageCommand,
  KMSClient,
  KMSInvalidStateException,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../../lambdas/check/index.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import {
  type Canary,
  type CheckEvent,
  type ScheduleResult,
  TAGS,
  type WatchState,
} from '../../../lambdas/domain/types.js';
import { startWatch } from '../../../lambdas/domain/watch.js';
import { ACCOUNT, assessment, EXECUTION, KEY_ID, keyArnIn, keyFacts, watchPlan } from '../fixtures.js';

const REGION = 'us-east-1';
const KEY_ARN = keyArnIn(REGION);
const LOG_GROUP = 'aws-cloudtrail-logs';
const DISABLED_AT = new Date('2026-01-01T00:00:00.000Z');
const CHECK_ROLE = `arn:aws:iam::${ACCOUNT}:role/KmsDeletionGuard-CheckRole`;

const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);

const PLAN = watchPlan({ logGroupName: LOG_GROUP, workflowPrincipalArns: [CHECK_ROLE] });

const ASSESSMENT = assessment({
  key: keyFacts(),
  plan: PLAN,
  assessedAt: '2025-12-31T23:00:00.000Z',
  summaryText: 'summary',
  subject: 'subject',
});

function checkEvent(
  phase: CheckEvent['phase'],
  watch: WatchState,
  extra: Partial<CheckEvent> = {},
): CheckEvent {
  return {
    executionArn: EXECUTION,
    phase,
    assessment: ASSESSMENT,
    disable: { disabledAt: DISABLED_AT.toISOString(), wasEnabled: true },
    watch,
    ...extra,
  };
}

function givenKey(keyState: string, tags: Record<string, string> = { [TAGS.execution]: EXECUTION }): void {
  kms
    .on(DescribeKeyCommand)
    .resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: keyState as never } });
  kms.on(ListResourceTagsCommand).resolves({
    Tags: Object.entries({ [TAGS.status]: 'disabled', ...tags }).map(([TagKey, TagValue]) => ({
      TagKey,
      TagValue,
    })),
    Truncated: false,
  });
  // The canary fails as KMS fails calls on a key in that state.
  kms.on(EncryptCommand).callsFake(() => {
    if (keyState === 'Disabled') {
      throw new DisabledException({
        message: `${KEY_ARN} is disabled.`,
        $metadata: { requestId: 'canary-now' },
      });
    }
    if (keyState === 'PendingDeletion') {
      throw new KMSInvalidStateException({
        message: `${KEY_ARN} is pending deletion.`,
        $metadata: { requestId: 'canary-now' },
      });
    }
    return { KeyId: KEY_ARN, CiphertextBlob: new Uint8Array([1]) };
  });
}

/** The key after ScheduleDeletion: pending deletion and still held by this execution. */
function givenPendingKey(): void {
  givenKey('PendingDeletion', { [TAGS.execution]: EXECUTION, [TAGS.status]: 'pending-deletion' });
}

/** The schedule ScheduleDeletion stored (a 30-day window). */
function scheduled(scheduledAt: Date, deletionDate: string | null): ScheduleResult {
  return {
    scheduledAt: scheduledAt.toISOString(),
    deletionDate,
    keyState: 'PendingDeletion',
    pendingWindowInDays: 30,
  };
}

/** How CloudTrail records the same call when KMS refused it because the key is pending deletion. */
function refusedPendingDeletion(record: CloudTrailRecord): CloudTrailRecord {
  return {
    ...record,
    errorCode: 'KMSInvalidStateException',
    errorMessage: `${KEY_ARN} is pending deletion.`,
  };
}

function canary(requestId: string, at: string, seen = false): Canary {
  return { requestId, at, operation: 'Encrypt', errorCode: 'DisabledException', seen };
}

/** The CloudTrail record of a canary: the check role's failed Encrypt under the canary's request ID. */
function canaryRecord(requestId: string, eventTime: string): CloudTrailRecord {
  return {
    ...disabledCall(`event-of-${requestId}`, eventTime),
    eventName: 'Encrypt',
    requestID: requestId,
    requestParameters: { keyId: KEY_ARN, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/KmsDeletionGuard-CheckRole/check`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { arn: CHECK_ROLE } },
    },
    userAgent: 'aws-sdk-js/3',
  };
}

function givenRecords(records: CloudTrailRecord[]): void {
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, creationTime: 0 }] });
  logs.on(FilterLogEventsCommand).resolves({
    events: records.map((record) => ({
      message: JSON.stringify(record),
      timestamp: Date.parse(record.eventTime),
    })),
  });
}

function disabledCall(eventID: string, eventTime: string): CloudTrailRecord {
  return {
    eventID,
    eventTime,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: REGION,
    errorCode: 'DisabledException',
    errorMessage: `${KEY_ARN} is disabled.`,
    requestParameters: { keyId: 'alias/legacy' },
    resources: [{ ARN: KEY_ARN, type: 'AWS::KMS::Key', accountId: ACCOUNT }],
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/app` } },
    },
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-sdk-java/2.20',
    recipientAccountId: ACCOUNT,
  };
}

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
    const next = await handler(checkEvent('OBSERVE', watch));

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
    const next = await handler(checkEvent('OBSERVE', watch));

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

  it('throws KeyChangedExternallyError when a person re-enabled the key', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Enabled');
    givenRecords([]);
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Act
    const act = handler(checkEvent('OBSERVE', watch));

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'KeyChangedExternallyError', message: /Enabled/ });
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
  });

  it('throws KeyChangedExternallyError when another execution holds the key', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled', { [TAGS.execution]: `${EXECUTION}-other` });
    givenRecords([]);

    // Act
    const act = handler(checkEvent('OBSERVE', startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN })));

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'KeyChangedExternallyError');
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
    const next = await handler(checkEvent('FINAL', watch));

    // Assess
    expect(next).toMatchObject({ phase: 'FINAL', done: true, broke: false, checks: 121, canariesSeen: 1 });
    expect(next.reportText).toContain('Checks run: 121');
    expect(next.reportText).toContain('DisabledException on this key: none seen.');
    expect(next.reportText).toContain('ScheduleKeyDeletion with a 30-day pending window');
    expect(next.reportText).toContain(`npx kms-deletion-guard approve ${EXECUTION}`);
    expect(next.subject.length).toBeLessThanOrEqual(100);
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
    const next = await handler(checkEvent('FINAL', watch));

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
    );

    // Assess
    expect(next).toMatchObject({ phase: 'PENDING', broke: true, evidenceCount: 1, done: false });
    expect(next.subject).toContain('cancelling deletion');
  });

  it('PENDING: a key no longer pending deletion throws KeyChangedExternallyError', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-02-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');

    // Act
    const act = handler(
      checkEvent('PENDING', startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: null }), {
        deletion: scheduled(scheduledAt, null),
      }),
    );

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'KeyChangedExternallyError');
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
    const act = handler(checkEvent('OBSERVE', watch));

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
    const next = await handler(checkEvent('OBSERVE', watch));

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

  it('searches for a canary older than the breakage window on its own', async () => {
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
    const next = await handler(checkEvent('OBSERVE', watch));

    // Assess
    expect(next).toMatchObject({ broke: false, canariesSeen: 1 });
    const query = logs.commandCalls(FilterLogEventsCommand)[1]?.args[0].input;
    expect(query?.filterPattern).toContain('($.requestID = "canary-disable")');
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
    const act = handler(checkEvent('OBSERVE', watch));

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
    const next = await handler(checkEvent('OBSERVE', watch));

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
    const next = await handler(checkEvent('OBSERVE', watch));

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
    const next = await handler(checkEvent('OBSERVE', watch));

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
    const act = handler(checkEvent('FINAL', watch));

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'EventSourceBlindError', message: /No canary/ });
  });

  it('PENDING: the canary must fail with KMSInvalidStateException; the last check makes none', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-03-02T23:00:00.000Z'));
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
    const act = handler(event);

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'InvalidHandlerEventError');
    expect(kms.calls()).toHaveLength(0);
  });
});
