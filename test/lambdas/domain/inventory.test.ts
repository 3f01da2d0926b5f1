import {
  type EncryptedResource,
  type InventoryFindings,
  inventoryReport,
  type JudgeInventoryArgs,
  judgeInventory,
  MAX_LISTED_RESOURCES,
  namesKey,
  resourcesOfKey,
  summarizeGrant,
  summarizeKeyPolicy,
} from '../../../lambdas/domain/inventory.js';
import { inventoryLines } from '../../../lambdas/domain/inventory-message.js';

const ACCOUNT = '111122223333';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;
const KEY = { keyId: KEY_ID, keyArn: KEY_ARN, aliases: ['alias/legacy', 'alias/reports'] };
const WATCH = { logGroupName: 'org-trail', region: 'us-east-1', account: ACCOUNT };

const SNAPSHOT: EncryptedResource = {
  type: 'AWS::EC2::Snapshot',
  arn: 'arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0',
  otherArns: [`arn:aws:ec2:us-east-1:${ACCOUNT}:snapshot/snap-0123456789abcdef0`],
  createdAt: '2025-01-01T00:00:00.000Z',
  keyRef: KEY_ARN,
};
const BUCKET: EncryptedResource = {
  type: 'AWS::S3::Bucket',
  arn: 'arn:aws:s3:::yearly-archive',
  createdAt: '2024-05-01T00:00:00.000Z',
  keyRef: 'alias/legacy',
};
const DECOY: EncryptedResource = {
  type: 'AWS::SecretsManager::Secret',
  arn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:other-AbCdEf`,
  createdAt: null,
  keyRef: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ac`,
};

function findings(overrides: Partial<InventoryFindings> = {}): InventoryFindings {
  return { resources: [], failures: [], grants: [], policy: null, trails: [], ...overrides };
}

function judge(overrides: Partial<JudgeInventoryArgs> = {}) {
  return judgeInventory({
    key: KEY,
    findings: findings(),
    acceptDataLoss: [],
    watchSource: WATCH,
    phase: 'BEFORE_DISABLE',
    ...overrides,
  });
}

