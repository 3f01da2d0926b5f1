/**
 * Runs a synthesized definition with aws-local-stepfunctions in virtual time.
 *
 * The engine only sees a rewritten copy of the definition: Wait states become Tasks whose local
 * handler moves the virtual clock, task timeouts are enforced in virtual time instead of by real
 * timers (Node's setTimeout overflows above 24.8 days), and every Task has a local handler, so
 * nothing ever reaches a real AWS endpoint. A `lambda:invoke.waitForTaskToken` task invokes its
 * handler with a token of its own, then moves virtual time from one world event to the next until
 * the emulated Step Functions sees that token answered, its heartbeat missed or its time run out.
 */
import './polyfill.js';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ExecutionAbortedError,
  ExecutionError,
  type RunOptions,
  StateMachine,
} from 'aws-local-stepfunctions';
import { LAMBDAS_DIR, moduleFile } from '../package-files.js';
import type { VirtualClock } from './clock.js';
import {
  type AslDefinition,
  type AslState,
  DefinitionError,
  type SynthesizedWorkflow,
} from './definition.js';
import type { ApprovalAnswer } from './scenario.js';

type JsonValue = Parameters<StateMachine['run']>[0];
type Overrides = NonNullable<RunOptions['overrides']>;
type LocalHandler = (input: JsonValue) => Promise<JsonValue>;

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface TimelineEntry {
  readonly at: string;
  readonly state: string;
  readonly type: string;
  /** Set on entries of Lambda invocations outside the state machine (a scheduled check): the handler folder. */
  readonly handler?: string;
  detail: Record<string, unknown>;
}

export interface Notification {
  readonly at: string;
  readonly kind: string;
  readonly subject: string;
  readonly state: string;
  /** Set on approval requests: `disable` or `deletion`. */
  readonly step?: string;
  readonly message: unknown;
}

/** How a task token was answered (the emulated Step Functions' SendTaskSuccess / SendTaskFailure). */
export type TokenAnswer =
  | { readonly kind: 'success'; readonly output: unknown }
  | { readonly kind: 'failure'; readonly error: string | null; readonly cause: string | null };

/** A token task as its TaskStateEntered and TaskScheduled events show it in the execution history. */
export interface OpenedTask {
  readonly executionArn: string;
  readonly state: string;
  /** The state's input. */
  readonly input: unknown;
  /** The task's parameters after Parameters (for a Lambda: FunctionName and Payload, the token in it). */
  readonly parameters: unknown;
  readonly timeoutSeconds: number | null;
}

/** The task tokens of `lambda:invoke.waitForTaskToken` tasks, as the emulated Step Functions keeps them. */
export interface TaskTokens {
  /** The task waits for `token` from now on; `task` is what its history events show. */
  openTask(token: string, task?: OpenedTask): void;
  /** Its answer and last heartbeat (ms; the opening time until a heartbeat came). */
  taskState(
    token: string,
  ): { readonly answer: TokenAnswer | null; readonly lastHeartbeatMs: number } | undefined;
  /** The task stopped waiting: later answers are refused. */
  closeTask(token: string): void;
}

/** What the engine needs from the simulated world. */
export interface EngineHooks {
  readonly clock: VirtualClock;
  /**
   * Moves virtual time forward to `target`, letting the world act on the way (application calls,
   * EventBridge deliveries, scheduled invocations). Returns the timeline entries of what the world
   * did, which the engine files in place, after the state that was waiting.
   */
  advanceTo(
    target: Date,
  ): Promise<readonly TimelineEntry[] | undefined> | readonly TimelineEntry[] | undefined;
  /**
   * When the world acts next (ms), or null when nothing is due: a task waiting for its token moves
   * time from one such event to the next, since only the world can answer it.
   */
  nextEventAt?(): number | null;
  /** The task tokens the world's Lambdas answer; needed by `lambda:invoke.waitForTaskToken` tasks. */
  readonly taskTokens?: TaskTokens;
  /**
   * Runs the handler of `lambdas/<handler>/` with the task's payload and returns its result;
   * `functionArn` is the invoked function's ARN (the handler's `context.invokedFunctionArn`).
   */
  invokeFunction(handler: string, payload: unknown, functionArn: string): Promise<unknown>;
  /** The scenario's answer to an approval request for `step`. */
  approvalAnswer(step: string): ApprovalAnswer;
  /**
   * How long the approver of `step` takes (ms), or null for an answer at once. A delayed answer is
   * given by the world through the emulated Step Functions (`answerLater`), like a person's.
   */
  approvalDelayMs?(step: string): number | null;
  /** The world gives this answer to the approval's task token at `atMs`, whether it still waits or not. */
  answerLater?(answer: LateApproval): void;
  /** An injected SNS error for a publish task (`SNS.<code>`, as Step Functions names it), or null. */
  publishFault?(operation: 'Publish'): TaskError | null;
}

