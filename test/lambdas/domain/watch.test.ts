import { WatchScheduleError } from '../../../lambdas/domain/errors.js';
import type { WatchPlan, WatchState } from '../../../lambdas/domain/types.js';
import {
  advanceWatch,
  CHECK_ANSWER_MS,
  type CheckFindings,
  isDecisionCheck,
  LAST_PENDING_CHECK_LEAD_MS,
  lastPendingCheckAt,
  MAX_EVIDENCE_IN_STATE,
  PENDING_CANCEL_MS,
  pendingWatchDeadline,
  pendingWatchTimeoutSeconds,
  scheduleNext,
  startWatch,
} from '../../../lambdas/domain/watch.js';

const PLAN: WatchPlan = {
  logGroupName: 'cloudtrail',
  observationDays: 30,
  pendingWindowInDays: 30,
  checkIntervalSeconds: 6 * 3600,
  ingestionLagSeconds: 1800,
  watchPendingWindow: true,
};
const DISABLED_AT = new Date('2026-01-01T00:00:00.000Z');
const _EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:guard:run-1';

const QUIET: CheckFindings = { seenEventIds: [], evidence: [], scanned: 3, reportText: 'r', subject: 's' };

function evidence(id: string): WatchState['evidence'][number] {
  return {
    eventID: id,
    eventTime: '2026-01-02T00:00:00Z',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: 'arn:aws:iam::111122223333:role/app',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'sdk',
  };
}

describe('startWatch', () => {
  it('starts OBSERVE at the disable time with the first check one interval later', () => {
    // Act
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Assess
    expect(watch).toMatchObject({
      phase: 'OBSERVE',
      cursor: '2026-01-01T00:00:00.000Z',
      checks: 0,
      nextCheckAt: '2026-01-01T06:00:00.000Z',
      done: false,
      broke: false,
      seenEventIds: [],
    });
  });

  it('starts PENDING at the previous cursor when given, checking before the deletion date', () => {
    // Prepare
    const scheduledAt = new Date('2026-02-01T00:00:00Z');
    const deletionDate = new Date('2026-02-08T00:00:00Z');

    // Act
    const watch = startWatch('PENDING', {
      now: scheduledAt,
      plan: PLAN,
      deletionDate,
      since: new Date('2026-01-31T00:30:00Z'),
    });

    // Assess
    expect(watch.cursor).toBe('2026-01-31T00:30:00.000Z');
    expect(watch.nextCheckAt).toBe('2026-02-01T06:00:00.000Z');
  });
});

describe('scheduleNext / advanceWatch OBSERVE', () => {
  it('runs 120 checks over 30 days at 6 h, then waits until observation end + lag for FinalCheck', () => {
    // Prepare
    let watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Act
    while (!watch.done) {
      watch = advanceWatch(
        watch,
        'OBSERVE',
        { now: new Date(watch.nextCheckAt), plan: PLAN, disabledAt: DISABLED_AT },
        QUIET,
      );
    }

    // Assess
    expect(watch.checks).toBe(120);
    expect(watch.cursor).toBe('2026-01-31T00:00:00.000Z');
    expect(watch.nextCheckAt).toBe('2026-01-31T00:30:00.000Z');
    expect(watch.scanned).toBe(360);
  });

  it('is not done while the next check still falls before observation end + lag', () => {
    // Act
    const next = scheduleNext('OBSERVE', {
      now: new Date('2026-01-30T18:00:00Z'),
      plan: PLAN,
      disabledAt: DISABLED_AT,
    });

    // Assess
    expect(next).toEqual({ nextCheckAt: '2026-01-31T00:00:00.000Z', done: false });
  });

  it('never schedules FinalCheck in the past when a check runs late', () => {
    // Act
    const next = scheduleNext('OBSERVE', {
      now: new Date('2026-02-02T00:00:00Z'),
      plan: PLAN,
      disabledAt: DISABLED_AT,
    });

    // Assess
    expect(next).toEqual({ nextCheckAt: '2026-02-02T00:00:00.000Z', done: true });
  });

  it('puts the last check at observation end, one lag before FinalCheck, even off the interval grid', () => {
    // Prepare
    const plan: WatchPlan = {
      ...PLAN,
      observationDays: 1,
      checkIntervalSeconds: 5 * 3600,
      ingestionLagSeconds: 7200,
    };
    let watch = startWatch('OBSERVE', { now: DISABLED_AT, plan });
    const times: string[] = [];

    // Act
    while (!watch.done) {
      times.push(watch.nextCheckAt);
      watch = advanceWatch(
        watch,
        'OBSERVE',
        { now: new Date(watch.nextCheckAt), plan, disabledAt: DISABLED_AT },
        QUIET,
      );
    }

    // Assess
    expect(times.at(-1)).toBe('2026-01-02T00:00:00.000Z');
    expect(times).toHaveLength(5);
    expect(watch.nextCheckAt).toBe('2026-01-02T02:00:00.000Z');
  });

  it('checks once at observation end when the observation is shorter than one interval', () => {
    // Act
    const watch = startWatch('OBSERVE', {
      now: DISABLED_AT,
      plan: { ...PLAN, observationDays: 1, checkIntervalSeconds: 2 * 86_400 },
    });

    // Assess
    expect(watch.nextCheckAt).toBe('2026-01-02T00:00:00.000Z');
  });

  it('refuses to schedule OBSERVE without the disable time', () => {
    // Act
    const act = () => scheduleNext('OBSERVE', { now: DISABLED_AT, plan: PLAN });

    // Assess
    expect(act).toThrow(WatchScheduleError);
  });
});

