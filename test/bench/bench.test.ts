import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { PRICES } from '../../bench/cost.js';
import {
  fleetRow,
  fleetTargetsOf,
  type KeyWorkAtVolume,
  maxPagesPerInvocation,
  PAGE_LATENCY_MS,
  splitPages,
} from '../../bench/fleet.js';
import type { BenchReport } from '../../bench/run.js';
import type { FunctionWork } from '../../bench/stream.js';
import { deriveStreamRow, type StreamRow, streamTargetsOf } from '../../bench/stream-fleet.js';
import { deriveSweepRow, type SweepRow } from '../../bench/sweep-fleet.js';
import { formatTable } from '../../bench/table.js';
import { SWEEP_MIN_PAGE_MS } from '../../lambdas/domain/sweep.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const KEYS = 2;
const FLEET_SIMULATED = 10_000;

/** Runs the real CLI once at small sizes; every test reads that one report. */
let report: BenchReport;
let stdout: string;

beforeAll(async () => {
  const cli = resolve(ROOT, 'node_modules', '.bin', 'tsx');
  const args = ['bench/cli.ts', '--json', '--keys', String(KEYS), '--background', '1000'];
  // The search sweep simulates only 10^4 records a day (10^6 and 10^8 from its page counts); the
  // subscription runs 10 keys at every volume and more keys at 10^4 (above it derived).
  const fleet = [
    '--fleet-days',
    '1',
    '--fleet-max-per-day',
    String(FLEET_SIMULATED),
    '--fleet-max-key-records',
    String(1000 * FLEET_SIMULATED),
  ];
  const result = await run(cli, [...args, '--placements', '2', '--cold-runs', '1', ...fleet], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  stdout = result.stdout;
  report = JSON.parse(stdout) as BenchReport;
}, 600_000);

describe('npm run bench -- --json', () => {
  it('prints one JSON object with every key the issue tracks', () => {
    // Prepare
    const required = [
      'scanRatio',
      'baselineScanRatio',
      'transitionsPerKey',
      'lambdaInvocationsPerKey',
      'costPerKeyUsd',
      'detectionLatencyMinutes',
      'bundles',
      'simulatorKeysPerSecond',
      'synthSeconds',
      'unguardedMinutesBeforeDeletion',
      'unguardedMinutesPollingOnly',
    ];

    // Act
    const missing = required.filter((key) => !(key in report));

    // Assess
    expect(missing).toEqual([]);
    expect(stdout.trim().startsWith('{')).toBe(true);
  });

  it('measures every figure as a number, never a placeholder', () => {
    // Prepare
    const numbers = [
      report.scanRatio,
      report.baselineScanRatio,
      report.transitionsPerKey,
      report.lambdaInvocationsPerKey,
      report.costPerKeyUsd,
      report.detectionLatencyMinutes.p50,
      report.detectionLatencyMinutes.max,
      report.synthSeconds,
      report.unguardedMinutesBeforeDeletion,
      report.unguardedMinutesPollingOnly,
      report.scan.finalRescanScanned,
      report.scan.pending.scanned,
      report.scan.pending.incrementalScanned,
      ...report.bundles.flatMap((b) => [b.bytes, b.coldImportMs]),
      ...Object.values(report.simulatorKeysPerSecond),
    ];

    // Act
    const bad = numbers.filter((n) => typeof n !== 'number' || !Number.isFinite(n) || n <= 0);

    // Assess
    expect(bad).toEqual([]);
    expect(Object.keys(report.simulatorKeysPerSecond).sort()).toEqual(['1', String(KEYS)]);
    expect(report.simulatorWorkers).toBeGreaterThanOrEqual(1);
    expect(report.simulatorWorkers).toBeLessThanOrEqual(KEYS);
    expect(report.bundles.map((b) => b.name)).toEqual(expect.arrayContaining(['check', 'disable', 'assess']));
    for (const bundle of report.bundles) {
      expect(Object.keys(bundle)).toEqual(expect.arrayContaining(['name', 'bytes', 'coldImportMs']));
    }
  });

  it('counts the checks outside the state machine as invocations, not as transitions', () => {
    // Assess: 30 days of 6-hour checks in each of the two watches.
    const { cost } = report;
    expect(cost.checks).toBeGreaterThanOrEqual(2 * 119);
    expect(report.lambdaInvocationsPerKey).toBeGreaterThanOrEqual(cost.checks);
    expect(cost.transitionsFloor).toBeGreaterThanOrEqual(2 * cost.checks);
    expect(Object.values(cost.apiRequestsPerKey).reduce((a, b) => a + b, 0)).toBeGreaterThan(
      cost.workflowKmsRequests,
    );
  });

  it('compares the incremental scan with the re-scan baseline of the same run', () => {
    // Assess: re-scanning from the disable time reads each window again at every later check.
    expect(report.scan.checks).toBeGreaterThan(100);
    expect(report.baselineScanRatio).toBeGreaterThan(report.scanRatio);
    expect(report.scan.eventsInWindow).toBeGreaterThan(0);
  });

  it('shows what finding late records costs: FinalCheck and every pending check re-search the whole hold', () => {
    // Assess: the decisions read more than incremental checks would, and less than re-scanning at every check.
    const { scan } = report;
    expect(scan.finalRescanScanned).toBeGreaterThan(0);
    expect(scan.incrementalScanRatio).toBeLessThan(report.scanRatio);
    expect(scan.pending.checks).toBeGreaterThan(100);
    expect(scan.pending.scanned).toBeGreaterThan(scan.pending.incrementalScanned);
  });

  it('measures the unguarded stretch before the deletion date: about the EventBridge lag with the fast path', () => {
    // Prepare
    const { unguarded } = report;
    const fastPath = unguarded.fastPath;

    // Assess: a failure a few minutes before the deletion date is still answered by the fast path; the
    // polling watch alone leaves the delivery lag plus the last check's lead unguarded.
    expect(fastPath).not.toBeNull();
    expect(report.unguardedMinutesBeforeDeletion).toBe(fastPath?.minutes);
    expect(report.unguardedMinutesBeforeDeletion).toBeLessThanOrEqual(unguarded.eventBridgeLagMinutes + 5);
    expect(report.unguardedMinutesPollingOnly).toBeGreaterThan(report.unguardedMinutesBeforeDeletion);
    expect(report.unguardedMinutesPollingOnly).toBeLessThanOrEqual(
      unguarded.deliveryLagMinutes + unguarded.lastCheckLeadMinutes + 5,
    );
    // Every sampled failure earlier than the stretch was answered, every one inside it was not.
    for (const summary of [unguarded.polling, fastPath]) {
      for (const sample of summary?.samples ?? []) {
        expect(sample.answered, `${sample.minutesBefore} min`).toBe(
          sample.minutesBefore >= (summary?.minutes ?? 0),
        );
      }
    }
    expect(report.targets.find((t) => t.figure === 'unguardedMinutesBeforeDeletion')?.met).toBe(true);
  });

  it('prints the table with all seven figures beside their baselines', () => {
    // Act
    const table = formatTable(report);

    // Assess
    for (const figure of ['| 1. ', '| 2. ', '| 3. ', '| 4. Bundle check', '| 5. ', '| 6. ', '| 7. ']) {
      expect(table).toContain(figure);
    }
    expect(table).toContain('Baseline (same run)');
    expect(table).toContain('re-scan from disable time');
  });

  it('prints the fleet: one row per keys held x records a day, every figure measured', () => {
    // Prepare
    const rows = report.fleet ?? [];
    const figures = rows.flatMap((r) => [
      r.logSearchRequestsPerDay,
      r.eventsScannedPerDay,
      r.eventsIngestedPerDay,
      r.eventsDeliveredPerDay,
      r.peakLogSearchTps,
      r.maxSearchSecondsPerInvocation,
      r.costPerKeyMonthUsd,
      r.deliveries.invocations,
      r.proof.invocations,
    ]);

    // Act
    const cells = rows.map((r) => `${r.keys}x${r.eventsPerDay}`);

    // Assess: 10 keys run every volume; more keys run 10^4 and are derived above it.
    expect(cells.sort()).toEqual(
      [10, 100, 1000].flatMap((n) => [10_000, 1_000_000, 100_000_000].map((v) => `${n}x${v}`)).sort(),
    );
    expect(figures.filter((n) => !Number.isFinite(n) || n <= 0)).toEqual([]);
    for (const row of rows) {
      expect(row.eventsIngestedPerDay).toBeGreaterThanOrEqual(row.eventsPerDay);
      expect(row.measuredBy).toEqual(
        row.keys === 10 || row.eventsPerDay <= FLEET_SIMULATED
          ? { hours: 2 }
          : {
              derivedFrom: { keys: row.keys, eventsPerDay: FLEET_SIMULATED },
              volumeFrom: { keys: 10, eventsPerDay: row.eventsPerDay },
            },
      );
    }
  });

  it("runs the real subscription for every held key: the proof fresh and standing since before every hold, every delivered failure and latest canary in its hold's sightings", () => {
    // Prepare
    const run = (report.fleet ?? []).filter((r) => 'hours' in r.measuredBy);

    // Assess
    expect(run).toHaveLength(5);
    for (const row of run) {
      const c = row.correctness;
      expect(row.failedInvocations, `${row.keys}x${row.eventsPerDay}`).toBe(0);
      expect(c?.holds).toBe(row.keys);
      expect(c?.proofAgeMinutes).toBeLessThanOrEqual(c?.proofMaxAgeMinutes ?? 0);
      expect(c?.holdsCovered).toBe(row.keys);
      expect(c?.failures).toBeGreaterThan(0);
      expect(c?.failuresSighted).toBe(c?.failures);
      // Every hold but those disabled less than a check interval before the day's end has a canary delivered.
      expect(c?.canariesDue).toBeGreaterThan(row.keys * 0.95);
      expect(c?.canariesSighted).toBe(c?.canariesDue);
    }
  });

  it("reads nothing of the log group: no FilterLogEvents, the proof's requests the same at any keys or volume, each event matched once", () => {
    // Prepare
    const rows = report.fleet ?? [];

    // Assess: one DescribeSubscriptionFilters and one GetMetricData of the delivery metrics every 5 minutes.
    for (const row of rows) {
      const cell = `${row.keys}x${row.eventsPerDay}`;
      expect(row.filterLogEventsPerDay, cell).toBe(0);
      expect(row.describeSubscriptionFiltersPerDay, cell).toBe(288);
      expect(row.getMetricDataPerDay, cell).toBe(288);
      expect(row.metricsRequestedPerDay, cell).toBe(rows[0]?.metricsRequestedPerDay);
      expect(row.metricsRequestedPerDay, cell).toBeGreaterThanOrEqual(7 * 288);
      expect(row.logSearchRequestsPerDay, cell).toBe(2 * 288);
      expect(row.eventsScannedPerDay, cell).toBe(row.eventsIngestedPerDay);
      expect(row.peakLogSearchTps, cell).toBeLessThanOrEqual(2);
      expect(row.maxSearchSecondsPerInvocation, cell).toBeLessThanOrEqual(240);
      // The trail's failed KMS calls are delivered (3 in 100 of the background), never more than it ingested.
      expect(row.eventsDeliveredPerDay, cell).toBeGreaterThan(row.eventsPerDay * 0.025);
      expect(row.eventsDeliveredPerDay, cell).toBeLessThan(row.eventsIngestedPerDay);
    }
    // The batches follow the volume: at 10^8 several a minute, each at most 10,000 events.
    const busiest = rows.find((r) => r.keys === 10 && r.eventsPerDay === 100_000_000);
    expect(busiest?.deliveries.invocations).toBeGreaterThan(2 * 1440);
    expect(
      (busiest?.eventsDeliveredPerDay ?? 0) / (busiest?.deliveries.invocations ?? 1),
    ).toBeLessThanOrEqual(10_000);
  });

  it("costs each key its share of both functions, the metrics, DynamoDB and its checks' reads", () => {
    // Prepare
    const rows = report.fleet ?? [];

    // Assess
    for (const row of rows) {
      const parts = Object.values(row.cost);
      expect(
        parts.every((usd) => usd > 0),
        `${row.keys}x${row.eventsPerDay}`,
      ).toBe(true);
      expect(row.costPerKeyMonthUsd).toBeCloseTo(
        parts.reduce((a, b) => a + b, 0),
        12,
      );
      expect(row.deliveries.memoryMb).toBe(512);
      expect(row.deliveriesTable.readUnits).toBeGreaterThan(0);
      expect(row.proofTable.writeUnits).toBe(288);
    }
    // The proof's metrics are shared: a key's share falls with the keys held.
    const at = (keys: number) => rows.find((r) => r.keys === keys && r.eventsPerDay === 10_000);
    expect(at(1000)?.cost.metrics).toBeCloseTo((at(10)?.cost.metrics ?? 0) / 100, 9);
  });

  it("runs the search sweep beside it as a comparison: each hold's sightings written, fresh, holding its key's failures", () => {
    // Prepare
    const rows = report.fleetDetails?.searchSweep.rows ?? [];
    const run = rows.filter((r) => r.eventsPerDay <= FLEET_SIMULATED);

    // Assess: 10 and 100 keys in the whole bench (1,000 with --only-fleet).
    expect(rows.map((r) => `${r.keys}x${r.eventsPerDay}`).sort()).toEqual(
      [10, 100].flatMap((n) => [10_000, 1_000_000, 100_000_000].map((v) => `${n}x${v}`)).sort(),
    );
    expect(run).toHaveLength(2);
    for (const row of run) {
      const c = row.correctness;
      expect(row.sweepError, `${row.keys} keys`).toBeNull();
      expect(row.measuredBy).toEqual({ hours: 2 });
      expect(c?.holds).toBe(row.keys);
      expect(c?.sightingsWritten).toBe(row.keys);
      expect(c?.fresh).toBe(row.keys);
      expect(c?.oldestSightingsMinutes).toBeLessThanOrEqual(65);
      expect(c?.failures).toBeGreaterThan(0);
      expect(c?.failuresSighted).toBe(c?.failures);
    }
  });

  it('the search sweep searches once an interval whatever the keys: the same requests, one page at a time, each invocation within 240 s', () => {
    // Prepare
    const run = (report.fleetDetails?.searchSweep.rows ?? []).filter(
      (r) => r.eventsPerDay <= FLEET_SIMULATED,
    );
    const requests = run.map((r) => r.logSearchRequestsPerDay);

    // Assess: one sweep an hour reads the span of the oldest hold, about the same pages at 10 or 100 keys.
    for (const row of run) {
      expect(row.sweepsPerDay).toBe(24);
      expect(row.maxSearchSecondsPerInvocation).toBeLessThanOrEqual(240);
      expect(row.peakLogSearchTps).toBeLessThanOrEqual(Math.ceil(1000 / PAGE_LATENCY_MS));
      expect(row.sweepInvocationsPerDay).toBe(288);
      // Each sweep reads the 14-day span again: scanned is about span / interval times what is ingested.
      expect(row.eventsScannedPerDay / row.eventsIngestedPerDay).toBeGreaterThan(100);
    }
    expect(Math.max(...requests) / Math.min(...requests)).toBeLessThanOrEqual(1.5);
  });

  it("scales one key's measured work by the keys held in the per-key design it compares with", () => {
    // Prepare
    const perKey = report.fleetDetails?.perKey ?? [];
    const simulated = perKey.find((w) => w.measuredBy === 'simulated');

    // Act
    const rows = (report.fleetDetails?.perKeyDesign.rows ?? []).filter(
      (r) => r.eventsPerDay === simulated?.eventsPerDay,
    );

    // Assess: the simulated key searched in its checks and its assessment, and each row is its work a day, N times.
    expect(simulated?.byHandler.map((h) => h.handler)).toEqual(expect.arrayContaining(['assess', 'check']));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const days = simulated?.runDays ?? Number.NaN;
      expect(row.logSearchRequestsPerDay).toBeCloseTo(
        (row.keys * (simulated?.searchRequests ?? 0)) / days,
        6,
      );
      expect(row.eventsScannedPerDay).toBeCloseTo((row.keys * (simulated?.eventsScanned ?? 0)) / days, 3);
    }
  });

  it('derives the busier volumes by page counts: events scale with the records, the assessment stays in its budget', () => {
    // Prepare
    const perKey = report.fleetDetails?.perKey ?? [];
    const [base, ...derived] = perKey;

    // Assess
    expect(base?.measuredBy).toBe('simulated');
    expect(derived.length).toBe(2);
    for (const work of derived) {
      const factor = work.eventsPerDay / (base?.eventsPerDay ?? Number.NaN);
      const checkScanned = work.eventsScanned - work.assessScanned;
      expect(checkScanned).toBeCloseTo(((base?.eventsScanned ?? 0) - (base?.assessScanned ?? 0)) * factor, 0);
      expect(work.searchRequests - work.assessRequests).toBe(Math.ceil(checkScanned / 5000));
      expect(work.assessRequests).toBeLessThanOrEqual(150);
      // Split as the code splits it: more pages, more invocations, none searching over 240 s.
      expect(work.maxPagesPerCheck).toBeGreaterThan(base?.maxPagesPerCheck ?? Number.POSITIVE_INFINITY);
      expect(work.searchInvocations).toBeGreaterThan(base?.searchInvocations ?? Number.POSITIVE_INFINITY);
      expect(work.maxSearchSecondsPerInvocation).toBeLessThanOrEqual(240);
      expect(work.maxPagesPerInvocation).toBeLessThanOrEqual(maxPagesPerInvocation(300_000));
    }
    // 10^8 is 10^4 times the simulated volume: its longest check search needs many invocations.
    expect(derived.at(-1)?.maxInvocationsPerCheckSearch).toBeGreaterThan(1);
  });

  it('holds every fleet figure against its target, and the subscription meets them all', () => {
    // Prepare
    const targets = report.fleetTargets ?? [];
    const sweepTargets = report.fleetDetails?.searchSweep.targets ?? [];
    const perKeyTargets = report.fleetDetails?.perKeyDesign.targets ?? [];
    const bound = (text: string) => Number(/<= ([\d.]+)/.exec(text)?.[1]);

    // Assess: growth, scan, invocation time and failed cells for each volume, and the peak at 1,000 keys and 10^6 a day.
    expect(targets).toHaveLength(13);
    for (const target of [...targets, ...sweepTargets, ...perKeyTargets]) {
      expect(target.met, target.figure).toBe(target.measured <= bound(target.target));
    }
    expect(targets.filter((t) => !t.met).map((t) => t.figure)).toEqual([]);
    // Requests do not grow with the keys at all; in the per-key design 100 times the keys ask 100 times the requests.
    const growth = (list: typeof targets) =>
      list.filter((t) => t.figure.startsWith('fleet.logSearchRequestsPerDay')).map((t) => t.measured);
    expect(growth(targets)).toEqual([1, 1, 1]);
    expect(growth(perKeyTargets).map(Math.round)).toEqual([100, 100, 100]);
    // The search sweep re-reads the hold span (scanned / ingested far over 1.3), and at 10^8 never ends.
    expect(sweepTargets.filter((t) => t.figure.includes('eventsScannedPerDay')).every((t) => !t.met)).toBe(
      true,
    );
    const never = sweepTargets.find((t) => t.figure.startsWith('fleet sweeps that fail at 100000000'));
    expect(never?.measured).toBe(2);
  });

  it('prints the fleet table and its targets after the figures, then the comparisons', () => {
    // Act
    const table = formatTable(report);
    const at = (text: string) => table.indexOf(text);

    // Assess
    expect(table).toContain('| Keys held | Records/day | Log search requests/day');
    expect(table).toContain('| 1,000 | 10^8 | 576 (0 / 288 / 288) |');
    expect(table).toContain('derived: 1,000 keys at 10^4 + 10 keys at 10^8');
    expect(at('Fleet, the subscription source')).toBeGreaterThan(at('| 7. '));
    expect(at('| Fleet target | Measured | Target | Met |')).toBeGreaterThan(
      at('Fleet, the subscription source'),
    );
    expect(at('Comparison, the search sweep')).toBeGreaterThan(at('| Fleet target |'));
    expect(at('| Search sweep target |')).toBeGreaterThan(at('Comparison, the search sweep'));
    expect(at('Comparison, the per-key design')).toBeGreaterThan(at('| Search sweep target |'));
    expect(table).toContain('Scanned / ingested: every sweep reads the whole span of the oldest hold again');
  });
});

