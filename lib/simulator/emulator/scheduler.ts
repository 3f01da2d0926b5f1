/**
 * EventBridge Scheduler as `@aws-sdk/client-scheduler` speaks it (restJson1: `POST /schedules/{Name}`
 * CreateSchedule, `GET` GetSchedule, `DELETE` DeleteSchedule, the group in the body or `?groupName=`),
 * reached through `AWS_ENDPOINT_URL_SCHEDULER`. It keeps the schedules; it never runs them itself: the
 * simulated world asks for the due ones (`nextDueAt`, `takeDue`) and invokes their targets in virtual
 * time, in order with everything else that happens.
 */
import { deterministicUuid } from './cloudtrail.js';
import { AwsError, validationError } from './errors.js';

export interface ScheduleTarget {
  readonly arn: string;
  readonly roleArn: string;
  /** The event the target receives, as sent (JSON text for a Lambda target). */
  readonly input: string | null;
  readonly retryPolicy: {
    readonly maximumEventAgeInSeconds?: number;
    readonly maximumRetryAttempts?: number;
  };
}

export interface StoredSchedule {
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  readonly expression: string;
  readonly timezone: string;
  /** When the schedule fires (ms since the epoch, UTC). */
  readonly dueAt: number;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly flexibleTimeWindow: {
    readonly mode: 'OFF' | 'FLEXIBLE';
    readonly maximumWindowInMinutes?: number;
  };
  readonly target: ScheduleTarget;
  readonly createdAt: number;
  /** Creation order: schedules due at the same instant fire in it. */
  readonly sequence: number;
}

/** One REST answer: the HTTP status, JSON body and headers (the error type for failures). */
export interface RestAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string>>;
}

const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RECURRING = /^(rate|cron)\(.*\)$/;
const ARN = /^arn:aws[\w-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$/;
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;
const DEFAULT_GROUP = 'default';

/** HTTP status of the Scheduler errors (the SDK maps the type; the status decides its retries). */
const STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  ConflictException: 409,
  ResourceNotFoundException: 404,
  ServiceQuotaExceededException: 402,
  ThrottlingException: 429,
  InternalServerException: 500,
};

