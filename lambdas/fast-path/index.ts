import type * as z from 'zod/mini';
import { sfnClient } from '../aws/clients.js';
import { readEnvironment } from '../aws/environment.js';
import { describeExecution } from '../aws/executions.js';
import { readHold } from '../aws/hold-reader.js';
import { replaceHold } from '../aws/hold-registry.js';
import { isNotFound, type KeyReading, keyFactsOf, readKey } from '../aws/key-reader.js';
import { cancelKeyDeletion, enableKey } from '../aws/key-restore.js';
import { tagKey } from '../aws/key-tagging.js';
import { createLogger } from '../aws/logger.js';
import { publish } from '../aws/notifications.js';
import { fastPathEnvironment } from '../contracts/environment.js';
import { kmsCloudTrailEventSchema } from '../contracts/events.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { type CloudTrailRecord, isOwnCall, type KeyRef } from '../domain/cloudtrail.js';
import { FastPathSettingsError, HoldBusyError, InvalidHandlerEventError } from '../domain/errors.js';
import {
  candidateKeyArns,
  decideFastPath,
  type FastPathOutcome,
  fastPathEndTags,
  fastPathTakeover,
  fastPathWatch,
} from '../domain/fast-path.js';
import { isPendingDeletion } from '../domain/hold.js';
import {
  beforeClaim,
  claimHold,
  describeHold,
  type HoldEnd,
  type HoldRecord,
  nextHold,
  type RestoreAction,
  releaseHold,
  tagDisagreements,
} from '../domain/hold-record.js';
import { buildRestoreMessage } from '../domain/restore-message.js';
import type { Evidence, KeyFacts } from '../domain/types.js';

/**
 * The fast path: an EventBridge rule on the default bus forwards KMS CloudTrail events
 * whose errorCode is DisabledException or KMSInvalidStateException; this handler gives back, within
 * minutes, a key this workflow disabled (or whose deletion it scheduled) and e-mails the evidence.
 *
 * Only a key the stack's hold registry says a running execution of this stack's state machine holds
 * is changed, and only as far as that execution's record allows (lambdas/domain/fast-path.ts): tags
 * copied onto another key open nothing. The fast path and the workflow take turns on a hold by a
 * compare-and-set on its registry item.
 *
 * It does not wake the execution. The execution meets the fast path's work at its next step (its
 * next check finds the hold ended, and the restore step reads the fast path's outcome from the
 * registry), so it ends ROLLED_BACK or DELETION_CANCELLED up to one check interval later. Waking
 * it early would need the wait to become a task-token wait (or the fast path to stop and restart
 * executions), more permissions and a second way to end a run, while gaining nothing for the caller
 * whose key is already back and nothing for the reader, who already has the e-mail.
 */

const logger = createLogger('fast-path');

/** What the template gives the fast path: its topic, its state machine and the workflow's roles. */
type Settings = z.output<typeof fastPathEnvironment>;

export interface FastPathKeyReport {
  readonly keyArn: string;
  readonly action: 'EnableKey' | 'CancelKeyDeletion' | 'NOTIFIED' | 'NONE';
  readonly reason: string;
}

export interface FastPathReport {
  readonly eventID: string;
  readonly keys: readonly FastPathKeyReport[];
}

/**
 * The hold's execution must be a running execution of this stack's state machine. A record alone could
 * outlive its execution (stopped by a person with the hold in any phase); it must never make the fast
 * path change a key nobody watches any more.
 */
async function isRunningExecution(executionArn: string, settings: Settings): Promise<string | null> {
  if (!executionArn.startsWith(settings.executionPrefix)) {
    return `The hold names ${executionArn}, not an execution of ${settings.stateMachineArn}.`;
  }
  const region = /^arn:[^:]+:states:([^:]+):/.exec(executionArn)?.[1];
  const answer = await describeExecution(sfnClient(region), executionArn);
  return answer.status === 'RUNNING'
    ? null
    : `The execution that holds the key is ${answer.status}, not running.`;
}

/** The key as the evidence e-mail names it. */
function keyFactsFor(reading: KeyReading, keyArn: string, record: CloudTrailRecord): KeyFacts {
  const [, , , region = '', account = ''] = keyArn.split(':');
  // The fast path does not list aliases (ListAliases has no resource scope); the alias the caller
  // named is the one the reader of the e-mail knows the key by.
  const named = record.requestParameters?.keyId;
  return keyFactsOf(reading.metadata, {
    keyId: reading.metadata.KeyId ?? keyArn.split('/').pop() ?? keyArn,
    keyArn,
    account,
    region,
    aliases: typeof named === 'string' && named.startsWith('alias/') ? [named] : [],
    tags: reading.tags,
  });
}

