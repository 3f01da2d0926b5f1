import scenarioSchema from '../../../lib/simulator/contracts/scenario.schema.json' with { type: 'json' };
import {
  CallSchedule,
  DEFAULT_ACCOUNT,
  parseDuration,
  parseScenario,
  resolveInstant,
  ScenarioError,
  ScenarioFieldNotSupportedError,
  ScenarioUnknownFieldError,
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
  return thrownBy(data).message;
}

function thrownBy(data: unknown): ScenarioError {
  try {
    parseScenario(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return error as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

const CALL = { at: '+P1D', keyId: 'k', operation: 'Decrypt', principal: 'p' };

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

describe('parseScenario: unknown fields', () => {
  it.each([
    ['the top level', minimal({ lastUse: { operation: 'Decrypt', at: '-P1D' } }), 'lastUse'],
    [
      'a key',
      minimal({ keys: [{ keyId: 'k', createdAt: '+P0D', lastUse: { operation: 'Decrypt', at: '-P1D' } }] }),
      'keys[0].lastUse',
    ],
    ['a call', minimal({ calls: [CALL, { ...CALL, lastUse: '-P1D' }] }), 'calls[1].lastUse'],
    ['the CloudTrail setup', minimal({ cloudTrail: { lastUse: '-P1D' } }), 'cloudTrail.lastUse'],
  ])('refuses a misspelt lastUsage in %s, naming where it is and the field meant', (_place, data, path) => {
    // Act
    const error = thrownBy(data);

    // Assess
    expect(error).toBeInstanceOf(ScenarioUnknownFieldError);
    expect(error.message).toMatch(
      new RegExp(
        `^${path.replace(/[[\].]/g, '\\$&')}: unknown field; .*did you mean (keys\\[\\]\\.)?lastUsage\\?$`,
      ),
    );
    expect((error as ScenarioUnknownFieldError).path).toBe(path);
    expect((error as ScenarioUnknownFieldError).suggestion).toMatch(/lastUsage$/);
    expect(error.message).not.toContain('\n');
  });

  it('suggests the field of the same object when one is close, else the place the field belongs', () => {
    // Act
    const inKey = thrownBy(
      minimal({ keys: [{ keyId: 'k', createdAt: '+P0D', lastUse: { operation: 'Decrypt', at: '-P1D' } }] }),
    );
    const onTop = thrownBy(minimal({ lastUsage: { operation: 'Decrypt', at: '-P1D' } }));
    const misplaced = thrownBy(minimal({ cloudTrail: { regin: 'eu-west-1' } }));

    // Assess
    expect(inKey.message).toBe('keys[0].lastUse: unknown field; did you mean lastUsage?');
    expect(onTop.message).toMatch(
      /^lastUsage: unknown field; the fields here are name, start, .*, faults; did you mean keys\[\]\.lastUsage\?$/,
    );
    expect(misplaced.message).toMatch(
      /^cloudTrail\.regin: unknown field; .*; did you mean top-level region\?$/,
    );
  });

  it('reports a misspelt required field as unknown rather than as a missing one', () => {
    // Act
    const error = thrownBy(minimal({ keys: [{ keyId: 'k', createAt: '+P0D' }] }));

    // Assess
    expect(error).toBeInstanceOf(ScenarioUnknownFieldError);
    expect(error.message).toBe('keys[0].createAt: unknown field; did you mean createdAt?');
  });

  it('lists the fields of the object when no known field is close, and quotes a name that is no identifier', () => {
    // Act
    const far = thrownBy(minimal({ cloudTrail: { verbose: true } }));
    const odd = thrownBy(minimal({ approvals: { 'dis able\n': 'approve' } }));

    // Assess
    expect(far.message).toMatch(
      /^cloudTrail\.verbose: unknown field; the fields here are deliveryLag, retentionDays, /,
    );
    expect((far as ScenarioUnknownFieldError).suggestion).toBeNull();
    expect(odd.message).toBe('approvals["dis able\\n"]: unknown field; did you mean disable?');
  });

  it('accepts any field in the free-form parts: input, config, tags', () => {
    // Act
    const scenario = parseScenario(
      minimal({
        input: { keyId: 'k', anything: 1 },
        config: { observationDays: 7 },
        keys: [{ keyId: 'k', createdAt: '+P0D', tags: { 'any-tag': 'x' } }],
      }),
    );

    // Assess
    expect(scenario.input).toEqual({ keyId: 'k', anything: 1 });
    expect(scenario.keys[0]?.tags).toEqual({ 'any-tag': 'x' });
  });
});

describe('parseScenario: fields the simulator does not model yet', () => {
  it.each([
    ['runUntil', minimal({ runUntil: '+P40D' })],
    ['keys[0].origin', minimal({ keys: [{ keyId: 'k', createdAt: '+P0D', origin: 'EXTERNAL' }] })],
    ['calls[0].omitKeyId', minimal({ calls: [{ ...CALL, omitKeyId: true }] })],
    ['calls[0].invokedBy', minimal({ calls: [{ ...CALL, invokedBy: 's3.amazonaws.com' }] })],
    ['calls[0].loggedIn', minimal({ calls: [{ ...CALL, loggedIn: 'caller' }] })],
    ['calls[0].eventBridge', minimal({ calls: [{ ...CALL, eventBridge: 'drop' }] })],
    ['calls[0].eventBridgeLag', minimal({ calls: [{ ...CALL, eventBridgeLag: 'PT5M' }] })],
    ['calls[0].tags', minimal({ calls: [{ ...CALL, operation: 'TagResource', tags: { a: 'b' } }] })],
    ['calls[0].tagKeys', minimal({ calls: [{ ...CALL, operation: 'UntagResource', tagKeys: ['a'] }] })],
    ['calls[0].alias', minimal({ calls: [{ ...CALL, operation: 'CreateAlias', alias: 'alias/x' }] })],
    [
      'calls[0].pendingWindowInDays',
      minimal({ calls: [{ ...CALL, operation: 'ScheduleKeyDeletion', pendingWindowInDays: 7 }] }),
    ],
    ['approvals.disableAfter', minimal({ approvals: { disableAfter: 'P1D' } })],
    ['approvals.deletionAfter', minimal({ approvals: { deletionAfter: 'P1D' } })],
    ['cloudTrail.backgroundPerDay', minimal({ cloudTrail: { backgroundPerDay: 1000 } })],
    ['cloudTrail.searchPageLatencyMs', minimal({ cloudTrail: { searchPageLatencyMs: 300 } })],
    ['cloudTrail.searchTps', minimal({ cloudTrail: { searchTps: 5 } })],
  ])('refuses %s with a named error rather than ignoring it', (path, data) => {
    // Act
    const error = thrownBy(data);

    // Assess
    expect(error).toBeInstanceOf(ScenarioFieldNotSupportedError);
    expect((error as ScenarioFieldNotSupportedError).path).toBe(path);
    expect(error.message).toBe(`${path}: the simulator does not model this field yet; remove it`);
  });

  it.each(['events'])('refuses faults of %s, a service whose faults it does not inject', (service) => {
    // Act
    const error = thrownBy(minimal({ faults: [{ service, operation: '*', error: 'InternalFailure' }] }));

    // Assess
    expect(error).toBeInstanceOf(ScenarioFieldNotSupportedError);
    expect(error.message).toBe(
      `faults[0].service: the simulator does not model '${service}' faults yet; remove the fault ` +
        '(it injects kms, logs, cloudtrail, sns, sfn, dynamodb, scheduler, ec2, rds, s3, backup, ' +
        'secretsmanager, ssm, elasticfilesystem, config faults)',
    );
  });

  it('names an unknown field before an unmodelled one, and an unmodelled one before a bad value', () => {
    // Act
    const both = thrownBy(minimal({ runUntil: '+P40D', lastUse: 1 }));
    const badValue = thrownBy(minimal({ calls: [{ ...CALL, pendingWindowInDays: 3 }] }));

    // Assess
    expect(both).toBeInstanceOf(ScenarioUnknownFieldError);
    expect(badValue).toBeInstanceOf(ScenarioFieldNotSupportedError);
  });

  it('either reads or refuses every field of the format, so that none is silently ignored', () => {
    // Prepare: the fields the loader reads; any other field of the schema must be refused.
    const read = new Set([
      'name',
      'start',
      'account',
      'region',
      'keys',
      'calls',
      'approvals',
      'input',
      'config',
      'cloudTrail',
      'faults',
      'awsConfig',
      'awsConfig.recording',
      ...['keyId', 'createdAt', 'trackingStartDate', 'lastUsage', 'state', 'manager', 'aliases']
        .concat(['tags', 'keySpec', 'keyUsage', 'description', 'region', 'multiRegion'])
        .concat(['protects', 'grants', 'keyPolicy'])
        .map((f) => `keys.${f}`),
      ...['at', 'keyId', 'operation', 'principal', 'account', 'every', 'until', 'deliveryLag'].map(
        (f) => `calls.${f}`,
      ),
      'approvals.disable',
      'approvals.deletion',
      ...['deliveryLag', 'retentionDays', 'background', 'filterScanPageSize', 'eventBridgeLag']
        .concat(['eventBridgeDrop', 'readWriteType', 'excludeKmsEvents', 'trailChangeAt', 'stopLoggingAt'])
        .concat(['logGroupKmsKeyId'])
        .map((f) => `cloudTrail.${f}`),
      ...['service', 'operation', 'error', 'from', 'until', 'count'].map((f) => `faults.${f}`),
    ]);
    type Node = { properties?: Record<string, Node>; items?: Node };
    const fields = (node: Node): string[] => Object.keys((node.items ?? node).properties ?? {});
    const root = scenarioSchema as Node;
    const withField = (parent: string | null, field: string): unknown => {
      const value = 'x';
      if (parent === null) return minimal({ [field]: value });
      if (parent === 'keys') return minimal({ keys: [{ keyId: 'k', createdAt: '+P0D', [field]: value }] });
      if (parent === 'calls') return minimal({ calls: [{ ...CALL, [field]: value }] });
      if (parent === 'faults')
        return minimal({ faults: [{ service: 'kms', operation: '*', error: 'X', [field]: value }] });
      return minimal({ [parent]: { [field]: value } });
    };
    const places: [string | null, string][] = fields(root).flatMap((top) => [
      [null, top] as [string | null, string],
      ...fields(root.properties?.[top] ?? {}).map((f) => [top, f] as [string | null, string]),
    ]);

    // Act
    const wrong = places.filter(([parent, field]) => {
      const name = parent === null ? field : `${parent}.${field}`;
      let refused = false;
      try {
        parseScenario(withField(parent, field));
      } catch (error) {
        expect(error).not.toBeInstanceOf(ScenarioUnknownFieldError);
        refused = error instanceof ScenarioFieldNotSupportedError;
      }
      return read.has(name) === refused;
    });

    // Assess
    expect(places.length).toBeGreaterThan(60);
    expect(wrong).toEqual([]);
  });
});

describe('parseScenario: the field a misspelt name meant', () => {
  function suggestionFor(cloudTrailField: string): string | null {
    const error = thrownBy(minimal({ cloudTrail: { [cloudTrailField]: 1 } }));
    expect(error).toBeInstanceOf(ScenarioUnknownFieldError);
    return (error as ScenarioUnknownFieldError).suggestion;
  }

  it('finds the field meant despite case, separators, a missing letter or swapped letters', () => {
    // Act / Assess
    expect(suggestionFor('DeliveryLag')).toBe('deliveryLag');
    expect(suggestionFor('delivery_lag')).toBe('deliveryLag');
    expect(suggestionFor('delivryLag')).toBe('deliveryLag');
    expect(suggestionFor('retentoinDays')).toBe('retentionDays');
    expect(suggestionFor('lastUse')).toBe('keys[].lastUsage');
  });

  it('guesses nothing when no field is close, here or elsewhere', () => {
    // Act / Assess
    expect(suggestionFor('verbose')).toBeNull();
    expect(suggestionFor('x')).toBeNull();
  });
});

describe('parseScenario: what the keys protect', () => {
  const KEY = { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', createdAt: '2024-01-01T00:00:00Z' };

  it('reads protected resources with their defaults: no ARN, the key creation, Config recording', () => {
    // Act
    const scenario = parseScenario(
      minimal({
        awsConfig: { recording: true },
        keys: [
          {
            ...KEY,
            protects: [
              { type: 'AWS::EC2::Snapshot', id: 'snap-0123456789abcdef0' },
              {
                type: 'AWS::S3::Bucket',
                id: 'archive-bucket',
                arn: 'arn:aws:s3:::archive-bucket',
                createdAt: '-P400D',
                recordedByConfig: false,
              },
            ],
          },
        ],
      }),
    );

    // Assess
    expect(scenario.awsConfig).toEqual({ recording: true });
    expect(scenario.keys[0]?.protects).toEqual([
      {
        type: 'AWS::EC2::Snapshot',
        id: 'snap-0123456789abcdef0',
        arn: null,
        createdAt: new Date('2024-01-01T00:00:00Z'),
        recordedByConfig: true,
      },
      {
        type: 'AWS::S3::Bucket',
        id: 'archive-bucket',
        arn: 'arn:aws:s3:::archive-bucket',
        createdAt: new Date('2024-11-27T00:00:00Z'),
        recordedByConfig: false,
      },
    ]);
  });

  it.each([
    ['AWS::EC2::Volume', 'my-volume', 'vol- and 8 or 17 hex digits'],
    ['AWS::S3::Bucket', 'Archive_Bucket', '3 to 63 lower-case letters, digits, dots and hyphens'],
    ['AWS::RDS::DBInstance', 'OrdersDb', 'a lower-case letter'],
    ['AWS::EFS::FileSystem', 'fs-xyz', 'fs- and 8 to 40 hex digits'],
  ])('refuses a %s named %s, a name the service cannot hold', (type, id, form) => {
    // Act
    const message = errorOf(minimal({ keys: [{ ...KEY, protects: [{ type, id }] }] }));

    // Assess
    expect(message).toContain(`keys[0].protects[0].id: '${id}' is not a ${type} identifier (${form}`);
  });

  it('refuses one resource under two keys', () => {
    // Act
    const message = errorOf(
      minimal({
        keys: [
          { ...KEY, protects: [{ type: 'AWS::DynamoDB::Table', id: 'orders' }] },
          { keyId: 'other', createdAt: '+P0D', protects: [{ type: 'AWS::DynamoDB::Table', id: 'orders' }] },
        ],
      }),
    );

    // Assess
    expect(message).toBe(
      "keys[1].protects[0]: AWS::DynamoDB::Table 'orders' is already protected by keys[0].protects[0]",
    );
  });

  it('refuses data at rest under a key that is not a symmetric encryption key', () => {
    // Act
    const message = errorOf(
      minimal({
        keys: [{ ...KEY, keySpec: 'RSA_2048', protects: [{ type: 'AWS::S3::Bucket', id: 'bucket-a' }] }],
      }),
    );

    // Assess
    expect(message).toBe(
      'keys[0].protects: AWS services encrypt data at rest only under symmetric encryption keys; this key is RSA_2048',
    );
  });

  it('reads grants and the key policy', () => {
    // Act
    const scenario = parseScenario(
      minimal({
        keys: [
          {
            ...KEY,
            grants: [
              {
                granteePrincipal: 'arn:aws:iam::111122223333:role/app',
                operations: ['Decrypt', 'GenerateDataKey'],
                encryptionContextSubset: { 'aws:ebs:id': 'vol-0123456789abcdef0' },
              },
            ],
            keyPolicy: { Version: '2012-10-17', Statement: [] },
          },
        ],
      }),
    );

    // Assess
    expect(scenario.keys[0]?.grants).toEqual([
      {
        granteePrincipal: 'arn:aws:iam::111122223333:role/app',
        retiringPrincipal: null,
        operations: ['Decrypt', 'GenerateDataKey'],
        name: null,
        createdAt: new Date('2024-01-01T00:00:00Z'),
        encryptionContextSubset: { 'aws:ebs:id': 'vol-0123456789abcdef0' },
      },
    ]);
    expect(scenario.keys[0]?.keyPolicy).toEqual({ Version: '2012-10-17', Statement: [] });
    expect(parseScenario(minimal()).keys[0]?.keyPolicy).toBeNull();
  });

  it('refuses a grant operation KMS does not have and a context value that is not text', () => {
    // Act
    const operation = errorOf(
      minimal({ keys: [{ ...KEY, grants: [{ granteePrincipal: 'p', operations: ['Decrypts'] }] }] }),
    );
    const context = errorOf(
      minimal({
        keys: [
          {
            ...KEY,
            grants: [{ granteePrincipal: 'p', operations: ['Decrypt'], encryptionContextSubset: { a: 1 } }],
          },
        ],
      }),
    );

    // Assess
    expect(operation).toMatch(/^keys\[0\]\.grants\[0\]\.operations: 'Decrypts' is not a grant operation \(/);
    expect(context).toBe('keys[0].grants[0].encryptionContextSubset: values must be strings');
  });

  it('reads the key of the CloudTrail log group and faults of every inventory service', () => {
    // Act
    const scenario = parseScenario(
      minimal({
        cloudTrail: { logGroupKmsKeyId: 'alias/logs' },
        faults: [
          'ec2',
          'rds',
          's3',
          'backup',
          'secretsmanager',
          'ssm',
          'elasticfilesystem',
          'config',
          'scheduler',
        ].map((service) => ({ service, operation: '*', error: 'AccessDenied' })),
      }),
    );

    // Assess
    expect(scenario.cloudTrail.logGroupKmsKeyId).toBe('alias/logs');
    expect(scenario.faults).toHaveLength(9);
    expect(parseScenario(minimal()).cloudTrail.logGroupKmsKeyId).toBeNull();
  });
});
