import { AWS_OPTIONS, type CommandSpec, integerOption, runParsedCommand } from './args.js';
import {
  awsOptions,
  CONCURRENCY,
  describeExecution,
  listExecutions,
  mapLimit,
  readRecentHistory,
  stateMachineFrom,
  withClients,
} from './aws.js';
import { EXIT_SUCCESS } from './exit-codes.js';
import { type CliIo, formatTable } from './io.js';
import { type ExecutionSummary, summarizeExecution } from './status.js';

/** `list`: one line per execution, newest first: key, phase, started, outcome. */

/** The range --limit accepts, shown by `--help` and enforced before any AWS call. */
const LIMIT = { min: 1, max: 100_000 } as const;

export const LIST_COMMAND: CommandSpec = {
  name: 'list',
  description: "List the workflow's executions, newest first: key, phase, started, outcome.",
  options: {
    running: { type: 'boolean', description: 'only the executions still running' },
    limit: {
      type: 'string',
      value: 'N',
      description: `show at most N executions (${LIMIT.min}-${LIMIT.max}); default: all`,
    },
    ...AWS_OPTIONS,
  },
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

export function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, LIST_COMMAND, (args) => {
    const limit = integerOption(
      'limit',
      args.string('limit'),
      LIMIT.min,
      LIMIT.max,
      'how many executions to show',
    );
    const options = awsOptions(args);
    const machine = stateMachineFrom(options, io);
    return withClients(options, async (clients) => {
      const sfn = clients.sfn(machine.region);
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
        return EXIT_SUCCESS;
      }
      if (listed.length === 0) {
        io.stdout(args.flag('running') ? 'No running executions.\n' : 'No executions.\n');
        return EXIT_SUCCESS;
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
      return EXIT_SUCCESS;
    });
  });
}
