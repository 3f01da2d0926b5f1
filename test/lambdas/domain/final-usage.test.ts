import { usageAfterDisable } from '../../../lambdas/domain/final-usage.js';

const DISABLED_AT = new Date('2026-02-01T00:00:00Z');
const TRACKING = new Date('2025-06-01T00:00:00Z');

describe('usageAfterDisable', () => {
  it('reports no use when GetKeyLastUsage has none', () => {
    // Act
    const usage = usageAfterDisable({ trackingStartDate: TRACKING, keyLastUsage: {} }, DISABLED_AT);

    // Assess
    expect(usage).toEqual({ lastUsage: null, trackingStartDate: TRACKING.toISOString(), evidence: null });
  });

  it('reports a use before the disable without taking it for evidence', () => {
    // Act
    const usage = usageAfterDisable(
      { keyLastUsage: { operation: 'Decrypt', timestamp: new Date('2026-01-15T00:00:00Z') } },
      DISABLED_AT,
    );

    // Assess
    expect(usage.lastUsage).toEqual({
      operation: 'Decrypt',
      timestamp: '2026-01-15T00:00:00.000Z',
      cloudTrailEventId: undefined,
      kmsRequestId: undefined,
    });
    expect(usage.evidence).toBeNull();
  });

  it('takes a use after the disable for evidence, named by its CloudTrail event or KMS request', () => {
    // Act
    const usage = usageAfterDisable(
      {
        trackingStartDate: TRACKING,
        keyLastUsage: {
          operation: 'Encrypt',
          timestamp: new Date('2026-02-03T00:00:00Z'),
          kmsRequestId: 'r-9',
        },
      },
      DISABLED_AT,
    );

    // Assess
    expect(usage.evidence).toEqual({
      eventID: 'r-9',
      eventTime: '2026-02-03T00:00:00.000Z',
      eventName: 'Encrypt',
      errorCode: '',
      principal: 'unknown (from GetKeyLastUsage)',
      sourceIPAddress: 'unknown',
      userAgent: 'unknown',
    });
  });

  it('does not date a KeyLastUsage without an operation', () => {
    // Act
    const usage = usageAfterDisable(
      { keyLastUsage: { timestamp: new Date('2026-02-03T00:00:00Z') } },
      DISABLED_AT,
    );

    // Assess
    expect(usage).toEqual({ lastUsage: null, trackingStartDate: undefined, evidence: null });
  });
});
