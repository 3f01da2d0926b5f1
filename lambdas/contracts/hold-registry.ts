import * as z from 'zod/mini';

/**
 * One item of the hold registry: the stack's own record of a key one of its executions holds, what
 * that execution did to it, and how the hold ended. It is the authority for every decision to
 * re-enable a key or cancel its deletion; the key's tags only mirror it (anyone allowed to tag keys
 * can write tags, nobody outside the stack's roles can write this table).
 *
 * The partition key is `keyArn`: one hold per key at a time, which makes a conditional write on the
 * item a true compare-and-set between the actors that may act on the same key at the same moment
 * (DisableKey of a second execution, the fast path, the restore step, ScheduleDeletion). Every write
 * replaces the item on condition that `version` is still the one the writer read.
 *
 * Items are read with `looseObject`: fields a later version adds (the sweep's cursor, canaries, task
 * token) travel through a write by this version untouched.
 */

/**
 * Where the hold stands.
 * - `disabling`: the hold is recorded, DisableKey is being called (it may or may not have run).
 * - `watching`: this execution disabled the key and watches it (observation, final check, deletion
 *   approval); someone else may have scheduled its deletion meanwhile (`deletionScheduled` false).
 * - `scheduling`: ScheduleDeletion claimed the hold and is calling ScheduleKeyDeletion.
 * - `pending-deletion`: the key is pending deletion under guard until KMS deletes it.
 * - `restoring`: the fast path or the restore step claimed the hold and is giving the key back.
 * - `ended`: the hold is over (`end` says how); a new execution may take the key.
 */
export const HOLD_PHASES = [
  'disabling',
  'watching',
  'scheduling',
  'pending-deletion',
  'restoring',
  'ended',
] as const;
export type HoldPhase = (typeof HOLD_PHASES)[number];

/** The phases in which the hold still binds the key to its execution. */
export const ACTIVE_HOLD_PHASES: readonly HoldPhase[] = HOLD_PHASES.filter((phase) => phase !== 'ended');

/** Who may claim a hold to give the key back: the EventBridge fast path, or the workflow's own steps. */
export const HOLD_ACTORS = ['fast-path', 'workflow'] as const;
export type HoldActor = (typeof HOLD_ACTORS)[number];

/** How a hold ended, as the key's status tag mirrors it. */
export const HOLD_END_STATUSES = ['rolled-back', 'deletion-cancelled', 'restored', 'aborted'] as const;

const isoInstant = /* @__PURE__ */ (() => z.iso.datetime({ offset: true }))();

/** A CloudTrail record that showed the key is needed (the Evidence of the workflow state). */
const evidenceShape = /* @__PURE__ */ (() =>
  z.object({
    eventID: z.string(),
    eventTime: z.string(),
    eventName: z.string(),
    errorCode: z.string(),
    principal: z.string(),
    sourceIPAddress: z.string(),
    userAgent: z.string(),
    recipientAccountId: z.optional(z.string()),
  }))();

/** Who is giving the key back right now (`phase` restoring), and since when. */
export const holdClaimShape = /* @__PURE__ */ (() =>
  z.object({
    actor: z.enum(HOLD_ACTORS),
    /** Tells two attempts of one actor apart: the fast path's event ID, the workflow's execution. */
    nonce: z.string(),
    at: isoInstant,
    /** The phase the hold was in when it was claimed: a retry decides from it, a release returns to it. */
    from: z.enum(HOLD_PHASES),
  }))();

/** The rollback or restore record: who ended the hold, when, why, on what evidence, what it did. */
export const holdEndShape = /* @__PURE__ */ (() =>
  z.looseObject({
    by: z.enum(HOLD_ACTORS),
    status: z.enum(HOLD_END_STATUSES),
    at: isoInstant,
    reason: z.string(),
    actions: z.array(z.enum(['EnableKey', 'CancelKeyDeletion'])),
    finalKeyState: z.string(),
    /** Event IDs of the CloudTrail records that showed the key is needed (none for a plain restore). */
    evidenceEventIds: z.array(z.string()),
    /** The fast path's record in full, for the execution's own report. */
    evidence: z.nullable(evidenceShape),
    /** True once the evidence e-mail went out; false: the workflow still owes it. */
    notified: z.boolean(),
    /** Where the key's tags disagreed with this record when the hold ended. */
    tampering: z.array(z.string()),
  }))();

export const holdRecordSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    keyArn: z.string().check(z.startsWith('arn:')),
    executionArn: z.string().check(z.startsWith('arn:')),
    /** The key's ID and its aliases at the assessment: the names the sweep matches records by. */
    keyId: z.optional(z.string()),
    aliases: z.optional(z.array(z.string())),
    phase: z.enum(HOLD_PHASES),
    /** Incremented by every write; a write succeeds only if the item still has the version its writer read. */
    version: z.number().check(z.int(), z.positive()),
    /** The key was Enabled when this execution disabled it: the only case in which it re-enables it. */
    wasEnabled: z.boolean(),
    /** When this execution disabled the key (the observation counts from here). */
    disabledAt: isoInstant,
    /** This execution's DisableKey returned. */
    disabled: z.boolean(),
    /** This execution claimed the hold to schedule the deletion (set before ScheduleKeyDeletion is sent). */
    deletionScheduled: z.boolean(),
    scheduledAt: z.nullable(isoInstant),
    /** When KMS deletes the key (null until scheduled, and while a multi-Region primary waits for its replicas). */
    deletionDate: z.nullable(isoInstant),
    claim: z.nullable(holdClaimShape),
    end: z.nullable(holdEndShape),
    updatedAt: isoInstant,
  }))();

export type HoldClaim = z.output<typeof holdClaimShape>;
export type HoldEnd = z.output<typeof holdEndShape>;
export type HoldEndStatus = HoldEnd['status'];
export type HoldRecord = z.output<typeof holdRecordSchema>;
