import {
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
  KMSClient,
  KMSInvalidStateException,
  ListResourceTagsCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

import { handler } from '../../../lambdas/disable/index.js';
import type { DisableEvent, KeyFacts } from '../../../lambdas/domain/types.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import {
  assessment,
  commandNames,
  EXECUTION,
  holdRecord,
  keyArnIn,
  keyFacts,
  OTHER_EXECUTION,
} from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

const KEY_ARN = keyArnIn('eu-west-1');
const NOW = new Date('2026-02-01T00:00:00.000Z');

const kms = mockClient(KMSClient);
let table: HoldTable;

/** A single key as KMS keeps it, so retries see what earlier calls did. */
interface FakeKey {
  state: string;
  tags: Record<string, string>;
  /** The last successful use GetKeyLastUsage reports (none when absent). */
  lastUsed?: { operation: string; at: string; eventId?: string };
}

function fakeKms(key: FakeKey): FakeKey {
  kms.on(DescribeKeyCommand).callsFake(() => ({
    KeyMetadata: {
      KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      Arn: KEY_ARN,
      KeyState: key.state,
      KeyManager: 'CUSTOMER',
    },
  }));
  // Two pages, so a reader that stops after the first would miss the hold tags.
  kms.on(ListResourceTagsCommand).callsFake((input: { Marker?: string }) => {
    const entries = Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    return input.Marker
      ? { Tags: entries.slice(1), Truncated: false }
      : {
          Tags: entries.slice(0, 1),
          Truncated: entries.length > 1,
          NextMarker: entries.length > 1 ? 'page-2' : undefined,
        };
  });
  kms.on(GetKeyLastUsageCommand).callsFake(() => ({
    KeyCreationDate: new Date('2025-01-01T00:00:00Z'),
    TrackingStartDate: new Date('2025-04-01T00:00:00Z'),
    KeyLastUsage: key.lastUsed && {
      Operation: key.lastUsed.operation,
      Timestamp: new Date(key.lastUsed.at),
      ...(key.lastUsed.eventId ? { CloudTrailEventId: key.lastUsed.eventId } : {}),
    },
  }));
  kms.on(TagResourceCommand).callsFake((input: { Tags: { TagKey: string; TagValue: string }[] }) => {
    for (const tag of input.Tags) key.tags[tag.TagKey] = tag.TagValue;
    return {};
  });
  kms.on(DisableKeyCommand).callsFake(() => {
    if (key.state === 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is pending deletion.`, $metadata: {} });
    }
    key.state = 'Disabled';
    return {};
  });
  // The canary: it fails on a disabled key, with the request ID CloudTrail records it under.
  kms.on(EncryptCommand).callsFake(() => {
    if (key.state === 'Disabled') {
      throw new DisabledException({
        message: `${KEY_ARN} is disabled.`,
        $metadata: { requestId: 'canary-request-1' },
      });
    }
    return { KeyId: KEY_ARN, CiphertextBlob: new Uint8Array([1]) };
  });
  return key;
}

function event(keyState = 'Enabled', tags: Record<string, string> = {}): DisableEvent {
  const key = keyFacts({ region: 'eu-west-1', keyState, tags });
  return { executionArn: EXECUTION, assessment: assessment({ key }) };
}

function callNames(): string[] {
  return commandNames(kms);
}

describe('disable handler', () => {
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

  it('records the hold, mirrors it on the tags before DisableKey, then records and tags it disabled', async () => {
    // Prepare
    const key = fakeKms({ state: 'Enabled', tags: { team: 'billing' } });

    // Act
    const result = await handler(event());

    // Assess
    const changes = callNames().filter(
      (name) =>
        name !== 'DescribeKeyCommand' &&
        name !== 'ListResourceTagsCommand' &&
        name !== 'GetKeyLastUsageCommand',
    );
    expect(changes).toEqual([
      'TagResourceCommand',
      'DisableKeyCommand',
      'TagResourceCommand',
      'EncryptCommand',
    ]);
    const firstTag = kms.commandCalls(TagResourceCommand)[0]?.args[0].input;
    expect(firstTag?.KeyId).toBe(KEY_ARN);
    expect(firstTag?.Tags).toEqual(
      expect.arrayContaining([
        { TagKey: TAGS.execution, TagValue: EXECUTION },
        { TagKey: TAGS.status, TagValue: 'disabling' },
        { TagKey: TAGS.wasEnabled, TagValue: 'true' },
        { TagKey: TAGS.disabledAt, TagValue: NOW.toISOString() },
      ]),
    );
    expect(key.state).toBe('Disabled');
    expect(key.tags[TAGS.status]).toBe('disabled');
    expect(await table.read(KEY_ARN)).toMatchObject({
      keyArn: KEY_ARN,
      executionArn: EXECUTION,
      phase: 'watching',
      version: 2,
      wasEnabled: true,
      disabled: true,
      disabledAt: NOW.toISOString(),
      deletionScheduled: false,
    });
    expect(result.disabledAt).toBe(NOW.toISOString());
    expect(result.wasEnabled).toBe(true);
  });

  it('returns the first OBSERVE watch cursor starting at the disable time', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });

    // Act
    const result = await handler(event());

    // Assess
    expect(result.watch.phase).toBe('OBSERVE');
    expect(result.watch.cursor).toBe(NOW.toISOString());
    expect(result.watch.nextCheckAt).toBe('2026-02-01T06:00:00.000Z');
    expect(result.watch.done).toBe(false);
  });

  it('makes the first canary on the disabled key and remembers its request ID for the first check', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });

    // Act
    const result = await handler(event());

    // Assess
    const encrypt = kms.commandCalls(EncryptCommand)[0]?.args[0].input;
    expect(encrypt).toMatchObject({ KeyId: KEY_ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(new TextDecoder().decode(encrypt?.Plaintext as Uint8Array)).toBe('kms-deletion-guard canary');
    expect(result.watch.canaries).toEqual([
      {
        requestId: 'canary-request-1',
        at: NOW.toISOString(),
        operation: 'Encrypt',
        errorCode: 'DisabledException',
        seen: false,
      },
    ]);
    expect(result.watch.canariesSeen).toBe(0);
  });

  it('treats a canary that succeeds as a key changed by someone else (it is not disabled)', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });
    kms.on(EncryptCommand).resolves({ KeyId: KEY_ARN, CiphertextBlob: new Uint8Array([1]) });

    // Act
    const result = handler(event());

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'KeyChangedExternallyError',
      message: expect.stringContaining('canary Encrypt'),
    });
  });

  it('stops before changing anything when no canary exists for the key usage', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });
    const odd = event();
    const key = {
      ...(odd.assessment.key as KeyFacts),
      keyUsage: 'ENCAPSULATE_DECAPSULATE',
      keySpec: 'ML_KEM_768',
    };

    // Act
    const result = handler({ ...odd, assessment: { ...odd.assessment, key } });

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'EventSourceBlindError' });
    expect(kms.calls()).toHaveLength(0);
    expect(await table.read(KEY_ARN)).toBeNull();
  });

  it('holds a key that was already Disabled at assessment and records wasEnabled false', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: {} });

    // Act
    const result = await handler(event('Disabled'));

    // Assess
    expect(result.wasEnabled).toBe(false);
    expect(key.tags[TAGS.wasEnabled]).toBe('false');
    expect((await table.read(KEY_ARN))?.wasEnabled).toBe(false);
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(1);
  });

  it('records wasEnabled false when a person disables the key between the hold and DisableKey', async () => {
    // Prepare: the re-read right before DisableKey finds it Disabled.
    const key = fakeKms({ state: 'Enabled', tags: {} });
    let reads = 0;
    kms.on(DescribeKeyCommand).callsFake(() => {
      reads += 1;
      if (reads === 2) key.state = 'Disabled';
      return { KeyMetadata: { KeyId: 'k', Arn: KEY_ARN, KeyState: key.state, KeyManager: 'CUSTOMER' } };
    });

    // Act
    const result = await handler(event());

    // Assess
    expect(result.wasEnabled).toBe(false);
    expect(await table.read(KEY_ARN)).toMatchObject({ phase: 'watching', wasEnabled: false });
  });

  it('on a retry after DisableKey succeeded keeps wasEnabled true and the first disable time from the record', async () => {
    // Prepare: the first attempt recorded the hold and disabled the key, then died.
    const key = fakeKms({ state: 'Disabled', tags: {} });
    await table.seed(
      holdRecord('disabling', { keyArn: KEY_ARN, wasEnabled: true, disabledAt: '2026-01-31T23:59:00.000Z' }),
    );

    // Act
    const result = await handler(event());

    // Assess
    expect(result.wasEnabled).toBe(true);
    expect(result.disabledAt).toBe('2026-01-31T23:59:00.000Z');
    expect(key.tags[TAGS.wasEnabled]).toBe('true');
    expect(key.tags[TAGS.status]).toBe('disabled');
    expect(await table.read(KEY_ARN)).toMatchObject({ phase: 'watching', wasEnabled: true, disabled: true });
  });

  it('starts the observation afresh on a retry whose first attempt died before DisableKey', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });
    await table.seed(
      holdRecord('disabling', { keyArn: KEY_ARN, wasEnabled: true, disabledAt: '2026-01-31T23:00:00.000Z' }),
    );

    // Act
    const result = await handler(event());

    // Assess
    expect(result.disabledAt).toBe(NOW.toISOString());
    expect((await table.read(KEY_ARN))?.disabledAt).toBe(NOW.toISOString());
  });

  it('is idempotent: running twice disables once and gives the same result', async () => {
    // Prepare
    const key = fakeKms({ state: 'Enabled', tags: {} });
    const first = await handler(event());
    const tagsAfterFirst = { ...key.tags };

    // Act
    const second = await handler(event());

    // Assess
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(1);
    expect(second.wasEnabled).toBe(true);
    expect(second.disabledAt).toBe(first.disabledAt);
    expect(key.tags).toEqual(tagsAfterFirst);
  });

  it('throws KeyChangedExternallyError and changes nothing when a person disabled the key after the assessment', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: {} });

    // Act
    const result = handler(event('Enabled'));

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
    expect(key.tags).toEqual({});
    expect(await table.read(KEY_ARN)).toBeNull();
  });

  it('refuses, changing nothing, a key another execution holds in the registry', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });
    const other = holdRecord('disabling', { keyArn: KEY_ARN, execution: OTHER_EXECUTION });
    await table.seed(other);

    // Act
    const result = handler(event('Enabled'));

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'KeyChangedExternallyError',
      message: expect.stringMatching(/Another execution .* holds the key/),
    });
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
    expect(await table.read(KEY_ARN)).toEqual(other);
  });

  it('lets only one of two executions take the key when both disable it at the same moment', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });

    // Act
    const results = await Promise.allSettled([
      handler(event()),
      handler({ ...event(), executionArn: OTHER_EXECUTION }),
    ]);

    // Assess
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.reason).toMatchObject({ name: 'KeyChangedExternallyError' });
    const winner = results[0]?.status === 'fulfilled' ? EXECUTION : OTHER_EXECUTION;
    expect((await table.read(KEY_ARN))?.executionArn).toBe(winner);
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(1);
  });

  it.each([
    ['another execution', OTHER_EXECUTION],
    ['this very execution (a reused name, or copied tags)', EXECUTION],
  ])(
    'refuses hold tags naming %s that the registry does not record, never trusting their was-enabled',
    async (_name, owner) => {
      // Prepare: a person disabled the key; forged tags say an execution disabled it while Enabled.
      const tags = { [TAGS.execution]: owner, [TAGS.status]: 'disabled', [TAGS.wasEnabled]: 'true' };
      fakeKms({ state: 'Disabled', tags: { ...tags } });

      // Act
      const result = handler(event('Disabled', tags));

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
      expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
      expect(await table.read(KEY_ARN)).toBeNull();
    },
  );

  it('refuses an event without an accepted assessment before calling KMS', async () => {
    // Prepare
    fakeKms({ state: 'Enabled', tags: {} });
    const bad = { ...event(), assessment: { ...event().assessment, key: null } };

    // Act
    const result = handler(bad);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'InvalidHandlerEventError' });
    expect(kms.calls()).toHaveLength(0);
  });

  describe('re-reading usage before acting', () => {
    /** The assessment saw a Decrypt at `at` (or no use at all when `at` is absent). */
    function eventSeeing(at?: string): DisableEvent {
      const base = event();
      const usage = {
        classification: at ? ('USED' as const) : ('NEVER_USED' as const),
        trackingStartDate: '2025-04-01T00:00:00.000Z',
        keyCreationDate: '2025-01-01T00:00:00.000Z',
        lastUsage: at ? { operation: 'Decrypt', timestamp: at } : null,
        explanation: '',
      };
      return { ...base, assessment: { ...base.assessment, usage } };
    }

    it('refuses a key used after the assessment, with nothing sent but reads', async () => {
      // Prepare
      const key = fakeKms({
        state: 'Enabled',
        tags: { team: 'billing' },
        lastUsed: { operation: 'Encrypt', at: '2026-01-31T12:00:00Z' },
      });

      // Act
      const result = handler(eventSeeing('2025-06-01T00:00:00.000Z'));

      // Assess
      await expect(result).rejects.toMatchObject({
        name: 'KeyUsedSinceAssessmentError',
        message: expect.stringMatching(/^USED_SINCE_ASSESSMENT: .*Encrypt at 2026-01-31T12:00:00.000Z/),
      });
      expect(new Set(callNames())).toEqual(
        new Set(['DescribeKeyCommand', 'ListResourceTagsCommand', 'GetKeyLastUsageCommand']),
      );
      expect(key).toMatchObject({ state: 'Enabled', tags: { team: 'billing' } });
    });

    it('refuses a key used after an assessment that saw no use', async () => {
      // Prepare
      const key = fakeKms({
        state: 'Enabled',
        tags: {},
        lastUsed: { operation: 'Decrypt', at: '2026-01-31T12:00:00Z' },
      });

      // Act
      const result = handler(eventSeeing());

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'KeyUsedSinceAssessmentError' });
      expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
      expect(key).toMatchObject({ state: 'Enabled', tags: {} });
    });

    it('refuses a key the assessment saw unused before tracking (whatever the log group showed) that is now used', async () => {
      // Prepare
      const key = fakeKms({
        state: 'Enabled',
        tags: {},
        lastUsed: { operation: 'Sign', at: '2026-01-31T12:00:00Z' },
      });
      const base = eventSeeing();
      const usage = {
        ...(base.assessment.usage as NonNullable<DisableEvent['assessment']['usage']>),
        classification: 'UNKNOWN_BEFORE_TRACKING' as const,
        historySearch: {
          searchedFrom: '2025-01-01T00:00:00.000Z',
          searchedTo: '2025-04-01T00:00:00.000Z',
          lastUseFound: {
            eventName: 'Decrypt',
            eventTime: '2025-02-01T00:00:00Z',
            eventID: 'before-tracking',
          },
          publicKeyDownloaded: false,
        },
      };

      // Act
      const result = handler({ ...base, assessment: { ...base.assessment, usage } });

      // Assess
      await expect(result).rejects.toMatchObject({
        name: 'KeyUsedSinceAssessmentError',
        message: expect.stringContaining('Sign at 2026-01-31T12:00:00.000Z; the assessment saw no use'),
      });
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
      expect(key.state).toBe('Enabled');
    });

    it('refuses a key whose last use is another call at the same instant as the one the assessment saw', async () => {
      // Prepare
      const key = fakeKms({
        state: 'Enabled',
        tags: {},
        lastUsed: { operation: 'Decrypt', at: '2025-06-01T00:00:00Z', eventId: 'ev-new' },
      });
      const base = eventSeeing('2025-06-01T00:00:00.000Z');
      const usage = base.assessment.usage as NonNullable<DisableEvent['assessment']['usage']>;
      const lastUsage = {
        operation: 'Decrypt',
        timestamp: '2025-06-01T00:00:00.000Z',
        cloudTrailEventId: 'ev-old',
      };

      // Act
      const result = handler({ ...base, assessment: { ...base.assessment, usage: { ...usage, lastUsage } } });

      // Assess
      await expect(result).rejects.toMatchObject({
        name: 'KeyUsedSinceAssessmentError',
        message: expect.stringContaining('the assessment saw another call at the same time (event ID ev-old'),
      });
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
      expect(key.state).toBe('Enabled');
    });

    it('disables as before when the last use is the one the assessment saw', async () => {
      // Prepare
      const key = fakeKms({
        state: 'Enabled',
        tags: {},
        lastUsed: { operation: 'Decrypt', at: '2025-06-01T00:00:00Z' },
      });

      // Act
      await handler(eventSeeing('2025-06-01T00:00:00.000Z'));

      // Assess
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(1);
      expect(key.state).toBe('Disabled');
    });

    it('changes nothing when GetKeyLastUsage cannot be read', async () => {
      // Prepare
      const key = fakeKms({ state: 'Enabled', tags: {} });
      kms.on(GetKeyLastUsageCommand).rejects(
        Object.assign(new Error('User is not authorized to perform kms:GetKeyLastUsage'), {
          name: 'AccessDeniedException',
        }),
      );

      // Act
      const result = handler(eventSeeing());

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
      expect(key).toMatchObject({ state: 'Enabled', tags: {} });
    });

    it('leaves a retry that finds its own hold recorded to Restore, not to a refusal', async () => {
      // Prepare
      await table.seed(holdRecord('disabling', { keyArn: KEY_ARN, disabledAt: '2026-01-31T23:00:00.000Z' }));
      fakeKms({ state: 'Enabled', tags: {}, lastUsed: { operation: 'Decrypt', at: '2026-01-31T12:00:00Z' } });

      // Act
      const result = handler(eventSeeing());

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
    });
  });
});
