/**
 * The `kms-deletion-guard` command line: parses the command word and hands the rest to the
 * command's module under lib/cli/. Every command returns its exit code; nothing here exits.
 */
import { pathToFileURL } from 'node:url';
import { DEMO_USAGE, runDemoCommand } from '../lib/cli/demo.js';
import { type CliIo, processIo } from '../lib/cli/io.js';
import { runSimulateCommand, SIMULATE_USAGE } from '../lib/cli/simulate.js';

type Command = (args: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, { readonly usage: string; readonly run: Command }>> = {
  simulate: { usage: SIMULATE_USAGE, run: runSimulateCommand },
  demo: { usage: DEMO_USAGE, run: runDemoCommand },
};

export function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  kms-deletion-guard ${c.usage}`);
  return `usage:\n${lines.join('\n')}\n`;
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`kms-deletion-guard: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return command.run(args, io);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
