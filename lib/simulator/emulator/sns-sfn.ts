/**
 * SNS `Publish` (the approval e-mails and the fast path's evidence e-mail; the AWS Query protocol,
 * form-encoded requests and XML answers, as `@aws-sdk/client-sns` speaks it) and Step Functions
 * (JSON 1.0): `DescribeExecution`, which tells the fast path whether the execution that holds a key
 * still runs, `GetExecutionHistory` (the approval page's look-up), and the task-token calls of the
 * watch's check chain and of the approval page. The workflow's own publish tasks run in the engine.
 */
import type { OpenedTask } from '../engine.js';
import { deterministicUuid } from './cloudtrail.js';
import { AwsError } from './errors.js';

/** One message published over HTTP (by a Lambda), as the simulation result lists notifications. */
export interface PublishedMessage {
  readonly at: string;
  readonly topicArn: string;
  readonly subject: string;
  readonly message: string;
  /** String message attributes (`kind`, `execution`, ...). */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface QueryAnswer {
  readonly status: number;
  readonly xml: string;
  readonly requestId: string;
}

const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `MessageAttributes.entry.N.Name` / `.Value.StringValue` pairs of a Query request. */
export function messageAttributesOf(form: URLSearchParams): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [field, name] of form) {
    const match = /^MessageAttributes\.entry\.(\d+)\.Name$/.exec(field);
    if (match) {
      const value = form.get(`MessageAttributes.entry.${match[1]}.Value.StringValue`);
      if (value !== null) {
        attributes[name] = value;
      }
    }
  }
  return attributes;
}

/** An injected SNS error code for an operation, or null; the simulation owns the fault list. */
export type SnsFaults = (operation: string) => string | null;

export class SnsService {
  private readonly messages: PublishedMessage[] = [];
  private counter = 0;
  private faults: SnsFaults = () => null;

  constructor(
    private readonly account: string,
    private readonly clock: () => Date,
  ) {}

  /** The scenario's SNS faults: they hit every publish over HTTP as they hit the workflow's own. */
  useFaults(faults: SnsFaults): void {
    this.faults = faults;
  }

  published(): readonly PublishedMessage[] {
    return this.messages;
  }

