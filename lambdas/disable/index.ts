import { requireCanaryPlan, sendCanary } from '../aws/canary.js';
import { kmsClient } from '../aws/clients.js';
import { disableKey } from '../aws/key-disable.js';
import { readKey } from '../aws/key-reader.js';
import { tagKey } from '../aws/key-tagging.js';
import { readKeyLastUsage } from '../aws/key-usage.js';
import { createLogger } from '../aws/logger.js';
import { KeyChangedExternallyError, KeyUsedSinceAssessmentError } from '../domain/errors.js';
import { checkStillAsAssessed, holdTags, isHeldBy, parseDisableEvent, planDisable } from '../domain/hold.js';
import type { DisableOutput } from '../domain/types.js';
import { useSinceAssessment } from '../domain/usage.js';
import { startWatch } from '../domain/watch.js';

const logger = createLogger('disable');

/**
 * DisableKey: takes the key into this execution's hold, then disables it.
 *
 * The tags go on before DisableKey: if the Lambda dies between the two calls, the key carries the
 * execution and `was-enabled`, so Restore can still tell that this execution may re-enable it. The
 * reverse order could leave a key we disabled with no record of it, which Restore must then leave
 * Disabled (it never enables a key it cannot prove it disabled).
 */
export async function handler(rawEvent: unknown): Promise<DisableOutput> {
  const event = parseDisableEvent(rawEvent);
  const { key, plan } = event.assessment;
  const now = new Date();

  // A key no canary can probe could never be shown to be watched: refuse before changing anything.
  requireCanaryPlan(key);
  const reading = await readKey(key.keyArn, key.region);
  const current = { keyState: reading.metadata.KeyState ?? 'Unknown', tags: reading.tags };
  checkStillAsAssessed(event.assessment, current, event.executionArn);
  // Usage too, not only state and tags: the approval may have waited days. A read that fails throws,
  // and the run ends before anything is changed; it never counts as "no new use".
  const usage = await readKeyLastUsage(kmsClient(key.region), key.keyArn);
  const newUse = useSinceAssessment(event.assessment.usage, usage.keyLastUsage);
  if (newUse !== null) {
    const message = `USED_SINCE_ASSESSMENT: the key was used after the assessment (${event.assessment.assessedAt}). ${newUse}`;
    // A retry after a crash finds this execution's tags already on the key: Restore must take them
    // off (and re-enable the key if this execution disabled it), so the refusal cannot end the run.
    if (isHeldBy(current.tags, event.executionArn)) {
      throw new KeyChangedExternallyError(message);
    }
    throw new KeyUsedSinceAssessmentError(`${message} Nothing was changed.`);
  }

  const start = planDisable(current, event.executionArn, now);
  if (!start.resumed) {
    const tags = holdTags(event.executionArn, {
      status: 'disabling',
      disabledAt: start.disabledAt,
      wasEnabled: start.wasEnabled,
      approval: event.approval,
    });
    await tagKey(key.keyArn, key.region, tags);
  }
  await disableKey(key.keyArn, key.region);
  await tagKey(key.keyArn, key.region, holdTags(event.executionArn, { status: 'disabled' }));
  // The first canary: the first check requires its record, proving the source shows this key's failures.
  const canary = await sendCanary(key, 'DISABLED', now);
  logger.info('Key disabled and held', {
    keyArn: key.keyArn,
    wasEnabled: start.wasEnabled,
    disabledAt: start.disabledAt,
    resumed: start.resumed,
    canaryRequestId: canary.requestId,
  });

  return {
    disabledAt: start.disabledAt,
    wasEnabled: start.wasEnabled,
    watch: {
      ...startWatch('OBSERVE', { now: new Date(start.disabledAt), plan }),
      canaries: [canary],
      canariesSeen: 0,
    },
  };
}