/** An approval answer the world gives later, through the task token, as a person would. */
export interface LateApproval {
  readonly step: string;
  readonly answer: 'approve' | 'reject';
  readonly token: string;
  readonly atMs: number;
  /** When the approval times out (ms): an answer from then on comes after expiry. */
  readonly expiresAtMs: number;
  /** The approval state, for the timeline. */
  readonly state: string;
}

export interface EngineOptions {
  readonly executionName?: string;
  readonly taskToken?: string;
}

export interface EngineRun {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** The execution's output (SUCCEEDED only). */
  readonly output: unknown;
  /** Error and Cause of a failed execution (a Fail state's Error is the outcome). */
  readonly error: string | null;
  readonly cause: string | null;
  /** The data the execution held when it ended: its output, or the input of its last state. */
  readonly finalData: unknown;
  readonly timeline: readonly TimelineEntry[];
  readonly notifications: readonly Notification[];
  readonly stats: { readonly stateTransitions: number; readonly lambdaInvocations: number };
}

const VIRTUAL_WAIT_RESOURCE = 'arn:aws:states:::kms-deletion-guard:virtual-wait';
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke(\.waitForTaskToken)?$/;
const SNS_PUBLISH = /^arn:aws[\w-]*:states:::sns:publish$/;
const SNS_PUBLISH_TOKEN = /^arn:aws[\w-]*:states:::sns:publish\.waitForTaskToken$/;
/** What Step Functions allows a task token wait without TimeoutSeconds: the execution's one year. */
const DEFAULT_TOKEN_TIMEOUT_SECONDS = 365 * 86_400;
export const DEFAULT_TASK_TOKEN = 'kms-deletion-guard-simulated-task-token';
/**
 * The timeout the engine itself gets for every Task it runs. It times a Task with a real timer,
 * 60 s when the state names none, and the simulator enforces the state's own timeout in virtual
 * time: a wait that runs the world for days (every invocation of a scheduled rule) may take more
 * than a minute of real time. The longest a Node timer takes (2^31 - 1 ms, about 24.8 days).
 */
const REAL_TIMEOUT_SECONDS = 2_147_483;

type TaskKind =
  | { kind: 'lambda' }
  | { kind: 'lambdaToken' }
  | { kind: 'approval' }
  | { kind: 'publish' }
  | { kind: 'wait'; seconds?: number; timestamp?: string };

interface TaskPlan {
  readonly name: string;
  readonly task: TaskKind;
  readonly timeoutSeconds: number | null;
  /** TimeoutSecondsPath: the timeout read from the state's input when the task starts. */
  readonly timeoutSecondsPath?: string | undefined;
  readonly heartbeatSeconds: number | null;
  readonly retry: readonly Retrier[];
}

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

export interface PreparedDefinition {
  readonly definition: AslDefinition;
  readonly tasks: ReadonlyMap<string, TaskPlan>;
  readonly retryStates: readonly string[];
  readonly executionTimeoutSeconds: number | null;
}

function classifyTask(name: string, state: AslState): TaskKind {
  const resource = String(state.Resource);
  if (LAMBDA_INVOKE.test(resource)) {
    return resource.endsWith('.waitForTaskToken') ? { kind: 'lambdaToken' } : { kind: 'lambda' };
  }
  if (SNS_PUBLISH_TOKEN.test(resource)) {
    return { kind: 'approval' };
  }
  if (SNS_PUBLISH.test(resource)) {
    return { kind: 'publish' };
  }
  // Any other resource would make the engine call real AWS: refuse instead.
  throw new DefinitionError(`state '${name}': the simulator has no local handler for resource '${resource}'`);
}

function rewriteWait(name: string, state: AslState): [AslState, TaskKind] {
  const { Type: _type, Seconds, SecondsPath, Timestamp, TimestampPath, ...rest } = state;
  const parameters: Record<string, unknown> = { 'input.$': '$' };
  const task: TaskKind = { kind: 'wait' };
  if (typeof Seconds === 'number') {
    task.seconds = Seconds;
  } else if (typeof Timestamp === 'string') {
    task.timestamp = Timestamp;
  } else if (typeof SecondsPath === 'string') {
    parameters['seconds.$'] = SecondsPath;
  } else if (typeof TimestampPath === 'string') {
    parameters['timestamp.$'] = TimestampPath;
  } else {
    throw new DefinitionError(
      `Wait state '${name}' has none of Seconds, SecondsPath, Timestamp, TimestampPath`,
    );
  }
  // InputPath and OutputPath keep their places; the handler hands back the (InputPath-filtered)
  // input through Parameters, so the Task's output is exactly what the Wait's would have been.
  return [
    {
      ...rest,
      Type: 'Task',
      Resource: VIRTUAL_WAIT_RESOURCE,
      Parameters: parameters,
      TimeoutSeconds: REAL_TIMEOUT_SECONDS,
    },
    task,
  ];
}

