import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package-files.js';
import type { SimulationResult } from '../simulator/result.js';
import { loadScenarioFile, ScenarioError } from '../simulator/scenario.js';
import { simulate } from '../simulator/simulate.js';
import { renderResult, renderSummary } from '../simulator/timeline.js';
import { type CommandSpec, runParsedCommand } from './args.js';
import { EXIT_FAILURE, EXIT_SUCCESS } from './exit-codes.js';
import type { CliIo } from './io.js';

export const DEMO_COMMAND: CommandSpec = {
  name: 'demo',
  description: 'Run every bundled scenario in the simulator: a timeline each, then a summary table.',
  options: {
    dir: {
      type: 'string',
      value: 'FOLDER',
      description: 'run the scenario files (*.json) of this folder instead of the bundled ones',
    },
  },
};

/** The scenarios that ship with the project. */
export const BUNDLED_SCENARIOS = join(PACKAGE_ROOT, 'test', 'scenarios');

/**
 * `demo`: runs every scenario of a folder (the bundled ones by default), prints each timeline and
 * a summary table. Exit 0 when every scenario ran, 1 when one could not be run.
 */
export function runDemoCommand(argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, DEMO_COMMAND, (args) => runDemo(args.string('dir'), io));
}

async function runDemo(folder: string | undefined, io: CliIo): Promise<number> {
  const dir = folder === undefined ? BUNDLED_SCENARIOS : resolve(folder);
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch (error) {
    io.stderr(
      `kms-deletion-guard demo: cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})\n`,
    );
    return EXIT_FAILURE;
  }
  if (files.length === 0) {
    io.stderr(`kms-deletion-guard demo: no scenario files (*.json) in ${dir}\n`);
    return EXIT_FAILURE;
  }
  const rows: { file: string; result: SimulationResult | null; error?: string }[] = [];
  for (const name of files) {
    const file = join(dir, name);
    try {
      const result = await simulate(loadScenarioFile(file));
      io.stdout(`${renderResult(result)}\n\n`);
      rows.push({ file: basename(name, '.json'), result });
    } catch (error) {
      const message =
        error instanceof ScenarioError
          ? error.message
          : `${(error as Error).name}: ${(error as Error).message}`;
      io.stderr(`kms-deletion-guard demo: ${name}: ${message.split('\n')[0]}\n`);
      rows.push({ file: basename(name, '.json'), result: null, error: message.split('\n')[0] ?? '' });
    }
  }
  io.stdout(`${renderSummary(rows)}\n`);
  return rows.every((row) => row.result !== null) ? EXIT_SUCCESS : EXIT_FAILURE;
}
