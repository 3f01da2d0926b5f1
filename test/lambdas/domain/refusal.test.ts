import {
  findKeyRefusal,
  findRefusal,
  hasPublicKey,
  type PublicKeyHistory,
  type RefusalArgs,
} from '../../../lambdas/domain/refusal.js';
import {
  type ExecutionRequest,
  type KeyFacts,
  TAGS,
  type UsageAssessment,
} from '../../../lambdas/domain/types.js';
import { guardConfig, keyFacts } from '../fixtures.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:guard:run-1';
const OTHER_EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:guard:run-0';

function daysBefore(days: number): string {
  return new Date(NOW.getTime() - days * 86_400_000).toISOString();
}

const baseKey: KeyFacts = keyFacts();

const neverUsed: UsageAssessment = {
  classification: 'NEVER_USED',
  trackingStartDate: '2024-01-01T00:00:00.000Z',
  keyCreationDate: '2024-01-01T00:00:00.000Z',
  lastUsage: null,
  explanation: 'never used',
};

const request: ExecutionRequest = {
  keyId: baseKey.keyId,
  observationDays: 30,
  pendingWindowInDays: 30,
  requestedBy: '',
  reason: '',
  allowExportedPublicKey: false,
};

const config = guardConfig({ cloudTrailLogGroupName: 'trail' });

function args(overrides: Partial<RefusalArgs> = {}): RefusalArgs {
  return { key: baseKey, usage: neverUsed, request, config, executionArn: EXECUTION, now: NOW, ...overrides };
}

function usedAt(timestamp: string): UsageAssessment {
  return {
    ...neverUsed,
    classification: 'USED',
    lastUsage: { operation: 'Decrypt', timestamp, cloudTrailEventId: 'evt-42' },
  };
}

const downloaded: PublicKeyHistory = {
  downloaded: true,
  downloads: 2,
  searchedFrom: '2025-01-01T00:00:00.000Z',
  searchedTo: NOW.toISOString(),
  lastDownload: {
    eventTime: '2025-03-01T00:00:00Z',
    eventID: 'pk-1',
    principal: 'arn:aws:iam::111122223333:role/x',
  },
};

