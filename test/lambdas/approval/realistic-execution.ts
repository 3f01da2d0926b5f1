import { assessmentSubject, renderAssessmentSummary } from '../../../lambdas/domain/assessment-message.js';
import { observationReport } from '../../../lambdas/domain/report-message.js';
import { trailHealthWarnings } from '../../../lambdas/domain/trail-health.js';
import type {
  Assessment,
  ExecutionRequest,
  GuardConfig,
  KeyFacts,
  UsageAssessment,
  WatchPlan,
} from '../../../lambdas/domain/types.js';
import { classifyUsage } from '../../../lambdas/domain/usage.js';
import {
  EXECUTION_ARN,
  type FakeEvent,
  type FakeExecutionOptions,
  KEY_ARN,
  type Step,
} from './fake-execution.js';

/**
 * A full-size approval request, built by the same domain code the workflow runs: the assessment
 * e-mail of an old production key with tags, two aliases, trail warnings and a long reason, and for
 * the deletion step the observation report after 30 quiet days. Times are relative to `sentAt`, the
 * moment the approval e-mail went out, so a browser run shows "N days ago" as a person would see it.
 */

const DAY_MS = 86_400_000;
const LOG_GROUP = 'aws-cloudtrail-logs-111122223333-org-trail';
const FUNCTION_PREFIX = 'arn:aws:lambda:us-east-1:111122223333:function:KmsDeletionGuard';
export const APPROVAL_TIMEOUT_DAYS = 7;
export const MIN_IDLE_DAYS = 90;
/** Days between the key's last use and the approval e-mail. */
export const LAST_USE_DAYS_BEFORE = 187;
export const REQUESTED_BY = 'maria.lopez@example.com';

function before(sentAt: Date, days: number, extraMs = 0): Date {
  return new Date(sentAt.getTime() - days * DAY_MS - extraMs);
}

/** A person's reason as typed into the execution input: paragraphs, not wrapped lines. */
export const REASON = [
  'FinOps clean-up FINOPS-2291: the ledger export moved to alias/payments-v2 in March 2024 and this key has shown no decrypt in the KMS console since.',
  'The payments team (payments-platform@example.com) confirmed that no service reads the 2019-2023 exports any more; the quarterly audit job was migrated in Q3 and the last archive bucket was re-encrypted under payments-v2 on 2024-11-04 (change CHG-18822).',
  'If anything still decrypts with this key, the watch will show it before anything is deleted.',
].join('\n');

export function realisticKey(sentAt: Date): KeyFacts {
  return {
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    keyArn: KEY_ARN,
    account: '111122223333',
    region: 'us-east-1',
    aliases: ['alias/legacy-payments', 'alias/payments-archive-2019'],
    description:
      'Envelope key for the payments ledger export (2019 migration); replaced by alias/payments-v2',
    keyState: 'Enabled',
    keyManager: 'CUSTOMER',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    creationDate: before(sentAt, 2490).toISOString(),
    multiRegion: false,
    replicaCount: 0,
    tags: {
      team: 'payments',
      owner: 'payments-platform@example.com',
      environment: 'production',
      'cost-center': 'CC-4411',
      'data-classification': 'confidential',
      'managed-by': 'terraform/payments-core',
    },
  };
}

export function realisticUsage(sentAt: Date): UsageAssessment {
  return classifyUsage({
    keyCreationDate: before(sentAt, 2490),
    trackingStartDate: before(sentAt, 300),
    keyLastUsage: {
      operation: 'Decrypt',
      timestamp: before(sentAt, LAST_USE_DAYS_BEFORE, 3 * 3_600_000),
      cloudTrailEventId: '7c1f0e2a-5b9d-4c3e-9f61-2d8a4b6c0e17',
      kmsRequestId: 'a3f5c9e1-2b47-4d8a-b6e0-91c2d4f7a8b3',
    },
  });
}

export function realisticWarnings(): string[] {
  return trailHealthWarnings({
    logGroupName: LOG_GROUP,
    blind: false,
    trails: ['org-trail', 'security-audit-us-east-1'],
    seeing: ['org-trail', 'security-audit-us-east-1'],
    findings: [
      {
        code: 'SINGLE_REGION',
        severity: 'WARNING',
        trail: 'security-audit-us-east-1',
        problem: 'is a single-Region trail of us-east-1; keys of other Regions would be watched blind.',
        fix: 'make it multi-Region: aws cloudtrail update-trail --name security-audit-us-east-1 --is-multi-region-trail.',
      },
      {
        code: 'STALE_DELIVERY',
        severity: 'WARNING',
        trail: 'security-audit-us-east-1',
        problem:
          'last delivered to CloudWatch Logs at 2026-11-28T04:10:00.000Z, more than a day ago, while logging.',
        fix:
          "check the trail's CloudWatchLogsRoleArn (it needs logs:CreateLogStream and logs:PutLogEvents on the group) " +
          'and its CloudWatchLogsLogGroupArn: aws cloudtrail get-trail-status --name security-audit-us-east-1.',
      },
    ],
  });
}

