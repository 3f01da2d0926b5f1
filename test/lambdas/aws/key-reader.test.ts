import {
  DescribeKeyCommand,
  KMSClient,
  ListResourceTagsCommand,
  NotFoundException,
  type Tag,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { describeKey, isNotFound, keyFactsOf, readKey, readTags } from '../../../lambdas/aws/key-reader.js';
import { ACCOUNT, KEY_ID, keyArnIn } from '../fixtures.js';

const kms = mockClient(KMSClient);
const KEY_ARN = keyArnIn('us-east-1');

beforeEach(() => {
  vi.stubEnv('AWS_REGION', 'us-east-1');
});

afterEach(() => {
  vi.unstubAllEnvs();
  kms.reset();
});

describe('readTags', () => {
  it('reads every page, so a hold tag on a later page is not missed', async () => {
    // Prepare
    kms
      .on(ListResourceTagsCommand)
      .resolvesOnce({ Tags: [{ TagKey: 'team', TagValue: 'billing' }], Truncated: true, NextMarker: 't1' })
      .resolves({ Tags: [{ TagKey: 'kms-deletion-guard:execution', TagValue: 'run-1' }], Truncated: false });

    // Act
    const tags = await readTags(new KMSClient({ region: 'us-east-1' }), KEY_ARN);

    // Assess
    expect(tags).toEqual({ team: 'billing', 'kms-deletion-guard:execution': 'run-1' });
    expect(kms.commandCalls(ListResourceTagsCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ARN, Marker: undefined },
      { KeyId: KEY_ARN, Marker: 't1' },
    ]);
  });

  it('keeps a tag without a value as an empty string and skips an entry without a key', async () => {
    // Prepare
    // The SDK's type requires both members; an answer may still lack one.
    const partial = [{ TagKey: 'empty' }, { TagValue: 'orphan' }] as Tag[];
    kms.on(ListResourceTagsCommand).resolves({ Tags: partial });

    // Act
    const tags = await readTags(new KMSClient({ region: 'us-east-1' }), KEY_ARN);

    // Assess
    expect(tags).toEqual({ empty: '' });
  });
});

describe('describeKey', () => {
  it('answers undefined when DescribeKey has no metadata, and lets NotFoundException through', async () => {
    // Prepare
    const client = new KMSClient({ region: 'us-east-1' });
    kms
      .on(DescribeKeyCommand)
      .resolvesOnce({})
      .rejects(new NotFoundException({ message: 'gone', $metadata: {} }));

    // Act
    const empty = await describeKey(client, KEY_ARN);
    const missing = describeKey(client, KEY_ARN).catch((error: unknown) => error);

    // Assess
    expect(empty).toBeUndefined();
    expect(isNotFound(await missing)).toBe(true);
  });
});

describe('readKey', () => {
  it('reads the metadata and the tags of the key', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ID, KeyState: 'Disabled' } });
    kms.on(ListResourceTagsCommand).resolves({ Tags: [{ TagKey: 'team', TagValue: 'billing' }] });

    // Act
    const reading = await readKey(KEY_ARN, 'us-east-1');

    // Assess
    expect(reading).toEqual({ metadata: { KeyId: KEY_ID, KeyState: 'Disabled' }, tags: { team: 'billing' } });
  });

  it('refuses a DescribeKey answer without metadata with KeyUnreadableError', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).resolves({});

    // Act
    const reading = readKey(KEY_ARN, 'us-east-1');

    // Assess
    await expect(reading).rejects.toMatchObject({ name: 'KeyUnreadableError' });
    expect(kms.commandCalls(ListResourceTagsCommand)).toHaveLength(0);
  });
});

describe('keyFactsOf', () => {
  const context = {
    keyId: KEY_ID,
    keyArn: KEY_ARN,
    account: ACCOUNT,
    region: 'us-east-1',
    aliases: ['alias/legacy'],
    tags: { team: 'billing' },
  };

  it('maps DescribeKey metadata to the facts the rules read', () => {
    // Act
    const facts = keyFactsOf(
      {
        KeyId: KEY_ID,
        Description: 'payments',
        KeyState: 'Enabled',
        KeyManager: 'CUSTOMER',
        KeySpec: 'RSA_2048',
        KeyUsage: 'SIGN_VERIFY',
        CreationDate: new Date('2024-01-01T00:00:00Z'),
        MultiRegion: true,
        MultiRegionConfiguration: {
          MultiRegionKeyType: 'PRIMARY',
          ReplicaKeys: [{ Arn: 'r1', Region: 'eu-west-1' }],
        },
      },
      context,
    );

    // Assess
    expect(facts).toEqual({
      ...context,
      description: 'payments',
      keyState: 'Enabled',
      keyManager: 'CUSTOMER',
      keySpec: 'RSA_2048',
      keyUsage: 'SIGN_VERIFY',
      creationDate: '2024-01-01T00:00:00.000Z',
      multiRegion: true,
      multiRegionRole: 'PRIMARY',
      replicaCount: 1,
    });
  });

  it('takes a key whose manager is not known for AWS managed, and fills what DescribeKey left out', () => {
    // Act
    const facts = keyFactsOf({ KeyId: KEY_ID }, context);

    // Assess
    expect(facts).toMatchObject({
      description: '',
      keyState: 'Unknown',
      keyManager: 'AWS',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      creationDate: '',
      multiRegion: false,
      multiRegionRole: undefined,
      replicaCount: 0,
    });
  });

  it('counts replicas only for a primary key', () => {
    // Act
    const facts = keyFactsOf(
      {
        KeyId: KEY_ID,
        MultiRegion: true,
        MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA', ReplicaKeys: [{ Arn: 'r1' }] },
      },
      context,
    );

    // Assess
    expect(facts.multiRegionRole).toBe('REPLICA');
    expect(facts.replicaCount).toBe(0);
  });
});
