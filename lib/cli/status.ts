import type { DescribeExecutionOutput, HistoryEvent } from '@aws-sdk/client-sfn';
import { readHistory } from '../../lambdas/aws/execution-history.js';
import { cliCommand } from '../../lambdas/contracts/cli.js';
import { approvalTaskOf } from '../../lambdas/domain/approval-page.js';
import type { Evidence } from '../../lambdas/domain/types.js';
import { AWS_OPTIONS, type CommandSpec, runParsedCommand } from './args.js';
import {
  awsOptions,
  consoleUrl,
  describeTarget,
  inputKeyId,
  isRecord,
  parseExecutionArn,
  parseJson,
  withClients,
} from './aws.js';
import { EXIT_SUCCESS } from './exit-codes.js';
import { type CliIo, printable } from './io.js';

/**
 * `status <key|execution>`: where an execution is, read from its history. The history is the
 * record Step Functions keeps of every state entered and every task's output, so nothing here
 * depends on anything the workflow would have to publish besides its state names and `$.watch`.
 * A watch is one task-token state whose checks run outside Step Functions (EventBridge Scheduler
 * invokes the check function), so while it runs the history tells only when it began; its result
 * (checks, records scanned, evidence) appears when the token is answered.
 */

export const STATUS_COMMAND: CommandSpec = {
  name: 'status',
  description: 'Show where the workflow of a key or an execution is: phase, watch, evidence, outcome.',
  argument: {
    name: '<keyId|keyArn|alias|executionArn|executionName>',
    description:
      'an execution, or a key: its running execution, else the one its hold tag names, else its latest',
  },
  options: AWS_OPTIONS,
};

/** The workflow's states (lib/constructs/workflow.ts) grouped into the phases a person thinks in. */
export const PHASES: Readonly<Record<string, string>> = {
  Start: 'assessing',
  AssessKey: 'assessing',
  IsRefused: 'assessing',
  TakeInventory: 'reading what the key protects',
  InventoryVerdict: 'reading what the key protects',
  NotifyRefused: 'refused',
  Refused: 'refused',
  PrepareUsedSinceAssessment: 'refused',
  DescribeUsedSinceAssessment: 'refused',
  NotifyUsedSinceAssessment: 'refused',
  UsedSinceAssessment: 'refused',
  RequestDisableApproval: 'waiting for approval to disable',
  DisableRejected: 'rejected before disable',
  DisableApprovalExpired: 'approval expired before disable',
  DisableKey: 'disabling',
  StartWatch: 'observing',
  WatchForBreakage: 'observing',
  ObservationVerdict: 'observing',
  ObservationIncomplete: 'restoring after an error',
  WaitForFinalCheck: 'final check',
  FinalCheck: 'final check',
  FinalVerdict: 'final check',
  RequestDeletionApproval: 'waiting for approval to delete',
  TakeInventoryBeforeDeletion: 'reading what the key protects before deletion',
  FinalInventoryVerdict: 'reading what the key protects before deletion',
  PrepareInventoryRefusal: 'restoring after an inventory refusal',
  RestoreAfterInventory: 'restoring after an inventory refusal',
  RestoreAfterInventoryVerdict: 'restoring after an inventory refusal',
  NotifyInventoryRefused: 'refused before deletion, key restored',
  InventoryRefused: 'refused before deletion, key restored',
  ScheduleDeletion: 'scheduling deletion',
  ContinueScheduleDeletion: 'scheduling deletion',
  WatchPendingWindow: 'scheduling deletion',
  StartPendingWatch: 'pending deletion window',
  WatchPendingUse: 'pending deletion window',
  PendingVerdict: 'pending deletion window',
  PendingWatchIncomplete: 'restoring after an error',
  // The pending watch's last check ran; the execution (and so the fast path) guards the key until KMS deletes it.
  WaitForDeletionDate: 'pending deletion window',
  CheckAtDeletionDate: 'deletion date reached',
  DeletionDateVerdict: 'deletion date reached',
  NotifyEvidenceTooLate: 'deletion scheduled',
  KeyChangedExternally: 'restoring after an error',
  DeletionScheduled: 'deletion scheduled',
  Done: 'deletion scheduled',
  RollBack: 'rolling back',
  RollBackVerdict: 'rolling back',
  NotifyRolledBack: 'rolled back',
  RolledBack: 'rolled back',
  CancelDeletion: 'cancelling deletion',
  CancelDeletionVerdict: 'cancelling deletion',
  NotifyDeletionCancelled: 'deletion cancelled',
  DeletionCancelled: 'deletion cancelled',
  RestoreAfterRejection: 'restoring after rejection',
  RestoreAfterRejectionVerdict: 'restoring after rejection',
  NotifyDeletionRejected: 'restored after rejection',
  DeletionRejected: 'restored after rejection',
  RestoreAfterExpiry: 'restoring after expired approval',
  RestoreAfterExpiryVerdict: 'restoring after expired approval',
  NotifyDeletionApprovalExpired: 'restored after expired approval',
  DeletionApprovalExpired: 'restored after expired approval',
  Restore: 'restoring after an error',
  RestoreVerdict: 'restoring after an error',
  // The fast path (lambdas/fast-path) gave the key back between two checks; its record ends the run.
  FastPathOutcome: 'ending with the fast path record',
  TakeFastPathEvidence: 'ending with the fast path record',
  NotifyAborted: 'aborted',
  Aborted: 'aborted',
  PrepareAbortedUnchanged: 'aborted',
  AbortedUnchanged: 'aborted',
  PrepareRestoreFailedNotice: 'restore failed',
  RestoreErrorHasCause: 'restore failed',
  PrepareRestoreFailedNoticeWithCause: 'restore failed',
  NotifyRestoreFailed: 'restore failed',
  RestoreFailed: 'restore failed',
};