/** The evidence e-mail, in the workflow's words, with the attributes its own notifications carry. */
async function notify(args: {
  readonly outcome: FastPathOutcome;
  readonly executionArn: string;
  readonly key: KeyFacts;
  readonly end: HoldEnd;
  readonly now: Date;
  readonly topicArn: string;
}): Promise<void> {
  const rollback = args.outcome === 'ROLLED_BACK';
  const tampering = args.end.tampering.length > 0 ? ` Tampering: ${args.end.tampering.join('; ')}.` : '';
  const message = buildRestoreMessage({
    mode: rollback ? 'ROLLBACK' : 'CANCEL_DELETION',
    outcome: args.outcome,
    executionArn: args.executionArn,
    key: args.key,
    actions: args.end.actions,
    finalKeyState: args.end.finalKeyState,
    restoredAt: args.end.at,
    reason: `The fast path acted on the CloudTrail event within minutes of the failing call: ${args.end.reason} The execution ends ${args.outcome} at its next step.${tampering}`,
    watch: fastPathWatch(null, args.end.evidence, args.now),
    error: null,
    now: args.now,
  });
  await publish(args.topicArn, {
    subject: message.subject,
    text: message.messageText,
    attributes: {
      kind: rollback ? 'rolled-back' : 'deletion-cancelled',
      execution: args.executionArn,
      source: 'fast-path',
    },
  });
}

/** Writes `next` over `seen`; false when another actor wrote the hold first. */
async function write(seen: HoldRecord, next: HoldRecord): Promise<boolean> {
  return (await replaceHold(seen, next)) === 'WRITTEN';
}

/**
 * A previous attempt for this very record ended the hold, but its e-mail did not go out: mirror the
 * end on the tags and send it now. Once the execution ended, its own restore step has sent the
 * e-mail in the fast path's stead.
 */
async function finishEarlierAttempt(
  hold: HoldRecord,
  record: CloudTrailRecord,
  keyArn: string,
  now: Date,
  settings: Settings,
): Promise<FastPathKeyReport> {
  const none = (reason: string): FastPathKeyReport => ({ keyArn, action: 'NONE', reason });
  const owed = fastPathTakeover(hold, hold.executionArn);
  const end = hold.end;
  if (!owed || !end || owed.notified || hold.claim?.nonce !== record.eventID) {
    return none(`${describeHold(hold, hold.executionArn)}.`);
  }
  const ended = await isRunningExecution(hold.executionArn, settings);
  if (ended) {
    return none(ended);
  }
  const reading = await readKey(keyArn, keyArn.split(':')[3] ?? '');
  await mirrorEnd(
    keyArn,
    reading.metadata.KeyState ?? 'Unknown',
    hold.executionArn,
    owed.outcome,
    owed.evidence,
  );
  await notify({
    outcome: owed.outcome,
    executionArn: hold.executionArn,
    key: keyFactsFor(reading, keyArn, record),
    end,
    now,
    topicArn: settings.topicArn,
  });
  await write(hold, nextHold(hold, { end: { ...end, notified: true } }, now));
  return {
    keyArn,
    action: 'NOTIFIED',
    reason: 'Sent the evidence e-mail a previous attempt could not send.',
  };
}

/** The tags mirror how the hold ended (KMS refuses tags on a key pending deletion: left as they are). */
async function mirrorEnd(
  keyArn: string,
  keyState: string,
  executionArn: string,
  outcome: FastPathOutcome,
  evidence: Evidence | null,
): Promise<void> {
  if (evidence && !isPendingDeletion(keyState)) {
    await tagKey(keyArn, keyArn.split(':')[3] ?? '', fastPathEndTags(executionArn, outcome, evidence));
  }
}

