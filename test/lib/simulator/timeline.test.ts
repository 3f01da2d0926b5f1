import type { SimulationResult } from '../../../lib/simulator/result.js';
import {
  renderCalls,
  renderOutcome,
  renderResult,
  renderSummary,
  renderTimeline,
} from '../../../lib/simulator/timeline.js';

function check(at: string, checks: number, broke = false) {
  return {
    at,
    state: 'CheckForBreakage',
    detail: { phase: 'OBSERVE', checks, broke, evidenceCount: broke ? 1 : 0 },
  };
}

describe('renderTimeline', () => {
  it('folds runs of uneventful checks but keeps the first, the last and every change', () => {
    // Prepare
    const entries = [
      { at: '2026-01-01T00:00:00.000Z', state: 'DisableKey', detail: { wasEnabled: true } },
      {
        at: '2026-01-01T00:00:00.000Z',
        state: 'WaitForFinalCheck',
        detail: { until: '2026-01-01T06:00:00.000Z' },
      },
      check('2026-01-01T06:00:00.000Z', 1),
      check('2026-01-01T12:00:00.000Z', 2),
      check('2026-01-01T18:00:00.000Z', 3),
      check('2026-01-02T00:00:00.000Z', 4),
      check('2026-01-02T06:00:00.000Z', 5, true),
      { at: '2026-01-02T06:00:00.000Z', state: 'ObservationVerdict', detail: {} },
      { at: '2026-01-02T06:00:00.000Z', state: 'RollBack', detail: { mode: 'ROLLBACK' } },
    ];

    // Act
    const lines = renderTimeline(entries);
    const full = renderTimeline(entries, { full: true });

    // Assess
    expect(lines).toHaveLength(6);
    expect(lines[1]).toContain('checks=1');
    expect(lines[2]).toContain('… 2 more CheckForBreakage with the same result');
    expect(lines[3]).toContain('checks=4');
    expect(lines[4]).toContain('broke=true');
    expect(lines[5]).toContain('RollBack');
    expect(lines.join('\n')).not.toContain('WaitForFinalCheck');
    expect(full).toHaveLength(entries.length);
    expect(full[1]).toContain('wait until 2026-01-01 06:00Z');
  });
});

