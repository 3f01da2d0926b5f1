import { FAST_PATH_TAGS } from '../../../lambdas/contracts/tags.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import {
  CLAIM_TTL_MS,
  candidateKeyArns,
  claimStanding,
  claimValue,
  decideFastPath,
  evidenceFromTags,
  evidenceTags,
  fastPathEndTags,
  fastPathOutcome,
  fastPathWatch,
  parseClaim,
} from '../../../lambdas/domain/fast-path.js';
import type { Evidence, WatchState } from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { disabledDecryptRecord, heldTags } from '../fixtures.js';

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

function held(status: string, wasEnabled = true): Record<string, string> {
  return heldTags(status, { wasEnabled, execution: EXECUTION });
}

function decide(record: CloudTrailRecord, keyState: string, tags: Record<string, string>) {
  return decideFastPath({
    record,
    key: KEY,
    current: { keyState, tags },
    workflowPrincipalArns: [WORKFLOW_ROLE],
  });
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
    const decision = decide(failure(), 'Disabled', held('disabled'));

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
    // Prepare
    const record = failure({
      errorCode: 'KMSInvalidStateException',
      errorMessage: `${KEY_ARN} is pending deletion.`,
    });

    // Act
    const decision = decide(record, 'PendingDeletion', held('pending-deletion'));

    // Assess
    expect(decision).toMatchObject({
      act: true,
      mode: 'CANCEL_DELETION',
      outcome: 'DELETION_CANCELLED',
      plan: { actions: ['CancelKeyDeletion'], expectedKeyState: 'Disabled' },
    });
  });

  it.each([
    ['a key a person disabled (no hold)', failure(), 'Disabled', { team: 'billing' }, /No execution/],
    ['a hold that ended rolled back', failure(), 'Enabled', held('rolled-back'), /status "rolled-back"/],
    ['a hold that ended restored', failure(), 'Enabled', held('restored'), /status "restored"/],
    ['a hold that ended aborted', failure(), 'Disabled', held('aborted'), /status "aborted"/],
    [
      'a hold whose deletion was cancelled',
      failure(),
      'Disabled',
      held('deletion-cancelled'),
      /deletion-cancelled/,
    ],
    ['a hold still being taken', failure(), 'Disabled', held('disabling'), /disabling/],
    [
      'a key disabled before the workflow held it',
      failure(),
      'Disabled',
      held('disabled', false),
      /nothing to give back/,
    ],
    ['a hold whose key a person re-enabled', failure(), 'Enabled', held('disabled'), /polling check decides/],
    [
      'a record older than the hold',
      failure({ eventTime: '2026-01-31T23:59:59Z' }),
      'Disabled',
      held('disabled'),
      /older than the hold/,
    ],
    [
      'a successful call',
      failure({ errorCode: undefined, errorMessage: undefined }),
      'Disabled',
      held('disabled'),
      /success/,
    ],
    [
      "the workflow's own canary",
      failure({
        eventName: 'Encrypt',
        userIdentity: { arn: 'arn:aws:sts::111122223333:assumed-role/Guard-CheckFunctionRole/session' },
      }),
      'Disabled',
      held('disabled'),
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
      held('disabled'),
      /does not concern/,
    ],
  ])('leaves alone %s', (_name, record, state, tags, reason) => {
    // Act
    const decision = decide(record, state, tags);

    // Assess
    expect(decision.act).toBe(false);
    expect(decision.act ? '' : decision.reason).toMatch(reason);
  });
});

describe('the claim', () => {
  it('reads back what it wrote', () => {
    // Act
    const claim = parseClaim(claimValue('fast-path', 'ev-1', NOW));

    // Assess
    expect(claim).toEqual({ actor: 'fast-path', nonce: 'ev-1', at: NOW });
    expect(parseClaim('someone else')).toBeNull();
    expect(parseClaim(undefined)).toBeNull();
  });

  it("is taken while another actor's claim is live, free when it is stale or one's own", () => {
    // Prepare
    const live = { [FAST_PATH_TAGS.claim]: claimValue('fast-path', 'ev-1', new Date(NOW.getTime() - 1000)) };
    const stale = {
      [FAST_PATH_TAGS.claim]: claimValue('fast-path', 'ev-1', new Date(NOW.getTime() - CLAIM_TTL_MS - 1)),
    };

    // Assess
    expect(claimStanding(live, 'workflow', 'restore', NOW)).toBe('taken');
    expect(claimStanding(live, 'fast-path', 'ev-2', NOW)).toBe('taken');
    expect(claimStanding(live, 'fast-path', 'ev-1', NOW)).toBe('free');
    expect(claimStanding(stale, 'workflow', 'restore', NOW)).toBe('free');
    expect(claimStanding({}, 'workflow', 'restore', NOW)).toBe('free');
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

  it('fits valid KMS tag values and reads back with the caller', () => {
    // Act
    const tags = evidenceTags(evidence);
    const back = evidenceFromTags(tags);

    // Assess
    for (const value of Object.values(tags)) {
      expect(value).toMatch(/^[A-Za-z0-9 _.:/=+\-@]{1,256}$/);
    }
    expect(tags[TAGS.evidence]).toBe('1 record first ev-1 at 2026-02-12T06:00:00Z');
    expect(back).toMatchObject({ ...evidence, userAgent: 'aws-sdk-java/2.20.0__linux__x86_' });
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

describe('fastPathOutcome', () => {
  const claim = claimValue('fast-path', 'ev-1', NOW);
  const ended = (status: string, extra: Record<string, string> = {}) => ({
    keyState: 'Enabled',
    tags: {
      ...held('disabled'),
      ...fastPathEndTags(
        EXECUTION,
        status === 'rolled-back' ? 'ROLLED_BACK' : 'DELETION_CANCELLED',
        {
          eventID: 'ev-1',
          eventTime: '2026-02-12T06:00:00Z',
          eventName: 'Decrypt',
          errorCode: 'DisabledException',
          principal: APP,
          sourceIPAddress: '10.1.2.3',
          userAgent: 'sdk',
        },
        claim,
      ),
      ...extra,
    },
  });

  it('tells the workflow the fast path rolled back its key and sent the e-mail', () => {
    // Act
    const outcome = fastPathOutcome(ended('rolled-back', { [FAST_PATH_TAGS.notified]: claim }), EXECUTION);

    // Assess
    expect(outcome).toEqual({
      outcome: 'ROLLED_BACK',
      notified: true,
      actedAt: NOW.toISOString(),
      evidence: expect.objectContaining({ eventID: 'ev-1', principal: APP }),
    });
  });

  it('owes the e-mail when the notified tag belongs to an earlier claim', () => {
    // Act
    const outcome = fastPathOutcome(
      ended('deletion-cancelled', { [FAST_PATH_TAGS.notified]: 'fast-path ev-0 2026-01-01T00:00:00.000Z' }),
      EXECUTION,
    );

    // Assess
    expect(outcome).toMatchObject({ outcome: 'DELETION_CANCELLED', notified: false });
  });

  it('is null for another execution, an active hold, or a hold the workflow ended itself', () => {
    expect(fastPathOutcome(ended('rolled-back'), `${EXECUTION}-other`)).toBeNull();
    expect(fastPathOutcome({ keyState: 'Disabled', tags: held('disabled') }, EXECUTION)).toBeNull();
    const byWorkflow = ended('rolled-back', {
      [FAST_PATH_TAGS.claim]: claimValue('workflow', 'restore', NOW),
    });
    expect(fastPathOutcome(byWorkflow, EXECUTION)).toBeNull();
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
