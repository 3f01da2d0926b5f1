/**
 * The hold as the stack's own registry records it (lambdas/contracts/hold-registry.ts), and every
 * decision made from it: whether DisableKey may take the key, whether ScheduleDeletion may schedule,
 * what the restore step and the fast path may do, whether a watched key is still as this execution
 * left it, and where the key's tags disagree with the record.
 *
 * The record, not the tags, says what this execution did. Tags can be written by anyone allowed to
 * tag keys; a decision taken from them could re-enable a key a person disabled on purpose (forged
 * tags) or leave a key that a caller needs disabled (stripped tags). So: EnableKey only on a key this
 * execution disabled while it was Enabled; CancelKeyDeletion only on a deletion this execution
 * scheduled, or on one someone else scheduled while this execution held the key and callers fail on
 * it (a cancelled deletion can be redone, a deletion cannot).
 */
import type {
  HoldActor,
  HoldClaim,
  HoldEnd,
  HoldEndStatus,
  HoldPhase,
  HoldRecord,
} from '../contracts/hold-registry.js';
import { TAGS } from '../contracts/tags.js';
import { KeyChangedExternallyError } from './errors.js';
import { isPendingDeletion, sanitizeTagValue } from './hold.js';
import { MINUTE_MS } from './time.js';
import type { RestoreMode, WatchState } from './types.js';

export type { HoldActor, HoldClaim, HoldEnd, HoldEndStatus, HoldPhase, HoldRecord };

/** A claim older than this belongs to an actor that crashed: another actor may take the hold over. */
export const CLAIM_TTL_MS = 5 * MINUTE_MS;

export type RestoreAction = 'CancelKeyDeletion' | 'EnableKey';

export interface RestorePlan {
  /** In the order they must run: a key pending deletion cannot be enabled. */
  readonly actions: readonly RestoreAction[];
  readonly reason: string;
  /** How the hold ends once the actions ran; null: no hold of this execution to end. */
  readonly status: HoldEndStatus | null;
  /** The key state once the actions have run. */
  readonly expectedKeyState: string;
  /**
   * True when the plan cancels a deletion someone else scheduled (callers fail on the key): the key
   * stays Disabled, and the run ends DELETION_CANCELLED whichever step found the evidence.
   */
  readonly cancelsOthersDeletion: boolean;
}

/** The record when it is a hold of this execution (ended or not), else null. */
export function ownHold(hold: HoldRecord | null, executionArn: string): HoldRecord | null {
  return hold !== null && hold.executionArn === executionArn ? hold : null;
}

/** The first version of a hold, written before DisableKey. */
export function newHold(args: {
  readonly keyArn: string;
  readonly executionArn: string;
  readonly wasEnabled: boolean;
  readonly now: Date;
  /** The key's ID and aliases, for a sweep that matches records of many keys at once. */
  readonly keyId?: string | undefined;
  readonly aliases?: readonly string[] | undefined;
}): HoldRecord {
  const now = args.now.toISOString();
  return {
    keyArn: args.keyArn,
    executionArn: args.executionArn,
    ...(args.keyId === undefined ? {} : { keyId: args.keyId }),
    ...(args.aliases === undefined ? {} : { aliases: [...args.aliases] }),
    phase: 'disabling',
    version: 1,
    wasEnabled: args.wasEnabled,
    disabledAt: now,
    disabled: false,
    deletionScheduled: false,
    scheduledAt: null,
    deletionDate: null,
    claim: null,
    end: null,
    updatedAt: now,
  };
}

/** What one write changes; the rest of the record (fields of later versions included) carries over. */
export type HoldChanges = Partial<
  Pick<
    HoldRecord,
    | 'phase'
    | 'wasEnabled'
    | 'disabledAt'
    | 'disabled'
    | 'deletionScheduled'
    | 'scheduledAt'
    | 'deletionDate'
    | 'claim'
    | 'end'
  >
>;

/** The next version of a hold: the changes applied, the version one higher. */
export function nextHold(hold: HoldRecord, changes: HoldChanges, now: Date): HoldRecord {
  return { ...hold, ...changes, version: hold.version + 1, updatedAt: now.toISOString() };
}

/** The hold moved to `restoring` under `actor`'s claim (it keeps the phase it came from). */
export function claimHold(hold: HoldRecord, actor: HoldActor, nonce: string, now: Date): HoldRecord {
  const from = hold.phase === 'restoring' && hold.claim ? hold.claim.from : hold.phase;
  return nextHold(hold, { phase: 'restoring', claim: { actor, nonce, at: now.toISOString(), from } }, now);
}

/** The hold as it was before its claim: what a retry of the claiming actor decides from. */
export function beforeClaim(hold: HoldRecord): HoldRecord {
  return hold.phase === 'restoring' && hold.claim ? { ...hold, phase: hold.claim.from } : hold;
}

