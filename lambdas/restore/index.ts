import { claimHold, claimSettleMs } from '../aws/hold-claim.js';
import { isNotFound, type KeyReading, readKey } from '../aws/key-reader.js';
import { cancelKeyDeletion, enableKey } from '../aws/key-restore.js';
import { tagKey } from '../aws/key-tagging.js';
import { createLogger } from '../aws/logger.js';
import { FAST_PATH_TAGS } from '../contracts/tags.js';
import { RestoreInProgressError } from '../domain/errors.js';
import {
  claimStanding,
  claimValue,
  type FastPathTakeover,
  fastPathOutcome,
  fastPathWatch,
} from '../domain/fast-path.js';
import {
  type CurrentKey,
  evidenceTagValue,
  type HoldStep,
  holdTags,
  isPendingDeletion,
  parseRestoreEvent,
  planRestore,
  type RestoreAction,
  sanitizeTagValue,
} from '../domain/hold.js';
import { buildRestoreMessage } from '../domain/restore-message.js';
import { type RestoreEvent, type RestoreResult, TAGS } from '../domain/types.js';

const logger = createLogger('restore');

interface Outcome {
  readonly actions: RestoreResult['actions'];
  readonly finalKeyState: string;
  readonly restoredAt: string | null;
  readonly reason: string;
}

/** The fast path already undid this execution's hold: this step only reports it. */
interface Takeover {
  readonly takeover: FastPathTakeover;
  readonly finalKeyState: string;
}

/** The claim nonce of the restore steps: one execution holds a key, so its steps share one. */
const WORKFLOW_NONCE = 'restore';

function currentOf(reading: KeyReading): CurrentKey {
  return { keyState: reading.metadata.KeyState ?? 'Unknown', tags: reading.tags };
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
  const outcome: Outcome = {
    actions: [mode === 'ROLLBACK' ? 'EnableKey' : 'CancelKeyDeletion'],
    finalKeyState: found.finalKeyState,
    restoredAt: takeover.actedAt,
    reason: `The fast path (the EventBridge rule on KMS CloudTrail events) ${
      mode === 'ROLLBACK' ? 're-enabled the key' : 'cancelled the deletion'
    } at ${takeover.actedAt ?? 'an unknown time'}, minutes after the failing call; this step changed nothing.`,
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
 * execution did to the key, as planRestore allows, mark the hold as ended and write the e-mail.
 * Safe to run again: the second run finds the hold ended and does nothing.
 */
export async function handler(rawEvent: unknown): Promise<RestoreResult> {
  const event = parseRestoreEvent(rawEvent);
  const now = new Date();
  let outcome: Outcome;
  try {
    const done = await restore(event, now);
    if ('takeover' in done) {
      return takeoverResult(event, done, now);
    }
    outcome = done;
  } catch (error) {
    if (!isNotFound(error)) {
      throw error;
    }
    outcome = {
      actions: ['NONE'],
      finalKeyState: 'NotFound',
      restoredAt: null,
      reason:
        'The key no longer exists (KMS answers NotFoundException): it was deleted outside this workflow, so there is nothing to restore.',
    };
  }
  logger.info('Restore step finished', { mode: event.mode, outcome: event.outcome, ...outcome });
  const message = buildRestoreMessage({
    mode: event.mode,
    outcome: event.outcome,
    executionArn: event.executionArn,
    key: event.assessment.key,
    ...outcome,
    watch: event.watch,
    error: event.error,
    now,
  });
  return { mode: event.mode, ...outcome, ...message };
}

async function restore(event: RestoreEvent, now: Date): Promise<Outcome | Takeover> {
  const key = event.assessment.key;
  if (!key) {
    return {
      actions: ['NONE'],
      finalKeyState: 'Unknown',
      restoredAt: null,
      reason:
        'The assessment did not identify a key, so this execution cannot have changed one; nothing was done.',
    };
  }
  let current = currentOf(await readKey(key.keyArn, key.region));
  const before = fastPathOutcome(current, event.executionArn);
  if (before) {
    return { takeover: before, finalKeyState: current.keyState };
  }
  let plan = planRestore(event.mode, current, event.executionArn);

  // An active hold on a taggable key: take the claim first, so that a fast path acting on the same
  // record at this moment stands back (or this step does). A key pending deletion cannot be tagged;
  // there CancelKeyDeletion decides (below).
  if (plan.status && !isPendingDeletion(current.keyState)) {
    if (claimStanding(current.tags, 'workflow', WORKFLOW_NONCE, now) === 'taken') {
      throw new RestoreInProgressError(
        `The fast path claimed this hold (${current.tags[FAST_PATH_TAGS.claim]}) and is undoing it; this step looks again.`,
      );
    }
    const claimed = await claimHold(key.keyArn, key.region, 'workflow', WORKFLOW_NONCE, now);
    current = currentOf(claimed.reading);
    if (!claimed.won) {
      const fast = fastPathOutcome(current, event.executionArn);
      if (fast) {
        return { takeover: fast, finalKeyState: current.keyState };
      }
      throw new RestoreInProgressError(
        `Another actor claimed this hold at the same moment (${current.tags[FAST_PATH_TAGS.claim] ?? '(none)'}); this step looks again.`,
      );
    }
    plan = planRestore(event.mode, current, event.executionArn);
  }

  const done: RestoreAction[] = [];
  const notes: string[] = [];
  for (const action of plan.actions) {
    if (action === 'CancelKeyDeletion') {
      if ((await cancelKeyDeletion(key.keyArn, key.region)) === 'CANCELLED') {
        done.push(action);
      } else {
        // Only one CancelKeyDeletion succeeds: if the fast path's did, it tags the key right after.
        await new Promise((resolve) => setTimeout(resolve, claimSettleMs()));
        const after = currentOf(await readKey(key.keyArn, key.region));
        const fast = fastPathOutcome(after, event.executionArn);
        if (fast) {
          return { takeover: fast, finalKeyState: after.keyState };
        }
        notes.push('KMS answered that the key was no longer pending deletion (already cancelled).');
      }
    } else {
      await enableKey(key.keyArn, key.region);
      done.push(action);
    }
  }

  // KMS refuses tag changes on a key pending deletion; such a key was left alone anyway.
  if (plan.status && !isPendingDeletion(plan.expectedKeyState)) {
    const step: HoldStep =
      plan.status === 'rolled-back' || plan.status === 'deletion-cancelled'
        ? {
            status: plan.status,
            evidence: event.watch
              ? evidenceTagValue(event.watch.evidence, event.watch.evidenceCount)
              : undefined,
          }
        : { status: plan.status };
    // The claim goes along: it names this workflow as the one that ended the hold.
    const tags: Record<string, string> = {
      ...holdTags(event.executionArn, step),
      [FAST_PATH_TAGS.claim]: claimValue('workflow', WORKFLOW_NONCE, now),
    };
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
    reason: [plan.reason, ...notes].join(' '),
  };
}
