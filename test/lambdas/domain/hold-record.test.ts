import { KeyChangedExternallyError } from '../../../lambdas/domain/errors.js';
import {
  beforeClaim,
  CLAIM_TTL_MS,
  claimHold,
  type HoldRecord,
  mayTakeOver,
  newHold,
  nextHold,
  planDisableStep,
  planRestoreFromHold,
  planScheduleStep,
  releaseHold,
  tagDisagreements,
  verifyHeldKey,
} from '../../../lambdas/domain/hold-record.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { EXECUTION, heldTags, holdRecord, keyArnIn, OTHER_EXECUTION } from '../fixtures.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const KEY_ARN = keyArnIn('us-east-1');

function ended(hold: HoldRecord, by: 'fast-path' | 'workflow' = 'workflow'): HoldRecord {
  return nextHold(
    hold,
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
        evidence: null,
        notified: true,
        tampering: [],
      },
    },
    NOW,
  );
}

describe('newHold and nextHold', () => {
  it('starts at version 1, disabling, with what the key was', () => {
    // Act
    const hold = newHold({ keyArn: KEY_ARN, executionArn: EXECUTION, wasEnabled: true, now: NOW });

    // Assess
    expect(hold).toMatchObject({
      keyArn: KEY_ARN,
      executionArn: EXECUTION,
      phase: 'disabling',
      version: 1,
      wasEnabled: true,
      disabled: false,
      deletionScheduled: false,
      disabledAt: NOW.toISOString(),
    });
  });

  it('adds one to the version and keeps the fields a later version of the stack wrote', () => {
    // Prepare
    const hold = { ...holdRecord('watching'), cursor: '2026-03-01T00:00:00Z' } as HoldRecord;

    // Act
    const next = nextHold(hold, { phase: 'scheduling' }, NOW);

    // Assess
    expect(next.version).toBe(hold.version + 1);
    expect(next.phase).toBe('scheduling');
    expect(next.cursor).toBe('2026-03-01T00:00:00Z');
  });
});

describe('planDisableStep', () => {
  it('begins a new hold on a key nobody holds, or whose hold ended', () => {
    // Act
    const free = planDisableStep(null, EXECUTION);
    const afterOther = planDisableStep(
      ended(holdRecord('watching', { execution: OTHER_EXECUTION })),
      EXECUTION,
    );

    // Assess
    expect(free).toEqual({ kind: 'begin' });
    expect(afterOther).toEqual({ kind: 'begin' });
  });

  it('refuses a key another execution holds, with nothing changed', () => {
    // Act
    const act = () => planDisableStep(holdRecord('watching', { execution: OTHER_EXECUTION }), EXECUTION);

    // Assess
    expect(act).toThrow(KeyChangedExternallyError);
    expect(act).toThrow(/Another execution .* holds the key/);
  });

  it('resumes its own disabling hold and reports its own finished one (retries)', () => {
    // Prepare
    const disabling = holdRecord('disabling');
    const watching = holdRecord('watching');

    // Act
    const resumed = planDisableStep(disabling, EXECUTION);
    const done = planDisableStep(watching, EXECUTION);

    // Assess
    expect(resumed).toEqual({ kind: 'resume', hold: disabling });
    expect(done).toEqual({ kind: 'done', hold: watching });
  });

  it('never takes again a key whose hold this execution already ended or moved past', () => {
    // Act
    const acts = [ended(holdRecord('watching')), holdRecord('pending-deletion')].map(
      (hold) => () => planDisableStep(hold, EXECUTION),
    );

    // Assess
    for (const act of acts) expect(act).toThrow(KeyChangedExternallyError);
  });
});

describe('planScheduleStep', () => {
  it('schedules a Disabled key this execution watches', () => {
    // Act
    const step = planScheduleStep(holdRecord('watching'), 'Disabled', EXECUTION).step;

    // Assess
    expect(step).toBe('schedule');
  });

  it('refuses when the fast path rolled the key back: the rollback wins', () => {
    // Prepare
    const rolledBack = ended(holdRecord('watching'), 'fast-path');

    // Act
    const act = () => planScheduleStep(rolledBack, 'Enabled', EXECUTION).step;

    // Assess
    expect(act).toThrow(KeyChangedExternallyError);
    expect(act).toThrow(/ended by the fast path .* the deletion is not scheduled/);
  });

  it('refuses a key someone re-enabled, and a key of no hold of this execution (whatever its tags)', () => {
    // Act
    const acts = [
      () => planScheduleStep(holdRecord('watching'), 'Enabled', EXECUTION),
      () => planScheduleStep(null, 'Disabled', EXECUTION),
      () => planScheduleStep(holdRecord('watching', { execution: OTHER_EXECUTION }), 'Disabled', EXECUTION),
    ];

    // Assess
    for (const act of acts) expect(act).toThrow(KeyChangedExternallyError);
  });

  it('reports its own deletion on a retry, whether the record caught up or not', () => {
    // Act
    const claimed = planScheduleStep(holdRecord('scheduling'), 'PendingDeletion', EXECUTION).step;
    const recorded = planScheduleStep(holdRecord('pending-deletion'), 'PendingDeletion', EXECUTION).step;
    const neverSent = planScheduleStep(holdRecord('scheduling'), 'Disabled', EXECUTION).step;

    // Assess
    expect(claimed).toBe('already-scheduled');
    expect(recorded).toBe('already-scheduled');
    expect(neverSent).toBe('schedule');
  });

  it('takes a deletion someone else scheduled under guard instead of scheduling it again', () => {
    // Act
    const step = planScheduleStep(holdRecord('watching'), 'PendingDeletion', EXECUTION).step;

    // Assess
    expect(step).toBe('adopt');
  });
});

