import { CancelKeyDeletionCommand, EnableKeyCommand, TagResourceCommand } from '@aws-sdk/client-kms';
import { kmsClient } from '../aws/clients.js';
import { isNotFound, readKey, toTagList } from '../aws/key-reader.js';
import { createLogger } from '../aws/logger.js';
import {
  evidenceTagValue,
  type HoldStep,
  holdTags,
  isPendingDeletion,
  parseRestoreEvent,
  planRestore,
  type RestoreAction,
} from '../domain/hold.js';
import { buildRestoreMessage } from '../domain/restore-message.js';
import type { RestoreEvent, RestoreResult } from '../domain/types.js';

const logger = createLogger('restore');

/** CancelKeyDeletion's answer when the deletion is already cancelled (by a previous attempt, or a person). */
function isNotPendingDeletion(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'KMSInvalidStateException' &&
    /is not pending deletion/i.test(error.message)
  );
}

interface Outcome {
  readonly actions: RestoreResult['actions'];
  readonly finalKeyState: string;
  readonly restoredAt: string | null;
  readonly reason: string;
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
    outcome = await restore(event, now);
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

async function restore(event: RestoreEvent, now: Date): Promise<Outcome> {
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
  const reading = await readKey(key.keyArn, key.region);
  const keyState = reading.metadata.KeyState ?? 'Unknown';
  const plan = planRestore(event.mode, { keyState, tags: reading.tags }, event.executionArn);
  const client = kmsClient(key.region);

  const done: RestoreAction[] = [];
  const notes: string[] = [];
  for (const action of plan.actions) {
    if (action === 'CancelKeyDeletion') {
      try {
        await client.send(new CancelKeyDeletionCommand({ KeyId: key.keyArn }));
        done.push(action);
      } catch (error) {
        if (!isNotPendingDeletion(error)) {
          throw error;
        }
        notes.push('KMS answered that the key was no longer pending deletion (already cancelled).');
      }
    } else {
      await client.send(new EnableKeyCommand({ KeyId: key.keyArn }));
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
    await client.send(
      new TagResourceCommand({ KeyId: key.keyArn, Tags: toTagList(holdTags(event.executionArn, step)) }),
    );
  }

  return {
    actions: done.length > 0 ? done : ['NONE'],
    finalKeyState: plan.expectedKeyState,
    restoredAt: done.length > 0 ? now.toISOString() : null,
    reason: [plan.reason, ...notes].join(' '),
  };
}
