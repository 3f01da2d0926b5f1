import type { UsageAssessment } from '../../../lambdas/domain/types.js';
import {
  keyWarnings,
  publicKeyDownloads,
  unreadablePublicKeyHistory,
  useBeforeTracking,
} from '../../../lambdas/domain/usage-history.js';
import { ACCOUNT, disabledDecryptRecord, keyFacts } from '../fixtures.js';

const CREATED = '2024-01-01T00:00:00.000Z';
const TRACKING = '2025-06-01T00:00:00.000Z';
const NOW = new Date('2026-02-01T00:00:00Z');

function use(eventID: string, eventTime: string, eventName = 'Decrypt') {
  return disabledDecryptRecord({
    eventID,
    eventTime,
    eventName,
    errorCode: undefined,
    errorMessage: undefined,
  });
}

function unknownBeforeTracking(overrides: Partial<UsageAssessment> = {}): UsageAssessment {
  return {
    classification: 'UNKNOWN_BEFORE_TRACKING',
    trackingStartDate: TRACKING,
    keyCreationDate: CREATED,
    lastUsage: null,
    explanation: '',
    ...overrides,
  };
}

describe('useBeforeTracking', () => {
  it('names the latest use found by event time, whatever the order of the records', () => {
    // Act
    const { historySearch, warning } = useBeforeTracking(
      {
        records: [use('e-2', '2025-03-01T00:00:00Z'), use('e-1', '2024-05-01T00:00:00Z')],
        searchedFrom: new Date(CREATED),
      },
      keyFacts({ creationDate: CREATED }),
      unknownBeforeTracking(),
      'trail',
    );

    // Assess
    expect(historySearch).toEqual({
      searchedFrom: CREATED,
      searchedTo: TRACKING,
      lastUseFound: { eventName: 'Decrypt', eventTime: '2025-03-01T00:00:00Z', eventID: 'e-2' },
      publicKeyDownloaded: false,
    });
    expect(warning).toBeNull();
  });

  it("says how far back the log group's retention let the search look", () => {
    // Act
    const partly = useBeforeTracking(
      { records: [], searchedFrom: new Date('2025-01-01T00:00:00Z') },
      keyFacts({ creationDate: CREATED }),
      unknownBeforeTracking(),
      'trail',
    );
    const not = useBeforeTracking(
      { records: [], searchedFrom: new Date('2025-07-01T00:00:00Z') },
      keyFacts({ creationDate: CREATED }),
      unknownBeforeTracking(),
      'trail',
    );

    // Assess
    expect(partly.warning).toBe(
      "Use before tracking began could be searched only from 2025-01-01T00:00:00.000Z (the log group's " +
        `retention), not from the key's creation (${CREATED}).`,
    );
    expect(not.warning).toContain(
      'keeps records only from 2025-07-01T00:00:00.000Z, not before TrackingStartDate',
    );
  });
});

describe('publicKeyDownloads', () => {
  it('counts the downloads and names the last one and its caller', () => {
    // Act
    const { publicKey, warning } = publicKeyDownloads(
      {
        records: [
          use('g-1', '2025-01-01T00:00:00Z', 'GetPublicKey'),
          use('g-2', '2025-02-01T00:00:00Z', 'GetPublicKey'),
        ],
        searchedFrom: new Date(CREATED),
      },
      keyFacts({ creationDate: CREATED, keySpec: 'RSA_2048' }),
      NOW,
    );

    // Assess
    expect(publicKey).toEqual({
      downloaded: true,
      downloads: 2,
      searchedFrom: CREATED,
      searchedTo: NOW.toISOString(),
      lastDownload: {
        eventTime: '2025-02-01T00:00:00Z',
        eventID: 'g-2',
        principal: `arn:aws:iam::${ACCOUNT}:role/billing-app`,
      },
      gap: null,
    });
    expect(warning).toContain('was downloaded 2 time(s) (last at 2025-02-01T00:00:00Z');
  });

  it('warns of a public key that was never seen downloaded, and of what retention hid', () => {
    // Act
    const { publicKey, warning } = publicKeyDownloads(
      { records: [], searchedFrom: new Date('2025-01-01T00:00:00Z') },
      keyFacts({ creationDate: CREATED, keySpec: 'ECC_NIST_P256' }),
      NOW,
    );

    // Assess
    expect(publicKey.downloaded).toBe(false);
    expect(publicKey.lastDownload).toBeNull();
    expect(publicKey.gap?.reason).toBe('HISTORY_STARTS_AFTER_CREATION');
    expect(warning).toBe(
      'This ECC_NIST_P256 key has a public key. If it was ever exported, its use happens outside KMS and no ' +
        'CloudTrail record or DisabledException will show it. CloudTrail was searched for GetPublicKey only ' +
        "from 2025-01-01T00:00:00.000Z (the log group's retention); a download between the key's creation " +
        `(${CREATED}) and then cannot be seen.`,
    );
  });
});

