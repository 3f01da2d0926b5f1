/**
 * The hold: how this workflow marks a key it has taken, and what it may do to that key.
 *
 * The key's own tags are the source of truth for ownership. Every decision to change a key is made
 * here from those tags and the key's current state, so a crash, a Lambda retry or a person acting on
 * the key in between can never lead this workflow to enable a key it did not disable, or to cancel a
 * deletion it did not schedule.
 */
import { disableEventSchema, restoreEventSchema, scheduleEventSchema } from '../contracts/events.js';
import { ACTIVE_HOLD_STATUSES, TAGS } from '../contracts/tags.js';
import { checkContract } from './contract.js';
import { decisionTagText } from './decider.js';
import { KeyChangedExternallyError } from './errors.js';
import type {
  ApprovalDecision,
  Assessment,
  DisableEvent,
  Evidence,
  HoldStatus,
  KeyFacts,
  RestoreEvent,
  RestoreMode,
  ScheduleEvent,
  WatchPlan,
} from './types.js';

/** What a handler just read about the key. */
export interface CurrentKey {
  readonly keyState: string;
  readonly tags: Readonly<Record<string, string>>;
}

export type RestoreAction = 'CancelKeyDeletion' | 'EnableKey';

/** Statuses that end a hold. */
export type EndStatus = Extract<HoldStatus, 'rolled-back' | 'deletion-cancelled' | 'restored' | 'aborted'>;

export interface RestorePlan {
  /** In the order they must run: a key pending deletion cannot be enabled. */
  readonly actions: readonly RestoreAction[];
  readonly reason: string;
  /** Status tag to write afterwards; null leaves the tags alone (not our key, hold already ended, or pending deletion by someone else). */
  readonly status: EndStatus | null;
  /** The key state once the actions have run. */
  readonly expectedKeyState: string;
}

const TAG_VALUE_MAX = 256;

/**
 * Makes a string acceptable as a KMS tag value: ASCII letters, digits, spaces and `_ . : / = + - @`,
 * at most 256 characters. Anything else becomes `_`. Ownership comparisons go through this too, so an
 * execution ARN that needed changes still matches its own tag.
 */
export function sanitizeTagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9 _.:/=+\-@]/g, '_').slice(0, TAG_VALUE_MAX);
}

/** True when the key's execution tag names this execution. */
export function isHeldBy(tags: Readonly<Record<string, string>>, executionArn: string): boolean {
  const owner = tags[TAGS.execution];
  return owner !== undefined && owner === sanitizeTagValue(executionArn);
}

/** True for both pending-deletion states (a multi-Region primary waits in PendingReplicaDeletion). */
export function isPendingDeletion(keyState: string): boolean {
  return keyState === 'PendingDeletion' || keyState === 'PendingReplicaDeletion';
}

function isActiveStatus(status: string | undefined): boolean {
  return ACTIVE_HOLD_STATUSES.some((s) => s === status);
}

/**
 * Before DisableKey: the key must still be what AssessKey accepted.
 *
 * A retry of DisableKey finds its own tags (status `disabling` or `disabled`); that is not a change.
 * Anything else that moved (state, or another execution's tag) throws KeyChangedExternallyError.
 */
export function checkStillAsAssessed(
  assessment: Assessment,
  current: CurrentKey,
  executionArn: string,
): void {
  const assessed = assessment.key;
  if (!assessed) {
    throw new KeyChangedExternallyError(
      'The assessment carries no key facts, so the key cannot be compared.',
    );
  }
  const status = current.tags[TAGS.status];
  if (isHeldBy(current.tags, executionArn)) {
    if (status !== 'disabling' && status !== 'disabled') {
      throw new KeyChangedExternallyError(
        `This execution's hold on the key is already at status "${status ?? '(none)'}", not disabling or disabled.`,
      );
    }
    const crashedBeforeDisable =
      current.keyState === 'Enabled' && status === 'disabling' && current.tags[TAGS.wasEnabled] === 'true';
    if (current.keyState !== 'Disabled' && !crashedBeforeDisable) {
      throw new KeyChangedExternallyError(
        `The key is ${current.keyState} although this execution's hold says "${status}": someone changed it.`,
      );
    }
    return;
  }
  const owner = current.tags[TAGS.execution];
  if (owner !== undefined) {
    const assessedOwner = assessed.tags[TAGS.execution];
    if (owner !== assessedOwner || isActiveStatus(status) || status !== assessed.tags[TAGS.status]) {
      throw new KeyChangedExternallyError(
        `Another execution (${owner}) holds the key (status ${status ?? '(none)'}).`,
      );
    }
  }
  if (current.keyState !== assessed.keyState) {
    throw new KeyChangedExternallyError(
      `The key was ${assessed.keyState} at assessment (${assessment.assessedAt}) and is ${current.keyState} now.`,
    );
  }
  if (current.keyState !== 'Enabled' && current.keyState !== 'Disabled') {
    throw new KeyChangedExternallyError(
      `The key is ${current.keyState}; only Enabled or Disabled keys are held.`,
    );
  }
}

