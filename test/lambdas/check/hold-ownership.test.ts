import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { handler } from '../../../lambdas/check/index.js';
import { claimHold, nextHold } from '../../../lambdas/domain/hold-record.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { startWatch } from '../../../lambdas/domain/watch.js';
import { EXECUTION, holdRecord, KEY_ID } from '../fixtures.js';
import {
  CONTEXT,
  checkEvent,
  DISABLED_AT,
  disabledCall,
  givenKey,
  givenRecords,
  KEY_ARN,
  kms,
  logs,
  PLAN,
  REGION,
  refusedPendingDeletion,
} from './check-world.js';

/** This execution's watching hold on the key, as DisableKey recorded it. */
const WATCHING = holdRecord('watching', { keyArn: KEY_ARN, disabledAt: DISABLED_AT.toISOString() });
const MIRROR = { [TAGS.execution]: EXECUTION, [TAGS.status]: 'disabled', [TAGS.wasEnabled]: 'true' };

beforeEach(() => {
  vi.stubEnv('AWS_REGION', REGION);
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-01-02T00:00:00.000Z'));
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  kms.reset();
  logs.reset();
});

function observe() {
  return handler(checkEvent('OBSERVE', startWatch('OBSERVE', { now: DISABLED_AT, plan: PLAN })), CONTEXT);
}

describe('check handler: who holds the key is the registry’s record', () => {
  it('stops the watch, naming the tampering, when someone stripped the hold tags mid-watch', async () => {
    // Prepare
    givenKey('Disabled', {}, WATCHING);
    givenRecords([]);

    // Act
    const act = observe();

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'KeyChangedExternallyError',
      message: expect.stringMatching(
        /tags disagree with this execution's record: the tag kms-deletion-guard:execution was removed/,
      ),
    });
  });

  it('stops the watch when tags name this execution but the registry records no hold of it', async () => {
    // Prepare
    givenKey('Disabled', MIRROR, null);
    givenRecords([]);

    // Act
    const act = observe();

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'KeyChangedExternallyError',
      message: expect.stringMatching(
        /records no hold on the key.*names this execution, which never recorded a hold/,
      ),
    });
  });

  it('stops the watch when the fast path already gave the key back (hold ended or being ended)', async () => {
    // Prepare
    const ended = nextHold(
      claimHold(WATCHING, 'fast-path', 'ev-1', DISABLED_AT),
      { phase: 'ended' },
      DISABLED_AT,
    );
    givenRecords([]);

    // Act
    givenKey('Disabled', MIRROR, ended);
    const afterEnd = observe();
    await expect(afterEnd).rejects.toMatchObject({ name: 'KeyChangedExternallyError' });
    givenKey('Disabled', MIRROR, claimHold(WATCHING, 'fast-path', 'ev-1', DISABLED_AT));
    const whileRestoring = observe();

    // Assess
    await expect(whileRestoring).rejects.toMatchObject({
      name: 'KeyChangedExternallyError',
      message: expect.stringMatching(/phase restoring/),
    });
  });

  it('keeps guarding a held key whose deletion someone else scheduled, says so, and probes it as pending', async () => {
    // Prepare
    givenKey('PendingDeletion', MIRROR, WATCHING);
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        KeyId: KEY_ID,
        Arn: KEY_ARN,
        KeyState: 'PendingDeletion',
        DeletionDate: new Date('2026-01-31T00:00:00.000Z'),
      },
    });
    givenRecords([]);

    // Act
    const next = await observe();

    // Assess
    expect(next).toMatchObject({ broke: false, done: false });
    expect(next.reportText).toMatch(
      /Someone other than this workflow scheduled the deletion of this key \(KMS deletes it on 2026-01-31T00:00:00.000Z\)/,
    );
    expect(next.canaries?.at(-1)).toMatchObject({ errorCode: 'KMSInvalidStateException' });
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(1);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.filterPattern).toContain(
      'KMSInvalidStateException',
    );
  });

  it('counts a caller failing on a held key someone else scheduled for deletion as breakage', async () => {
    // Prepare
    givenKey('PendingDeletion', MIRROR, WATCHING);
    givenRecords([refusedPendingDeletion(disabledCall('ev-app', '2026-01-01T20:00:00Z'))]);

    // Act
    const next = await observe();

    // Assess
    expect(next).toMatchObject({ broke: true, evidenceCount: 1 });
    expect(next.evidence[0]).toMatchObject({ eventID: 'ev-app', errorCode: 'KMSInvalidStateException' });
  });
});
