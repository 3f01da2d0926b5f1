import {
  type CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandOutput,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  type CloudTrailRecord,
  type KeyRef,
  type RecordKind,
  recordConcernsKey,
  recordMatchesKind,
} from '../domain/cloudtrail.js';
import {
  EventSourceUnavailableError,
  SearchCarryTooLargeError,
  SearchIncompleteError,
} from '../domain/errors.js';
import { buildFilterPattern, isKeyList } from '../domain/filter-pattern.js';
import {
  checkSearchLimit,
  MAX_RESUME_BYTES,
  MAX_SEARCH_MS_PER_INVOCATION,
  NEXT_TOKEN_MAX_AGE_MS,
  requireWithinLimit,
  type SearchLimit,
  type SearchResume,
} from '../domain/search-resume.js';
import { DAY_MS } from '../domain/time.js';
import { carriedRecord, parseRecord } from '../domain/trail-record.js';
import { logsClient } from './clients.js';
import { pause } from './pacing.js';

// The pure pieces live in the domain (the subscription's deliveries read records too); the searches'
// callers keep importing them from here.
export { buildFilterPattern, MAX_FILTER_PATTERN_LENGTH } from '../domain/filter-pattern.js';
export { carriedRecord, parseRecord } from '../domain/trail-record.js';

/**
 * The one module that reads CloudTrail records. Today the source is a CloudWatch Logs log group
 * that receives a trail; another source (CloudTrail LookupEvents) can take its place behind
 * `findRecords` without touching handlers or the domain.
 */

export interface RecordQuery {
  readonly logGroupName: string;
  /** Region of the log group (not necessarily the key's). */
  readonly region: string;
  /**
   * The key whose records are wanted, or several (the sweep, for every held key at once): with more
   * than one the server filter is not scoped to keys and the matcher keeps the records of any of them.
   */
  readonly key: KeyRef | readonly KeyRef[];
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
  /** The end of the window searched: the query's end, or the first invocation's when the search was split. */
  readonly searchedTo?: Date | undefined;
  /** When CloudWatch Logs ingested each returned record (ms), by eventID: how late the trail delivers. */
  readonly ingestedAt: ReadonlyMap<string, number>;
}

