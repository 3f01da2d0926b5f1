/**
 * The fleet table of the subscription source (`sweep: true, sweepSubscription: true`): keys held at
 * once (N) x records a day (V), each cell the real Deliveries and DeliveryProof handlers in one
 * emulated account (bench/stream.ts), and the targets held against it.
 *
 * - The fewest keys run every volume for real, and the other key counts the cells whose keys x records
 *   a day stay within `maxKeyRecordsPerDay`, `busyHours` virtual hours each, scaled to the day (every
 *   hour alike). At 1,000 keys a delivery takes about a second of this machine (the Scan of the
 *   registry, below): 1,000 keys at 10^6 take three minutes, at 10^8 about seven, so the larger cells
 *   are derived unless asked for (`--only-fleet`). Derived from 1,000 keys at 10^4 and 10 keys at
 *   10^6, the 1,000-key cell at 10^6 came within 1 % of its run's read units, Scan pages and cost per
 *   key, and 50 % over its run's time.
 * - A derived cell (N keys at V) adds to the fewest keys' cell at V what N keys added at the base
 *   volume (N's largest run): the proof's work, the log and metric requests and the subscription's
 *   batches are the fewest keys' at V (none depends on the keys; the held keys' own records add a
 *   few a minute). The larger registry adds, per delivery that Scans it (one with a record naming
 *   its key only by an alias: nearly every one at 10^6 and above), the pages, read units and time
 *   of its Scan as measured at the base; and once (they do not grow with the volume) the held keys'
 *   own records' reads by ARN and sightings writes, and the rest of its time. The longest delivery
 *   is the fewest keys' at V plus the larger of what a Scan or the longest delivery added at the
 *   base.
 * - Events scanned: CloudWatch Logs matches every event it ingests against the subscription's filter
 *   once, so the events ingested are the events scanned, plus what any FilterLogEvents request
 *   scanned (none: nothing searches the log group).
 * - Log search requests: every request the watch makes to read the trail or what was delivered of it
 *   (FilterLogEvents, DescribeSubscriptionFilters, GetMetricData), also kept apart. Their peak in one
 *   virtual second is held against the FilterLogEvents quota (5 a second), the tightest of the three.
 * - The longest invocation: nothing charges either function virtual time (neither searches), so its
 *   wall-clock time in this process, on the emulated services, stands for it (it errs high).
 * - Cost per key: the key's share of both functions (Lambda requests, GB-s at their memory from the
 *   template, over the invocations' wall-clock time), of GetMetricData (per metric requested), of
 *   their DynamoDB capacity units as dynalite reports them, plus each check's reads of the proof and
 *   of its sightings, and the checks' own work without searches (a quiet key's run, bench/fleet.ts).
 */

import { PRICES } from './cost.js';
import { BenchError } from './simulation.js';
import {
  type FunctionWork,
  measureStreamCell,
  requireStreamCorrect,
  type StreamCell,
  type StreamCorrectness,
  type TableWork,
} from './stream.js';
import { DYNAMODB_PRICES, fleetFigureTargetsOf } from './sweep-fleet.js';

const DAYS_PER_MONTH = 30;
/** CloudWatch GetMetricData, per metric requested ($0.01 per 1,000). */
export const GET_METRIC_DATA_PRICE = 0.01 / 1000;

export interface StreamFleetOptions {
  readonly keys: readonly number[];
  readonly volumes: readonly number[];
  /**
   * A cell runs for real while its keys held x records a day stay within this (the fewest keys run
   * every volume); the others are derived.
   */
  readonly maxKeyRecordsPerDay: number;
  readonly busyHours: number;
  readonly holdSpanDays: number;
  readonly checkIntervalHours: number;
  /** The quota the peak is held against (requests a second). */
  readonly searchTps: number;
  /** The checks' own work a key a day, USD (no searches). */
  readonly checkUsdPerKeyDay: number;
  readonly log?: ((line: string) => void) | undefined;
}

/** What a key-month costs, by part, USD. */
export interface StreamCost {
  readonly lambda: number;
  readonly metrics: number;
  readonly dynamoDb: number;
  /** Each check's reads of the proof and of its sightings. */
  readonly checkReads: number;
  /** The checks' own work (state transitions, Lambda requests, KMS, Scheduler). */
  readonly checks: number;
}

