import type { Sightings, SweepState, SweptHold } from '../contracts/sweep.js';
import type { CloudTrailRecord } from './cloudtrail.js';
import { SweepBehindError } from './errors.js';
import { type HoldSightings, type SweptRecords, sightingsOf } from './sweep.js';
import { MINUTE_MS } from './time.js';

/**
 * The sweep's second source: a subscription of the CloudTrail log group. CloudWatch Logs hands the
 * failed calls to a Lambda (lambdas/deliveries/) as it ingests them, so a record delivered days late
 * for its event time arrives like any other, and nothing is read twice to find it: what the watch
 * costs grows with the trail's failed calls, not with how long a hold lasts or how many keys are held.
 *
 * A push can be lost where a search cannot: CloudWatch Logs skips events while a destination refuses
 * them, gives up retrying after a day, and Lambda drops an asynchronous event after its retries. So a
 * quiet key proves nothing by itself; the proof (lambdas/delivery-proof/) reads, every few minutes,
 * the subscription itself and the metrics AWS publishes about every delivery that failed, was
 * throttled or dropped, and keeps one instant: `streamSince`, from when no delivery could have been
 * lost. A hold begun before it cannot stand on the stream: its checks fail (SweepBehindError) and the
 * key is restored. Pure: the reading and writing live in lambdas/aws/.
 */

/** How far behind the present the proof reads the metrics: CloudWatch publishes a minute's minutes later. */
export const METRICS_DELAY_MS = 10 * MINUTE_MS;

/**
 * How long after its ingestion an event's delivery is tried: CloudWatch Logs sends it "usually less
 * than three minutes" after ingesting it. An event ingested by then whose delivery failed has its
 * failure counted in metrics the proof reads.
 */
export const DELIVERY_ALLOWANCE_MS = 5 * MINUTE_MS;

/**
 * The longest an event may wait in the receiver's asynchronous queue (Lambda's `AsyncEventAge`)
 * within DELIVERY_ALLOWANCE_MS: what is left of it after CloudWatch Logs' three minutes.
 */
export const ASYNC_EVENT_AGE_LIMIT_MS = DELIVERY_ALLOWANCE_MS - 3 * MINUTE_MS;

/**
 * How far behind the present the proof stands: the metrics' delay, less the time a delivery may take
 * to be tried (an event ingested later than that may still be on its way, its failure not yet counted).
 */
export const STREAM_SETTLE_MS = METRICS_DELAY_MS + DELIVERY_ALLOWANCE_MS;

/** How often the proof runs (its schedule). */
export const PROOF_RATE_MS = 5 * MINUTE_MS;

/**
 * How far behind a decision the proof may stand: where one proof stands (STREAM_SETTLE_MS) and two
 * of its periods (one run may be missed). The stack adds it to the ingestion lag the workflow waits
 * (the subscription's own delay before its deliveries are proven), so a last look finds the proof
 * through the ingestion lag after the time it covers.
 */
export const STREAM_PROOF_LAG_MS = STREAM_SETTLE_MS + 2 * PROOF_RATE_MS;

/** The period of the metrics the proof reads (the finest CloudWatch keeps for 15 days). */
export const DELIVERY_METRIC_PERIOD_SECONDS = 60;

/** The most a proof reads back: CloudWatch keeps one-minute data points for 15 days. */
export const MAX_PROOF_SPAN_MS = 3 * 60 * MINUTE_MS;

/**
 * Where a proof reads the metrics from: where the previous one stopped (or the filter's creation, for
 * the first), at most MAX_PROOF_SPAN_MS back from `end`.
 */
export function metricsWindowOf(
  previous: Pick<SweepState, 'sweptTo'> | null,
  filter: SubscriptionSeen,
  end: Date,
): { start: Date; end: Date } {
  const from = previous?.sweptTo ? Date.parse(previous.sweptTo) : filter.creationTime.getTime();
  return { start: new Date(Math.max(from, end.getTime() - MAX_PROOF_SPAN_MS)), end };
}

