import type { Context } from 'aws-lambda';
import {
  classifyError,
  describeError,
  MAX_TRANSIENT_RETRIES,
  retryDelayMs,
  type ScheduleSettings,
  scheduleCheck,
  scheduledTime,
  scheduleSettings,
  sendHeartbeat,
  sendWatchFailure,
  sendWatchSuccess,
  type WatchEvent,
  type WatchTrigger,
} from '../aws/watch-schedule.js';
import { InvalidHandlerEventError, SearchTooLongError } from '../domain/errors.js';
import type { WatchState } from '../domain/types.js';
import { expectedDeletionAt, pendingWatchDeadline } from '../domain/watch.js';
import { logger } from './logger.js';
import { checkSearchBound, runCheck, type ValidCheckEvent } from './run-check.js';

/**
 * The watch's chain of checks: each check runs when a one-time schedule invokes the function, then
 * answers the watch's task token (breakage or done) or schedules the next check.
 */

export type ValidWatchEvent = ValidCheckEvent & WatchEvent;

export type WatchChainOutcome =
  | 'SCHEDULED'
  | 'CONTINUED'
  | 'RETRY_SCHEDULED'
  | 'ANSWERED'
  | 'FAILED'
  | 'TOKEN_GONE';

/** What a start or scheduled check did (Step Functions ignores it; logs and the simulator read it). */
export interface WatchChainResult {
  readonly outcome: WatchChainOutcome;
  /** The schedule of the next check (SCHEDULED, RETRY_SCHEDULED) or of this check's continuation (CONTINUED). */
  readonly scheduled?: string | undefined;
  /** When it runs (ISO, `Z`). */
  readonly at?: string | undefined;
  /** The error the watch failed with (FAILED). */
  readonly error?: string | undefined;
  readonly broke?: boolean | undefined;
  readonly done?: boolean | undefined;
}

/** Whom a start or schedule event answers: the token, and the transient failures of this check so far. */
export interface WatchEnvelope {
  readonly trigger: WatchTrigger;
  readonly taskToken: string;
  readonly attempt: number;
}

/** Reads the event's watch fields; throws InvalidHandlerEventError when they break the contract. */
export type ParseWatchEvent = () => ValidWatchEvent;

function targetOf(context: Context | undefined): string {
  const arn = context?.invokedFunctionArn;
  if (!arn) {
    throw new InvalidHandlerEventError(
      'Check was invoked without context.invokedFunctionArn: the next check has no target.',
    );
  }
  // Scheduler's role may invoke the function itself; a version or alias the caller named is dropped.
  return arn.split(':').slice(0, 7).join(':');
}

/** When the pending watch must have answered (ScheduleDeletion set the task's timeout to it). */
function pendingDeadlineOf(event: ValidWatchEvent): Date {
  const deletion = event.deletion;
  const scheduledAt = deletion ? new Date(deletion.scheduledAt) : new Date();
  const deletionDate = deletion?.deletionDate ? new Date(deletion.deletionDate) : null;
  const plan = event.assessment.plan;
  return pendingWatchDeadline(expectedDeletionAt(scheduledAt, deletionDate, plan));
}

/** The watch's task-token state: schedules the first check. Any failure throws, so the task fails and the workflow restores the key. */
export async function startWatchChain(
  parse: ParseWatchEvent,
  envelope: WatchEnvelope,
  context: Context,
): Promise<WatchChainResult> {
  const event = parse();
  const targetArn = targetOf(context);
  const settings = scheduleSettings();
  const scheduled = await scheduleCheck({
    event,
    watch: event.watch,
    attempt: 0,
    at: new Date(event.watch.nextCheckAt),
    now: new Date(),
    targetArn,
    settings,
  });
  logger.info('watch started', {
    phase: event.phase,
    executionArn: event.executionArn,
    trigger: envelope.trigger,
    schedule: scheduled.name,
    at: scheduled.at,
    created: scheduled.created,
  });
  return { outcome: 'SCHEDULED', scheduled: scheduled.name, at: scheduled.at };
}

/**
 * A scheduled check: heartbeats the token, runs the check and answers the token (breakage or done),
 * schedules the next check, retries a transient failure by schedule, or fails the token with the
 * check's error.
 */
