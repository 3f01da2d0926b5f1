import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { type ApprovalDecision, WORKFLOW_ERRORS } from '../../lambdas/domain/types.js';
import { AWS_OPTIONS, actorName, type CommandSpec, parseCommandArgs, textOption } from './args.js';
import {
  awsOptions,
  createSfnClient,
  describeExecution,
  parseExecutionArn,
  readHistory,
  resolveExecutionTarget,
  stateMachineFrom,
} from './aws.js';
import {
  ApprovalAlreadyAnsweredError,
  ExecutionNotRunningError,
  NoPendingApprovalError,
  runCommand,
} from './errors.js';
import { type CliIo, printable } from './io.js';
import { findPendingApproval, summarizeExecution } from './status.js';

/**
 * `approve` / `reject`: answers the approval an execution waits for. The task token is read from
 * the execution's own history (the SNS publish that asked for approval carries it as a message
 * attribute), so the person needs only the execution (or the key) and never handles the token.
 */

const MAX_COMMENT_LENGTH = 1024;
const MAX_BY_LENGTH = 256;

/** Answers that mean the token is no longer waiting: answered already, or timed out. */
const ANSWERED = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

type Decision = 'approve' | 'reject';

const usage = (decision: Decision): string =>
  `${decision} <executionArn|executionName|keyId|keyArn|alias> [--comment TEXT] [--by NAME] ` +
  '[--state-machine-arn ARN] [--region REGION] [--profile PROFILE] [--json]';

export const APPROVE_USAGE = usage('approve');
export const REJECT_USAGE = usage('reject');

function spec(decision: Decision): CommandSpec {
  return {
    usage: usage(decision),
    options: { ...AWS_OPTIONS, comment: { type: 'string' }, by: { type: 'string' } },
    minPositionals: 1,
    maxPositionals: 1,
  };
}

function stepWords(step: string | null): string {
  if (step === 'disable') return 'disabling the key';
  if (step === 'deletion') return 'scheduling the deletion';
  return 'the pending step';
}

async function decide(decision: Decision, argv: readonly string[], io: CliIo): Promise<number> {
  return runCommand(io, argv, async () => {
    const args = parseCommandArgs(argv, spec(decision));
    if (args.help) {
      io.stdout(`Usage: kms-deletion-guard ${usage(decision)}\n`);
      return 0;
    }
    const comment = textOption('comment', args.string('comment'), MAX_COMMENT_LENGTH);
    const by = actorName(textOption('by', args.string('by'), MAX_BY_LENGTH), io.env).slice(0, MAX_BY_LENGTH);
    const target = args.positionals[0] ?? '';
    const options = awsOptions(args);
    const region = parseExecutionArn(target)?.region ?? stateMachineFrom(options, io).region;
    const sfn = createSfnClient(region, options);
    try {
      const executionArn = await resolveExecutionTarget(target, sfn, options, io);
      const description = await describeExecution(sfn, executionArn);
      if (description.status !== 'RUNNING') {
        throw new ExecutionNotRunningError(executionArn, description.status ?? 'UNKNOWN');
      }
      const events = await readHistory(sfn, executionArn);
      const pending = findPendingApproval(events);
      if (!pending) {
        const summary = summarizeExecution(description, events);
        throw new NoPendingApprovalError(executionArn, summary.phase);
      }
      const at = io.now().toISOString();
      try {
        if (decision === 'approve') {
          const output: ApprovalDecision = { decision: 'approve', by, at, ...(comment ? { comment } : {}) };
          await sfn.send(
            new SendTaskSuccessCommand({ taskToken: pending.token, output: JSON.stringify(output) }),
          );
        } else {
          await sfn.send(
            new SendTaskFailureCommand({
              taskToken: pending.token,
              error: WORKFLOW_ERRORS.rejected,
              cause: `Rejected by ${by} at ${at} with the kms-deletion-guard CLI${comment ? `: ${comment}` : '.'}`,
            }),
          );
        }
      } catch (error) {
        if (error instanceof Error && ANSWERED.has(error.name)) {
          throw new ApprovalAlreadyAnsweredError(executionArn, error.name);
        }
        throw error;
      }
      if (args.flag('json')) {
        io.stdout(
          `${JSON.stringify({
            executionArn,
            decision,
            step: pending.step,
            state: pending.state,
            by,
            at,
            comment: comment ?? null,
          })}\n`,
        );
        return 0;
      }
      const verb = decision === 'approve' ? 'Approved' : 'Rejected';
      const next =
        decision === 'approve'
          ? `The workflow goes on with ${stepWords(pending.step)}.`
          : pending.step === 'deletion'
            ? 'The workflow restores the key and ends REJECTED.'
            : 'The workflow ends REJECTED; the key was not changed.';
      io.stdout(
        printable(`${verb} ${stepWords(pending.step)} for ${executionArn} as ${by} at ${at}.`) +
          `\n${pending.subject ? `${printable(`Request: ${pending.subject}`)}\n` : ''}${next}\n`,
      );
      return 0;
    } finally {
      sfn.destroy();
    }
  });
}

export function approve(argv: readonly string[], io: CliIo): Promise<number> {
  return decide('approve', argv, io);
}

export function reject(argv: readonly string[], io: CliIo): Promise<number> {
  return decide('reject', argv, io);
}