/**
 * The task-token states that hold a whole watch (`lambda:invoke.waitForTaskToken` on the check
 * function); the checks themselves (CheckForBreakage, CheckPendingUse) never enter the history.
 */
const WATCH_STATES: ReadonlySet<string> = new Set(['WatchForBreakage', 'WatchPendingUse']);

/**
 * The approval task the workflow waits on: the request-approval Lambda invoked with
 * `.waitForTaskToken` (an SNS publish with `.waitForTaskToken` in executions started before links had
 * secrets). The watch's tasks share the Lambda form; approvalTaskOf tells them apart by the payload.
 */
const APPROVAL_TASK_FORMS: ReadonlySet<string> = new Set([
  'sns publish.waitForTaskToken',
  'lambda invoke.waitForTaskToken',
]);

/** What DescribeExecution tells that a summary uses. */
export type ExecutionDescription = Partial<
  Pick<
    DescribeExecutionOutput,
    'executionArn' | 'name' | 'status' | 'input' | 'output' | 'startDate' | 'stopDate' | 'error' | 'cause'
  >
>;

export interface PendingApproval {
  /** The state that waits (RequestDisableApproval or RequestDeletionApproval). */
  readonly state: string;
  /** `disable` or `deletion`, as the request names it. */
  readonly step: string | null;
  readonly token: string;
  readonly subject: string | null;
  /** The stack's approvers when the request was made (empty: anyone who may answer the task). */
  readonly approvers: readonly string[];
  readonly since: string | null;
  /** When the request expires unanswered (the task's timeout after it was sent); null when unknown. */
  readonly expiresAt?: string | null;
}

/** An approval that timed out unanswered: the execution went on (or ended) without it. */
export interface ExpiredApproval {
  readonly state: string;
  readonly step: string | null;
  /** When it timed out (the TaskTimedOut event), or null when the history does not say. */
  readonly expiredAt: string | null;
}

export interface WatchSummary {
  readonly phase: string | null;
  readonly checks: number | null;
  readonly scanned: number | null;
  readonly evidenceCount: number;
  readonly evidence: readonly Evidence[];
}

export interface ExecutionSummary {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  /** The key ID the execution's input names (a key ARN reduced to its ID). */
  readonly keyId: string | null;
  /** From the assessment, once AssessKey has read the key. */
  readonly keyArn: string | null;
  readonly aliases: readonly string[];
  readonly startedAt: string | null;
  readonly stoppedAt: string | null;
  /** The last state entered. */
  readonly state: string | null;
  /** That state's phase in words. */
  readonly phase: string | null;
  /**
   * When the next check runs; only while the execution waits in a Wait state (WaitForFinalCheck).
   * Null inside a watch task: after its first check the schedule lives outside the history.
   */
  readonly nextCheckAt: string | null;
  /** When the running watch task (WatchForBreakage, WatchPendingUse) was entered; null outside one. */
  readonly watchingSince: string | null;
  /** The running watch's first check, as the watch it started with planned it; null outside one. */
  readonly firstCheckAt: string | null;
  /** The assessment's plan: how often a watch checks. */
  readonly checkIntervalSeconds: number | null;
  /**
   * The last watch result in the history. Null while a watch task runs (its checks report to the
   * check function's logs) and after one that failed, since the watch it started with would be stale.
   */
  readonly watch: WatchSummary | null;
  readonly pendingApproval: Omit<PendingApproval, 'token' | 'approvers'> | null;
  /** Null while running; the workflow's outcome (or SFN's status when it ended otherwise) after. */
  readonly outcome: string | null;
  readonly cause: string | null;
  readonly consoleUrl: string;
}

