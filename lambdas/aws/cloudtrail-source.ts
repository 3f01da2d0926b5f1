import {
  type CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandOutput,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  breakageErrorCodes,
  CANARY_ERROR_CODES,
  CANARY_EVENT_NAMES,
  type CloudTrailRecord,
  type KeyRef,
  KMS_EVENT_SOURCE,
  phaseOfKind,
  type RecordKind,
  recordConcernsKey,
  recordMatchesKind,
  TRACKED_OPERATIONS,
} from '../domain/cloudtrail.js';
import { EventSourceUnavailableError } from '../domain/errors.js';
import { DAY_MS } from '../domain/time.js';
import { logsClient } from './clients.js';

/**
 * The one module that reads CloudTrail records. Today the source is a CloudWatch Logs log group
 * that receives a trail; another source (CloudTrail LookupEvents) can take its place behind
 * `findRecords` without touching handlers or the domain.
 */

export interface RecordQuery {
  readonly logGroupName: string;
  /** Region of the log group (not necessarily the key's). */
  readonly region: string;
  readonly key: KeyRef;
  readonly start: Date;
  readonly end: Date;
  readonly kind: RecordKind;
  /** CANARY: the request IDs of the canaries looked for (the filter then returns only those). */
  readonly requestIds?: readonly string[] | undefined;
  /** CANARY: the workflow's roles; their records are returned too, for canaries matched by time. */
  readonly principalArns?: readonly string[] | undefined;
  /** The current time, for the retention horizon; defaults to the clock. */
  readonly now?: Date;
}

export interface RecordResult {
  /** Records of the kind that concern the key, in the order the log group returned them. */
  readonly records: CloudTrailRecord[];
  /** Log events returned by the server filter, parseable or not. */
  readonly scanned: number;
  /** Events whose message was not a CloudTrail record (counted in `scanned`, otherwise skipped). */
  readonly unparseable: number;
  /** The earliest instant the search could really see: start, log group creation, retention. */
  readonly searchedFrom: Date;
  /** When CloudWatch Logs ingested each returned record (ms), by eventID: how late the trail delivers. */
  readonly ingestedAt: ReadonlyMap<string, number>;
}

/** FilterLogEvents accepts patterns up to this length. */
export const MAX_FILTER_PATTERN_LENGTH = 1024;

function quoted(value: string): string {
  return `"${value}"`;
}

