import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatedAccount } from '../../lib/simulator/emulator/account.js';
import { loadScenarioFile } from '../../lib/simulator/scenario.js';
import { type SimulateOptions, simulate } from '../../lib/simulator/simulate.js';
import { resultSchemaErrors, scenarioSchemaErrors } from '../lib/simulator/schemas.js';

/**
 * The watch against the world as it is: failures in the last minutes before the deletion date, and
 * records CloudTrail delivers days after the call. Each scenario's key is disabled on 2026-01-01,
 * observed 7 days (FinalCheck at 2026-01-08T00:30Z) and scheduled for deletion with a 7-day window:
 * KMS deletes it on 2026-01-15T00:30Z, and the last pending check runs 20 minutes before.
 */

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios', 'watch');
const DELETION_AT = '2026-01-15T00:30:00.000Z';
const LAST_PENDING_CHECK_AT = '2026-01-15T00:10:00.000Z';
const FINAL_CHECK_AT = '2026-01-08T00:30:00.000Z';
const HOUR_MS = 3_600_000;

/** Runs the scenario, holding its file and its result to the shared contracts (these scenarios are not in the demo's run). */
async function run(name: string, options: SimulateOptions = {}) {
  const file = join(SCENARIOS, `${name}.json`);
  expect(scenarioSchemaErrors(JSON.parse(readFileSync(file, 'utf8')))).toEqual([]);
  const result = await simulate(loadScenarioFile(file), options);
  expect(resultSchemaErrors(result)).toEqual([]);
  return result;
}

type Result = Awaited<ReturnType<typeof run>>;

function kinds(result: Result): string[] {
  return result.notifications.map((n) => n.kind);
}

function entries(result: Result, state: string) {
  return result.timeline.filter((t) => t.state === state);
}

function fastPathActions(result: Result): unknown[] {
  return entries(result, 'FastPath').flatMap((t) => (t.detail.actions as unknown[] | undefined) ?? []);
}

describe('guarded until the key is gone', () => {
  it('a failure 10 minutes before the deletion date, after the last pending check: the fast path cancels the deletion', async () => {
    // Act
    const result = await run('watch-last-minutes-fast-path');

    // Assess
    expect(result.outcome).toBe('DELETION_CANCELLED');
    expect(result.key.finalState).toBe('Disabled');
    expect(fastPathActions(result)).toEqual(['CancelKeyDeletion']);
    const restoredAt = Date.parse(result.key.restoredAt ?? '');
    expect(restoredAt).toBeGreaterThan(Date.parse('2026-01-15T00:20:00Z'));
    expect(restoredAt).toBeLessThan(Date.parse(DELETION_AT));
    // The polling watch had ended quiet: only a running execution let the fast path act.
    const pending = entries(result, 'CheckPendingUse');
    expect(pending.at(-1)).toMatchObject({ at: LAST_PENDING_CHECK_AT, detail: { done: true, broke: false } });
    expect(entries(result, 'WaitForDeletionDate')).toHaveLength(1);
    expect(entries(result, 'CheckAtDeletionDate')[0]?.at).toBe(DELETION_AT);
    expect(result.evidence.map((e) => e.principal)).toContain(
      'arn:aws:iam::111122223333:role/year-end-close',
    );
    // One e-mail: the fast path's; the execution only ends with its outcome.
    expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'deletion-cancelled']);
  });

  it('every EventBridge event dropped: a failure 45 minutes before the deletion date is found by the last pending check', async () => {
    // Act
    const result = await run('watch-last-hour-polling-only');

    // Assess
    expect(result.outcome).toBe('DELETION_CANCELLED');
    expect(result.key.finalState).toBe('Disabled');
    expect(fastPathActions(result)).toEqual([]);
    expect(result.key.restoredAt).toBe(LAST_PENDING_CHECK_AT);
    expect(entries(result, 'CheckPendingUse').at(-1)?.detail).toMatchObject({
      broke: true,
      answered: 'success',
    });
    expect(result.evidence[0]).toMatchObject({
      eventTime: '2026-01-14T23:45:00Z',
      principal: 'arn:aws:iam::111122223333:role/year-end-close',
      errorCode: 'KMSInvalidStateException',
    });
    expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'deletion-cancelled']);
  });

  it('a record that reaches the log group only after the last check, EventBridge dropping it: the key is deleted and the caller is still reported', async () => {
    // Act
    const result = await run('watch-record-after-last-check');

    // Assess: the one failure the guarantee does not cover (its record reached neither EventBridge nor
    // the log group in time) is not hidden.
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
    expect(result.evidence).toEqual([
      expect.objectContaining({
        eventTime: '2026-01-14T22:30:00Z',
        principal: 'arn:aws:iam::111122223333:role/ledger-export',
      }),
    ]);
    expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'evidence-too-late']);
    expect(result.notifications.at(-1)?.message).toContain('too late to cancel the deletion');
  });
});

