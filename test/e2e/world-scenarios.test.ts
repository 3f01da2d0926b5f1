import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatedAccount, Invocation } from '../../lib/simulator/emulator/account.js';
import type { SimulationReport } from '../../lib/simulator/result.js';
import { loadScenarioFile } from '../../lib/simulator/scenario.js';
import { simulate } from '../../lib/simulator/simulate.js';
import { resultSchemaErrors, scenarioSchemaErrors } from '../lib/simulator/schemas.js';

/**
 * The world as it is (test/scenarios/world-*.json): records without keyId, services calling for a
 * role, calls only the caller's account logs, EventBridge events lost or late, tags stripped or
 * forged, aliases moved, a person's deletion, late approvals, a busy log group, and the world going
 * on until KMS deletes the key. Each scenario is run once; its tests read the result and what the
 * emulated account kept.
 */

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios', 'world');

interface Run {
  readonly result: SimulationReport;
  /** Every CloudTrail record the key's account logged, by event name. */
  readonly records: readonly { readonly eventName: string; readonly record: Record<string, unknown> }[];
  readonly tags: Readonly<Record<string, string>>;
  readonly throttled: number;
  /** Every Lambda invocation, with the virtual time its searches took. */
  readonly invocations: readonly Invocation[];
}

const runs = new Map<string, Promise<Run>>();

function run(name: string): Promise<Run> {
  let pending = runs.get(name);
  if (!pending) {
    const file = join(SCENARIOS, `${name}.json`);
    const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
    expect(scenarioSchemaErrors(data)).toEqual([]);
    let records: Run['records'] = [];
    let tags: Run['tags'] = {};
    let throttled = 0;
    let invocations: readonly Invocation[] = [];
    const keyId = String((data as { input: { keyId: string } }).input.keyId);
    pending = simulate(loadScenarioFile(file), {
      inspect: (account: EmulatedAccount) => {
        records = account.records().map((e) => ({
          eventName: e.record.eventName,
          record: e.record as unknown as Record<string, unknown>,
        }));
        tags = account.inspectKey(keyId)?.tags ?? {};
        throttled = account.stats().throttled;
        invocations = account.invocations();
      },
    }).then((result) => {
      expect(resultSchemaErrors(result)).toEqual([]);
      return { result, records, tags, throttled, invocations };
    });
    runs.set(name, pending);
  }
  return pending;
}

function states(result: SimulationReport): string[] {
  return result.timeline.map((e) => e.state);
}