describe('verifyHeldKey', () => {
  const mirrored = heldTags('disabled');

  it('accepts a Disabled key this execution watches, its tags mirroring the record', () => {
    // Act
    const held = verifyHeldKey(
      'OBSERVE',
      { keyState: 'Disabled', tags: mirrored },
      holdRecord('watching'),
      EXECUTION,
    );

    // Assess
    expect(held).toEqual({ pendingBySomeoneElse: false });
  });

  it('goes on watching a key whose deletion someone else scheduled, saying so', () => {
    // Act
    const held = verifyHeldKey(
      'OBSERVE',
      { keyState: 'PendingDeletion', tags: mirrored },
      holdRecord('watching'),
      EXECUTION,
    );

    // Assess
    expect(held).toEqual({ pendingBySomeoneElse: true });
  });

  it('stops when the hold tags were stripped, naming the tampering', () => {
    // Act
    const act = () =>
      verifyHeldKey('OBSERVE', { keyState: 'Disabled', tags: {} }, holdRecord('watching'), EXECUTION);

    // Assess
    expect(act).toThrow(KeyChangedExternallyError);
    expect(act).toThrow(
      /disagree with this execution's record: the tag kms-deletion-guard:execution was removed/,
    );
  });

  it('stops when the fast path ended the hold, or the registry has none of this execution', () => {
    // Act
    const acts = [ended(holdRecord('watching'), 'fast-path'), null].map(
      (hold) => () => verifyHeldKey('OBSERVE', { keyState: 'Disabled', tags: mirrored }, hold, EXECUTION),
    );

    // Assess
    for (const act of acts) expect(act).toThrow(KeyChangedExternallyError);
  });

  it('stops when someone re-enabled the key or cancelled the pending deletion', () => {
    // Act
    const reEnabled = () =>
      verifyHeldKey('OBSERVE', { keyState: 'Enabled', tags: mirrored }, holdRecord('watching'), EXECUTION);
    const cancelled = () =>
      verifyHeldKey(
        'PENDING',
        { keyState: 'Disabled', tags: heldTags('pending-deletion') },
        holdRecord('pending-deletion'),
        EXECUTION,
      );

    // Assess
    expect(reEnabled).toThrow(/re-enabled it/);
    expect(cancelled).toThrow(/no longer pending deletion/);
  });
});

describe('tagDisagreements', () => {
  it('finds nothing when the tags mirror the record', () => {
    // Act
    const found = tagDisagreements(heldTags('disabled'), holdRecord('watching'), EXECUTION);

    // Assess
    expect(found).toEqual([]);
  });

  it('names stripped, changed and forged tags', () => {
    // Act
    const stripped = tagDisagreements({}, holdRecord('watching'), EXECUTION);
    const changed = tagDisagreements(
      { ...heldTags('rolled-back'), [TAGS.wasEnabled]: 'false' },
      holdRecord('watching'),
      EXECUTION,
    );
    const forged = tagDisagreements(heldTags('disabled'), null, EXECUTION);

    // Assess
    expect(stripped).toEqual([
      `the tag ${TAGS.execution} was removed`,
      `the tag ${TAGS.status} was removed (the record says disabled)`,
    ]);
    expect(changed).toEqual([
      `the tag ${TAGS.status} says rolled-back, the record disabled`,
      `the tag ${TAGS.wasEnabled} says false, the record true`,
    ]);
    expect(forged).toEqual([
      `the tag ${TAGS.execution} names this execution, which never recorded a hold on the key`,
    ]);
  });

  it('expects the old status on a deletion someone else scheduled (KMS refuses tags on it)', () => {
    // Prepare
    const adopted = holdRecord('pending-deletion', { deletionScheduled: false });

    // Act
    const found = tagDisagreements(heldTags('disabled'), adopted, EXECUTION);

    // Assess
    expect(found).toEqual([]);
  });
});

