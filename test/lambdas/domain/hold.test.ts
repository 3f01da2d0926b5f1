import { InvalidHandlerEventError, KeyChangedExternallyError } from '../../../lambdas/domain/errors.js';
import {
  checkReadyToSchedule,
  checkStillAsAssessed,
  evidenceTagValue,
  holdTags,
  isHeldBy,
  parseDisableEvent,
  parseRestoreEvent,
  planDisable,
  planRestore,
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
    const act = () => checkStillAsAssessed(assessment(), current, EXECUTION);

    // Assess
    expect(act).not.toThrow();
  });

  it('throws KeyChangedExternallyError when someone disabled the key after the assessment', () => {
    // Prepare
    const current = { keyState: 'Disabled', tags: {} };

    // Act
    const act = () => checkStillAsAssessed(assessment(), current, EXECUTION);

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
      checkStillAsAssessed(assessment(), current, EXECUTION);
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
    const act = () => checkStillAsAssessed(assessment(), current, EXECUTION);

    // Assess
    expect(act).toThrow(/Another execution/);
  });

  it('accepts the ended hold of an earlier execution that the assessment already saw', () => {
    // Prepare
    const oldHold = { [TAGS.execution]: OTHER_EXECUTION, [TAGS.status]: 'restored' };
    const current = { keyState: 'Enabled', tags: oldHold };

    // Act
    const act = () =>
      checkStillAsAssessed(assessment({ key: keyFacts({ tags: oldHold }) }), current, EXECUTION);

    // Assess
    expect(act).not.toThrow();
  });

  it('accepts its own tags on a retry, whether the key is already Disabled or not yet', () => {
    // Prepare
    const disabled = { keyState: 'Disabled', tags: ours('disabled') };
    const crashedBetween = { keyState: 'Enabled', tags: ours('disabling') };

    // Act
    const acts = [disabled, crashedBetween].map(
      (current) => () => checkStillAsAssessed(assessment(), current, EXECUTION),
    );

    // Assess
    for (const act of acts) {
      expect(act).not.toThrow();
    }
  });

  it('throws when someone re-enabled a key this execution had already disabled', () => {
    // Prepare
    const current = { keyState: 'Enabled', tags: ours('disabled') };

    // Act
    const act = () => checkStillAsAssessed(assessment(), current, EXECUTION);

    // Assess
    expect(act).toThrow(KeyChangedExternallyError);
  });
});

describe('planDisable', () => {
  it('records an Enabled key as was-enabled at now', () => {
    // Act
    const start = planDisable({ keyState: 'Enabled', tags: {} }, EXECUTION, NOW);

    // Assess
    expect(start).toEqual({ resumed: false, wasEnabled: true, disabledAt: NOW.toISOString() });
  });

  it('keeps the first attempt’s was-enabled on a retry that finds the key Disabled by us', () => {
    // Act
    const start = planDisable({ keyState: 'Disabled', tags: ours('disabling') }, EXECUTION, NOW);

    // Assess
    expect(start).toEqual({ resumed: true, wasEnabled: true, disabledAt: '2026-01-01T00:00:00.000Z' });
  });

  it('starts afresh when the first attempt crashed before DisableKey', () => {
    // Act
    const start = planDisable({ keyState: 'Enabled', tags: ours('disabling') }, EXECUTION, NOW);

    // Assess
    expect(start).toEqual({ resumed: false, wasEnabled: true, disabledAt: NOW.toISOString() });
  });
});