describe('renderTimeline with a watch run by scheduled checks', () => {
  /** A scheduled check as the simulator files it: the watch it hands on, then what the handler said. */
  function scheduled(at: string, checks: number, extra: Record<string, unknown> = {}) {
    return {
      at,
      state: 'CheckForBreakage',
      handler: 'check',
      detail: {
        phase: 'OBSERVE',
        checks,
        broke: false,
        done: false,
        evidenceCount: 0,
        scanned: checks * 3,
        canariesSeen: checks,
        outcome: 'SCHEDULED',
        ...extra,
      },
    };
  }

  it('folds the quiet scheduled checks despite their counters and keeps the retried one and the answer', () => {
    // Prepare
    const entries = [
      { at: '2026-01-01T00:00:00.000Z', state: 'StartWatch', detail: {} },
      { at: '2026-01-01T00:00:00.000Z', state: 'WatchForBreakage', detail: { answered: 'success' } },
      scheduled('2026-01-01T06:00:00.000Z', 1),
      scheduled('2026-01-01T12:00:00.000Z', 2),
      scheduled('2026-01-01T18:00:00.000Z', 3),
      scheduled('2026-01-02T00:00:00.000Z', 4),
      scheduled('2026-01-02T06:00:00.000Z', 4, { outcome: 'RETRY_SCHEDULED' }),
      scheduled('2026-01-02T06:05:00.000Z', 5, { retries: 1 }),
      scheduled('2026-01-02T12:00:00.000Z', 6, { broke: true, evidenceCount: 1, outcome: 'ANSWERED' }),
      { at: '2026-01-02T12:00:00.000Z', state: 'ObservationVerdict', detail: {} },
      { at: '2026-01-02T12:00:00.000Z', state: 'RollBack', detail: { mode: 'ROLLBACK' } },
    ];

    // Act
    const lines = renderTimeline(entries);

    // Assess
    expect(lines.map((l) => l.slice(0, 48).trimEnd())).toEqual([
      '  2026-01-01 00:00Z  WatchForBreakage',
      '  2026-01-01 06:00Z  CheckForBreakage',
      '                     … 2 more CheckForBreakage w',
      '  2026-01-02 00:00Z  CheckForBreakage',
      '  2026-01-02 06:00Z  CheckForBreakage',
      '  2026-01-02 06:05Z  CheckForBreakage',
      '  2026-01-02 12:00Z  CheckForBreakage',
      '  2026-01-02 12:00Z  RollBack',
    ]);
    expect(lines[4]).toContain('next=retry');
    expect(lines[6]).toContain('broke=true');
  });

  it("words a check's answer as what it did with the watch, never as the check's outcome", () => {
    // Prepare
    const entries = [
      scheduled('2026-01-01T06:00:00.000Z', 1),
      scheduled('2026-01-01T12:00:00.000Z', 2, { outcome: 'RETRY_SCHEDULED' }),
      scheduled('2026-01-01T18:00:00.000Z', 3, { outcome: 'TOKEN_GONE' }),
      scheduled('2026-01-02T00:00:00.000Z', 4, { outcome: 'ANSWERED', done: true, answered: 'success' }),
      {
        at: '2026-01-02T06:00:00.000Z',
        state: 'CheckForBreakage',
        handler: 'check',
        detail: { outcome: 'FAILED', answered: 'failure', error: 'KeyChangedExternallyError' },
      },
    ];

    // Act
    const lines = renderTimeline(entries, { full: true });

    // Assess
    expect(lines[0]).toMatch(/canariesSeen=1, next=scheduled$/);
    expect(lines[1]).toMatch(/, next=retry$/);
    expect(lines[2]).toMatch(/, next=none \(the watch had already ended\)$/);
    expect(lines[3]).toMatch(/, answered=success$/);
    expect(lines[4]).toMatch(/CheckForBreakage +answered=KeyChangedExternallyError$/);
    expect(lines.join('\n')).not.toMatch(/outcome=|FAILED|failure/);
  });
});

describe('renderTimeline wording of approvals and ends', () => {
  it('says what the approver did and names the outcome a Fail state ends with, without failure markers', () => {
    // Prepare
    const entries = [
      {
        at: '2026-01-01T00:00:00.000Z',
        state: 'RequestDisableApproval',
        detail: { step: 'disable', answer: 'approve' },
      },
      {
        at: '2026-01-02T00:00:00.000Z',
        state: 'RequestDeletionApproval',
        detail: { step: 'deletion', answer: 'reject', error: 'ApprovalRejected' },
      },
      {
        at: '2026-01-03T00:00:00.000Z',
        state: 'RequestDeletionApproval',
        detail: { step: 'deletion', answer: 'timeout', error: 'States.Timeout' },
      },
      {
        at: '2026-01-04T00:00:00.000Z',
        state: 'RequestDeletionApproval',
        detail: { step: 'deletion', answer: 'approve', error: 'ThrottlingException', retries: 1 },
      },
      { at: '2026-01-05T00:00:00.000Z', state: 'DeletionRejected', detail: { error: 'REJECTED' } },
    ];

    // Act
    const lines = renderTimeline(entries, { full: true });

    // Assess
    expect(lines[0]).toMatch(/RequestDisableApproval +approval \(disable\): approved$/);
    expect(lines[1]).toMatch(/RequestDeletionApproval +approval \(deletion\): rejected$/);
    expect(lines[2]).toMatch(/RequestDeletionApproval +approval \(deletion\): no answer before the timeout$/);
    // An error the answer does not explain is a fault, and stays.
    expect(lines[3]).toMatch(/approval \(deletion\): approved, error=ThrottlingException, retries=1$/);
    expect(lines[4]).toMatch(/DeletionRejected +outcome=REJECTED$/);
  });
});

