import { join } from 'node:path';
import type { ResultTimelineEntry, SimulationReport } from '../../lib/simulator/result.js';
import { type ScenarioRun, scenarioCoverage, scenarioRuns } from './scenario-runs.js';

/**
 * The stack with a sweep (test/scenarios/sweep/): one Lambda, run every five minutes by the
 * template's scheduled rule, searches the log group for every held key and leaves each hold's records
 * in the registry; the checks read those instead of searching. Each scenario runs once; its tests read
 * the result and what the emulated account kept.
 */

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios', 'sweep');
const FIVE_MINUTES = 5 * 60_000;

type Run = ScenarioRun;

const run = scenarioRuns(SCENARIOS);

function sweeps(result: SimulationReport): ResultTimelineEntry[] {
  return result.timeline.filter((e) => e.state === 'ScheduledRule' && e.handler === 'sweep');
}

function checks(result: SimulationReport): ResultTimelineEntry[] {
  return result.timeline.filter((e) =>
    ['CheckForBreakage', 'FinalCheck', 'CheckPendingUse', 'CheckAtDeletionDate'].includes(e.state),
  );
}

/** The handlers whose invocations searched the log group (read FilterLogEvents pages). */
function searchers({ invocations, functionIds }: Run): Set<string> {
  const handlerOf = new Map([...functionIds].map(([handler, id]) => [id, handler]));
  return new Set(
    invocations.filter((i) => i.pages > 0).map((i) => handlerOf.get(i.functionName) ?? i.functionName),
  );
}

