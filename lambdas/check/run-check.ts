import type { Context } from 'aws-lambda';
import { sendCanary } from '../aws/canary.js';
import { proveEarlierCanaries } from '../aws/canary-proof.js';
import { homeRegion, kmsClient } from '../aws/clients.js';
import {
  type RecordQuery,
  type RecordSearch,
  requireStateRoom,
  type SearchBound,
  searchBoundOf,
  searchRecords,
} from '../aws/cloudtrail-source.js';
import { readHold } from '../aws/hold-reader.js';
import { isNotFound, type KeyReading, readKey } from '../aws/key-reader.js';
import { readKeyLastUsage } from '../aws/key-usage.js';
import { readSweptRecords } from '../aws/swept-records.js';
import { WORKFLOW_ERRORS } from '../contracts/workflow-errors.js';
import { addCanary, canarySearchStart, isWorkflowRecord, parseCanaries } from '../domain/canary.js';
import { type KeyRef, type RecordKind, recordMatchesKind, toEvidence } from '../domain/cloudtrail.js';
import {
  EventSourceUnavailableError,
  KeyChangedExternallyError,
  SweepBehindError,
} from '../domain/errors.js';
import { type UsageAfterDisable, usageAfterDisable } from '../domain/final-usage.js';
import { type HoldRecord, verifyHeldKey } from '../domain/hold-record.js';
import {
  deletionDateNote,
  evidenceReport,
  type Message,
  observationReport,
  progressNote,
} from '../domain/report-message.js';
import { STREAM_PROOF_LAG_MS } from '../domain/stream.js';
import type { CheckEvent, KeyChange, KeyFacts, WatchPlan, WatchState } from '../domain/types.js';
import { advanceWatch, isDecisionCheck, type ScheduleContext } from '../domain/watch.js';
import { checkWindow, dedupe, type QueryWindow } from '../domain/window.js';
import { logger } from './logger.js';

/**
 * What a check keeps for the work after its search (GetKeyLastUsage, the canary, the next schedule
 * or the answer to the token, each with the SDK's retries) out of the function's 300 s.
 */
export const CHECK_RESERVE_MS = 30_000;

/**
 * A check's search bound: the invocation's time less the reserve, at most 240 s, and no more
 * continuations than fit in one check interval. Null without a Lambda context (no bound).
 */
export function checkSearchBound(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  plan: WatchPlan,
): SearchBound | null {
  return searchBoundOf(context, CHECK_RESERVE_MS, plan.checkIntervalSeconds);
}

/** A check event whose every field this handler reads was checked against its schema. */
export type ValidCheckEvent = CheckEvent & {
  readonly assessment: CheckEvent['assessment'] & { readonly key: KeyFacts; readonly plan: WatchPlan };
};

/** A key pending deletion (the pending window, or a deletion someone else scheduled) fails differently. */
function kindOf(phase: WatchState['phase'], pending: boolean): RecordKind {
  return phase === 'PENDING' || pending ? 'PENDING_USE' : 'BREAKAGE';
}

/**
 * The check's window, reaching back to the earliest canary still waiting for its record: the
 * canaries' failures are breakage-shaped records of the key, so this one search proves them too, and
 * no second search (which could not be split) is ever needed. A continuation keeps the window its
 * search was started with.
 */
function searchWindow(event: ValidCheckEvent, window: QueryWindow): QueryWindow {
  const waiting = parseCanaries(event.watch.canaries).filter((c) => !c.seen);
  const start =
    waiting.length === 0
      ? window.start.getTime()
      : Math.min(window.start.getTime(), canarySearchStart(waiting).getTime());
  return { start: new Date(start), end: window.end };
}

/**
 * The check's records: from its own search of the log group, or, in a stack whose sweep searches for
 * every held key at once, from the sweep's sightings of this hold, standing as of the sweep's end.
 *
 * A last look (`lastLookLagSeconds`: the final check, the check at the deletion date) has no later
 * check to find what the sweep could not see yet: a record of the last minutes before the sweep's end
 * still on its way (up to the ingestion lag) and everything after it. It searches that tail of its
 * window itself, from the ingestion lag before the sweep's end: at most the sightings' maximum age
 * and the lag, however long the hold.
 */