/** The hold given back to the phase it was claimed from, when the claimer found nothing to do. */
export function releaseHold(hold: HoldRecord, now: Date): HoldRecord {
  return nextHold(hold, { phase: beforeClaim(hold).phase, claim: null }, now);
}

/**
 * Whether `actor` may take a hold that is being given back (`restoring`): its own claim (a retry),
 * or another actor's claim older than CLAIM_TTL_MS (that actor crashed).
 */
export function mayTakeOver(hold: HoldRecord, actor: HoldActor, nonce: string, now: Date): boolean {
  const claim = hold.claim;
  if (!claim || (claim.actor === actor && claim.nonce === nonce)) {
    return true;
  }
  return now.getTime() - Date.parse(claim.at) >= CLAIM_TTL_MS;
}

function describeEnd(end: HoldEnd | null): string {
  if (!end) {
    return 'ended';
  }
  const by = end.by === 'fast-path' ? 'the fast path' : 'the workflow';
  return `ended by ${by} at ${end.at} (${end.status})`;
}

/** One sentence about who holds the key, for errors and e-mails. */
export function describeHold(hold: HoldRecord | null, executionArn: string): string {
  if (!hold) {
    return 'The hold registry records no hold on the key';
  }
  const whose =
    hold.executionArn === executionArn ? "This execution's hold" : `The hold of ${hold.executionArn}`;
  return hold.phase === 'ended' ? `${whose} ${describeEnd(hold.end)}` : `${whose} is at phase ${hold.phase}`;
}

// --- DisableKey -------------------------------------------------------------------------------------

export type DisableStep =
  /** No hold of this execution: record a new one (conditionally: none, or an ended one, on the key). */
  | { readonly kind: 'begin' }
  /** This execution's hold, recorded before a crash: DisableKey may or may not have run. */
  | { readonly kind: 'resume'; readonly hold: HoldRecord }
  /** This execution already disabled the key (a retry after the first attempt finished). */
  | { readonly kind: 'done'; readonly hold: HoldRecord };

/**
 * Where DisableKey stands with the key's hold. Another execution's active hold refuses (nothing is
 * changed); this execution's hold in a later phase means the key moved on without this step.
 */
export function planDisableStep(hold: HoldRecord | null, executionArn: string): DisableStep {
  if (!hold || hold.phase === 'ended') {
    if (hold && hold.executionArn === executionArn) {
      throw new KeyChangedExternallyError(
        `${describeHold(hold, executionArn)}; DisableKey does not take the key again.`,
      );
    }
    return { kind: 'begin' };
  }
  if (hold.executionArn !== executionArn) {
    throw new KeyChangedExternallyError(
      `Another execution (${hold.executionArn}) holds the key (phase ${hold.phase}); nothing was changed.`,
    );
  }
  if (hold.phase === 'disabling') {
    return { kind: 'resume', hold };
  }
  if (hold.phase === 'watching') {
    return { kind: 'done', hold };
  }
  throw new KeyChangedExternallyError(
    `${describeHold(hold, executionArn)}, past DisableKey: the step does not run again.`,
  );
}

// --- ScheduleDeletion ---------------------------------------------------------------------------------

export type ScheduleStep =
  /** The key is Disabled under this execution's hold: claim, then schedule. */
  | 'schedule'
  /** This execution scheduled it already (a retry after ScheduleKeyDeletion succeeded). */
  | 'already-scheduled'
  /** Someone else scheduled the deletion while this execution held the key: guard it until KMS deletes it. */
  | 'adopt';

/** What ScheduleDeletion does next, and the hold of this execution it does it under. */
export interface SchedulePlan {
  readonly step: ScheduleStep;
  readonly hold: HoldRecord;
}

/**
 * Before ScheduleKeyDeletion, and again right before it under the claim: the hold must be this
 * execution's and the key Disabled. A hold the fast path (or anyone) ended means the rollback won:
 * nothing is scheduled.
 */
export function planScheduleStep(
  record: HoldRecord | null,
  keyState: string,
  executionArn: string,
): SchedulePlan {
  const hold = ownHold(record, executionArn);
  if (!hold) {
    throw new KeyChangedExternallyError(
      `${describeHold(record, executionArn)}, not one of ${executionArn}: the deletion is not scheduled.`,
    );
  }
  const pending = isPendingDeletion(keyState);
  switch (hold.phase) {
    case 'watching':
      if (pending) return { step: 'adopt', hold };
      break;
    case 'scheduling':
      // A retry: the claim was taken before ScheduleKeyDeletion, which may or may not have run.
      if (pending) return { step: 'already-scheduled', hold };
      break;
    case 'pending-deletion':
      if (pending) return { step: 'already-scheduled', hold };
      throw new KeyChangedExternallyError(
        `The key is ${keyState}, no longer pending deletion: someone cancelled the deletion this execution recorded.`,
      );
    default:
      throw new KeyChangedExternallyError(
        `${describeHold(hold, executionArn)}: the deletion is not scheduled.`,
      );
  }
  if (keyState !== 'Disabled') {
    throw new KeyChangedExternallyError(
      `The key is ${keyState}; this execution left it Disabled. The deletion is not scheduled.`,
    );
  }
  return { step: 'schedule', hold };
}