describe('publicKeyDownloads: what keeps the history from ruling a download out', () => {
  const KEY = keyFacts({ creationDate: CREATED, keySpec: 'RSA_2048' });

  it('has no gap when the history reaches back to the key creation', () => {
    // Act
    const { publicKey } = publicKeyDownloads({ records: [], searchedFrom: new Date(CREATED) }, KEY, NOW, {
      start: { at: new Date('2023-01-01T00:00:00Z'), because: "the log group's creation" },
    });

    // Assess
    expect(publicKey.gap).toBeNull();
    expect(publicKey.searchedFrom).toBe(CREATED);
  });

  it("takes the history's start when it is later than the search's own horizon, with its reason", () => {
    // Act
    const { publicKey, warning } = publicKeyDownloads(
      { records: [], searchedFrom: new Date(CREATED) },
      KEY,
      NOW,
      {
        start: { at: new Date('2025-03-01T00:00:00Z'), because: "the log group's retention of 337 days" },
      },
    );

    // Assess
    expect(publicKey.searchedFrom).toBe('2025-03-01T00:00:00.000Z');
    expect(publicKey.gap).toEqual({
      reason: 'HISTORY_STARTS_AFTER_CREATION',
      detail:
        "the searchable history reaches back only to 2025-03-01T00:00:00.000Z (the log group's retention of 337 " +
        `days), not to the key's creation (${CREATED}).`,
    });
    expect(warning).toContain("only from 2025-03-01T00:00:00.000Z (the log group's retention of 337 days)");
  });

  it('has a TRAIL_BLIND gap when the trails would not record a GetPublicKey', () => {
    // Act
    const { publicKey, warning } = publicKeyDownloads(
      { records: [], searchedFrom: new Date(CREATED) },
      KEY,
      NOW,
      {
        blind: 'Trail org logs write events only.',
      },
    );

    // Assess
    expect(publicKey.gap?.reason).toBe('TRAIL_BLIND');
    expect(publicKey.gap?.detail).toContain('(Trail org logs write events only.)');
    expect(warning).toContain('No GetPublicKey can be ruled out');
  });
});

describe('unreadablePublicKeyHistory', () => {
  it('reaches back no further than now and names the error', () => {
    // Act
    const history = unreadablePublicKeyHistory('AccessDeniedException: no', NOW);

    // Assess
    expect(history).toMatchObject({
      downloaded: false,
      searchedFrom: NOW.toISOString(),
      searchedTo: NOW.toISOString(),
      gap: { reason: 'UNREADABLE' },
    });
    expect(history.gap?.detail).toContain('(AccessDeniedException: no)');
  });
});

describe('keyWarnings', () => {
  it('warns of a disabled key, a replica and a key younger than minIdleDays', () => {
    // Act
    const warnings = keyWarnings(
      keyFacts({ keyState: 'Disabled', multiRegion: true, multiRegionRole: 'REPLICA' }),
      {
        ...unknownBeforeTracking(),
        classification: 'NEVER_USED',
        keyCreationDate: '2026-01-22T00:00:00.000Z',
      },
      { minIdleDays: 90 },
      NOW,
    );

    // Assess
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^The key is already Disabled\./);
    expect(warnings[1]).toMatch(/^This is a multi-Region replica key/);
    expect(warnings[2]).toBe(
      'The key was created only 10 days ago (minIdleDays is 90): a workload may not have started using it yet. ' +
        "AWS may also refuse to disable it until then: the stack's IAM Deny on kms:TrailingDaysWithoutKeyUsage " +
        'counts a key never used from its creation, and the run then ends ABORTED with the key left as it was.',
    );
  });

  it('shows idleness only from where the history search could begin', () => {
    // Act
    const warnings = keyWarnings(
      keyFacts({ creationDate: CREATED }),
      unknownBeforeTracking({
        historySearch: {
          searchedFrom: '2026-01-01T00:00:00.000Z',
          searchedTo: TRACKING,
          lastUseFound: null,
          publicKeyDownloaded: false,
        },
      }),
      { minIdleDays: 90 },
      NOW,
    );

    // Assess
    expect(warnings).toEqual([
      'Idleness can be shown only since 2026-01-01T00:00:00.000Z (31 days, less than minIdleDays 90): ' +
        'GetKeyLastUsage and the log group see nothing earlier.',
    ]);
  });
});
