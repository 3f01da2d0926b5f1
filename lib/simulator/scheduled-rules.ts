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

interface QueuedEvent {
  readonly rule: ScheduledRule;
  readonly event: unknown;
  /** When EventBridge sent the event to the function's queue (its age counts from then). */
  readonly sentAt: number;
  /** When Lambda tries it next. */
  readonly at: number;
  /** Retries after function errors so far. */
  readonly retry: number;
  /** Throttled attempts so far (they set the next wait). */
  readonly throttled: number;
}

export class ScheduledRules {
  private readonly rules: readonly ScheduledRule[];
  private readonly functions: ReadonlyMap<string, WorkflowFunction>;
  /** Next tick per rule (ms), by index in `rules`. */
  private readonly ticks: number[];
  private readonly queue: QueuedEvent[] = [];
  /** When each running invocation ends (ms), by function ARN: what counts against reserved concurrency. */
  private readonly running = new Map<string, number[]>();

  constructor(
    rules: readonly ScheduledRule[],
    functions: readonly WorkflowFunction[],
    private readonly run: AsyncRunner,
    private readonly account: string,
    private readonly region: string,
    startMs: number,
  ) {
    this.rules = rules.filter((rule) => rule.state === 'ENABLED');
    this.functions = new Map(functions.map((fn) => [fn.arn, fn]));
    this.ticks = this.rules.map((rule) => Math.ceil(startMs / rule.rateMs) * rule.rateMs);
  }

  /** When a rule ticks next or a queued event is tried again, or null without enabled rules. */
  nextDueAt(): number | null {
    const times = [...this.ticks, ...this.queue.map((q) => q.at)];
    return times.length > 0 ? Math.min(...times) : null;
  }

  /** Sends the events of the ticks due at `at` and tries the queued events due then, in time order. */
  async runDue(at: number): Promise<TimelineEntry[]> {
    for (const [i, rule] of this.rules.entries()) {
      const tick = this.ticks[i] as number;
      if (tick <= at) {
        this.enqueue({
          rule,
          event: this.eventOf(rule, tick),
          sentAt: tick,
          at: tick,
          retry: 0,
          throttled: 0,
        });
        this.ticks[i] = tick + rule.rateMs;
      }
    }
    const entries: TimelineEntry[] = [];
    while (this.queue[0] && this.queue[0].at <= at) {
      const entry = await this.attempt(this.queue.shift() as QueuedEvent);
      if (entry) entries.push(entry);
    }
    return entries;
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

  private enqueue(event: QueuedEvent): void {
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]?.at ?? 0) > event.at) {
      i -= 1;
    }
    this.queue.splice(i, 0, event);
  }

  private async attempt(queued: QueuedEvent): Promise<TimelineEntry | null> {
    const { rule } = queued;
    const fn = this.functions.get(rule.functionArn);
    const maxAgeMs = (fn?.asyncInvoke?.maximumEventAgeSeconds ?? DEFAULT_EVENT_AGE_MS / 1000) * 1000;
    const base = { at: new Date(queued.at).toISOString(), state: SCHEDULED_RULE_STATE, type: 'EventBridge' };
    const detail: Record<string, unknown> = { rule: rule.logicalId };
    if (queued.retry > 0) detail.lambdaRetry = queued.retry;
    if (queued.throttled > 0) detail.throttled = queued.throttled;
    if (queued.at - queued.sentAt > maxAgeMs) {
      return { ...base, handler: rule.handler, detail: { ...detail, dropped: 'EventAgeExceeded' } };
    }
    const running = (this.running.get(rule.functionArn) ?? []).filter((end) => end > queued.at);
    this.running.set(rule.functionArn, running);
    if (fn?.reservedConcurrency !== undefined && running.length >= fn.reservedConcurrency) {
      // Throttled: no invocation, Lambda tries the event again later (its age keeps counting).
      const wait = Math.min(THROTTLE_MAX_MS, THROTTLE_FIRST_MS * 2 ** queued.throttled);
      this.enqueue({ ...queued, at: queued.at + wait, throttled: queued.throttled + 1 });
      return null;
    }
    const outcome = await this.run(rule.handler, queued.event, rule.functionArn);
    const endMs = queued.at + outcome.spentMs;
    running.push(endMs);
    if (outcome.error === undefined) {
      return { ...base, handler: rule.handler, detail: { ...detail, ...summarizeResult(outcome.result) } };
    }
    const error = outcome.error;
    detail.error = error instanceof Error ? error.name : String(error);
    if (error instanceof Error && error.message) {
      detail.cause =
        error.message.length > MAX_CAUSE ? `${error.message.slice(0, MAX_CAUSE)}…` : error.message;
    }
    const retries = fn?.asyncInvoke?.maximumRetryAttempts ?? ASYNC_RETRY_DELAYS_MS.length;
    const delay = queued.retry < retries ? ASYNC_RETRY_DELAYS_MS[queued.retry] : undefined;
    if (delay === undefined) {
      detail.dropped = 'RetriesExhausted';
    } else {
      this.enqueue({ ...queued, at: endMs + delay, retry: queued.retry + 1, throttled: 0 });
    }
    return { ...base, handler: rule.handler, detail };
  }
}