describe('namesKey', () => {
  it.each([
    ['the key ID', KEY_ID],
    ['the key ARN', KEY_ARN],
    ['the key ID in capitals', KEY_ID.toUpperCase()],
    ['an alias name', 'alias/legacy'],
    ['an alias ARN', `arn:aws:kms:us-east-1:${ACCOUNT}:alias/reports`],
  ])('matches %s', (_what, keyRef) => {
    expect(namesKey(keyRef, KEY)).toBe(true);
  });

  it.each([
    ['a key ID that starts like ours', '1234abcd-12ab-34cd-56ef-1234567890abc'],
    ['a key ID that differs in its last digit', '1234abcd-12ab-34cd-56ef-1234567890ac'],
    ['a prefix of our key ID', '1234abcd-12ab-34cd-56ef'],
    ['our key ID in another Region', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${KEY_ID}`],
    ['our key ID in another account', `arn:aws:kms:us-east-1:444455556666:key/${KEY_ID}`],
    ['an alias that shares a prefix', 'alias/legacy-v2'],
    ['an alias of ours spelt in other case', 'alias/Legacy'],
    ['an alias ARN of another Region', `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/legacy`],
    ['an alias that is not (or no longer) ours', 'alias/other'],
    ['the AWS managed key of S3', 'alias/aws/s3'],
    ['our key ARN with a suffix', `${KEY_ARN}x`],
  ])('does not match %s', (_what, keyRef) => {
    expect(namesKey(keyRef, KEY)).toBe(false);
  });
});

describe('resourcesOfKey', () => {
  it('keeps only the resources of this key, once each, in the order of the resource types', () => {
    // Act
    const ours = resourcesOfKey([BUCKET, DECOY, SNAPSHOT, { ...SNAPSHOT }], KEY);

    // Assess
    expect(ours.map((r) => r.arn)).toEqual([SNAPSHOT.arn, BUCKET.arn]);
  });
});

describe('judgeInventory', () => {
  it('lets a key that protects nothing go on', () => {
    // Act
    const judged = judge({ findings: findings({ resources: [DECOY] }) });

    // Assess
    expect(judged.refusal).toBeNull();
    expect(judged.resources).toEqual([]);
  });

  it('refuses PROTECTS_DATA, naming each resource with its type, ARN and creation time', () => {
    // Act
    const { refusal } = judge({ findings: findings({ resources: [SNAPSHOT, BUCKET, DECOY] }) });

    // Assess
    expect(refusal?.cause).toBe('PROTECTS_DATA');
    expect(refusal?.message).toContain(
      `AWS::EC2::Snapshot ${SNAPSHOT.arn} (created 2025-01-01T00:00:00.000Z)`,
    );
    expect(refusal?.message).toContain(
      'AWS::S3::Bucket arn:aws:s3:::yearly-archive (created 2024-05-01T00:00:00.000Z; encrypted through alias/legacy)',
    );
    expect(refusal?.message).toContain('2 resources');
    expect(refusal?.message).not.toContain(DECOY.arn);
    expect(refusal?.message).toContain('Nothing was changed.');
  });

  it('lets the key go on when acceptDataLoss names exactly what was found', () => {
    // Act
    const judged = judge({
      findings: findings({ resources: [SNAPSHOT, BUCKET] }),
      acceptDataLoss: [BUCKET.arn, SNAPSHOT.arn],
    });

    // Assess
    expect(judged.refusal).toBeNull();
    expect(judged.resources).toHaveLength(2);
  });

  it('accepts the other documented spelling of an ARN (a snapshot with its account)', () => {
    // Act
    const judged = judge({
      findings: findings({ resources: [SNAPSHOT] }),
      acceptDataLoss: [`arn:aws:ec2:us-east-1:${ACCOUNT}:snapshot/snap-0123456789abcdef0`],
    });

    // Assess
    expect(judged.refusal).toBeNull();
  });

  it('refuses PROTECTS_DATA when acceptDataLoss names less than was found, naming what it left out', () => {
    // Act
    const { refusal } = judge({
      findings: findings({ resources: [SNAPSHOT, BUCKET] }),
      acceptDataLoss: [SNAPSHOT.arn],
    });

    // Assess
    expect(refusal?.cause).toBe('PROTECTS_DATA');
    expect(refusal?.message).toMatch(
      /acceptDataLoss does not name 1 of them:\n- AWS::S3::Bucket arn:aws:s3:::yearly-archive/,
    );
  });

  it('refuses PROTECTS_DATA when acceptDataLoss names a resource the inventory did not find', () => {
    // Prepare
    const missing = 'arn:aws:s3:::already-deleted';

    // Act
    const { refusal } = judge({
      findings: findings({ resources: [SNAPSHOT] }),
      acceptDataLoss: [SNAPSHOT.arn, missing],
    });

    // Assess
    expect(refusal?.cause).toBe('PROTECTS_DATA');
    expect(refusal?.message).toContain(`did not find encrypted under the key: ${missing}`);
  });

  it('refuses acceptDataLoss that names something while the key protects nothing', () => {
    // Act
    const { refusal } = judge({ acceptDataLoss: [BUCKET.arn] });

    // Assess
    expect(refusal?.cause).toBe('PROTECTS_DATA');
    expect(refusal?.message).toContain('The inventory found nothing encrypted under key');
  });

  it('refuses INVENTORY_INCOMPLETE naming the service, the call and the error of a failed read', () => {
    // Act
    const { refusal } = judge({
      findings: findings({
        failures: [
          {
            service: 'ec2',
            call: 'DescribeSnapshots',
            error: 'UnauthorizedOperation',
            message: 'not authorized',
          },
        ],
      }),
    });

    // Assess
    expect(refusal?.cause).toBe('INVENTORY_INCOMPLETE');
    expect(refusal?.message).toContain('ec2 DescribeSnapshots: UnauthorizedOperation (not authorized)');
    expect(refusal?.message).toContain('never taken to mean that nothing is there');
  });

  it('refuses INVENTORY_INCOMPLETE even when acceptDataLoss names everything the other reads found', () => {
    // Act
    const { refusal } = judge({
      findings: findings({
        resources: [BUCKET],
        failures: [
          { service: 'rds', call: 'DescribeDBSnapshots', error: 'ThrottlingException', message: '' },
        ],
      }),
      acceptDataLoss: [BUCKET.arn],
    });

    // Assess
    expect(refusal?.cause).toBe('INVENTORY_INCOMPLETE');
    expect(refusal?.message).toContain('rds DescribeDBSnapshots: ThrottlingException');
    expect(refusal?.message).toContain(BUCKET.arn);
  });

  it('refuses ENCRYPTS_WATCH_SOURCE when the key encrypts the watched log group, whatever acceptDataLoss says', () => {
    // Prepare
    const group: EncryptedResource = {
      type: 'AWS::Logs::LogGroup',
      arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:org-trail`,
      createdAt: null,
      keyRef: KEY_ARN,
    };

    // Act
    const { refusal } = judge({ findings: findings({ resources: [group] }), acceptDataLoss: [group.arn] });

    // Assess
    expect(refusal?.cause).toBe('ENCRYPTS_WATCH_SOURCE');
    expect(refusal?.message).toContain('log group org-trail');
  });

  it('takes a log group of the same name in another Region for data, not for the watched group', () => {
    // Prepare
    const group: EncryptedResource = {
      type: 'AWS::Logs::LogGroup',
      arn: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:org-trail`,
      createdAt: null,
      keyRef: KEY_ARN,
    };

    // Act
    const { refusal } = judge({ findings: findings({ resources: [group] }) });

    // Assess
    expect(refusal?.cause).toBe('PROTECTS_DATA');
  });

  it('refuses ENCRYPTS_WATCH_SOURCE when the key encrypts the trail that delivers to the watched group', () => {
    // Prepare
    const trail = {
      arn: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org`,
      kmsKeyId: 'alias/legacy',
      logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:org-trail:*`,
    };
    const other = {
      ...trail,
      arn: `${trail.arn}-2`,
      logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:x:*`,
    };

    // Act
    const feeding = judge({ findings: findings({ trails: [trail] }) });
    const elsewhere = judge({ findings: findings({ trails: [other] }) });

    // Assess
    expect(feeding.refusal?.cause).toBe('ENCRYPTS_WATCH_SOURCE');
    expect(feeding.refusal?.message).toContain(trail.arn);
    expect(elsewhere.refusal).toBeNull();
  });

  it('says the key is given back when the inventory before the deletion refuses', () => {
    // Act
    const { refusal } = judge({ findings: findings({ resources: [SNAPSHOT] }), phase: 'BEFORE_DELETION' });

    // Assess
    expect(refusal?.message).toContain('gives it back as it was before this execution');
    expect(refusal?.message).not.toContain('Nothing was changed');
  });
});

