import type { EmittedRecord } from '../../../../lib/simulator/emulator/account.js';
import {
  ACCOUNT,
  APP_ROLE,
  DAY,
  KEY_ARN,
  KEY_ID,
  LOG_GROUP,
  MINUTE,
  newAccount,
  REGION,
  START,
  TestClock,
  WORKFLOW_ROLE,
} from './fixtures.js';

const caller = {
  principalArn: WORKFLOW_ROLE,
  account: ACCOUNT,
  region: REGION,
  sourceIp: '127.0.0.1',
  userAgent: 'test',
};

describe('EmulatedAccount', () => {
  it('counts history calls for GetKeyLastUsage only from the tracking start on', () => {
    // Prepare
    const clock = new TestClock();
    const account = newAccount(clock);

    // Act
    account.appCall({
      keyId: KEY_ID,
      operation: 'Decrypt',
      principalArn: APP_ROLE,
      at: new Date('2025-03-01T00:00:00Z'),
    });
    const beforeTracking = account.serve('kms', 'GetKeyLastUsage', { KeyId: KEY_ID }, caller);
    account.appCall({
      keyId: KEY_ID,
      operation: 'Sign',
      principalArn: APP_ROLE,
      at: new Date('2025-08-01T00:00:00Z'),
    });
    account.appCall({
      keyId: KEY_ID,
      operation: 'Encrypt',
      principalArn: APP_ROLE,
      at: new Date('2025-09-01T00:00:00Z'),
    });
    account.appCall({
      keyId: KEY_ID,
      operation: 'Decrypt',
      principalArn: APP_ROLE,
      at: new Date('2025-07-01T00:00:00Z'),
    });
    const afterTracking = account.serve('kms', 'GetKeyLastUsage', { KeyId: KEY_ID }, caller);

    // Assess
    expect(beforeTracking.body.KeyLastUsage).toEqual({});
    expect(afterTracking.body.KeyLastUsage).toMatchObject({
      Operation: 'Encrypt',
      Timestamp: Date.parse('2025-09-01T00:00:00Z') / 1000,
    });
  });

  it('reports a pre-tracking lastUsage as empty and a tracked one with its IDs', () => {
    // Prepare
    const account = newAccount(new TestClock());
    account.addKey({
      keyId: '3333cccc-12ab-34cd-56ef-1234567890ab',
      createdAt: new Date('2024-01-01T00:00:00Z'),
      trackingStartDate: new Date('2025-06-01T00:00:00Z'),
      lastUsage: { operation: 'Decrypt', at: new Date('2025-01-01T00:00:00Z') },
    });
    account.addKey({
      keyId: '4444dddd-12ab-34cd-56ef-1234567890ab',
      createdAt: new Date('2024-01-01T00:00:00Z'),
      trackingStartDate: new Date('2025-06-01T00:00:00Z'),
      lastUsage: { operation: 'Decrypt', at: new Date('2025-07-01T00:00:00Z') },
    });

    // Act
    const untracked = account.serve(
      'kms',
      'GetKeyLastUsage',
      { KeyId: '3333cccc-12ab-34cd-56ef-1234567890ab' },
      caller,
    );
    const tracked = account.serve(
      'kms',
      'GetKeyLastUsage',
      { KeyId: '4444dddd-12ab-34cd-56ef-1234567890ab' },
      caller,
    );

    // Assess
    expect(untracked.body.KeyLastUsage).toEqual({});
    expect(tracked.body.KeyLastUsage).toMatchObject({
      Operation: 'Decrypt',
      CloudTrailEventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      KmsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('serves keys of another Region only to callers in that Region', () => {
    // Prepare
    const account = newAccount(new TestClock());
    account.addKey({ keyId: '5555eeee-12ab-34cd-56ef-1234567890ab', region: 'eu-west-1', createdAt: START });
    const arn = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/5555eeee-12ab-34cd-56ef-1234567890ab`;

    // Act
    const home = account.serve('kms', 'DescribeKey', { KeyId: arn }, caller);
    const there = account.serve('kms', 'DescribeKey', { KeyId: arn }, { ...caller, region: 'eu-west-1' });
    const app = account.appCall({ keyId: arn, operation: 'Encrypt', principalArn: APP_ROLE });

    // Assess
    expect(home.body).toEqual({ __type: 'NotFoundException', message: 'Invalid arn eu-west-1' });
    expect((there.body.KeyMetadata as { Arn: string }).Arn).toBe(arn);
    expect(app.ok).toBe(true);
    expect(account.records().at(-1)?.record.awsRegion).toBe('eu-west-1');
  });

  it('follows the trail setup: excluded KMS read events and stopped logging are not delivered', () => {
    // Prepare
    const clock = new TestClock();
    const account = newAccount(clock, {
      trail: { excludeKmsEvents: true, stopLoggingAt: new Date(START.getTime() + DAY) },
    });
    const seen: EmittedRecord[] = [];
    account.onRecord((emitted) => seen.push(emitted));

    // Act
    account.appCall({ keyId: KEY_ID, operation: 'Decrypt', principalArn: APP_ROLE });
    account.appCall({ keyId: KEY_ID, operation: 'DisableKey', principalArn: APP_ROLE });
    clock.advance(DAY);
    account.appCall({ keyId: KEY_ID, operation: 'EnableKey', principalArn: APP_ROLE });
    clock.advance(10 * MINUTE);
    const found = account.serve('logs', 'FilterLogEvents', { logGroupName: LOG_GROUP, startTime: 0 }, caller);

    // Assess
    expect(seen.map((emitted) => [emitted.record.eventName, emitted.visibleAt !== null])).toEqual([
      ['Decrypt', false],
      ['DisableKey', true],
      ['EnableKey', false],
    ]);
    expect(
      (found.body.events as { message: string }[]).map((event) => JSON.parse(event.message).eventName),
    ).toEqual(['DisableKey']);
    expect(account.logEventsInWindow(0, clock.now().getTime())).toBe(1);
  });

  it('gives the same event IDs for the same calls (deterministic)', () => {
    // Prepare
    const run = () => {
      const account = newAccount(new TestClock());
      account.appCall({ keyId: KEY_ARN, operation: 'Encrypt', principalArn: APP_ROLE });
      return account.records().map((emitted) => emitted.record.eventID);
    };

    // Act
    const first = run();
    const second = run();

    // Assess
    expect(first).toEqual(second);
  });

  it('a PendingReplicaDeletion primary starts its window when its replicas are gone', () => {
    // Prepare
    const clock = new TestClock();
    const account = newAccount(clock);
    const mrk = 'mrk-00001111222233334444555566667777';
    account.addKey({
      keyId: mrk,
      createdAt: START,
      multiRegion: { role: 'PRIMARY', replicaRegions: ['eu-west-1'] },
    });
    account.serve('kms', 'ScheduleKeyDeletion', { KeyId: mrk, PendingWindowInDays: 7 }, caller);

    // Act
    account.deleteReplicas(mrk);
    const pending = account.inspectKey(mrk);
    clock.advance(7 * DAY);
    const gone = account.inspectKey(mrk);

    // Assess
    expect(pending?.state).toBe('PendingDeletion');
    expect(pending?.deletionDate).toEqual(new Date(START.getTime() + 7 * DAY));
    expect(gone?.state).toBe('Deleted');
  });
});
