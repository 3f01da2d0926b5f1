import { DAY_MS } from '../../../lambdas/domain/time.js';
import { type BackgroundStream, type IngestionGap, TEMPLATES } from './background.js';
import { AwsError } from './errors.js';
import { compileFamilyMatcher, compileFilterPattern, type EventMatcher } from './filter-pattern.js';

const MAX_FILTER_LIMIT = 10_000;

/**
 * One log event as stored; `visibleAt` models CloudTrail's delivery delay. A record is kept as an
 * object and serialized only when returned (or matched by text): 100,000 background records must
 * neither be stringified up front nor parsed once per query.
 */
export interface StoredLogEvent {
  readonly timestamp: number;
  readonly visibleAt: number;
  readonly seq: number;
  readonly logStreamName: string;
  message?: string;
  parsed?: unknown;
  /** A record generated on demand (its `seq` is its index in the group's stream). */
  readonly generated?: true;
}

export interface LogGroupOptions {
  readonly name: string;
  readonly creationTime: Date;
  readonly retentionInDays?: number | undefined;
  /** The ARN of the KMS key the group's data is encrypted under. */
  readonly kmsKeyId?: string | undefined;
}

interface LogGroup {
  readonly name: string;
  readonly creationTime: number;
  readonly retentionInDays: number | undefined;
  kmsKeyId: string | undefined;
  /** Whether an event arriving at that time was stored (false: the group's key was unusable). */
  ingests: (visibleAt: number) => boolean;
  /** Sorted by (timestamp, seq), the order FilterLogEvents returns events in. */
  events: StoredLogEvent[];
  /** Bytes of the events counted so far (`counted` of them), summed lazily. */
  storedBytes: number;
  counted: number;
  /** Records generated on demand (a busy group's unrelated traffic), never stored. */
  generated: BackgroundStream | null;
  /** The stretches of delivery time, up to an instant, in which `ingests` is false. */
  gaps: (untilMs: number) => readonly IngestionGap[];
  /** The stored events again, sorted by (ingestion time, seq): the order subscriptions forward them in. */
  byIngestion: StoredLogEvent[];
  /** The group's subscription filters (at most two), by name. */
  subscriptions: Map<string, StoredSubscriptionFilter>;
}

/** A subscription filter as PutSubscriptionFilter stores it. */
export interface SubscriptionFilterOptions {
  readonly filterName: string;
  readonly filterPattern: string;
  readonly destinationArn: string;
  /** Only Kinesis Data Streams destinations use it; CloudWatch Logs reports `ByLogStream` by default. */
  readonly distribution?: 'ByLogStream' | 'Random' | undefined;
  readonly creationTime: number;
}

interface StoredSubscriptionFilter extends SubscriptionFilterOptions {
  readonly matcher: EventMatcher;
}

/** A log event a subscription forwards: the fields of the `logEvents` of its payload, and where it came from. */
export interface ForwardedLogEvent {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
  readonly logStreamName: string;
  readonly ingestionTime: number;
}

/** Each log group can have up to two subscription filters (CloudWatch Logs' documented quota). */
export const MAX_SUBSCRIPTION_FILTERS = 2;

export interface LogsStats {
  filterLogEventsCalls: number;
  /** Events in the queried time range that the server examined (visible and retained). */
  logEventsScanned: number;
  logEventsReturned: number;
}

export type NewLogEvent = {
  readonly timestamp: number;
  readonly visibleAt: number;
  readonly logStreamName: string;
} & ({ readonly message: string } | { readonly record: object });

function stored(event: NewLogEvent, seq: number): StoredLogEvent {
  const base = {
    timestamp: event.timestamp,
    visibleAt: event.visibleAt,
    logStreamName: event.logStreamName,
    seq,
  };
  return 'record' in event ? { ...base, parsed: event.record } : { ...base, message: event.message };
}

interface PageToken {
  readonly g: string;
  readonly t: number;
  /** The sequence number of a stored event, or the index of a generated one (`v`). */
  readonly s: number;
  /** Set when the page ended on a generated event. */
  readonly v?: 1;
  /** When the token was issued (ms): CloudWatch Logs documents that a nextToken expires after 24 hours. */
  readonly i?: number;
}

