/**
 * The fleet table of the sweep: keys held at once (N) x records a day (V), each cell the real sweep
 * handler run in one emulated account (bench/sweep.ts), and the targets held against it.
 *
 * - Volumes up to `maxSimulatedPerDay` run for real, `busyHours` virtual hours each (two whole
 *   sweep cycles: every hour of the day is alike, the holds stay and each sweep reads the same
 *   span, so the day is those hours scaled to 24; a whole day of 1,000 keys takes over ten
 *   minutes, most of it the emulated DynamoDB taking the sightings).
 * - A cell whose sweep fails with the canaries in the log group (the split search carries every
 *   held key's records from one invocation to the next) keeps the error, and is measured again
 *   without the canaries: the search's figures (pages, time, peak) do not depend on them, the
 *   key-agnostic filter scans every event of the span either way.
 * - Larger volumes come from page counts of the largest volume run, cell by cell: a sweep reads the
 *   span's events, V / V_run times as many pages, at most the pages one invocation read at V_run
 *   in each invocation, one invocation every five minutes. A sweep longer than the interval starts
 *   the next one when it ends; one longer than a page token lives (23 h) never ends.
 * - Cost per key: the checks' own work without searches (state transitions, Lambda requests, KMS,
 *   Scheduler: a quiet key's run, bench/fleet.ts) plus the key's share of the sweep: its Lambda
 *   time at the check function's memory, its requests, and DynamoDB (the sightings written each
 *   sweep, the registry's Scan, the checks' reads of their sightings).
 */
import { MAX_SEARCH_MS_PER_INVOCATION, NEXT_TOKEN_MAX_AGE_MS } from '../lambdas/domain/search-resume.js';
import { SWEEP_MIN_PAGE_MS } from '../lambdas/domain/sweep.js';
import { PRICES } from './cost.js';
import { BenchError } from './simulation.js';
import { measureSweepCell, SWEEP_RATE_MS, type SweepCell, type SweepCorrectness } from './sweep.js';

/** DynamoDB on-demand list prices (us-east-1): per write request unit (1 KB), per read unit (4 KB, consistent). */
export const DYNAMODB_PRICES = { writeUnit: 0.625 / 1_000_000, readUnit: 0.125 / 1_000_000 } as const;

const DAY_MS = 86_400_000;
const DAYS_PER_MONTH = 30;

export interface SweepFleetOptions {
  readonly keys: readonly number[];
  readonly volumes: readonly number[];
  readonly maxSimulatedPerDay: number;
  /** Hours each cell runs for real (the day is them scaled: every hour alike). */
  readonly busyHours: number;
  readonly holdSpanDays: number;
  readonly checkIntervalHours: number;
  readonly intervalSeconds: number;
  readonly ingestionLagSeconds: number;
  readonly pageSize: number;
  readonly pageLatencyMs: number;
  readonly searchTps: number;
  /** Memory of the function the sweep's time is billed at, MB. */
  readonly memoryMb: number;
  /** The checks' own work a key a day, USD (no searches). */
  readonly checkUsdPerKeyDay: number;
  readonly log?: ((line: string) => void) | undefined;
}

export interface SweepRow {
  readonly keys: number;
  readonly eventsPerDay: number;
  readonly logSearchRequestsPerDay: number;
  readonly eventsScannedPerDay: number;
  readonly eventsIngestedPerDay: number;
  /** Most FilterLogEvents requests in one virtual second. */
  readonly peakLogSearchTps: number;
  readonly maxSearchSecondsPerInvocation: number;
  readonly costPerKeyMonthUsd: number;
  readonly searchInvocationsPerDay: number;
  readonly sweepInvocationsPerDay: number;
  /** Sweeps completed a day, the pages and invocations of one. */
  readonly sweepsPerDay: number;
  readonly pagesPerSweep: number;
  readonly invocationsPerSweep: number;
  /** Most pages one invocation read. */
  readonly maxPagesPerInvocation: number;
  /** Events the key-agnostic server filter returned: the failed KMS calls of the whole span, each sweep. */
  readonly eventsReturnedPerDay: number;
  /** How long one sweep takes from its first invocation to its last, minutes. */
  readonly sweepMinutes: number;
  /** How old the sightings get before the next sweep replaces them, minutes (what the checks' max age must allow). */
  readonly maxSightingsAgeMinutes: number;
  /** The sweep with the canaries in the log group failed: why (the row is then measured without them). */
  readonly sweepError: string | null;
  readonly correctness: SweepCorrectness | null;
  readonly measuredBy: 'simulated' | { readonly hours: number } | { readonly pageCountsFrom: number };
  readonly wallSeconds: number;
}

