import { AwsError } from './errors.js';

/**
 * The CloudWatch metrics of the emulated account: what the services publish about themselves (Lambda's
 * `AWS/Lambda` invocation metrics, CloudWatch Logs' `AWS/Logs` subscription delivery metrics), and
 * `GetMetricData` to read them back.
 *
 * What CloudWatch documents, and this models:
 * - A metric is its namespace, name and exact set of dimensions: a query names one such metric, and a
 *   query with a different set of dimensions (one more, one fewer) is another metric, which holds
 *   nothing unless something published it.
 * - `GetMetricData` aggregates the data points of each period (Stat `Sum` here) and returns only the
 *   periods that hold data; StartTime is inclusive, EndTime exclusive. A StartTime less than 15 days
 *   ago is rounded down to the whole minute, between 15 and 63 days to 5 minutes, older to the hour.
 *   A StartTime more than 3 hours ago needs a Period that is a multiple of 60 s, more than 15 days
 *   ago a multiple of 300 s, more than 63 days ago a multiple of 3600 s: otherwise no data points are
 *   returned. One-minute data is kept 15 days, five-minute data 63 days, hourly data 455 days.
 * - A service's data point is not readable the instant it happens: the emulator shows it
 *   `PUBLICATION_DELAY_MS` later (AWS documents no figure; metrics of AWS services typically arrive
 *   within a few minutes, so a reader that trusts the latest minute is wrong here as there).
 * - At most 500 queries a call; each `Id` unique, a lowercase letter then letters, digits or `_`.
 */

/** How long after its instant a data point becomes readable. */
export const PUBLICATION_DELAY_MS = 2 * 60_000;

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MAX_QUERIES = 500;
/** At most this many data points a GetMetricData page returns (the API reference's 100,800). */
const MAX_DATAPOINTS = 100_800;
/** The statistics the emulator aggregates; the others are refused rather than guessed. */
const STATS = new Set(['Sum', 'SampleCount', 'Maximum', 'Minimum', 'Average']);

export type Dimensions = Readonly<Record<string, string>>;

interface DataPoint {
  readonly at: number;
  readonly value: number;
}

/** A metric's identity: namespace, name and its dimensions sorted by name. */
function metricKey(namespace: string, name: string, dimensions: Dimensions): string {
  const dims = Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([namespace, name, dims]);
}

/**
 * The errors CloudWatch sends over its JSON protocol: the shape in `__type` and, because the service
 * keeps its Query protocol's error codes, the code in `x-amzn-query-error`.
 */
export class CloudWatchError extends AwsError {
  constructor(
    type: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(type, message, 400);
  }
}

/** A constraint on a parameter failed (the Query code `ValidationError`). */
function validation(message: string): CloudWatchError {
  return new CloudWatchError('com.amazon.coral.validate#ValidationException', 'ValidationError', message);
}

function invalidValue(message: string): CloudWatchError {
  return new CloudWatchError(
    'com.amazonaws.cloudwatch#InvalidParameterValueException',
    'InvalidParameterValue',
    message,
  );
}

function missing(message: string): CloudWatchError {
  return new CloudWatchError(
    'com.amazonaws.cloudwatch#MissingRequiredParameterException',
    'MissingParameter',
    message,
  );
}

/** A timestamp of the JSON protocol: epoch seconds (a number), or an ISO text some clients send. */
function timeOf(value: unknown, name: string): number {
  if (value === undefined || value === null) throw missing(`The parameter ${name} is required.`);
  const ms =
    typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidValue(`The parameter ${name} must be a timestamp.`);
  return ms;
}

interface MetricQuery {
  readonly id: string;
  readonly label: string | undefined;
  readonly returnData: boolean;
  readonly key: string;
  readonly metricName: string;
  readonly periodMs: number;
  readonly stat: string;
}

