import {
  type AssessmentSummaryArgs,
  assessmentSubject,
  refusalSubject,
  renderAssessmentSummary,
  renderRefusalSummary,
  stripControl,
  withSection,
} from '../../../lambdas/domain/assessment-message.js';
import { MAX_SUBJECT_LENGTH } from '../../../lambdas/domain/subject.js';
import type { KeyFacts, UsageAssessment } from '../../../lambdas/domain/types.js';
import { hasControlCharacter } from '../../../lambdas/domain/untrusted.js';
import { keyFacts } from '../fixtures.js';

const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:guard:run-1';

const key: KeyFacts = keyFacts({ aliases: ['alias/legacy', 'alias/old'], description: 'Legacy billing key' });

const used: UsageAssessment = {
  classification: 'USED',
  trackingStartDate: '2025-06-01T00:00:00.000Z',
  keyCreationDate: '2024-01-01T00:00:00.000Z',
  lastUsage: {
    operation: 'Decrypt',
    timestamp: '2025-07-01T00:00:00.000Z',
    cloudTrailEventId: 'evt-123',
    kmsRequestId: 'req-9',
  },
  explanation: 'KeyLastUsage is present: the key has been used ...',
};

function summaryArgs(overrides: Partial<AssessmentSummaryArgs> = {}): AssessmentSummaryArgs {
  return {
    executionArn: EXECUTION,
    key,
    usage: used,
    request: {
      keyId: key.keyId,
      observationDays: 30,
      pendingWindowInDays: 14,
      requestedBy: 'jane@example.com',
      reason: 'App retired.\nTicket OPS-1',
      allowExportedPublicKey: false,
    },
    plan: {
      logGroupName: 'org-trail',
      observationDays: 30,
      pendingWindowInDays: 14,
      checkIntervalSeconds: 21_600,
      ingestionLagSeconds: 1_800,
      watchPendingWindow: true,
    },
    warnings: ['The key is already Disabled.'],
    approvalTimeoutDays: 7,
    ...overrides,
  };
}

