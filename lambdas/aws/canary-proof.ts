import {
  type CanaryProof,
  type CanaryProofContext,
  canarySearchStart,
  dueCanaries,
  proveCanaries,
} from '../domain/canary.js';
import type { CloudTrailRecord, KeyRef } from '../domain/cloudtrail.js';
import { SearchIncompleteError } from '../domain/errors.js';
import type { SearchResume } from '../domain/search-resume.js';
import type { Canary } from '../domain/types.js';
import { homeRegion } from './clients.js';
import { type RecordQuery, type SearchBound, searchRecords } from './cloudtrail-source.js';

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

/** A canary proof whose search may need more invocations (ScheduleDeletion's, across the approval wait). */
export type CanaryProofSearch =
  | { readonly complete: true; readonly proof: CanaryProof }
  | { readonly complete: false; readonly resume: SearchResume };

function canaryQuery(check: CanaryCheck, due: readonly Canary[]): RecordQuery {
  return {
    logGroupName: check.logGroupName,
    region: homeRegion(),
    key: check.key,
    start: canarySearchStart(due),
    end: check.now,
    kind: 'CANARY',
    requestIds: due.map((c) => c.requestId),
    principalArns: check.workflowPrincipalArns,
    now: check.now,
  };
}

/**
 * Requires the records of every canary older than the ingestion lag to be in the source; throws
 * EventSourceBlindError for a missing one. Searches only when a canary is due, within `bound`: a
 * search that runs out of the invocation's time answers incomplete with where it stopped, and the
 * proof is made only once the search is complete, by the invocation given that resume.
 */
export async function searchCanaryProof(
  check: CanaryCheck,
  bound: SearchBound | null,
  resume?: SearchResume | null,
): Promise<CanaryProofSearch> {
  const due = dueCanaries(check.canaries, check.now, check.lagSeconds);
  const ctx: CanaryProofContext = { ...check, keyArn: check.key.keyArn };
  if (due.length === 0) {
    return { complete: true, proof: proveCanaries(check.canaries, [], ctx) };
  }
  const searched = check.searched;
  if (searched && canarySearchStart(due).getTime() >= searched.since.getTime()) {
    return {
      complete: true,
      proof: proveCanaries(check.canaries, searched.records, { ...ctx, ingestedAt: searched.ingestedAt }),
    };
  }
  const found = await searchRecords(canaryQuery(check, due), bound, resume);
  if (!found.complete) {
    return found;
  }
  const { records, ingestedAt } = found.result;
  return { complete: true, proof: proveCanaries(check.canaries, records, { ...ctx, ingestedAt }) };
}

/**
 * The same proof within one invocation: a search that would need another throws
 * SearchIncompleteError (the check's own window normally covers every due canary, so none is needed).
 */
export async function proveEarlierCanaries(
  check: CanaryCheck,
  bound: SearchBound | null = null,
): Promise<CanaryProof> {
  const due = dueCanaries(check.canaries, check.now, check.lagSeconds);
  const search = await searchCanaryProof(check, bound);
  if (!search.complete) {
    throw new SearchIncompleteError(
      `The search for ${due.length} canary records of ${check.key.keyArn} in log group ${check.logGroupName} ` +
        "ran out of its invocation's time before its last page; the source's sight is unproven.",
    );
  }
  return search.proof;
}
