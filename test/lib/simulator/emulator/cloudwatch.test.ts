import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CloudWatchMetrics, PUBLICATION_DELAY_MS } from '../../../../lib/simulator/emulator/cloudwatch.js';
import { DAY, MINUTE, START, useEmulatorServer } from './fixtures.js';

const DIMS = { LogGroupName: 'trail', DestinationType: 'Lambda', FilterName: 'failed-calls' };

function query(
  id: string,
  dimensions: Record<string, string> = DIMS,
  period = 60,
  name = 'DeliveryErrors',
): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Logs',
        MetricName: name,
        Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: period,
      Stat: 'Sum',
    },
  };
}

describe('CloudWatchMetrics', () => {
  const at = (minutes: number) => START.getTime() + minutes * MINUTE;

  it('sums the data points of each period and returns only the periods with data, newest first', () => {
    // Prepare
    const metrics = new CloudWatchMetrics();
    metrics.record('AWS/Logs', 'DeliveryErrors', DIMS, at(1) + 5_000, 2);
    metrics.record('AWS/Logs', 'DeliveryErrors', DIMS, at(1) + 50_000, 3);
    metrics.record('AWS/Logs', 'DeliveryErrors', DIMS, at(4), 1);

    // Act
    const answer = metrics.getMetricData(
      { MetricDataQueries: [query('errors')], StartTime: at(0) / 1000, EndTime: at(10) / 1000 },
      new Date(at(30)),
    );

    // Assess
    expect(answer.MetricDataResults).toEqual([
      {
        Id: 'errors',
        Label: 'DeliveryErrors',
        Timestamps: [at(4) / 1000, at(1) / 1000],
        Values: [1, 5],
        StatusCode: 'Complete',
      },
    ]);
  });

  it('shows a data point only once its publication delay has passed', () => {
    // Prepare
    const metrics = new CloudWatchMetrics();
    metrics.record('AWS/Logs', 'DeliveryErrors', DIMS, at(5), 1);
    const ask = (nowMs: number) =>
      (
        metrics.getMetricData(
          { MetricDataQueries: [query('e')], StartTime: at(0) / 1000, EndTime: at(10) / 1000 },
          new Date(nowMs),
        ).MetricDataResults as { Values: number[] }[]
      )[0]?.Values;

    // Act / Assess
    expect(ask(at(5) + PUBLICATION_DELAY_MS - 1)).toEqual([]);
    expect(ask(at(5) + PUBLICATION_DELAY_MS)).toEqual([1]);
  });

  it('finds a metric only by its exact set of dimensions', () => {
    // Prepare
    const metrics = new CloudWatchMetrics();
    metrics.record('AWS/Logs', 'DeliveryErrors', DIMS, at(1), 4);
    const { FilterName: _dropped, ...fewer } = DIMS;

    // Act
    const answer = metrics.getMetricData(
      {
        MetricDataQueries: [
          query('exact', { FilterName: 'failed-calls', DestinationType: 'Lambda', LogGroupName: 'trail' }),
          query('fewer', fewer),
          query('more', { ...DIMS, Extra: 'x' }),
          query('other', { ...DIMS, FilterName: 'other' }),
        ],
        StartTime: at(0) / 1000,
        EndTime: at(10) / 1000,
      },
      new Date(at(30)),
    );

    // Assess
    expect(
      (answer.MetricDataResults as { Id: string; Values: number[] }[]).map((r) => [r.Id, r.Values]),
    ).toEqual([
      ['exact', [4]],
      ['fewer', []],
      ['more', []],
      ['other', []],
    ]);
  });

  it('returns nothing for a one-minute period when the start lies more than 15 days back, but does for five minutes', () => {
    // Prepare
    const metrics = new CloudWatchMetrics();
    metrics.record('AWS/Logs', 'DeliveryErrors', DIMS, at(1), 1);
    const now = new Date(at(1) + 16 * DAY);
    const request = (period: number) => ({
      MetricDataQueries: [query('e', DIMS, period)],
      StartTime: at(0) / 1000,
      EndTime: at(10) / 1000,
    });

    // Act
    const minute = metrics.getMetricData(request(60), now).MetricDataResults as { Values: number[] }[];
    const five = metrics.getMetricData(request(300), now).MetricDataResults as { Values: number[] }[];

    // Assess
    expect(minute[0]?.Values).toEqual([]);
    expect(five[0]?.Values).toEqual([1]);
  });
});

describe('GetMetricData over the emulator', () => {
  const emulator = useEmulatorServer();
  const cloudwatch = () => emulator.client(CloudWatchClient);

  it('answers the SDK client (JSON 1.0) with the sums of the published metric', async () => {
    // Prepare
    emulator.account.cloudwatch.record('AWS/Logs', 'DeliveryErrors', DIMS, START.getTime() + MINUTE, 7);
    emulator.clock.advance(10 * MINUTE);

    // Act
    const answer = await cloudwatch().send(
      new GetMetricDataCommand({
        MetricDataQueries: [query('errors')],
        StartTime: START,
        EndTime: new Date(START.getTime() + 10 * MINUTE),
      }),
    );

    // Assess
    expect(answer.MetricDataResults).toEqual([
      {
        Id: 'errors',
        Label: 'DeliveryErrors',
        Timestamps: [new Date(START.getTime() + MINUTE)],
        Values: [7],
        StatusCode: 'Complete',
      },
    ]);
  });

  it.each([
    ['an Id that does not start with a lowercase letter', { MetricDataQueries: [query('Errors')] }],
    ['two queries with one Id', { MetricDataQueries: [query('e'), query('e')] }],
    ['a Period that is not a multiple of 60', { MetricDataQueries: [query('e', DIMS, 90)] }],
    ['more than 500 queries', { MetricDataQueries: Array.from({ length: 501 }, (_, i) => query(`q${i}`)) }],
    ['a StartTime equal to the EndTime', { MetricDataQueries: [query('e')], EndTime: START }],
  ])('refuses %s with ValidationError', async (_case, overrides) => {
    // Act
    const error = await cloudwatch()
      .send(
        new GetMetricDataCommand({
          StartTime: START,
          EndTime: new Date(START.getTime() + MINUTE),
          ...overrides,
        }),
      )
      .catch((e: Error) => e);

    // Assess
    // The Query code CloudWatch documents; the SDK names the error by its JSON shape.
    expect(error).toMatchObject({
      name: 'ValidationException',
      Code: 'ValidationError',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses a NextToken it did not issue for the request', async () => {
    // Act
    const error = await cloudwatch()
      .send(
        new GetMetricDataCommand({
          MetricDataQueries: [query('e')],
          StartTime: START,
          EndTime: new Date(START.getTime() + MINUTE),
          NextToken: 'bogus',
        }),
      )
      .catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'InvalidNextToken' });
  });
});
