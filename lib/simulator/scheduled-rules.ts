/**
 * The template's scheduled EventBridge rules, run in virtual time: every rule with a `rate(...)`
 * schedule that targets a handler function sends that function a Scheduled Event at each tick, and
 * the function runs as Lambda runs an asynchronous invocation.
 *
 * What AWS documents, and this models:
 * - EventBridge invokes a Lambda target asynchronously: the event goes to the function's queue, and
 *   from there Lambda's rules apply, not the target's retry policy (which covers failures to hand the
 *   event over, which the emulated queue never has).
 * - A function error (the handler's, or its timeout) is retried twice by default, one minute after the
 *   failed attempt and then two minutes after the second; `AWS::Lambda::EventInvokeConfig` changes the
 *   number of retries (0–2) and how long an event may wait (default six hours), after which it is
 *   dropped.
 * - An invocation beyond the function's reserved concurrency is throttled: Lambda keeps the event and
 *   tries again, one second later, then doubling up to five minutes, until the event is too old.
 * - A rate schedule ticks every period from when the rule was created; the stack is deployed before
 *   the scenario starts, so the simulator ticks on the multiples of the period (since the epoch), from
 *   the scenario's start on: a deterministic phase among the ones a deployment could have.
 */

import type { ScheduledRule, WorkflowFunction } from './definition.js';
import { deterministicUuid } from './emulator/cloudtrail.js';
import { summarizeResult, type TimelineEntry } from './engine.js';
import { SCHEDULED_RULE_STATE } from './result.js';

/** Lambda's waits before the retries of a failed asynchronous invocation. */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;
/** How long Lambda keeps an asynchronous event by default. */
const DEFAULT_EVENT_AGE_MS = 6 * 3_600_000;
/** Lambda's wait before trying a throttled event again: from one second, doubling, at most five minutes. */
const THROTTLE_FIRST_MS = 1_000;
const THROTTLE_MAX_MS = 300_000;
/** How much of an error's message the timeline keeps. */
const MAX_CAUSE = 200;

/** One invocation as the function runner reports it. */
export interface AsyncOutcome {
  readonly result?: unknown;
  /** The handler's error, or Lambda's timeout; absent on success. */
  readonly error?: unknown;
  /** The virtual time the invocation took (its searches): it ends that long after it started. */
  readonly spentMs: number;
}

/** Runs one function invocation; never throws (errors come back in the outcome). */
export type AsyncRunner = (handler: string, event: unknown, functionArn: string) => Promise<AsyncOutcome>;

/** Where a service publishes a CloudWatch data point (the emulated account's metric store). */
export type MetricSink = (
  namespace: string,
  name: string,
  dimensions: Readonly<Record<string, string>>,
  atMs: number,
  value: number,
) => void;

/** An event a service hands to a function's asynchronous queue, and how the timeline shows its attempts. */
export interface AsyncInvocation {
  readonly functionArn: string;
  readonly handler: string;
  readonly event: unknown;
  /** When the service handed the event over (its age counts from then; Lambda tries it then). */
  readonly sentAt: number;
  /** The timeline entry of each attempt: its state and type, and the detail every attempt shows first. */
  readonly state: string;
  readonly type: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

interface QueuedEvent extends AsyncInvocation {
  /** When Lambda tries it next. */
  readonly at: number;
  /** Retries after function errors so far. */
  readonly retry: number;
  /** Throttled attempts so far (they set the next wait). */
  readonly throttled: number;
}

/** A function's name, from its ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]`). */
export function functionNameOf(functionArn: string): string {
  return /:function:([^:]+)/.exec(functionArn)?.[1] ?? functionArn;
}

/**
 * Lambda's asynchronous invocation: the functions' event queues, shared by every service that
 * invokes asynchronously (EventBridge rules, CloudWatch Logs subscriptions), so one function's
 * reserved concurrency counts all of them. Publishes the `AWS/Lambda` metrics of what it does, by
 * `FunctionName`: `Invocations` (each attempt that ran), `Errors` (each that failed), `Throttles`
 * (each throttled attempt), `AsyncEventsDropped` (each event dropped: retries exhausted or too old)
 * and `AsyncEventAge` (how long each attempted event waited since Lambda queued it, milliseconds).
 */
export class AsyncInvokeQueue {
  private readonly functions: ReadonlyMap<string, WorkflowFunction>;
  private readonly queue: QueuedEvent[] = [];
  /** When each running invocation ends (ms), by function ARN: what counts against reserved concurrency. */
  private readonly running = new Map<string, number[]>();

  constructor(
    functions: readonly WorkflowFunction[],
    private readonly run: AsyncRunner,
    private readonly metrics: MetricSink = () => undefined,
  ) {
    this.functions = new Map(functions.map((fn) => [fn.arn, fn]));
  }

  /** Lambda accepts the event: it is tried at once (at `sentAt`). */
  enqueue(invocation: AsyncInvocation): void {
    this.insert({ ...invocation, at: invocation.sentAt, retry: 0, throttled: 0 });
  }

  /** When the next queued event is tried, or null when none waits. */
  nextDueAt(): number | null {
    return this.queue[0]?.at ?? null;
  }

  /** Tries the queued events due by `at`, in time order. */
  async runDue(at: number): Promise<TimelineEntry[]> {
    const entries: TimelineEntry[] = [];
    while (this.queue[0] && this.queue[0].at <= at) {
      const entry = await this.attempt(this.queue.shift() as QueuedEvent);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  private insert(event: QueuedEvent): void {
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]?.at ?? 0) > event.at) {
      i -= 1;
    }
    this.queue.splice(i, 0, event);
  }

