import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  KMSClient,
  KMSInternalException,
  KMSInvalidStateException,
  ListResourceTagsCommand,
  NotFoundException,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

import { claimHold, type HoldRecord, nextHold } from '../../../lambdas/domain/hold-record.js';
import type {
  Evidence,
  Outcome,
  RestoreEvent,
  RestoreMode,
  WatchState,
} from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { handler } from '../../../lambdas/restore/index.js';
import {
  assessment,
  commandNames,
  EXECUTION,
  heldTags,
  holdRecord,
  keyArnIn,
  OTHER_EXECUTION,
} from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

const KEY_ARN = keyArnIn('us-east-1');
const NOW = new Date('2026-02-12T07:00:00.000Z');

const kms = mockClient(KMSClient);
let table: HoldTable;

interface FakeKey {
  state: string;
  tags: Record<string, string>;
}

function fakeKms(key: FakeKey): FakeKey {
  kms.on(DescribeKeyCommand).callsFake(() => ({
    KeyMetadata: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Arn: KEY_ARN, KeyState: key.state },
  }));
  kms.on(ListResourceTagsCommand).callsFake(() => ({
    Tags: Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    Truncated: false,
  }));
  kms.on(TagResourceCommand).callsFake((input: { Tags: { TagKey: string; TagValue: string }[] }) => {
    if (key.state === 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is pending deletion.`, $metadata: {} });
    }
    for (const tag of input.Tags) key.tags[tag.TagKey] = tag.TagValue;
    return {};
  });
  kms.on(CancelKeyDeletionCommand).callsFake(() => {
    if (key.state !== 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is not pending deletion.`, $metadata: {} });
    }
    key.state = 'Disabled';
    return { KeyId: KEY_ARN };
  });
  kms.on(EnableKeyCommand).callsFake(() => {
    if (key.state === 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is pending deletion.`, $metadata: {} });
    }
    key.state = 'Enabled';
    return {};
  });
  return key;
}

function held(status: string, wasEnabled = true): Record<string, string> {
  return heldTags(status, { wasEnabled });
}

const EVIDENCE: Evidence[] = [
  {
    eventID: 'e-2',
    eventTime: '2026-02-12T06:00:00Z',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    principal: 'arn:aws:iam::111122223333:role/billing-app',
    sourceIPAddress: '10.1.2.3',
    userAgent: 'aws-sdk-java/2.20.0',
  },
  {
    eventID: 'e-1',
    eventTime: '2026-02-12T00:00:00Z',
    eventName: 'GenerateDataKey',
    errorCode: 'DisabledException',
    principal: 'arn:aws:iam::444455556666:role/partner',
    sourceIPAddress: '203.0.113.9',
    userAgent: 'Boto3/1.34',
    recipientAccountId: '111122223333',
  },
];

function watch(evidence: readonly Evidence[] = EVIDENCE): WatchState {
  return {
    phase: 'OBSERVE',
    cursor: '2026-02-12T06:30:00Z',
    seenEventIds: [],
    checks: 45,
    nextCheckAt: '2026-02-12T12:30:00Z',
    done: false,
    broke: evidence.length > 0,
    evidence,
    evidenceCount: evidence.length,
    scanned: 1000,
    reportText: '',
    subject: '',
  };
}

function event(
  mode: RestoreMode,
  outcome: Outcome,
  extra: Partial<Pick<RestoreEvent, 'watch' | 'error'>> = {},
): RestoreEvent {
  return {
    executionArn: EXECUTION,
    mode,
    outcome,
    assessment: assessment(),
    watch: null,
    error: null,
    ...extra,
  };
}

function callNames(): string[] {
  return commandNames(kms);
}

function changes(): string[] {
  return callNames().filter((name) => name !== 'DescribeKeyCommand' && name !== 'ListResourceTagsCommand');
}

const FAST_EVIDENCE: Evidence = {
  eventID: 'ev-9',
  eventTime: '2026-02-12T06:00:00Z',
  eventName: 'Decrypt',
  errorCode: 'DisabledException',
  principal: 'arn:aws:iam::111122223333:role/nightly-report',
  sourceIPAddress: '10.9.8.7',
  userAgent: 'aws-cli/2.15',
};

/** The hold as the fast path leaves it after giving the key back at 06:02. */
function undoneByFastPath(
  from: HoldRecord,
  status: 'rolled-back' | 'deletion-cancelled',
  notified: boolean,
): HoldRecord {
  const at = new Date('2026-02-12T06:02:00.000Z');
  const claimed = claimHold(from, 'fast-path', 'ev-9', at);
  return nextHold(
    claimed,
    {
      phase: 'ended',
      end: {
        by: 'fast-path',
        status,
        at: at.toISOString(),
        reason: 'Re-enabled the key this execution disabled.',
        actions: status === 'rolled-back' ? ['EnableKey'] : ['CancelKeyDeletion'],
        finalKeyState: status === 'rolled-back' ? 'Enabled' : 'Disabled',
        evidenceEventIds: ['ev-9'],
        evidence: FAST_EVIDENCE,
        notified,
        tampering: [],
      },
    },
    at,
  );
}

describe('restore handler', () => {
  beforeAll(async () => {
    table = await startHoldTable();
  });

  afterAll(async () => {
    await table.close();
  });

  beforeEach(async () => {
    await table.clear();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    kms.reset();
    vi.useRealTimers();
  });

  it('ROLLBACK re-enables the key it disabled, records the rollback, mirrors it on the tags and e-mails it', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(holdRecord('watching'));

    // Act
    const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Assess
    expect(changes()).toEqual(['EnableKeyCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Enabled');
    expect(key.tags[TAGS.status]).toBe('rolled-back');
    expect(key.tags[TAGS.evidence]).toBe('2 records first e-1 at 2026-02-12T00:00:00Z');
    expect(await table.read()).toMatchObject({
      phase: 'ended',
      claim: { actor: 'workflow', nonce: EXECUTION, from: 'watching' },
      end: {
        by: 'workflow',
        status: 'rolled-back',
        actions: ['EnableKey'],
        finalKeyState: 'Enabled',
        evidenceEventIds: ['e-2', 'e-1'],
        tampering: [],
      },
    });
    expect(result).toMatchObject({
      mode: 'ROLLBACK',
      actions: ['EnableKey'],
      finalKeyState: 'Enabled',
      restoredAt: NOW.toISOString(),
    });
    expect(result.causeText).toMatch(/^ROLLED_BACK: /);
    expect(result.messageText).toContain('arn:aws:iam::444455556666:role/partner');
    expect(result.messageText).toContain('203.0.113.9');
    expect(result.messageText).toContain('Boto3/1.34');
    expect(result.messageText).toContain('Event IDs: e-1, e-2');
    expect(result.messageText).toContain('Final key state: Enabled');
    expect(result.subject.length).toBeLessThanOrEqual(100);
  });

  it('ROLLBACK run twice enables once; the second run reports what the first did', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(holdRecord('watching'));
    await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Act
    const second = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Assess
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(1);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(1);
    expect(second.actions).toEqual(['EnableKey']);
    expect(second.finalKeyState).toBe('Enabled');
  });

  it('never re-enables a key this execution holds no record of, even with tags that name it (forged)', async () => {
    // Prepare: a person disabled the key on purpose; someone copied this execution's hold tags onto it.
    const forged = held('disabled');
    const key = fakeKms({ state: 'Disabled', tags: { ...forged } });

    // Act
    const results = [
      await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() })),
      await handler(event('CANCEL_DELETION', 'DELETION_CANCELLED', { watch: watch() })),
      await handler(event('ABORT', 'ABORTED', { error: { Error: 'KeyChangedExternallyError', Cause: 'x' } })),
    ];

    // Assess
    expect(changes()).toEqual([]);
    expect(key).toEqual({ state: 'Disabled', tags: forged });
    expect(await table.read()).toBeNull();
    for (const result of results) {
      expect(result.actions).toEqual(['NONE']);
      expect(result.finalKeyState).toBe('Disabled');
      expect(result.reason).toMatch(/records no hold of this execution/);
      expect(result.reason).toMatch(/Tampering: .*names this execution, which never recorded a hold/);
    }
  });

  it('leaves another execution’s key untouched, in every mode', async () => {
    // Prepare
    const tags = { ...held('pending-deletion'), [TAGS.execution]: OTHER_EXECUTION };
    const key = fakeKms({ state: 'PendingDeletion', tags: { ...tags } });
    const other = holdRecord('pending-deletion', { execution: OTHER_EXECUTION });
    await table.seed(other);

    // Act
    const results = [
      await handler(event('ROLLBACK', 'ROLLED_BACK')),
      await handler(event('CANCEL_DELETION', 'DELETION_CANCELLED')),
      await handler(event('ABORT', 'ABORTED')),
    ];

    // Assess
    expect(changes()).toEqual([]);
    expect(key).toEqual({ state: 'PendingDeletion', tags });
    expect(await table.read()).toEqual(other);
    for (const result of results) {
      expect(result.reason).toContain(OTHER_EXECUTION);
    }
  });

  it('CANCEL_DELETION cancels the deletion it scheduled, leaves the key Disabled, then tags it', async () => {
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await table.seed(holdRecord('pending-deletion'));

    // Act
    const result = await handler(
      event('CANCEL_DELETION', 'DELETION_CANCELLED', { watch: { ...watch(), phase: 'PENDING' } }),
    );

    // Assess
    expect(changes()).toEqual(['CancelKeyDeletionCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Disabled');
    expect(key.tags[TAGS.status]).toBe('deletion-cancelled');
    expect(key.tags[TAGS.evidence]).toMatch(/^2 records first e-1/);
    expect(result).toMatchObject({
      actions: ['CancelKeyDeletion'],
      finalKeyState: 'Disabled',
      restoredAt: NOW.toISOString(),
    });
    expect(result.causeText).toMatch(/^DELETION_CANCELLED: /);
  });

  it('ABORT cancels its own deletion before re-enabling and marks the hold restored', async () => {
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await table.seed(holdRecord('pending-deletion'));
    const error = {
      Error: 'EventSourceUnavailableError',
      Cause: JSON.stringify({
        errorType: 'EventSourceUnavailableError',
        errorMessage: 'Log group trail is gone.',
      }),
    };

    // Act
    const result = await handler(event('ABORT', 'ABORTED', { error }));

    // Assess
    expect(changes()).toEqual(['CancelKeyDeletionCommand', 'EnableKeyCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Enabled');
    expect(key.tags[TAGS.status]).toBe('restored');
    expect(key.tags[TAGS.evidence]).toBeUndefined();
    expect((await table.read())?.end?.status).toBe('restored');
    expect(result.actions).toEqual(['CancelKeyDeletion', 'EnableKey']);
    expect(result.causeText).toMatch(
      /^EVENT_SOURCE_UNAVAILABLE: EventSourceUnavailableError \(Log group trail is gone\.\)/,
    );
    expect(result.messageText).toContain('Details:    Log group trail is gone.');
  });

  it('records who rejected the deletion on the key it restores', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(holdRecord('watching'));
    const error = {
      Error: 'ApprovalRejected',
      Cause: 'REJECTED on the approval page by jane@example.com at 2026-02-01T10:00:00.000Z: still needed',
    };

    // Act
    await handler(event('ABORT', 'REJECTED', { error }));

    // Assess
    expect(key.state).toBe('Enabled');
    expect(key.tags[TAGS.rejectedBy]).toBe(
      'REJECTED on the approval page by jane@example.com at 2026-02-01T10:00:00.000Z: still needed',
    );
  });

  it('ABORT run twice changes the key once', async () => {
    // Prepare
    fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await table.seed(holdRecord('pending-deletion'));
    await handler(event('ABORT', 'REJECTED', { error: { Error: 'ApprovalRejected' } }));

    // Act
    const second = await handler(event('ABORT', 'REJECTED', { error: { Error: 'ApprovalRejected' } }));

    // Assess
    expect(kms.commandCalls(CancelKeyDeletionCommand)).toHaveLength(1);
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(1);
    expect(second.causeText).toMatch(/^REJECTED: /);
  });

  it('still re-enables when someone cancelled its deletion first ("is not pending deletion")', async () => {
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await table.seed(holdRecord('pending-deletion'));
    kms.on(CancelKeyDeletionCommand).callsFake(() => {
      key.state = 'Disabled';
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is not pending deletion.`, $metadata: {} });
    });

    // Act
    const result = await handler(event('ABORT', 'APPROVAL_EXPIRED', { error: { Error: 'States.Timeout' } }));

    // Assess
    expect(result.actions).toEqual(['EnableKey']);
    expect(key.state).toBe('Enabled');
    expect(result.reason).toMatch(/no longer pending deletion/);
    expect(result.causeText).toMatch(/^APPROVAL_EXPIRED: /);
  });

  it('does not cancel a deletion a person scheduled on a held key when no caller failed', async () => {
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('disabled') });
    await table.seed(holdRecord('watching'));

    // Act
    const result = await handler(
      event('ABORT', 'ABORTED', { error: { Error: 'KeyChangedExternallyError' } }),
    );

    // Assess
    expect(changes()).toEqual([]);
    expect(key.state).toBe('PendingDeletion');
    expect(result.actions).toEqual(['NONE']);
    expect(result.finalKeyState).toBe('PendingDeletion');
    expect(result.causeText).toMatch(/^KEY_CHANGED_EXTERNALLY: /);
    expect((await table.read())?.end).toMatchObject({ status: 'aborted', actions: [] });
  });

  it('cancels a deletion a person scheduled on a held key when callers fail, and ends DELETION_CANCELLED', async () => {
    // Prepare: the watch found failed calls on the key a person scheduled for deletion.
    const key = fakeKms({ state: 'PendingDeletion', tags: held('disabled') });
    await table.seed(holdRecord('watching'));

    // Act
    const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Assess
    expect(changes()).toEqual(['CancelKeyDeletionCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Disabled');
    expect(key.tags[TAGS.status]).toBe('deletion-cancelled');
    expect(result.fastPath).toMatchObject({ outcome: 'DELETION_CANCELLED', notified: false });
    expect(result.mode).toBe('CANCEL_DELETION');
    expect(result.causeText).toMatch(/^DELETION_CANCELLED: 2 CloudTrail records/);
    expect(result.reason).toMatch(/someone else scheduled/);
  });

  it('re-enables a key whose hold tags someone stripped: the record proves this execution disabled it', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: { team: 'billing' } });
    await table.seed(holdRecord('watching'));

    // Act
    const result = await handler(
      event('ABORT', 'ABORTED', { error: { Error: 'KeyChangedExternallyError' } }),
    );

    // Assess
    expect(key.state).toBe('Enabled');
    expect(key.tags[TAGS.status]).toBe('restored');
    expect(result.actions).toEqual(['EnableKey']);
    expect(result.reason).toMatch(/Tampering: .*kms-deletion-guard:execution was removed/);
    expect(result.messageText).toMatch(/Tampering/);
    expect((await table.read())?.end?.tampering).toEqual([
      `the tag ${TAGS.execution} was removed`,
      `the tag ${TAGS.status} was removed (the record says disabled)`,
    ]);
  });

  it('leaves Disabled a key that was Disabled before the execution', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled', false) });
    await table.seed(holdRecord('watching', { wasEnabled: false }));

    // Act
    const result = await handler(event('ABORT', 'ABORTED', { error: { Error: 'Lambda.Unknown' } }));

    // Assess
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(0);
    expect(key.tags[TAGS.status]).toBe('restored');
    expect(result.finalKeyState).toBe('Disabled');
    expect(result.causeText).toMatch(/^WORKFLOW_ERROR: /);
  });

  it('reports NONE with a clear reason when the key was deleted outside the workflow', async () => {
    // Prepare
    kms
      .on(DescribeKeyCommand)
      .rejects(new NotFoundException({ message: `Key '${KEY_ARN}' does not exist`, $metadata: {} }));

    // Act
    const result = await handler(event('CANCEL_DELETION', 'DELETION_CANCELLED', { watch: watch() }));

    // Assess
    expect(result.actions).toEqual(['NONE']);
    expect(result.finalKeyState).toBe('NotFound');
    expect(result.restoredAt).toBeNull();
    expect(result.reason).toMatch(/deleted outside this workflow/);
  });

  it('does nothing for an assessment that never identified a key', async () => {
    // Prepare
    const noKey = {
      ...event('ABORT', 'ABORTED'),
      assessment: { ...event('ABORT', 'ABORTED').assessment, key: null },
    };

    // Act
    const result = await handler(noKey);

    // Assess
    expect(kms.calls()).toHaveLength(0);
    expect(result.actions).toEqual(['NONE']);
  });

  it('lets other KMS errors fail the task so Step Functions retries it, its claim kept for the retry', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(holdRecord('watching'));
    kms.on(EnableKeyCommand).rejectsOnce(new KMSInternalException({ message: 'internal', $metadata: {} }));

    // Act
    const first = handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));
    await expect(first).rejects.toMatchObject({ name: 'KMSInternalException' });
    const claimed = await table.read();
    kms.on(EnableKeyCommand).callsFake(() => {
      key.state = 'Enabled';
      return {};
    });
    const retry = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Assess
    expect(claimed).toMatchObject({ phase: 'restoring', claim: { actor: 'workflow' } });
    expect(retry.actions).toEqual(['EnableKey']);
    expect(key.state).toBe('Enabled');
    expect((await table.read())?.phase).toBe('ended');
  });

  describe('after the fast path', () => {
    it('ends ROLLED_BACK with the fast path’s evidence, changing nothing and owing no e-mail', async () => {
      // Prepare: the check found the hold ended and the workflow came here to restore.
      fakeKms({ state: 'Enabled', tags: held('rolled-back') });
      await table.seed(undoneByFastPath(holdRecord('watching'), 'rolled-back', true));

      // Act
      const result = await handler(
        event('ABORT', 'ABORTED', { error: { Error: 'KeyChangedExternallyError' }, watch: watch([]) }),
      );

      // Assess
      expect(changes()).toEqual([]);
      expect(result.fastPath).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
      expect(result.fastPath?.watch.evidence).toEqual([FAST_EVIDENCE]);
      expect(result.fastPath?.watch.evidenceCount).toBe(1);
      expect(result).toMatchObject({ mode: 'ROLLBACK', restoredAt: '2026-02-12T06:02:00.000Z' });
      expect(result.causeText).toMatch(/^ROLLED_BACK: 1 CloudTrail record/);
    });

    it('keeps the polling watch’s evidence and adds the fast path’s record once', async () => {
      // Prepare
      fakeKms({ state: 'Enabled', tags: held('rolled-back') });
      await table.seed(undoneByFastPath(holdRecord('watching'), 'rolled-back', true));

      // Act
      const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      expect(changes()).toEqual([]);
      expect(result.fastPath?.watch.evidence.map((e) => e.eventID)).toEqual(['e-2', 'e-1', 'ev-9']);
      expect(result.fastPath?.watch.evidenceCount).toBe(3);
    });

    it('leaves the evidence e-mail to the workflow when the fast path could not send it', async () => {
      // Prepare
      fakeKms({ state: 'Disabled', tags: held('pending-deletion') });
      await table.seed(undoneByFastPath(holdRecord('pending-deletion'), 'deletion-cancelled', false));

      // Act
      const result = await handler(
        event('ABORT', 'ABORTED', { error: { Error: 'KeyChangedExternallyError' } }),
      );

      // Assess
      expect(result.fastPath).toMatchObject({ outcome: 'DELETION_CANCELLED', notified: false });
      expect(result.subject).toContain('deletion cancelled');
      expect(result.messageText).toContain('arn:aws:iam::111122223333:role/nightly-report');
      expect(result.causeText).toMatch(/^DELETION_CANCELLED: /);
    });

    it('stands back while the fast path holds a live claim, changing nothing', async () => {
      // Prepare
      const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
      await table.seed(
        claimHold(holdRecord('watching'), 'fast-path', 'ev-9', new Date(NOW.getTime() - 30_000)),
      );

      // Act
      const result = handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'RestoreInProgressError' });
      expect(changes()).toEqual([]);
      expect(key.state).toBe('Disabled');
    });

    it('takes over a fast path claim that went stale (the fast path crashed)', async () => {
      // Prepare
      const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
      await table.seed(
        claimHold(holdRecord('watching'), 'fast-path', 'ev-9', new Date(NOW.getTime() - 10 * 60_000)),
      );

      // Act
      const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      expect(key.state).toBe('Enabled');
      expect(key.tags[TAGS.status]).toBe('rolled-back');
      expect(result.fastPath).toBeUndefined();
      expect((await table.read())?.end?.by).toBe('workflow');
    });

    it('reports the fast path’s outcome when the fast path wins the compare-and-set at the same moment', async () => {
      // Prepare: between this step's read of the hold and its claim, the fast path claims, enables
      // and records the rollback.
      const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
      const watching = holdRecord('watching');
      await table.seed(watching);
      const send = DynamoDBClient.prototype.send;
      let raced = false;
      vi.spyOn(DynamoDBClient.prototype, 'send').mockImplementation(async function (
        this: DynamoDBClient,
        ...args: Parameters<DynamoDBClient['send']>
      ) {
        if (args[0] instanceof PutItemCommand && !raced) {
          raced = true;
          key.state = 'Enabled';
          await table.seed(undoneByFastPath(watching, 'rolled-back', true));
        }
        return send.apply(this, args);
      } as DynamoDBClient['send']);

      // Act
      const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      expect(raced).toBe(true);
      expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(0);
      expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
      expect(result.fastPath).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
      expect((await table.read())?.end?.by).toBe('fast-path');
    });
  });
});
