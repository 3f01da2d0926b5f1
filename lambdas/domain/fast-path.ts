/**
 * The fast path: KMS CloudTrail events reach EventBridge within minutes, and a failed
 * call on a key this workflow holds undoes the hold at once instead of at the next polling check.
 *
 * Pure decisions only. Which record concerns which key is the shared matcher of the polling check
 * (recordConcernsKey, isBreakage, isOwnCall); what may be done to the key is the restore step's
 * planRestore; the key's own tags say who holds it and who already acted.
 *
 * Two actors may want to undo the same hold at the same moment: the fast path, and the workflow's
 * own restore step after a polling check found the same record. KMS tags have no compare-and-set,
 * so they take turns with a claim tag, after Fischer's mutual-exclusion protocol: read the hold,
 * write `claim = <actor> <nonce> <time>`, wait longer than any actor takes from its read to its
 * write, read again, and act only if the claim is still its own. The one who acts writes the
 * ending status; the other sees it and neither enables twice nor e-mails twice. A key pending
 * deletion cannot be tagged, but there CancelKeyDeletion itself is the compare-and-set: only one
 * caller gets it to succeed, the other is told the key "is not pending deletion".
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
import {
  type CurrentKey,
  evidenceTagValue,
  holdTags,
  isPendingDeletion,
  planRestore,
  type RestorePlan,
  sanitizeTagValue,
} from './hold.js';
import { MINUTE_MS } from './time.js';
import type { Evidence, Outcome, RestoreMode, WatchState } from './types.js';

export type ClaimActor = 'fast-path' | 'workflow';

/** A claim older than this is taken to belong to an actor that crashed: anyone may claim again. */
export const CLAIM_TTL_MS = 5 * MINUTE_MS;

/**
 * How long an actor waits between writing its claim and reading it back. It must exceed the time
 * any actor takes from reading the hold to writing its claim (one TagResource call).
 */
export const DEFAULT_CLAIM_SETTLE_MS = 2_000;

export type FastPathOutcome = Extract<Outcome, 'ROLLED_BACK' | 'DELETION_CANCELLED'>;

export type FastPathDecision =
  | { readonly act: false; readonly reason: string }
  | {
      readonly act: true;
      readonly mode: Extract<RestoreMode, 'ROLLBACK' | 'CANCEL_DELETION'>;
      readonly outcome: FastPathOutcome;
      /** The execution whose hold this is, as its tag names it. */
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
  readonly current: CurrentKey;
  /** The workflow's own principals: their failing calls (the canary) are never evidence. */
  readonly workflowPrincipalArns: readonly string[];
}

/**
 * Should the fast path act on this key for this record, and how?
 *
 * Only a key whose tags show an active hold in a consistent state: `disabled` and Disabled (and it
 * was Enabled before, otherwise there is nothing to give back) on a `DisabledException`, or
 * `pending-deletion` and pending deletion on a failure of the pending window. Everything else is
 * left to the polling watch or to nobody: a key nobody holds (a person disabled it), a hold that
 * ended (rolled back, restored, aborted, cancelled), a hold still being taken (`disabling`), a key
 * whose state contradicts its tags, and a record older than the hold.
 */
export function decideFastPath(input: FastPathInput): FastPathDecision {
  const { record, key, current } = input;
  const skip = (reason: string): FastPathDecision => ({ act: false, reason });
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
  const executionArn = current.tags[TAGS.execution];
  if (executionArn === undefined || executionArn === '') {
    return skip('No execution of this workflow holds the key (a person disabled it, or it was never ours).');
  }
  const disabledAt = current.tags[TAGS.disabledAt];
  if (disabledAt !== undefined && Date.parse(record.eventTime) < Date.parse(disabledAt)) {
    return skip(`The record (${record.eventTime}) is older than the hold (disabled at ${disabledAt}).`);
  }
  const status = current.tags[TAGS.status];
  let mode: 'ROLLBACK' | 'CANCEL_DELETION';
  if (status === 'disabled') {
    if (current.keyState !== 'Disabled') {
      return skip(`The hold says disabled but the key is ${current.keyState}: the polling check decides.`);
    }
    if (!isBreakage(record, 'OBSERVE')) {
      return skip(`A ${record.errorCode} on a disabled key does not show that it is needed.`);
    }
    if (current.tags[TAGS.wasEnabled] !== 'true') {
      return skip(
        'The key was already Disabled before this workflow held it: there is nothing to give back.',
      );
    }
    mode = 'ROLLBACK';
  } else if (status === 'pending-deletion') {
    if (!isPendingDeletion(current.keyState)) {
      return skip(
        `The hold says pending-deletion but the key is ${current.keyState}: the polling check decides.`,
      );
    }
    mode = 'CANCEL_DELETION';
  } else {
    return skip(`The hold is at status "${status ?? '(none)'}", not one the fast path acts on.`);
  }
  const plan = planRestore(mode, current, executionArn);
  if (plan.actions.length === 0) {
    return skip(plan.reason);
  }
  return {
    act: true,
    mode,
    outcome: mode === 'ROLLBACK' ? 'ROLLED_BACK' : 'DELETION_CANCELLED',
    executionArn,
    evidence: toEvidence(record),
    plan,
  };
}

