import {
  type CadenceSearchInput,
  cadenceRefusal,
  cadenceWarnings,
  type KnownUse,
  measureCadence,
  observationCovering,
} from '../../../lambdas/domain/usage-cadence.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const KEY = { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' };
const REQUEST = { observationDays: 30, pendingWindowInDays: 30 };
const CONFIG = { approvalTimeoutDays: 7 };

function daysBefore(days: number): string {
  return new Date(NOW.getTime() - days * DAY).toISOString();
}

function found(days: number, eventID = `e-${days}`): KnownUse {
  return { at: daysBefore(days), operation: 'Decrypt', eventID, source: 'CloudTrail' };
}

function search(uses: readonly KnownUse[], overrides: Partial<CadenceSearchInput> = {}): CadenceSearchInput {
  return {
    searchedFrom: daysBefore(365),
    reachedTo: NOW.toISOString(),
    complete: true,
    stoppedBy: null,
    uses,
    ...overrides,
  };
}

const LAST_100_DAYS_AGO = { operation: 'Decrypt', timestamp: daysBefore(100), cloudTrailEventId: 'e-100' };

describe('measureCadence', () => {
  it('merges GetKeyLastUsage with the uses found, counting a use with the same event ID once', () => {
    // Act
    const cadence = measureCadence({
      lastUsage: LAST_100_DAYS_AGO,
      search: search([found(280), found(190), found(100)]),
      observationDays: 30,
    });

    // Assess
    expect(cadence.knownUses).toBe(3);
    expect(cadence.earliestUse?.at).toBe(daysBefore(280));
    expect(cadence.latestUse).toMatchObject({ at: daysBefore(100), eventID: 'e-100' });
    expect(cadence.longestGap).toMatchObject({
      days: 90,
      from: { at: daysBefore(280) },
      to: { at: daysBefore(190) },
    });
  });

  it('counts the stretch from the last use found to the use GetKeyLastUsage shows as a gap', () => {
    // Act
    const cadence = measureCadence({
      lastUsage: { operation: 'Sign', timestamp: daysBefore(100) },
      search: search([found(300), found(290)]),
      observationDays: 30,
    });

    // Assess
    expect(cadence.knownUses).toBe(3);
    expect(cadence.longestGap).toMatchObject({
      days: 190,
      to: { source: 'GetKeyLastUsage', operation: 'Sign' },
    });
  });

  it('does not measure a gap across the stretch an incomplete search never reached', () => {
    // Act
    const cadence = measureCadence({
      lastUsage: LAST_100_DAYS_AGO,
      search: search([found(300), found(280)], {
        complete: false,
        stoppedBy: 'REQUESTS',
        reachedTo: daysBefore(280),
      }),
      observationDays: 30,
    });

    // Assess
    expect(cadence.longestGap?.days).toBe(20);
    expect(cadence.complete).toBe(false);
    expect(cadence.searchedTo).toBe(daysBefore(280));
  });

  it('has no gap with one known use, and none without any', () => {
    // Act
    const one = measureCadence({ lastUsage: LAST_100_DAYS_AGO, search: search([]), observationDays: 30 });
    const none = measureCadence({ lastUsage: null, search: search([]), observationDays: 30 });

    // Assess
    expect(one).toMatchObject({ knownUses: 1, longestGap: null, latestUse: { source: 'GetKeyLastUsage' } });
    expect(none).toMatchObject({ knownUses: 0, longestGap: null, latestUse: null });
  });
});