const CONFIG: GuardConfig = {
  cloudTrailLogGroupName: LOG_GROUP,
  observationDays: 30,
  checkIntervalHours: 6,
  ingestionLagMinutes: 60,
  minIdleDays: MIN_IDLE_DAYS,
  approvalTimeoutDays: APPROVAL_TIMEOUT_DAYS,
  pendingWindowInDays: 30,
  watchPendingWindow: true,
  workflowPrincipalArns: ['arn:aws:iam::111122223333:role/KmsDeletionGuard-CheckRole'],
};

const PLAN: WatchPlan = {
  logGroupName: LOG_GROUP,
  observationDays: 30,
  pendingWindowInDays: 30,
  checkIntervalSeconds: 6 * 3600,
  ingestionLagSeconds: 3600,
  watchPendingWindow: true,
  workflowPrincipalArns: CONFIG.workflowPrincipalArns,
};

const REQUEST: ExecutionRequest = {
  keyId: 'alias/legacy-payments',
  observationDays: 30,
  pendingWindowInDays: 30,
  requestedBy: REQUESTED_BY,
  reason: REASON,
  allowExportedPublicKey: false,
};

/** The AssessKey result of an accepted key, as the state stores it at `$.assessment.value`. */
export function realisticAssessment(sentAt: Date): Assessment {
  const key = realisticKey(sentAt);
  const usage = realisticUsage(sentAt);
  const warnings = realisticWarnings();
  return {
    verdict: 'ACCEPTED',
    refusal: null,
    causeText: '',
    key,
    usage,
    request: REQUEST,
    plan: PLAN,
    warnings,
    assessedAt: before(sentAt, 0, 90_000).toISOString(),
    summaryText: renderAssessmentSummary({
      executionArn: EXECUTION_ARN,
      key,
      usage,
      request: REQUEST,
      plan: PLAN,
      warnings,
      approvalTimeoutDays: APPROVAL_TIMEOUT_DAYS,
    }),
    subject: assessmentSubject(key),
  };
}

function lambdaTask(name: string, payload: Record<string, unknown>, at: Date): FakeEvent[] {
  return [
    { type: 'TaskStateEntered', timestamp: at, stateEnteredEventDetails: { name } },
    {
      type: 'TaskScheduled',
      timestamp: at,
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        region: 'us-east-1',
        parameters: JSON.stringify({
          FunctionName: `${FUNCTION_PREFIX}-${name}`,
          Payload: { executionArn: EXECUTION_ARN, ...payload },
        }),
      },
    },
    { type: 'TaskStarted', timestamp: at },
    { type: 'TaskSucceeded', timestamp: at },
    { type: 'TaskStateExited', timestamp: at, stateExitedEventDetails: { name } },
  ];
}

function choice(name: string, at: Date): FakeEvent[] {
  return [
    { type: 'ChoiceStateEntered', timestamp: at, stateEnteredEventDetails: { name } },
    { type: 'ChoiceStateExited', timestamp: at, stateExitedEventDetails: { name } },
  ];
}

/** Start, AssessKey (its input carries the stack configuration) and IsRefused. */
function assessEvents(startedAt: Date): FakeEvent[] {
  return [
    { type: 'PassStateEntered', timestamp: startedAt, stateEnteredEventDetails: { name: 'Start' } },
    { type: 'PassStateExited', timestamp: startedAt, stateExitedEventDetails: { name: 'Start' } },
    ...lambdaTask('AssessKey', { input: { keyId: REQUEST.keyId }, config: CONFIG }, startedAt),
    ...choice('IsRefused', startedAt),
  ];
}