function parseQuery(raw: unknown, i: number, ids: Set<string>): MetricQuery {
  const at = `MetricDataQueries.member.${i + 1}`;
  if (typeof raw !== 'object' || raw === null) throw validation(`The parameter ${at} is invalid.`);
  const q = raw as Record<string, unknown>;
  const id = q.Id;
  if (typeof id !== 'string') throw missing(`The parameter ${at}.Id is required.`);
  if (!/^[a-z][a-zA-Z0-9_]*$/.test(id) || id.length > 255) {
    throw validation(`The value ${id} for parameter ${at}.Id is invalid.`);
  }
  if (ids.has(id)) throw validation(`The value ${id} for parameter ${at}.Id is duplicated.`);
  ids.add(id);
  if (q.Expression !== undefined) {
    // Metric math and Metrics Insights are not emulated: refused rather than answered wrongly.
    throw validation(`The parameter ${at}.Expression is not supported by the emulated CloudWatch.`);
  }
  const stat = q.MetricStat as Record<string, unknown> | undefined;
  if (!stat) throw validation(`Exactly one of ${at}.MetricStat and ${at}.Expression must be set.`);
  const metric = stat.Metric as Record<string, unknown> | undefined;
  const namespace = metric?.Namespace;
  const metricName = metric?.MetricName;
  if (typeof namespace !== 'string' || typeof metricName !== 'string') {
    throw missing(`The parameters ${at}.MetricStat.Metric.Namespace and MetricName are required.`);
  }
  const dimensions: Record<string, string> = {};
  for (const [j, dimension] of ((metric?.Dimensions as unknown[] | undefined) ?? []).entries()) {
    const d = dimension as { Name?: unknown; Value?: unknown };
    if (typeof d.Name !== 'string' || typeof d.Value !== 'string') {
      throw missing(`The parameter ${at}.MetricStat.Metric.Dimensions.member.${j + 1} needs Name and Value.`);
    }
    dimensions[d.Name] = d.Value;
  }
  const period = stat.Period;
  if (typeof period !== 'number' || !Number.isInteger(period) || period < 1) {
    throw validation(`The parameter ${at}.MetricStat.Period must be a positive integer.`);
  }
  if (period < 60 ? ![1, 5, 10, 20, 30].includes(period) : period % 60 !== 0) {
    throw validation(
      `The parameter ${at}.MetricStat.Period must be 1, 5, 10, 20, 30, or a multiple of 60 seconds.`,
    );
  }
  const statName = stat.Stat;
  if (typeof statName !== 'string') throw missing(`The parameter ${at}.MetricStat.Stat is required.`);
  if (!STATS.has(statName)) {
    throw validation(`The value ${statName} for parameter ${at}.MetricStat.Stat is not emulated.`);
  }
  return {
    id,
    label: typeof q.Label === 'string' ? q.Label : undefined,
    returnData: q.ReturnData !== false,
    key: metricKey(namespace, metricName, dimensions),
    metricName,
    periodMs: period * 1000,
    stat: statName,
  };
}

function aggregate(values: readonly number[], stat: string): number {
  switch (stat) {
    case 'SampleCount':
      return values.length;
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    default:
      return values.reduce((a, b) => a + b, 0);
  }
}

/** The StartTime CloudWatch uses: rounded down by how long ago it is. */
function roundedStart(startMs: number, nowMs: number, periodMs: number): number {
  const age = nowMs - startMs;
  const unit = age < 15 * DAY_MS ? MINUTE_MS : age < 63 * DAY_MS ? 5 * MINUTE_MS : 60 * MINUTE_MS;
  const rounded = Math.floor(startMs / unit) * unit;
  // A high-resolution period rounds to its own division of the minute instead.
  return periodMs < MINUTE_MS ? Math.floor(startMs / periodMs) * periodMs : rounded;
}

/** Whether a period may read data that old (false: CloudWatch returns no data points). */
function periodServes(startMs: number, nowMs: number, periodMs: number): boolean {
  const age = nowMs - startMs;
  if (age > 63 * DAY_MS) return periodMs % 3_600_000 === 0;
  if (age > 15 * DAY_MS) return periodMs % 300_000 === 0;
  if (age > 3 * 60 * MINUTE_MS) return periodMs % MINUTE_MS === 0;
  return true;
}

/** How long data points of a period's resolution are kept. */
function kept(periodMs: number): number {
  if (periodMs % 3_600_000 === 0) return 455 * DAY_MS;
  if (periodMs % 300_000 === 0) return 63 * DAY_MS;
  // Only custom high-resolution metrics have data below a minute; the services publish per minute.
  return 15 * DAY_MS;
}

interface PageToken {
  /** Index of the query and of the data point within it where the next page starts. */
  readonly q: number;
  readonly p: number;
  /** A fingerprint of the request the token belongs to. */
  readonly r: string;
}

export interface CloudWatchStats {
  getMetricDataCalls: number;
}

export class CloudWatchMetrics {
  private readonly points = new Map<string, DataPoint[]>();
  readonly stats: CloudWatchStats = { getMetricDataCalls: 0 };

  /** A service publishes `value` for the metric at `atMs` (CloudWatch keeps whole seconds). */
  record(namespace: string, name: string, dimensions: Dimensions, atMs: number, value: number): void {
    const key = metricKey(namespace, name, dimensions);
    let list = this.points.get(key);
    if (!list) {
      list = [];
      this.points.set(key, list);
    }
    list.push({ at: Math.floor(atMs / 1000) * 1000, value });
  }

  /** The sum a query of the store would see now for [fromMs, toMs), whatever the delay (for tests and reports). */
  total(
    namespace: string,
    name: string,
    dimensions: Dimensions,
    fromMs = -Infinity,
    toMs = Infinity,
  ): number {
    return (this.points.get(metricKey(namespace, name, dimensions)) ?? [])
      .filter((p) => p.at >= fromMs && p.at < toMs)
      .reduce((sum, p) => sum + p.value, 0);
  }

