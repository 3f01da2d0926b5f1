import { gunzipSync } from 'node:zlib';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import {
  type CfnTemplate,
  DefinitionError,
  type SubscriptionFilterSpec,
  subscriptionFiltersOf,
  type WorkflowFunction,
  workflowFunctions,
} from '../../../lib/simulator/definition.js';
import { EmulatedAccount } from '../../../lib/simulator/emulator/account.js';
import type { TimelineEntry } from '../../../lib/simulator/engine.js';
import { AsyncInvokeQueue, type AsyncOutcome } from '../../../lib/simulator/scheduled-rules.js';
import { SubscriptionDeliveries } from '../../../lib/simulator/subscriptions.js';

const ENV = { account: '111122223333', region: 'us-east-1' };
const MINUTE = 60_000;
const START = Date.parse('2026-03-01T00:00:00Z');
const LOG_GROUP = 'aws-cloudtrail-logs';
const PATTERN = '{ $.errorCode = "DisabledException" }';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const APP_ROLE = `arn:aws:iam::${ENV.account}:role/app`;
const LAG = 5 * MINUTE;

type Permission = 'cdk' | 'none' | 'other-group' | 'regional';

/** A stack with a `deliveries` handler subscribed to the CloudTrail group, as CDK builds it. */
function synth(permission: Permission = 'cdk', pattern = PATTERN, retryAttempts?: number): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Subs');
  const fn = new lambda.Function(stack, 'Deliveries', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    environment: { KDG_HANDLER: 'deliveries' },
    timeout: Duration.minutes(1),
    ...(retryAttempts !== undefined ? { retryAttempts } : {}),
  });
  const group = logs.LogGroup.fromLogGroupName(stack, 'Trail', LOG_GROUP);
  if (permission === 'cdk') {
    new logs.SubscriptionFilter(stack, 'Stream', {
      logGroup: group,
      destination: new destinations.LambdaDestination(fn),
      filterPattern: logs.FilterPattern.literal(pattern),
      filterName: 'failed-calls',
    });
  } else {
    new logs.CfnSubscriptionFilter(stack, 'Stream', {
      logGroupName: LOG_GROUP,
      destinationArn: fn.functionArn,
      filterPattern: pattern,
      filterName: 'failed-calls',
    });
    if (permission !== 'none') {
      new lambda.CfnPermission(stack, 'LogsInvoke', {
        action: 'lambda:InvokeFunction',
        functionName: fn.functionArn,
        principal: permission === 'regional' ? `logs.${ENV.region}.amazonaws.com` : 'logs.amazonaws.com',
        sourceArn: `arn:aws:logs:${ENV.region}:${ENV.account}:log-group:${permission === 'other-group' ? 'other' : LOG_GROUP}:*`,
      });
    }
  }
  return app.synth().getStackByName('Subs').template as CfnTemplate;
}

function parse(permission: Permission = 'cdk', pattern = PATTERN, retryAttempts?: number) {
  const template = synth(permission, pattern, retryAttempts);
  const functions = workflowFunctions(template, ENV);
  return { functions, specs: subscriptionFiltersOf(template, functions, ENV) };
}

interface World {
  readonly account: EmulatedAccount;
  readonly deliveries: SubscriptionDeliveries;
  readonly calls: { at: number; event: unknown }[];
  setNow(ms: number): void;
  now(): number;
}

/** An account whose CloudTrail group carries the subscription, and a runner that records each invocation. */
function world(
  specs: readonly SubscriptionFilterSpec[],
  functions: readonly WorkflowFunction[],
  outcome: (n: number) => Partial<AsyncOutcome> = () => ({}),
): World {
  let now = START;
  const account = new EmulatedAccount({
    account: ENV.account,
    region: ENV.region,
    workflowPrincipalArn: `arn:aws:iam::${ENV.account}:role/guard`,
    clock: () => new Date(now),
    cloudTrail: { deliveryLagMs: LAG, retentionDays: 365, logGroupName: LOG_GROUP },
  });
  account.addKey({ keyId: KEY_ID, createdAt: new Date('2025-01-01T00:00:00Z') });
  for (const spec of specs) {
    account.addSubscriptionFilter({
      filterName: spec.filterName,
      filterPattern: spec.filterPattern,
      destinationArn: spec.destinationArn,
      creationTime: START - 60 * MINUTE,
    });
  }
  const calls: { at: number; event: unknown }[] = [];
  const run = async (_handler: string, event: unknown): Promise<AsyncOutcome> => {
    calls.push({ at: now, event });
    return { result: { outcome: 'RECORDED' }, spentMs: 0, ...outcome(calls.length) };
  };
  const publish = account.cloudwatch.record.bind(account.cloudwatch);
  const queue = new AsyncInvokeQueue(functions, run, publish);
  const deliveries = new SubscriptionDeliveries(specs, account, queue, publish, START, () => now);
  return {
    account,
    deliveries,
    calls,
    setNow: (ms) => {
      now = ms;
    },
    now: () => now,
  };
}

