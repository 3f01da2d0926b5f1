import * as z from 'zod/mini';
import { canaryShape } from '../contracts/events.js';
import { safeParseContract } from '../contracts/issues.js';
import { type CloudTrailRecord, isOwnCall } from './cloudtrail.js';
import { EventSourceBlindError } from './errors.js';
import { MINUTE_MS } from './time.js';
import type { Canary, KeyFacts } from './types.js';

/**
 * The canary: the watch proves it can see. "No DisabledException was seen" only
 * means "nobody needs the key" if the source would have shown one; trails that exclude KMS events,
 * log write events only, stopped logging or lost their CloudWatch Logs delivery make a used key
 * look quiet. So right after disabling and at every check the workflow makes one harmless
 * cryptographic call of its own on the key, which must fail, and requires the record of each such
 * call to show up in the source within the ingestion lag. Pure: the AWS side lives in
 * lambdas/aws/canary.ts.
 */

/** The operations a canary uses, one per key usage. */
export const CANARY_OPERATIONS = ['Encrypt', 'Sign', 'GenerateMac', 'DeriveSharedSecret'] as const;
export type CanaryOperation = (typeof CANARY_OPERATIONS)[number];

/** The few bytes a canary encrypts, signs or MACs: it names itself to anyone reading the trail. */
export const CANARY_PAYLOAD = 'kms-deletion-guard canary';

/** Canaries kept in the state at most, besides those still waiting for their record. */
export const MAX_SEEN_CANARIES_IN_STATE = 10;

/** How far around a canary's time its record may carry an eventTime (whole seconds, clock skew). */
const CANARY_TIME_SLACK_MS = MINUTE_MS;

/** What the canary call needs: the operation and the algorithm valid for the key's spec. */
export interface CanaryPlan {
  readonly operation: CanaryOperation;
  readonly algorithm: string;
  /** DeriveSharedSecret: the node:crypto curve of the peer public key sent with the call. */
  readonly curve?: string | undefined;
}

const SIGNING: ReadonlyArray<readonly [RegExp, string]> = [
  [/^RSA_/, 'RSASSA_PSS_SHA_256'],
  [/^(ECC_NIST_P256|ECC_SECG_P256K1)$/, 'ECDSA_SHA_256'],
  [/^ECC_NIST_P384$/, 'ECDSA_SHA_384'],
  [/^ECC_NIST_P521$/, 'ECDSA_SHA_512'],
  [/^ECC_NIST_EDWARDS25519$/, 'ED25519_SHA_512'],
  [/^ML_DSA_/, 'ML_DSA_SHAKE_256'],
  [/^SM2$/, 'SM2DSA'],
];

const AGREEMENT_CURVES: Readonly<Record<string, string>> = {
  ECC_NIST_P256: 'prime256v1',
  ECC_NIST_P384: 'secp384r1',
  ECC_NIST_P521: 'secp521r1',
  SM2: 'SM2',
};

/**
 * The canary for a key, by its usage and spec; null when no harmless call exists for it (the
 * workflow then cannot prove it sees the key's failures and must not watch it).
 */
export function canaryFor(key: Pick<KeyFacts, 'keyUsage' | 'keySpec'>): CanaryPlan | null {
  const spec = key.keySpec;
  switch (key.keyUsage) {
    case 'ENCRYPT_DECRYPT':
      if (spec === 'SYMMETRIC_DEFAULT') return { operation: 'Encrypt', algorithm: 'SYMMETRIC_DEFAULT' };
      if (spec.startsWith('RSA_')) return { operation: 'Encrypt', algorithm: 'RSAES_OAEP_SHA_256' };
      if (spec === 'SM2') return { operation: 'Encrypt', algorithm: 'SM2PKE' };
      return null;
    case 'SIGN_VERIFY': {
      const algorithm = SIGNING.find(([pattern]) => pattern.test(spec))?.[1];
      return algorithm ? { operation: 'Sign', algorithm } : null;
    }
    case 'GENERATE_VERIFY_MAC': {
      const bits = /^HMAC_(224|256|384|512)$/.exec(spec)?.[1];
      return bits ? { operation: 'GenerateMac', algorithm: `HMAC_SHA_${bits}` } : null;
    }
    case 'KEY_AGREEMENT': {
      const curve = AGREEMENT_CURVES[spec];
      return curve ? { operation: 'DeriveSharedSecret', algorithm: 'ECDH', curve } : null;
    }
    default:
      return null;
  }
}

