/**
 * Figure 1: how many CloudTrail log events the breakage checks read, against the events in the
 * watched window, and the same run's baseline of re-scanning from the disable time at every check.
 *
 * Observation checks search incrementally; FinalCheck searches the whole hold again, so a record
 * delivered later than the ingestion lag is still found (its share is `finalRescanScanned`). Each
 * pending check is a decision too and searches the whole hold: `pending` replays those searches on
 * the same log group, beside the incremental searches they would otherwise have been.
 */
import { buildFilterPattern } from '../lambdas/aws/cloudtrail-source.js';
import { MINUTE_MS } from '../lambdas/domain/time.js';
import { advanceWatch, startWatch } from '../lambdas/domain/watch.js';
import { VirtualClock } from '../lib/simulator/clock.js';
import type { EmulatedAccount } from '../lib/simulator/emulator/account.js';
import { keyArnOf, QUIET_KEY_ALIAS, QUIET_KEY_ID, quietKeyScenario } from './scenarios.js';
import { BenchError, disabledAtOf, runSimulation, type SimulationRun, timesOfHandler } from './simulation.js';

export interface ScanFigures {
  readonly backgroundRecords: number;
  readonly observationDays: number;
  readonly checkIntervalHours: number;
  /** Check invocations (observation checks and the final check). */
  readonly checks: number;
  /** Visible log events in [disable time, last check]: what a perfect reader reads once. */
  readonly eventsInWindow: number;
  /** Events the emulated CloudWatch Logs examined for the checks' FilterLogEvents calls. */
  readonly scanned: number;
  /** Events it returned to the Lambdas (after the server-side filter pattern). */
  readonly returned: number;
  readonly filterLogEventsCalls: number;
  /** Events the assessment's own searches examined (subtracted: not a check's read). */
  readonly assessScanned: number;
  readonly baselineScanned: number;
  readonly baselineReturned: number;
  readonly baselineFilterLogEventsCalls: number;
  readonly scanRatio: number;
  readonly baselineScanRatio: number;
  /** Events FinalCheck's search of the whole hold examined (part of `scanned`). */
  readonly finalRescanScanned: number;
  /** What `scanned` would be if FinalCheck searched incrementally too (late records then go unseen). */
  readonly incrementalScanRatio: number;
  readonly pending: PendingScanFigures;
}

/** The pending window's checks, replayed on the same log group. */
export interface PendingScanFigures {
  readonly pendingWindowInDays: number;
  readonly checks: number;
  /** Visible log events in [scheduling, deletion date]. */
  readonly eventsInWindow: number;
  /** Events the decision searches (each over the whole hold) examine. */
  readonly scanned: number;
  /** Events the same checks would examine searching incrementally. */
  readonly incrementalScanned: number;
  readonly scanRatio: number;
  readonly incrementalScanRatio: number;
}

const CALLER = {
  principalArn: 'arn:aws:iam::111122223333:role/kms-deletion-guard-bench',
  account: '111122223333',
  region: 'us-east-1',
  sourceIp: '127.0.0.1',
  userAgent: 'kms-deletion-guard-bench',
};

interface QueryCount {
  scanned: number;
  returned: number;
  calls: number;
}

/**
 * One FilterLogEvents search of [startMs, endMs] as the emulated account answers it at `nowMs`
 * (records not yet delivered then stay unseen), paged to the end, counted by its own accounting.
 */
