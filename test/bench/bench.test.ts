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

  it('prints the table with all six figures beside their baselines', () => {
    // Act
    const table = formatTable(report);

    // Assess
    for (const figure of ['| 1. ', '| 2. ', '| 3. ', '| 4. Bundle check', '| 5. ', '| 6. ']) {
      expect(table).toContain(figure);
    }
    expect(table).toContain('Baseline (same run)');
    expect(table).toContain('re-scan from disable time');
  });
});
