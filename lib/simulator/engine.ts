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
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ExecutionAbortedError,
  ExecutionError,
  type RunOptions,
  StateMachine,
} from 'aws-local-stepfunctions';
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

/** The task tokens of `lambda:invoke.waitForTaskToken` tasks, as the emulated Step Functions keeps them. */
export interface TaskTokens {
  /** The task waits for `token` from now on. */
  openTask(token: string): void;
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
  /** An injected SNS error for a publish task (`SNS.<code>`, as Step Functions names it), or null. */
  publishFault?(operation: 'Publish'): TaskError | null;
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
  return [{ ...rest, Type: 'Task', Resource: VIRTUAL_WAIT_RESOURCE, Parameters: parameters }, task];
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
      copy = rest as AslState;
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

/** Runs a prepared workflow once, in the virtual time of `hooks.clock`. */
export async function runWorkflow(
  workflow: SynthesizedWorkflow,
  input: unknown,
  hooks: EngineHooks,
  options: EngineOptions = {},
): Promise<EngineRun> {
  const { prepared, machine } = compiled(workflow.definition);
  const { account } = workflow.env;
  const executionName = options.executionName ?? 'simulation';
  const executionArn = executionArnOf(workflow, executionName);
  const { clock } = hooks;
  const startMs = clock.nowMs();
  const deadline =
    prepared.executionTimeoutSeconds === null ? null : startMs + prepared.executionTimeoutSeconds * 1000;

  const timeline: TimelineEntry[] = [];
  const notifications: Notification[] = [];
  let lambdaInvocations = 0;
  let current: TimelineEntry | undefined;
  let lastInput: unknown = input;
  let timedOut = false;
  let abort: () => void = () => undefined;

  const functionsByName = new Map<string, { handler: string; arn: string }>();
  for (const fn of workflow.functions) {
    functionsByName.set(fn.arn, fn);
    functionsByName.set(fn.logicalId, fn);
  }
  const functionOf = (functionName: unknown): { handler: string; arn: string } => {
    const name = String(functionName);
    const fn = functionsByName.get(name) ?? functionsByName.get(name.replace(/:[^:]+$/, ''));
    if (!fn) {
      throw new TaskError('Lambda.ResourceNotFoundException', `Function not found: ${name}`);
    }
    return fn;
  };

  let stateTransitions = 0;
  const file = (entries: readonly TimelineEntry[] | undefined) => {
    for (const entry of entries ?? []) {
      timeline.push(entry);
      if (entry.handler !== undefined) {
        lambdaInvocations += 1;
      }
    }
  };

  // Moves time, but never past the execution's own deadline: there the execution times out.
  const advance = async (target: number): Promise<void> => {
    if (deadline !== null && target >= deadline) {
      file(await hooks.advanceTo(new Date(deadline)));
      timedOut = true;
      abort();
      return;
    }
    file(await hooks.advanceTo(new Date(target)));
  };

  // The event stream is read concurrently; one macrotask lets it catch up, so `current` is the
  // entry of the state whose handler is running.
  const settle = () => new Promise<void>((r) => setImmediate(r));

  const withRetries = (
    plan: TaskPlan,
    body: (input: Record<string, unknown>) => Promise<JsonValue>,
  ): LocalHandler => {
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
        if (current) {
          current.detail.error = name;
        }
        if (waitMs !== null) {
          await advance(clock.nowMs() + waitMs);
        }
        throw error;
      }
    };
  };

  const lambdaTask = (plan: TaskPlan) =>
    withRetries(plan, async (params) => {
      const fn = functionOf(params.FunctionName);
      lambdaInvocations += 1;
      const began = clock.nowMs();
      let result: unknown;
      try {
        result = await hooks.invokeFunction(fn.handler, jsonClone(params.Payload), fn.arn);
      } catch (error) {
        throw lambdaError(error);
      }
      if (plan.timeoutSeconds !== null && clock.nowMs() - began > plan.timeoutSeconds * 1000) {
        throw new TaskError('States.Timeout', `Task '${plan.name}' ran longer than ${plan.timeoutSeconds} s`);
      }
      if (current) {
        Object.assign(current.detail, summarizeResult(result));
      }
      return { ExecutedVersion: '$LATEST', StatusCode: 200, Payload: jsonClone(result ?? null) } as JsonValue;
    });

  // TimeoutSecondsPath reads the state's input when the task starts, as Step Functions does; a value
  // that is not a positive whole number fails the task (States.Runtime).
  const withInputTimeout = (plan: TaskPlan, stateInput: unknown): TaskPlan => {
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
  };

  const contextToken = options.taskToken ?? DEFAULT_TASK_TOKEN;
  let tokensIssued = 0;

  /**
   * Moves virtual time from one world event to the next until the token is answered, never past
   * the heartbeat deadline (last heartbeat + HeartbeatSeconds) or the task's TimeoutSeconds.
   */
  const awaitToken = async (plan: TaskPlan, tokens: TaskTokens, token: string, began: number) => {
    const timeoutAt = began + (plan.timeoutSeconds ?? DEFAULT_TOKEN_TIMEOUT_SECONDS) * 1000;
    let lastNow = clock.nowMs();
    let atThisInstant = 0;
    for (;;) {
      const state = tokens.taskState(token);
      if (!state) {
        throw new TaskError('States.Runtime', `task token of '${plan.name}' vanished`);
      }
      if (state.answer) {
        return state.answer;
      }
      const now = clock.nowMs();
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
      const next = hooks.nextEventAt?.() ?? null;
      atThisInstant = now === lastNow ? atThisInstant + 1 : 0;
      lastNow = now;
      if (atThisInstant > MAX_EVENTS_PER_INSTANT) {
        throw new TaskError('States.Runtime', `the world keeps acting at ${clock.now().toISOString()}`);
      }
      await advance(next === null || next > limit ? limit : Math.max(next, now));
      if (timedOut) {
        throw new TaskError('States.Timeout', 'the execution ran longer than its TimeoutSeconds');
      }
    }
  };

  const tokenTask = (plan: TaskPlan) =>
    withRetries(plan, async (params) => {
      const tokens = hooks.taskTokens;
      if (!tokens) {
        throw new TaskError(
          'States.Runtime',
          `Task '${plan.name}' waits for a token, but nothing can answer one`,
        );
      }
      const fn = functionOf(params.FunctionName);
      tokensIssued += 1;
      const token = taskTokenFor(executionArn, plan.name, tokensIssued);
      const payload = substituteToken(jsonClone(params.Payload), contextToken, token);
      const began = clock.nowMs();
      tokens.openTask(token);
      try {
        lambdaInvocations += 1;
        try {
          await hooks.invokeFunction(fn.handler, payload, fn.arn);
        } catch (error) {
          throw lambdaError(error);
        }
        const answer = await awaitToken(withInputTimeout(plan, lastInput), tokens, token, began);
        if (current) {
          current.detail.answered = answer.kind;
        }
        if (answer.kind === 'failure') {
          throw new TaskError(answer.error || 'States.TaskFailed', answer.cause ?? '');
        }
        return jsonClone(answer.output ?? null) as JsonValue;
      } finally {
        tokens.closeTask(token);
      }
    });

  const record = (plan: TaskPlan, params: Record<string, unknown>, step?: string): Notification => {
    const notification: Notification = {
      at: clock.now().toISOString(),
      kind: stringAttribute(params, 'kind') ?? (step ? 'approval-request' : 'notification'),
      subject: typeof params.Subject === 'string' ? params.Subject : '',
      state: plan.name,
      ...(step ? { step } : {}),
      message: params.Message ?? null,
    };
    notifications.push(notification);
    return notification;
  };

  const publishFault = () => {
    const fault = hooks.publishFault?.('Publish') ?? null;
    if (fault) {
      throw fault;
    }
  };

  const publishTask = (plan: TaskPlan) =>
    withRetries(plan, async (params) => {
      publishFault();
      const notification = record(plan, params);
      if (current) {
        current.detail.kind = notification.kind;
      }
      return { MessageId: `simulated-message-${notifications.length}` };
    });

  const approvalTask = (plan: TaskPlan) =>
    withRetries(plan, async (params) => {
      const step = stringAttribute(params, 'step') ?? plan.name;
      publishFault();
      record(plan, params, step);
      const answer = hooks.approvalAnswer(step);
      if (current) {
        Object.assign(current.detail, { step, answer });
      }
      if (answer === 'approve') {
        return {
          decision: 'approve',
          by: 'simulator',
          at: clock.now().toISOString(),
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
      await advance(clock.nowMs() + seconds * 1000);
      throw new TaskError(errorName, `no answer within ${seconds} s (simulated)`);
    });

  const waitTask = (plan: TaskPlan, task: Extract<TaskKind, { kind: 'wait' }>) =>
    withRetries(plan, async (params) => {
      const now = clock.nowMs();
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
      if (current) {
        current.detail.until = new Date(Math.max(target, now)).toISOString();
      }
      await advance(target);
      return (params.input ?? null) as JsonValue;
    });

  const taskResourceLocalHandlers: Record<string, LocalHandler> = {};
  for (const [name, plan] of prepared.tasks) {
    const { task } = plan;
    taskResourceLocalHandlers[name] =
      task.kind === 'lambda'
        ? lambdaTask(plan)
        : task.kind === 'lambdaToken'
          ? tokenTask(plan)
          : task.kind === 'approval'
            ? approvalTask(plan)
            : task.kind === 'publish'
              ? publishTask(plan)
              : waitTask(plan, task);
  }
  const overrides: Overrides = {
    taskResourceLocalHandlers,
    retryIntervalOverrides: Object.fromEntries(prepared.retryStates.map((name) => [name, 0])),
  };

  const execution = machine.run((input ?? null) as JsonValue, {
    overrides,
    context: {
      Execution: {
        Id: executionArn,
        Name: executionName,
        RoleArn: `arn:aws:iam::${account}:role/kms-deletion-guard-workflow`,
      },
      StateMachine: { Id: workflow.stateMachineArn, Name: workflow.stateMachineLogicalId },
      Task: { Token: contextToken },
    },
  });
  abort = execution.abort;

  let failure: { error: string; cause: string } | null = null;
  const consumer = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') {
        stateTransitions += 1;
        current = {
          at: new Date(event.timestamp).toISOString(),
          state: event.state.name,
          type: event.state.type,
          detail: {},
        };
        timeline.push(current);
        lastInput = event.state.input;
      } else if (event.type === 'StateRetried' && current) {
        current.detail.retries = ((current.detail.retries as number | undefined) ?? 0) + 1;
      } else if (event.type === 'ExecutionFailed') {
        failure = { error: event.Error, cause: String(event.Cause ?? '') };
      }
    }
  })();

  let status: ExecutionStatus;
  let output: unknown = null;
  let error: string | null = null;
  let cause: string | null = null;
  try {
    output = await execution.result;
    status = 'SUCCEEDED';
  } catch (thrown) {
    if (thrown instanceof ExecutionAbortedError) {
      status = timedOut ? 'TIMED_OUT' : 'ABORTED';
      error = timedOut ? 'States.Timeout' : 'States.Aborted';
      cause = timedOut ? 'the execution ran longer than its TimeoutSeconds' : 'the execution was aborted';
    } else if (thrown instanceof ExecutionError) {
      status = 'FAILED';
      const caught = thrown.cause as Error | undefined;
      error = caught?.name ?? 'States.Runtime';
      cause = caught?.message ?? thrown.message;
    } else {
      throw thrown;
    }
  }
  // An aborted execution never closes its event log; only a finished one is drained.
  if (status === 'SUCCEEDED' || status === 'FAILED') {
    await consumer;
  } else {
    await settle();
  }
  const failed = failure as { error: string; cause: string } | null;
  if (status === 'FAILED' && failed) {
    error = failed.error;
    cause = failed.cause;
  }
  const last = timeline.at(-1);
  if (status === 'FAILED' && last?.type === 'Fail') {
    last.detail.error = error;
  }
  return {
    executionArn,
    status,
    output,
    error,
    cause,
    finalData: status === 'SUCCEEDED' ? output : lastInput,
    timeline,
    notifications,
    stats: { stateTransitions, lambdaInvocations },
  };
}

const LAMBDAS_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'lambdas');

interface LambdaModule {
  handler: (event: unknown, context?: unknown) => Promise<unknown> | unknown;
}

const handlerModules = new Map<string, Promise<LambdaModule>>();

/**
 * Imports `lambdas/<name>/index.ts` once per process. Handlers create their SDK clients on first
 * use and keep them, so the environment (endpoints, Region) must be set before the first import.
 */
export function loadHandler(name: string): Promise<LambdaModule> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    return Promise.reject(new DefinitionError(`handler name '${name}' is not a folder name under lambdas/`));
  }
  let loaded = handlerModules.get(name);
  if (!loaded) {
    loaded = import(pathToFileURL(resolve(LAMBDAS_DIR, name, 'index.ts')).href).then(
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
 * `invokedFunctionArn` is `functionArn` (default: a function named after the handler folder).
 */
export async function invokeHandler(
  name: string,
  payload: unknown,
  region: string,
  account: string,
  functionArn = `arn:aws:lambda:${region}:${account}:function:${name}`,
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
    getRemainingTimeInMillis: () => 60_000,
  };
  return mod.handler(payload, context);
}
