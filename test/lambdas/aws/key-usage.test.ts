import { GetKeyLastUsageCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { classifyKeyUsage, readKeyLastUsage } from '../../../lambdas/aws/key-usage.js';
import { keyArnIn } from '../fixtures.js';

const kms = mockClient(KMSClient);
const KEY_ARN = keyArnIn('us-east-1');
const CREATED = new Date('2024-01-01T00:00:00Z');
const TRACKING = new Date('2025-06-01T00:00:00Z');

afterEach(() => {
  kms.reset();
});

describe('readKeyLastUsage', () => {
  it("gives GetKeyLastUsage's answer in the domain's terms", async () => {
    // Prepare
    const at = new Date('2026-01-01T00:00:00Z');
    kms.on(GetKeyLastUsageCommand).resolves({
      KeyCreationDate: CREATED,
      TrackingStartDate: TRACKING,
      KeyLastUsage: { Operation: 'Decrypt', Timestamp: at, CloudTrailEventId: 'e-1', KmsRequestId: 'r-1' },
    });

    // Act
    const reading = await readKeyLastUsage(new KMSClient({ region: 'us-east-1' }), KEY_ARN);

    // Assess
    expect(reading).toEqual({
      keyCreationDate: CREATED,
      trackingStartDate: TRACKING,
      keyLastUsage: { operation: 'Decrypt', timestamp: at, cloudTrailEventId: 'e-1', kmsRequestId: 'r-1' },
    });
    expect(kms.commandCalls(GetKeyLastUsageCommand)[0]?.args[0].input).toEqual({ KeyId: KEY_ARN });
  });

  it('leaves KeyLastUsage absent when KMS left it out', async () => {
    // Prepare
    kms.on(GetKeyLastUsageCommand).resolves({ TrackingStartDate: TRACKING });

    // Act
    const reading = await readKeyLastUsage(new KMSClient({ region: 'us-east-1' }), KEY_ARN);

    // Assess
    expect(reading.keyLastUsage).toBeUndefined();
    expect(reading.keyCreationDate).toBeUndefined();
  });
});

describe('classifyKeyUsage', () => {
  it("takes DescribeKey's creation date when GetKeyLastUsage lacks KeyCreationDate", async () => {
    // Prepare
    kms.on(GetKeyLastUsageCommand).resolves({ TrackingStartDate: TRACKING, KeyLastUsage: {} });

    // Act
    const usage = await classifyKeyUsage(new KMSClient({ region: 'us-east-1' }), KEY_ARN, CREATED);

    // Assess
    expect(usage.classification).toBe('UNKNOWN_BEFORE_TRACKING');
    expect(usage.keyCreationDate).toBe(CREATED.toISOString());
  });

  it('refuses to classify without TrackingStartDate', async () => {
    // Prepare
    kms.on(GetKeyLastUsageCommand).resolves({ KeyCreationDate: CREATED, KeyLastUsage: {} });

    // Act
    const usage = classifyKeyUsage(new KMSClient({ region: 'us-east-1' }), KEY_ARN, CREATED);

    // Assess
    await expect(usage).rejects.toMatchObject({ name: 'InvalidUsageDateError' });
  });
});
