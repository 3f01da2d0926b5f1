/**
 * `npm run bench`: the figures of README.md "Cost and performance" (log scan, state transitions
 * and cost per key, detection latency, bundles, simulator throughput, synth time, and how long
 * before the deletion date a failure goes unanswered), each beside a baseline measured in the same run.
 * Every figure comes from the code as it is: the synthesized app, its bundles, and the simulator
 * running the real definition and handlers in virtual time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildBaselineBundle,
  coldImportMs,
  deployedFunctions,
  fileBytes,
  type SynthTemplate,
  synthApp,
} from './artifacts.js';
import { type CostFigures, type HandlerFacts, measureCost } from './cost.js';
import { FLEET_KEYS, type FleetFigures, measureFleet } from './fleet.js';
import { type LatencyFigures, measureLatency } from './latency.js';
import { measureScan, type ScanFigures } from './scan.js';
import { measureThroughput, startThroughputWorkers } from './throughput.js';
import { measureUnguarded, type UnguardedFigures } from './unguarded.js';

export interface BenchOptions {
  /**
   * Unrelated CloudTrail records in the log group of the scan figure. The figure README.md reports
   * is measured with the default 100,000; smaller counts only keep a test run short.
   */
  readonly background: number;
  /**
   * Quiet keys of the larger throughput run. 100 by default: with real SDK clients a quiet key makes
   * about 2,000 requests through its 60 simulated days (~1.5 s of CPU), so 1,000 keys take about
   * 12 minutes on two cores, beyond the five minutes the whole default run must fit in; ask for
   * them with `--keys 1000`.
   */
  readonly keys: number;
  /** Placements of the failure within one check cycle. */
  readonly placements: number;
  /** Fresh processes per bundle for the cold import median. */
  readonly coldRuns: number;
  /** Worker threads of the larger throughput run (one per core by default). */
  readonly workers: number;
  /** The fleet table (keys held at once x records a day); false skips it. */
  readonly fleet: boolean;
  /** Observation days of the fleet's one-key runs (6-hour checks, then the 7-day pending window). */
  readonly fleetDays: number;
  /**
   * The largest volume (records a day) the search sweep, a comparison, simulates page by page;
   * larger ones are derived from it by page counts. 10^4 in the whole bench, at 10 and 100 keys (its
   * 1,000-key cell alone takes over three minutes: the sightings of every hold written every sweep;
   * at 10^6 its cells take about six minutes more); `--only-fleet` runs 1,000 keys and 10^6.
   */
  readonly fleetMaxPerDay: number;
  /**
   * The subscription's cells run for real while keys held x records a day stay within this (10 keys
   * run every volume); the others are derived (bench/stream-fleet.ts). 10^8 in the whole bench: at
   * 1,000 keys each delivery Scans the registry, sightings and all (about a second here), and 1,000
   * keys at 10^6 alone take three minutes; `--only-fleet` runs every cell.
   */
  readonly fleetMaxKeyRecords: number;
  readonly log?: (line: string) => void;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  background: 100_000,
  keys: 100,
  placements: 12,
  coldRuns: 10,
  workers: availableParallelism(),
  fleet: true,
  fleetDays: 2,
  fleetMaxPerDay: 10_000,
  fleetMaxKeyRecords: 100_000_000,
};

/** The search sweep's keys: the whole bench leaves out its 1,000-key cell (minutes); `--only-fleet` runs it. */
const BENCH_SEARCH_SWEEP_KEYS = [10, 100] as const;

function fleetLine(options: BenchOptions, searchSweepKeys: readonly number[]) {
  return `fleet: the subscription source at 10, 100, 1000 keys held x 10^4, 10^6, 10^8 records a day (the real handlers; cells over ${options.fleetMaxKeyRecords} keys x records derived, but 10 keys'), the search sweep at ${searchSweepKeys.join(', ')} keys (above ${options.fleetMaxPerDay} by page counts) and the per-key design (${options.fleetDays}-day observation) as comparisons`;
}

export interface BundleFigures {
  readonly name: string;
  readonly bytes: number;
  readonly mapBytes: number;
  readonly coldImportMs: number;
  readonly memoryMb: number;
  readonly baselineBytes: number;
  readonly baselineColdImportMs: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly max: number;
}

