import { requireCanaryPlan, sendCanary } from '../aws/canary.js';
import { kmsClient } from '../aws/clients.js';
import { readHold } from '../aws/hold-reader.js';
import { putNewHold, replaceHold } from '../aws/hold-registry.js';
import { disableKey } from '../aws/key-disable.js';
import { readKey } from '../aws/key-reader.js';
import { tagKey } from '../aws/key-tagging.js';
import { readKeyLastUsage } from '../aws/key-usage.js';
import { createLogger } from '../aws/logger.js';
import { KeyChangedExternallyError, KeyUsedSinceAssessmentError } from '../domain/errors.js';
import { checkStillAsAssessed, holdTags, parseDisableEvent } from '../domain/hold.js';
import {
  describeHold,
  type HoldRecord,
  newHold,
  nextHold,
  ownHold,
  planDisableStep,
} from '../domain/hold-record.js';
import type { ApprovalDecision, DisableOutput } from '../domain/types.js';
import { useSinceAssessment } from '../domain/usage.js';
import { startWatch } from '../domain/watch.js';

const logger = createLogger('disable');

/**
 * DisableKey: records the hold in the stack's registry, mirrors it on the key's tags, then disables
 * the key.
 *
 * The record goes first, written on condition that no other execution holds the key: two executions
 * can never both take it, and if the Lambda dies after DisableKey, the record still says that this
 * execution disabled the key and whether it was Enabled, so Restore can give it back. The key's state
 * is read again right before DisableKey, under the hold, so `wasEnabled` is what this execution
 * actually found.
 */
export async function handler(rawEvent: unknown): Promise<DisableOutput> {
  const event = parseDisableEvent(rawEvent);
  const { key, plan } = event.assessment;
  const { executionArn } = event;

  // A key no canary can probe could never be shown to be watched: refuse before changing anything.
  requireCanaryPlan(key);
  const reading = await readKey(key.keyArn, key.region);
  const current = { keyState: reading.metadata.KeyState ?? 'Unknown', tags: reading.tags };
  const existing = await readHold(key.keyArn);
  const step = planDisableStep(existing, executionArn);
  if (step.kind === 'begin') {
    checkStillAsAssessed(event.assessment, current);
  }
  // Usage too, not only state and tags: the approval may have waited days. A read that fails throws,
  // and the run ends before anything is changed; it never counts as "no new use".
  const usage = await readKeyLastUsage(kmsClient(key.region), key.keyArn);
  const newUse = useSinceAssessment(event.assessment.usage, usage.keyLastUsage);
  if (newUse !== null) {
    const message = `USED_SINCE_ASSESSMENT: the key was used after the assessment (${event.assessment.assessedAt}). ${newUse}`;
    // A retry after a crash finds this execution's hold already recorded: Restore must end it (and
    // re-enable the key if this execution disabled it), so the refusal cannot end the run.
    if (step.kind !== 'begin') {
      throw new KeyChangedExternallyError(message);
    }
    throw new KeyUsedSinceAssessmentError(`${message} Nothing was changed.`);
  }

  const now = new Date();
  let hold: HoldRecord;
  if (step.kind === 'begin') {
    hold = newHold({
      keyArn: key.keyArn,
      executionArn,
      wasEnabled: current.keyState === 'Enabled',
      now,
      keyId: key.keyId,
      aliases: key.aliases,
    });
    if ((await putNewHold(hold)) === 'CONFLICT') {
      throw new KeyChangedExternallyError(
        `${describeHold(await readHold(key.keyArn), executionArn)}: another execution took the key at the same moment; nothing was changed.`,
      );
    }
  } else {
    hold = step.hold;
  }

  if (hold.phase === 'disabling') {
    hold = await disableUnderHold(hold, step.kind === 'resume', event.approval, key.keyArn, key.region, now);
  }
  await tagKey(key.keyArn, key.region, holdTags(executionArn, { status: 'disabled' }));
  // The first canary: the first check requires its record, proving the source shows this key's failures.
  const canary = await sendCanary(key, 'DISABLED', now);
  logger.info('Key disabled and held', {
    keyArn: key.keyArn,
    wasEnabled: hold.wasEnabled,
    disabledAt: hold.disabledAt,
    resumed: step.kind !== 'begin',
    holdVersion: hold.version,
    canaryRequestId: canary.requestId,
  });

  return {
    disabledAt: hold.disabledAt,
    wasEnabled: hold.wasEnabled,
    watch: {
      ...startWatch('OBSERVE', { now: new Date(hold.disabledAt), plan }),
      canaries: [canary],
      canariesSeen: 0,
    },
  };
}

/**
 * Under this execution's `disabling` hold: re-reads the key right before DisableKey and records what
 * it found (a person may have changed the key since the first read, or the hold was recorded before a
 * crash), mirrors the hold on the tags, disables the key and records that it did.
 */
async function disableUnderHold(
  recorded: HoldRecord,
  resumed: boolean,
  approval: ApprovalDecision | null | undefined,
  keyArn: string,
  region: string,
  now: Date,
): Promise<HoldRecord> {
  const executionArn = recorded.executionArn;
  const reading = await readKey(keyArn, region);
  const keyState = reading.metadata.KeyState ?? 'Unknown';
  if (keyState !== 'Enabled' && keyState !== 'Disabled') {
    throw new KeyChangedExternallyError(
      `The key is ${keyState} right before DisableKey; only Enabled or Disabled keys are held.`,
    );
  }
  let hold = recorded;
  // Still Enabled: the observation counts from the moment the key really goes dark. Found Disabled by
  // a retry: the first attempt's `wasEnabled` stands (reading it from the state now would forget that
  // the key was Enabled before this execution's DisableKey). Found Disabled by a first attempt: a
  // person disabled it since the first read, and this execution will not have disabled an Enabled key.
  const found =
    keyState === 'Enabled'
      ? { wasEnabled: true, disabledAt: now.toISOString() }
      : resumed
        ? null
        : { wasEnabled: false, disabledAt: now.toISOString() };
  if (found && (hold.wasEnabled !== found.wasEnabled || hold.disabledAt !== found.disabledAt)) {
    hold = await write(hold, nextHold(hold, found, now), 'record the state found before DisableKey');
  }
  await tagKey(
    keyArn,
    region,
    holdTags(executionArn, {
      status: 'disabling',
      disabledAt: hold.disabledAt,
      wasEnabled: hold.wasEnabled,
      approval,
    }),
  );
  await disableKey(keyArn, region);
  return write(hold, nextHold(hold, { phase: 'watching', disabled: true }, new Date()), 'record DisableKey');
}

async function write(seen: HoldRecord, next: HoldRecord, what: string): Promise<HoldRecord> {
  if ((await replaceHold(seen, next)) === 'WRITTEN') {
    return next;
  }
  // Nobody else writes a `disabling` hold of this execution: a conflict means the record moved under us.
  const now = await readHold(seen.keyArn);
  throw new KeyChangedExternallyError(
    `Could not ${what}: ${describeHold(now, seen.executionArn)} (version ${now?.version ?? 'none'}, expected ${seen.version}).${
      ownHold(now, seen.executionArn) ? '' : ' Nothing else was changed.'
    }`,
  );
}
