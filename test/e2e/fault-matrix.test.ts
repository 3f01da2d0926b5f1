import { readdirSync } from 'node:fs';
import {
  FAULT_DIR,
  type FaultCase,
  loadFaultMatrix,
  runFaultCase,
} from '../../lib/simulator/fault-matrix.js';

/**
 * Every fault of test/faults/ run end to end in the simulator; each row must end safe and exactly as
 * its `expect` block says. A row marked `knownIssue` names a bug still to fix elsewhere: it is
 * expected to fail here, so the day it passes the marker has to go.
 *
 * Idempotent retries of steps whose KMS change already succeeded are also proved per handler:
 * disabling a disabled key (test/lambdas/disable: "on a retry after DisableKey succeeded"), enabling
 * an enabled key (test/lambdas/restore: "ROLLBACK run twice enables once"), scheduling a key already
 * pending (test/lambdas/schedule-deletion: "treats a key this execution already scheduled as
 * success"). Approvals answered twice, after the timeout or for the wrong step are rows of
 * test/e2e/bad-input-matrix.test.ts.
 */
const cases = loadFaultMatrix();

function title(c: FaultCase): string {
  return `${c.file}: ${c.fault} at ${c.step} -> ${c.expect.outcome}, key ${c.expect.finalState}`;
}

describe('fault matrix, end to end', () => {
  it('loads every file of test/faults', () => {
    // Prepare
    const files = readdirSync(FAULT_DIR).filter((f) => f.endsWith('.json'));

    // Act
    const loaded = cases.map((c) => c.file);

    // Assess
    expect(loaded.sort()).toEqual(files.sort());
  });

  it('covers every fault class: KMS and Logs errors, a person acting on the key, late and cross-account records, every step', () => {
    // Prepare
    const steps = new Set(cases.map((c) => c.step));
    const faults = cases.flatMap((c) => c.scenario.faults);
    const operations = cases.flatMap((c) => c.scenario.calls.map((call) => call.operation));

    // Assess
    for (const error of ['ThrottlingException', 'KMSInternalException', 'DependencyTimeoutException']) {
      expect(faults.some((f) => f.service === 'kms' && f.error === error)).toBe(true);
    }
    expect(faults.some((f) => f.service === 'logs' && f.error === 'ResourceNotFoundException')).toBe(true);
    expect(faults.some((f) => f.service === 'logs' && f.error === 'ThrottlingException')).toBe(true);
    expect(faults.some((f) => f.service === 'logs' && f.operation === 'FilterLogEvents')).toBe(true);
    for (const person of ['EnableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'UntagResource']) {
      expect(operations).toContain(person);
    }
    expect(cases.some((c) => c.scenario.calls.some((call) => call.deliveryLagMs !== null))).toBe(true);
    expect(cases.some((c) => c.scenario.calls.some((call) => call.account !== null))).toBe(true);
    expect(cases.some((c) => c.expect.cause === 'HELD_BY_ANOTHER_EXECUTION')).toBe(true);
    for (const step of ['AssessKey', 'DisableKey', 'CheckForBreakage', 'FinalCheck', 'ScheduleDeletion']) {
      expect(steps).toContain(step);
    }
    for (const step of ['CheckPendingUse', 'RollBack', 'CancelDeletion']) {
      expect(steps).toContain(step);
    }
  });

  for (const c of cases) {
    const test = c.knownIssue ? it.fails : it;
    test(title(c), async () => {
      // Act
      const row = await runFaultCase(c);

      // Assess
      expect(row.unsafe).toEqual([]);
      expect(row.mismatches).toEqual([]);
    });
  }
});
