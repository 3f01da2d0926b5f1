import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
  InvalidParameterException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  carriedRecord,
  findRecords,
  MAX_CARRYING_STATE_BYTES,
  type RecordQuery,
  requireStateRoom,
  type SearchBound,
  searchRecords,
} from '../../../lambdas/aws/cloudtrail-source.js';
import type { CloudTrailRecord, KeyRef } from '../../../lambdas/domain/cloudtrail.js';
import {
  SearchCarryTooLargeError,
  SearchIncompleteError,
  SearchTooLongError,
} from '../../../lambdas/domain/errors.js';
import type { SearchResume } from '../../../lambdas/domain/search-resume.js';
import { HOUR_MS } from '../../../lambdas/domain/time.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const KEY: KeyRef = { keyId: KEY_ID, keyArn: KEY_ARN, aliases: [] };
const LOG_GROUP = 'aws-cloudtrail-logs';
const START = new Date('2026-01-01T00:00:00.000Z');
const END = new Date('2026-01-08T00:00:00.000Z');

const logs = mockClient(CloudWatchLogsClient);

function query(overrides: Partial<RecordQuery> = {}): RecordQuery {
  return {
    logGroupName: LOG_GROUP,
    region: 'us-east-1',
    key: KEY,
    start: START,
    end: END,
    kind: 'BREAKAGE',
    now: END,
    ...overrides,
  };
}

function record(eventID: string, message = `${KEY_ARN} is disabled.`): CloudTrailRecord {
  return {
    eventID,
    eventTime: '2026-01-02T08:00:00Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    errorMessage: message,
    requestParameters: null,
    resources: [{ ARN: KEY_ARN }],
  };
}

/** An invocation's clock: every page takes `pageMs` of it, as a busy group's pages do. */
class InvocationClock {
  spentMs = 0;
  constructor(private readonly timeoutMs: number) {}

  bound(overrides: Partial<SearchBound> = {}): SearchBound {
    return {
      remainingMs: () => this.timeoutMs - this.spentMs,
      reserveMs: 30_000,
      limit: { maxInvocations: 90, maxElapsedMs: 6 * HOUR_MS },
      ...overrides,
    };
  }
}

/**
 * A log group of `pages` pages; page `i` (0-based) holds the records `matches[i]` names. Each page
 * costs `pageMs` of `clock`; the token names the next page.
 */
function givenPages(
  pages: number,
  clock: InvocationClock,
  pageMs: number,
  matches: Readonly<Record<number, CloudTrailRecord[]>> = {},
): FilterLogEventsCommandInput[] {
  const asked: FilterLogEventsCommandInput[] = [];
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, creationTime: 0 }] });
  logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
    asked.push(input);
    clock.spentMs += pageMs;
    const index = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
    const events = (matches[index] ?? []).map((r) => ({
      message: JSON.stringify(r),
      timestamp: Date.parse(r.eventTime),
      ingestionTime: Date.parse(r.eventTime) + 300_000,
    }));
    return { events, ...(index + 1 < pages ? { nextToken: `page-${index + 1}` } : {}) };
  });
  return asked;
}

afterEach(() => {
  logs.reset();
});