describe('planRestoreFromHold', () => {
  it('never touches a key this execution holds no record of, whatever its tags say', () => {
    // Act
    const none = planRestoreFromHold('ROLLBACK', 'Disabled', null, EXECUTION);
    const other = planRestoreFromHold(
      'ABORT',
      'Disabled',
      holdRecord('watching', { execution: OTHER_EXECUTION }),
      EXECUTION,
    );

    // Assess
    expect(none.actions).toEqual([]);
    expect(none.status).toBeNull();
    expect(other.actions).toEqual([]);
  });

  it('re-enables a key it disabled while Enabled (ROLLBACK and ABORT), never one that was Disabled', () => {
    // Act
    const rollBack = planRestoreFromHold('ROLLBACK', 'Disabled', holdRecord('watching'), EXECUTION);
    const abort = planRestoreFromHold('ABORT', 'Disabled', holdRecord('watching'), EXECUTION);
    const wasDisabled = planRestoreFromHold(
      'ROLLBACK',
      'Disabled',
      holdRecord('watching', { wasEnabled: false }),
      EXECUTION,
    );

    // Assess
    expect(rollBack).toMatchObject({
      actions: ['EnableKey'],
      status: 'rolled-back',
      expectedKeyState: 'Enabled',
    });
    expect(abort).toMatchObject({ actions: ['EnableKey'], status: 'restored' });
    expect(wasDisabled).toMatchObject({ actions: [], status: 'rolled-back', expectedKeyState: 'Disabled' });
  });

  it('cancels its own deletion, and re-enables too unless the pending window found the use', () => {
    // Act
    const cancel = planRestoreFromHold(
      'CANCEL_DELETION',
      'PendingDeletion',
      holdRecord('pending-deletion'),
      EXECUTION,
    );
    const abort = planRestoreFromHold('ABORT', 'PendingDeletion', holdRecord('pending-deletion'), EXECUTION);

    // Assess
    expect(cancel).toMatchObject({
      actions: ['CancelKeyDeletion'],
      status: 'deletion-cancelled',
      expectedKeyState: 'Disabled',
    });
    expect(abort).toMatchObject({ actions: ['CancelKeyDeletion', 'EnableKey'], status: 'restored' });
  });

  it("cancels someone else's deletion only when callers fail on the key, and leaves the key Disabled", () => {
    // Act
    const withEvidence = planRestoreFromHold(
      'ROLLBACK',
      'PendingDeletion',
      holdRecord('watching'),
      EXECUTION,
    );
    const without = planRestoreFromHold('ABORT', 'PendingDeletion', holdRecord('watching'), EXECUTION);

    // Assess
    expect(withEvidence).toMatchObject({
      actions: ['CancelKeyDeletion'],
      status: 'deletion-cancelled',
      expectedKeyState: 'Disabled',
      cancelsOthersDeletion: true,
    });
    expect(without).toMatchObject({ actions: [], status: 'aborted', cancelsOthersDeletion: false });
  });

  it('does nothing the second time: the first run ended the hold', () => {
    // Act
    const plan = planRestoreFromHold('ROLLBACK', 'Enabled', ended(holdRecord('watching')), EXECUTION);

    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.reason).toMatch(/already ended by the workflow/);
  });
});

describe('the claim', () => {
  it('remembers the phase it came from, for a retry and for a release', () => {
    // Prepare
    const watching = holdRecord('watching');

    // Act
    const claimed = claimHold(watching, 'fast-path', 'ev-1', NOW);
    const released = releaseHold(claimed, NOW);

    // Assess
    expect(claimed).toMatchObject({
      phase: 'restoring',
      claim: { actor: 'fast-path', nonce: 'ev-1', from: 'watching' },
    });
    expect(beforeClaim(claimed).phase).toBe('watching');
    expect(released).toMatchObject({ phase: 'watching', claim: null, version: watching.version + 2 });
  });

  it("is another actor's while it is live, anyone's once stale, and always its own", () => {
    // Prepare
    const claimed = claimHold(holdRecord('watching'), 'fast-path', 'ev-1', NOW);
    const soon = new Date(NOW.getTime() + CLAIM_TTL_MS - 1);
    const late = new Date(NOW.getTime() + CLAIM_TTL_MS);

    // Act
    const live = mayTakeOver(claimed, 'workflow', EXECUTION, soon);
    const stale = mayTakeOver(claimed, 'workflow', EXECUTION, late);
    const own = mayTakeOver(claimed, 'fast-path', 'ev-1', soon);

    // Assess
    expect(live).toBe(false);
    expect(stale).toBe(true);
    expect(own).toBe(true);
  });
});