/** The answered disable approval, the disable and the quiet watch that lead to a deletion request. */
function observationEvents(disabledAt: Date, finalAt: Date): FakeEvent[] {
  return [
    {
      type: 'TaskStateEntered',
      timestamp: disabledAt,
      stateEnteredEventDetails: { name: 'RequestDisableApproval' },
    },
    {
      type: 'TaskScheduled',
      timestamp: disabledAt,
      taskScheduledEventDetails: {
        resourceType: 'sns',
        resource: 'publish.waitForTaskToken',
        region: 'us-east-1',
        parameters: JSON.stringify({
          Subject: 'Approve disabling KMS key alias/legacy-payments (1234abcd...)',
          Message: 'The assessment e-mail',
          MessageAttributes: {
            step: { DataType: 'String', StringValue: 'disable' },
            taskToken: { DataType: 'String', StringValue: 'AQCEAAAAdisable+approval/token=' },
          },
        }),
      },
    },
    { type: 'TaskStarted', timestamp: disabledAt },
    { type: 'TaskSubmitted', timestamp: disabledAt },
    { type: 'TaskSucceeded', timestamp: disabledAt },
    {
      type: 'TaskStateExited',
      timestamp: disabledAt,
      stateExitedEventDetails: { name: 'RequestDisableApproval' },
    },
    ...lambdaTask('DisableKey', {}, disabledAt),
    { type: 'PassStateEntered', timestamp: disabledAt, stateEnteredEventDetails: { name: 'StartWatch' } },
    { type: 'PassStateExited', timestamp: disabledAt, stateExitedEventDetails: { name: 'StartWatch' } },
    ...lambdaTask('WatchForBreakage', { trigger: 'start' }, disabledAt),
    ...choice('ObservationVerdict', finalAt),
    { type: 'WaitStateEntered', timestamp: finalAt, stateEnteredEventDetails: { name: 'WaitForFinalCheck' } },
    { type: 'WaitStateExited', timestamp: finalAt, stateExitedEventDetails: { name: 'WaitForFinalCheck' } },
    ...lambdaTask('FinalCheck', { phase: 'FINAL' }, finalAt),
    ...choice('FinalVerdict', finalAt),
  ];
}

/** When the execution started (and assessed the key): minutes before the disable request, a month before the deletion request. */
export function startedAt(step: Step, sentAt: Date): Date {
  return before(sentAt, step === 'disable' ? 0 : 31, 120_000);
}

/** The options of a FakeExecution waiting in `step`'s approval with a full-size request. */
export function realisticExecution(step: Step, sentAt: Date): FakeExecutionOptions {
  const assessment = realisticAssessment(startedAt(step, sentAt));
  const common = { step, scheduledAt: sentAt, timeoutSeconds: APPROVAL_TIMEOUT_DAYS * 86_400 };
  const input = { keyId: REQUEST.keyId };
  if (step === 'disable') {
    return {
      ...common,
      before: assessEvents(startedAt(step, sentAt)),
      subject: assessment.subject,
      message: assessment.summaryText,
      stateInput: { input, watch: { value: null }, error: null, assessment: { value: assessment } },
    };
  }
  const disabledAt = before(sentAt, 30, 75 * 60_000);
  const key = assessment.key as KeyFacts;
  const report = observationReport({
    key,
    executionArn: EXECUTION_ARN,
    plan: PLAN,
    disabledAt,
    now: sentAt,
    checks: 121,
    scanned: 1_284_113,
    lastUsage: assessment.usage?.lastUsage ?? null,
    trackingStartDate: assessment.usage?.trackingStartDate,
  });
  const canary = (days: number) => ({
    requestId: `c0ffee00-0000-4000-8000-00000000000${days}`,
    at: before(sentAt, days).toISOString(),
    operation: 'Encrypt',
    errorCode: 'DisabledException',
    seen: true,
  });
  return {
    ...common,
    before: [...assessEvents(startedAt(step, sentAt)), ...observationEvents(disabledAt, sentAt)],
    subject: report.subject,
    message: report.text,
    stateInput: {
      input,
      error: null,
      assessment: { value: assessment },
      disableApproval: {
        decision: 'approve',
        step: 'disable',
        by: REQUESTED_BY,
        at: before(sentAt, 30, 80 * 60_000).toISOString(),
        comment: 'Checked with the payments on-call.',
        sourceIp: '198.51.100.7',
        userAgent: 'Mozilla/5.0',
      },
      disable: { value: { disabledAt: disabledAt.toISOString(), wasEnabled: true } },
      watch: {
        value: {
          phase: 'FINAL',
          cursor: sentAt.toISOString(),
          seenEventIds: [],
          checks: 121,
          nextCheckAt: sentAt.toISOString(),
          done: true,
          broke: false,
          evidence: [],
          evidenceCount: 0,
          scanned: 1_284_113,
          reportText: report.text,
          subject: report.subject,
          canaries: [canary(29), canary(15), canary(1)],
          canariesSeen: 3,
        },
      },
    },
  };
}
