/**
 * Builders shared by the handler and domain tests: one accepted assessment of one customer key,
 * the hold tags the workflow writes, and a CloudTrail record of a failing call on the key. Each
 * builder takes overrides so a test states only what it relies on.
 */
import type { CloudTrailRecord } from '../../lambdas/domain/cloudtrail.js';
import { type HoldRecord, newHold, nextHold } from '../../lambdas/domain/hold-record.js';
import {
  type Assessment,
  type GuardConfig,
  type KeyFacts,
  TAGS,
  type WatchPlan,
} from '../../lambdas/domain/types.js';

export const ACCOUNT = '111122223333';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const EXECUTION = `arn:aws:states:us-east-1:${ACCOUNT}:execution:KmsDeletionGuard:run-1`;
export const OTHER_EXECUTION = `arn:aws:states:us-east-1:${ACCOUNT}:execution:KmsDeletionGuard:run-0`;

/** The stack configuration AssessKey receives, at the documented defaults. */
export function guardConfig(overrides: Partial<GuardConfig> = {}): GuardConfig {
  return {
    cloudTrailLogGroupName: 'org-trail',
    observationDays: 30,
    checkIntervalHours: 6,
    ingestionLagMinutes: 30,
    minIdleDays: 90,
    approvalTimeoutDays: 7,
    pendingWindowInDays: 30,
    watchPendingWindow: true,
    ...overrides,
  };
}

export function keyArnIn(region: string): string {
  return `arn:aws:kms:${region}:${ACCOUNT}:key/${KEY_ID}`;
}

/** An enabled, single-Region symmetric customer key; `keyArn` follows `region` unless given. */
export function keyFacts(overrides: Partial<KeyFacts> = {}): KeyFacts {
  const region = overrides.region ?? 'us-east-1';
  return {
    keyId: KEY_ID,
    keyArn: keyArnIn(region),
    account: ACCOUNT,
    region,
    aliases: ['alias/legacy'],
    description: '',
    keyState: 'Enabled',
    keyManager: 'CUSTOMER',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    creationDate: '2024-01-01T00:00:00.000Z',
    multiRegion: false,
    replicaCount: 0,
    tags: {},
    ...overrides,
  };
}

export function watchPlan(overrides: Partial<WatchPlan> = {}): WatchPlan {
  return {
    logGroupName: 'trail',
    observationDays: 30,
    pendingWindowInDays: 30,
    checkIntervalSeconds: 21_600,
    ingestionLagSeconds: 1_800,
    watchPendingWindow: true,
    ...overrides,
  };
}

/** An ACCEPTED assessment of `keyFacts()` under `watchPlan()`. */
export function assessment(overrides: Partial<Assessment> = {}): Assessment {
  return {
    verdict: 'ACCEPTED',
    refusal: null,
    causeText: '',
    key: keyFacts(),
    usage: null,
    request: null,
    plan: watchPlan(),
    warnings: [],
    assessedAt: '2026-01-31T00:00:00.000Z',
    summaryText: '',
    subject: '',
    ...overrides,
  };
}

export interface HeldOptions {
  readonly wasEnabled?: boolean;
  readonly disabledAt?: string;
  readonly execution?: string;
}

/** The tags a key carries while `execution` holds it. */
export function heldTags(status: string, options: HeldOptions = {}): Record<string, string> {
  const { wasEnabled = true, disabledAt = '2026-02-01T00:00:00.000Z', execution = EXECUTION } = options;
  return {
    [TAGS.execution]: execution,
    [TAGS.status]: status,
    [TAGS.wasEnabled]: wasEnabled ? 'true' : 'false',
    [TAGS.disabledAt]: disabledAt,
  };
}

/** A Decrypt by the billing app that KMS refused because the key is disabled. */
export function disabledDecryptRecord(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  const keyArn = keyArnIn('us-east-1');
  return {
    eventID: 'ev-1',
    eventTime: '2026-02-12T06:00:00Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    errorCode: 'DisabledException',
    errorMessage: `${keyArn} is disabled.`,
    requestParameters: { keyId: 'alias/billing' },
    resources: [{ ARN: keyArn, accountId: ACCOUNT, type: 'AWS::KMS::Key' }],
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/billing-app/i-0abc`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/billing-app` } },
    },
    sourceIPAddress: '10.1.2.3',
    userAgent: 'aws-sdk-java/2.20.0',
    ...overrides,
  };
}

/** Names of the commands a mocked client received, in order. */
export function commandNames(client: { calls(): readonly { args: readonly unknown[] }[] }): string[] {
  return client.calls().map((call) => (call.args[0] as object).constructor.name);
}

export interface HoldOptions {
  readonly keyArn?: string;
  readonly execution?: string;
  readonly wasEnabled?: boolean;
  readonly disabledAt?: string;
  readonly deletionScheduled?: boolean;
  readonly scheduledAt?: string | null;
  readonly deletionDate?: string | null;
}

/** A hold of `execution` (default EXECUTION) in `phase`, as the workflow's steps leave it. */
export function holdRecord(phase: HoldRecord['phase'], options: HoldOptions = {}): HoldRecord {
  const disabledAt = options.disabledAt ?? '2026-02-01T00:00:00.000Z';
  const first = newHold({
    keyArn: options.keyArn ?? keyArnIn('us-east-1'),
    executionArn: options.execution ?? EXECUTION,
    wasEnabled: options.wasEnabled ?? true,
    now: new Date(disabledAt),
  });
  if (phase === 'disabling') {
    return first;
  }
  const pending = phase === 'pending-deletion' || phase === 'scheduling';
  return nextHold(
    first,
    {
      phase,
      disabled: true,
      deletionScheduled: options.deletionScheduled ?? pending,
      scheduledAt: options.scheduledAt ?? (pending ? '2026-03-03T00:00:00.000Z' : null),
      deletionDate:
        options.deletionDate ?? (phase === 'pending-deletion' ? '2026-04-02T00:00:00.000Z' : null),
    },
    new Date(disabledAt),
  );
}