describe('renderTimeline wording of late approval answers and the world after the execution', () => {
  it('says when the approver answers, that the request expired first, and that the late answer changed nothing', () => {
    // Prepare
    const entries = [
      {
        at: '2026-02-08T00:30:00.000Z',
        state: 'RequestDeletionApproval',
        detail: {
          step: 'deletion',
          answer: 'approve',
          answerAt: '2026-02-15T06:30:00.000Z',
          error: 'States.Timeout',
        },
      },
      {
        at: '2026-02-15T06:30:00.000Z',
        state: 'ApprovalAnswer',
        detail: {
          step: 'deletion',
          answer: 'approve',
          result: 'TaskTimedOut',
          changed: false,
          keyState: 'Enabled',
          note: 'approval answer after expiry: nothing changed',
        },
      },
      {
        at: '2026-02-16T00:00:00.000Z',
        state: 'RequestDisableApproval',
        detail: {
          step: 'disable',
          answer: 'reject',
          answerAt: '2026-02-16T02:00:00.000Z',
          error: 'ApprovalRejected',
        },
      },
      {
        at: '2026-02-16T02:00:00.000Z',
        state: 'ApprovalAnswer',
        detail: { step: 'disable', answer: 'reject', result: 'accepted' },
      },
      {
        at: '2026-03-01T00:30:00.000Z',
        state: 'KeyDeleted',
        detail: { keyId: 'k', deletionDate: '2026-03-01T00:30:00.000Z' },
      },
    ];

    // Act
    const lines = renderTimeline(entries);

    // Assess
    expect(lines).toEqual([
      '  2026-02-08 00:30Z  RequestDeletionApproval      approval (deletion): to be approved 2026-02-15 06:30Z, expired before',
      "  2026-02-15 06:30Z  ApprovalAnswer               approver's answer (deletion): approved, refused (TaskTimedOut); approval answer after expiry: nothing changed; key Enabled",
      '  2026-02-16 00:00Z  RequestDisableApproval       approval (disable): to be rejected 2026-02-16 02:00Z',
      "  2026-02-16 02:00Z  ApprovalAnswer               approver's answer (disable): rejected, accepted",
      '  2026-03-01 00:30Z  KeyDeleted                   keyId=k, deletionDate=2026-03-01T00:30:00.000Z',
    ]);
  });
});

describe('renderResult', () => {
  it('ends with the outcome, the key and the stats', () => {
    // Prepare
    const result: SimulationResult = {
      name: 'demo',
      outcome: 'ROLLED_BACK',
      cause: 'ROLLED_BACK',
      executionStatus: 'FAILED',
      key: { keyId: 'k', finalState: 'Enabled', deletionDate: null, restoredAt: '2026-01-02T06:00:00.000Z' },
      timeline: [],
      notifications: [{ at: '2026-01-02T06:00:00.000Z', kind: 'rolled-back', subject: 'Key re-enabled' }],
      evidence: [
        {
          eventID: 'e-1',
          eventTime: '2026-01-02T05:00:00Z',
          eventName: 'Decrypt',
          errorCode: 'DisabledException',
          principal: 'arn:aws:iam::111122223333:role/app',
          sourceIPAddress: '10.0.0.1',
        },
      ],
      stats: { stateTransitions: 9, lambdaInvocations: 4, logEventsScanned: 30, logEventsInWindow: 31 },
    };

    // Act
    const text = renderResult(result);

    // Assess
    expect(text).toContain(
      'Decrypt DisabledException by arn:aws:iam::111122223333:role/app from 10.0.0.1 (event e-1)',
    );
    expect(text).toContain('rolled-back');
    expect(text).toContain(
      'Outcome: ROLLED_BACK — the key is still needed; key k: Enabled (re-enabled 2026-01-02 06:00Z)',
    );
    expect(text).not.toContain('FAILED');
    expect(text.split('\n').at(-1)).toBe(
      'Stats: 9 state transitions, 4 Lambda invocations, 30 log events scanned (31 in the query windows)',
    );
  });
});

