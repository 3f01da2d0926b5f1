import { readHold } from '../aws/hold-reader.js';
import { replaceHold } from '../aws/hold-registry.js';
import { isNotFound, type KeyReading, readKey } from '../aws/key-reader.js';
import { cancelKeyDeletion, enableKey } from '../aws/key-restore.js';
import { tagKey } from '../aws/key-tagging.js';
import { createLogger } from '../aws/logger.js';
import { RestoreInProgressError } from '../domain/errors.js';
import { type FastPathTakeover, fastPathTakeover, fastPathWatch } from '../domain/fast-path.js';
import {
  evidenceTagValue,
  type HoldStep,
  holdTags,
  isPendingDeletion,
  parseRestoreEvent,
  sanitizeTagValue,
} from '../domain/hold.js';
import {
  beforeClaim,
  claimHold,
  describeHold,
  type HoldEnd,
  type HoldRecord,
  mayTakeOver,
  nextHold,
  ownHold,
  planRestoreFromHold,
  type RestoreAction,
  type RestorePlan,
  tagDisagreements,
} from '../domain/hold-record.js';
import { buildRestoreMessage } from '../domain/restore-message.js';
import { type Outcome, type RestoreEvent, type RestoreResult, TAGS } from '../domain/types.js';

const logger = createLogger('restore');

interface Restored {
  readonly actions: RestoreResult['actions'];
  readonly finalKeyState: string;
  readonly restoredAt: string | null;
  readonly reason: string;
  /** Where the key's tags disagreed with this execution's record. */
  readonly tampering: readonly string[];
  /** The run ends DELETION_CANCELLED: this step cancelled a deletion someone else scheduled, callers failing. */
  readonly cancelledOthersDeletion: boolean;
}

/** The fast path already undid this execution's hold: this step only reports it. */
interface Takeover {
  readonly takeover: FastPathTakeover;
  readonly finalKeyState: string;
}

/** How many times the step reads the hold again after losing a compare-and-set, before it gives up to its retry. */
const MAX_ATTEMPTS = 3;

function stateOf(reading: KeyReading): string {
  return reading.metadata.KeyState ?? 'Unknown';
}

/**
 * The result when the fast path acted first. The execution ends with the fast path's outcome and
 * the fast path's record as evidence; the message is the evidence e-mail the workflow sends only if
 * the fast path could not (`notified` false).
 */
function takeoverResult(event: RestoreEvent, found: Takeover, now: Date): RestoreResult {
  const { takeover } = found;
  const mode = takeover.outcome === 'ROLLED_BACK' ? 'ROLLBACK' : 'CANCEL_DELETION';
  const watch = fastPathWatch(event.watch, takeover.evidence, now);
  const outcome = {
    actions: [mode === 'ROLLBACK' ? 'EnableKey' : 'CancelKeyDeletion'] as RestoreResult['actions'],
    finalKeyState: found.finalKeyState,
    restoredAt: takeover.actedAt,
    reason: `The fast path (the EventBridge rule on KMS CloudTrail events) ${
      mode === 'ROLLBACK' ? 're-enabled the key' : 'cancelled the deletion'
    } at ${takeover.actedAt}, minutes after the failing call; this step changed nothing.`,
  };
  logger.info('The fast path already undid the hold', { mode: event.mode, ...takeover });
  const message = buildRestoreMessage({
    mode,
    outcome: takeover.outcome,
    executionArn: event.executionArn,
    key: event.assessment.key,
    ...outcome,
    watch,
    error: null,
    now,
  });
  // The mode of what happened to the key (the fast path's), whichever step found it.
  return {
    mode,
    ...outcome,
    ...message,
    fastPath: { outcome: takeover.outcome, notified: takeover.notified, watch },
  };
}

/**
 * RollBack (ROLLBACK), CancelDeletion (CANCEL_DELETION) and Restore (ABORT): undo what this
 * execution did to the key, as its record in the hold registry allows (planRestoreFromHold), record
 * how the hold ended, mirror it on the tags and write the e-mail. Safe to run again: the second run
 * finds the hold ended and does nothing.
 */
