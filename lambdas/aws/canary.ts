import { generateKeyPairSync } from 'node:crypto';
import {
  DeriveSharedSecretCommand,
  EncryptCommand,
  type EncryptionAlgorithmSpec,
  GenerateMacCommand,
  type KMSClient,
  type MacAlgorithmSpec,
  SignCommand,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import {
  CANARY_PAYLOAD,
  type CanaryExpectation,
  type CanaryOutcome,
  type CanaryPlan,
  canaryFor,
  judgeCanary,
} from '../domain/canary.js';
import { EventSourceBlindError, KeyChangedExternallyError } from '../domain/errors.js';
import type { Canary, KeyFacts } from '../domain/types.js';
import { kmsClient } from './clients.js';

/**
 * The AWS side of the canary (lambdas/domain/canary.ts): the call on the key (its proof, the
 * search for the records of earlier calls, is in canary-proof.ts). IAM allows the canary operations only on keys that carry the
 * workflow's status tag, so they can never touch a key the workflow does not hold.
 */

const payload = new TextEncoder().encode(CANARY_PAYLOAD);
const peerKeys = new Map<string, Uint8Array>();

/** A throwaway public key on the curve: DeriveSharedSecret needs a well-formed one to reach the key state check. */
function peerPublicKey(curve: string): Uint8Array {
  let der = peerKeys.get(curve);
  if (!der) {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    der = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    peerKeys.set(curve, der);
  }
  return der;
}

/** The canary call itself; it is meant to fail, so its answer is never read. */
async function callKey(client: KMSClient, plan: CanaryPlan, keyArn: string): Promise<void> {
  switch (plan.operation) {
    case 'Encrypt':
      await client.send(
        new EncryptCommand({
          KeyId: keyArn,
          Plaintext: payload,
          EncryptionAlgorithm: plan.algorithm as EncryptionAlgorithmSpec,
        }),
      );
      return;
    case 'Sign':
      await client.send(
        new SignCommand({
          KeyId: keyArn,
          Message: payload,
          MessageType: 'RAW',
          SigningAlgorithm: plan.algorithm as SigningAlgorithmSpec,
        }),
      );
      return;
    case 'GenerateMac':
      await client.send(
        new GenerateMacCommand({
          KeyId: keyArn,
          Message: payload,
          MacAlgorithm: plan.algorithm as MacAlgorithmSpec,
        }),
      );
      return;
    case 'DeriveSharedSecret':
      await client.send(
        new DeriveSharedSecretCommand({
          KeyId: keyArn,
          KeyAgreementAlgorithm: 'ECDH',
          PublicKey: peerPublicKey(plan.curve ?? 'prime256v1'),
        }),
      );
      return;
  }
}

/** The canary plan for a key, or EventSourceBlindError: a key no canary can probe must not be watched. */
export function requireCanaryPlan(key: Pick<KeyFacts, 'keyArn' | 'keyUsage' | 'keySpec'>): CanaryPlan {
  const plan = canaryFor(key);
  if (!plan) {
    throw new EventSourceBlindError(
      `No harmless cryptographic call exists for a ${key.keySpec} key with usage ${key.keyUsage} (${key.keyArn}): ` +
        'the workflow cannot prove that CloudTrail would show failed calls on it, so it does not watch it.',
    );
  }
  return plan;
}

interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: { readonly requestId?: string };
}

function asSdkError(error: unknown): SdkError | null {
  return error instanceof Error ? (error as SdkError) : null;
}

/**
 * Makes the canary call on the key and returns it, not yet seen. A call that succeeds means the key
 * is usable, not as this execution left it (KeyChangedExternallyError); any other failure than the
 * expected one is rethrown unchanged, so transient errors are retried by the workflow.
 */
export async function sendCanary(key: KeyFacts, expectation: CanaryExpectation, now: Date): Promise<Canary> {
  const plan = requireCanaryPlan(key);
  let outcome: CanaryOutcome;
  let failure: SdkError | null = null;
  try {
    await callKey(kmsClient(key.region), plan, key.keyArn);
    outcome = { ok: true };
  } catch (error) {
    failure = asSdkError(error);
    if (!failure) {
      throw error;
    }
    outcome = { ok: false, errorName: failure.name, message: failure.message };
  }
  const verdict = judgeCanary(expectation, outcome);
  if (verdict === 'KEY_USABLE') {
    throw new KeyChangedExternallyError(
      `The canary ${plan.operation} on ${key.keyArn} succeeded: the key is usable, not ${
        expectation === 'DISABLED' ? 'Disabled' : 'pending deletion'
      } as this execution left it.`,
    );
  }
  if (verdict === 'UNEXPECTED' || !failure) {
    throw failure ?? new Error('canary outcome without an error');
  }
  return {
    requestId: failure.$metadata?.requestId ?? '',
    at: now.toISOString(),
    operation: plan.operation,
    errorCode: failure.name,
    seen: false,
  };
}