/** Values are put between quotes in the pattern; a value that could break out of them is not used. */
function safeValue(value: string): boolean {
  return !/["\\\n\r]/.test(value);
}

function anyOf(clauses: readonly string[]): string {
  return clauses.length === 1 ? (clauses[0] ?? '') : `(${clauses.join(' || ')})`;
}

function kindClauses(kind: RecordKind): string[] {
  const phase = phaseOfKind(kind);
  if (phase !== null) {
    return [anyOf(breakageErrorCodes(phase).map((code) => `($.errorCode = ${quoted(code)})`))];
  }
  if (kind === 'PUBLIC_KEY_DOWNLOAD') {
    return ['($.eventName = "GetPublicKey")'];
  }
  if (kind === 'CANARY') {
    return [
      anyOf(CANARY_ERROR_CODES.map((code) => `($.errorCode = ${quoted(code)})`)),
      anyOf(CANARY_EVENT_NAMES.map((name) => `($.eventName = ${quoted(name)})`)),
    ];
  }
  return [anyOf(TRACKED_OPERATIONS.map((name) => `($.eventName = ${quoted(name)})`))];
}

function keyClauses(key: KeyRef, kind: RecordKind): string[] | null {
  const prefix = /^(arn:[^:]+:kms:[^:]*:[^:]*:)key\//.exec(key.keyArn)?.[1];
  const names = [
    key.keyId,
    key.keyArn,
    ...key.aliases,
    ...(prefix ? key.aliases.map((a) => `${prefix}${a}`) : []),
  ];
  if (!names.every(safeValue)) {
    return null;
  }
  const arn = quoted(key.keyArn);
  const clauses = [`($.resources[0].ARN = ${arn})`, `($.resources[1].ARN = ${arn})`];
  if (phaseOfKind(kind) !== null || kind === 'CANARY') {
    // KMS's error text starts with the key ARN ("<key ARN> is disabled.", even when the caller sent a bare ID).
    clauses.push(`($.errorMessage = ${quoted(`${key.keyArn}*`)})`);
  }
  for (const name of new Set(names)) {
    clauses.push(`($.requestParameters.keyId = ${quoted(name)})`);
  }
  return clauses;
}

/**
 * The server-side filter: KMS events of the kind on the key. Scoping to the key keeps the bytes
 * returned small; when the key's names do not fit the pattern limit, the filter falls back to
 * KMS events of the kind only, which returns more but misses nothing. The domain matcher still
 * decides every record.
 */
export function buildFilterPattern(
  key: KeyRef,
  kind: RecordKind,
  requestIds: readonly string[] = [],
  principalArns: readonly string[] = [],
): string {
  const base = [`($.eventSource = ${quoted(KMS_EVENT_SOURCE)})`, ...kindClauses(kind)];
  const ids = requestIds.filter((id) => id !== '');
  if (ids.length > 0 && [...ids, ...principalArns].every(safeValue)) {
    // A request ID names one call, the workflow's roles make nothing else that fails this way: the
    // narrowest filter there is. Too many to fit fall back to the key.
    const byId = `{ ${[
      ...base,
      anyOf([
        ...ids.map((id) => `($.requestID = ${quoted(id)})`),
        ...principalArns.map((arn) => `($.userIdentity.sessionContext.sessionIssuer.arn = ${quoted(arn)})`),
      ]),
    ].join(' && ')} }`;
    if (byId.length <= MAX_FILTER_PATTERN_LENGTH) {
      return byId;
    }
  }
  const scope = keyClauses(key, kind);
  if (scope) {
    const scoped = `{ ${[...base, anyOf(scope)].join(' && ')} }`;
    if (scoped.length <= MAX_FILTER_PATTERN_LENGTH) {
      return scoped;
    }
  }
  return `{ ${base.join(' && ')} }`;
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

export function unavailable(
  logGroupName: string,
  region: string,
  error: unknown,
): EventSourceUnavailableError {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new EventSourceUnavailableError(
    `CloudTrail log group ${logGroupName} in ${region} cannot be read (${detail}); the watch cannot see breakage.`,
  );
}

export async function describeLogGroup(
  client: CloudWatchLogsClient,
  logGroupName: string,
  region: string,
): Promise<LogGroup> {
  let nextToken: string | undefined;
  do {
    let page: DescribeLogGroupsCommandOutput;
    try {
      page = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName, nextToken }));
    } catch (error) {
      if (isNamed(error, 'ResourceNotFoundException')) {
        throw unavailable(logGroupName, region, error);
      }
      throw error;
    }
    const found = page.logGroups?.find((group) => group.logGroupName === logGroupName);
    if (found) {
      return found;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  throw new EventSourceUnavailableError(
    `CloudTrail log group ${logGroupName} does not exist in ${region}; the watch cannot see breakage.`,
  );
}

/**
 * Fails with EventSourceUnavailableError unless the log group exists, so an execution that could
 * never watch is refused before the key is touched.
 */
export async function requireLogGroup(logGroupName: string, region: string): Promise<void> {
  await describeLogGroup(logsClient(region), logGroupName, region);
}

/** The earliest instant the log group can still show: it did not exist before, retention dropped older events. */
export function horizon(
  start: Date,
  now: Date,
  group: Pick<LogGroup, 'creationTime' | 'retentionInDays'>,
): Date {
  let from = start.getTime();
  if (group.creationTime !== undefined) {
    from = Math.max(from, group.creationTime);
  }
  if (group.retentionInDays !== undefined) {
    from = Math.max(from, now.getTime() - group.retentionInDays * DAY_MS);
  }
  return new Date(from);
}

/** The CloudTrail record a log event carries, or null when its message is not one. */
export function parseRecord(message: string | undefined): CloudTrailRecord | null {
  if (message === undefined) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return null;
  }
  const record = value as Record<string, unknown>;
  const required = ['eventID', 'eventTime', 'eventSource', 'eventName'] as const;
  if (!required.every((field) => typeof record[field] === 'string')) {
    return null;
  }
  return value as CloudTrailRecord;
}

/**
 * Searches the log group for records of `kind` on `key` between `start` and `end`.
 *
 * Throws EventSourceUnavailableError when the log group is missing. Throttling and other
 * errors are retried by the SDK; what still fails is thrown, so the workflow retries and then
 * aborts instead of passing a check it could not run.
 */
export async function findRecords(q: RecordQuery): Promise<RecordResult> {
  const client = logsClient(q.region);
  const now = q.now ?? new Date();
  const group = await describeLogGroup(client, q.logGroupName, q.region);
  const filterPattern = buildFilterPattern(q.key, q.kind, q.requestIds, q.principalArns);
  const records: CloudTrailRecord[] = [];
  const ingestedAt = new Map<string, number>();
  let scanned = 0;
  let unparseable = 0;
  let nextToken: string | undefined;
  do {
    let page: FilterLogEventsCommandOutput;
    try {
      page = await client.send(
        new FilterLogEventsCommand({
          logGroupName: q.logGroupName,
          startTime: q.start.getTime(),
          endTime: q.end.getTime(),
          filterPattern,
          nextToken,
        }),
      );
    } catch (error) {
      if (isNamed(error, 'ResourceNotFoundException')) {
        throw unavailable(q.logGroupName, q.region, error);
      }
      throw error;
    }
    for (const event of page.events ?? []) {
      scanned += 1;
      const record = parseRecord(event.message);
      if (!record) {
        unparseable += 1;
        continue;
      }
      if (recordMatchesKind(record, q.kind) && recordConcernsKey(record, q.key)) {
        records.push(record);
        if (event.ingestionTime !== undefined) ingestedAt.set(record.eventID, event.ingestionTime);
      }
    }
    // FilterLogEvents may answer an empty page while more follow; only an absent token ends the search.
    nextToken = page.nextToken;
  } while (nextToken);
  return { records, scanned, unparseable, searchedFrom: horizon(q.start, now, group), ingestedAt };
}