describe('scheduleNext FINAL', () => {
  it('is done at once', () => {
    // Prepare
    const now = new Date('2026-01-31T00:30:00Z');

    // Act
    const next = scheduleNext('FINAL', { now, plan: PLAN, disabledAt: DISABLED_AT });

    // Assess
    expect(next).toEqual({ nextCheckAt: '2026-01-31T00:30:00.000Z', done: true });
  });
});

describe('scheduleNext / advanceWatch PENDING', () => {
  const scheduledAt = new Date('2026-02-01T00:00:00Z');
  const deletionDate = new Date('2026-02-08T00:00:00Z');

  it('makes the last check 20 minutes before the deletion date, then waits for the deletion date itself', () => {
    // Prepare
    let watch = startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate });
    const checkTimes: string[] = [];

    // Act
    while (!watch.done) {
      const now = new Date(watch.nextCheckAt);
      checkTimes.push(watch.nextCheckAt);
      watch = advanceWatch(watch, 'PENDING', { now, plan: PLAN, scheduledAt, deletionDate }, QUIET);
    }

    // Assess
    expect(checkTimes.at(-1)).toBe('2026-02-07T23:40:00.000Z');
    expect(checkTimes.at(-2)).toBe('2026-02-07T18:00:00.000Z');
    expect(checkTimes.every((t) => Date.parse(t) < deletionDate.getTime())).toBe(true);
    expect(watch.checks).toBe(28);
    expect(watch.nextCheckAt).toBe(deletionDate.toISOString());
  });

  it('keeps the interval until the last check, whatever the interval', () => {
    // Act
    const next = scheduleNext('PENDING', {
      now: new Date('2026-02-07T22:00:00Z'),
      plan: PLAN,
      scheduledAt,
      deletionDate,
    });

    // Assess
    expect(next).toEqual({ nextCheckAt: '2026-02-07T23:40:00.000Z', done: false });
    expect(LAST_PENDING_CHECK_LEAD_MS).toBe(PENDING_CANCEL_MS + CHECK_ANSWER_MS);
  });

  it('moves the last check earlier by twice the time a split search took, so its continuations end before the deadline', () => {
    // Act: this check's search took 20 minutes over its invocations.
    const next = scheduleNext('PENDING', {
      now: new Date('2026-02-07T18:00:00Z'),
      plan: PLAN,
      scheduledAt,
      deletionDate,
      searchMs: 20 * 60_000,
    });
    const late = scheduleNext('PENDING', {
      now: new Date('2026-02-07T23:00:00Z'),
      plan: PLAN,
      scheduledAt,
      deletionDate,
      searchMs: 20 * 60_000,
    });

    // Assess
    expect(next).toEqual({ nextCheckAt: '2026-02-07T23:00:00.000Z', done: false });
    expect(late).toEqual({ nextCheckAt: deletionDate.toISOString(), done: true });
  });

  it('assumes the earliest deletion (scheduledAt + window) when KMS gave no date (PendingReplicaDeletion)', () => {
    // Act
    const next = scheduleNext('PENDING', {
      now: new Date('2026-03-02T20:00:00Z'),
      plan: PLAN,
      scheduledAt,
      deletionDate: null,
    });

    // Assess
    expect(next).toEqual({ nextCheckAt: '2026-03-02T23:40:00.000Z', done: false });
  });

  it('checks at once a key that has no DeletionDate yet, so the first check can stop the watch', () => {
    // Act
    const watch = startWatch('PENDING', { now: scheduledAt, plan: PLAN, deletionDate: null });

    // Assess
    expect(watch.nextCheckAt).toBe(scheduledAt.toISOString());
  });
});