// --- The watch ---------------------------------------------------------------------------------------

export type WatchPhase = WatchState['phase'];

export interface HeldKey {
  /** True when the key is pending deletion although this execution did not schedule it (someone else did). */
  readonly pendingBySomeoneElse: boolean;
}

/**
 * Before each check: the key must still be held by this execution as the record says, in the phase
 * the check belongs to, and its tags must mirror the record. OBSERVE and FINAL: `watching` and
 * Disabled, or pending deletion someone else scheduled (the watch goes on: a failure is then a
 * reason to cancel that deletion). PENDING: `pending-deletion` and pending deletion.
 */
export function verifyHeldKey(
  phase: WatchPhase,
  current: { readonly keyState: string; readonly tags: Readonly<Record<string, string>> },
  record: HoldRecord | null,
  executionArn: string,
): HeldKey {
  const tampering = tagDisagreements(current.tags, record, executionArn);
  const tamperNote = tampering.length > 0 ? ` Tampering: ${tampering.join('; ')}.` : '';
  const hold = ownHold(record, executionArn);
  if (!hold || hold.phase === 'ended' || hold.phase === 'restoring') {
    throw new KeyChangedExternallyError(`${describeHold(record, executionArn)}.${tamperNote}`);
  }
  const expected: HoldPhase = phase === 'PENDING' ? 'pending-deletion' : 'watching';
  if (hold.phase !== expected) {
    throw new KeyChangedExternallyError(
      `${describeHold(hold, executionArn)}, not ${expected} as the ${phase} check expects.${tamperNote}`,
    );
  }
  if (tampering.length > 0) {
    throw new KeyChangedExternallyError(
      `The key's hold tags disagree with this execution's record: ${tampering.join('; ')}. The record decides; the watch cannot go on with a key someone tampered with.`,
    );
  }
  const pending = isPendingDeletion(current.keyState);
  if (phase === 'PENDING') {
    if (!pending) {
      throw new KeyChangedExternallyError(
        `The key is ${current.keyState}, no longer pending deletion: someone cancelled the deletion this execution guards.`,
      );
    }
    return { pendingBySomeoneElse: !hold.deletionScheduled };
  }
  if (pending) {
    return { pendingBySomeoneElse: true };
  }
  if (current.keyState !== 'Disabled') {
    throw new KeyChangedExternallyError(
      `The key is ${current.keyState}, not Disabled as this execution left it: someone ${
        current.keyState === 'Enabled' ? 're-enabled it' : 'changed it'
      } during the observation.`,
    );
  }
  return { pendingBySomeoneElse: false };
}

// --- Tags, the visible mirror ------------------------------------------------------------------------

/** The status tag each phase leaves on the key once its step finished (phases in between are skipped). */
const MIRRORED_STATUS: Partial<Record<HoldPhase, string>> = {
  watching: 'disabled',
  'pending-deletion': 'pending-deletion',
};

/**
 * Where the key's tags disagree with this execution's record: stripped, changed, or naming this
 * execution on a key it holds no record of. Reported as tampering; decisions follow the record.
 */
export function tagDisagreements(
  tags: Readonly<Record<string, string>>,
  record: HoldRecord | null,
  executionArn: string,
): string[] {
  const named = tags[TAGS.execution];
  const me = sanitizeTagValue(executionArn);
  const hold = ownHold(record, executionArn);
  if (!hold) {
    return named === me
      ? [`the tag ${TAGS.execution} names this execution, which never recorded a hold on the key`]
      : [];
  }
  if (hold.phase === 'ended') {
    return [];
  }
  const found: string[] = [];
  if (named === undefined) {
    found.push(`the tag ${TAGS.execution} was removed`);
  } else if (named !== me) {
    found.push(`the tag ${TAGS.execution} names ${named}, not this execution`);
  }
  // A deletion someone else scheduled finds the key untaggable (KMS refuses tags on a key pending
  // deletion), so its status tag still says what it said before.
  const status =
    hold.phase === 'pending-deletion' && !hold.deletionScheduled ? 'disabled' : MIRRORED_STATUS[hold.phase];
  if (status !== undefined && tags[TAGS.status] !== status) {
    found.push(
      tags[TAGS.status] === undefined
        ? `the tag ${TAGS.status} was removed (the record says ${status})`
        : `the tag ${TAGS.status} says ${tags[TAGS.status]}, the record ${status}`,
    );
  }
  const wasEnabled = tags[TAGS.wasEnabled];
  if (status !== undefined && wasEnabled !== undefined && wasEnabled !== String(hold.wasEnabled)) {
    found.push(`the tag ${TAGS.wasEnabled} says ${wasEnabled}, the record ${hold.wasEnabled}`);
  }
  return found;
}