export interface DisableStart {
  /** True when this execution's tags were already on the key (a retry after a crash). */
  readonly resumed: boolean;
  readonly wasEnabled: boolean;
  readonly disabledAt: string;
}

/**
 * What DisableKey records. On a retry that finds the key already Disabled under our tags, the first
 * attempt's tags win: reading `wasEnabled` from the state now would forget that it was Enabled. A
 * retry that finds our `disabling` tags on a still Enabled key (a crash before DisableKey) starts
 * afresh, so the observation counts from the moment the key really goes dark.
 */
export function planDisable(current: CurrentKey, executionArn: string, now: Date): DisableStart {
  if (isHeldBy(current.tags, executionArn) && current.keyState === 'Disabled') {
    return {
      resumed: true,
      wasEnabled: current.tags[TAGS.wasEnabled] === 'true',
      disabledAt: current.tags[TAGS.disabledAt] ?? now.toISOString(),
    };
  }
  return { resumed: false, wasEnabled: current.keyState === 'Enabled', disabledAt: now.toISOString() };
}

/**
 * Before ScheduleKeyDeletion: the key must be Disabled and held by this execution.
 * Returns `alreadyScheduled` when a previous attempt of this execution already scheduled it.
 */
export function checkReadyToSchedule(
  current: CurrentKey,
  executionArn: string,
): { alreadyScheduled: boolean } {
  if (!isHeldBy(current.tags, executionArn)) {
    const owner = current.tags[TAGS.execution];
    throw new KeyChangedExternallyError(
      owner
        ? `Another execution (${owner}) holds the key now.`
        : "This execution's hold tags are gone from the key: someone removed them.",
    );
  }
  const status = current.tags[TAGS.status];
  if (isPendingDeletion(current.keyState)) {
    if (status === 'pending-deletion') {
      return { alreadyScheduled: true };
    }
    throw new KeyChangedExternallyError(
      `The key is ${current.keyState} but this execution did not schedule its deletion (status "${status ?? '(none)'}").`,
    );
  }
  if (current.keyState !== 'Disabled') {
    throw new KeyChangedExternallyError(`The key is ${current.keyState}; this execution left it Disabled.`);
  }
  if (status !== 'disabled' && status !== 'pending-deletion') {
    throw new KeyChangedExternallyError(
      `This execution's hold is at status "${status ?? '(none)'}", not disabled.`,
    );
  }
  return { alreadyScheduled: false };
}

/** One step of the hold and the facts it records. */
export type HoldStep =
  | {
      readonly status: 'disabling';
      readonly disabledAt: string;
      readonly wasEnabled: boolean;
      readonly approval?: ApprovalDecision | null | undefined;
    }
  | { readonly status: 'disabled' }
  | {
      readonly status: 'pending-deletion';
      readonly deletionScheduledAt: string;
      readonly approval?: ApprovalDecision | null | undefined;
    }
  | { readonly status: 'rolled-back' | 'deletion-cancelled'; readonly evidence?: string | undefined }
  | { readonly status: 'restored' | 'aborted' };

/**
 * The tags one step writes. The execution tag is written every time so that each TagResource call on
 * its own names the holder, whatever happened to earlier calls.
 */
export function holdTags(executionArn: string, step: HoldStep): Record<string, string> {
  const tags: Record<string, string> = {
    [TAGS.execution]: sanitizeTagValue(executionArn),
    [TAGS.status]: step.status,
  };
  switch (step.status) {
    case 'disabling':
      tags[TAGS.disabledAt] = sanitizeTagValue(step.disabledAt);
      tags[TAGS.wasEnabled] = step.wasEnabled ? 'true' : 'false';
      if (step.approval) tags[TAGS.disableApprovedBy] = approvalTagValue(step.approval);
      break;
    case 'pending-deletion':
      tags[TAGS.deletionScheduledAt] = sanitizeTagValue(step.deletionScheduledAt);
      if (step.approval) tags[TAGS.deletionApprovedBy] = approvalTagValue(step.approval);
      break;
    case 'rolled-back':
    case 'deletion-cancelled':
      if (step.evidence) {
        tags[TAGS.evidence] = sanitizeTagValue(step.evidence);
      }
      break;
    default:
      break;
  }
  return tags;
}

/**
 * Who decided, how they are known (self-declared or IAM), when and from where, as one tag value (the
 * comment and the user agent are in the execution history).
 */
export function approvalTagValue(decision: ApprovalDecision): string {
  return sanitizeTagValue(decisionTagText(decision));
}