describe('world scenarios, end to end', () => {
  it('S3 decrypts for a role without naming the key: the record without keyId is evidence, the key rolled back', async () => {
    // Act
    const { result, records } = await run('world-sse-decrypt-without-key-id');

    // Assess
    const failed = records.find(
      (r) => r.eventName === 'Decrypt' && r.record.errorCode === 'DisabledException',
    );
    expect(failed?.record.requestParameters ?? {}).not.toHaveProperty('keyId');
    expect(failed?.record.userIdentity).toMatchObject({ invokedBy: 's3.amazonaws.com' });
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.evidence).toHaveLength(1);
    expect(result.evidence[0]).toMatchObject({
      eventName: 'Decrypt',
      principal: 'arn:aws:iam::111122223333:role/quarterly-report-reader',
      sourceIPAddress: 's3.amazonaws.com',
    });
  });

  it("a failing call's EventBridge event is lost: the next polling check rolls the key back", async () => {
    // Act
    const { result } = await run('world-event-dropped-polling-catches');

    // Assess: the call failed at 01:00; no fast path, the 06:00 check found it.
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(states(result)).not.toContain('FastPath');
    expect(result.key.restoredAt).toBe('2026-02-04T06:00:00.000Z');
  });

  it("every other event is dropped but this call's arrives 20 minutes late: the fast path rolls back then", async () => {
    // Act
    const { result } = await run('world-event-late-fast-path');

    // Assess
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.timeline.find((e) => e.state === 'FastPath')?.at).toBe('2026-02-04T01:20:00.000Z');
    expect(result.key.restoredAt).toBe('2026-02-04T01:20:00.000Z');
  });

  it("a partner's calls logged only in the partner's trail are invisible here: KMS deletes the key and later calls find it gone", async () => {
    // Act
    const { result, records } = await run('world-cross-account-logged-by-caller-only');

    // Assess: the partner's calls failed in KMS, and none reached this account's trail.
    const partner = result.calls.filter((c) => c.principal.includes('444455556666'));
    expect(partner.some((c) => c.errorCode === 'DisabledException')).toBe(true);
    expect(partner.at(-1)?.errorCode).toBe('NotFoundException');
    expect(records.filter((r) => JSON.stringify(r.record).includes('444455556666'))).toEqual([]);
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key).toMatchObject({ finalState: 'Deleted', deletionDate: '2026-02-15T00:30:00.000Z' });
    expect(records.find((r) => r.eventName === 'DeleteKey')?.record.eventTime).toBe('2026-02-15T00:30:00Z');
  });

  it('a tag janitor strips the hold tags: only those go, the rest of the tags stay', async () => {
    // Act
    const { records, tags } = await run('world-tags-stripped-then-caller-fails');

    // Assess
    expect(records.find((r) => r.eventName === 'UntagResource')?.record.requestParameters).toEqual({
      keyId: '1e5f6a7b-8c9d-4e0f-8a1b-3c4d5e6f7a8b',
      tagKeys: [
        'kms-deletion-guard:execution',
        'kms-deletion-guard:status',
        'kms-deletion-guard:disabled-at',
      ],
    });
    expect(tags.team).toBe('data');
  });

  it('a tag janitor strips the hold tags: the workflow restores the key it disabled (what it did is the truth), and the caller works', async () => {
    // Act
    const { result } = await run('world-tags-stripped-then-caller-fails');

    // Assess
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.restoredAt).toBe('2026-02-03T00:00:00.000Z');
    expect(result.calls.find((c) => c.operation === 'Decrypt')).toMatchObject({ ok: true });
  });

  it("tags that name this execution on a key a person disabled: the workflow does not enable the person's key", async () => {
    // Act
    const { result, records } = await run('world-tags-forged-on-disabled-key');

    // Assess
    expect(records.filter((r) => r.eventName === 'EnableKey')).toEqual([]);
    expect(result.key.finalState).toBe('Disabled');
    expect(result.outcome).toBe('REFUSED');
  });

  it('an alias created during the watch and the old one deleted: the failure through the new alias rolls the key back', async () => {
    // Act
    const { result, records } = await run('world-alias-created-during-watch');

    // Assess
    expect(records.find((r) => r.eventName === 'CreateAlias')?.record.resources).toMatchObject([
      { ARN: 'arn:aws:kms:us-east-1:111122223333:key/3a7b8c9d-0e1f-4a2b-8c3d-5e6f7a8b9c0d' },
      { ARN: 'arn:aws:kms:us-east-1:111122223333:alias/new-name' },
    ]);
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.evidence[0]).toMatchObject({ eventName: 'GenerateDataKey' });
  });

  it("a person schedules the held key's deletion with a 7-day window: KMS deletes it on the 7th day unless cancelled", async () => {
    // Act
    const { result, records } = await run('world-person-schedules-deletion');

    // Assess: the person's window is the one KMS used.
    const scheduled = records.find((r) => r.eventName === 'ScheduleKeyDeletion' && !r.record.errorCode);
    expect(scheduled?.record.requestParameters).toMatchObject({ pendingWindowInDays: 7 });
    expect(scheduled?.record.responseElements).toMatchObject({ deletionDate: '2026-02-10T00:00:00.000Z' });
    expect(
      result.calls.some((c) => c.operation === 'Decrypt' && c.errorCode === 'KMSInvalidStateException'),
    ).toBe(true);
    // Either the deletion was cancelled in time, or KMS deleted the key on the person's date.
    const deleted = result.timeline.find((e) => e.state === 'KeyDeleted');
    const cancelled = records.some((r) => r.eventName === 'CancelKeyDeletion' && !r.record.errorCode);
    expect(cancelled ? result.key.finalState : deleted?.at).toBe(
      cancelled ? 'Disabled' : '2026-02-10T00:00:00.000Z',
    );
  });

  it("a person schedules the held key's deletion while callers fail: the workflow cancels it, the key stays Disabled", async () => {
    // Act
    const { result } = await run('world-person-schedules-deletion');

    // Assess
    expect(result.outcome).toBe('DELETION_CANCELLED');
    expect(result.key.finalState).toBe('Disabled');
    expect(result.evidence[0]).toMatchObject({ principal: 'arn:aws:iam::111122223333:role/payments' });
  });

  it('the disable approval answered a day after it expired: refused by Step Functions, nothing changed', async () => {
    // Act
    const { result, records } = await run('world-late-disable-approval');

    // Assess
    expect(result.outcome).toBe('APPROVAL_EXPIRED');
    expect(result.key.finalState).toBe('Enabled');
    expect(records.filter((r) => r.eventName === 'DisableKey')).toEqual([]);
    expect(result.timeline.at(-1)).toMatchObject({
      at: '2026-02-09T00:00:00.000Z',
      state: 'ApprovalAnswer',
      detail: {
        step: 'disable',
        answer: 'approve',
        result: 'expired',
        changed: false,
        keyState: 'Enabled',
        note: 'approval answer after expiry: nothing changed',
      },
    });
  });

  it('the deletion approval arrives after it expired, when the key is already restored: nothing changes', async () => {
    // Act
    const { result, records } = await run('world-late-deletion-approval');

    // Assess
    expect(result.outcome).toBe('APPROVAL_EXPIRED');
    expect(result.key).toMatchObject({ finalState: 'Enabled', deletionDate: null });
    expect(records.filter((r) => r.eventName === 'ScheduleKeyDeletion')).toEqual([]);
    const answer = result.timeline.find((e) => e.state === 'ApprovalAnswer');
    expect(answer?.detail).toMatchObject({ step: 'deletion', result: 'expired', keyState: 'Enabled' });
    expect(Date.parse(answer?.at ?? '')).toBeGreaterThan(Date.parse(result.key.restoredAt ?? ''));
  });

  it('a deletion approval that waits three days is still taken; KMS deletes the key and later calls find it gone', async () => {
    // Act
    const { result, records } = await run('world-deletion-approved-after-days');

    // Assess
    const answers = result.timeline.filter((e) => e.state === 'ApprovalAnswer');
    expect(answers.map((e) => [e.at, e.detail.step, e.detail.result])).toEqual([
      ['2026-02-01T04:00:00.000Z', 'disable', 'accepted'],
      ['2026-02-11T04:30:00.000Z', 'deletion', 'accepted'],
    ]);
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key).toMatchObject({ finalState: 'Deleted', deletionDate: '2026-02-18T04:30:00.000Z' });
    expect(records.find((r) => r.eventName === 'DeleteKey')?.record.eventTime).toBe('2026-02-18T04:30:00Z');
    const late = result.calls.filter((c) => c.operation === 'Decrypt');
    expect(late.length).toBeGreaterThanOrEqual(2);
    expect(late.every((c) => c.errorCode === 'NotFoundException')).toBe(true);
  });

  it('a caller fails half an hour before the DeletionDate: its record is there before the deletion', async () => {
    // Act
    const { records } = await run('world-failure-in-last-hour');

    // Assess
    const scheduled = records.find((r) => r.eventName === 'ScheduleKeyDeletion' && !r.record.errorCode);
    expect(scheduled?.record.responseElements).toMatchObject({ deletionDate: '2026-02-15T00:30:00.000Z' });
    const failure = records.find(
      (r) => r.eventName === 'Decrypt' && r.record.errorCode === 'KMSInvalidStateException',
    );
    expect(failure?.record.eventTime).toBe('2026-02-15T00:00:00Z');
  });

  it('a caller fails half an hour before the DeletionDate: the guard still holds, the deletion is cancelled', async () => {
    // Act
    const { result } = await run('world-failure-in-last-hour');

    // Assess
    expect(result.outcome).toBe('DELETION_CANCELLED');
    expect(result.key.finalState).toBe('Disabled');
    expect(Date.parse(result.key.restoredAt ?? '')).toBeLessThan(Date.parse('2026-02-15T00:30:00Z'));
  });

  it('a key with imported key material goes the same way as any other', async () => {
    // Act
    const { result } = await run('world-external-key-material');

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
  });

  it('a million records a day: every check of the week reads the busy group within the quota', async () => {
    // Act
    const { result, throttled } = await run('world-busy-log-group');

    // Assess
    const checks = result.timeline.filter((e) => e.state === 'CheckForBreakage');
    expect(checks.length).toBe(28);
    expect(checks.filter((e) => e.detail.error !== undefined)).toEqual([]);
    expect(result.stats.logEventsScanned).toBeGreaterThan(7 * 1_000_000);
    expect(throttled).toBe(0);
  });

  it('a million records a day: the quiet key is deleted by polling alone', async () => {
    // Act
    const { result } = await run('world-busy-log-group');

    // Assess: each decision re-searches the whole hold (a week and more), split across invocations.
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
    expect(states(result).filter((s) => s === 'FinalCheck').length).toBeGreaterThan(1);
    expect(
      result.timeline.some((e) => e.state === 'CheckPendingUse' && e.detail.outcome === 'CONTINUED'),
    ).toBe(true);
    expect(result.timeline.filter((e) => e.detail.error !== undefined).map((e) => e.state)).toEqual([]);
  });

  it('a million records a day: no search invocation runs past 240 s or its timeout', async () => {
    // Act
    const { invocations } = await run('world-busy-log-group');

    // Assess
    const searching = invocations.filter((i) => i.pages > 0);
    expect(searching.length).toBeGreaterThan(0);
    expect(searching.filter((i) => i.timedOut)).toEqual([]);
    expect(Math.max(...searching.map((i) => i.spentMs))).toBeLessThanOrEqual(240_000);
  });

  it('10^8 records a day: searches longer than one invocation are split, none times out, and the quiet key is deleted', async () => {
    // Act
    const { result, invocations } = await run('world-search-outlives-timeout');

    // Assess
    const continued = result.timeline.filter(
      (e) => e.state === 'CheckForBreakage' && e.detail.outcome === 'CONTINUED',
    );
    expect(continued.length).toBeGreaterThanOrEqual(4);
    expect(states(result).filter((s) => s === 'FinalCheck').length).toBeGreaterThan(2);
    expect(result.timeline.some((e) => e.detail.error === 'Sandbox.Timedout')).toBe(false);
    expect(invocations.filter((i) => i.timedOut)).toEqual([]);
    expect(Math.max(...invocations.map((i) => i.spentMs))).toBeLessThanOrEqual(240_000);
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
  });

  it('a search that cannot read its window before the next check is due fails the watch closed, by name', async () => {
    // Act
    const { result } = await run('world-search-slower-than-interval');

    // Assess
    const failed = result.timeline.find(
      (e) => e.state === 'CheckForBreakage' && e.detail.outcome === 'FAILED',
    );
    expect(failed?.detail.error).toBe('SearchTooLongError');
    expect(result.timeline.some((e) => e.detail.error === 'Sandbox.Timedout')).toBe(false);
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
  });

  it('a deletion approval given after three days at a million records a day: the canary proof is split, nothing is scheduled before it is done', async () => {
    // Act
    const { result, records, invocations } = await run('world-deletion-approval-waits-3-days-busy');

    // Assess
    const steps = result.timeline.filter((e) => e.state === 'ScheduleDeletion');
    expect(steps.length).toBeGreaterThan(1);
    expect(states(result)).toContain('ContinueScheduleDeletion');
    const scheduled = records.filter((r) => r.eventName === 'ScheduleKeyDeletion' && !r.record.errorCode);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.record.eventTime).toBe(steps.at(-1)?.at.replace('.000Z', 'Z'));
    const proofs = invocations.filter((i) => i.functionName.includes('ScheduleDeletion') && i.pages > 0);
    expect(proofs.length).toBe(steps.length);
    expect(proofs.filter((i) => i.timedOut)).toEqual([]);
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
  });

  it('2x10^7 records a day, polling alone: the quiet key is deleted', async () => {
    // Act
    const { result, invocations } = await run('world-busy-20m-quiet-deleted');

    // Assess
    expect(
      result.timeline.some((e) => e.state === 'CheckForBreakage' && e.detail.outcome === 'CONTINUED'),
    ).toBe(true);
    expect(invocations.filter((i) => i.timedOut)).toEqual([]);
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.key.finalState).toBe('Deleted');
  });

  it('2x10^7 records a day, every EventBridge event lost: the failing key is rolled back by polling', async () => {
    // Act
    const { result } = await run('world-busy-20m-failing-rolled-back');

    // Assess: the 07:00 call failed; the 12:00 check's search took two invocations, then rolled back.
    expect(states(result)).not.toContain('FastPath');
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.evidence[0]).toMatchObject({
      eventName: 'Decrypt',
      principal: 'arn:aws:iam::111122223333:role/nightly-export',
    });
  });

  it('searches refused above the account quota fail the check, and the workflow fails closed', async () => {
    // Act
    const { result, throttled } = await run('world-search-quota-throttled');

    // Assess
    expect(throttled).toBeGreaterThan(0);
    expect(result.timeline.some((e) => e.detail.error === 'ThrottlingException')).toBe(true);
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
  });

  it('covers every world scenario', () => {
    // Prepare
    const files = readdirSync(SCENARIOS)
      .filter((f) => f.startsWith('world-') && f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));

    // Act
    const covered = [
      ...readFileSync(import.meta.filename, 'utf8').matchAll(/run\('(world-[a-z0-9-]+)'\)/g),
    ].map((m) => m[1]);

    // Assess
    expect(new Set(covered)).toEqual(new Set(files));
  });
});
