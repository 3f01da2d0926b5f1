import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeKeyCommand,
  DisabledException,
  EncryptCommand,
  KMSClient,
  KMSInvalidStateException,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

import type { ScheduleEvent, WatchState } from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { handler } from '../../../lambdas/schedule-deletion/index.js';
import {
  assessment,
  commandNames,
  EXECUTION,
  heldTags,
  keyArnIn,
  keyFacts,
  OTHER_EXECUTION,
  watchPlan,
} from '../fixtures.js';

const KEY_ARN = keyArnIn('us-east-1');
const NOW = new Date('2026-03-10T00:00:00.000Z');
const DAY_MS = 86_400_000;

const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);

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

describe('schedule-deletion handler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  beforeAll(() => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
  });

  afterAll(() => {
    vi.unstubAllEnvs();
  });

  afterEach(() => {
    kms.reset();
    logs.reset();
    vi.useRealTimers();
  });

  it('tags status pending-deletion before ScheduleKeyDeletion with the plan window', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held() });

    // Act
    const result = await handler(event(7));

    // Assess
    expect(callNames()).toEqual([
      'DescribeKeyCommand',
      'ListResourceTagsCommand',
      'EncryptCommand',
      'TagResourceCommand',
      'ScheduleKeyDeletionCommand',
    ]);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ARN,
      PendingWindowInDays: 7,
    });
    expect(key.tags[TAGS.status]).toBe('pending-deletion');
    expect(key.tags[TAGS.deletionScheduledAt]).toBe(NOW.toISOString());
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

  it("schedules nothing when FinalCheck's canary never reached the log group", async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held() });
    givenCanaryRecords([]);
    const approvedLate = { ...event(7), watch: { ...event(7).watch, canaries: [FINAL_CANARY] } };

    // Act
    const result = handler(approvedLate);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'EventSourceBlindError' });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(key.state).toBe('Disabled');
  });

  it("relies on FinalCheck's proof when the deletion was approved within the lag", async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-03-03T00:40:00.000Z'));
    fakeKms({ state: 'Disabled', tags: held() });
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
    fakeKms({
      state: 'PendingDeletion',
      tags: { ...held('pending-deletion'), [TAGS.deletionScheduledAt]: '2026-03-09T12:00:00.000Z' },
      deletionDate,
      window: 7,
    });

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

  it('is idempotent: a second run reports the first deletion and schedules nothing more', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held() });
    const first = await handler(event(7));
    vi.setSystemTime(new Date(NOW.getTime() + 60_000));

    // Act
    const second = await handler(event(7));

    // Assess
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
    expect(second.deletionDate).toBe(first.deletionDate);
    expect(second.scheduledAt).toBe(first.scheduledAt);
  });

  it('schedules on a retry that finds the status tag but no deletion (crash between the two calls)', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('pending-deletion') });

    // Act
    await handler(event(7));

    // Assess
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
    expect(key.state).toBe('PendingDeletion');
  });

  it('reports a multi-Region primary waiting for its replicas with no deletion date', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held() });
    kms
      .on(ScheduleKeyDeletionCommand)
      .resolves({ KeyId: KEY_ARN, KeyState: 'PendingReplicaDeletion', PendingWindowInDays: 7 });

    // Act
    const result = await handler(event(7));

    // Assess
    expect(result.deletionDate).toBeNull();
    expect(result.keyState).toBe('PendingReplicaDeletion');
  });

  it.each([
    ['a person re-enabled the key', { state: 'Enabled', tags: held() }],
    ['a person scheduled its deletion', { state: 'PendingDeletion', tags: held() }],
    [
      'another execution holds the key',
      { state: 'Disabled', tags: { ...held(), [TAGS.execution]: OTHER_EXECUTION } },
    ],
    ['the hold tags were removed', { state: 'Disabled', tags: {} }],
  ])('throws KeyChangedExternallyError and schedules nothing when %s', async (_label, key) => {
    // Prepare
    fakeKms({ ...key, tags: { ...key.tags } });

    // Act
    const result = handler(event(7));

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
  });
});