export interface TargetCheck {
  readonly figure: string;
  readonly target: string;
  readonly met: boolean;
}

export interface BenchReport {
  readonly date: string;
  readonly node: string;
  readonly options: Omit<BenchOptions, 'log'>;
  readonly scanRatio: number;
  readonly baselineScanRatio: number;
  readonly transitionsPerKey: number;
  readonly lambdaInvocationsPerKey: number;
  readonly lambdaGbSecondsPerKey: number;
  readonly costPerKeyUsd: number;
  readonly detectionLatencyMinutes: Percentiles;
  readonly fastPathLatencyMinutes: Percentiles | null;
  readonly bundles: readonly BundleFigures[];
  readonly simulatorKeysPerSecond: Readonly<Record<string, number>>;
  readonly simulatorWorkers: number;
  readonly synthSeconds: number;
  readonly synthNoBundlingSeconds: number;
  readonly cdkLoadSeconds: number;
  /** Wall-clock time of the whole bench run. */
  readonly benchSeconds: number;
  /**
   * The longest stretch before the deletion date in which a failed call on the key would not be
   * answered (its deletion cancelled) before KMS deletes it, in minutes: with the fast path when the
   * template has one, else the polling watch alone.
   */
  readonly unguardedMinutesBeforeDeletion: number;
  /** The same with every EventBridge delivery dropped: the polling watch alone. */
  readonly unguardedMinutesPollingOnly: number;
  readonly scan: ScanFigures;
  readonly cost: CostFigures;
  readonly latency: LatencyFigures;
  readonly unguarded: UnguardedFigures;
  readonly targets: readonly TargetCheck[];
  /** One row per cell of keys held at once x records a day (null when skipped). */
  readonly fleet: FleetFigures['rows'] | null;
  readonly fleetTargets: FleetFigures['targets'] | null;
  /** How the rows were measured: one key's work at each volume, and the model's constants. */
  readonly fleetDetails: Omit<FleetFigures, 'rows' | 'targets'> | null;
}

export const BUNDLE_BYTES_TARGET = 300 * 1024;
export const COLD_IMPORT_MS_TARGET = 150;
/**
 * Incremental observation checks read each event about once; FinalCheck reads the whole hold once
 * more, so that a record delivered later than the ingestion lag is still found before the decision.
 */
export const SCAN_RATIO_TARGET = 2.2;
/** A failure in the last minutes before the deletion date is answered if EventBridge delivers it this much before. */
export const UNGUARDED_SLACK_MINUTES = 5;
export const TRANSITIONS_TARGET = 200;
export const KEYS_PER_SECOND_TARGET = 100;

function hasFastPath(template: SynthTemplate): boolean {
  return Object.values(template.Resources ?? {}).some(
    (r) =>
      r.Type === 'AWS::Events::Rule' ||
      (r.Type === 'AWS::Lambda::Function' &&
        r.Properties?.Environment?.Variables?.KDG_HANDLER === 'fast-path'),
  );
}

type FleetPart = 'fleet' | 'fleetTargets' | 'fleetDetails';

