/**
 * Figure 7: how long before the deletion date a failure goes unanswered. A failing call is injected
 * at a sweep of times before the deletion date of a key in its pending window; a failure is answered
 * when the deletion was cancelled before KMS deleted the key. The figure is the longest stretch
 * before the deletion date holding an unanswered failure: with the fast path it is about the
 * EventBridge lag, with the polling watch alone the trail's delivery lag plus the lead of the last
 * pending check.
 */
import { MINUTE_MS } from '../lambdas/domain/time.js';
import { LAST_PENDING_CHECK_LEAD_MS } from '../lambdas/domain/watch.js';
import { pendingFailureScenario } from './scenarios.js';
import { BenchError, runSimulation } from './simulation.js';

/** Minutes before the deletion date of the coarse sweep; the boundary is then found to the minute. */
const SWEEP_MINUTES = [0, 2, 5, 10, 20, 30, 60, 120] as const;

export interface UnguardedSample {
  /** Minutes before the deletion date the call failed. */
  readonly minutesBefore: number;
  readonly answered: boolean;
  readonly outcome: string;
}

export interface UnguardedSummary {
  /**
   * The longest stretch before the deletion date in which a failure went unanswered, in minutes:
   * every failure earlier than this many minutes before it was answered, one just inside was not.
   */
  readonly minutes: number;
  readonly samples: readonly UnguardedSample[];
}

export interface UnguardedFigures {
  /** The scenario's trail: CloudWatch Logs delivery lag and EventBridge lag, in minutes. */
  readonly deliveryLagMinutes: number;
  readonly eventBridgeLagMinutes: number;
  /** How long before the deletion date the last pending check runs. */
  readonly lastCheckLeadMinutes: number;
  /** EventBridge delivering every record: the fast path beside the polling watch. Null without a fast path. */
  readonly fastPath: UnguardedSummary | null;
  /** Every EventBridge delivery dropped: the polling watch alone. */
  readonly polling: UnguardedSummary;
}

/** The simulator's defaults for a trail the scenario does not describe (lib/simulator/scenario.ts). */
const DEFAULT_DELIVERY_LAG_MINUTES = 5;
const DEFAULT_EVENTBRIDGE_LAG_MINUTES = 2;

async function deletionDateOf(): Promise<number> {
  const quiet = await runSimulation(pendingFailureScenario({ eventBridgeDrop: 0 }), ['DELETION_SCHEDULED']);
  const date = quiet.result.key.deletionDate;
  if (!date || quiet.result.key.finalState !== 'Deleted') {
    throw new BenchError(`the quiet run did not end with the key deleted (${quiet.result.key.finalState})`);
  }
  return Date.parse(date);
}

async function sample(deletionAt: number, minutesBefore: number, eventBridgeDrop: number) {
  const callAt = new Date(deletionAt - minutesBefore * MINUTE_MS).toISOString();
  const run = await runSimulation(pendingFailureScenario({ callAt, eventBridgeDrop }), [
    'DELETION_CANCELLED',
    'DELETION_SCHEDULED',
  ]);
  const { key, outcome } = run.result;
  const restoredAt = key.restoredAt ? Date.parse(key.restoredAt) : Number.POSITIVE_INFINITY;
  const answered =
    outcome === 'DELETION_CANCELLED' && key.finalState !== 'Deleted' && restoredAt < deletionAt;
  return { minutesBefore, answered, outcome };
}

/**
 * The sweep, then bisection to the minute between the latest unanswered and the earliest answered
 * time, and a check that every failure before that boundary was answered (the figure would hide a
 * gap otherwise).
 */
async function unguarded(deletionAt: number, eventBridgeDrop: number): Promise<UnguardedSummary> {
  const samples: UnguardedSample[] = [];
  for (const minutes of SWEEP_MINUTES) {
    samples.push(await sample(deletionAt, minutes, eventBridgeDrop));
  }
  const unanswered = samples.filter((s) => !s.answered).map((s) => s.minutesBefore);
  let lo = unanswered.length > 0 ? Math.max(...unanswered) : -1;
  const answeredAbove = samples.filter((s) => s.answered && s.minutesBefore > lo).map((s) => s.minutesBefore);
  if (answeredAbove.length === 0) {
    throw new BenchError(`no failure up to ${SWEEP_MINUTES.at(-1)} minutes before the deletion was answered`);
  }
  let hi = Math.min(...answeredAbove);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const probe = await sample(deletionAt, mid, eventBridgeDrop);
    samples.push(probe);
    if (probe.answered) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  samples.sort((a, b) => a.minutesBefore - b.minutesBefore);
  return { minutes: hi, samples };
}

export async function measureUnguarded(hasFastPath: boolean): Promise<UnguardedFigures> {
  const deletionAt = await deletionDateOf();
  const polling = await unguarded(deletionAt, 1);
  const fastPath = hasFastPath ? await unguarded(deletionAt, 0) : null;
  return {
    deliveryLagMinutes: DEFAULT_DELIVERY_LAG_MINUTES,
    eventBridgeLagMinutes: DEFAULT_EVENTBRIDGE_LAG_MINUTES,
    lastCheckLeadMinutes: LAST_PENDING_CHECK_LEAD_MS / MINUTE_MS,
    fastPath,
    polling,
  };
}
