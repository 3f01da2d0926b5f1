import { cloudTrailClient, homeRegion } from '../aws/clients.js';
import { findRecords, type SearchBound } from '../aws/cloudtrail-source.js';
import { readTrailHealth } from '../aws/trail-reader.js';
import { historyStart, searchEarlierUses } from '../aws/use-history.js';
import { EventSourceUnavailableError, SearchIncompleteError } from '../domain/errors.js';
import { hasPublicKey, type PublicKeyHistory } from '../domain/refusal.js';
import { type TrailHealth, trailHealthWarnings } from '../domain/trail-health.js';
import type {
  ExecutionRequest,
  GuardConfig,
  HistorySearch,
  KeyFacts,
  UsageAssessment,
} from '../domain/types.js';
import { measureCadence, type UsageCadence } from '../domain/usage-cadence.js';
import {
  type HistoryStart,
  publicKeyDownloads,
  unreadablePublicKeyHistory,
  useBeforeTracking,
} from '../domain/usage-history.js';
import { logger } from './logger.js';

export interface HistoryResult {
  readonly usage: UsageAssessment;
  readonly publicKey: PublicKeyHistory | null;
  readonly warnings: string[];
  /** Where the log group's history begins, when a search needed to know (kept for the cadence search). */
  readonly start: HistoryStart | null;
}

/** The trail setup behind the log group, or why it could not be read. */
export type TrailReading = { readonly health: TrailHealth } | { readonly error: string };

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Errors after which the GetPublicKey history stays unread whatever a retry does: the group is
 * gone, or the workflow may not read it. Throttling and service errors are thrown for the retry.
 */
function cannotBeRead(error: unknown): boolean {
  return (
    error instanceof EventSourceUnavailableError ||
    // Longer than the assessment may search: the part not read could hold a download.
    error instanceof SearchIncompleteError ||
    (error instanceof Error && ['AccessDeniedException', 'InvalidParameterException'].includes(error.name))
  );
}

/** The BLIND findings in one clause, or null when some trail would record a KMS read call on the key. */
function blindness(trail: TrailReading | null): string | null {
  if (trail === null || !('health' in trail) || !trail.health.blind) {
    return null;
  }
  const problems = trail.health.findings.filter((f) => f.severity === 'BLIND').map((f) => f.problem);
  return problems.length > 0 ? problems.join(' ') : 'no trail that feeds it logs KMS read events';
}

/**
 * The GetPublicKey history over the key's life, and how far back it reaches. A history that cannot
 * be read is an answer when `allowExportedPublicKey` is false (the key is refused as if a download
 * had been seen); with it set, the error is thrown as before, for the workflow's retry.
 */
async function publicKeyHistory(
  key: KeyFacts,
  base: Omit<Parameters<typeof findRecords>[0], 'start' | 'end' | 'kind'>,
  allowExportedPublicKey: boolean,
  trail: TrailReading | null,
  now: Date,
  bound: SearchBound | null,
): Promise<{ publicKey: PublicKeyHistory; warning: string; start: HistoryStart | null }> {
  let start: HistoryStart;
  let found: Awaited<ReturnType<typeof findRecords>>;
  try {
    start = await historyStart(base.logGroupName, base.region, now);
    found = await findRecords(
      { ...base, start: new Date(key.creationDate), end: now, kind: 'PUBLIC_KEY_DOWNLOAD' },
      bound,
    );
  } catch (error) {
    if (allowExportedPublicKey || !cannotBeRead(error)) {
      throw error;
    }
    const detail = describeError(error);
    logger.warn('public key history unreadable', { detail });
    const publicKey = unreadablePublicKeyHistory(detail, now);
    return { publicKey, warning: `GetPublicKey history: ${publicKey.gap?.detail ?? detail}`, start: null };
  }
  const searched = publicKeyDownloads(found, key, now, { start, blind: blindness(trail) });
  return { ...searched, start };
}

/**
 * What the CloudTrail log group adds to GetKeyLastUsage: use before TrackingStartDate (for
 * UNKNOWN_BEFORE_TRACKING) and GetPublicKey calls (for keys with a public key), with how far back
 * each could look. A failing search throws: a key must never look safer because its history could
 * not be read (the GetPublicKey history, which refuses instead, aside).
 */