export async function continueWatchChain(
  parse: ParseWatchEvent,
  envelope: WatchEnvelope,
  context: Context,
): Promise<WatchChainResult> {
  const { taskToken, attempt } = envelope;
  const now = new Date();
  let event: ValidWatchEvent | undefined;
  let settings: ScheduleSettings | undefined;
  let targetArn: string | undefined;
  let next: WatchState;
  try {
    event = parse();
    targetArn = targetOf(context);
    settings = scheduleSettings();
    if ((await sendHeartbeat(taskToken)) === 'TOKEN_GONE') {
      return tokenGone(event, 'SendTaskHeartbeat');
    }
    next = await runCheck(event, now, checkSearchBound(context, event.assessment.plan));
  } catch (error) {
    const kind = classifyError(error);
    if (kind === 'TOKEN_GONE') {
      return tokenGone(event, 'SendTaskHeartbeat');
    }
    if (kind === 'TRANSIENT' && event && settings && targetArn && attempt < MAX_TRANSIENT_RETRIES) {
      return retryLater(event, attempt, error, settings, targetArn);
    }
    const failure = kind === 'TRANSIENT' ? withTries(error, attempt + 1) : error;
    return failWatch(taskToken, failure, event);
  }

  // The check ran; what is left is telling the workflow. An error here that is not "the execution is
  // over" goes to the token as a failure: the restore then runs within minutes instead of after the
  // heartbeat, which matters most when the key just broke.
  try {
    if (next.resume) {
      return await continueSearch(event, next, settings, targetArn);
    }
    // A key changed by someone else ends the watch too, with the evidence this check searched first.
    if (next.broke || next.done || next.keyChange) {
      if ((await sendWatchSuccess(taskToken, next)) === 'TOKEN_GONE') {
        return tokenGone(event, 'SendTaskSuccess');
      }
      logger.info('watch answered', {
        phase: event.phase,
        executionArn: event.executionArn,
        broke: next.broke,
        done: next.done,
        keyChange: next.keyChange,
      });
      return { outcome: 'ANSWERED', broke: next.broke, done: next.done };
    }
    const scheduled = await scheduleCheck({
      event,
      watch: next,
      attempt: 0,
      at: new Date(next.nextCheckAt),
      now: new Date(),
      targetArn,
      settings,
    });
    logger.info('next check scheduled', {
      phase: event.phase,
      executionArn: event.executionArn,
      schedule: scheduled.name,
      at: scheduled.at,
      created: scheduled.created,
    });
    return { outcome: 'SCHEDULED', scheduled: scheduled.name, at: scheduled.at, broke: false, done: false };
  } catch (error) {
    if (classifyError(error) === 'TOKEN_GONE') {
      return tokenGone(event, 'SendTaskSuccess');
    }
    const failure = restated(error, (message) =>
      next.broke
        ? `The check found breakage (${next.evidenceCount} failed calls) but could not report it: ${message}`
        : `The check could not continue the watch: ${message}`,
    );
    return failWatch(taskToken, failure, event);
  }
}

/**
 * The check's search ran out of the invocation's time: the same check goes on at once, from where
 * it stopped, in the next invocation (the heartbeat each scheduled check sends keeps the token
 * alive). The search's limit (one check interval) ends a search that cannot finish; in the pending
 * window a continuation past the watch's deadline fails the watch instead, so the restore still
 * cancels the deletion while the key exists.
 */
async function continueSearch(
  event: ValidWatchEvent,
  next: WatchState,
  settings: ScheduleSettings,
  targetArn: string,
): Promise<WatchChainResult> {
  const now = new Date();
  const resume = next.resume;
  if (
    resume &&
    event.phase === 'PENDING' &&
    scheduledTime(now, now).getTime() >= pendingDeadlineOf(event).getTime()
  ) {
    throw new SearchTooLongError(
      `The pending check's search of log group ${resume.logGroupName} is not done after ${resume.invocations} ` +
        `invocations (${resume.pages} pages), and its next part would run after the pending watch's deadline: ` +
        'the deletion is cancelled rather than left to a check that cannot finish in time.',
    );
  }
  const scheduled = await scheduleCheck({
    event,
    watch: next,
    attempt: 0,
    at: now,
    now,
    targetArn,
    settings,
  });
  logger.info('check search continues', {
    phase: event.phase,
    executionArn: event.executionArn,
    schedule: scheduled.name,
    at: scheduled.at,
    invocations: resume?.invocations,
    pages: resume?.pages,
  });
  return { outcome: 'CONTINUED', scheduled: scheduled.name, at: scheduled.at };
}

/** The same check (same watch) again later: a transient error says nothing about the key. */
async function retryLater(
  event: ValidWatchEvent,
  attempt: number,
  error: unknown,
  settings: ScheduleSettings,
  targetArn: string,
): Promise<WatchChainResult> {
  const now = new Date();
  const retryAt = new Date(now.getTime() + retryDelayMs(attempt));
  if (event.phase === 'PENDING' && retryAt.getTime() >= pendingDeadlineOf(event).getTime()) {
    // A retry that late would leave no time to cancel the deletion: fail the watch now, so the
    // restore cancels it while the key still exists.
    return failWatch(event.taskToken, error, event);
  }
  const scheduled = await scheduleCheck({
    event,
    watch: event.watch,
    attempt: attempt + 1,
    at: retryAt,
    now,
    targetArn,
    settings,
  });
  logger.warn('check failed transiently, retry scheduled', {
    phase: event.phase,
    executionArn: event.executionArn,
    error: describeError(error),
    attempt: attempt + 1,
    schedule: scheduled.name,
    at: scheduled.at,
  });
  return { outcome: 'RETRY_SCHEDULED', scheduled: scheduled.name, at: scheduled.at };
}

/** The error under its own name (the watch fails with it) and a message that says what it stopped. */
function restated(error: unknown, say: (message: string) => string): Error {
  const { name, message } = describeError(error);
  const restatedError = new Error(say(message));
  restatedError.name = name;
  return restatedError;
}

/** A transient error that outlasted every retry: its name stays, the message says how often it came. */
function withTries(error: unknown, tries: number): Error {
  return restated(
    error,
    (message) => `The check failed ${tries} times in a row; the last failure: ${message}`,
  );
}

async function failWatch(
  taskToken: string,
  error: unknown,
  event: ValidWatchEvent | undefined,
): Promise<WatchChainResult> {
  const { name, message } = describeError(error);
  if ((await sendWatchFailure(taskToken, error)) === 'TOKEN_GONE') {
    return tokenGone(event, 'SendTaskFailure');
  }
  logger.warn('watch failed', {
    phase: event?.phase,
    executionArn: event?.executionArn,
    error: { name, message },
  });
  return { outcome: 'FAILED', error: name };
}

/** The execution is over (ended, stopped, timed out): nobody waits for this chain any more. */
function tokenGone(event: ValidWatchEvent | undefined, call: string): WatchChainResult {
  logger.info('watch token gone, chain ends', {
    phase: event?.phase,
    executionArn: event?.executionArn,
    call,
  });
  return { outcome: 'TOKEN_GONE' };
}