function prepareStates(
  states: Record<string, AslState>,
  tasks: Map<string, TaskPlan>,
  retryStates: string[],
): Record<string, AslState> {
  const out: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(states)) {
    let copy: AslState = state;
    if (state.Type === 'Wait') {
      const [rewritten, task] = rewriteWait(name, state);
      copy = rewritten;
      tasks.set(name, { name, task, timeoutSeconds: null, heartbeatSeconds: null, retry: [] });
    } else if (state.Type === 'Task') {
      if (state.HeartbeatSecondsPath !== undefined) {
        throw new DefinitionError(`state '${name}': HeartbeatSecondsPath is not simulated`);
      }
      const { TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds, ...rest } = state;
      if (TimeoutSecondsPath !== undefined && !/^\$(\.[A-Za-z0-9_]+)+$/.test(String(TimeoutSecondsPath))) {
        throw new DefinitionError(
          `state '${name}': TimeoutSecondsPath '${String(TimeoutSecondsPath)}' is not a plain path`,
        );
      }
      copy = { ...rest, TimeoutSeconds: REAL_TIMEOUT_SECONDS } as AslState;
      tasks.set(name, {
        name,
        task: classifyTask(name, state),
        timeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : null,
        ...(TimeoutSecondsPath !== undefined ? { timeoutSecondsPath: String(TimeoutSecondsPath) } : {}),
        heartbeatSeconds: typeof HeartbeatSeconds === 'number' ? HeartbeatSeconds : null,
        retry: (state.Retry as Retrier[] | undefined) ?? [],
      });
    } else if (state.Type === 'Parallel') {
      const branches = (state.Branches as AslDefinition[]).map((b) => ({
        ...b,
        States: prepareStates(b.States, tasks, retryStates),
      }));
      copy = { ...state, Branches: branches };
    } else if (state.Type === 'Map') {
      const field = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
      const inner = state[field] as AslDefinition;
      copy = { ...state, [field]: { ...inner, States: prepareStates(inner.States, tasks, retryStates) } };
    }
    if (Array.isArray(state.Retry)) {
      retryStates.push(name);
    }
    out[name] = copy;
  }
  return out;
}

/** The copy of a definition the engine runs, and what each Task's local handler must do. */
export function prepareDefinition(definition: AslDefinition): PreparedDefinition {
  const tasks = new Map<string, TaskPlan>();
  const retryStates: string[] = [];
  const { TimeoutSeconds, ...rest } = definition;
  const states = prepareStates(definition.States, tasks, retryStates);
  return {
    definition: { ...rest, States: states } as AslDefinition,
    tasks,
    retryStates,
    executionTimeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : null,
  };
}

/** An error a task's local handler throws; `name` is what Retry and Catch match. */
export class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Mirrors the engine's retrier bookkeeping for one state entry, so virtual time can advance by the
 * interval Step Functions would wait, while the engine itself waits 0 ms.
 */
class RetryTracker {
  private readonly attempts: number[];

  constructor(private readonly retriers: readonly Retrier[]) {
    this.attempts = retriers.map(() => 0);
  }

  /** Milliseconds before the retry, or null when the engine will not retry this error. */
  next(errorName: string): number | null {
    for (const [i, retrier] of this.retriers.entries()) {
      const matches = retrier.ErrorEquals.some(
        (e) => e === errorName || e === 'States.ALL' || e === 'States.TaskFailed',
      );
      if (!matches) {
        continue;
      }
      const attempt = this.attempts[i] ?? 0;
      if (attempt >= (retrier.MaxAttempts ?? 3)) {
        this.reset();
        return null;
      }
      this.attempts[i] = attempt + 1;
      const interval = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt;
      const capped =
        retrier.MaxDelaySeconds === undefined ? interval : Math.min(interval, retrier.MaxDelaySeconds);
      return capped * 1000;
    }
    this.reset();
    return null;
  }

  reset(): void {
    this.attempts.fill(0);
  }
}

function stringAttribute(params: Record<string, unknown>, name: string): string | undefined {
  const attributes = params.MessageAttributes as Record<string, { StringValue?: unknown }> | undefined;
  const value = attributes?.[name]?.StringValue;
  return typeof value === 'string' ? value : undefined;
}

function jsonClone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * The execution context holds one token for every task; each token task gets its own in its
 * payload, as Step Functions issues a token per task, so a late answer can never reach a later task.
 */
function substituteToken(value: unknown, placeholder: string, token: string): unknown {
  if (typeof value === 'string') {
    return value.includes(placeholder) ? value.replaceAll(placeholder, token) : value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => substituteToken(item, placeholder, token));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteToken(v, placeholder, token)]),
    );
  }
  return value;
}

/** A stable, opaque token shaped like Step Functions' (base64 text), unique per execution, state and entry. */
function taskTokenFor(executionArn: string, state: string, entry: number): string {
  const digest = createHash('sha256').update(`${executionArn}\n${state}\n${entry}`).digest('base64url');
  return `AQB${digest}${digest.slice(0, 21)}`;
}

/** A world that keeps acting at one instant would never let virtual time move on. */
const MAX_EVENTS_PER_INSTANT = 1000;