  private metric(queued: QueuedEvent, name: string): void {
    this.metrics('AWS/Lambda', name, { FunctionName: functionNameOf(queued.functionArn) }, queued.at, 1);
  }

  private async attempt(queued: QueuedEvent): Promise<TimelineEntry | null> {
    const fn = this.functions.get(queued.functionArn);
    const maxAgeMs = (fn?.asyncInvoke?.maximumEventAgeSeconds ?? DEFAULT_EVENT_AGE_MS / 1000) * 1000;
    const base = { at: new Date(queued.at).toISOString(), state: queued.state, type: queued.type };
    const detail: Record<string, unknown> = { ...queued.detail };
    if (queued.retry > 0) detail.lambdaRetry = queued.retry;
    if (queued.throttled > 0) detail.throttled = queued.throttled;
    if (queued.at - queued.sentAt > maxAgeMs) {
      this.metric(queued, 'AsyncEventsDropped');
      return { ...base, handler: queued.handler, detail: { ...detail, dropped: 'EventAgeExceeded' } };
    }
    const running = (this.running.get(queued.functionArn) ?? []).filter((end) => end > queued.at);
    this.running.set(queued.functionArn, running);
    if (fn?.reservedConcurrency !== undefined && running.length >= fn.reservedConcurrency) {
      // Throttled: no invocation, Lambda tries the event again later (its age keeps counting).
      this.metric(queued, 'Throttles');
      const wait = Math.min(THROTTLE_MAX_MS, THROTTLE_FIRST_MS * 2 ** queued.throttled);
      this.insert({ ...queued, at: queued.at + wait, throttled: queued.throttled + 1 });
      return null;
    }
    this.metric(queued, 'Invocations');
    // How long the event waited in the queue before this attempt, retries and throttling included.
    this.metrics(
      'AWS/Lambda',
      'AsyncEventAge',
      { FunctionName: functionNameOf(queued.functionArn) },
      queued.at,
      queued.at - queued.sentAt,
    );
    const outcome = await this.run(queued.handler, queued.event, queued.functionArn);
    const endMs = queued.at + outcome.spentMs;
    running.push(endMs);
    if (outcome.error === undefined) {
      return { ...base, handler: queued.handler, detail: { ...detail, ...summarizeResult(outcome.result) } };
    }
    this.metric(queued, 'Errors');
    const error = outcome.error;
    detail.error = error instanceof Error ? error.name : String(error);
    if (error instanceof Error && error.message) {
      detail.cause =
        error.message.length > MAX_CAUSE ? `${error.message.slice(0, MAX_CAUSE)}…` : error.message;
    }
    const retries = fn?.asyncInvoke?.maximumRetryAttempts ?? ASYNC_RETRY_DELAYS_MS.length;
    const delay = queued.retry < retries ? ASYNC_RETRY_DELAYS_MS[queued.retry] : undefined;
    if (delay === undefined) {
      this.metric(queued, 'AsyncEventsDropped');
      detail.dropped = 'RetriesExhausted';
    } else {
      this.insert({ ...queued, at: endMs + delay, retry: queued.retry + 1, throttled: 0 });
    }
    return { ...base, handler: queued.handler, detail };
  }
}

export class ScheduledRules {
  private readonly rules: readonly ScheduledRule[];
  /** Next tick per rule (ms), by index in `rules`. */
  private readonly ticks: number[];
  private readonly queue: AsyncInvokeQueue;

  /** `queue`: the functions' asynchronous queues, shared with other invokers (default: the rules' own). */
  constructor(
    rules: readonly ScheduledRule[],
    functions: readonly WorkflowFunction[],
    run: AsyncRunner,
    private readonly account: string,
    private readonly region: string,
    startMs: number,
    queue?: AsyncInvokeQueue,
  ) {
    this.rules = rules.filter((rule) => rule.state === 'ENABLED');
    this.queue = queue ?? new AsyncInvokeQueue(functions, run);
    this.ticks = this.rules.map((rule) => Math.ceil(startMs / rule.rateMs) * rule.rateMs);
  }

  /** When a rule ticks next or a queued event is tried again, or null without enabled rules. */
  nextDueAt(): number | null {
    const times = [...this.ticks, this.queue.nextDueAt()].filter((t): t is number => t !== null);
    return times.length > 0 ? Math.min(...times) : null;
  }

  /** Sends the events of the ticks due at `at` and tries the queued events due then, in time order. */
  async runDue(at: number): Promise<TimelineEntry[]> {
    for (const [i, rule] of this.rules.entries()) {
      const tick = this.ticks[i] as number;
      if (tick <= at) {
        this.queue.enqueue({
          functionArn: rule.functionArn,
          handler: rule.handler,
          event: this.eventOf(rule, tick),
          sentAt: tick,
          state: SCHEDULED_RULE_STATE,
          type: 'EventBridge',
          detail: { rule: rule.logicalId },
        });
        this.ticks[i] = tick + rule.rateMs;
      }
    }
    return this.queue.runDue(at);
  }

  /** The Scheduled Event EventBridge sends for a tick, or the target's constant Input. */
  private eventOf(rule: ScheduledRule, tick: number): unknown {
    if (rule.input !== null) {
      try {
        return JSON.parse(rule.input) as unknown;
      } catch {
        return rule.input;
      }
    }
    return {
      version: '0',
      id: deterministicUuid('scheduled-event', `${rule.arn}@${tick}`),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.account,
      // EventBridge's time of a Scheduled Event has whole seconds.
      time: new Date(tick).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [rule.arn],
      detail: {},
    };
  }
}