describe('renderOutcome', () => {
  function ended(
    outcome: SimulationResult['outcome'],
    cause: string | null,
    key: Partial<SimulationResult['key']>,
    extra: Partial<SimulationResult> = {},
  ): SimulationResult {
    return {
      name: 'x',
      outcome,
      cause,
      executionStatus: outcome === 'DELETION_SCHEDULED' ? 'SUCCEEDED' : 'FAILED',
      key: { keyId: 'k', finalState: 'Enabled', deletionDate: null, restoredAt: null, ...key },
      timeline: [],
      notifications: [],
      evidence: [],
      stats: { stateTransitions: 0, lambdaInvocations: 0, logEventsScanned: 0, logEventsInWindow: 0 },
      ...extra,
    };
  }
  const SCHEDULED_ON_DAY_7 = {
    timeline: [
      {
        at: '2026-01-08T00:30:00.000Z',
        state: 'ScheduleDeletion',
        detail: { deletionDate: '2026-01-15T00:30:00.000Z', keyState: 'PendingDeletion' },
      },
    ],
  };

  it.each([
    [
      'a refusal',
      ended('REFUSED', 'AWS_MANAGED_KEY', {}),
      'REFUSED (AWS_MANAGED_KEY) — refused before any change; key k: Enabled',
    ],
    [
      'a rejection at the disable step',
      ended('REJECTED', 'REJECTED', {}),
      'REJECTED — the approver rejected the request; key k: Enabled',
    ],
    [
      'an expired approval after the key was disabled',
      ended('APPROVAL_EXPIRED', 'APPROVAL_EXPIRED', { restoredAt: '2026-01-22T00:30:00.000Z' }),
      'APPROVAL_EXPIRED — no approval came in time; key k: Enabled (re-enabled 2026-01-22 00:30Z)',
    ],
    [
      'a rollback',
      ended('ROLLED_BACK', 'ROLLED_BACK', { restoredAt: '2026-01-05T02:02:00.000Z' }),
      'ROLLED_BACK — the key is still needed; key k: Enabled (re-enabled 2026-01-05 02:02Z)',
    ],
    [
      'a cancelled deletion, the key left Disabled',
      ended(
        'DELETION_CANCELLED',
        'DELETION_CANCELLED',
        { finalState: 'Disabled', restoredAt: '2026-01-10T07:02:00.000Z' },
        SCHEDULED_ON_DAY_7,
      ),
      'DELETION_CANCELLED — the key is still needed; key k: Disabled (deletion cancelled 2026-01-10 07:02Z; ' +
        'usable again after EnableKey by its owner)',
    ],
    [
      'a stop after a cancelled deletion and a re-enable',
      ended('ABORTED', 'EVENT_SOURCE_BLIND', { restoredAt: '2026-01-10T06:30:00.000Z' }, SCHEDULED_ON_DAY_7),
      'ABORTED (EVENT_SOURCE_BLIND) — the workflow stopped; key k: Enabled (deletion cancelled 2026-01-10 06:30Z, then re-enabled)',
    ],
    [
      'a stop after a person scheduled the deletion and cancelled it',
      ended('ABORTED', 'KEY_CHANGED_EXTERNALLY', { restoredAt: '2026-01-05T00:00:00.000Z' }, {
        calls: [
          {
            at: '2026-01-04T00:00:00.000Z',
            keyId: 'k',
            operation: 'ScheduleKeyDeletion',
            principal: 'p',
            ok: true,
          },
        ],
      } as Partial<SimulationResult>),
      'ABORTED (KEY_CHANGED_EXTERNALLY) — the workflow stopped; key k: Enabled (deletion cancelled 2026-01-05 00:00Z, then re-enabled)',
    ],
    [
      'a key re-enabled and disabled again',
      ended('ABORTED', 'KEY_CHANGED_EXTERNALLY', {
        finalState: 'Disabled',
        restoredAt: '2026-01-02T00:00:00.000Z',
      }),
      'ABORTED (KEY_CHANGED_EXTERNALLY) — the workflow stopped; key k: Disabled (re-enabled 2026-01-02 00:00Z, then disabled again)',
    ],
    [
      'a key that stays Disabled because nothing could re-enable it',
      ended('ABORTED', 'RESTORE_FAILED', { finalState: 'Disabled' }),
      'ABORTED (RESTORE_FAILED) — the workflow stopped; key k: Disabled',
    ],
    [
      'a scheduled deletion',
      ended('DELETION_SCHEDULED', null, {
        finalState: 'PendingDeletion',
        deletionDate: '2026-03-02T00:30:00.000Z',
      }),
      'DELETION_SCHEDULED — no use seen while the key was disabled; key k: PendingDeletion (KMS deletes it 2026-03-02 00:30Z)',
    ],
    [
      'a deletion the simulation saw through',
      ended('DELETION_SCHEDULED', null, {
        finalState: 'Deleted',
        deletionDate: '2026-03-02T00:30:00.000Z',
      }),
      'DELETION_SCHEDULED — no use seen while the key was disabled; key k: Deleted (KMS deleted it 2026-03-02 00:30Z)',
    ],
    [
      'a key the account does not have',
      ended('REFUSED', 'INVALID_INPUT', { keyId: null, finalState: null }),
      'REFUSED (INVALID_INPUT) — refused before any change; key (none): unknown',
    ],
  ])('says precisely what is true after %s', (_label, result, expected) => {
    // Act
    const line = renderOutcome(result);

    // Assess
    expect(line).toBe(`Outcome: ${expected}`);
  });
});