describe('fleetRow', () => {
  const work: KeyWorkAtVolume = {
    eventsPerDay: 1_000_000,
    measuredBy: 'simulated',
    runDays: 2,
    searchRequests: 400,
    eventsScanned: 2_000_000,
    assessRequests: 150,
    assessScanned: 7500,
    eventsIngestedPerDay: 1_000_020,
    searchInvocations: 12,
    byHandler: [
      {
        handler: 'check',
        invocations: 10,
        searches: 8,
        pages: 250,
        maxPagesPerInvocation: 40,
        maxSearchMsPerInvocation: 12_000,
        maxInvocationsPerSearch: 3,
      },
    ],
    longestSearchHandler: 'check',
    maxPagesPerInvocation: 150,
    maxSearchSecondsPerInvocation: 45,
    maxInvocationsPerCheckSearch: 3,
    checkSearchInvocationLimit: 90,
    maxPagesPerCheck: 40,
    searchGbSeconds: 30,
    otherUsd: 0.002,
    wallSeconds: 1,
  };

  it("is one key's work a day times the keys held; the peak is N searches paging at once", () => {
    // Act
    const row = fleetRow(100, work);

    // Assess
    expect(row.logSearchRequestsPerDay).toBe(100 * 200);
    expect(row.searchInvocationsPerDay).toBe(100 * 6);
    expect(row.eventsScannedPerDay).toBe(100 * 1_000_000);
    expect(row.eventsIngestedPerDay).toBe(1_000_020);
    expect(row.peakLogSearchTps).toBeCloseTo((100 * 1000) / PAGE_LATENCY_MS, 9);
    expect(row.maxSearchSecondsPerInvocation).toBe(45);
    expect(row.maxInvocationsPerCheckSearch).toBe(3);
    expect(row.costPerKeyMonthUsd).toBeCloseTo(30 * (15 * PRICES.lambdaGbSecond + 0.001), 12);
  });

  it('asks one request a second per key when its searches are single pages', () => {
    // Act
    const row = fleetRow(10, { ...work, maxPagesPerCheck: 1 });

    // Assess
    expect(row.peakLogSearchTps).toBe(10);
  });
});