/** A metric data point that says a delivery may be lost or late: its period's start and its sum. */
export interface DeliveryIncident {
  readonly metric: string;
  readonly at: Date;
  readonly value: number;
}

/** The subscription filter as DescribeSubscriptionFilters shows it, or null when it is gone. */
export interface SubscriptionSeen {
  readonly filterPattern: string;
  readonly destinationArn: string;
  readonly creationTime: Date;
}

/** What one proof concludes. */
export interface StreamProof {
  /** The proof stands up to here (the probe's time less STREAM_SETTLE_MS). */
  readonly provenThrough: Date;
  /** From when no delivery can have been lost; null while the subscription is not whole. */
  readonly streamSince: Date | null;
  /** Why `streamSince` moved or is null: for the logs and the alarm; null when nothing happened. */
  readonly broken: string | null;
}

/**
 * Moves the proof on to `now` less STREAM_SETTLE_MS, from what the previous proof kept, the filter as
 * it is now, and the incidents of the metrics since the previous proof. The filter must be the stack's
 * (its pattern, its destination); a filter created after `streamSince` was deleted and made again, and
 * what was ingested in between was never delivered. After the subscription was found broken, the
 * stream counts only from the proof that finds it whole again (`now`): when it was mended is unknown.
 */
export function nextStreamProof(args: {
  readonly previous: Pick<SweepState, 'sweptTo' | 'streamSince'> | null;
  readonly filter: SubscriptionSeen | null;
  readonly expected: { readonly filterPattern: string; readonly destinationArn: string };
  readonly incidents: readonly DeliveryIncident[];
  /** Where the metrics read start: nothing before it is proven. */
  readonly metricsFrom: Date;
  readonly now: Date;
}): StreamProof {
  const { previous, filter, expected, now } = args;
  const provenThrough = new Date(now.getTime() - STREAM_SETTLE_MS);
  if (filter === null) {
    return { provenThrough, streamSince: null, broken: 'the subscription filter is gone' };
  }
  if (filter.filterPattern !== expected.filterPattern || filter.destinationArn !== expected.destinationArn) {
    return {
      provenThrough,
      streamSince: null,
      broken:
        `the subscription filter was changed (pattern ${JSON.stringify(filter.filterPattern)}, ` +
        `destination ${filter.destinationArn})`,
    };
  }
  const wasBroken = previous !== null && previous.sweptTo !== null && (previous.streamSince ?? null) === null;
  let since =
    previous?.streamSince && !wasBroken
      ? Math.max(Date.parse(previous.streamSince), filter.creationTime.getTime())
      : wasBroken
        ? Math.max(now.getTime(), filter.creationTime.getTime())
        : filter.creationTime.getTime();
  const reasons: string[] = [];
  if (wasBroken) reasons.push('the subscription filter is whole again; deliveries count from now');
  if (previous?.streamSince && filter.creationTime.getTime() > Date.parse(previous.streamSince)) {
    reasons.push(`the subscription filter was made again at ${filter.creationTime.toISOString()}`);
  }
  // A proof reads the metrics from where the previous one stopped; one that could not reach back so
  // far (the first, or after a long stop) proves nothing before where it read.
  const needed = previous?.sweptTo ? Date.parse(previous.sweptTo) : filter.creationTime.getTime();
  if (args.metricsFrom.getTime() > needed && args.metricsFrom.getTime() > since) {
    since = args.metricsFrom.getTime();
    reasons.push(`the delivery metrics were read only from ${args.metricsFrom.toISOString()}`);
  }
  for (const incident of args.incidents) {
    if (incident.value <= 0) continue;
    // Whatever the period saw may be lost or still on its way: the stream counts from its end.
    const end = incident.at.getTime() + DELIVERY_METRIC_PERIOD_SECONDS * 1000;
    if (end > since) since = end;
    reasons.push(`${incident.metric} ${incident.value} at ${incident.at.toISOString()}`);
  }
  return {
    provenThrough,
    streamSince: new Date(since),
    broken: reasons.length === 0 ? null : reasons.join('; '),
  };
}