/** Runs the deliveries from one due instant to the next, up to `untilMs`, as the simulator does. */
async function runUntil(w: World, untilMs: number): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = [];
  for (let at = w.deliveries.nextDueAt(); at !== null && at <= untilMs; at = w.deliveries.nextDueAt()) {
    w.setNow(Math.max(w.now(), at));
    entries.push(...(await w.deliveries.runDue(at)));
  }
  w.setNow(Math.max(w.now(), untilMs));
  return entries;
}

/** The key is disabled at the start: each Encrypt after it fails with DisabledException. */
function failedCall(w: World, atMs: number, operation = 'Encrypt'): void {
  w.account.appCall({ keyId: KEY_ID, operation, principalArn: APP_ROLE, at: new Date(atMs) });
}

function disableKey(w: World): void {
  w.account.appCall({ keyId: KEY_ID, operation: 'DisableKey', principalArn: APP_ROLE, at: new Date(START) });
}

interface DecodedPayload {
  messageType: string;
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: { id: string; timestamp: number; message: string }[];
}

function decode(event: unknown): DecodedPayload {
  const data = (event as { awslogs: { data: string } }).awslogs.data;
  return JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')) as DecodedPayload;
}

const CALLER = {
  principalArn: APP_ROLE,
  account: ENV.account,
  region: ENV.region,
  sourceIp: 'x',
  userAgent: 'x',
};

interface FoundEvent {
  eventId: string;
  timestamp: number;
  message: string;
  logStreamName: string;
  ingestionTime: number;
}

/** Every event FilterLogEvents finds for the pattern with timestamps in [startMs, endMs], all pages. */
function filterAll(w: World, startMs: number, endMs: number): FoundEvent[] {
  const found: FoundEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = w.account.serve(
      'logs',
      'FilterLogEvents',
      { logGroupName: LOG_GROUP, filterPattern: PATTERN, startTime: startMs, endTime: endMs, nextToken },
      CALLER,
    ).body as { events: FoundEvent[]; nextToken?: string };
    found.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}

const LOGS_DIMENSIONS = { LogGroupName: LOG_GROUP, DestinationType: 'Lambda', FilterName: 'failed-calls' };

describe('subscriptionFiltersOf', () => {
  it("reads CDK's subscription filter: group, name, pattern, destination handler, and the permission it adds", () => {
    // Act
    const { functions, specs } = parse('cdk');

    // Assess
    expect(specs).toEqual([
      {
        logicalId: expect.stringMatching(/^Stream/),
        logGroupName: LOG_GROUP,
        filterName: 'failed-calls',
        filterPattern: PATTERN,
        destinationArn: functions[0]?.arn,
        handler: 'deliveries',
        functionArn: functions[0]?.arn,
        logsMayInvoke: true,
      },
    ]);
  });

  it.each([
    ['none', false],
    ['other-group', false],
    ['regional', true],
  ] as const)('a permission %s lets CloudWatch Logs invoke the function: %s', (permission, allowed) => {
    // Act
    const { specs } = parse(permission);

    // Assess
    expect(specs[0]?.logsMayInvoke).toBe(allowed);
  });

  it('refuses a filter whose destination is not a handler function', () => {
    // Prepare
    const template: CfnTemplate = {
      Resources: {
        Stream: {
          Type: 'AWS::Logs::SubscriptionFilter',
          Properties: {
            LogGroupName: LOG_GROUP,
            FilterPattern: '',
            DestinationArn: 'arn:aws:kinesis:us-east-1:111122223333:stream/elsewhere',
          },
        },
      },
    };

    // Act / Assess
    expect(() => subscriptionFiltersOf(template, [], ENV)).toThrow(DefinitionError);
  });
});

