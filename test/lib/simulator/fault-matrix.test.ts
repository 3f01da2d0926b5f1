import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FaultExpectation,
  FaultMatrixError,
  type FaultRow,
  loadFaultCase,
  renderFaultTable,
  unsafeReasons,
} from '../../../lib/simulator/fault-matrix.js';

const DELETION: FaultExpectation = {
  outcome: 'DELETION_SCHEDULED',
  finalState: 'PendingDeletion',
  notifications: [],
};
const ROLLED_BACK: FaultExpectation = { outcome: 'ROLLED_BACK', finalState: 'Enabled', notifications: [] };
const DISABLED_BY_US = { disabledByWorkflow: true, scheduledByWorkflow: false };

function report(outcome: FaultExpectation['outcome'], finalState: string) {
  return {
    outcome,
    key: {
      keyId: 'k',
      finalState: finalState as 'Enabled',
      deletionDate: null,
      restoredAt: null,
    },
  };
}

describe('unsafeReasons', () => {
  it('accepts an approved, watched deletion', () => {
    // Act
    const reasons = unsafeReasons(
      report('DELETION_SCHEDULED', 'PendingDeletion'),
      DELETION,
      { disabledByWorkflow: true, scheduledByWorkflow: true },
      'Enabled',
    );

    // Assess
    expect(reasons).toEqual([]);
  });

  it('flags a key pending deletion the expectation did not allow', () => {
    // Act
    const reasons = unsafeReasons(
      report('ABORTED', 'PendingDeletion'),
      { ...ROLLED_BACK, outcome: 'ABORTED' },
      DISABLED_BY_US,
      'Enabled',
    );

    // Assess
    expect(reasons).toEqual(['key ended PendingDeletion without an approved, watched deletion']);
  });

  it('flags a key the workflow disabled and left Disabled, unless the file says why', () => {
    // Act
    const flagged = unsafeReasons(report('ROLLED_BACK', 'Disabled'), ROLLED_BACK, DISABLED_BY_US, 'Enabled');
    const allowed = unsafeReasons(
      report('ROLLED_BACK', 'Disabled'),
      { ...ROLLED_BACK, safe: { leftDisabled: 'a person took the key over' } },
      DISABLED_BY_US,
      'Enabled',
    );

    // Assess
    expect(flagged).toEqual(['the workflow disabled the key and left it Disabled']);
    expect(allowed).toEqual([]);
  });

  it('accepts Disabled after DELETION_CANCELLED and for a key that was Disabled before', () => {
    // Act
    const cancelled = unsafeReasons(
      report('DELETION_CANCELLED', 'Disabled'),
      { ...ROLLED_BACK, outcome: 'DELETION_CANCELLED' },
      DISABLED_BY_US,
      'Enabled',
    );
    const wasDisabled = unsafeReasons(
      report('ROLLED_BACK', 'Disabled'),
      ROLLED_BACK,
      DISABLED_BY_US,
      'Disabled',
    );

    // Assess
    expect(cancelled).toEqual([]);
    expect(wasDisabled).toEqual([]);
  });

  it('flags an outcome other than the expected one', () => {
    // Act
    const reasons = unsafeReasons(
      report('DELETION_CANCELLED', 'Disabled'),
      DELETION,
      { disabledByWorkflow: true, scheduledByWorkflow: true },
      'Enabled',
    );

    // Assess
    expect(reasons).toEqual(['ended DELETION_CANCELLED, not DELETION_SCHEDULED']);
  });
});

describe('loadFaultCase', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdg-faults-'));
  const scenario = {
    name: 'x',
    start: '2026-01-01T00:00:00Z',
    keys: [{ keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', createdAt: '2024-01-01T00:00:00Z' }],
    input: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
  };

  function write(name: string, data: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(data));
    return path;
  }

  it('reads the matrix label, the expectation and a known issue', () => {
    // Prepare
    const path = write('ok.json', {
      ...scenario,
      matrix: { fault: 'f', step: 's' },
      knownIssue: 'bug in x',
      expect: {
        outcome: 'REFUSED',
        finalState: 'Enabled',
        notifications: ['refused'],
        safe: { leftDisabled: 'why' },
      },
    });

    // Act
    const c = loadFaultCase(path);

    // Assess
    expect(c).toMatchObject({ file: 'ok.json', fault: 'f', step: 's', knownIssue: 'bug in x' });
    expect(c.expect).toEqual({
      outcome: 'REFUSED',
      finalState: 'Enabled',
      notifications: ['refused'],
      safe: { leftDisabled: 'why' },
    });
  });

  it.each([
    [
      'no matrix',
      { ...scenario, expect: { outcome: 'REFUSED', finalState: 'Enabled', notifications: [] } },
      /matrix/,
    ],
    ['no expect', { ...scenario, matrix: { fault: 'f', step: 's' } }, /"expect" must be an object/],
    [
      'an unknown outcome',
      {
        ...scenario,
        matrix: { fault: 'f', step: 's' },
        expect: { outcome: 'DELETED', finalState: 'x', notifications: [] },
      },
      /expect.outcome must be one of/,
    ],
    [
      'a scenario that cannot run',
      {
        matrix: { fault: 'f', step: 's' },
        expect: { outcome: 'REFUSED', finalState: 'x', notifications: [] },
      },
      /keys is required|start is required/,
    ],
    [
      'a misspelt scenario field beside the matrix fields',
      {
        ...scenario,
        approvals: { disable: 'approve', deletoin: 'reject' },
        matrix: { fault: 'f', step: 's' },
        expect: { outcome: 'REFUSED', finalState: 'x', notifications: [] },
      },
      /^bad\.json: approvals\.deletoin: unknown field; did you mean deletion\?$/,
    ],
  ])('names the file and the field for %s', (_label, data, message) => {
    // Prepare
    const path = write('bad.json', data);

    // Act
    const act = () => loadFaultCase(path);

    // Assess
    expect(act).toThrow(FaultMatrixError);
    expect(act).toThrow(message);
    expect(act).toThrow(/^bad\.json: /);
  });
});

describe('renderFaultTable', () => {
  it('shows one line per fault with its outcome, key state and verdict, then the problems', () => {
    // Prepare
    const row = (file: string, unsafe: string[], mismatches: string[]): FaultRow => ({
      case: {
        file,
        name: file,
        fault: 'KMS | throttling',
        step: 'DisableKey',
        knownIssue: null,
        expect: DELETION,
        scenario: {} as FaultRow['case']['scenario'],
      },
      outcome: 'ABORTED',
      cause: 'WORKFLOW_ERROR',
      finalState: 'Enabled',
      unsafe,
      mismatches,
      elapsedMs: 1,
    });

    // Act
    const table = renderFaultTable([row('a.json', [], []), row('b.json', ['ended ABORTED'], ['cause'])]);

    // Assess
    const lines = table.split('\n');
    expect(lines[0]).toBe('| fault | step | outcome | key state | safe? |');
    expect(lines[2]).toBe('| KMS \\| throttling | DisableKey | ABORTED (WORKFLOW_ERROR) | Enabled | yes |');
    expect(lines[3]).toContain('| UNSAFE |');
    expect(table).toContain('- b.json: UNSAFE: ended ABORTED');
    expect(table).toContain('- b.json: cause');
    expect(table).not.toContain('- a.json');
  });
});
