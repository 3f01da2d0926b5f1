import { cliCommand, executionLookup } from '../contracts/cli.js';
import { ACTIVE_HOLD_PHASES } from '../contracts/hold-registry.js';
import { ACTIVE_HOLD_STATUSES, TAGS } from '../contracts/tags.js';
import { isHeldBy } from './hold.js';
import type { HoldRecord } from './hold-record.js';
import { DAY_MS, wholeDays } from './time.js';
import type { ExecutionRequest, GuardConfig, KeyFacts, Refusal, UsageAssessment } from './types.js';
import { quoteUntrusted } from './untrusted.js';
import { cadenceRefusal } from './usage-cadence.js';

/**
 * The refusal rules of AssessKey, in order: the first that applies is the answer.
 * A refusal changes nothing on the key, so every message says what was found and what a person
 * can do about it.
 */

/**
 * Why the history cannot rule out a `GetPublicKey` it did not find: it starts after the key was
 * created (the log group's retention or its creation), it could not be read, or
 * the trails that feed it do not log KMS read events at all.
 */
export interface PublicKeyHistoryGap {
  readonly reason: 'HISTORY_STARTS_AFTER_CREATION' | 'UNREADABLE' | 'TRAIL_BLIND';
  /** One sentence that says how far back the history reached, or why it could not be read. */
  readonly detail: string;
}

/** What the CloudTrail log group showed about `GetPublicKey` on an asymmetric key. */
export interface PublicKeyHistory {
  readonly downloaded: boolean;
  readonly downloads: number;
  readonly searchedFrom: string;
  readonly searchedTo: string;
  readonly lastDownload: {
    readonly eventTime: string;
    readonly eventID: string;
    readonly principal: string;
  } | null;
  /** Why a download cannot be ruled out though none was found; null when the history covers the key's life. */
  readonly gap?: PublicKeyHistoryGap | null | undefined;
}

export interface RefusalArgs {
  readonly key: KeyFacts;
  readonly usage: UsageAssessment;
  readonly request: ExecutionRequest;
  readonly config: GuardConfig;
  readonly executionArn: string;
  readonly now: Date;
  /** For keys with a public key: the GetPublicKey search; null when not searched. */
  readonly publicKey?: PublicKeyHistory | null | undefined;
  /**
   * The key's record in the stack's hold registry (null: none was ever recorded); undefined where the
   * registry is not read (the CLI's `candidates`), which then goes by the tags alone.
   */
  readonly hold?: HoldRecord | null | undefined;
}

/** True when KMS can hand out a public key for this key (`GetPublicKey`). */
export function hasPublicKey(key: Pick<KeyFacts, 'keySpec' | 'keyUsage'>): boolean {
  switch (key.keyUsage) {
    case 'KEY_AGREEMENT':
    case 'ENCAPSULATE_DECAPSULATE':
      return true;
    case 'SIGN_VERIFY':
    case 'ENCRYPT_DECRYPT':
      return key.keySpec !== 'SYMMETRIC_DEFAULT';
    default:
      return false;
  }
}

function refuse(cause: Refusal['cause'], message: string): Refusal {
  return { cause, message };
}

/**
 * The rules that need only the key's metadata. AssessKey applies them before reading the usage
 * history: an AWS-managed key's policy need not let the workflow call GetKeyLastUsage, and a key
 * in these states is refused whatever its history says.
 */
export function findKeyRefusal(key: KeyFacts): Refusal | null {
  if (key.keyManager === 'AWS') {
    return refuse(
      'AWS_MANAGED_KEY',
      `Key ${key.keyId} is an AWS managed key${key.aliases.length ? ` (${key.aliases.join(', ')})` : ''}. ` +
        'AWS creates, rotates and deletes AWS managed keys itself; they cannot be disabled or deleted, and ' +
        'they cost nothing to keep. Nothing was changed; choose a customer managed key.',
    );
  }
  if (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion') {
    return refuse(
      'PENDING_DELETION',
      `Key ${key.keyId} is already ${key.keyState}: its deletion is scheduled outside this workflow, which ` +
        'therefore cannot watch for callers before it happens. Nothing was changed. To bring it under the ' +
        `guard, cancel the deletion (\`aws kms cancel-key-deletion --key-id ${key.keyArn}\`, the key stays ` +
        'Disabled) and start a new execution.',
    );
  }
  if (key.keyState !== 'Enabled' && key.keyState !== 'Disabled') {
    return refuse(
      'KEY_STATE_NOT_ALLOWED',
      `Key ${key.keyId} is in state ${key.keyState}; the workflow only retires keys that are Enabled or ` +
        'Disabled. Nothing was changed. Start again once the key has left that state (for example after ' +
        'importing its key material, or once its custom key store is connected).',
    );
  }
  return null;
}