function schedulerError(type: string, message: string): AwsError {
  return new AwsError(type, message, STATUS[type] ?? 400);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

// Building an Intl.DateTimeFormat costs about as much as the rest of a CreateSchedule; the chain
// creates one schedule per check, so each zone's formatter is made once (UTC needs none).
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterOf(zone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      formatter = null;
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The UTC offset of `zone` at the instant `ms`, in ms (wall clock minus UTC). */
function zoneOffsetMs(ms: number, zone: string): number {
  if (zone === 'UTC') {
    return 0;
  }
  const formatter = formatterOf(zone);
  if (!formatter) {
    throw new RangeError(`Invalid time zone: ${zone}`);
  }
  const parts = formatter.formatToParts(new Date(ms));
  const field = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return wall - Math.floor(ms / 1000) * 1000;
}

function isTimeZone(zone: string): boolean {
  return formatterOf(zone) !== null;
}

/**
 * The instant of `at(yyyy-mm-ddThh:mm:ss)` read as wall-clock time in `zone`, or null when the
 * expression is not a valid one-time expression.
 */
export function atInstant(expression: string, zone = 'UTC'): number | null {
  const match = AT.exec(expression);
  if (!match) {
    return null;
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute
  ) {
    return null;
  }
  // The offset depends on the instant itself (daylight saving): settle it in two steps.
  let guess = wall - zoneOffsetMs(wall, zone);
  guess = wall - zoneOffsetMs(guess, zone);
  return guess;
}

export class SchedulerService {
  private readonly schedules = new Map<string, StoredSchedule>();
  /** One-time schedules that fired and are kept (`ActionAfterCompletion: NONE`). */
  private readonly completed = new Set<string>();
  private sequence = 0;
  private requests = 0;

  /**
   * @param groups the schedule groups that exist (`default` always does); empty: any group exists,
   *   for tests that do not care about groups.
   */
  constructor(
    private readonly account: string,
    private readonly region: string,
    private readonly clock: () => Date,
    private readonly groups: ReadonlySet<string> = new Set(),
  ) {}

  /** One REST request; never throws for an AWS-level error. */
  serve(method: string, path: string, query: URLSearchParams, bodyText: string): RestAnswer {
    this.requests += 1;
    const requestId = deterministicUuid(this.account, 'scheduler-request', this.requests);
    try {
      const match = /^\/schedules\/([^/]+)$/.exec(path);
      if (!match) {
        throw schedulerError(
          'ValidationException',
          `The emulated Scheduler does not serve ${method} ${path}.`,
        );
      }
      const name = decodeURIComponent(match[1] as string);
      let body: Record<string, unknown> = {};
      if (bodyText.trim() !== '') {
        const parsed = record(safeJson(bodyText));
        if (!parsed) {
          throw schedulerError('ValidationException', 'Malformed JSON body');
        }
        body = parsed;
      }
      let answer: Record<string, unknown>;
      if (method === 'POST') {
        answer = this.createSchedule(name, body);
      } else if (method === 'DELETE') {
        this.deleteSchedule(name, query.get('groupName') ?? undefined);
        answer = {};
      } else if (method === 'GET') {
        answer = this.describe(this.find(name, query.get('groupName') ?? undefined));
      } else {
        throw schedulerError(
          'ValidationException',
          `The emulated Scheduler does not serve ${method} ${path}.`,
        );
      }
      return { status: 200, body: answer, headers: { 'x-amzn-RequestId': requestId } };
    } catch (error) {
      const aws =
        error instanceof AwsError ? error : schedulerError('InternalServerException', String(error));
      return {
        status: aws.status,
        body: { Message: aws.message },
        headers: { 'x-amzn-RequestId': requestId, 'x-amzn-ErrorType': aws.type },
      };
    }
  }

  createSchedule(name: string, request: Record<string, unknown>): { ScheduleArn: string } {
    if (!NAME.test(name)) {
      throw validationError(`Schedule name '${name}' must match [0-9a-zA-Z-_.]{1,64}.`);
    }
    const groupName = text(request.GroupName) ?? DEFAULT_GROUP;
    this.requireGroup(groupName);
    const key = this.key(groupName, name);
    const expression = text(request.ScheduleExpression);
    if (expression === undefined) {
      throw validationError('ScheduleExpression is required.');
    }
    const timezone = text(request.ScheduleExpressionTimezone) ?? 'UTC';
    if (!isTimeZone(timezone)) {
      throw validationError(`Invalid ScheduleExpressionTimezone '${timezone}'.`);
    }
    const dueAt = atInstant(expression, timezone);
    if (dueAt === null) {
      if (RECURRING.test(expression)) {
        // A recurring schedule would silently never fire here: refuse it loudly instead.
        throw validationError(`The emulated Scheduler runs one-time at() schedules only, not ${expression}.`);
      }
      throw validationError(`Invalid Schedule Expression ${expression}`);
    }
    const now = this.clock().getTime();
    if (dueAt < Math.floor(now / 1000) * 1000) {
      throw validationError(`The one-time schedule ${expression} (${timezone}) lies in the past.`);
    }
    const window = record(request.FlexibleTimeWindow);
    const mode = window?.Mode;
    if (mode !== 'OFF' && mode !== 'FLEXIBLE') {
      throw validationError('FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.');
    }
    const maximumWindow = window?.MaximumWindowInMinutes;
    if (
      mode === 'FLEXIBLE' &&
      (typeof maximumWindow !== 'number' || maximumWindow < 1 || maximumWindow > 1440)
    ) {
      throw validationError('FlexibleTimeWindow.MaximumWindowInMinutes must be 1 to 1440 in FLEXIBLE mode.');
    }
    const target = this.target(record(request.Target));
    const state = text(request.State) ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw validationError(`State must be ENABLED or DISABLED, not '${state}'.`);
    }
    const after = text(request.ActionAfterCompletion) ?? 'NONE';
    if (after !== 'NONE' && after !== 'DELETE') {
      throw validationError(`ActionAfterCompletion must be NONE or DELETE, not '${after}'.`);
    }
    if (this.schedules.has(key)) {
      throw schedulerError('ConflictException', `Schedule ${name} already exists.`);
    }
    this.sequence += 1;
    const schedule: StoredSchedule = {
      name,
      groupName,
      arn: `arn:aws:scheduler:${this.region}:${this.account}:schedule/${groupName}/${name}`,
      expression,
      timezone,
      dueAt,
      state,
      actionAfterCompletion: after,
      flexibleTimeWindow:
        mode === 'FLEXIBLE' ? { mode, maximumWindowInMinutes: maximumWindow as number } : { mode },
      target,
      createdAt: now,
      sequence: this.sequence,
    };
    this.schedules.set(key, schedule);
    return { ScheduleArn: schedule.arn };
  }

  deleteSchedule(name: string, groupName = DEFAULT_GROUP): void {
    const schedule = this.find(name, groupName);
    this.schedules.delete(this.key(schedule.groupName, schedule.name));
  }

  /** The creation number of the latest schedule (0 before the first): later ones have higher numbers. */
  lastSequence(): number {
    return this.sequence;
  }

  /** Every schedule still kept, in creation order. */
  list(): readonly StoredSchedule[] {
    return [...this.schedules.values()].sort((a, b) => a.sequence - b.sequence);
  }

  /** When the next enabled schedule fires, or null when none will. */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const schedule of this.pending()) {
      if (next === null || schedule.dueAt < next) {
        next = schedule.dueAt;
      }
    }
    return next;
  }

  /**
   * The enabled schedules due at or before `untilMs`, in firing order. A one-time schedule fires
   * once: it is deleted (`ActionAfterCompletion: DELETE`) or kept as completed, never fired again.
   */
  takeDue(untilMs: number): StoredSchedule[] {
    const due = this.pending()
      .filter((s) => s.dueAt <= untilMs)
      .sort((a, b) => a.dueAt - b.dueAt || a.sequence - b.sequence);
    for (const schedule of due) {
      const key = this.key(schedule.groupName, schedule.name);
      if (schedule.actionAfterCompletion === 'DELETE') {
        this.schedules.delete(key);
      } else {
        this.completed.add(key);
      }
    }
    return due;
  }

  private pending(): StoredSchedule[] {
    return [...this.schedules.entries()]
      .filter(([key, s]) => s.state === 'ENABLED' && !this.completed.has(key))
      .map(([, s]) => s);
  }

  private target(raw: Record<string, unknown> | undefined): ScheduleTarget {
    const arn = text(raw?.Arn);
    const roleArn = text(raw?.RoleArn);
    if (!arn || !ARN.test(arn)) {
      throw validationError(`Target.Arn '${String(raw?.Arn)}' is not an ARN.`);
    }
    if (!roleArn || !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
      throw validationError(`Target.RoleArn '${String(raw?.RoleArn)}' is not a role ARN.`);
    }
    const input = raw?.Input;
    if (input !== undefined && (typeof input !== 'string' || input.length === 0)) {
      throw validationError('Target.Input must be a non-empty string.');
    }
    if (typeof input === 'string' && LAMBDA_ARN.test(arn) && safeJson(input) === undefined) {
      throw validationError('Target.Input of a Lambda target must be well-formed JSON.');
    }
    const policy = record(raw?.RetryPolicy);
    const age = policy?.MaximumEventAgeInSeconds;
    const attempts = policy?.MaximumRetryAttempts;
    if (age !== undefined && (typeof age !== 'number' || age < 60 || age > 86_400)) {
      throw validationError('RetryPolicy.MaximumEventAgeInSeconds must be 60 to 86400.');
    }
    if (attempts !== undefined && (typeof attempts !== 'number' || attempts < 0 || attempts > 185)) {
      throw validationError('RetryPolicy.MaximumRetryAttempts must be 0 to 185.');
    }
    return {
      arn,
      roleArn,
      input: typeof input === 'string' ? input : null,
      retryPolicy: {
        ...(typeof age === 'number' ? { maximumEventAgeInSeconds: age } : {}),
        ...(typeof attempts === 'number' ? { maximumRetryAttempts: attempts } : {}),
      },
    };
  }

  private describe(schedule: StoredSchedule): Record<string, unknown> {
    const { target } = schedule;
    return {
      Arn: schedule.arn,
      Name: schedule.name,
      GroupName: schedule.groupName,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      State: schedule.state,
      ActionAfterCompletion: schedule.actionAfterCompletion,
      FlexibleTimeWindow: {
        Mode: schedule.flexibleTimeWindow.mode,
        ...(schedule.flexibleTimeWindow.maximumWindowInMinutes !== undefined
          ? { MaximumWindowInMinutes: schedule.flexibleTimeWindow.maximumWindowInMinutes }
          : {}),
      },
      CreationDate: schedule.createdAt / 1000,
      LastModificationDate: schedule.createdAt / 1000,
      Target: {
        Arn: target.arn,
        RoleArn: target.roleArn,
        ...(target.input !== null ? { Input: target.input } : {}),
        RetryPolicy: {
          MaximumEventAgeInSeconds: target.retryPolicy.maximumEventAgeInSeconds ?? 86_400,
          MaximumRetryAttempts: target.retryPolicy.maximumRetryAttempts ?? 185,
        },
      },
    };
  }

  private find(name: string, groupName = DEFAULT_GROUP): StoredSchedule {
    this.requireGroup(groupName);
    const schedule = this.schedules.get(this.key(groupName, name));
    if (!schedule) {
      throw schedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    }
    return schedule;
  }

  private requireGroup(groupName: string): void {
    if (!NAME.test(groupName)) {
      throw validationError(`Group name '${groupName}' must match [0-9a-zA-Z-_.]{1,64}.`);
    }
    if (this.groups.size > 0 && groupName !== DEFAULT_GROUP && !this.groups.has(groupName)) {
      throw schedulerError('ResourceNotFoundException', `Schedule group ${groupName} does not exist.`);
    }
  }

  private key(groupName: string, name: string): string {
    return `${groupName}/${name}`;
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
