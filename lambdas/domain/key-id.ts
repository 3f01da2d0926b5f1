/**
 * Key identifiers as the execution input may carry them: a key ID or a key ARN, never an alias.
 *
 * `GetKeyLastUsage` accepts only a key ID or key ARN ("Alias names are not supported"), and the
 * workflow holds a key by its identity, so an alias, which can be re-pointed at another key while
 * the workflow runs, is refused here with the way to resolve it.
 */

/** `KeyId` length limit of the KMS API (`GetKeyLastUsage`, `DescribeKey`). */
export const MAX_KEY_ID_LENGTH = 2048;

const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/i;
const KEY_ARN = /^arn:(aws(?:-[a-z]+)*):kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):key\/(.*)$/;
const ALIAS_ARN = /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//;

const KEY_ID_FORM =
  'a key ID (like 1234abcd-12ab-34cd-56ef-1234567890ab, or mrk- and 32 hex digits for a multi-Region key) ' +
  'or a key ARN (arn:aws:kms:<region>:<12-digit account>:key/<key ID>)';

/** C0 controls, DEL and C1 controls (code points 0-31 and 127-159). */
export function isControlCharacter(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/** True when `value` holds a control character other than those in `allowed` (e.g. `'\n\t'`). */
export function hasControlCharacter(value: string, allowed = ''): boolean {
  for (const char of value) {
    if (isControlCharacter(char.charCodeAt(0)) && !allowed.includes(char)) {
      return true;
    }
  }
  return false;
}

/**
 * Quotes a value that came from outside for an error message: JSON-escaped (so control characters
 * show as escapes instead of acting on a terminal or log line) and cut to `max` characters.
 */
export function quoteUntrusted(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  // JSON escapes C0 controls already; DEL, C1 and the Unicode line separators it leaves raw.
  let quoted = '';
  for (const char of JSON.stringify(cut)) {
    const code = char.charCodeAt(0);
    quoted +=
      isControlCharacter(code) || code === 0x2028 || code === 0x2029
        ? `\\u${code.toString(16).padStart(4, '0')}`
        : char;
  }
  return quoted;
}

/** Base of every key-identifier error; `name` tells them apart. */
export class KeyIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyIdError';
  }
}

export class EmptyKeyIdError extends KeyIdError {
  constructor() {
    super(`The key identifier is empty: give ${KEY_ID_FORM}.`);
    this.name = 'EmptyKeyIdError';
  }
}

export class KeyIdTooLongError extends KeyIdError {
  constructor(length: number) {
    super(
      `The key identifier is ${length} characters long; KMS accepts at most ${MAX_KEY_ID_LENGTH}. Give ${KEY_ID_FORM}.`,
    );
    this.name = 'KeyIdTooLongError';
  }
}

export class KeyIdControlCharacterError extends KeyIdError {
  constructor(value: string) {
    super(
      `The key identifier ${quoteUntrusted(value)} contains control characters (such as a newline); ` +
        `give ${KEY_ID_FORM}, copied without surrounding line breaks.`,
    );
    this.name = 'KeyIdControlCharacterError';
  }
}

export class AliasNotSupportedError extends KeyIdError {
  constructor(value: string) {
    // The whole value goes into the command: an alias ARN resolves in its own account and Region.
    const alias = value.length > 300 ? `${value.slice(0, 300)}…` : value;
    super(
      `${quoteUntrusted(value)} is an alias; the workflow needs the key ID or key ARN, because an alias can be ` +
        `pointed at another key while the workflow runs. Resolve it with \`aws kms describe-key --key-id ${alias}\` ` +
        "(KeyMetadata.KeyId) or the CLI's start command, which resolves aliases " +
        `(\`npx kms-deletion-guard start ${alias}\`).`,
    );
    this.name = 'AliasNotSupportedError';
  }
}

export class MalformedKeyArnError extends KeyIdError {
  constructor(value: string) {
    super(`${quoteUntrusted(value)} is not a valid KMS key ARN; give ${KEY_ID_FORM}.`);
    this.name = 'MalformedKeyArnError';
  }
}

