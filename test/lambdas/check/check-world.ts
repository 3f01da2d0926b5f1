/**
 * The check handler's world for its tests: the mocked KMS and CloudWatch Logs clients, one held key,
 * the CloudTrail records a log group returns, the events of each phase, and a Lambda context.
 */
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeKeyCommand,
  DisabledException,
  EncryptCommand,
  KMSClient,
  KMSInvalidStateException,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { toItem } from '../../../lambdas/aws/hold-registry.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import type { HoldRecord } from '../../../lambdas/domain/hold-record.js';
import {
  type Canary,
  type CheckEvent,
  type ScheduleResult,
  TAGS,
  type WatchState,
} from '../../../lambdas/domain/types.js';
import {
  ACCOUNT,
  assessment,
  EXECUTION,
  holdRecord,
  KEY_ID,
  keyArnIn,
  keyFacts,
  watchPlan,
} from '../fixtures.js';

export const REGION = 'us-east-1';
export const KEY_ARN = keyArnIn(REGION);
export const LOG_GROUP = 'aws-cloudtrail-logs';
export const DISABLED_AT = new Date('2026-01-01T00:00:00.000Z');
export const CHECK_ROLE = `arn:aws:iam::${ACCOUNT}:role/KmsDeletionGuard-CheckRole`;

export const kms = mockClient(KMSClient);
export const logs = mockClient(CloudWatchLogsClient);
/** The hold registry: the check only reads it (its writes are tested against dynalite elsewhere). */
export const holds = mockClient(DynamoDBClient);
process.env.KDG_HOLD_TABLE = 'kms-deletion-guard-holds';

export const PLAN = watchPlan({ logGroupName: LOG_GROUP, workflowPrincipalArns: [CHECK_ROLE] });

export const ASSESSMENT = assessment({
  key: keyFacts(),
  plan: PLAN,
  assessedAt: '2025-12-31T23:00:00.000Z',
  summaryText: 'summary',
  subject: 'subject',
});

export function checkEvent(
  phase: CheckEvent['phase'],
  watch: WatchState,
  extra: Partial<CheckEvent> = {},
): CheckEvent {
  return {
    executionArn: EXECUTION,
    phase,
    assessment: ASSESSMENT,
    disable: { disabledAt: DISABLED_AT.toISOString(), wasEnabled: true },
    watch,
    ...extra,
  };
}

/**
 * The key in `keyState` with `tags` (the status tag `disabled` unless given), and the registry's
 * record of its hold: by default the one the tags mirror (the execution they name, watching or
 * pending deletion as their status says); `hold` null for none.
 */
export function givenKey(
  keyState: string,
  tags: Record<string, string> = { [TAGS.execution]: EXECUTION },
  hold: HoldRecord | null = mirroredHold(tags),
): void {
  holds.on(GetItemCommand).resolves(hold ? { Item: toItem(hold) } : {});
  kms
    .on(DescribeKeyCommand)
    .resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: keyState as never } });
  kms.on(ListResourceTagsCommand).resolves({
    Tags: Object.entries({ [TAGS.status]: 'disabled', ...tags }).map(([TagKey, TagValue]) => ({
      TagKey,
      TagValue,
    })),
    Truncated: false,
  });
  // The canary fails as KMS fails calls on a key in that state.
  kms.on(EncryptCommand).callsFake(() => {
    if (keyState === 'Disabled') {
      throw new DisabledException({
        message: `${KEY_ARN} is disabled.`,
        $metadata: { requestId: 'canary-now' },
      });
    }
    if (keyState === 'PendingDeletion') {
      throw new KMSInvalidStateException({
        message: `${KEY_ARN} is pending deletion.`,
        $metadata: { requestId: 'canary-now' },
      });
    }
    return { KeyId: KEY_ARN, CiphertextBlob: new Uint8Array([1]) };
  });
}

function mirroredHold(tags: Record<string, string>): HoldRecord | null {
  const execution = tags[TAGS.execution];
  if (execution === undefined) {
    return null;
  }
  const pending = tags[TAGS.status] === 'pending-deletion';
  return holdRecord(pending ? 'pending-deletion' : 'watching', {
    keyArn: KEY_ARN,
    execution,
    disabledAt: DISABLED_AT.toISOString(),
  });
}

/** The key after ScheduleDeletion: pending deletion and still held by this execution. */
export function givenPendingKey(): void {
  givenKey('PendingDeletion', { [TAGS.execution]: EXECUTION, [TAGS.status]: 'pending-deletion' });
}

/** The schedule ScheduleDeletion stored (a 30-day window). */
export function scheduled(scheduledAt: Date, deletionDate: string | null): ScheduleResult {
  return {
    scheduledAt: scheduledAt.toISOString(),
    deletionDate,
    keyState: 'PendingDeletion',
    pendingWindowInDays: 30,
    watchTimeoutSeconds: 30 * 86_400 - 1800,
  };
}

/** How CloudTrail records the same call when KMS refused it because the key is pending deletion. */
export function refusedPendingDeletion(record: CloudTrailRecord): CloudTrailRecord {
  return {
    ...record,
    errorCode: 'KMSInvalidStateException',
    errorMessage: `${KEY_ARN} is pending deletion.`,
  };
}

export function canary(requestId: string, at: string, seen = false): Canary {
  return { requestId, at, operation: 'Encrypt', errorCode: 'DisabledException', seen };
}

/** The CloudTrail record of a canary: the check role's failed Encrypt under the canary's request ID. */
export function canaryRecord(requestId: string, eventTime: string): CloudTrailRecord {
  return {
    ...disabledCall(`event-of-${requestId}`, eventTime),
    eventName: 'Encrypt',
    requestID: requestId,
    requestParameters: { keyId: KEY_ARN, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/KmsDeletionGuard-CheckRole/check`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { arn: CHECK_ROLE } },
    },
    userAgent: 'aws-sdk-js/3',
  };
}

export function givenRecords(records: CloudTrailRecord[]): void {
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, creationTime: 0 }] });
  logs.on(FilterLogEventsCommand).resolves({
    events: records.map((record) => ({
      message: JSON.stringify(record),
      timestamp: Date.parse(record.eventTime),
    })),
  });
}

export function disabledCall(eventID: string, eventTime: string): CloudTrailRecord {
  return {
    eventID,
    eventTime,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: REGION,
    errorCode: 'DisabledException',
    errorMessage: `${KEY_ARN} is disabled.`,
    requestParameters: { keyId: 'alias/legacy' },
    resources: [{ ARN: KEY_ARN, type: 'AWS::KMS::Key', accountId: ACCOUNT }],
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/app` } },
    },
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-sdk-java/2.20',
    recipientAccountId: ACCOUNT,
  };
}

export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:KmsDeletionGuard-Check`;

/** What Lambda hands the handler besides the event; the check reads only the function's own ARN. */
export const CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'KmsDeletionGuard-Check',
  functionVersion: '$LATEST',
  invokedFunctionArn: FUNCTION_ARN,
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/KmsDeletionGuard-Check',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