describe('searchRecords, bounded by its invocation', () => {
  it('stops while the invocation has time left and carries the window, the token and what it found', async () => {
    // Prepare: 1,400 pages of 300 ms (a week at a million records a day) in a 300 s function.
    const clock = new InvocationClock(300_000);
    givenPages(1400, clock, 300, { 3: [record('ev-early')] });

    // Act
    const search = await searchRecords(query(), clock.bound());

    // Assess: at most 240 s of pages, and the reserve is left.
    expect(search.complete).toBe(false);
    if (search.complete) return;
    expect(clock.spentMs).toBeLessThanOrEqual(240_000);
    expect(300_000 - clock.spentMs).toBeGreaterThanOrEqual(30_000);
    expect(search.resume).toMatchObject({
      logGroupName: LOG_GROUP,
      kind: 'BREAKAGE',
      start: START.toISOString(),
      end: END.toISOString(),
      nextToken: `page-${search.stats.pages}`,
      tokenAt: END.toISOString(),
      startedAt: END.toISOString(),
      invocations: 1,
      pages: search.stats.pages,
      restarts: 0,
      scanned: 1,
    });
    expect(search.resume.records.map((r) => r.eventID)).toEqual(['ev-early']);
    expect(search.resume.ingestedAt).toEqual({ 'ev-early': Date.parse('2026-01-02T08:05:00Z') });
  });

  it('goes on from the carried token with the first window, and answers every record once complete', async () => {
    // Prepare
    const first = new InvocationClock(300_000);
    givenPages(1400, first, 300, { 3: [record('ev-early')], 1300: [record('ev-late')] });
    const stopped = await searchRecords(query(), first.bound());
    if (stopped.complete) throw new Error('the first invocation should not finish');
    const later = new Date(END.getTime() + 60_000);

    // Act: the next invocation, a minute later, whose own `now` would end the window later.
    const clock = new InvocationClock(300_000);
    logs.reset();
    const asked = givenPages(1400, clock, 300, { 3: [record('ev-early')], 1300: [record('ev-late')] });
    const search = await searchRecords(query({ end: later, now: later }), clock.bound(), stopped.resume);

    // Assess
    expect(search.complete).toBe(true);
    if (!search.complete) return;
    expect(asked[0]?.nextToken).toBe(stopped.resume.nextToken);
    expect(asked.every((input) => input.endTime === END.getTime())).toBe(true);
    expect(search.result.records.map((r) => r.eventID)).toEqual(['ev-early', 'ev-late']);
    expect(search.result.searchedTo).toEqual(END);
    expect(search.stats.totalPages).toBe(1400);
    expect(search.stats.invocations).toBe(2);
  });

  it('always reads one page, even in an invocation already short of time', async () => {
    // Prepare
    const clock = new InvocationClock(20_000);
    givenPages(3, clock, 300);

    // Act
    const search = await searchRecords(query(), clock.bound());

    // Assess: progress on every invocation, or a split search could never end.
    expect(search.complete).toBe(false);
    expect(search.stats.pages).toBe(1);
  });

  it('searches the window again from its start when the token is older than the service keeps it', async () => {
    // Prepare
    const clock = new InvocationClock(300_000);
    givenPages(1400, clock, 300, { 3: [record('ev-early')] });
    const stopped = await searchRecords(query(), clock.bound());
    if (stopped.complete) throw new Error('the first invocation should not finish');
    const dayLater = new Date(END.getTime() + 24 * HOUR_MS);
    const next = new InvocationClock(300_000);
    logs.reset();
    const asked = givenPages(1400, next, 300, { 3: [record('ev-early')] });

    // Act
    const search = await searchRecords(
      query({ now: dayLater, end: dayLater }),
      next.bound({ limit: { maxInvocations: 90, maxElapsedMs: 48 * HOUR_MS } }),
      stopped.resume,
    );

    // Assess: no token sent, nothing carried over counted twice, the window kept.
    expect(asked[0]?.nextToken).toBeUndefined();
    expect(asked[0]?.endTime).toBe(END.getTime());
    expect(search.complete).toBe(false);
    if (search.complete) return;
    expect(search.resume.restarts).toBe(1);
    expect(search.resume.records.map((r) => r.eventID)).toEqual(['ev-early']);
    expect(search.resume.startedAt).toBe(END.toISOString());
  });

  it('searches the window again from its start when the service refuses the carried token', async () => {
    // Prepare
    const clock = new InvocationClock(300_000);
    givenPages(1400, clock, 300, { 3: [record('ev-early')] });
    const stopped = await searchRecords(query(), clock.bound());
    if (stopped.complete) throw new Error('the first invocation should not finish');
    logs.reset();
    const asked: FilterLogEventsCommandInput[] = [];
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, creationTime: 0 }] });
    logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
      asked.push(input);
      if (input.nextToken) {
        throw new InvalidParameterException({
          message: 'The specified nextToken is invalid.',
          $metadata: {},
        });
      }
      return { events: [{ message: JSON.stringify(record('ev-early')), timestamp: 0 }] };
    });

    // Act
    const search = await searchRecords(query(), new InvocationClock(300_000).bound(), stopped.resume);

    // Assess
    expect(asked.map((input) => input.nextToken)).toEqual([stopped.resume.nextToken, undefined]);
    expect(search.complete).toBe(true);
    if (!search.complete) return;
    expect(search.result.records.map((r) => r.eventID)).toEqual(['ev-early']);
    expect(search.stats.restarts).toBe(1);
  });

  it('starts afresh when the carried search was for another window or kind', async () => {
    // Prepare
    const clock = new InvocationClock(300_000);
    givenPages(1400, clock, 300, { 3: [record('ev-early')] });
    const stopped = await searchRecords(query(), clock.bound());
    if (stopped.complete) throw new Error('the first invocation should not finish');
    logs.reset();
    const asked = givenPages(2, new InvocationClock(300_000), 300);

    // Act
    const search = await searchRecords(query({ kind: 'PENDING_USE' }), null, stopped.resume);

    // Assess
    expect(asked[0]?.nextToken).toBeUndefined();
    expect(search.complete).toBe(true);
    if (!search.complete) return;
    expect(search.result.records).toEqual([]);
    expect(search.stats.invocations).toBe(1);
  });

  it('fails closed by name when the search would take more invocations than its limit', async () => {
    // Prepare
    const clock = new InvocationClock(300_000);
    givenPages(1400, clock, 300);
    const stopped = await searchRecords(query(), clock.bound());
    if (stopped.complete) throw new Error('the first invocation should not finish');

    // Act
    const next = searchRecords(
      query(),
      new InvocationClock(300_000).bound({ limit: { maxInvocations: 1, maxElapsedMs: HOUR_MS } }),
      stopped.resume,
    );

    // Assess
    await expect(next).rejects.toBeInstanceOf(SearchTooLongError);
  });

  it('fails closed by name when the search has gone on longer than its limit', async () => {
    // Prepare
    const clock = new InvocationClock(300_000);
    givenPages(1400, clock, 300);
    const stopped = await searchRecords(query(), clock.bound());
    if (stopped.complete) throw new Error('the first invocation should not finish');
    const twoHoursLater = new Date(END.getTime() + 2 * HOUR_MS);

    // Act
    const next = searchRecords(
      query({ now: twoHoursLater }),
      new InvocationClock(300_000).bound({ limit: { maxInvocations: 90, maxElapsedMs: HOUR_MS } }),
      stopped.resume,
    );

    // Assess
    await expect(next).rejects.toThrow(/not done after 1 invocations/);
  });

  it('fails closed by name when what it must carry would not fit the workflow state', async () => {
    // Prepare: thousands of failed calls, each with a long message, before the time runs out.
    const clock = new InvocationClock(300_000);
    const many = Array.from({ length: 400 }, (_, i) =>
      record(`ev-${i}`, `${KEY_ARN} is disabled.${'x'.repeat(400)}`),
    );
    givenPages(1400, clock, 300, { 0: many });

    // Act
    const search = searchRecords(query(), clock.bound());

    // Assess
    await expect(search).rejects.toBeInstanceOf(SearchCarryTooLargeError);
  });
});

