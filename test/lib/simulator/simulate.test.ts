import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BUNDLED_SCENARIOS } from '../../../lib/cli/demo.js';
import type { SimulationReport } from '../../../lib/simulator/result.js';
import { ScenarioError } from '../../../lib/simulator/scenario.js';
import { simulate } from '../../../lib/simulator/simulate.js';
import { renderResult, renderSummary } from '../../../lib/simulator/timeline.js';
import { resultSchemaErrors, scenarioSchemaErrors } from './schemas.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const APP = 'arn:aws:iam::111122223333:role/app';

function scenario(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test',
    start: '2026-01-01T00:00:00Z',
    keys: [{ keyId: KEY_ID, createdAt: '2024-01-01T00:00:00Z', aliases: ['alias/legacy'] }],
    input: { keyId: KEY_ID, observationDays: 3 },
    config: { watchPendingWindow: false, pendingWindowInDays: 7 },
    ...extra,
  };
}

describe('simulate', () => {
  it('runs a quiet key through observation to DELETION_SCHEDULED in virtual time, and on until KMS deletes it', async () => {
    // Act
    const result = await simulate(scenario());

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key).toMatchObject({ keyId: KEY_ID, finalState: 'Deleted', restoredAt: null });
    // 3 days + 30 min ingestion lag, then a 7-day window from the final check.
    expect(result.key.deletionDate).toBe('2026-01-11T00:30:00.000Z');
    expect(result.timeline.at(-1)).toMatchObject({
      at: '2026-01-11T00:30:00.000Z',
      state: 'KeyDeleted',
      detail: { keyId: KEY_ID, deletionDate: '2026-01-11T00:30:00.000Z' },
    });
    expect(result.timeline[0]?.at).toBe('2026-01-01T00:00:00.000Z');
    expect(result.timeline.find((e) => e.state === 'DisableKey')?.detail.disabledAt).toBe(
      '2026-01-01T00:00:00.000Z',
    );
    expect(result.notifications.map((n) => n.kind)).toEqual(['approval-request', 'approval-request']);
    // The watch is one task-token state; its 12 checks (3 days, every 6 h) run as scheduled invocations.
    const checks = result.timeline.filter((e) => e.handler === 'check');
    expect(checks.map((e) => e.state)).toEqual(Array(12).fill('CheckForBreakage'));
    expect(checks[0]?.at).toBe('2026-01-01T06:00:00.000Z');
    expect(checks.at(-1)).toMatchObject({
      at: '2026-01-04T00:00:00.000Z',
      detail: { answered: 'success', done: true, broke: false, checks: 12 },
    });
    expect(result.timeline.filter((e) => e.state === 'WatchForBreakage')).toHaveLength(1);
    expect(result.stats.stateTransitions).toBe(result.timeline.length - checks.length - 1);
    // AssessKey, the two inventories, the two approval requests, DisableKey, the watch's start,
    // FinalCheck and ScheduleDeletion, and the 12 checks.
    expect(result.stats.lambdaInvocations).toBe(9 + 12);
    expect(resultSchemaErrors(result)).toEqual([]);
  });

  it('gives Date back to the real clock afterwards', async () => {
    // Act
    await simulate(scenario({ input: { keyId: 'alias/legacy' } }));

    // Assess
    expect(Math.abs(Date.now() - performance.timeOrigin - performance.now())).toBeLessThan(60_000);
  });

  it('is deterministic: the same scenario gives the same result', async () => {
    // Prepare
    const data = scenario({
      calls: [
        {
          at: '+P1D',
          keyId: 'alias/legacy',
          operation: 'Decrypt',
          principal: APP,
          every: 'PT12H',
          until: '+P2D',
        },
      ],
      cloudTrail: { background: 500 },
    });

    // Act
    const first = await simulate(data);
    const second = await simulate(data);

    // Assess
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('delivers application calls at their virtual instants; the disabled key answers DisabledException', async () => {
    // Act
    const result = await simulate(
      scenario({
        calls: [
          { at: '-P1D', keyId: 'alias/legacy', operation: 'Decrypt', principal: APP },
          {
            at: '+P1D',
            keyId: 'alias/legacy',
            operation: 'Decrypt',
            principal: APP,
            every: 'PT6H',
            until: '+P1DT6H',
          },
        ],
        // The polling watch alone: the fast path would give the key back before the second call.
        config: { minIdleDays: 0, fastRollback: false },
      }),
    );

    // Assess
    expect(result.calls.map((c) => [c.at, c.ok, c.errorCode ?? null])).toEqual([
      ['2025-12-31T00:00:00.000Z', true, null],
      ['2026-01-02T00:00:00.000Z', false, 'DisabledException'],
      ['2026-01-02T06:00:00.000Z', false, 'DisabledException'],
    ]);
    expect(result.evidence.length).toBeGreaterThan(0);
    expect(result.evidence.every((e) => e.principal === APP)).toBe(true);
  });

  it('ends a breakage in ROLLED_BACK with the key usable again', async () => {
    // Act
    const result = await simulate(
      scenario({ calls: [{ at: '+P1D', keyId: 'alias/legacy', operation: 'Decrypt', principal: APP }] }),
    );

    // Assess
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.restoredAt).not.toBeNull();
    expect(result.evidence[0]).toMatchObject({ eventName: 'Decrypt', principal: APP });
  });

  it('answers an invalid execution input through the workflow, not as a scenario error', async () => {
    // Act
    const result = await simulate(scenario({ input: { observationDays: 3 } }));

    // Assess
    expect(result).toMatchObject({ outcome: 'REFUSED', cause: 'INVALID_INPUT' });
    expect(result.key.finalState).toBe('Enabled');
  });

  it('turns a configuration the stack rejects into a ScenarioError naming config', async () => {
    // Act / Assess
    await expect(simulate(scenario({ config: { observationDays: 0 } }))).rejects.toThrow(
      expect.objectContaining({
        name: 'ScenarioError',
        message: expect.stringMatching(/^config: observationDays/),
      }),
    );
  });

  it('restores the key when the check chain cannot answer its token: Lambda retries twice, then the heartbeat times out', async () => {
    // Act: the check function may neither answer nor fail its token (a missing IAM grant).
    const result = await simulate(
      scenario({
        faults: [
          { service: 'sfn', operation: 'SendTaskSuccess', error: 'AccessDeniedException' },
          { service: 'sfn', operation: 'SendTaskFailure', error: 'AccessDeniedException' },
        ],
      }),
    );

    // Assess
    const failed = result.timeline.filter((e) => e.handler === 'check' && e.detail.error !== undefined);
    expect(failed.map((e) => [e.at, e.detail.lambdaRetry ?? 0, e.detail.dropped ?? false])).toEqual([
      ['2026-01-04T00:00:00.000Z', 0, false],
      ['2026-01-04T00:01:00.000Z', 1, false],
      ['2026-01-04T00:03:00.000Z', 2, true],
    ]);
    expect(result.timeline.find((e) => e.state === 'WatchForBreakage')?.detail.error).toBe(
      'States.HeartbeatTimeout',
    );
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
    // The last heartbeat came with Lambda's second retry; 2 x 6 h + 30 min + 1 h later the task timed out.
    expect(result.key.restoredAt).toBe('2026-01-04T13:33:00.000Z');
    expect(resultSchemaErrors(result)).toEqual([]);
  });

  it('restores the key at once when the chain cannot answer its token but can fail it', async () => {
    // Act: SendTaskSuccess is refused; the check reports that as a failure of the watch.
    const result = await simulate(
      scenario({
        faults: [{ service: 'sfn', operation: 'SendTaskSuccess', error: 'AccessDeniedException' }],
      }),
    );

    // Assess
    expect(result.timeline.find((e) => e.state === 'WatchForBreakage')?.detail.error).toBe(
      'AccessDeniedException',
    );
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.restoredAt).toBe('2026-01-04T00:00:00.000Z');
  });

  it('refuses faults of a service it does not simulate', async () => {
    // Act / Assess
    await expect(
      simulate(scenario({ faults: [{ service: 'events', operation: '*', error: 'InternalException' }] })),
    ).rejects.toThrow(ScenarioError);
  });
});