async function handleKey(
  record: CloudTrailRecord,
  keyArn: string,
  now: Date,
  settings: Settings,
): Promise<FastPathKeyReport> {
  const region = keyArn.split(':')[3] ?? '';
  const none = (reason: string): FastPathKeyReport => ({ keyArn, action: 'NONE', reason });
  // The workflow's canary fails on the held key at every check: told apart by its caller before
  // anything is read, it costs the fast path no request (half of a watched key's events otherwise).
  const principals = settings.workflowPrincipals;
  if (isOwnCall(record, principals)) {
    return none("The record is the workflow's own call (its canary), never evidence.");
  }
  // The registry first: a key no execution of this stack holds costs no KMS request, whatever its tags say.
  let hold = await readHold(keyArn);
  if (!hold) {
    return none('The hold registry records no hold on the key: no execution of this stack disabled it.');
  }
  const nonce = record.eventID;
  if (hold.phase === 'ended') {
    return finishEarlierAttempt(hold, record, keyArn, now, settings);
  }
  const ownClaim =
    hold.phase === 'restoring' && hold.claim?.actor === 'fast-path' && hold.claim.nonce === nonce;
  if (hold.phase === 'restoring' && !ownClaim) {
    return none(`${describeHold(hold, hold.executionArn)}: another actor is giving the key back.`);
  }
  const notRunning = await isRunningExecution(hold.executionArn, settings);
  if (notRunning) {
    return none(notRunning);
  }
  let reading: KeyReading;
  try {
    reading = await readKey(keyArn, region);
  } catch (error) {
    if (isNotFound(error)) {
      return none('The key does not exist (any more).');
    }
    throw error;
  }
  const keyRef: KeyRef = {
    keyId: reading.metadata.KeyId ?? '',
    keyArn: reading.metadata.Arn ?? keyArn,
    aliases: [],
  };
  const decide = (held: HoldRecord, current: KeyReading) =>
    decideFastPath({
      record,
      key: keyRef,
      keyState: current.metadata.KeyState ?? 'Unknown',
      hold: beforeClaim(held),
      workflowPrincipalArns: principals,
    });
  let decision = decide(hold, reading);
  if (!decision.act) {
    if (decision.busy) {
      throw new HoldBusyError(decision.reason);
    }
    return none(decision.reason);
  }

  // The claim: written only if nobody wrote the hold since it was read.
  if (!ownClaim) {
    const claimed = claimHold(hold, 'fast-path', nonce, now);
    if (!(await write(hold, claimed))) {
      const after = await readHold(keyArn);
      if (after?.phase === 'scheduling') {
        throw new HoldBusyError(`${describeHold(after, after.executionArn)}: the fast path looks again.`);
      }
      return none(
        `Another actor wrote the hold at the same moment (${describeHold(after, hold.executionArn)}); it decides.`,
      );
    }
    hold = claimed;
  }
  // Under the claim, right before acting: the key as it is now.
  reading = await readKey(keyArn, region);
  decision = decide(hold, reading);
  if (!decision.act) {
    await write(hold, releaseHold(hold, new Date()));
    return none(decision.reason);
  }

  const done: RestoreAction[] = [];
  for (const action of decision.plan.actions) {
    if (action === 'CancelKeyDeletion') {
      if ((await cancelKeyDeletion(keyArn, region)) === 'CANCELLED') {
        done.push(action);
      } else if (!decision.plan.actions.includes('EnableKey')) {
        // Nobody of this stack can cancel under this claim: a person did it first.
        await write(hold, releaseHold(hold, new Date()));
        return none(
          'KMS answered that the key is no longer pending deletion: someone else cancelled it first.',
        );
      }
    } else {
      await enableKey(keyArn, region);
      done.push(action);
    }
  }
  const { executionArn, evidence, outcome } = decision;
  const end: HoldEnd = {
    by: 'fast-path',
    status: outcome === 'ROLLED_BACK' ? 'rolled-back' : 'deletion-cancelled',
    at: now.toISOString(),
    reason: decision.plan.reason,
    actions: done,
    finalKeyState: decision.plan.expectedKeyState,
    evidenceEventIds: [evidence.eventID],
    evidence,
    notified: false,
    tampering: tagDisagreements(reading.tags, beforeClaim(hold), executionArn),
  };
  const ended = nextHold(hold, { phase: 'ended', end }, now);
  if (!(await write(hold, ended))) {
    // Only an actor that took a claim older than CLAIM_TTL_MS over can write here: it decides.
    throw new HoldBusyError(
      `The hold changed under the fast path's claim after it acted (${done.join(' + ')}).`,
    );
  }
  await mirrorEnd(keyArn, end.finalKeyState, executionArn, outcome, evidence);
  await notify({
    outcome,
    executionArn,
    key: keyFactsFor(reading, keyRef.keyArn, record),
    end,
    now,
    topicArn: settings.topicArn,
  });
  await write(ended, nextHold(ended, { end: { ...end, notified: true } }, now));
  const action =
    decision.mode === 'ROLLBACK' && done.includes('EnableKey') ? 'EnableKey' : 'CancelKeyDeletion';
  logger.info('The fast path undid the hold', {
    keyArn,
    executionArn,
    action,
    actions: done,
    eventID: record.eventID,
    caller: evidence.principal,
    tampering: end.tampering,
  });
  return { keyArn, action, reason: decision.plan.reason };
}

/**
 * One EventBridge event: a KMS CloudTrail record of a failed call. Errors propagate, so that
 * EventBridge's and Lambda's retries run and, at last, the dead-letter queue keeps the event; the
 * polling watch stays the guarantee either way.
 */
export async function handler(rawEvent: unknown): Promise<FastPathReport> {
  const parsed = safeParseContract(kmsCloudTrailEventSchema, rawEvent);
  if (!parsed.success) {
    throw new InvalidHandlerEventError(
      `The fast path received an event that is not a KMS CloudTrail event: ${describeIssues(parsed.error.issues, 3)}`,
    );
  }
  const settings = readEnvironment(fastPathEnvironment, FastPathSettingsError);
  const record = parsed.data.detail as unknown as CloudTrailRecord;
  const now = new Date();
  // Only keys of this account: a key of another account is not ours to hold (its record reaches us
  // when our principal called it), and IAM would refuse us anyway.
  const arns = candidateKeyArns(record).filter((arn) => arn.split(':')[4] === parsed.data.account);
  const keys: FastPathKeyReport[] = [];
  for (const keyArn of arns) {
    keys.push(await handleKey(record, keyArn, now, settings));
  }
  logger.info('fast path done', { eventID: record.eventID, errorCode: record.errorCode, keys });
  return { eventID: record.eventID, keys };
}
