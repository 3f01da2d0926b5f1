/**
 * `npm run bench [-- --json] [--keys N] [--background N] [--placements N] [--cold-runs N] [--workers N]
 *   [--fleet-days N] [--fleet-max-per-day N] [--fleet-max-key-records N] [--no-fleet | --only-fleet]`
 * `--only-fleet` measures the fleet table alone (nothing of it skipped: every subscription cell run
 * for real unless `--fleet-max-key-records` says otherwise, the search sweep at 1,000 keys and at
 * 10^6 records a day unless `--fleet-max-per-day` does) and prints it with its targets.
 * Prints the table (or one JSON object) on stdout; progress goes to stderr.
 */
import { type BenchOptions, DEFAULT_OPTIONS, runBench, runFleetOnly } from './run.js';
import { BenchError } from './simulation.js';
import { formatFleet, formatTable } from './table.js';

const ONLY_FLEET_MAX_PER_DAY = 1_000_000;
/** Every subscription cell (1,000 keys x 10^8 records a day). */
const ONLY_FLEET_MAX_KEY_RECORDS = 100_000_000_000;

const NUMBER_FLAGS = {
  '--keys': 'keys',
  '--background': 'background',
  '--placements': 'placements',
  '--cold-runs': 'coldRuns',
  '--workers': 'workers',
  '--fleet-days': 'fleetDays',
  '--fleet-max-per-day': 'fleetMaxPerDay',
  '--fleet-max-key-records': 'fleetMaxKeyRecords',
} as const;

function parseArgs(argv: readonly string[]) {
  let json = false;
  let onlyFleet = false;
  const options: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = { ...DEFAULT_OPTIONS };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--json') {
      json = true;
      continue;
    }
    if (arg === '--only-fleet') {
      onlyFleet = true;
      continue;
    }
    if (arg === '--no-fleet') {
      options.fleet = false;
      continue;
    }
    const field = NUMBER_FLAGS[arg as keyof typeof NUMBER_FLAGS];
    const value = Number(argv[i + 1]);
    if (!field || !Number.isInteger(value) || value < 1) {
      throw new BenchError(
        field ? `${arg} needs a whole number of at least 1` : `unknown argument '${arg}' (see bench/cli.ts)`,
      );
    }
    options[field] = value;
    i += 1;
  }
  if (onlyFleet && !argv.includes('--fleet-max-per-day')) {
    // The fleet alone has the time to run the search sweep at 10^6 records a day for real.
    options.fleetMaxPerDay = ONLY_FLEET_MAX_PER_DAY;
  }
  if (onlyFleet && !argv.includes('--fleet-max-key-records')) {
    // And every subscription cell.
    options.fleetMaxKeyRecords = ONLY_FLEET_MAX_KEY_RECORDS;
  }
  if (onlyFleet && !options.fleet) {
    throw new BenchError('--only-fleet and --no-fleet exclude each other');
  }
  return { json, onlyFleet, options };
}

try {
  const { json, onlyFleet, options } = parseArgs(process.argv.slice(2));
  if (onlyFleet) {
    const report = await runFleetOnly(options);
    const text = formatFleet({ ...report.fleetDetails, rows: report.fleet, targets: report.fleetTargets });
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${text}\n`);
  } else {
    const report = await runBench(options);
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\n`);
  }
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