function recentUseRefusal(args: RefusalArgs): Refusal | null {
  const { key, usage, config, now } = args;
  const minIdleMs = config.minIdleDays * DAY_MS;
  const lastUsage = usage.lastUsage;
  if (usage.classification === 'USED' && lastUsage) {
    const usedAt = Date.parse(lastUsage.timestamp);
    // An unreadable time proves use but not its age: count it as recent.
    if (Number.isNaN(usedAt) || now.getTime() - usedAt < minIdleMs) {
      const eligible = Number.isNaN(usedAt) ? 'unknown' : new Date(usedAt + minIdleMs).toISOString();
      const ago = Number.isNaN(usedAt)
        ? 'at an unreadable time'
        : `${wholeDays(now.getTime() - usedAt)} days ago`;
      return refuse(
        'RECENTLY_USED',
        `Key ${key.keyId} was used for a successful ${lastUsage.operation} at ${lastUsage.timestamp} (${ago}` +
          `${lastUsage.cloudTrailEventId ? `, CloudTrail event ID ${lastUsage.cloudTrailEventId}` : ''}), ` +
          `according to GetKeyLastUsage; minIdleDays is ${config.minIdleDays}. Nothing was changed. The key ` +
          `becomes eligible on ${eligible} if it is not used again; find the caller in CloudTrail first.`,
      );
    }
    return null;
  }
  const found = usage.historySearch?.lastUseFound;
  if (usage.classification === 'UNKNOWN_BEFORE_TRACKING' && found) {
    const usedAt = Date.parse(found.eventTime);
    if (Number.isNaN(usedAt) || now.getTime() - usedAt < minIdleMs) {
      const eligible = Number.isNaN(usedAt) ? 'unknown' : new Date(usedAt + minIdleMs).toISOString();
      return refuse(
        'RECENTLY_USED',
        `Key ${key.keyId} has no use recorded by GetKeyLastUsage since TrackingStartDate ` +
          `(${usage.trackingStartDate}), but the CloudTrail log group shows a successful ${found.eventName} at ` +
          `${found.eventTime} (event ID ${found.eventID}), less than minIdleDays (${config.minIdleDays}) ago. ` +
          `Nothing was changed. The key becomes eligible on ${eligible} if it is not used again; find the ` +
          'caller in CloudTrail first.',
      );
    }
  }
  return null;
}

function heldByAnother(args: RefusalArgs): Refusal | null {
  const { key, executionArn, hold } = args;
  // The registry is the authority: a live hold of another execution refuses whatever the tags say
  // (anyone with kms:TagResource can strip them).
  if (hold && hold.executionArn !== executionArn && ACTIVE_HOLD_PHASES.includes(hold.phase)) {
    return refuse(
      'HELD_BY_ANOTHER_EXECUTION',
      `Key ${key.keyId} is held by another execution (${hold.executionArn}): the stack's hold registry ` +
        `records it in phase "${hold.phase}" since ${hold.updatedAt}${tagNote(key.tags, hold.executionArn)}. Two ` +
        'executions on one key would undo each other. Nothing was changed; follow that execution with ' +
        `\`${cliCommand(`status ${hold.executionArn}`)}\` (or ${executionLookup(hold.executionArn)}), or stop it ` +
        '(its key is then restored) before starting a new one.',
    );
  }
  // Tags claiming a hold the registry does not record (forged, or an execution started before the
  // registry existed) still refuse: refusing changes nothing, acting on a doubt might.
  const holder = key.tags[TAGS.execution];
  const status = key.tags[TAGS.status];
  if (
    holder !== undefined &&
    !isHeldBy(key.tags, executionArn) &&
    ACTIVE_HOLD_STATUSES.some((s) => s === status)
  ) {
    const unrecorded =
      hold === undefined
        ? ''
        : ` The stack's hold registry records no live hold of it${hold ? ` (its record names ${hold.executionArn}, phase "${hold.phase}")` : ''}: the tags may have been written by hand, or by an execution that started before the registry existed.`;
    return refuse(
      'HELD_BY_ANOTHER_EXECUTION',
      `Key ${key.keyId} is held by another execution (${holder}), whose status tag says "${status}".${unrecorded} Two ` +
        'executions on one key would undo each other. Nothing was changed; follow that execution with ' +
        `\`${cliCommand(`status ${holder}`)}\` (or ${executionLookup(holder)}), or stop it (its key is then ` +
        'restored) before starting a new one.',
    );
  }
  return null;
}