const DETAIL_FIELDS = [
  'verdict',
  'phase',
  'checks',
  'broke',
  'done',
  'evidenceCount',
  'scanned',
  'canariesSeen',
  'disabledAt',
  'wasEnabled',
  'deletionDate',
  'keyState',
  'mode',
  'actions',
  'finalKeyState',
  'restoredAt',
  'outcome',
  'holds',
  'matched',
] as const;

/** A few facts of a handler result worth a line in the timeline (never the whole payload). */
export function summarizeResult(result: unknown): Record<string, unknown> {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return {};
  }
  const r = result as Record<string, unknown>;
  const detail: Record<string, unknown> = {};
  for (const field of DETAIL_FIELDS) {
    const value = r[field];
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      detail[field] = value;
    }
  }
  const refusal = r.refusal as { cause?: unknown } | null | undefined;
  if (refusal && typeof refusal.cause === 'string') {
    detail.refusal = refusal.cause;
  }
  const usage = r.usage as { classification?: unknown } | null | undefined;
  if (usage && typeof usage.classification === 'string') {
    detail.usage = usage.classification;
  }
  return detail;
}

/** Lambda's own error shape: Step Functions puts it, as JSON text, in the Cause of a failed invoke. */
function lambdaError(error: unknown): TaskError {
  const err = error instanceof Error ? error : new Error(String(error));
  const errorType = err.name || 'Error';
  const trace = (err.stack ?? '')
    .split('\n')
    .slice(1, 6)
    .map((line) => line.trim());
  return new TaskError(errorType, JSON.stringify({ errorType, errorMessage: err.message, trace }));
}

const compiledDefinitions = new WeakMap<
  AslDefinition,
  { prepared: PreparedDefinition; machine: StateMachine }
>();

/** Validating a definition costs 100-300 ms, running it far less: validate once per definition. */
function compiled(definition: AslDefinition): { prepared: PreparedDefinition; machine: StateMachine } {
  let entry = compiledDefinitions.get(definition);
  if (!entry) {
    const prepared = prepareDefinition(definition);
    const machine = new StateMachine(prepared.definition as ConstructorParameters<typeof StateMachine>[0], {
      // The virtual-wait resource is the simulator's own, not an AWS ARN.
      validationOptions: { checkArn: false },
    });
    entry = { prepared, machine };
    compiledDefinitions.set(definition, entry);
  }
  return entry;
}

/** The ARN the engine gives an execution of the workflow (the emulated account answers DescribeExecution for it). */
export function executionArnOf(workflow: SynthesizedWorkflow, executionName: string): string {
  const { account, region } = workflow.env;
  return `arn:aws:states:${region}:${account}:execution:${workflow.stateMachineLogicalId}:${executionName}`;
}

// The event stream is read concurrently; one macrotask lets it catch up, so the execution's current
// timeline entry is the one of the state whose handler is running.
function settle(): Promise<void> {
  return new Promise<void>((r) => setImmediate(r));
}

/**
 * TimeoutSecondsPath reads the state's input when the task starts, as Step Functions does; a value
 * that is not a positive whole number fails the task (States.Runtime).
 */
function withInputTimeout(plan: TaskPlan, stateInput: unknown): TaskPlan {
  if (!plan.timeoutSecondsPath) {
    return plan;
  }
  let value: unknown = stateInput;
  for (const field of plan.timeoutSecondsPath.split('.').slice(1)) {
    value =
      typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TaskError(
      'States.Runtime',
      `Task '${plan.name}': TimeoutSecondsPath ${plan.timeoutSecondsPath} is ${JSON.stringify(value)}, not a positive whole number`,
    );
  }
  return { ...plan, timeoutSeconds: value };
}

type EventLog = ReturnType<StateMachine['run']>['eventLogs'];

/** How an execution ended, before the event log's own Error and Cause are laid over it. */
interface Ending {
  readonly status: ExecutionStatus;
  readonly output: unknown;
  readonly error: string | null;
  readonly cause: string | null;
}

/** Runs a prepared workflow once, in the virtual time of `hooks.clock`. */
export async function runWorkflow(
  workflow: SynthesizedWorkflow,
  input: unknown,
  hooks: EngineHooks,
  options: EngineOptions = {},
): Promise<EngineRun> {
  return new SimulatedExecution(workflow, input, hooks, options).run();
}

type FunctionRef = { readonly handler: string; readonly arn: string };

/**
 * One execution of a workflow. The engine calls the task handlers (methods here) while it reads the
 * execution's event stream concurrently; both sides share what the execution has done so far: the
 * timeline entry of the running state, the last state input, the counters and whether the
 * execution's own deadline has passed.
 */