  /** One Query-protocol request; never throws for an AWS-level error. */
  serve(form: URLSearchParams): QueryAnswer {
    this.counter += 1;
    const requestId = deterministicUuid(this.account, 'sns-request', this.counter);
    const action = form.get('Action') ?? '';
    if (action !== 'Publish') {
      return this.error(
        requestId,
        'InvalidAction',
        `The emulated SNS does not serve ${action || '(no action)'}.`,
      );
    }
    const fault = this.faults(action);
    if (fault) {
      return this.error(requestId, fault, `${fault} (injected by the simulator)`);
    }
    const topicArn = form.get('TopicArn') ?? '';
    const message = form.get('Message');
    if (!/^arn:[^:]+:sns:[^:]+:\d{12}:.+$/.test(topicArn) || message === null) {
      return this.error(requestId, 'InvalidParameter', 'Invalid parameter: TopicArn or Message');
    }
    this.messages.push({
      at: this.clock().toISOString(),
      topicArn,
      subject: form.get('Subject') ?? '',
      message,
      attributes: messageAttributesOf(form),
    });
    const messageId = deterministicUuid(this.account, 'sns-message', this.counter);
    return {
      status: 200,
      requestId,
      xml: `<PublishResponse xmlns="${SNS_NAMESPACE}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  }

  private error(requestId: string, code: string, message: string): QueryAnswer {
    return {
      status: 400,
      requestId,
      xml: `<ErrorResponse xmlns="${SNS_NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface ExecutionEntry {
  status: ExecutionStatus;
  readonly startDate: Date;
  stopDate: Date | null;
}

/** How a task token was answered: SendTaskSuccess (its parsed output) or SendTaskFailure. */
export type TaskAnswer =
  | { readonly kind: 'success'; readonly output: unknown }
  | { readonly kind: 'failure'; readonly error: string | null; readonly cause: string | null };

/** What the task waiting on a token sees of it. */
export interface TaskTokenState {
  readonly answer: TaskAnswer | null;
  /** The last heartbeat, or when the task began when none came yet (ms). */
  readonly lastHeartbeatMs: number;
}

/** One SendTask* call that reached an open token, for the timeline. */
export interface TokenCall {
  readonly at: string;
  readonly token: string;
  readonly operation: 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat';
}

interface TokenEntry {
  open: boolean;
  lastHeartbeatMs: number;
  answer: TaskAnswer | null;
  /** The execution and state of the task, when the engine named them (its history events). */
  task?: OpenedTask;
}

/** One event of an execution's history, as GetExecutionHistory returns it. */
interface HistoryEntry {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly details?: Readonly<Record<string, Record<string, unknown>>>;
}

const END_EVENTS: Readonly<Record<Exclude<ExecutionStatus, 'RUNNING'>, string>> = {
  SUCCEEDED: 'ExecutionSucceeded',
  FAILED: 'ExecutionFailed',
  TIMED_OUT: 'ExecutionTimedOut',
  ABORTED: 'ExecutionAborted',
};
const MAX_HISTORY_PAGE = 1000;
const DEFAULT_HISTORY_PAGE = 100;

/** An injected fault for an operation, or undefined; the account owns the fault list. */
export type SfnFaults = (operation: string) => AwsError | undefined;

const MAX_TOKEN = 2048;
const MAX_OUTPUT = 262_144;
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;
const TASK_OPERATIONS = new Set(['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat']);
const EXECUTION_ARN = /^arn:[^:]+:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/;

/**
 * The executions the simulation runs, so `DescribeExecution` answers as Step Functions would, and
 * the task tokens of its waiting tasks, so `SendTaskSuccess`, `SendTaskFailure` and
 * `SendTaskHeartbeat` reach the engine. A token is open while its task waits; once answered, timed
 * out or its execution ended, Step Functions answers `TaskTimedOut`; a token it never issued,
 * `TaskDoesNotExist`.
 */
export class SfnService {
  private readonly executions = new Map<string, ExecutionEntry>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly calls: TokenCall[] = [];
  /**
   * The history of each execution, as far as the emulator sees it: the execution's start and end,
   * and each token task (entered, scheduled with its parameters, answered or timed out). The states
   * between are not in it; a reader finds less than Step Functions would show, never more.
   */
  private readonly histories = new Map<string, HistoryEntry[]>();

  constructor(
    private readonly clock: () => Date,
    private readonly faults: SfnFaults = () => undefined,
  ) {}

  setStatus(executionArn: string, status: ExecutionStatus): void {
    const now = this.clock();
    const entry = this.executions.get(executionArn);
    if (entry) {
      entry.status = status;
      entry.stopDate = status === 'RUNNING' ? null : now;
    } else {
      this.executions.set(executionArn, {
        status,
        startDate: now,
        stopDate: status === 'RUNNING' ? null : now,
      });
      this.addEvent(executionArn, 'ExecutionStarted');
    }
    if (status !== 'RUNNING') {
      this.addEvent(executionArn, END_EVENTS[status]);
    }
  }

  /** A task began waiting for `token`: from now on the SendTask* calls for it are answered. */
  openTask(token: string, task?: OpenedTask): void {
    if (this.tokens.has(token)) {
      throw new Error(`task token issued twice: ${token}`);
    }
    this.tokens.set(token, {
      open: true,
      lastHeartbeatMs: this.clock().getTime(),
      answer: null,
      ...(task ? { task } : {}),
    });
    if (task) {
      const entered = this.addEvent(task.executionArn, 'TaskStateEntered', {
        stateEnteredEventDetails: { name: task.state, input: JSON.stringify(task.input ?? null) },
      });
      const [, , , region = ''] = task.executionArn.split(':');
      this.addEvent(
        task.executionArn,
        'TaskScheduled',
        {
          taskScheduledEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke.waitForTaskToken',
            region,
            parameters: JSON.stringify(task.parameters ?? null),
            ...(task.timeoutSeconds !== null ? { timeoutInSeconds: task.timeoutSeconds } : {}),
          },
        },
        entered,
      );
      this.addEvent(task.executionArn, 'TaskStarted', {
        taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' },
      });
      this.addEvent(task.executionArn, 'TaskSubmitted', {
        taskSubmittedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' },
      });
    }
  }

  /** Appends an event to an execution's history; returns its ID. */
  private addEvent(
    executionArn: string,
    type: string,
    details?: Record<string, Record<string, unknown>>,
    previousEventId?: number,
  ): number {
    let history = this.histories.get(executionArn);
    if (!history) {
      history = [];
      this.histories.set(executionArn, history);
    }
    const id = history.length + 1;
    history.push({
      id,
      previousEventId: previousEventId ?? id - 1,
      timestamp: this.clock(),
      type,
      ...(details ? { details } : {}),
    });
    return id;
  }

  /** The token's answer and last heartbeat, or undefined for a token never issued. */
  taskState(token: string): TaskTokenState | undefined {
    const entry = this.tokens.get(token);
    return entry ? { answer: entry.answer, lastHeartbeatMs: entry.lastHeartbeatMs } : undefined;
  }

  /** The task stopped waiting (answered, timed out, its execution ended): later calls time out. */
  closeTask(token: string): void {
    const entry = this.tokens.get(token);
    if (entry) {
      if (entry.open && entry.answer === null && entry.task) {
        this.addEvent(entry.task.executionArn, 'TaskTimedOut', {
          taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' },
        });
      }
      entry.open = false;
    }
  }

  /** Every SendTask* call that reached an open token, in order. */
  tokenCalls(): readonly TokenCall[] {
    return this.calls;
  }

  /**
   * One request. Injected faults hit the workflow's own calls; `person` is an approver's answer
   * (through the approval page or the CLI), which they do not.
   */
  handle(
    operation: string,
    request: Record<string, unknown>,
    options: { readonly person?: boolean } = {},
  ): Record<string, unknown> {
    if (
      operation !== 'DescribeExecution' &&
      operation !== 'GetExecutionHistory' &&
      !TASK_OPERATIONS.has(operation)
    ) {
      throw new AwsError(
        'UnknownOperationException',
        `The emulated Step Functions does not serve ${operation}.`,
      );
    }
    const fault = options.person ? undefined : this.faults(operation);
    if (fault) {
      throw fault;
    }
    if (operation === 'DescribeExecution') {
      return this.describeExecution(request);
    }
    if (operation === 'GetExecutionHistory') {
      return this.executionHistory(request);
    }
    return this.answerTask(operation as TokenCall['operation'], request);
  }

  private answerTask(
    operation: TokenCall['operation'],
    request: Record<string, unknown>,
  ): Record<string, unknown> {
    const token = request.taskToken;
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN) {
      throw new AwsError('InvalidToken', 'Invalid Token: the task token is empty or too long');
    }
    let answer: TaskAnswer | null = null;
    if (operation === 'SendTaskSuccess') {
      const output = request.output;
      if (typeof output !== 'string') {
        throw new AwsError(
          'ValidationException',
          "1 validation error detected: Value null at 'output' failed to satisfy constraint: Member must not be null",
        );
      }
      if (output.length > MAX_OUTPUT) {
        throw new AwsError('ValidationException', `The output is longer than ${MAX_OUTPUT} characters.`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch {
        throw new AwsError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
      }
      answer = { kind: 'success', output: parsed };
    } else if (operation === 'SendTaskFailure') {
      const error = request.error;
      const cause = request.cause;
      if (error !== undefined && (typeof error !== 'string' || error.length > MAX_ERROR)) {
        throw new AwsError('ValidationException', `The error is longer than ${MAX_ERROR} characters.`);
      }
      if (cause !== undefined && (typeof cause !== 'string' || cause.length > MAX_CAUSE)) {
        throw new AwsError('ValidationException', `The cause is longer than ${MAX_CAUSE} characters.`);
      }
      answer = {
        kind: 'failure',
        error: typeof error === 'string' ? error : null,
        cause: typeof cause === 'string' ? cause : null,
      };
    }
    const entry = this.tokens.get(token);
    if (!entry) {
      throw new AwsError('TaskDoesNotExist', 'Task Does Not Exist');
    }
    if (!entry.open) {
      throw new AwsError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    }
    const now = this.clock();
    this.calls.push({ at: now.toISOString(), token, operation });
    if (answer) {
      entry.answer = answer;
      entry.open = false;
      if (entry.task) {
        const { executionArn, state } = entry.task;
        if (answer.kind === 'success') {
          const output = JSON.stringify(answer.output);
          this.addEvent(executionArn, 'TaskSucceeded', {
            taskSucceededEventDetails: {
              resourceType: 'lambda',
              resource: 'invoke.waitForTaskToken',
              output,
            },
          });
          this.addEvent(executionArn, 'TaskStateExited', {
            stateExitedEventDetails: { name: state, output },
          });
        } else {
          this.addEvent(executionArn, 'TaskFailed', {
            taskFailedEventDetails: {
              resourceType: 'lambda',
              resource: 'invoke.waitForTaskToken',
              ...(answer.error !== null ? { error: answer.error } : {}),
              ...(answer.cause !== null ? { cause: answer.cause } : {}),
            },
          });
        }
      }
    } else {
      entry.lastHeartbeatMs = now.getTime();
    }
    return {};
  }

  /** GetExecutionHistory: pages of `maxResults` (default 100, at most 1000), oldest first unless `reverseOrder`. */
  private executionHistory(request: Record<string, unknown>): Record<string, unknown> {
    const executionArn = request.executionArn;
    if (typeof executionArn !== 'string' || !EXECUTION_ARN.test(executionArn)) {
      throw new AwsError('InvalidArn', `Invalid Arn: '${String(executionArn)}'`);
    }
    if (!this.executions.has(executionArn)) {
      throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    }
    const maxResults = request.maxResults ?? 0;
    if (
      typeof maxResults !== 'number' ||
      !Number.isInteger(maxResults) ||
      maxResults < 0 ||
      maxResults > MAX_HISTORY_PAGE
    ) {
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_HISTORY_PAGE}`,
      );
    }
    const size = maxResults === 0 ? DEFAULT_HISTORY_PAGE : maxResults;
    const events = [...(this.histories.get(executionArn) ?? [])];
    if (request.reverseOrder === true) events.reverse();
    const start = typeof request.nextToken === 'string' ? Number(request.nextToken) : 0;
    if (!Number.isInteger(start) || start < 0 || start > events.length) {
      throw new AwsError('InvalidToken', 'Invalid Token: the pagination token is not valid');
    }
    const withData = request.includeExecutionData !== false;
    const page = events.slice(start, start + size).map((event) => ({
      id: event.id,
      previousEventId: event.previousEventId,
      timestamp: event.timestamp.getTime() / 1000,
      type: event.type,
      ...(event.details ? (withData ? event.details : withoutData(event.details)) : {}),
    }));
    const next = start + size < events.length ? { nextToken: String(start + size) } : {};
    return { events: page, ...next };
  }

  private describeExecution(request: Record<string, unknown>): Record<string, unknown> {
    const executionArn = request.executionArn;
    if (typeof executionArn !== 'string' || !EXECUTION_ARN.test(executionArn)) {
      throw new AwsError('InvalidArn', `Invalid Arn: '${String(executionArn)}'`);
    }
    const entry = this.executions.get(executionArn);
    if (!entry) {
      throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    }
    const [, , , , , , machine = '', name = ''] = executionArn.split(':');
    const machineArn = executionArn.replace(/:execution:[^:]+:[^:]+$/, `:stateMachine:${machine}`);
    return {
      executionArn,
      stateMachineArn: machineArn,
      name,
      status: entry.status,
      startDate: entry.startDate.getTime() / 1000,
      ...(entry.stopDate ? { stopDate: entry.stopDate.getTime() / 1000 } : {}),
    };
  }
}

/** An event's details without its execution data (a state's input or output), as `includeExecutionData: false` asks. */
function withoutData(
  details: Readonly<Record<string, Record<string, unknown>>>,
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(details).map(([name, fields]) => [
      name,
      Object.fromEntries(Object.entries(fields).filter(([field]) => field !== 'input' && field !== 'output')),
    ]),
  );
}
