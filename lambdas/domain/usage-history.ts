import { type CloudTrailRecord, principalOf } from './cloudtrail.js';
import type { PublicKeyHistory, PublicKeyHistoryGap } from './refusal.js';
import { DAY_MS, wholeDays } from './time.js';
import type { GuardConfig, HistorySearch, KeyFacts, UsageAssessment } from './types.js';

/**
 * What the CloudTrail log group adds to GetKeyLastUsage at the assessment, in words: use before
 * TrackingStartDate (for UNKNOWN_BEFORE_TRACKING), GetPublicKey downloads (for keys with a public
 * key), and how far back the log group's retention let each search look.
 */

/** The records a search found and the earliest instant it could look at. */
export interface SearchedRecords {
  readonly records: readonly CloudTrailRecord[];
  readonly searchedFrom: Date;
}

/** The latest record by eventTime (the log group's order is not guaranteed to be chronological). */
function latest(records: readonly CloudTrailRecord[]): CloudTrailRecord | null {
  let best: CloudTrailRecord | null = null;
  for (const record of records) {
    if (best === null || Date.parse(record.eventTime) > Date.parse(best.eventTime)) {
      best = record;
    }
  }
  return best;
}

function iso(date: Date): string {
  return date.toISOString();
}

/** The search for successful use between the key's creation and TrackingStartDate, and what it could not cover. */
export function useBeforeTracking(
  found: SearchedRecords,
  key: Pick<KeyFacts, 'creationDate'>,
  usage: Pick<UsageAssessment, 'trackingStartDate'>,
  logGroupName: string,
): { readonly historySearch: HistorySearch; readonly warning: string | null } {
  const last = latest(found.records);
  const historySearch: HistorySearch = {
    searchedFrom: iso(found.searchedFrom),
    searchedTo: usage.trackingStartDate,
    lastUseFound: last
      ? { eventName: last.eventName, eventTime: last.eventTime, eventID: last.eventID }
      : null,
    publicKeyDownloaded: false,
  };
  let warning: string | null = null;
  if (found.searchedFrom.getTime() >= Date.parse(usage.trackingStartDate)) {
    warning =
      `The CloudTrail log group ${logGroupName} keeps records only from ` +
      `${iso(found.searchedFrom)}, not before TrackingStartDate (${usage.trackingStartDate}): whether the key ` +
      `was used between its creation (${key.creationDate}) and then cannot be checked.`;
  } else if (found.searchedFrom.getTime() > Date.parse(key.creationDate)) {
    warning =
      `Use before tracking began could be searched only from ${iso(found.searchedFrom)} (the log group's ` +
      `retention), not from the key's creation (${key.creationDate}).`;
  }
  return { historySearch, warning };
}

/** Where the searchable history begins, and why there: the log group's retention or its creation. */
export interface HistoryStart {
  readonly at: Date;
  /** What sets the start, as a parenthesis reads: "the log group's retention of 90 days". */
  readonly because: string;
}

/** What the GetPublicKey search could not see, beside the records it found. */
export interface PublicKeyCoverage {
  /** Where the log group's history begins; defaults to the search's own horizon (retention). */
  readonly start?: HistoryStart | null | undefined;
  /**
   * Set when the trails that feed the log group would not log a KMS read call on the key (GetPublicKey
   * is one): the reasons, in one clause.
   */
  readonly blind?: string | null | undefined;
}

/**
 * The search for GetPublicKey calls over the key's life, the warning every key with a public key
 * gets, and what keeps the history from ruling a download out: a history that begins after the
 * key was created, or trails that do not log KMS read events.
 */