describe('inventoryReport', () => {
  it('keeps the first resources in the state and counts them all', () => {
    // Prepare
    const many = Array.from({ length: MAX_LISTED_RESOURCES + 7 }, (_, i) => ({
      ...SNAPSHOT,
      arn: `arn:aws:ec2:us-east-1::snapshot/snap-${String(i).padStart(4, '0')}`,
      otherArns: [],
    }));
    const found = findings({ resources: many });

    // Act
    const judgement = judge({ findings: found });
    const report = inventoryReport({
      phase: 'BEFORE_DISABLE',
      takenAt: new Date('2026-01-01T00:00:00Z'),
      region: 'us-east-1',
      judgement,
      findings: found,
      acceptDataLoss: [],
    });

    // Assess
    expect(report.resources).toHaveLength(MAX_LISTED_RESOURCES);
    expect(report.resourceCount).toBe(MAX_LISTED_RESOURCES + 7);
    expect(judgement.refusal?.message).toContain('and 7 more');
  });
});

describe('summarizeKeyPolicy', () => {
  it('names principals, other accounts, service principals and kms:ViaService services', () => {
    // Prepare
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::444455556666:role/reader', '777788889999'] },
          Action: 'kms:Decrypt',
          Resource: '*',
          Condition: { StringEquals: { 'kms:ViaService': ['s3.us-east-1.amazonaws.com'] } },
        },
        {
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 'kms:GenerateDataKey*',
        },
        {
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 'kms:Decrypt',
          Condition: {
            StringEquals: {
              'kms:CallerAccount': '222233334444',
              'kms:viaservice': 'ec2.us-east-1.amazonaws.com',
            },
          },
        },
        { Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'kms:*' },
      ],
    });

    // Act
    const summary = summarizeKeyPolicy(policy, ACCOUNT);

    // Assess
    expect(summary).toEqual({
      principals: ['777788889999', `arn:aws:iam::${ACCOUNT}:root`, 'arn:aws:iam::444455556666:role/reader'],
      otherAccounts: ['222233334444', '444455556666', '777788889999'],
      servicePrincipals: ['cloudtrail.amazonaws.com'],
      viaServices: ['ec2.us-east-1.amazonaws.com', 's3.us-east-1.amazonaws.com'],
      anyone: true,
      unreadable: null,
    });
  });

  it('says when the policy text cannot be read as a policy', () => {
    expect(summarizeKeyPolicy('{not json', ACCOUNT).unreadable).toBe('the key policy is not JSON');
    expect(summarizeKeyPolicy('{}', ACCOUNT).unreadable).toBe('the key policy has no statements');
  });
});

