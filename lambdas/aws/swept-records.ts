import { checkSweepEnvironment } from '../contracts/environment.js';
import { streamRecordsFor } from '../domain/stream.js';
import { type SweptRecords, sweptRecordsFor } from '../domain/sweep.js';
import { readEnvironment } from './environment.js';
import { readSightings, readSweepState } from './hold-reader.js';

/**
 * Where a stack with a sweep (lambdas/sweep/, or the log group's subscription: lambdas/deliveries/)
 * reads a hold's records instead of searching the log group itself: the hold's sightings, checked
 * for being this execution's and recent — or, from the subscription, proven whole since the hold began.
 */

/**
 * The hold's records in `window`, or null when the stack has no sweep (the caller searches). Throws
 * SweepBehindError when the sweep has not searched for this execution's hold recently enough (or the
 * subscription's deliveries are not proven over the hold), and HoldRecordUnreadableError for items
 * the stack did not write.
 */
export async function readSweptRecords(args: {
  readonly keyArn: string;
  readonly executionArn: string;
  /** When this execution disabled the key: where its hold begins. */
  readonly disabledAt: Date;
  readonly window: { readonly start: Date; readonly end: Date };
  readonly now: Date;
}): Promise<SweptRecords | null> {
  const { sweepMaxAgeMs, sweepSource } = readEnvironment(checkSweepEnvironment);
  if (sweepMaxAgeMs === null) {
    return null;
  }
  if (sweepSource === 'subscription') {
    const [state, sightings] = await Promise.all([readSweepState(), readSightings(args.keyArn)]);
    return streamRecordsFor({ ...args, state, sightings, maxAgeMs: sweepMaxAgeMs });
  }
  return sweptRecordsFor({ ...args, sightings: await readSightings(args.keyArn), maxAgeMs: sweepMaxAgeMs });
}