// --- Giving the key back -------------------------------------------------------------------------------

/**
 * What the restore step (RollBack, CancelDeletion, Restore) and the fast path may do to the key.
 *
 * - Only a hold of this execution that has not ended is acted on; a key it holds no record of is left
 *   alone, whatever its tags say.
 * - CancelKeyDeletion when this execution scheduled the deletion (the record says so from the claim
 *   before ScheduleKeyDeletion), or when someone else scheduled it and callers fail on the key (mode
 *   ROLLBACK or CANCEL_DELETION: a check or the fast path found the evidence). The latter leaves the
 *   key Disabled: the person who scheduled it meant it to be unused.
 * - EnableKey only when this execution disabled the key while it was Enabled, and never in
 *   CANCEL_DELETION (the pending window: the key stays Disabled so that its use stays visible).
 */
export function planRestoreFromHold(
  mode: RestoreMode,
  keyState: string,
  record: HoldRecord | null,
  executionArn: string,
): RestorePlan {
  const unchanged = (reason: string, status: HoldEndStatus | null = null): RestorePlan => ({
    actions: [],
    reason,
    status,
    expectedKeyState: keyState,
    cancelsOthersDeletion: false,
  });
  const hold = ownHold(record, executionArn);
  if (!hold) {
    return unchanged(
      record
        ? `Another execution (${record.executionArn}) holds the key; it was left untouched.`
        : 'The hold registry records no hold of this execution on the key (it never disabled it); the key was left untouched, whatever its tags say.',
    );
  }
  if (hold.phase === 'ended') {
    return unchanged(`This execution's hold already ${describeEnd(hold.end)}; nothing left to do.`);
  }
  const evidence = mode !== 'ABORT';
  const actions: RestoreAction[] = [];
  const notes: string[] = [];
  let state = keyState;
  let cancelsOthersDeletion = false;
  if (isPendingDeletion(keyState)) {
    if (hold.deletionScheduled) {
      actions.push('CancelKeyDeletion');
      notes.push('cancelled the deletion this execution scheduled');
      state = 'Disabled';
    } else if (evidence) {
      actions.push('CancelKeyDeletion');
      notes.push(
        'cancelled the deletion someone else scheduled while this execution held the key, because callers still need it; the key stays Disabled so the person who scheduled it can decide again',
      );
      state = 'Disabled';
      cancelsOthersDeletion = true;
    } else {
      return unchanged(
        `The key is ${keyState}, scheduled by someone other than this workflow, and no failed call on it was found: the workflow does not cancel a deletion it did not schedule.`,
        'aborted',
      );
    }
  }
  if (mode === 'CANCEL_DELETION' || cancelsOthersDeletion) {
    if (actions.length === 0) {
      notes.push(`the key is ${keyState}, not pending deletion, so there is no deletion to cancel`);
    } else if (!cancelsOthersDeletion) {
      notes.push('the key stays Disabled until a person re-enables it');
    }
  } else if (!hold.wasEnabled) {
    notes.push('the key was already Disabled before this execution, so it stays Disabled');
  } else if (state === 'Disabled') {
    actions.push('EnableKey');
    notes.push('re-enabled the key this execution disabled');
    state = 'Enabled';
  } else if (state === 'Enabled') {
    notes.push('the key is already Enabled (re-enabled by someone, or never disabled), so it needs nothing');
  } else {
    notes.push(`the key is ${state}, which EnableKey cannot change`);
  }
  return {
    actions,
    reason: sentence(notes),
    status: cancelsOthersDeletion ? 'deletion-cancelled' : statusFor(mode, hold.wasEnabled, state),
    expectedKeyState: state,
    cancelsOthersDeletion,
  };
}

function statusFor(mode: RestoreMode, wasEnabled: boolean, finalState: string): HoldEndStatus {
  if (mode === 'ROLLBACK') return 'rolled-back';
  if (mode === 'CANCEL_DELETION') return 'deletion-cancelled';
  const original = wasEnabled ? 'Enabled' : 'Disabled';
  return finalState === original ? 'restored' : 'aborted';
}

function sentence(parts: readonly string[]): string {
  const text = parts.join('; ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
