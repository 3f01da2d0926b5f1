import { createHash } from 'node:crypto';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { SendTaskHeartbeatCommand } from '@aws-sdk/client-sfn';
import type * as z from 'zod/mini';
import { checkEnvironment } from '../contracts/environment.js';
import { TRANSIENT_ERRORS } from '../contracts/workflow-errors.js';
import { ScheduleSettingsError } from '../domain/errors.js';
import { HOUR_MS, HOUR_SECONDS, MINUTE_MS } from '../domain/time.js';
import type { CheckEvent, WatchState } from '../domain/types.js';
import { schedulerClient, sfnClient } from './clients.js';
import { type Environment, readEnvironment, settingsIn } from './environment.js';
import { failTask, succeedTask } from './task-answers.js';

/**
 * The watch's chain: one-time EventBridge Scheduler schedules that invoke the check function, and
 * the answers the chain gives the watch's task token (heartbeat, success, failure). Step Functions
 * waits on one task token for the whole watch instead of looping through a Wait state per check.
 */

export interface ScheduleSettings {
  readonly groupName: string;
  /** The role Scheduler assumes to invoke the check function. */
  readonly roleArn: string;
}

function toSettings(env: z.output<typeof checkEnvironment>): ScheduleSettings {
  return { groupName: env.KDG_SCHEDULE_GROUP, roleArn: env.KDG_SCHEDULER_ROLE_ARN };
}

/** The settings in `env` (the process environment unless given), or null when either is missing. */
export function readScheduleSettings(env?: Environment): ScheduleSettings | null {
  const settings = settingsIn(checkEnvironment, env);
  return settings && toSettings(settings);
}

// Read once when Lambda loads the module. FinalCheck (no schedule) must run without them, so a missing
// setting fails the first start or scheduled check instead of the module load; the process environment
// is read again then, for hosts (the simulator) that set it after importing the handler.
const settingsAtLoad = readScheduleSettings();

export function scheduleSettings(): ScheduleSettings {
  return settingsAtLoad ?? toSettings(readEnvironment(checkEnvironment, ScheduleSettingsError));
}

export type WatchTrigger = 'start' | 'schedule';

/**
 * The event of the watch's task-token state (`start`) and of each schedule (`schedule`, the
 * schedule's Input): a check event of OBSERVE or PENDING with the token to answer.
 */
export interface WatchEvent extends CheckEvent {
  readonly trigger: WatchTrigger;
  readonly phase: 'OBSERVE' | 'PENDING';
  readonly taskToken: string;
  /** Transient failures of this check so far (absent: 0). */
  readonly attempt?: number | undefined;
}

/** A transient error is retried this many times (by schedule) before the watch fails. */
export const MAX_TRANSIENT_RETRIES = 6;

const RETRY_BASE_MS = 5 * MINUTE_MS;
const RETRY_MAX_MS = HOUR_MS;

/** How long after a transient failure of try `attempt` (0 = the first) the check runs again. */
export function retryDelayMs(attempt: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** attempt, RETRY_MAX_MS);
}

/**
 * A one-time schedule must lie in the future when Scheduler receives it, and Scheduler runs it with a
 * minute's precision anyway, so a check due now (the first pending check can be) is scheduled a minute ahead.
 */
export const MIN_LEAD_MS = MINUTE_MS;

/** When the schedule runs: `at`, to the whole second rounded up, and at least MIN_LEAD_MS after `now`. */
export function scheduledTime(at: Date, now: Date): Date {
  const earliest = Math.max(at.getTime(), now.getTime() + MIN_LEAD_MS);
  return new Date(Math.ceil(earliest / 1000) * 1000);
}

/** `at(2026-01-01T06:00:00)`: Scheduler's one-time expression, read in ScheduleExpressionTimezone UTC. */
export function atExpression(at: Date): string {
  return `at(${new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().slice(0, 19)})`;
}

/**
 * `kdg-<24 hex>-<o|p><checks>-<attempt>` (at most 64 characters, as Scheduler allows), and
 * `-c<n>` for the n-th continuation of a check whose search did not fit one invocation. The hash
 * covers the execution and the token: a Lambda retry of the same invocation makes the same name
 * (Scheduler's ConflictException then means "already scheduled"), while a Step Functions retry of
 * the watch task, whose token is new, starts its own chain instead of being taken for the old one.
 */
export function scheduleName(
  executionArn: string,
  taskToken: string,
  phase: 'OBSERVE' | 'PENDING',
  checks: number,
  attempt: number,
  continuation = 0,
): string {
  const hash = createHash('sha256').update(executionArn).update('\n').update(taskToken).digest('hex');
  const part = continuation > 0 ? `-c${continuation}` : '';
  return `kdg-${hash.slice(0, 24)}-${phase === 'PENDING' ? 'p' : 'o'}${checks}-${attempt}${part}`;
}