function details(
  event: HistoryEvent,
): { name?: string | undefined; input?: string; output?: string } | undefined {
  return event.stateEnteredEventDetails ?? event.stateExitedEventDetails;
}

function isEntered(event: HistoryEvent): boolean {
  return event.type?.endsWith('StateEntered') === true;
}

function isExited(event: HistoryEvent): boolean {
  return event.type?.endsWith('StateExited') === true;
}

/** A task of an approval's form: while an approval waits no other task runs, so its closing event closes it. */
function isApprovalTask(
  d: { resourceType?: string | undefined; resource?: string | undefined } | undefined,
): boolean {
  return APPROVAL_TASK_FORMS.has(`${d?.resourceType} ${d?.resource}`);
}

/**
 * The approval the execution waits for, from its history (oldest event first): the last approval
 * task scheduled (approvalTaskOf) whose token has not been answered, has not failed and has not timed
 * out. A retried request schedules a new task with a new token; the last one counts.
 */
export function findPendingApproval(events: readonly HistoryEvent[]): PendingApproval | null {
  let state: string | null = null;
  let pending: PendingApproval | null = null;
  for (const event of events) {
    switch (event.type) {
      case 'TaskScheduled': {
        const task = approvalTaskOf(event);
        const timeout = event.taskScheduledEventDetails?.timeoutInSeconds;
        pending = task
          ? {
              state: state ?? '(unknown state)',
              step: task.step,
              token: task.token,
              subject: task.subject,
              approvers: task.approvers,
              since: event.timestamp?.toISOString() ?? null,
              expiresAt:
                event.timestamp && timeout !== undefined && timeout > 0
                  ? new Date(event.timestamp.getTime() + timeout * 1000).toISOString()
                  : null,
            }
          : null;
        break;
      }
      case 'TaskSucceeded':
        if (isApprovalTask(event.taskSucceededEventDetails)) pending = null;
        break;
      case 'TaskFailed':
        if (isApprovalTask(event.taskFailedEventDetails)) pending = null;
        break;
      case 'TaskTimedOut':
        if (isApprovalTask(event.taskTimedOutEventDetails)) pending = null;
        break;
      case 'TaskStartFailed':
      case 'TaskSubmitFailed':
        pending = null;
        break;
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut':
        pending = null;
        break;
      default:
        if (isEntered(event)) {
          state = details(event)?.name ?? null;
        } else if (isExited(event) && pending && details(event)?.name === pending.state) {
          pending = null;
        }
    }
  }
  return pending;
}

/**
 * The last approval of the execution, when it timed out unanswered (history oldest event first), or
 * null when the last approval was answered, is still waiting, or there was none.
 */
