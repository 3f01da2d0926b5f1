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
  process.env.KDG_CLAIM_SETTLE_MS = '0';
});

import { FAST_PATH_TAGS } from '../../../lambdas/contracts/tags.js';
import type {
  Evidence,
  Outcome,
  RestoreEvent,
  RestoreMode,
  WatchState,
} from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { handler } from '../../../lambdas/restore/index.js';
import { assessment, commandNames, EXECUTION, heldTags, keyArnIn, OTHER_EXECUTION } from '../fixtures.js';

const KEY_ARN = keyArnIn('us-east-1');
const NOW = new Date('2026-02-12T07:00:00.000Z');

const kms = mockClient(KMSClient);

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

describe('restore handler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    kms.reset();
    vi.useRealTimers();
  });

  it('ROLLBACK re-enables the key it disabled, tags rolled-back with the evidence and e-mails it', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });

    // Act
    const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Assess: the claim first (a fast path acting at this moment stands back), then the change.
    expect(changes()).toEqual(['TagResourceCommand', 'EnableKeyCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Enabled');
    expect(key.tags[TAGS.status]).toBe('rolled-back');
    expect(key.tags[FAST_PATH_TAGS.claim]).toBe(`workflow restore ${NOW.toISOString()}`);
    expect(key.tags[TAGS.evidence]).toBe('2 records first e-1 at 2026-02-12T00:00:00Z');
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

  it('ROLLBACK run twice enables once; the second run reports nothing done', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Act
    const second = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Assess
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(1);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(2);
    expect(second.actions).toEqual(['NONE']);
    expect(second.restoredAt).toBeNull();
    expect(second.finalKeyState).toBe('Enabled');
  });

  it('never re-enables a key a person disabled (no hold of this execution on it)', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: { team: 'billing' } });

    // Act
    const results = [
      await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() })),
      await handler(event('ABORT', 'ABORTED', { error: { Error: 'KeyChangedExternallyError', Cause: 'x' } })),
    ];

    // Assess
    expect(changes()).toEqual([]);
    expect(key).toEqual({ state: 'Disabled', tags: { team: 'billing' } });
    for (const result of results) {
      expect(result.actions).toEqual(['NONE']);
      expect(result.finalKeyState).toBe('Disabled');
      expect(result.reason).toMatch(/carries no hold of this execution/);
    }
  });

  it('leaves another execution’s key untouched, in every mode', async () => {
    // Prepare
    const tags = { ...held('pending-deletion'), [TAGS.execution]: OTHER_EXECUTION };
    const key = fakeKms({ state: 'PendingDeletion', tags: { ...tags } });

    // Act
    const results = [
      await handler(event('ROLLBACK', 'ROLLED_BACK')),
      await handler(event('CANCEL_DELETION', 'DELETION_CANCELLED')),
      await handler(event('ABORT', 'ABORTED')),
    ];

    // Assess
    expect(changes()).toEqual([]);
    expect(key).toEqual({ state: 'PendingDeletion', tags });
    for (const result of results) {
      expect(result.reason).toContain(OTHER_EXECUTION);
    }
  });

  it('CANCEL_DELETION cancels the deletion it scheduled, leaves the key Disabled, then tags it', async () => {
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });

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
    expect(result.actions).toEqual(['CancelKeyDeletion', 'EnableKey']);
    expect(result.causeText).toMatch(
      /^EVENT_SOURCE_UNAVAILABLE: EventSourceUnavailableError \(Log group trail is gone\.\)/,
    );
    expect(result.messageText).toContain('Details:    Log group trail is gone.');
  });

  it('records who rejected the deletion on the key it restores', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
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

  it('ABORT run twice does nothing the second time', async () => {
    // Prepare
    fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await handler(event('ABORT', 'REJECTED', { error: { Error: 'ApprovalRejected' } }));

    // Act
    const second = await handler(event('ABORT', 'REJECTED', { error: { Error: 'ApprovalRejected' } }));

    // Assess
    expect(kms.commandCalls(CancelKeyDeletionCommand)).toHaveLength(1);
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(1);
    expect(second.actions).toEqual(['NONE']);
    expect(second.causeText).toMatch(/^REJECTED: /);
  });

  it('tolerates "is not pending deletion" from CancelKeyDeletion on a retry and still re-enables', async () => {
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
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

  it('does not cancel a deletion a person scheduled while the key was held', async () => {
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('disabled') });

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
  });

  it('leaves Disabled a key that was Disabled before the execution', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled', false) });

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

  it('lets other KMS errors fail the task so Step Functions retries it', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    kms.on(EnableKeyCommand).rejects(new KMSInternalException({ message: 'internal', $metadata: {} }));

    // Act
    const result = handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'KMSInternalException' });
    // Only the claim: the hold stays active, so the retry undoes it.
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(1);
    expect(kms.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags?.map((t) => t.TagKey)).toEqual([
      FAST_PATH_TAGS.claim,
    ]);
  });

  describe('after the fast path', () => {
    const CLAIM = 'fast-path ev-9 2026-02-12T06:02:00.000Z';
    const FAST_EVIDENCE = {
      [FAST_PATH_TAGS.caller]: 'arn:aws:iam::111122223333:role/nightly-report',
      [FAST_PATH_TAGS.call]: '2026-02-12T06:00:00Z Decrypt DisabledException 10.9.8.7 ev-9 aws-cli/2.15',
      [TAGS.evidence]: '1 record first ev-9 at 2026-02-12T06:00:00Z',
    };

    function undoneByFastPath(status: string, notified: boolean): Record<string, string> {
      return {
        ...held(status),
        ...FAST_EVIDENCE,
        [FAST_PATH_TAGS.claim]: CLAIM,
        ...(notified ? { [FAST_PATH_TAGS.notified]: CLAIM } : {}),
      };
    }

    it('ends ROLLED_BACK with the fast path’s evidence, changing nothing and owing no e-mail', async () => {
      // Prepare: the check found the key Enabled and the workflow came here to restore.
      fakeKms({ state: 'Enabled', tags: undoneByFastPath('rolled-back', true) });

      // Act
      const result = await handler(
        event('ABORT', 'ABORTED', { error: { Error: 'KeyChangedExternallyError' }, watch: watch([]) }),
      );

      // Assess
      expect(changes()).toEqual([]);
      expect(result.fastPath).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
      expect(result.fastPath?.watch.evidence).toEqual([
        expect.objectContaining({
          eventID: 'ev-9',
          principal: 'arn:aws:iam::111122223333:role/nightly-report',
          sourceIPAddress: '10.9.8.7',
        }),
      ]);
      expect(result.fastPath?.watch.evidenceCount).toBe(1);
      expect(result).toMatchObject({ mode: 'ROLLBACK', restoredAt: '2026-02-12T06:02:00.000Z' });
      expect(result.causeText).toMatch(/^ROLLED_BACK: 1 CloudTrail record/);
    });

    it('keeps the polling watch’s evidence and adds the fast path’s record once', async () => {
      // Prepare
      fakeKms({ state: 'Enabled', tags: undoneByFastPath('rolled-back', true) });

      // Act
      const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      expect(changes()).toEqual([]);
      expect(result.fastPath?.watch.evidence.map((e) => e.eventID)).toEqual(['e-2', 'e-1', 'ev-9']);
      expect(result.fastPath?.watch.evidenceCount).toBe(3);
    });

    it('leaves the evidence e-mail to the workflow when the fast path could not send it', async () => {
      // Prepare
      fakeKms({ state: 'Disabled', tags: undoneByFastPath('deletion-cancelled', false) });

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
      const claim = `fast-path ev-9 ${new Date(NOW.getTime() - 30_000).toISOString()}`;
      const key = fakeKms({
        state: 'Disabled',
        tags: { ...held('disabled'), [FAST_PATH_TAGS.claim]: claim },
      });

      // Act
      const result = handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'RestoreInProgressError' });
      expect(changes()).toEqual([]);
      expect(key.state).toBe('Disabled');
    });

    it('takes over a fast path claim that went stale (the fast path crashed)', async () => {
      // Prepare
      const claim = `fast-path ev-9 ${new Date(NOW.getTime() - 10 * 60_000).toISOString()}`;
      const key = fakeKms({
        state: 'Disabled',
        tags: { ...held('disabled'), [FAST_PATH_TAGS.claim]: claim },
      });

      // Act
      const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      expect(key.state).toBe('Enabled');
      expect(key.tags[TAGS.status]).toBe('rolled-back');
      expect(result.fastPath).toBeUndefined();
    });

    it('reports the fast path’s outcome when the fast path wins the claim at the same moment', async () => {
      // Prepare: the fast path's claim lands right after ours, and it finishes before our read-back.
      const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
      kms.on(TagResourceCommand).callsFakeOnce(() => {
        Object.assign(key.tags, undoneByFastPath('rolled-back', true));
        key.state = 'Enabled';
        return {};
      });

      // Act
      const result = await handler(event('ROLLBACK', 'ROLLED_BACK', { watch: watch() }));

      // Assess
      expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(0);
      expect(kms.commandCalls(TagResourceCommand)).toHaveLength(1);
      expect(result.fastPath).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
    });

    it('reports the fast path’s outcome when its CancelKeyDeletion won', async () => {
      // Prepare
      const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
      kms.on(CancelKeyDeletionCommand).callsFake(() => {
        key.state = 'Disabled';
        Object.assign(key.tags, undoneByFastPath('deletion-cancelled', true));
        throw new KMSInvalidStateException({ message: `${KEY_ARN} is not pending deletion.`, $metadata: {} });
      });

      // Act
      const result = await handler(event('CANCEL_DELETION', 'DELETION_CANCELLED', { watch: watch() }));

      // Assess
      expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
      expect(result.fastPath).toMatchObject({ outcome: 'DELETION_CANCELLED', notified: true });
    });
  });
});
