import type { Context } from 'aws-lambda';
import { sendCanary } from '../aws/canary.js';
import { searchCanaryProof } from '../aws/canary-proof.js';
import { requireStateRoom, type SearchBound, searchBoundOf } from '../aws/cloudtrail-source.js';
import { readHold } from '../aws/hold-reader.js';
import { replaceHold } from '../aws/hold-registry.js';
import { scheduleKeyDeletion } from '../aws/key-deletion.js';
import { type KeyReading, readKey } from '../aws/key-reader.js';
import { tagKey } from '../aws/key-tagging.js';
import { createLogger } from '../aws/logger.js';
import { readSweptRecords } from '../aws/swept-records.js';
import { addCanary, parseCanaries } from '../domain/canary.js';
import { InvalidHandlerEventError, KeyChangedExternallyError } from '../domain/errors.js';
import { type HeldScheduleEvent, holdTags, parseScheduleEvent } from '../domain/hold.js';
import { describeHold, type HoldRecord, nextHold, planScheduleStep } from '../domain/hold-record.js';
import type { Canary, ScheduleContinuation, ScheduleOutput } from '../domain/types.js';
import { expectedDeletionAt, pendingWatchTimeoutSeconds, startWatch } from '../domain/watch.js';

const logger = createLogger('schedule-deletion');

/** The deletion as this step leaves it. */
interface Scheduled {
  readonly scheduledAt: string;
  readonly deletionDate: Date | null;
  readonly keyState: string;
  readonly pendingWindowInDays: number;
  readonly canaries: readonly Canary[];
  readonly step: string;
}

/**
 * ScheduleDeletion: schedules the deletion of a key this execution holds Disabled.
 *
 * The one step that cannot be taken back by itself runs under a claim on the hold registry, the
 * same compare-and-set the fast path and the restore step take: the hold goes from `watching` to
 * `scheduling` only if nobody wrote it since this step read it. Then the key and the hold are read
 * again, right before ScheduleKeyDeletion. So if the fast path re-enabled the key a second earlier
 * because a caller needs it, the claim fails (or the re-read shows the key Enabled) and nothing is
 * scheduled: the rollback wins, and the run ends with it. While the claim stands, the fast path
 * leaves the hold alone and comes back minutes later, when it finds the deletion to cancel.
 *
 * The claim records `deletionScheduled` before the call, and the status tag `pending-deletion` is
 * written before it too (KMS refuses tag changes on a key pending deletion): a crash after the call
 * leaves a record that says this execution scheduled the deletion, so Restore cancels it.
 *
 * A deletion someone else scheduled while this execution held the key is not scheduled again: the
 * step takes it under guard (the pending watch runs until KMS deletes the key, and cancels the
 * deletion on any failed call).
 */
