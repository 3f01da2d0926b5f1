import { loadScenarioFile, ScenarioError } from '../simulator/scenario.js';
import { simulate } from '../simulator/simulate.js';
import { renderResult } from '../simulator/timeline.js';
import { type CommandSpec, runParsedCommand } from './args.js';
import { EXIT_FAILURE, EXIT_SUCCESS } from './exit-codes.js';
import type { CliIo } from './io.js';

export const SIMULATE_COMMAND: CommandSpec = {
  name: 'simulate',
  description: 'Run one scenario file in the embedded simulator: no AWS account needed, virtual time.',
  argument: {
    name: '<scenario.json>',
    description: 'the scenario (format: lib/simulator/contracts/scenario.schema.json in the package)',
  },
  options: {
    json: {
      type: 'boolean',
      description: 'print one JSON object matching lib/simulator/contracts/simulation-result.schema.json',
    },
    full: {
      type: 'boolean',
      description: 'show every state of the timeline, waits and choices included, without folding repeats',
    },
    verbose: { type: 'boolean', description: "show the handlers' log lines (debug level)" },
  },
};

/**
 * `simulate <file>`: runs one scenario in the embedded simulator. Exit 0 whenever the simulation
 * ran, whatever its outcome; 1 with one line on stderr when the scenario cannot be run; 2 for bad usage.
 */
export function runSimulateCommand(argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, SIMULATE_COMMAND, async (args) => {
    const file = args.positionals[0] ?? '';
    try {
      const scenario = loadScenarioFile(file);
      const result = await simulate(scenario, { verbose: args.flag('verbose') });
      io.stdout(
        args.flag('json')
          ? `${JSON.stringify(result)}\n`
          : `${renderResult(result, { full: args.flag('full') })}\n`,
      );
      return EXIT_SUCCESS;
    } catch (error) {
      // Reported here rather than thrown: the line names the file, and with --json stdout gets no
      // error object where a script expects a simulation result.
      const message =
        error instanceof ScenarioError
          ? error.message
          : `${(error as Error).name}: ${(error as Error).message}`;
      io.stderr(`kms-deletion-guard simulate: ${file}: ${message.split('\n')[0]}\n`);
      return EXIT_FAILURE;
    }
  });
}
