/**
 * CloudWatch Logs subscription filters whose destination is a handler function, run in virtual time:
 * every event the CloudTrail log group stores that matches a filter's pattern is forwarded to the
 * function, which runs as Lambda runs an asynchronous invocation (the queue shared with the scheduled
 * rules).
 *
 * What AWS documents, and this models:
 * - "Log events are sent to the receiving resource soon after being ingested, usually less than three
 *   minutes." Here the events ingested in one minute are forwarded one minute after that minute ends
 *   (each 60 to 120 s after its ingestion), in ingestion order, one batch per filter and log stream
 *   (a batch holds at most 10,000 events and 1 MiB of messages, PutLogEvents' own batch limits; AWS
 *   documents no figure). Only events ingested from the filter's creation on are forwarded; the stack
 *   is deployed before the scenario starts, and what was forwarded before the start reached the
 *   function before the simulation begins (as the scheduled rules' earlier ticks did), so forwarding
 *   starts with the batch due at the start.
 * - Lambda: "CloudWatch Logs invokes your function asynchronously with an event that contains log
 *   data. The value of the data field is a Base64-encoded .gzip file archive": `{ awslogs: { data } }`,
 *   whose data is `{ messageType: "DATA_MESSAGE", owner, logGroup, logStream, subscriptionFilters,
 *   logEvents: [{ id, timestamp, message }] }`.
 * - "If the destination service returns a retryable error such as a throttling exception or a
 *   retryable service exception (HTTP 5xx), CloudWatch Logs continues to retry delivery for up to 24
 *   hours. CloudWatch Logs doesn't try to re-deliver if the error is a non-retryable error, such as
 *   AccessDeniedException or ResourceNotFoundException. In these cases the subscription filter is
 *   disabled for up to 10 minutes ... During this disabled period, logs are skipped." The emulator
 *   disables the filter for the full 10 minutes. AWS documents no interval between retries: here one
 *   minute after the failed attempt, doubling, at most 15 minutes.
 * - CloudWatch Logs publishes, in `AWS/Logs` with the dimensions LogGroupName, DestinationType and
 *   FilterName, the number of log events it forwarded (`ForwardedLogEvents`, `ForwardedBytes`), for
 *   which it was throttled (`DeliveryThrottling`) and for which the destination answered an error
 *   (`DeliveryErrors`). ForwardedLogEvents, DeliveryThrottling and DeliveryErrors also per log group
 *   alone (AWS's metric specification, as aws-cdk-lib's LogsMetrics generates it): every filter of
 *   the group counts there.
 * - Without an `AWS::Lambda::Permission` for CloudWatch Logs, invoking the function is refused with
 *   AccessDeniedException. A scenario's `{ service: "logs", operation: "SubscriptionDelivery" }`
 *   fault makes deliveries fail with its error while it lasts.
 * - Deleting a log group deletes its subscription filters: nothing is forwarded from then on, even
 *   if a group of that name exists again.
 */
import { gzipSync } from 'node:zlib';
import type { SubscriptionFilterSpec } from './definition.js';
import type { ForwardedLogEvent, SubscriptionFilterOptions } from './emulator/logs.js';
import type { TimelineEntry } from './engine.js';
import { SUBSCRIPTION_STATE } from './result.js';
import type { AsyncInvokeQueue, MetricSink } from './scheduled-rules.js';

const MINUTE_MS = 60_000;
/** A minute's batch is forwarded this long after the minute started (one minute after it ended). */
export const FORWARD_DELAY_MS = 2 * MINUTE_MS;
/** How long a filter is disabled after a non-retryable error. */
export const DISABLED_MS = 10 * MINUTE_MS;
/** How long CloudWatch Logs keeps retrying a delivery refused with a retryable error. */
export const RETRY_FOR_MS = 24 * 60 * MINUTE_MS;
const RETRY_FIRST_MS = MINUTE_MS;
const RETRY_MAX_MS = 15 * MINUTE_MS;
const MAX_BATCH_EVENTS = 10_000;
const MAX_BATCH_BYTES = 1_048_576;
/** How far ahead a quiet filter looks for its next event before it checks in again. */
const LOOKAHEAD_MS = 6 * 60 * MINUTE_MS;
const SUBSCRIPTION_TYPE = 'CloudWatchLogs';
/** The errors CloudWatch Logs retries: throttling and the destination's 5xx answers. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailableException',
  'ServiceException',
  'InternalFailure',
  'InternalServerError',
  'EC2ThrottledException',
]);

/** What deliveries need of the emulated account (EmulatedAccount provides it). */
export interface SubscriptionSource {
  readonly account: string;
  readonly logGroupName: string;
  subscriptionFilters(atMs: number): readonly SubscriptionFilterOptions[];
  forwardedEvents(filterName: string, fromMs: number, toMs: number, nowMs: number): ForwardedLogEvent[];
  nextForwardedIngestion(filterName: string, fromMs: number, untilMs: number, nowMs: number): number | null;
  logsVersion(): number;
  subscriptionDeliveryFault(atMs: number): string | undefined;
}