export function publicKeyDownloads(
  found: SearchedRecords,
  key: Pick<KeyFacts, 'creationDate' | 'keySpec'>,
  now: Date,
  coverage: PublicKeyCoverage = {},
): { readonly publicKey: PublicKeyHistory; readonly warning: string } {
  const last = latest(found.records);
  const start = coverage.start;
  // The history's own start names its reason; the search's horizon (retention) stands when later.
  const later = start && start.at.getTime() >= found.searchedFrom.getTime();
  const from = later ? start.at : found.searchedFrom;
  const because = later ? start.because : "the log group's retention";
  let gap: PublicKeyHistoryGap | null = null;
  if (coverage.blind) {
    gap = {
      reason: 'TRAIL_BLIND',
      detail: `the trails that feed the log group would not record a GetPublicKey on this key (${coverage.blind}).`,
    };
  } else if (from.getTime() > Date.parse(key.creationDate)) {
    gap = {
      reason: 'HISTORY_STARTS_AFTER_CREATION',
      detail:
        `the searchable history reaches back only to ${iso(from)} (${because}), not to the key's creation ` +
        `(${key.creationDate}).`,
    };
  }
  const publicKey: PublicKeyHistory = {
    downloaded: found.records.length > 0,
    downloads: found.records.length,
    searchedFrom: iso(from),
    searchedTo: iso(now),
    lastDownload: last
      ? { eventTime: last.eventTime, eventID: last.eventID, principal: principalOf(last) }
      : null,
    gap,
  };
  const reach =
    gap?.reason === 'HISTORY_STARTS_AFTER_CREATION'
      ? ` CloudTrail was searched for GetPublicKey only from ${iso(from)} (${because}); a download between the ` +
        `key's creation (${key.creationDate}) and then cannot be seen.`
      : gap
        ? ` No GetPublicKey can be ruled out: ${gap.detail}`
        : '';
  const warning = publicKey.downloaded
    ? `The public key of this ${key.keySpec} key was downloaded ${publicKey.downloads} time(s) (last at ` +
      `${last?.eventTime} by ${publicKey.lastDownload?.principal}, event ID ${last?.eventID}); ` +
      '"allowExportedPublicKey" is true. Use of an exported public key happens outside KMS: no CloudTrail ' +
      'record or DisabledException will ever show it, so the watch cannot prove this key unused.'
    : `This ${key.keySpec} key has a public key. If it was ever exported, its use happens outside KMS and no ` +
      `CloudTrail record or DisabledException will show it.${reach}`;
  return { publicKey, warning };
}

/**
 * The GetPublicKey history when it could not be read at all (the error that a retry cannot fix): a
 * download cannot be ruled out.
 */
export function unreadablePublicKeyHistory(error: string, now: Date): PublicKeyHistory {
  return {
    downloaded: false,
    downloads: 0,
    searchedFrom: iso(now),
    searchedTo: iso(now),
    lastDownload: null,
    gap: {
      reason: 'UNREADABLE',
      detail: `the CloudTrail history could not be searched for GetPublicKey (${error}), so it reaches back no further than now.`,
    },
  };
}

/** Facts worth a reader's attention that are not reasons to refuse. */
export function keyWarnings(
  key: KeyFacts,
  usage: UsageAssessment,
  config: Pick<GuardConfig, 'minIdleDays'>,
  now: Date,
): string[] {
  const warnings: string[] = [];
  if (key.keyState === 'Disabled') {
    warnings.push(
      'The key is already Disabled. The workflow keeps it disabled and watches it; a rollback will leave it ' +
        'disabled, because only keys this workflow disabled are re-enabled.',
    );
  }
  if (key.multiRegionRole === 'REPLICA') {
    warnings.push(
      'This is a multi-Region replica key: its usage is tracked on its own, and callers of the primary or of ' +
        'other replicas are not in its history.',
    );
  }
  const minIdleMs = config.minIdleDays * DAY_MS;
  if (usage.classification === 'NEVER_USED') {
    const age = now.getTime() - Date.parse(usage.keyCreationDate);
    if (age < minIdleMs) {
      warnings.push(
        `The key was created only ${wholeDays(age)} days ago (minIdleDays is ${config.minIdleDays}): ` +
          'a workload may not have started using it yet. AWS may also refuse to disable it until then: the ' +
          "stack's IAM Deny on kms:TrailingDaysWithoutKeyUsage counts a key never used from its creation, and " +
          'the run then ends ABORTED with the key left as it was.',
      );
    }
  }
  const search = usage.historySearch;
  if (usage.classification === 'UNKNOWN_BEFORE_TRACKING' && search && !search.lastUseFound) {
    // Nothing found: idleness is shown only from where the search could begin (or the key's creation).
    const shownFrom = Math.max(Date.parse(search.searchedFrom), Date.parse(key.creationDate));
    if (now.getTime() - shownFrom < minIdleMs) {
      warnings.push(
        `Idleness can be shown only since ${new Date(shownFrom).toISOString()} ` +
          `(${wholeDays(now.getTime() - shownFrom)} days, less than minIdleDays ` +
          `${config.minIdleDays}): GetKeyLastUsage and the log group see nothing earlier.`,
      );
    }
  }
  return warnings;
}