function countQuery(
  account: EmulatedAccount,
  pattern: string,
  startMs: number,
  endMs: number,
  nowMs: number,
) {
  const clock = VirtualClock.install(new Date(nowMs));
  try {
    const before = account.stats();
    let nextToken: string | undefined;
    do {
      const answer = account.serve(
        'logs',
        'FilterLogEvents',
        {
          logGroupName: account.logGroupName,
          startTime: startMs,
          endTime: endMs,
          filterPattern: pattern,
          nextToken,
        },
        CALLER,
      );
      if (answer.status !== 200) {
        throw new BenchError(`baseline FilterLogEvents failed: ${JSON.stringify(answer.body)}`);
      }
      nextToken = typeof answer.body.nextToken === 'string' ? answer.body.nextToken : undefined;
    } while (nextToken);
    const after = account.stats();
    return {
      scanned: after.logEventsScanned - before.logEventsScanned,
      returned: after.logEventsReturned - before.logEventsReturned,
      calls: after.filterLogEventsCalls - before.filterLogEventsCalls,
    };
  } finally {
    clock.uninstall();
  }
}

function eventsVisible(account: EmulatedAccount, startMs: number, endMs: number): number {
  const clock = VirtualClock.install(new Date(endMs));
  try {
    return account.logEventsInWindow(startMs, endMs);
  } finally {
    clock.uninstall();
  }
}

const CHECK_INTERVAL_HOURS = 6;
/** A FilterLogEvents quota no replay reaches. */
const UNMETERED_SEARCH_TPS = 1_000_000;
const INGESTION_LAG_MINUTES = 30;
const PENDING_WINDOW_DAYS = 30;

export async function measureScan(background: number): Promise<ScanFigures> {
  const observationDays = 30;
  const checkIntervalHours = CHECK_INTERVAL_HOURS;
  // The 30-day observation alone: the pending window's watch is a second watch with its own window,
  // replayed on the same log group below.
  const config = {
    observationDays,
    checkIntervalHours,
    ingestionLagMinutes: INGESTION_LAG_MINUTES,
    pendingWindowInDays: PENDING_WINDOW_DAYS,
    watchPendingWindow: false,
  };
  // The scan figure counts what the service examines; the baseline below replays every check's
  // search after the run, back in time, which a rate quota in virtual time would refuse.
  const searchTps = UNMETERED_SEARCH_TPS;
  const run = await runSimulation(quietKeyScenario({ background, config, searchTps }), [
    'DELETION_SCHEDULED',
  ]);
  // The same key and log group, stopped at the disable approval: what the assessment alone scans.
  const assessOnly = await runSimulation(quietKeyScenario({ background, config, disableAnswer: 'reject' }), [
    'REJECTED',
  ]);

  const disabledAt = disabledAtOf(run);
  // The token task's own invocation only creates the first schedule; the checks read the log group.
  const checkTimes = timesOfHandler(run, 'check', { tokenStarts: false });
  const lastCheck = checkTimes[checkTimes.length - 1];
  if (lastCheck === undefined) {
    throw new BenchError('the quiet key was never checked');
  }
  const pattern = buildFilterPattern(
    { keyId: QUIET_KEY_ID, keyArn: keyArnOf(QUIET_KEY_ID), aliases: [QUIET_KEY_ALIAS] },
    'BREAKAGE',
  );
  const baseline: QueryCount = { scanned: 0, returned: 0, calls: 0 };
  for (const at of checkTimes) {
    const counted = countQuery(run.account, pattern, disabledAt, at, at);
    baseline.scanned += counted.scanned;
    baseline.returned += counted.returned;
    baseline.calls += counted.calls;
  }
  const eventsInWindow = eventsVisible(run.account, disabledAt, lastCheck);
  const assessScanned = assessOnly.stats.logEventsScanned;
  const scanned = run.stats.logEventsScanned - assessScanned;
  const lagMs = INGESTION_LAG_MINUTES * MINUTE_MS;
  const finalRescan = countQuery(run.account, pattern, disabledAt - lagMs, lastCheck, lastCheck);
  const previousCheck = checkTimes[checkTimes.length - 2] ?? disabledAt;
  const finalIncremental = countQuery(run.account, pattern, previousCheck - lagMs, lastCheck, lastCheck);
  const incrementalScanned = scanned - finalRescan.scanned + finalIncremental.scanned;
  return {
    backgroundRecords: background,
    observationDays,
    checkIntervalHours,
    checks: checkTimes.length,
    eventsInWindow,
    scanned,
    returned: run.stats.logEventsReturned - assessOnly.stats.logEventsReturned,
    filterLogEventsCalls: run.stats.filterLogEventsCalls - assessOnly.stats.filterLogEventsCalls,
    assessScanned,
    baselineScanned: baseline.scanned,
    baselineReturned: baseline.returned,
    baselineFilterLogEventsCalls: baseline.calls,
    scanRatio: eventsInWindow > 0 ? scanned / eventsInWindow : Number.NaN,
    baselineScanRatio: eventsInWindow > 0 ? baseline.scanned / eventsInWindow : Number.NaN,
    finalRescanScanned: finalRescan.scanned,
    incrementalScanRatio: eventsInWindow > 0 ? incrementalScanned / eventsInWindow : Number.NaN,
    pending: replayPendingChecks(run, disabledAt),
  };
}

