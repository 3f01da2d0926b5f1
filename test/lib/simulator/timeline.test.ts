import type { SimulationResult } from '../../../lib/simulator/result.js';
import { renderCalls, renderResult, renderSummary, renderTimeline } from '../../../lib/simulator/timeline.js';

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
    expect(lines[4]).toContain('outcome=RETRY_SCHEDULED');
    expect(lines[6]).toContain('broke=true');
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
      'Outcome: ROLLED_BACK (ROLLED_BACK) [FAILED]; key k: Enabled, usable again 2026-01-02 06:00Z',
    );
    expect(text.split('\n').at(-1)).toBe(
      'Stats: 9 state transitions, 4 Lambda invocations, 30 log events scanned (31 in the query windows)',
    );
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
  it('lists a scenario that could not run as ERROR with its reason', () => {
    // Act
    const text = renderSummary([{ file: 'broken', result: null, error: 'keys is required' }]);

    // Assess
    expect(text.split('\n')[2]).toMatch(/^broken\s+ERROR\s+keys is required$/);
  });
});
