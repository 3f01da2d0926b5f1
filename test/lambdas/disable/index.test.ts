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
import { assessment, commandNames, EXECUTION, keyArnIn, keyFacts, OTHER_EXECUTION } from '../fixtures.js';

const KEY_ARN = keyArnIn('eu-west-1');
const NOW = new Date('2026-02-01T00:00:00.000Z');

const kms = mockClient(KMSClient);

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
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    kms.reset();
    vi.useRealTimers();
  });

  it('tags the key as held before DisableKey, then marks it disabled', async () => {
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
  });

  it('holds a key that was already Disabled at assessment and records wasEnabled false', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: {} });

    // Act
    const result = await handler(event('Disabled'));

    // Assess
    expect(result.wasEnabled).toBe(false);
    expect(key.tags[TAGS.wasEnabled]).toBe('false');
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(1);
  });

  it('on a retry after DisableKey succeeded keeps wasEnabled true and the first disable time', async () => {
    // Prepare
    const key = fakeKms({
      state: 'Disabled',
      tags: {
        [TAGS.execution]: EXECUTION,
        [TAGS.status]: 'disabling',
        [TAGS.wasEnabled]: 'true',
        [TAGS.disabledAt]: '2026-01-31T23:59:00.000Z',
      },
    });

    // Act
    const result = await handler(event());

    // Assess
    expect(result.wasEnabled).toBe(true);
    expect(result.disabledAt).toBe('2026-01-31T23:59:00.000Z');
    expect(key.tags[TAGS.wasEnabled]).toBe('true');
    expect(key.tags[TAGS.status]).toBe('disabled');
    expect(callNames().filter((name) => name === 'TagResourceCommand')).toHaveLength(1);
  });

  it('is idempotent: running twice leaves the same tags and result', async () => {
    // Prepare
    const key = fakeKms({ state: 'Enabled', tags: {} });
    const first = await handler(event());
    const tagsAfterFirst = { ...key.tags };

    // Act
    const second = await handler(event());

    // Assess
    expect(second.wasEnabled).toBe(true);
    expect(second.disabledAt).toBe(first.disabledAt);
    expect(key.tags).toEqual(tagsAfterFirst);
  });

  it('throws KeyChangedExternallyError and changes nothing when a person disabled the key meanwhile', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: {} });

    // Act
    const result = handler(event('Enabled'));

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
    expect(key.tags).toEqual({});
  });

  it('throws and leaves alone a key another execution took after the assessment', async () => {
    // Prepare
    const tags = { [TAGS.execution]: OTHER_EXECUTION, [TAGS.status]: 'disabling' };
    fakeKms({ state: 'Enabled', tags: { ...tags } });

    // Act
    const result = handler(event('Enabled'));

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
  });

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

    it('leaves a retry that finds its own tags to Restore, not to a refusal', async () => {
      // Prepare
      const tags = {
        [TAGS.execution]: EXECUTION,
        [TAGS.status]: 'disabling',
        [TAGS.wasEnabled]: 'true',
        [TAGS.disabledAt]: '2026-01-31T23:00:00.000Z',
      };
      fakeKms({ state: 'Enabled', tags, lastUsed: { operation: 'Decrypt', at: '2026-01-31T12:00:00Z' } });

      // Act
      const result = handler(eventSeeing());

      // Assess
      await expect(result).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
      expect(kms.commandCalls(DisableKeyCommand)).toHaveLength(0);
    });
  });
});