/**
 * The searches the pending checks make, replayed on the run's log group (whose background records
 * reach past the deletion date): at each time the pending watch schedules a check, one search of
 * the whole hold, against the incremental search of the same check. The key's own records of those
 * checks (a canary each) are left out: a few hundred events beside the background's.
 */
function replayPendingChecks(run: SimulationRun, disabledAt: number): PendingScanFigures {
  const scheduledEntry = run.result.timeline.find((entry) => entry.state === 'ScheduleDeletion');
  const deletionDate = run.result.key.deletionDate;
  if (!scheduledEntry || !deletionDate) {
    throw new BenchError('the quiet key was never scheduled for deletion');
  }
  const scheduledAt = new Date(scheduledEntry.at);
  const deletionAt = new Date(deletionDate);
  const plan = {
    logGroupName: run.account.logGroupName,
    observationDays: 30,
    pendingWindowInDays: PENDING_WINDOW_DAYS,
    checkIntervalSeconds: CHECK_INTERVAL_HOURS * 3600,
    ingestionLagSeconds: INGESTION_LAG_MINUTES * 60,
    watchPendingWindow: true,
  };
  const pattern = buildFilterPattern(
    { keyId: QUIET_KEY_ID, keyArn: keyArnOf(QUIET_KEY_ID), aliases: [QUIET_KEY_ALIAS] },
    'PENDING_USE',
  );
  const lagMs = plan.ingestionLagSeconds * 1000;
  let watch = startWatch('PENDING', { now: scheduledAt, plan, deletionDate: deletionAt });
  const times: number[] = [];
  while (!watch.done) {
    const now = new Date(watch.nextCheckAt);
    times.push(now.getTime());
    watch = advanceWatch(watch, 'PENDING', { now, plan, scheduledAt, deletionDate: deletionAt }, QUIET);
  }
  // The look at the key on the deletion date searches once more.
  times.push(deletionAt.getTime());
  let scanned = 0;
  let incrementalScanned = 0;
  let cursor = scheduledAt.getTime();
  for (const at of times) {
    scanned += countQuery(run.account, pattern, disabledAt - lagMs, at, at).scanned;
    incrementalScanned += countQuery(run.account, pattern, cursor - lagMs, at, at).scanned;
    cursor = at;
  }
  const eventsInWindow = eventsVisible(run.account, scheduledAt.getTime(), deletionAt.getTime());
  return {
    pendingWindowInDays: PENDING_WINDOW_DAYS,
    checks: times.length,
    eventsInWindow,
    scanned,
    incrementalScanned,
    scanRatio: eventsInWindow > 0 ? scanned / eventsInWindow : Number.NaN,
    incrementalScanRatio: eventsInWindow > 0 ? incrementalScanned / eventsInWindow : Number.NaN,
  };
}

const QUIET = { seenEventIds: [], evidence: [], scanned: 0, reportText: '', subject: '' } as const;