describe('renderAssessmentSummary', () => {
  it('carries every fact a person needs to decide', () => {
    // Act
    const text = renderAssessmentSummary(summaryArgs());
    const flat = text.replace(/[ \n]+/g, ' ');

    // Assess
    expect(text).toContain('    Ticket OPS-1');
    for (const fact of [
      key.keyId,
      key.keyArn,
      'alias/legacy, alias/old',
      'Legacy billing key',
      'Enabled',
      'SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT',
      '2024-01-01T00:00:00.000Z',
      'USED',
      'Decrypt at 2025-07-01T00:00:00.000Z',
      'CloudTrail event ID evt-123',
      'KMS request ID req-9',
      'Do not use GetKeyLastUsage as the sole indicator',
      'The key is already Disabled.',
      'every 6 hours',
      'for 30 days',
      'plus 30 minutes',
      '14-day pending window',
      'org-trail',
      'jane@example.com',
      'Without an answer within 7 days',
    ]) {
      expect(flat).toContain(fact);
    }
  });

  it('says how to answer with the real execution ARN and no placeholders', () => {
    // Act
    const text = renderAssessmentSummary(summaryArgs());

    // Assess
    expect(text).toContain(`Approve: npx kms-deletion-guard approve ${EXECUTION} --step disable`);
    expect(text).toContain(`Reject:  npx kms-deletion-guard reject ${EXECUTION} --step disable`);
    expect(text).toContain(
      '(run these in a project where the package is installed: npm install kms-deletion-guard)',
    );
    expect(text).toContain(
      "Where it stands: the execution's page in the Step Functions console, or " +
        `aws stepfunctions describe-execution --execution-arn ${EXECUTION}`,
    );
    expect(text).not.toMatch(/<[a-z][a-z -]*>/i);
    expect(text).not.toContain('send-task-success');
  });

  it('mentions an approval page only when one is given', () => {
    // Act
    const without = renderAssessmentSummary(summaryArgs());
    const withUrl = renderAssessmentSummary(summaryArgs({ approvalUrl: 'https://example.com/approve?id=1' }));

    // Assess
    expect(without).not.toContain('https://');
    expect(withUrl).toContain('https://example.com/approve?id=1');
  });

  it('shows the history search range and what it found for UNKNOWN_BEFORE_TRACKING', () => {
    // Prepare
    const usage: UsageAssessment = {
      classification: 'UNKNOWN_BEFORE_TRACKING',
      trackingStartDate: '2025-06-01T00:00:00.000Z',
      keyCreationDate: '2024-01-01T00:00:00.000Z',
      lastUsage: null,
      explanation: 'However, the key may have been used before tracking began.',
      historySearch: {
        searchedFrom: '2024-12-01T00:00:00.000Z',
        searchedTo: '2025-06-01T00:00:00.000Z',
        lastUseFound: { eventName: 'Encrypt', eventTime: '2025-01-15T00:00:00Z', eventID: 'ct-5' },
        publicKeyDownloaded: false,
      },
    };

    // Act
    const text = renderAssessmentSummary(summaryArgs({ usage }));

    // Assess
    expect(text).toContain('2024-12-01T00:00:00.000Z to 2025-06-01T00:00:00.000Z');
    expect(text).toContain('successful Encrypt at 2025-01-15T00:00:00Z (event ID ct-5)');
    expect(text).toContain('none recorded by GetKeyLastUsage');
    expect(text.replace(/\s+/g, ' ')).toContain('may have been used before tracking began');
  });

  it('states plainly when the public key of an asymmetric key was downloaded', () => {
    // Prepare
    const rsaKey = { ...key, keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' };
    const publicKey = {
      downloaded: true,
      downloads: 1,
      searchedFrom: '2024-01-01T00:00:00.000Z',
      searchedTo: '2026-01-01T00:00:00.000Z',
      lastDownload: {
        eventTime: '2025-02-01T00:00:00Z',
        eventID: 'pk-1',
        principal: 'arn:aws:iam::1:role/x',
      },
    };

    // Act
    const downloaded = renderAssessmentSummary(summaryArgs({ key: rsaKey, publicKey }));
    const clean = renderAssessmentSummary(
      summaryArgs({
        key: rsaKey,
        publicKey: { ...publicKey, downloaded: false, downloads: 0, lastDownload: null },
      }),
    );
    const symmetric = renderAssessmentSummary(summaryArgs());

    // Assess
    expect(downloaded).toMatch(/Public key:\s+DOWNLOADED with GetPublicKey \(last at 2025-02-01T00:00:00Z/);
    expect(clean).toMatch(/Public key:\s+no GetPublicKey found from 2024-01-01T00:00:00.000Z/);
    expect(symmetric).not.toContain('Public key:');
  });

  it('strips control characters from outside text but keeps line breaks in the reason', () => {
    // Prepare
    const evilKey = { ...key, description: 'desc\u001b[2J\rhidden' };

    // Act
    const text = renderAssessmentSummary(summaryArgs({ key: evilKey }));

    // Assess
    expect(hasControlCharacter(text, '\n')).toBe(false);
    expect(text).toContain('desc[2Jhidden');
    expect(text).toContain('App retired.\n');
  });

  it('says when nothing was given for the requester and reason', () => {
    // Act
    const text = renderAssessmentSummary(
      summaryArgs({ request: { ...summaryArgs().request, requestedBy: '', reason: '' } }),
    );

    // Assess
    expect(text).toMatch(/Requested by:\s+\(not given\)/);
    expect(text).toMatch(/Reason:\s+\(not given\)/);
  });
});

describe('withSection', () => {
  it('adds a section before the answer section, and at the end of a summary without one', () => {
    // Prepare
    const summary = renderAssessmentSummary(summaryArgs());
    const section = ['WHAT THE KEY PROTECTS', '  Resources encrypted under the key: none found.'];

    // Act
    const withIt = withSection(summary, section);
    const appended = withSection('Refused (X): nothing was changed.\n', section);

    // Assess
    expect(withIt.indexOf('WHAT THE KEY PROTECTS')).toBeGreaterThan(withIt.indexOf('REQUEST'));
    expect(withIt.indexOf('WHAT THE KEY PROTECTS')).toBeLessThan(withIt.indexOf('HOW TO ANSWER'));
    expect(withIt).toContain('none found.\n\nHOW TO ANSWER\n');
    expect(appended).toBe(
      'Refused (X): nothing was changed.\n\nWHAT THE KEY PROTECTS\n  Resources encrypted under the key: none found.\n',
    );
  });
});

describe('assessmentSubject', () => {
  it('names the alias and the start of the key ID', () => {
    // Act
    const subject = assessmentSubject(key);

    // Assess
    expect(subject).toBe('Approve disabling KMS key alias/legacy (1234abcd...)');
  });

  it('uses the key ID when there is no alias', () => {
    // Act
    const subject = assessmentSubject({ ...key, aliases: [] });

    // Assess
    expect(subject).toBe(`Approve disabling KMS key ${key.keyId}`);
  });

  it('stays ASCII and within 99 characters for long or exotic aliases', () => {
    // Act
    const subject = assessmentSubject({ ...key, aliases: [`alias/${'é'.repeat(200)}\n`] });

    // Assess
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.endsWith('(1234abcd...)')).toBe(true);
  });

  it('keeps a subject of 99 characters whole and cuts the alias of one that would have 100', () => {
    // Prepare: "Approve disabling KMS key " (26) + alias + " (1234abcd...)" (14) = 99 or 100.
    const fits = `alias/${'a'.repeat(53)}`;
    const tooLong = `${fits}b`;

    // Act
    const whole = assessmentSubject({ ...key, aliases: [fits] });
    const cut = assessmentSubject({ ...key, aliases: [tooLong] });

    // Assess
    expect(whole).toBe(`Approve disabling KMS key ${fits} (1234abcd...)`);
    expect(whole).toHaveLength(99);
    expect(cut).toHaveLength(99);
    expect(cut).toBe(`Approve disabling KMS key ${fits.slice(0, -3)}... (1234abcd...)`);
  });
});

describe('refusal summary', () => {
  it('names the cause and says nothing was changed', () => {
    // Prepare
    const refusal = { cause: 'RECENTLY_USED' as const, message: 'Key was used 3 days ago.' };

    // Act
    const text = renderRefusalSummary({ executionArn: EXECUTION, refusal, key, request: null });
    const subject = refusalSubject(refusal, key);
    const noKeySubject = refusalSubject({ cause: 'INVALID_INPUT', message: 'x' }, null);

    // Assess
    expect(text).toContain('Refused (RECENTLY_USED): nothing was changed.');
    expect(text).toContain('Key was used 3 days ago.');
    expect(text).toContain(EXECUTION);
    expect(subject).toBe('Refused (RECENTLY_USED): KMS key alias/legacy (1234abcd...)');
    expect(noKeySubject).toContain('INVALID_INPUT');
    expect(noKeySubject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });
});

describe('stripControl', () => {
  it('keeps only the control characters it is told to keep', () => {
    // Act
    const stripped = stripControl('a\tb\nc\u0000d\u0085e', '\n');

    // Assess
    expect(stripped).toBe('ab\ncde');
  });
});
