import { loadScenarioFile, ScenarioError } from '../simulator/scenario.js';
import { simulate } from '../simulator/simulate.js';
import { renderResult } from '../simulator/timeline.js';
import type { CliIo } from './io.js';

export const SIMULATE_USAGE = 'simulate <scenario.json> [--json] [--full] [--verbose]';

interface SimulateArgs {
  readonly file: string;
  readonly json: boolean;
  readonly full: boolean;
  readonly verbose: boolean;
}

function parseArgs(args: readonly string[]): SimulateArgs | string {
  const files: string[] = [];
  const flags = new Set<string>();
  for (const arg of args) {
    if (arg.startsWith('--')) {
      if (!['--json', '--full', '--verbose'].includes(arg)) {
        return `unknown option ${arg}`;
      }
      flags.add(arg);
    } else {
      files.push(arg);
    }
  }
  const [file, extra] = files;
  if (file === undefined) {
    return 'a scenario file is required';
  }
  if (extra !== undefined) {
    return `one scenario file at a time (got ${files.length})`;
  }
  return { file, json: flags.has('--json'), full: flags.has('--full'), verbose: flags.has('--verbose') };
}

/**
 * `simulate <file>`: runs one scenario in the embedded simulator. Exit 0 whenever the simulation
 * ran, whatever its outcome; 1 with one line on stderr when the scenario cannot be run; 2 for bad usage.
 */
export async function runSimulateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.stderr(`kms-deletion-guard simulate: ${parsed}\nusage: kms-deletion-guard ${SIMULATE_USAGE}\n`);
    return 2;
  }
  try {
    const scenario = loadScenarioFile(parsed.file);
    const result = await simulate(scenario, { verbose: parsed.verbose });
    io.stdout(
      parsed.json ? `${JSON.stringify(result)}\n` : `${renderResult(result, { full: parsed.full })}\n`,
    );
    return 0;
  } catch (error) {
    const message =
      error instanceof ScenarioError
        ? error.message
        : `${(error as Error).name}: ${(error as Error).message}`;
    io.stderr(`kms-deletion-guard simulate: ${parsed.file}: ${message.split('\n')[0]}\n`);
    return 1;
  }
}