export function handler(rawEvent: unknown): Promise<ScheduleOutput>;
export function handler(
  rawEvent: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<ScheduleOutput | ScheduleContinuation>;
export async function handler(
  rawEvent: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<ScheduleOutput | ScheduleContinuation> {
  const event = parseScheduleEvent(rawEvent);
  const { key, plan } = event.assessment;
  const now = new Date();

  // The same proof as every check, before the one step that cannot be taken back by itself: every
  // canary older than the ingestion lag must be in the source. When the deletion was approved
  // within the lag of FinalCheck, FinalCheck's own canary is not due yet; FinalCheck's proof of the
  // last observation canary, made one lag before it, is then the proof that ran just before. Its
  // search reaches back across the whole deletion approval wait, so in a busy log group it may take
  // several invocations: until it is complete, nothing is read for acting, claimed or scheduled.
  // With a sweep, its sightings of the hold are that search, and the proof stands as of the sweep's end.
  const canaries = parseEventCanaries(event.watch.canaries);
  const swept = await readSweptRecords({
    keyArn: key.keyArn,
    executionArn: event.executionArn,
    disabledAt: new Date(event.disable.disabledAt),
    window: { start: new Date(event.disable.disabledAt), end: now },
    now,
  });
  const search = await searchCanaryProof(
    {
      key: { keyId: key.keyId, keyArn: key.keyArn, aliases: key.aliases },
      canaries,
      logGroupName: plan.logGroupName,
      lagSeconds: plan.ingestionLagSeconds,
      now: swept?.searchedTo ?? now,
      workflowPrincipalArns: plan.workflowPrincipalArns ?? [],
      searched: swept
        ? { since: swept.searchedFrom, records: swept.records, ingestedAt: swept.ingestedAt }
        : undefined,
    },
    scheduleSearchBound(context, plan.checkIntervalSeconds),
    event.watch.resume,
  );
  if (!search.complete) {
    logger.info('canary proof search continues', {
      keyArn: key.keyArn,
      invocations: search.resume.invocations,
      pages: search.resume.pages,
    });
    // ContinueScheduleDeletion copies the resume into the watch: two copies beside the state.
    requireStateRoom(search.resume, rawEvent, 2);
    return { resume: search.resume };
  }
  const proof = search.proof;

  const reading = await readKey(key.keyArn, key.region);
  const { step, hold } = planScheduleStep(await readHold(key.keyArn), stateOf(reading), event.executionArn);

  let scheduled: Scheduled;
  if (step === 'already-scheduled') {
    scheduled = await recordScheduled(hold, await readKey(key.keyArn, key.region), proof.canaries, event);
  } else if (step === 'adopt') {
    scheduled = await adopt(hold, reading, proof.canaries, event, now);
  } else {
    // The last canary on the Disabled key; the first pending check requires its record.
    const canaries = addCanary(proof.canaries, await sendCanary(key, 'DISABLED', now));
    scheduled = await scheduleUnderClaim(hold, canaries, event, now);
  }
  logger.info('Key deletion scheduled', {
    keyArn: key.keyArn,
    step: scheduled.step,
    scheduledAt: scheduled.scheduledAt,
    deletionDate: scheduled.deletionDate?.toISOString() ?? null,
    keyState: scheduled.keyState,
  });

  return {
    scheduledAt: scheduled.scheduledAt,
    deletionDate: scheduled.deletionDate ? scheduled.deletionDate.toISOString() : null,
    keyState: scheduled.keyState,
    pendingWindowInDays: scheduled.pendingWindowInDays,
    watchTimeoutSeconds: pendingWatchTimeoutSeconds(
      new Date(),
      expectedDeletionAt(new Date(scheduled.scheduledAt), scheduled.deletionDate, plan),
    ),
    watch: {
      ...startWatch('PENDING', {
        now: new Date(scheduled.scheduledAt),
        plan,
        deletionDate: scheduled.deletionDate,
        since: new Date(event.watch.cursor),
      }),
      canaries: scheduled.canaries,
      canariesSeen: (event.watch.canariesSeen ?? 0) + proof.newlySeen,
    },
  };
}

/**
 * What ScheduleDeletion keeps after its proof's search out of its 60 s: the reads, the claim, the
 * tags, ScheduleKeyDeletion and the canary, each with the SDK's retries.
 */
export const SCHEDULE_RESERVE_MS = 25_000;

function scheduleSearchBound(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  checkIntervalSeconds: number,
): SearchBound | null {
  return searchBoundOf(context, SCHEDULE_RESERVE_MS, checkIntervalSeconds);
}

function stateOf(reading: KeyReading): string {
  return reading.metadata.KeyState ?? 'Unknown';
}

/** Writes `next` over `seen`, or says why the hold is no longer this step's to change. */
async function claim(seen: HoldRecord, next: HoldRecord, executionArn: string): Promise<HoldRecord> {
  if ((await replaceHold(seen, next)) === 'WRITTEN') {
    return next;
  }
  const now = await readHold(seen.keyArn);
  throw new KeyChangedExternallyError(
    `${describeHold(now, executionArn)}: it changed while ScheduleDeletion was about to act, so nothing was scheduled.`,
  );
}

async function scheduleUnderClaim(
  read: HoldRecord,
  canaries: readonly Canary[],
  event: HeldScheduleEvent,
  now: Date,
): Promise<Scheduled> {
  const { key, plan } = event.assessment;
  const scheduledAt = now.toISOString();
  let hold = read;
  if (hold.phase === 'watching') {
    hold = await claim(
      hold,
      nextHold(hold, { phase: 'scheduling', deletionScheduled: true, scheduledAt }, now),
      event.executionArn,
    );
  }
  // Under the claim, right before acting: the key and the hold as they are now.
  const reading = await readKey(key.keyArn, key.region);
  const again = await readHold(key.keyArn);
  if (again?.version !== hold.version) {
    throw new KeyChangedExternallyError(
      `${describeHold(again, event.executionArn)}: the hold changed under ScheduleDeletion's claim, so nothing was scheduled.`,
    );
  }
  if (planScheduleStep(again, stateOf(reading), event.executionArn).step === 'already-scheduled') {
    return recordScheduled(hold, reading, canaries, event);
  }
  await tagKey(
    key.keyArn,
    key.region,
    holdTags(event.executionArn, {
      status: 'pending-deletion',
      deletionScheduledAt: hold.scheduledAt ?? scheduledAt,
      approval: event.approval,
      // The inventory before this step found exactly these (it refuses otherwise): the key's record
      // says what its deletion makes unreadable.
      dataLossAccepted: event.assessment.request?.acceptDataLoss,
    }),
  );
  const answer = await scheduleKeyDeletion(key.keyArn, key.region, plan.pendingWindowInDays);
  const deletionDate = answer.deletionDate ?? null;
  await claim(
    hold,
    nextHold(
      hold,
      { phase: 'pending-deletion', deletionDate: deletionDate?.toISOString() ?? null },
      new Date(),
    ),
    event.executionArn,
  );
  return {
    scheduledAt: hold.scheduledAt ?? scheduledAt,
    deletionDate,
    keyState: answer.keyState ?? 'PendingDeletion',
    pendingWindowInDays: answer.pendingWindowInDays ?? plan.pendingWindowInDays,
    canaries,
    step: 'scheduled',
  };
}

/** A retry after ScheduleKeyDeletion succeeded: report that deletion, and record it if the crash came first. */
async function recordScheduled(
  hold: HoldRecord,
  reading: KeyReading,
  canaries: readonly Canary[],
  event: HeldScheduleEvent,
): Promise<Scheduled> {
  const deletionDate = reading.metadata.DeletionDate ?? null;
  if (hold.phase === 'scheduling') {
    await claim(
      hold,
      nextHold(
        hold,
        { phase: 'pending-deletion', deletionDate: deletionDate?.toISOString() ?? null },
        new Date(),
      ),
      event.executionArn,
    );
  }
  return {
    scheduledAt: hold.scheduledAt ?? new Date().toISOString(),
    deletionDate,
    keyState: stateOf(reading),
    pendingWindowInDays:
      reading.metadata.PendingDeletionWindowInDays ?? event.assessment.plan.pendingWindowInDays,
    canaries,
    step: 'already-scheduled',
  };
}

/**
 * Someone else scheduled the deletion while this execution held the key: it is not scheduled again,
 * and the hold moves to `pending-deletion` without `deletionScheduled`, so the pending watch and the
 * fast path guard it until KMS deletes the key and cancel it on any failed call.
 */
async function adopt(
  hold: HoldRecord,
  reading: KeyReading,
  proven: readonly Canary[],
  event: HeldScheduleEvent,
  now: Date,
): Promise<Scheduled> {
  const deletionDate = reading.metadata.DeletionDate ?? null;
  await claim(
    hold,
    nextHold(
      hold,
      {
        phase: 'pending-deletion',
        scheduledAt: now.toISOString(),
        deletionDate: deletionDate?.toISOString() ?? null,
      },
      now,
    ),
    event.executionArn,
  );
  const canaries = addCanary(proven, await sendCanary(event.assessment.key, 'PENDING_DELETION', now));
  return {
    scheduledAt: now.toISOString(),
    deletionDate,
    keyState: stateOf(reading),
    pendingWindowInDays:
      reading.metadata.PendingDeletionWindowInDays ?? event.assessment.plan.pendingWindowInDays,
    canaries,
    step: 'adopted a deletion someone else scheduled',
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
