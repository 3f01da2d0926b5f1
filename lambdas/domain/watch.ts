import { WatchScheduleError } from './errors.js';
import { DAY_MS, MINUTE_MS } from './time.js';
import type { Evidence, KeyChange, WatchPlan, WatchState } from './types.js';

/**
 * When the watch checks next and when it is over: the observation's checks, the final check, and
 * the checks of the pending window. Pure: the caller passes the time.
 */

/** Evidence kept in the state; the count goes on (state is limited to 256 KB in Step Functions). */
export const MAX_EVIDENCE_IN_STATE = 20;

export type WatchPhase = WatchState['phase'];

/** ISO-8601 with `Z`, as Step Functions' TimestampPath requires. */
export function iso(date: Date): string {
  return date.toISOString();
}

function addMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

function later(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

function earlier(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/**
 * Does a check of this phase decide (FinalCheck, and each pending check, after which the key may be
 * deleted)? A decision searches the whole hold, so no record that reached the source before it is
 * missed however late it was delivered; an observation check searches only what is new.
 */
export function isDecisionCheck(phase: WatchPhase): boolean {
  return phase !== 'OBSERVE';
}

/** End of the observation: the disable time plus the observation period. */
export function observationEnd(disabledAt: Date, plan: WatchPlan): Date {
  return addMs(disabledAt, plan.observationDays * DAY_MS);
}

/**
 * When FinalCheck runs: after the observation and the ingestion lag, so records of calls made
 * in the observation's last minutes have reached the log group.
 */
export function finalCheckAt(disabledAt: Date, plan: WatchPlan): Date {
  return addMs(observationEnd(disabledAt, plan), plan.ingestionLagSeconds * 1000);
}

/**
 * When KMS deletes the key. A multi-Region primary waiting for its replicas
 * (PendingReplicaDeletion) has no DeletionDate yet; its window starts later than scheduling, so
 * the earliest possible date, scheduledAt + window, is the safe assumption.
 */
export function expectedDeletionAt(
  scheduledAt: Date,
  deletionDate: Date | null | undefined,
  plan: WatchPlan,
): Date {
  return deletionDate ?? addMs(scheduledAt, plan.pendingWindowInDays * DAY_MS);
}

/**
 * What the restore step may need to cancel the deletion once the pending watch has answered or timed
 * out: a few seconds normally, up to its retries of throttled KMS calls (lambdaStep retries transient
 * errors for about five minutes) and a margin for Step Functions itself.
 */
export const PENDING_CANCEL_MS = 15 * MINUTE_MS;

/** From a scheduled check's time to its answer: Scheduler's lateness (about a minute), the search and the answer. */
export const CHECK_ANSWER_MS = 5 * MINUTE_MS;

/**
 * The last pending check runs this long before the deletion: as late as it can still act (it must
 * answer, and a CancelKeyDeletion after it must land, while the key still exists). Records that reach
 * the log group after it are left to the fast path, which stays active until the deletion date.
 */
export const LAST_PENDING_CHECK_LEAD_MS = PENDING_CANCEL_MS + CHECK_ANSWER_MS;

export function lastPendingCheckAt(deletionAt: Date): Date {
  return addMs(deletionAt, -LAST_PENDING_CHECK_LEAD_MS);
}

/**
 * The pending watch must have answered by this instant, after its last check and PENDING_CANCEL_MS
 * before the deletion: later, a chain that stalled (Scheduler, Lambda, throttling) would leave no time
 * to cancel the deletion, so Step Functions times the watch out here and the restore cancels it while
 * the key still exists.
 */
export function pendingWatchDeadline(deletionAt: Date): Date {
  return addMs(deletionAt, -PENDING_CANCEL_MS);
}

/** Seconds from `now` to the pending watch's deadline (at least a minute: Step Functions needs a positive timeout). */
export function pendingWatchTimeoutSeconds(now: Date, deletionAt: Date): number {
  return Math.max(60, Math.floor((pendingWatchDeadline(deletionAt).getTime() - now.getTime()) / 1000));
}

/** What the schedule needs to know about the execution. */
export interface ScheduleContext {
  readonly now: Date;
  readonly plan: WatchPlan;
  /** OBSERVE and FINAL: when this execution disabled the key. */
  readonly disabledAt?: Date | undefined;
  /** PENDING: when deletion was scheduled and the DeletionDate KMS answered (null: PendingReplicaDeletion). */
  readonly scheduledAt?: Date | undefined;
  readonly deletionDate?: Date | null | undefined;
  /**
   * PENDING: how long this check's search took, from its first invocation's start to the end of its
   * last page. A busy group's search is split, and the last pending check must start early enough
   * for its continuations to finish before the watch's deadline.
   */
  readonly searchMs?: number | undefined;
}

export interface NextCheck {
  readonly nextCheckAt: string;
  readonly done: boolean;
}

/**
 * After a check at `now`: when the next one runs and whether this phase is over.
 *
 * OBSERVE: every interval, the last check exactly at observation end (never later), then the watch
 * is done and the workflow waits until observation end + lag for FinalCheck. The last check's
 * canary is then one lag old when FinalCheck runs, so FinalCheck can require its record (the
 * watch proves it can see). FINAL: always done.
 * PENDING: every interval, the last check LAST_PENDING_CHECK_LEAD_MS before the deletion (earlier by
 * twice the time a split search took); done once that check has run, with `nextCheckAt` at the
 * deletion date (the execution waits for it).
 */
export function scheduleNext(phase: WatchPhase, ctx: ScheduleContext): NextCheck {
  const { now, plan } = ctx;
  const interval = plan.checkIntervalSeconds * 1000;
  if (phase === 'FINAL') {
    return { nextCheckAt: iso(now), done: true };
  }
  if (phase === 'OBSERVE') {
    if (!ctx.disabledAt) {
      throw new WatchScheduleError('OBSERVE needs the time the key was disabled.');
    }
    const end = observationEnd(ctx.disabledAt, plan);
    if (now.getTime() >= end.getTime()) {
      return { nextCheckAt: iso(later(finalCheckAt(ctx.disabledAt, plan), now)), done: true };
    }
    return { nextCheckAt: iso(earlier(addMs(now, interval), end)), done: false };
  }
  if (!ctx.scheduledAt) {
    throw new WatchScheduleError('PENDING needs the time deletion was scheduled.');
  }
  const deletionAt = expectedDeletionAt(ctx.scheduledAt, ctx.deletionDate, plan);
  // The next search reads a little more than this one: twice this one's time is its margin.
  const lastAt = addMs(lastPendingCheckAt(deletionAt), -2 * (ctx.searchMs ?? 0));
  if (now.getTime() >= lastAt.getTime()) {
    // The execution waits until the deletion date, so the fast path (which acts only for a running
    // execution) guards the key to the end; then one more check sees how the key ended.
    return { nextCheckAt: iso(later(deletionAt, now)), done: true };
  }
  return { nextCheckAt: iso(earlier(addMs(now, interval), lastAt)), done: false };
}

export interface StartWatchArgs {
  readonly now: Date;
  readonly plan: WatchPlan;
  /** PENDING: the DeletionDate KMS answered; null for PendingReplicaDeletion. */
  readonly deletionDate?: Date | null;
  /**
   * Where the first window starts (default `now`). ScheduleDeletion passes the previous watch's
   * cursor so records made while the deletion approval was pending are searched too.
   */
  readonly since?: Date;
}

/**
 * The first cursor of a watch: OBSERVE right after DisableKey (`now` = disable time), PENDING
 * right after ScheduleKeyDeletion (`now` = scheduling time). The first check always runs, even
 * when the period is shorter than one interval.
 */
export function startWatch(phase: 'OBSERVE' | 'PENDING', args: StartWatchArgs): WatchState {
  const { now, plan } = args;
  const interval = plan.checkIntervalSeconds * 1000;
  let nextCheckAt: Date;
  if (phase === 'OBSERVE') {
    nextCheckAt = earlier(addMs(now, interval), observationEnd(now, plan));
  } else {
    const lastAt = lastPendingCheckAt(expectedDeletionAt(now, args.deletionDate, plan));
    // Without a DeletionDate (PendingReplicaDeletion) the key has replicas the watch cannot see and no
    // end it can wait for: the first check runs at once, so that it stops the watch at once.
    nextCheckAt = args.deletionDate === null ? now : later(earlier(addMs(now, interval), lastAt), now);
  }
  return {
    phase,
    cursor: iso(args.since ?? now),
    seenEventIds: [],
    checks: 0,
    nextCheckAt: iso(nextCheckAt),
    done: false,
    broke: false,
    evidence: [],
    evidenceCount: 0,
    scanned: 0,
    reportText: '',
    subject: '',
  };
}

/** What one check found. */
export interface CheckFindings {
  readonly seenEventIds: readonly string[];
  /** Fresh evidence of this check only. */
  readonly evidence: readonly Evidence[];
  readonly scanned: number;
  readonly reportText: string;
  readonly subject: string;
  /** The key as the check read it (`NotFound` once KMS deleted it). */
  readonly keyState?: string | undefined;
  /** The key was changed by someone else: the watch ends, with what this check found. */
  readonly keyChange?: KeyChange | undefined;
  /**
   * Where the check's window ended (default `ctx.now`): earlier than now when its search was split
   * across invocations, and the next window must go on from there, not from the check's last one.
   */
  readonly searchedTo?: Date | undefined;
}

/**
 * The state after a check at `ctx.now`: cursor moves to where its window ended (now), evidence and counts accumulate
 * (evidence capped at MAX_EVIDENCE_IN_STATE, the count is exact), and the schedule advances.
 * `broke` never goes back to false once set.
 */
export function advanceWatch(
  previous: WatchState,
  phase: WatchPhase,
  ctx: ScheduleContext,
  findings: CheckFindings,
): WatchState {
  const next = scheduleNext(phase, ctx);
  const evidence = [...previous.evidence, ...findings.evidence].slice(0, MAX_EVIDENCE_IN_STATE);
  return {
    phase,
    cursor: iso(findings.searchedTo ?? ctx.now),
    seenEventIds: [...findings.seenEventIds],
    checks: previous.checks + 1,
    nextCheckAt: next.nextCheckAt,
    done: next.done,
    // Evidence on a key that no longer exists is reported, but there is nothing left to give back.
    broke: previous.broke || (findings.evidence.length > 0 && findings.keyState !== 'NotFound'),
    evidence,
    evidenceCount: previous.evidenceCount + findings.evidence.length,
    scanned: previous.scanned + findings.scanned,
    reportText: findings.reportText,
    subject: findings.subject,
    ...(findings.keyState === undefined ? {} : { keyState: findings.keyState }),
    // Absent, not null, when nothing changed: the workflow's verdict tests its presence.
    ...(findings.keyChange ? { keyChange: findings.keyChange } : {}),
  };
}
