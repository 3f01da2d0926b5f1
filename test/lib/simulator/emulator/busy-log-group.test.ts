import { DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BackgroundStream, type GeneratedDelivery } from '../../../../lib/simulator/emulator/background.js';
import {
  ACCOUNT,
  APP_ROLE,
  DAY,
  KEY_ARN,
  KEY_ID,
  LOG_GROUP,
  MINUTE,
  newAccount,
  REGION,
  START,
  type TestClock,
  useEmulatorServer,
} from './fixtures.js';

const PER_DAY = 1_000_000;
const RETENTION_DAYS = 30;

/** The fixture account with a busy log group: a million unrelated records a day, generated on demand. */
function busyAccount(clock: TestClock, search: { pageLatencyMs?: number; tps?: number } = {}) {
  const account = newAccount(clock, { retentionDays: RETENTION_DAYS, filterScanPageSize: 5000, search });
  account.addBackgroundPerDay(PER_DAY, 7);
  return account;
}

describe('cloudTrail.backgroundPerDay: a busy log group generated on demand', () => {
  const emulator = useEmulatorServer((clock) => busyAccount(clock));

  it('pages through two hours of a million-a-day group by counting, five thousand scanned a page', async () => {
    // Prepare: ten minutes on, so that every record of the two hours is delivered.
    emulator.clock.advance(10 * MINUTE);
    const logs = emulator.logs();
    const from = START.getTime() - 2 * 3_600_000;
    const scoped = `{ ($.eventSource = "kms.amazonaws.com") && ($.errorCode = "DisabledException") && ($.resources[0].ARN = "${KEY_ARN}") }`;

    // Act
    let pages = 0;
    let returned = 0;
    let nextToken: string | undefined;
    do {
      const page = await logs.send(
        new FilterLogEventsCommand({
          logGroupName: LOG_GROUP,
          startTime: from,
          endTime: START.getTime() - 1,
          filterPattern: scoped,
          nextToken,
        }),
      );
      pages += 1;
      returned += page.events?.length ?? 0;
      nextToken = page.nextToken;
    } while (nextToken);

    // Assess: every record of the two hours examined once, none of them about our key.
    const scanned = emulator.account.stats().logEventsScanned;
    expect(Math.abs(scanned - (2 * 3_600_000 * PER_DAY) / DAY)).toBeLessThan(1);
    expect(pages).toBe(Math.ceil(scanned / 5000));
    expect(returned).toBe(0);
  });

  it('searches a whole day of ten million records in seconds, building none of them', () => {
    // Prepare
    const account = newAccount(emulator.clock, { retentionDays: RETENTION_DAYS });
    account.addBackgroundPerDay(10_000_000, 7);
    emulator.clock.advance(10 * MINUTE);
    const request = {
      logGroupName: LOG_GROUP,
      startTime: START.getTime() - DAY,
      endTime: START.getTime() - 1,
      filterPattern: `{ $.resources[0].ARN = "${KEY_ARN}" }`,
    };

    // Act
    const began = performance.now();
    let pages = 0;
    let token: unknown;
    do {
      const page = account.serve(
        'logs',
        'FilterLogEvents',
        token === undefined ? request : { ...request, nextToken: token },
        workflowCaller(),
      );
      token = page.body.nextToken;
      pages += 1;
    } while (token !== undefined);
    const seconds = (performance.now() - began) / 1000;

    // Assess
    expect(account.stats().logEventsScanned).toBe(10_000_000);
    expect(pages).toBe(2000);
    expect(seconds).toBeLessThan(20);
  });

  it('returns the records a broad filter matches, each the same every time, in time order', async () => {
    // Prepare
    const logs = emulator.logs();
    const hour = {
      logGroupName: LOG_GROUP,
      startTime: START.getTime() - DAY,
      endTime: START.getTime() - DAY + 3_600_000,
    };
    const failures = '{ ($.eventSource = "kms.amazonaws.com") && ($.errorCode = "DisabledException") }';

    // Act
    const first = await logs.send(
      new FilterLogEventsCommand({ ...hour, filterPattern: failures, limit: 50 }),
    );
    const again = await logs.send(
      new FilterLogEventsCommand({ ...hour, filterPattern: failures, limit: 50 }),
    );

    // Assess
    const records = (first.events ?? []).map((e) => JSON.parse(e.message ?? '{}') as Record<string, unknown>);
    expect(records).toHaveLength(50);
    expect(first.nextToken).toBeDefined();
    expect(again.events).toEqual(first.events);
    expect(
      records.every((r) => r.errorCode === 'DisabledException' && r.eventSource === 'kms.amazonaws.com'),
    ).toBe(true);
    expect(records.some((r) => JSON.stringify(r).includes(KEY_ID))).toBe(false);
    const times = (first.events ?? []).map((e) => e.timestamp ?? 0);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('finds a record by its request ID, testing only the records of the templates that could hold it', async () => {
    // Prepare
    const logs = emulator.logs();
    const window = {
      logGroupName: LOG_GROUP,
      startTime: START.getTime() - DAY,
      endTime: START.getTime() - 1,
    };
    const sample = await logs.send(
      new FilterLogEventsCommand({
        ...window,
        filterPattern: '{ $.errorCode = "DisabledException" }',
        limit: 3,
      }),
    );
    const wanted = JSON.parse(sample.events?.[2]?.message ?? '{}') as { requestID: string; eventID: string };

    // Act
    const found = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(
        new FilterLogEventsCommand({
          ...window,
          filterPattern: `{ ($.errorCode = "DisabledException") && ($.requestID = "${wanted.requestID}") }`,
          nextToken,
        }),
      );
      found.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);

    // Assess
    expect(found.map((e) => (JSON.parse(e.message ?? '{}') as { eventID: string }).eventID)).toEqual([
      wanted.eventID,
    ]);
  });

  it('merges the stored records with the generated ones, and keeps only what retention and delivery allow', async () => {
    // Prepare
    const logs = emulator.logs();
    emulator.account.serve('kms', 'DisableKey', { KeyId: KEY_ID }, workflowCaller());
    emulator.account.appCall({ keyId: KEY_ID, operation: 'Decrypt', principalArn: APP_ROLE });
    const ours = `{ $.resources[0].ARN = "${KEY_ARN}" }`;

    // Act
    const early = await logs.send(
      new FilterLogEventsCommand({ logGroupName: LOG_GROUP, filterPattern: ours }),
    );
    emulator.clock.advance(6 * MINUTE);
    const delivered = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: LOG_GROUP,
        startTime: START.getTime() - 60_000,
        filterPattern: ours,
      }),
    );
    const beyondRetention = emulator.account.logEventsInWindow(0, START.getTime() - RETENTION_DAYS * DAY);
    const lastMinute = emulator.account.logEventsInWindow(START.getTime() - 60_000, START.getTime() - 1);

    // Assess
    expect(early.events ?? []).toEqual([]);
    expect((delivered.events ?? []).map((e) => JSON.parse(e.message ?? '{}').eventName)).toEqual([
      'DisableKey',
      'Decrypt',
    ]);
    expect(beyondRetention).toBe(0);
    // About 694 records a minute: a million a day.
    expect(lastMinute).toBeGreaterThan(690);
    expect(lastMinute).toBeLessThan(700);
  });

  it('reports the generated records in the group’s stored bytes', async () => {
    // Act
    const { logGroups } = await emulator
      .logs()
      .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: LOG_GROUP }));

    // Assess: a month of a million records of about a kilobyte each.
    expect(logGroups?.[0]?.storedBytes).toBeGreaterThan(RETENTION_DAYS * PER_DAY * 500);
  });
});