function targetsOf(report: Omit<BenchReport, 'targets' | FleetPart>): TargetCheck[] {
  const boundMinutes = report.latency.checkIntervalHours * 60 + report.latency.ingestionLagMinutes;
  const checks: TargetCheck[] = [
    { figure: 'scanRatio', target: `<= ${SCAN_RATIO_TARGET}`, met: report.scanRatio <= SCAN_RATIO_TARGET },
    {
      figure: 'transitionsPerKey',
      target: `<= ${TRANSITIONS_TARGET}`,
      met: report.transitionsPerKey <= TRANSITIONS_TARGET,
    },
    {
      figure: 'detectionLatencyMinutes.max',
      target: `<= ${boundMinutes} (check interval + ingestion lag)`,
      met: report.detectionLatencyMinutes.max <= boundMinutes,
    },
  ];
  const unguardedBound =
    (report.unguarded.fastPath
      ? report.unguarded.eventBridgeLagMinutes
      : report.unguarded.deliveryLagMinutes + report.unguarded.lastCheckLeadMinutes) +
    UNGUARDED_SLACK_MINUTES;
  checks.push({
    figure: 'unguardedMinutesBeforeDeletion',
    target: `<= ${unguardedBound} (${report.unguarded.fastPath ? 'EventBridge lag' : 'delivery lag + last check lead'} + ${UNGUARDED_SLACK_MINUTES})`,
    met: report.unguardedMinutesBeforeDeletion <= unguardedBound,
  });
  for (const bundle of report.bundles) {
    checks.push({
      figure: `bundles.${bundle.name}.bytes`,
      target: `<= ${BUNDLE_BYTES_TARGET}`,
      met: bundle.bytes <= BUNDLE_BYTES_TARGET,
    });
    checks.push({
      figure: `bundles.${bundle.name}.coldImportMs`,
      target: `<= ${COLD_IMPORT_MS_TARGET}`,
      met: bundle.coldImportMs <= COLD_IMPORT_MS_TARGET,
    });
  }
  for (const [keys, rate] of Object.entries(report.simulatorKeysPerSecond)) {
    checks.push({
      figure: `simulatorKeysPerSecond.${keys}`,
      target: `>= ${KEYS_PER_SECOND_TARGET}`,
      met: rate >= KEYS_PER_SECOND_TARGET,
    });
  }
  return checks;
}

/** `--only-fleet`: the fleet figures alone (the synth only to read each function's memory). */
export interface FleetOnlyReport {
  readonly date: string;
  readonly node: string;
  readonly options: Omit<BenchOptions, 'log'>;
  readonly benchSeconds: number;
  readonly fleet: FleetFigures['rows'];
  readonly fleetTargets: FleetFigures['targets'];
  readonly fleetDetails: Omit<FleetFigures, 'rows' | 'targets'>;
}

/** A bench run's clock, its progress log (stderr unless `options.log`) and its scratch folder. */
function benchSession(options: BenchOptions) {
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  const write = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (line: string) => write(`${seconds().toFixed(1).padStart(6)} s  ${line}`);
  return { seconds, log, work: mkdtempSync(join(tmpdir(), 'kdg-bench-')) };
}

