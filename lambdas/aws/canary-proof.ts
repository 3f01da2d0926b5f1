import {
  type CanaryProof,
  type CanaryProofContext,
  canarySearchStart,
  dueCanaries,
  proveCanaries,
} from '../domain/canary.js';
import type { CloudTrailRecord, KeyRef } from '../domain/cloudtrail.js';
import type { Canary } from '../domain/types.js';
import { homeRegion } from './clients.js';
import { findRecords } from './cloudtrail-source.js';

export interface CanaryCheck extends Omit<CanaryProofContext, 'keyArn'> {
  readonly key: KeyRef;
  readonly canaries: readonly Canary[];
  /**
   * What the check's own breakage search already read, from `since`: the canaries' failures are
   * breakage-shaped records of this key, so when that window covers every due canary no second
   * search is needed (one FilterLogEvents per check instead of two).
   */
  readonly searched?: {
    readonly since: Date;
    readonly records: readonly CloudTrailRecord[];
    readonly ingestedAt: ReadonlyMap<string, number>;
  };
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
  const searched = check.searched;
  if (searched && canarySearchStart(due).getTime() >= searched.since.getTime()) {
    return proveCanaries(check.canaries, searched.records, { ...ctx, ingestedAt: searched.ingestedAt });
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
