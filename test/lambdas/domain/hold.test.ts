import { InvalidHandlerEventError, KeyChangedExternallyError } from '../../../lambdas/domain/errors.js';
import {
  checkStillAsAssessed,
  evidenceTagValue,
  holdTags,
  isHeldBy,
  parseDisableEvent,
  parseRestoreEvent,
  sanitizeTagValue,
} from '../../../lambdas/domain/hold.js';
import type { Evidence } from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { assessment, EXECUTION, heldTags, keyFacts, OTHER_EXECUTION } from '../fixtures.js';

const NOW = new Date('2026-02-01T00:00:00.000Z');

function ours(status: string, wasEnabled = true, extra: Record<string, string> = {}): Record<string, string> {
  return { ...heldTags(status, { wasEnabled, disabledAt: '2026-01-01T00:00:00.000Z' }), ...extra };
}

describe('sanitizeTagValue', () => {
  it('keeps an execution ARN and an ISO time as they are', () => {
    // Act
    const arn = sanitizeTagValue(EXECUTION);
    const time = sanitizeTagValue('2026-01-01T00:00:00.000Z');

    // Assess
    expect(arn).toBe(EXECUTION);
    expect(time).toBe('2026-01-01T00:00:00.000Z');
  });

  it('replaces characters KMS refuses in tag values and cuts to 256 characters', () => {
    // Act
    const value = sanitizeTagValue(`a;b,c"d\né${'x'.repeat(300)}`);

    // Assess
    expect(value.startsWith('a_b_c_d__x')).toBe(true);
    expect(value).toHaveLength(256);
    expect(value).toMatch(/^[A-Za-z0-9 _.:/=+\-@]*$/);
  });
});