describe('BackgroundStream arithmetic', () => {
  const stream = (
    delivery: GeneratedDelivery = { stopMs: null, changeMs: Number.NEGATIVE_INFINITY, excluded: () => false },
  ) =>
    new BackgroundStream({
      perDay: 100_000_000,
      originMs: START.getTime(),
      lagMs: 5 * MINUTE,
      seed: 1,
      logStreamName: 's',
      context: { account: ACCOUNT, region: REGION, reservedKeyIds: new Set([KEY_ID]), aliases: [] },
      delivery,
    });

  it('places record i at origin + i days / perDay and finds the first index at or after any instant', () => {
    // Prepare
    const s = stream();

    // Act / Assess: 10^8 a day is 1157.4 a second.
    expect(s.timeOf(0)).toBe(START.getTime());
    expect(s.timeOf(100_000_000)).toBe(START.getTime() + DAY);
    expect(s.firstAtOrAfter(START.getTime() + 1000)).toBe(1158);
    expect(s.timeOf(1157)).toBeLessThan(START.getTime() + 1000);
    expect(s.timeOf(1158)).toBeGreaterThanOrEqual(START.getTime() + 1000);
    // Two records share the first millisecond; both are delivered five minutes later.
    expect(s.firstInvisibleAt(START.getTime() + 5 * MINUTE)).toBe(2);
  });

  it('counts the records a trail change keeps out without building them', () => {
    // Prepare: from day 1 on, read-only events are not delivered (a WriteOnly trail).
    const s = stream({
      stopMs: null,
      changeMs: START.getTime() + DAY,
      excluded: (record) => record.readOnly,
    });
    const day = 100_000_000;

    // Act
    const firstDay = s.countExisting(0, day);
    const secondDay = s.countExisting(day, 2 * day);
    let built = 0;
    for (let i = day; i < day + 10_000; i += 1) if (s.exists(i)) built += 1;

    // Assess: only the writes (CreateLogStream, 6 of 100) are left after the change.
    expect(firstDay).toBe(day);
    expect(secondDay).toBe(day * 0.06);
    expect(s.countExisting(day, day + 10_000)).toBe(built);
    const cut = s.indexAfterExisting(day, 600, 2 * day);
    expect(s.countExisting(day, cut)).toBe(600);
    expect(s.exists(cut)).toBe(true);
  });

  it('ends at StopLogging', () => {
    // Prepare
    const s = stream({
      stopMs: START.getTime() + DAY,
      changeMs: Number.NEGATIVE_INFINITY,
      excluded: () => false,
    });

    // Act / Assess
    expect(s.countExisting(0, 3 * 100_000_000)).toBe(100_000_000);
    expect(s.firstInvisibleAt(START.getTime() + 10 * DAY)).toBe(100_000_000);
  });
});

