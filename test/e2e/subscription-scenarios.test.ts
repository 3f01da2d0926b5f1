import { join } from 'node:path';
import type { ResultTimelineEntry, SimulationReport } from '../../lib/simulator/result.js';
import { type ScenarioRun, scenarioCoverage, scenarioRuns } from './scenario-runs.js';

/**
 * The stack whose sweep reads a subscription of the log group (test/scenarios/subscription/):
 * CloudWatch Logs hands every failed KMS call to the Deliveries function as it ingests it, the
 * DeliveryProof function proves every five minutes that no delivery was lost, and the checks read the
 * delivered sightings and the proof. Nothing searches the log group. Each scenario runs once.
 */

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios', 'subscription');

type Run = ScenarioRun;

const run = scenarioRuns(SCENARIOS);

function deliveries(result: SimulationReport): ResultTimelineEntry[] {
  return result.timeline.filter((e) => e.state === 'Subscription');
}

function proofs(result: SimulationReport): ResultTimelineEntry[] {
  return result.timeline.filter((e) => e.state === 'ScheduledRule' && e.handler === 'delivery-proof');
}

function checks(result: SimulationReport): ResultTimelineEntry[] {
  return result.timeline.filter((e) =>
    ['CheckForBreakage', 'FinalCheck', 'CheckPendingUse', 'CheckAtDeletionDate'].includes(e.state),
  );
}

/** No function of the run read a page of the log group. */
function searchedPages({ invocations }: Run): number {
  return invocations.reduce((n, i) => n + i.pages, 0);
}

describe('subscription scenarios, end to end', () => {
  it('a quiet key: the checks read what was delivered and the proof, nothing searches the log group, and KMS deletes the key', async () => {
    // Act
    const done = await run('subscription-quiet-key-deleted');
    const { result, records } = done;

    // Assess: the final check waits the ingestion lag and the subscription's proof lag (30 + 25 min).
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.timeline.find((e) => e.state === 'FinalCheck')?.at).toBe('2026-03-03T00:55:00.000Z');
    expect(result.key).toMatchObject({ finalState: 'Deleted', deletionDate: '2026-03-10T00:55:00.000Z' });
    expect(records.some((r) => r.eventName === 'DeleteKey')).toBe(true);
    expect(searchedPages(done)).toBe(0);
    // The other key's failures and the canaries were delivered; every proof passed.
    expect(deliveries(result).length).toBeGreaterThan(30);
    expect(proofs(result).length).toBeGreaterThan(9 * 24 * 12 - 12);
    expect(proofs(result).every((e) => e.detail.error === undefined && e.detail.outcome === 'PROVEN')).toBe(
      true,
    );
    expect(checks(result).some((e) => e.detail.error !== undefined)).toBe(false);
  });

  it('no fast path: the record of a call failed by alias is delivered within minutes, and the next check rolls the key back', async () => {
    // Act
    const done = await run('subscription-polling-rolls-back');
    const { result } = done;

    // Assess
    expect(result.timeline.map((e) => e.state)).not.toContain('FastPath');
    expect(
      deliveries(result).some(
        (e) => e.at > '2026-03-01T08:00:00.000Z' && e.at < '2026-03-01T08:10:00.000Z' && e.detail.holds === 1,
      ),
    ).toBe(true);
    expect(checks(result).map((e) => [e.at, e.detail.broke])).toEqual([
      ['2026-03-01T06:00:00.000Z', false],
      ['2026-03-01T12:00:00.000Z', true],
    ]);
    expect(searchedPages(done)).toBe(0);
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.evidence).toEqual([
      expect.objectContaining({
        eventName: 'Decrypt',
        eventTime: '2026-03-01T08:00:00Z',
        errorCode: 'DisabledException',
        principal: 'arn:aws:iam::111122223333:role/report-reader',
      }),
    ]);
  });

  it('a record CloudTrail delivers eight hours late arrives when it is ingested, and the next check rolls the key back', async () => {
    // Act
    const { result, records } = await run('subscription-late-record-found');

    // Assess: failed at 05:00, ingested at 13:00; the 06:00 and 12:00 checks saw nothing, the 18:00 one broke.
    expect(checks(result).map((e) => [e.at, e.detail.broke])).toEqual([
      ['2026-03-01T06:00:00.000Z', false],
      ['2026-03-01T12:00:00.000Z', false],
      ['2026-03-01T18:00:00.000Z', true],
    ]);
    expect(
      deliveries(result).some((e) => e.at > '2026-03-01T13:00:00.000Z' && e.at < '2026-03-01T13:10:00.000Z'),
    ).toBe(true);
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(records.some((r) => r.eventName === 'ScheduleKeyDeletion')).toBe(false);
    expect(result.evidence).toEqual([expect.objectContaining({ eventTime: '2026-03-01T05:00:00Z' })]);
  });

  it('the log group and its subscription are gone on day 1: the proof fails, the checks fail closed with SweepBehindError, the key is restored', async () => {
    // Act
    const { result, records } = await run('subscription-log-group-deleted');

    // Assess
    expect(proofs(result).some((e) => e.detail.error === 'ResourceNotFoundException')).toBe(true);
    expect(checks(result).at(-1)).toMatchObject({
      detail: { answered: 'failure', error: 'SweepBehindError' },
    });
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
    expect(records.some((r) => r.eventName === 'ScheduleKeyDeletion')).toBe(false);
  });

  it('a delivery refused for access and skipped: its failed call never arrives, but the metrics count it, and the key is restored, never deleted', async () => {
    // Act
    const { result, records } = await run('subscription-delivery-denied');

    // Assess: the 02:30 failure's delivery was refused; no check ever saw it, and none passed after it.
    expect(deliveries(result).some((e) => e.detail.deliveryError === 'AccessDeniedException')).toBe(true);
    expect(checks(result).some((e) => e.detail.broke === true)).toBe(false);
    expect(checks(result).at(-1)).toMatchObject({
      detail: { answered: 'failure', error: 'SweepBehindError' },
    });
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
    expect(records.some((r) => r.eventName === 'ScheduleKeyDeletion')).toBe(false);
  });

  it('a failure just before the observation ends, delivered within the ingestion lag, is seen by the final check', async () => {
    // Act
    const { result, records } = await run('subscription-failure-before-final-check');

    // Assess
    expect(result.timeline.find((e) => e.state === 'FinalCheck')?.detail).toMatchObject({ broke: true });
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(records.some((r) => r.eventName === 'ScheduleKeyDeletion')).toBe(false);
  });

  it('covers every subscription scenario', () => {
    // Act
    const { files, covered } = scenarioCoverage(SCENARIOS, 'subscription-', import.meta.filename);

    // Assess
    expect(covered).toEqual(files);
  });
});
