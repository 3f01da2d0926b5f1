import {
  abortCauseOf,
  buildRestoreMessage,
  errorMessageOf,
  MAX_EVIDENCE_IN_MESSAGE,
  type RestoreReport,
} from '../../../lambdas/domain/restore-message.js';
import { MAX_SUBJECT_LENGTH } from '../../../lambdas/domain/subject.js';
import type { Evidence, KeyFacts, WatchState } from '../../../lambdas/domain/types.js';
import { keyFacts } from '../fixtures.js';

const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:KmsDeletionGuard:run-1';
const NOW = new Date('2026-02-01T00:00:00.000Z');

const KEY: KeyFacts = keyFacts();

function evidence(i: number): Evidence {
  return {
    eventID: `event-${String(i).padStart(3, '0')}`,
    eventTime: `2026-01-12T${String(i % 24).padStart(2, '0')}:00:00Z`,
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: 'arn:aws:iam::111122223333:role/billing-app',
    sourceIPAddress: '10.1.2.3',
    userAgent: 'aws-sdk-java/2.20.0 Linux/5.10',
  };
}

function watch(records: readonly Evidence[], count = records.length): WatchState {
  return {
    phase: 'OBSERVE',
    cursor: '2026-01-12T12:00:00Z',
    seenEventIds: [],
    checks: 3,
    nextCheckAt: '2026-01-12T18:00:00Z',
    done: false,
    broke: true,
    evidence: records,
    evidenceCount: count,
    scanned: 100,
    reportText: '',
    subject: '',
  };
}

function report(overrides: Partial<RestoreReport> = {}): RestoreReport {
  return {
    mode: 'ROLLBACK',
    outcome: 'ROLLED_BACK',
    executionArn: EXECUTION,
    key: KEY,
    actions: ['EnableKey'],
    finalKeyState: 'Enabled',
    restoredAt: NOW.toISOString(),
    reason: 'Re-enabled the key this execution disabled.',
    watch: watch([evidence(1), evidence(2)]),
    error: null,
    now: NOW,
    ...overrides,
  };
}

describe('abortCauseOf', () => {
  it.each([
    ['KeyChangedExternallyError', 'KEY_CHANGED_EXTERNALLY'],
    ['EventSourceUnavailableError', 'EVENT_SOURCE_UNAVAILABLE'],
    ['EventSourceBlindError', 'EVENT_SOURCE_BLIND'],
    ['SweepBehindError', 'EVENT_SOURCE_UNAVAILABLE'],
    ['USED_AFTER_DISABLE', 'USED_AFTER_DISABLE'],
    ['States.Timeout', 'WORKFLOW_ERROR'],
    ['KMSInternalException', 'WORKFLOW_ERROR'],
  ])('maps %s to %s', (name, cause) => {
    // Act
    const result = abortCauseOf({ Error: name, Cause: 'x' });

    // Assess
    expect(result).toBe(cause);
  });

  it('is WORKFLOW_ERROR when no error was caught', () => {
    // Act
    const result = abortCauseOf(null);

    // Assess
    expect(result).toBe('WORKFLOW_ERROR');
  });
});

describe('errorMessageOf', () => {
  it('takes the message out of the JSON cause Lambda writes, without the trace', () => {
    // Prepare
    const cause = JSON.stringify({
      errorType: 'KeyChangedExternallyError',
      errorMessage: 'The key was Enabled at assessment\nand is Disabled now.',
      trace: ['at checkStillAsAssessed (hold.ts:1)'],
    });

    // Act
    const message = errorMessageOf({ Error: 'KeyChangedExternallyError', Cause: cause });

    // Assess
    expect(message).toBe('The key was Enabled at assessment and is Disabled now.');
  });

  it('keeps a plain-text cause as one line', () => {
    // Act
    const message = errorMessageOf({ Error: 'States.Timeout', Cause: 'Task timed out\r\nafter 300 s' });

    // Assess
    expect(message).toBe('Task timed out after 300 s');
  });
});