/** The claim tag's value for an actor. The nonce tells two attempts of one actor apart from another actor. */
export function claimValue(actor: ClaimActor, nonce: string, now: Date): string {
  return sanitizeTagValue(`${actor} ${nonce} ${now.toISOString()}`);
}

export interface Claim {
  readonly actor: ClaimActor;
  readonly nonce: string;
  readonly at: Date;
}

export function parseClaim(value: string | undefined): Claim | null {
  const match = /^(fast-path|workflow) (\S+) (\S+)$/.exec(value ?? '');
  if (!match) {
    return null;
  }
  const [, actor, nonce = '', at = ''] = match;
  const time = Date.parse(at);
  return Number.isNaN(time) ? null : { actor: actor as ClaimActor, nonce, at: new Date(time) };
}

/**
 * Where an actor stands before it claims: `taken` while another actor's claim is younger than
 * CLAIM_TTL_MS (it is acting right now), `free` otherwise (no claim, its own, or a stale one).
 */
export function claimStanding(
  tags: Readonly<Record<string, string>>,
  actor: ClaimActor,
  nonce: string,
  now: Date,
): 'free' | 'taken' {
  const claim = parseClaim(tags[FAST_PATH_TAGS.claim]);
  if (!claim || (claim.actor === actor && claim.nonce === sanitizeTagValue(nonce))) {
    return 'free';
  }
  return now.getTime() - claim.at.getTime() < CLAIM_TTL_MS ? 'taken' : 'free';
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

/** The evidence the fast path left on the key, read back from its tags. */
export function evidenceFromTags(tags: Readonly<Record<string, string>>): Evidence | null {
  const call = tags[FAST_PATH_TAGS.call];
  if (!call) {
    return null;
  }
  const [eventTime = '', eventName = '', errorCode = '', sourceIPAddress = '', eventID = '', userAgent = ''] =
    call.split(' ');
  return {
    eventID,
    eventTime,
    eventName,
    errorCode,
    principal: tags[FAST_PATH_TAGS.caller] ?? 'unknown',
    sourceIPAddress,
    userAgent: userAgent || 'unknown',
  };
}

/** What the fast path did to a hold of this execution, as the key's tags show it. */
export interface FastPathTakeover {
  readonly outcome: FastPathOutcome;
  /** True once the fast path sent the evidence e-mail; false: the workflow must send it. */
  readonly notified: boolean;
  /** When the fast path claimed the hold (moments before it acted). */
  readonly actedAt: string | null;
  readonly evidence: Evidence | null;
}

/**
 * Did the fast path already end this execution's hold? Read by the workflow's restore steps, so an
 * execution whose key the fast path gave back ends ROLLED_BACK or DELETION_CANCELLED (not ABORTED
 * because the key "changed"), and without a second e-mail.
 */
export function fastPathOutcome(current: CurrentKey, executionArn: string): FastPathTakeover | null {
  const { tags } = current;
  if (tags[TAGS.execution] !== sanitizeTagValue(executionArn)) {
    return null;
  }
  const status = tags[TAGS.status];
  if (status !== 'rolled-back' && status !== 'deletion-cancelled') {
    return null;
  }
  const claim = parseClaim(tags[FAST_PATH_TAGS.claim]);
  if (claim?.actor !== 'fast-path') {
    return null;
  }
  return {
    outcome: status === 'rolled-back' ? 'ROLLED_BACK' : 'DELETION_CANCELLED',
    notified: tags[FAST_PATH_TAGS.notified] === tags[FAST_PATH_TAGS.claim],
    actedAt: claim.at.toISOString(),
    evidence: evidenceFromTags(tags),
  };
}

/** The tags that end a hold the fast path undid: status, evidence and its claim (which names it as the actor). */
export function fastPathEndTags(
  executionArn: string,
  outcome: FastPathOutcome,
  evidence: Evidence,
  claim: string,
): Record<string, string> {
  const status = outcome === 'ROLLED_BACK' ? 'rolled-back' : 'deletion-cancelled';
  return {
    ...holdTags(executionArn, { status }),
    ...evidenceTags(evidence),
    [FAST_PATH_TAGS.claim]: claim,
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
