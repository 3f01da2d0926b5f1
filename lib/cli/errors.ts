import { cliCommand } from '../../lambdas/contracts/cli.js';
import { expiredApprovalText } from '../../lambdas/domain/approval-page.js';
import { EXIT_FAILURE, EXIT_USAGE } from './exit-codes.js';
import type { CliIo } from './io.js';
import { printable } from './io.js';

/**
 * Errors of the CLI. Each names what went wrong and what to do, in one line: that line is all a
 * person sees (stderr), and with `--json` it is also the `error.message` of the JSON on stdout.
 */

/** Base of the CLI's own errors, with their exit code (the meanings are in exit-codes.ts). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * The command line cannot be understood or is incomplete (unknown option, missing argument, too many
 * arguments, a required setting given nowhere): the command stops before any AWS call.
 */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** An option's value is out of range or malformed; nothing was sent to AWS. */
export class InvalidOptionValueError extends UsageError {
  readonly option: string;
  constructor(option: string, message: string) {
    super(message);
    this.name = 'InvalidOptionValueError';
    this.option = option;
  }
}

/** The key argument is not a key ID, key ARN or alias (the message names the accepted forms). */
export class InvalidKeyArgumentError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidKeyArgumentError';
  }
}

export class MissingRegionError extends UsageError {
  constructor() {
    super(
      'No AWS Region is set: pass --region (for example --region eu-west-1), set AWS_REGION, or give a ' +
        '--profile whose configuration names a region.',
    );
    this.name = 'MissingRegionError';
  }
}

export class MissingStateMachineArnError extends UsageError {
  constructor() {
    super(
      'The state machine is not known: pass --state-machine-arn or set KDG_STATE_MACHINE_ARN to the ' +
        'StateMachineArn output of the deployed stack (aws cloudformation describe-stacks --stack-name ' +
        'KmsDeletionGuard --query "Stacks[0].Outputs[?OutputKey==\'StateMachineArn\'].OutputValue" --output text).',
    );
    this.name = 'MissingStateMachineArnError';
  }
}

export class KeyNotFoundError extends CliError {
  constructor(key: string, region: string) {
    super(
      `KMS finds no key ${key} in ${region} (NotFoundException): check the identifier, the Region ` +
        '(--region) and the account your credentials belong to.',
    );
    this.name = 'KeyNotFoundError';
  }
}

export class ExecutionAlreadyRunningError extends CliError {
  readonly executionArn: string;
  constructor(keyArn: string, executionArn: string) {
    super(
      `Key ${keyArn} already has a running execution (${executionArn}); two executions on one key would ` +
        `undo each other. Follow it with \`${cliCommand(`status ${executionArn}`)}\`, or stop it first.`,
    );
    this.name = 'ExecutionAlreadyRunningError';
    this.executionArn = executionArn;
  }
}

export class ExecutionNotFoundError extends CliError {
  constructor(what: string) {
    super(`No execution found for ${what}: check the name or ARN with \`${cliCommand('list')}\`.`);
    this.name = 'ExecutionNotFoundError';
  }
}

/** One execution of the several a key argument matched. */
export interface MatchedExecution {
  readonly name: string;
  readonly status: string;
  /** The state it entered last; null when its history does not tell. */
  readonly state: string | null;
}

/**
 * A key argument matched several running executions: which one the person means cannot be guessed,
 * so nothing is read further or answered; the person picks one by its name.
 */
export class SeveralExecutionsError extends CliError {
  readonly matches: readonly MatchedExecution[];
  constructor(keyArn: string, matches: readonly MatchedExecution[]) {
    const listed = matches
      .map((m) => `${m.name} (${m.status}, at ${m.state ?? 'an unknown step'})`)
      .join('; ');
    super(
      `Key ${keyArn} has ${matches.length} running executions: ${listed}. Nothing was answered; ` +
        'give the execution name or ARN instead of the key.',
    );
    this.name = 'SeveralExecutionsError';
    this.matches = matches;
  }
}

/**
 * `approve` / `reject` without `--step`: the person must say which step they answer, so an answer
 * given for one request never lands on another. The message names the pending step and the command.
 */
export class MissingStepError extends UsageError {
  constructor(executionArn: string, pendingStep: string, command: string) {
    super(
      `Say which step you answer with --step: execution ${executionArn} waits for approval of the ` +
        `${pendingStep} step. Nothing was sent. Run \`${command}\`.`,
    );
    this.name = 'MissingStepError';
  }
}