export interface SweepTarget {
  readonly figure: string;
  readonly target: string;
  readonly measured: number;
  readonly met: boolean;
}

export const REQUEST_GROWTH_TARGET = 1.5;
export const SCAN_TO_INGEST_TARGET = 1.3;
export const PEAK_SHARE_OF_QUOTA_TARGET = 0.5;
export const SEARCH_SECONDS_TARGET = 240;

/** The key's share of the sweep and its checks' own work, USD a month. */
function costPerKeyMonth(cell: Omit<SweepRow, 'costPerKeyMonthUsd'>, options: SweepFleetOptions): number {
  const gbSeconds = cell.logSearchRequestsPerDay * (options.pageLatencyMs / 1000) * (options.memoryMb / 1024);
  const sightingsBytes = cell.correctness ? cell.correctness.totalSightingsBytes / cell.keys : 1024;
  // Each sweep writes every hold's sightings (1 KB units, rounded up) and Scans the registry (4 KB units).
  const writeUnits = cell.sweepsPerDay * (Math.ceil(sightingsBytes / 1024) + 0.5);
  const scanUnits = cell.sweepsPerDay * (sightingsBytes / 4096 + 0.1);
  const checkReads = (24 / options.checkIntervalHours) * Math.ceil(sightingsBytes / 4096);
  const sweepUsdPerDay =
    gbSeconds * PRICES.lambdaGbSecond + cell.sweepInvocationsPerDay * PRICES.lambdaRequest;
  const usdPerKeyDay =
    sweepUsdPerDay / cell.keys +
    writeUnits * DYNAMODB_PRICES.writeUnit +
    (scanUnits + checkReads) * DYNAMODB_PRICES.readUnit +
    options.checkUsdPerKeyDay;
  return usdPerKeyDay * DAYS_PER_MONTH;
}

function rowOf(cell: SweepCell, sweepError: string | null, options: SweepFleetOptions): SweepRow {
  const sweepMinutes = Math.max(0, cell.maxInvocationsPerSweep - 1) * (SWEEP_RATE_MS / 60_000);
  const row = {
    keys: cell.keys,
    eventsPerDay: cell.eventsPerDay,
    logSearchRequestsPerDay: cell.logSearchRequestsPerDay,
    eventsScannedPerDay: cell.eventsScannedPerDay,
    eventsIngestedPerDay: cell.eventsIngestedPerDay,
    peakLogSearchTps: cell.peakRequestsInOneSecond,
    maxSearchSecondsPerInvocation: cell.maxSearchMsPerInvocation / 1000,
    searchInvocationsPerDay: cell.searchInvocationsPerDay,
    sweepInvocationsPerDay: cell.sweepInvocationsPerDay,
    sweepsPerDay: cell.sweepsPerDay,
    pagesPerSweep: cell.pagesPerSweep,
    invocationsPerSweep: cell.maxInvocationsPerSweep,
    maxPagesPerInvocation: cell.maxPagesPerInvocation,
    eventsReturnedPerDay: cell.eventsReturnedPerDay,
    sweepMinutes,
    maxSightingsAgeMinutes: cell.correctness.oldestSightingsMinutes + sweepMinutes,
    sweepError,
    correctness: cell.correctness,
    measuredBy: cell.hours >= 24 ? ('simulated' as const) : { hours: cell.hours },
    wallSeconds: cell.wallSeconds,
  };
  return { ...row, costPerKeyMonthUsd: costPerKeyMonth(row, options) };
}

/** The checks' sightings must hold every failure and be fresh: else the cell's figures describe a broken sweep. */
function requireCorrect(cell: SweepCell): void {
  const c = cell.correctness;
  if (c.sightingsWritten !== c.holds || c.fresh !== c.holds || c.failuresSighted !== c.failures) {
    throw new BenchError(
      `the sweep at ${cell.keys} keys and ${cell.eventsPerDay} records a day left the checks ${c.sightingsWritten}/${c.holds} sightings, ${c.fresh} fresh, ${c.failuresSighted}/${c.failures} failures`,
    );
  }
}

