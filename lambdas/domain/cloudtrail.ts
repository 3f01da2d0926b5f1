import type { Evidence } from './types.js';

/**
 * A CloudTrail record of a KMS call, as CloudTrail writes it into CloudWatch Logs (one JSON
 * object per log event). Every field CloudTrail may leave out is optional, because a matcher that
 * crashes on a missing field would hide the very record that shows the key is still needed.
 */
export interface CloudTrailRecord {
  readonly eventVersion?: string;
  readonly eventID: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly awsRegion?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestParameters?: Record<string, unknown> | null;
  readonly responseElements?: Record<string, unknown> | null;
  readonly resources?: readonly {
    readonly ARN?: string;
    readonly accountId?: string;
    readonly type?: string;
  }[];
  readonly userIdentity?: {
    readonly type?: string;
    readonly arn?: string;
    readonly accountId?: string;
    readonly principalId?: string;
    readonly sessionContext?: { readonly sessionIssuer?: { readonly arn?: string } };
  };
  readonly sourceIPAddress?: string;
  readonly userAgent?: string;
  readonly requestID?: string;
  readonly recipientAccountId?: string;
  readonly readOnly?: boolean;
}

/** The identifiers a caller may use for one key. */
export interface KeyRef {
  readonly keyId: string;
  readonly keyArn: string;
  readonly aliases: readonly string[];
}

/** Which watch is asking: before deletion is scheduled (OBSERVE, FINAL) or during the pending window. */
export type BreakagePhase = 'OBSERVE' | 'FINAL' | 'PENDING';

export const KMS_EVENT_SOURCE = 'kms.amazonaws.com';

/**
 * Request parameters that name the key a KMS call acted on. `ReEncrypt` names two keys; either
 * being ours means the call needed ours.
 */
const KEY_PARAMETERS = ['keyId', 'sourceKeyId', 'destinationKeyId'] as const;

/** Characters that can continue an ARN; a match followed or preceded by one is part of a longer ARN. */
const ARN_CHAR = /[A-Za-z0-9_\-/:.]/;

interface ArnParts {
  readonly prefix: string;
  readonly region: string;
  readonly account: string;
}

/** `arn:<partition>:kms:<region>:<account>:key/<id>` split into what alias ARNs share with it. */
function parseKeyArn(keyArn: string): ArnParts | null {
  const match = /^(arn:[^:]+:kms:([^:]*):([^:]*):)key\/.+$/.exec(keyArn);
  if (!match) {
    return null;
  }
  const [, prefix = '', region = '', account = ''] = match;
  return { prefix, region, account };
}

/**
 * True when `text` contains `arn` as a whole token. A plain `includes` would also accept a longer
 * ARN that merely starts with ours; the character after the match must not continue an ARN. A
 * trailing period is the end of KMS's sentence (`<key ARN> is disabled.`), so it only counts as a
 * continuation when more ARN characters follow it.
 */
export function containsArnToken(text: string, arn: string): boolean {
  if (arn.length === 0) {
    return false;
  }
  let from = 0;
  for (;;) {
    const at = text.indexOf(arn, from);
    if (at < 0) {
      return false;
    }
    const before = at > 0 ? text.charAt(at - 1) : '';
    const after = text.charAt(at + arn.length);
    const afterNext = text.charAt(at + arn.length + 1);
    const continuesBefore = before !== '' && ARN_CHAR.test(before) && before !== '.';
    const continuesAfter =
      after !== '' &&
      ARN_CHAR.test(after) &&
      !(after === '.' && (afterNext === '' || !ARN_CHAR.test(afterNext)));
    if (!continuesBefore && !continuesAfter) {
      return true;
    }
    from = at + 1;
  }
}

/**
 * Does this record concern our key? The shared matcher of the polling check and the fast path.
 *
 * Full ARNs (key or alias) match anywhere. A bare key ID or alias name only means our key when the
 * call was made in the key's Region and, when the caller's account is known, by the key's
 * account: KMS resolves bare names in the caller's own account and Region, so `alias/legacy` in
 * another account or Region is another key (multi-Region and organization trails deliver those
 * records into the same log group).
 */
