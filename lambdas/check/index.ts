import { GetKeyLastUsageCommand } from '@aws-sdk/client-kms';
import * as z from 'zod/mini';
import { sendCanary } from '../aws/canary.js';
import { proveEarlierCanaries } from '../aws/canary-proof.js';
import { homeRegion, kmsClient } from '../aws/clients.js';
import { EventSourceUnavailableError, findRecords } from '../aws/cloudtrail-source.js';
import { readKey } from '../aws/key-reader.js';
import { createLogger } from '../aws/logger.js';
import { addCanary, isWorkflowRecord, parseCanaries } from '../domain/canary.js';
import { type KeyRef, type RecordKind, toEvidence } from '../domain/cloudtrail.js';
import { evidenceShape, InvalidHandlerEventError } from '../domain/hold.js';
import { evidenceReport, type Message, observationReport, progressNote } from '../domain/report-message.js';
import type { CheckEvent, Evidence, KeyFacts, LastUsage, WatchPlan, WatchState } from '../domain/types.js';
import { advanceWatch, type ScheduleContext, verifyWatchedKey } from '../domain/watch.js';
import { dedupe, nextWindow } from '../domain/window.js';

const logger = createLogger('check');

const isoInstant = z.iso.datetime({ offset: true });

const count = () => z.number().check(z.int(), z.nonnegative());

// The English messages come with ../domain/hold.js, which configures zod/mini for every handler using it.
const checkEventSchema = z
  .looseObject({
    executionArn: z.string().check(z.minLength(1)),
    phase: z.enum(['OBSERVE', 'FINAL', 'PENDING']),
    assessment: z.looseObject({
      verdict: z.literal('ACCEPTED'),
      key: z.looseObject({
        keyId: z.string().check(z.minLength(1)),
        keyArn: z.string().check(z.startsWith('arn:')),
        region: z.string().check(z.minLength(1)),
        aliases: z.array(z.string()),
      }),
      plan: z.looseObject({
        logGroupName: z.string().check(z.minLength(1)),
        observationDays: z.number().check(z.positive()),
        pendingWindowInDays: z.number().check(z.int(), z.minimum(7), z.maximum(30)),
        checkIntervalSeconds: z.number().check(z.positive()),
        ingestionLagSeconds: z.number().check(z.nonnegative()),
        watchPendingWindow: z.boolean(),
        workflowPrincipalArns: z.optional(z.array(z.string())),
      }),
    }),
    disable: z.looseObject({ disabledAt: isoInstant, wasEnabled: z.boolean() }),
    watch: z.looseObject({
      cursor: isoInstant,
      seenEventIds: z.array(z.string()),
      checks: count(),
      evidence: z.array(evidenceShape),
      evidenceCount: count(),
      scanned: count(),
      broke: z.boolean(),
      canariesSeen: z.optional(count()),
    }),
    deletion: z.optional(
      z.nullable(z.looseObject({ scheduledAt: isoInstant, deletionDate: z.nullable(isoInstant) })),
    ),
  })
  .check(
    z.refine(
      (event) => event.phase !== 'PENDING' || (event.deletion !== null && event.deletion !== undefined),
      {
        message: 'PENDING needs the deletion schedule ($.deletion)',
        path: ['deletion'],
      },
    ),
  );

type ValidCheckEvent = CheckEvent & {
  readonly assessment: CheckEvent['assessment'] & { readonly key: KeyFacts; readonly plan: WatchPlan };
};

function parseCheckEvent(event: unknown): ValidCheckEvent {
  const result = checkEventSchema.safeParse(event);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
      .join('; ');
    throw new InvalidHandlerEventError(`Check received an event that breaks its contract: ${problems}`);
  }
  try {
    parseCanaries((event as CheckEvent).watch.canaries);
  } catch (error) {
    throw new InvalidHandlerEventError(`Check received an event that breaks its contract: ${String(error)}`);
  }
  // The schema checked every field this handler reads; the contract type describes the rest.
  return event as ValidCheckEvent;
}

