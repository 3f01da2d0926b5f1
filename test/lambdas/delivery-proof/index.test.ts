import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  DescribeSubscriptionFiltersCommand,
  type SubscriptionFilter,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSweepState } from '../../../lambdas/aws/hold-reader.js';
import { toItem } from '../../../lambdas/aws/hold-registry.js';
import { SWEEP_STATE_KEY, type SweepState } from '../../../lambdas/contracts/sweep.js';
import { handler } from '../../../lambdas/delivery-proof/index.js';
import { DeliveryMetricsUnreadableError, SubscriptionBrokenError } from '../../../lambdas/domain/errors.js';
import { FAILED_CALLS_PATTERN } from '../../../lambdas/domain/filter-pattern.js';
import {
  ASYNC_EVENT_AGE_LIMIT_MS,
  MAX_PROOF_SPAN_MS,
  METRICS_DELAY_MS,
  STREAM_SETTLE_MS,
} from '../../../lambdas/domain/stream.js';
import { HOUR_MS, MINUTE_MS } from '../../../lambdas/domain/time.js';
import { ACCOUNT } from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

const LOG_GROUP = 'aws-cloudtrail-logs';
const FILTER = 'Test-failed-kms-calls';
const FUNCTION = 'Test-Deliveries';
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FUNCTION}`;
const NOW = new Date('2026-02-10T12:00:00.000Z');
const PROVEN_THROUGH = new Date(NOW.getTime() - STREAM_SETTLE_MS);
/** Where the proof reads the metrics to: later than where it stands (a delivery is tried after ingestion). */
const METRICS_END = new Date(NOW.getTime() - METRICS_DELAY_MS);
const CREATED = new Date(NOW.getTime() - HOUR_MS);

const logs = mockClient(CloudWatchLogsClient);
const cloudWatch = mockClient(CloudWatchClient);
let table: HoldTable;

function ago(ms: number): Date {
  return new Date(NOW.getTime() - ms);
}

/** The stack's filter as DescribeSubscriptionFilters shows it. */
function stackFilter(overrides: Partial<SubscriptionFilter> = {}): SubscriptionFilter {
  return {
    filterName: FILTER,
    logGroupName: LOG_GROUP,
    filterPattern: FAILED_CALLS_PATTERN,
    destinationArn: FUNCTION_ARN,
    distribution: 'ByLogStream',
    creationTime: CREATED.getTime(),
    ...overrides,
  };
}

function givenFilters(filters: SubscriptionFilter[]): void {
  logs.on(DescribeSubscriptionFiltersCommand).resolves({ subscriptionFilters: filters });
}

/** A query's metric as `<namespace> <name> <dimension names>`, e.g. `AWS/Lambda Errors FunctionName`. */
function metricOf(query: MetricDataQuery): string {
  const metric = query.MetricStat?.Metric;
  return `${metric?.Namespace} ${metric?.MetricName} ${(metric?.Dimensions ?? []).map((d) => d.Name).join(',')}`;
}

/** Every query answered Complete with no data point, but those in `points` (by metricOf). */
function givenMetrics(
  points: Readonly<Record<string, readonly [Date, number][]>> = {},
  status: MetricDataResult['StatusCode'] = 'Complete',
): GetMetricDataCommandInput[] {
  const asked: GetMetricDataCommandInput[] = [];
  cloudWatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    asked.push(input);
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((query) => ({
        Id: query.Id,
        Label: query.Label,
        StatusCode: status,
        Timestamps: (points[metricOf(query)] ?? []).map(([at]) => at),
        Values: (points[metricOf(query)] ?? []).map(([, value]) => value),
      })),
    };
  });
  return asked;
}

/** A state item as a previous proof left it. */
async function givenState(sweptTo: Date, streamSince: Date | null, version = 4): Promise<SweepState> {
  const state: SweepState = {
    keyArn: SWEEP_STATE_KEY,
    version,
    sweptTo: sweptTo.toISOString(),
    streamSince: streamSince?.toISOString() ?? null,
    running: null,
    last: null,
    updatedAt: new Date(sweptTo.getTime() + STREAM_SETTLE_MS).toISOString(),
  };
  await table.putRaw(toItem(state));
  return state;
}

beforeAll(async () => {
  table = await startHoldTable();
});

afterAll(async () => {
  await table.close();
});

beforeEach(async () => {
  await table.clear();
  logs.reset();
  cloudWatch.reset();
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  process.env.KDG_LOG_GROUP = LOG_GROUP;
  process.env.KDG_SUBSCRIPTION_FILTER = FILTER;
  process.env.KDG_DELIVERIES_FUNCTION = FUNCTION;
  process.env.KDG_DELIVERIES_FUNCTION_ARN = FUNCTION_ARN;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('delivery-proof handler', () => {
  it('proves a whole subscription from the filter’s creation, standing STREAM_SETTLE_MS behind now', async () => {
    // Prepare
    givenFilters([stackFilter()]);
    const asked = givenMetrics();

    // Act
    const outcome = await handler({});

    // Assess
    expect(outcome).toEqual({
      outcome: 'PROVEN',
      provenThrough: PROVEN_THROUGH.toISOString(),
      streamSince: CREATED.toISOString(),
      incidents: 0,
    });
    expect(await readSweepState()).toMatchObject({
      version: 1,
      sweptTo: PROVEN_THROUGH.toISOString(),
      streamSince: CREATED.toISOString(),
      running: null,
      updatedAt: NOW.toISOString(),
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]?.StartTime).toEqual(CREATED);
    expect(asked[0]?.EndTime).toEqual(METRICS_END);
  });

  it('reads the metrics from where the previous proof stopped and keeps streamSince when nothing was lost', async () => {
    // Prepare
    const previous = await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })]);
    const asked = givenMetrics();

    // Act
    const outcome = await handler({});

    // Assess
    expect(outcome).toMatchObject({ outcome: 'PROVEN', streamSince: previous.streamSince });
    expect(asked[0]?.StartTime).toEqual(ago(15 * MINUTE_MS));
    expect(asked[0]?.EndTime).toEqual(METRICS_END);
    expect(await readSweepState()).toMatchObject({
      version: previous.version + 1,
      sweptTo: PROVEN_THROUGH.toISOString(),
      streamSince: previous.streamSince,
    });
  });

  it('reads back no further than MAX_PROOF_SPAN_MS after a long stop, and proves nothing before', async () => {
    // Prepare
    await givenState(ago(2 * 24 * HOUR_MS), ago(3 * 24 * HOUR_MS));
    givenFilters([stackFilter({ creationTime: ago(4 * 24 * HOUR_MS).getTime() })]);
    const asked = givenMetrics();
    const from = new Date(METRICS_END.getTime() - MAX_PROOF_SPAN_MS);

    // Act
    const outcome = await handler({});

    // Assess
    expect(asked[0]?.StartTime).toEqual(from);
    expect(outcome).toMatchObject({ outcome: 'PROVEN', streamSince: from.toISOString() });
  });

  it.each([
    ['AWS/Logs DeliveryErrors LogGroupName'],
    ['AWS/Logs DeliveryThrottling LogGroupName'],
    ['AWS/Logs DeliveryErrors LogGroupName,DestinationType,FilterName'],
    ['AWS/Logs DeliveryThrottling LogGroupName,DestinationType,FilterName'],
    ['AWS/Lambda Errors FunctionName'],
    ['AWS/Lambda Throttles FunctionName'],
    ['AWS/Lambda AsyncEventsDropped FunctionName'],
  ])('moves streamSince past a minute in which %s counted a delivery', async (metric) => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })]);
    const incident = ago(13 * MINUTE_MS);
    givenMetrics({ [metric]: [[incident, 2]] });

    // Act
    const outcome = await handler({});

    // Assess: the stream counts from the end of the incident's one-minute period.
    const since = new Date(incident.getTime() + MINUTE_MS).toISOString();
    expect(outcome).toMatchObject({ outcome: 'PROVEN', streamSince: since, incidents: 1 });
    expect((await readSweepState())?.streamSince).toBe(since);
  });

  it('moves streamSince past a minute in which an event waited in the queue longer than the proof allows, not a shorter wait', async () => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })]);
    const late = ago(13 * MINUTE_MS);
    givenMetrics({
      'AWS/Lambda AsyncEventAge FunctionName': [
        [ago(14 * MINUTE_MS), ASYNC_EVENT_AGE_LIMIT_MS],
        [late, ASYNC_EVENT_AGE_LIMIT_MS + 1],
      ],
    });

    // Act
    const outcome = await handler({});

    // Assess
    const since = new Date(late.getTime() + MINUTE_MS).toISOString();
    expect(outcome).toMatchObject({ outcome: 'PROVEN', streamSince: since, incidents: 1 });
  });

  it('counts no incident for data points of zero', async () => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })]);
    givenMetrics({
      'AWS/Logs DeliveryErrors LogGroupName': [[ago(13 * MINUTE_MS), 0]],
      'AWS/Lambda Errors FunctionName': [[ago(12 * MINUTE_MS), 0]],
    });

    // Act
    const outcome = await handler({});

    // Assess
    expect(outcome).toMatchObject({ streamSince: ago(5 * HOUR_MS).toISOString(), incidents: 0 });
  });

  it('asks for the delivery metrics of the log group, of its filter and of the Deliveries function, per minute', async () => {
    // Prepare
    givenFilters([stackFilter()]);
    const asked = givenMetrics();

    // Act
    await handler({});

    // Assess
    const metrics = (asked[0]?.MetricDataQueries ?? []).map((query) => ({
      returned: query.ReturnData,
      period: query.MetricStat?.Period,
      stat: query.MetricStat?.Stat,
      namespace: query.MetricStat?.Metric?.Namespace,
      name: query.MetricStat?.Metric?.MetricName,
      dimensions: query.MetricStat?.Metric?.Dimensions,
    }));
    const common = { returned: true, period: 60, stat: 'Sum' };
    const byGroup = [{ Name: 'LogGroupName', Value: LOG_GROUP }];
    const byFilter = [
      ...byGroup,
      { Name: 'DestinationType', Value: 'Lambda' },
      { Name: 'FilterName', Value: FILTER },
    ];
    const byFunction = [{ Name: 'FunctionName', Value: FUNCTION }];
    expect(metrics).toEqual(
      expect.arrayContaining([
        { ...common, namespace: 'AWS/Logs', name: 'DeliveryErrors', dimensions: byGroup },
        { ...common, namespace: 'AWS/Logs', name: 'DeliveryThrottling', dimensions: byGroup },
        { ...common, namespace: 'AWS/Logs', name: 'DeliveryErrors', dimensions: byFilter },
        { ...common, namespace: 'AWS/Logs', name: 'DeliveryThrottling', dimensions: byFilter },
        { ...common, namespace: 'AWS/Lambda', name: 'Errors', dimensions: byFunction },
        { ...common, namespace: 'AWS/Lambda', name: 'Throttles', dimensions: byFunction },
        { ...common, namespace: 'AWS/Lambda', name: 'AsyncEventsDropped', dimensions: byFunction },
        {
          ...common,
          stat: 'Maximum',
          namespace: 'AWS/Lambda',
          name: 'AsyncEventAge',
          dimensions: byFunction,
        },
      ]),
    );
    expect(metrics).toHaveLength(8);
    expect(logs.commandCalls(DescribeSubscriptionFiltersCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: LOG_GROUP,
      filterNamePrefix: FILTER,
    });
  });

  it('reads every page of the metrics: an incident on the last page counts', async () => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })]);
    const incident = ago(14 * MINUTE_MS);
    const complete = { StatusCode: 'Complete' as const, Timestamps: [], Values: [] };
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'errors', ...complete }], NextToken: 'page-2' })
      .resolvesOnce({
        MetricDataResults: [{ Id: 'dropped', StatusCode: 'Complete', Timestamps: [incident], Values: [1] }],
      });

    // Act
    const outcome = await handler({});

    // Assess
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('page-2');
    expect(outcome).toMatchObject({ streamSince: new Date(incident.getTime() + MINUTE_MS).toISOString() });
  });

  it('finds the stack’s filter past other filters and pages', async () => {
    // Prepare
    logs
      .on(DescribeSubscriptionFiltersCommand)
      .resolvesOnce({
        subscriptionFilters: [stackFilter({ filterName: `${FILTER}-old` })],
        nextToken: 'next',
      })
      .resolvesOnce({ subscriptionFilters: [stackFilter()] });
    givenMetrics();

    // Act
    const outcome = await handler({});

    // Assess
    expect(outcome).toMatchObject({ outcome: 'PROVEN', streamSince: CREATED.toISOString() });
  });

  it('writes the subscription down as broken, then fails, when the filter is gone', async () => {
    // Prepare: only a filter whose name merely begins like the stack's.
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter({ filterName: `${FILTER}-2` })]);
    givenMetrics();

    // Act
    const run = handler({});

    // Assess
    await expect(run).rejects.toBeInstanceOf(SubscriptionBrokenError);
    await expect(run).rejects.toThrow(/gone/);
    expect(await readSweepState()).toMatchObject({
      version: 5,
      sweptTo: PROVEN_THROUGH.toISOString(),
      streamSince: null,
    });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });

  it.each([
    ['a pattern other than the stack’s', { filterPattern: '{ $.errorCode = "DisabledException" }' }],
    ['a pattern of every event', { filterPattern: '' }],
    ['another destination', { destinationArn: `${FUNCTION_ARN}-other` }],
  ])('writes the subscription down as broken, then fails, when the filter has %s', async (_case, change) => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter(change)]);
    givenMetrics();

    // Act
    const run = handler({});

    // Assess
    await expect(run).rejects.toBeInstanceOf(SubscriptionBrokenError);
    await expect(run).rejects.toThrow(/changed/);
    expect(await readSweepState()).toMatchObject({
      sweptTo: PROVEN_THROUGH.toISOString(),
      streamSince: null,
    });
  });

  it('counts from the proof that finds a broken subscription whole again', async () => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), null);
    givenFilters([stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })]);
    givenMetrics();

    // Act
    const outcome = await handler({});

    // Assess
    expect(outcome).toMatchObject({ outcome: 'PROVEN', streamSince: NOW.toISOString() });
    expect((await readSweepState())?.streamSince).toBe(NOW.toISOString());
  });

  it('counts from the creation of a filter made again since the previous proof', async () => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    const remade = ago(12 * MINUTE_MS);
    givenFilters([stackFilter({ creationTime: remade.getTime() })]);
    givenMetrics();

    // Act
    const outcome = await handler({});

    // Assess
    expect(outcome).toMatchObject({ outcome: 'PROVEN', streamSince: remade.toISOString() });
  });

  // A filter whose creation time CloudWatch Logs did not say may have been made just now.
  it('takes a filter without a creation time for one made just now: nothing before now is proven', async () => {
    // Prepare
    await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    givenFilters([stackFilter({ creationTime: undefined })]);
    givenMetrics();

    // Act
    const failure = await handler({}).then(
      () => null,
      (error: unknown) => error,
    );

    // Assess: whether it fails (by name) or not, the state it leaves proves no hold begun before now.
    expect(failure).not.toBeInstanceOf(RangeError);
    const state = await readSweepState();
    expect(state?.sweptTo).toBe(PROVEN_THROUGH.toISOString());
    const since = state?.streamSince ?? null;
    expect(since === null || Date.parse(since) >= NOW.getTime()).toBe(true);
  });

  it.each(['Forbidden', 'InternalError'] as const)(
    'fails with DeliveryMetricsUnreadableError and writes nothing when GetMetricData answers %s',
    async (status) => {
      // Prepare
      const previous = await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
      givenFilters([stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })]);
      givenMetrics({}, status);

      // Act
      const run = handler({});

      // Assess
      await expect(run).rejects.toBeInstanceOf(DeliveryMetricsUnreadableError);
      await expect(run).rejects.toThrow(status);
      expect(await readSweepState()).toEqual(previous);
    },
  );

  it('writes nothing when GetMetricData itself fails', async () => {
    // Prepare
    givenFilters([stackFilter()]);
    cloudWatch.on(GetMetricDataCommand).rejects(new Error('AccessDenied'));

    // Act
    const run = handler({});

    // Assess
    await expect(run).rejects.toThrow('AccessDenied');
    expect(await readSweepState()).toBeNull();
  });

  it('writes nothing when the filters cannot be read', async () => {
    // Prepare
    const previous = await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    logs.on(DescribeSubscriptionFiltersCommand).rejects(new Error('ThrottlingException'));
    givenMetrics();

    // Act
    const run = handler({});

    // Assess
    await expect(run).rejects.toThrow('ThrottlingException');
    expect(await readSweepState()).toEqual(previous);
  });

  it('leaves the state to another proof that wrote it in between', async () => {
    // Prepare: another proof writes version 5 while this one reads the filter.
    const previous = await givenState(ago(15 * MINUTE_MS), ago(5 * HOUR_MS));
    const theirs = { ...previous, version: 5, streamSince: ago(4 * HOUR_MS).toISOString() };
    logs.on(DescribeSubscriptionFiltersCommand).callsFake(async () => {
      await table.putRaw(toItem(theirs));
      return { subscriptionFilters: [stackFilter({ creationTime: ago(6 * HOUR_MS).getTime() })] };
    });
    givenMetrics();

    // Act
    const outcome = await handler({});

    // Assess
    expect(outcome).toEqual({ outcome: 'SUPERSEDED' });
    expect(await readSweepState()).toEqual(theirs);
  });
});
