/**
 * The hold registry end to end: the synthesized stack's table in the simulator's DynamoDB (dynalite),
 * the real handlers, and keys whose tags someone forged. Tags copied from a running execution's key
 * onto other keys must open nothing: no guard function enables them or cancels their deletion.
 */
import { synthesizeWorkflow } from '../../lib/simulator/definition.js';
import type { EmulatedAccount } from '../../lib/simulator/emulator/account.js';
import { executionArnOf } from '../../lib/simulator/engine.js';
import { parseScenario } from '../../lib/simulator/scenario.js';
import { simulate, stackConfigOf } from '../../lib/simulator/simulate.js';

const ACCOUNT = '111122223333';
const HELD = 'fb000001-0000-4000-8000-000000000001';
const PERSON_DISABLED = 'fb000002-0000-4000-8000-000000000002';
const PERSON_SCHEDULED = 'fb000003-0000-4000-8000-000000000003';
const APP = `arn:aws:iam::${ACCOUNT}:role/app`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/admin`;

/** The run: the workflow holds HELD; the two other keys carry tags naming its (running) execution. */
function scenario(forgedTags: Record<string, string>): Record<string, unknown> {
  return {
    name: 'forged hold tags on keys a person disabled or scheduled for deletion',
    start: '2026-01-01T00:00:00Z',
    account: ACCOUNT,
    keys: [
      { keyId: HELD, createdAt: '2024-01-01T00:00:00Z' },
      { keyId: PERSON_DISABLED, createdAt: '2024-01-01T00:00:00Z', state: 'Disabled', tags: forgedTags },
      { keyId: PERSON_SCHEDULED, createdAt: '2024-01-01T00:00:00Z', state: 'Disabled', tags: forgedTags },
    ],
    calls: [
      { at: '-PT1H', keyId: PERSON_SCHEDULED, operation: 'ScheduleKeyDeletion', principal: ADMIN },
      // Callers fail on both forged keys while the execution runs; the fast path sees every one.
      {
        at: '+PT12H',
        keyId: PERSON_DISABLED,
        operation: 'Decrypt',
        principal: APP,
        every: 'PT12H',
        until: '+P3D',
      },
      {
        at: '+PT13H',
        keyId: PERSON_SCHEDULED,
        operation: 'Decrypt',
        principal: APP,
        every: 'PT12H',
        until: '+P3D',
      },
      // The held key's own caller fails on day 2: its rollback must not spill over to the others.
      { at: '+P2D', keyId: HELD, operation: 'Decrypt', principal: APP },
    ],
    input: { keyId: HELD, observationDays: 5, pendingWindowInDays: 7 },
  };
}

async function forgedTagsOfTheRunningExecution(): Promise<Record<string, string>> {
  const parsed = parseScenario(scenario({}));
  const workflow = await synthesizeWorkflow(stackConfigOf(parsed), {
    account: ACCOUNT,
    region: parsed.region,
  });
  return {
    'kms-deletion-guard:execution': executionArnOf(workflow, 'simulation'),
    'kms-deletion-guard:status': 'disabled',
    'kms-deletion-guard:was-enabled': 'true',
    'kms-deletion-guard:disabled-at': '2025-12-31T00:00:00.000Z',
  };
}

describe('hold registry, end to end', () => {
  it('never enables or un-schedules a key carrying forged hold tags, while it rolls back the key it holds', async () => {
    // Prepare
    const forged = await forgedTagsOfTheRunningExecution();
    let account: EmulatedAccount | undefined;
    const finalKeys = new Map<string, ReturnType<EmulatedAccount['inspectKey']>>();

    // Act
    const result = await simulate(scenario(forged), {
      // While virtual time still holds: later, the real clock would be past the deletion date.
      inspect: (a) => {
        account = a;
        for (const keyId of [PERSON_DISABLED, PERSON_SCHEDULED]) finalKeys.set(keyId, a.inspectKey(keyId));
      },
    });

    // Assess: the held key came back (the fast path acted on it) ...
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.timeline.some((t) => t.state === 'FastPath')).toBe(true);
    // ... and the fast path saw failures on the forged keys (it is invoked for them), yet neither the
    // fast path nor any step of the workflow changed them.
    const workflowWrites = (keyId: string) =>
      (account?.records() ?? []).filter(
        (e) =>
          e.workflow &&
          e.record.errorCode === undefined &&
          ['EnableKey', 'CancelKeyDeletion', 'TagResource', 'UntagResource'].includes(e.record.eventName) &&
          e.record.resources?.some((r) => r.ARN?.endsWith(keyId)),
      );
    expect(workflowWrites(PERSON_DISABLED)).toEqual([]);
    expect(workflowWrites(PERSON_SCHEDULED)).toEqual([]);
    expect(finalKeys.get(PERSON_DISABLED)).toMatchObject({ state: 'Disabled', tags: forged });
    expect(finalKeys.get(PERSON_SCHEDULED)).toMatchObject({ state: 'PendingDeletion', tags: forged });
    const failedOnForged = result.timeline.filter(
      (t) => t.state === 'FastPath' && t.detail && 'error' in (t.detail as Record<string, unknown>),
    );
    expect(failedOnForged).toEqual([]);
  });
});
