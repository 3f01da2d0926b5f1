import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisabledException,
  EnableKeyCommand,
  EncryptCommand,
  KMSClient,
  KMSInvalidStateException,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  // The fast path runs in the races below, as EventBridge would invoke it.
  process.env.KDG_TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:guard-topic';
  process.env.KDG_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:KmsDeletionGuard';
});

import { putSightings } from '../../../lambdas/aws/sweep-registry.js';
import type { HoldRecord } from '../../../lambdas/domain/hold-record.js';
import type { ScheduleEvent, WatchState } from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { handler as fastPath } from '../../../lambdas/fast-path/index.js';
import { handler as restore } from '../../../lambdas/restore/index.js';
import { handler } from '../../../lambdas/schedule-deletion/index.js';
import {
  assessment,
  commandNames,
  disabledDecryptRecord,
  EXECUTION,
  heldTags,
  holdRecord,
  keyArnIn,
  keyFacts,
  OTHER_EXECUTION,
  watchPlan,
} from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

const KEY_ARN = keyArnIn('us-east-1');
const NOW = new Date('2026-03-10T00:00:00.000Z');
const DAY_MS = 86_400_000;

const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
let table: HoldTable;

interface FakeKey {
  state: string;
  tags: Record<string, string>;
  deletionDate?: Date;
  window?: number;
}

function fakeKms(key: FakeKey): FakeKey {
  kms.on(DescribeKeyCommand).callsFake(() => ({
    KeyMetadata: {
      KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      Arn: KEY_ARN,
      KeyState: key.state,
      KeyManager: 'CUSTOMER',
      DeletionDate: key.deletionDate,
      PendingDeletionWindowInDays: key.window,
    },
  }));
  kms.on(ListResourceTagsCommand).callsFake(() => ({
    Tags: Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    Truncated: false,
  }));
  kms.on(TagResourceCommand).callsFake((input: { Tags: { TagKey: string; TagValue: string }[] }) => {
    if (key.state === 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is pending deletion.`, $metadata: {} });
    }
    for (const tag of input.Tags) key.tags[tag.TagKey] = tag.TagValue;
    return {};
  });
  kms.on(ScheduleKeyDeletionCommand).callsFake((input: { PendingWindowInDays: number }) => {
    if (key.state === 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is pending deletion.`, $metadata: {} });
    }
    key.state = 'PendingDeletion';
    key.window = input.PendingWindowInDays;
    key.deletionDate = new Date(Date.now() + input.PendingWindowInDays * DAY_MS);
    return {
      KeyId: KEY_ARN,
      KeyState: key.state,
      DeletionDate: key.deletionDate,
      PendingWindowInDays: key.window,
    };
  });
  kms.on(EnableKeyCommand).callsFake(() => {
    if (key.state === 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is pending deletion.`, $metadata: {} });
    }
    key.state = 'Enabled';
    return {};
  });
  kms.on(CancelKeyDeletionCommand).callsFake(() => {
    if (key.state !== 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is not pending deletion.`, $metadata: {} });
    }
    key.state = 'Disabled';
    key.deletionDate = undefined;
    return { KeyId: KEY_ARN };
  });
  kms.on(EncryptCommand).callsFake(() => {
    throw new DisabledException({
      message: `${KEY_ARN} is disabled.`,
      $metadata: { requestId: 'canary-schedule' },
    });
  });
  return key;
}

/** The log group holds the record of FinalCheck's canary (or nothing). */
function givenCanaryRecords(requestIds: string[]): void {
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: 'trail', creationTime: 0 }] });
  logs.on(FilterLogEventsCommand).resolves({
    events: requestIds.map((requestID) => ({
      timestamp: Date.parse('2026-03-03T00:30:00Z'),
      message: JSON.stringify({
        eventID: `event-${requestID}`,
        eventTime: '2026-03-03T00:30:00Z',
        eventSource: 'kms.amazonaws.com',
        eventName: 'Encrypt',
        errorCode: 'DisabledException',
        errorMessage: `${KEY_ARN} is disabled.`,
        requestID,
        resources: [{ ARN: KEY_ARN }],
      }),
    })),
  });
}

const FINAL_CANARY = {
  requestId: 'canary-final',
  at: '2026-03-03T00:30:00.000Z',
  operation: 'Encrypt',
  errorCode: 'DisabledException',
  seen: false,
};