describe('checkStillAsAssessed', () => {
  it('accepts a key unchanged since the assessment', () => {
    // Prepare
    const current = { keyState: 'Enabled', tags: {} };

    // Act
    const act = () => checkStillAsAssessed(assessment(), current);

    // Assess
    expect(act).not.toThrow();
  });

  it('throws KeyChangedExternallyError when someone disabled the key after the assessment', () => {
    // Prepare
    const current = { keyState: 'Disabled', tags: {} };

    // Act
    const act = () => checkStillAsAssessed(assessment(), current);

    // Assess
    expect(act).toThrow(KeyChangedExternallyError);
    expect(act).toThrow(/was Enabled at assessment .* is Disabled now/);
  });

  it('names the error exactly KeyChangedExternallyError, which the workflow catches by name', () => {
    // Prepare
    const current = { keyState: 'PendingDeletion', tags: {} };

    // Act
    let caught: unknown;
    try {
      checkStillAsAssessed(assessment(), current);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect((caught as Error).name).toBe('KeyChangedExternallyError');
  });

  it('throws when another execution tagged the key after the assessment', () => {
    // Prepare
    const current = {
      keyState: 'Enabled',
      tags: { [TAGS.execution]: OTHER_EXECUTION, [TAGS.status]: 'disabling' },
    };

    // Act
    const act = () => checkStillAsAssessed(assessment(), current);

    // Assess
    expect(act).toThrow(/name an execution holding it .* that the hold registry does not record/);
  });

  it('accepts the ended hold of an earlier execution that the assessment already saw', () => {
    // Prepare
    const oldHold = { [TAGS.execution]: OTHER_EXECUTION, [TAGS.status]: 'restored' };
    const current = { keyState: 'Enabled', tags: oldHold };

    // Act
    const act = () => checkStillAsAssessed(assessment({ key: keyFacts({ tags: oldHold }) }), current);

    // Assess
    expect(act).not.toThrow();
  });

  it('refuses tags that name this very execution: a retry is told by the hold registry, never by tags', () => {
    // Prepare: a reused execution name, or tags copied onto the key before this execution disabled it.
    const current = { keyState: 'Enabled', tags: ours('disabled') };

    // Act
    const act = () => checkStillAsAssessed(assessment(), current);

    // Assess
    expect(act).toThrow(KeyChangedExternallyError);
  });
});

describe('holdTags', () => {
  it('writes holder, status, was-enabled and disabled-at when disabling', () => {
    // Act
    const tags = holdTags(EXECUTION, {
      status: 'disabling',
      disabledAt: NOW.toISOString(),
      wasEnabled: false,
    });

    // Assess
    expect(tags).toEqual({
      [TAGS.execution]: EXECUTION,
      [TAGS.status]: 'disabling',
      [TAGS.disabledAt]: NOW.toISOString(),
      [TAGS.wasEnabled]: 'false',
    });
  });

  it('records on the key what its deletion makes unreadable on purpose, cut to one tag value', () => {
    // Prepare
    const arns = Array.from({ length: 20 }, (_, i) => `arn:aws:ec2:us-east-1::snapshot/snap-0000000${i}`);

    // Act
    const one = holdTags(EXECUTION, {
      status: 'pending-deletion',
      deletionScheduledAt: NOW.toISOString(),
      dataLossAccepted: ['arn:aws:s3:::yearly-archive'],
    });
    const many = holdTags(EXECUTION, {
      status: 'pending-deletion',
      deletionScheduledAt: NOW.toISOString(),
      dataLossAccepted: arns,
    });
    const none = holdTags(EXECUTION, { status: 'pending-deletion', deletionScheduledAt: NOW.toISOString() });

    // Assess
    expect(one[TAGS.dataLossAccepted]).toBe('1 resource: arn:aws:s3:::yearly-archive');
    expect(many[TAGS.dataLossAccepted]).toMatch(
      /^20 resources: arn:aws:ec2:us-east-1::snapshot\/snap-00000000 /,
    );
    expect(many[TAGS.dataLossAccepted]?.length).toBe(256);
    expect(none).not.toHaveProperty(TAGS.dataLossAccepted);
  });

  it('records who approved each step, and when, with characters tags cannot hold removed', () => {
    // Prepare
    const approval = { decision: 'approve' as const, by: 'Jane <jane@example.com>', at: NOW.toISOString() };

    // Act
    const disabling = holdTags(EXECUTION, {
      status: 'disabling',
      disabledAt: NOW.toISOString(),
      wasEnabled: true,
      approval,
    });
    const pending = holdTags(EXECUTION, {
      status: 'pending-deletion',
      deletionScheduledAt: NOW.toISOString(),
      approval,
    });

    // Assess: a decision recorded without an identity is a typed name, and the tag says so.
    expect(disabling[TAGS.disableApprovedBy]).toBe(
      `self-declared Jane _jane@example.com_ at ${NOW.toISOString()}`,
    );
    expect(pending[TAGS.deletionApprovedBy]).toBe(
      `self-declared Jane _jane@example.com_ at ${NOW.toISOString()}`,
    );
    expect(disabling[TAGS.deletionApprovedBy]).toBeUndefined();
  });

  it('says in the tag how the approver is known: self-declared from an address, or an IAM identity', () => {
    // Prepare
    const page = {
      decision: 'approve' as const,
      by: 'alice',
      at: NOW.toISOString(),
      identity: { kind: 'self-declared' as const },
      via: 'approval-page' as const,
      sourceIp: '198.51.100.7',
      userAgent: 'Mozilla/5.0',
    };
    const cli = {
      decision: 'approve' as const,
      by: 'arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice',
      at: NOW.toISOString(),
      identity: {
        kind: 'iam' as const,
        arn: 'arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice',
        userId: 'AROAEXAMPLE:alice',
        account: '111122223333',
      },
      via: 'cli' as const,
    };
    const long = { ...page, by: 'x'.repeat(300) };

    // Act
    const tag = (approval: typeof page | typeof cli) =>
      holdTags(EXECUTION, { status: 'disabling', disabledAt: NOW.toISOString(), wasEnabled: true, approval })[
        TAGS.disableApprovedBy
      ];

    // Assess
    expect(tag(page)).toBe(`self-declared alice at ${NOW.toISOString()} from 198.51.100.7`);
    expect(tag(cli)).toBe(
      `IAM arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice at ${NOW.toISOString()}`,
    );
    // A long name is shortened, not the time and the source after it; the value fits KMS's 256.
    expect(tag(long)).toMatch(new RegExp(`^self-declared x+_ at ${NOW.toISOString()} from 198.51.100.7$`));
    expect(tag(long)?.length).toBeLessThanOrEqual(256);
  });

  it('writes the deletion time when scheduling and a sanitized evidence tag on rollback', () => {
    // Act
    const pending = holdTags(EXECUTION, {
      status: 'pending-deletion',
      deletionScheduledAt: NOW.toISOString(),
    });
    const rolledBack = holdTags(EXECUTION, { status: 'rolled-back', evidence: '2 records; first "x"' });

    // Assess
    expect(pending[TAGS.deletionScheduledAt]).toBe(NOW.toISOString());
    expect(pending[TAGS.status]).toBe('pending-deletion');
    expect(rolledBack[TAGS.evidence]).toBe('2 records_ first _x_');
    expect(rolledBack[TAGS.execution]).toBe(EXECUTION);
  });

  it('matches its own sanitized execution tag', () => {
    // Prepare
    const odd = 'arn:aws:states:us-east-1:111122223333:execution:M:name#with,odd';
    const tags = holdTags(odd, { status: 'disabled' });

    // Act
    const held = isHeldBy(tags, odd);

    // Assess
    expect(held).toBe(true);
  });
});

describe('evidenceTagValue', () => {
  const record = (eventID: string, eventTime: string): Evidence => ({
    eventID,
    eventTime,
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: 'arn:aws:iam::111122223333:role/app',
    sourceIPAddress: '10.0.0.1',
    userAgent: 'aws-sdk-java',
  });

  it('gives the count, the earliest event ID and its time', () => {
    // Act
    const value = evidenceTagValue(
      [record('b-2', '2026-01-12T06:00:00Z'), record('a-1', '2026-01-12T00:00:00Z')],
      7,
    );

    // Assess
    expect(value).toBe('7 records first a-1 at 2026-01-12T00:00:00Z');
  });

  it('gives nothing without evidence', () => {
    // Act
    const value = evidenceTagValue([], 0);

    // Assess
    expect(value).toBeUndefined();
  });
});

describe('event parsing', () => {
  it('refuses a DisableKey event whose assessment was refused', () => {
    // Prepare
    const event = { executionArn: EXECUTION, assessment: { ...assessment(), verdict: 'REFUSED' } };

    // Act
    const act = () => parseDisableEvent(event);

    // Assess
    expect(act).toThrow(InvalidHandlerEventError);
    expect(act).toThrow(/assessment.verdict/);
  });

  it('accepts a restore event with no key, no watch and no error', () => {
    // Prepare
    const event = {
      executionArn: EXECUTION,
      mode: 'ABORT',
      outcome: 'ABORTED',
      assessment: { ...assessment(), key: null },
      watch: null,
      error: null,
    };

    // Act
    const parsed = parseRestoreEvent(event);

    // Assess
    expect(parsed.assessment.key).toBeNull();
  });
});