class SimulatedExecution {
  private readonly prepared: PreparedDefinition;
  private readonly machine: StateMachine;
  private readonly executionName: string;
  private readonly executionArn: string;
  private readonly clock: VirtualClock;
  /** The execution's TimeoutSeconds as a virtual time (ms), or null without one. */
  private readonly deadline: number | null;
  /** The token in the execution context; each token task swaps in one of its own. */
  private readonly contextToken: string;
  private readonly functionsByName = new Map<string, FunctionRef>();
  private readonly timeline: TimelineEntry[] = [];
  private readonly notifications: Notification[] = [];
  private stateTransitions = 0;
  private lambdaInvocations = 0;
  private tokensIssued = 0;
  /** The timeline entry of the state whose handler is running. */
  private current: TimelineEntry | undefined;
  private lastInput: unknown;
  private timedOut = false;
  private failure: { error: string; cause: string } | null = null;
  private abort: () => void = () => undefined;

  constructor(
    private readonly workflow: SynthesizedWorkflow,
    private readonly input: unknown,
    private readonly hooks: EngineHooks,
    options: EngineOptions,
  ) {
    const { prepared, machine } = compiled(workflow.definition);
    this.prepared = prepared;
    this.machine = machine;
    this.executionName = options.executionName ?? 'simulation';
    this.executionArn = executionArnOf(workflow, this.executionName);
    this.clock = hooks.clock;
    const timeoutSeconds = this.prepared.executionTimeoutSeconds;
    this.deadline = timeoutSeconds === null ? null : this.clock.nowMs() + timeoutSeconds * 1000;
    this.lastInput = input;
    this.contextToken = options.taskToken ?? DEFAULT_TASK_TOKEN;
    for (const fn of workflow.functions) {
      this.functionsByName.set(fn.arn, fn);
      this.functionsByName.set(fn.logicalId, fn);
    }
  }

  async run(): Promise<EngineRun> {
    const execution = this.machine.run((this.input ?? null) as JsonValue, {
      overrides: this.overrides(),
      context: {
        Execution: {
          Id: this.executionArn,
          Name: this.executionName,
          RoleArn: `arn:aws:iam::${this.workflow.env.account}:role/kms-deletion-guard-workflow`,
        },
        StateMachine: { Id: this.workflow.stateMachineArn, Name: this.workflow.stateMachineLogicalId },
        Task: { Token: this.contextToken },
      },
    });
    this.abort = execution.abort;
    const consumer = this.consume(execution.eventLogs);
    const ending = await this.outcome(execution.result);
    // An aborted execution never closes its event log; only a finished one is drained.
    if (ending.status === 'SUCCEEDED' || ending.status === 'FAILED') {
      await consumer;
    } else {
      await settle();
    }
    return this.report(ending);
  }

  private overrides(): Overrides {
    const taskResourceLocalHandlers: Record<string, LocalHandler> = {};
    for (const [name, plan] of this.prepared.tasks) {
      taskResourceLocalHandlers[name] = this.withRetries(plan, (params) => this.runTask(plan, params));
    }
    return {
      taskResourceLocalHandlers,
      retryIntervalOverrides: Object.fromEntries(this.prepared.retryStates.map((name) => [name, 0])),
    };
  }

  /** Files each state entered in the timeline and notes retries and the execution's failure. */
  private async consume(events: EventLog): Promise<void> {
    for await (const event of events) {
      if (event.type === 'StateEntered') {
        this.stateTransitions += 1;
        this.current = {
          at: new Date(event.timestamp).toISOString(),
          state: event.state.name,
          type: event.state.type,
          detail: {},
        };
        this.timeline.push(this.current);
        this.lastInput = event.state.input;
      } else if (event.type === 'StateRetried' && this.current) {
        this.current.detail.retries = ((this.current.detail.retries as number | undefined) ?? 0) + 1;
      } else if (event.type === 'ExecutionFailed') {
        this.failure = { error: event.Error, cause: String(event.Cause ?? '') };
      }
    }
  }

  /** How the engine's result settled, in Step Functions' terms. */
  private async outcome(result: Promise<unknown>): Promise<Ending> {
    try {
      return { status: 'SUCCEEDED', output: await result, error: null, cause: null };
    } catch (thrown) {
      if (thrown instanceof ExecutionAbortedError) {
        return this.timedOut
          ? {
              status: 'TIMED_OUT',
              output: null,
              error: 'States.Timeout',
              cause: 'the execution ran longer than its TimeoutSeconds',
            }
          : { status: 'ABORTED', output: null, error: 'States.Aborted', cause: 'the execution was aborted' };
      }
      if (thrown instanceof ExecutionError) {
        const caught = thrown.cause as Error | undefined;
        return {
          status: 'FAILED',
          output: null,
          error: caught?.name ?? 'States.Runtime',
          cause: caught?.message ?? thrown.message,
        };
      }
      throw thrown;
    }
  }

  private report(ending: Ending): EngineRun {
    let { error, cause } = ending;
    const { status, output } = ending;
    // The event log's ExecutionFailed carries the Error and Cause as Step Functions reports them.
    if (status === 'FAILED' && this.failure) {
      ({ error, cause } = this.failure);
    }
    const last = this.timeline.at(-1);
    if (status === 'FAILED' && last?.type === 'Fail') {
      last.detail.error = error;
    }
    return {
      executionArn: this.executionArn,
      status,
      output,
      error,
      cause,
      finalData: status === 'SUCCEEDED' ? output : this.lastInput,
      timeline: this.timeline,
      notifications: this.notifications,
      stats: { stateTransitions: this.stateTransitions, lambdaInvocations: this.lambdaInvocations },
    };
  }