describe('cadenceRefusal', () => {
  it('refuses a quarterly cadence under a 30-day observation and names the observation that covers it', () => {
    // Prepare
    const cadence = measureCadence({
      lastUsage: LAST_100_DAYS_AGO,
      search: search([found(370), found(280), found(190), found(100)]),
      observationDays: 30,
    });

    // Act
    const refusal = cadenceRefusal(KEY, cadence, REQUEST, CONFIG);

    // Assess
    expect(refusal?.cause).toBe('OBSERVATION_TOO_SHORT');
    expect(refusal?.message).toContain(`known successful uses 90 days apart (Decrypt at ${daysBefore(370)}`);
    expect(refusal?.message).toContain('longer than the 30-day observation');
    expect(refusal?.message).toContain('An observation of at least 90 days covers that gap.');
    expect(refusal?.message).toContain('"observationDays": 90 or more');
    expect(refusal?.message).toContain(
      `searched for earlier uses from ${daysBefore(365)} to ${NOW.toISOString()}`,
    );
    expect(refusal?.message).toContain('Nothing was changed');
  });

  it('accepts the same cadence under an observation at least as long as the longest gap', () => {
    // Prepare
    const cadence = measureCadence({
      lastUsage: LAST_100_DAYS_AGO,
      search: search([found(370), found(280), found(190), found(100)]),
      observationDays: 90,
    });

    // Act / Assess
    expect(cadenceRefusal(KEY, cadence, { ...REQUEST, observationDays: 90 }, CONFIG)).toBeNull();
    expect(cadenceRefusal(KEY, cadence, { ...REQUEST, observationDays: 100 }, CONFIG)).toBeNull();
  });

  it('refuses a 60-day cadence last seen 40 days ago under a 30-day observation, whatever the phase', () => {
    // Prepare
    const cadence = measureCadence({
      lastUsage: { operation: 'Decrypt', timestamp: daysBefore(40) },
      search: search([found(160), found(100), found(40)]),
      observationDays: 30,
    });

    // Act
    const refusal = cadenceRefusal(KEY, cadence, REQUEST, CONFIG);

    // Assess
    expect(refusal?.cause).toBe('OBSERVATION_TOO_SHORT');
    expect(refusal?.message).toContain('at least 60 days');
  });

  it('rounds a fractional gap up to the whole days that cover it', () => {
    // Act / Assess
    expect(observationCovering({ from: found(200), to: found(110), days: 89.5 })).toBe(90);
    expect(observationCovering({ from: found(200), to: found(110), days: 90 })).toBe(90);
  });

  it('says when no observation an execution can hold covers the gap', () => {
    // Prepare
    const cadence = measureCadence({
      lastUsage: { operation: 'Decrypt', timestamp: daysBefore(100) },
      search: search([found(800), found(100)], { searchedFrom: daysBefore(900) }),
      observationDays: 30,
    });

    // Act
    const refusal = cadenceRefusal(KEY, cadence, REQUEST, CONFIG);

    // Assess
    expect(refusal?.message).toContain('an execution can watch for at most 320 days');
    expect(refusal?.message).toContain('find the caller in CloudTrail');
  });

  it('is null without a cadence or with a single use', () => {
    // Act / Assess
    expect(cadenceRefusal(KEY, null, REQUEST, CONFIG)).toBeNull();
    expect(
      cadenceRefusal(
        KEY,
        measureCadence({ lastUsage: LAST_100_DAYS_AGO, search: search([]), observationDays: 30 }),
        REQUEST,
        CONFIG,
      ),
    ).toBeNull();
  });
});

describe('cadenceWarnings', () => {
  it('says in days that the only known use is older than the observation', () => {
    // Prepare
    const cadence = measureCadence({ lastUsage: LAST_100_DAYS_AGO, search: search([]), observationDays: 30 });

    // Act
    const warnings = cadenceWarnings(cadence, NOW);

    // Assess
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      `Only one successful use of this key is known: Decrypt at ${daysBefore(100)} (GetKeyLastUsage, event ID ` +
        'e-100), 100 days ago, longer ago than the 30-day observation.',
    );
    expect(warnings[0]).toContain('less often than every 30 days would not be seen by the watch');
  });

  it('says nothing of a single use within the observation, or of several uses close together', () => {
    // Prepare
    const recent = measureCadence({
      lastUsage: { operation: 'Decrypt', timestamp: daysBefore(20) },
      search: search([]),
      observationDays: 30,
    });
    const close = measureCadence({
      lastUsage: LAST_100_DAYS_AGO,
      search: search([found(120), found(110)]),
      observationDays: 30,
    });

    // Act / Assess
    expect(cadenceWarnings(recent, NOW)).toEqual([]);
    expect(cadenceWarnings(close, NOW)).toEqual([]);
    expect(cadenceWarnings(null, NOW)).toEqual([]);
  });

  it('says how far a search that stopped early reached', () => {
    // Prepare
    const cadence = measureCadence({
      lastUsage: LAST_100_DAYS_AGO,
      search: search([found(300), found(290)], {
        complete: false,
        stoppedBy: 'TIME',
        reachedTo: daysBefore(290),
      }),
      observationDays: 30,
    });

    // Act
    const warnings = cadenceWarnings(cadence, NOW);

    // Assess
    expect(warnings.join(' ')).toContain(
      `from ${daysBefore(365)} to ${daysBefore(290)} (it stopped there: its time budget ran out)`,
    );
    expect(warnings.join(' ')).toContain(`Gaps between uses after ${daysBefore(290)} were not measured`);
  });
});