describe('SubscriptionDeliveries', () => {
  it('forwards a matching record to the function one to two minutes after its ingestion, in the documented payload', async () => {
    // Prepare: a failed Encrypt at 00:10:30, ingested at 00:15:30 (five minutes of CloudTrail lag).
    const { functions, specs } = parse();
    const w = world(specs, functions);
    disableKey(w);
    failedCall(w, START + 10.5 * MINUTE);

    // Act
    const entries = await runUntil(w, START + 30 * MINUTE);

    // Assess: the minute 00:15 is forwarded at 00:17.
    expect(w.calls.map((c) => (c.at - START) / MINUTE)).toEqual([17]);
    const payload = decode(w.calls[0]?.event);
    const found = filterAll(w, START, START + 30 * MINUTE);
    expect(payload).toEqual({
      messageType: 'DATA_MESSAGE',
      owner: ENV.account,
      logGroup: LOG_GROUP,
      logStream: found[0]?.logStreamName,
      subscriptionFilters: ['failed-calls'],
      logEvents: found.map((e) => ({ id: e.eventId, timestamp: e.timestamp, message: e.message })),
    });
    expect(JSON.parse(payload.logEvents[0]?.message ?? '{}')).toMatchObject({
      errorCode: 'DisabledException',
    });
    expect(entries).toEqual([
      expect.objectContaining({
        state: 'Subscription',
        handler: 'deliveries',
        detail: expect.objectContaining({ filter: 'failed-calls', events: 1, outcome: 'RECORDED' }),
      }),
    ]);
    expect(w.account.cloudwatch.total('AWS/Logs', 'ForwardedLogEvents', LOGS_DIMENSIONS)).toBe(1);
  });

  it('batches the records of one minute of ingestion, keeps later minutes apart, and forwards no record the pattern misses', async () => {
    // Prepare: two failures ingested in 00:20, one in 00:21; a successful DescribeKey in 00:20.
    const { functions, specs } = parse();
    const w = world(specs, functions);
    disableKey(w);
    failedCall(w, START + 15 * MINUTE + 5_000);
    failedCall(w, START + 15 * MINUTE + 50_000);
    failedCall(w, START + 16 * MINUTE + 1_000);
    w.account.appCall({
      keyId: KEY_ID,
      operation: 'DescribeKey',
      principalArn: APP_ROLE,
      at: new Date(START + 15 * MINUTE + 20_000),
    });

    // Act
    await runUntil(w, START + 40 * MINUTE);

    // Assess
    expect(w.calls.map((c) => [(c.at - START) / MINUTE, decode(c.event).logEvents.length])).toEqual([
      [22, 2],
      [23, 1],
    ]);
    const messages = w.calls.flatMap((c) => decode(c.event).logEvents.map((e) => JSON.parse(e.message)));
    expect(messages.map((m) => m.eventName)).toEqual(['Encrypt', 'Encrypt', 'Encrypt']);
  });

  it("retries a failing function per Lambda's asynchronous rules, publishing Invocations, Errors and AsyncEventsDropped", async () => {
    // Prepare
    const { functions, specs } = parse();
    const failure = new Error('registry unavailable');
    const w = world(specs, functions, () => ({ error: failure }));
    disableKey(w);
    failedCall(w, START + 10 * MINUTE);

    // Act
    const entries = await runUntil(w, START + 60 * MINUTE);

    // Assess: tried at 00:17, retried at 00:18 and 00:20, then dropped.
    expect(w.calls.map((c) => (c.at - START) / MINUTE)).toEqual([17, 18, 20]);
    expect(entries.at(-1)?.detail).toMatchObject({ lambdaRetry: 2, dropped: 'RetriesExhausted' });
    const fn = { FunctionName: functions[0]?.logicalId ?? '' };
    expect(w.account.cloudwatch.total('AWS/Lambda', 'Invocations', fn)).toBe(3);
    expect(w.account.cloudwatch.total('AWS/Lambda', 'Errors', fn)).toBe(3);
    expect(w.account.cloudwatch.total('AWS/Lambda', 'AsyncEventsDropped', fn)).toBe(1);
    // Each attempt's wait since the event was queued (AsyncEventAge, ms): none, then 1 and 3 minutes.
    const ageAt = (minute: number) =>
      w.account.cloudwatch.total(
        'AWS/Lambda',
        'AsyncEventAge',
        fn,
        START + minute * MINUTE,
        START + (minute + 1) * MINUTE,
      );
    expect([17, 18, 20].map(ageAt)).toEqual([0, MINUTE, 3 * MINUTE]);
  });

  it('an AccessDenied delivery counts DeliveryErrors and disables the filter for ten minutes, skipping what comes meanwhile', async () => {
    // Prepare: one refused delivery (at 00:17); a record ingested at 00:17 falls in the disabled
    // stretch (due at 00:19, before 00:27), one ingested at 00:26:30 is forwarded at 00:28.
    const { functions, specs } = parse();
    const w = world(specs, functions);
    w.account.addFault({
      service: 'logs',
      operation: 'SubscriptionDelivery',
      error: 'AccessDeniedException',
      from: new Date(START),
      until: new Date(START + 24 * 60 * MINUTE),
      count: 1,
    });
    disableKey(w);
    failedCall(w, START + 10 * MINUTE);
    failedCall(w, START + 12 * MINUTE);
    failedCall(w, START + 21 * MINUTE + 30_000);

    // Act
    const entries = await runUntil(w, START + 60 * MINUTE);

    // Assess
    expect(w.calls.map((c) => (c.at - START) / MINUTE)).toEqual([28]);
    expect(
      entries.map((e) => [
        (Date.parse(e.at) - START) / MINUTE,
        e.detail.deliveryError ?? e.detail.skipped ?? 'ok',
      ]),
    ).toEqual([
      [17, 'AccessDeniedException'],
      [19, 'filter disabled'],
      [28, 'ok'],
    ]);
    expect(w.account.cloudwatch.total('AWS/Logs', 'DeliveryErrors', LOGS_DIMENSIONS)).toBe(1);
    expect(w.account.cloudwatch.total('AWS/Logs', 'DeliveryErrors', { LogGroupName: LOG_GROUP })).toBe(1);
    expect(w.account.cloudwatch.total('AWS/Logs', 'ForwardedLogEvents', LOGS_DIMENSIONS)).toBe(1);
  });

  it('a throttled delivery counts DeliveryThrottling and is retried until it goes through', async () => {
    // Prepare
    const { functions, specs } = parse();
    const w = world(specs, functions);
    w.account.addFault({
      service: 'logs',
      operation: 'SubscriptionDelivery',
      error: 'ThrottlingException',
      from: new Date(START),
      until: new Date(START + 24 * 60 * MINUTE),
      count: 2,
    });
    disableKey(w);
    failedCall(w, START + 10 * MINUTE);

    // Act
    await runUntil(w, START + 60 * MINUTE);

    // Assess: refused at 00:17 and 00:18 (one minute later), delivered at 00:20 (two minutes later).
    expect(w.calls.map((c) => (c.at - START) / MINUTE)).toEqual([20]);
    expect(w.account.cloudwatch.total('AWS/Logs', 'DeliveryThrottling', LOGS_DIMENSIONS)).toBe(2);
    expect(w.account.cloudwatch.total('AWS/Logs', 'DeliveryThrottling', { LogGroupName: LOG_GROUP })).toBe(2);
    expect(w.account.cloudwatch.total('AWS/Logs', 'DeliveryErrors', LOGS_DIMENSIONS)).toBe(0);
  });

  it('a workflow `*` fault on logs does not reach the deliveries', async () => {
    // Prepare
    const { functions, specs } = parse();
    const w = world(specs, functions);
    w.account.addFault({
      service: 'logs',
      operation: '*',
      error: 'ThrottlingException',
      from: new Date(START),
      until: new Date(START + 24 * 60 * MINUTE),
    });
    disableKey(w);
    failedCall(w, START + 10 * MINUTE);

    // Act
    await runUntil(w, START + 30 * MINUTE);

    // Assess
    expect(w.calls).toHaveLength(1);
  });

  it('without a permission for CloudWatch Logs every delivery is refused: DeliveryErrors, nothing invoked', async () => {
    // Prepare
    const { functions, specs } = parse('none');
    const w = world(specs, functions);
    disableKey(w);
    failedCall(w, START + 10 * MINUTE);
    failedCall(w, START + 30 * MINUTE);

    // Act
    await runUntil(w, START + 60 * MINUTE);

    // Assess
    expect(w.calls).toEqual([]);
    expect(w.account.cloudwatch.total('AWS/Logs', 'DeliveryErrors', LOGS_DIMENSIONS)).toBe(2);
  });

  it('forwards nothing once the log group was deleted, and DescribeSubscriptionFilters says so', async () => {
    // Prepare: the group is deleted at 00:30 and exists again from 02:00 (without the filter).
    const { functions, specs } = parse();
    const w = world(specs, functions);
    w.account.addFault({
      service: 'logs',
      operation: '*',
      error: 'ResourceNotFoundException',
      from: new Date(START + 30 * MINUTE),
      until: new Date(START + 120 * MINUTE),
    });
    disableKey(w);
    failedCall(w, START + 10 * MINUTE);
    failedCall(w, START + 40 * MINUTE);
    failedCall(w, START + 130 * MINUTE);
    const describe = () =>
      w.account.serve('logs', 'DescribeSubscriptionFilters', { logGroupName: LOG_GROUP }, CALLER);
    const before = describe();

    // Act
    await runUntil(w, START + 60 * MINUTE);
    const during = describe();
    await runUntil(w, START + 180 * MINUTE);
    const after = describe();

    // Assess
    expect(w.calls.map((c) => (c.at - START) / MINUTE)).toEqual([17]);
    expect(before.body).toEqual({
      subscriptionFilters: [
        {
          filterName: 'failed-calls',
          logGroupName: LOG_GROUP,
          filterPattern: PATTERN,
          destinationArn: functions[0]?.arn,
          distribution: 'ByLogStream',
          creationTime: START - 60 * MINUTE,
        },
      ],
    });
    expect(during).toMatchObject({ status: 400, body: { __type: 'ResourceNotFoundException' } });
    expect(after).toMatchObject({ status: 200, body: { subscriptionFilters: [] } });
  });

  it("forwards the busy group's generated records that match, and only those", async () => {
    // Prepare: 100,000 unrelated records a day; the pattern picks the failed ones of one kind.
    const { functions, specs } = parse();
    const w = world(specs, functions);
    w.account.addBackgroundPerDay(100_000, 7);

    // Act
    await runUntil(w, START + 30 * MINUTE);

    // Assess: what was forwarded is exactly what FilterLogEvents finds ingested in the same minutes.
    const forwarded = w.calls.flatMap((c) => decode(c.event).logEvents);
    expect(forwarded.length).toBeGreaterThan(0);
    const found = filterAll(w, START - 30 * MINUTE, START + 30 * MINUTE).filter(
      // The batches due by 00:30 hold what was ingested from 23:58 (due at the start) to 00:29.

      (e) => e.ingestionTime >= START - 2 * MINUTE && e.ingestionTime < START + 29 * MINUTE,
    );
    expect(forwarded.map((e) => e.id)).toEqual(found.map((e) => e.eventId));
    expect(forwarded.every((e) => JSON.parse(e.message).errorCode === 'DisabledException')).toBe(true);
  });

  it('DescribeSubscriptionFilters answers ResourceNotFoundException for a group that does not exist', () => {
    // Prepare
    const { functions, specs } = parse();
    const w = world(specs, functions);

    // Act
    const answer = w.account.serve('logs', 'DescribeSubscriptionFilters', { logGroupName: 'nope' }, CALLER);

    // Assess
    expect(answer).toMatchObject({ status: 400, body: { __type: 'ResourceNotFoundException' } });
  });

  it('a log group takes two subscription filters, not three', () => {
    // Prepare
    const { functions, specs } = parse();
    const w = world(specs, functions);
    const filter = (name: string) => ({
      filterName: name,
      filterPattern: '',
      destinationArn: functions[0]?.arn ?? '',
      creationTime: START,
    });
    w.account.addSubscriptionFilter(filter('second'));

    // Act / Assess
    expect(() => w.account.addSubscriptionFilter(filter('third'))).toThrow(
      expect.objectContaining({ type: 'LimitExceededException' }),
    );
  });
});
