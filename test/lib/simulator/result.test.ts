import type { EngineRun } from '../../../lib/simulator/engine.js';
import { buildResult, causeName, evidenceOf, type KeyReport } from '../../../lib/simulator/result.js';
import { resultSchemaErrors } from './schemas.js';

const KEY: KeyReport = {
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  finalState: 'Enabled',
  deletionDate: null,
  restoredAt: null,
};
const STATS = { logEventsScanned: 10, logEventsInWindow: 12 };

function run(overrides: Partial<EngineRun>): EngineRun {
  return {
    executionArn: 'arn:aws:states:us-east-1:111122223333:execution:M:simulation',
    status: 'FAILED',
    output: null,
    error: null,
    cause: null,
    finalData: {},
    timeline: [
      { at: '2026-01-01T00:00:00.000Z', state: 'AssessKey', type: 'Task', detail: { verdict: 'ACCEPTED' } },
    ],
    notifications: [
      {
        at: '2026-01-01T00:00:00.000Z',
        kind: 'approval-request',
        subject: 'Approve?',
        state: 'RequestDisableApproval',
        step: 'disable',
        message: 'text',
      },
    ],
    stats: { stateTransitions: 1, lambdaInvocations: 1 },
    ...overrides,
  };
}

const EVIDENCE = {
  eventID: 'e-1',
  eventTime: '2026-01-13T00:00:00Z',
  eventName: 'Decrypt',
  errorCode: 'DisabledException',
  principal: 'arn:aws:iam::111122223333:role/app',
  sourceIPAddress: '10.0.0.1',
  userAgent: 'aws-sdk-java',
};

describe('causeName', () => {
  it('takes the UPPER_SNAKE word before the first colon, else null', () => {
    // Act / Assess
    expect(causeName('EVENT_SOURCE_BLIND: the canary was not seen')).toBe('EVENT_SOURCE_BLIND');
    expect(causeName('REJECTED: the disable request was rejected')).toBe('REJECTED');
    expect(causeName('the key: gone')).toBeNull();
    expect(causeName('{"errorType":"X"}')).toBeNull();
    expect(causeName('NO_COLON')).toBeNull();
    expect(causeName(null)).toBeNull();
  });
});

describe('evidenceOf', () => {
  it('reads watch.value.evidence as the workflow stores it, and plain watch.evidence', () => {
    // Act
    const nested = evidenceOf({ watch: { value: { evidence: [EVIDENCE] } } });
    const plain = evidenceOf({ watch: { evidence: [EVIDENCE] } });

    // Assess
    expect(nested).toEqual([EVIDENCE]);
    expect(plain).toEqual([EVIDENCE]);
    expect(evidenceOf({ watch: { value: null } })).toEqual([]);
    expect(evidenceOf('not data')).toEqual([]);
  });
});

