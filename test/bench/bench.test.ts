import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { BenchReport } from '../../bench/run.js';
import { formatTable } from '../../bench/table.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const KEYS = 2;

/** Runs the real CLI once at small sizes; every test reads that one report. */
let report: BenchReport;
let stdout: string;

beforeAll(async () => {
  const cli = resolve(ROOT, 'node_modules', '.bin', 'tsx');
  const args = ['bench/cli.ts', '--json', '--keys', String(KEYS), '--background', '1000'];
  const result = await run(cli, [...args, '--placements', '2', '--cold-runs', '1'], {
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
});
