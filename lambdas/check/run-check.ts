import { sendCanary } from '../aws/canary.js';
import { proveEarlierCanaries } from '../aws/canary-proof.js';
import { homeRegion, kmsClient } from '../aws/clients.js';
import { findRecords } from '../aws/cloudtrail-source.js';
import { readHold } from '../aws/hold-registry.js';
import { readKey } from '../aws/key-reader.js';
import { readKeyLastUsage } from '../aws/key-usage.js';
import { addCanary, isWorkflowRecord, parseCanaries } from '../domain/canary.js';
import { type KeyRef, type RecordKind, toEvidence } from '../domain/cloudtrail.js';
import { EventSourceUnavailableError } from '../domain/errors.js';
import { type UsageAfterDisable, usageAfterDisable } from '../domain/final-usage.js';
import { verifyHeldKey } from '../domain/hold-record.js';
import { evidenceReport, type Message, observationReport, progressNote } from '../domain/report-message.js';
import type { CheckEvent, KeyFacts, WatchPlan, WatchState } from '../domain/types.js';
import { advanceWatch, type ScheduleContext } from '../domain/watch.js';
import { dedupe, nextWindow } from '../domain/window.js';
import { logger } from './logger.js';

/** A check event whose every field this handler reads was checked against its schema. */
export type ValidCheckEvent = CheckEvent & {
  readonly assessment: CheckEvent['assessment'] & { readonly key: KeyFacts; readonly plan: WatchPlan };
};

/** A key pending deletion (the pending window, or a deletion someone else scheduled) fails differently. */
function kindOf(phase: WatchState['phase'], pending: boolean): RecordKind {
  return phase === 'PENDING' || pending ? 'PENDING_USE' : 'BREAKAGE';
}

/**
 * One check of OBSERVE (CheckForBreakage), FINAL (FinalCheck) or PENDING (CheckPendingUse).
 *
 * Re-reads the key (it must still be as this execution left it), searches the CloudTrail log
 * group from the cursor, less the ingestion lag, to now for failed calls on the key, and returns
 * the advanced watch. FinalCheck also asks GetKeyLastUsage. Errors propagate: a check that could
 * not run must never count as a quiet one.
 */