export async function handler(rawEvent: unknown): Promise<RestoreResult> {
  const event = parseRestoreEvent(rawEvent);
  const now = new Date();
  let restored: Restored;
  try {
    const done = await restore(event, now);
    if ('takeover' in done) {
      return takeoverResult(event, done, now);
    }
    restored = done;
  } catch (error) {
    if (!isNotFound(error)) {
      throw error;
    }
    restored = {
      actions: ['NONE'],
      finalKeyState: 'NotFound',
      restoredAt: null,
      reason:
        'The key no longer exists (KMS answers NotFoundException): it was deleted outside this workflow, so there is nothing to restore.',
      tampering: [],
      cancelledOthersDeletion: false,
    };
  }
  logger.info('Restore step finished', { mode: event.mode, outcome: event.outcome, ...restored });
  const reason =
    restored.tampering.length > 0
      ? `${restored.reason} Tampering: the key's tags disagreed with this execution's record (${restored.tampering.join('; ')}); the record decided.`
      : restored.reason;
  // A deletion someone else scheduled, cancelled because callers fail: the run ends as a cancelled
  // deletion, with the evidence, whichever ending found it.
  const outcome: Outcome = restored.cancelledOthersDeletion ? 'DELETION_CANCELLED' : event.outcome;
  const mode = restored.cancelledOthersDeletion ? 'CANCEL_DELETION' : event.mode;
  const message = buildRestoreMessage({
    mode,
    outcome,
    executionArn: event.executionArn,
    key: event.assessment.key,
    actions: restored.actions,
    finalKeyState: restored.finalKeyState,
    restoredAt: restored.restoredAt,
    reason,
    watch: event.watch,
    error: event.error,
    now,
  });
  const result: RestoreResult = {
    mode,
    actions: restored.actions,
    finalKeyState: restored.finalKeyState,
    restoredAt: restored.restoredAt,
    reason,
    ...message,
  };
  if (restored.cancelledOthersDeletion && event.outcome !== 'DELETION_CANCELLED') {
    // The workflow's ending for "the hold ended with another outcome than this step's" (it serves the
    // fast path's takeover the same way): the run ends DELETION_CANCELLED and sends this e-mail.
    const watch = event.watch ?? fastPathWatch(null, null, now);
    return { ...result, fastPath: { outcome: 'DELETION_CANCELLED', notified: false, watch } };
  }
  return result;
}

async function restore(event: RestoreEvent, now: Date): Promise<Restored | Takeover> {
  const key = event.assessment.key;
  if (!key) {
    return {
      actions: ['NONE'],
      finalKeyState: 'Unknown',
      restoredAt: null,
      reason:
        'The assessment did not identify a key, so this execution cannot have changed one; nothing was done.',
      tampering: [],
      cancelledOthersDeletion: false,
    };
  }
  const nonce = event.executionArn;
  for (let attempt = 1; ; attempt++) {
    const reading = await readKey(key.keyArn, key.region);
    const hold = await readHold(key.keyArn);
    const fast = fastPathTakeover(hold, event.executionArn);
    if (fast) {
      return { takeover: fast, finalKeyState: stateOf(reading) };
    }
    const tampering = tagDisagreements(reading.tags, hold && beforeClaim(hold), event.executionArn);
    const own = ownHold(hold, event.executionArn);
    if (!own || own.phase === 'ended') {
      return unchanged(event, reading, hold, tampering);
    }
    if (own.phase === 'restoring' && !mayTakeOver(own, 'workflow', nonce, now)) {
      throw new RestoreInProgressError(
        `The fast path claimed this hold at ${own.claim?.at ?? 'an unknown time'} and is giving the key back; this step looks again.`,
      );
    }
    const plan = planRestoreFromHold(event.mode, stateOf(reading), beforeClaim(own), event.executionArn);
    const claimed = claimHold(own, 'workflow', nonce, now);
    if ((await replaceHold(own, claimed)) === 'CONFLICT') {
      if (attempt >= MAX_ATTEMPTS) {
        throw new RestoreInProgressError(
          `The hold kept changing while this step tried to claim it (${describeHold(await readHold(key.keyArn), event.executionArn)}); this step looks again.`,
        );
      }
      continue;
    }
    return act(event, claimed, plan, tampering, now);
  }
}

