import { IncompleteKeyLastUsageError, InvalidUsageDateError } from '../../../lambdas/domain/errors.js';
import {
  classifyUsage,
  describeClassification,
  GET_KEY_LAST_USAGE_CAUTION,
  useSinceAssessment,
} from '../../../lambdas/domain/usage.js';

const CREATED = new Date('2024-01-01T00:00:00Z');
const TRACKING = new Date('2025-06-01T00:00:00Z');

describe('classifyUsage', () => {
  it('is USED when KeyLastUsage is present, with operation, time and IDs', () => {
    // Prepare
    const keyLastUsage = {
      operation: 'Decrypt',
      timestamp: new Date('2025-09-01T12:00:00Z'),
      cloudTrailEventId: 'evt-1',
      kmsRequestId: 'req-1',
    };

    // Act
    const usage = classifyUsage({ keyCreationDate: CREATED, trackingStartDate: TRACKING, keyLastUsage });

    // Assess
    expect(usage).toMatchObject({
      classification: 'USED',
      trackingStartDate: '2025-06-01T00:00:00.000Z',
      keyCreationDate: '2024-01-01T00:00:00.000Z',
      lastUsage: {
        operation: 'Decrypt',
        timestamp: '2025-09-01T12:00:00.000Z',
        cloudTrailEventId: 'evt-1',
        kmsRequestId: 'req-1',
      },
    });
    expect(usage.explanation).toContain(
      'the key has been used for a successful cryptographic operation since the TrackingStartDate',
    );
    expect(usage.explanation).toContain('evt-1');
  });

  it('is USED whatever the creation date is', () => {
    // Act
    const usage = classifyUsage({
      keyCreationDate: TRACKING,
      trackingStartDate: TRACKING,
      keyLastUsage: { operation: 'Sign', timestamp: new Date('2025-07-01T00:00:00Z') },
    });

    // Assess
    expect(usage.classification).toBe('USED');
  });

  it.each([
    ['absent', undefined],
    ['an empty object', {}],
  ])(
    'is NEVER_USED when KeyLastUsage is %s and the key was created after tracking began',
    (_label, empty) => {
      // Act
      const usage = classifyUsage({
        keyCreationDate: new Date('2025-07-01T00:00:00Z'),
        trackingStartDate: TRACKING,
        keyLastUsage: empty,
      });

      // Assess
      expect(usage.classification).toBe('NEVER_USED');
      expect(usage.lastUsage).toBeNull();
      expect(usage.explanation).toContain(
        'the key has not been used for a successful cryptographic operation since it was created.',
      );
    },
  );

  it('is NEVER_USED when KeyCreationDate equals TrackingStartDate ("on or after")', () => {
    // Act
    const usage = classifyUsage({
      keyCreationDate: TRACKING,
      trackingStartDate: new Date(TRACKING),
      keyLastUsage: {},
    });

    // Assess
    expect(usage.classification).toBe('NEVER_USED');
  });

  it('is UNKNOWN_BEFORE_TRACKING one millisecond before TrackingStartDate', () => {
    // Act
    const usage = classifyUsage({
      keyCreationDate: new Date(TRACKING.getTime() - 1),
      trackingStartDate: TRACKING,
      keyLastUsage: {},
    });

    // Assess
    expect(usage.classification).toBe('UNKNOWN_BEFORE_TRACKING');
    expect(usage.lastUsage).toBeNull();
    expect(usage.historySearch).toBeUndefined();
    expect(usage.explanation).toContain(
      'there is no record of the key being used for a successful cryptographic operation since the ' +
        'TrackingStartDate. However, the key may have been used before tracking began.',
    );
  });

  it('refuses to date a KeyLastUsage that has an operation but no timestamp', () => {
    // Act
    const act = () =>
      classifyUsage({
        keyCreationDate: CREATED,
        trackingStartDate: TRACKING,
        keyLastUsage: { operation: 'Decrypt' },
      });

    // Assess
    expect(act).toThrow(IncompleteKeyLastUsageError);
  });

  it('does not read a KeyLastUsage that has only an event ID as empty', () => {
    // Act
    const act = () =>
      classifyUsage({
        keyCreationDate: CREATED,
        trackingStartDate: TRACKING,
        keyLastUsage: { cloudTrailEventId: 'e' },
      });

    // Assess
    expect(act).toThrow(IncompleteKeyLastUsageError);
  });

  it('refuses a missing or invalid TrackingStartDate rather than guess', () => {
    // Act
    const act = () => classifyUsage({ keyCreationDate: CREATED, trackingStartDate: new Date(Number.NaN) });

    // Assess
    expect(act).toThrow(InvalidUsageDateError);
  });
});

describe('describeClassification', () => {
  it('words each case plainly', () => {
    // Act
    const words = [
      describeClassification('USED'),
      describeClassification('NEVER_USED'),
      describeClassification('UNKNOWN_BEFORE_TRACKING'),
    ];

    // Assess
    expect(words[0]).toMatch(/used since tracking began/i);
    expect(words[1]).toMatch(/never used/i);
    expect(words[2]).toMatch(/unknown/i);
  });
});