/** What the tags say beside the registry, when they disagree with it. */
function tagNote(tags: Readonly<Record<string, string>>, holder: string): string {
  const tagged = tags[TAGS.execution];
  if (tagged === holder) {
    return '';
  }
  return tagged === undefined
    ? " (the key's tags no longer name it: they were removed outside the workflow)"
    : ` (the key's tags name ${tagged} instead: they were changed outside the workflow)`;
}

const OUTSIDE_KMS =
  'Whoever holds the public key can encrypt or verify outside KMS: no CloudTrail record or DisabledException ' +
  'will ever show that use, so the watch cannot prove the key unused, and data encrypted with it would be lost ' +
  'with the key.';

const IF_SURE =
  'If you are sure nobody depends on the public key, start again with "allowExportedPublicKey": true.';

/**
 * A key with a public key is refused when CloudTrail shows a GetPublicKey, and exactly the same way
 * when the history cannot rule one out: what cannot be proven is not safe.
 */
function publicKeyRefusal(args: RefusalArgs): Refusal | null {
  const { key, usage, request, publicKey } = args;
  if (!hasPublicKey(key) || request.allowExportedPublicKey) {
    return null;
  }
  const what = `Key ${key.keyId} is an asymmetric ${key.keySpec} key (${key.keyUsage})`;
  const downloaded = publicKey?.downloaded === true || usage.historySearch?.publicKeyDownloaded === true;
  if (downloaded) {
    const last = publicKey?.lastDownload;
    const detail = last ? ` (last at ${last.eventTime} by ${last.principal}, event ID ${last.eventID})` : '';
    return refuse(
      'PUBLIC_KEY_EXPORTED',
      `${what} and CloudTrail shows its public key was downloaded with GetPublicKey${detail}. ${OUTSIDE_KMS} ` +
        `Nothing was changed. ${IF_SURE}`,
    );
  }
  // Not searched (the fleet report reads no CloudTrail): only the assessment, which always searches
  // for a key with a public key, can tell.
  const gap = publicKey?.gap ?? null;
  if (gap === null) {
    return null;
  }
  const found =
    gap.reason === 'HISTORY_STARTS_AFTER_CREATION' && publicKey
      ? `${what}. CloudTrail shows no GetPublicKey from ${publicKey.searchedFrom} to ${publicKey.searchedTo}, but ` +
        `${gap.detail} A download of its public key before ${publicKey.searchedFrom} cannot be ruled out`
      : `${what}, and ${gap.detail} A download of its public key cannot be ruled out`;
  return refuse(
    'PUBLIC_KEY_EXPORTED',
    `${found}, so the key is treated as if one had been seen. ${OUTSIDE_KMS} Nothing was changed. ${IF_SURE}`,
  );
}

/**
 * Returns the first refusal that applies, or null when the key may go to the approval step.
 * Pure: everything it needs, including the time, is in `args`.
 */
export function findRefusal(args: RefusalArgs): Refusal | null {
  const { key, config } = args;
  const byKey = findKeyRefusal(key);
  if (byKey) {
    return byKey;
  }
  const recent = recentUseRefusal(args);
  if (recent) {
    return recent;
  }
  if (key.multiRegionRole === 'PRIMARY' && key.replicaCount > 0) {
    return refuse(
      'MULTI_REGION_PRIMARY_WITH_REPLICAS',
      `Key ${key.keyId} is a multi-Region primary key with ${key.replicaCount} replica key${
        key.replicaCount === 1 ? '' : 's'
      }. Each key of a multi-Region set tracks its usage on its own, so callers of a replica are invisible ` +
        "in this key's history, and KMS keeps a primary in PendingReplicaDeletion until its replicas are gone. " +
        'Nothing was changed; retire the replicas first (one execution per replica key ARN), then this primary.',
    );
  }
  const held = heldByAnother(args);
  if (held) {
    return held;
  }
  const exported = publicKeyRefusal(args);
  if (exported) {
    return exported;
  }
  const condition = config.keyTagCondition;
  if (condition && key.tags[condition.key] !== condition.value) {
    const actual = key.tags[condition.key];
    return refuse(
      'TAG_CONDITION_NOT_MET',
      `Key ${key.keyId} does not carry the tag ${condition.key}=${condition.value} that this stack requires ` +
        `before it disables or deletes a key (${actual === undefined ? 'the tag is absent' : `its value is ${quoteUntrusted(actual)}`}). ` +
        'Nothing was changed; tag the key if it should be retired, then start again.',
    );
  }
  // Last: the cadence is measured (usage.cadence) only for a key no other rule refuses, since its
  // search costs time.
  return cadenceRefusal(key, args.usage.cadence, args.request, config);
}
