import { DAY_MS } from '../../../lambdas/domain/time.js';
import { AwsError } from './errors.js';
import { compileFilterPattern } from './filter-pattern.js';

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
}

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
  readonly s: number;
}

function compareEvent(a: { timestamp: number; seq: number }, b: { timestamp: number; seq: number }): number {
  return a.timestamp - b.timestamp || a.seq - b.seq;
}

/** First index whose event sorts after (timestamp, seq). */
function upperBound(events: readonly StoredLogEvent[], timestamp: number, seq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const event = events[mid] as StoredLogEvent;
    if (compareEvent(event, { timestamp, seq }) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string, group: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<PageToken>;
    if (token.g === group && typeof token.t === 'number' && typeof token.s === 'number') {
      return { g: token.g, t: token.t, s: token.s };
    }
  } catch {
    // Falls through to the error CloudWatch gives for a token it did not issue.
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
    });
  }

  /** Encrypts the group under a key; `ingests` tells the events stored from those lost at delivery. */
  setKmsKey(name: string, kmsKeyId: string, ingests: (visibleAt: number) => boolean): void {
    const group = this.group(name);
    group.kmsKeyId = kmsKeyId;
    group.ingests = ingests;
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
    return count;
  }

  describeLogGroups(request: Record<string, unknown>): Record<string, unknown> {
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
          storedBytes: this.storedBytes(group),
          logGroupClass: 'STANDARD',
        };
      }),
      ...(more && last !== undefined ? { nextToken: Buffer.from(last).toString('base64url') } : {}),
    };
  }

  filterLogEvents(request: Record<string, unknown>, now: Date): Record<string, unknown> {
    const group = this.group(this.groupNameOf(request));
    const nowMs = now.getTime();
    const matcher = compileFilterPattern(optionalString(request, 'filterPattern'));
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
    const tokenText = optionalString(request, 'nextToken');
    const events = group.events;
    const token = tokenText ? decodeToken(tokenText, group.name) : undefined;
    let index = token ? upperBound(events, token.t, token.s) : upperBound(events, from, -1);

    const found: StoredLogEvent[] = [];
    let scanned = 0;
    let resumeAfter: StoredLogEvent | undefined;
    let lastScanned: StoredLogEvent | undefined;
    for (; index < events.length; index += 1) {
      const event = events[index] as StoredLogEvent;
      if (event.timestamp > to) {
        break;
      }
      const inStream =
        (streamPrefix === undefined || event.logStreamName.startsWith(streamPrefix)) &&
        (streamNames === null || streamNames.has(event.logStreamName));
      if (event.timestamp < from || event.visibleAt > nowMs || !inStream || !group.ingests(event.visibleAt)) {
        continue;
      }
      if (scanned >= this.scanPageSize) {
        // Resume after the last event examined: one skipped as not yet delivered may be by then.
        resumeAfter = lastScanned;
        break;
      }
      scanned += 1;
      lastScanned = event;
      if (matcher({ message: () => messageOf(event), json: () => parsedMessage(event) })) {
        found.push(event);
        if (found.length >= limit) {
          if (index + 1 < events.length) {
            resumeAfter = event;
          }
          break;
        }
      }
    }
    this.stats.filterLogEventsCalls += 1;
    this.stats.logEventsScanned += scanned;
    this.stats.logEventsReturned += found.length;
    return {
      events: found.map((event) => ({
        logStreamName: event.logStreamName,
        timestamp: event.timestamp,
        message: messageOf(event),
        ingestionTime: event.visibleAt,
        eventId: eventIdOf(event),
      })),
      searchedLogStreams: [],
      ...(resumeAfter
        ? { nextToken: encodeToken({ g: group.name, t: resumeAfter.timestamp, s: resumeAfter.seq }) }
        : {}),
    };
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

/** CloudWatch event IDs are long digit strings; derived from the sequence so they are stable. */
function eventIdOf(event: StoredLogEvent): string {
  return `${String(event.timestamp).padStart(16, '0')}${String(event.seq).padStart(40, '0')}`;
}