export class MalformedKeyIdError extends KeyIdError {
  constructor(value: string) {
    super(`${quoteUntrusted(value)} is not a key ID; give ${KEY_ID_FORM}.`);
    this.name = 'MalformedKeyIdError';
  }
}

/** The key ARN names an account other than the one the workflow runs in. */
export class ForeignAccountKeyError extends Error {
  readonly keyAccount: string;
  readonly homeAccount: string;
  constructor(arn: string, keyAccount: string, homeAccount: string) {
    super(
      `The key ARN ${quoteUntrusted(arn, 200)} belongs to account ${keyAccount}, but this workflow runs in ` +
        `account ${homeAccount}. GetKeyLastUsage is not cross-account, so the key's usage cannot be assessed ` +
        `from here: deploy kms-deletion-guard in account ${keyAccount} and start the execution there.`,
    );
    this.name = 'ForeignAccountKeyError';
    this.keyAccount = keyAccount;
    this.homeAccount = homeAccount;
  }
}

export type KeyReference =
  | { readonly kind: 'KEY_ID'; readonly keyId: string; readonly multiRegion: boolean }
  | {
      readonly kind: 'KEY_ARN';
      readonly keyId: string;
      readonly arn: string;
      readonly partition: string;
      readonly region: string;
      readonly account: string;
      readonly multiRegion: boolean;
    };

/** Parses a key ID or key ARN; throws a `KeyIdError` subclass that says what to give instead. */
export function parseKeyId(value: string): KeyReference {
  if (value.length === 0 || value.trim().length === 0) {
    throw new EmptyKeyIdError();
  }
  if (value.length > MAX_KEY_ID_LENGTH) {
    throw new KeyIdTooLongError(value.length);
  }
  if (hasControlCharacter(value)) {
    throw new KeyIdControlCharacterError(value);
  }
  if (value.startsWith('alias/') || ALIAS_ARN.test(value)) {
    throw new AliasNotSupportedError(value);
  }
  if (value.startsWith('arn:')) {
    const match = KEY_ARN.exec(value);
    const [, partition, region, account, keyId] = match ?? [];
    if (!partition || !region || !account || !keyId || !KEY_ID.test(keyId)) {
      throw new MalformedKeyArnError(value);
    }
    return {
      kind: 'KEY_ARN',
      keyId,
      arn: value,
      partition,
      region,
      account,
      multiRegion: keyId.startsWith('mrk-'),
    };
  }
  if (!KEY_ID.test(value)) {
    throw new MalformedKeyIdError(value);
  }
  return { kind: 'KEY_ID', keyId: value, multiRegion: value.startsWith('mrk-') };
}

/** Where a key lives, as far as its identifier tells before KMS is asked. */
export interface KeyLocation {
  readonly keyId: string;
  readonly region: string;
  readonly account: string;
  /** The key ARN when the identifier was one; a bare key ID's ARN is known only from DescribeKey. */
  readonly keyArn: string | null;
  /** True when a key ARN names a Region other than the workflow's own. */
  readonly otherRegion: boolean;
}

/**
 * Tells the Region and account of the key a (validated or raw) identifier names. A bare key ID is
 * resolved by KMS in the caller's own account and Region; a key ARN of another account is refused
 * with `ForeignAccountKeyError` because `GetKeyLastUsage` is not cross-account.
 */
export function locateKey(idOrArn: string, homeAccount: string, homeRegion: string): KeyLocation {
  const ref = parseKeyId(idOrArn);
  if (ref.kind === 'KEY_ID') {
    return { keyId: ref.keyId, region: homeRegion, account: homeAccount, keyArn: null, otherRegion: false };
  }
  if (ref.account !== homeAccount) {
    throw new ForeignAccountKeyError(ref.arn, ref.account, homeAccount);
  }
  return {
    keyId: ref.keyId,
    region: ref.region,
    account: ref.account,
    keyArn: ref.arn,
    otherRegion: ref.region !== homeRegion,
  };
}
