import {
  breakageErrorCodes,
  CANARY_ERROR_CODES,
  CANARY_EVENT_NAMES,
  type KeyRef,
  KMS_EVENT_SOURCE,
  phaseOfKind,
  type RecordKind,
  TRACKED_OPERATIONS,
} from './cloudtrail.js';

/**
 * The CloudWatch Logs filter patterns the watch reads the trail with: the server-side filter of each
 * search, and the pattern of the log group's subscription (which must select every failed call any
 * search could ask for, so it is the searches' own pattern without a key).
 */

/** FilterLogEvents accepts patterns up to this length. */
export const MAX_FILTER_PATTERN_LENGTH = 1024;

function quoted(value: string): string {
  return `"${value}"`;
}

/** Values are put between quotes in the pattern; a value that could break out of them is not used. */
function safeValue(value: string): boolean {
  return !/["\\\n\r]/.test(value);
}

function anyOf(clauses: readonly string[]): string {
  return clauses.length === 1 ? (clauses[0] ?? '') : `(${clauses.join(' || ')})`;
}

function kindClauses(kind: RecordKind): string[] {
  const phase = phaseOfKind(kind);
  if (phase !== null) {
    return [anyOf(breakageErrorCodes(phase).map((code) => `($.errorCode = ${quoted(code)})`))];
  }
  if (kind === 'PUBLIC_KEY_DOWNLOAD') {
    return ['($.eventName = "GetPublicKey")'];
  }
  if (kind === 'CANARY') {
    return [
      anyOf(CANARY_ERROR_CODES.map((code) => `($.errorCode = ${quoted(code)})`)),
      anyOf(CANARY_EVENT_NAMES.map((name) => `($.eventName = ${quoted(name)})`)),
    ];
  }
  return [anyOf(TRACKED_OPERATIONS.map((name) => `($.eventName = ${quoted(name)})`))];
}

function keyClauses(key: KeyRef, kind: RecordKind): string[] | null {
  const prefix = /^(arn:[^:]+:kms:[^:]*:[^:]*:)key\//.exec(key.keyArn)?.[1];
  const names = [
    key.keyId,
    key.keyArn,
    ...key.aliases,
    ...(prefix ? key.aliases.map((a) => `${prefix}${a}`) : []),
  ];
  if (!names.every(safeValue)) {
    return null;
  }
  const arn = quoted(key.keyArn);
  const clauses = [`($.resources[0].ARN = ${arn})`, `($.resources[1].ARN = ${arn})`];
  if (phaseOfKind(kind) !== null || kind === 'CANARY') {
    // KMS's error text starts with the key ARN ("<key ARN> is disabled.", even when the caller sent a bare ID).
    clauses.push(`($.errorMessage = ${quoted(`${key.keyArn}*`)})`);
  }
  for (const name of new Set(names)) {
    clauses.push(`($.requestParameters.keyId = ${quoted(name)})`);
  }
  return clauses;
}

/**
 * The server-side filter: KMS events of the kind on the key. Scoping to the key keeps the bytes
 * returned small; when the key's names do not fit the pattern limit, the filter falls back to
 * KMS events of the kind only, which returns more but misses nothing. The domain matcher still
 * decides every record.
 */
export function buildFilterPattern(
  key: KeyRef | readonly KeyRef[],
  kind: RecordKind,
  requestIds: readonly string[] = [],
  principalArns: readonly string[] = [],
): string {
  const base = [`($.eventSource = ${quoted(KMS_EVENT_SOURCE)})`, ...kindClauses(kind)];
  const ids = requestIds.filter((id) => id !== '');
  if (ids.length > 0 && [...ids, ...principalArns].every(safeValue)) {
    // A request ID names one call, the workflow's roles make nothing else that fails this way: the
    // narrowest filter there is. Too many to fit fall back to the key.
    const byId = `{ ${[
      ...base,
      anyOf([
        ...ids.map((id) => `($.requestID = ${quoted(id)})`),
        ...principalArns.map((arn) => `($.userIdentity.sessionContext.sessionIssuer.arn = ${quoted(arn)})`),
      ]),
    ].join(' && ')} }`;
    if (byId.length <= MAX_FILTER_PATTERN_LENGTH) {
      return byId;
    }
  }
  const one = keyOf(key);
  const scope = one && keyClauses(one, kind);
  if (scope) {
    const scoped = `{ ${[...base, anyOf(scope)].join(' && ')} }`;
    if (scoped.length <= MAX_FILTER_PATTERN_LENGTH) {
      return scoped;
    }
  }
  return `{ ${base.join(' && ')} }`;
}

/** The one key a query is scoped to, or null when it asks for several. */
function keyOf(key: KeyRef | readonly KeyRef[]): KeyRef | null {
  if (!isKeyList(key)) {
    return key;
  }
  return key.length === 1 ? (key[0] ?? null) : null;
}

export function isKeyList(key: KeyRef | readonly KeyRef[]): key is readonly KeyRef[] {
  return Array.isArray(key);
}

/**
 * What the log group's subscription selects: KMS calls that failed the way a call on a disabled key,
 * or on a key pending deletion, fails (the pending phase's codes include the observation's) — for any
 * key, as the sweep's search asks for them. The deliveries are matched to holds in memory.
 */
export const FAILED_CALLS_PATTERN: string = /* @__PURE__ */ buildFilterPattern([], 'PENDING_USE');
