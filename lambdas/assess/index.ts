import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  type KeyMetadata,
  type KMSClient,
  ListAliasesCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { cloudTrailClient, homeRegion, kmsClient } from '../aws/clients.js';
import { findRecords, requireLogGroup } from '../aws/cloudtrail-source.js';
import { createLogger } from '../aws/logger.js';
import { readTrailHealth } from '../aws/trail-reader.js';
import { assessEventSchema, EXECUTION_ARN } from '../contracts/events.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import {
  assessmentSubject,
  refusalSubject,
  renderAssessmentSummary,
  renderRefusalSummary,
} from '../domain/assessment-message.js';
import { type CloudTrailRecord, principalOf } from '../domain/cloudtrail.js';
import {
  EventSourceUnavailableError,
  ForeignAccountKeyError,
  InvalidHandlerEventError,
  InvalidInputError,
  UnexpectedKeyMetadataError,
} from '../domain/errors.js';
import { parseExecutionInput } from '../domain/input.js';
import { type KeyLocation, locateKey } from '../domain/key-id.js';
import { findKeyRefusal, findRefusal, hasPublicKey, type PublicKeyHistory } from '../domain/refusal.js';
import { DAY_MS, HOUR_SECONDS, MINUTE_SECONDS } from '../domain/time.js';
import { trailHealthWarnings } from '../domain/trail-health.js';
import type {
  AssessEvent,
  Assessment,
  ExecutionRequest,
  GuardConfig,
  HistorySearch,
  KeyFacts,
  Refusal,
  UsageAssessment,
  WatchPlan,
} from '../domain/types.js';
import { classifyUsage } from '../domain/usage.js';

/**
 * AssessKey: reads the key and its usage history and answers ACCEPTED or REFUSED.
 *
 * It changes nothing. Input that cannot be used is an answer (REFUSED, INVALID_INPUT), not an
 * error, so the workflow ends in its Fail state with the reason. Errors that a retry can fix
 * (throttling, KMSInternalException, a log group that cannot be read) are thrown for the
 * workflow's Retry; none of them is ever taken to mean "no use found".
 */

const logger = createLogger('assess');

interface Envelope {
  readonly input: unknown;
  readonly config: GuardConfig;
  readonly executionArn: string;
  readonly homeAccount: string;
}

function parseEnvelope(event: unknown): Envelope {
  const parsed = safeParseContract(assessEventSchema, event);
  if (!parsed.success) {
    const where = describeIssues(parsed.error.issues, Number.POSITIVE_INFINITY);
    throw new InvalidHandlerEventError(`AssessKey received a malformed event (${where}).`);
  }
  const { input, config, executionArn } = parsed.data;
  const homeAccount = EXECUTION_ARN.exec(executionArn)?.[1];
  if (!homeAccount) {
    throw new InvalidHandlerEventError('AssessKey received an execution ARN without an account.');
  }
  return { input, config, executionArn, homeAccount };
}

function buildPlan(config: GuardConfig, request: ExecutionRequest): WatchPlan {
  return {
    logGroupName: config.cloudTrailLogGroupName,
    observationDays: request.observationDays,
    pendingWindowInDays: request.pendingWindowInDays,
    checkIntervalSeconds: Math.round(config.checkIntervalHours * HOUR_SECONDS),
    ingestionLagSeconds: Math.round(config.ingestionLagMinutes * MINUTE_SECONDS),
    watchPendingWindow: config.watchPendingWindow,
    ...(config.workflowPrincipalArns ? { workflowPrincipalArns: config.workflowPrincipalArns } : {}),
  };
}

/**
 * The trail setup behind the log group, as approval e-mail warnings (the `doctor` check). It never
 * refuses: a setup that cannot be read (AccessDenied, throttling) becomes a warning too, because
 * the canary after disabling is what guarantees the watch can see.
 */