function held(status = 'disabled'): Record<string, string> {
  return heldTags(status);
}

function event(pendingWindowInDays = 7): ScheduleEvent {
  const watch: WatchState = {
    phase: 'FINAL',
    cursor: '2026-03-03T00:30:00.000Z',
    seenEventIds: [],
    checks: 120,
    nextCheckAt: '2026-03-03T00:30:00.000Z',
    done: true,
    broke: false,
    evidence: [],
    evidenceCount: 0,
    scanned: 0,
    reportText: '',
    subject: '',
  };
  return {
    executionArn: EXECUTION,
    assessment: assessment({ key: keyFacts({ aliases: [] }), plan: watchPlan({ pendingWindowInDays }) }),
    disable: { disabledAt: '2026-02-01T00:00:00.000Z', wasEnabled: true },
    watch,
  };
}

function callNames(): string[] {
  return commandNames(kms);
}

/** A caller's Decrypt that failed on the disabled key, as EventBridge delivers it to the fast path. */
function failedCallEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: 'evt-1',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account: '111122223333',
    time: '2026-03-09T23:59:00Z',
    region: 'us-east-1',
    resources: [],
    detail: disabledDecryptRecord({ eventID: 'ev-race', eventTime: '2026-03-09T23:59:00Z' }),
  };
}

function watchingHold(): HoldRecord {
  return holdRecord('watching');
}