async function runCell(keys: number, eventsPerDay: number, options: SweepFleetOptions): Promise<SweepRow> {
  const hours = options.busyHours;
  const cellOptions = {
    keys,
    eventsPerDay,
    hours,
    holdSpanDays: options.holdSpanDays,
    checkIntervalHours: options.checkIntervalHours,
    intervalSeconds: options.intervalSeconds,
    ingestionLagSeconds: options.ingestionLagSeconds,
    pageSize: options.pageSize,
    pageLatencyMs: options.pageLatencyMs,
    searchTps: options.searchTps,
  };
  let sweepError: string | null = null;
  let cell: SweepCell;
  try {
    cell = await measureSweepCell({ ...cellOptions, canaries: true });
  } catch (error) {
    if (!(error instanceof BenchError) || !error.message.includes('SearchCarryTooLargeError')) {
      throw error;
    }
    sweepError = error.message;
    options.log?.(
      `    the sweep failed with the canaries (${error.message.slice(0, 160)}...); again without them`,
    );
    cell = await measureSweepCell({ ...cellOptions, canaries: false });
  }
  requireCorrect(cell);
  return rowOf(cell, sweepError, options);
}

/**
 * A cell at `eventsPerDay` from the same keys' cell at a lower volume, by page counts (see the
 * module comment).
 */
export function deriveSweepRow(base: SweepRow, eventsPerDay: number, options: SweepFleetOptions): SweepRow {
  const factor = eventsPerDay / base.eventsPerDay;
  const pagesPerSweep = Math.ceil(base.pagesPerSweep * factor);
  // Pages one invocation reads: as measured where the base's sweep split, else as the search stops
  // (one more page only while 5 s besides it fit in the 240 s).
  // A page takes its latency, or the sweep's pacing when that is longer.
  const pageMs = Math.max(options.pageLatencyMs, SWEEP_MIN_PAGE_MS);
  const maxPerInvocation =
    base.invocationsPerSweep > 1
      ? base.maxPagesPerInvocation
      : Math.floor((MAX_SEARCH_MS_PER_INVOCATION - 5000) / pageMs) + 1;
  const invocationsPerSweep = Math.ceil(pagesPerSweep / maxPerInvocation);
  const sweepMs = (invocationsPerSweep - 1) * SWEEP_RATE_MS;
  const invocationsPerDay = DAY_MS / SWEEP_RATE_MS;
  // A sweep starts an interval after the last one's end (its sweptTo, the time it began), or when the last one ends.
  const cycleMs = Math.max(options.intervalSeconds * 1000, sweepMs + SWEEP_RATE_MS);
  const completes = sweepMs < NEXT_TOKEN_MAX_AGE_MS;
  const sweepsPerDay = completes ? DAY_MS / cycleMs : 0;
  const searchInvocationsPerDay = completes
    ? Math.min(invocationsPerDay, sweepsPerDay * invocationsPerSweep)
    : invocationsPerDay;
  const requestsPerDay = completes
    ? sweepsPerDay * pagesPerSweep
    : searchInvocationsPerDay * maxPerInvocation;
  const ingestedPerDay = eventsPerDay + (base.eventsIngestedPerDay - base.eventsPerDay);
  const row = {
    ...base,
    eventsPerDay,
    logSearchRequestsPerDay: requestsPerDay,
    eventsScannedPerDay: (base.eventsScannedPerDay / base.logSearchRequestsPerDay) * requestsPerDay,
    eventsReturnedPerDay: (base.eventsReturnedPerDay / base.logSearchRequestsPerDay) * requestsPerDay,
    eventsIngestedPerDay: ingestedPerDay,
    searchInvocationsPerDay,
    sweepsPerDay,
    pagesPerSweep,
    invocationsPerSweep,
    maxPagesPerInvocation: Math.min(maxPerInvocation, pagesPerSweep),
    sweepMinutes: sweepMs / 60_000,
    maxSightingsAgeMinutes: completes ? (cycleMs + sweepMs) / 60_000 : Number.POSITIVE_INFINITY,
    maxSearchSecondsPerInvocation: (Math.min(maxPerInvocation, pagesPerSweep) * pageMs) / 1000,
    sweepError: completes
      ? base.sweepError
      : `a sweep of ${pagesPerSweep} pages takes ${invocationsPerSweep} invocations, ${Math.round(sweepMs / 3_600_000)} h: past the ${NEXT_TOKEN_MAX_AGE_MS / 3_600_000} h a page token lives, it starts again and never ends (no sightings: every check fails closed)`,
    correctness: null,
    measuredBy: { pageCountsFrom: base.eventsPerDay },
    wallSeconds: 0,
  };
  return { ...row, costPerKeyMonthUsd: costPerKeyMonth(row, options) };
}

