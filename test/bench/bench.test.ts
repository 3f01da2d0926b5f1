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
  // The fleet simulates only 10^4 records a day; 10^6 and 10^8 come from its page counts.
  const fleet = ['--fleet-days', '1', '--fleet-max-per-day', String(FLEET_SIMULATED)];
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
      r.searchInvocationsPerDay,
      r.eventsScannedPerDay,
      r.eventsIngestedPerDay,
      r.peakLogSearchTps,
      r.maxSearchSecondsPerInvocation,
      r.costPerKeyMonthUsd,
    ]);

    // Act
    const cells = rows.map((r) => `${r.keys}x${r.eventsPerDay}`);

    // Assess
    expect(cells.sort()).toEqual(
      [10, 100, 1000].flatMap((n) => [10_000, 1_000_000, 100_000_000].map((v) => `${n}x${v}`)).sort(),
    );
    expect(figures.filter((n) => !Number.isFinite(n) || n < 0)).toEqual([]);
    for (const row of rows) {
      expect(row.eventsIngestedPerDay).toBeGreaterThanOrEqual(row.eventsPerDay);
      expect(row.measuredBy).toEqual(
        row.eventsPerDay <= FLEET_SIMULATED ? { hours: 2 } : { pageCountsFrom: FLEET_SIMULATED },
      );
    }
  });

  it("runs the real sweep for every held key: each hold's sightings written, fresh, holding its key's failures", () => {
    // Prepare
    const run = (report.fleet ?? []).filter((r) => r.eventsPerDay <= FLEET_SIMULATED);

    // Assess: the checks of every hold would find their sightings, an interval old at most, with the failures made on their key.
    expect(run).toHaveLength(3);
    for (const row of run) {
      const c = row.correctness;
      expect(row.sweepError, `${row.keys} keys`).toBeNull();
      expect(c?.holds).toBe(row.keys);
      expect(c?.sightingsWritten).toBe(row.keys);
      expect(c?.fresh).toBe(row.keys);
      expect(c?.oldestSightingsMinutes).toBeLessThanOrEqual(65);
      expect(c?.failures).toBeGreaterThan(0);
      expect(c?.failuresSighted).toBe(c?.failures);
    }
  });

  it('searches once an interval whatever the keys: the same requests, one page at a time, each invocation within 240 s', () => {
    // Prepare
    const run = (report.fleet ?? []).filter((r) => r.eventsPerDay <= FLEET_SIMULATED);
    const requests = run.map((r) => r.logSearchRequestsPerDay);

    // Assess: one sweep an hour reads the span of the oldest hold, about the same pages at 10 or 1,000 keys.
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

  it('holds every fleet figure against its target and says which are met', () => {
    // Prepare
    const targets = report.fleetTargets ?? [];
    const perKeyTargets = report.fleetDetails?.perKeyDesign.targets ?? [];
    const bound = (text: string) => Number(/<= ([\d.]+)/.exec(text)?.[1]);

    // Assess: growth, scan, search time and failed sweeps for each volume, and the peak at 1,000 keys and 10^6 a day.
    expect(targets).toHaveLength(13);
    for (const target of [...targets, ...perKeyTargets]) {
      expect(target.met, target.figure).toBe(target.measured <= bound(target.target));
    }
    // The sweep's requests hardly grow with the keys; in the per-key design 100 times the keys ask 100 times the requests.
    const growth = (list: typeof targets) =>
      list.filter((t) => t.figure.startsWith('fleet.logSearchRequestsPerDay')).map((t) => t.measured);
    expect(growth(targets)[0]).toBeLessThanOrEqual(1.5);
    expect(growth(perKeyTargets).map(Math.round)).toEqual([100, 100, 100]);
    // 10^8 by page counts: a sweep longer than a page token lives never ends, and the table says so.
    const never = targets.find((t) => t.figure.startsWith('fleet sweeps that fail at 100000000'));
    expect(never?.measured).toBe(3);
  });

  it('prints the fleet table and its targets after the figures', () => {
    // Act
    const table = formatTable(report);

    // Assess
    expect(table).toContain('| Keys held | Records/day |');
    expect(table).toContain('| 1,000 | 10^8 |');
    expect(table).toContain('page counts from 10^4');
    expect(table).toContain('| Fleet target | Measured | Target | Met |');
    expect(table).toContain('Comparison, the per-key design');
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
