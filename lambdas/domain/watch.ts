import { WatchScheduleError } from './errors.js';
import { DAY_MS, HOUR_MS } from './time.js';
import type { Evidence, WatchPlan, WatchState } from './types.js';

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
 * The last pending check runs this long before the deletion: a deleted key cannot be saved, so
 * the check (and a CancelKeyDeletion after it) must finish while the key still exists.
 */
export function pendingSafetyMarginMs(plan: WatchPlan): number {
  return Math.min(plan.checkIntervalSeconds * 1000, HOUR_MS);
}

export function lastPendingCheckAt(deletionAt: Date, plan: WatchPlan): Date {
  return addMs(deletionAt, -pendingSafetyMarginMs(plan));
}

/**
 * The pending watch must have answered by this instant, half a margin before the deletion: later, a
 * chain that stalled (Scheduler, Lambda, throttling) would leave no time to cancel the deletion, so
 * Step Functions times the watch out here and the restore cancels it while the key still exists.
 */
export function pendingWatchDeadline(deletionAt: Date, plan: WatchPlan): Date {
  return addMs(deletionAt, -pendingSafetyMarginMs(plan) / 2);
}

/** Seconds from `now` to the pending watch's deadline (at least a minute: Step Functions needs a positive timeout). */
export function pendingWatchTimeoutSeconds(now: Date, deletionAt: Date, plan: WatchPlan): number {
  return Math.max(60, Math.floor((pendingWatchDeadline(deletionAt, plan).getTime() - now.getTime()) / 1000));
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
 * PENDING: every interval, the last check at deletion - min(interval, 1 h); done once that
 * check has run.
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
  const lastAt = lastPendingCheckAt(expectedDeletionAt(ctx.scheduledAt, ctx.deletionDate, plan), plan);
  if (now.getTime() >= lastAt.getTime()) {
    return { nextCheckAt: iso(now), done: true };
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
    const lastAt = lastPendingCheckAt(expectedDeletionAt(now, args.deletionDate, plan), plan);
    nextCheckAt = later(earlier(addMs(now, interval), lastAt), now);
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
}

/**
 * The state after a check at `ctx.now`: cursor moves to now, evidence and counts accumulate
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
    cursor: iso(ctx.now),
    seenEventIds: [...findings.seenEventIds],
    checks: previous.checks + 1,
    nextCheckAt: next.nextCheckAt,
    done: next.done,
    broke: previous.broke || findings.evidence.length > 0,
    evidence,
    evidenceCount: previous.evidenceCount + findings.evidence.length,
    scanned: previous.scanned + findings.scanned,
    reportText: findings.reportText,
    subject: findings.subject,
  };
}
