import type { HoldRecord } from '../contracts/hold-registry.js';
import type { Sightings, SweptHold } from '../contracts/sweep.js';
import { type CloudTrailRecord, isOwnCall, recordConcernsKey } from './cloudtrail.js';
import { SweepBehindError } from './errors.js';
import { DAY_MS } from './time.js';

/**
 * The sweep: one search of the CloudTrail log group per interval serves every held key. Its window
 * reaches back to the start of the oldest live hold, so each hold's records are the whole hold's,
 * read again every interval: a record delivered later than the ingestion lag is found by the next
 * sweep, however late, and every check stands on a search as complete as a decision's. What one
 * sweep costs grows with the trail's records and the longest hold, not with how many keys are held.
 * Pure: the reading and writing live in lambdas/sweep/ and lambdas/aws/sweep-registry.ts.
 */

/** Records of callers other than the workflow kept per hold: any one of them ends the watch. */
export const MAX_SIGHTED_EVIDENCE = 50;

/** The workflow's own records (its canaries) kept per hold, newest first: the checks prove recent ones. */
export const MAX_SIGHTED_OWN = 100;

/**
 * The sweep asks for a page at most every 500 ms: never more than 2 requests in any second, under
 * half of the default FilterLogEvents quota of 5 a second per account and Region, so the rest stays
 * for everyone else who searches the account's logs (and the CLI's own searches).
 */
export const SWEEP_MIN_PAGE_MS = 500;
/** How long a sightings item outlives its last sweep (DynamoDB's time to live deletes it after). */
export const SIGHTINGS_TTL_MS = 45 * DAY_MS;

/** The key ID of a key ARN (`…:key/<id>`), or the ARN itself when it has no key part. */
function keyIdOf(keyArn: string): string {
  const match = /:key\/(.+)$/.exec(keyArn);
  return match?.[1] ?? keyArn;
}

/**
 * What the sweep searches for a hold: null once the hold has ended (nothing left to watch). The
 * search starts the ingestion lag before the disable, as a decision's does.
 */
export function sweptHoldOf(hold: HoldRecord, lagSeconds: number): SweptHold | null {
  if (hold.phase === 'ended') {
    return null;
  }
  return {
    keyArn: hold.keyArn,
    keyId: hold.keyId ?? keyIdOf(hold.keyArn),
    aliases: hold.aliases ?? [],
    executionArn: hold.executionArn,
    from: new Date(Date.parse(hold.disabledAt) - lagSeconds * 1000).toISOString(),
  };
}

/** One sweep's window: from the start of its oldest hold to `now`. Null without holds. */
export function sweepWindowOf(holds: readonly SweptHold[], now: Date): { start: Date; end: Date } | null {
  if (holds.length === 0) {
    return null;
  }
  const start = Math.min(...holds.map((h) => Date.parse(h.from)));
  return { start: new Date(Math.min(start, now.getTime())), end: now };
}

/** One hold's sightings, as the sweep stores them (Sightings) less the item's key and expiry. */
export interface HoldSightings {
  readonly holdKeyArn: string;
  readonly executionArn: string;
  readonly searchedFrom: string;
  readonly sweptTo: string;
  readonly records: CloudTrailRecord[];
  readonly ingestedAt: Record<string, number>;
  readonly dropped: number;
}

/**
 * The sightings of one hold from a complete sweep's records: those that concern the key, from the
 * hold's start, oldest first. The workflow's own records are kept newest first up to MAX_SIGHTED_OWN
 * (a check proves only canaries made since the previous one); other callers' up to
 * MAX_SIGHTED_EVIDENCE (the rest are counted in `dropped`; one is enough to end the watch).
 */