describe('fleetTargetsOf', () => {
  it('meets the targets only where every cell does', () => {
    // Prepare: a fleet whose work does not grow with the keys (the sweep's aim), but whose busiest
    // volume's search is too long, and whose check search at 10^6 needs more invocations than it may.
    const rows = [10, 100, 1000].flatMap((keys) =>
      [10_000, 1_000_000, 100_000_000].map((eventsPerDay) => ({
        keys,
        eventsPerDay,
        logSearchRequestsPerDay: 1000,
        searchInvocationsPerDay: 500,
        eventsScannedPerDay: eventsPerDay * 1.1,
        eventsIngestedPerDay: eventsPerDay,
        peakLogSearchTps: 2,
        meanLogSearchTps: 0.01,
        maxSearchSecondsPerInvocation: eventsPerDay === 100_000_000 ? 241 : 60,
        maxInvocationsPerCheckSearch: eventsPerDay === 1_000_000 ? 91 : 2,
        checkSearchInvocationLimit: 90,
        costPerKeyMonthUsd: 0.01,
        measuredBy: 'simulated' as const,
      })),
    );

    // Act
    const targets = fleetTargetsOf(rows);

    // Assess
    expect(targets.filter((t) => !t.met).map((t) => t.figure)).toEqual([
      'fleet.maxSearchSecondsPerInvocation at 100000000 records/day',
      'fleet.maxInvocationsPerCheckSearch at 1000000 records/day',
    ]);
  });
});