describe('buildRestoreMessage', () => {
  it('e-mails every evidence field, the count, what was done and the final state on rollback', () => {
    // Act
    const message = buildRestoreMessage(report());

    // Assess
    const text = message.messageText;
    expect(text).toContain('2026-01-12T01:00:00Z  Decrypt  DisabledException');
    expect(text).toContain('caller:     arn:aws:iam::111122223333:role/billing-app');
    expect(text).toContain('source IP:  10.1.2.3');
    expect(text).toContain('user agent: aws-sdk-java/2.20.0 Linux/5.10');
    expect(text).toContain('Event IDs: event-001, event-002');
    expect(text).toContain('Evidence: 2 CloudTrail records');
    expect(text).toContain('EnableKey: the key is usable again.');
    expect(text).toContain('Final key state: Enabled');
    expect(text).toContain(KEY.keyArn);
    expect(text).toContain(EXECUTION);
    expect(message.causeText).toMatch(/^ROLLED_BACK: 2 CloudTrail records showed/);
  });

  it('lists at most MAX_EVIDENCE_IN_MESSAGE records but states the full count', () => {
    // Prepare
    const many = Array.from({ length: 30 }, (_, i) => evidence(i));

    // Act
    const message = buildRestoreMessage(report({ watch: watch(many, 57) }));

    // Assess
    expect(message.messageText).toContain(
      `57 CloudTrail records (the first ${MAX_EVIDENCE_IN_MESSAGE} shown)`,
    );
    expect(message.messageText).not.toContain(`${MAX_EVIDENCE_IN_MESSAGE + 1}. `);
  });

  it('names the abort cause, the error and its message for ABORT', () => {
    // Prepare
    const error = {
      Error: 'KeyChangedExternallyError',
      Cause: JSON.stringify({
        errorType: 'KeyChangedExternallyError',
        errorMessage: 'Someone re-enabled it.',
      }),
    };

    // Act
    const message = buildRestoreMessage(
      report({ mode: 'ABORT', outcome: 'ABORTED', error, watch: null, actions: ['NONE'], restoredAt: null }),
    );

    // Assess
    expect(message.causeText).toBe(
      'KEY_CHANGED_EXTERNALLY: KeyChangedExternallyError (Someone re-enabled it.); nothing changed, key Enabled',
    );
    expect(message.messageText).toContain('Error:      KeyChangedExternallyError');
    expect(message.messageText).toContain('Details:    Someone re-enabled it.');
    expect(message.messageText).toContain('  Nothing.');
  });

  it('prefixes the cause with the outcome for a rejection or an expired approval', () => {
    // Act
    const rejected = buildRestoreMessage(report({ mode: 'ABORT', outcome: 'REJECTED', watch: null }));
    const expired = buildRestoreMessage(report({ mode: 'ABORT', outcome: 'APPROVAL_EXPIRED', watch: null }));

    // Assess
    expect(rejected.causeText).toMatch(/^REJECTED: /);
    expect(expired.causeText).toMatch(/^APPROVAL_EXPIRED: /);
    expect(rejected.subject).toContain('REJECTED');
  });

  it('keeps the cause on one line and the subject ASCII within 99 characters', () => {
    // Prepare
    const key = { ...KEY, aliases: [`alias/${'é'.repeat(150)}`] };
    const error = { Error: 'Boom', Cause: 'line one\nline two' };

    // Act
    const message = buildRestoreMessage(report({ key, mode: 'ABORT', outcome: 'ABORTED', error }));

    // Assess
    expect(message.causeText).not.toMatch(/\n/);
    expect(message.causeText).toMatch(/^WORKFLOW_ERROR: Boom \(line one line two\)/);
    expect(message.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(message.subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('says the deletion was cancelled and the key stays Disabled', () => {
    // Act
    const message = buildRestoreMessage(
      report({
        mode: 'CANCEL_DELETION',
        outcome: 'DELETION_CANCELLED',
        actions: ['CancelKeyDeletion'],
        finalKeyState: 'Disabled',
      }),
    );

    // Assess
    expect(message.messageText).toContain('CancelKeyDeletion: the key is no longer scheduled for deletion');
    expect(message.messageText).toContain('Final key state: Disabled');
    expect(message.causeText).toMatch(/^DELETION_CANCELLED: .*CancelKeyDeletion done, key Disabled$/);
  });
});

describe('buildRestoreMessage EVENT_SOURCE_BLIND', () => {
  it('says what was missing and what to check in the trail', () => {
    // Prepare
    const missing =
      'The canary Encrypt on arn:aws:kms:us-east-1:111122223333:key/1234abcd at 2026-01-01T06:00:00.000Z (request ID r-1) failed with DisabledException as intended, but its CloudTrail record is not in log group trail 360 minutes later';

    // Act
    const message = buildRestoreMessage(
      report({
        mode: 'ABORT',
        outcome: 'ABORTED',
        error: {
          Error: 'EventSourceBlindError',
          Cause: JSON.stringify({ errorType: 'EventSourceBlindError', errorMessage: missing }),
        },
      }),
    );

    // Assess
    expect(message.causeText).toMatch(/^EVENT_SOURCE_BLIND: EventSourceBlindError \(The canary Encrypt/);
    expect(message.messageText).toContain('What was missing');
    expect(message.messageText).toContain('request ID r-1');
    expect(message.messageText).toContain('What to check in the trail');
    expect(message.messageText).toContain('ReadWriteType All');
    expect(message.messageText).toContain('ExcludeManagementEventSources');
    expect(message.messageText).toContain('kms-deletion-guard doctor --log-group');
  });

  it('leaves the trail checklist out of other aborts', () => {
    // Act
    const message = buildRestoreMessage(
      report({
        mode: 'ABORT',
        outcome: 'ABORTED',
        error: { Error: 'KeyChangedExternallyError', Cause: 'x' },
      }),
    );

    // Assess
    expect(message.messageText).not.toContain('What to check in the trail');
  });

  it('ends REFUSED with the cause of the inventory that refused right before the deletion, listing it whole', () => {
    // Prepare
    const listing =
      'Key 1234abcd encrypts 1 resource whose data becomes unreadable forever when the key is deleted:\n' +
      '- AWS::EC2::Snapshot arn:aws:ec2:us-east-1::snapshot/snap-1 (created 2026-01-10T00:00:00.000Z)';

    // Act
    const message = buildRestoreMessage(
      report({
        mode: 'ABORT',
        outcome: 'REFUSED',
        watch: null,
        error: { Error: 'PROTECTS_DATA', Cause: listing },
      }),
    );

    // Assess
    expect(message.causeText).toMatch(/^PROTECTS_DATA: Key 1234abcd encrypts 1 resource/);
    expect(message.causeText).toContain('EnableKey done, key Enabled');
    expect(message.subject).toContain('REFUSED');
    expect(message.messageText).toContain('Cause:      PROTECTS_DATA');
    expect(message.messageText).toContain(
      '  - AWS::EC2::Snapshot arn:aws:ec2:us-east-1::snapshot/snap-1 (created 2026-01-10T00:00:00.000Z)',
    );
    expect(message.messageText).toContain('Right before scheduling the deletion');
  });

  it('names a refusal after the key was changed REFUSED when the caught error is not a refusal cause', () => {
    // Act
    const message = buildRestoreMessage(
      report({ mode: 'ABORT', outcome: 'REFUSED', error: { Error: 'SomethingElse', Cause: 'why' } }),
    );

    // Assess
    expect(message.causeText).toMatch(/^REFUSED: why; /);
  });
});