/** Does the record concern the query's key (or one of its keys)? */
function concernsQuery(record: CloudTrailRecord, key: KeyRef | readonly KeyRef[]): boolean {
  return isKeyList(key) ? key.some((k) => recordConcernsKey(record, k)) : recordConcernsKey(record, key);
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

/** How long one invocation may search, and what it keeps for the work after the search. */
export interface SearchBound {
  /** The time the invocation has left (Lambda's `context.getRemainingTimeInMillis`). */
  readonly remainingMs: () => number;
  /** Kept for what the invocation does after the search (reads, the canary, the answer). */
  readonly reserveMs: number;
  /** At most this long searching in one invocation (default MAX_SEARCH_MS_PER_INVOCATION). */
  readonly maxSearchMs?: number | undefined;
  /** How many invocations, and how long, a search carried over may take before it fails closed. */
  readonly limit?: SearchLimit | undefined;
  /**
   * The caller stores what a stopped search found itself, not in the workflow's state (the sweep
   * writes it to the registry and hands on an empty resume): no MAX_RESUME_BYTES limit then.
   * @default false
   */
  readonly storesFound?: boolean | undefined;
  /**
   * At least this long from one page's request to the next (the search waits out the rest): a search
   * that reads thousands of pages then asks at most 1000 / minPageMs requests a second of the quota.
   * @default no wait
   */
  readonly minPageMs?: number | undefined;
}

/**
 * The bound of a search that must be read before the next check is due: the invocation's time less
 * `reserveMs`, at most 240 s, and no more continuations than fit in one check interval. Null without
 * a Lambda context (a caller outside Lambda has no timeout to keep).
 */
export function searchBoundOf(
  context: { readonly getRemainingTimeInMillis?: () => number } | undefined,
  reserveMs: number,
  checkIntervalSeconds: number,
): SearchBound | null {
  const remaining = context?.getRemainingTimeInMillis;
  if (typeof remaining !== 'function') {
    return null;
  }
  return {
    remainingMs: () => remaining.call(context),
    reserveMs,
    limit: checkSearchLimit(checkIntervalSeconds),
  };
}

/** One more page is asked for only with at least this much time left besides the reserve. */
const MIN_PAGE_ALLOWANCE_MS = 5_000;

export interface RecordSearchStats {
  /** FilterLogEvents pages read by this invocation, and in all (over every invocation of the search). */
  readonly pages: number;
  readonly totalPages: number;
  /** Invocations the search took (1 when it fit in one). */
  readonly invocations: number;
  /** Searches of the window again from its start (an expired or refused token). */
  readonly restarts: number;
  /** From the first invocation's start to this one's (0 when the search fit one invocation). */
  readonly elapsedMs: number;
}

/** A bounded search: complete, or stopped with what the next invocation needs to go on. */
export type RecordSearch =
  | { readonly complete: true; readonly result: RecordResult; readonly stats: RecordSearchStats }
  | { readonly complete: false; readonly resume: SearchResume; readonly stats: RecordSearchStats };

/** The search `resume` continues, or null when it belongs to another search (its window, kind or filter). */
function continuing(
  resume: SearchResume | null | undefined,
  q: RecordQuery,
  pattern: string,
): SearchResume | null {
  if (!resume) {
    return null;
  }
  const same =
    resume.logGroupName === q.logGroupName &&
    resume.kind === q.kind &&
    resume.filterPattern === pattern &&
    resume.start === q.start.toISOString();
  return same ? resume : null;
}

function isRefusedToken(error: unknown): boolean {
  return isNamed(error, 'InvalidParameterException');
}

/**
 * Searches the log group for records of `kind` on `key` between `start` and `end`, within `bound`:
 * when the invocation's time (at most `maxSearchMs`, less the reserve) runs out before the last
 * page, it answers incomplete with a SearchResume; given that resume, the next invocation goes on
 * from the page where this one stopped, with the same window. A resume whose token is older than
 * the service keeps tokens, or whose token the service refuses, searches the window again from its
 * start (nothing it found is kept), so no page is ever skipped.
 *
 * Throws EventSourceUnavailableError when the log group is missing, SearchTooLongError when the
 * search would go past its limit, SearchCarryTooLargeError when what it must carry would not fit
 * the workflow's state. Throttling and other errors are retried by the SDK; what still fails is
 * thrown, so the workflow retries and then aborts instead of passing a check it could not run.
 */
export async function searchRecords(
  q: RecordQuery,
  bound: SearchBound | null,
  previous?: SearchResume | null,
): Promise<RecordSearch> {
  const client = logsClient(q.region);
  const now = q.now ?? new Date();
  const startRemaining = bound?.remainingMs() ?? 0;
  const group = await describeLogGroup(client, q.logGroupName, q.region);
  const filterPattern = buildFilterPattern(q.key, q.kind, q.requestIds, q.principalArns);
  let resume = continuing(previous, q, filterPattern);
  if (resume && bound?.limit) {
    requireWithinLimit(resume, bound.limit, now);
  }
  const fresh = (from: SearchResume | null) => ({
    records: [] as CloudTrailRecord[],
    ingestedAt: new Map<string, number>(),
    scanned: 0,
    unparseable: 0,
    nextToken: undefined as string | undefined,
    restarts: from ? from.restarts + 1 : 0,
  });
  let state = fresh(null);
  if (resume && now.getTime() - Date.parse(resume.tokenAt) <= NEXT_TOKEN_MAX_AGE_MS) {
    state = {
      records: [...resume.records],
      ingestedAt: new Map(Object.entries(resume.ingestedAt)),
      scanned: resume.scanned,
      unparseable: resume.unparseable,
      nextToken: resume.nextToken,
      restarts: resume.restarts,
    };
  } else if (resume) {
    state = fresh(resume);
  }
  const end = resume ? new Date(resume.end) : q.end;
  const startedAt = resume?.startedAt ?? now.toISOString();
  const invocations = (resume?.invocations ?? 0) + 1;
  const pagesBefore = resume?.pages ?? 0;
  const maxSearchMs = bound?.maxSearchMs ?? MAX_SEARCH_MS_PER_INVOCATION;
  let pages = 0;
  let longestPageMs = 0;
  let lastRequestAt = 0;
  const stats = (): RecordSearchStats => ({
    pages,
    totalPages: pagesBefore + pages,
    invocations,
    restarts: state.restarts,
    // From the first invocation's start to now, this invocation's search included: the last
    // invocation of a split search can search for minutes.
    elapsedMs:
      now.getTime() - Date.parse(startedAt) + (bound ? Math.max(0, startRemaining - bound.remainingMs()) : 0),
  });
  for (;;) {
    if (bound && pages > 0) {
      const remaining = bound.remainingMs();
      const allowance = Math.max(MIN_PAGE_ALLOWANCE_MS, 2 * longestPageMs);
      const spent = startRemaining - remaining;
      if (remaining - bound.reserveMs < allowance || spent + allowance > maxSearchMs) {
        const next: SearchResume = {
          logGroupName: q.logGroupName,
          kind: q.kind,
          filterPattern,
          start: q.start.toISOString(),
          end: end.toISOString(),
          nextToken: state.nextToken ?? '',
          tokenAt: now.toISOString(),
          startedAt,
          invocations,
          pages: pagesBefore + pages,
          restarts: state.restarts,
          records: state.records.map(carriedRecord),
          ingestedAt: Object.fromEntries(state.ingestedAt),
          scanned: state.scanned,
          unparseable: state.unparseable,
        };
        if (!bound.storesFound) requireCarryable(next);
        return { complete: false, resume: next, stats: stats() };
      }
    }
    if (bound?.minPageMs !== undefined && pages > 0) {
      // Measured on the invocation's clock: the time since the last request went out.
      await pause(bound.minPageMs - (lastRequestAt - bound.remainingMs()));
    }
    const before = bound?.remainingMs() ?? 0;
    lastRequestAt = before;
    let page: FilterLogEventsCommandOutput;
    try {
      page = await client.send(
        new FilterLogEventsCommand({
          logGroupName: q.logGroupName,
          startTime: q.start.getTime(),
          endTime: end.getTime(),
          filterPattern,
          nextToken: state.nextToken,
        }),
      );
    } catch (error) {
      if (isNamed(error, 'ResourceNotFoundException')) {
        throw unavailable(q.logGroupName, q.region, error);
      }
      if (state.nextToken !== undefined && pages === 0 && resume !== null && isRefusedToken(error)) {
        // The carried token is no longer accepted (expired): the window is searched from its start.
        state = fresh(resume);
        resume = null;
        continue;
      }
      throw error;
    }
    pages += 1;
    if (bound) {
      longestPageMs = Math.max(longestPageMs, before - bound.remainingMs());
    }
    for (const event of page.events ?? []) {
      state.scanned += 1;
      const record = parseRecord(event.message);
      if (!record) {
        state.unparseable += 1;
        continue;
      }
      if (recordMatchesKind(record, q.kind) && concernsQuery(record, q.key)) {
        state.records.push(record);
        if (event.ingestionTime !== undefined) state.ingestedAt.set(record.eventID, event.ingestionTime);
      }
    }
    // FilterLogEvents may answer an empty page while more follow; only an absent token ends the search.
    state.nextToken = page.nextToken;
    if (!state.nextToken) {
      break;
    }
  }
  return {
    complete: true,
    result: {
      records: state.records,
      scanned: state.scanned,
      unparseable: state.unparseable,
      searchedFrom: horizon(q.start, now, group),
      searchedTo: end,
      ingestedAt: state.ingestedAt,
    },
    stats: stats(),
  };
}

/** Throws SearchCarryTooLargeError when `resume` would not fit the state the workflow passes on. */

/**
 * What the whole state of a step that carries a resume may weigh. Step Functions fails a state over
 * 256 KB with States.DataLimitExceeded, which no Catch (not even States.ALL) can catch: the execution
 * would end with nothing restored. Checked here, the overflow is a SearchCarryTooLargeError the
 * workflow catches, and the key is restored. ScheduleDeletion's resume is copied once into the watch
 * (ContinueScheduleDeletion), so it counts twice.
 */
export const MAX_CARRYING_STATE_BYTES = 200 * 1024;

/**
 * Throws SearchCarryTooLargeError when `copies` of `resume` beside `state` (the step's input) would
 * not fit. The input's own resumes are left out: the new one takes their place.
 */
export function requireStateRoom(resume: SearchResume, state: unknown, copies = 1): void {
  const resumeBytes = Buffer.byteLength(JSON.stringify(resume), 'utf8');
  const withoutResumes = JSON.stringify(state, (name, value: unknown) =>
    name === 'resume' ? undefined : value,
  );
  const stateBytes = Buffer.byteLength(withoutResumes ?? '', 'utf8');
  const total = stateBytes + copies * resumeBytes;
  if (total > MAX_CARRYING_STATE_BYTES) {
    throw new SearchCarryTooLargeError(
      `The search of log group ${resume.logGroupName} from ${resume.start} to ${resume.end} must go on in ` +
        `another invocation, but its ${resumeBytes} bytes beside the ${stateBytes} bytes of the workflow's state ` +
        `would pass the ${MAX_CARRYING_STATE_BYTES} bytes a step's state may carry.`,
    );
  }
}

export function requireCarryable(resume: SearchResume): void {
  const bytes = Buffer.byteLength(JSON.stringify(resume), 'utf8');
  if (bytes > MAX_RESUME_BYTES) {
    throw new SearchCarryTooLargeError(
      `The search of log group ${resume.logGroupName} from ${resume.start} to ${resume.end} stopped for its ` +
        `invocation's time with ${resume.records.length} matching records (${bytes} bytes), more than the ` +
        `${MAX_RESUME_BYTES} bytes the workflow's state can carry to the next invocation.`,
    );
  }
}

/**
 * Searches the log group for records of `kind` on `key` between `start` and `end`, in this
 * invocation: with `bound`, a search that would need another invocation throws
 * SearchIncompleteError instead of answering with part of the window. Other errors as searchRecords.
 */
export async function findRecords(q: RecordQuery, bound: SearchBound | null = null): Promise<RecordResult> {
  const search = await searchRecords(q, bound);
  if (!search.complete) {
    throw new SearchIncompleteError(
      `The search of log group ${q.logGroupName} from ${q.start.toISOString()} to ${q.end.toISOString()} for ` +
        `${q.kind} records read ${search.stats.pages} pages and ran out of its invocation's time before the ` +
        'last one; a partial answer would prove nothing.',
    );
  }
  return search.result;
}
