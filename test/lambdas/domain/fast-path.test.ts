import { FAST_PATH_TAGS } from '../../../lambdas/contracts/tags.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import {
  candidateKeyArns,
  decideFastPath,
  evidenceTags,
  fastPathTakeover,
  fastPathWatch,
} from '../../../lambdas/domain/fast-path.js';
import { claimHold, type HoldRecord, nextHold } from '../../../lambdas/domain/hold-record.js';
import type { Evidence, WatchState } from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { disabledDecryptRecord, holdRecord } from '../fixtures.js';

const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:Guard:run-1';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const OTHER_ARN = 'arn:aws:kms:us-east-1:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab';
const KEY = { keyId: KEY_ID, keyArn: KEY_ARN, aliases: [] };
const APP = 'arn:aws:iam::111122223333:role/billing-app';
const WORKFLOW_ROLE = 'arn:aws:iam::111122223333:role/Guard-CheckFunctionRole';
const NOW = new Date('2026-02-12T06:02:00.000Z');

function failure(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return disabledDecryptRecord({ userAgent: 'aws-sdk-java/2.20.0 (linux)', ...overrides });
}

function pendingFailure(): CloudTrailRecord {
  return failure({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` });
}

function hold(phase: HoldRecord['phase'], options: Parameters<typeof holdRecord>[1] = {}): HoldRecord {
  return holdRecord(phase, { execution: EXECUTION, keyArn: KEY_ARN, ...options });
}

function decide(record: CloudTrailRecord, keyState: string, held: HoldRecord | null) {
  return decideFastPath({ record, key: KEY, keyState, hold: held, workflowPrincipalArns: [WORKFLOW_ROLE] });
}

describe('candidateKeyArns', () => {
  it('names the keys of resources, the error message and full ARNs in the request, never a bare alias', () => {
    // Prepare
    const record = failure({
      resources: [{ ARN: KEY_ARN }],
      errorMessage: `${OTHER_ARN} is disabled.`,
      requestParameters: { keyId: 'alias/billing', destinationKeyId: KEY_ARN },
    });

    // Act
    const arns = candidateKeyArns(record);

    // Assess
    expect(arns.sort()).toEqual([KEY_ARN, OTHER_ARN].sort());
  });

  it('names nothing for a record without a key ARN', () => {
    expect(
      candidateKeyArns(failure({ resources: [], errorMessage: 'x', requestParameters: { keyId: KEY_ID } })),
    ).toEqual([]);
  });
});

describe('decideFastPath', () => {
  it('re-enables a key this workflow disabled when a caller failed on it', () => {
    // Act
    const decision = decide(failure(), 'Disabled', hold('watching'));

    // Assess
    expect(decision).toMatchObject({
      act: true,
      mode: 'ROLLBACK',
      outcome: 'ROLLED_BACK',
      executionArn: EXECUTION,
      evidence: { eventID: 'ev-1', principal: APP, errorCode: 'DisabledException' },
      plan: { actions: ['EnableKey'], status: 'rolled-back', expectedKeyState: 'Enabled' },
    });
  });

  it('cancels the deletion it scheduled on a pending-window failure, leaving the key Disabled', () => {
    // Act
    const decision = decide(pendingFailure(), 'PendingDeletion', hold('pending-deletion'));

    // Assess
    expect(decision).toMatchObject({
      act: true,
      mode: 'CANCEL_DELETION',
      outcome: 'DELETION_CANCELLED',
      plan: { actions: ['CancelKeyDeletion'], expectedKeyState: 'Disabled' },
    });
  });

  it('cancels and re-enables when the failure on the disabled key came before the deletion was scheduled', () => {
    // Act
    const decision = decide(
      failure(),
      'PendingDeletion',
      hold('pending-deletion', { scheduledAt: '2026-02-12T06:01:00.000Z' }),
    );

    // Assess
    expect(decision).toMatchObject({
      act: true,
      mode: 'ROLLBACK',
      outcome: 'ROLLED_BACK',
      plan: { actions: ['CancelKeyDeletion', 'EnableKey'], expectedKeyState: 'Enabled' },
    });
  });

  it('cancels a deletion someone else scheduled on a key it holds, and leaves the key Disabled', () => {
    // Act
    const watched = decide(pendingFailure(), 'PendingDeletion', hold('watching'));
    const adopted = decide(
      pendingFailure(),
      'PendingDeletion',
      hold('pending-deletion', { deletionScheduled: false }),
    );

    // Assess
    for (const decision of [watched, adopted]) {
      expect(decision).toMatchObject({
        act: true,
        outcome: 'DELETION_CANCELLED',
        plan: { actions: ['CancelKeyDeletion'], expectedKeyState: 'Disabled', cancelsOthersDeletion: true },
      });
    }
  });

  it('comes back later while ScheduleDeletion holds its claim', () => {
    // Act
    const decision = decide(failure(), 'Disabled', hold('scheduling'));

    // Assess
    expect(decision).toMatchObject({ act: false, busy: true });
  });

  it.each([
    [
      'a key no execution holds (a person disabled it, whatever its tags)',
      failure(),
      'Disabled',
      null,
      /records no hold/,
    ],
    [
      'a hold that ended',
      failure(),
      'Enabled',
      nextHold(hold('watching'), { phase: 'ended' }, NOW),
      /phase ended/,
    ],
    [
      'a hold being given back',
      failure(),
      'Disabled',
      claimHold(hold('watching'), 'workflow', EXECUTION, NOW),
      /phase restoring/,
    ],
    ['a hold still being taken', failure(), 'Disabled', hold('disabling'), /phase disabling/],
    [
      'a key disabled before the workflow held it',
      failure(),
      'Disabled',
      hold('watching', { wasEnabled: false }),
      /already Disabled before/,
    ],
    ['a hold whose key a person re-enabled', failure(), 'Enabled', hold('watching'), /polling check decides/],
    [
      'a pending hold whose deletion a person cancelled',
      pendingFailure(),
      'Disabled',
      hold('pending-deletion'),
      /polling check decides/,
    ],
    [
      'a record older than the hold',
      failure({ eventTime: '2026-01-31T23:59:59Z' }),
      'Disabled',
      hold('watching'),
      /older than the hold/,
    ],
    [
      'a successful call',
      failure({ errorCode: undefined, errorMessage: undefined }),
      'Disabled',
      hold('watching'),
      /success/,
    ],
    [
      "the workflow's own canary",
      failure({
        eventName: 'Encrypt',
        userIdentity: { arn: 'arn:aws:sts::111122223333:assumed-role/Guard-CheckFunctionRole/session' },
      }),
      'Disabled',
      hold('watching'),
      /canary/,
    ],
    [
      'a record on another key whose ARN starts like ours',
      failure({
        resources: [{ ARN: `${KEY_ARN}0` }],
        errorMessage: `${KEY_ARN}0 is disabled.`,
        requestParameters: { keyId: 'alias/billing-v2' },
      }),
      'Disabled',
      hold('watching'),
      /does not concern/,
    ],
  ])('leaves alone %s', (_name, record, state, held, reason) => {
    // Act
    const decision = decide(record, state, held);

    // Assess
    expect(decision.act).toBe(false);
    expect(decision.act ? '' : decision.reason).toMatch(reason);
  });
});

describe('evidence on the key', () => {
  const evidence: Evidence = {
    eventID: 'ev-1',
    eventTime: '2026-02-12T06:00:00Z',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: APP,
    sourceIPAddress: '10.1.2.3',
    userAgent: 'aws-sdk-java/2.20.0 (linux; x86)',
  };

  it('fits valid KMS tag values and names the caller and the call', () => {
    // Act
    const tags = evidenceTags(evidence);

    // Assess
    for (const value of Object.values(tags)) {
      expect(value).toMatch(/^[A-Za-z0-9 _.:/=+\-@]{1,256}$/);
    }
    expect(tags[TAGS.evidence]).toBe('1 record first ev-1 at 2026-02-12T06:00:00Z');
    expect(tags[FAST_PATH_TAGS.caller]).toBe(APP);
    expect(tags[FAST_PATH_TAGS.call]).toBe(
      '2026-02-12T06:00:00Z Decrypt DisabledException 10.1.2.3 ev-1 aws-sdk-java/2.20.0__linux__x86_',
    );
  });

  it('stays within 256 characters for a very long caller and user agent', () => {
    // Act
    const tags = evidenceTags({
      ...evidence,
      principal: `${APP}/${'x'.repeat(400)}`,
      userAgent: 'y'.repeat(400),
    });

    // Assess
    for (const value of Object.values(tags)) {
      expect(value.length).toBeLessThanOrEqual(256);
    }
  });
});

describe('fastPathTakeover', () => {
  const evidence: Evidence = {
    eventID: 'ev-1',
    eventTime: '2026-02-12T06:00:00Z',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: APP,
    sourceIPAddress: '10.1.2.3',
    userAgent: 'sdk',
  };
  const ended = (by: 'fast-path' | 'workflow', notified: boolean): HoldRecord =>
    nextHold(
      claimHold(hold('watching'), by, 'ev-1', NOW),
      {
        phase: 'ended',
        end: {
          by,
          status: 'rolled-back',
          at: NOW.toISOString(),
          reason: 'Re-enabled the key this execution disabled.',
          actions: ['EnableKey'],
          finalKeyState: 'Enabled',
          evidenceEventIds: ['ev-1'],
          evidence,
          notified,
          tampering: [],
        },
      },
      NOW,
    );

  it('tells the workflow the fast path rolled back its key, with its record and whether it e-mailed', () => {
    // Act
    const sent = fastPathTakeover(ended('fast-path', true), EXECUTION);
    const owed = fastPathTakeover(ended('fast-path', false), EXECUTION);

    // Assess
    expect(sent).toEqual({ outcome: 'ROLLED_BACK', notified: true, actedAt: NOW.toISOString(), evidence });
    expect(owed).toMatchObject({ notified: false });
  });

  it('is null for another execution, an active hold, or a hold the workflow ended itself', () => {
    expect(fastPathTakeover(ended('fast-path', true), `${EXECUTION}-other`)).toBeNull();
    expect(fastPathTakeover(hold('watching'), EXECUTION)).toBeNull();
    expect(fastPathTakeover(ended('workflow', true), EXECUTION)).toBeNull();
    expect(fastPathTakeover(null, EXECUTION)).toBeNull();
  });
});

describe('fastPathWatch', () => {
  const record: Evidence = {
    eventID: 'ev-1',
    eventTime: '2026-02-12T06:00:00Z',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: APP,
    sourceIPAddress: '10.1.2.3',
    userAgent: 'sdk',
  };

  it('adds the fast path record to what the polling watch found, once', () => {
    // Prepare
    const previous = fastPathWatch(null, null, NOW);
    const withRecord: WatchState = { ...previous, evidence: [record], evidenceCount: 1 };

    // Act
    const fresh = fastPathWatch(null, record, NOW);
    const again = fastPathWatch(withRecord, record, NOW);

    // Assess
    expect(fresh).toMatchObject({ broke: true, evidence: [record], evidenceCount: 1 });
    expect(again).toMatchObject({ broke: true, evidence: [record], evidenceCount: 1 });
  });
});