/** What state the key is in when the canary is made, and so which failure proves it. */
export type CanaryExpectation = 'DISABLED' | 'PENDING_DELETION';

/** How a canary call ended, as the SDK reported it. */
export type CanaryOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly errorName: string; readonly message: string };

/**
 * EXPECTED: the call failed as it must on a key in that state. KEY_USABLE: it succeeded, so the key
 * is not disabled at all. UNEXPECTED: any other failure (throttling, access denied): the call proves
 * nothing and the caller rethrows it.
 */
export type CanaryVerdict = 'EXPECTED' | 'KEY_USABLE' | 'UNEXPECTED';

export function judgeCanary(expectation: CanaryExpectation, outcome: CanaryOutcome): CanaryVerdict {
  if (outcome.ok) {
    return 'KEY_USABLE';
  }
  if (expectation === 'DISABLED') {
    return outcome.errorName === 'DisabledException' ? 'EXPECTED' : 'UNEXPECTED';
  }
  // Some calls answer DisabledException with the "is pending deletion" text (older KMS documentation
  // says so), so both are the pending-deletion answer.
  const pending =
    outcome.errorName === 'KMSInvalidStateException' ||
    (outcome.errorName === 'DisabledException' && /pending deletion/i.test(outcome.message));
  return pending ? 'EXPECTED' : 'UNEXPECTED';
}

