import { sendCanary } from '../aws/canary.js';
import { proveEarlierCanaries } from '../aws/canary-proof.js';
import { scheduleKeyDeletion } from '../aws/key-deletion.js';
import { readKey } from '../aws/key-reader.js';
import { tagKey } from '../aws/key-tagging.js';
import { createLogger } from '../aws/logger.js';
import { addCanary, parseCanaries } from '../domain/canary.js';
import { InvalidHandlerEventError } from '../domain/errors.js';
import { checkReadyToSchedule, holdTags, parseScheduleEvent } from '../domain/hold.js';
import { type ScheduleOutput, TAGS } from '../domain/types.js';
import { expectedDeletionAt, pendingWatchTimeoutSeconds, startWatch } from '../domain/watch.js';

const logger = createLogger('schedule-deletion');

/**
 * ScheduleDeletion: schedules the deletion of a key this execution holds Disabled.
 *
 * The status tag `pending-deletion` is written BEFORE ScheduleKeyDeletion. Restore cancels a deletion
 * only when that tag says this execution scheduled it, so:
 * - tag first, crash before scheduling: the tag claims a deletion that does not exist; Restore finds
 *   nothing pending and cancels nothing; a retry of this handler schedules it. Harmless.
 * - schedule first, crash before tagging: a deletion exists that the tags do not claim; Restore (and a
 *   retry, which sees a pending key not marked as ours) must treat it as scheduled by a person and
 *   leave it alone, and the key is deleted unwatched. Unsafe.
 * Tagging first also means the one race it opens (a person scheduling the deletion between our read
 * and our call) ends with Restore cancelling that deletion: away from deletion, as intended. KMS
 * moreover refuses tag changes on a key pending deletion, so the tag could not reliably follow.
 */
export async function handler(rawEvent: unknown): Promise<ScheduleOutput> {
  const event = parseScheduleEvent(rawEvent);
  const { key, plan } = event.assessment;
  const now = new Date();

  const reading = await readKey(key.keyArn, key.region);
  const keyState = reading.metadata.KeyState ?? 'Unknown';
  const { alreadyScheduled } = checkReadyToSchedule({ keyState, tags: reading.tags }, event.executionArn);

  // The same proof as every check, before the one step that cannot be taken back by itself: every
  // canary older than the ingestion lag must be in the source. When the deletion was approved
  // within the lag of FinalCheck, FinalCheck's own canary is not due yet; FinalCheck's proof of the
  // last observation canary, made one lag before it, is then the proof that ran just before.
  let canaries = parseEventCanaries(event.watch.canaries);
  const proof = await proveEarlierCanaries({
    key: { keyId: key.keyId, keyArn: key.keyArn, aliases: key.aliases },
    canaries,
    logGroupName: plan.logGroupName,
    lagSeconds: plan.ingestionLagSeconds,
    now,
    workflowPrincipalArns: plan.workflowPrincipalArns ?? [],
  });
  canaries = proof.canaries;

  let scheduledAt: string;
  let deletionDate: Date | null;
  let finalState: string;
  let window: number;
  if (alreadyScheduled) {
    // A retry after a crash that followed a successful ScheduleKeyDeletion: report that deletion.
    const tagged = Date.parse(reading.tags[TAGS.deletionScheduledAt] ?? '');
    scheduledAt = Number.isNaN(tagged) ? now.toISOString() : new Date(tagged).toISOString();
    deletionDate = reading.metadata.DeletionDate ?? null;
    finalState = keyState;
    window = reading.metadata.PendingDeletionWindowInDays ?? plan.pendingWindowInDays;
  } else {
    scheduledAt = now.toISOString();
    // The last canary on the Disabled key; the first pending check requires its record.
    canaries = addCanary(canaries, await sendCanary(key, 'DISABLED', now));
    await tagKey(
      key.keyArn,
      key.region,
      holdTags(event.executionArn, {
        status: 'pending-deletion',
        deletionScheduledAt: scheduledAt,
        approval: event.approval,
        // The inventory before this step found exactly these (it refuses otherwise): the key's record
        // says what its deletion makes unreadable.
        dataLossAccepted: event.assessment.request?.acceptDataLoss,
      }),
    );
    const scheduled = await scheduleKeyDeletion(key.keyArn, key.region, plan.pendingWindowInDays);
    deletionDate = scheduled.deletionDate ?? null;
    finalState = scheduled.keyState ?? 'PendingDeletion';
    window = scheduled.pendingWindowInDays ?? plan.pendingWindowInDays;
  }
  logger.info('Key deletion scheduled', {
    keyArn: key.keyArn,
    scheduledAt,
    deletionDate: deletionDate?.toISOString() ?? null,
    keyState: finalState,
    alreadyScheduled,
  });

  return {
    scheduledAt,
    deletionDate: deletionDate ? deletionDate.toISOString() : null,
    keyState: finalState,
    pendingWindowInDays: window,
    watchTimeoutSeconds: pendingWatchTimeoutSeconds(
      new Date(),
      expectedDeletionAt(new Date(scheduledAt), deletionDate, plan),
    ),
    watch: {
      ...startWatch('PENDING', {
        now: new Date(scheduledAt),
        plan,
        deletionDate,
        since: new Date(event.watch.cursor),
      }),
      canaries,
      canariesSeen: (event.watch.canariesSeen ?? 0) + proof.newlySeen,
    },
  };
}

function parseEventCanaries(value: unknown) {
  try {
    return parseCanaries(value);
  } catch (error) {
    throw new InvalidHandlerEventError(
      `ScheduleDeletion received an event that breaks its contract: ${String(error)}`,
    );
  }
}
