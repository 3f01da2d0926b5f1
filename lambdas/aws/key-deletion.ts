import { ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { kmsClient } from './clients.js';

/** What KMS answered to ScheduleKeyDeletion; each member is absent when it left it out. */
export interface ScheduledDeletion {
  readonly deletionDate?: Date | undefined;
  readonly keyState?: string | undefined;
  readonly pendingWindowInDays?: number | undefined;
}

export async function scheduleKeyDeletion(
  keyArn: string,
  region: string,
  pendingWindowInDays: number,
): Promise<ScheduledDeletion> {
  const scheduled = await kmsClient(region).send(
    new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: pendingWindowInDays }),
  );
  return {
    deletionDate: scheduled.DeletionDate,
    keyState: scheduled.KeyState,
    pendingWindowInDays: scheduled.PendingWindowInDays,
  };
}
