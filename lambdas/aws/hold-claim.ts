import { claimEnvironment } from '../contracts/environment.js';
import { FAST_PATH_TAGS } from '../contracts/tags.js';
import { type ClaimActor, claimValue, DEFAULT_CLAIM_SETTLE_MS } from '../domain/fast-path.js';
import { readEnvironment } from './environment.js';
import { type KeyReading, readKey } from './key-reader.js';
import { tagKey } from './key-tagging.js';

/**
 * Milliseconds between writing a claim and reading it back (`KDG_CLAIM_SETTLE_MS`). The simulator
 * sets 0: it runs one actor at a time, so nobody can interleave.
 */
export function claimSettleMs(): number {
  return readEnvironment(claimEnvironment).claimSettleMs ?? DEFAULT_CLAIM_SETTLE_MS;
}

export interface ClaimResult {
  /** True when the claim read back is still this actor's: it alone may undo the hold now. */
  readonly won: boolean;
  readonly claim: string;
  /** The key as read after the settle time; plan from this, not from the earlier reading. */
  readonly reading: KeyReading;
}

/**
 * Takes the hold's claim tag (lambdas/domain/fast-path.ts explains the protocol): writes it, waits
 * the settle time, reads the key again. Only the key's own tags decide, so the fast path and the
 * workflow's restore step need no shared store.
 */
export async function claimHold(
  keyArn: string,
  region: string,
  actor: ClaimActor,
  nonce: string,
  now: Date,
): Promise<ClaimResult> {
  const claim = claimValue(actor, nonce, now);
  await tagKey(keyArn, region, { [FAST_PATH_TAGS.claim]: claim });
  const settle = claimSettleMs();
  if (settle > 0) {
    await new Promise((resolve) => setTimeout(resolve, settle));
  }
  const reading = await readKey(keyArn, region);
  return { won: reading.tags[FAST_PATH_TAGS.claim] === claim, claim, reading };
}