export function sightingsOf(args: {
  readonly hold: SweptHold;
  readonly records: readonly CloudTrailRecord[];
  readonly ingestedAt: ReadonlyMap<string, number>;
  readonly sweptTo: Date;
  readonly workflowPrincipalArns: readonly string[];
}): HoldSightings {
  const { hold } = args;
  const from = Date.parse(hold.from);
  const key = { keyId: hold.keyId, keyArn: hold.keyArn, aliases: hold.aliases };
  const mine = args.records
    .filter((r) => recordConcernsKey(r, key) && !(Date.parse(r.eventTime) < from))
    .sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime));
  const own = mine.filter((r) => isOwnCall(r, args.workflowPrincipalArns));
  const others = mine.filter((r) => !isOwnCall(r, args.workflowPrincipalArns));
  const keptOwn = own.slice(Math.max(0, own.length - MAX_SIGHTED_OWN));
  const keptOthers = others.slice(0, MAX_SIGHTED_EVIDENCE);
  const kept = [...keptOwn, ...keptOthers].sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime));
  const ingestedAt: Record<string, number> = {};
  for (const record of kept) {
    const at = args.ingestedAt.get(record.eventID);
    if (at !== undefined) ingestedAt[record.eventID] = at;
  }
  return {
    holdKeyArn: hold.keyArn,
    executionArn: hold.executionArn,
    searchedFrom: hold.from,
    sweptTo: args.sweptTo.toISOString(),
    records: kept,
    ingestedAt,
    dropped: others.length - keptOthers.length,
  };
}

/** What a check reads from its hold's sightings: as a search of its window would have answered. */
export interface SweptRecords {
  readonly records: CloudTrailRecord[];
  readonly ingestedAt: ReadonlyMap<string, number>;
  /** Where the sweep's search of this hold started, and where it ended (the check stands as of then). */
  readonly searchedFrom: Date;
  readonly searchedTo: Date;
  /**
   * From the log group's subscription (lambdas/domain/stream.ts): every delivered record is there,
   * even past `searchedTo`, and a last look needs no search of its own once the proof reaches its time.
   */
  readonly subscription: boolean;
}

/**
 * A check's records from the sweep: those of its window up to the sweep's end. Throws
 * SweepBehindError when there are none of this execution's hold, when the sweep ended more than
 * `maxAgeMs` ago (it has stopped or fell behind): either would let quiet stand for a search that
 * never happened.
 */
export function sweptRecordsFor(args: {
  readonly sightings: Sightings | null;
  readonly executionArn: string;
  readonly keyArn: string;
  readonly window: { readonly start: Date; readonly end: Date };
  readonly now: Date;
  readonly maxAgeMs: number;
}): SweptRecords {
  const { sightings, window } = args;
  if (
    sightings === null ||
    sightings.executionArn !== args.executionArn ||
    sightings.holdKeyArn !== args.keyArn
  ) {
    throw new SweepBehindError(
      `No sweep has searched for this execution's hold of ${args.keyArn} yet${
        sightings === null ? '' : ` (the sightings are of ${sightings.executionArn})`
      }: nothing shows the key's failed calls were searched for.`,
    );
  }
  const sweptTo = new Date(sightings.sweptTo);
  const age = args.now.getTime() - sweptTo.getTime();
  if (age > args.maxAgeMs) {
    throw new SweepBehindError(
      `The last sweep of ${args.keyArn} ended at ${sightings.sweptTo}, ${Math.round(age / 60_000)} minutes ago, ` +
        `more than the ${Math.round(args.maxAgeMs / 60_000)} minutes a sweep may take: the sweep has stopped or fell behind.`,
    );
  }
  // Where the sweep could see from (the log group's creation or retention may come after the hold's
  // start): the check compares it with its cursor, as with a search of its own.
  const searchedFrom = new Date(sightings.searchedFrom);
  const start = window.start.getTime();
  const end = Math.min(window.end.getTime(), sweptTo.getTime());
  const records = sightings.records.filter((r) => {
    const at = Date.parse(r.eventTime);
    // An unreadable time is kept: dropping it could hide a failed call.
    return Number.isNaN(at) || (at >= start && at <= end);
  });
  return {
    records,
    ingestedAt: new Map(Object.entries(sightings.ingestedAt)),
    searchedFrom,
    searchedTo: new Date(end),
    subscription: false,
  };
}
