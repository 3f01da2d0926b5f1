/**
 * The hold's visible mirror: the tags this workflow writes on a key it holds, and the checks made on
 * a key before it is taken.
 *
 * The tags are not the authority: the stack's hold registry is (lambdas/domain/hold-record.ts decides
 * from it). Anyone allowed to tag keys can write or strip these tags, so they are written for people
 * and IAM's second fence, and compared with the record to report tampering.
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
  KeyFacts,
  RestoreEvent,
  ScheduleEvent,
  WatchPlan,
} from './types.js';

/** What a handler just read about the key. */
export interface CurrentKey {
  readonly keyState: string;
  readonly tags: Readonly<Record<string, string>>;
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
 * Before DisableKey takes a new hold: the key must still be what AssessKey accepted.
 *
 * A retry of DisableKey never comes here: the hold registry says whether this execution already
 * holds the key. So tags that name any execution with an active status (this one included: a reused
 * execution name, or tags copied from another key) refuse, with nothing changed; so does a state that
 * moved since the assessment.
 */
export function checkStillAsAssessed(assessment: Assessment, current: CurrentKey): void {
  const assessed = assessment.key;
  if (!assessed) {
    throw new KeyChangedExternallyError(
      'The assessment carries no key facts, so the key cannot be compared.',
    );
  }
  const status = current.tags[TAGS.status];
  const owner = current.tags[TAGS.execution];
  if (owner !== undefined) {
    const assessedOwner = assessed.tags[TAGS.execution];
    if (owner !== assessedOwner || isActiveStatus(status) || status !== assessed.tags[TAGS.status]) {
      throw new KeyChangedExternallyError(
        `The key's tags name an execution holding it (${owner}, status ${status ?? '(none)'}) that the hold registry does not record; nothing was changed.`,
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
      /** The resources whose data the deletion destroys on purpose (acceptDataLoss), when there are any. */
      readonly dataLossAccepted?: readonly string[] | undefined;
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
      if (step.dataLossAccepted?.length) {
        const count = step.dataLossAccepted.length;
        tags[TAGS.dataLossAccepted] = sanitizeTagValue(
          `${count} resource${count === 1 ? '' : 's'}: ${step.dataLossAccepted.join(' ')}`,
        );
      }
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