  private functionOf(functionName: unknown): FunctionRef {
    const name = String(functionName);
    const fn = this.functionsByName.get(name) ?? this.functionsByName.get(name.replace(/:[^:]+$/, ''));
    if (!fn) {
      throw new TaskError('Lambda.ResourceNotFoundException', `Function not found: ${name}`);
    }
    return fn;
  }

  private file(entries: readonly TimelineEntry[] | undefined): void {
    for (const entry of entries ?? []) {
      this.timeline.push(entry);
      if (entry.handler !== undefined) {
        this.lambdaInvocations += 1;
      }
    }
  }

  /** Moves time, but never past the execution's own deadline: there the execution times out. */
  private async advance(target: number): Promise<void> {
    if (this.deadline !== null && target >= this.deadline) {
      this.file(await this.hooks.advanceTo(new Date(this.deadline)));
      this.timedOut = true;
      this.abort();
      return;
    }
    this.file(await this.hooks.advanceTo(new Date(target)));
  }

  /**
   * Wraps a task body in the retrier bookkeeping: a failure the state retries moves virtual time by
   * the interval Step Functions would wait before the engine (told to wait 0 ms) retries.
   */
  private withRetries(
    plan: TaskPlan,
    body: (input: Record<string, unknown>) => Promise<JsonValue>,
  ): LocalHandler {
    const tracker = new RetryTracker(plan.retry);
    return async (raw) => {
      await settle();
      const taskInput = (raw ?? {}) as Record<string, unknown>;
      try {
        const result = await body(taskInput);
        tracker.reset();
        return result;
      } catch (error) {
        const name = error instanceof Error ? error.name : 'Error';
        const waitMs = tracker.next(name);
        if (this.current) {
          this.current.detail.error = name;
        }
        if (waitMs !== null) {
          await this.advance(this.clock.nowMs() + waitMs);
        }
        throw error;
      }
    };
  }

  private runTask(plan: TaskPlan, params: Record<string, unknown>): Promise<JsonValue> {
    const { task } = plan;
    switch (task.kind) {
      case 'lambda':
        return this.lambdaTask(plan, params);
      case 'lambdaToken':
        return this.tokenTask(plan, params);
      case 'approval':
        return this.approvalTask(plan, params);
      case 'publish':
        return this.publishTask(plan, params);
      case 'wait':
        return this.waitTask(plan, task, params);
    }
  }

  private async lambdaTask(plan: TaskPlan, params: Record<string, unknown>): Promise<JsonValue> {
    const fn = this.functionOf(params.FunctionName);
    this.lambdaInvocations += 1;
    const began = this.clock.nowMs();
    let result: unknown;
    try {
      result = await this.hooks.invokeFunction(fn.handler, jsonClone(params.Payload), fn.arn);
    } catch (error) {
      throw lambdaError(error);
    }
    if (plan.timeoutSeconds !== null && this.clock.nowMs() - began > plan.timeoutSeconds * 1000) {
      throw new TaskError('States.Timeout', `Task '${plan.name}' ran longer than ${plan.timeoutSeconds} s`);
    }
    if (this.current) {
      Object.assign(this.current.detail, summarizeResult(result));
    }
    return { ExecutedVersion: '$LATEST', StatusCode: 200, Payload: jsonClone(result ?? null) } as JsonValue;
  }

  private async tokenTask(plan: TaskPlan, params: Record<string, unknown>): Promise<JsonValue> {
    const tokens = this.hooks.taskTokens;
    if (!tokens) {
      throw new TaskError(
        'States.Runtime',
        `Task '${plan.name}' waits for a token, but nothing can answer one`,
      );
    }
    const fn = this.functionOf(params.FunctionName);
    this.tokensIssued += 1;
    const token = taskTokenFor(this.executionArn, plan.name, this.tokensIssued);
    const payload = substituteToken(jsonClone(params.Payload), this.contextToken, token);
    const began = this.clock.nowMs();
    tokens.openTask(token, {
      executionArn: this.executionArn,
      state: plan.name,
      input: this.lastInput,
      parameters: { FunctionName: fn.arn, Payload: payload },
      timeoutSeconds: plan.timeoutSeconds,
    });
    try {
      this.lambdaInvocations += 1;
      try {
        await this.hooks.invokeFunction(fn.handler, payload, fn.arn);
      } catch (error) {
        throw lambdaError(error);
      }
      // An approval request names its step: its answer is a person's decision, shown as one.
      const step = (payload as { step?: unknown } | null)?.step;
      let answer: TokenAnswer;
      try {
        answer = await this.awaitToken(withInputTimeout(plan, this.lastInput), tokens, token, began);
      } catch (error) {
        if (
          typeof step === 'string' &&
          this.current &&
          error instanceof TaskError &&
          error.name === 'States.Timeout'
        ) {
          Object.assign(this.current.detail, { step, answer: 'timeout' });
        }
        throw error;
      }
      if (this.current) {
        if (typeof step === 'string') {
          const rejected = answer.kind === 'failure' && answer.error === 'ApprovalRejected';
          Object.assign(this.current.detail, {
            step,
            answer: answer.kind === 'success' ? 'approve' : rejected ? 'reject' : answer.kind,
          });
        } else {
          this.current.detail.answered = answer.kind;
        }
      }
      if (answer.kind === 'failure') {
        throw new TaskError(answer.error || 'States.TaskFailed', answer.cause ?? '');
      }
      return jsonClone(answer.output ?? null) as JsonValue;
    } finally {
      tokens.closeTask(token);
    }
  }