describe('how long a search took', () => {
  it('counts the time its pages took in the invocation that finished it, even when it fit one', async () => {
    // Prepare: three pages of 2 s each, well within one invocation.
    const clock = new InvocationClock(300_000);
    givenPages(3, clock, 2_000);

    // Act
    const search = await searchRecords(query(), clock.bound());

    // Assess
    expect(search.complete).toBe(true);
    expect(search.stats.elapsedMs).toBe(6_000);
  });
});

describe('findRecords with a bound', () => {
  it('throws SearchIncompleteError rather than answer with part of the window', async () => {
    // Prepare
    const clock = new InvocationClock(60_000);
    givenPages(1400, clock, 300);

    // Act
    const found = findRecords(query(), clock.bound({ reserveMs: 20_000 }));

    // Assess
    await expect(found).rejects.toBeInstanceOf(SearchIncompleteError);
    expect(clock.spentMs).toBeLessThanOrEqual(40_000);
  });

  it('answers as before without a bound, however many pages', async () => {
    // Prepare
    const clock = new InvocationClock(0);
    givenPages(1400, clock, 300, { 1399: [record('ev-last')] });

    // Act
    const found = await findRecords(query());

    // Assess
    expect(found.records.map((r) => r.eventID)).toEqual(['ev-last']);
    expect(found.searchedTo).toEqual(END);
  });
});

describe('what a split search carries', () => {
  /** What a search carries when its invocation has time for one page only, of one record. */
  async function resumeAfterOnePage(): Promise<SearchResume> {
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP }] });
    logs.on(FilterLogEventsCommand).resolves({
      events: [{ message: JSON.stringify(record('evt-1')), ingestionTime: START.getTime() }],
      nextToken: 'more',
    });
    const search = await searchRecords(query(), { remainingMs: () => 1_000, reserveMs: 30_000 });
    if (search.complete) throw new Error('the search should have stopped');
    return search.resume;
  }

  it('keeps only the fields the domain reads of each record, so a long hold of canary records fits', () => {
    // Prepare
    const full = {
      ...record('evt-1'),
      userIdentity: {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::111122223333:assumed-role/app/session',
        accountId: '111122223333',
        sessionContext: {
          sessionIssuer: { arn: 'arn:aws:iam::111122223333:role/app', type: 'Role' },
          attributes: { creationDate: '2026-01-02T07:00:00Z', mfaAuthenticated: 'false' },
        },
      },
      tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256' },
      additionalEventData: { encryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::bucket/key' } },
      requestID: 'req-1',
    } as CloudTrailRecord;

    // Act
    const carried = carriedRecord(full);

    // Assess
    expect(carried).toEqual({
      ...record('evt-1'),
      userIdentity: {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::111122223333:assumed-role/app/session',
        accountId: '111122223333',
        sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::111122223333:role/app' } },
      },
      requestID: 'req-1',
    });
    expect(JSON.stringify(carried).length).toBeLessThan(JSON.stringify(full).length);
  });

  it("refuses by name a resume that would push the step's state past what Step Functions can carry", async () => {
    // Prepare: a search that stops after its first page, carrying a few records.
    const resume = await resumeAfterOnePage();
    const big = { assessment: { summaryText: 'x'.repeat(MAX_CARRYING_STATE_BYTES) } };

    // Act / Assess
    expect(() => requireStateRoom(resume, { small: true })).not.toThrow();
    expect(() => requireStateRoom(resume, big)).toThrow(SearchCarryTooLargeError);
  });

  it("leaves the step's own earlier resume out of the count: the new one takes its place", async () => {
    // Prepare
    const resume = await resumeAfterOnePage();
    const old = { watch: { resume: { records: 'x'.repeat(MAX_CARRYING_STATE_BYTES) } } };

    // Act / Assess
    expect(() => requireStateRoom(resume, old)).not.toThrow();
    expect(() => requireStateRoom(resume, old, 2)).not.toThrow();
  });
});