describe('checkReadyToSchedule', () => {
  it('accepts a Disabled key this execution holds', () => {
    // Act
    const result = checkReadyToSchedule({ keyState: 'Disabled', tags: ours('disabled') }, EXECUTION);

    // Assess
    expect(result).toEqual({ alreadyScheduled: false });
  });

  it('reports a deletion this execution already scheduled (retry after a crash)', () => {
    // Act
    const result = checkReadyToSchedule(
      { keyState: 'PendingDeletion', tags: ours('pending-deletion') },
      EXECUTION,
    );

    // Assess
    expect(result).toEqual({ alreadyScheduled: true });
  });

  it('schedules again when the tag was written but the call never happened', () => {
    // Act
    const result = checkReadyToSchedule({ keyState: 'Disabled', tags: ours('pending-deletion') }, EXECUTION);

    // Assess
    expect(result).toEqual({ alreadyScheduled: false });
  });

  it.each([
    ['a person re-enabled it', { keyState: 'Enabled', tags: ours('disabled') }],
    ['a person scheduled its deletion', { keyState: 'PendingDeletion', tags: ours('disabled') }],
    ['another execution holds it', { keyState: 'Disabled', tags: { [TAGS.execution]: OTHER_EXECUTION } }],
    ['our tags were removed', { keyState: 'Disabled', tags: {} }],
  ])('throws KeyChangedExternallyError when %s', (_label, current) => {
    // Act
    const act = () => checkReadyToSchedule(current, EXECUTION);

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

describe('planRestore', () => {
  it('never touches a key this execution does not hold', () => {
    // Prepare
    const personDisabled = { keyState: 'Disabled', tags: {} };
    const otherExecution = {
      keyState: 'Disabled',
      tags: { ...ours('disabled'), [TAGS.execution]: OTHER_EXECUTION },
    };

    // Act
    const plans = (['ROLLBACK', 'CANCEL_DELETION', 'ABORT'] as const).flatMap((mode) => [
      planRestore(mode, personDisabled, EXECUTION),
      planRestore(mode, otherExecution, EXECUTION),
    ]);

    // Assess
    for (const plan of plans) {
      expect(plan.actions).toEqual([]);
      expect(plan.status).toBeNull();
    }
    expect(plans[1]?.reason).toContain(OTHER_EXECUTION);
  });

  it('ROLLBACK re-enables a key it disabled that was Enabled before', () => {
    // Act
    const plan = planRestore('ROLLBACK', { keyState: 'Disabled', tags: ours('disabled') }, EXECUTION);

    // Assess
    expect(plan.actions).toEqual(['EnableKey']);
    expect(plan.status).toBe('rolled-back');
    expect(plan.expectedKeyState).toBe('Enabled');
  });

  it('ROLLBACK leaves Disabled a key that was already Disabled before the execution', () => {
    // Act
    const plan = planRestore('ROLLBACK', { keyState: 'Disabled', tags: ours('disabled', false) }, EXECUTION);

    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.status).toBe('rolled-back');
    expect(plan.reason).toMatch(/already Disabled before/);
  });

  it('CANCEL_DELETION cancels the deletion it scheduled and leaves the key Disabled', () => {
    // Act
    const plan = planRestore(
      'CANCEL_DELETION',
      { keyState: 'PendingDeletion', tags: ours('pending-deletion') },
      EXECUTION,
    );

    // Assess
    expect(plan.actions).toEqual(['CancelKeyDeletion']);
    expect(plan.expectedKeyState).toBe('Disabled');
    expect(plan.status).toBe('deletion-cancelled');
  });

  it('ABORT cancels its own deletion, then re-enables a key that was Enabled', () => {
    // Act
    const plan = planRestore(
      'ABORT',
      { keyState: 'PendingDeletion', tags: ours('pending-deletion') },
      EXECUTION,
    );

    // Assess
    expect(plan.actions).toEqual(['CancelKeyDeletion', 'EnableKey']);
    expect(plan.expectedKeyState).toBe('Enabled');
    expect(plan.status).toBe('restored');
  });

  it('never cancels a deletion a person scheduled while the key was held (status still disabled)', () => {
    // Act
    const plans = (['ROLLBACK', 'CANCEL_DELETION', 'ABORT'] as const).map((mode) =>
      planRestore(mode, { keyState: 'PendingDeletion', tags: ours('disabled') }, EXECUTION),
    );

    // Assess
    for (const plan of plans) {
      expect(plan.actions).toEqual([]);
      expect(plan.status).toBeNull();
      expect(plan.reason).toMatch(/does not cancel a deletion it did not schedule/);
    }
  });

  it('ABORT needs nothing for a key a person re-enabled, or one never disabled after a crash', () => {
    // Act
    const reEnabled = planRestore('ABORT', { keyState: 'Enabled', tags: ours('disabled') }, EXECUTION);
    const neverDisabled = planRestore('ABORT', { keyState: 'Enabled', tags: ours('disabling') }, EXECUTION);

    // Assess
    expect(reEnabled.actions).toEqual([]);
    expect(reEnabled.status).toBe('restored');
    expect(neverDisabled.actions).toEqual([]);
  });

  it('ABORT after a crash between the status tag and ScheduleKeyDeletion only re-enables', () => {
    // Act
    const plan = planRestore('ABORT', { keyState: 'Disabled', tags: ours('pending-deletion') }, EXECUTION);

    // Assess
    expect(plan.actions).toEqual(['EnableKey']);
  });

  it('ABORT leaves Disabled a key that was Disabled before, marking the hold restored', () => {
    // Act
    const plan = planRestore('ABORT', { keyState: 'Disabled', tags: ours('disabled', false) }, EXECUTION);

    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.status).toBe('restored');
  });

  it('does nothing the second time: the first run ended the hold', () => {
    // Prepare
    const first = planRestore(
      'ABORT',
      { keyState: 'PendingDeletion', tags: ours('pending-deletion') },
      EXECUTION,
    );
    const after = {
      keyState: first.expectedKeyState,
      tags: { ...ours('pending-deletion'), ...holdTags(EXECUTION, { status: first.status ?? 'aborted' }) },
    };

    // Act
    const second = planRestore('ABORT', after, EXECUTION);

    // Assess
    expect(first.actions).toHaveLength(2);
    expect(second.actions).toEqual([]);
    expect(second.status).toBeNull();
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
