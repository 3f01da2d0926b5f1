import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { readHistory } from '../../lambdas/aws/execution-history.js';
import { failTask, succeedTask } from '../../lambdas/aws/task-answers.js';
import { cliCommand } from '../../lambdas/contracts/cli.js';
import type { ApprovalStep } from '../../lambdas/domain/approval-page.js';
import { mayDecide } from '../../lambdas/domain/decider.js';
import { type ApprovalDecision, type DeciderIdentity, WORKFLOW_ERRORS } from '../../lambdas/domain/types.js';
import { quoteUntrusted } from '../../lambdas/domain/untrusted.js';
import { AWS_OPTIONS, actorName, type CommandSpec, runParsedCommand, textOption } from './args.js';
import {
  awsOptions,
  describeTarget,
  executionKeyArn,
  parseExecutionArn,
  parseStateMachineArn,
  withClients,
} from './aws.js';
import {
  ApprovalAlreadyAnsweredError,
  ApprovalExpiredError,
  ExecutionNotRunningError,
  InvalidOptionValueError,
  MissingStepError,
  NoPendingApprovalError,
  NotAnApproverError,
  StepMismatchError,
} from './errors.js';
import { EXIT_SUCCESS } from './exit-codes.js';
import { type CliIo, printable } from './io.js';
import { findExpiredApproval, findPendingApproval, summarizeExecution } from './status.js';

/**
 * `approve` / `reject`: answers the approval an execution waits for. The task token is read from
 * the execution's own history (the SNS publish that asked for approval carries it as a message
 * attribute), so the person needs only the execution (or the key) and never handles the token.
 * The person names the step they answer (`--step`), and the CLI shows the key and the step before
 * answering: an approval read in one request must not be spent on another the person never saw.
 *
 * The decision records who decided as AWS knows them: the caller's IAM identity (STS
 * GetCallerIdentity, with the credentials that send the answer), not a typed name; `--by` is kept
 * beside it as a self-declared note. Where the stack names approvers, a caller who is none of them
 * answers nothing. That check is the CLI's: IAM (states:SendTaskSuccess on the state machine) is what
 * stops anyone from answering without it.
 */

const MAX_COMMENT_LENGTH = 1024;
const MAX_BY_LENGTH = 256;

/** Answers that mean the token is no longer waiting: answered already, or timed out. */
const ANSWERED = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

const STEPS: readonly ApprovalStep[] = ['disable', 'deletion'];

type Decision = 'approve' | 'reject';

function spec(decision: Decision, description: string): CommandSpec {
  return {
    name: decision,
    description,
    argument: {
      name: '<executionArn|executionName|keyId|keyArn|alias>',
      description: 'the execution that waits for an approval, or a key (the execution working on it)',
    },
    options: {
      step: {
        type: 'string',
        value: STEPS.join('|'),
        description: 'the step you answer; required, and refused when the execution waits for another',
      },
      comment: {
        type: 'string',
        value: 'TEXT',
        description: `a note kept with the decision (at most ${MAX_COMMENT_LENGTH} characters, one line)`,
      },
      by: {
        type: 'string',
        value: 'NAME',
        description:
          'a name kept beside your IAM identity, marked self-declared; default: KDG_USER, else the login name',
      },
      ...AWS_OPTIONS,
    },
  };
}

export const APPROVE_COMMAND = spec(
  'approve',
  'Approve what an execution waits for: disabling the key, or scheduling its deletion.',
);
export const REJECT_COMMAND = spec(
  'reject',
  'Reject what an execution waits for: it restores the key if needed and ends REJECTED.',
);

/** The step a pending request asks about: its `step` attribute, else the state that waits. */
function pendingStepOf(step: string | null, state: string): ApprovalStep | null {
  if (step === 'disable' || step === 'deletion') return step;
  if (state === 'RequestDisableApproval') return 'disable';
  if (state === 'RequestDeletionApproval') return 'deletion';
  return null;
}

function stepOption(raw: string | undefined): ApprovalStep | undefined {
  if (raw === undefined) return undefined;
  const step = STEPS.find((s) => s === raw);
  if (!step) {
    throw new InvalidOptionValueError(
      'step',
      `--step must be ${STEPS.join(' or ')}; received ${quoteUntrusted(raw, 40)}.`,
    );
  }
  return step;
}

function stepWords(step: string | null): string {
  if (step === 'disable') return 'disabling the key';
  if (step === 'deletion') return 'scheduling the deletion';
  return 'the pending step';
}

