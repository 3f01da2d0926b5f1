import type { Evidence, LastUsage } from './types.js';
import type { KeyLastUsageInput } from './usage.js';

/** What GetKeyLastUsage says after the observation, for FinalCheck's report and verdict. */
export interface UsageAfterDisable {
  readonly lastUsage: LastUsage | null;
  readonly trackingStartDate?: string | undefined;
  /** The use after the disable, as evidence; null when there was none. */
  readonly evidence: Evidence | null;
}

/**
 * A successful cryptographic use after the disable means someone re-enabled the key, used it and
 * disabled it again, or the disable never took: either way the key is needed, and the quiet
 * CloudTrail search does not prove otherwise. A KeyLastUsage without both operation and time dates
 * nothing, so it counts as none.
 */
export function usageAfterDisable(
  answer: {
    readonly trackingStartDate?: Date | undefined;
    readonly keyLastUsage?: KeyLastUsageInput | undefined;
  },
  disabledAt: Date,
): UsageAfterDisable {
  const trackingStartDate = answer.trackingStartDate?.toISOString();
  const used = answer.keyLastUsage;
  if (!used?.timestamp || !used.operation) {
    return { lastUsage: null, trackingStartDate, evidence: null };
  }
  const lastUsage: LastUsage = {
    operation: used.operation,
    timestamp: used.timestamp.toISOString(),
    cloudTrailEventId: used.cloudTrailEventId,
    kmsRequestId: used.kmsRequestId,
  };
  if (used.timestamp.getTime() <= disabledAt.getTime()) {
    return { lastUsage, trackingStartDate, evidence: null };
  }
  return {
    lastUsage,
    trackingStartDate,
    evidence: {
      eventID: used.cloudTrailEventId ?? used.kmsRequestId ?? 'unknown',
      eventTime: lastUsage.timestamp,
      eventName: used.operation,
      errorCode: '',
      principal: 'unknown (from GetKeyLastUsage)',
      sourceIPAddress: 'unknown',
      userAgent: 'unknown',
    },
  };
}