export async function runCheck(event: ValidCheckEvent, now: Date): Promise<WatchState> {
  const { phase, executionArn, watch } = event;
  const facts = event.assessment.key;
  const plan = event.assessment.plan;
  const key: KeyRef = { keyId: facts.keyId, keyArn: facts.keyArn, aliases: facts.aliases };
  const disabledAt = new Date(event.disable.disabledAt);

  const current = await readKey(facts.keyArn, facts.region);
  // The hold registry, not the tags, says whether this execution still holds the key as it left it.
  const held = verifyHeldKey(
    phase,
    { keyState: current.metadata.KeyState ?? 'Unknown', tags: current.tags },
    await readHold(facts.keyArn),
    executionArn,
  );
  const pending = phase === 'PENDING' || held.pendingBySomeoneElse;

  const cursor = new Date(watch.cursor);
  const window = nextWindow(cursor, now, plan.ingestionLagSeconds);
  const found = await findRecords({
    logGroupName: plan.logGroupName,
    region: homeRegion(),
    key,
    start: window.start,
    end: window.end,
    kind: kindOf(phase, pending),
    now,
  });
  if (found.searchedFrom.getTime() > cursor.getTime()) {
    // Part of the time since the last check is older than the log group (re-created) or its
    // retention: records of that stretch can never be seen, so quiet would prove nothing.
    throw new EventSourceUnavailableError(
      `Log group ${plan.logGroupName} can only show records from ${found.searchedFrom.toISOString()}, but the watch needs them from ${cursor.toISOString()}.`,
    );
  }
  // Remember IDs a little further back than the next window reaches: a late record's log timestamp
  // can be later than its eventTime.
  const keepSince = new Date(now.getTime() - 2 * plan.ingestionLagSeconds * 1000);
  const { fresh, seen } = dedupe(found.records, watch.seenEventIds, keepSince);
  const principals = plan.workflowPrincipalArns ?? [];
  let canaries = parseCanaries(watch.canaries);
  const evidence = fresh.filter((record) => !isWorkflowRecord(record, canaries, principals)).map(toEvidence);

  let usage: UsageAfterDisable | null = null;
  if (phase === 'FINAL') {
    usage = usageAfterDisable(await readKeyLastUsage(kmsClient(facts.region), facts.keyArn), disabledAt);
    if (usage.evidence) {
      evidence.push(usage.evidence);
    }
  }

  // Quiet proves nothing unless the source shows the workflow's own failing calls. Evidence already
  // found decides on its own (the key goes back either way, and the evidence is the better e-mail).
  let newlySeen = 0;
  if (evidence.length === 0) {
    const proof = await proveEarlierCanaries({
      key,
      canaries,
      logGroupName: plan.logGroupName,
      lagSeconds: plan.ingestionLagSeconds,
      now,
      workflowPrincipalArns: principals,
      // FinalCheck waits for the last observation check's canary, made one lag before it.
      requireRecentProof: phase === 'FINAL',
      searched: { since: window.start, records: found.records, ingestedAt: found.ingestedAt },
    });
    canaries = proof.canaries;
    newlySeen = proof.newlySeen;
  }

  const ctx: ScheduleContext = {
    now,
    plan,
    disabledAt,
    scheduledAt: event.deletion ? new Date(event.deletion.scheduledAt) : undefined,
    deletionDate: event.deletion?.deletionDate ? new Date(event.deletion.deletionDate) : null,
  };
  const draft = advanceWatch(watch, phase, ctx, {
    seenEventIds: seen,
    evidence,
    scanned: found.scanned,
    reportText: '',
    subject: '',
  });
  const message = noteOthersDeletion(
    messageFor(draft, event, now, key, usage),
    held.pendingBySomeoneElse && phase !== 'PENDING' ? (current.metadata.DeletionDate ?? null) : undefined,
  );
  // The next canary, for a later check to prove; none after breakage, and none after the last
  // pending check, which no check would ever look for.
  if (!draft.broke && !(phase === 'PENDING' && draft.done)) {
    canaries = addCanary(canaries, await sendCanary(facts, pending ? 'PENDING_DELETION' : 'DISABLED', now));
  }
  const next: WatchState = {
    ...draft,
    reportText: message.text,
    subject: message.subject,
    canaries,
    canariesSeen: (watch.canariesSeen ?? 0) + newlySeen,
  };

  logger.info('check done', {
    phase,
    keyArn: facts.keyArn,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    scanned: found.scanned,
    unparseable: found.unparseable,
    matched: found.records.length,
    fresh: fresh.length,
    evidence: evidence.length,
    broke: next.broke,
    done: next.done,
    nextCheckAt: next.nextCheckAt,
    canariesSeen: next.canariesSeen,
    canariesPending: canaries.filter((c) => !c.seen).length,
  });
  return next;
}

function messageFor(
  state: WatchState,
  event: ValidCheckEvent,
  now: Date,
  key: KeyRef,
  usage: UsageAfterDisable | null,
): Message {
  const { phase, executionArn } = event;
  if (state.broke) {
    return evidenceReport({
      key,
      executionArn,
      phase,
      evidence: state.evidence,
      evidenceCount: state.evidenceCount,
      now,
    });
  }
  if (phase === 'FINAL') {
    return observationReport({
      key,
      executionArn,
      plan: event.assessment.plan,
      disabledAt: new Date(event.disable.disabledAt),
      now,
      checks: state.checks,
      scanned: state.scanned,
      lastUsage: usage?.lastUsage ?? null,
      trackingStartDate: usage?.trackingStartDate,
      inventory: event.assessment.inventory,
    });
  }
  return progressNote({
    key,
    phase,
    checks: state.checks,
    scanned: state.scanned,
    now,
    nextCheckAt: state.nextCheckAt,
    done: state.done,
    deletionDate: event.deletion?.deletionDate,
  });
}

/**
 * The report says so when someone else scheduled the deletion of the key this execution holds
 * (`deletionDate` given; null while KMS has not set the date): the approver of the next step must
 * know the deletion is not the workflow's.
 */
function noteOthersDeletion(message: Message, deletionDate: Date | null | undefined): Message {
  if (deletionDate === undefined) {
    return message;
  }
  const when = deletionDate ? ` (KMS deletes it on ${deletionDate.toISOString()})` : '';
  return {
    ...message,
    text: `${message.text}

Someone other than this workflow scheduled the deletion of this key${when}. The workflow does not cancel a deletion it did not schedule unless a call fails on the key; it keeps watching, and cancels it on any failed call. Approving the deletion keeps the key under guard until KMS deletes it; rejecting ends the watch and leaves the deletion as it was scheduled.
`,
  };
}
