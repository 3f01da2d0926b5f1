import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  atExpression,
  classifyError,
  ERROR_CAUSE_MAX,
  ERROR_NAME_MAX,
  MIN_LEAD_MS,
  readScheduleSettings,
  retryDelayMs,
  scheduledTime,
  scheduleName,
  sendHeartbeat,
  sendWatchFailure,
} from '../../../lambdas/aws/watch-schedule.js';
import {
  EventSourceBlindError,
  InvalidHandlerEventError,
  KeyChangedExternallyError,
} from '../../../lambdas/domain/errors.js';
import { EXECUTION } from '../fixtures.js';

const sfn = mockClient(SFNClient);
const TOKEN = 'token-1';

beforeEach(() => {
  vi.stubEnv('AWS_REGION', 'us-east-1');
});

afterEach(() => {
  vi.unstubAllEnvs();
  sfn.reset();
});

describe('scheduleName', () => {
  it('names the execution, the phase, the check and the try, within the 64 characters Scheduler allows', () => {
    // Act
    const name = scheduleName(EXECUTION, TOKEN, 'PENDING', 118, 6);

    // Assess
    expect(name).toMatch(/^kdg-[0-9a-f]{24}-p118-6$/);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/^[0-9A-Za-z_.-]+$/);
  });

  it('is the same for the same check and try, and differs for any other', () => {
    // Prepare
    const base = scheduleName(EXECUTION, TOKEN, 'OBSERVE', 3, 0);

    // Act
    const others = [
      scheduleName(`${EXECUTION}-2`, TOKEN, 'OBSERVE', 3, 0),
      scheduleName(EXECUTION, 'token-2', 'OBSERVE', 3, 0),
      scheduleName(EXECUTION, TOKEN, 'PENDING', 3, 0),
      scheduleName(EXECUTION, TOKEN, 'OBSERVE', 4, 0),
      scheduleName(EXECUTION, TOKEN, 'OBSERVE', 3, 1),
    ];

    // Assess
    expect(scheduleName(EXECUTION, TOKEN, 'OBSERVE', 3, 0)).toBe(base);
    expect(new Set([base, ...others]).size).toBe(6);
  });
});

describe('atExpression and scheduledTime', () => {
  it('writes the instant to the second without a zone, rounding up', () => {
    // Act + Assess
    expect(atExpression(new Date('2026-01-01T06:00:00.000Z'))).toBe('at(2026-01-01T06:00:00)');
    expect(atExpression(new Date('2026-01-01T06:00:00.001Z'))).toBe('at(2026-01-01T06:00:01)');
    expect(atExpression(new Date('2026-12-31T23:59:59.500Z'))).toBe('at(2027-01-01T00:00:00)');
  });

  it('keeps a future time and moves a time due now at least a minute ahead', () => {
    // Prepare
    const now = new Date('2026-02-01T00:00:00.400Z');

    // Act
    const future = scheduledTime(new Date('2026-02-01T06:00:00.000Z'), now);
    const due = scheduledTime(new Date('2026-02-01T00:00:00.000Z'), now);

    // Assess
    expect(future.toISOString()).toBe('2026-02-01T06:00:00.000Z');
    expect(due.getTime()).toBeGreaterThanOrEqual(now.getTime() + MIN_LEAD_MS);
    expect(due.toISOString()).toBe('2026-02-01T00:01:01.000Z');
  });
});

describe('retryDelayMs', () => {
  it('doubles from 5 minutes and stops at an hour', () => {
    // Act
    const minutes = [0, 1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt) / 60_000);

    // Assess
    expect(minutes).toEqual([5, 10, 20, 40, 60, 60, 60]);
  });
});

describe('classifyError', () => {
  it.each([
    ['ThrottlingException', {}],
    ['TimeoutError', {}],
    ['InternalServerException', { $fault: 'server' }],
    ['Error', { $retryable: { throttling: false } }],
  ])('%s %o is transient', (name, extra) => {
    // Act + Assess
    expect(classifyError(Object.assign(new Error('x'), { name }, extra))).toBe('TRANSIENT');
  });

  it.each(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'])('%s means the token is gone', (name) => {
    // Act + Assess
    expect(classifyError(Object.assign(new Error('x'), { name }))).toBe('TOKEN_GONE');
  });

  it('treats the check’s named errors and any other failure as fatal', () => {
    // Act
    const kinds = [
      new KeyChangedExternallyError('re-enabled'),
      new EventSourceBlindError('blind'),
      new InvalidHandlerEventError('bad'),
      Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client' }),
      new TypeError('bug'),
      'not an error',
    ].map(classifyError);

    // Assess
    expect(kinds).toEqual(['FATAL', 'FATAL', 'FATAL', 'FATAL', 'FATAL', 'FATAL']);
  });
});

describe('sendHeartbeat and sendWatchFailure', () => {
  it('reports a gone token instead of throwing, and throws any other failure', async () => {
    // Prepare
    sfn
      .on(SendTaskHeartbeatCommand)
      .rejectsOnce(new TaskTimedOut({ message: 'timed out', $metadata: {} }))
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    // Act
    const gone = await sendHeartbeat(TOKEN);
    const denied = sendHeartbeat(TOKEN);

    // Assess
    expect(gone).toBe('TOKEN_GONE');
    await expect(denied).rejects.toHaveProperty('name', 'AccessDeniedException');
  });

  it("cuts the error name and cause to Step Functions' limits", async () => {
    // Prepare
    sfn.on(SendTaskFailureCommand).resolves({});
    const error = Object.assign(new Error('c'.repeat(40_000)), { name: 'N'.repeat(300) });

    // Act
    const sent = await sendWatchFailure(TOKEN, error);

    // Assess
    expect(sent).toBe('SENT');
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(input?.error).toHaveLength(ERROR_NAME_MAX);
    expect(input?.cause).toHaveLength(ERROR_CAUSE_MAX);
  });
});

describe('schedule settings', () => {
  it('needs both the group and the role', () => {
    // Act + Assess
    expect(readScheduleSettings({ KDG_SCHEDULE_GROUP: 'g', KDG_SCHEDULER_ROLE_ARN: 'r' })).toEqual({
      groupName: 'g',
      roleArn: 'r',
    });
    expect(readScheduleSettings({ KDG_SCHEDULE_GROUP: 'g' })).toBeNull();
    expect(readScheduleSettings({ KDG_SCHEDULER_ROLE_ARN: 'r', KDG_SCHEDULE_GROUP: '' })).toBeNull();
  });

  it('keeps the settings the module was loaded with', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('KDG_SCHEDULE_GROUP', 'group-at-load');
    vi.stubEnv('KDG_SCHEDULER_ROLE_ARN', 'role-at-load');
    const fresh = await import('../../../lambdas/aws/watch-schedule.js');
    vi.stubEnv('KDG_SCHEDULE_GROUP', 'group-later');

    // Act
    const settings = fresh.scheduleSettings();

    // Assess
    expect(settings).toEqual({ groupName: 'group-at-load', roleArn: 'role-at-load' });
  });

  it('fails with ScheduleSettingsError when neither load nor use time has them', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('KDG_SCHEDULE_GROUP', '');
    vi.stubEnv('KDG_SCHEDULER_ROLE_ARN', '');
    const fresh = await import('../../../lambdas/aws/watch-schedule.js');

    // Act
    const act = () => fresh.scheduleSettings();

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'ScheduleSettingsError',
        message: expect.stringContaining('KDG_SCHEDULE_GROUP and KDG_SCHEDULER_ROLE_ARN'),
      }),
    );
  });
});
