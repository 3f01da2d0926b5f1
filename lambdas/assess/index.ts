import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { homeRegion, kmsClient } from '../aws/clients.js';
import { requireLogGroup, type SearchBound } from '../aws/cloudtrail-source.js';
import { readHold } from '../aws/hold-reader.js';
import { listAliases } from '../aws/key-aliases.js';
import { describeKey, isNotFound, keyFactsOf, readTags } from '../aws/key-reader.js';
import { classifyKeyUsage } from '../aws/key-usage.js';
import { assessEventSchema, EXECUTION_ARN } from '../contracts/events.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import {
  assessmentSubject,
  refusalSubject,
  renderAssessmentSummary,
  renderRefusalSummary,
} from '../domain/assessment-message.js';
import {
  EventSourceUnavailableError,
  ForeignAccountKeyError,
  InvalidHandlerEventError,
  InvalidInputError,
  UnexpectedKeyMetadataError,
} from '../domain/errors.js';
import { parseExecutionInput } from '../domain/input.js';
import { type KeyLocation, locateKey } from '../domain/key-id.js';
import { findKeyRefusal, findRefusal, hasPublicKey } from '../domain/refusal.js';
import { HOUR_SECONDS, MINUTE_SECONDS } from '../domain/time.js';
import type {
  AssessEvent,
  Assessment,
  ExecutionRequest,
  GuardConfig,
  KeyFacts,
  Refusal,
  UsageAssessment,
  WatchPlan,
} from '../domain/types.js';
import { cadenceWarnings } from '../domain/usage-cadence.js';
import { keyWarnings } from '../domain/usage-history.js';
import { readTrail, searchCadence, searchHistory, trailWarnings } from './history.js';
import { logger } from './logger.js';

/**
 * AssessKey: reads the key and its usage history and answers ACCEPTED or REFUSED.
 *
 * It changes nothing. Input that cannot be used is an answer (REFUSED, INVALID_INPUT), not an
 * error, so the workflow ends in its Fail state with the reason. Errors that a retry can fix
 * (throttling, KMSInternalException, a log group that cannot be read) are thrown for the
 * workflow's Retry; none of them is ever taken to mean "no use found".
 */

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

/** DescribeKey's metadata, or null for a key KMS does not know (or does not show the workflow). */
async function describe(client: KMSClient, keyId: string): Promise<KeyMetadata | null> {
  try {
    const metadata = await describeKey(client, keyId);
    if (!metadata) {
      throw new UnexpectedKeyMetadataError(`DescribeKey returned no KeyMetadata for ${keyId}.`);
    }
    return metadata;
  } catch (error) {
    if (isNotFound(error)) {
      return null;
    }
    throw error;
  }
}

/** The key's facts, once DescribeKey is shown to have answered for this very key with every field later steps rely on. */
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
  return keyFactsOf(metadata, {
    keyId: KeyId,
    keyArn: Arn,
    account: metadata.AWSAccountId ?? location.account,
    region: location.region,
    aliases,
    tags,
  });
}

/**
 * What the assessment keeps after its history searches out of its 300 s: the cadence search (up to
 * a minute), the trail setup and the rest of the reads, each with the SDK's retries.
 */
export const ASSESS_RESERVE_MS = 90_000;

/** The history searches' bound: a search that cannot finish in time fails by name, never by a timeout. */
function historyBound(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): SearchBound | null {
  if (typeof context?.getRemainingTimeInMillis !== 'function') {
    return null;
  }
  return { remainingMs: () => context.getRemainingTimeInMillis(), reserveMs: ASSESS_RESERVE_MS };
}

export const handler = async (
  event: AssessEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<Assessment> => {
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
  const metadata = await describe(client, request.keyId);
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
  const aliases = (await listAliases(client, { keyId: location.keyId }))
    .flatMap((alias) => (alias.AliasName ? [alias.AliasName] : []))
    .sort();
  const customer = metadata.KeyManager === 'CUSTOMER';
  // AWS managed keys are refused whatever their tags say, and their policy need not allow reading them.
  const tags = customer ? await readTags(client, location.keyId) : {};
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
  const classified = await classifyKeyUsage(client, key.keyArn, new Date(key.creationDate));
  // A key with a public key needs the trail setup before the refusal rules: trails that do not log
  // KMS read events could never have shown a GetPublicKey.
  const trail = hasPublicKey(key) ? await readTrail(config, key, now) : null;
  const history = await searchHistory(key, classified, request, config, now, trail, historyBound(context));
  const warnings = [...keyWarnings(key, history.usage, config, now), ...history.warnings];
  // Who holds the key, as the stack recorded it (the tags only mirror it): read late, right before the
  // rules, so a hold recorded while the history was searched still refuses.
  const hold = await readHold(key.keyArn);
  const args = { key, request, config, executionArn, now, publicKey: history.publicKey, hold };

  const refusal = findRefusal({ ...args, usage: history.usage });
  if (refusal) {
    return refused(refusal, { ...withKey, usage: history.usage, warnings });
  }
  // Last, and only for a key no other rule refuses: the cadence search is the costliest read.
  const cadence = await searchCadence(key, history.usage, request, config, now, history.start);
  const usage: UsageAssessment = cadence ? { ...history.usage, cadence } : history.usage;
  warnings.push(...cadenceWarnings(cadence, now));
  const known: Known = { ...withKey, usage, warnings };
  const late = findRefusal({ ...args, usage });
  if (late) {
    return refused(late, known);
  }
  warnings.push(...(await trailWarnings(config, key, now, trail)));
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