export function recordConcernsKey(record: CloudTrailRecord, key: KeyRef): boolean {
  if (record.resources?.some((resource) => resource.ARN === key.keyArn)) {
    return true;
  }
  if (typeof record.errorMessage === 'string' && containsArnToken(record.errorMessage, key.keyArn)) {
    return true;
  }
  const params = record.requestParameters;
  if (!params) {
    return false;
  }
  const named = KEY_PARAMETERS.map((name) => params[name]).filter(
    (value): value is string => typeof value === 'string' && value.length > 0,
  );
  if (named.length === 0) {
    return false;
  }
  const arn = parseKeyArn(key.keyArn);
  const fullNames = new Set<string>([key.keyArn]);
  const bareNames = new Set<string>([key.keyId]);
  for (const alias of key.aliases) {
    bareNames.add(alias);
    if (arn) {
      fullNames.add(`${arn.prefix}${alias}`);
    }
  }
  if (named.some((value) => fullNames.has(value))) {
    return true;
  }
  if (!named.some((value) => bareNames.has(value))) {
    return false;
  }
  if (!arn) {
    return true;
  }
  const sameRegion = record.awsRegion === undefined || record.awsRegion === arn.region;
  const callerAccount = record.userIdentity?.accountId;
  const sameAccount = callerAccount === undefined || callerAccount === arn.account;
  return sameRegion && sameAccount;
}

/**
 * Is this error one that shows someone still needs the key?
 *
 * While the key is only disabled, a call on it fails with `DisabledException`. In the pending
 * window it fails with `KMSInvalidStateException` (some calls answer `DisabledException` with the
 * "is pending deletion" text, as older KMS documentation says); a plain "is disabled." there still means someone tried
 * to use the key, so every `DisabledException` counts in that phase too.
 */
export function isBreakage(record: CloudTrailRecord, phase: BreakagePhase): boolean {
  if (record.eventSource !== undefined && record.eventSource !== KMS_EVENT_SOURCE) {
    return false;
  }
  if (phase === 'PENDING') {
    return record.errorCode === 'KMSInvalidStateException' || record.errorCode === 'DisabledException';
  }
  return record.errorCode === 'DisabledException';
}

/** The error codes that count as breakage in a phase (for server-side filters). */
export function breakageErrorCodes(phase: BreakagePhase): readonly string[] {
  return phase === 'PENDING' ? ['KMSInvalidStateException', 'DisabledException'] : ['DisabledException'];
}

/**
 * `arn:aws:sts::<acct>:assumed-role/<role>/<session>` -> `{ account, role }`. An IAM role ARN may
 * carry a path (`role/service/x`), the assumed-role ARN only the role's name.
 */
function assumedRole(arn: string): { account: string; role: string } | null {
  const match = /^arn:[^:]+:sts::([^:]*):assumed-role\/([^/]+)\/.*$/.exec(arn);
  if (!match) {
    return null;
  }
  const [, account = '', role = ''] = match;
  return { account, role };
}

function roleOf(arn: string): { account: string; role: string } | null {
  const match = /^arn:[^:]+:iam::([^:]*):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (!match) {
    return null;
  }
  const [, account = '', role = ''] = match;
  return { account, role };
}

/**
 * Calls the workflow makes itself (its canary, its own re-reads) fail on the disabled key too;
 * they must never count as someone needing the key.
 */
export function isOwnCall(record: CloudTrailRecord, workflowPrincipalArns: readonly string[]): boolean {
  if (workflowPrincipalArns.length === 0) {
    return false;
  }
  const identity = record.userIdentity;
  if (!identity) {
    return false;
  }
  const own = new Set(workflowPrincipalArns);
  const issuer = identity.sessionContext?.sessionIssuer?.arn;
  if (issuer !== undefined && own.has(issuer)) {
    return true;
  }
  if (identity.arn === undefined) {
    return false;
  }
  if (own.has(identity.arn)) {
    return true;
  }
  const session = assumedRole(identity.arn);
  if (!session) {
    return false;
  }
  return workflowPrincipalArns.some((arn) => {
    const role = roleOf(arn);
    return role !== null && role.account === session.account && role.role === session.role;
  });
}

/** Who made the call, as precisely as the record says. */
export function principalOf(record: CloudTrailRecord): string {
  const identity = record.userIdentity;
  return identity?.sessionContext?.sessionIssuer?.arn ?? identity?.arn ?? identity?.principalId ?? 'unknown';
}

export function toEvidence(record: CloudTrailRecord): Evidence {
  return {
    eventID: record.eventID,
    eventTime: record.eventTime,
    eventName: record.eventName,
    errorCode: record.errorCode ?? '',
    principal: principalOf(record),
    sourceIPAddress: record.sourceIPAddress ?? 'unknown',
    userAgent: record.userAgent ?? 'unknown',
    recipientAccountId: record.recipientAccountId,
  };
}