describe('cloudTrail.searchPageLatencyMs and searchTps, and the function timeout', () => {
  const emulator = useEmulatorServer((clock) => busyAccount(clock, { pageLatencyMs: 300, tps: 5 }));

  async function search(pages: number): Promise<{ pages: number; error: string | null }> {
    const logs = emulator.logs();
    let nextToken: string | undefined;
    let done = 0;
    try {
      do {
        const page = await logs.send(
          new FilterLogEventsCommand({
            logGroupName: LOG_GROUP,
            startTime: START.getTime() - 10 * DAY,
            filterPattern: `{ $.resources[0].ARN = "${KEY_ARN}" }`,
            nextToken,
          }),
        );
        done += 1;
        nextToken = page.nextToken;
      } while (nextToken && done < pages);
    } catch (error) {
      return { pages: done, error: (error as Error).name };
    }
    return { pages: done, error: null };
  }

  it('charges each page to the invocation that asks, and stops it at its timeout', async () => {
    // Prepare: a function with a 3-second timeout fits 10 pages of 300 ms.
    const invocation = emulator.account.beginInvocation('Check', 3000);

    // Act
    const result = await search(50);
    const afterwards = emulator.account.serve('kms', 'DescribeKey', { KeyId: KEY_ID }, workflowCaller());
    const refusal = emulator.account.refusalAfterTimeout();
    emulator.account.endInvocation(invocation);

    // Assess
    expect(result).toEqual({ pages: 10, error: 'Sandbox.Timedout' });
    expect(invocation).toMatchObject({ timedOut: true, pages: 10, spentMs: 3000 });
    expect(refusal?.type).toBe('Sandbox.Timedout');
    expect(afterwards.status).toBe(200);
    expect(emulator.account.refusalAfterTimeout()).toBeNull();
  });

  it('lets a search that fits its timeout run to the end, the time it took counted', async () => {
    // Prepare
    const invocation = emulator.account.beginInvocation('Check', 900_000);

    // Act
    const result = await search(20);
    emulator.account.endInvocation(invocation);

    // Assess
    expect(result).toEqual({ pages: 20, error: null });
    expect(invocation.spentMs).toBe(6000);
  });

  it("counts a search's own waits (its pacing) in the invocation's time, up to its timeout", () => {
    // Prepare
    const invocation = emulator.account.beginInvocation('Sweep', 1000);

    // Act
    emulator.account.waitInInvocation(400);
    const afterOne = invocation.spentMs;
    emulator.account.waitInInvocation(900);
    emulator.account.endInvocation(invocation);
    emulator.account.waitInInvocation(400);

    // Assess: a wait outside any invocation changes nothing.
    expect(afterOne).toBe(400);
    expect(invocation).toMatchObject({ spentMs: 1000, timedOut: true });
  });

  it('throttles requests above the quota: five at once pass, the sixth at the same instant does not', async () => {
    // Prepare: no invocation, so every request arrives at the same virtual instant.
    const logs = emulator.logs();
    const request = () =>
      logs.send(new FilterLogEventsCommand({ logGroupName: LOG_GROUP, startTime: START.getTime() - 60_000 }));

    // Act
    for (let i = 0; i < 5; i += 1) await request();
    const sixth = await request().then(
      () => 'ok',
      (error: Error) => `${error.name}: ${error.message}`,
    );
    emulator.clock.advance(200);
    const later = await request().then(
      () => 'ok',
      (error: Error) => error.name,
    );

    // Assess
    expect(sixth).toBe('ThrottlingException: Rate exceeded');
    expect(later).toBe('ok');
    expect(emulator.account.stats().throttled).toBe(1);
  });
});

function workflowCaller() {
  return {
    principalArn: `arn:aws:iam::${ACCOUNT}:role/guard-handler`,
    account: ACCOUNT,
    region: REGION,
    sourceIp: '127.0.0.1',
    userAgent: 'test',
  };
}
