/**
 * Figure 3: from a still-used key's first DisabledException record to the key being enabled
 * again, in virtual time, over placements of the failure spread across one check cycle.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../lambdas/domain/time.js';
import { offsetFromStart, stillUsedKeyScenario } from './scenarios.js';
import { BenchError, runSimulation } from './simulation.js';

export interface LatencySummary {
  readonly p50: number;
  readonly max: number;
  /** Minutes per placement, in placement order. */
  readonly samples: readonly number[];
}

export interface LatencyFigures {
  readonly checkIntervalHours: number;
  readonly ingestionLagMinutes: number;
  readonly placements: number;
  /** The polling watch alone (EventBridge deliveries all dropped when a fast path exists). */
  readonly polling: LatencySummary;
  /** EventBridge delivering every record; null when the template has no fast path. */
  readonly fastPath: LatencySummary | null;
}

/** The failure lands on the third day of the observation, well inside it. */
const FIRST_PLACEMENT_MS = 2 * DAY_MS;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(Math.max(rank, 0), sorted.length - 1)] ?? Number.NaN;
}

async function latencies(placements: number, config: Record<string, unknown>, eventBridgeDrop: number) {
  const intervalMs = Number(config.checkIntervalHours) * HOUR_MS;
  const samples: number[] = [];
  for (let i = 0; i < placements; i += 1) {
    const failAtMs = FIRST_PLACEMENT_MS + Math.round((i * intervalMs) / placements);
    const run = await runSimulation(
      stillUsedKeyScenario({ callAt: offsetFromStart(failAtMs), config, eventBridgeDrop }),
      ['ROLLED_BACK'],
    );
    const failure = run.account
      .records()
      .find((e) => !e.workflow && e.record.errorCode === 'DisabledException');
    const restoredAt = run.result.key.restoredAt;
    if (!failure || !restoredAt) {
      throw new BenchError(`placement ${i}: no DisabledException record or no re-enable in the run`);
    }
    samples.push((Date.parse(restoredAt) - failure.at) / MINUTE_MS);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), max: sorted[sorted.length - 1] ?? Number.NaN, samples };
}

export async function measureLatency(placements: number, hasFastPath: boolean): Promise<LatencyFigures> {
  const checkIntervalHours = 6;
  const ingestionLagMinutes = 30;
  const config = { checkIntervalHours, ingestionLagMinutes };
  const polling = await latencies(placements, config, hasFastPath ? 1 : 0);
  const fastPath = hasFastPath ? await latencies(placements, config, 0) : null;
  return { checkIntervalHours, ingestionLagMinutes, placements, polling, fastPath };
}
