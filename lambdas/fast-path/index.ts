import type * as z from 'zod/mini';
import { sfnClient } from '../aws/clients.js';
import { readEnvironment } from '../aws/environment.js';
import { describeExecution } from '../aws/executions.js';
import { claimHold } from '../aws/hold-claim.js';
import { isNotFound, type KeyReading, keyFactsOf, readKey } from '../aws/key-reader.js';
import { cancelKeyDeletion, enableKey } from '../aws/key-restore.js';
import { tagKey } from '../aws/key-tagging.js';
import { createLogger } from '../aws/logger.js';
import { publish } from '../aws/notifications.js';
import { fastPathEnvironment } from '../contracts/environment.js';
import { kmsCloudTrailEventSchema } from '../contracts/events.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { FAST_PATH_TAGS, TAGS } from '../contracts/tags.js';
import { type CloudTrailRecord, isOwnCall } from '../domain/cloudtrail.js';
import { FastPathSettingsError, InvalidHandlerEventError } from '../domain/errors.js';
import {
  candidateKeyArns,
  claimStanding,
  decideFastPath,
  type FastPathOutcome,
  fastPathEndTags,
  fastPathOutcome,
  fastPathWatch,
  parseClaim,
} from '../domain/fast-path.js';
import { sanitizeTagValue } from '../domain/hold.js';
import { buildRestoreMessage } from '../domain/restore-message.js';
import type { Evidence, KeyFacts } from '../domain/types.js';