  /**
   * Moves virtual time from one world event to the next until the token is answered, never past
   * the heartbeat deadline (last heartbeat + HeartbeatSeconds) or the task's TimeoutSeconds.
   */
  private async awaitToken(
    plan: TaskPlan,
    tokens: TaskTokens,
    token: string,
    began: number,
  ): Promise<TokenAnswer> {
    const timeoutAt = began + (plan.timeoutSeconds ?? DEFAULT_TOKEN_TIMEOUT_SECONDS) * 1000;
    let lastNow = this.clock.nowMs();
    let atThisInstant = 0;
    for (;;) {
      const state = tokens.taskState(token);
      if (!state) {
        throw new TaskError('States.Runtime', `task token of '${plan.name}' vanished`);
      }
      if (state.answer) {
        return state.answer;
      }
      const now = this.clock.nowMs();
      const heartbeatAt =
        plan.heartbeatSeconds === null
          ? Number.POSITIVE_INFINITY
          : state.lastHeartbeatMs + plan.heartbeatSeconds * 1000;
      if (now >= heartbeatAt) {
        throw new TaskError(
          'States.HeartbeatTimeout',
          `no heartbeat within ${plan.heartbeatSeconds} s (simulated)`,
        );
      }
      if (now >= timeoutAt) {
        throw new TaskError('States.Timeout', `Task '${plan.name}' ran longer than ${plan.timeoutSeconds} s`);
      }
      const limit = Math.min(heartbeatAt, timeoutAt);
      const next = this.hooks.nextEventAt?.() ?? null;
      atThisInstant = now === lastNow ? atThisInstant + 1 : 0;
      lastNow = now;
      if (atThisInstant > MAX_EVENTS_PER_INSTANT) {
        throw new TaskError('States.Runtime', `the world keeps acting at ${this.clock.now().toISOString()}`);
      }
      await this.advance(next === null || next > limit ? limit : Math.max(next, now));
      if (this.timedOut) {
        throw new TaskError('States.Timeout', 'the execution ran longer than its TimeoutSeconds');
      }
    }
  }

  private record(plan: TaskPlan, params: Record<string, unknown>, step?: string): Notification {
    const notification: Notification = {
      at: this.clock.now().toISOString(),
      kind: stringAttribute(params, 'kind') ?? (step ? 'approval-request' : 'notification'),
      subject: typeof params.Subject === 'string' ? params.Subject : '',
      state: plan.name,
      ...(step ? { step } : {}),
      message: params.Message ?? null,
    };
    this.notifications.push(notification);
    return notification;
  }

  private publishFault(): void {
    const fault = this.hooks.publishFault?.('Publish') ?? null;
    if (fault) {
      throw fault;
    }
  }

  private async publishTask(plan: TaskPlan, params: Record<string, unknown>): Promise<JsonValue> {
    this.publishFault();
    const notification = this.record(plan, params);
    if (this.current) {
      this.current.detail.kind = notification.kind;
    }
    return { MessageId: `simulated-message-${this.notifications.length}` };
  }

  private async approvalTask(plan: TaskPlan, params: Record<string, unknown>): Promise<JsonValue> {
    const step = stringAttribute(params, 'step') ?? plan.name;
    this.publishFault();
    this.record(plan, params, step);
    const answer = this.hooks.approvalAnswer(step);
    if (this.current) {
      Object.assign(this.current.detail, { step, answer });
    }
    const delayMs = answer === 'timeout' ? null : (this.hooks.approvalDelayMs?.(step) ?? null);
    if (answer !== 'timeout' && delayMs !== null) {
      return this.laterApproval(plan, step, answer, delayMs);
    }
    if (answer === 'approve') {
      return {
        decision: 'approve',
        by: 'simulator',
        at: this.clock.now().toISOString(),
        comment: 'approved in simulation',
      };
    }
    if (answer === 'reject') {
      throw new TaskError('ApprovalRejected', 'rejected in simulation');
    }
    // Nobody answers: a heartbeat shorter than the timeout expires first, as in Step Functions.
    const timeout = plan.timeoutSeconds ?? DEFAULT_TOKEN_TIMEOUT_SECONDS;
    const heartbeat = plan.heartbeatSeconds;
    const [seconds, errorName] =
      heartbeat !== null && heartbeat < timeout
        ? [heartbeat, 'States.HeartbeatTimeout']
        : [timeout, 'States.Timeout'];
    await this.advance(this.clock.nowMs() + seconds * 1000);
    throw new TaskError(errorName, `no answer within ${seconds} s (simulated)`);
  }