export function findExpiredApproval(events: readonly HistoryEvent[]): ExpiredApproval | null {
  let state: string | null = null;
  let last: { state: string; step: string | null } | null = null;
  let expired: ExpiredApproval | null = null;
  for (const event of events) {
    if (event.type === 'TaskScheduled') {
      // The watch's tasks share the approval's Lambda form; only an approval's task may expire as one.
      const task = approvalTaskOf(event);
      last = task ? { state: state ?? '(unknown state)', step: task.step } : null;
      if (task) expired = null;
    } else if (event.type === 'TaskTimedOut' && isApprovalTask(event.taskTimedOutEventDetails) && last) {
      expired = { ...last, expiredAt: event.timestamp?.toISOString() ?? null };
    } else if (isEntered(event)) {
      state = details(event)?.name ?? null;
    }
  }
  return expired;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function toWatchSummary(value: Record<string, unknown>): WatchSummary {
  const evidence = Array.isArray(value.evidence)
    ? (value.evidence.filter(isRecord) as unknown as Evidence[])
    : [];
  return {
    phase: typeof value.phase === 'string' ? value.phase : null,
    checks: numberOrNull(value.checks),
    scanned: numberOrNull(value.scanned),
    evidenceCount: Math.max(numberOrNull(value.evidenceCount) ?? 0, evidence.length),
    evidence,
  };
}

function outcomeOf(description: ExecutionDescription): {
  outcome: string | null;
  cause: string | null;
} {
  const stopped = description.stopDate?.toISOString() ?? 'an unknown time';
  switch (description.status) {
    case 'RUNNING':
    case undefined:
      return { outcome: null, cause: null };
    case 'SUCCEEDED': {
      const output = parseJson(description.output);
      const outcome = isRecord(output) && typeof output.outcome === 'string' ? output.outcome : 'SUCCEEDED';
      const date = isRecord(output) && typeof output.deletionDate === 'string' ? output.deletionDate : null;
      return {
        outcome,
        cause:
          outcome === 'DELETION_SCHEDULED'
            ? `KMS deletes the key on ${date ?? 'the end of its pending window'}.`
            : null,
      };
    }
    case 'FAILED':
      return { outcome: description.error ?? 'FAILED', cause: description.cause ?? null };
    default:
      // Stopped or timed out by Step Functions itself: the workflow's restore step did not run.
      return {
        outcome: description.status,
        cause:
          `The execution ended ${description.status === 'ABORTED' ? 'by StopExecution' : `as ${description.status}`} at ` +
          `${stopped}, outside the workflow: its restore step did not run. Check the key's state and its ` +
          'kms-deletion-guard:* tags, and enable it or cancel its deletion by hand if it is still needed.',
      };
  }
}

function valueAt(state: unknown, field: string): Record<string, unknown> | null {
  const slot = isRecord(state) ? state[field] : undefined;
  const value = isRecord(slot) ? slot.value : undefined;
  return isRecord(value) ? value : null;
}

function checkIntervalOf(state: unknown): number | null {
  const plan = valueAt(state, 'assessment')?.plan;
  return isRecord(plan) ? numberOrNull(plan.checkIntervalSeconds) : null;
}

/** Where an execution is, from its description and its history (oldest event first; a recent slice is enough for the phase). */
export function summarizeExecution(
  description: ExecutionDescription,
  events: readonly HistoryEvent[],
): ExecutionSummary {
  const executionArn = description.executionArn ?? '';
  let state: string | null = null;
  let stateOpen = false;
  let lastEnteredType: string | null = null;
  let enteredInput: unknown;
  let enteredAt: string | null = null;
  let watch: WatchSummary | null = null;
  // The `$.watch.value` a watch task started with, as JSON: every later state carries it unchanged
  // until the task answers with its result, so seeing it again means the watch did not finish.
  let unfinishedWatch: string | null = null;
  let checkIntervalSeconds: number | null = null;
  let keyArn: string | null = null;
  let aliases: readonly string[] = [];
  for (const event of events) {
    const d = details(event);
    if (isEntered(event)) {
      state = d?.name ?? state;
      stateOpen = true;
      lastEnteredType = event.type ?? null;
      enteredInput = parseJson(d?.input);
      enteredAt = event.timestamp?.toISOString() ?? null;
      checkIntervalSeconds = checkIntervalOf(enteredInput) ?? checkIntervalSeconds;
      if (event.type === 'TaskStateEntered' && state !== null && WATCH_STATES.has(state)) {
        unfinishedWatch = JSON.stringify(valueAt(enteredInput, 'watch'));
        watch = null;
      }
    } else if (isExited(event)) {
      if (d?.name === state) stateOpen = false;
      const output = parseJson(d?.output);
      if (!isRecord(output)) continue;
      checkIntervalSeconds = checkIntervalOf(output) ?? checkIntervalSeconds;
      const watchValue = valueAt(output, 'watch');
      if (watchValue && JSON.stringify(watchValue) !== unfinishedWatch) {
        watch = toWatchSummary(watchValue);
        unfinishedWatch = null;
      }
      const key = valueAt(output, 'assessment')?.key;
      if (isRecord(key) && typeof key.keyArn === 'string') {
        keyArn = key.keyArn;
        aliases = Array.isArray(key.aliases)
          ? key.aliases.filter((a): a is string => typeof a === 'string')
          : [];
      }
    }
  }
  const running = description.status === 'RUNNING';
  let nextCheckAt: string | null = null;
  if (running && stateOpen && lastEnteredType === 'WaitStateEntered') {
    const value = valueAt(enteredInput, 'watch');
    nextCheckAt = typeof value?.nextCheckAt === 'string' ? value.nextCheckAt : null;
  }
  const watching =
    running && stateOpen && lastEnteredType === 'TaskStateEntered' && WATCH_STATES.has(state ?? '');
  const startedWith = watching ? valueAt(enteredInput, 'watch') : null;
  const pending = running ? findPendingApproval(events) : null;
  const { outcome, cause } = outcomeOf(description);
  return {
    executionArn,
    name: description.name ?? parseExecutionArn(executionArn)?.name ?? executionArn,
    status: description.status ?? 'UNKNOWN',
    keyId: inputKeyId(description.input),
    keyArn,
    aliases,
    startedAt: description.startDate?.toISOString() ?? null,
    stoppedAt: description.stopDate?.toISOString() ?? null,
    state,
    phase: state ? (PHASES[state] ?? state) : null,
    nextCheckAt,
    watchingSince: watching ? enteredAt : null,
    firstCheckAt: typeof startedWith?.nextCheckAt === 'string' ? startedWith.nextCheckAt : null,
    checkIntervalSeconds,
    watch,
    pendingApproval: pending
      ? { state: pending.state, step: pending.step, subject: pending.subject, since: pending.since }
      : null,
    outcome,
    cause,
    consoleUrl: consoleUrl(executionArn),
  };
}

/** `6 hours`, `90 minutes`: the plan's interval as a person reads it. */
function intervalWords(seconds: number): string {
  const [amount, unit] =
    seconds % 3600 === 0
      ? [seconds / 3600, 'hour']
      : seconds % 60 === 0
        ? [seconds / 60, 'minute']
        : [seconds, 'second'];
  return amount === 1 ? unit : `${amount} ${unit}s`;
}

function evidenceLine(e: Evidence): string {
  return (
    `${e.eventTime} ${e.errorCode} on ${e.eventName} by ${e.principal || '(unknown principal)'}` +
    `${e.sourceIPAddress ? ` from ${e.sourceIPAddress}` : ''} (event ${e.eventID})`
  );
}

export function renderSummary(s: ExecutionSummary): string {
  const lines: [string, string][] = [];
  lines.push(['Execution', s.executionArn]);
  const key = s.keyArn ?? s.keyId ?? '(not named in the input)';
  lines.push(['Key', `${key}${s.aliases.length ? ` (${s.aliases.join(', ')})` : ''}`]);
  lines.push([
    'Status',
    `${s.status}${s.startedAt ? `, started ${s.startedAt}` : ''}${s.stoppedAt ? `, ended ${s.stoppedAt}` : ''}`,
  ]);
  lines.push([
    'Phase',
    s.phase ? `${s.phase}${s.state && s.state !== s.phase ? ` (${s.state})` : ''}` : '(not started)',
  ]);
  if (s.nextCheckAt) lines.push(['Next check', s.nextCheckAt]);
  if (s.watchingSince) {
    const every = s.checkIntervalSeconds
      ? `every ${intervalWords(s.checkIntervalSeconds)}`
      : 'at the planned interval';
    lines.push([
      'Watching',
      `since ${s.watchingSince}, ${s.firstCheckAt ? `first check at ${s.firstCheckAt}, then ` : 'checks '}${every}`,
    ]);
    lines.push([
      'Checks',
      'run outside Step Functions (EventBridge Scheduler invokes the check function): their progress is ' +
        "in the check function's logs, their result shows here when the watch ends",
    ]);
  }
  if (s.pendingApproval) {
    const deletion = s.pendingApproval.step === 'deletion';
    const step = deletion ? 'scheduling the deletion' : 'disabling the key';
    lines.push([
      'Approval',
      `waiting since ${s.pendingApproval.since ?? '(unknown)'} for approval of ${step}: ` +
        `${cliCommand(`approve ${s.name} --step ${deletion ? 'deletion' : 'disable'}`)} (or reject)`,
    ]);
  }
  if (s.watch) {
    const stats =
      `${s.watch.checks ?? 0} check${s.watch.checks === 1 ? '' : 's'}, ` +
      `${s.watch.scanned ?? 0} CloudTrail record${s.watch.scanned === 1 ? '' : 's'} scanned`;
    if (s.watch.evidenceCount === 0) {
      lines.push(['Evidence', `none so far (${stats})`]);
    } else {
      lines.push([
        'Evidence',
        `${s.watch.evidenceCount} record${s.watch.evidenceCount === 1 ? '' : 's'} show the key is still needed (${stats})`,
      ]);
      for (const e of s.watch.evidence) lines.push(['', evidenceLine(e)]);
    }
  }
  if (s.outcome) lines.push(['Outcome', `${s.outcome}${s.cause ? `: ${s.cause}` : ''}`]);
  lines.push(['Console', s.consoleUrl]);
  return lines.map(([label, value]) => `${label.padEnd(11)}${printable(value)}\n`).join('');
}

export function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, STATUS_COMMAND, (args) => {
    const options = awsOptions(args);
    return withClients(options, async (clients) => {
      const { sfn, executionArn, description } = await describeTarget(
        args.positionals[0] ?? '',
        clients,
        options,
        io,
      );
      const summary = summarizeExecution(description, await readHistory(sfn, executionArn));
      io.stdout(args.flag('json') ? `${JSON.stringify(summary)}\n` : renderSummary(summary));
      return EXIT_SUCCESS;
    });
  });
}