export async function runFleetOnly(options: BenchOptions = DEFAULT_OPTIONS): Promise<FleetOnlyReport> {
  const { seconds, log, work } = benchSession(options);
  try {
    log('synth: the app in-process, for the functions and their memory');
    const synth = await synthApp({
      noBundling: join(work, 'synth-plain'),
      withBundling: join(work, 'synth'),
    });
    const handlers = new Map<string, HandlerFacts>(
      deployedFunctions(synth.template, synth.outdir).map((fn) => [
        fn.name,
        { memoryMb: fn.memoryMb, coldImportMs: 0 },
      ]),
    );
    log(fleetLine(options, FLEET_KEYS));
    const { rows, targets, ...details } = await measureFleet({
      observationDays: options.fleetDays,
      maxKeyRecordsPerDay: options.fleetMaxKeyRecords,
      maxSimulatedPerDay: options.fleetMaxPerDay,
      searchSweepKeys: FLEET_KEYS,
      handlers,
      log,
    });
    const { log: _log, ...plainOptions } = options;
    return {
      date: new Date().toISOString(),
      node: process.version,
      options: plainOptions,
      benchSeconds: seconds(),
      fleet: rows,
      fleetTargets: targets,
      fleetDetails: details,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function runBench(options: BenchOptions = DEFAULT_OPTIONS): Promise<BenchReport> {
  const { seconds, log, work } = benchSession(options);
  try {
    log('synth: the app in-process, without and with bundling');
    const synth = await synthApp({
      noBundling: join(work, 'synth-plain'),
      withBundling: join(work, 'synth'),
    });

    const functions = deployedFunctions(synth.template, synth.outdir);
    const bundles: BundleFigures[] = [];
    for (const fn of functions) {
      log(`bundle ${fn.name}: ${options.coldRuns} fresh imports of the deployed bundle and of the baseline`);
      const baselinePath = await buildBaselineBundle(fn.name, join(work, 'baseline'));
      bundles.push({
        name: fn.name,
        bytes: fileBytes(fn.bundlePath),
        mapBytes: fileBytes(`${fn.bundlePath}.map`),
        coldImportMs: await coldImportMs(fn.bundlePath, fn.environment, options.coldRuns),
        memoryMb: fn.memoryMb,
        baselineBytes: fileBytes(baselinePath),
        baselineColdImportMs: await coldImportMs(baselinePath, {}, options.coldRuns),
      });
    }
    const fastPath = hasFastPath(synth.template);
    const handlers = new Map<string, HandlerFacts>(
      bundles.map((b) => [b.name, { memoryMb: b.memoryMb, coldImportMs: b.coldImportMs }]),
    );

    // Started now, they warm up while the figures in virtual time run (CPU sharing cannot change those).
    const pool = startThroughputWorkers(options.keys, options.workers);
    const figures = await (async () => {
      log('cost: one quiet key through the default workflow');
      const cost = await measureCost(handlers);
      log(`scan: a 30-day watch over ${options.background} background records, and its re-scan baseline`);
      const scan = await measureScan(options.background);
      log(
        `latency: ${options.placements} placements${fastPath ? ', polling only and with the fast path' : ''}`,
      );
      const latency = await measureLatency(options.placements, fastPath);
      log(
        `unguarded: failures swept over the last ${fastPath ? 'minutes before the deletion date, polling only and with the fast path' : 'minutes before the deletion date'}`,
      );
      const unguarded = await measureUnguarded(fastPath);
      let fleet: FleetFigures | null = null;
      if (options.fleet) {
        log(fleetLine(options, BENCH_SEARCH_SWEEP_KEYS));
        fleet = await measureFleet({
          observationDays: options.fleetDays,
          maxKeyRecordsPerDay: options.fleetMaxKeyRecords,
          maxSimulatedPerDay: options.fleetMaxPerDay,
          searchSweepKeys: BENCH_SEARCH_SWEEP_KEYS,
          handlers,
          log,
        });
      }
      log(
        `throughput: 1 quiet key, then ${options.keys} over ${pool?.workers ?? 1} worker threads (warm first)`,
      );
      const throughput = await measureThroughput(pool, (done, of) => {
        if (done % 50 === 0 || done === of) {
          log(`  ${done}/${of} keys`);
        }
      });
      return { cost, scan, latency, unguarded, fleet, throughput };
    })().finally(() => pool?.stop());
    const { cost, scan, latency, unguarded, fleet, throughput } = figures;

    const { log: _log, ...plainOptions } = options;
    const partial: Omit<BenchReport, 'targets' | FleetPart> = {
      date: new Date().toISOString(),
      node: process.version,
      options: plainOptions,
      scanRatio: scan.scanRatio,
      baselineScanRatio: scan.baselineScanRatio,
      transitionsPerKey: cost.transitionsPerKey,
      lambdaInvocationsPerKey: cost.lambdaInvocationsPerKey,
      lambdaGbSecondsPerKey: cost.lambdaGbSeconds,
      costPerKeyUsd: cost.costPerKeyUsd,
      detectionLatencyMinutes: { p50: latency.polling.p50, max: latency.polling.max },
      fastPathLatencyMinutes: latency.fastPath
        ? { p50: latency.fastPath.p50, max: latency.fastPath.max }
        : null,
      bundles,
      simulatorKeysPerSecond: throughput.keysPerSecond,
      simulatorWorkers: throughput.workers,
      synthSeconds: synth.withBundlingSeconds,
      synthNoBundlingSeconds: synth.noBundlingSeconds,
      cdkLoadSeconds: synth.loadSeconds,
      unguardedMinutesBeforeDeletion: (unguarded.fastPath ?? unguarded.polling).minutes,
      unguardedMinutesPollingOnly: unguarded.polling.minutes,
      benchSeconds: seconds(),
      scan,
      cost,
      latency,
      unguarded,
    };
    const { rows, targets: fleetTargets, ...fleetDetails } = fleet ?? {};
    return {
      ...partial,
      targets: targetsOf(partial),
      fleet: rows ?? null,
      fleetTargets: fleetTargets ?? null,
      fleetDetails: fleet ? (fleetDetails as Omit<FleetFigures, 'rows' | 'targets'>) : null,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
