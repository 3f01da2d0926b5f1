/**
 * Figure 1: how many CloudTrail log events the breakage checks read, against the events in the
 * watched window, and the same run's baseline of re-scanning from the disable time at every check.
 */
import { buildFilterPattern } from '../lambdas/aws/cloudtrail-source.js';
import { VirtualClock } from '../lib/simulator/clock.js';
import type { EmulatedAccount } from '../lib/simulator/emulator/account.js';
import { keyArnOf, QUIET_KEY_ALIAS, QUIET_KEY_ID, quietKeyScenario } from './scenarios.js';
import { BenchError, disabledAtOf, runSimulation, timesOfHandler } from './simulation.js';

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

export async function measureScan(background: number): Promise<ScanFigures> {
  const observationDays = 30;
  const checkIntervalHours = 6;
  // The 30-day observation alone: the pending window's watch is a second watch with its own window.
  const config = { observationDays, checkIntervalHours, watchPendingWindow: false };
  const run = await runSimulation(quietKeyScenario({ background, config }), ['DELETION_SCHEDULED']);
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
  };
}
