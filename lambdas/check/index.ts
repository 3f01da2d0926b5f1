import { GetKeyLastUsageCommand } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { sendCanary } from '../aws/canary.js';
import { proveEarlierCanaries } from '../aws/canary-proof.js';
import { homeRegion, kmsClient } from '../aws/clients.js';
import { findRecords } from '../aws/cloudtrail-source.js';
import { readKey } from '../aws/key-reader.js';
import { createLogger } from '../aws/logger.js';
import {
  classifyError,
  describeError,
  MAX_TRANSIENT_RETRIES,
  retryDelayMs,
  type ScheduleSettings,
  scheduleCheck,
  scheduleSettings,
  sendHeartbeat,
  sendWatchFailure,
  sendWatchSuccess,
  type WatchEvent,
  type WatchTrigger,
} from '../aws/watch-schedule.js';
import { checkEventSchema, watchEnvelopeSchema, watchFieldsSchema } from '../contracts/events.js';
import { addCanary, isWorkflowRecord, parseCanaries } from '../domain/canary.js';
import { type KeyRef, type RecordKind, toEvidence } from '../domain/cloudtrail.js';
import { checkContract } from '../domain/contract.js';
import { EventSourceUnavailableError, InvalidHandlerEventError } from '../domain/errors.js';
import { evidenceReport, type Message, observationReport, progressNote } from '../domain/report-message.js';
import type { CheckEvent, Evidence, KeyFacts, LastUsage, WatchPlan, WatchState } from '../domain/types.js';
import {
  advanceWatch,
  expectedDeletionAt,
  pendingWatchDeadline,
  type ScheduleContext,
  verifyWatchedKey,
} from '../domain/watch.js';
import { dedupe, nextWindow } from '../domain/window.js';

const logger = createLogger('check');

type ValidCheckEvent = CheckEvent & {
  readonly assessment: CheckEvent['assessment'] & { readonly key: KeyFacts; readonly plan: WatchPlan };
};

function parseCheckEvent(event: unknown): ValidCheckEvent {
  checkContract(checkEventSchema, 'Check received an event that breaks its contract', event);
  try {
    parseCanaries((event as CheckEvent).watch.canaries);
  } catch (error) {
    throw new InvalidHandlerEventError(`Check received an event that breaks its contract: ${String(error)}`);
  }
  // The schema checked every field this handler reads; the contract type describes the rest.
  return event as ValidCheckEvent;
}

function kindOf(phase: WatchState['phase']): RecordKind {
  return phase === 'PENDING' ? 'PENDING_USE' : 'BREAKAGE';
}

/**
 * GetKeyLastUsage after the observation: a successful cryptographic use after the disable means
 * someone re-enabled the key, used it and disabled it again, or the disable never took: either
 * way the key is needed and the quiet CloudTrail search does not prove otherwise.
 */
async function lastUsageAfterDisable(
  key: KeyFacts,
  disabledAt: Date,
): Promise<{ lastUsage: LastUsage | null; trackingStartDate?: string; evidence: Evidence | null }> {
  const answer = await kmsClient(key.region).send(new GetKeyLastUsageCommand({ KeyId: key.keyArn }));
  const trackingStartDate = answer.TrackingStartDate?.toISOString();
  const used = answer.KeyLastUsage;
  if (!used?.Timestamp || !used.Operation) {
    return { lastUsage: null, trackingStartDate, evidence: null };
  }
  const lastUsage: LastUsage = {
    operation: used.Operation,
    timestamp: used.Timestamp.toISOString(),
    cloudTrailEventId: used.CloudTrailEventId,
    kmsRequestId: used.KmsRequestId,
  };
  if (used.Timestamp.getTime() <= disabledAt.getTime()) {
    return { lastUsage, trackingStartDate, evidence: null };
  }
  return {
    lastUsage,
    trackingStartDate,
    evidence: {
      eventID: used.CloudTrailEventId ?? used.KmsRequestId ?? 'unknown',
      eventTime: lastUsage.timestamp,
      eventName: used.Operation,
      errorCode: '',
      principal: 'unknown (from GetKeyLastUsage)',
      sourceIPAddress: 'unknown',
      userAgent: 'unknown',
    },
  };
}

/**
 * One check of OBSERVE (CheckForBreakage), FINAL (FinalCheck) or PENDING (CheckPendingUse).
 *
 * Re-reads the key (it must still be as this execution left it), searches the CloudTrail log
 * group from the cursor, less the ingestion lag, to now for failed calls on the key, and returns
 * the advanced watch. FinalCheck also asks GetKeyLastUsage. Errors propagate: a check that could
 * not run must never count as a quiet one.
 */