describe('isDecisionCheck', () => {
  it('makes FinalCheck and every pending check a decision, observation checks incremental', () => {
    // Act / Assess
    expect(isDecisionCheck('OBSERVE')).toBe(false);
    expect(isDecisionCheck('FINAL')).toBe(true);
    expect(isDecisionCheck('PENDING')).toBe(true);
  });
});

describe('advanceWatch evidence', () => {
  it('keeps at most 20 evidence entries but counts all, and sets broke', () => {
    // Prepare
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });
    const many = Array.from({ length: 25 }, (_, i) => evidence(`ev-${i}`));

    // Act
    const next = advanceWatch(
      watch,
      'OBSERVE',
      { now: new Date('2026-01-01T06:00:00Z'), plan: PLAN, disabledAt: DISABLED_AT },
      { ...QUIET, evidence: many },
    );

    // Assess
    expect(next.broke).toBe(true);
    expect(next.evidence).toHaveLength(MAX_EVIDENCE_IN_STATE);
    expect(next.evidenceCount).toBe(25);
    expect(next.cursor).toBe('2026-01-01T06:00:00.000Z');
  });
});

describe('pendingWatchDeadline', () => {
  it('falls after the last pending check and leaves the restore time to cancel before the deletion', () => {
    // Prepare
    const deletion = new Date('2026-02-01T00:00:00.000Z');

    // Act
    const deadline = pendingWatchDeadline(deletion);

    // Assess
    expect(deadline.toISOString()).toBe('2026-01-31T23:45:00.000Z');
    expect(deadline.getTime()).toBeGreaterThan(lastPendingCheckAt(deletion).getTime());
    expect(deletion.getTime() - deadline.getTime()).toBe(PENDING_CANCEL_MS);
  });

  it('gives the watch task the seconds from now to the deadline, at least one minute', () => {
    // Prepare
    const deletion = new Date('2026-02-01T00:00:00.000Z');

    // Act / Assess
    expect(pendingWatchTimeoutSeconds(new Date('2026-01-31T00:00:00.000Z'), deletion)).toBe(85_500);
    expect(pendingWatchTimeoutSeconds(new Date('2026-01-31T23:59:00.000Z'), deletion)).toBe(60);
  });
});

describe('advanceWatch key state', () => {
  it('hands on a change found by the check, and leaves evidence on a deleted key unacted (nothing to give back)', () => {
    // Prepare
    const watch = startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN });
    const ctx = { now: new Date('2026-01-01T06:00:00Z'), plan: PLAN, disabledAt: DISABLED_AT };
    const keyChange = { error: 'KeyChangedExternallyError', cause: 'gone' };

    // Act
    const changed = advanceWatch(watch, 'OBSERVE', ctx, { ...QUIET, keyState: 'Enabled', keyChange });
    const gone = advanceWatch(watch, 'OBSERVE', ctx, {
      ...QUIET,
      evidence: [evidence('late')],
      keyState: 'NotFound',
    });
    const quiet = advanceWatch(watch, 'OBSERVE', ctx, QUIET);

    // Assess
    expect(changed).toMatchObject({ keyState: 'Enabled', keyChange });
    expect(gone).toMatchObject({ broke: false, evidenceCount: 1, keyState: 'NotFound' });
    expect('keyChange' in quiet).toBe(false);
  });
});
