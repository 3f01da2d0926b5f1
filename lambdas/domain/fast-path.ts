/**
 * The fast path: KMS CloudTrail events reach EventBridge within minutes, and a failed
 * call on a key this workflow holds undoes the hold at once instead of at the next polling check.
 *
 * Pure decisions only. Which record concerns which key is the shared matcher of the polling check
 * (recordConcernsKey, isBreakage, isOwnCall); who holds the key and what its execution did is the
 * stack's hold registry (lambdas/domain/hold-record.ts), never the key's tags: a tag anyone can copy
 * onto another key opens nothing. What may be done to the key is the restore step's planRestoreFromHold.
 *
 * Two actors may want to undo the same hold at the same moment: the fast path, and the workflow's
 * own restore step after a polling check found the same record (or ScheduleDeletion may be about to
 * schedule). They take turns by a compare-and-set on the registry item: each writes its claim only
 * if the item still has the version it read; the loser reads again and stands back. The one who
 * acts records how the hold ended, and the other neither enables twice nor e-mails twice.
 */
import { FAST_PATH_TAGS, TAGS } from '../contracts/tags.js';
import {
  type CloudTrailRecord,
  isBreakage,
  isOwnCall,
  type KeyRef,
  recordConcernsKey,
  toEvidence,
} from './cloudtrail.js';
import { evidenceTagValue, holdTags, isPendingDeletion, sanitizeTagValue } from './hold.js';
import { type HoldRecord, planRestoreFromHold, type RestorePlan } from './hold-record.js';
import type { Evidence, Outcome, RestoreMode, WatchState } from './types.js';

export type FastPathOutcome = Extract<Outcome, 'ROLLED_BACK' | 'DELETION_CANCELLED'>;

export type FastPathDecision =
  | {
      readonly act: false;
      readonly reason: string;
      /** Another actor holds the claim right now: try again later rather than give up. */
      readonly busy: boolean;
    }
  | {
      readonly act: true;
      readonly mode: Extract<RestoreMode, 'ROLLBACK' | 'CANCEL_DELETION'>;
      readonly outcome: FastPathOutcome;
      /** The execution whose hold this is, as the registry records it. */
      readonly executionArn: string;
      readonly evidence: Evidence;
      readonly plan: RestorePlan;
    };

const KEY_ARN = /arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+/g;

/**
 * The key ARNs a record names: `resources[].ARN`, the ARN KMS writes into the error message, and
 * full key ARNs in the request. A bare alias or key ID names no key by itself (KMS resolved it in
 * the caller's account and Region); the key it resolved to is in `resources`.
 */
export function candidateKeyArns(record: CloudTrailRecord): string[] {
  const found = new Set<string>();
  for (const resource of record.resources ?? []) {
    if (typeof resource.ARN === 'string' && /^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(resource.ARN)) {
      found.add(resource.ARN);
    }
  }
  const texts = [record.errorMessage, ...Object.values(record.requestParameters ?? {})];
  for (const text of texts) {
    if (typeof text === 'string') {
      for (const match of text.matchAll(KEY_ARN)) {
        found.add(match[0]);
      }
    }
  }
  return [...found];
}

export interface FastPathInput {
  readonly record: CloudTrailRecord;
  /** The key as DescribeKey answered it (aliases need not be known: the ARN is in the record). */
  readonly key: KeyRef;
  readonly keyState: string;
  /** The key's item in the hold registry (null: no execution ever held it). */
  readonly hold: HoldRecord | null;
  /** The workflow's own principals: their failing calls (the canary) are never evidence. */
  readonly workflowPrincipalArns: readonly string[];
}

/**
 * Should the fast path act on this key for this record, and how?
 *
 * Only a key the registry says an execution holds, in a phase where giving it back undoes what that
 * execution did (or cancels a deletion someone else scheduled on it, now that a caller fails):
 * - `watching` and Disabled, on a DisabledException, when the key was Enabled before the execution
 *   disabled it: EnableKey (ROLLED_BACK);
 * - `watching` and pending deletion (scheduled by someone else): CancelKeyDeletion, the key stays
 *   Disabled (DELETION_CANCELLED);
 * - `pending-deletion` and pending deletion: CancelKeyDeletion (DELETION_CANCELLED), and EnableKey as
 *   well when the failed call was made before the deletion was scheduled (ROLLED_BACK: the caller
 *   needed the disabled key).
 * Everything else is left to the polling watch or to nobody: no hold (a person disabled the key,
 * whatever its tags say), a hold that ended or is being given back, a hold still being taken
 * (`disabling`), a key whose state contradicts its hold, and a record older than the hold.
 * `scheduling` is `busy`: ScheduleDeletion holds the claim right now, so the fast path tries again.
 */
