import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { historyStart, searchEarlierUses } from '../../../lambdas/aws/use-history.js';
import type { CloudTrailRecord, KeyRef } from '../../../lambdas/domain/cloudtrail.js';
import { EventSourceUnavailableError } from '../../../lambdas/domain/errors.js';
import { measureCadence } from '../../../lambdas/domain/usage-cadence.js';

const ACCOUNT = '111122223333';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;
const OTHER_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
const KEY: KeyRef = { keyId: KEY_ID, keyArn: KEY_ARN, aliases: ['alias/legacy'] };
const GROUP = 'org-trail';
const NOW = new Date('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;

const logs = mockClient(CloudWatchLogsClient);

function daysBefore(days: number): number {
  return NOW.getTime() - days * DAY;
}

/** A successful use of KEY, as S3 logs a Decrypt: no keyId, the key only in resources[].ARN. */
function use(at: number, overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventID: `use-${at}`,
    eventTime: new Date(at).toISOString(),
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    requestParameters: { encryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::bucket/object' } },
    resources: [{ ARN: KEY_ARN }],
    ...overrides,
  };
}

/**
 * A log group served as FilterLogEvents does: events in time order, at most `scanPerPage` events
 * examined per page (so a page may come back empty with a token), `limit` events returned at most,
 * the filter pattern left to the caller's matcher (the fake returns more, never less).
 */
function givenLogGroup(
  records: readonly CloudTrailRecord[],
  options: { scanPerPage?: number; retentionInDays?: number; creationTime?: number; tick?: number } = {},
): { requests: () => number } {
  const events = records
    .map((record) => ({ timestamp: Date.parse(record.eventTime), message: JSON.stringify(record) }))
    .sort((a, b) => a.timestamp - b.timestamp);
  const scanPerPage = options.scanPerPage ?? 10_000;
  let requests = 0;
  logs.on(DescribeLogGroupsCommand).resolves({
    logGroups: [
      {
        logGroupName: GROUP,
        creationTime: options.creationTime ?? Date.parse('2020-01-01T00:00:00Z'),
        ...(options.retentionInDays !== undefined ? { retentionInDays: options.retentionInDays } : {}),
      },
    ],
  });
  logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
    requests += 1;
    if (options.tick) vi.setSystemTime(Date.now() + options.tick);
    const from = input.startTime ?? 0;
    const to = input.endTime ?? Number.POSITIVE_INFINITY;
    const limit = input.limit ?? 10_000;
    let index = input.nextToken ? Number(input.nextToken) : events.findIndex((e) => e.timestamp >= from);
    if (index < 0) return { events: [] };
    const page: typeof events = [];
    let scanned = 0;
    for (; index < events.length; index += 1) {
      const event = events[index];
      if (!event || event.timestamp > to) return { events: page };
      if (scanned >= scanPerPage) return { events: page, nextToken: String(index) };
      scanned += 1;
      if (event.timestamp >= from) page.push(event);
      if (page.length >= limit) {
        return index + 1 < events.length ? { events: page, nextToken: String(index + 1) } : { events: page };
      }
    }
    return { events: page };
  });
  return { requests: () => requests };
}

function query(overrides: Partial<Parameters<typeof searchEarlierUses>[0]> = {}) {
  return {
    logGroupName: GROUP,
    region: 'us-east-1',
    key: KEY,
    from: new Date(daysBefore(400)),
    to: NOW,
    observationDays: 30,
    ...overrides,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  logs.reset();
  vi.useRealTimers();
});

