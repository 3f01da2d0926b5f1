import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { atInstant, SchedulerService } from '../../../../lib/simulator/emulator/scheduler.js';
import { ACCOUNT, newAccount, REGION, TestClock, useEmulatorServer } from './fixtures.js';

const GROUP = 'WatchSchedulesGroup';
const FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:CheckFunction`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/SchedulerRole`;

function request(
  name: string,
  overrides: Partial<CreateScheduleCommandInput> = {},
): CreateScheduleCommandInput {
  return {
    Name: name,
    GroupName: GROUP,
    ScheduleExpression: 'at(2026-01-01T06:00:00)',
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: FUNCTION,
      RoleArn: ROLE,
      Input: JSON.stringify({ trigger: 'schedule', attempt: 0 }),
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
    },
    ...overrides,
  };
}

describe('SchedulerService through a real SchedulerClient', () => {
  const emulator = useEmulatorServer((clock) => newAccount(clock, { scheduleGroups: [GROUP] }));
  let client: SchedulerClient;

  beforeAll(() => {
    client = emulator.client(SchedulerClient);
  });

  it('creates a one-time schedule, answers its ARN and reports it due at its at() time', async () => {
    // Act
    const created = await client.send(new CreateScheduleCommand(request('kdg-abc-o0-0')));

    // Assess
    expect(created.ScheduleArn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${GROUP}/kdg-abc-o0-0`);
    expect(emulator.account.scheduler.nextDueAt()).toBe(Date.parse('2026-01-01T06:00:00Z'));
    const got = await client.send(new GetScheduleCommand({ Name: 'kdg-abc-o0-0', GroupName: GROUP }));
    expect(got.Target).toMatchObject({
      Arn: FUNCTION,
      RoleArn: ROLE,
      Input: '{"trigger":"schedule","attempt":0}',
    });
    expect(got.ActionAfterCompletion).toBe('DELETE');
  });

  it('answers ConflictException for a second schedule of the same name in the group', async () => {
    // Prepare
    await client.send(new CreateScheduleCommand(request('kdg-dup')));

    // Act
    const again = client.send(new CreateScheduleCommand(request('kdg-dup')));

    // Assess
    await expect(again).rejects.toBeInstanceOf(ConflictException);
    expect(emulator.account.scheduler.list()).toHaveLength(1);
  });

  it.each([
    ['a malformed at()', { ScheduleExpression: 'at(2026-01-01 06:00:00)' }],
    ['an impossible date', { ScheduleExpression: 'at(2026-02-30T06:00:00)' }],
    ['a recurring rate()', { ScheduleExpression: 'rate(6 hours)' }],
    ['a time already past', { ScheduleExpression: 'at(2025-12-31T23:59:00)' }],
    ['an unknown time zone', { ScheduleExpressionTimezone: 'Mars/Olympus' }],
    [
      'a Lambda target whose Input is not JSON',
      { Target: { Arn: FUNCTION, RoleArn: ROLE, Input: 'not json' } },
    ],
  ])('answers ValidationException for %s and keeps nothing', async (_label, overrides) => {
    // Act
    const sent = client.send(new CreateScheduleCommand(request('kdg-bad', overrides)));

    // Assess
    await expect(sent).rejects.toBeInstanceOf(ValidationException);
    expect(emulator.account.scheduler.list()).toEqual([]);
  });

  it('answers ResourceNotFoundException for a group that does not exist', async () => {
    // Act
    const sent = client.send(new CreateScheduleCommand(request('kdg-x', { GroupName: 'nope' })));

    // Assess
    await expect(sent).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('deletes a schedule, after which it neither fires nor can be deleted again', async () => {
    // Prepare
    await client.send(new CreateScheduleCommand(request('kdg-del')));

    // Act
    await client.send(new DeleteScheduleCommand({ Name: 'kdg-del', GroupName: GROUP }));
    const again = client.send(new DeleteScheduleCommand({ Name: 'kdg-del', GroupName: GROUP }));

    // Assess
    await expect(again).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(emulator.account.scheduler.nextDueAt()).toBeNull();
    expect(emulator.account.scheduler.takeDue(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });
});

describe('SchedulerService firing order', () => {
  it('hands out due schedules once, by time then creation, deleting DELETE ones and keeping NONE ones', () => {
    // Prepare
    const clock = new TestClock();
    const scheduler = new SchedulerService(ACCOUNT, REGION, clock.now);
    const create = (name: string, at: string, after: 'NONE' | 'DELETE') =>
      scheduler.createSchedule(name, {
        ScheduleExpression: `at(${at})`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: after,
        Target: { Arn: FUNCTION, RoleArn: ROLE, Input: '{}' },
      });
    create('late', '2026-01-01T12:00:00', 'DELETE');
    create('first', '2026-01-01T06:00:00', 'NONE');
    create('second', '2026-01-01T06:00:00', 'DELETE');

    // Act
    const early = scheduler.takeDue(Date.parse('2026-01-01T06:00:00Z'));
    const again = scheduler.takeDue(Date.parse('2026-01-01T06:00:00Z'));

    // Assess
    expect(early.map((s) => s.name)).toEqual(['first', 'second']);
    expect(again).toEqual([]);
    expect(scheduler.list().map((s) => s.name)).toEqual(['late', 'first']);
    expect(scheduler.nextDueAt()).toBe(Date.parse('2026-01-01T12:00:00Z'));
  });
});

describe('atInstant', () => {
  it('reads the wall-clock time in the schedule time zone, daylight saving included', () => {
    // Act / Assess
    expect(atInstant('at(2026-01-01T06:00:00)')).toBe(Date.parse('2026-01-01T06:00:00Z'));
    expect(atInstant('at(2026-01-15T09:00:00)', 'Europe/Berlin')).toBe(Date.parse('2026-01-15T08:00:00Z'));
    expect(atInstant('at(2026-07-15T09:00:00)', 'Europe/Berlin')).toBe(Date.parse('2026-07-15T07:00:00Z'));
    expect(atInstant('at(2026-13-01T00:00:00)')).toBeNull();
  });
});
