import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenarioFile } from '../../lib/simulator/scenario.js';
import { simulate } from '../../lib/simulator/simulate.js';

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

async function run(name: string) {
  return simulate(loadScenarioFile(join(SCENARIOS, `${name}.json`)));
}

function kinds(result: Awaited<ReturnType<typeof run>>): string[] {
  return result.notifications.map((n) => n.kind);
}

/** Whether the workflow reached the step that changes the key. */
function workflowChanged(result: Awaited<ReturnType<typeof run>>): boolean {
  return result.timeline.some((t) => t.state === 'DisableKey');
}

describe('bundled scenarios, end to end', () => {
  it('quiet key: disabled, watched 30 days, approved, scheduled for deletion after the pending watch', async () => {
    // Act
    const result = await run('quiet-key-deleted');

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.executionStatus).toBe('SUCCEEDED');
    expect(result.key.finalState).toBe('PendingDeletion');
    expect(result.key.deletionDate).toMatch(/^2026-03-0/);
    expect(result.evidence).toEqual([]);
    expect(kinds(result)).toEqual(['approval-request', 'approval-request']);
    const states = result.timeline.map((t) => t.state);
    expect(states.indexOf('DisableKey')).toBeLessThan(states.indexOf('FinalCheck'));
    expect(states.indexOf('FinalCheck')).toBeLessThan(states.indexOf('ScheduleDeletion'));
    expect(states.filter((s) => s === 'CheckForBreakage').length).toBe(120);
  });

  it('monthly batch job through an alias: rolled back, evidence names the job role', async () => {
    // Act
    const result = await run('monthly-batch-rolled-back');

    // Assess
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.restoredAt).not.toBeNull();
    expect(result.evidence.length).toBeGreaterThanOrEqual(1);
    expect(result.evidence[0]).toMatchObject({
      eventName: 'Decrypt',
      principal: 'arn:aws:iam::111122223333:role/monthly-billing-batch',
    });
    // The job failed on 2026-01-05 02:00; the next 6-hour check (plus lag) finds it.
    const restored = Date.parse(result.key.restoredAt as string);
    expect(restored - Date.parse('2026-01-05T02:00:00Z')).toBeLessThanOrEqual((6 * 60 + 30) * 60_000);
    // The other application on a prefix-sharing alias never counts as evidence.
    expect(result.evidence.every((e) => !e.principal.includes('billing-v2'))).toBe(true);
    expect(kinds(result)).toEqual(['approval-request', 'rolled-back']);
  });

  it('recently used key: refused, nothing changed', async () => {
    const result = await run('recently-used-refused');
    expect(result.outcome).toBe('REFUSED');
    expect(result.cause).toBe('RECENTLY_USED');
    expect(result.key.finalState).toBe('Enabled');
    expect(workflowChanged(result)).toBe(false);
    expect(kinds(result)).toEqual(['refused']);
  });

  it('AWS-managed key: refused, nothing changed', async () => {
    const result = await run('aws-managed-refused');
    expect(result.outcome).toBe('REFUSED');
    expect(result.cause).toBe('AWS_MANAGED_KEY');
    expect(result.key.finalState).toBe('Enabled');
    expect(workflowChanged(result)).toBe(false);
  });

  it('disable approval rejected: REJECTED, key untouched', async () => {
    const result = await run('disable-rejected');
    expect(result.outcome).toBe('REJECTED');
    expect(result.key.finalState).toBe('Enabled');
    expect(workflowChanged(result)).toBe(false);
    expect(kinds(result)).toEqual(['approval-request']);
  });

  it('deletion approval timeout after disable: APPROVAL_EXPIRED, key restored to Enabled', async () => {
    const result = await run('deletion-approval-timeout');
    expect(result.outcome).toBe('APPROVAL_EXPIRED');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.deletionDate).toBeNull();
    expect(result.key.restoredAt).not.toBeNull();
    expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'approval-expired']);
  });

  it("key re-enabled by a person mid-watch: ABORTED, the person's choice stands", async () => {
    const result = await run('re-enabled-by-person');
    expect(result.outcome).toBe('ABORTED');
    expect(result.cause).toBe('KEY_CHANGED_EXTERNALLY');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.timeline.map((t) => t.state)).not.toContain('ScheduleDeletion');
    expect(kinds(result)).toEqual(['approval-request', 'aborted']);
  });

  it('use during the pending window: deletion cancelled, key left Disabled', async () => {
    const result = await run('pending-window-use');
    expect(result.outcome).toBe('DELETION_CANCELLED');
    expect(result.key.finalState).toBe('Disabled');
    expect(result.key.deletionDate).toBeNull();
    expect(result.evidence[0]).toMatchObject({
      principal: 'arn:aws:iam::111122223333:role/yearly-archive-restore',
    });
    expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'deletion-cancelled']);
  });

  it('key created before tracking began: history searched back as far as retention reaches, then deleted', async () => {
    const result = await run('before-tracking-never-used');
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.timeline[1]?.detail).toMatchObject({ usage: 'UNKNOWN_BEFORE_TRACKING' });
    const request = JSON.stringify(result.notifications[0]);
    expect(request).toContain('UNKNOWN_BEFORE_TRACKING');
    // Retention is 365 days before 2026-01-01: the e-mail says the search reached back to 2025-01-01.
    expect(request).toContain('2025-01-01');
  });

  it('covers every bundled scenario', () => {
    // Prepare
    const bundled = readdirSync(SCENARIOS)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));

    // Act
    const covered = [...readFileSync(import.meta.filename, 'utf8').matchAll(/run\('([a-z-]+)'\)/g)].map(
      (m) => m[1],
    );

    // Assess
    expect(new Set(covered)).toEqual(new Set(bundled));
  });
});
