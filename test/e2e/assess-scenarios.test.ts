import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenarioFile } from '../../lib/simulator/scenario.js';
import { type SimulateOptions, simulate } from '../../lib/simulator/simulate.js';
import { resultSchemaErrors, scenarioSchemaErrors } from '../lib/simulator/schemas.js';

/**
 * The assessment's "what cannot be proven is not safe" rules, end to end in the simulator: a
 * cadence of known uses longer than the observation, and a public key whose download the history
 * cannot rule out. Calls before `start` are history the log group already holds.
 */

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios', 'assess');

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

/** The text of the first e-mail of a kind. */
function message(result: Result, kind: string): string {
  const found = result.notifications.find((n) => n.kind === kind) as { message?: string } | undefined;
  return (found?.message ?? '').replace(/\s+/g, ' ');
}

function workflowChanged(result: Result): boolean {
  return result.timeline.some((t) => t.state === 'DisableKey');
}

describe('assessment scenarios: usage cadence', () => {
  it('a quarterly job under a 30-day observation: REFUSED OBSERVATION_TOO_SHORT, naming 90 days, nothing changed', async () => {
    // Act
    const result = await run('assess-quarterly-job-observation-too-short');

    // Assess
    expect(result.outcome).toBe('REFUSED');
    expect(result.cause).toBe('OBSERVATION_TOO_SHORT');
    expect(result.key.finalState).toBe('Enabled');
    expect(workflowChanged(result)).toBe(false);
    expect(kinds(result)).toEqual(['refused']);
    const text = message(result, 'refused');
    expect(text).toContain('known successful uses 90 days apart');
    expect(text).toContain('An observation of at least 90 days covers that gap.');
    expect(text).toContain('"observationDays": 90 or more');
    // Retention is 400 days: the search says it reached back to 2024-11-27.
    expect(text).toContain(
      'searched for earlier uses from 2024-11-27T00:00:00.000Z to 2026-01-01T00:00:00.000Z',
    );
  });

  it('the same job under a 100-day observation: accepted, and the job failing on day 40 rolls the key back', async () => {
    // Act
    const result = await run('assess-quarterly-job-long-observation');

    // Assess
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.evidence[0]).toMatchObject({
      eventName: 'Decrypt',
      errorCode: 'DisabledException',
      principal: 'arn:aws:iam::111122223333:role/quarterly-close',
    });
    expect(Date.parse(result.evidence[0]?.eventTime ?? '')).toBe(Date.parse('2026-02-10T00:00:00Z'));
    expect(message(result, 'approval-request')).toContain(
      'no gap between uses is longer than the 100-day observation',
    );
  });

  it('a key busy for 200 days, idle for 120: the bounded search finds no long gap and the key goes to deletion', async () => {
    // Act
    const result = await run('assess-daily-job-then-idle');

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    // The execution guards the key until its deletion date, when KMS deletes it.
    expect(result.key.finalState).toBe('Deleted');
    const text = message(result, 'approval-request');
    expect(text).toContain('no gap between uses is longer than the 30-day observation');
    expect(text).toContain('(busy stretches are sampled, not counted)');
    expect(text).not.toContain('Only one successful use');
  });
});

describe('assessment scenarios: a public key whose download cannot be ruled out', () => {
  it('history shorter than the key life: REFUSED PUBLIC_KEY_EXPORTED, saying how far back it reached', async () => {
    // Act
    const result = await run('assess-public-key-history-too-short');

    // Assess
    expect(result.outcome).toBe('REFUSED');
    expect(result.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(result.key.finalState).toBe('Enabled');
    expect(workflowChanged(result)).toBe(false);
    const text = message(result, 'refused');
    expect(text).toContain(
      "the searchable history reaches back only to 2025-01-01T00:00:00.000Z (the log group's retention of 365 days), " +
        "not to the key's creation (2024-01-15T00:00:00.000Z)",
    );
    expect(text).toContain(
      'A download of its public key before 2025-01-01T00:00:00.000Z cannot be ruled out',
    );
    expect(text).toContain('"allowExportedPublicKey": true');
  });

  it('the same key with allowExportedPublicKey: accepted, the e-mail says how far back the history reached', async () => {
    // Act
    const result = await run('assess-public-key-allowed-short-history');

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    const text = message(result, 'approval-request');
    expect(text).toContain('CloudTrail was searched for GetPublicKey only from 2025-01-01T00:00:00.000Z');
    expect(text).toContain('a download cannot be ruled out');
  });

  it('history that covers the key life and shows no download: the key goes to deletion', async () => {
    // Act
    const result = await run('assess-public-key-history-covers-life');

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(message(result, 'approval-request')).toContain(
      'no GetPublicKey found from 2025-03-01T00:00:00.000Z to 2026-01-01T00:00:00.000Z',
    );
    expect(message(result, 'approval-request')).not.toContain('cannot be ruled out');
  });
});