  getMetricData(request: Record<string, unknown>, now: Date): Record<string, unknown> {
    this.stats.getMetricDataCalls += 1;
    const nowMs = now.getTime();
    const rawQueries = request.MetricDataQueries;
    if (!Array.isArray(rawQueries) || rawQueries.length === 0) {
      throw missing('The parameter MetricDataQueries is required.');
    }
    if (rawQueries.length > MAX_QUERIES) {
      throw validation(
        `1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_QUERIES}`,
      );
    }
    const startMs = timeOf(request.StartTime, 'StartTime');
    const endMs = timeOf(request.EndTime, 'EndTime');
    if (startMs === endMs) throw validation('The parameter StartTime must not equal parameter EndTime.');
    if (startMs > endMs) throw validation('The parameter StartTime must be less than the parameter EndTime.');
    const scanBy = request.ScanBy ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') {
      throw validation(`The value ${String(scanBy)} for parameter ScanBy is invalid.`);
    }
    const maxDatapoints = request.MaxDatapoints ?? MAX_DATAPOINTS;
    if (typeof maxDatapoints !== 'number' || !Number.isInteger(maxDatapoints) || maxDatapoints < 1) {
      throw validation('The parameter MaxDatapoints must be a positive integer.');
    }
    const ids = new Set<string>();
    const queries = rawQueries.map((raw, i) => parseQuery(raw, i, ids));
    if (!queries.some((q) => q.returnData)) {
      throw validation('At least one of the MetricDataQueries must have ReturnData set to true.');
    }
    const fingerprint = JSON.stringify([rawQueries, request.StartTime, request.EndTime, scanBy]);
    const series = queries
      .filter((q) => q.returnData)
      .map((q) => ({
        query: q,
        points: this.series(q, startMs, endMs, nowMs, scanBy === 'TimestampAscending'),
      }));

    let position = { q: 0, p: 0 };
    if (request.NextToken !== undefined) {
      const token = decodeToken(request.NextToken, fingerprint);
      position = { q: token.q, p: token.p };
    }
    let budget = Math.min(maxDatapoints, MAX_DATAPOINTS);
    let next: PageToken | undefined;
    const results = series.map(({ query, points }, qi) => {
      let from = qi < position.q ? points.length : qi === position.q ? position.p : 0;
      from = Math.min(from, points.length);
      const take = Math.max(0, Math.min(points.length - from, budget));
      budget -= take;
      const more = from + take < points.length;
      if (next === undefined && more) {
        next = { q: qi, p: from + take, r: fingerprint };
      }
      const page = points.slice(from, from + take);
      return {
        Id: query.id,
        Label: query.label ?? query.metricName,
        Timestamps: page.map(([t]) => t / 1000),
        Values: page.map(([, v]) => v),
        StatusCode: more ? 'PartialData' : 'Complete',
      };
    });
    return {
      MetricDataResults: results,
      Messages: [],
      ...(next ? { NextToken: Buffer.from(JSON.stringify(next)).toString('base64url') } : {}),
    };
  }

  /** The query's [period start, value] pairs with data, in the order asked. */
  private series(
    query: MetricQuery,
    startMs: number,
    endMs: number,
    nowMs: number,
    ascending: boolean,
  ): [number, number][] {
    const start = roundedStart(startMs, nowMs, query.periodMs);
    if (!periodServes(startMs, nowMs, query.periodMs)) return [];
    const oldest = nowMs - kept(query.periodMs);
    const buckets = new Map<number, number[]>();
    for (const point of this.points.get(query.key) ?? []) {
      if (point.at < start || point.at >= endMs || point.at < oldest) continue;
      if (point.at + PUBLICATION_DELAY_MS > nowMs) continue;
      const bucket = start + Math.floor((point.at - start) / query.periodMs) * query.periodMs;
      const values = buckets.get(bucket);
      if (values) values.push(point.value);
      else buckets.set(bucket, [point.value]);
    }
    const pairs: [number, number][] = [...buckets.entries()].map(([t, values]) => [
      t,
      aggregate(values, query.stat),
    ]);
    pairs.sort(([a], [b]) => (ascending ? a - b : b - a));
    return pairs;
  }
}

function decodeToken(value: unknown, fingerprint: string): PageToken {
  if (typeof value === 'string') {
    try {
      const token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<PageToken>;
      if (typeof token.q === 'number' && typeof token.p === 'number' && token.r === fingerprint) {
        return { q: token.q, p: token.p, r: token.r };
      }
    } catch {
      // Falls through to the error CloudWatch gives a token it did not issue for this request.
    }
  }
  throw new CloudWatchError(
    'com.amazonaws.cloudwatch#InvalidNextToken',
    'InvalidNextToken',
    'The service returned an invalid next token.',
  );
}