describe('splitPages', () => {
  it('splits a search into invocations of at most 240 s of pages, or fewer when the function has less time', () => {
    // Act
    const check = splitPages(2000, 300_000);
    const scheduleDeletion = splitPages(250, 60_000);

    // Assess
    expect(maxPagesPerInvocation(300_000)).toBe(Math.floor(240_000 / PAGE_LATENCY_MS));
    expect(check).toEqual([800, 800, 400]);
    expect(scheduleDeletion).toEqual([200, 50]);
    expect(splitPages(800, 300_000)).toEqual([800]);
    expect(Math.max(...check) * PAGE_LATENCY_MS).toBeLessThanOrEqual(240_000);
  });
});

describe('deriveSweepRow', () => {
  const options = {
    keys: [10],
    volumes: [10_000],
    maxSimulatedPerDay: 10_000,
    busyHours: 2,
    holdSpanDays: 14,
    checkIntervalHours: 6,
    intervalSeconds: 3600,
    ingestionLagSeconds: 1800,
    pageSize: 5000,
    pageLatencyMs: PAGE_LATENCY_MS,
    searchTps: 5,
    memoryMb: 256,
    checkUsdPerKeyDay: 0.0001,
  };
  const base: SweepRow = {
    keys: 10,
    eventsPerDay: 10_000,
    logSearchRequestsPerDay: 24 * 30,
    eventsScannedPerDay: 24 * 150_000,
    eventsIngestedPerDay: 10_040,
    peakLogSearchTps: 4,
    maxSearchSecondsPerInvocation: 9,
    costPerKeyMonthUsd: 0.01,
    searchInvocationsPerDay: 24,
    sweepInvocationsPerDay: 288,
    sweepsPerDay: 24,
    pagesPerSweep: 30,
    invocationsPerSweep: 1,
    maxPagesPerInvocation: 30,
    eventsReturnedPerDay: 24 * 4500,
    sweepMinutes: 0,
    maxSightingsAgeMinutes: 60,
    sweepError: null,
    correctness: null,
    measuredBy: { hours: 2 },
    wallSeconds: 1,
  };

  it('splits a busier sweep as the search stops (at most 240 s of pages an invocation, one every 5 minutes)', () => {
    // Act
    const row = deriveSweepRow(base, 1_000_000, options);

    // Assess: 100 times the pages, 471 an invocation at the sweep's pace of one page per 500 ms (the
    // last page leaves 5 s of the 240 s).
    expect(row.pagesPerSweep).toBe(3000);
    expect(row.invocationsPerSweep).toBe(7);
    expect(row.sweepMinutes).toBe(30);
    expect(row.sweepsPerDay).toBe(24);
    expect(row.logSearchRequestsPerDay).toBe(24 * 3000);
    expect(row.maxSearchSecondsPerInvocation).toBeCloseTo((471 * SWEEP_MIN_PAGE_MS) / 1000, 6);
    expect(row.eventsIngestedPerDay).toBe(1_000_040);
    expect(row.sweepError).toBeNull();
  });

  it('says a sweep longer than a page token lives never ends, and counts every invocation searching', () => {
    // Act
    const row = deriveSweepRow(base, 100_000_000, options);

    // Assess
    expect(row.invocationsPerSweep).toBeGreaterThan((23 * 60) / 5);
    expect(row.sweepsPerDay).toBe(0);
    expect(row.searchInvocationsPerDay).toBe(288);
    expect(row.logSearchRequestsPerDay).toBe(288 * 471);
    expect(row.maxSightingsAgeMinutes).toBe(Number.POSITIVE_INFINITY);
    expect(row.sweepError).toContain('never ends');
  });
});

