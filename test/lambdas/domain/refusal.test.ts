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
import type { UsageCadence } from '../../../lambdas/domain/usage-cadence.js';
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

const notDownloaded: PublicKeyHistory = {
  ...downloaded,
  downloaded: false,
  downloads: 0,
  lastDownload: null,
  gap: null,
};

/** Two known uses `days` apart, found by a complete search, measured against a 30-day observation. */
function cadenceWithGap(days: number): UsageCadence {
  const to = { at: daysBefore(100), operation: 'Decrypt', eventID: 'u-2', source: 'CloudTrail' as const };
  const from = {
    at: daysBefore(100 + days),
    operation: 'Decrypt',
    eventID: 'u-1',
    source: 'CloudTrail' as const,
  };
  return {
    observationDays: 30,
    searchedFrom: daysBefore(365),
    searchedTo: NOW.toISOString(),
    complete: true,
    stoppedBy: null,
    knownUses: 2,
    earliestUse: from,
    latestUse: to,
    longestGap: { from, to, days },
  };
}

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
        publicKey: notDownloaded,
      }),
    );

    // Assess
    expect(refusal).toBeNull();
  });

  it('refuses a public key whose history begins after the key was created, saying how far back it reached', () => {
    // Prepare
    const partial: PublicKeyHistory = {
      ...notDownloaded,
      searchedFrom: '2025-01-01T00:00:00.000Z',
      gap: {
        reason: 'HISTORY_STARTS_AFTER_CREATION',
        detail:
          "the searchable history reaches back only to 2025-01-01T00:00:00.000Z (the log group's retention of " +
          "365 days), not to the key's creation (2024-01-01T00:00:00.000Z).",
      },
    };

    // Act
    const refusal = findRefusal(args({ key: rsaKey, publicKey: partial }));
    const allowed = findRefusal(
      args({ key: rsaKey, publicKey: partial, request: { ...request, allowExportedPublicKey: true } }),
    );

    // Assess
    expect(refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(refusal?.message).toContain(
      'CloudTrail shows no GetPublicKey from 2025-01-01T00:00:00.000Z to 2026-01-01T00:00:00.000Z, but the ' +
        "searchable history reaches back only to 2025-01-01T00:00:00.000Z (the log group's retention of 365 days)",
    );
    expect(refusal?.message).toContain(
      'A download of its public key before 2025-01-01T00:00:00.000Z cannot be ruled out, so the key is treated ' +
        'as if one had been seen.',
    );
    expect(refusal?.message).toContain('"allowExportedPublicKey": true');
    expect(allowed).toBeNull();
  });

  it.each([
    [
      'UNREADABLE',
      'the CloudTrail history could not be searched for GetPublicKey (AccessDeniedException: no).',
    ],
    [
      'TRAIL_BLIND',
      'the trails that feed the log group would not record a GetPublicKey on this key (WriteOnly).',
    ],
  ] as const)('refuses a public key whose history is %s as if a download had been seen', (reason, detail) => {
    // Act
    const refusal = findRefusal(
      args({ key: rsaKey, publicKey: { ...notDownloaded, gap: { reason, detail } } }),
    );

    // Assess
    expect(refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(refusal?.message).toContain(`, and ${detail} A download of its public key cannot be ruled out`);
  });

  it('leaves the public key rule to the assessment when no history was searched (the fleet report)', () => {
    // Act
    const refusal = findRefusal(args({ key: rsaKey, publicKey: null }));

    // Assess
    expect(refusal).toBeNull();
  });

  it('refuses OBSERVATION_TOO_SHORT when known uses are further apart than the observation, not when within it', () => {
    // Act
    const longer = findRefusal(args({ usage: { ...usedAt(daysBefore(100)), cadence: cadenceWithGap(90) } }));
    const equal = findRefusal(args({ usage: { ...usedAt(daysBefore(100)), cadence: cadenceWithGap(30) } }));

    // Assess
    expect(longer?.cause).toBe('OBSERVATION_TOO_SHORT');
    expect(longer?.message).toContain('"observationDays": 90 or more');
    expect(equal).toBeNull();
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
        publicKey: { ...downloaded, downloaded: false, downloads: 0, lastDownload: null, gap: null },
        key: { ...everything.key, replicaCount: 0, tags: {} },
      })?.cause,
      findRefusal({
        ...everything,
        usage: { ...usedAt(daysBefore(100)), cadence: cadenceWithGap(90) },
        publicKey: { ...downloaded, downloaded: false, downloads: 0, lastDownload: null, gap: null },
        key: { ...everything.key, replicaCount: 0, tags: { retire: 'yes' } },
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
      'OBSERVATION_TOO_SHORT',
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