async function trailWarnings(config: GuardConfig, key: KeyFacts, now: Date): Promise<string[]> {
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

interface Known {
  readonly executionArn: string;
  readonly now: Date;
  readonly request: ExecutionRequest | null;
  readonly plan: WatchPlan | null;
  readonly key: KeyFacts | null;
  readonly usage: UsageAssessment | null;
  readonly warnings: readonly string[];
}

function refused(refusal: Refusal, known: Known): Assessment {
  const assessment: Assessment = {
    verdict: 'REFUSED',
    refusal,
    causeText: `${refusal.cause}: ${refusal.message}`,
    key: known.key,
    usage: known.usage,
    request: known.request,
    plan: known.plan,
    warnings: known.warnings,
    assessedAt: known.now.toISOString(),
    summaryText: renderRefusalSummary({
      executionArn: known.executionArn,
      refusal,
      key: known.key,
      request: known.request,
    }),
    subject: refusalSubject(refusal, known.key),
  };
  logResult(assessment);
  return assessment;
}

function logResult(assessment: Assessment): void {
  logger.info('assessment', {
    verdict: assessment.verdict,
    cause: assessment.refusal?.cause ?? null,
    keyArn: assessment.key?.keyArn ?? null,
    keyId: assessment.key?.keyId ?? assessment.request?.keyId ?? null,
    classification: assessment.usage?.classification ?? null,
    warnings: assessment.warnings.length,
  });
}

async function describeKey(client: KMSClient, keyId: string): Promise<KeyMetadata | null> {
  try {
    const described = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    if (!described.KeyMetadata) {
      throw new UnexpectedKeyMetadataError(`DescribeKey returned no KeyMetadata for ${keyId}.`);
    }
    return described.KeyMetadata;
  } catch (error) {
    if (error instanceof Error && error.name === 'NotFoundException') {
      return null;
    }
    throw error;
  }
}

async function listAliases(client: KMSClient, keyId: string): Promise<string[]> {
  const aliases: string[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListAliasesCommand({ KeyId: keyId, Marker: marker }));
    for (const alias of page.Aliases ?? []) {
      if (alias.AliasName) {
        aliases.push(alias.AliasName);
      }
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return aliases.sort();
}

async function listTags(client: KMSClient, keyId: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const page = await client.send(new ListResourceTagsCommand({ KeyId: keyId, Marker: marker }));
    for (const tag of page.Tags ?? []) {
      if (tag.TagKey !== undefined) {
        tags[tag.TagKey] = tag.TagValue ?? '';
      }
    }
    // A first page without the hold tags would make a held key look free: read them all.
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return tags;
}

function toKeyFacts(
  metadata: KeyMetadata,
  location: KeyLocation,
  aliases: readonly string[],
  tags: Readonly<Record<string, string>>,
): KeyFacts {
  const { KeyId, Arn, CreationDate } = metadata;
  if (!KeyId || !Arn || !(CreationDate instanceof Date) || !metadata.KeyState) {
    throw new UnexpectedKeyMetadataError(
      'DescribeKey returned KeyMetadata without KeyId, Arn, KeyState or CreationDate.',
    );
  }
  if (KeyId !== location.keyId) {
    throw new UnexpectedKeyMetadataError(
      `DescribeKey for ${location.keyId} answered for another key (${KeyId}).`,
    );
  }
  const mrc = metadata.MultiRegionConfiguration;
  const role = mrc?.MultiRegionKeyType;
  return {
    keyId: KeyId,
    keyArn: Arn,
    account: metadata.AWSAccountId ?? location.account,
    region: location.region,
    aliases,
    description: metadata.Description ?? '',
    keyState: metadata.KeyState,
    // An unknown manager is treated as AWS-managed: refused, never disabled.
    keyManager: metadata.KeyManager === 'CUSTOMER' ? 'CUSTOMER' : 'AWS',
    keySpec: metadata.KeySpec ?? 'SYMMETRIC_DEFAULT',
    keyUsage: metadata.KeyUsage ?? 'ENCRYPT_DECRYPT',
    creationDate: CreationDate.toISOString(),
    multiRegion: metadata.MultiRegion === true,
    multiRegionRole: role === 'PRIMARY' || role === 'REPLICA' ? role : undefined,
    replicaCount: role === 'PRIMARY' ? (mrc?.ReplicaKeys?.length ?? 0) : 0,
    tags,
  };
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

interface HistoryResult {
  readonly usage: UsageAssessment;
  readonly publicKey: PublicKeyHistory | null;
  readonly warnings: string[];
}

/**
 * What the CloudTrail log group adds to GetKeyLastUsage: use before TrackingStartDate (for
 * UNKNOWN_BEFORE_TRACKING) and GetPublicKey calls (for keys with a public key). A failing search
 * throws: a key must never look safer because its history could not be read.
 */
async function searchHistory(
  key: KeyFacts,
  usage: UsageAssessment,
  config: GuardConfig,
  now: Date,
): Promise<HistoryResult> {
  const warnings: string[] = [];
  const ref = { keyId: key.keyId, keyArn: key.keyArn, aliases: key.aliases };
  const base = { logGroupName: config.cloudTrailLogGroupName, region: homeRegion(), key: ref, now };
  const created = new Date(key.creationDate);
  const trackingStart = new Date(usage.trackingStartDate);

  let historySearch: HistorySearch | undefined;
  if (usage.classification === 'UNKNOWN_BEFORE_TRACKING') {
    const found = await findRecords({ ...base, start: created, end: trackingStart, kind: 'SUCCESSFUL_USE' });
    const last = latest(found.records);
    historySearch = {
      searchedFrom: iso(found.searchedFrom),
      searchedTo: usage.trackingStartDate,
      lastUseFound: last
        ? { eventName: last.eventName, eventTime: last.eventTime, eventID: last.eventID }
        : null,
      publicKeyDownloaded: false,
    };
    if (found.searchedFrom.getTime() >= trackingStart.getTime()) {
      warnings.push(
        `The CloudTrail log group ${config.cloudTrailLogGroupName} keeps records only from ` +
          `${iso(found.searchedFrom)}, not before TrackingStartDate (${usage.trackingStartDate}): whether the key ` +
          `was used between its creation (${key.creationDate}) and then cannot be checked.`,
      );
    } else if (found.searchedFrom.getTime() > created.getTime()) {
      warnings.push(
        `Use before tracking began could be searched only from ${iso(found.searchedFrom)} (the log group's ` +
          `retention), not from the key's creation (${key.creationDate}).`,
      );
    }
  }

  let publicKey: PublicKeyHistory | null = null;
  if (hasPublicKey(key)) {
    const downloads = await findRecords({ ...base, start: created, end: now, kind: 'PUBLIC_KEY_DOWNLOAD' });
    const last = latest(downloads.records);
    publicKey = {
      downloaded: downloads.records.length > 0,
      downloads: downloads.records.length,
      searchedFrom: iso(downloads.searchedFrom),
      searchedTo: iso(now),
      lastDownload: last
        ? { eventTime: last.eventTime, eventID: last.eventID, principal: principalOf(last) }
        : null,
    };
    if (historySearch) {
      historySearch = { ...historySearch, publicKeyDownloaded: publicKey.downloaded };
    }
    const reach =
      downloads.searchedFrom.getTime() > created.getTime()
        ? ` CloudTrail was searched for GetPublicKey only from ${iso(downloads.searchedFrom)} (the log group's ` +
          `retention); a download between the key's creation (${key.creationDate}) and then cannot be seen.`
        : '';
    warnings.push(
      publicKey.downloaded
        ? `The public key of this ${key.keySpec} key was downloaded ${publicKey.downloads} time(s) (last at ` +
            `${last?.eventTime} by ${publicKey.lastDownload?.principal}, event ID ${last?.eventID}); ` +
            '"allowExportedPublicKey" is true. Use of an exported public key happens outside KMS: no CloudTrail ' +
            'record or DisabledException will ever show it, so the watch cannot prove this key unused.'
        : `This ${key.keySpec} key has a public key. If it was ever exported, its use happens outside KMS and no ` +
            `CloudTrail record or DisabledException will show it.${reach}`,
    );
  }
  return { usage: historySearch ? { ...usage, historySearch } : usage, publicKey, warnings };
}

/** Facts worth a reader's attention that are not reasons to refuse. */
function keyWarnings(key: KeyFacts, usage: UsageAssessment, config: GuardConfig, now: Date): string[] {
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
        `The key was created only ${Math.floor(age / DAY_MS)} days ago (minIdleDays is ${config.minIdleDays}): ` +
          'a workload may not have started using it yet.',
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
          `(${Math.floor((now.getTime() - shownFrom) / DAY_MS)} days, less than minIdleDays ` +
          `${config.minIdleDays}): GetKeyLastUsage and the log group see nothing earlier.`,
      );
    }
  }
  return warnings;
}