  /**
   * An approval the approver answers after `delayMs`: the task waits on a token of its own in the
   * emulated Step Functions, and the world answers it then, as the approval page or the CLI would.
   * An answer after the timeout finds the token closed and changes nothing.
   */
  private async laterApproval(
    plan: TaskPlan,
    step: string,
    answer: 'approve' | 'reject',
    delayMs: number,
  ): Promise<JsonValue> {
    const tokens = this.hooks.taskTokens;
    const answerLater = this.hooks.answerLater;
    if (!tokens || !answerLater) {
      throw new TaskError('States.Runtime', `Task '${plan.name}': nothing can answer an approval later`);
    }
    this.tokensIssued += 1;
    const token = taskTokenFor(this.executionArn, plan.name, this.tokensIssued);
    const began = this.clock.nowMs();
    tokens.openTask(token);
    const timeoutSeconds = plan.timeoutSeconds ?? DEFAULT_TOKEN_TIMEOUT_SECONDS;
    answerLater({
      step,
      answer,
      token,
      atMs: began + delayMs,
      expiresAtMs: began + timeoutSeconds * 1000,
      state: plan.name,
    });
    if (this.current) {
      this.current.detail.answerAt = new Date(began + delayMs).toISOString();
    }
    try {
      const given = await this.awaitToken(plan, tokens, token, began);
      if (given.kind === 'failure') {
        throw new TaskError(given.error || 'States.TaskFailed', given.cause ?? '');
      }
      return jsonClone(given.output ?? null) as JsonValue;
    } finally {
      tokens.closeTask(token);
    }
  }

  private async waitTask(
    plan: TaskPlan,
    task: Extract<TaskKind, { kind: 'wait' }>,
    params: Record<string, unknown>,
  ): Promise<JsonValue> {
    const now = this.clock.nowMs();
    let target: number;
    const timestamp = task.timestamp ?? params.timestamp;
    const seconds = task.seconds ?? params.seconds;
    if (typeof timestamp === 'string') {
      target = Date.parse(timestamp);
      if (Number.isNaN(target)) {
        throw new TaskError('States.Runtime', `Wait '${plan.name}': '${timestamp}' is not a timestamp`);
      }
    } else if (typeof seconds === 'number' && Number.isInteger(seconds) && seconds >= 0) {
      target = now + seconds * 1000;
    } else {
      throw new TaskError(
        'States.Runtime',
        `Wait '${plan.name}': ${JSON.stringify(seconds)} is not a number of seconds`,
      );
    }
    if (this.current) {
      this.current.detail.until = new Date(Math.max(target, now)).toISOString();
    }
    await this.advance(target);
    return (params.input ?? null) as JsonValue;
  }
}

interface LambdaModule {
  handler: (event: unknown, context?: unknown) => Promise<unknown> | unknown;
}

const handlerModules = new Map<string, Promise<LambdaModule>>();

/**
 * Imports `lambdas/<name>/index` once per process (the source in a checkout, the compiled module installed). Handlers create their SDK clients on first
 * use and keep them, so the environment (endpoints, Region) must be set before the first import.
 */
export function loadHandler(name: string): Promise<LambdaModule> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    return Promise.reject(new DefinitionError(`handler name '${name}' is not a folder name under lambdas/`));
  }
  let loaded = handlerModules.get(name);
  if (!loaded) {
    loaded = import(pathToFileURL(moduleFile(resolve(LAMBDAS_DIR, name), 'index')).href).then(
      (mod: Partial<LambdaModule>) => {
        if (typeof mod.handler !== 'function') {
          throw new DefinitionError(`lambdas/${name}/index.ts does not export a handler function`);
        }
        return mod as LambdaModule;
      },
    );
    handlerModules.set(name, loaded);
  }
  return loaded;
}

/**
 * Calls a real handler the way the Lambda runtime would: a JSON event and a context object whose
 * `invokedFunctionArn` is `functionArn` (default: a function named after the handler folder) and
 * whose `getRemainingTimeInMillis` is `remainingMs` (the invocation's virtual time left).
 */
export async function invokeHandler(
  name: string,
  payload: unknown,
  region: string,
  account: string,
  functionArn = `arn:aws:lambda:${region}:${account}:function:${name}`,
  remainingMs: () => number = () => 60_000,
): Promise<unknown> {
  const mod = await loadHandler(name);
  const context = {
    functionName: functionArn.split(':')[6] ?? name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: '256',
    awsRequestId: `simulated-${name}`,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'simulated',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: remainingMs,
  };
  return mod.handler(payload, context);
}