export async function searchHistory(
  key: KeyFacts,
  usage: UsageAssessment,
  request: Pick<ExecutionRequest, 'allowExportedPublicKey'>,
  config: GuardConfig,
  now: Date,
  trail: TrailReading | null = null,
  bound: SearchBound | null = null,
): Promise<HistoryResult> {
  const warnings: string[] = [];
  const ref = { keyId: key.keyId, keyArn: key.keyArn, aliases: key.aliases };
  const base = { logGroupName: config.cloudTrailLogGroupName, region: homeRegion(), key: ref, now };
  const created = new Date(key.creationDate);

  let historySearch: HistorySearch | undefined;
  if (usage.classification === 'UNKNOWN_BEFORE_TRACKING') {
    const end = new Date(usage.trackingStartDate);
    const found = await findRecords({ ...base, start: created, end, kind: 'SUCCESSFUL_USE' }, bound);
    const searched = useBeforeTracking(found, key, usage, config.cloudTrailLogGroupName);
    historySearch = searched.historySearch;
    if (searched.warning) {
      warnings.push(searched.warning);
    }
  }

  let publicKey: PublicKeyHistory | null = null;
  let start: HistoryStart | null = null;
  if (hasPublicKey(key)) {
    const searched = await publicKeyHistory(key, base, request.allowExportedPublicKey, trail, now, bound);
    publicKey = searched.publicKey;
    start = searched.start;
    if (historySearch) {
      historySearch = { ...historySearch, publicKeyDownloaded: publicKey.downloaded };
    }
    warnings.push(searched.warning);
  }
  return { usage: historySearch ? { ...usage, historySearch } : usage, publicKey, warnings, start };
}

/**
 * The cadence of the key's known uses (GetKeyLastUsage's, and those the log group holds from the
 * key's creation or as far back as it reaches), measured against the observation; null for a key
 * with no known use. The search is bounded and says how far it reached; an error is thrown for the
 * workflow's retry, never read as "no earlier use".
 */
export async function searchCadence(
  key: KeyFacts,
  usage: UsageAssessment,
  request: Pick<ExecutionRequest, 'observationDays'>,
  config: GuardConfig,
  now: Date,
  known: HistoryStart | null,
): Promise<UsageCadence | null> {
  if (usage.lastUsage === null && !usage.historySearch?.lastUseFound) {
    return null;
  }
  const region = homeRegion();
  const start = known ?? (await historyStart(config.cloudTrailLogGroupName, region, now));
  const from = new Date(Math.max(start.at.getTime(), Date.parse(key.creationDate)));
  const search = await searchEarlierUses({
    logGroupName: config.cloudTrailLogGroupName,
    region,
    key: { keyId: key.keyId, keyArn: key.keyArn, aliases: key.aliases },
    from,
    to: now,
    observationDays: request.observationDays,
  });
  const cadence = measureCadence({
    lastUsage: usage.lastUsage,
    search,
    observationDays: request.observationDays,
  });
  logger.info('use cadence', {
    knownUses: cadence.knownUses,
    longestGapDays: cadence.longestGap?.days ?? null,
    searchedFrom: cadence.searchedFrom,
    searchedTo: cadence.searchedTo,
    complete: cadence.complete,
    requests: search.requests,
  });
  return cadence;
}

/** Reads the trail setup behind the log group; a setup that cannot be read is an answer too. */
export async function readTrail(config: GuardConfig, key: KeyFacts, now: Date): Promise<TrailReading> {
  try {
    return {
      health: await readTrailHealth(
        cloudTrailClient(homeRegion()),
        config.cloudTrailLogGroupName,
        homeRegion(),
        now,
        key.region,
      ),
    };
  } catch (error) {
    const detail = describeError(error);
    logger.warn('trail setup unreadable', { detail });
    return { error: detail };
  }
}

/**
 * The trail setup behind the log group, as approval e-mail warnings (the `doctor` check). It never
 * refuses a key without a public key: a setup that cannot be read (AccessDenied, throttling) becomes
 * a warning too, because the canary after disabling is what guarantees the watch can see.
 */
export async function trailWarnings(
  config: GuardConfig,
  key: KeyFacts,
  now: Date,
  read: TrailReading | null = null,
): Promise<string[]> {
  const trail = read ?? (await readTrail(config, key, now));
  if ('health' in trail) {
    return trailHealthWarnings(trail.health);
  }
  return [
    `CloudTrail setup: the trails feeding ${config.cloudTrailLogGroupName} could not be read (${trail.error}); ` +
      'whether they log failed KMS calls is unknown. The canary after disabling still proves it, and the run ' +
      'stops (EVENT_SOURCE_BLIND, key restored) if they do not.',
  ];
}