async function recordsOf(
  q: RecordQuery & { readonly key: KeyRef; readonly now: Date },
  hold: { readonly executionArn: string; readonly disabledAt: Date; readonly dueAt: Date },
  bound: SearchBound | null,
  resume: WatchState['resume'],
  lastLookLagSeconds: number | null,
): Promise<RecordSearch> {
  // The sightings hold the whole hold, read again by every sweep: every check takes all of them, so
  // a record delivered after the previous check's window is found by the next check, not only by a decision.
  const swept = await readSweptRecords({
    keyArn: q.key.keyArn,
    executionArn: hold.executionArn,
    disabledAt: hold.disabledAt,
    window: { start: new Date(0), end: q.end },
    now: q.now,
  });
  if (swept === null) {
    return searchRecords(q, bound, resume);
  }
  const records = swept.records.filter((record) => recordMatchesKind(record, q.kind));
  const provenBy = hold.dueAt.getTime() - STREAM_PROOF_LAG_MS;
  if (lastLookLagSeconds !== null && swept.subscription && swept.searchedTo.getTime() < provenBy) {
    // The subscription's sightings already hold every record delivered up to now, whatever its event
    // time: a last look has nothing to search. Its time includes the subscription's own delay (the
    // stack adds STREAM_PROOF_LAG_MS to the ingestion lag), so the proof must stand that far; a proof
    // that has not got there yet is a transient error, retried.
    throw new SweepBehindError(
      `The subscription's deliveries are proven up to ${swept.searchedTo.toISOString()}, not yet through ` +
        `${new Date(provenBy).toISOString()}, which this last look of ${q.key.keyArn} needs: it waits for the proof.`,
    );
  }
  if (lastLookLagSeconds !== null && !swept.subscription && swept.searchedTo.getTime() < q.end.getTime()) {
    const tailStart = Math.max(q.start.getTime(), swept.searchedTo.getTime() - lastLookLagSeconds * 1000);
    const tail = await searchRecords({ ...q, start: new Date(tailStart) }, bound, resume);
    if (!tail.complete) {
      return tail;
    }
    const byId = new Map(records.map((record) => [record.eventID, record]));
    for (const record of tail.result.records) byId.set(record.eventID, record);
    return {
      complete: true,
      result: {
        records: [...byId.values()].sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime)),
        scanned: records.length + tail.result.scanned,
        unparseable: tail.result.unparseable,
        searchedFrom: swept.searchedFrom,
        searchedTo: tail.result.searchedTo ?? q.end,
        ingestedAt: new Map([...swept.ingestedAt, ...tail.result.ingestedAt]),
      },
      stats: tail.stats,
    };
  }
  return {
    complete: true,
    result: {
      records,
      // The sweep scanned the log group; this check only read what it kept of this key.
      scanned: records.length,
      unparseable: 0,
      searchedFrom: swept.searchedFrom,
      searchedTo: swept.searchedTo,
      ingestedAt: swept.ingestedAt,
    },
    stats: { pages: 0, totalPages: 0, invocations: 1, restarts: 0, elapsedMs: 0 },
  };
}

/** The key as it is now, or null once it no longer exists (KMS deleted it). Other errors propagate. */
async function readCurrentKey(facts: KeyFacts): Promise<KeyReading | null> {
  try {
    return await readKey(facts.keyArn, facts.region);
  } catch (error) {
    if (isNotFound(error)) {
      return null;
    }
    throw error;
  }
}

/**
 * How the key differs from what this execution left, as the error the workflow ends with; undefined
 * while it is as the phase expects. At the deletion date a key that no longer exists is the expected end.
 */
function keyChangeOf(
  event: ValidCheckEvent,
  reading: KeyReading | null,
  hold: HoldRecord | null,
  atDeletion: boolean,
): { change: KeyChange | undefined; pendingBySomeoneElse: boolean } {
  if (reading === null) {
    return {
      pendingBySomeoneElse: false,
      change: atDeletion
        ? undefined
        : {
            error: WORKFLOW_ERRORS.keyChanged,
            cause: `The key no longer exists (KMS answers NotFoundException): it was deleted outside this workflow during the ${event.phase === 'PENDING' ? 'pending window' : 'observation'}.`,
          },
    };
  }
  const keyState = reading.metadata.KeyState ?? 'Unknown';
  if (event.phase === 'PENDING' && keyState === 'PendingReplicaDeletion') {
    // The assessment refuses a primary with replicas, so they were made during the hold: their use is
    // not watched, and KMS sets no DeletionDate (the wait can last indefinitely) until they are gone.
    return {
      pendingBySomeoneElse: false,
      change: {
        error: WORKFLOW_ERRORS.keyChanged,
        cause:
          'The key is PendingReplicaDeletion: replica keys were created after the assessment. Their use is not watched and KMS gives no deletion date until they are deleted, so the watch cannot guard the key until it is gone. Handle the replicas first, then run the workflow again.',
      },
    };
  }
  try {
    // The hold registry, not the tags, says whether this execution still holds the key as it left it.
    const held = verifyHeldKey(event.phase, { keyState, tags: reading.tags }, hold, event.executionArn);
    return { change: undefined, pendingBySomeoneElse: held.pendingBySomeoneElse };
  } catch (error) {
    if (error instanceof KeyChangedExternallyError) {
      return { change: { error: error.name, cause: error.message }, pendingBySomeoneElse: false };
    }
    throw error;
  }
}

