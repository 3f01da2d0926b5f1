import type { EmulatedAccount } from '../../../../lib/simulator/emulator/account.js';
import {
  defaultArn,
  type ProtectedResource,
  type ResourceType,
} from '../../../../lib/simulator/emulator/inventory/resources.js';
import { InProcessEmulatorHandler } from '../../../../lib/simulator/emulator/server.js';
import {
  ACCOUNT,
  KEY_ARN,
  KEY_ID,
  newAccount,
  OTHER_KEY_ARN,
  OTHER_KEY_ID,
  REGION,
  START,
  TestClock,
} from './fixtures.js';

/** The key the tests ask about (alias/legacy) and the one whose resources are decoys. */
export const SUBJECT = { keyId: KEY_ID, arn: KEY_ARN, aliases: ['alias/legacy'] } as const;
export const DECOY = { keyId: OTHER_KEY_ID, arn: OTHER_KEY_ARN, aliases: [] } as const;
export const SUBJECT_ALIAS_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy`;

export interface ResourceSpec {
  readonly type: ResourceType;
  readonly id: string;
  readonly key?: typeof SUBJECT | typeof DECOY;
  readonly region?: string;
  readonly createdAt?: Date;
  readonly arn?: string;
}

export function resource(spec: ResourceSpec): ProtectedResource {
  const region = spec.region ?? REGION;
  const key = spec.key ?? SUBJECT;
  return {
    type: spec.type,
    id: spec.id,
    arn: spec.arn ?? defaultArn(spec.type, spec.id, ACCOUNT, region),
    createdAt: spec.createdAt ?? new Date('2025-03-01T12:00:00Z'),
    region,
    recordedByConfig: false,
    key: { keyId: key.keyId, arn: key.arn.replace(REGION, region), aliases: key.aliases },
  };
}

/** The fixtures' account (its two keys) with these resources under them. */
export function accountWith(specs: readonly ResourceSpec[], clock = new TestClock(START)): EmulatedAccount {
  const account = newAccount(clock);
  for (const spec of specs) {
    account.addProtectedResource(resource(spec));
  }
  return account;
}

/** `n` IDs of a kind: vol-00000000000000001, ... (17 hex digits, as EC2 writes new IDs). */
export function ids(prefix: string, n: number, from = 1): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${(from + i).toString(16).padStart(17, '0')}`);
}

export interface ClientOptions {
  readonly region?: string;
  /** An IP endpoint makes S3 address buckets path-style, a host name virtual-host style. */
  readonly endpoint?: string;
}

/**
 * A real SDK client answered by `account` in process (the simulator's transport): the client's
 * serializer, signer and deserializer are the SDK's own. No retries, so each fault shows.
 */
export function inProcessClient<C>(
  Client: new (config: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
    requestHandler: InProcessEmulatorHandler;
  }) => C,
  account: EmulatedAccount,
  options: ClientOptions = {},
): C {
  const requestHandler = new InProcessEmulatorHandler();
  requestHandler.setAccount(account);
  return new Client({
    region: options.region ?? REGION,
    endpoint: options.endpoint ?? 'http://127.0.0.1:4566',
    credentials: { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'x' },
    maxAttempts: 1,
    requestHandler,
  });
}

/** The error a promise rejects with (the test fails if it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

/** A fault on every call of `service` (until the test ends). */
export function denyAll(
  account: EmulatedAccount,
  service: Parameters<EmulatedAccount['addFault']>[0]['service'],
  error = 'AccessDenied',
): void {
  account.addFault({
    service,
    operation: '*',
    error,
    from: new Date(0),
    until: new Date(8.64e15),
  });
}