/** No hold of this execution to end (never recorded, another execution's, or ended by this step before). */
function unchanged(
  event: RestoreEvent,
  reading: KeyReading,
  hold: HoldRecord | null,
  tampering: readonly string[],
): Restored {
  const end = ownHold(hold, event.executionArn)?.end ?? null;
  if (end?.by === 'workflow') {
    // A retry after this step ended the hold: report what it did then.
    return {
      actions: end.actions.length > 0 ? end.actions : ['NONE'],
      finalKeyState: stateOf(reading),
      restoredAt: end.actions.length > 0 ? end.at : null,
      reason: end.reason,
      tampering: end.tampering,
      cancelledOthersDeletion: false,
    };
  }
  const plan = planRestoreFromHold(event.mode, stateOf(reading), hold, event.executionArn);
  return {
    actions: ['NONE'],
    finalKeyState: stateOf(reading),
    restoredAt: null,
    reason: plan.reason,
    tampering,
    cancelledOthersDeletion: false,
  };
}

/** Under this step's claim: the plan's actions, the end of the hold, and its mirror on the tags. */
async function act(
  event: RestoreEvent,
  claimed: HoldRecord,
  plan: RestorePlan,
  tampering: readonly string[],
  now: Date,
): Promise<Restored> {
  const key = event.assessment.key;
  if (!key) {
    throw new TypeError('act() needs the assessed key');
  }
  const done: RestoreAction[] = [];
  const notes: string[] = [];
  for (const action of plan.actions) {
    if (action === 'CancelKeyDeletion') {
      if ((await cancelKeyDeletion(key.keyArn, key.region)) === 'CANCELLED') {
        done.push(action);
      } else {
        // Nobody of this stack cancels under this step's claim: a person did it first.
        notes.push('KMS answered that the key was no longer pending deletion (someone cancelled it first).');
      }
    } else {
      await enableKey(key.keyArn, key.region);
      done.push(action);
    }
  }
  const status = plan.status ?? 'aborted';
  const evidence = event.watch?.evidence ?? [];
  const end: HoldEnd = {
    by: 'workflow',
    status,
    at: now.toISOString(),
    reason: [plan.reason, ...notes].join(' '),
    actions: done,
    finalKeyState: plan.expectedKeyState,
    evidenceEventIds: evidence.map((e) => e.eventID),
    evidence: null,
    notified: true,
    tampering: [...tampering],
  };
  if ((await replaceHold(claimed, nextHold(claimed, { phase: 'ended', end }, now))) === 'CONFLICT') {
    // Only an actor that took over a claim older than CLAIM_TTL_MS writes here; this step looks again.
    throw new RestoreInProgressError(
      `The hold changed under this step's claim after it acted (${done.join(' + ') || 'nothing'}); this step looks again.`,
    );
  }

  // KMS refuses tag changes on a key pending deletion; such a key keeps its tags.
  if (!isPendingDeletion(plan.expectedKeyState)) {
    const step: HoldStep =
      status === 'rolled-back' || status === 'deletion-cancelled'
        ? {
            status,
            evidence: event.watch
              ? evidenceTagValue(event.watch.evidence, event.watch.evidenceCount)
              : undefined,
          }
        : { status };
    const tags: Record<string, string> = holdTags(event.executionArn, step);
    // A rejection's cause names who rejected and when (approval page or CLI); it joins the approvals
    // on the key, so the key itself tells the whole story of its hold.
    if (event.outcome === 'REJECTED' && event.error?.Cause) {
      tags[TAGS.rejectedBy] = sanitizeTagValue(event.error.Cause);
    }
    await tagKey(key.keyArn, key.region, tags);
  }
  return {
    actions: done.length > 0 ? done : ['NONE'],
    finalKeyState: plan.expectedKeyState,
    restoredAt: done.length > 0 ? now.toISOString() : null,
    reason: end.reason,
    tampering,
    cancelledOthersDeletion: plan.cancelsOthersDeletion && done.includes('CancelKeyDeletion'),
  };
}
