import * as z from 'zod/mini';
import type { CloudTrailRecord } from '../domain/cloudtrail.js';

/**
 * The sweep's items in the hold registry (lib/constructs/hold-registry.ts), beside the holds. The
 * sweep searches the CloudTrail log group once per interval for every held key, and leaves each
 * hold's records in a sightings item where that hold's checks read them (lambdas/sweep/index.ts).
 *
 * Both kinds of item live under partition keys no key ARN can take (`sweep#…`, `sightings#…`), so
 * the holds stay one item per key ARN and the sweep's listing of holds skips them by prefix.
 */

/** The sweep's own progress: one item. */
export const SWEEP_STATE_KEY = 'sweep#state';

/** Where one hold's sightings are kept: one item per held key. */
export const SIGHTINGS_KEY_PREFIX = 'sightings#';

export function sightingsKeyOf(keyArn: string): string {
  return `${SIGHTINGS_KEY_PREFIX}${keyArn}`;
}

/**
 * Where a sweep split across invocations keeps what it found so far of one hold, until it is complete
 * (only the sweep reads these; a check reads sightings only).
 */
export const BUILDING_KEY_PREFIX = 'building#';

export function buildingKeyOf(keyArn: string): string {
  return `${BUILDING_KEY_PREFIX}${keyArn}`;
}

const isoInstant = /* @__PURE__ */ (() => z.iso.datetime({ offset: true }))();

/** A hold a sweep searches for: the key (with the names its records may carry) and its execution. */
export const sweptHoldShape = /* @__PURE__ */ (() =>
  z.object({
    keyArn: z.string().check(z.startsWith('arn:')),
    keyId: z.string(),
    aliases: z.array(z.string()),
    executionArn: z.string().check(z.startsWith('arn:')),
    /** Where the hold's search starts: its disable time less the ingestion lag (ISO). */
    from: isoInstant,
  }))();

export const sweepStateSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    keyArn: z.literal(SWEEP_STATE_KEY),
    /** Incremented by every write; a sweep writes only over the version it read. */
    version: z.number().check(z.int(), z.positive()),
    /**
     * The end of the last complete sweep (ISO), null before the first. With the subscription: where
     * the last proof of its deliveries stands (lambdas/domain/stream.ts).
     */
    sweptTo: z.nullable(isoInstant),
    /**
     * With the subscription: from when no delivery can have been lost (ISO); null while it is not
     * whole. Absent with the search.
     */
    streamSince: z.optional(z.nullable(isoInstant)),
    /** A sweep split across invocations: the holds it searches for and where its search stopped. */
    running: z.nullable(
      z.object({
        holds: z.array(sweptHoldShape),
        /** The SearchResume (lambdas/domain/search-resume.ts), checked again by the search that reads it. */
        resume: z.record(z.string(), z.unknown()),
      }),
    ),
    /** What the last complete sweep did, for the operator and the bench. */
    last: z.nullable(
      z.object({
        start: isoInstant,
        end: isoInstant,
        holds: z.number().check(z.int(), z.nonnegative()),
        pages: z.number().check(z.int(), z.nonnegative()),
        invocations: z.number().check(z.int(), z.positive()),
        scanned: z.number().check(z.int(), z.nonnegative()),
        matched: z.number().check(z.int(), z.nonnegative()),
      }),
    ),
    updatedAt: isoInstant,
  }))();

/**
 * A CloudTrail record as the sweep keeps it (the fields the domain reads). Only what every reader
 * relies on is checked; the matcher treats every other field as possibly absent, as in any record.
 */
const keptRecord = /* @__PURE__ */ (() =>
  z.custom<CloudTrailRecord>((value) => {
    if (typeof value !== 'object' || value === null) return false;
    const record = value as unknown as Record<string, unknown>;
    return ['eventID', 'eventTime', 'eventName', 'eventSource'].every(
      (field) => typeof record[field] === 'string',
    );
  }))();

export const sightingsSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    keyArn: z.string().check(z.startsWith(SIGHTINGS_KEY_PREFIX)),
    holdKeyArn: z.string().check(z.startsWith('arn:')),
    /** The execution whose hold the sweep searched for: another execution's sightings prove nothing. */
    executionArn: z.string().check(z.startsWith('arn:')),
    /** The window the sweep searched for this hold: the whole hold, to `sweptTo` (ISO). */
    searchedFrom: isoInstant,
    sweptTo: isoInstant,
    /** The failed calls on the key in the window, oldest first (the workflow's canaries among them). */
    records: z.array(keptRecord),
    /** When CloudWatch Logs ingested each record (ms), by event ID. */
    ingestedAt: z.record(z.string(), z.number()),
    /** Records of other callers left out once MAX_SIGHTED_EVIDENCE were kept (any one ends the watch). */
    dropped: z.number().check(z.int(), z.nonnegative()),
    /** When DynamoDB may delete the item (epoch seconds; the table's time-to-live attribute). */
    expiresAt: z.number().check(z.int(), z.positive()),
    /**
     * Written by the subscription's deliveries: several at once, so each writes only over the
     * version it read. Absent on the search's sightings (one sweep at a time writes them).
     */
    version: z.optional(z.number().check(z.int(), z.positive())),
  }))();

/** What a split sweep found so far of one hold: kept as its sightings would keep it. */
export const buildingSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    keyArn: z.string().check(z.startsWith(BUILDING_KEY_PREFIX)),
    /** The sweep it belongs to (the first page's time): another sweep's leftovers are not used. */
    sweepId: isoInstant,
    records: z.array(keptRecord),
    ingestedAt: z.record(z.string(), z.number()),
    dropped: z.number().check(z.int(), z.nonnegative()),
    expiresAt: z.number().check(z.int(), z.positive()),
  }))();

export type SweptHold = z.output<typeof sweptHoldShape>;
export type Building = z.output<typeof buildingSchema>;
export type SweepState = z.output<typeof sweepStateSchema>;
export type Sightings = z.output<typeof sightingsSchema>;
