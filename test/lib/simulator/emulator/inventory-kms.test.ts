import { GetKeyPolicyCommand, KMSClient, ListGrantsCommand, paginateListGrants } from '@aws-sdk/client-kms';
import { ACCOUNT, KEY_ARN, KEY_ID, newAccount, REGION, TestClock } from './fixtures.js';
import { inProcessClient, rejection } from './inventory-fixtures.js';

const GRANTED = '4c5f2e1a-0b3d-4e6f-8a9b-0c1d2e3f4a5b';
const GRANTED_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${GRANTED}`;
const EBS_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ebs`;

function world() {
  const account = newAccount(new TestClock());
  account.addKey({
    keyId: GRANTED,
    createdAt: new Date('2025-01-01T00:00:00Z'),
    grants: [
      {
        granteePrincipal: EBS_ROLE,
        retiringPrincipal: `arn:aws:iam::${ACCOUNT}:role/retirer`,
        operations: ['Decrypt', 'GenerateDataKeyWithoutPlaintext'],
        name: 'ebs-volume',
        createdAt: new Date('2025-02-02T00:00:00Z'),
        encryptionContextSubset: { 'aws:ebs:id': 'vol-0123456789abcdef0' },
      },
      ...Array.from({ length: 59 }, (_, i) => ({
        granteePrincipal: `arn:aws:iam::${ACCOUNT}:role/app-${i}`,
        operations: ['Encrypt'],
      })),
    ],
    keyPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::444455556666:root' },
          Action: 'kms:Decrypt',
          Resource: '*',
        },
      ],
    },
  });
  return account;
}

describe('emulated KMS ListGrants', () => {
  it('pages every grant with its grantee, operations, constraints and issuing account', async () => {
    // Prepare
    const kms = inProcessClient(KMSClient, world());
    const grants = [];
    let pages = 0;

    // Act
    for await (const page of paginateListGrants({ client: kms }, { KeyId: GRANTED })) {
      pages += 1;
      grants.push(...(page.Grants ?? []));
    }

    // Assess
    expect(pages).toBe(2);
    expect(grants).toHaveLength(60);
    expect(grants[0]).toEqual({
      KeyId: GRANTED_ARN,
      GrantId: expect.stringMatching(/^[0-9a-f]{64}$/),
      Name: 'ebs-volume',
      CreationDate: new Date('2025-02-02T00:00:00Z'),
      GranteePrincipal: EBS_ROLE,
      RetiringPrincipal: `arn:aws:iam::${ACCOUNT}:role/retirer`,
      IssuingAccount: `arn:aws:iam::${ACCOUNT}:root`,
      Operations: ['Decrypt', 'GenerateDataKeyWithoutPlaintext'],
      Constraints: { EncryptionContextSubset: { 'aws:ebs:id': 'vol-0123456789abcdef0' } },
    });
    expect(grants[1]?.CreationDate).toEqual(new Date('2025-01-01T00:00:00Z'));
  });

  it('narrows to a grantee, answers a key without grants with none, and refuses an alias', async () => {
    // Prepare
    const kms = inProcessClient(KMSClient, world());

    // Act
    const byGrantee = await kms.send(
      new ListGrantsCommand({ KeyId: GRANTED_ARN, GranteePrincipal: EBS_ROLE }),
    );
    const none = await kms.send(new ListGrantsCommand({ KeyId: KEY_ID }));
    const alias = await rejection(kms.send(new ListGrantsCommand({ KeyId: 'alias/legacy' })));

    // Assess
    expect(byGrantee.Grants?.map((grant) => grant.Name)).toEqual(['ebs-volume']);
    expect([none.Grants, none.Truncated]).toEqual([[], false]);
    expect(alias.name).toBe('InvalidArnException');
  });
});

describe('emulated KMS GetKeyPolicy', () => {
  it('returns the scenario’s policy, and KMS’s default policy for a key created without one', async () => {
    // Prepare
    const kms = inProcessClient(KMSClient, world());

    // Act
    const custom = await kms.send(new GetKeyPolicyCommand({ KeyId: GRANTED, PolicyName: 'default' }));
    const standard = await kms.send(new GetKeyPolicyCommand({ KeyId: KEY_ARN }));

    // Assess
    expect(custom.PolicyName).toBe('default');
    expect(JSON.parse(custom.Policy ?? '')).toMatchObject({
      Statement: [{ Principal: { AWS: 'arn:aws:iam::444455556666:root' }, Action: 'kms:Decrypt' }],
    });
    expect(JSON.parse(standard.Policy ?? '')).toEqual({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    });
  });

  it('answers in every key state and refuses a policy name other than default', async () => {
    // Prepare
    const account = world();
    account.appCall({
      keyId: GRANTED,
      operation: 'ScheduleKeyDeletion',
      principalArn: `arn:aws:iam::${ACCOUNT}:role/admin`,
    });
    const kms = inProcessClient(KMSClient, account);

    // Act
    const pending = await kms.send(new GetKeyPolicyCommand({ KeyId: GRANTED }));
    const grants = await kms.send(new ListGrantsCommand({ KeyId: GRANTED, Limit: 1 }));
    const named = await rejection(kms.send(new GetKeyPolicyCommand({ KeyId: GRANTED, PolicyName: 'other' })));

    // Assess
    expect(pending.Policy).toBeDefined();
    expect([grants.Grants?.length, grants.Truncated]).toEqual([1, true]);
    expect(named.name).toBe('NotFoundException');
  });
});
