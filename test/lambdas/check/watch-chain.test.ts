import { DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, EncryptCommand, KMSInternalException } from '@aws-sdk/client-kms';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  SchedulerClient,
  ServiceQuotaExceededException,
} from '@aws-sdk/client-scheduler';
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { scheduleName, type WatchEvent } from '../../../lambdas/aws/watch-schedule.js';
import { handler } from '../../../lambdas/check/index.js';
import type { CheckEvent, WatchState } from '../../../lambdas/domain/types.js';
import { startWatch } from '../../../lambdas/domain/watch.js';
import { EXECUTION } from '../fixtures.js';
import {
  CONTEXT,
  canary,
  canaryRecord,
  checkEvent,
  DISABLED_AT,
  disabledCall,
  FUNCTION_ARN,
  givenKey,
  givenPendingKey,
  givenRecords,
  kms,
  LOG_GROUP,
  logs,
  PLAN,
  REGION,
  scheduled,
} from './check-world.js';

// The module reads the settings when it loads; absent then, it reads them at each use, which these
// tests rely on to set them per test.
vi.hoisted(() => {
  delete process.env.KDG_SCHEDULE_GROUP;
  delete process.env.KDG_SCHEDULER_ROLE_ARN;
});

const scheduler = mockClient(SchedulerClient);
const sfn = mockClient(SFNClient);

const GROUP = 'kms-deletion-guard-watch';
const SCHEDULER_ROLE = 'arn:aws:iam::111122223333:role/KmsDeletionGuard-SchedulerRole';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAY-task-token';

function watchEvent(
  trigger: WatchEvent['trigger'],
  phase: 'OBSERVE' | 'PENDING',
  watch: WatchState,
  extra: Partial<WatchEvent> = {},
): WatchEvent {
  return { ...checkEvent(phase, watch), trigger, taskToken: TOKEN, ...extra, phase };
}

function createdSchedules(): CreateScheduleCommandInput[] {
  return scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
}

function onlySchedule(): CreateScheduleCommandInput & { input: WatchEvent } {
  const all = createdSchedules();
  expect(all).toHaveLength(1);
  const [schedule] = all;
  if (!schedule) throw new Error('no schedule');
  return { ...schedule, input: JSON.parse(schedule.Target?.Input ?? 'null') as WatchEvent };
}

function successOutput(): WatchState {
  const calls = sfn.commandCalls(SendTaskSuccessCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0]?.args[0].input.taskToken).toBe(TOKEN);
  return JSON.parse(calls[0]?.args[0].input.output ?? 'null') as WatchState;
}

function sdkError(name: string, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(`${name} from the service`), { name, $fault: fault, $metadata: {} });
}

const OBSERVE_START = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

beforeEach(() => {
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('KDG_SCHEDULE_GROUP', GROUP);
  vi.stubEnv('KDG_SCHEDULER_ROLE_ARN', SCHEDULER_ROLE);
  vi.useFakeTimers({ toFake: ['Date'] });
  sfn.on(SendTaskHeartbeatCommand).resolves({});
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  kms.reset();
  logs.reset();
  scheduler.reset();
  sfn.reset();
});