/** The canaries of a watch state; a state written before canaries existed has none. */
export function parseCanaries(value: unknown): Canary[] {
  if (value === undefined || value === null) {
    return [];
  }
  const parsed = safeParseContract(z.array(canaryShape), value);
  if (!parsed.success) {
    throw new TypeError(`watch.canaries is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * The list after adding `canary`: every canary still waiting for its record stays (each is a proof
 * the workflow still owes), of the seen ones only the newest few, so the state stays small while
 * their request IDs still tell their records from breakage in the next windows.
 */
export function addCanary(canaries: readonly Canary[], canary?: Canary): Canary[] {
  return prune(canary ? [...canaries, canary] : [...canaries]);
}

function prune(canaries: readonly Canary[]): Canary[] {
  const seen = canaries.filter((c) => c.seen);
  const dropped = new Set(seen.slice(0, Math.max(0, seen.length - MAX_SEEN_CANARIES_IN_STATE)));
  return canaries.filter((c) => !dropped.has(c));
}

/** Canaries old enough that their record must be in the source by now (made at or before now - lag). */
export function dueCanaries(canaries: readonly Canary[], now: Date, lagSeconds: number): Canary[] {
  const limit = now.getTime() - lagSeconds * 1000;
  return canaries.filter((c) => !c.seen && Date.parse(c.at) <= limit);
}

/** The instant a search for these canaries' records starts from. */
export function canarySearchStart(due: readonly Canary[]): Date {
  const earliest = Math.min(...due.map((c) => Date.parse(c.at)));
  return new Date(earliest - CANARY_TIME_SLACK_MS);
}

/**
 * Is this record one of the workflow's canaries? By request ID; failing that (KMS gave none, or the
 * trail wrote another), by operation, time and the workflow's own principal, which no other caller has.
 */
export function isCanaryRecordOf(
  record: CloudTrailRecord,
  canary: Canary,
  workflowPrincipalArns: readonly string[],
): boolean {
  if (record.eventName !== canary.operation) {
    return false;
  }
  if (canary.requestId !== '' && record.requestID === canary.requestId) {
    return true;
  }
  const distance = Math.abs(Date.parse(record.eventTime) - Date.parse(canary.at));
  return distance <= CANARY_TIME_SLACK_MS && isOwnCall(record, workflowPrincipalArns);
}

/**
 * Records the workflow made itself are never breakage evidence: its canaries (by request ID) and
 * anything its own roles did. A real caller's record in the same minute is neither, so it counts.
 */
export function isWorkflowRecord(
  record: CloudTrailRecord,
  canaries: readonly Canary[],
  workflowPrincipalArns: readonly string[],
): boolean {
  const id = record.requestID;
  if (id !== undefined && id !== '' && canaries.some((c) => c.requestId === id)) {
    return true;
  }
  return isOwnCall(record, workflowPrincipalArns);
}

export interface CanaryProofContext {
  readonly keyArn: string;
  readonly logGroupName: string;
  readonly lagSeconds: number;
  readonly now: Date;
  readonly workflowPrincipalArns: readonly string[];
  /**
   * FinalCheck: besides every due canary, at least one canary made at least the lag before now
   * must have been seen (the last one of the observation), or the observation proves nothing.
   */
  readonly requireRecentProof?: boolean | undefined;
  /** When the log group ingested each record (ms), by eventID, where the source says. */
  readonly ingestedAt?: ReadonlyMap<string, number> | undefined;
}

export interface CanaryProof {
  readonly canaries: Canary[];
  /** Canaries this proof saw for the first time. */
  readonly newlySeen: number;
}

/**
 * Marks the due canaries whose records `records` holds as seen; throws EventSourceBlindError for the
 * first due canary that is missing. `records` are what the source returned for the due canaries.
 */
export function proveCanaries(
  canaries: readonly Canary[],
  records: readonly CloudTrailRecord[],
  ctx: CanaryProofContext,
): CanaryProof {
  const due = new Set(dueCanaries(canaries, ctx.now, ctx.lagSeconds));
  let newlySeen = 0;
  const next = canaries.map((canary) => {
    if (!due.has(canary)) {
      return canary;
    }
    const record = records.find((r) => isCanaryRecordOf(r, canary, ctx.workflowPrincipalArns));
    if (!record) {
      throw new EventSourceBlindError(missingMessage(canary, ctx));
    }
    // Each query window overlaps the previous one by the lag only; a trail that delivers later than
    // that lets a real failure fall between two windows and never be searched. The canary shows how
    // late delivery is, so a slower trail stops the watch instead of hiding failures.
    const ingested = ctx.ingestedAt?.get(record.eventID);
    if (ingested !== undefined && ingested - Date.parse(canary.at) > ctx.lagSeconds * 1000) {
      throw new EventSourceBlindError(lateMessage(canary, ingested, ctx));
    }
    newlySeen += 1;
    return { ...canary, seen: true };
  });
  if (ctx.requireRecentProof) {
    const limit = ctx.now.getTime() - ctx.lagSeconds * 1000;
    if (!next.some((c) => c.seen && Date.parse(c.at) <= limit)) {
      throw new EventSourceBlindError(
        `No canary of this execution has shown up in log group ${ctx.logGroupName} by ${ctx.now.toISOString()}: ` +
          'the observation cannot show that the source would have recorded failed calls on the key.',
      );
    }
  }
  return { canaries: prune(next), newlySeen };
}

function lateMessage(canary: Canary, ingested: number, ctx: CanaryProofContext): string {
  const minutes = Math.ceil((ingested - Date.parse(canary.at)) / MINUTE_MS);
  return (
    `The canary ${canary.operation} on ${ctx.keyArn} at ${canary.at} reached log group ${ctx.logGroupName} ` +
    `${minutes} minutes after the call, later than the ingestion lag of ${Math.round(ctx.lagSeconds / 60)} ` +
    'minutes: failed calls on the key could fall between two checks unseen. Raise ingestionLagMinutes above ' +
    'the delivery delay of the trail, or fix its delivery.'
  );
}

function missingMessage(canary: Canary, ctx: CanaryProofContext): string {
  const minutes = Math.floor((ctx.now.getTime() - Date.parse(canary.at)) / MINUTE_MS);
  const request = canary.requestId === '' ? 'no request ID' : `request ID ${canary.requestId}`;
  return (
    `The canary ${canary.operation} on ${ctx.keyArn} at ${canary.at} (${request}) failed with ` +
    `${canary.errorCode} as intended, but its CloudTrail record is not in log group ${ctx.logGroupName} ` +
    `${minutes} minutes later (ingestion lag ${Math.round(ctx.lagSeconds / 60)} minutes): the source does not ` +
    'show failed calls on this key.'
  );
}

/** What to check in the trail when the watch was blind, one line each (for the abort e-mail). */
export const BLIND_CHECKLIST: readonly string[] = [
  'The trail that delivers to the log group logs read events: ReadWriteType All, not WriteOnly (a failed Decrypt or Encrypt is a read event).',
  'KMS events are not excluded: no ExcludeManagementEventSources kms.amazonaws.com, no advanced selector that filters eventSource kms.amazonaws.com out.',
  "The trail is multi-Region, or lives in the key's Region.",
  'The trail is logging (aws cloudtrail get-trail-status: IsLogging true).',
  'CloudWatch Logs delivery works (get-trail-status: LatestCloudWatchLogsDeliveryTime recent, no LatestCloudWatchLogsDeliveryError) and the log group is the one configured.',
  'Run `kms-deletion-guard doctor --log-group <name>` to see each of these for your trail.',
];