export interface StreamRow {
  readonly keys: number;
  readonly eventsPerDay: number;
  /** FilterLogEvents + DescribeSubscriptionFilters + GetMetricData: every request that reads the trail or its deliveries. */
  readonly logSearchRequestsPerDay: number;
  readonly filterLogEventsPerDay: number;
  readonly describeSubscriptionFiltersPerDay: number;
  readonly getMetricDataPerDay: number;
  readonly metricsRequestedPerDay: number;
  /** The events ingested (each matched once against the filter) plus the events FilterLogEvents scanned. */
  readonly eventsScannedPerDay: number;
  readonly eventsIngestedPerDay: number;
  readonly eventsDeliveredPerDay: number;
  /** Most of those requests in one virtual second. */
  readonly peakLogSearchTps: number;
  /** The longest invocation of either function, seconds (see the module comment). */
  readonly maxSearchSecondsPerInvocation: number;
  readonly deliveries: FunctionWork;
  readonly proof: FunctionWork;
  readonly deliveriesTable: TableWork;
  readonly proofTable: TableWork;
  readonly lambdaGbSecondsPerDay: number;
  readonly costPerKeyMonthUsd: number;
  readonly cost: StreamCost;
  /** Invocations that failed or deliveries lost (a cell run for real with any is a BenchError). */
  readonly failedInvocations: number;
  /** The checks' view at the day's end (null when derived). */
  readonly correctness: StreamCorrectness | null;
  /** Sightings and the proof's item, bytes (measured, or the base's when derived). */
  readonly meanSightingsBytes: number;
  readonly stateBytes: number;
  readonly measuredBy:
    | { readonly hours: number }
    | {
        readonly derivedFrom: { readonly keys: number; readonly eventsPerDay: number };
        readonly volumeFrom: { readonly keys: number; readonly eventsPerDay: number };
      };
  readonly wallSeconds: number;
}

const sumValues = (record: Readonly<Record<string, number>>) =>
  Object.values(record).reduce((a, b) => a + b, 0);

function costOf(
  row: Omit<StreamRow, 'costPerKeyMonthUsd' | 'cost' | 'lambdaGbSecondsPerDay'>,
  options: Pick<StreamFleetOptions, 'checkIntervalHours' | 'checkUsdPerKeyDay'>,
) {
  const gbSeconds = [row.deliveries, row.proof].reduce(
    (n, fn) => n + (fn.wallMs / 1000) * (fn.memoryMb / 1024),
    0,
  );
  const perKey = (usdPerDay: number) => (usdPerDay / row.keys) * DAYS_PER_MONTH;
  const lambda = perKey(
    gbSeconds * PRICES.lambdaGbSecond +
      (row.deliveries.invocations + row.proof.invocations) * PRICES.lambdaRequest,
  );
  const metrics = perKey(row.metricsRequestedPerDay * GET_METRIC_DATA_PRICE);
  const dynamoDb = perKey(
    (row.deliveriesTable.readUnits + row.proofTable.readUnits) * DYNAMODB_PRICES.readUnit +
      (row.deliveriesTable.writeUnits + row.proofTable.writeUnits) * DYNAMODB_PRICES.writeUnit,
  );
  // Each check reads the proof and its sightings, consistently (a unit per 4 KB).
  const checksPerDay = 24 / options.checkIntervalHours;
  const checkReads =
    checksPerDay *
    (Math.ceil(Math.max(1, row.meanSightingsBytes) / 4096) + Math.ceil(Math.max(1, row.stateBytes) / 4096)) *
    DYNAMODB_PRICES.readUnit *
    DAYS_PER_MONTH;
  const checks = options.checkUsdPerKeyDay * DAYS_PER_MONTH;
  const cost = { lambda, metrics, dynamoDb, checkReads, checks };
  return { lambdaGbSecondsPerDay: gbSeconds, cost, costPerKeyMonthUsd: sumValues(cost) };
}

