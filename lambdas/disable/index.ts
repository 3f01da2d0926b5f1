import { requireCanaryPlan, sendCanary } from '../aws/canary.js';
import { disableKey } from '../aws/key-disable.js';
import { readKey } from '../aws/key-reader.js';
import { tagKey } from '../aws/key-tagging.js';
import { createLogger } from '../aws/logger.js';
import { checkStillAsAssessed, holdTags, parseDisableEvent, planDisable } from '../domain/hold.js';
import type { DisableOutput } from '../domain/types.js';
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
