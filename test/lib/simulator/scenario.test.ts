import {
  CallSchedule,
  DEFAULT_ACCOUNT,
  parseDuration,
  parseScenario,
  resolveInstant,
  ScenarioError,
} from '../../../lib/simulator/scenario.js';

const START = new Date('2026-01-01T00:00:00Z');

function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    start: '2026-01-01T00:00:00Z',
    keys: [{ keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', createdAt: '2024-01-01T00:00:00Z' }],
    input: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
    ...extra,
  };
}

function errorOf(data: unknown): string {
  try {
    parseScenario(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error('expected a ScenarioError');
}

describe('resolveInstant', () => {
  it('resolves signed offsets of days, hours, minutes and seconds from start', () => {
    // Act
    const later = resolveInstant('+P12D', START);
    const earlier = resolveInstant('-P100D', START);
    const hours = resolveInstant('+PT6H', START);
    const mixed = resolveInstant('+P1DT2H3M4S', START);

    // Assess
    expect(later?.toISOString()).toBe('2026-01-13T00:00:00.000Z');
    expect(earlier?.toISOString()).toBe('2025-09-23T00:00:00.000Z');
    expect(hours?.toISOString()).toBe('2026-01-01T06:00:00.000Z');
    expect(mixed?.toISOString()).toBe('2026-01-02T02:03:04.000Z');
  });

  it('accepts ISO instants with Z or an offset and rejects anything else', () => {
    // Act / Assess
    expect(resolveInstant('2025-06-01T00:00:00Z', START)?.toISOString()).toBe('2025-06-01T00:00:00.000Z');
    expect(resolveInstant('2025-06-01T02:00:00+02:00', START)?.toISOString()).toBe(
      '2025-06-01T00:00:00.000Z',
    );
    expect(resolveInstant('2025-06-01', START)).toBeNull();
    expect(resolveInstant('P12D', START)).toBeNull();
    expect(resolveInstant('+P', START)).toBeNull();
    expect(resolveInstant('+12 days', START)).toBeNull();
  });

  it('parses durations to milliseconds', () => {
    // Act / Assess
    expect(parseDuration('PT40M')).toBe(40 * 60_000);
    expect(parseDuration('P1D')).toBe(86_400_000);
    expect(parseDuration('PT')).toBeNull();
    expect(parseDuration('P1W')).toBeNull();
  });
});

describe('parseScenario', () => {
  it('fills the defaults of an omitted account, Region, approvals, CloudTrail setup and key fields', () => {
    // Act
    const scenario = parseScenario(minimal());

    // Assess
    const [key] = scenario.keys;
    expect(scenario.account).toBe(DEFAULT_ACCOUNT);
    expect(scenario.region).toBe('us-east-1');
    expect(scenario.approvals).toEqual({ disable: 'approve', deletion: 'approve' });
    expect(key?.state).toBe('Enabled');
    expect(key?.manager).toBe('CUSTOMER');
    expect(key?.lastUsage).toBeNull();
    expect(key?.trackingStartDate).toEqual(key?.createdAt);
    expect(key?.keySpec).toBe('SYMMETRIC_DEFAULT');
    expect(key?.keyUsage).toBe('ENCRYPT_DECRYPT');
    expect(scenario.cloudTrail).toMatchObject({
      deliveryLagMs: 300_000,
      retentionDays: 365,
      background: 0,
      eventBridgeLagMs: 120_000,
      eventBridgeDrop: 0,
    });
    expect(scenario.workflowPrincipal).toBe('arn:aws:iam::111122223333:role/kms-deletion-guard-workflow');
  });

  it('passes the execution input through untouched, even when it is not an object', () => {
    // Act
    const scenario = parseScenario(minimal({ input: 'alias/not-a-key-id' }));

    // Assess
    expect(scenario.input).toBe('alias/not-a-key-id');
  });

  it('resolves offsets in keys, calls, faults and cloudTrail', () => {
    // Act
    const scenario = parseScenario(
      minimal({
        keys: [
          {
            keyId: 'k',
            createdAt: '-P400D',
            trackingStartDate: '-P200D',
            lastUsage: { operation: 'Decrypt', at: '-P100D' },
            keySpec: 'ECC_NIST_P256',
          },
        ],
        calls: [{ at: '+P12D', keyId: 'k', operation: 'Decrypt', principal: 'p', deliveryLag: 'PT40M' }],
        faults: [
          { service: 'kms', operation: 'DisableKey', error: 'KMSInternalException', from: '+P0D', count: 2 },
        ],
        cloudTrail: { stopLoggingAt: '+P5D', deliveryLag: 'PT1M' },
      }),
    );

    // Assess
    const [key] = scenario.keys;
    expect(key?.createdAt.toISOString()).toBe('2024-11-27T00:00:00.000Z');
    expect(key?.trackingStartDate.toISOString()).toBe('2025-06-15T00:00:00.000Z');
    expect(key?.lastUsage?.at.toISOString()).toBe('2025-09-23T00:00:00.000Z');
    expect(key?.keyUsage).toBe('SIGN_VERIFY');
    expect(scenario.calls[0]?.at.toISOString()).toBe('2026-01-13T00:00:00.000Z');
    expect(scenario.calls[0]?.deliveryLagMs).toBe(40 * 60_000);
    expect(scenario.faults[0]).toMatchObject({ from: START, until: null, count: 2 });
    expect(scenario.cloudTrail.stopLoggingAt?.toISOString()).toBe('2026-01-06T00:00:00.000Z');
    expect(scenario.cloudTrail.deliveryLagMs).toBe(60_000);
  });

  it.each([
    ['not an object', 42, 'scenario must be object'],
    ['missing keys', { start: '2026-01-01T00:00:00Z', input: {} }, 'keys is required'],
    [
      'missing input',
      { start: '2026-01-01T00:00:00Z', keys: [{ keyId: 'k', createdAt: '+P0D' }] },
      'input is required',
    ],
    ['bad start', minimal({ start: 'tomorrow' }), 'start must be an ISO-8601 date-time'],
    ['empty keys', minimal({ keys: [] }), 'keys must NOT have fewer than 1 items'],
    ['key without createdAt', minimal({ keys: [{ keyId: 'k' }] }), 'keys[0].createdAt is required'],
    [
      'bad key time',
      minimal({ keys: [{ keyId: 'k', createdAt: 'last year' }] }),
      "keys[0].createdAt: 'last year' is not an ISO-8601 instant",
    ],
    [
      'bad state',
      minimal({ keys: [{ keyId: 'k', createdAt: '+P0D', state: 'Gone' }] }),
      'keys[0].state must be one of',
    ],
    ['bad approval', minimal({ approvals: { disable: 'maybe' } }), 'approvals.disable must be one of'],
    [
      'bad every',
      minimal({ calls: [{ at: '+P1D', keyId: 'k', operation: 'Decrypt', principal: 'p', every: '6h' }] }),
      'calls[0].every has the wrong form',
    ],
    [
      'until before at',
      minimal({ calls: [{ at: '+P2D', keyId: 'k', operation: 'Decrypt', principal: 'p', until: '+P1D' }] }),
      'calls[0].until: 2026-01-02T00:00:00.000Z is before',
    ],
    ['bad account', minimal({ account: '1234' }), 'account has the wrong form (expected 12 digits)'],
    [
      'duplicate key',
      minimal({
        keys: [
          { keyId: 'k', createdAt: '+P0D' },
          { keyId: 'k', createdAt: '+P0D' },
        ],
      }),
      "keys[1].keyId: 'k' appears twice",
    ],
    [
      'bad fault time',
      minimal({ faults: [{ service: 'kms', operation: '*', error: 'X', until: 'soon' }] }),
      "faults[0].until: 'soon'",
    ],
  ])('rejects %s with one line naming the field', (_label, data, expected) => {
    // Act
    const message = errorOf(data);

    // Assess
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });
});

describe('CallSchedule', () => {
  it('expands every/until series in time order and splits history from live calls', () => {
    // Prepare
    const scenario = parseScenario(
      minimal({
        calls: [
          { at: '-P1D', keyId: 'k', operation: 'Decrypt', principal: 'a', every: 'PT12H', until: '+PT12H' },
          { at: '+PT6H', keyId: 'k', operation: 'Encrypt', principal: 'b' },
        ],
      }),
    );
    const schedule = new CallSchedule(scenario.calls);

    // Act
    const history = schedule.takeBefore(scenario.start);
    const live = schedule.takeUntil(new Date('2026-02-01T00:00:00Z'));

    // Assess
    expect(history.map((c) => c.at.toISOString())).toEqual([
      '2025-12-31T00:00:00.000Z',
      '2025-12-31T12:00:00.000Z',
    ]);
    expect(live.map((c) => `${c.at.toISOString()} ${c.call.operation}`)).toEqual([
      '2026-01-01T00:00:00.000Z Decrypt',
      '2026-01-01T06:00:00.000Z Encrypt',
      '2026-01-01T12:00:00.000Z Decrypt',
    ]);
    expect(schedule.takeUntil(new Date('2027-01-01T00:00:00Z'))).toEqual([]);
  });

  it('runs a series without until for as long as time is advanced', () => {
    // Prepare
    const scenario = parseScenario(
      minimal({ calls: [{ at: '+P0D', keyId: 'k', operation: 'Decrypt', principal: 'a', every: 'P1D' }] }),
    );
    const schedule = new CallSchedule(scenario.calls);

    // Act
    const first = schedule.takeUntil(new Date('2026-01-03T00:00:00Z'));
    const second = schedule.takeUntil(new Date('2026-01-04T12:00:00Z'));

    // Assess
    expect(first).toHaveLength(3);
    expect(second.map((c) => c.sequence)).toEqual([3]);
  });
});
