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

export const EXECUTION_ARN =
  'arn:aws:states:us-east-1:111122223333:execution:GuardWorkflowStateMachine1A2B3C4D:kdg-legacy-20260201';
/** Shaped like a real task token: base64 with '+' and '/', which a raw link mangles. */
export const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAf+3mLk/yW9pQm+Zb2tlbi1mb3ItdGVzdHM+Kzs8L3NjcmlwdD4=';
export const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const SCHEDULED_AT = new Date('2026-02-01T09:00:00.000Z');

export type Step = 'disable' | 'deletion';

export interface FakeExecutionOptions {
  readonly step?: Step;
  readonly token?: string;
  /** Extra events between ExecutionStarted and the approval, to spread the history over pages. */
  readonly padding?: number;
  readonly description?: string;
  readonly aliases?: readonly string[];
  readonly summaryText?: string;
}

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
  private open = true;

  constructor(options: FakeExecutionOptions = {}) {
    this.token = options.token ?? TOKEN;
    this.step = options.step ?? 'disable';
    const stateName = this.step === 'disable' ? 'RequestDisableApproval' : 'RequestDeletionApproval';
    this.add({ type: 'ExecutionStarted' });
    for (let i = 0; i < (options.padding ?? 0); i++) {
      this.add({ type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'WatchForBreakage' } });
    }
    const entered = this.add({
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: stateName, input: JSON.stringify(approvalStateInput(options)) },
    });
    this.add({
      type: 'TaskScheduled',
      previousEventId: entered,
      timestamp: SCHEDULED_AT,
      taskScheduledEventDetails: {
        resourceType: 'sns',
        resource: 'publish.waitForTaskToken',
        region: 'us-east-1',
        parameters: JSON.stringify({
          TopicArn: 'arn:aws:sns:us-east-1:111122223333:GuardNotificationsTopic',
          Subject: 'Approve disabling KMS key alias/legacy (1234abcd...)',
          Message: `Summary text\n\nOpen this page to approve or reject (the link itself decides nothing): https://x/approval/?execution=${EXECUTION_ARN}&token=${this.token}`,
          MessageAttributes: {
            kind: { DataType: 'String', StringValue: 'approval-request' },
            step: { DataType: 'String', StringValue: this.step },
            execution: { DataType: 'String', StringValue: EXECUTION_ARN },
            taskToken: { DataType: 'String', StringValue: this.token },
          },
        }),
      },
    });
    this.add({ type: 'TaskStarted' });
    this.add({ type: 'TaskSubmitted' });
  }

  private add(event: Omit<HistoryEvent, 'id' | 'timestamp'> & { timestamp?: Date }): number {
    const id = this.events.length + 1;
    this.events.push({
      timestamp: new Date(SCHEDULED_AT.getTime() - 60_000 + id),
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

  /** Ends the execution (e.g. the approval timed out and the workflow failed). */
  end(type: HistoryEventType = 'ExecutionFailed'): void {
    this.open = false;
    this.add({ type: 'TaskTimedOut' });
    this.add({ type });
  }

  /** Wires this execution into an aws-sdk-client-mock stub of SFNClient. */
  install(sfn: AwsClientStub<SFNClient>): this {
    sfn.on(GetExecutionHistoryCommand).callsFake((input) => this.history(input));
    sfn.on(SendTaskSuccessCommand).callsFake((input) => this.succeed(input));
    sfn.on(SendTaskFailureCommand).callsFake((input) => this.fail(input));
    return this;
  }
}