export const handler = async (event: AssessEvent): Promise<Assessment> => {
  // One clock reading per invocation: every rule and every timestamp agrees on "now".
  const now = new Date();
  const { input, config, executionArn, homeAccount } = parseEnvelope(event);
  const base: Known = { executionArn, now, request: null, plan: null, key: null, usage: null, warnings: [] };

  let request: ExecutionRequest;
  try {
    request = parseExecutionInput(input, config);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      return refused({ cause: 'INVALID_INPUT', message: error.message }, base);
    }
    throw error;
  }
  const plan = buildPlan(config, request);
  const withRequest: Known = { ...base, request, plan };

  let location: KeyLocation;
  try {
    location = locateKey(request.keyId, homeAccount, homeRegion());
  } catch (error) {
    if (error instanceof ForeignAccountKeyError) {
      return refused({ cause: 'FOREIGN_ACCOUNT', message: error.message }, withRequest);
    }
    throw error;
  }

  const client = kmsClient(location.region);
  const metadata = await describeKey(client, request.keyId);
  if (!metadata) {
    return refused(
      {
        cause: 'KEY_NOT_FOUND',
        message:
          `KMS found no key ${request.keyId} in account ${location.account}, Region ${location.region} ` +
          '(NotFoundException), or the key is not visible to the workflow. Nothing was changed; check the key ID ' +
          `and Region (\`aws kms describe-key --key-id ${request.keyId} --region ${location.region}\`).`,
      },
      withRequest,
    );
  }
  if (metadata.AWSAccountId !== undefined && metadata.AWSAccountId !== homeAccount) {
    return refused(
      {
        cause: 'FOREIGN_ACCOUNT',
        message:
          `Key ${request.keyId} belongs to account ${metadata.AWSAccountId}, not ${homeAccount} where this ` +
          'workflow runs; GetKeyLastUsage is not cross-account. Nothing was changed.',
      },
      withRequest,
    );
  }
  const aliases = await listAliases(client, location.keyId);
  const customer = metadata.KeyManager === 'CUSTOMER';
  // AWS managed keys are refused whatever their tags say, and their policy need not allow reading them.
  const tags = customer ? await listTags(client, location.keyId) : {};
  const key = toKeyFacts(metadata, location, aliases, tags);
  const withKey: Known = { ...withRequest, key };

  const early = findKeyRefusal(key);
  if (early) {
    return refused(early, withKey);
  }

  // Before anything else reads the log group: a missing one is an answer (nothing changed), not a retry.
  try {
    await requireLogGroup(config.cloudTrailLogGroupName, homeRegion());
  } catch (error) {
    if (error instanceof EventSourceUnavailableError) {
      return refused(
        {
          cause: 'EVENT_SOURCE_UNAVAILABLE',
          message:
            `${error.message} Nothing was changed: a key disabled without a readable CloudTrail log group would be ` +
            'watched blind. Deploy with the log group that receives your trail (`kms-deletion-guard doctor --log-group <name>`).',
        },
        withKey,
      );
    }
    throw error;
  }
  const lastUsage = await client.send(new GetKeyLastUsageCommand({ KeyId: key.keyArn }));
  const classified = classifyUsage({
    keyCreationDate: lastUsage.KeyCreationDate ?? new Date(key.creationDate),
    // A missing TrackingStartDate makes the date invalid, which classifyUsage refuses to guess about.
    trackingStartDate: lastUsage.TrackingStartDate ?? new Date(Number.NaN),
    keyLastUsage: lastUsage.KeyLastUsage && {
      operation: lastUsage.KeyLastUsage.Operation,
      timestamp: lastUsage.KeyLastUsage.Timestamp,
      cloudTrailEventId: lastUsage.KeyLastUsage.CloudTrailEventId,
      kmsRequestId: lastUsage.KeyLastUsage.KmsRequestId,
    },
  });
  const history = await searchHistory(key, classified, config, now);
  const usage = history.usage;
  const warnings = [...keyWarnings(key, usage, config, now), ...history.warnings];
  const known: Known = { ...withKey, usage, warnings };

  const refusal = findRefusal({
    key,
    usage,
    request,
    config,
    executionArn,
    now,
    publicKey: history.publicKey,
  });
  if (refusal) {
    return refused(refusal, known);
  }
  warnings.push(...(await trailWarnings(config, key, now)));
  const assessment: Assessment = {
    verdict: 'ACCEPTED',
    refusal: null,
    causeText: '',
    key,
    usage,
    request,
    plan,
    warnings,
    assessedAt: now.toISOString(),
    summaryText: renderAssessmentSummary({
      executionArn,
      key,
      usage,
      request,
      plan,
      warnings,
      publicKey: history.publicKey,
      approvalTimeoutDays: config.approvalTimeoutDays,
    }),
    subject: assessmentSubject(key),
  };
  logResult(assessment);
  return assessment;
};
