import { deliveryIncidents, describeSubscription } from '../aws/delivery-health.js';
import { readEnvironment } from '../aws/environment.js';
import { createLogger } from '../aws/logger.js';
import { readSweepState, writeSweepState } from '../aws/sweep-registry.js';
import { deliveryProofEnvironment } from '../contracts/environment.js';
import { SWEEP_STATE_KEY, type SweepState } from '../contracts/sweep.js';
import { SubscriptionBrokenError } from '../domain/errors.js';
import { FAILED_CALLS_PATTERN } from '../domain/filter-pattern.js';
import { METRICS_DELAY_MS, metricsWindowOf, nextStreamProof } from '../domain/stream.js';

const logger = createLogger('delivery-proof');

export type DeliveryProofOutcome =
  | {
      readonly outcome: 'PROVEN';
      /** Where the proof stands, and from when no delivery can have been lost. */
      readonly provenThrough: string;
      readonly streamSince: string;
      readonly incidents: number;
    }
  /** Another proof wrote the state in between: this one's is left to it. */
  | { readonly outcome: 'SUPERSEDED' };

/**
 * Proves, every few minutes, that the log group's subscription lost no delivery
 * (lambdas/domain/stream.ts): the filter is still the stack's, and no metric counts a delivery that
 * failed, was throttled or dropped since the previous proof. It keeps the result in the sweep's
 * state item, where the checks read it. A broken subscription is written down first (no hold stands
 * on it any more) and then fails the invocation, which raises the stack's alarm.
 */
export async function handler(_event: unknown): Promise<DeliveryProofOutcome> {
  const settings = readEnvironment(deliveryProofEnvironment);
  const now = new Date();
  const seen = await readSweepState();
  const filter = await describeSubscription(settings.logGroupName, settings.filterName);
  // The metrics are read to where CloudWatch has published them; the proof stands further back (STREAM_SETTLE_MS).
  const end = new Date(now.getTime() - METRICS_DELAY_MS);
  const window = filter ? metricsWindowOf(seen, filter, end) : { start: end, end };
  const incidents = filter
    ? await deliveryIncidents({
        logGroupName: settings.logGroupName,
        filterName: settings.filterName,
        functionName: settings.deliveriesFunctionName,
        start: window.start,
        end: window.end,
      })
    : [];
  const proof = nextStreamProof({
    previous: seen,
    filter,
    expected: { filterPattern: FAILED_CALLS_PATTERN, destinationArn: settings.deliveriesFunctionArn },
    incidents,
    metricsFrom: window.start,
    now,
  });
  const next: SweepState = {
    keyArn: SWEEP_STATE_KEY,
    version: (seen?.version ?? 0) + 1,
    sweptTo: proof.provenThrough.toISOString(),
    streamSince: proof.streamSince?.toISOString() ?? null,
    running: null,
    last: seen?.last ?? null,
    updatedAt: now.toISOString(),
  };
  if ((await writeSweepState(seen, next)) === 'CONFLICT') {
    return { outcome: 'SUPERSEDED' };
  }
  if (proof.broken !== null) {
    logger.error('deliveries of the subscription may be lost', {
      broken: proof.broken,
      streamSince: next.streamSince,
    });
  }
  if (proof.streamSince === null) {
    throw new SubscriptionBrokenError(
      `Log group ${settings.logGroupName}'s subscription ${settings.filterName} is not the stack's: ${proof.broken ?? 'broken'}. ` +
        'No hold stands on its deliveries until it is whole again (redeploy the stack).',
    );
  }
  const outcome = {
    outcome: 'PROVEN' as const,
    provenThrough: next.sweptTo as string,
    streamSince: proof.streamSince.toISOString(),
    incidents: incidents.length,
  };
  logger.info('deliveries proven', outcome);
  return outcome;
}