describe('schedule-deletion handler', () => {
  beforeAll(async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    table = await startHoldTable();
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await table.close();
  });

  beforeEach(async () => {
    await table.clear();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  afterEach(() => {
    kms.reset();
    logs.reset();
    sfn.reset();
    sns.reset();
    vi.useRealTimers();
  });

  it('claims the hold, re-reads the key under the claim, tags pending-deletion, then schedules with the plan window', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());

    // Act
    const result = await handler(event(7));

    // Assess
    expect(callNames()).toEqual([
      'DescribeKeyCommand',
      'ListResourceTagsCommand',
      'EncryptCommand',
      'DescribeKeyCommand',
      'ListResourceTagsCommand',
      'TagResourceCommand',
      'ScheduleKeyDeletionCommand',
    ]);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ARN,
      PendingWindowInDays: 7,
    });
    expect(key.tags[TAGS.status]).toBe('pending-deletion');
    expect(key.tags[TAGS.deletionScheduledAt]).toBe(NOW.toISOString());
    expect(await table.read()).toMatchObject({
      phase: 'pending-deletion',
      deletionScheduled: true,
      scheduledAt: NOW.toISOString(),
      deletionDate: '2026-03-17T00:00:00.000Z',
      version: watchingHold().version + 2,
    });
    expect(result).toMatchObject({
      scheduledAt: NOW.toISOString(),
      deletionDate: '2026-03-17T00:00:00.000Z',
      keyState: 'PendingDeletion',
      pendingWindowInDays: 7,
    });
  });

  it('starts the PENDING watch from the previous cursor so the approval wait is searched too', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());

    // Act
    const result = await handler(event(7));

    // Assess
    expect(result.watch.phase).toBe('PENDING');
    expect(result.watch.cursor).toBe('2026-03-03T00:30:00.000Z');
    expect(result.watch.nextCheckAt).toBe('2026-03-10T06:00:00.000Z');
  });

  it("requires FinalCheck's canary once it is older than the lag, and hands the pending watch a new one", async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());
    givenCanaryRecords(['canary-final']);
    const approvedLate = {
      ...event(7),
      watch: { ...event(7).watch, canaries: [FINAL_CANARY], canariesSeen: 120 },
    };

    // Act
    const result = await handler(approvedLate);

    // Assess
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.filterPattern).toContain(
      '($.requestID = "canary-final")',
    );
    expect(result.watch.canariesSeen).toBe(121);
    expect(result.watch.canaries).toEqual([
      { ...FINAL_CANARY, seen: true },
      {
        requestId: 'canary-schedule',
        at: NOW.toISOString(),
        operation: 'Encrypt',
        errorCode: 'DisabledException',
        seen: false,
      },
    ]);
  });

  it("changes nothing while its canary proof's search is split, and schedules once the resumed search is done", async () => {
    // Prepare: a busy group across a three-day approval wait; every page takes 300 ms of a 60 s function.
    const key = fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());
    let spent = 0;
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: 'trail', creationTime: 0 }] });
    logs.on(FilterLogEventsCommand).callsFake((input: { nextToken?: string }) => {
      spent += 300;
      const page = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
      return { events: [], nextToken: `page-${page + 1}` };
    });
    const context = { getRemainingTimeInMillis: () => 60_000 - spent };
    const approvedLate = {
      ...event(7),
      watch: { ...event(7).watch, canaries: [FINAL_CANARY], canariesSeen: 120 },
    };

    // Act
    const first = await handler(approvedLate, context);

    // Assess: nothing read for acting, claimed, tagged, scheduled or made.
    expect(first).toEqual({ resume: expect.objectContaining({ kind: 'CANARY', invocations: 1 }) });
    expect(spent).toBeLessThanOrEqual(60_000 - 25_000);
    expect(callNames()).toEqual([]);
    expect(await table.read()).toEqual(watchingHold());
    expect(key.state).toBe('Disabled');

    // Act: the workflow calls the step again with the resume in the watch; the last page has the canary.
    if (!('resume' in first)) throw new Error('the first call should not finish');
    logs.reset();
    givenCanaryRecords(['canary-final']);
    const second = await handler(
      { ...approvedLate, watch: { ...approvedLate.watch, resume: first.resume } },
      {
        getRemainingTimeInMillis: () => 60_000,
      },
    );

    // Assess
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.nextToken).toBe(
      first.resume.nextToken,
    );
    expect(second).toMatchObject({ keyState: 'PendingDeletion', watch: { canariesSeen: 121 } });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
  });

  it('with a sweep, proves the canary from its sightings across the whole approval wait, without a search', async () => {
    // Prepare: a three-day approval wait in a busy group; the sweep's sightings of the hold hold the canary.
    vi.stubEnv('KDG_SWEEP_MAX_AGE_SECONDS', '7500');
    const key = fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());
    await putSightings({
      keyArn: `sightings#${KEY_ARN}`,
      holdKeyArn: KEY_ARN,
      executionArn: EXECUTION,
      searchedFrom: '2026-01-31T23:30:00.000Z',
      sweptTo: '2026-03-09T23:30:00.000Z',
      records: [
        {
          eventID: 'event-canary-final',
          eventTime: '2026-03-03T00:30:00Z',
          eventSource: 'kms.amazonaws.com',
          eventName: 'Encrypt',
          errorCode: 'DisabledException',
          errorMessage: `${KEY_ARN} is disabled.`,
          requestID: 'canary-final',
          resources: [{ ARN: KEY_ARN }],
        },
      ],
      ingestedAt: {},
      dropped: 0,
      expiresAt: 1_900_000_000,
    });
    const approvedLate = {
      ...event(7),
      watch: { ...event(7).watch, canaries: [FINAL_CANARY], canariesSeen: 120 },
    };

    try {
      // Act
      const result = await handler(approvedLate);

      // Assess
      expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
      expect(result).toMatchObject({ keyState: 'PendingDeletion', watch: { canariesSeen: 121 } });
      expect(key.state).toBe('PendingDeletion');
    } finally {
      vi.stubEnv('KDG_SWEEP_MAX_AGE_SECONDS', undefined);
    }
  });

  it('with a sweep that has stopped, schedules nothing (SweepBehindError)', async () => {
    // Prepare: no sweep ever wrote this hold's sightings.
    vi.stubEnv('KDG_SWEEP_MAX_AGE_SECONDS', '7500');
    const key = fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());

    try {
      // Act
      const result = handler({ ...event(7), watch: { ...event(7).watch, canaries: [FINAL_CANARY] } });

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'SweepBehindError' });
      expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
      expect(key.state).toBe('Disabled');
      expect(await table.read()).toEqual(watchingHold());
    } finally {
      vi.stubEnv('KDG_SWEEP_MAX_AGE_SECONDS', undefined);
    }
  });

  it("schedules nothing when FinalCheck's canary never reached the log group", async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());
    givenCanaryRecords([]);
    const approvedLate = { ...event(7), watch: { ...event(7).watch, canaries: [FINAL_CANARY] } };

    // Act
    const result = handler(approvedLate);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'EventSourceBlindError' });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(key.state).toBe('Disabled');
    expect(await table.read()).toEqual(watchingHold());
  });

  it("relies on FinalCheck's proof when the deletion was approved within the lag", async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-03-03T00:40:00.000Z'));
    fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());
    const approvedAtOnce = { ...event(7), watch: { ...event(7).watch, canaries: [FINAL_CANARY] } };

    // Act
    const result = await handler(approvedAtOnce);

    // Assess
    expect(logs.calls()).toHaveLength(0);
    expect(result.watch.canaries?.map((c) => [c.requestId, c.seen])).toEqual([
      ['canary-final', false],
      ['canary-schedule', false],
    ]);
  });

  it('treats a key this execution already scheduled as success and returns the existing DeletionDate', async () => {
    // Prepare
    const deletionDate = new Date('2026-03-16T12:00:00.000Z');
    fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion'), deletionDate, window: 7 });
    await table.seed(holdRecord('pending-deletion', { scheduledAt: '2026-03-09T12:00:00.000Z' }));

    // Act
    const result = await handler(event(7));

    // Assess
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(result).toMatchObject({
      scheduledAt: '2026-03-09T12:00:00.000Z',
      deletionDate: deletionDate.toISOString(),
      keyState: 'PendingDeletion',
      pendingWindowInDays: 7,
    });
  });

  it('records the deletion on a retry after a crash between ScheduleKeyDeletion and its record', async () => {
    // Prepare
    const deletionDate = new Date('2026-03-16T12:00:00.000Z');
    fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion'), deletionDate, window: 7 });
    await table.seed(holdRecord('scheduling', { scheduledAt: '2026-03-09T12:00:00.000Z' }));

    // Act
    const result = await handler(event(7));

    // Assess
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(result.scheduledAt).toBe('2026-03-09T12:00:00.000Z');
    expect(await table.read()).toMatchObject({
      phase: 'pending-deletion',
      deletionDate: deletionDate.toISOString(),
    });
  });

  it('is idempotent: a second run reports the first deletion and schedules nothing more', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());
    const first = await handler(event(7));
    vi.setSystemTime(new Date(NOW.getTime() + 60_000));

    // Act
    const second = await handler(event(7));

    // Assess
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
    expect(second.deletionDate).toBe(first.deletionDate);
    expect(second.scheduledAt).toBe(first.scheduledAt);
  });

  it('schedules on a retry whose claim was recorded but whose call never happened', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('pending-deletion') });
    await table.seed(holdRecord('scheduling'));

    // Act
    await handler(event(7));

    // Assess
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
    expect(key.state).toBe('PendingDeletion');
    expect((await table.read())?.phase).toBe('pending-deletion');
  });

  it('reports a multi-Region primary waiting for its replicas with no deletion date', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held() });
    await table.seed(watchingHold());
    kms
      .on(ScheduleKeyDeletionCommand)
      .resolves({ KeyId: KEY_ARN, KeyState: 'PendingReplicaDeletion', PendingWindowInDays: 7 });

    // Act
    const result = await handler(event(7));

    // Assess
    expect(result.deletionDate).toBeNull();
    expect(result.keyState).toBe('PendingReplicaDeletion');
  });

  it('takes a deletion a person scheduled on the held key under guard, scheduling nothing itself', async () => {
    // Prepare
    const deletionDate = new Date('2026-04-01T00:00:00.000Z');
    fakeKms({ state: 'PendingDeletion', tags: held(), deletionDate, window: 30 });
    kms.on(EncryptCommand).rejects(
      new KMSInvalidStateException({
        message: `${KEY_ARN} is pending deletion.`,
        $metadata: { requestId: 'c-p' },
      }),
    );
    await table.seed(watchingHold());

    // Act
    const result = await handler(event(7));

    // Assess
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(result).toMatchObject({ deletionDate: deletionDate.toISOString(), pendingWindowInDays: 30 });
    expect(await table.read()).toMatchObject({
      phase: 'pending-deletion',
      deletionScheduled: false,
      deletionDate: deletionDate.toISOString(),
    });
  });

  it.each([
    ['a person re-enabled the key', { state: 'Enabled', tags: held() }, watchingHold()],
    [
      'another execution holds the key',
      { state: 'Disabled', tags: { ...held(), [TAGS.execution]: OTHER_EXECUTION } },
      holdRecord('watching', { execution: OTHER_EXECUTION }),
    ],
    ['the registry holds no hold of this execution (tags alone)', { state: 'Disabled', tags: held() }, null],
  ])('throws KeyChangedExternallyError and schedules nothing when %s', async (_label, key, record) => {
    // Prepare
    fakeKms({ ...key, tags: { ...key.tags } });
    if (record) await table.seed(record);

    // Act
    const result = handler(event(7));

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  describe('racing the fast path', () => {
    it('schedules nothing when the fast path rolls the key back between its read and its call: the rollback wins and is recorded', async () => {
      // Prepare: while ScheduleDeletion makes its last canary (after reading the key and the hold), a
      // caller's failure reaches the fast path, which re-enables the key.
      const key = fakeKms({ state: 'Disabled', tags: held() });
      await table.seed(watchingHold());
      const fastPathReports: unknown[] = [];
      kms.on(EncryptCommand).callsFake(async () => {
        fastPathReports.push(await fastPath(failedCallEvent()));
        throw new DisabledException({ message: `${KEY_ARN} is disabled.`, $metadata: { requestId: 'c-1' } });
      });

      // Act
      const scheduling = handler(event(7));

      // Assess: the claim fails, nothing is scheduled, the key stays Enabled.
      await expect(scheduling).rejects.toMatchObject({
        name: 'KeyChangedExternallyError',
        message: expect.stringMatching(/ended by the fast path .* nothing was scheduled/),
      });
      expect(fastPathReports).toEqual([
        expect.objectContaining({ keys: [expect.objectContaining({ action: 'EnableKey' })] }),
      ]);
      expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
      expect(key.state).toBe('Enabled');
      expect(await table.read()).toMatchObject({
        phase: 'ended',
        end: { by: 'fast-path', status: 'rolled-back', evidenceEventIds: ['ev-race'] },
      });

      // The workflow's restore step then ends the run ROLLED_BACK, changing nothing more.
      const restored = await restore({
        executionArn: EXECUTION,
        mode: 'ABORT',
        outcome: 'ABORTED',
        assessment: event(7).assessment,
        watch: event(7).watch,
        error: { Error: 'KeyChangedExternallyError', Cause: 'the rollback won' },
      });
      expect(restored.fastPath).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
      expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(1);
    });

    it('holds the fast path off under its claim, then the fast path cancels the deletion and re-enables the key', async () => {
      // Prepare: the failure reaches the fast path after ScheduleDeletion took its claim.
      const key = fakeKms({ state: 'Disabled', tags: held() });
      await table.seed(watchingHold());
      let underClaim: unknown;
      kms
        .on(TagResourceCommand)
        .callsFake(async (input: { Tags: { TagKey: string; TagValue: string }[] }) => {
          underClaim ??= await fastPath(failedCallEvent()).catch((error: unknown) => error);
          for (const tag of input.Tags) key.tags[tag.TagKey] = tag.TagValue;
          return {};
        });

      // Act
      await handler(event(7));
      const retried = await fastPath(failedCallEvent());

      // Assess
      expect(underClaim).toMatchObject({ name: 'HoldBusyError' });
      expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
      expect(retried.keys[0]?.action).toBe('EnableKey');
      expect(key.state).toBe('Enabled');
      expect((await table.read())?.end).toMatchObject({
        by: 'fast-path',
        status: 'rolled-back',
        actions: ['CancelKeyDeletion', 'EnableKey'],
      });
    });

    it('schedules nothing when a person re-enables the key between the claim and the call', async () => {
      // Prepare: the re-read under the claim finds the key Enabled.
      const key = fakeKms({ state: 'Disabled', tags: held() });
      await table.seed(watchingHold());
      let reads = 0;
      kms.on(DescribeKeyCommand).callsFake(() => {
        reads += 1;
        if (reads === 2) key.state = 'Enabled';
        return { KeyMetadata: { KeyId: 'k', Arn: KEY_ARN, KeyState: key.state, KeyManager: 'CUSTOMER' } };
      });

      // Act
      const result = handler(event(7));

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
      expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
      expect((await table.read())?.phase).toBe('scheduling');
    });
  });
});