describe('check handler, trigger start', () => {
  it('creates exactly one schedule for the first check, targeting the check function', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T00:00:05.000Z'));
    const event = watchEvent('start', 'OBSERVE', OBSERVE_START);

    // Act
    const result = await handler(event, CONTEXT);

    // Assess
    const schedule = onlySchedule();
    expect(schedule).toMatchObject({
      Name: scheduleName(EXECUTION, TOKEN, 'OBSERVE', 0, 0),
      GroupName: GROUP,
      ScheduleExpression: 'at(2026-01-01T06:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: FUNCTION_ARN,
        RoleArn: SCHEDULER_ROLE,
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
      },
    });
    expect(schedule.Name).toMatch(/^kdg-[0-9a-f]{24}-o0-0$/);
    expect(schedule.input).toEqual({ ...event, trigger: 'schedule', attempt: 0 });
    expect(result).toEqual({
      outcome: 'SCHEDULED',
      scheduled: schedule.Name,
      at: '2026-01-01T06:00:00.000Z',
    });
    // Starting checks nothing: the key is read first by the scheduled check.
    expect(kms.calls()).toHaveLength(0);
    expect(logs.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('PENDING: the schedule is named for the pending watch and carries the deletion', async () => {
    // Prepare
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    vi.setSystemTime(scheduledAt);
    const deletionDate = '2026-03-03T00:00:00.000Z';
    const watch = startWatch('PENDING', {
      now: scheduledAt,
      plan: PLAN,
      deletionDate: new Date(deletionDate),
    });
    const event = watchEvent('start', 'PENDING', watch, { deletion: scheduled(scheduledAt, deletionDate) });

    // Act
    await handler(event, CONTEXT);

    // Assess
    const schedule = onlySchedule();
    expect(schedule.Name).toMatch(/-p0-0$/);
    expect(schedule.ScheduleExpression).toBe('at(2026-02-01T06:00:00)');
    expect(schedule.input.deletion).toEqual(scheduled(scheduledAt, deletionDate));
  });

  it('counts a ConflictException (a retry of this start made it already) as scheduled', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T00:00:05.000Z'));
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule already exists.',
        Message: 'Schedule already exists.',
        $metadata: {},
      }),
    );

    // Act
    const result = await handler(watchEvent('start', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    expect(result).toMatchObject({ outcome: 'SCHEDULED', at: '2026-01-01T06:00:00.000Z' });
  });

  it('throws when the schedule cannot be created, so the task fails and the key is restored', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T00:00:05.000Z'));
    scheduler.on(CreateScheduleCommand).rejects(
      new ServiceQuotaExceededException({
        message: 'Too many schedules.',
        Message: 'Too many schedules.',
        $metadata: {},
      }),
    );

    // Act
    const act = handler(watchEvent('start', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'ServiceQuotaExceededException');
  });

  it('throws InvalidHandlerEventError for an event that breaks the contract, and schedules nothing', async () => {
    // Prepare
    const event = { ...watchEvent('start', 'PENDING', OBSERVE_START), deletion: null };

    // Act
    const act = handler(event, CONTEXT);

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'InvalidHandlerEventError');
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('throws ScheduleSettingsError naming the missing setting, and schedules nothing', async () => {
    // Prepare
    vi.stubEnv('KDG_SCHEDULER_ROLE_ARN', '');

    // Act
    const act = handler(watchEvent('start', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ScheduleSettingsError',
      message: /KDG_SCHEDULER_ROLE_ARN/,
    });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('throws InvalidHandlerEventError without the invoked function ARN (the next check would have no target)', async () => {
    // Act
    const act = handler(watchEvent('start', 'OBSERVE', OBSERVE_START), {
      ...CONTEXT,
      invokedFunctionArn: '',
    });

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'InvalidHandlerEventError');
  });
});

describe('check handler, trigger schedule', () => {
  it('quiet: heartbeats, then schedules the next check with the advanced watch', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:20.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const event = watchEvent('schedule', 'OBSERVE', OBSERVE_START, { attempt: 0 });

    // Act
    const result = await handler(event, CONTEXT);

    // Assess
    expect(sfn.commandCalls(SendTaskHeartbeatCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: TOKEN },
    ]);
    const schedule = onlySchedule();
    expect(schedule.Name).toBe(scheduleName(EXECUTION, TOKEN, 'OBSERVE', 1, 0));
    expect(schedule.ScheduleExpression).toBe('at(2026-01-01T12:00:20)');
    expect(schedule.input).toMatchObject({
      trigger: 'schedule',
      attempt: 0,
      taskToken: TOKEN,
      phase: 'OBSERVE',
    });
    expect(schedule.input.watch).toMatchObject({
      checks: 1,
      cursor: '2026-01-01T06:00:20.000Z',
      nextCheckAt: '2026-01-01T12:00:20.000Z',
      broke: false,
      done: false,
    });
    expect(schedule.input.watch.canaries).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'SCHEDULED', scheduled: schedule.Name });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it("the first schedule's Input is a scheduled-check event the handler runs as such", async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T00:00:05.000Z'));
    await handler(watchEvent('start', 'OBSERVE', OBSERVE_START), CONTEXT);
    const first = onlySchedule();
    scheduler.resetHistory();
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);

    // Act
    await handler(first.input, CONTEXT);

    // Assess
    expect(onlySchedule().Name).toBe(scheduleName(EXECUTION, TOKEN, 'OBSERVE', 1, 0));
  });

  it('breakage: answers the token with the watch (broke) and schedules nothing', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([disabledCall('ev-new', '2026-01-01T05:40:00Z')]);

    // Act
    const result = await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    const output = successOutput();
    expect(output).toMatchObject({ phase: 'OBSERVE', broke: true, evidenceCount: 1, checks: 1 });
    expect(output.evidence[0]?.eventID).toBe('ev-new');
    expect(output.subject).toContain('rolling back');
    expect(result).toEqual({ outcome: 'ANSWERED', broke: true, done: false });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('done: the check at observation end answers the token with the watch (done) for FinalCheck', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-31T00:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([canaryRecord('canary-prev', '2026-01-30T18:00:00Z')]);
    const watch: WatchState = {
      ...OBSERVE_START,
      cursor: '2026-01-30T18:00:00.000Z',
      checks: 119,
      nextCheckAt: '2026-01-31T00:00:00.000Z',
      canaries: [canary('canary-prev', '2026-01-30T18:00:00.000Z')],
    };

    // Act
    await handler(watchEvent('schedule', 'OBSERVE', watch), CONTEXT);

    // Assess
    expect(successOutput()).toMatchObject({
      broke: false,
      done: true,
      checks: 120,
      nextCheckAt: '2026-01-31T00:30:00.000Z',
      canariesSeen: 1,
    });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('PENDING done: the last pending check answers the token', async () => {
    // Prepare
    // The last pending check runs 20 minutes before the deletion date.
    vi.setSystemTime(new Date('2026-03-02T23:40:00.000Z'));
    givenPendingKey();
    givenRecords([]);
    const scheduledAt = new Date('2026-02-01T00:00:00.000Z');
    const deletionDate = '2026-03-03T00:00:00.000Z';
    const watch: WatchState = {
      ...startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: new Date(deletionDate) }),
      cursor: '2026-03-02T18:00:00.000Z',
      checks: 118,
    };

    // Act
    await handler(
      watchEvent('schedule', 'PENDING', watch, { deletion: scheduled(scheduledAt, deletionDate) }),
      CONTEXT,
    );

    // Assess
    // The execution then waits until the deletion date, with the fast path still active.
    expect(successOutput()).toMatchObject({
      phase: 'PENDING',
      done: true,
      broke: false,
      checks: 119,
      nextCheckAt: deletionDate,
    });
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(0);
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('key re-enabled by someone: searches first, then answers the token with the change and the evidence', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Enabled');
    givenRecords([disabledCall('ev-1', '2026-01-01T02:00:00Z')]);

    // Act
    const result = await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
    expect(successOutput()).toMatchObject({
      keyChange: { error: 'KeyChangedExternallyError', cause: expect.stringMatching(/Enabled/) },
      evidence: [expect.objectContaining({ eventID: 'ev-1' })],
    });
    expect(result).toMatchObject({ outcome: 'ANSWERED' });
    expect(scheduler.calls()).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('key changed and nothing found: still answers with the change (the workflow restores), never schedules on', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled', {});
    givenRecords([]);

    // Act
    await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    expect(successOutput()).toMatchObject({
      broke: false,
      done: false,
      keyChange: {
        error: 'KeyChangedExternallyError',
        cause: expect.stringMatching(/hold tag|records no hold/),
      },
    });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('fails the token with EventSourceBlindError when a due canary is missing from the source', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    const watch = { ...OBSERVE_START, canaries: [canary('canary-disable', DISABLED_AT.toISOString())] };

    // Act
    await handler(watchEvent('schedule', 'OBSERVE', watch), CONTEXT);

    // Assess
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toMatchObject({
      error: 'EventSourceBlindError',
      cause: expect.stringContaining('canary-disable'),
    });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('fails the token with EventSourceUnavailableError when the log group was re-created', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupName: LOG_GROUP, creationTime: Date.parse('2026-01-01T09:00:00Z') }],
    });
    const watch = { ...OBSERVE_START, cursor: '2026-01-01T06:00:00.000Z' };

    // Act
    await handler(watchEvent('schedule', 'OBSERVE', watch), CONTEXT);

    // Assess
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.error).toBe(
      'EventSourceUnavailableError',
    );
  });

  it.each([
    [0, '2026-01-01T06:05:00'],
    [1, '2026-01-01T06:10:00'],
    [3, '2026-01-01T06:40:00'],
    [5, '2026-01-01T07:00:00'],
  ])(
    'transient failure on try %i: schedules the same check again at %s with attempt + 1',
    async (attempt, at) => {
      // Prepare
      vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
      givenRecords([]);
      kms.on(DescribeKeyCommand).rejects(sdkError('ThrottlingException'));
      const event = watchEvent('schedule', 'OBSERVE', OBSERVE_START, { attempt });

      // Act
      const result = await handler(event, CONTEXT);

      // Assess
      const schedule = onlySchedule();
      expect(schedule.Name).toBe(scheduleName(EXECUTION, TOKEN, 'OBSERVE', 0, attempt + 1));
      expect(schedule.ScheduleExpression).toBe(`at(${at})`);
      expect(schedule.input).toEqual({ ...event, attempt: attempt + 1 });
      expect(result).toMatchObject({ outcome: 'RETRY_SCHEDULED', scheduled: schedule.Name });
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    },
  );

  it('treats an SDK server fault (KMSInternalException) as transient', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenRecords([]);
    kms.on(DescribeKeyCommand).rejects(new KMSInternalException({ message: 'internal', $metadata: {} }));

    // Act
    const result = await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    expect(result).toMatchObject({ outcome: 'RETRY_SCHEDULED' });
    expect(onlySchedule().input.attempt).toBe(1);
  });

  it('after 6 retries a transient failure fails the token with its own error name', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T09:15:00.000Z'));
    givenKey('Disabled');
    logs.on(DescribeLogGroupsCommand).rejects(sdkError('ServiceUnavailableException', 'server'));

    // Act
    const result = await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START, { attempt: 6 }), CONTEXT);

    // Assess
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      {
        taskToken: TOKEN,
        error: 'ServiceUnavailableException',
        cause: expect.stringMatching(/^The check failed 7 times in a row/),
      },
    ]);
    expect(result).toEqual({ outcome: 'FAILED', error: 'ServiceUnavailableException' });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it.each([
    ['TaskTimedOut', new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} })],
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'Task does not exist', $metadata: {} })],
    ['InvalidToken', new InvalidToken({ message: 'Invalid token', $metadata: {} })],
  ])('heartbeat answers %s: the execution is gone, nothing is checked or scheduled', async (_name, error) => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    sfn.on(SendTaskHeartbeatCommand).rejects(error);

    // Act
    const result = await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    expect(result).toEqual({ outcome: 'TOKEN_GONE' });
    expect(kms.calls()).toHaveLength(0);
    expect(logs.calls()).toHaveLength(0);
    expect(scheduler.calls()).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('counts a ConflictException on the next schedule (a Lambda retry made it) as scheduled', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    scheduler
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));

    // Act
    const result = await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    expect(result).toMatchObject({ outcome: 'SCHEDULED', at: '2026-01-01T12:00:00.000Z' });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('fails the token when the next schedule cannot be created, so the key is restored now', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([]);
    scheduler.on(CreateScheduleCommand).rejects(sdkError('ValidationException'));

    // Act
    const result = await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    const failures = sfn.commandCalls(SendTaskFailureCommand);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.args[0].input).toMatchObject({ taskToken: TOKEN, error: 'ValidationException' });
    expect(failures[0]?.args[0].input.cause).toContain('could not continue the watch');
    expect(result).toEqual({ outcome: 'FAILED', error: 'ValidationException' });
  });

  it('fails the token saying breakage was found when SendTaskSuccess fails, and ends quietly when its token is gone', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([disabledCall('ev-new', '2026-01-01T05:40:00Z')]);
    sfn
      .on(SendTaskSuccessCommand)
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));
    const event = watchEvent('schedule', 'OBSERVE', OBSERVE_START);

    // Act
    const first = await handler(event, CONTEXT);
    const second = await handler(event, CONTEXT);

    // Assess
    expect(first).toEqual({ outcome: 'FAILED', error: 'ThrottlingException' });
    const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(failure?.cause).toContain('found breakage (1 failed calls)');
    expect(second).toEqual({ outcome: 'TOKEN_GONE' });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('throws when neither the answer nor the failure reaches Step Functions (Lambda retries; the heartbeat restores)', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    givenRecords([disabledCall('ev-new', '2026-01-01T05:40:00Z')]);
    sfn.on(SendTaskSuccessCommand).rejects(sdkError('ServiceUnavailable', 'server'));
    sfn.on(SendTaskFailureCommand).rejects(sdkError('ServiceUnavailable', 'server'));

    // Act
    const act = handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'ServiceUnavailable');
  });

  it('PENDING: fails the token at once when a retry would land after the watch deadline before the deletion', async () => {
    // Prepare: deletion at 2026-02-01T00:00Z, deadline 15 min before; a first retry 5 min after 23:41.
    const deletionDate = '2026-02-01T00:00:00.000Z';
    const pendingStart = startWatch('PENDING', {
      now: new Date('2026-01-02T00:00:00.000Z'),
      plan: PLAN,
      deletionDate: new Date(deletionDate),
    });
    vi.setSystemTime(new Date('2026-01-31T23:41:00.000Z'));
    givenRecords([]);
    kms.on(DescribeKeyCommand).rejects(sdkError('ThrottlingException'));
    const event = watchEvent('schedule', 'PENDING', pendingStart, {
      deletion: scheduled(new Date('2026-01-02T00:00:00.000Z'), deletionDate),
    });

    // Act
    const result = await handler(event, CONTEXT);

    // Assess
    expect(result).toEqual({ outcome: 'FAILED', error: 'ThrottlingException' });
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('targets the function itself even when it was invoked through a version or alias', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));

    // Act
    await handler(watchEvent('start', 'OBSERVE', OBSERVE_START), {
      ...CONTEXT,
      invokedFunctionArn: `${FUNCTION_ARN}:live`,
    });

    // Assess
    expect(onlySchedule().Target?.Arn).toBe(FUNCTION_ARN);
  });

  it('fails the token with InvalidHandlerEventError for a broken event that still names its token', async () => {
    // Prepare
    const event: CheckEvent & { trigger: string; taskToken: string } = {
      ...checkEvent('FINAL', OBSERVE_START),
      trigger: 'schedule',
      taskToken: TOKEN,
    };

    // Act
    const result = await handler(event as unknown as WatchEvent, CONTEXT);

    // Assess
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toMatchObject({
      taskToken: TOKEN,
      error: 'InvalidHandlerEventError',
      cause: expect.stringContaining('phase'),
    });
    expect(result).toEqual({ outcome: 'FAILED', error: 'InvalidHandlerEventError' });
    expect(kms.calls()).toHaveLength(0);
  });

  it('throws InvalidHandlerEventError when the event has no token to answer', async () => {
    // Prepare
    const event = { ...watchEvent('schedule', 'OBSERVE', OBSERVE_START), taskToken: '' };

    // Act
    const act = handler(event, CONTEXT);

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'InvalidHandlerEventError');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('fails the token with ScheduleSettingsError when the chain cannot go on', async () => {
    // Prepare
    vi.stubEnv('KDG_SCHEDULE_GROUP', '');

    // Act
    await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START), CONTEXT);

    // Assess
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.error).toBe('ScheduleSettingsError');
    expect(kms.calls()).toHaveLength(0);
  });
});