async function runCheck(event: ValidCheckEvent, now: Date): Promise<WatchState> {
  const { phase, executionArn, watch } = event;
  const facts = event.assessment.key;
  const plan = event.assessment.plan;
  const key: KeyRef = { keyId: facts.keyId, keyArn: facts.keyArn, aliases: facts.aliases };
  const disabledAt = new Date(event.disable.disabledAt);

  const current = await readKey(facts.keyArn, facts.region);
  verifyWatchedKey(
    phase,
    { keyState: current.metadata.KeyState ?? 'Unknown', tags: current.tags },
    executionArn,
  );

  const cursor = new Date(watch.cursor);
  const window = nextWindow(cursor, now, plan.ingestionLagSeconds);
  const found = await findRecords({
    logGroupName: plan.logGroupName,
    region: homeRegion(),
    key,
    start: window.start,
    end: window.end,
    kind: kindOf(phase),
    now,
  });
  if (found.searchedFrom.getTime() > cursor.getTime()) {
    // Part of the time since the last check is older than the log group (re-created) or its
    // retention: records of that stretch can never be seen, so quiet would prove nothing.
    throw new EventSourceUnavailableError(
      `Log group ${plan.logGroupName} can only show records from ${found.searchedFrom.toISOString()}, but the watch needs them from ${cursor.toISOString()}.`,
    );
  }
  // Remember IDs a little further back than the next window reaches: a late record's log timestamp
  // can be later than its eventTime.
  const keepSince = new Date(now.getTime() - 2 * plan.ingestionLagSeconds * 1000);
  const { fresh, seen } = dedupe(found.records, watch.seenEventIds, keepSince);
  const principals = plan.workflowPrincipalArns ?? [];
  let canaries = parseCanaries(watch.canaries);
  const evidence = fresh.filter((record) => !isWorkflowRecord(record, canaries, principals)).map(toEvidence);

  let usage: Awaited<ReturnType<typeof lastUsageAfterDisable>> | null = null;
  if (phase === 'FINAL') {
    usage = await lastUsageAfterDisable(facts, disabledAt);
    if (usage.evidence) {
      evidence.push(usage.evidence);
    }
  }

  // Quiet proves nothing unless the source shows the workflow's own failing calls. Evidence already
  // found decides on its own (the key goes back either way, and the evidence is the better e-mail).
  let newlySeen = 0;
  if (evidence.length === 0) {
    const proof = await proveEarlierCanaries({
      key,
      canaries,
      logGroupName: plan.logGroupName,
      lagSeconds: plan.ingestionLagSeconds,
      now,
      workflowPrincipalArns: principals,
      // FinalCheck waits for the last observation check's canary, made one lag before it.
      requireRecentProof: phase === 'FINAL',
      searched: { since: window.start, records: found.records, ingestedAt: found.ingestedAt },
    });
    canaries = proof.canaries;
    newlySeen = proof.newlySeen;
  }

  const ctx: ScheduleContext = {
    now,
    plan,
    disabledAt,
    scheduledAt: event.deletion ? new Date(event.deletion.scheduledAt) : undefined,
    deletionDate: event.deletion?.deletionDate ? new Date(event.deletion.deletionDate) : null,
  };
  const draft = advanceWatch(watch, phase, ctx, {
    seenEventIds: seen,
    evidence,
    scanned: found.scanned,
    reportText: '',
    subject: '',
  });
  const message = messageFor(draft, event, now, key, usage);
  // The next canary, for a later check to prove; none after breakage, and none after the last
  // pending check, which no check would ever look for.
  if (!draft.broke && !(phase === 'PENDING' && draft.done)) {
    canaries = addCanary(
      canaries,
      await sendCanary(facts, phase === 'PENDING' ? 'PENDING_DELETION' : 'DISABLED', now),
    );
  }
  const next: WatchState = {
    ...draft,
    reportText: message.text,
    subject: message.subject,
    canaries,
    canariesSeen: (watch.canariesSeen ?? 0) + newlySeen,
  };

  logger.info('check done', {
    phase,
    keyArn: facts.keyArn,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    scanned: found.scanned,
    unparseable: found.unparseable,
    matched: found.records.length,
    fresh: fresh.length,
    evidence: evidence.length,
    broke: next.broke,
    done: next.done,
    nextCheckAt: next.nextCheckAt,
    canariesSeen: next.canariesSeen,
    canariesPending: canaries.filter((c) => !c.seen).length,
  });
  return next;
}

export type WatchChainOutcome = 'SCHEDULED' | 'RETRY_SCHEDULED' | 'ANSWERED' | 'FAILED' | 'TOKEN_GONE';