/** A short evidence summary that fits one tag value: count, first event ID and its time. */
export function evidenceTagValue(evidence: readonly Evidence[], count: number): string | undefined {
  const total = Math.max(count, evidence.length);
  const first = [...evidence].sort((a, b) => a.eventTime.localeCompare(b.eventTime))[0];
  if (total === 0 || !first) {
    return undefined;
  }
  return sanitizeTagValue(
    `${total} record${total === 1 ? '' : 's'} first ${first.eventID} at ${first.eventTime}`,
  );
}

/**
 * What the restore step may do to the key (RollBack, CancelDeletion, Restore).
 *
 * - Only a key whose execution tag names this execution is ever changed; a key a person disabled or
 *   another execution holds is left alone, tags included.
 * - A hold that already ended (status not disabling/disabled/pending-deletion) needs nothing: that is
 *   what makes a second run a no-op.
 * - A deletion is cancelled only when our status says we scheduled it (tagging happens before the
 *   ScheduleKeyDeletion call); a deletion a person scheduled while we held the key stays scheduled.
 *   If that happens under ROLLBACK (which never schedules), cancelling our own deletion is still done:
 *   evidence says the key is needed, and every uncertain path leads away from deletion.
 * - EnableKey only when the key was Enabled before this execution and is Disabled now.
 */
export function planRestore(mode: RestoreMode, current: CurrentKey, executionArn: string): RestorePlan {
  const { keyState, tags } = current;
  const unchanged = (reason: string, status: EndStatus | null = null): RestorePlan => ({
    actions: [],
    reason,
    status,
    expectedKeyState: keyState,
  });
  if (!isHeldBy(tags, executionArn)) {
    const owner = tags[TAGS.execution];
    return unchanged(
      owner
        ? `The key is held by another execution (${owner}); it was left untouched.`
        : 'The key carries no hold of this execution (never disabled by it, or the tags were removed); it was left untouched.',
    );
  }
  const status = tags[TAGS.status];
  if (!isActiveStatus(status)) {
    return unchanged(
      `This execution already ended its hold (status "${status ?? '(none)'}"); nothing left to do.`,
    );
  }
  const wasEnabled = tags[TAGS.wasEnabled] === 'true';
  const weScheduled = status === 'pending-deletion';
  const pending = isPendingDeletion(keyState);

  if (pending && !weScheduled) {
    return unchanged(
      `The key is ${keyState}, scheduled by someone other than this workflow (status "${status}"); the workflow does not cancel a deletion it did not schedule.`,
    );
  }

  const actions: RestoreAction[] = [];
  const notes: string[] = [];
  let state = keyState;
  if (pending) {
    actions.push('CancelKeyDeletion');
    notes.push('cancelled the deletion this execution scheduled');
    state = 'Disabled';
  }
  const finalStatus = statusFor(mode, wasEnabled, state);
  if (mode === 'CANCEL_DELETION') {
    if (!pending) {
      notes.push(`the key is ${keyState}, not pending deletion, so there is no deletion to cancel`);
    } else {
      notes.push('the key stays Disabled until a person re-enables it');
    }
    return { actions, reason: sentence(notes), status: finalStatus, expectedKeyState: state };
  }
  if (!wasEnabled) {
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
    status: statusFor(mode, wasEnabled, state),
    expectedKeyState: state,
  };
}

function statusFor(mode: RestoreMode, wasEnabled: boolean, finalState: string): EndStatus {
  if (mode === 'ROLLBACK') return 'rolled-back';
  if (mode === 'CANCEL_DELETION') return 'deletion-cancelled';
  const original = wasEnabled ? 'Enabled' : 'Disabled';
  return finalState === original ? 'restored' : 'aborted';
}

function sentence(parts: readonly string[]): string {
  const text = parts.join('; ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/*
 * Events of the hold handlers, checked against their schemas in lambdas/contracts/events.ts.
 */

/** An accepted assessment: it names the key and the plan. */
export type HeldAssessment = Assessment & { readonly key: KeyFacts; readonly plan: WatchPlan };
export type HeldDisableEvent = DisableEvent & { readonly assessment: HeldAssessment };
export type HeldScheduleEvent = ScheduleEvent & { readonly assessment: HeldAssessment };

export function parseDisableEvent(event: unknown): HeldDisableEvent {
  return checkContract<HeldDisableEvent>(
    disableEventSchema,
    'DisableKey received an event that breaks its contract',
    event,
  );
}

export function parseScheduleEvent(event: unknown): HeldScheduleEvent {
  return checkContract<HeldScheduleEvent>(
    scheduleEventSchema,
    'ScheduleDeletion received an event that breaks its contract',
    event,
  );
}

export function parseRestoreEvent(event: unknown): RestoreEvent {
  return checkContract<RestoreEvent>(
    restoreEventSchema,
    'Restore received an event that breaks its contract',
    event,
  );
}
