import {
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  type HistoryEventType,
  InvalidToken,
  SendTaskFailureCommand,
  type SendTaskFailureCommandInput,
  SendTaskSuccessCommand,
  type SendTaskSuccessCommandInput,
  type SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import {
  type ApprovalRequest,
  type HistoryEventLike,
  lookupApproval,
} from '../../../lambdas/domain/approval-page.js';

export const EXECUTION_ARN =
  'arn:aws:states:us-east-1:111122223333:execution:GuardWorkflowStateMachine1A2B3C4D:kdg-legacy-20260201';
/** Shaped like a real task token: base64 with '+' and '/', which a raw link mangles. */
export const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAf+3mLk/yW9pQm+Zb2tlbi1mb3ItdGVzdHM+Kzs8L3NjcmlwdD4=';
export const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const SCHEDULED_AT = new Date('2026-02-01T09:00:00.000Z');

export type Step = 'disable' | 'deletion';

/** A history event as the fixture writes it: ids, links and times are filled in. */
export type FakeEvent = Omit<HistoryEvent, 'id' | 'timestamp'> & { timestamp?: Date };

export interface FakeExecutionOptions {
  readonly step?: Step;
  readonly token?: string;
  /** Extra events between ExecutionStarted and the approval, to spread the history over pages. */
  readonly padding?: number;
  readonly description?: string;
  readonly aliases?: readonly string[];
  readonly summaryText?: string;
  /** The events of the states before the approval (after ExecutionStarted, before any padding). */
  readonly before?: readonly FakeEvent[];
  /** The approval state's whole input, instead of the small one of approvalStateInput. */
  readonly stateInput?: Record<string, unknown>;
  /** The e-mail's subject and its text before the link paragraph. */
  readonly subject?: string;
  readonly message?: string;
  /** When the approval e-mail was sent (the approval's TaskScheduled). */
  readonly scheduledAt?: Date;
  /** The approval task's TimeoutSeconds, as the history shows it. */
  readonly timeoutSeconds?: number;
  /** The stack's approvers, as the request's payload carries them. */
  readonly approvers?: readonly string[];
  /**
   * `sns`: the approval task of an execution started before links had secrets (an SNS publish whose
   * message attribute held the token). Default `lambda`: the request-approval Lambda.
   */
  readonly form?: 'lambda' | 'sns';
}

export const REQUEST_FUNCTION_ARN =
  'arn:aws:lambda:us-east-1:111122223333:function:GuardRequestApprovalFunction';

/** The state input the workflow hands to an approval task (the parts the page reads). */
export function approvalStateInput(options: FakeExecutionOptions = {}): Record<string, unknown> {
  return {
    input: { keyId: KEY_ARN },
    assessment: {
      value: {
        verdict: 'ACCEPTED',
        subject: 'Approve disabling KMS key alias/legacy (1234abcd...)',
        key: {
          keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
          keyArn: KEY_ARN,
          aliases: options.aliases ?? ['alias/legacy'],
          description: options.description ?? 'Legacy payments key',
          keyState: 'Enabled',
        },
        request: { requestedBy: 'ops@example.com', reason: 'unused since 2024' },
        plan: { observationDays: 30, pendingWindowInDays: 30 },
        summaryText: options.summaryText ?? 'Key alias/legacy was last used on 2024-05-01 (Decrypt).',
      },
    },
    watch: {
      value:
        options.step === 'deletion'
          ? {
              subject: 'Approve deleting KMS key alias/legacy',
              reportText: 'No DisabledException in 30 days.',
            }
          : null,
    },
  };
}

/**
 * One workflow execution as Step Functions shows it through GetExecutionHistory, waiting in an
 * approval task, and answering SendTaskSuccess / SendTaskFailure the way the service does: the first
 * answer closes the task, every later one fails with TaskTimedOut.
 */
export class FakeExecution {
  public readonly events: HistoryEvent[] = [];
  public readonly token: string;
  public readonly step: Step;
  public readonly successes: SendTaskSuccessCommandInput[] = [];
  public readonly failures: SendTaskFailureCommandInput[] = [];
  public historyCalls = 0;
  private readonly scheduledAt: Date;
  private open = true;

  constructor(options: FakeExecutionOptions = {}) {
    this.token = options.token ?? TOKEN;
    this.step = options.step ?? 'disable';
    this.scheduledAt = options.scheduledAt ?? SCHEDULED_AT;
    const stateName = this.step === 'disable' ? 'RequestDisableApproval' : 'RequestDeletionApproval';
    this.add({ type: 'ExecutionStarted' });
    for (const event of options.before ?? []) this.add(event);
    for (let i = 0; i < (options.padding ?? 0); i++) {
      this.add({ type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'WatchForBreakage' } });
    }
    const input = options.stateInput ?? approvalStateInput(options);
    const entered = this.add({
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: stateName, input: JSON.stringify(input) },
    });
    const subject = options.subject ?? 'Approve disabling KMS key alias/legacy (1234abcd...)';
    const text = options.message ?? 'Summary text';
    const parameters =
      options.form === 'sns'
        ? {
            TopicArn: 'arn:aws:sns:us-east-1:111122223333:GuardNotificationsTopic',
            Subject: subject,
            Message: `${text}\n\nOpen this page to approve or reject (the link itself decides nothing): https://x/approval/?execution=${EXECUTION_ARN}&token=${this.token}`,
            MessageAttributes: {
              kind: { DataType: 'String', StringValue: 'approval-request' },
              step: { DataType: 'String', StringValue: this.step },
              execution: { DataType: 'String', StringValue: EXECUTION_ARN },
              taskToken: { DataType: 'String', StringValue: this.token },
            },
          }
        : {
            FunctionName: REQUEST_FUNCTION_ARN,
            Payload: {
              executionArn: EXECUTION_ARN,
              taskToken: this.token,
              step: this.step,
              subject,
              text,
              keyArn: KEY_ARN,
              timeoutSeconds: options.timeoutSeconds ?? 604_800,
              approvers: [...(options.approvers ?? [])],
            },
          };
    this.add({
      type: 'TaskScheduled',
      previousEventId: entered,
      timestamp: this.scheduledAt,
      taskScheduledEventDetails: {
        resourceType: options.form === 'sns' ? 'sns' : 'lambda',
        resource: options.form === 'sns' ? 'publish.waitForTaskToken' : 'invoke.waitForTaskToken',
        region: 'us-east-1',
        ...(options.timeoutSeconds === undefined ? {} : { timeoutInSeconds: options.timeoutSeconds }),
        parameters: JSON.stringify(parameters),
      },
    });
    this.add({ type: 'TaskStarted' });
    this.add({ type: 'TaskSubmitted' });
  }

  private add(event: FakeEvent): number {
    const id = this.events.length + 1;
    this.events.push({
      timestamp: new Date(this.scheduledAt.getTime() - 60_000 + id),
      previousEventId: id - 1,
      ...event,
      id,
    });
    return id;
  }

  history(input: GetExecutionHistoryCommandInput) {
    this.historyCalls++;
    if (input.executionArn !== EXECUTION_ARN) {
      const error = new Error(`Execution Does Not Exist: '${input.executionArn}'`);
      error.name = 'ExecutionDoesNotExist';
      throw error;
    }
    const ordered = input.reverseOrder ? [...this.events].reverse() : [...this.events];
    const size = input.maxResults ?? 100;
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const page = ordered.slice(start, start + size);
    const next = start + size < ordered.length ? String(start + size) : undefined;
    return { events: page, ...(next ? { nextToken: next } : {}) };
  }

  private close(token: string, type: 'TaskSucceeded' | 'TaskFailed'): void {
    if (token !== this.token) {
      throw new InvalidToken({ message: 'Invalid Token', $metadata: {} });
    }
    if (!this.open) {
      throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} });
    }
    this.open = false;
    this.add({ type });
    this.add({ type: 'TaskStateExited', stateExitedEventDetails: { name: 'Request' } });
  }

  succeed(input: SendTaskSuccessCommandInput) {
    this.close(input.taskToken ?? '', 'TaskSucceeded');
    this.successes.push(input);
    return {};
  }

  fail(input: SendTaskFailureCommandInput) {
    this.close(input.taskToken ?? '', 'TaskFailed');
    this.failures.push(input);
    return {};
  }

  /** Ends the execution (e.g. the approval timed out and the workflow failed); `at` is when it timed out. */
  end(type: HistoryEventType = 'ExecutionFailed', at?: Date): void {
    this.open = false;
    this.add({ type: 'TaskTimedOut', ...(at ? { timestamp: at } : {}) });
    this.add({ type });
  }

  /** The approval times out at `at` and the workflow goes on without it (the restore after a deletion). */
  expire(at: Date): void {
    this.open = false;
    this.add({ type: 'TaskTimedOut', timestamp: at });
    this.add({ type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'RestoreAfterExpiry' } });
  }

  /** The execution is stopped while the approval waits (no timeout). */
  abort(): void {
    this.open = false;
    this.add({ type: 'ExecutionAborted' });
  }

  /** Wires this execution into an aws-sdk-client-mock stub of SFNClient. */
  install(sfn: AwsClientStub<SFNClient>): this {
    sfn.on(GetExecutionHistoryCommand).callsFake((input) => this.history(input));
    sfn.on(SendTaskSuccessCommand).callsFake((input) => this.succeed(input));
    sfn.on(SendTaskFailureCommand).callsFake((input) => this.fail(input));
    return this;
  }
}

/** The execution's events as GetExecutionHistory returns them with `reverseOrder`. */
export function newestFirst(execution: FakeExecution): HistoryEventLike[] {
  return [...execution.events].reverse();
}

/** The pending request the page finds in `execution`'s history, or in the part `events` picks of it. */
export function pendingRequestOf(
  execution: FakeExecution,
  events: (all: HistoryEventLike[]) => HistoryEventLike[] = (all) => all,
): ApprovalRequest {
  const lookup = lookupApproval(events(newestFirst(execution)), EXECUTION_ARN, execution.token, true);
  if (lookup.status !== 'PENDING') throw new Error(`expected PENDING, got ${lookup.status}`);
  return lookup.request;
}