export async function measureSweepFleet(options: SweepFleetOptions): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  const simulated = options.volumes.filter((v) => v <= options.maxSimulatedPerDay);
  if (simulated.length === 0) {
    throw new BenchError(
      `the sweep needs one volume run for real: none is at most ${options.maxSimulatedPerDay}`,
    );
  }
  for (const v of options.volumes) {
    for (const keys of options.keys) {
      if (v <= options.maxSimulatedPerDay) {
        options.log?.(
          `  sweep: ${keys} keys held, ${v.toLocaleString('en-US')} records a day, the real handler`,
        );
        rows.push(await runCell(keys, v, options));
      } else {
        const base = rows
          .filter(
            (r) =>
              r.keys === keys && (typeof r.measuredBy === 'string' || !('pageCountsFrom' in r.measuredBy)),
          )
          .at(-1);
        if (!base) {
          throw new BenchError(`no cell of ${keys} keys was run to derive ${v} records a day from`);
        }
        rows.push(deriveSweepRow(base, v, options));
      }
    }
  }
  return rows;
}

/** What the targets read of a fleet row, whichever design measured it. */
export interface FleetFigureRow {
  readonly keys: number;
  readonly eventsPerDay: number;
  readonly logSearchRequestsPerDay: number;
  readonly eventsScannedPerDay: number;
  readonly eventsIngestedPerDay: number;
  readonly peakLogSearchTps: number;
  readonly maxSearchSecondsPerInvocation: number;
}

/**
 * The targets every design's fleet is held against: request growth from the fewest to the most
 * keys, events scanned per event ingested, the peak at the most keys and 10^6 a day, and the longest
 * invocation (`invocationLabel` says whose). The caller adds its own target of failed cells.
 */
export function fleetFigureTargetsOf(
  rows: readonly FleetFigureRow[],
  options: Pick<SweepFleetOptions, 'keys' | 'volumes' | 'searchTps'>,
  invocationLabel = '',
): SweepTarget[] {
  const at = (keys: number, v: number) => rows.find((r) => r.keys === keys && r.eventsPerDay === v);
  const fewest = Math.min(...options.keys);
  const most = Math.max(...options.keys);
  const targets: SweepTarget[] = [];
  for (const v of options.volumes) {
    const measured =
      (at(most, v)?.logSearchRequestsPerDay ?? Number.NaN) /
      (at(fewest, v)?.logSearchRequestsPerDay ?? Number.NaN);
    targets.push({
      figure: `fleet.logSearchRequestsPerDay at ${v} records/day: ${most} keys / ${fewest} keys`,
      target: `<= ${REQUEST_GROWTH_TARGET}`,
      measured,
      met: measured <= REQUEST_GROWTH_TARGET,
    });
  }
  for (const v of options.volumes) {
    const cells = rows.filter((r) => r.eventsPerDay === v);
    const measured = Math.max(...cells.map((r) => r.eventsScannedPerDay / r.eventsIngestedPerDay));
    targets.push({
      figure: `fleet.eventsScannedPerDay / eventsIngestedPerDay at ${v} records/day, worst of ${options.keys.join(', ')} keys`,
      target: `<= ${SCAN_TO_INGEST_TARGET}`,
      measured,
      met: measured <= SCAN_TO_INGEST_TARGET,
    });
  }
  const peak = at(most, 1_000_000)?.peakLogSearchTps ?? Number.NaN;
  const peakBound = options.searchTps * PEAK_SHARE_OF_QUOTA_TARGET;
  targets.push({
    figure: `fleet.peakLogSearchTps at ${most} keys and 1000000 records/day`,
    target: `<= ${peakBound} (half the quota of ${options.searchTps} requests/s)`,
    measured: peak,
    met: peak <= peakBound,
  });
  for (const v of options.volumes) {
    const measured = Math.max(
      ...rows.filter((r) => r.eventsPerDay === v).map((r) => r.maxSearchSecondsPerInvocation),
    );
    targets.push({
      figure: `fleet.maxSearchSecondsPerInvocation at ${v} records/day${invocationLabel}`,
      target: `<= ${SEARCH_SECONDS_TARGET}`,
      measured,
      met: measured <= SEARCH_SECONDS_TARGET,
    });
  }
  return targets;
}

export function sweepTargetsOf(
  rows: readonly SweepRow[],
  options: Pick<SweepFleetOptions, 'keys' | 'volumes' | 'searchTps'>,
): SweepTarget[] {
  const targets = fleetFigureTargetsOf(rows, options);
  for (const v of options.volumes) {
    const cells = rows.filter((r) => r.eventsPerDay === v);
    const failed = cells.filter((r) => r.sweepError !== null).length;
    targets.push({
      figure: `fleet sweeps that fail at ${v} records/day (of ${cells.length} cells; every hold's sightings fresh, every failure sighted where run)`,
      target: '<= 0',
      measured: failed,
      met: failed === 0,
    });
  }
  return targets;
}