/** What a start or scheduled check did (Step Functions ignores it; logs and the simulator read it). */
export interface WatchChainResult {
  readonly outcome: WatchChainOutcome;
  /** The schedule of the next check (SCHEDULED, RETRY_SCHEDULED). */
  readonly scheduled?: string | undefined;
  /** When it runs (ISO, `Z`). */
  readonly at?: string | undefined;
  /** The error the watch failed with (FAILED). */
  readonly error?: string | undefined;
  readonly broke?: boolean | undefined;
  readonly done?: boolean | undefined;
}

const WATCH_EVENT_BROKEN = 'Check received a watch event that breaks its contract';

interface WatchEnvelope {
  readonly trigger: WatchTrigger;
  readonly taskToken: string;
  readonly attempt: number;
}

/**
 * Whom a start or schedule event answers. Without a usable token nobody can be told, so this throws;
 * every later contract error is sent to the token.
 */
function parseWatchEnvelope(event: unknown): WatchEnvelope {
  const envelope = checkContract<WatchEvent>(watchEnvelopeSchema, WATCH_EVENT_BROKEN, event);
  return { trigger: envelope.trigger, taskToken: envelope.taskToken, attempt: envelope.attempt ?? 0 };
}

function parseWatchEvent(event: unknown): ValidWatchEvent {
  checkContract(watchFieldsSchema, WATCH_EVENT_BROKEN, event);
  // The envelope and the two schemas checked every field the chain reads.
  return parseCheckEvent(event) as ValidWatchEvent;
}

type ValidWatchEvent = ValidCheckEvent & WatchEvent;

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
  return pendingWatchDeadline(expectedDeletionAt(scheduledAt, deletionDate, plan), plan);
}

/**
 * Three ways in (WATCH.md):
 * - no `trigger`: one synchronous check (FinalCheck), returning the advanced WatchState;
 * - `trigger: 'start'`: the watch's task-token state; schedules the first check at `watch.nextCheckAt`.
 *   Any failure throws, so the task fails and the workflow restores the key;
 * - `trigger: 'schedule'`: a scheduled check; heartbeats the token, runs the check and answers the token
 *   (breakage or done), schedules the next check, retries a transient failure by schedule, or fails the
 *   token with the check's error.
 */
export function handler(event: WatchEvent, context: Context): Promise<WatchChainResult>;
export function handler(event: CheckEvent, context: Context): Promise<WatchState>;
export async function handler(
  rawEvent: CheckEvent | WatchEvent,
  context: Context,
): Promise<WatchState | WatchChainResult> {
  const trigger: unknown =
    typeof rawEvent === 'object' && rawEvent !== null
      ? (rawEvent as { trigger?: unknown }).trigger
      : undefined;
  if (trigger === undefined) {
    return runCheck(parseCheckEvent(rawEvent), new Date());
  }
  const envelope = parseWatchEnvelope(rawEvent);
  if (envelope.trigger === 'start') {
    return startWatchChain(rawEvent, envelope, context);
  }
  return continueWatchChain(rawEvent, envelope, context);
}

async function startWatchChain(
  rawEvent: unknown,
  envelope: WatchEnvelope,
  context: Context,
): Promise<WatchChainResult> {
  const event = parseWatchEvent(rawEvent);
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

async function continueWatchChain(
  rawEvent: unknown,
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
    event = parseWatchEvent(rawEvent);
    targetArn = targetOf(context);
    settings = scheduleSettings();
    if ((await sendHeartbeat(taskToken)) === 'TOKEN_GONE') {
      return tokenGone(event, 'SendTaskHeartbeat');
    }
    next = await runCheck(event, now);
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
    if (next.broke || next.done) {
      if ((await sendWatchSuccess(taskToken, next)) === 'TOKEN_GONE') {
        return tokenGone(event, 'SendTaskSuccess');
      }
      logger.info('watch answered', {
        phase: event.phase,
        executionArn: event.executionArn,
        broke: next.broke,
        done: next.done,
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

function messageFor(
  state: WatchState,
  event: ValidCheckEvent,
  now: Date,
  key: KeyRef,
  usage: { lastUsage: LastUsage | null; trackingStartDate?: string } | null,
): Message {
  const { phase, executionArn } = event;
  if (state.broke) {
    return evidenceReport({
      key,
      executionArn,
      phase,
      evidence: state.evidence,
      evidenceCount: state.evidenceCount,
      now,
    });
  }
  if (phase === 'FINAL') {
    return observationReport({
      key,
      executionArn,
      plan: event.assessment.plan,
      disabledAt: new Date(event.disable.disabledAt),
      now,
      checks: state.checks,
      scanned: state.scanned,
      lastUsage: usage?.lastUsage ?? null,
      trackingStartDate: usage?.trackingStartDate,
    });
  }
  return progressNote({
    key,
    phase,
    checks: state.checks,
    scanned: state.scanned,
    now,
    nextCheckAt: state.nextCheckAt,
    done: state.done,
    deletionDate: event.deletion?.deletionDate,
  });
}
