import { LambdaTimeoutError, simulate } from '../../../lib/simulator/simulate.js';
import { resultSchemaErrors } from './schemas.js';

const KEY_ID = '3e7f8a9b-0c1d-4e2f-8a3b-5c6d7e8f9a0b';
const APP = 'arn:aws:iam::111122223333:role/app';

function scenario(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'world',
    start: '2026-02-01T00:00:00Z',
    keys: [{ keyId: KEY_ID, createdAt: '2024-01-01T00:00:00Z' }],
    input: { keyId: KEY_ID, observationDays: 2 },
    config: { watchPendingWindow: false, pendingWindowInDays: 7 },
    ...extra,
  };
}

describe('runUntil: the world after the execution', () => {
  it('goes on to runUntil: calls keep coming and KMS answers them', async () => {
    // Prepare: an AWS managed key is refused at once.
    const refused = {
      keys: [{ keyId: KEY_ID, createdAt: '2024-01-01T00:00:00Z', manager: 'AWS' }],
      calls: [{ at: '+P1D', keyId: KEY_ID, operation: 'Encrypt', principal: APP, every: 'P1D' }],
    };

    // Act
    const ended = await simulate(scenario(refused));
    const onwards = await simulate(scenario({ ...refused, runUntil: '+P3D' }));

    // Assess
    expect(ended.outcome).toBe('REFUSED');
    expect(ended.calls).toEqual([]);
    expect(onwards.outcome).toBe('REFUSED');
    expect(onwards.calls.map((c) => [c.at, c.ok])).toEqual([
      ['2026-02-02T00:00:00.000Z', true],
      ['2026-02-03T00:00:00.000Z', true],
      ['2026-02-04T00:00:00.000Z', true],
    ]);
  });

  it('by default goes on until KMS deletes the scheduled key: finalState Deleted, deletionDate kept', async () => {
    // Act
    const result = await simulate(scenario());

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
    expect(result.key.deletionDate).toBe('2026-02-10T00:30:00.000Z');
    expect(result.timeline.at(-1)).toMatchObject({ state: 'KeyDeleted', at: '2026-02-10T00:30:00.000Z' });
    expect(resultSchemaErrors(result)).toEqual([]);
  });

  it('stops short of the DeletionDate when runUntil says so, leaving the key pending deletion', async () => {
    // Act
    const result = await simulate(scenario({ runUntil: '+P5D' }));

    // Assess
    expect(result.key.finalState).toBe('PendingDeletion');
    expect(result.timeline.some((e) => e.state === 'KeyDeleted')).toBe(false);
  });
});

describe("approvals.disableAfter / deletionAfter: the approver's delay", () => {
  it('a rejection two hours after the request arrives through the approval page and ends the run REJECTED', async () => {
    // Act
    const result = await simulate(scenario({ approvals: { disable: 'reject', disableAfter: 'PT2H' } }));

    // Assess
    expect(result.outcome).toBe('REJECTED');
    expect(result.key.finalState).toBe('Enabled');
    const answer = result.timeline.find((e) => e.state === 'ApprovalAnswer');
    expect(answer).toMatchObject({
      at: '2026-02-01T02:00:00.000Z',
      detail: { step: 'disable', answer: 'reject', result: 'accepted' },
    });
  });

  it('an answer at once (no delay) takes the path it always took: no answer entry', async () => {
    // Act
    const result = await simulate(scenario({ approvals: { disable: 'reject' } }));

    // Assess
    expect(result.outcome).toBe('REJECTED');
    expect(result.timeline.some((e) => e.state === 'ApprovalAnswer')).toBe(false);
  });
});

describe('function timeouts in virtual time', () => {
  it("fails a handler whose searches outlive its timeout with Lambda's own error, and the workflow aborts unchanged", async () => {
    // Prepare: a key older than usage tracking makes AssessKey search its history; one page takes
    // longer than the function may run, so even the first page (a search always reads one) is cut off.
    const data = scenario({
      keys: [{ keyId: KEY_ID, createdAt: '2025-01-01T00:00:00Z', trackingStartDate: '2026-01-01T00:00:00Z' }],
      cloudTrail: { backgroundPerDay: 5_000, retentionDays: 40, searchPageLatencyMs: 400_000 },
    });

    // Act
    const result = await simulate(data);
    const quick = await simulate({
      ...data,
      cloudTrail: { backgroundPerDay: 5_000, retentionDays: 40, searchPageLatencyMs: 1 },
    });

    // Assess
    expect(result.timeline.find((e) => e.state === 'AssessKey')?.detail.error).toBe('Sandbox.Timedout');
    expect(result.outcome).toBe('ABORTED');
    expect(result.timeline.some((e) => e.state === 'DisableKey')).toBe(false);
    expect(result.key.finalState).toBe('Enabled');
    expect(quick.timeline.find((e) => e.state === 'AssessKey')?.detail.error).toBeUndefined();
  });

  it('stops a search that would outlive its timeout by name, within the time, and the workflow aborts unchanged', async () => {
    // Prepare: a page takes a minute; the history needs more pages than the assessment's 300 s hold.
    const data = scenario({
      keys: [{ keyId: KEY_ID, createdAt: '2025-01-01T00:00:00Z', trackingStartDate: '2026-01-01T00:00:00Z' }],
      cloudTrail: { backgroundPerDay: 5_000, retentionDays: 40, searchPageLatencyMs: 60_000 },
    });

    // Act
    const result = await simulate(data);

    // Assess
    expect(result.timeline.find((e) => e.state === 'AssessKey')?.detail.error).toBe('SearchIncompleteError');
    expect(result.outcome).toBe('ABORTED');
    expect(result.timeline.some((e) => e.state === 'DisableKey')).toBe(false);
    expect(result.key.finalState).toBe('Enabled');
  });

  it('words the timeout as the Lambda runtime does', () => {
    // Act
    const error = new LambdaTimeoutError(900, 'abc');

    // Assess
    expect(error.name).toBe('Sandbox.Timedout');
    expect(error.message).toBe('RequestId: abc Error: Task timed out after 900.00 seconds');
  });
});

describe('cloudTrail.backgroundPerDay in a simulation', () => {
  it('makes every check read the busy group: the scan counts grow with the records a day', async () => {
    // Act
    const quiet = await simulate(scenario());
    const busy = await simulate(scenario({ cloudTrail: { backgroundPerDay: 200_000, retentionDays: 30 } }));

    // Assess: two days of observation read at least two days of records.
    expect(quiet.stats.logEventsScanned).toBeLessThan(1000);
    expect(busy.stats.logEventsScanned).toBeGreaterThan(2 * 200_000);
    expect(busy.outcome).toBe(quiet.outcome);
  });
});
