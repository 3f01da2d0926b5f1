import { CancelKeyDeletionCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { kmsClient } from './clients.js';

/** The two calls that give a held key back: the restore step and the fast path send them. */

export async function enableKey(keyArn: string, region: string): Promise<void> {
  await kmsClient(region).send(new EnableKeyCommand({ KeyId: keyArn }));
}

/**
 * CancelKeyDeletion. `NOT_PENDING` when KMS answers that the key is not pending deletion: only one
 * caller's cancel succeeds, so the deletion was already cancelled (by a previous attempt, the other
 * actor, or a person). Every other error propagates.
 */
export async function cancelKeyDeletion(
  keyArn: string,
  region: string,
): Promise<'CANCELLED' | 'NOT_PENDING'> {
  try {
    await kmsClient(region).send(new CancelKeyDeletionCommand({ KeyId: keyArn }));
    return 'CANCELLED';
  } catch (error) {
    if (isNotPendingDeletion(error)) {
      return 'NOT_PENDING';
    }
    throw error;
  }
}

function isNotPendingDeletion(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'KMSInvalidStateException' &&
    /is not pending deletion/i.test(error.message)
  );
}