describe('summarizeGrant', () => {
  it('words the grantee, operations, constraints and retiring principal', () => {
    // Act
    const grant = summarizeGrant({
      GrantId: 'g-1',
      GranteePrincipal: 'arn:aws:iam::111122223333:role/ebs',
      RetiringPrincipal: 'ec2.us-east-1.amazonaws.com',
      Operations: ['Decrypt', 'ReEncryptFrom'],
      Constraints: { EncryptionContextSubset: { 'aws:ebs:id': 'vol-1' } },
      CreationDate: new Date('2025-02-01T00:00:00Z'),
    });

    // Assess
    expect(grant).toEqual({
      grantId: 'g-1',
      name: null,
      granteePrincipal: 'arn:aws:iam::111122223333:role/ebs',
      retiringPrincipal: 'ec2.us-east-1.amazonaws.com',
      operations: ['Decrypt', 'ReEncryptFrom'],
      constraints: 'encryption context includes {aws:ebs:id=vol-1}',
      createdAt: '2025-02-01T00:00:00.000Z',
      issuingAccount: null,
    });
  });
});

describe('inventoryLines', () => {
  it('says what will become unreadable when acceptDataLoss names it, with the grants and the policy', () => {
    // Prepare
    const found = findings({
      resources: [SNAPSHOT],
      grants: [summarizeGrant({ GrantId: 'g-1', GranteePrincipal: 'role/app', Operations: ['Decrypt'] })],
      policy: summarizeKeyPolicy(
        JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: '444455556666' } }] }),
        ACCOUNT,
      ),
    });
    const judgement = judge({ findings: found, acceptDataLoss: [SNAPSHOT.arn] });

    // Act
    const text = inventoryLines(
      inventoryReport({
        phase: 'BEFORE_DISABLE',
        takenAt: new Date('2026-01-01T00:00:00Z'),
        region: 'us-east-1',
        judgement,
        findings: found,
        acceptDataLoss: [SNAPSHOT.arn],
      }),
    ).join('\n');

    // Assess
    expect(text).toContain('WILL BECOME UNREADABLE');
    expect(text).toContain(SNAPSHOT.arn);
    expect(text).toContain('role/app: Decrypt (grant g-1)');
    expect(text).toMatch(/Other accounts: +444455556666/);
  });
});