/** How long a FilterLogEvents nextToken is accepted (the API reference: "The token expires after 24 hours"). */
export const NEXT_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

function compareEvent(a: { timestamp: number; seq: number }, b: { timestamp: number; seq: number }): number {
  return a.timestamp - b.timestamp || a.seq - b.seq;
}

/** First index whose event does not satisfy `atOrBefore` (the events are sorted so that it holds for a prefix). */
function boundOf(events: readonly StoredLogEvent[], atOrBefore: (event: StoredLogEvent) => boolean): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (atOrBefore(events[mid] as StoredLogEvent)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/** First index whose event sorts after (timestamp, seq). */
function upperBound(events: readonly StoredLogEvent[], timestamp: number, seq: number): number {
  return boundOf(events, (event) => compareEvent(event, { timestamp, seq }) <= 0);
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string, group: string, nowMs: number): PageToken {
  let token: Partial<PageToken> | undefined;
  try {
    token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<PageToken>;
  } catch {
    // Falls through to the error CloudWatch gives for a token it did not issue.
  }
  // An expired token is refused like one never issued: the caller must start the search again.
  const expired = typeof token?.i === 'number' && nowMs - token.i > NEXT_TOKEN_LIFETIME_MS;
  if (token && !expired && token.g === group && typeof token.t === 'number' && typeof token.s === 'number') {
    return token.v === 1
      ? { g: token.g, t: token.t, s: token.s, v: 1 }
      : { g: token.g, t: token.t, s: token.s };
  }
  throw new AwsError('InvalidParameterException', 'The specified nextToken is invalid.');
}

function optionalNumber(request: Record<string, unknown>, name: string): number | undefined {
  const value = request[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AwsError('InvalidParameterException', `${name} must be a number.`);
  }
  return value;
}

function optionalString(request: Record<string, unknown>, name: string): string | undefined {
  const value = request[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new AwsError('InvalidParameterException', `${name} must be a string.`);
  }
  return value;
}

/**
 * The CloudWatch Logs side of the account: log groups, delivery delay, retention and the paging
 * behaviour of `FilterLogEvents` (a page scans at most `scanPageSize` events, so a page can come
 * back empty with a `nextToken`, as real CloudWatch does when a scanned stretch holds no match).
 */
export class LogsService {
  private readonly groups = new Map<string, LogGroup>();
  private seq = 0;
  /** Changes with every stored event: what a subscription computed from the store holds until then. */
  version = 0;
  readonly stats: LogsStats = { filterLogEventsCalls: 0, logEventsScanned: 0, logEventsReturned: 0 };

  constructor(
    private readonly account: string,
    private readonly region: string,
    private readonly scanPageSize: number,
  ) {}

  addLogGroup(options: LogGroupOptions): void {
    if (this.groups.has(options.name)) {
      throw new Error(`Log group ${options.name} already exists`);
    }
    this.groups.set(options.name, {
      name: options.name,
      creationTime: options.creationTime.getTime(),
      retentionInDays: options.retentionInDays,
      kmsKeyId: options.kmsKeyId,
      ingests: () => true,
      events: [],
      storedBytes: 0,
      counted: 0,
      generated: null,
      gaps: () => [],
      byIngestion: [],
      subscriptions: new Map(),
    });
  }

  /** Gives the group a stream of records generated when a search reaches them. */
  addGeneratedEvents(groupName: string, stream: BackgroundStream): void {
    const group = this.group(groupName);
    if (group.generated) {
      throw new Error(`Log group ${groupName} already has generated events`);
    }
    group.generated = stream;
  }

  /**
   * Encrypts the group under a key; `ingests` tells the events stored from those lost at delivery,
   * and `gaps` gives the same as stretches of delivery time up to an instant (for generated events).
   */
  setKmsKey(
    name: string,
    kmsKeyId: string,
    ingests: (visibleAt: number) => boolean,
    gaps: (untilMs: number) => readonly IngestionGap[] = () => [],
  ): void {
    const group = this.group(name);
    group.kmsKeyId = kmsKeyId;
    group.ingests = ingests;
    group.gaps = gaps;
  }

  /** The group's generated events as the group holds them at `nowMs` (none stored in its key's gaps). */
  private generatedAt(group: LogGroup, nowMs: number): BackgroundStream | null {
    const generated = group.generated;
    if (generated) {
      generated.ingestionGaps = group.gaps(nowMs);
    }
    return generated;
  }

  hasLogGroup(name: string): boolean {
    return this.groups.has(name);
  }

  putEvent(groupName: string, event: NewLogEvent): void {
    const group = this.group(groupName);
    const entry = stored(event, this.nextSeq());
    const at = upperBound(group.events, entry.timestamp, entry.seq);
    group.events.splice(at, 0, entry);
    this.uncount(group, at);
    group.byIngestion.splice(ingestionBound(group.byIngestion, entry.visibleAt, entry.seq), 0, entry);
    this.version += 1;
  }

  /** Many events at once (background noise): one sort instead of one splice each. */
  putEvents(groupName: string, events: readonly NewLogEvent[]): void {
    const group = this.group(groupName);
    const batch = events.map((event) => stored(event, this.nextSeq()));
    if (!batch.every((event, i) => i === 0 || compareEvent(batch[i - 1] as StoredLogEvent, event) <= 0)) {
      batch.sort(compareEvent);
    }
    const existing = group.events;
    const merged: StoredLogEvent[] = new Array(existing.length + batch.length);
    let a = 0;
    let b = 0;
    for (let i = 0; i < merged.length; i += 1) {
      const left = existing[a];
      const right = batch[b];
      if (right === undefined || (left !== undefined && compareEvent(left, right) <= 0)) {
        merged[i] = left as StoredLogEvent;
        a += 1;
      } else {
        merged[i] = right;
        b += 1;
      }
    }
    group.events = merged;
    this.uncount(group, 0);
    group.byIngestion = [...group.byIngestion, ...batch].sort(compareIngestion);
    this.version += 1;
  }

  /** An insert inside the counted prefix shifts it; start over (only DescribeLogGroups pays). */
  private uncount(group: LogGroup, insertedAt: number): void {
    if (insertedAt < group.counted) {
      group.counted = 0;
      group.storedBytes = 0;
    }
  }

  private storedBytes(group: LogGroup): number {
    for (; group.counted < group.events.length; group.counted += 1) {
      group.storedBytes += Buffer.byteLength(messageOf(group.events[group.counted] as StoredLogEvent));
    }
    return group.storedBytes;
  }

  /** Events a query of [startMs, endMs] could see at `now` (visible and retained). */
  countVisible(groupName: string, startMs: number, endMs: number, now: Date): number {
    const group = this.group(groupName);
    const from = Math.max(startMs, this.retentionCutoff(group, now.getTime()));
    let count = 0;
    for (const event of group.events) {
      if (
        event.timestamp >= from &&
        event.timestamp <= endMs &&
        event.visibleAt <= now.getTime() &&
        group.ingests(event.visibleAt)
      ) {
        count += 1;
      }
    }
    const generated = this.generatedAt(group, now.getTime());
    if (generated) {
      const first = generated.firstTimestampAtOrAfter(from);
      const end = Math.min(
        generated.firstTimestampAtOrAfter(endMs + 1),
        generated.firstInvisibleAt(now.getTime()),
      );
      count += generated.countExisting(first, end);
    }
    return count;
  }

  /** Bytes of the generated records delivered and still retained at `now`. */
  private generatedBytes(group: LogGroup, now: Date | undefined): number {
    if (!now) return 0;
    const generated = this.generatedAt(group, now.getTime());
    if (!generated) return 0;
    const first = generated.firstAtOrAfter(this.retentionCutoff(group, now.getTime()));
    return generated.bytesBetween(first, generated.firstInvisibleAt(now.getTime()));
  }

  describeLogGroups(request: Record<string, unknown>, now?: Date): Record<string, unknown> {
    const prefix = optionalString(request, 'logGroupNamePrefix') ?? '';
    const limit = optionalNumber(request, 'limit') ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      throw new AwsError(
        'InvalidParameterException',
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50`,
      );
    }
    const token = optionalString(request, 'nextToken');
    const names = [...this.groups.keys()].filter((name) => name.startsWith(prefix)).sort();
    const start = token
      ? names.findIndex((name) => name > Buffer.from(token, 'base64url').toString('utf8'))
      : 0;
    const page = start < 0 ? [] : names.slice(start, start + limit);
    const last = page[page.length - 1];
    const more = start >= 0 && start + limit < names.length;
    return {
      logGroups: page.map((name) => {
        const group = this.group(name);
        const arn = `arn:aws:logs:${this.region}:${this.account}:log-group:${name}`;
        return {
          logGroupName: name,
          creationTime: group.creationTime,
          ...(group.retentionInDays !== undefined ? { retentionInDays: group.retentionInDays } : {}),
          ...(group.kmsKeyId !== undefined ? { kmsKeyId: group.kmsKeyId } : {}),
          metricFilterCount: 0,
          arn: `${arn}:*`,
          logGroupArn: arn,
          storedBytes: this.storedBytes(group) + this.generatedBytes(group, now),
          logGroupClass: 'STANDARD',
        };
      }),
      ...(more && last !== undefined ? { nextToken: Buffer.from(last).toString('base64url') } : {}),
    };
  }

  filterLogEvents(request: Record<string, unknown>, now: Date): Record<string, unknown> {
    const group = this.group(this.groupNameOf(request));
    const nowMs = now.getTime();
    const pattern = optionalString(request, 'filterPattern');
    const matcher = compileFilterPattern(pattern);
    const limit = optionalNumber(request, 'limit') ?? MAX_FILTER_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FILTER_LIMIT) {
      throw new AwsError(
        'InvalidParameterException',
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000`,
      );
    }
    const startTime = optionalNumber(request, 'startTime');
    const endTime = optionalNumber(request, 'endTime');
    if (startTime !== undefined && endTime !== undefined && endTime < startTime) {
      throw new AwsError('InvalidParameterException', 'endTime must be greater than or equal to startTime.');
    }
    const from = Math.max(startTime ?? Number.NEGATIVE_INFINITY, this.retentionCutoff(group, nowMs));
    const to = endTime ?? Number.POSITIVE_INFINITY;
    const streamPrefix = optionalString(request, 'logStreamNamePrefix');
    const streamNames = Array.isArray(request.logStreamNames) ? new Set(request.logStreamNames) : null;
    const inStream = (name: string) =>
      (streamPrefix === undefined || name.startsWith(streamPrefix)) &&
      (streamNames === null || streamNames.has(name));
    const tokenText = optionalString(request, 'nextToken');
    const events = group.events;
    const token = tokenText ? decodeToken(tokenText, group.name, nowMs) : undefined;
    // A generated event sorts before the stored ones of its timestamp: resuming after one, the
    // stored events of that timestamp are still ahead.
    let index = token ? upperBound(events, token.t, token.v ? -1 : token.s) : upperBound(events, from, -1);
    const stream = this.generatedAt(group, nowMs);
    const generated = stream && inStream(stream.logStreamName) ? stream : null;
    const virtual = generated
      ? new GeneratedScan(generated, pattern, matcher, {
          first: Math.max(
            generated.firstTimestampAtOrAfter(from),
            token ? (token.v ? token.s + 1 : generated.firstTimestampAtOrAfter(token.t + 1)) : 0,
          ),
          end: Math.min(generated.firstTimestampAtOrAfter(to + 1), generated.firstInvisibleAt(nowMs)),
        })
      : null;

    const found: FoundEvent[] = [];
    let scanned = 0;
    let resumeAfter: PagePosition | undefined;
    let lastScanned: PagePosition | undefined;
    for (;;) {
      // The next stored event the query may see.
      let stored: StoredLogEvent | undefined;
      for (; index < events.length; index += 1) {
        const event = events[index] as StoredLogEvent;
        if (event.timestamp > to) {
          index = events.length;
          break;
        }
        if (
          event.timestamp >= from &&
          event.visibleAt <= nowMs &&
          inStream(event.logStreamName) &&
          group.ingests(event.visibleAt)
        ) {
          stored = event;
          break;
        }
      }
      // The generated events that sort before it.
      if (virtual) {
        const run = virtual.scan(
          stored === undefined ? Number.POSITIVE_INFINITY : stored.timestamp,
          this.scanPageSize - scanned,
          limit - found.length,
        );
        scanned += run.scanned;
        found.push(...run.found);
        lastScanned = run.lastScanned ?? lastScanned;
        if (run.full) {
          if (index < events.length || virtual.hasMore()) {
            resumeAfter = run.found.at(-1)?.position;
          }
          break;
        }
        if (run.outOfBudget) {
          resumeAfter = lastScanned;
          break;
        }
      }
      if (stored === undefined) {
        break;
      }
      if (scanned >= this.scanPageSize) {
        // Resume after the last event examined: one skipped as not yet delivered may be by then.
        resumeAfter = lastScanned;
        break;
      }
      scanned += 1;
      lastScanned = { timestamp: stored.timestamp, seq: stored.seq };
      if (matcher({ message: () => messageOf(stored), json: () => parsedMessage(stored) })) {
        found.push({ event: stored, position: lastScanned });
        if (found.length >= limit) {
          // A full page gets a token when anything follows it, even if nothing more matches.
          if (index + 1 < events.length || virtual?.hasMore()) {
            resumeAfter = lastScanned;
          }
          break;
        }
      }
      index += 1;
    }
    this.stats.filterLogEventsCalls += 1;
    this.stats.logEventsScanned += scanned;
    this.stats.logEventsReturned += found.length;
    return {
      events: found.map(({ event }) => ({
        logStreamName: event.logStreamName,
        timestamp: event.timestamp,
        message: messageOf(event),
        ingestionTime: event.visibleAt,
        eventId: eventIdOf(event),
      })),
      searchedLogStreams: [],
      ...(resumeAfter
        ? {
            nextToken: encodeToken({
              g: group.name,
              t: resumeAfter.timestamp,
              s: resumeAfter.seq,
              ...(resumeAfter.generated ? { v: 1 as const } : {}),
              i: nowMs,
            }),
          }
        : {}),
    };
  }

  /**
   * Creates or replaces a subscription filter on the group (PutSubscriptionFilter): an invalid
   * pattern is refused as CloudWatch refuses it, and a third filter exceeds the group's quota.
   */
  putSubscriptionFilter(groupName: string, options: SubscriptionFilterOptions): void {
    const group = this.group(groupName);
    const matcher = compileFilterPattern(options.filterPattern);
    if (
      !group.subscriptions.has(options.filterName) &&
      group.subscriptions.size >= MAX_SUBSCRIPTION_FILTERS
    ) {
      throw new AwsError('LimitExceededException', 'Resource limit exceeded.');
    }
    group.subscriptions.set(options.filterName, { ...options, matcher });
    this.version += 1;
  }

  /** The group's subscription filters by name (none for a group that does not exist). */
  subscriptionFilters(groupName: string): readonly SubscriptionFilterOptions[] {
    const group = this.groups.get(groupName);
    return group
      ? [...group.subscriptions.values()].sort((a, b) => compareText(a.filterName, b.filterName))
      : [];
  }

  /** Deleting a log group deletes its subscription filters; a group made again under the name has none. */
  deleteSubscriptionFilters(groupName: string): void {
    const group = this.groups.get(groupName);
    if (group && group.subscriptions.size > 0) {
      group.subscriptions.clear();
      this.version += 1;
    }
  }

  describeSubscriptionFilters(request: Record<string, unknown>): Record<string, unknown> {
    const name = optionalString(request, 'logGroupName');
    if (name === undefined) {
      throw new AwsError(
        'InvalidParameterException',
        "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null",
      );
    }
    const group = this.group(name);
    const prefix = optionalString(request, 'filterNamePrefix') ?? '';
    const limit = optionalNumber(request, 'limit') ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      throw new AwsError(
        'InvalidParameterException',
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50`,
      );
    }
    const token = optionalString(request, 'nextToken');
    const after = token === undefined ? undefined : Buffer.from(token, 'base64url').toString('utf8');
    const filters = this.subscriptionFilters(group.name).filter(
      (filter) => filter.filterName.startsWith(prefix) && (after === undefined || filter.filterName > after),
    );
    const page = filters.slice(0, limit);
    const last = page.at(-1);
    return {
      subscriptionFilters: page.map((filter) => ({
        filterName: filter.filterName,
        logGroupName: group.name,
        filterPattern: filter.filterPattern,
        destinationArn: filter.destinationArn,
        distribution: filter.distribution ?? 'ByLogStream',
        creationTime: filter.creationTime,
      })),
      ...(filters.length > limit && last
        ? { nextToken: Buffer.from(last.filterName).toString('base64url') }
        : {}),
    };
  }

  /**
   * The events a subscription filter forwards from those ingested in [fromMs, toMs), in ingestion
   * order: stored (not lost to the group's key) and matching the filter, generated ones included
   * (their stretches skipped by arithmetic, only matching templates visited). `nowMs` fixes what is
   * known of the group's key.
   */
  forwardedEvents(
    groupName: string,
    filterName: string,
    fromMs: number,
    toMs: number,
    nowMs: number,
  ): ForwardedLogEvent[] {
    const group = this.group(groupName);
    const filter = group.subscriptions.get(filterName);
    if (!filter || toMs <= fromMs) return [];
    const found: { event: StoredLogEvent; order: number }[] = [];
    for (let i = ingestionBound(group.byIngestion, fromMs - 1, Number.POSITIVE_INFINITY); ; i += 1) {
      const event = group.byIngestion[i];
      if (!event || event.visibleAt >= toMs) break;
      if (group.ingests(event.visibleAt) && matches(filter.matcher, event)) {
        found.push({ event, order: event.visibleAt });
      }
    }
    const stream = this.generatedAt(group, nowMs);
    if (stream) {
      const range = generatedIngestedIn(stream, fromMs, toMs);
      for (const i of matchingGenerated(stream, filter.filterPattern, filter.matcher, range.from, range.to)) {
        found.push({ event: generatedEvent(stream, i), order: stream.visibleAtOf(i) });
      }
    }
    // Stable: stored events keep their (ingestion, seq) order; generated ones slot in by ingestion time.
    found.sort((a, b) => a.order - b.order);
    return found.map(({ event }) => ({
      id: eventIdOf(event),
      timestamp: event.timestamp,
      message: messageOf(event),
      logStreamName: event.logStreamName,
      ingestionTime: event.visibleAt,
    }));
  }

  /**
   * When the first event the filter forwards is ingested, at or after `fromMs` and before `untilMs`,
   * or null: a subscription sleeps until then instead of waking every minute of a quiet group.
   */
  nextForwardedIngestion(
    groupName: string,
    filterName: string,
    fromMs: number,
    untilMs: number,
    nowMs: number,
  ): number | null {
    const group = this.groups.get(groupName);
    const filter = group?.subscriptions.get(filterName);
    if (!group || !filter) return null;
    let next: number | null = null;
    for (let i = ingestionBound(group.byIngestion, fromMs - 1, Number.POSITIVE_INFINITY); ; i += 1) {
      const event = group.byIngestion[i];
      if (!event || event.visibleAt >= untilMs) break;
      if (group.ingests(event.visibleAt) && matches(filter.matcher, event)) {
        next = event.visibleAt;
        break;
      }
    }
    const stream = this.generatedAt(group, nowMs);
    if (stream) {
      const range = generatedIngestedIn(stream, fromMs, next ?? untilMs);
      for (const i of matchingGenerated(stream, filter.filterPattern, filter.matcher, range.from, range.to)) {
        next = stream.visibleAtOf(i);
        break;
      }
    }
    return next;
  }

  private groupNameOf(request: Record<string, unknown>): string {
    const name = optionalString(request, 'logGroupName');
    const identifier = optionalString(request, 'logGroupIdentifier');
    if (name !== undefined && identifier !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'LogGroup name and LogGroup ARN are mutually exclusive parameters.',
      );
    }
    const given = name ?? identifier;
    if (given === undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'Either logGroupName or logGroupIdentifier is required.',
      );
    }
    const fromArn = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:(.+?)(?::\*)?$/.exec(given);
    return fromArn?.[1] ?? given;
  }

  private group(name: string): LogGroup {
    const group = this.groups.get(name);
    if (!group) {
      throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
    }
    return group;
  }

  private retentionCutoff(group: LogGroup, nowMs: number): number {
    return group.retentionInDays === undefined
      ? Number.NEGATIVE_INFINITY
      : nowMs - group.retentionInDays * DAY_MS;
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }
}

/** Where a page stopped: a stored event (its sequence number) or a generated one (its index). */
interface PagePosition {
  readonly timestamp: number;
  readonly seq: number;
  readonly generated?: true;
}

interface FoundEvent {
  readonly event: StoredLogEvent;
  readonly position: PagePosition;
}

interface GeneratedRun {
  readonly scanned: number;
  readonly found: FoundEvent[];
  readonly lastScanned: PagePosition | undefined;
  /** The page reached its `limit` of events. */
  readonly full: boolean;
  /** The page examined as many events as one page may before the run ended. */
  readonly outOfBudget: boolean;
}

/**
 * One page's walk over a group's generated records, from `first` up to (not including) `end`:
 * stretches are counted, skipped and cut by arithmetic; only the templates the filter may match are
 * visited, and a record is built only when the filter must look at it or the page returns it.
 */
class GeneratedScan {
  private next: number;
  private readonly end: number;
  /** The templates the filter may match: all of their records (true) or some (null: test each). */
  private readonly interesting: readonly { readonly residue: number; readonly all: boolean }[];

  constructor(
    private readonly stream: BackgroundStream,
    pattern: string | undefined,
    private readonly matcher: EventMatcher,
    range: { readonly first: number; readonly end: number },
  ) {
    this.next = range.first;
    this.end = range.end;
    const states = stream.familyStates(pattern ?? '', (p) => compileFamilyMatcher(p, stream.varyingFields()));
    const interesting: { residue: number; all: boolean }[] = [];
    for (let residue = 0; residue < TEMPLATES; residue += 1) {
      const state = states[residue];
      if (state !== false) interesting.push({ residue, all: state === true });
    }
    this.interesting = interesting;
  }

  hasMore(): boolean {
    return this.next < this.end && this.stream.countExisting(this.next, this.end) > 0;
  }

  /** Scans the records whose timestamp is at most `beforeTimestamp`, within `budget` and until `want` match. */
  scan(beforeTimestamp: number, budget: number, want: number): GeneratedRun {
    const stream = this.stream;
    const runEnd = Math.min(
      this.end,
      beforeTimestamp === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : stream.firstTimestampAtOrAfter(beforeTimestamp + 1),
    );
    const none: GeneratedRun = {
      scanned: 0,
      found: [],
      lastScanned: undefined,
      full: false,
      outOfBudget: false,
    };
    if (this.next >= runEnd) return none;
    const available = stream.countExisting(this.next, runEnd);
    if (available === 0) {
      this.next = runEnd;
      return none;
    }
    if (budget <= 0) return { ...none, outOfBudget: true };
    const cut = available > budget ? stream.indexAfterExisting(this.next, budget, runEnd) : runEnd;
    const found: FoundEvent[] = [];
    for (const i of this.matches(this.next, cut)) {
      found.push(this.found(i));
      if (found.length >= want) {
        const scanned = stream.countExisting(this.next, i + 1);
        this.next = i + 1;
        return { scanned, found, lastScanned: this.position(i), full: true, outOfBudget: false };
      }
    }
    const scanned = stream.countExisting(this.next, cut);
    let last = cut - 1;
    while (last >= this.next && !stream.exists(last)) last -= 1;
    this.next = cut;
    return {
      scanned,
      found,
      lastScanned: last >= 0 ? this.position(last) : undefined,
      full: false,
      outOfBudget: cut < runEnd,
    };
  }

  private *matches(from: number, to: number): Generator<number> {
    if (this.interesting.length === 0) return;
    for (let base = from - (from % TEMPLATES); base < to; base += TEMPLATES) {
      for (const { residue, all } of this.interesting) {
        const i = base + residue;
        if (i < from) continue;
        if (i >= to) break;
        if (!this.stream.exists(i)) continue;
        if (all) {
          yield i;
        } else {
          const record = this.stream.record(i);
          if (this.matcher({ message: () => JSON.stringify(record), json: () => record })) yield i;
        }
      }
    }
  }

  private position(index: number): PagePosition {
    return { timestamp: this.stream.timestampOf(index), seq: index, generated: true };
  }

  private found(index: number): FoundEvent {
    const stream = this.stream;
    return {
      event: {
        timestamp: stream.timestampOf(index),
        visibleAt: stream.visibleAtOf(index),
        seq: index,
        logStreamName: stream.logStreamName,
        parsed: stream.record(index),
        generated: true,
      },
      position: this.position(index),
    };
  }
}

function compareIngestion(a: StoredLogEvent, b: StoredLogEvent): number {
  return a.visibleAt - b.visibleAt || a.seq - b.seq;
}

/** First index whose event sorts after (visibleAt, seq) in ingestion order. */
function ingestionBound(events: readonly StoredLogEvent[], visibleAt: number, seq: number): number {
  return boundOf(
    events,
    (event) => event.visibleAt < visibleAt || (event.visibleAt === visibleAt && event.seq <= seq),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function matches(matcher: EventMatcher, event: StoredLogEvent): boolean {
  return matcher({ message: () => messageOf(event), json: () => parsedMessage(event) });
}

/** The generated records ingested in [fromMs, toMs), as an index range (ingestion grows with the index). */
function generatedIngestedIn(
  stream: BackgroundStream,
  fromMs: number,
  toMs: number,
): { from: number; to: number } {
  const end = Math.min(
    stream.firstAtOrAfter(toMs - stream.lagMs),
    stream.firstInvisibleAt(Number.POSITIVE_INFINITY),
  );
  return { from: stream.firstAtOrAfter(fromMs - stream.lagMs), to: end };
}

/** The indexes in [from, to) of generated records that exist and match the pattern, in order. */
function* matchingGenerated(
  stream: BackgroundStream,
  pattern: string,
  matcher: EventMatcher,
  from: number,
  to: number,
): Generator<number> {
  const states = stream.familyStates(pattern, (p) => compileFamilyMatcher(p, stream.varyingFields()));
  const interesting: { residue: number; all: boolean }[] = [];
  for (let residue = 0; residue < TEMPLATES; residue += 1) {
    const state = states[residue];
    if (state !== false) interesting.push({ residue, all: state === true });
  }
  if (interesting.length === 0 || !Number.isFinite(from)) return;
  for (let base = from - (from % TEMPLATES); base < to; base += TEMPLATES) {
    for (const { residue, all } of interesting) {
      const i = base + residue;
      if (i < from) continue;
      if (i >= to) break;
      if (!stream.exists(i)) continue;
      if (all) {
        yield i;
      } else {
        const record = stream.record(i);
        if (matcher({ message: () => JSON.stringify(record), json: () => record })) yield i;
      }
    }
  }
}

function generatedEvent(stream: BackgroundStream, index: number): StoredLogEvent {
  return {
    timestamp: stream.timestampOf(index),
    visibleAt: stream.visibleAtOf(index),
    seq: index,
    logStreamName: stream.logStreamName,
    parsed: stream.record(index),
    generated: true,
  };
}

function messageOf(event: StoredLogEvent): string {
  if (event.message === undefined) {
    event.message = JSON.stringify(event.parsed);
  }
  return event.message;
}

function parsedMessage(event: StoredLogEvent): unknown {
  if (!('parsed' in event)) {
    try {
      event.parsed = JSON.parse(messageOf(event));
    } catch {
      event.parsed = undefined;
    }
  }
  return event.parsed;
}

/** CloudWatch event IDs are long digit strings; derived from the sequence (or a generated event's index, after a 9). */
function eventIdOf(event: StoredLogEvent): string {
  const sequence = event.generated
    ? `9${String(event.seq).padStart(39, '0')}`
    : String(event.seq).padStart(40, '0');
  return `${String(event.timestamp).padStart(16, '0')}${sequence}`;
}
