import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EmulatedAccount } from '../../lib/simulator/emulator/account.js';
import { loadScenarioFile } from '../../lib/simulator/scenario.js';
import { type SimulateOptions, simulate } from '../../lib/simulator/simulate.js';

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

async function run(name: string, options: SimulateOptions = {}) {
  return simulate(loadScenarioFile(join(SCENARIOS, `${name}.json`)), options);
}

function kinds(result: Awaited<ReturnType<typeof run>>): string[] {
  return result.notifications.map((n) => n.kind);
}

/** Whether the workflow reached the step that changes the key. */
function workflowChanged(result: Awaited<ReturnType<typeof run>>): boolean {
  return result.timeline.some((t) => t.state === 'DisableKey');
}

describe('bundled scenarios, end to end', () => {
  it('quiet key: disabled, watched 30 days, approved, scheduled for deletion after the pending watch, deleted by KMS', async () => {
    // Prepare
    let tags: Readonly<Record<string, string>> = {};

    // Act
    const result = await run('quiet-key-deleted', {
      inspect: (account) => {
        tags = account.inspectKey('1234abcd-12ab-34cd-56ef-1234567890ab')?.tags ?? {};
      },
    });

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.executionStatus).toBe('SUCCEEDED');
    // The execution stays running (the fast path active) until the deletion date, when KMS deletes the key.
    expect(result.key.finalState).toBe('Deleted');
    expect(result.key.deletionDate).toMatch(/^2026-03-0/);
    expect(result.timeline.find((t) => t.state === 'DeletionScheduled')?.at).toBe(result.key.deletionDate);
    expect(result.evidence).toEqual([]);
    expect(kinds(result)).toEqual(['approval-request', 'approval-request']);
    const states = result.timeline.map((t) => t.state);
    expect(states.indexOf('DisableKey')).toBeLessThan(states.indexOf('FinalCheck'));
    expect(states.indexOf('FinalCheck')).toBeLessThan(states.indexOf('ScheduleDeletion'));
    expect(states.filter((s) => s === 'CheckForBreakage').length).toBe(120);
    // Each watch is one task-token state and its checks run as scheduled invocations, so the
    // state transitions stay far below 200 per key however many checks there are.
    const scheduled = result.timeline.filter((t) => t.handler === 'check');
    expect(scheduled.filter((t) => t.state === 'CheckForBreakage')).toHaveLength(120);
    // The world's own entries (KMS deleting the key) are no state of the execution.
    const world = result.timeline.filter((t) => t.state === 'KeyDeleted');
    expect(world.map((t) => t.at)).toEqual([result.key.deletionDate]);
    expect(result.stats.stateTransitions).toBe(result.timeline.length - scheduled.length - world.length);
    expect(result.stats.stateTransitions).toBeLessThanOrEqual(30);
    // Both decisions are on the key itself, beside the execution history: the name the approver typed
    // on the page, labelled self-declared, and the address the request came from.
    expect(tags['kms-deletion-guard:disable-approved-by']).toBe(
      'self-declared simulator at 2026-01-01T00:00:00.000Z from 203.0.113.10',
    );
    expect(tags['kms-deletion-guard:deletion-approved-by']).toMatch(
      /^self-declared simulator at 2026-01-31T00:30.* from 203\.0\.113\.10$/,
    );
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

  it('trail that excludes KMS events: the first canary is missing, ABORTED before any deletion, key Enabled', async () => {
    // Act
    const result = await run('trail-excludes-kms-events');

    // Assess
    expect(result.outcome).toBe('ABORTED');
    expect(result.cause).toBe('EVENT_SOURCE_BLIND');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.deletionDate).toBeNull();
    // The first check, one interval after the disable, requires the disable's canary.
    expect(result.key.restoredAt).toBe('2026-01-01T06:00:00.000Z');
    const states = result.timeline.map((t) => t.state);
    expect(states).not.toContain('FinalCheck');
    expect(states).not.toContain('ScheduleDeletion');
    expect(result.evidence).toEqual([]);
    expect(kinds(result)).toEqual(['approval-request', 'aborted']);
    // The approval e-mail warned (doctor); the abort e-mail says what was missing and what to check.
    expect(JSON.stringify(result.notifications[0])).toContain('excludes KMS events (kms.amazonaws.com)');
    const aborted = JSON.stringify(result.notifications[1]);
    expect(aborted).toContain('The canary Encrypt on arn:aws:kms:us-east-1:111122223333:key/c0ffee00');
    expect(aborted).toContain('What to check in the trail');
    expect(aborted).toContain('ExcludeManagementEventSources');
  });

  it('trail switched to write-only on day 10 of a 14-day watch: caught at the next check, key restored', async () => {
    // Act
    const result = await run('trail-write-only-day-10');

    // Assess
    expect(result.outcome).toBe('ABORTED');
    expect(result.cause).toBe('EVENT_SOURCE_BLIND');
    expect(result.key.finalState).toBe('Enabled');
    // The canary of the check at the switch (day 10, 00:00) is dropped; the next check (06:00) misses it.
    expect(result.key.restoredAt).toBe('2026-01-11T06:00:00.000Z');
    const checks = result.timeline.filter((t) => t.state === 'CheckForBreakage');
    expect(checks.at(-2)?.detail).toMatchObject({ checks: 40, broke: false, canariesSeen: 40 });
    expect(checks.at(-1)?.detail).toMatchObject({ error: 'EventSourceBlindError' });
    expect(result.timeline.map((t) => t.state)).not.toContain('FinalCheck');
    expect(result.evidence).toEqual([]);
    expect(kinds(result)).toEqual(['approval-request', 'aborted']);
    expect(JSON.stringify(result.notifications[1])).toContain('2026-01-11T00:00:00.000Z');
  });

  it('logging stopped during the pending window: deletion cancelled, key restored to Enabled', async () => {
    // Act
    const result = await run('pending-window-logging-stopped');

    // Assess
    expect(result.outcome).toBe('ABORTED');
    expect(result.cause).toBe('EVENT_SOURCE_BLIND');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.deletionDate).toBeNull();
    // Logging stops on day 10; the pending check at 06:30 misses the 00:30 canary.
    expect(result.key.restoredAt).toBe('2026-01-11T06:30:00.000Z');
    const restore = result.timeline.find((t) => t.state === 'Restore');
    expect(restore?.detail).toMatchObject({ actions: ['CancelKeyDeletion', 'EnableKey'] });
    const states = result.timeline.map((t) => t.state);
    expect(states.indexOf('ScheduleDeletion')).toBeLessThan(states.indexOf('Restore'));
    expect(result.evidence).toEqual([]);
    expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'aborted']);
  });

  it('healthy trail with 20,000 background records: every canary seen, none is evidence, deletion scheduled', async () => {
    // Act
    const result = await run('healthy-trail-with-noise');

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
    expect(result.key.deletionDate).toBe('2026-01-22T00:30:00.000Z');
    expect(result.evidence).toEqual([]);
    expect(kinds(result)).toEqual(['approval-request', 'approval-request']);
    // The breakage searches saw the canaries' DisabledException records and counted none.
    const final = result.timeline.find((t) => t.state === 'FinalCheck');
    expect(final?.detail).toMatchObject({ evidenceCount: 0, canariesSeen: 57 });
    expect(Number(final?.detail.scanned)).toBeGreaterThanOrEqual(56);
    const last = result.timeline.filter((t) => t.state === 'CheckPendingUse').at(-1);
    expect(last?.detail).toMatchObject({ done: true, evidenceCount: 0, canariesSeen: 86 });
    // The approval e-mail carries no trail warning: the emulated trail is healthy.
    expect(JSON.stringify(result.notifications[0])).not.toContain('CloudTrail setup');
  });

  it("covers every bundled scenario, the demo's and those of the folders each end-to-end file runs", () => {
    // Prepare
    const bundled = readdirSync(SCENARIOS, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.json'))
      .map((f) => basename(f, '.json'));

    // Act: this file and the other end-to-end files that run bundled scenarios the same way (the
    // inventory file names its scenarios in a table).
    const specs = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.test.ts'));
    const covered = specs.flatMap((spec) => {
      const text = readFileSync(join(import.meta.dirname, spec), 'utf8');
      return [
        ...text.matchAll(/run\('([a-z0-9-]+)'[,)]/g),
        ...text.matchAll(/'(inventory-[a-z0-9-]+)'/g),
      ].map((m) => m[1]);
    });

    // Assess
    expect(new Set(covered)).toEqual(new Set(bundled));
  });

  describe('the fast path (EventBridge) beside the polling watch', () => {
    const LAG_MS = 2 * 60_000;
    const since = (result: Awaited<ReturnType<typeof run>>, at: string) =>
      Date.parse(result.key.restoredAt as string) - Date.parse(at);
    const fastPathActions = (result: Awaited<ReturnType<typeof run>>) =>
      result.timeline.filter((t) => t.state === 'FastPath').map((t) => t.detail.actions);
    const keyState = (account: EmulatedAccount | undefined, keyId: string) =>
      account?.inspectKey(keyId)?.state;

    it('key used two days into the watch is back within minutes: ROLLED_BACK, one e-mail naming the caller', async () => {
      // Act
      const result = await run('fast-path-rolled-back');

      // Assess
      expect(result.outcome).toBe('ROLLED_BACK');
      expect(result.key.finalState).toBe('Enabled');
      expect(since(result, '2026-03-03T00:10:00Z')).toBeGreaterThan(0);
      expect(since(result, '2026-03-03T00:10:00Z')).toBeLessThanOrEqual(LAG_MS + 60_000);
      expect(result.evidence).toEqual([
        expect.objectContaining({
          eventName: 'Decrypt',
          errorCode: 'DisabledException',
          principal: 'arn:aws:iam::111122223333:role/nightly-report',
        }),
      ]);
      expect(kinds(result)).toEqual(['approval-request', 'rolled-back']);
      const evidenceMail = result.notifications[1];
      expect(evidenceMail?.at).toBe(result.key.restoredAt);
      expect(String(evidenceMail?.message)).toContain('arn:aws:iam::111122223333:role/nightly-report');
      expect(fastPathActions(result)).toEqual([['EnableKey']]);
      // The execution meets the fast path's work at its next check, and does not e-mail again.
      const states = result.timeline.map((t) => t.state);
      expect(states).not.toContain('NotifyRolledBack');
      expect(states.at(-1)).toBe('RolledBack');
    });

    it('every event dropped: the polling watch still rolls back within one check interval plus the lag', async () => {
      // Act
      const result = await run('fast-path-events-dropped');

      // Assess
      expect(result.outcome).toBe('ROLLED_BACK');
      expect(result.key.finalState).toBe('Enabled');
      expect(since(result, '2026-03-03T00:10:00Z')).toBeGreaterThan(LAG_MS + 60_000);
      expect(since(result, '2026-03-03T00:10:00Z')).toBeLessThanOrEqual((6 * 60 + 30) * 60_000);
      expect(fastPathActions(result)).toEqual([]);
      expect(result.evidence[0]?.principal).toBe('arn:aws:iam::111122223333:role/nightly-report');
      expect(kinds(result)).toEqual(['approval-request', 'rolled-back']);
      expect(result.timeline.map((t) => t.state)).toContain('NotifyRolledBack');
    });

    it('a DisabledException on another key whose alias shares our prefix changes nothing', async () => {
      // Prepare
      let account: EmulatedAccount | undefined;

      // Act
      const result = await run('fast-path-other-key-prefix', {
        inspect: (a) => {
          account = a;
        },
      });

      // Assess
      expect(result.outcome).toBe('DELETION_SCHEDULED');
      expect(result.key.finalState).toBe('Deleted');
      expect(result.key.restoredAt).toBeNull();
      expect(result.evidence).toEqual([]);
      expect(fastPathActions(result)).toEqual([]);
      expect(kinds(result)).toEqual(['approval-request', 'approval-request']);
      expect(result.calls.filter((c) => c.errorCode === 'DisabledException').length).toBeGreaterThanOrEqual(
        3,
      );
      expect(keyState(account, 'abcd0000-0000-4000-8000-000000000005')).toBe('Disabled');
    });

    it('a key a person disabled during the run stays disabled; only the workflow’s key comes back', async () => {
      // Prepare
      let account: EmulatedAccount | undefined;

      // Act
      const result = await run('fast-path-person-disabled', {
        inspect: (a) => {
          account = a;
        },
      });

      // Assess
      expect(result.calls.map((c) => [c.operation, c.ok, c.errorCode ?? null])).toEqual([
        ['DisableKey', true, null],
        ['Decrypt', false, 'DisabledException'],
        ['GenerateDataKey', false, 'DisabledException'],
      ]);
      expect(keyState(account, 'abcd0000-0000-4000-8000-000000000006')).toBe('Disabled');
      expect(account?.inspectKey('abcd0000-0000-4000-8000-000000000006')?.tags).toEqual({});
      expect(result.outcome).toBe('ROLLED_BACK');
      expect(result.key.finalState).toBe('Enabled');
      expect(since(result, '2026-03-05T01:00:00Z')).toBeLessThanOrEqual(LAG_MS + 60_000);
      expect(fastPathActions(result)).toEqual([['EnableKey']]);
      expect(result.evidence.map((e) => e.principal)).toEqual(['arn:aws:iam::111122223333:role/invoicing']);
      expect(kinds(result)).toEqual(['approval-request', 'rolled-back']);
    });

    it('use during the pending window cancels the deletion within minutes; the key stays Disabled', async () => {
      // Act
      const result = await run('fast-path-pending-window-use');

      // Assess
      expect(result.outcome).toBe('DELETION_CANCELLED');
      expect(result.key.finalState).toBe('Disabled');
      expect(result.key.deletionDate).toBeNull();
      expect(since(result, '2026-03-13T07:00:00Z')).toBeLessThanOrEqual(LAG_MS + 60_000);
      expect(result.evidence[0]).toMatchObject({
        errorCode: 'KMSInvalidStateException',
        principal: 'arn:aws:iam::444455556666:role/partner-import',
      });
      expect(fastPathActions(result)).toEqual([['CancelKeyDeletion']]);
      expect(kinds(result)).toEqual(['approval-request', 'approval-request', 'deletion-cancelled']);
    });
  });
});