describe('GET_KEY_LAST_USAGE_CAUTION', () => {
  it("quotes the reference's note", () => {
    // Assess
    expect(GET_KEY_LAST_USAGE_CAUTION).toContain(
      'Do not use GetKeyLastUsage as the sole indicator when scheduling a key for deletion.',
    );
  });
});

describe('useSinceAssessment', () => {
  const SEEN = classifyUsage({
    keyCreationDate: CREATED,
    trackingStartDate: TRACKING,
    keyLastUsage: { operation: 'Decrypt', timestamp: new Date('2025-09-01T12:00:00Z') },
  });
  const NONE = classifyUsage({ keyCreationDate: CREATED, trackingStartDate: TRACKING });

  it('is null when GetKeyLastUsage still shows the use the assessment saw', () => {
    // Act / Assess
    expect(
      useSinceAssessment(SEEN, { operation: 'Decrypt', timestamp: new Date('2025-09-01T12:00:00Z') }),
    ).toBeNull();
  });

  it('is null when neither the assessment nor the re-read shows any use', () => {
    // Act / Assess
    expect(useSinceAssessment(NONE, undefined)).toBeNull();
    expect(useSinceAssessment(NONE, {})).toBeNull();
  });

  it('names a later use', () => {
    // Act
    const found = useSinceAssessment(SEEN, {
      operation: 'Encrypt',
      timestamp: new Date('2025-10-01T00:00:00Z'),
    });

    // Assess
    expect(found).toBe(
      'GetKeyLastUsage now shows Encrypt at 2025-10-01T00:00:00.000Z; the assessment saw the last use at 2025-09-01T12:00:00.000Z.',
    );
  });

  it('names any use where the assessment saw none, or had no usage at all', () => {
    // Act / Assess
    const use = { operation: 'Decrypt', timestamp: new Date('2025-10-01T00:00:00Z') };
    expect(useSinceAssessment(NONE, use)).toMatch(/the assessment saw no use/);
    expect(useSinceAssessment(null, use)).toMatch(/the assessment saw no use/);
  });

  it('names a use after an UNKNOWN_BEFORE_TRACKING assessment, whatever the log group showed before tracking', () => {
    // Prepare
    const before = classifyUsage({
      keyCreationDate: CREATED,
      trackingStartDate: new Date('2025-08-01T00:00:00Z'),
    });
    const assessed = {
      ...before,
      historySearch: {
        searchedFrom: '2025-01-01T00:00:00.000Z',
        searchedTo: '2025-08-01T00:00:00.000Z',
        lastUseFound: { eventName: 'Decrypt', eventTime: '2025-03-01T00:00:00Z', eventID: 'old' },
        publicKeyDownloaded: false,
      },
    };

    // Act
    const found = useSinceAssessment(assessed, {
      operation: 'Decrypt',
      timestamp: new Date('2025-10-01T00:00:00Z'),
    });

    // Assess
    expect(found).toMatch(/the assessment saw no use/);
  });

  it('names another call at the same instant, told apart by its CloudTrail event or KMS request ID', () => {
    // Prepare
    const at = new Date('2025-09-01T12:00:00Z');
    const seen = classifyUsage({
      keyCreationDate: CREATED,
      trackingStartDate: TRACKING,
      keyLastUsage: { operation: 'Decrypt', timestamp: at, cloudTrailEventId: 'ev-1', kmsRequestId: 'rq-1' },
    });

    // Act
    const same = useSinceAssessment(seen, {
      operation: 'Decrypt',
      timestamp: at,
      cloudTrailEventId: 'ev-1',
      kmsRequestId: 'rq-1',
    });
    const otherEvent = useSinceAssessment(seen, {
      operation: 'Encrypt',
      timestamp: at,
      cloudTrailEventId: 'ev-2',
    });
    const otherRequest = useSinceAssessment(seen, {
      operation: 'Decrypt',
      timestamp: at,
      kmsRequestId: 'rq-2',
    });

    // Assess
    expect(same).toBeNull();
    expect(otherEvent).toContain('with CloudTrail event ID ev-2');
    expect(otherEvent).toContain('the assessment saw another call at the same time (event ID ev-1');
    expect(otherRequest).toContain('KMS request ID rq-2');
  });

  it('names a use dated before the one the assessment saw: the two readings cannot be shown to agree', () => {
    // Act
    const found = useSinceAssessment(SEEN, {
      operation: 'Decrypt',
      timestamp: new Date('2025-08-01T00:00:00Z'),
    });

    // Assess
    expect(found).toContain('earlier than the last use the assessment saw (2025-09-01T12:00:00.000Z)');
  });

  it('counts a use that cannot be dated as new, since nothing proves it old', () => {
    // Act / Assess
    expect(useSinceAssessment(SEEN, { operation: 'Decrypt' })).toMatch(/no valid timestamp/);
  });
});
