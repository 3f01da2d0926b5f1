import {
  type CanaryProof,
  type CanaryProofContext,
  canarySearchStart,
  dueCanaries,
  proveCanaries,
} from '../domain/canary.js';
import type { KeyRef } from '../domain/cloudtrail.js';
import type { Canary } from '../domain/types.js';
import { homeRegion } from './clients.js';
import { findRecords } from './cloudtrail-source.js';

export interface CanaryCheck extends Omit<CanaryProofContext, 'keyArn'> {
  readonly key: KeyRef;
  readonly canaries: readonly Canary[];
}

/**
 * Requires the records of every canary older than the ingestion lag to be in the source; throws
 * EventSourceBlindError for a missing one. Searches only when a canary is due.
 */
export async function proveEarlierCanaries(check: CanaryCheck): Promise<CanaryProof> {
  const due = dueCanaries(check.canaries, check.now, check.lagSeconds);
  const ctx: CanaryProofContext = { ...check, keyArn: check.key.keyArn };
  if (due.length === 0) {
    return proveCanaries(check.canaries, [], ctx);
  }
  const found = await findRecords({
    logGroupName: check.logGroupName,
    region: homeRegion(),
    key: check.key,
    start: canarySearchStart(due),
    end: check.now,
    kind: 'CANARY',
    requestIds: due.map((c) => c.requestId),
    principalArns: check.workflowPrincipalArns,
    now: check.now,
  });
  return proveCanaries(check.canaries, found.records, { ...ctx, ingestedAt: found.ingestedAt });
}