/** `--step` names another step than the one the execution waits for; nothing was answered. */
export class StepMismatchError extends CliError {
  constructor(executionArn: string, givenStep: string, pendingStep: string) {
    super(
      `Execution ${executionArn} waits for approval of the ${pendingStep} step, not ${givenStep}: nothing ` +
        `was answered. Check the request with \`${cliCommand(`status ${executionArn}`)}\` before answering it.`,
    );
    this.name = 'StepMismatchError';
  }
}

export class ExecutionNotRunningError extends CliError {
  constructor(executionArn: string, status: string) {
    super(
      `Execution ${executionArn} is not running (status ${status}): there is no approval left to answer.`,
    );
    this.name = 'ExecutionNotRunningError';
  }
}

export class NoPendingApprovalError extends CliError {
  constructor(executionArn: string, phase: string | null) {
    super(
      `Execution ${executionArn} is not waiting for an approval${phase ? ` (it is at ${phase})` : ''}: ` +
        'nothing was sent. Approvals are asked before the key is disabled and before its deletion is scheduled.',
    );
    this.name = 'NoPendingApprovalError';
  }
}

export class ApprovalAlreadyAnsweredError extends CliError {
  constructor(executionArn: string, sdkName: string) {
    super(
      `The approval request of ${executionArn} can no longer be answered (${sdkName}): it was answered ` +
        `already, or it expired. Run \`${cliCommand('status')}\` on the execution to see where it is.`,
    );
    this.name = 'ApprovalAlreadyAnsweredError';
  }
}

/** The stack names its approvers, and the caller's IAM identity is none of them. */
export class NotAnApproverError extends CliError {
  constructor(executionArn: string, callerArn: string, approvers: readonly string[]) {
    super(
      `You (${callerArn}) are not one of the approvers this stack names (${approvers.join(', ')}), so ` +
        `nothing was answered for ${executionArn}. Ask one of them, or run the command with one of their identities.`,
    );
    this.name = 'NotAnApproverError';
  }
}

export class ApprovalExpiredError extends CliError {
  constructor(
    executionArn: string,
    expired: { step: string | null; expiredAt: string | null },
    keyArn: string | null,
  ) {
    const step = expired.step === 'deletion' ? 'deletion' : 'disable';
    super(
      `Execution ${executionArn}: ${expiredApprovalText({ step, expiredAt: expired.expiredAt, keyArn })}`,
    );
    this.name = 'ApprovalExpiredError';
  }
}

/** One line for any error: the CLI's own as they are, AWS SDK errors with their name and a hint. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof CliError) {
    return { name: error.name, message: oneLine(error.message) };
  }
  if (error instanceof Error) {
    const name = error.name || 'Error';
    const hint = SDK_HINTS[name];
    const text = oneLine(error.message || name);
    return { name, message: hint ? `${name}: ${text} (${hint})` : `${name}: ${text}` };
  }
  return { name: 'Error', message: oneLine(String(error)) };
}

const SDK_HINTS: Record<string, string> = {
  CredentialsProviderError:
    'no AWS credentials were found: set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  AccessDeniedException: 'your credentials lack this permission',
  UnrecognizedClientException: 'the credentials are not valid in this account or Region',
  ExpiredTokenException: 'the session credentials have expired: sign in again',
  StateMachineDoesNotExist: 'check --state-machine-arn or KDG_STATE_MACHINE_ARN and the Region',
  ThrottlingException: 'AWS kept throttling the requests after retries: try again later',
};

function oneLine(text: string): string {
  return printable(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}

/**
 * Runs a command body and turns any error into one line on stderr (and, with `--json`, a JSON
 * object on stdout) and an exit code. A stack trace is shown only with KDG_DEBUG set.
 */
export async function runCommand(
  io: CliIo,
  argv: readonly string[],
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const { name, message } = describeError(error);
    io.stderr(`kms-deletion-guard: ${message}\n`);
    if (io.env.KDG_DEBUG && error instanceof Error && error.stack) {
      io.stderr(`${error.stack}\n`);
    }
    if (argv.includes('--json')) {
      io.stdout(`${JSON.stringify({ error: { name, message } })}\n`);
    }
    return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
  }
}