interface Batch {
  readonly logStream: string;
  readonly events: readonly ForwardedLogEvent[];
  /** When CloudWatch Logs first tried to deliver it. */
  readonly firstAt: number;
}

interface Retry {
  readonly at: number;
  readonly batch: Batch;
  readonly attempt: number;
}

interface FilterState {
  readonly spec: SubscriptionFilterSpec;
  /** Start of the next minute of ingestion to forward. */
  cursor: number;
  disabledUntil: number;
  /** True once the filter was deleted with its log group. */
  gone: boolean;
  retries: Retry[];
  /** The next due batch as last computed, valid while the log store and the cursor stay the same. */
  cache: { version: number; cursor: number; dueAt: number } | null;
}

export class SubscriptionDeliveries {
  private readonly filters: FilterState[];

  constructor(
    specs: readonly SubscriptionFilterSpec[],
    private readonly source: SubscriptionSource,
    private readonly queue: AsyncInvokeQueue,
    private readonly metrics: MetricSink,
    startMs: number,
    /** The virtual clock (ms): what is known of the log group's key when a batch is planned. */
    private readonly now: () => number = Date.now,
  ) {
    const created = new Map(source.subscriptionFilters(startMs).map((f) => [f.filterName, f.creationTime]));
    // The first batch due at or after the start; nothing ingested before the filter existed.
    const first = Math.ceil((startMs - FORWARD_DELAY_MS) / MINUTE_MS) * MINUTE_MS;
    this.filters = specs
      .filter((spec) => spec.logGroupName === source.logGroupName)
      .map((spec) => ({
        spec,
        cursor: Math.max(first, Math.floor((created.get(spec.filterName) ?? first) / MINUTE_MS) * MINUTE_MS),
        disabledUntil: Number.NEGATIVE_INFINITY,
        gone: false,
        retries: [],
        cache: null,
      }));
  }

  /** When a batch is forwarded or retried next, or the queue tries an invocation; null when nothing will. */
  nextDueAt(): number | null {
    const times = [this.queue.nextDueAt()];
    for (const filter of this.filters) {
      if (filter.gone) continue;
      times.push(this.batchDueAt(filter), filter.retries[0]?.at ?? null);
    }
    const due = times.filter((t): t is number => t !== null);
    return due.length > 0 ? Math.min(...due) : null;
  }

  /** Forwards the batches due by `at`, retries the refused ones due, then runs the invocations due. */
  async runDue(at: number): Promise<TimelineEntry[]> {
    const entries: TimelineEntry[] = [];
    for (;;) {
      let next: { filter: FilterState; at: number; retry: boolean } | null = null;
      for (const filter of this.filters) {
        if (filter.gone) continue;
        const retryAt = filter.retries[0]?.at;
        if (retryAt !== undefined && retryAt <= at && (next === null || retryAt < next.at)) {
          next = { filter, at: retryAt, retry: true };
        }
        const batchAt = this.batchDueAt(filter);
        if (batchAt <= at && (next === null || batchAt < next.at)) {
          next = { filter, at: batchAt, retry: false };
        }
      }
      if (next === null) break;
      if (next.retry) {
        const retry = next.filter.retries.shift() as Retry;
        entries.push(...this.deliver(next.filter, retry.batch, retry.at, retry.attempt));
      } else {
        entries.push(...this.forwardMinute(next.filter, next.at));
      }
    }
    entries.push(...(await this.queue.runDue(at)));
    return entries;
  }

  /** When the filter's next minute with events to forward is due (or when it looks further ahead). */
  private batchDueAt(filter: FilterState): number {
    const version = this.source.logsVersion();
    if (filter.cache && filter.cache.version === version && filter.cache.cursor === filter.cursor) {
      return filter.cache.dueAt;
    }
    const until = filter.cursor + LOOKAHEAD_MS;
    const next = this.source.nextForwardedIngestion(filter.spec.filterName, filter.cursor, until, this.now());
    const minute = next === null ? until - MINUTE_MS : Math.floor(next / MINUTE_MS) * MINUTE_MS;
    const dueAt = minute + FORWARD_DELAY_MS;
    filter.cache = { version, cursor: filter.cursor, dueAt };
    return dueAt;
  }

  /** The batch of the minute due at `at`: skipped while the filter is disabled, else delivered per log stream. */
  private forwardMinute(filter: FilterState, at: number): TimelineEntry[] {
    const minute = at - FORWARD_DELAY_MS;
    const name = filter.spec.filterName;
    if (!this.source.subscriptionFilters(at).some((f) => f.filterName === name)) {
      filter.gone = true;
      filter.retries = [];
      return [
        this.entry(at, {
          filter: name,
          deleted: 'the log group was deleted, and its subscription filters with it',
        }),
      ];
    }
    // A quiet stretch (no event within the lookahead) moves the cursor to its end.
    const events = this.source.forwardedEvents(name, filter.cursor, minute + MINUTE_MS, at);
    filter.cursor = minute + MINUTE_MS;
    if (events.length === 0) return [];
    if (at < filter.disabledUntil) {
      return [this.entry(at, { filter: name, events: events.length, skipped: 'filter disabled' })];
    }
    const entries: TimelineEntry[] = [];
    for (const batch of batches(events, at)) {
      entries.push(...this.deliver(filter, batch, at, 0));
    }
    return entries;
  }