describe('deriveStreamRow', () => {
  const options = { checkIntervalHours: 6, checkUsdPerKeyDay: 0.0001 };
  const fn = (handler: string, invocations: number, wallMs: number, maxWallMs: number): FunctionWork => ({
    handler,
    memoryMb: handler === 'deliveries' ? 512 : 256,
    timeoutSeconds: 60,
    invocations,
    errors: 0,
    maxVirtualMs: 0,
    maxWallMs,
    wallMs,
  });
  interface Deliveries {
    readonly invocations: number;
    /** Invocations that Scan, the pages, read units and ms of each one's Scan, and the ms of the rest. */
    readonly scanning: number;
    readonly pagesPerScan: number;
    readonly unitsPerScan: number;
    readonly msPerScan: number;
    readonly otherMs: number;
    readonly maxWallMs: number;
  }
  const row = (keys: number, eventsPerDay: number, d: Deliveries): StreamRow => ({
    keys,
    eventsPerDay,
    logSearchRequestsPerDay: 576,
    filterLogEventsPerDay: 0,
    describeSubscriptionFiltersPerDay: 288,
    getMetricDataPerDay: 288,
    metricsRequestedPerDay: 2016,
    eventsScannedPerDay: eventsPerDay + 4 * keys,
    eventsIngestedPerDay: eventsPerDay + 4 * keys,
    eventsDeliveredPerDay: eventsPerDay * 0.03 + 4 * keys,
    peakLogSearchTps: 2,
    maxSearchSecondsPerInvocation: d.maxWallMs / 1000,
    deliveries: fn('deliveries', d.invocations, d.scanning * d.msPerScan + d.otherMs, d.maxWallMs),
    proof: fn('delivery-proof', 288, 3000, 30),
    deliveriesTable: {
      requests: { Scan: d.scanning * d.pagesPerScan, GetItem: 10 * keys, PutItem: 4 * keys },
      units: { Scan: d.scanning * d.unitsPerScan, GetItem: 10 * keys, PutItem: 60 * keys },
      wallMs: { Scan: d.scanning * d.msPerScan },
      readUnits: d.scanning * d.unitsPerScan + 10 * keys,
      writeUnits: 60 * keys,
      scanningInvocations: d.scanning,
    },
    proofTable: {
      requests: { GetItem: 288, PutItem: 288 },
      units: {},
      wallMs: {},
      readUnits: 288,
      writeUnits: 288,
      scanningInvocations: 0,
    },
    lambdaGbSecondsPerDay: 1,
    costPerKeyMonthUsd: 1,
    cost: { lambda: 0.2, metrics: 0.2, dynamoDb: 0.2, checkReads: 0.2, checks: 0.2 },
    failedInvocations: 0,
    correctness: null,
    meanSightingsBytes: 60_000,
    stateBytes: 140,
    measuredBy: { hours: 2 },
    wallSeconds: 1,
  });

  it("adds to the fewest keys' cell at the volume what the larger registry added per Scan at the base volume, and the rest once", () => {
    // Prepare: every delivery Scans; 1,000 keys' Scans take 23 pages, 3,800 units and 900 ms, 10 keys' one page.
    const small = { pagesPerScan: 1, unitsPerScan: 40, msPerScan: 5 };
    const base = row(1000, 1_000_000, {
      invocations: 1440,
      scanning: 1440,
      pagesPerScan: 23,
      unitsPerScan: 3800,
      msPerScan: 900,
      otherMs: 100_000,
      maxWallMs: 1800,
    });
    const fewestAtBase = row(10, 1_000_000, {
      ...small,
      invocations: 1440,
      scanning: 1440,
      otherMs: 20_000,
      maxWallMs: 120,
    });
    const fewestAtVolume = row(10, 100_000_000, {
      ...small,
      invocations: 4320,
      scanning: 4320,
      otherMs: 190_000,
      maxWallMs: 210,
    });

    // Act
    const derived = deriveStreamRow(base, fewestAtVolume, fewestAtBase, options);

    // Assess: three times the Scans, each the larger registry's; its own records' work once.
    expect(derived.keys).toBe(1000);
    expect(derived.eventsPerDay).toBe(100_000_000);
    expect(derived.deliveries.invocations).toBe(4320);
    expect(derived.deliveriesTable.requests.Scan).toBe(4320 * 23);
    expect(derived.deliveriesTable.units.Scan).toBe(4320 * 3800);
    expect(derived.deliveriesTable.readUnits).toBe(4320 * 3800 + 10 * 1000);
    expect(derived.deliveriesTable.writeUnits).toBe(60 * 1000);
    expect(derived.deliveries.wallMs).toBe(4320 * 900 + 190_000 + 80_000);
    expect(derived.deliveries.maxWallMs).toBe(210 + 1680);
    expect(derived.maxSearchSecondsPerInvocation).toBeCloseTo(1.89, 9);
    expect(derived.eventsIngestedPerDay).toBe(100_000_000 + 4000);
    expect(derived.eventsScannedPerDay).toBe(derived.eventsIngestedPerDay);
    expect(derived.logSearchRequestsPerDay).toBe(576);
    expect(derived.correctness).toBeNull();
    expect(derived.measuredBy).toEqual({
      derivedFrom: { keys: 1000, eventsPerDay: 1_000_000 },
      volumeFrom: { keys: 10, eventsPerDay: 100_000_000 },
    });
    expect(derived.costPerKeyMonthUsd).toBeCloseTo(
      Object.values(derived.cost).reduce((a, b) => a + b, 0),
      12,
    );
  });

  it('refuses cells of different volumes or key counts', () => {
    // Prepare
    const d = {
      invocations: 600,
      scanning: 1,
      pagesPerScan: 1,
      unitsPerScan: 1,
      msPerScan: 1,
      otherMs: 1,
      maxWallMs: 1,
    };
    const base = row(1000, 10_000, d);
    const other = row(10, 1_000_000, d);

    // Act
    const derive = () => deriveStreamRow(base, other, other, options);

    // Assess
    expect(derive).toThrow(/fewest keys at its volume and at the base/);
  });
});