/**
 * One check of OBSERVE (CheckForBreakage), FINAL (FinalCheck), PENDING (CheckPendingUse) or, with
 * `atDeletion`, the pending window's look at the key on its deletion date (CheckAtDeletionDate).
 *
 * Evidence first: the check searches the CloudTrail log group for failed calls on the key and asks
 * GetKeyLastUsage for a use after the disable BEFORE it judges the key, so a key changed by someone
 * else (re-enabled, its tags removed, its deletion scheduled or cancelled, deleted) still has its
 * evidence searched and handed on in the result (`keyChange` beside `evidence`). An observation check
 * searches from its cursor less the ingestion lag; a decision (FINAL, PENDING) searches the whole hold
 * again, so a record delivered later than the lag is still found. Errors propagate: a check that
 * could not run must never count as a quiet one.
 *
 * With `bound`, a search that runs out of the invocation's time answers the watch unchanged with
 * `resume` (where it stopped); the next invocation, given that watch, goes on from there, and the
 * check decides only once its search is complete.
 */
export async function runCheck(
  event: ValidCheckEvent,
  now: Date,
  bound: SearchBound | null = null,
): Promise<WatchState> {
  const { phase, watch } = event;
  const atDeletion = phase === 'PENDING' && event.atDeletion === true;
  const facts = event.assessment.key;
  const plan = event.assessment.plan;
  const key: KeyRef = { keyId: facts.keyId, keyArn: facts.keyArn, aliases: facts.aliases };
  const disabledAt = new Date(event.disable.disabledAt);

  // The key and its hold are read first only to know what to search for (a key someone else scheduled
  // for deletion fails with KMSInvalidStateException); the verdict on them waits for the evidence.
  const reading = await readCurrentKey(facts);
  const keyState = reading === null ? 'NotFound' : (reading.metadata.KeyState ?? 'Unknown');
  const hold = await readHold(facts.keyArn);
  const { change: keyChange, pendingBySomeoneElse } = keyChangeOf(event, reading, hold, atDeletion);

  const cursor = new Date(watch.cursor);
  const decision = isDecisionCheck(phase);
  const window = searchWindow(
    event,
    checkWindow({ decision, cursor, disabledAt, now, lagSeconds: plan.ingestionLagSeconds }),
  );
  const search = await recordsOf(
    {
      logGroupName: plan.logGroupName,
      region: homeRegion(),
      key,
      start: window.start,
      end: window.end,
      kind: kindOf(phase, pendingBySomeoneElse),
      now,
    },
    { executionArn: event.executionArn, disabledAt, dueAt: new Date(watch.nextCheckAt) },
    bound,
    watch.resume,
    phase === 'FINAL' || atDeletion ? plan.ingestionLagSeconds : null,
  );
  if (!search.complete) {
    // Nothing is decided on part of the window: the watch goes on unchanged, with where the search stopped.
    logger.info('check search continues', {
      phase,
      keyArn: facts.keyArn,
      window: { start: search.resume.start, end: search.resume.end, decision },
      pages: search.stats.pages,
      totalPages: search.stats.totalPages,
      invocations: search.stats.invocations,
      restarts: search.stats.restarts,
      matched: search.resume.records.length,
    });
    // The resume travels in the event (a schedule's input, or FinalCheck's output into the state).
    requireStateRoom(search.resume, event);
    return { ...watch, resume: search.resume };
  }
  const found = search.result;
  // A split search read the window the first invocation fixed: the check stands as of its end.
  const asOf = found.searchedTo ?? now;
  if (found.searchedFrom.getTime() > cursor.getTime()) {
    // Part of the time since the last check is older than the log group (re-created) or its
    // retention: records of that stretch can never be seen, so quiet would prove nothing.
    throw new EventSourceUnavailableError(
      `Log group ${plan.logGroupName} can only show records from ${found.searchedFrom.toISOString()}, but the watch needs them from ${cursor.toISOString()}.`,
    );
  }
  // Remember IDs a little further back than the next window reaches: a late record's log timestamp
  // can be later than its eventTime. A decision re-reads older records too, but those can only be the
  // workflow's own (any evidence ended the watch), which are never evidence, so the state stays small.
  const keepSince = new Date(asOf.getTime() - 2 * plan.ingestionLagSeconds * 1000);
  const { fresh, seen } = dedupe(found.records, watch.seenEventIds, keepSince);
  const principals = plan.workflowPrincipalArns ?? [];
  let canaries = parseCanaries(watch.canaries);
  const evidence = fresh.filter((record) => !isWorkflowRecord(record, canaries, principals)).map(toEvidence);

  // What the key became decides what happens next, never whether the evidence was searched.
  let usage: UsageAfterDisable | null = null;
  if (reading !== null && (decision || keyChange !== undefined)) {
    // A successful use after the disable shows the key is needed as surely as a failed call does
    // (someone re-enabled it, used it and disabled it again, or the disable never took). Read before
    // every decision, and whenever someone else changed the key, so its report names the use.
    usage = usageAfterDisable(await readKeyLastUsage(kmsClient(facts.region), facts.keyArn), disabledAt);
    if (usage.evidence && !watch.evidence.some((e) => e.eventID === usage?.evidence?.eventID)) {
      evidence.push(usage.evidence);
    }
  }

  // Quiet proves nothing unless the source shows the workflow's own failing calls. Evidence already
  // found decides on its own (the key goes back either way, and the evidence is the better e-mail);
  // a key that changed or is gone ends the watch whatever the canaries say.
  let newlySeen = 0;
  if (evidence.length === 0 && keyChange === undefined && reading !== null) {
    const proof = await proveEarlierCanaries(
      {
        key,
        canaries,
        logGroupName: plan.logGroupName,
        lagSeconds: plan.ingestionLagSeconds,
        // Canaries due by the window's end: a later one's record may not have been there to read.
        now: asOf,
        workflowPrincipalArns: principals,
        // FinalCheck waits for the last observation check's canary, made one lag before it.
        requireRecentProof: phase === 'FINAL',
        searched: { since: window.start, records: found.records, ingestedAt: found.ingestedAt },
      },
      bound,
    );
    canaries = proof.canaries;
    newlySeen = proof.newlySeen;
  }

  const ctx: ScheduleContext = {
    now,
    plan,
    disabledAt,
    scheduledAt: event.deletion ? new Date(event.deletion.scheduledAt) : undefined,
    deletionDate: event.deletion?.deletionDate ? new Date(event.deletion.deletionDate) : null,
    searchMs: search.stats.elapsedMs,
  };
  const draft = advanceWatch(watch, phase, ctx, {
    seenEventIds: seen,
    evidence,
    scanned: found.scanned,
    reportText: '',
    subject: '',
    keyState,
    keyChange,
    searchedTo: asOf,
  });
  const message = noteOthersDeletion(
    messageFor(draft, event, now, key, usage, atDeletion),
    pendingBySomeoneElse && phase !== 'PENDING' && reading !== null
      ? (reading.metadata.DeletionDate ?? null)
      : undefined,
  );
  // The next canary, for a later check to prove; none after breakage or a change, and none after the
  // last pending check, which no check would ever look for.
  if (!draft.broke && keyChange === undefined && !(phase === 'PENDING' && draft.done)) {
    canaries = addCanary(
      canaries,
      await sendCanary(
        facts,
        phase === 'PENDING' || pendingBySomeoneElse ? 'PENDING_DELETION' : 'DISABLED',
        now,
      ),
    );
  }
  const next: WatchState = {
    ...draft,
    reportText: message.text,
    subject: message.subject,
    canaries,
    canariesSeen: (watch.canariesSeen ?? 0) + newlySeen,
  };

  if (keyChange || (evidence.length > 0 && !next.broke)) {
    // Someone else changed the key, or failed calls came when nothing could be given back any more.
    logger.warn('check found the key out of reach', { phase, keyArn: facts.keyArn, keyState, keyChange });
  }
  logger.info('check done', {
    phase,
    atDeletion,
    keyArn: facts.keyArn,
    keyState,
    keyChange,
    window: { start: window.start.toISOString(), end: asOf.toISOString(), decision },
    pages: search.stats.totalPages,
    invocations: search.stats.invocations,
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
  atDeletion: boolean,
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
  if (atDeletion) {
    return deletionDateNote({
      key,
      now,
      keyState: state.keyState ?? 'Unknown',
      deletionDate: event.deletion?.deletionDate,
      evidence: state.evidence,
      evidenceCount: state.evidenceCount,
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