describe('no record is skipped for being late', () => {
  it('a failure on day 2 delivered three days late, behind every observation window: FinalCheck finds it and rolls back', async () => {
    // Act
    const result = await run('watch-late-record-observation');

    // Assess
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    // Every incremental check had passed the call's time before its record arrived.
    const observation = entries(result, 'CheckForBreakage');
    expect(observation.length).toBeGreaterThan(20);
    expect(
      observation.every((t) => t.detail.evidenceCount === 0 || t.detail.evidenceCount === undefined),
    ).toBe(true);
    expect(entries(result, 'FinalCheck')[0]?.detail).toMatchObject({ broke: true, evidenceCount: 1 });
    expect(result.key.restoredAt).toBe(FINAL_CHECK_AT);
    expect(result.evidence).toEqual([
      expect.objectContaining({
        eventTime: '2026-01-03T03:00:00Z',
        principal: 'arn:aws:iam::111122223333:role/ledger-export',
        errorCode: 'DisabledException',
      }),
    ]);
    expect(kinds(result)).toEqual(['approval-request', 'rolled-back']);
  });

  it('a failure in the pending window delivered two days late: the first pending check after it arrives cancels the deletion', async () => {
    // Act
    const result = await run('watch-late-record-pending');

    // Assess
    expect(result.outcome).toBe('DELETION_CANCELLED');
    expect(result.key.finalState).toBe('Disabled');
    const arrived = Date.parse('2026-01-12T03:00:00Z');
    const restoredAt = Date.parse(result.key.restoredAt ?? '');
    expect(restoredAt).toBeGreaterThan(arrived);
    expect(restoredAt - arrived).toBeLessThanOrEqual(6 * HOUR_MS + HOUR_MS / 2);
    expect(result.evidence[0]).toMatchObject({
      eventTime: '2026-01-10T03:00:00Z',
      errorCode: 'KMSInvalidStateException',
    });
    expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'deletion-cancelled']);
  });
});

describe('evidence first', () => {
  it('a caller fails, then a person re-enables the key before the next check: the check still searches and reports the caller', async () => {
    // Prepare
    let account: EmulatedAccount | undefined;

    // Act
    const result = await run('watch-failures-then-person-re-enables', {
      inspect: (a) => {
        account = a;
      },
    });

    // Assess
    const check = entries(result, 'CheckForBreakage').find((t) => t.at === '2026-01-04T06:00:00.000Z');
    expect(check?.detail).toMatchObject({ evidenceCount: 1, keyState: 'Enabled' });
    expect(result.key.finalState).toBe('Enabled');
    expect(result.evidence).toEqual([
      expect.objectContaining({
        eventTime: '2026-01-04T01:00:00Z',
        principal: 'arn:aws:iam::111122223333:role/ledger-export',
      }),
    ]);
    expect(result.notifications.at(-1)?.message).toContain('arn:aws:iam::111122223333:role/ledger-export');
    // The person enabled the key; the workflow did not enable it a second time.
    const enables = (account?.records() ?? []).filter(
      (e) => e.record.eventName === 'EnableKey' && e.record.errorCode === undefined,
    );
    expect(enables.map((e) => e.workflow)).toEqual([false]);
  });
});