describe('streamTargetsOf', () => {
  it('fails the growth target when the requests grow with the keys, and the scan target when a search re-reads the group', () => {
    // Prepare: a fleet whose requests grow with the keys at 10^4 and that searches at 10^6.
    const rows = [10, 100, 1000].flatMap((keys) =>
      [10_000, 1_000_000, 100_000_000].map(
        (eventsPerDay) =>
          ({
            keys,
            eventsPerDay,
            logSearchRequestsPerDay: eventsPerDay === 10_000 ? 576 * keys : 576,
            eventsScannedPerDay: eventsPerDay === 1_000_000 ? eventsPerDay * 2 : eventsPerDay,
            eventsIngestedPerDay: eventsPerDay,
            peakLogSearchTps: 2,
            maxSearchSecondsPerInvocation: 2,
            failedInvocations: 0,
          }) as StreamRow,
      ),
    );

    // Act
    const targets = streamTargetsOf(rows, {
      keys: [10, 100, 1000],
      volumes: [10_000, 1_000_000, 100_000_000],
      searchTps: 5,
    });

    // Assess
    expect(targets).toHaveLength(13);
    expect(targets.filter((t) => !t.met).map((t) => t.figure)).toEqual([
      'fleet.logSearchRequestsPerDay at 10000 records/day: 1000 keys / 10 keys',
      'fleet.eventsScannedPerDay / eventsIngestedPerDay at 1000000 records/day, worst of 10, 100, 1000 keys',
    ]);
  });

  it('fails the peak over half the quota, an invocation over 240 s and a failed cell', () => {
    // Prepare
    const rows = [10, 1000].flatMap((keys) =>
      [1_000_000].map(
        (eventsPerDay) =>
          ({
            keys,
            eventsPerDay,
            logSearchRequestsPerDay: 576,
            eventsScannedPerDay: eventsPerDay,
            eventsIngestedPerDay: eventsPerDay,
            peakLogSearchTps: keys === 1000 ? 3 : 2,
            maxSearchSecondsPerInvocation: keys === 1000 ? 241 : 2,
            failedInvocations: keys === 10 ? 1 : 0,
          }) as StreamRow,
      ),
    );

    // Act
    const targets = streamTargetsOf(rows, { keys: [10, 1000], volumes: [1_000_000], searchTps: 5 });

    // Assess
    expect(targets.filter((t) => !t.met).map((t) => t.figure.split(' at ')[0])).toEqual([
      'fleet.peakLogSearchTps',
      'fleet.maxSearchSecondsPerInvocation',
      'fleet cells that fail',
    ]);
  });
});
