/**
 * The `kms-deletion-guard` command line: parses the command word and hands the rest to the
 * command's module under lib/cli/. Every command returns its exit code; nothing here exits.
 */
import { pathToFileURL } from 'node:url';
import { CANDIDATES_USAGE, run as runCandidates } from '../lib/cli/candidates.js';
import { APPROVE_USAGE, approve, REJECT_USAGE, reject } from '../lib/cli/decide.js';
import { DEMO_USAGE, runDemoCommand } from '../lib/cli/demo.js';
import { DOCTOR_USAGE, run as runDoctor } from '../lib/cli/doctor.js';
import { type CliIo, processIo } from '../lib/cli/io.js';
import { LIST_USAGE, run as runList } from '../lib/cli/list.js';
import { runSimulateCommand, SIMULATE_USAGE } from '../lib/cli/simulate.js';
import { run as runStart, START_USAGE } from '../lib/cli/start.js';
import { run as runStatus, STATUS_USAGE } from '../lib/cli/status.js';

type Command = (args: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, { readonly usage: string; readonly run: Command }>> = {
  start: { usage: START_USAGE, run: runStart },
  status: { usage: STATUS_USAGE, run: runStatus },
  list: { usage: LIST_USAGE, run: runList },
  approve: { usage: APPROVE_USAGE, run: approve },
  reject: { usage: REJECT_USAGE, run: reject },
  candidates: { usage: CANDIDATES_USAGE, run: runCandidates },
  doctor: { usage: DOCTOR_USAGE, run: runDoctor },
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