describe('renderCalls', () => {
  it('counts failures by error code and names the first', () => {
    // Act
    const text = renderCalls([
      { at: '2026-01-01T00:00:00.000Z', keyId: 'k', operation: 'Decrypt', principal: 'p', ok: true },
      {
        at: '2026-01-02T00:00:00.000Z',
        keyId: 'k',
        operation: 'Decrypt',
        principal: 'p',
        ok: false,
        errorCode: 'DisabledException',
      },
      {
        at: '2026-01-03T00:00:00.000Z',
        keyId: 'k',
        operation: 'Decrypt',
        principal: 'p',
        ok: false,
        errorCode: 'DisabledException',
      },
    ]);

    // Assess
    expect(text).toBe(
      'Application calls: 3 (1 ok, 2 failed: DisabledException 2); first failure 2026-01-02 00:00Z Decrypt by p',
    );
    expect(renderCalls([])).toBeNull();
  });
});

describe('renderSummary', () => {
  it('names a cause only where it adds to the outcome', () => {
    // Prepare
    const result = (outcome: SimulationResult['outcome'], cause: string | null) =>
      ({
        outcome,
        cause,
        key: { keyId: 'k', finalState: 'Enabled', deletionDate: null, restoredAt: null },
        stats: { stateTransitions: 5, lambdaInvocations: 1, logEventsScanned: 0, logEventsInWindow: 0 },
        evidence: [],
      }) as unknown as SimulationResult;

    // Act
    const text = renderSummary([
      { file: 'rolled-back', result: result('ROLLED_BACK', 'ROLLED_BACK') },
      { file: 'blind', result: result('ABORTED', 'EVENT_SOURCE_BLIND') },
    ]);

    // Assess
    const [, , rolledBack, blind] = text.split('\n');
    expect(rolledBack).toMatch(/^rolled-back\s+ROLLED_BACK\s+Enabled\s+5\s+0$/);
    expect(blind).toMatch(/^blind\s+ABORTED\s+EVENT_SOURCE_BLIND\s+Enabled\s+5\s+0$/);
  });

  it('lists a scenario that could not run as ERROR with its reason', () => {
    // Act
    const text = renderSummary([{ file: 'broken', result: null, error: 'keys is required' }]);

    // Assess
    expect(text.split('\n')[2]).toMatch(/^broken\s+ERROR\s+keys is required$/);
  });
});