/** A 300 s invocation in which every FilterLogEvents page takes `pageMs`, and the group never ends. */
function busyInvocation(pageMs: number): Context {
  let spent = 0;
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, creationTime: 0 }] });
  logs.on(FilterLogEventsCommand).callsFake((input: { nextToken?: string }) => {
    spent += pageMs;
    const page = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
    return { events: [], nextToken: `page-${page + 1}` };
  });
  return { ...CONTEXT, getRemainingTimeInMillis: () => 300_000 - spent };
}

describe('check handler, a search split across invocations', () => {
  it('schedules its own continuation at once with where the search stopped, and decides nothing', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    const context = busyInvocation(300);
    const event = watchEvent('schedule', 'OBSERVE', OBSERVE_START, { attempt: 0 });

    // Act
    const result = await handler(event, context);

    // Assess: the token is kept alive, the watch is unchanged but for the resume, no canary is made.
    expect(sfn.commandCalls(SendTaskHeartbeatCommand)).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(0);
    const schedule = onlySchedule();
    expect(schedule.Name).toBe(scheduleName(EXECUTION, TOKEN, 'OBSERVE', 0, 0, 1));
    expect(schedule.ScheduleExpression).toBe('at(2026-01-01T06:01:00)');
    const { resume, ...watch } = schedule.input.watch;
    expect(watch).toEqual(OBSERVE_START);
    expect(resume).toMatchObject({
      kind: 'BREAKAGE',
      end: '2026-01-01T06:00:00.000Z',
      invocations: 1,
      nextToken: `page-${resume?.pages}`,
    });
    expect(result).toEqual({
      outcome: 'CONTINUED',
      scheduled: schedule.Name,
      at: '2026-01-01T06:01:00.000Z',
    });
  });

  it('the continuation finishes the search from its token and then checks as of the window it searched', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START, { attempt: 0 }), busyInvocation(300));
    const continuation = onlySchedule().input;
    scheduler.resetHistory();
    sfn.resetHistory();
    logs.reset();
    vi.setSystemTime(new Date('2026-01-01T06:01:00.000Z'));
    givenRecords([]);

    // Act
    const result = await handler(continuation, CONTEXT);

    // Assess: the next window starts where this one ended (06:00), not at the continuation's time.
    const filter = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(filter.map((input) => input.nextToken)).toEqual([continuation.watch.resume?.nextToken]);
    expect(filter[0]?.endTime).toBe(Date.parse('2026-01-01T06:00:00.000Z'));
    const schedule = onlySchedule();
    expect(schedule.Name).toBe(scheduleName(EXECUTION, TOKEN, 'OBSERVE', 1, 0));
    expect(schedule.input.watch).toMatchObject({ checks: 1, cursor: '2026-01-01T06:00:00.000Z' });
    expect(schedule.input.watch.resume).toBeUndefined();
    expect(result).toMatchObject({ outcome: 'SCHEDULED' });
  });

  it('fails the watch by name when the search takes longer than one check interval', async () => {
    // Prepare: the search began at 06:00 and is still going at 12:01.
    vi.setSystemTime(new Date('2026-01-01T06:00:00.000Z'));
    givenKey('Disabled');
    await handler(watchEvent('schedule', 'OBSERVE', OBSERVE_START, { attempt: 0 }), busyInvocation(300));
    const continuation = onlySchedule().input;
    scheduler.resetHistory();
    vi.setSystemTime(new Date('2026-01-01T12:01:00.000Z'));

    // Act
    const result = await handler(continuation, busyInvocation(300));

    // Assess
    expect(result).toEqual({ outcome: 'FAILED', error: 'SearchTooLongError' });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.error).toBe('SearchTooLongError');
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('PENDING: fails the watch rather than continue past the deadline before the deletion', async () => {
    // Prepare: deletion at 2026-02-01T00:00Z, so the watch must answer by 23:45.
    const deletionDate = '2026-02-01T00:00:00.000Z';
    const scheduledAt = new Date('2026-01-25T00:00:00.000Z');
    const pendingStart = startWatch('PENDING', {
      now: scheduledAt,
      plan: PLAN,
      deletionDate: new Date(deletionDate),
    });
    vi.setSystemTime(new Date('2026-01-31T23:44:30.000Z'));
    givenPendingKey();
    const event = watchEvent('schedule', 'PENDING', pendingStart, {
      deletion: scheduled(scheduledAt, deletionDate),
    });

    // Act
    const result = await handler(event, busyInvocation(300));

    // Assess
    expect(result).toEqual({ outcome: 'FAILED', error: 'SearchTooLongError' });
    expect(scheduler.calls()).toHaveLength(0);
  });
});

describe('check handler, FinalCheck split across invocations', () => {
  it('answers the watch unchanged with the resume, then decides once the search is complete', async () => {
    // Prepare
    vi.setSystemTime(new Date('2026-01-31T00:30:00.000Z'));
    givenKey('Disabled');
    const observed: WatchState = {
      ...OBSERVE_START,
      checks: 120,
      done: true,
      cursor: '2026-01-31T00:00:00.000Z',
      canaries: [canary('canary-last', '2026-01-31T00:00:00.000Z')],
    };

    // Act
    const first = (await handler(checkEvent('FINAL', observed), busyInvocation(300))) as WatchState;
    logs.reset();
    givenRecords([canaryRecord('canary-last', '2026-01-31T00:00:00Z')]);
    const second = (await handler(checkEvent('FINAL', first), CONTEXT)) as WatchState;

    // Assess
    const { resume, ...unchanged } = first;
    expect(unchanged).toEqual(observed);
    expect(resume?.start).toBe('2025-12-31T23:30:00.000Z');
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(1);
    expect(second).toMatchObject({ phase: 'FINAL', checks: 121, done: true, broke: false, canariesSeen: 1 });
    expect(second.resume).toBeUndefined();
  });
});
