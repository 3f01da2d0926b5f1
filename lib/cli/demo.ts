import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package-files.js';
import type { SimulationResult } from '../simulator/result.js';
import { loadScenarioFile, ScenarioError } from '../simulator/scenario.js';
import { simulate } from '../simulator/simulate.js';
import { renderResult, renderSummary } from '../simulator/timeline.js';
import type { CliIo } from './io.js';

export const DEMO_USAGE = 'demo [--dir <folder of scenario files>]';

/** The scenarios that ship with the project. */
export const BUNDLED_SCENARIOS = join(PACKAGE_ROOT, 'test', 'scenarios');

/**
 * `demo`: runs every scenario of a folder (the bundled ones by default), prints each timeline and
 * a summary table. Exit 0 when every scenario ran, 1 when one could not be run.
 */
export async function runDemoCommand(args: readonly string[], io: CliIo): Promise<number> {
  let dir = BUNDLED_SCENARIOS;
  if (args[0] === '--dir' && args[1] !== undefined && args.length === 2) {
    dir = resolve(args[1]);
  } else if (args.length > 0) {
    io.stderr(
      `kms-deletion-guard demo: unexpected arguments ${args.join(' ')}\nusage: kms-deletion-guard ${DEMO_USAGE}\n`,
    );
    return 2;
  }
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch (error) {
    io.stderr(
      `kms-deletion-guard demo: cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})\n`,
    );
    return 1;
  }
  if (files.length === 0) {
    io.stderr(`kms-deletion-guard demo: no scenario files (*.json) in ${dir}\n`);
    return 1;
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
  return rows.every((row) => row.result !== null) ? 0 : 1;
}