describe('buildResult', () => {
  it('reports a Fail state outcome with its named cause, evidence and restore time', () => {
    // Act
    const result = buildResult(
      'rollback',
      run({
        error: 'ROLLED_BACK',
        cause: 'ROLLED_BACK: the key was needed',
        finalData: {
          watch: { value: { evidence: [EVIDENCE] } },
          restore: { value: { restoredAt: '2026-01-13T06:00:00.000Z' } },
        },
      }),
      KEY,
      STATS,
    );

    // Assess
    expect(result).toMatchObject({
      outcome: 'ROLLED_BACK',
      cause: 'ROLLED_BACK',
      executionStatus: 'FAILED',
      key: { finalState: 'Enabled', restoredAt: '2026-01-13T06:00:00.000Z' },
      evidence: [EVIDENCE],
      stats: { stateTransitions: 1, lambdaInvocations: 1, logEventsScanned: 10, logEventsInWindow: 12 },
    });
    expect(result.timeline[0]).toEqual({
      at: '2026-01-01T00:00:00.000Z',
      state: 'AssessKey',
      detail: { verdict: 'ACCEPTED' },
    });
    expect(resultSchemaErrors(result)).toEqual([]);
  });

  it('prefers the restore instant the account observed', () => {
    // Act
    const result = buildResult(
      'x',
      run({
        error: 'ROLLED_BACK',
        cause: 'ROLLED_BACK: x',
        finalData: { restore: { value: { restoredAt: '2026-02-01T00:00:00Z' } } },
      }),
      { ...KEY, restoredAt: new Date('2026-01-20T00:00:00Z') },
      STATS,
    );

    // Assess
    expect(result.key.restoredAt).toBe('2026-01-20T00:00:00.000Z');
  });

  it('reports DELETION_SCHEDULED only when the successful output says so', () => {
    // Act
    const scheduled = buildResult(
      'ok',
      run({ status: 'SUCCEEDED', output: { outcome: 'DELETION_SCHEDULED' } }),
      { ...KEY, finalState: 'PendingDeletion', deletionDate: new Date('2026-03-02T00:30:00Z') },
      STATS,
    );
    const silent = buildResult('odd', run({ status: 'SUCCEEDED', output: { done: true } }), KEY, STATS);

    // Assess
    expect(scheduled).toMatchObject({
      outcome: 'DELETION_SCHEDULED',
      cause: null,
      executionStatus: 'SUCCEEDED',
      key: { deletionDate: '2026-03-02T00:30:00.000Z' },
    });
    expect(silent).toMatchObject({ outcome: 'ABORTED', cause: 'WORKFLOW_ERROR' });
    expect(resultSchemaErrors(scheduled)).toEqual([]);
    expect(resultSchemaErrors(silent)).toEqual([]);
  });

  it('never hides a workflow defect: an error that is not an outcome is ABORTED with the error kept', () => {
    // Act
    const result = buildResult(
      'defect',
      run({ error: 'States.Runtime', cause: "Path expression '$.error' does not point to a value" }),
      KEY,
      STATS,
    );

    // Assess
    expect(result).toMatchObject({
      outcome: 'ABORTED',
      cause: 'WORKFLOW_ERROR',
      error: { Error: 'States.Runtime', Cause: "Path expression '$.error' does not point to a value" },
    });
    expect(resultSchemaErrors(result)).toEqual([]);
  });

  it('reports an execution timeout as ABORTED with status TIMED_OUT', () => {
    // Act
    const result = buildResult('slow', run({ status: 'TIMED_OUT', error: 'States.Timeout' }), KEY, STATS);

    // Assess
    expect(result).toMatchObject({
      outcome: 'ABORTED',
      cause: 'EXECUTION_TIMED_OUT',
      executionStatus: 'TIMED_OUT',
    });
    expect(resultSchemaErrors(result)).toEqual([]);
  });
});

describe('buildResult with scheduled invocations', () => {
  it('keeps the handler of a scheduled check, leaves it off states, and validates', () => {
    // Prepare
    const engineRun = run({
      timeline: [
        { at: '2026-01-01T00:00:00.000Z', state: 'WatchForBreakage', type: 'Task', detail: {} },
        {
          at: '2026-01-01T06:00:00.000Z',
          state: 'CheckForBreakage',
          type: 'ScheduledInvoke',
          handler: 'check',
          detail: { outcome: 'SCHEDULED' },
        },
      ],
      stats: { stateTransitions: 1, lambdaInvocations: 2 },
    });

    // Act
    const result = buildResult('t', engineRun, KEY, STATS);

    // Assess
    expect(result.timeline).toEqual([
      { at: '2026-01-01T00:00:00.000Z', state: 'WatchForBreakage', detail: {} },
      {
        at: '2026-01-01T06:00:00.000Z',
        state: 'CheckForBreakage',
        handler: 'check',
        detail: { outcome: 'SCHEDULED' },
      },
    ]);
    expect(result.stats).toMatchObject({ stateTransitions: 1, lambdaInvocations: 2 });
    expect(resultSchemaErrors(result)).toEqual([]);
  });
});
