import {
  AliasNotSupportedError,
  EmptyKeyIdError,
  ForeignAccountKeyError,
  KeyIdControlCharacterError,
  KeyIdTooLongError,
  MalformedKeyArnError,
  MalformedKeyIdError,
} from './errors.js';
import { hasControlCharacter } from './untrusted.js';

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
    throw new KeyIdTooLongError(value.length, MAX_KEY_ID_LENGTH);
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
