import type { KeyRef } from '../../../lambdas/domain/cloudtrail.js';
import { evidenceReport, observationReport, progressNote } from '../../../lambdas/domain/report-message.js';
import { MAX_SUBJECT_LENGTH } from '../../../lambdas/domain/subject.js';
import type { Evidence, WatchPlan } from '../../../lambdas/domain/types.js';

const KEY: KeyRef = {
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  keyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  aliases: ['alias/legacy'],
};
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:guard:run-1';
const PLAN: WatchPlan = {
  logGroupName: 'org-trail',
  observationDays: 30,
  pendingWindowInDays: 7,
  checkIntervalSeconds: 21600,
  ingestionLagSeconds: 1800,
  watchPendingWindow: true,
};

function ev(id: string): Evidence {
  return {
    eventID: id,
    eventTime: '2026-01-12T10:00:00Z',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: 'arn:aws:iam::111122223333:role/app',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-sdk-js/3.0.0',
  };
}

function isValidSubject(subject: string): boolean {
  return subject.length > 0 && subject.length <= MAX_SUBJECT_LENGTH && /^[\x20-\x7e]+$/.test(subject);
}

describe('observationReport', () => {
  it('states the observation, the last usage and what approving does, with the date it would delete', () => {
    // Act
    const message = observationReport({
      key: KEY,
      executionArn: EXECUTION,
      plan: PLAN,
      disabledAt: new Date('2026-01-01T00:00:00Z'),
      now: new Date('2026-01-31T00:30:00Z'),
      checks: 121,
      scanned: 42,
      lastUsage: { operation: 'Decrypt', timestamp: '2025-09-01T00:00:00.000Z', cloudTrailEventId: 'ct-1' },
    });

    // Assess
    expect(message.text).toContain('Disabled since: 2026-01-01T00:00:00.000Z (30 days)');
    expect(message.text).toContain('Checks run: 121');
    expect(message.text).toContain('CloudTrail records scanned: 42');
    expect(message.text).toContain('DisabledException on this key: none seen.');
    expect(message.text).toContain('Decrypt at 2025-09-01T00:00:00.000Z');
    expect(message.text).toContain('ScheduleKeyDeletion with a 7-day pending window');
    expect(message.text).toContain('2026-02-07T00:30:00.000Z');
    expect(message.text).toContain(`npx kms-deletion-guard approve ${EXECUTION} --step deletion`);
    expect(message.text).toContain(`npx kms-deletion-guard reject ${EXECUTION} --step deletion`);
    expect(message.text).toContain(
      '(run these in a project where the package is installed: npm install kms-deletion-guard)',
    );
    expect(isValidSubject(message.subject)).toBe(true);
  });

  it('shows what the inventory found before the disable, and that it is taken again before the deletion', () => {
    // Act
    const message = observationReport({
      key: KEY,
      executionArn: EXECUTION,
      plan: PLAN,
      disabledAt: new Date('2026-01-01T00:00:00Z'),
      now: new Date('2026-01-31T00:30:00Z'),
      checks: 121,
      scanned: 42,
      lastUsage: null,
      inventory: {
        phase: 'BEFORE_DISABLE',
        takenAt: '2026-01-01T00:00:00.000Z',
        region: 'us-east-1',
        resources: [
          {
            type: 'AWS::S3::Bucket',
            arn: 'arn:aws:s3:::yearly-archive',
            createdAt: '2024-05-01T00:00:00.000Z',
            keyRef: 'alias/legacy',
          },
        ],
        resourceCount: 1,
        acceptedDataLoss: 1,
        failures: [],
        grants: [],
        grantCount: 0,
        policy: null,
        watchSource: [],
      },
    });

    // Assess
    expect(message.text).toContain('WILL BECOME UNREADABLE');
    expect(message.text).toContain('AWS::S3::Bucket arn:aws:s3:::yearly-archive');
    expect(message.text).toContain('the inventory is taken again right before ScheduleKeyDeletion');
    expect(message.text.indexOf('WHAT THE KEY PROTECTS')).toBeLessThan(
      message.text.indexOf('If you approve:'),
    );
  });

  it('says when no use was ever recorded and when the pending window is not watched', () => {
    // Act
    const message = observationReport({
      key: { ...KEY, aliases: [] },
      executionArn: EXECUTION,
      plan: { ...PLAN, watchPendingWindow: false },
      disabledAt: new Date('2026-01-01T00:00:00Z'),
      now: new Date('2026-01-31T00:30:00Z'),
      checks: 1,
      scanned: 0,
      lastUsage: null,
      trackingStartDate: '2025-06-01T00:00:00.000Z',
    });

    // Assess
    expect(message.text).toContain('no successful cryptographic use recorded since 2025-06-01T00:00:00.000Z');
    expect(message.text).toContain('NOT watched');
    expect(message.subject).toContain(KEY.keyId);
  });
});

describe('evidenceReport', () => {
  it('lists time, operation, caller, source IP, user agent, event IDs and the full count', () => {
    // Act
    const message = evidenceReport({
      key: KEY,
      executionArn: EXECUTION,
      phase: 'OBSERVE',
      evidence: [ev('ev-1'), ev('ev-2')],
      evidenceCount: 57,
      now: new Date('2026-01-12T12:00:00Z'),
    });

    // Assess
    expect(message.text).toContain('2026-01-12T10:00:00Z  Decrypt  (DisabledException)');
    expect(message.text).toContain('caller:     arn:aws:iam::111122223333:role/app');
    expect(message.text).toContain('source IP:  203.0.113.10');
    expect(message.text).toContain('user agent: aws-sdk-js/3.0.0');
    expect(message.text).toContain('Event IDs: ev-1, ev-2');
    expect(message.text).toContain('the first 2 of 57');
    expect(message.text).toContain('re-enables');
    expect(message.subject).toContain('rolling back');
    expect(isValidSubject(message.subject)).toBe(true);
  });

  it('says the deletion is cancelled in the pending window', () => {
    // Act
    const message = evidenceReport({
      key: KEY,
      executionArn: EXECUTION,
      phase: 'PENDING',
      evidence: [{ ...ev('ev-9'), errorCode: 'KMSInvalidStateException' }],
      evidenceCount: 1,
      now: new Date('2026-02-03T00:00:00Z'),
    });

    // Assess
    expect(message.text).toContain('CancelKeyDeletion');
    expect(message.subject).toContain('cancelling deletion');
  });
});

describe('progressNote', () => {
  it('gives a subject and the next check time', () => {
    // Act
    const note = progressNote({
      key: KEY,
      phase: 'OBSERVE',
      checks: 3,
      scanned: 5,
      now: new Date('2026-01-01T18:00:00Z'),
      nextCheckAt: '2026-01-02T00:00:00.000Z',
      done: false,
    });

    // Assess
    expect(note.text).toContain('next check at 2026-01-02T00:00:00.000Z');
    expect(isValidSubject(note.subject)).toBe(true);
  });
});
