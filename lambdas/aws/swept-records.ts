import { checkSweepEnvironment } from '../contracts/environment.js';
import { type SweptRecords, sweptRecordsFor } from '../domain/sweep.js';
import { readEnvironment } from './environment.js';
import { readSightings } from './hold-reader.js';

/**
 * Where a stack with a sweep (lambdas/sweep/) reads a hold's records instead of searching the log
 * group itself: the sweep's sightings of the hold, checked for being this execution's and recent.
 */

/**
 * The hold's records in `window` up to the sweep's end, or null when the stack has no sweep (the
 * caller searches). Throws SweepBehindError when the sweep has not searched for this execution's hold
 * recently enough, and HoldRecordUnreadableError for sightings the stack did not write.
 */
export async function readSweptRecords(args: {
  readonly keyArn: string;
  readonly executionArn: string;
  readonly window: { readonly start: Date; readonly end: Date };
  readonly now: Date;
}): Promise<SweptRecords | null> {
  const { sweepMaxAgeMs } = readEnvironment(checkSweepEnvironment);
  if (sweepMaxAgeMs === null) {
    return null;
  }
  return sweptRecordsFor({ ...args, sightings: await readSightings(args.keyArn), maxAgeMs: sweepMaxAgeMs });
}