function kindOf(phase: WatchState['phase']): RecordKind {
  return phase === 'PENDING' ? 'PENDING_USE' : 'BREAKAGE';
}

/**
 * GetKeyLastUsage after the observation: a successful cryptographic use after the disable means
 * someone re-enabled the key, used it and disabled it again, or the disable never took: either
 * way the key is needed and the quiet CloudTrail search does not prove otherwise.
 */
async function lastUsageAfterDisable(
  key: KeyFacts,
  disabledAt: Date,
): Promise<{ lastUsage: LastUsage | null; trackingStartDate?: string; evidence: Evidence | null }> {
  const answer = await kmsClient(key.region).send(new GetKeyLastUsageCommand({ KeyId: key.keyArn }));
  const trackingStartDate = answer.TrackingStartDate?.toISOString();
  const used = answer.KeyLastUsage;
  if (!used?.Timestamp || !used.Operation) {
    return { lastUsage: null, trackingStartDate, evidence: null };
  }
  const lastUsage: LastUsage = {
    operation: used.Operation,
    timestamp: used.Timestamp.toISOString(),
    cloudTrailEventId: used.CloudTrailEventId,
    kmsRequestId: used.KmsRequestId,
  };
  if (used.Timestamp.getTime() <= disabledAt.getTime()) {
    return { lastUsage, trackingStartDate, evidence: null };
  }
  return {
    lastUsage,
    trackingStartDate,
    evidence: {
      eventID: used.CloudTrailEventId ?? used.KmsRequestId ?? 'unknown',
      eventTime: lastUsage.timestamp,
      eventName: used.Operation,
      errorCode: '',
      principal: 'unknown (from GetKeyLastUsage)',
      sourceIPAddress: 'unknown',
      userAgent: 'unknown',
    },
  };
}

/**
 * CheckForBreakage (OBSERVE), FinalCheck (FINAL) and CheckPendingUse (PENDING).
 *
 * Re-reads the key (it must still be as this execution left it), searches the CloudTrail log
 * group from the cursor, less the ingestion lag, to now for failed calls on the key, and returns
 * the advanced watch. FinalCheck also asks GetKeyLastUsage. Errors propagate: a check that could
 * not run must never count as a quiet one.
 */
export async function handler(rawEvent: CheckEvent): Promise<WatchState> {
  const event = parseCheckEvent(rawEvent);
  const now = new Date();
  const { phase, executionArn, watch } = event;
  const facts = event.assessment.key;
  const plan = event.assessment.plan;
  const key: KeyRef = { keyId: facts.keyId, keyArn: facts.keyArn, aliases: facts.aliases };
  const disabledAt = new Date(event.disable.disabledAt);

  const current = await readKey(facts.keyArn, facts.region);
  verifyWatchedKey(
    phase,
    { keyState: current.metadata.KeyState ?? 'Unknown', tags: current.tags },
    executionArn,
  );

  const cursor = new Date(watch.cursor);
  const window = nextWindow(cursor, now, plan.ingestionLagSeconds);
  const found = await findRecords({
    logGroupName: plan.logGroupName,
    region: homeRegion(),
    key,
    start: window.start,
    end: window.end,
    kind: kindOf(phase),
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

  let usage: Awaited<ReturnType<typeof lastUsageAfterDisable>> | null = null;
  if (phase === 'FINAL') {
    usage = await lastUsageAfterDisable(facts, disabledAt);
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
  const message = messageFor(draft, event, now, key, usage);
  // The next canary, for a later check to prove; none after breakage, and none after the last
  // pending check, which no check would ever look for.
  if (!draft.broke && !(phase === 'PENDING' && draft.done)) {
    canaries = addCanary(
      canaries,
      await sendCanary(facts, phase === 'PENDING' ? 'PENDING_DELETION' : 'DISABLED', now),
    );
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
  usage: { lastUsage: LastUsage | null; trackingStartDate?: string } | null,
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