describe('searchEarlierUses', () => {
  it('locates every run of a quarterly job and the exact gaps between them, with few requests', async () => {
    // Prepare
    const runs = [370, 280, 190, 100].map(daysBefore);
    const group = givenLogGroup(runs.map((at) => use(at)));

    // Act
    const search = await searchEarlierUses(query());

    // Assess
    expect(search.complete).toBe(true);
    expect(search.stoppedBy).toBeNull();
    expect(search.reachedTo).toBe(NOW.toISOString());
    expect(search.uses.map((u) => Date.parse(u.at))).toEqual(runs);
    expect(search.uses[0]).toMatchObject({
      operation: 'Decrypt',
      source: 'CloudTrail',
      eventID: `use-${runs[0]}`,
    });
    const cadence = measureCadence({ lastUsage: null, search, observationDays: 30 });
    expect(cadence.longestGap?.days).toBe(90);
    expect(group.requests()).toBeLessThanOrEqual(3 * runs.length + 1);
  });

  it('spends a bounded number of requests on a key used every hour, and reports no gap beyond the observation', async () => {
    // Prepare
    const hourly: CloudTrailRecord[] = [];
    for (let at = daysBefore(390); at < daysBefore(100); at += HOUR) hourly.push(use(at));
    const group = givenLogGroup(hourly);

    // Act
    const search = await searchEarlierUses(query());

    // Assess
    const cadence = measureCadence({ lastUsage: null, search, observationDays: 30 });
    expect(search.complete).toBe(true);
    expect(cadence.longestGap?.days).toBeLessThanOrEqual(30);
    // About two probes per observation of history: 290 days / 15.
    expect(group.requests()).toBeLessThanOrEqual(25);
  });

  it('measures a 45-day hole in hourly use to the minute', async () => {
    // Prepare
    const records: CloudTrailRecord[] = [];
    for (let at = daysBefore(300); at <= daysBefore(200); at += HOUR) records.push(use(at));
    const lastBefore = records[records.length - 1] as CloudTrailRecord;
    for (let at = daysBefore(155); at <= daysBefore(120); at += HOUR) records.push(use(at));
    givenLogGroup(records);

    // Act
    const search = await searchEarlierUses(query());

    // Assess
    const gap = measureCadence({ lastUsage: null, search, observationDays: 30 }).longestGap;
    expect(gap?.from.at).toBe(lastBefore.eventTime);
    expect(gap?.to.at).toBe(new Date(daysBefore(155)).toISOString());
    expect(gap?.days).toBeCloseTo(45, 3);
  });

  it('counts only successful uses of this key: failed calls and other keys are not uses', async () => {
    // Prepare
    givenLogGroup([
      use(daysBefore(300)),
      use(daysBefore(250), { errorCode: 'AccessDeniedException', eventID: 'failed' }),
      use(daysBefore(240), { resources: [{ ARN: OTHER_ARN }], eventID: 'other-key' }),
      use(daysBefore(230), { eventName: 'DescribeKey', eventID: 'not-a-use' }),
      use(daysBefore(200), {
        requestParameters: { keyId: 'alias/legacy' },
        resources: [],
        eventID: 'by-alias',
      }),
    ]);

    // Act
    const search = await searchEarlierUses(query());

    // Assess
    expect(search.uses.map((u) => u.eventID)).toEqual([`use-${daysBefore(300)}`, 'by-alias']);
  });

  it('follows empty pages with a token to the next use', async () => {
    // Prepare
    const noise = Array.from({ length: 40 }, (_, i) =>
      use(daysBefore(300 - i), { resources: [{ ARN: OTHER_ARN }] }),
    );
    givenLogGroup([...noise, use(daysBefore(200))], { scanPerPage: 7 });

    // Act
    const search = await searchEarlierUses(query());

    // Assess
    expect(search.uses.map((u) => u.at)).toEqual([new Date(daysBefore(200)).toISOString()]);
  });

  it('stops when its request budget is spent and says how far it got', async () => {
    // Prepare
    givenLogGroup([370, 280, 190, 100].map((d) => use(daysBefore(d))));

    // Act
    const search = await searchEarlierUses(query({ budget: { maxRequests: 4, maxMs: 60_000 } }));

    // Assess
    expect(search.complete).toBe(false);
    expect(search.stoppedBy).toBe('REQUESTS');
    expect(search.reachedTo).toBe(new Date(daysBefore(280)).toISOString());
    expect(search.uses.map((u) => u.at)).toEqual(
      [370, 280].map((d) => new Date(daysBefore(d)).toISOString()),
    );
  });

  it('stops when its time budget is spent', async () => {
    // Prepare
    givenLogGroup(
      [370, 280, 190, 100].map((d) => use(daysBefore(d))),
      { tick: 20_000 },
    );

    // Act
    const search = await searchEarlierUses(query({ budget: { maxRequests: 100, maxMs: 50_000 } }));

    // Assess
    expect(search.complete).toBe(false);
    expect(search.stoppedBy).toBe('TIME');
  });

  it('finds nothing in an empty history and says it searched all of it', async () => {
    // Prepare
    givenLogGroup([]);

    // Act
    const search = await searchEarlierUses(query());

    // Assess
    expect(search).toEqual({
      searchedFrom: new Date(daysBefore(400)).toISOString(),
      reachedTo: NOW.toISOString(),
      complete: true,
      stoppedBy: null,
      uses: [],
      requests: 1,
    });
  });

  it('throws EventSourceUnavailableError when the log group is gone, never "no earlier use"', async () => {
    // Prepare
    givenLogGroup([]);
    logs
      .on(FilterLogEventsCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));

    // Act
    const act = searchEarlierUses(query());

    // Assess
    await expect(act).rejects.toBeInstanceOf(EventSourceUnavailableError);
  });
});

describe('historyStart', () => {
  it('is the retention horizon when the group is older than its retention', async () => {
    // Prepare
    givenLogGroup([use(daysBefore(500))], { retentionInDays: 365, creationTime: daysBefore(1000) });

    // Act
    const start = await historyStart(GROUP, 'us-east-1', NOW);

    // Assess
    expect(start).toEqual({
      at: new Date(daysBefore(365)),
      because: "the log group's retention of 365 days",
    });
  });

  it("is the group's creation when it is younger than its retention, or keeps everything", async () => {
    // Prepare
    givenLogGroup([], { creationTime: daysBefore(100), retentionInDays: 365 });

    // Act
    const young = await historyStart(GROUP, 'us-east-1', NOW);
    logs.reset();
    givenLogGroup([], { creationTime: daysBefore(2000) });
    const forever = await historyStart(GROUP, 'us-east-1', NOW);

    // Assess
    expect(young).toEqual({ at: new Date(daysBefore(100)), because: "the log group's creation" });
    expect(forever).toEqual({ at: new Date(daysBefore(2000)), because: "the log group's creation" });
  });

  it('does not take a late first record for the start of the history', async () => {
    // Prepare
    givenLogGroup([use(daysBefore(40))], { creationTime: daysBefore(1000) });

    // Act
    const start = await historyStart(GROUP, 'us-east-1', NOW);

    // Assess
    expect(start.at).toEqual(new Date(daysBefore(1000)));
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
  });
});
