import { IncompleteKeyLastUsageError, InvalidUsageDateError } from './errors.js';
import type { LastUsage, UsageAssessment } from './types.js';

/**
 * The usage history, classified exactly as the GetKeyLastUsage API reference words it: the three cases and their sentences are quoted, not paraphrased, so
 * the approval e-mail never claims more than AWS does.
 */

/** The API reference's note, quoted in every approval e-mail. */
export const GET_KEY_LAST_USAGE_CAUTION =
  'Do not use GetKeyLastUsage as the sole indicator when scheduling a key for deletion. Instead, first ' +
  'disable the key and monitor AWS CloudTrail for DisabledException entries, as there could be infrequent ' +
  'workflows that are dependent on the key.';

/** `KeyLastUsage` as GetKeyLastUsage returns it; every member is absent when the element is empty. */
export interface KeyLastUsageInput {
  readonly operation?: string | undefined;
  readonly timestamp?: Date | undefined;
  readonly cloudTrailEventId?: string | undefined;
  readonly kmsRequestId?: string | undefined;
}

export interface ClassifyUsageArgs {
  readonly keyCreationDate: Date;
  readonly trackingStartDate: Date;
  readonly keyLastUsage?: KeyLastUsageInput | undefined;
}

function isValidDate(d: Date | undefined): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}

/** "Empty" in the reference's sense: absent, or an object without any member set. */
function isEmpty(usage: KeyLastUsageInput | undefined): boolean {
  return (
    usage === undefined ||
    (usage.operation === undefined &&
      usage.timestamp === undefined &&
      usage.cloudTrailEventId === undefined &&
      usage.kmsRequestId === undefined)
  );
}

/** Classifies a GetKeyLastUsage answer; `historySearch` is added by the caller for UNKNOWN_BEFORE_TRACKING. */
export function classifyUsage(args: ClassifyUsageArgs): UsageAssessment {
  const { keyCreationDate, trackingStartDate, keyLastUsage } = args;
  if (!isValidDate(keyCreationDate)) {
    throw new InvalidUsageDateError('KeyCreationDate');
  }
  if (!isValidDate(trackingStartDate)) {
    throw new InvalidUsageDateError('TrackingStartDate');
  }
  const created = keyCreationDate.toISOString();
  const tracking = trackingStartDate.toISOString();

  if (keyLastUsage !== undefined && !isEmpty(keyLastUsage)) {
    const { operation, timestamp } = keyLastUsage;
    if (operation === undefined || operation === '') {
      throw new IncompleteKeyLastUsageError('no Operation');
    }
    if (!isValidDate(timestamp)) {
      throw new IncompleteKeyLastUsageError('no valid Timestamp');
    }
    const lastUsage: LastUsage = {
      operation,
      timestamp: timestamp.toISOString(),
      cloudTrailEventId: keyLastUsage.cloudTrailEventId,
      kmsRequestId: keyLastUsage.kmsRequestId,
    };
    return {
      classification: 'USED',
      trackingStartDate: tracking,
      keyCreationDate: created,
      lastUsage,
      explanation:
        `KeyLastUsage is present: the key has been used for a successful cryptographic operation since the ` +
        `TrackingStartDate (${tracking}); the last was ${operation} at ${lastUsage.timestamp}` +
        `${lastUsage.cloudTrailEventId ? ` (CloudTrail event ID ${lastUsage.cloudTrailEventId})` : ''}.`,
    };
  }

  // "on or after": equal dates mean tracking covered the key's whole life.
  if (keyCreationDate.getTime() >= trackingStartDate.getTime()) {
    return {
      classification: 'NEVER_USED',
      trackingStartDate: tracking,
      keyCreationDate: created,
      lastUsage: null,
      explanation:
        `KeyLastUsage is empty and KeyCreationDate (${created}) is on or after TrackingStartDate (${tracking}): ` +
        'the key has not been used for a successful cryptographic operation since it was created.',
    };
  }
  return {
    classification: 'UNKNOWN_BEFORE_TRACKING',
    trackingStartDate: tracking,
    keyCreationDate: created,
    lastUsage: null,
    explanation:
      `KeyLastUsage is empty and KeyCreationDate (${created}) is before TrackingStartDate (${tracking}): ` +
      'there is no record of the key being used for a successful cryptographic operation since the ' +
      'TrackingStartDate. However, the key may have been used before tracking began.',
  };
}

/** Plain words for a classification, for e-mails. */
export function describeClassification(classification: UsageAssessment['classification']): string {
  switch (classification) {
    case 'USED':
      return 'Used since tracking began';
    case 'NEVER_USED':
      return 'Never used since it was created';
    case 'UNKNOWN_BEFORE_TRACKING':
      return 'Not used since tracking began; use before tracking began is unknown to KMS';
  }
}

/** True when both name an ID and the IDs differ: two records of two different calls. */
function differentIds(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && a !== '' && b !== undefined && b !== '' && a !== b;
}

/**
 * The successful use GetKeyLastUsage shows now that the assessment did not see, in one sentence, or
 * null when there is none. An approval may wait days after the assessment: a key used in between is
 * no longer the key the approver was shown. Only the very use the assessment saw is old: a later
 * timestamp, any use where the assessment saw none (NEVER_USED, or UNKNOWN_BEFORE_TRACKING whatever
 * the log group showed before tracking), another call at the same instant (another CloudTrail event
 * or KMS request ID), and a use that cannot be dated or that is dated before the one the assessment
 * saw (GetKeyLastUsage only moves forward, so the two readings cannot be shown to agree) are all new.
 * The comparison is with what the assessment read, not with when it read: a use in the hour before
 * the assessment that GetKeyLastUsage had not recorded yet is caught the same way.
 */
export function useSinceAssessment(
  assessed: UsageAssessment | null,
  current: KeyLastUsageInput | undefined,
): string | null {
  if (isEmpty(current)) {
    return null;
  }
  const seen = assessed?.lastUsage ?? null;
  const operation = current?.operation || '(no operation)';
  const timestamp = current?.timestamp;
  if (!isValidDate(timestamp)) {
    return `GetKeyLastUsage now shows ${operation} with no valid timestamp, so it cannot be shown to be the use the assessment saw.`;
  }
  const when = timestamp.toISOString();
  if (seen === null) {
    return `GetKeyLastUsage now shows ${operation} at ${when}; the assessment saw no use.`;
  }
  const seenAt = Date.parse(seen.timestamp);
  if (Number.isNaN(seenAt) || timestamp.getTime() > seenAt) {
    return `GetKeyLastUsage now shows ${operation} at ${when}; the assessment saw the last use at ${seen.timestamp}.`;
  }
  if (timestamp.getTime() < seenAt) {
    return (
      `GetKeyLastUsage now shows ${operation} at ${when}, earlier than the last use the assessment saw ` +
      `(${seen.timestamp}), so the two readings cannot be shown to agree.`
    );
  }
  if (
    differentIds(current?.cloudTrailEventId, seen.cloudTrailEventId) ||
    differentIds(current?.kmsRequestId, seen.kmsRequestId)
  ) {
    return (
      `GetKeyLastUsage now shows ${operation} at ${when} with CloudTrail event ID ` +
      `${current?.cloudTrailEventId || '(none)'} and KMS request ID ${current?.kmsRequestId || '(none)'}; the assessment ` +
      `saw another call at the same time (event ID ${seen.cloudTrailEventId || '(none)'}, request ID ` +
      `${seen.kmsRequestId || '(none)'}).`
    );
  }
  return null;
}
