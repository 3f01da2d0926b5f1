import type { EventRule } from '../../../lib/simulator/definition.js';
import type { EmittedRecord } from '../../../lib/simulator/emulator/account.js';
import { cloudTrailEvent, EmulatedEventBridge, matchesPattern } from '../../../lib/simulator/eventbridge.js';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const RULE: EventRule = {
  logicalId: 'FastPathRule',
  state: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
  handler: 'fast-path',
  pattern: {
    source: ['aws.kms'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['kms.amazonaws.com'],
      errorCode: ['DisabledException', 'KMSInvalidStateException'],
    },
  },
};

let counter = 0;
function emitted(
  overrides: Record<string, unknown> = {},
  at = 1_000_000,
  visibleAt: number | null = at,
): EmittedRecord {
  counter += 1;
  return {
    at,
    visibleAt,
    workflow: false,
    record: {
      eventID: `ev-${counter}`,
      eventTime: new Date(at).toISOString(),
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      awsRegion: 'us-east-1',
      errorCode: 'DisabledException',
      errorMessage: `${KEY_ARN} is disabled.`,
      readOnly: true,
      resources: [{ ARN: KEY_ARN, accountId: '111122223333', type: 'AWS::KMS::Key' }],
      ...overrides,
    },
  } as unknown as EmittedRecord;
}

function bus(options: { drop?: number; rules?: EventRule[] } = {}) {
  return new EmulatedEventBridge({
    rules: options.rules ?? [RULE],
    lagMs: 120_000,
    drop: options.drop ?? 0,
    account: '111122223333',
    region: 'us-east-1',
  });
}

describe('matchesPattern', () => {
  it('matches literal lists and nested patterns, and any element of an array in the event', () => {
    expect(matchesPattern({ a: ['x', 'y'], b: { c: [1] } }, { a: 'y', b: { c: 1 }, d: 0 })).toBe(true);
    expect(matchesPattern({ a: ['x'] }, { a: ['z', 'x'] })).toBe(true);
    expect(matchesPattern({ a: ['x'] }, { a: 'z' })).toBe(false);
    expect(matchesPattern({ a: ['x'] }, {})).toBe(false);
    expect(matchesPattern({ b: { c: [1] } }, { b: 'flat' })).toBe(false);
  });

  it('refuses content filters instead of guessing them', () => {
    expect(() => matchesPattern({ a: [{ prefix: 'x' }] }, { a: 'xy' })).toThrow(/content filter/);
  });
});