describe('sweep scenarios, end to end', () => {
  it('a quiet key: the checks read the hourly sweep, only the last looks search their tail, and KMS deletes the key', async () => {
    // Act
    const done = await run('sweep-quiet-key-deleted');
    const { result, records } = done;

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key).toMatchObject({ finalState: 'Deleted', deletionDate: '2026-03-10T00:30:00.000Z' });
    expect(records.find((r) => r.eventName === 'DeleteKey')?.eventTime).toBe('2026-03-10T00:30:00Z');
    // The rule ran the sweep every five minutes, from the start to the deletion, and a sweep was
    // due every hour.
    const ran = sweeps(result);
    const gaps = new Set(ran.slice(1).map((e, i) => Date.parse(e.at) - Date.parse(ran[i]?.at ?? '')));
    expect(gaps).toEqual(new Set([FIVE_MINUTES]));
    expect(ran[0]?.at).toBe('2026-03-01T00:00:00.000Z');
    expect(ran.at(-1)?.at).toBe('2026-03-10T00:30:00.000Z');
    const swept = ran.filter((e) => e.detail.outcome === 'SWEPT');
    expect(swept.length).toBeGreaterThanOrEqual(9 * 24);
    expect(swept.every((e) => e.detail.holds === 1)).toBe(true);
    expect(ran.some((e) => e.detail.error !== undefined)).toBe(false);
    // The checks and ScheduleDeletion read the sweep's sightings; only the two last looks (the final
    // check, the check at the deletion date) search, each the tail since the last sweep: one page here.
    expect(checks(result).length).toBeGreaterThan(10);
    expect(checks(result).some((e) => e.detail.error !== undefined)).toBe(false);
    expect([...searchers(done)].sort()).toEqual(['check', 'sweep']);
    const checkId = done.functionIds.get('check');
    expect(
      done.invocations.filter((i) => i.functionName === checkId && i.pages > 0).map((i) => i.pages),
    ).toEqual([1, 1]);
  });

  it('no fast path: the next sweep records a failed call, and the next check rolls the key back', async () => {
    // Act
    const done = await run('sweep-polling-rolls-back');
    const { result } = done;

    // Assess: the call failed at 08:00; the 09:00 sweep is the first to match one more record (the
    // others it matches are the checks' canaries); the 06:00 check saw nothing, the 12:00 one rolled back.
    expect(result.timeline.map((e) => e.state)).not.toContain('FastPath');
    const matchedAt = (at: string) => sweeps(result).find((e) => e.at === at)?.detail.matched;
    expect(Number(matchedAt('2026-03-01T09:00:00.000Z'))).toBe(
      Number(matchedAt('2026-03-01T08:00:00.000Z')) + 1,
    );
    expect(matchedAt('2026-03-01T11:00:00.000Z')).toBe(matchedAt('2026-03-01T09:00:00.000Z'));
    expect(checks(result).map((e) => [e.at, e.detail.broke])).toEqual([
      ['2026-03-01T06:00:00.000Z', false],
      ['2026-03-01T12:00:00.000Z', true],
    ]);
    expect([...searchers(done)]).toEqual(['sweep']);
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key).toMatchObject({ finalState: 'Enabled', restoredAt: '2026-03-01T12:00:00.000Z' });
    expect(result.evidence).toEqual([
      expect.objectContaining({
        eventName: 'Decrypt',
        eventTime: '2026-03-01T08:00:00Z',
        errorCode: 'DisabledException',
        principal: 'arn:aws:iam::111122223333:role/report-reader',
      }),
    ]);
  });

  it('a record delivered eight hours late, after the checks whose windows held its time, is still found before any deletion', async () => {
    // Act
    const { result, records } = await run('sweep-late-record-found');

    // Assess: the call failed at 05:00 and its record reached the group at 13:00, after the checks of
    // 06:00 and 12:00, which saw nothing; a later check, reading a sweep that searched the whole hold
    // again, rolled the key back before the observation ended: no deletion was ever requested.
    const broke = checks(result).filter((e) => e.detail.broke === true);
    expect(
      checks(result)
        .slice(0, 2)
        .map((e) => [e.at, e.detail.broke]),
    ).toEqual([
      ['2026-03-01T06:00:00.000Z', false],
      ['2026-03-01T12:00:00.000Z', false],
    ]);
    expect(broke).toHaveLength(1);
    expect(Date.parse(result.key.restoredAt ?? '')).toBeGreaterThan(Date.parse('2026-03-01T13:00:00Z'));
    expect(result.notifications.some((n) => n.step === 'deletion')).toBe(false);
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(records.some((r) => r.eventName === 'ScheduleKeyDeletion')).toBe(false);
    expect(result.evidence).toEqual([
      expect.objectContaining({
        eventTime: '2026-03-01T05:00:00Z',
        principal: 'arn:aws:iam::111122223333:role/nightly-export',
      }),
    ]);
  });

  /**
   * A sweep that cannot search: each failed sweep is in the timeline, retried twice by Lambda and
   * dropped, and the run goes on; the next check finds the sightings too old, retries while a sweep
   * could still catch up, then fails closed, and the key is restored, never scheduled for deletion.
   */
  async function assessSweepCannotSearch(done: Run, sweepError: string, restoredAt: string): Promise<void> {
    const { result, records } = done;
    const failed = sweeps(result).filter((e) => e.detail.error === sweepError);
    expect(failed.length).toBeGreaterThan(3);
    expect(failed.some((e) => e.detail.dropped === 'RetriesExhausted' && e.detail.lambdaRetry === 2)).toBe(
      true,
    );
    // The check retried on SweepBehindError (a sweep may catch up), then failed with it.
    expect(checks(result).some((e) => e.detail.outcome === 'RETRY_SCHEDULED')).toBe(true);
    expect(checks(result).at(-1)).toMatchObject({
      at: restoredAt,
      detail: { answered: 'failure', error: 'SweepBehindError' },
    });
    expect(result.outcome).toBe('ABORTED');
    expect(result.key).toMatchObject({ finalState: 'Enabled', restoredAt });
    expect(records.some((r) => r.eventName === 'ScheduleKeyDeletion')).toBe(false);
    const aborted = result.notifications.find((n) => n.kind === 'aborted');
    expect(String(aborted?.message)).toContain('SweepBehindError');
  }

  it('the log group is deleted on day 1: every sweep fails, the 06:00 check of day 2 and its retries fail closed with SweepBehindError, the key is restored', async () => {
    // Act
    const done = await run('sweep-log-group-deleted');

    // Assess: the last good sweep ended at 23:00; at 00:00 its sightings were still young enough; the
    // 06:00 check and its retries found them too old until the last retry at 09:15.
    await assessSweepCannotSearch(done, 'EventSourceUnavailableError', '2026-03-02T09:15:00.000Z');
  });

  it("the sweep's read access to the log group is denied from hour 2: the first check and its retries fail closed with SweepBehindError, the key is restored", async () => {
    // Act
    const done = await run('sweep-logs-access-denied');

    // Assess
    await assessSweepCannotSearch(done, 'AccessDeniedException', '2026-03-01T09:15:00.000Z');
  });

  // The final check reads the sightings of the last sweep, which ended before the final check's own
  // time (here 00:00, the final check 00:30): a failure in the last minutes of the observation,
  // delivered within the ingestion lag the final check waits for, is in none of them. The final check
  // searches that tail itself; with no pending watch nothing else would look before KMS deletes the key.
  it('a failure just before the observation ends, delivered within the ingestion lag, is seen by the final check', async () => {
    // Act
    const { result, records } = await run('sweep-failure-before-final-check');

    // Assess
    expect(result.timeline.find((e) => e.state === 'FinalCheck')?.detail).toMatchObject({ broke: true });
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(records.some((r) => r.eventName === 'ScheduleKeyDeletion')).toBe(false);
  });

  it('covers every sweep scenario', () => {
    // Act
    const { files, covered } = scenarioCoverage(SCENARIOS, 'sweep-', import.meta.filename);

    // Assess
    expect(covered).toEqual(files);
  });
});
