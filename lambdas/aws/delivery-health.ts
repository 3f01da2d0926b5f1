import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeSubscriptionFiltersCommand, type SubscriptionFilter } from '@aws-sdk/client-cloudwatch-logs';
import { DeliveryMetricsUnreadableError } from '../domain/errors.js';
import {
  ASYNC_EVENT_AGE_LIMIT_MS,
  DELIVERY_METRIC_PERIOD_SECONDS,
  type DeliveryIncident,
  type SubscriptionSeen,
} from '../domain/stream.js';
import { clientsPerRegion, logsClient } from './clients.js';

/**
 * What AWS says of the log group's subscription: the filter itself, and the metrics of every delivery
 * that may not have arrived. Every read that fails throws: a proof is never made of a read that failed.
 */

const cloudWatchClient = clientsPerRegion((config) => new CloudWatchClient(config));

/** The stack's subscription filter on the log group, or null when the group has none of that name. */
export async function describeSubscription(
  logGroupName: string,
  filterName: string,
): Promise<SubscriptionSeen | null> {
  let nextToken: string | undefined;
  do {
    const page = await logsClient().send(
      new DescribeSubscriptionFiltersCommand({ logGroupName, filterNamePrefix: filterName, nextToken }),
    );
    const filter = (page.subscriptionFilters ?? []).find(
      (f: SubscriptionFilter) => f.filterName === filterName,
    );
    if (filter) {
      return {
        filterPattern: filter.filterPattern ?? '',
        destinationArn: filter.destinationArn ?? '',
        // Without a creation time nothing shows the filter was not made again just now.
        creationTime: new Date(filter.creationTime ?? Date.now()),
      };
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return null;
}

/** One metric the proof reads, and the value above which a data point is an incident. */
interface DeliveryMetric {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: { Name: string; Value: string }[];
  readonly stat: 'Sum' | 'Maximum';
  readonly above: number;
}

/**
 * The metrics that count a delivery lost or late: CloudWatch Logs' errors and throttling towards the
 * filter's destination (events skipped, or retried for up to a day), the receiver's failed,
 * throttled and dropped asynchronous invocations (retried for hours, or dropped), and an event that
 * waited in the receiver's queue longer than ASYNC_EVENT_AGE_LIMIT_MS (its delivery came later than
 * the proof allows for).
 */
function deliveryMetrics(args: {
  readonly logGroupName: string;
  readonly filterName: string;
  readonly functionName: string;
}): DeliveryMetric[] {
  // AWS's metric lists name two dimension sets for these (the group alone; the group, the destination
  // type and the filter): both are read, and a failure counted in either is one. Per group counts
  // every filter's failures (another subscription's too), which can only err towards none being proven.
  const group = [{ Name: 'LogGroupName', Value: args.logGroupName }];
  const filter = [
    ...group,
    { Name: 'DestinationType', Value: 'Lambda' },
    { Name: 'FilterName', Value: args.filterName },
  ];
  const lambda = [{ Name: 'FunctionName', Value: args.functionName }];
  const count = (id: string, namespace: string, name: string, dimensions: DeliveryMetric['dimensions']) =>
    ({ id, namespace, name, dimensions, stat: 'Sum', above: 0 }) as const;
  return [
    count('groupErrors', 'AWS/Logs', 'DeliveryErrors', group),
    count('groupThrottling', 'AWS/Logs', 'DeliveryThrottling', group),
    count('filterErrors', 'AWS/Logs', 'DeliveryErrors', filter),
    count('filterThrottling', 'AWS/Logs', 'DeliveryThrottling', filter),
    count('errors', 'AWS/Lambda', 'Errors', lambda),
    count('throttles', 'AWS/Lambda', 'Throttles', lambda),
    count('dropped', 'AWS/Lambda', 'AsyncEventsDropped', lambda),
    {
      id: 'age',
      namespace: 'AWS/Lambda',
      name: 'AsyncEventAge',
      dimensions: lambda,
      stat: 'Maximum',
      above: ASYNC_EVENT_AGE_LIMIT_MS,
    },
  ];
}

function queryOf(metric: DeliveryMetric): MetricDataQuery {
  return {
    Id: metric.id,
    Label: `${metric.namespace} ${metric.name}`,
    MetricStat: {
      Metric: { Namespace: metric.namespace, MetricName: metric.name, Dimensions: metric.dimensions },
      Period: DELIVERY_METRIC_PERIOD_SECONDS,
      Stat: metric.stat,
    },
    ReturnData: true,
  };
}

/** Every data point of the delivery metrics from `start` to `end` above its metric's limit. */
export async function deliveryIncidents(args: {
  readonly logGroupName: string;
  readonly filterName: string;
  readonly functionName: string;
  readonly start: Date;
  readonly end: Date;
}): Promise<DeliveryIncident[]> {
  const incidents: DeliveryIncident[] = [];
  if (args.end.getTime() <= args.start.getTime()) {
    return incidents;
  }
  const metrics = deliveryMetrics(args);
  const queries = metrics.map(queryOf);
  const limitOf = new Map(metrics.map((metric) => [metric.id, metric.above]));
  let nextToken: string | undefined;
  do {
    const page = await cloudWatchClient().send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: args.start,
        EndTime: args.end,
        NextToken: nextToken,
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const metric = result.Label ?? result.Id ?? 'unknown metric';
      // Anything but Complete may be missing data points: not a proof of none.
      if (result.StatusCode !== 'Complete' && result.StatusCode !== 'PartialData') {
        throw new DeliveryMetricsUnreadableError(
          `GetMetricData answered ${result.StatusCode ?? 'no status'} for ${metric}: the deliveries cannot be proven.`,
        );
      }
      const times = result.Timestamps ?? [];
      for (const [i, value] of (result.Values ?? []).entries()) {
        const at = times[i];
        if (at && value > (limitOf.get(result.Id ?? '') ?? 0))
          incidents.push({ metric, at: new Date(at), value });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return incidents;
}