describe('EmulatedEventBridge', () => {
  it('puts a CloudTrail record on the bus as EventBridge does: aws.kms, the record as detail', () => {
    // Act
    const event = cloudTrailEvent(emitted(), '111122223333');

    // Assess
    expect(event).toMatchObject({
      source: 'aws.kms',
      'detail-type': 'AWS API Call via CloudTrail',
      account: '111122223333',
      region: 'us-east-1',
      detail: { eventName: 'Decrypt', errorCode: 'DisabledException' },
    });
  });

  it('delivers a matching event after the lag, in time order', () => {
    // Prepare
    const eventBus = bus();

    // Act
    eventBus.publish(emitted({}, 2_000_000));
    eventBus.publish(emitted({}, 1_000_000));

    // Assess
    expect(eventBus.nextDueAt()).toBe(1_120_000);
    expect(eventBus.takeDue(1_119_999)).toEqual([]);
    const due = eventBus.takeDue(2_120_000);
    expect(due.map((d) => d.deliverAt)).toEqual([1_120_000, 2_120_000]);
    expect(due[0]).toMatchObject({ handler: 'fast-path', rule: 'FastPathRule' });
    expect(eventBus.stats).toEqual({ matched: 2, dropped: 0, delivered: 2 });
  });

  it.each([
    ['a success', emitted({ errorCode: undefined, errorMessage: undefined })],
    ['another error', emitted({ errorCode: 'AccessDeniedException' })],
    ['a record of another Region (rules are Regional)', emitted({ awsRegion: 'eu-west-1' })],
    ['a record no trail logged', emitted({}, 1_000_000, null)],
  ])('never delivers %s', (_name, record) => {
    // Prepare
    const eventBus = bus();

    // Act
    eventBus.publish(record);

    // Assess
    expect(eventBus.nextDueAt()).toBeNull();
  });

  it('gives read-only events only to a rule that asks for all CloudTrail management events', () => {
    // Prepare
    const plain = bus({ rules: [{ ...RULE, state: 'ENABLED' }] });

    // Act
    plain.publish(emitted({ readOnly: true }));
    plain.publish(emitted({ eventName: 'EnableKey', readOnly: false }));

    // Assess
    expect(plain.takeDue(Number.MAX_SAFE_INTEGER)).toHaveLength(1);
  });

  it('drops exactly the configured share, deterministically', () => {
    // Prepare
    const half = bus({ drop: 0.5 });
    const all = bus({ drop: 1 });

    // Act
    for (let i = 0; i < 10; i += 1) {
      half.publish(emitted());
      all.publish(emitted());
    }

    // Assess
    expect(half.stats).toMatchObject({ matched: 10, dropped: 5 });
    expect(all.stats).toMatchObject({ matched: 10, dropped: 10 });
    expect(all.nextDueAt()).toBeNull();
  });

  it("lets a call's own eventBridge setting decide for its event, without shifting the others' drops", () => {
    // Prepare: half of the events are dropped; one call is forced through, one is lost, one is late.
    const half = bus({ drop: 0.5 });
    const delivered: string[] = [];

    // Act
    half.publish({ ...emitted(), eventBridge: { mode: 'deliver' } });
    half.publish({ ...emitted({}, 2_000_000), eventBridge: { mode: 'drop' } });
    half.publish({ ...emitted({}, 3_000_000), eventBridge: { lagMs: 3_600_000 } });
    half.publish(emitted({}, 4_000_000));
    for (const d of half.takeDue(Number.MAX_SAFE_INTEGER)) delivered.push(String(d.deliverAt));

    // Assess: only the events without a setting draw from the share, as if the others were not
    // there: its first (the late one) passes, its second (the plain one) is dropped.
    expect(delivered).toEqual(['1120000', '6600000']);
    expect(half.stats).toMatchObject({ matched: 4, dropped: 2 });
  });

  it("delays an event by the call's own eventBridgeLag", () => {
    // Prepare
    const eventBus = bus();

    // Act
    eventBus.publish({ ...emitted({}, 1_000_000), eventBridge: { lagMs: 3_600_000 } });

    // Assess
    expect(eventBus.nextDueAt()).toBe(4_600_000);
  });
});

describe('the fast path in a simulation', () => {
  it('and a polling check finding the same record at the same moment enable once and e-mail once', async () => {
    // Prepare: the event reaches the fast path exactly when the 06:00 check runs.
    const { simulate } = await import('../../../lib/simulator/simulate.js');
    let enables = 0;

    // Act
    const result = await simulate(
      {
        name: 'same moment',
        start: '2026-03-01T00:00:00Z',
        keys: [{ keyId: '3456cdef-34cd-56ef-78a1-345678901bcd', createdAt: '2024-06-01T00:00:00Z' }],
        calls: [
          {
            at: '+P1DT5H50M',
            keyId: '3456cdef-34cd-56ef-78a1-345678901bcd',
            operation: 'Decrypt',
            principal: 'arn:aws:iam::111122223333:role/app',
          },
        ],
        input: { keyId: '3456cdef-34cd-56ef-78a1-345678901bcd' },
        cloudTrail: { eventBridgeLag: 'PT10M', deliveryLag: 'PT1M' },
      },
      {
        inspect: (account) => {
          enables = account
            .records()
            .filter((e) => e.record.eventName === 'EnableKey' && !e.record.errorCode).length;
        },
      },
    );

    // Assess
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.key.restoredAt).toBe('2026-03-02T06:00:00.000Z');
    expect(enables).toBe(1);
    expect(result.notifications.filter((n) => n.kind === 'rolled-back')).toHaveLength(1);
  });
});