function rowOf(cell: StreamCell, options: StreamFleetOptions): StreamRow {
  const c = cell.correctness;
  const row = {
    keys: cell.keys,
    eventsPerDay: cell.eventsPerDay,
    logSearchRequestsPerDay:
      cell.filterLogEventsPerDay + cell.describeSubscriptionFiltersPerDay + cell.getMetricDataPerDay,
    filterLogEventsPerDay: cell.filterLogEventsPerDay,
    describeSubscriptionFiltersPerDay: cell.describeSubscriptionFiltersPerDay,
    getMetricDataPerDay: cell.getMetricDataPerDay,
    metricsRequestedPerDay: cell.metricsRequestedPerDay,
    eventsScannedPerDay: cell.eventsIngestedPerDay + cell.eventsSearchedPerDay,
    eventsIngestedPerDay: cell.eventsIngestedPerDay,
    eventsDeliveredPerDay: cell.eventsDeliveredPerDay,
    peakLogSearchTps: cell.peakRequestsInOneSecond,
    maxSearchSecondsPerInvocation:
      Math.max(
        cell.deliveries.maxVirtualMs,
        cell.deliveries.maxWallMs,
        cell.proof.maxVirtualMs,
        cell.proof.maxWallMs,
      ) / 1000,
    deliveries: cell.deliveries,
    proof: cell.proof,
    deliveriesTable: cell.deliveriesTable,
    proofTable: cell.proofTable,
    failedInvocations: cell.deliveries.errors + cell.proof.errors + cell.incidents.length,
    correctness: c,
    meanSightingsBytes: c.sightingsWritten > 0 ? c.totalSightingsBytes / c.sightingsWritten : 0,
    stateBytes: c.stateBytes,
    measuredBy: { hours: cell.hours },
    wallSeconds: cell.wallSeconds,
  };
  return { ...row, ...costOf(row, options) };
}

/**
 * N keys at V from N keys' run at a lower volume (`base`) and the fewest keys' runs at V and at the
 * base's volume (see the module comment).
 */
export function deriveStreamRow(
  base: StreamRow,
  fewestAtVolume: StreamRow,
  fewestAtBase: StreamRow,
  options: Pick<StreamFleetOptions, 'checkIntervalHours' | 'checkUsdPerKeyDay'>,
): StreamRow {
  if (fewestAtBase.eventsPerDay !== base.eventsPerDay || fewestAtVolume.keys !== fewestAtBase.keys) {
    throw new BenchError('a derived subscription cell needs the fewest keys at its volume and at the base’s');
  }
  // Per invocation that Scans the registry (paged: a request per MB), what the larger registry adds:
  // its pages, their read units and their time. The rest of what it adds (the held keys' own
  // records: their reads by ARN, their sightings' writes) does not grow with the volume: once.
  const perScanning = (t: TableWork, value: number) =>
    t.scanningInvocations > 0 ? value / t.scanningInvocations : 0;
  const extra = (pick: (t: TableWork) => number) =>
    Math.max(
      0,
      perScanning(base.deliveriesTable, pick(base.deliveriesTable)) -
        perScanning(fewestAtBase.deliveriesTable, pick(fewestAtBase.deliveriesTable)),
    );
  const scanUnits = (t: TableWork) => t.units.Scan ?? 0;
  const scanPages = (t: TableWork) => t.requests.Scan ?? 0;
  const scanMs = (t: TableWork) => t.wallMs.Scan ?? 0;
  const once = (pick: (row: StreamRow) => number) => Math.max(0, pick(base) - pick(fewestAtBase));
  const v = fewestAtVolume.deliveriesTable;
  const scanning = v.scanningInvocations;
  const request = (op: string) =>
    (v.requests[op] ?? 0) +
    Math.max(0, (base.deliveriesTable.requests[op] ?? 0) - (fewestAtBase.deliveriesTable.requests[op] ?? 0));
  const operations = new Set([...Object.keys(v.requests), ...Object.keys(base.deliveriesTable.requests)]);
  const deliveriesTable: TableWork = {
    requests: {
      ...Object.fromEntries([...operations].map((op) => [op, request(op)])),
      Scan: scanPages(v) + scanning * extra(scanPages),
    },
    units: { ...v.units, Scan: scanUnits(v) + scanning * extra(scanUnits) },
    wallMs: { ...v.wallMs, Scan: scanMs(v) + scanning * extra(scanMs) },
    readUnits:
      v.readUnits +
      scanning * extra(scanUnits) +
      once((r) => r.deliveriesTable.readUnits - scanUnits(r.deliveriesTable)),
    writeUnits: v.writeUnits + once((r) => r.deliveriesTable.writeUnits),
    scanningInvocations: scanning,
  };
  const deliveries: FunctionWork = {
    ...fewestAtVolume.deliveries,
    wallMs:
      fewestAtVolume.deliveries.wallMs +
      scanning * extra(scanMs) +
      once((r) => r.deliveries.wallMs - scanMs(r.deliveriesTable)),
    maxWallMs:
      fewestAtVolume.deliveries.maxWallMs +
      Math.max(extra(scanMs), base.deliveries.maxWallMs - fewestAtBase.deliveries.maxWallMs),
  };
  const ownRecords = (row: StreamRow) => row.eventsIngestedPerDay - row.eventsPerDay;
  const row = {
    ...fewestAtVolume,
    keys: base.keys,
    eventsIngestedPerDay: fewestAtVolume.eventsIngestedPerDay + ownRecords(base) - ownRecords(fewestAtVolume),
    eventsDeliveredPerDay:
      fewestAtVolume.eventsDeliveredPerDay + ownRecords(base) - ownRecords(fewestAtVolume),
    deliveries,
    deliveriesTable,
    maxSearchSecondsPerInvocation:
      Math.max(deliveries.maxVirtualMs, deliveries.maxWallMs, fewestAtVolume.proof.maxWallMs) / 1000,
    correctness: null,
    meanSightingsBytes: base.meanSightingsBytes,
    stateBytes: base.stateBytes,
    failedInvocations: base.failedInvocations + fewestAtVolume.failedInvocations,
    measuredBy: {
      derivedFrom: { keys: base.keys, eventsPerDay: base.eventsPerDay },
      volumeFrom: { keys: fewestAtVolume.keys, eventsPerDay: fewestAtVolume.eventsPerDay },
    },
    wallSeconds: 0,
  };
  const eventsScannedPerDay =
    row.eventsIngestedPerDay + (fewestAtVolume.eventsScannedPerDay - fewestAtVolume.eventsIngestedPerDay);
  const withScanned = { ...row, eventsScannedPerDay };
  return { ...withScanned, ...costOf(withScanned, options) };
}