/**
 * What a search looks for: failures that show the key is needed (BREAKAGE before deletion is
 * scheduled, PENDING_USE in the pending window), successful cryptographic use (history before
 * GetKeyLastUsage tracking), a downloaded public key, or the workflow's own canaries (CANARY:
 * failed canary operations, which the caller narrows down by request ID).
 */
export type RecordKind = 'BREAKAGE' | 'PENDING_USE' | 'SUCCESSFUL_USE' | 'PUBLIC_KEY_DOWNLOAD' | 'CANARY';

/** The operations a canary makes (lambdas/domain/canary.ts) and the failures it ends with. */
export const CANARY_EVENT_NAMES: readonly string[] = ['Encrypt', 'Sign', 'GenerateMac', 'DeriveSharedSecret'];
export const CANARY_ERROR_CODES: readonly string[] = ['DisabledException', 'KMSInvalidStateException'];

/** The operations GetKeyLastUsage tracks (its `Operation` enum): the successful uses of a key. */
export const TRACKED_OPERATIONS = [
  'Decapsulate',
  'Decrypt',
  'DeriveSharedSecret',
  'Encapsulate',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateMac',
  'ReEncrypt',
  'Sign',
  'Verify',
  'VerifyMac',
] as const;

const TRACKED = new Set<string>(TRACKED_OPERATIONS);

/** The breakage phase a kind stands for, or null for the history kinds. */
export function phaseOfKind(kind: RecordKind): BreakagePhase | null {
  if (kind === 'BREAKAGE') {
    return 'OBSERVE';
  }
  return kind === 'PENDING_USE' ? 'PENDING' : null;
}

/** Does the record belong to the kind searched for (independent of which key it concerns)? */
export function recordMatchesKind(record: CloudTrailRecord, kind: RecordKind): boolean {
  const phase = phaseOfKind(kind);
  if (phase !== null) {
    return isBreakage(record, phase);
  }
  if (kind === 'CANARY') {
    return (
      record.eventSource === KMS_EVENT_SOURCE &&
      CANARY_EVENT_NAMES.includes(record.eventName) &&
      CANARY_ERROR_CODES.includes(record.errorCode ?? '')
    );
  }
  if (record.eventSource !== KMS_EVENT_SOURCE || record.errorCode) {
    return false;
  }
  return kind === 'PUBLIC_KEY_DOWNLOAD' ? record.eventName === 'GetPublicKey' : TRACKED.has(record.eventName);
}

/** A KMS key ARN anywhere in a text (not an alias ARN). */
const KEY_ARN_IN_TEXT = /arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+/g;

/**
 * The key ARNs a record may concern, as far as the record itself names them: its resources, the
 * ARNs in its error message, and its key parameters given as key ARNs. Null when a key parameter is
 * a bare key ID or an alias the record does not resolve (a call naming one key, whose record carries
 * one key ARN, resolves it), which only the holds themselves resolve (recordConcernsKey): the caller
 * then matches the record against every hold.
 */
export function keyArnsNamedBy(record: CloudTrailRecord): string[] | null {
  const arns = new Set<string>();
  for (const resource of record.resources ?? []) {
    if (typeof resource.ARN === 'string' && /^arn:[^:]+:kms:[^:]*:[^:]*:key\//.test(resource.ARN)) {
      arns.add(resource.ARN);
    }
  }
  if (typeof record.errorMessage === 'string') {
    for (const match of record.errorMessage.matchAll(KEY_ARN_IN_TEXT)) arns.add(match[0]);
  }
  const params = record.requestParameters;
  const named = KEY_PARAMETERS.map((name) => params?.[name]).filter(
    (value): value is string => typeof value === 'string' && value.length > 0,
  );
  const unresolved = named.filter((value) => !/^arn:[^:]+:kms:[^:]*:[^:]*:key\//.test(value));
  for (const value of named) {
    if (!unresolved.includes(value)) arns.add(value);
  }
  // A bare key ID or an alias names the key only with what the holds know (their IDs, aliases and
  // partitions): recordConcernsKey decides, against every hold. Except where the call names one key
  // and the record its ARN as well: KMS resolved that one name to that key.
  if (unresolved.length > 0 && !(named.length === 1 && arns.size === 1)) {
    return null;
  }
  return [...arns];
}