export function decideFastPath(input: FastPathInput): FastPathDecision {
  const { record, key, keyState, hold } = input;
  const skip = (reason: string, busy = false): FastPathDecision => ({ act: false, reason, busy });
  if (!isBreakage(record, 'PENDING')) {
    return skip(
      `The record is ${record.errorCode ?? 'a success'}, not a failure that shows the key is needed.`,
    );
  }
  if (isOwnCall(record, input.workflowPrincipalArns)) {
    return skip("The record is the workflow's own call (its canary), never evidence.");
  }
  if (!recordConcernsKey(record, key)) {
    return skip(`The record does not concern ${key.keyArn}.`);
  }
  if (!hold) {
    return skip(
      'The hold registry records no hold on the key: no execution of this stack disabled it (its tags, if any, open nothing).',
    );
  }
  if (Date.parse(record.eventTime) < Date.parse(hold.disabledAt)) {
    return skip(`The record (${record.eventTime}) is older than the hold (disabled at ${hold.disabledAt}).`);
  }
  const pending = isPendingDeletion(keyState);
  let mode: 'ROLLBACK' | 'CANCEL_DELETION';
  switch (hold.phase) {
    case 'watching':
      if (pending) {
        mode = 'CANCEL_DELETION';
        break;
      }
      if (keyState !== 'Disabled') {
        return skip(`The hold is watching but the key is ${keyState}: the polling check decides.`);
      }
      if (!isBreakage(record, 'OBSERVE')) {
        return skip(`A ${record.errorCode} on a disabled key does not show that it is needed.`);
      }
      mode = 'ROLLBACK';
      break;
    case 'pending-deletion': {
      if (!pending) {
        return skip(`The hold is pending deletion but the key is ${keyState}: the polling check decides.`);
      }
      const beforeScheduling =
        hold.scheduledAt !== null && Date.parse(record.eventTime) < Date.parse(hold.scheduledAt);
      mode =
        beforeScheduling && hold.deletionScheduled && isBreakage(record, 'OBSERVE')
          ? 'ROLLBACK'
          : 'CANCEL_DELETION';
      break;
    }
    case 'scheduling':
      return skip('ScheduleDeletion holds the claim on the hold right now; the fast path looks again.', true);
    default:
      return skip(`The hold is at phase ${hold.phase}, not one the fast path acts on.`);
  }
  const plan = planRestoreFromHold(mode, keyState, hold, hold.executionArn);
  if (plan.actions.length === 0) {
    return skip(plan.reason);
  }
  const rolledBack = plan.actions.includes('EnableKey');
  return {
    act: true,
    mode,
    outcome: rolledBack ? 'ROLLED_BACK' : 'DELETION_CANCELLED',
    executionArn: hold.executionArn,
    evidence: toEvidence(record),
    plan,
  };
}

/** The tags that record one record's evidence on the key, beside the hold's summary tag. */
export function evidenceTags(evidence: Evidence): Record<string, string> {
  const tags: Record<string, string> = {
    [FAST_PATH_TAGS.caller]: sanitizeTagValue(evidence.principal),
    [FAST_PATH_TAGS.call]: sanitizeTagValue(
      [
        evidence.eventTime,
        evidence.eventName,
        evidence.errorCode,
        evidence.sourceIPAddress,
        evidence.eventID,
        evidence.userAgent,
      ]
        .map((part) => part.replace(/\s+/g, '_') || '-')
        .join(' '),
    ),
  };
  const summary = evidenceTagValue([evidence], 1);
  if (summary) {
    tags[TAGS.evidence] = summary;
  }
  return tags;
}

/** What the fast path did to a hold of this execution, as the registry records it. */
export interface FastPathTakeover {
  readonly outcome: FastPathOutcome;
  /** True once the fast path sent the evidence e-mail; false: the workflow must send it. */
  readonly notified: boolean;
  /** When the fast path gave the key back. */
  readonly actedAt: string;
  readonly evidence: Evidence | null;
}

/**
 * Did the fast path already end this execution's hold? Read by the workflow's restore steps, so an
 * execution whose key the fast path gave back ends ROLLED_BACK or DELETION_CANCELLED (not ABORTED
 * because the key "changed"), and without a second e-mail.
 */
export function fastPathTakeover(hold: HoldRecord | null, executionArn: string): FastPathTakeover | null {
  const end = hold?.end;
  if (!hold || hold.executionArn !== executionArn || hold.phase !== 'ended' || end?.by !== 'fast-path') {
    return null;
  }
  if (end.status !== 'rolled-back' && end.status !== 'deletion-cancelled') {
    return null;
  }
  return {
    outcome: end.status === 'rolled-back' ? 'ROLLED_BACK' : 'DELETION_CANCELLED',
    notified: end.notified,
    actedAt: end.at,
    evidence: end.evidence,
  };
}

/** The tags that mirror a hold the fast path undid: status and the record that showed the key is needed. */
export function fastPathEndTags(
  executionArn: string,
  outcome: FastPathOutcome,
  evidence: Evidence,
): Record<string, string> {
  const status = outcome === 'ROLLED_BACK' ? 'rolled-back' : 'deletion-cancelled';
  return {
    ...holdTags(executionArn, { status }),
    ...evidenceTags(evidence),
  };
}

/**
 * The watch state the execution ends with after the fast path acted: whatever the polling watch
 * had found, plus the fast path's record (once), so the execution's result names the caller.
 */
export function fastPathWatch(
  previous: WatchState | null | undefined,
  evidence: Evidence | null,
  now: Date,
): WatchState {
  const base: WatchState = previous ?? {
    phase: 'OBSERVE',
    cursor: now.toISOString(),
    seenEventIds: [],
    checks: 0,
    nextCheckAt: now.toISOString(),
    done: false,
    broke: false,
    evidence: [],
    evidenceCount: 0,
    scanned: 0,
    reportText: '',
    subject: '',
  };
  const known = base.evidence.some((e) => e.eventID === evidence?.eventID);
  const added = evidence && !known ? [evidence] : [];
  return {
    ...base,
    broke: true,
    evidence: [...base.evidence, ...added],
    evidenceCount: Math.max(base.evidenceCount, base.evidence.length) + added.length,
  };
}