export async function measureStreamFleet(options: StreamFleetOptions): Promise<StreamRow[]> {
  const fewest = Math.min(...options.keys);
  const real: StreamRow[] = [];
  const run = async (keys: number, eventsPerDay: number) => {
    options.log?.(
      `  subscription: ${keys} keys held, ${eventsPerDay.toLocaleString('en-US')} records a day, the real handlers`,
    );
    const cell = await measureStreamCell({
      keys,
      eventsPerDay,
      holdSpanDays: options.holdSpanDays,
      checkIntervalHours: options.checkIntervalHours,
      hours: options.busyHours,
    });
    requireStreamCorrect(cell);
    const row = rowOf(cell, options);
    real.push(row);
    return row;
  };
  const rows: StreamRow[] = [];
  for (const v of options.volumes) {
    for (const keys of options.keys) {
      if (keys === fewest || keys * v <= options.maxKeyRecordsPerDay) {
        rows.push(await run(keys, v));
        continue;
      }
      const at = (k: number, volume: number) => real.find((r) => r.keys === k && r.eventsPerDay === volume);
      const base = real
        .filter((r) => r.keys === keys && r.eventsPerDay < v && at(fewest, r.eventsPerDay))
        .at(-1);
      const fewestAtVolume = at(fewest, v);
      const fewestAtBase = base ? at(fewest, base.eventsPerDay) : undefined;
      if (!base || !fewestAtVolume || !fewestAtBase) {
        throw new BenchError(
          `no run of ${keys} keys, or of ${fewest} keys, to derive ${v} records a day from`,
        );
      }
      rows.push(deriveStreamRow(base, fewestAtVolume, fewestAtBase, options));
    }
  }
  return rows;
}

export interface StreamTarget {
  readonly figure: string;
  readonly target: string;
  readonly measured: number;
  readonly met: boolean;
}

export function streamTargetsOf(
  rows: readonly StreamRow[],
  options: Pick<StreamFleetOptions, 'keys' | 'volumes' | 'searchTps'>,
): StreamTarget[] {
  const targets: StreamTarget[] = fleetFigureTargetsOf(rows, options, ' (deliveries and proof)');
  for (const v of options.volumes) {
    const cells = rows.filter((r) => r.eventsPerDay === v);
    const failed = cells.filter((r) => r.failedInvocations > 0).length;
    targets.push({
      figure: `fleet cells that fail at ${v} records/day (of ${cells.length}; where run: the proof fresh and standing since before every hold, every delivered failure and latest canary sighted)`,
      target: '<= 0',
      measured: failed,
      met: failed === 0,
    });
  }
  return targets;
}