const rsaKey: KeyFacts = { ...baseKey, keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' };

describe('findRefusal', () => {
  it('accepts an idle customer managed key', () => {
    // Act
    const refusal = findRefusal(args());

    // Assess
    expect(refusal).toBeNull();
  });

  it('refuses an AWS managed key', () => {
    // Act
    const refusal = findRefusal(args({ key: { ...baseKey, keyManager: 'AWS', aliases: ['alias/aws/s3'] } }));

    // Assess
    expect(refusal?.cause).toBe('AWS_MANAGED_KEY');
    expect(refusal?.message).toContain('alias/aws/s3');
    expect(refusal?.message).toContain('Nothing was changed');
  });

  it.each(['PendingDeletion', 'PendingReplicaDeletion'])('refuses a key already in %s', (keyState) => {
    // Act
    const refusal = findRefusal(args({ key: { ...baseKey, keyState } }));

    // Assess
    expect(refusal?.cause).toBe('PENDING_DELETION');
    expect(refusal?.message).toContain('cancel-key-deletion');
  });

  it.each(['PendingImport', 'Unavailable', 'Creating', 'Updating'])(
    'refuses a key in state %s',
    (keyState) => {
      // Act
      const refusal = findRefusal(args({ key: { ...baseKey, keyState } }));

      // Assess
      expect(refusal?.cause).toBe('KEY_STATE_NOT_ALLOWED');
      expect(refusal?.message).toContain(keyState);
    },
  );

  it('accepts a key that is already Disabled', () => {
    // Act
    const refusal = findRefusal(args({ key: { ...baseKey, keyState: 'Disabled' } }));

    // Assess
    expect(refusal).toBeNull();
  });

  it('refuses a key used within minIdleDays and says when, which operation, and when it becomes eligible', () => {
    // Act
    const refusal = findRefusal(args({ usage: usedAt(daysBefore(10)) }));

    // Assess
    expect(refusal?.cause).toBe('RECENTLY_USED');
    expect(refusal?.message).toContain('Decrypt');
    expect(refusal?.message).toContain(daysBefore(10));
    expect(refusal?.message).toContain('10 days ago');
    expect(refusal?.message).toContain('evt-42');
    expect(refusal?.message).toContain(
      `eligible on ${new Date(NOW.getTime() + 80 * 86_400_000).toISOString()}`,
    );
  });

  it('accepts a key last used exactly minIdleDays ago', () => {
    // Act
    const atLimit = findRefusal(args({ usage: usedAt(daysBefore(90)) }));
    const justInside = findRefusal(
      args({ usage: usedAt(new Date(NOW.getTime() - 90 * 86_400_000 + 1).toISOString()) }),
    );

    // Assess
    expect(atLimit).toBeNull();
    expect(justInside?.cause).toBe('RECENTLY_USED');
  });

  it('counts a last use with an unreadable time as recent', () => {
    // Act
    const refusal = findRefusal(args({ usage: usedAt('not a time') }));

    // Assess
    expect(refusal?.cause).toBe('RECENTLY_USED');
  });

  it('refuses an UNKNOWN_BEFORE_TRACKING key whose CloudTrail history shows recent successful use', () => {
    // Prepare
    const usage: UsageAssessment = {
      ...neverUsed,
      classification: 'UNKNOWN_BEFORE_TRACKING',
      trackingStartDate: daysBefore(5),
      historySearch: {
        searchedFrom: daysBefore(365),
        searchedTo: daysBefore(5),
        lastUseFound: { eventName: 'GenerateDataKey', eventTime: daysBefore(20), eventID: 'ct-7' },
        publicKeyDownloaded: false,
      },
    };

    // Act
    const refusal = findRefusal(args({ usage }));

    // Assess
    expect(refusal?.cause).toBe('RECENTLY_USED');
    expect(refusal?.message).toContain('GenerateDataKey');
    expect(refusal?.message).toContain('ct-7');
  });

  it('accepts an UNKNOWN_BEFORE_TRACKING key whose last use found is older than minIdleDays', () => {
    // Prepare
    const usage: UsageAssessment = {
      ...neverUsed,
      classification: 'UNKNOWN_BEFORE_TRACKING',
      historySearch: {
        searchedFrom: daysBefore(365),
        searchedTo: daysBefore(100),
        lastUseFound: { eventName: 'Decrypt', eventTime: daysBefore(200), eventID: 'ct-1' },
        publicKeyDownloaded: false,
      },
    };

    // Act
    const refusal = findRefusal(args({ usage }));

    // Assess
    expect(refusal).toBeNull();
  });

  it('refuses a multi-Region primary with replicas and gives the count', () => {
    // Act
    const refusal = findRefusal(
      args({ key: { ...baseKey, multiRegion: true, multiRegionRole: 'PRIMARY', replicaCount: 2 } }),
    );

    // Assess
    expect(refusal?.cause).toBe('MULTI_REGION_PRIMARY_WITH_REPLICAS');
    expect(refusal?.message).toContain('2 replica keys');
  });

  it('accepts a multi-Region primary without replicas, and a replica', () => {
    // Act
    const primary = findRefusal(args({ key: { ...baseKey, multiRegion: true, multiRegionRole: 'PRIMARY' } }));
    const replica = findRefusal(args({ key: { ...baseKey, multiRegion: true, multiRegionRole: 'REPLICA' } }));

    // Assess
    expect(primary).toBeNull();
    expect(replica).toBeNull();
  });

  it.each(['disabling', 'disabled', 'pending-deletion'])(
    'refuses a key another execution holds (%s)',
    (status) => {
      // Prepare
      const tags = { [TAGS.execution]: OTHER_EXECUTION, [TAGS.status]: status };

      // Act
      const refusal = findRefusal(args({ key: { ...baseKey, tags } }));

      // Assess
      expect(refusal?.cause).toBe('HELD_BY_ANOTHER_EXECUTION');
      expect(refusal?.message).toContain(OTHER_EXECUTION);
      expect(refusal?.message).toContain(`\`npx kms-deletion-guard status ${OTHER_EXECUTION}\``);
      expect(refusal?.message).toContain(
        `aws stepfunctions describe-execution --execution-arn ${OTHER_EXECUTION}`,
      );
    },
  );

  it.each(['rolled-back', 'restored', 'aborted', 'deletion-cancelled'])(
    'accepts a key whose earlier hold ended (%s)',
    (status) => {
      // Prepare
      const tags = { [TAGS.execution]: OTHER_EXECUTION, [TAGS.status]: status };

      // Act
      const refusal = findRefusal(args({ key: { ...baseKey, tags } }));

      // Assess
      expect(refusal).toBeNull();
    },
  );

  it('does not refuse a key held by this very execution (a retried assessment)', () => {
    // Prepare
    const tags = { [TAGS.execution]: EXECUTION, [TAGS.status]: 'disabling' };

    // Act
    const refusal = findRefusal(args({ key: { ...baseKey, tags } }));

    // Assess
    expect(refusal).toBeNull();
  });

  it('refuses an asymmetric key whose public key was downloaded', () => {
    // Act
    const refusal = findRefusal(args({ key: rsaKey, publicKey: downloaded }));

    // Assess
    expect(refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(refusal?.message).toContain('pk-1');
    expect(refusal?.message).toContain('"allowExportedPublicKey": true');
  });

  it('also reads the download from the UNKNOWN_BEFORE_TRACKING history search', () => {
    // Prepare
    const usage: UsageAssessment = {
      ...neverUsed,
      classification: 'UNKNOWN_BEFORE_TRACKING',
      historySearch: {
        searchedFrom: daysBefore(365),
        searchedTo: daysBefore(100),
        lastUseFound: null,
        publicKeyDownloaded: true,
      },
    };

    // Act
    const refusal = findRefusal(
      args({ key: { ...baseKey, keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }, usage }),
    );

    // Assess
    expect(refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
  });

  it('accepts the downloaded public key when allowExportedPublicKey is set', () => {
    // Act
    const refusal = findRefusal(
      args({ key: rsaKey, publicKey: downloaded, request: { ...request, allowExportedPublicKey: true } }),
    );

    // Assess
    expect(refusal).toBeNull();
  });

  it('accepts an asymmetric key whose public key was never downloaded', () => {
    // Act
    const refusal = findRefusal(
      args({
        key: rsaKey,
        publicKey: { ...downloaded, downloaded: false, downloads: 0, lastDownload: null },
      }),
    );

    // Assess
    expect(refusal).toBeNull();
  });

  it('refuses when the key lacks the tag the stack requires, and accepts when it carries it', () => {
    // Prepare
    const withCondition = { ...config, keyTagCondition: { key: 'retire', value: 'yes' } };

    // Act
    const absent = findRefusal(args({ config: withCondition }));
    const wrong = findRefusal(args({ config: withCondition, key: { ...baseKey, tags: { retire: 'no' } } }));
    const right = findRefusal(args({ config: withCondition, key: { ...baseKey, tags: { retire: 'yes' } } }));

    // Assess
    expect(absent?.cause).toBe('TAG_CONDITION_NOT_MET');
    expect(absent?.message).toContain('retire=yes');
    expect(absent?.message).toContain('the tag is absent');
    expect(wrong?.cause).toBe('TAG_CONDITION_NOT_MET');
    expect(wrong?.message).toContain('"no"');
    expect(right).toBeNull();
  });

  it('applies the rules in order: the first that applies is the answer', () => {
    // Prepare
    const everything: RefusalArgs = args({
      key: {
        ...rsaKey,
        keyManager: 'CUSTOMER',
        multiRegion: true,
        multiRegionRole: 'PRIMARY',
        replicaCount: 1,
        tags: { [TAGS.execution]: OTHER_EXECUTION, [TAGS.status]: 'disabled' },
      },
      usage: usedAt(daysBefore(1)),
      publicKey: downloaded,
      config: { ...config, keyTagCondition: { key: 'retire', value: 'yes' } },
    });

    // Act
    const causes = [
      findRefusal({ ...everything, key: { ...everything.key, keyManager: 'AWS' } })?.cause,
      findRefusal({ ...everything, key: { ...everything.key, keyState: 'PendingDeletion' } })?.cause,
      findRefusal({ ...everything, key: { ...everything.key, keyState: 'PendingImport' } })?.cause,
      findRefusal(everything)?.cause,
      findRefusal({ ...everything, usage: neverUsed })?.cause,
      findRefusal({ ...everything, usage: neverUsed, key: { ...everything.key, replicaCount: 0 } })?.cause,
      findRefusal({ ...everything, usage: neverUsed, key: { ...everything.key, replicaCount: 0, tags: {} } })
        ?.cause,
      findRefusal({
        ...everything,
        usage: neverUsed,
        publicKey: null,
        key: { ...everything.key, replicaCount: 0, tags: {} },
      })?.cause,
    ];

    // Assess
    expect(causes).toEqual([
      'AWS_MANAGED_KEY',
      'PENDING_DELETION',
      'KEY_STATE_NOT_ALLOWED',
      'RECENTLY_USED',
      'MULTI_REGION_PRIMARY_WITH_REPLICAS',
      'HELD_BY_ANOTHER_EXECUTION',
      'PUBLIC_KEY_EXPORTED',
      'TAG_CONDITION_NOT_MET',
    ]);
  });
});

describe('findKeyRefusal', () => {
  it('applies only the rules that need no usage history', () => {
    // Act
    const managed = findKeyRefusal({ ...baseKey, keyManager: 'AWS' });
    const enabled = findKeyRefusal(baseKey);

    // Assess
    expect(managed?.cause).toBe('AWS_MANAGED_KEY');
    expect(enabled).toBeNull();
  });
});

describe('hasPublicKey', () => {
  it.each([
    ['SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', false],
    ['HMAC_256', 'GENERATE_VERIFY_MAC', false],
    ['RSA_2048', 'ENCRYPT_DECRYPT', true],
    ['RSA_4096', 'SIGN_VERIFY', true],
    ['ECC_NIST_P256', 'SIGN_VERIFY', true],
    ['ECC_NIST_P384', 'KEY_AGREEMENT', true],
    ['ML_KEM_768', 'ENCAPSULATE_DECAPSULATE', true],
  ])('%s / %s -> %s', (keySpec, keyUsage, expected) => {
    // Act
    const result = hasPublicKey({ keySpec, keyUsage });

    // Assess
    expect(result).toBe(expected);
  });
});
