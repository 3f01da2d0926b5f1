import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { cliCommand } from '../../lambdas/contracts/cli.js';
import { WHOLE_NUMBER_SETTINGS } from '../../lambdas/contracts/config.js';
import { KeyIdError } from '../../lambdas/domain/errors.js';
import { MAX_REASON_LENGTH, MAX_REQUESTED_BY_LENGTH } from '../../lambdas/domain/input.js';
import {
  AWS_OPTIONS,
  actorName,
  type CommandSpec,
  integerOption,
  runParsedCommand,
  textOption,
} from './args.js';
import {
  awsOptions,
  consoleUrl,
  describeExecution,
  holdingExecution,
  keyRegion,
  resolveKey,
  runningExecutionsForKey,
  stateMachineFrom,
  withClients,
} from './aws.js';
import {
  CliError,
  ExecutionAlreadyRunningError,
  ExecutionNotFoundError,
  InvalidKeyArgumentError,
} from './errors.js';
import { EXIT_SUCCESS } from './exit-codes.js';
import type { CliIo } from './io.js';

/**
 * `start <keyId|arn|alias>`: starts the workflow for one key. An alias is resolved to the key ARN
 * here (the workflow refuses aliases because they can be re-pointed while it runs), and a key that
 * already has a running execution is refused before anything starts.
 */

/** The ranges the options accept, shown by `--help` and enforced before any AWS call. */
const OBSERVATION_DAYS = WHOLE_NUMBER_SETTINGS.observationDays;
const PENDING_WINDOW_DAYS = WHOLE_NUMBER_SETTINGS.pendingWindowInDays;

export const START_COMMAND: CommandSpec = {
  name: 'start',
  description: 'Start retiring one key: assess, disable and watch it, then schedule its deletion.',
  argument: {
    name: '<keyId|keyArn|alias>',
    description: 'the key: a key ID, key ARN, alias name (alias/…) or alias ARN; an alias is resolved here',
  },
  options: {
    'observation-days': {
      type: 'string',
      value: 'N',
      description: `days to watch the disabled key (${OBSERVATION_DAYS.min}-${OBSERVATION_DAYS.max}); default: the stack's observationDays`,
    },
    'pending-window-days': {
      type: 'string',
      value: 'N',
      description: `the KMS deletion waiting period in days (${PENDING_WINDOW_DAYS.min}-${PENDING_WINDOW_DAYS.max}); default: the stack's pendingWindowInDays`,
    },
    reason: {
      type: 'string',
      value: 'TEXT',
      description: `why the key is retired, shown in the approval e-mails (at most ${MAX_REASON_LENGTH} characters)`,
    },
    'requested-by': {
      type: 'string',
      value: 'NAME',
      description: 'who asks for it; default: KDG_USER, else the login name',
    },
    'allow-exported-public-key': {
      type: 'boolean',
      description: 'retire an asymmetric key even though its public key was downloaded',
    },
    ...AWS_OPTIONS,
  },
};

/** Step Functions' limit on execution names. */
const MAX_NAME_LENGTH = 80;

export class ExecutionNameTakenError extends CliError {
  constructor(name: string) {
    super(
      `An execution named ${name} exists already (names are unique per state machine for 90 days); ` +
        'wait a second and start again.',
    );
    this.name = 'ExecutionNameTakenError';
  }
}

function timestamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d{3}Z$/, '')
    .replace(/[-:]/g, '');
}

/**
 * `<alias-or-keyid-short>-<yyyymmddThhmmss>` (UTC), only `[A-Za-z0-9-_]`, at most 80 characters, so
 * the console and `list` show at a glance which key an execution is for.
 */
export function executionName(alias: string | null, keyId: string, now: Date): string {
  const suffix = `-${timestamp(now)}`;
  const short = keyId.slice(0, keyId.startsWith('mrk-') ? 12 : 8);
  const fromAlias = (alias ?? '')
    .replace(/^alias\//, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  const prefix = (fromAlias || short.replace(/[^A-Za-z0-9_-]/g, '-')).slice(
    0,
    MAX_NAME_LENGTH - suffix.length,
  );
  return `${prefix.replace(/-+$/, '')}${suffix}`;
}

