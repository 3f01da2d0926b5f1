import { AWS_OPTIONS, type CommandSpec, integerOption, parseCommandArgs } from './args.js';
import {
  awsOptions,
  CONCURRENCY,
  createSfnClient,
  describeExecution,
  listExecutions,
  mapLimit,
  readRecentHistory,
  stateMachineFrom,
} from './aws.js';
import { runCommand } from './errors.js';
import { type CliIo, formatTable } from './io.js';
import { type ExecutionSummary, summarizeExecution } from './status.js';

/** `list [--running]`: one line per execution, newest first: key, phase, started, outcome. */

export const LIST_USAGE =
  'list [--running] [--limit N] [--state-machine-arn ARN] [--region REGION] ' +
  '[--profile PROFILE] [--json]';

const SPEC: CommandSpec = {
  usage: LIST_USAGE,
  options: { ...AWS_OPTIONS, running: { type: 'boolean' }, limit: { type: 'string' } },
  minPositionals: 0,
  maxPositionals: 0,
};

/** The newest events of an execution always include the state it is in (or ended in). */
const RECENT_EVENTS = 50;

export type ListedExecution = Pick<
  ExecutionSummary,
  | 'executionArn'
  | 'name'
  | 'status'
  | 'keyId'
  | 'state'
  | 'phase'
  | 'startedAt'
  | 'stoppedAt'
  | 'outcome'
  | 'cause'
>;

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommand(io, argv, async () => {
    const args = parseCommandArgs(argv, SPEC);
    if (args.help) {
      io.stdout(`Usage: kms-deletion-guard ${LIST_USAGE}\n`);
      return 0;
    }
    const limit = integerOption('limit', args.string('limit'), 1, 100_000, 'how many executions to show');
    const options = awsOptions(args);
    const machine = stateMachineFrom(options, io);
    const sfn = createSfnClient(machine.region, options);
    try {
      const items = await listExecutions(
        sfn,
        machine.arn,
        args.flag('running') ? 'RUNNING' : undefined,
        limit,
      );
      const listed = await mapLimit(items, CONCURRENCY, async (item): Promise<ListedExecution> => {
        const arn = item.executionArn ?? '';
        const [description, recent] = await Promise.all([
          describeExecution(sfn, arn),
          readRecentHistory(sfn, arn, RECENT_EVENTS),
        ]);
        const s = summarizeExecution(description, [...recent].reverse());
        return {
          executionArn: s.executionArn,
          name: s.name,
          status: s.status,
          keyId: s.keyId,
          state: s.state,
          phase: s.phase,
          startedAt: s.startedAt,
          stoppedAt: s.stoppedAt,
          outcome: s.outcome,
          cause: s.cause,
        };
      });
      if (args.flag('json')) {
        io.stdout(`${JSON.stringify(listed)}\n`);
        return 0;
      }
      if (listed.length === 0) {
        io.stdout(args.flag('running') ? 'No running executions.\n' : 'No executions.\n');
        return 0;
      }
      io.stdout(
        formatTable(
          ['KEY', 'PHASE', 'STARTED', 'OUTCOME', 'EXECUTION'],
          listed.map((e) => [
            e.keyId ?? '-',
            e.phase ?? '-',
            e.startedAt ?? '-',
            e.outcome ?? (e.status === 'RUNNING' ? 'running' : e.status),
            e.name,
          ]),
        ),
      );
      return 0;
    } finally {
      sfn.destroy();
    }
  });
}