function decide(decision: Decision, argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, decision === 'approve' ? APPROVE_COMMAND : REJECT_COMMAND, (args) => {
    const step = stepOption(args.string('step'));
    const comment = textOption('comment', args.string('comment'), MAX_COMMENT_LENGTH);
    const by = actorName(textOption('by', args.string('by'), MAX_BY_LENGTH), io.env).slice(0, MAX_BY_LENGTH);
    const options = awsOptions(args);
    return withClients(options, async (clients) => {
      const target = args.positionals[0] ?? '';
      const { sfn, executionArn, description } = await describeTarget(target, clients, options, io);
      const events = await readHistory(sfn, executionArn);
      const keyArnOf = (summary: ReturnType<typeof summarizeExecution>): string | null => {
        const machineArn = parseExecutionArn(executionArn)?.stateMachineArn;
        const machine = machineArn ? parseStateMachineArn(machineArn) : null;
        // The assessment's key ARN once AssessKey has read the key, else the one the input names.
        return summary.keyArn ?? (machine ? executionKeyArn(description.input, machine) : null);
      };
      // An answer after the approval expired changes nothing: say so, and when, rather than only
      // that nothing waits.
      const expiredBefore = (): never => {
        const expired = findExpiredApproval(events);
        if (expired) {
          throw new ApprovalExpiredError(
            executionArn,
            expired,
            keyArnOf(summarizeExecution(description, events)),
          );
        }
        throw description.status !== 'RUNNING'
          ? new ExecutionNotRunningError(executionArn, description.status ?? 'UNKNOWN')
          : new NoPendingApprovalError(executionArn, summarizeExecution(description, events).phase);
      };
      if (description.status !== 'RUNNING') {
        expiredBefore();
      }
      const pending = findPendingApproval(events);
      if (!pending) {
        return expiredBefore();
      }
      const pendingStep = pendingStepOf(pending.step, pending.state);
      if (step === undefined) {
        throw new MissingStepError(
          executionArn,
          pendingStep ?? 'pending',
          cliCommand(`${decision} ${executionArn} --step ${pendingStep ?? STEPS.join('|')}`),
        );
      }
      if (step !== pendingStep) {
        throw new StepMismatchError(executionArn, step, pendingStep ?? 'an unknown');
      }
      const summary = summarizeExecution(description, events);
      const knownKeyArn = keyArnOf(summary);
      const keyArn = knownKeyArn ?? '(not named in the input)';
      const expiredPending = () =>
        new ApprovalExpiredError(
          executionArn,
          { step: pendingStep, expiredAt: pending.expiresAt ?? null },
          knownKeyArn,
        );
      // The timeout has passed though Step Functions may not have closed the task yet: an answer
      // now comes after the expiry and must change nothing.
      if (pending.expiresAt && io.now().getTime() >= Date.parse(pending.expiresAt)) {
        throw expiredPending();
      }
      const keyLabel = `${keyArn}${summary.aliases.length ? ` (${summary.aliases.join(', ')})` : ''}`;
      if (!args.flag('json')) {
        io.stdout(
          `${printable(`Answering ${stepWords(pendingStep)} (--step ${step}) for key ${keyLabel}.`)}\n`,
        );
      }
      // Who is answering, as AWS knows them: the identity that signs the answer. A caller that STS
      // cannot name answers nothing.
      const region = parseExecutionArn(executionArn)?.region ?? (await sfn.config.region());
      const caller = await clients.sts(region).send(new GetCallerIdentityCommand({}));
      if (!caller.Arn || !caller.UserId || !caller.Account) {
        throw new NotAnApproverError(executionArn, caller.Arn ?? '(unknown caller)', pending.approvers);
      }
      if (!mayDecide(pending.approvers, { kind: 'iam', arn: caller.Arn })) {
        throw new NotAnApproverError(executionArn, caller.Arn, pending.approvers);
      }
      const identity: DeciderIdentity = {
        kind: 'iam',
        arn: caller.Arn,
        userId: caller.UserId,
        account: caller.Account,
      };
      const at = io.now().toISOString();
      try {
        if (decision === 'approve') {
          const output: ApprovalDecision & { readonly step: string | null; readonly declaredBy: string } = {
            decision: 'approve',
            step: pending.step,
            by: caller.Arn,
            identity,
            via: 'cli',
            declaredBy: by,
            at,
            ...(comment ? { comment } : {}),
          };
          await succeedTask(sfn, pending.token, JSON.stringify(output));
        } else {
          await failTask(sfn, pending.token, {
            error: WORKFLOW_ERRORS.rejected,
            cause:
              `Rejected with the kms-deletion-guard CLI by ${caller.Arn} (IAM identity verified by AWS; ` +
              `self-declared name ${by}) at ${at}${comment ? `: ${comment}` : '.'}`,
          });
        }
      } catch (error) {
        if (error instanceof Error && ANSWERED.has(error.name)) {
          // The history tells an approval that timed out in the meantime from one answered by someone else.
          const expired = findExpiredApproval(await readHistory(sfn, executionArn));
          if (expired) {
            throw new ApprovalExpiredError(executionArn, expired, knownKeyArn);
          }
          if (pending.expiresAt && io.now().getTime() >= Date.parse(pending.expiresAt)) {
            throw expiredPending();
          }
          throw new ApprovalAlreadyAnsweredError(executionArn, error.name);
        }
        throw error;
      }
      if (args.flag('json')) {
        io.stdout(
          `${JSON.stringify({
            executionArn,
            keyArn,
            aliases: summary.aliases,
            decision,
            step: pending.step,
            state: pending.state,
            by: caller.Arn,
            declaredBy: by,
            at,
            comment: comment ?? null,
          })}\n`,
        );
        return EXIT_SUCCESS;
      }
      const verb = decision === 'approve' ? 'Approved' : 'Rejected';
      const next =
        decision === 'approve'
          ? `The workflow goes on with ${stepWords(pending.step)}.`
          : pending.step === 'deletion'
            ? 'The workflow restores the key and ends REJECTED.'
            : 'The workflow ends REJECTED; the key was not changed.';
      io.stdout(
        `${printable(
          `${verb} ${stepWords(pending.step)} for ${executionArn} as ${caller.Arn} (${by}) at ${at}.`,
        )}\n${pending.subject ? `${printable(`Request: ${pending.subject}`)}\n` : ''}${next}\n`,
      );
      return EXIT_SUCCESS;
    });
  });
}

export function approve(argv: readonly string[], io: CliIo): Promise<number> {
  return decide('approve', argv, io);
}

export function reject(argv: readonly string[], io: CliIo): Promise<number> {
  return decide('reject', argv, io);
}