describe('bundled scenarios (test/scenarios)', () => {
  const files = readdirSync(BUNDLED_SCENARIOS)
    .filter((f) => f.endsWith('.json'))
    .sort();
  /** Filled as each scenario runs; the README check runs the ones a filtered run skipped. */
  const results = new Map<string, SimulationReport>();

  async function resultOf(file: string): Promise<SimulationReport> {
    const known = results.get(file);
    if (known) return known;
    const result = await simulate(JSON.parse(readFileSync(join(BUNDLED_SCENARIOS, file), 'utf8')));
    results.set(file, result);
    return result;
  }

  it('has scenarios to run', () => {
    // Assess
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s matches the scenario schema and its result matches the result schema', async (file) => {
    // Prepare
    const data: unknown = JSON.parse(readFileSync(join(BUNDLED_SCENARIOS, file), 'utf8'));
    expect(scenarioSchemaErrors(data)).toEqual([]);

    // Act
    const result = await simulate(data);
    results.set(file, result);

    // Assess
    expect(resultSchemaErrors(result)).toEqual([]);
  });

  it("is what the README's demo sample shows: one scenario's timeline and the summary, as `npm run demo` prints them", async () => {
    // Prepare
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    const sample = /<!-- demo-sample:begin[^\n]*-->\n```\n([\s\S]*?)```\n<!-- demo-sample:end -->/.exec(
      readme,
    )?.[1];
    const rows = [];
    for (const file of files) {
      rows.push({ file: basename(file, '.json'), result: await resultOf(file) });
    }

    // Act
    const shown = renderResult(await resultOf('monthly-batch-rolled-back.json'));
    const summary = renderSummary(rows);

    // Assess: a mismatch means the wording or a scenario changed; paste the new `npm run demo` output.
    expect(sample).toBe(`${shown}\n\n${summary}\n`);
  });
});