/** The input of the schedule that runs the check of `watch`. */
export function scheduleInput(event: WatchEvent, watch: WatchState, attempt: number): WatchEvent {
  return { ...event, trigger: 'schedule', watch, attempt };
}

export interface ScheduledCheck {
  readonly name: string;
  /** When the schedule runs (ISO, `Z`). */
  readonly at: string;
  /** False when a schedule of that name existed already (an earlier try of this invocation made it). */
  readonly created: boolean;
}

export interface ScheduleCheckArgs {
  readonly event: WatchEvent;
  /** The watch the scheduled check continues from. */
  readonly watch: WatchState;
  readonly attempt: number;
  readonly at: Date;
  readonly now: Date;
  /** The check function (context.invokedFunctionArn). */
  readonly targetArn: string;
  readonly settings: ScheduleSettings;
}

/** Creates the one-time schedule of the next check. Errors propagate, except an existing schedule of the name. */
export async function scheduleCheck(args: ScheduleCheckArgs): Promise<ScheduledCheck> {
  const { event, watch, attempt, settings } = args;
  const continuation = watch.resume?.invocations ?? 0;
  const name = scheduleName(
    event.executionArn,
    event.taskToken,
    event.phase,
    watch.checks,
    attempt,
    continuation,
  );
  const at = scheduledTime(args.at, args.now);
  try {
    await schedulerClient().send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: settings.groupName,
        ScheduleExpression: atExpression(at),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: args.targetArn,
          RoleArn: settings.roleArn,
          Input: JSON.stringify(scheduleInput(event, watch, attempt)),
          RetryPolicy: { MaximumEventAgeInSeconds: HOUR_SECONDS, MaximumRetryAttempts: 10 },
        },
      }),
    );
  } catch (error) {
    if (isNamed(error, 'ConflictException')) {
      return { name, at: at.toISOString(), created: false };
    }
    throw error;
  }
  return { name, at: at.toISOString(), created: true };
}

/** What Step Functions answers for a token whose task is over (ended, stopped, timed out) or unknown. */
export const TOKEN_GONE_ERRORS: readonly string[] = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

/**
 * TOKEN_GONE: nobody waits for the answer any more. TRANSIENT: the same check may succeed later.
 * FATAL: anything else, including every named error of the check (the watch fails with it).
 */
export type ErrorKind = 'TOKEN_GONE' | 'TRANSIENT' | 'FATAL';

interface SdkErrorShape {
  readonly name?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
}

export function classifyError(error: unknown): ErrorKind {
  if (!(error instanceof Error)) {
    return 'FATAL';
  }
  if (TOKEN_GONE_ERRORS.includes(error.name)) {
    return 'TOKEN_GONE';
  }
  const sdk = error as SdkErrorShape;
  if (
    (TRANSIENT_ERRORS as readonly string[]).includes(error.name) ||
    sdk.$fault === 'server' ||
    sdk.$retryable
  ) {
    return 'TRANSIENT';
  }
  return 'FATAL';
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

export type TokenAnswer = 'SENT' | 'TOKEN_GONE';

async function answer(send: () => Promise<unknown>): Promise<TokenAnswer> {
  try {
    await send();
    return 'SENT';
  } catch (error) {
    if (classifyError(error) === 'TOKEN_GONE') {
      return 'TOKEN_GONE';
    }
    throw error;
  }
}

/** Keeps the watch's task alive; TOKEN_GONE when its execution is over. Other errors propagate. */
export function sendHeartbeat(taskToken: string): Promise<TokenAnswer> {
  return answer(() => sfnClient().send(new SendTaskHeartbeatCommand({ taskToken })));
}

/** Ends the watch's task with the watch state as its output. */
export function sendWatchSuccess(taskToken: string, watch: WatchState): Promise<TokenAnswer> {
  return answer(() => succeedTask(sfnClient(), taskToken, JSON.stringify(watch)));
}

/** Step Functions' limits for SendTaskFailure's error and cause. */
export const ERROR_NAME_MAX = 256;
export const ERROR_CAUSE_MAX = 32_768;

/** Fails the watch's task with the error the check threw, as a failed Lambda task would have. */
export function sendWatchFailure(taskToken: string, error: unknown): Promise<TokenAnswer> {
  const { name, message } = describeError(error);
  return answer(() =>
    failTask(sfnClient(), taskToken, {
      error: name.slice(0, ERROR_NAME_MAX),
      cause: message.slice(0, ERROR_CAUSE_MAX),
    }),
  );
}

export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) {
    return { name: error.name || 'Error', message: error.message };
  }
  return { name: 'Error', message: String(error) };
}