  /** One attempt to hand a batch to the function (Lambda's Invoke, asynchronous). */
  private deliver(filter: FilterState, batch: Batch, at: number, attempt: number): TimelineEntry[] {
    const spec = filter.spec;
    const detail: Record<string, unknown> = {
      filter: spec.filterName,
      logStream: batch.logStream,
      events: batch.events.length,
      ...(attempt > 0 ? { deliveryRetry: attempt } : {}),
    };
    if (at < filter.disabledUntil) {
      // Disabled by an earlier batch's non-retryable error: skipped, as the filter skips everything.
      return [this.entry(at, { ...detail, skipped: 'filter disabled' })];
    }
    const error = spec.logsMayInvoke ? this.source.subscriptionDeliveryFault(at) : 'AccessDeniedException';
    const dimensions = {
      LogGroupName: spec.logGroupName,
      DestinationType: 'Lambda',
      FilterName: spec.filterName,
    };
    const count = batch.events.length;
    const publish = (name: string) => {
      this.metrics('AWS/Logs', name, dimensions, at, count);
      this.metrics('AWS/Logs', name, { LogGroupName: spec.logGroupName }, at, count);
    };
    if (error === undefined) {
      publish('ForwardedLogEvents');
      this.metrics('AWS/Logs', 'ForwardedBytes', dimensions, at, bytesOf(batch.events));
      this.queue.enqueue({
        functionArn: spec.functionArn,
        handler: spec.handler,
        event: payloadOf(this.source, spec.filterName, batch),
        sentAt: at,
        state: SUBSCRIPTION_STATE,
        type: SUBSCRIPTION_TYPE,
        detail,
      });
      return [];
    }
    detail.deliveryError = error;
    if (RETRYABLE.has(error)) {
      publish('DeliveryThrottling');
      const retryAt = at + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
      if (retryAt - batch.firstAt > RETRY_FOR_MS) {
        detail.dropped = 'RetriedFor24Hours';
      } else {
        detail.retryAt = new Date(retryAt).toISOString();
        insertRetry(filter.retries, { at: retryAt, batch, attempt: attempt + 1 });
      }
      return [this.entry(at, detail)];
    }
    publish('DeliveryErrors');
    filter.disabledUntil = at + DISABLED_MS;
    detail.disabledUntil = new Date(filter.disabledUntil).toISOString();
    return [this.entry(at, detail)];
  }

  private entry(at: number, detail: Record<string, unknown>): TimelineEntry {
    return { at: new Date(at).toISOString(), state: SUBSCRIPTION_STATE, type: SUBSCRIPTION_TYPE, detail };
  }
}

function insertRetry(retries: Retry[], retry: Retry): void {
  let i = retries.length;
  while (i > 0 && (retries[i - 1]?.at ?? 0) > retry.at) i -= 1;
  retries.splice(i, 0, retry);
}

function bytesOf(events: readonly ForwardedLogEvent[]): number {
  return events.reduce((sum, event) => sum + Buffer.byteLength(event.message), 0);
}

/** The events of one minute per log stream, in ingestion order, cut at the batch limits. */
function batches(events: readonly ForwardedLogEvent[], at: number): Batch[] {
  const byStream = new Map<string, ForwardedLogEvent[][]>();
  const sizes = new Map<string, number>();
  for (const event of events) {
    const chunks = byStream.get(event.logStreamName) ?? [[]];
    byStream.set(event.logStreamName, chunks);
    let last = chunks.at(-1) as ForwardedLogEvent[];
    const bytes = Buffer.byteLength(event.message);
    const size = sizes.get(event.logStreamName) ?? 0;
    if (last.length >= MAX_BATCH_EVENTS || (last.length > 0 && size + bytes > MAX_BATCH_BYTES)) {
      last = [];
      chunks.push(last);
      sizes.set(event.logStreamName, 0);
    }
    last.push(event);
    sizes.set(event.logStreamName, (sizes.get(event.logStreamName) ?? 0) + bytes);
  }
  return [...byStream.entries()].flatMap(([logStream, chunks]) =>
    chunks.map((chunk) => ({ logStream, events: chunk, firstAt: at })),
  );
}

/** The event CloudWatch Logs sends a Lambda destination: the batch, gzipped and Base64-encoded. */
export function payloadOf(source: SubscriptionSource, filterName: string, batch: Batch): unknown {
  const data = {
    messageType: 'DATA_MESSAGE',
    owner: source.account,
    logGroup: source.logGroupName,
    logStream: batch.logStream,
    subscriptionFilters: [filterName],
    logEvents: batch.events.map((event) => ({
      id: event.id,
      timestamp: event.timestamp,
      message: event.message,
    })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
}