export function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, START_COMMAND, (args) => {
    const target = args.positionals[0] ?? '';
    const json = args.flag('json');
    // Everything the person typed is checked before the first AWS call.
    const observationDays = integerOption(
      'observation-days',
      args.string('observation-days'),
      OBSERVATION_DAYS.min,
      OBSERVATION_DAYS.max,
      'how long to watch the disabled key',
    );
    const pendingWindowInDays = integerOption(
      'pending-window-days',
      args.string('pending-window-days'),
      PENDING_WINDOW_DAYS.min,
      PENDING_WINDOW_DAYS.max,
      'the KMS deletion waiting period',
    );
    const reason = textOption('reason', args.string('reason'), MAX_REASON_LENGTH, '\n\t');
    const requestedBy = actorName(
      textOption('requested-by', args.string('requested-by'), MAX_REQUESTED_BY_LENGTH),
      io.env,
    ).slice(0, MAX_REQUESTED_BY_LENGTH);
    const options = awsOptions(args);
    const machine = stateMachineFrom(options, io);
    let region: string;
    try {
      region = keyRegion(target, machine.region, machine.account);
    } catch (error) {
      if (error instanceof KeyIdError) {
        throw new InvalidKeyArgumentError(error.message);
      }
      throw error;
    }

    return withClients(options, async (clients) => {
      const key = await resolveKey(target, region, clients);
      const keyArn = key.metadata.Arn;
      if (key.alias && !json) {
        io.stdout(`Resolved alias ${key.alias} to key ${keyArn}.\n`);
      }

      const sfn = clients.sfn(machine.region);
      const running = await runningExecutionsForKey(sfn, machine, keyArn);
      if (running[0]?.executionArn) {
        throw new ExecutionAlreadyRunningError(keyArn, running[0].executionArn);
      }
      // The hold tag also catches an execution whose input named the key in a form not matched above.
      const holder = await holdingExecution(key, clients);
      if (holder) {
        const described = await describeExecution(sfn, holder).catch((error: unknown) => {
          if (error instanceof ExecutionNotFoundError) return null;
          throw error;
        });
        if (described?.status === 'RUNNING') {
          throw new ExecutionAlreadyRunningError(keyArn, holder);
        }
      }

      const name = executionName(key.alias, key.metadata.KeyId, io.now());
      const input = {
        keyId: keyArn,
        ...(observationDays !== undefined ? { observationDays } : {}),
        ...(pendingWindowInDays !== undefined ? { pendingWindowInDays } : {}),
        requestedBy,
        ...(reason !== undefined ? { reason } : {}),
        ...(args.flag('allow-exported-public-key') ? { allowExportedPublicKey: true } : {}),
      };
      let started: { executionArn?: string | undefined; startDate?: Date | undefined };
      try {
        started = await sfn.send(
          new StartExecutionCommand({ stateMachineArn: machine.arn, name, input: JSON.stringify(input) }),
        );
      } catch (error) {
        if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
          throw new ExecutionNameTakenError(name);
        }
        throw error;
      }
      const executionArn = started.executionArn ?? '';
      const url = consoleUrl(executionArn);
      if (json) {
        io.stdout(
          `${JSON.stringify({
            executionArn,
            name,
            startDate: started.startDate?.toISOString() ?? null,
            keyId: key.metadata.KeyId,
            keyArn,
            resolvedAlias: key.alias,
            input,
            consoleUrl: url,
          })}\n`,
        );
        return EXIT_SUCCESS;
      }
      io.stdout(
        `Started execution ${name} for key ${keyArn}.\n` +
          `  Execution: ${executionArn}\n` +
          `  Console:   ${url}\n` +
          'The workflow assesses the key and then asks for approval before it disables it.\n' +
          `Follow it with: ${cliCommand(`status ${executionArn}`)}\n`,
      );
      return EXIT_SUCCESS;
    });
  });
}