/**
 * A hold's sightings with the records of one delivery added: `current` when it is this execution's
 * (another execution's are replaced). What the subscription kept is the sightings' whole content, so
 * the caps of the sweep apply (sightingsOf); the delivery's time stands for the ingestion time, which
 * CloudWatch Logs does not send (ingestion came before it).
 */
export function withDelivered(args: {
  readonly current: Sightings | null;
  readonly hold: SweptHold;
  readonly records: readonly CloudTrailRecord[];
  readonly receivedAt: Date;
  readonly workflowPrincipalArns: readonly string[];
}): HoldSightings {
  const { hold } = args;
  const mine = args.current?.executionArn === hold.executionArn ? args.current : null;
  const byId = new Map((mine?.records ?? []).map((record) => [record.eventID, record]));
  const ingestedAt = new Map(Object.entries(mine?.ingestedAt ?? {}));
  for (const record of args.records) {
    byId.set(record.eventID, record);
    if (!ingestedAt.has(record.eventID)) ingestedAt.set(record.eventID, args.receivedAt.getTime());
  }
  const merged = sightingsOf({
    hold,
    records: [...byId.values()],
    ingestedAt,
    sweptTo: args.receivedAt,
    workflowPrincipalArns: args.workflowPrincipalArns,
  });
  return { ...merged, dropped: merged.dropped + (mine?.dropped ?? 0) };
}

/**
 * A check's records from the subscription: every failed call delivered for this execution's hold in
 * `window` (all of them, up to the window's end: a delivered record is evidence whatever the proof
 * says), standing as of the proof. Throws SweepBehindError when nothing proves the deliveries: no
 * proof yet, a proof older than `maxAgeMs` (it has stopped), or deliveries proven only since after the
 * hold began (a failed call on the key in between may never have arrived).
 */
export function streamRecordsFor(args: {
  readonly state: SweepState | null;
  readonly sightings: Sightings | null;
  readonly executionArn: string;
  readonly keyArn: string;
  readonly disabledAt: Date;
  readonly window: { readonly start: Date; readonly end: Date };
  readonly now: Date;
  readonly maxAgeMs: number;
}): SweptRecords {
  const { state, window } = args;
  if (state?.sweptTo == null) {
    throw new SweepBehindError(
      `Nothing has proven the log group's subscription yet: the failed calls on ${args.keyArn} it delivered cannot be trusted to be all.`,
    );
  }
  const provenThrough = new Date(state.sweptTo);
  const age = args.now.getTime() - provenThrough.getTime();
  if (age > args.maxAgeMs) {
    throw new SweepBehindError(
      `The subscription's deliveries were last proven up to ${state.sweptTo}, ${Math.round(age / 60_000)} minutes ago, ` +
        `more than the ${Math.round(args.maxAgeMs / 60_000)} minutes a proof may take: the proof has stopped.`,
    );
  }
  const since = state.streamSince ?? null;
  if (since === null || Date.parse(since) > args.disabledAt.getTime()) {
    throw new SweepBehindError(
      since === null
        ? `The log group's subscription is not whole (deliveries may be lost): the failed calls on ${args.keyArn} cannot be known.`
        : `The subscription's deliveries are proven only since ${since}, after this hold of ${args.keyArn} began at ` +
            `${args.disabledAt.toISOString()}: a failed call in between may never have arrived.`,
    );
  }
  const mine =
    args.sightings !== null &&
    args.sightings.executionArn === args.executionArn &&
    args.sightings.holdKeyArn === args.keyArn
      ? args.sightings
      : null;
  const start = window.start.getTime();
  const end = window.end.getTime();
  const records = (mine?.records ?? []).filter((record) => {
    const at = Date.parse(record.eventTime);
    // An unreadable time is kept: dropping it could hide a failed call.
    return Number.isNaN(at) || (at >= start && at <= end);
  });
  return {
    records,
    ingestedAt: new Map(Object.entries(mine?.ingestedAt ?? {})),
    searchedFrom: new Date(since),
    searchedTo: new Date(Math.min(end, provenThrough.getTime())),
    subscription: true,
  };
}
