/**
 * The `kms-deletion-guard` command line: parses the command word and hands the rest to the
 * command's module under lib/cli/. Every command returns its exit code; nothing here exits.
 */
import { pathToFileURL } from 'node:url';
import type { CommandSpec } from '../lib/cli/args.js';
import { shownName } from '../lib/cli/args.js';
import { CANDIDATES_COMMAND, run as runCandidates } from '../lib/cli/candidates.js';
import { APPROVE_COMMAND, approve, REJECT_COMMAND, reject } from '../lib/cli/decide.js';
import { DEMO_COMMAND, runDemoCommand } from '../lib/cli/demo.js';
import { DOCTOR_COMMAND, run as runDoctor } from '../lib/cli/doctor.js';
import { EXIT_SUCCESS, EXIT_USAGE } from '../lib/cli/exit-codes.js';
import { overviewHelp, PROGRAM } from '../lib/cli/help.js';
import { type CliIo, processIo } from '../lib/cli/io.js';
import { LIST_COMMAND, run as runList } from '../lib/cli/list.js';
import { didYouMean } from '../lib/cli/nearest.js';
import { runSimulateCommand, SIMULATE_COMMAND } from '../lib/cli/simulate.js';
import { run as runStart, START_COMMAND } from '../lib/cli/start.js';
import { run as runStatus, STATUS_COMMAND } from '../lib/cli/status.js';

type Run = (args: readonly string[], io: CliIo) => Promise<number>;

/**
 * The commands, in the order the overview lists them. A Map, not an object: a command word such as
 * `constructor` or `toString` must be an unknown command, not a property every object inherits.
 */
const COMMANDS: ReadonlyMap<string, { readonly spec: CommandSpec; readonly run: Run }> = new Map(
  (
    [
      [START_COMMAND, runStart],
      [STATUS_COMMAND, runStatus],
      [LIST_COMMAND, runList],
      [APPROVE_COMMAND, approve],
      [REJECT_COMMAND, reject],
      [CANDIDATES_COMMAND, runCandidates],
      [DOCTOR_COMMAND, runDoctor],
      [SIMULATE_COMMAND, runSimulateCommand],
      [DEMO_COMMAND, runDemoCommand],
    ] as const
  ).map(([spec, run]) => [spec.name, { spec, run }]),
);

/** Every command's spec, in the overview's order (for tests and tooling that list the commands). */
export const COMMAND_SPECS: readonly CommandSpec[] = [...COMMANDS.values()].map((command) => command.spec);

const HELP_WORDS = new Set(['help', '--help', '-h']);

/** The overview `--help` prints: every command with its one-line description, and the exit codes. */
export function usage(): string {
  return overviewHelp(COMMAND_SPECS);
}

/** One line for a command word that is not a command, with the nearest one when it looks like a typo. */
function unknownCommand(name: string): string {
  const near = didYouMean(name, [...COMMANDS.keys()]);
  return (
    `${PROGRAM}: unknown command '${shownName(name)}'${near ? ` (did you mean '${near}'?)` : ''}. ` +
    `Run ${PROGRAM} --help for the commands.\n`
  );
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    // No command is a usage error: a script that lost its arguments must not look successful.
    io.stderr(usage());
    return EXIT_USAGE;
  }
  if (HELP_WORDS.has(name)) {
    const [topic] = args;
    if (topic === undefined || HELP_WORDS.has(topic)) {
      io.stdout(usage());
      return EXIT_SUCCESS;
    }
    // `help start` is `start --help`.
    return main([topic, '--help'], io);
  }
  const command = COMMANDS.get(name);
  if (!command) {
    io.stderr(unknownCommand(name));
    return EXIT_USAGE;
  }
  return command.run(args, io);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
