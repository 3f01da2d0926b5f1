import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { DeriveSharedSecretCommand, DisableKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import type { EmulatedAccount } from '../../../../lib/simulator/emulator/account.js';
import { EMULATED_TRAIL_NAME } from '../../../../lib/simulator/emulator/trail.js';
import {
  ACCOUNT,
  APP_ROLE,
  DAY,
  KEY_ID,
  LOG_GROUP,
  MINUTE,
  newAccount,
  REGION,
  START,
  TestClock,
  useEmulatorServer,
} from './fixtures.js';

const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${EMULATED_TRAIL_NAME}`;
const AGREEMENT_KEY = 'a9a9a9a9-1111-4222-8333-444455556666';

describe('emulated CloudTrail trail', () => {
  const emulator = useEmulatorServer(null);
  let cloudtrail: CloudTrailClient;

  beforeAll(() => {
    cloudtrail = emulator.client(CloudTrailClient);
  });

  afterAll(() => {
    cloudtrail.destroy();
  });

  function use(account: EmulatedAccount): EmulatedAccount {
    emulator.server.setAccount(account);
    return account;
  }

  function delivered(account: EmulatedAccount): string[] {
    return account
      .records()
      .filter((e) => e.visibleAt !== null)
      .map((e) => `${e.record.eventName}${e.record.errorCode ? `:${e.record.errorCode}` : ''}`);
  }

  it('reports a healthy multi-Region trail that delivers to the log group', async () => {
    // Prepare
    const clock = new TestClock();
    use(newAccount(clock));

    // Act
    const trails = await cloudtrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }));
    const selectors = await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: TRAIL_ARN }));
    const status = await cloudtrail.send(new GetTrailStatusCommand({ Name: EMULATED_TRAIL_NAME }));

    // Assess
    expect(trails.trailList).toEqual([
      expect.objectContaining({
        Name: EMULATED_TRAIL_NAME,
        TrailARN: TRAIL_ARN,
        IsMultiRegionTrail: true,
        CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${LOG_GROUP}:*`,
      }),
    ]);
    expect(selectors.EventSelectors).toEqual([
      {
        ReadWriteType: 'All',
        IncludeManagementEvents: true,
        DataResources: [],
        ExcludeManagementEventSources: [],
      },
    ]);
    expect(status.IsLogging).toBe(true);
    expect(status.LatestCloudWatchLogsDeliveryTime?.toISOString()).toBe(
      new Date(START.getTime() - 5 * MINUTE).toISOString(),
    );
  });

  it('reports the setup in force: all events before trailChangeAt, write-only and KMS excluded after', async () => {
    // Prepare
    const clock = new TestClock();
    use(
      newAccount(clock, {
        trail: {
          readWriteType: 'WriteOnly',
          excludeKmsEvents: true,
          trailChangeAt: new Date(START.getTime() + DAY),
        },
      }),
    );

    // Act
    const before = await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: EMULATED_TRAIL_NAME }));
    clock.advance(DAY);
    const after = await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: EMULATED_TRAIL_NAME }));

    // Assess
    expect(before.EventSelectors?.[0]).toMatchObject({
      ReadWriteType: 'All',
      ExcludeManagementEventSources: [],
    });
    expect(after.EventSelectors?.[0]).toMatchObject({
      ReadWriteType: 'WriteOnly',
      ExcludeManagementEventSources: ['kms.amazonaws.com'],
    });
  });

  it('reports stopped logging with its time', async () => {
    // Prepare
    const clock = new TestClock();
    const stop = new Date(START.getTime() + DAY);
    use(newAccount(clock, { trail: { stopLoggingAt: stop } }));
    clock.advance(2 * DAY);

    // Act
    const status = await cloudtrail.send(new GetTrailStatusCommand({ Name: TRAIL_ARN }));

    // Assess
    expect(status.IsLogging).toBe(false);
    expect(status.StopLoggingTime?.toISOString()).toBe(stop.toISOString());
  });

  it('answers TrailNotFoundException for another trail, and the namespaced target too', async () => {
    // Prepare
    use(newAccount(new TestClock()));

    // Act
    const missing = await cloudtrail.send(new GetTrailStatusCommand({ Name: 'nope' })).catch((e: Error) => e);
    const namespaced = await fetch(emulator.server.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails',
      },
      body: '{}',
    });

    // Assess
    expect(missing).toMatchObject({ name: 'TrailNotFoundException' });
    expect(namespaced.status).toBe(200);
    expect(((await namespaced.json()) as { trailList: unknown[] }).trailList).toHaveLength(1);
  });

  it('fails a CloudTrail call with an injected fault', async () => {
    // Prepare
    const account = use(newAccount(new TestClock()));
    account.addFault({
      service: 'cloudtrail',
      operation: 'DescribeTrails',
      error: 'AccessDeniedException',
      from: new Date(0),
      until: new Date(8.64e15),
    });

    // Act
    const result = cloudtrail.send(new DescribeTrailsCommand({}));

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('drops read events (failed Encrypt) of a write-only trail from trailChangeAt on, keeping writes', async () => {
    // Prepare
    const clock = new TestClock();
    const account = use(
      newAccount(clock, {
        trail: { readWriteType: 'WriteOnly', trailChangeAt: new Date(START.getTime() + DAY) },
      }),
    );
    const kms = emulator.kms();

    // Act
    await kms.send(new DisableKeyCommand({ KeyId: KEY_ID }));
    await kms
      .send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: new Uint8Array([1]) }))
      .catch(() => undefined);
    clock.advance(DAY);
    await kms
      .send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: new Uint8Array([1]) }))
      .catch(() => undefined);
    account.appCall({ keyId: KEY_ID, operation: 'EnableKey', principalArn: APP_ROLE });

    // Assess
    expect(delivered(account)).toEqual(['DisableKey', 'Encrypt:DisabledException', 'EnableKey']);
  });

  it('applies a setup without trailChangeAt to history too', () => {
    // Prepare
    const account = newAccount(new TestClock(), { trail: { excludeKmsEvents: true } });

    // Act
    account.appCall({
      keyId: KEY_ID,
      operation: 'Decrypt',
      principalArn: APP_ROLE,
      at: new Date('2025-12-01T00:00:00Z'),
    });
    account.appCall({
      keyId: KEY_ID,
      operation: 'TagResource',
      principalArn: APP_ROLE,
      at: new Date('2025-12-01T00:00:00Z'),
    });

    // Assess
    expect(delivered(account)).toEqual(['TagResource']);
  });

  it('serves DeriveSharedSecret on a KEY_AGREEMENT key: DisabledException once disabled', async () => {
    // Prepare
    const clock = new TestClock();
    const account = use(newAccount(clock));
    account.addKey({
      keyId: AGREEMENT_KEY,
      createdAt: new Date('2025-01-01T00:00:00Z'),
      keySpec: 'ECC_NIST_P256',
      keyUsage: 'KEY_AGREEMENT',
    });
    const kms = emulator.kms();
    const request = {
      KeyId: AGREEMENT_KEY,
      KeyAgreementAlgorithm: 'ECDH' as const,
      PublicKey: new Uint8Array([1, 2]),
    };

    // Act
    const derived = await kms.send(new DeriveSharedSecretCommand(request));
    await kms.send(new DisableKeyCommand({ KeyId: AGREEMENT_KEY }));
    const refused = kms.send(new DeriveSharedSecretCommand(request));

    // Assess
    expect(derived.KeyAgreementAlgorithm).toBe('ECDH');
    await expect(refused).rejects.toMatchObject({ name: 'DisabledException', message: /is disabled\.$/ });
    expect(account.records().at(-1)?.record).toMatchObject({
      eventName: 'DeriveSharedSecret',
      errorCode: 'DisabledException',
      readOnly: true,
    });
    expect(account.records().at(-1)?.record.requestParameters).not.toHaveProperty('publicKey');
  });
});