/**
 * The fast path: an EventBridge rule on the default bus forwards KMS CloudTrail events
 * whose errorCode is DisabledException or KMSInvalidStateException; this handler gives back, within
 * minutes, a key this workflow disabled (or whose deletion it scheduled) and e-mails the evidence.
 *
 * It does not wake the execution. The execution meets the fast path's work at its next step (its
 * next check finds the key changed, and the restore step reads the fast path's outcome from the
 * key's tags), so it ends ROLLED_BACK or DELETION_CANCELLED up to one check interval later. Waking
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
 * The hold's execution must be a running execution of this stack's state machine. A tag alone could
 * be left by an execution that ended with the key pending deletion (DELETION_SCHEDULED), or written
 * by anyone allowed to tag keys; neither may make the fast path change a key.
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
  readonly evidence: Evidence | null;
  readonly finalKeyState: string;
  readonly actedAt: string;
  readonly now: Date;
  readonly topicArn: string;
}): Promise<void> {
  const rollback = args.outcome === 'ROLLED_BACK';
  const message = buildRestoreMessage({
    mode: rollback ? 'ROLLBACK' : 'CANCEL_DELETION',
    outcome: args.outcome,
    executionArn: args.executionArn,
    key: args.key,
    actions: [rollback ? 'EnableKey' : 'CancelKeyDeletion'],
    finalKeyState: args.finalKeyState,
    restoredAt: args.actedAt,
    reason: `The fast path acted on the CloudTrail event within minutes of the failing call; the execution ends ${args.outcome} at its next step.`,
    watch: fastPathWatch(null, args.evidence, args.now),
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

async function handleKey(
  record: CloudTrailRecord,
  keyArn: string,
  now: Date,
  settings: Settings,
): Promise<FastPathKeyReport> {
  const region = keyArn.split(':')[3] ?? '';
  const none = (reason: string): FastPathKeyReport => ({ keyArn, action: 'NONE', reason });
  // The workflow's canary fails on the held key at every check: told apart by its caller before the
  // key is read, it costs the fast path no KMS request (half of a watched key's requests otherwise).
  const principals = settings.workflowPrincipals;
  if (isOwnCall(record, principals)) {
    return none("The record is the workflow's own call (its canary), never evidence.");
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
  const keyRef = { keyId: reading.metadata.KeyId ?? '', keyArn: reading.metadata.Arn ?? keyArn, aliases: [] };
  const current = () => ({ keyState: reading.metadata.KeyState ?? 'Unknown', tags: reading.tags });
  const nonce = sanitizeTagValue(record.eventID);

  // A previous attempt for this very record ended the hold but its e-mail did not go out.
  const owner = reading.tags[TAGS.execution];
  const earlier = owner ? fastPathOutcome(current(), owner) : null;
  const earlierClaim = parseClaim(reading.tags[FAST_PATH_TAGS.claim]);
  if (earlier && owner && !earlier.notified && earlierClaim?.nonce === nonce) {
    // Once the execution ended, its own restore step has sent the e-mail in the fast path's stead.
    const ended = await isRunningExecution(owner, settings);
    if (ended) {
      return none(ended);
    }
    await notify({
      outcome: earlier.outcome,
      executionArn: owner,
      key: keyFactsFor(reading, keyRef.keyArn, record),
      evidence: earlier.evidence,
      finalKeyState: current().keyState,
      actedAt: earlier.actedAt ?? now.toISOString(),
      now,
      topicArn: settings.topicArn,
    });
    await markNotified(keyArn, region, reading.tags[FAST_PATH_TAGS.claim] ?? '');
    return {
      keyArn,
      action: 'NOTIFIED',
      reason: 'Sent the evidence e-mail a previous attempt could not send.',
    };
  }

  let decision = decideFastPath({
    record,
    key: keyRef,
    current: current(),
    workflowPrincipalArns: principals,
  });
  if (!decision.act) {
    return none(decision.reason);
  }
  const notRunning = await isRunningExecution(decision.executionArn, settings);
  if (notRunning) {
    return none(notRunning);
  }

  // A key pending deletion cannot be tagged: CancelKeyDeletion itself decides who acts (only one
  // caller's succeeds). Otherwise take the claim, as the workflow's restore step does.
  let claim = '';
  if (decision.mode === 'ROLLBACK') {
    if (claimStanding(reading.tags, 'fast-path', nonce, now) === 'taken') {
      return none(`Another actor is undoing this hold right now (${reading.tags[FAST_PATH_TAGS.claim]}).`);
    }
    const claimed = await claimHold(keyArn, region, 'fast-path', nonce, now);
    if (!claimed.won) {
      return none(
        `Another actor claimed the hold at the same moment (${claimed.reading.tags[FAST_PATH_TAGS.claim]}).`,
      );
    }
    claim = claimed.claim;
    reading = claimed.reading;
    decision = decideFastPath({ record, key: keyRef, current: current(), workflowPrincipalArns: principals });
    if (!decision.act) {
      return none(decision.reason);
    }
  }

  for (const action of decision.plan.actions) {
    if (action === 'CancelKeyDeletion') {
      if ((await cancelKeyDeletion(keyArn, region)) === 'NOT_PENDING') {
        return none(
          'KMS answered that the key is no longer pending deletion: someone else cancelled it first.',
        );
      }
    } else {
      await enableKey(keyArn, region);
    }
  }
  if (claim === '') {
    claim = sanitizeTagValue(`fast-path ${nonce} ${now.toISOString()}`);
  }
  await tagKey(
    keyArn,
    region,
    fastPathEndTags(decision.executionArn, decision.outcome, decision.evidence, claim),
  );
  const finalKeyState = decision.plan.expectedKeyState;
  const actedAt = parseClaim(claim)?.at.toISOString() ?? now.toISOString();
  await notify({
    outcome: decision.outcome,
    executionArn: decision.executionArn,
    key: keyFactsFor(reading, keyRef.keyArn, record),
    evidence: decision.evidence,
    finalKeyState,
    actedAt,
    now,
    topicArn: settings.topicArn,
  });
  await markNotified(keyArn, region, claim);
  const action = decision.mode === 'ROLLBACK' ? 'EnableKey' : 'CancelKeyDeletion';
  logger.info('The fast path undid the hold', {
    keyArn,
    executionArn: decision.executionArn,
    action,
    eventID: record.eventID,
    caller: decision.evidence.principal,
  });
  return { keyArn, action, reason: decision.plan.reason };
}

async function markNotified(keyArn: string, region: string, claim: string): Promise<void> {
  await tagKey(keyArn, region, { [FAST_PATH_TAGS.notified]: claim });
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
