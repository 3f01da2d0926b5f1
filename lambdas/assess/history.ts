import { cloudTrailClient, homeRegion } from '../aws/clients.js';
import { findRecords } from '../aws/cloudtrail-source.js';
import { readTrailHealth } from '../aws/trail-reader.js';
import { hasPublicKey, type PublicKeyHistory } from '../domain/refusal.js';
import { trailHealthWarnings } from '../domain/trail-health.js';
import type { GuardConfig, HistorySearch, KeyFacts, UsageAssessment } from '../domain/types.js';
import { publicKeyDownloads, useBeforeTracking } from '../domain/usage-history.js';
import { logger } from './logger.js';

export interface HistoryResult {
  readonly usage: UsageAssessment;
  readonly publicKey: PublicKeyHistory | null;
  readonly warnings: string[];
}

/**
 * What the CloudTrail log group adds to GetKeyLastUsage: use before TrackingStartDate (for
 * UNKNOWN_BEFORE_TRACKING) and GetPublicKey calls (for keys with a public key). A failing search
 * throws: a key must never look safer because its history could not be read.
 */
export async function searchHistory(
  key: KeyFacts,
  usage: UsageAssessment,
  config: GuardConfig,
  now: Date,
): Promise<HistoryResult> {
  const warnings: string[] = [];
  const ref = { keyId: key.keyId, keyArn: key.keyArn, aliases: key.aliases };
  const base = { logGroupName: config.cloudTrailLogGroupName, region: homeRegion(), key: ref, now };
  const created = new Date(key.creationDate);

  let historySearch: HistorySearch | undefined;
  if (usage.classification === 'UNKNOWN_BEFORE_TRACKING') {
    const end = new Date(usage.trackingStartDate);
    const found = await findRecords({ ...base, start: created, end, kind: 'SUCCESSFUL_USE' });
    const searched = useBeforeTracking(found, key, usage, config.cloudTrailLogGroupName);
    historySearch = searched.historySearch;
    if (searched.warning) {
      warnings.push(searched.warning);
    }
  }

  let publicKey: PublicKeyHistory | null = null;
  if (hasPublicKey(key)) {
    const found = await findRecords({ ...base, start: created, end: now, kind: 'PUBLIC_KEY_DOWNLOAD' });
    const searched = publicKeyDownloads(found, key, now);
    publicKey = searched.publicKey;
    if (historySearch) {
      historySearch = { ...historySearch, publicKeyDownloaded: publicKey.downloaded };
    }
    warnings.push(searched.warning);
  }
  return { usage: historySearch ? { ...usage, historySearch } : usage, publicKey, warnings };
}

/**
 * The trail setup behind the log group, as approval e-mail warnings (the `doctor` check). It never
 * refuses: a setup that cannot be read (AccessDenied, throttling) becomes a warning too, because
 * the canary after disabling is what guarantees the watch can see.
 */
export async function trailWarnings(config: GuardConfig, key: KeyFacts, now: Date): Promise<string[]> {
  try {
    const health = await readTrailHealth(
      cloudTrailClient(homeRegion()),
      config.cloudTrailLogGroupName,
      homeRegion(),
      now,
      key.region,
    );
    return trailHealthWarnings(health);
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    logger.warn('trail setup unreadable', { detail });
    return [
      `CloudTrail setup: the trails feeding ${config.cloudTrailLogGroupName} could not be read (${detail}); ` +
        'whether they log failed KMS calls is unknown. The canary after disabling still proves it, and the run ' +
        'stops (EVENT_SOURCE_BLIND, key restored) if they do not.',
    ];
  }
}
