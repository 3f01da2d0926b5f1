import {
  BackupClient,
  ListBackupVaultsCommand,
  ListRecoveryPointsByBackupVaultCommand,
} from '@aws-sdk/client-backup';
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, EFSClient } from '@aws-sdk/client-efs';
import { GetKeyPolicyCommand, KMSClient, ListAliasesCommand, ListGrantsCommand } from '@aws-sdk/client-kms';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetBucketEncryptionCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { InvalidHandlerEventError } from '../../../lambdas/domain/errors.js';
import type { Assessment, InventoryCheck } from '../../../lambdas/domain/types.js';
import { handler } from '../../../lambdas/inventory/index.js';
import { ACCOUNT, assessment, EXECUTION, KEY_ID, keyArnIn, keyFacts, watchPlan } from '../fixtures.js';

const KEY_ARN = keyArnIn('us-east-1');
const DECOY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID.slice(0, -1)}c`;

const ec2 = mockClient(EC2Client);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const backup = mockClient(BackupClient);
const secrets = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
const dynamodb = mockClient(DynamoDBClient);
const efs = mockClient(EFSClient);
const logs = mockClient(CloudWatchLogsClient);
const cloudTrail = mockClient(CloudTrailClient);
const kms = mockClient(KMSClient);
const ALL = [ec2, rds, s3, backup, secrets, ssm, dynamodb, efs, logs, cloudTrail, kms];

function named(name: string, message = `${name} happened`): Error {
  return Object.assign(new Error(message), { name });
}

/** An account whose every service answers with nothing: each test adds what it needs. */
function emptyAccount(): void {
  for (const client of ALL) client.reset();
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
  ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  s3.on(ListBucketsCommand).resolves({ Buckets: [] });
  backup.on(ListBackupVaultsCommand).resolves({ BackupVaultList: [] });
  secrets.on(ListSecretsCommand).resolves({ SecretList: [] });
  ssm.on(DescribeParametersCommand).resolves({ Parameters: [] });
  dynamodb.on(ListTablesCommand).resolves({ TableNames: [] });
  efs.on(DescribeFileSystemsCommand).resolves({ FileSystems: [] });
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
  cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [] });
  kms.on(ListAliasesCommand).resolves({ Aliases: [{ AliasName: 'alias/legacy', TargetKeyId: KEY_ID }] });
  kms.on(ListGrantsCommand).resolves({ Grants: [] });
  kms.on(GetKeyPolicyCommand).resolves({
    Policy: JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*' }],
    }),
  });
}

function event(phase: 'BEFORE_DISABLE' | 'BEFORE_DELETION', acceptDataLoss?: string[]) {
  const accepted = assessment({ key: keyFacts(), plan: watchPlan({ logGroupName: 'org-trail' }) });
  return {
    executionArn: EXECUTION,
    phase,
    assessment: {
      ...accepted,
      summaryText:
        'Approval needed: disable KMS key\n\nREQUEST\n  Execution: x\n\nHOW TO ANSWER\n  Approve: ...\n',
      request: {
        keyId: KEY_ID,
        observationDays: 30,
        pendingWindowInDays: 30,
        requestedBy: 'jane',
        reason: '',
        allowExportedPublicKey: false,
        ...(acceptDataLoss ? { acceptDataLoss } : {}),
      },
    },
  };
}

async function beforeDisable(acceptDataLoss?: string[]): Promise<Assessment> {
  return (await handler(event('BEFORE_DISABLE', acceptDataLoss))) as Assessment;
}

beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
});

beforeEach(() => {
  emptyAccount();
});

describe('inventory handler', () => {
  it('accepts a key with only decoys around it, and adds the inventory to the approval e-mail', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-decoy', KmsKeyId: DECOY_ARN, StartTime: new Date('2025-01-01Z') }],
    });
    kms.on(ListGrantsCommand).resolves({
      Grants: [
        { GrantId: 'g-1', GranteePrincipal: 'arn:aws:iam::111122223333:role/app', Operations: ['Decrypt'] },
      ],
      Truncated: false,
    });

    // Act
    const result = await beforeDisable();

    // Assess
    expect(result.verdict).toBe('ACCEPTED');
    expect(result.inventory?.resourceCount).toBe(0);
    expect(result.summaryText).toContain('Resources encrypted under the key: none found.');
    expect(result.summaryText).toContain('arn:aws:iam::111122223333:role/app: Decrypt (grant g-1)');
    expect(result.summaryText).not.toContain('snap-decoy');
    expect(result.summaryText.indexOf('WHAT THE KEY PROTECTS')).toBeLessThan(
      result.summaryText.indexOf('HOW TO ANSWER'),
    );
  });

  it('follows every page of DescribeSnapshots, empty pages included, and refuses PROTECTS_DATA', async () => {
    // Prepare
    ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [{ SnapshotId: 'snap-a', KmsKeyId: DECOY_ARN }], NextToken: 't1' })
      .resolvesOnce({ Snapshots: [], NextToken: 't2' })
      .resolvesOnce({
        Snapshots: [
          { SnapshotId: 'snap-ours', KmsKeyId: KEY_ARN, StartTime: new Date('2025-03-01T00:00:00Z') },
        ],
      });

    // Act
    const result = await beforeDisable();

    // Assess
    const calls = ec2.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input);
    expect(calls.map((input) => input.NextToken)).toEqual([undefined, 't1', 't2']);
    expect(calls[0]).toMatchObject({
      OwnerIds: ['self'],
      Filters: [{ Name: 'encrypted', Values: ['true'] }],
      MaxResults: 1000,
    });
    expect(result.verdict).toBe('REFUSED');
    expect(result.refusal?.cause).toBe('PROTECTS_DATA');
    expect(result.causeText).toMatch(/^PROTECTS_DATA: /);
    expect(result.refusal?.message).toContain(
      'AWS::EC2::Snapshot arn:aws:ec2:us-east-1::snapshot/snap-ours (created 2025-03-01T00:00:00.000Z)',
    );
    expect(result.subject).toContain('PROTECTS_DATA');
    expect(result.summaryText).toContain('Refused (PROTECTS_DATA): nothing was changed.');
  });

  it('reads bucket encryption in the key Region only, matching an alias ARN and skipping buckets without one', async () => {
    // Prepare
    s3.on(ListBucketsCommand)
      .resolvesOnce({
        Buckets: [{ Name: 'archive', CreationDate: new Date('2024-01-01Z'), BucketRegion: 'us-east-1' }],
        ContinuationToken: 'next',
      })
      .resolvesOnce({ Buckets: [{ Name: 'plain', BucketRegion: 'us-east-1' }, { Name: 'sse-s3' }] });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'archive' }).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms:dsse',
              KMSMasterKeyID: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/legacy`,
            },
          },
        ],
      },
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'plain' }).rejects(
      named('ServerSideEncryptionConfigurationNotFoundError'),
    );
    s3.on(GetBucketEncryptionCommand, { Bucket: 'sse-s3' }).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });

    // Act
    const result = await beforeDisable();

    // Assess
    expect(s3.commandCalls(ListBucketsCommand).map((c) => c.args[0].input)).toEqual([
      { MaxBuckets: 1000, ContinuationToken: undefined, BucketRegion: 'us-east-1' },
      { MaxBuckets: 1000, ContinuationToken: 'next', BucketRegion: 'us-east-1' },
    ]);
    expect(result.refusal?.cause).toBe('PROTECTS_DATA');
    expect(result.inventory?.resources).toEqual([
      {
        type: 'AWS::S3::Bucket',
        arn: 'arn:aws:s3:::archive',
        createdAt: '2024-01-01T00:00:00.000Z',
        keyRef: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/legacy`,
      },
    ]);
    expect(result.inventory?.failures).toEqual([]);
  });

  it('reads every table, every recovery point of every vault, and each service that names keys', async () => {
    // Prepare
    dynamodb
      .on(ListTablesCommand)
      .resolvesOnce({ TableNames: ['a'], LastEvaluatedTableName: 'a' })
      .resolvesOnce({ TableNames: ['orders'] });
    dynamodb.on(DescribeTableCommand, { TableName: 'a' }).resolves({ Table: { TableName: 'a' } });
    dynamodb.on(DescribeTableCommand, { TableName: 'orders' }).resolves({
      Table: {
        TableArn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`,
        SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: KEY_ARN },
      },
    });
    backup.on(ListBackupVaultsCommand).resolves({ BackupVaultList: [{ BackupVaultName: 'v1' }] });
    backup
      .on(ListRecoveryPointsByBackupVaultCommand)
      .resolvesOnce({ RecoveryPoints: [], NextToken: 'p2' })
      .resolvesOnce({
        RecoveryPoints: [{ RecoveryPointArn: 'arn:aws:backup:rp-1', EncryptionKeyArn: KEY_ARN }],
      });
    secrets.on(ListSecretsCommand).resolves({
      SecretList: [
        { ARN: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:quarterly-AbCd`, KmsKeyId: KEY_ID },
        { ARN: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:default-AbCd` },
      ],
    });
    ssm.on(DescribeParametersCommand).resolves({
      Parameters: [
        { Name: '/app/db', Type: 'SecureString', KeyId: 'alias/legacy' },
        { Name: '/app/plain', Type: 'String', KeyId: 'alias/legacy' },
      ],
    });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [{ DBClusterSnapshotArn: 'arn:aws:rds:cs-1', KmsKeyId: KEY_ARN }],
    });
    efs.on(DescribeFileSystemsCommand).resolves({
      FileSystems: [{ FileSystemId: 'fs-1', KmsKeyId: KEY_ARN } as never],
    });

    // Act
    const result = await beforeDisable();

    // Assess
    expect(dynamodb.commandCalls(DescribeTableCommand)).toHaveLength(2);
    expect(backup.commandCalls(ListRecoveryPointsByBackupVaultCommand).map((c) => c.args[0].input)).toEqual([
      { BackupVaultName: 'v1', MaxResults: 1000, NextToken: undefined },
      { BackupVaultName: 'v1', MaxResults: 1000, NextToken: 'p2' },
    ]);
    expect(result.inventory?.resources.map((r) => `${r.type} ${r.arn}`)).toEqual([
      'AWS::RDS::DBClusterSnapshot arn:aws:rds:cs-1',
      'AWS::Backup::RecoveryPoint arn:aws:backup:rp-1',
      `AWS::SecretsManager::Secret arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:quarterly-AbCd`,
      `AWS::SSM::Parameter arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/db`,
      `AWS::DynamoDB::Table arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`,
      `AWS::EFS::FileSystem arn:aws:elasticfilesystem:us-east-1:${ACCOUNT}:file-system/fs-1`,
    ]);
  });

  it.each([
    ['ec2', 'DescribeVolumes', () => ec2.on(DescribeVolumesCommand).rejects(named('UnauthorizedOperation'))],
    [
      'ec2',
      'DescribeSnapshots',
      () => ec2.on(DescribeSnapshotsCommand).rejects(named('UnauthorizedOperation')),
    ],
    ['rds', 'DescribeDBInstances', () => rds.on(DescribeDBInstancesCommand).rejects(named('AccessDenied'))],
    ['rds', 'DescribeDBClusters', () => rds.on(DescribeDBClustersCommand).rejects(named('AccessDenied'))],
    ['rds', 'DescribeDBSnapshots', () => rds.on(DescribeDBSnapshotsCommand).rejects(named('Throttling'))],
    [
      'rds',
      'DescribeDBClusterSnapshots',
      () => rds.on(DescribeDBClusterSnapshotsCommand).rejects(named('AccessDenied')),
    ],
    ['s3', 'ListBuckets', () => s3.on(ListBucketsCommand).rejects(named('AccessDenied'))],
    [
      's3',
      'GetBucketEncryption',
      () => {
        s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'b' }] });
        s3.on(GetBucketEncryptionCommand).rejects(named('AccessDenied'));
      },
    ],
    [
      'backup',
      'ListBackupVaults',
      () => backup.on(ListBackupVaultsCommand).rejects(named('AccessDeniedException')),
    ],
    [
      'backup',
      'ListRecoveryPointsByBackupVault',
      () => {
        backup.on(ListBackupVaultsCommand).resolves({ BackupVaultList: [{ BackupVaultName: 'v' }] });
        backup.on(ListRecoveryPointsByBackupVaultCommand).rejects(named('ServiceUnavailableException'));
      },
    ],
    [
      'secretsmanager',
      'ListSecrets',
      () => secrets.on(ListSecretsCommand).rejects(named('AccessDeniedException')),
    ],
    [
      'ssm',
      'DescribeParameters',
      () => ssm.on(DescribeParametersCommand).rejects(named('ThrottlingException')),
    ],
    ['dynamodb', 'ListTables', () => dynamodb.on(ListTablesCommand).rejects(named('AccessDeniedException'))],
    [
      'dynamodb',
      'DescribeTable',
      () => {
        dynamodb.on(ListTablesCommand).resolves({ TableNames: ['t'] });
        dynamodb.on(DescribeTableCommand).rejects(named('ResourceNotFoundException'));
      },
    ],
    [
      'elasticfilesystem',
      'DescribeFileSystems',
      () => efs.on(DescribeFileSystemsCommand).rejects(named('AccessDeniedException')),
    ],
    [
      'logs',
      'DescribeLogGroups',
      () => logs.on(DescribeLogGroupsCommand).rejects(named('AccessDeniedException')),
    ],
    [
      'cloudtrail',
      'DescribeTrails',
      () => cloudTrail.on(DescribeTrailsCommand).rejects(named('AccessDeniedException')),
    ],
    ['kms', 'ListGrants', () => kms.on(ListGrantsCommand).rejects(named('AccessDeniedException'))],
    ['kms', 'GetKeyPolicy', () => kms.on(GetKeyPolicyCommand).rejects(named('AccessDeniedException'))],
    ['kms', 'ListAliases', () => kms.on(ListAliasesCommand).rejects(named('KMSInternalException'))],
  ])(
    'refuses INVENTORY_INCOMPLETE when %s %s fails, naming the service, the call and the error',
    async (service, call, fail) => {
      // Prepare
      fail();

      // Act
      const result = await beforeDisable();

      // Assess
      expect(result.verdict).toBe('REFUSED');
      expect(result.refusal?.cause).toBe('INVENTORY_INCOMPLETE');
      expect(result.inventory?.failures).toHaveLength(1);
      const [failure] = result.inventory?.failures ?? [];
      expect(`${failure?.service} ${failure?.call}`).toBe(`${service} ${call}`);
      expect(result.refusal?.message).toContain(`${service} ${call}: ${failure?.error}`);
    },
  );

  it('refuses a page token handed back twice instead of looping', async () => {
    // Prepare
    efs.on(DescribeFileSystemsCommand).resolves({ FileSystems: [], NextMarker: 'same' });

    // Act
    const result = await beforeDisable();

    // Assess
    expect(result.refusal?.cause).toBe('INVENTORY_INCOMPLETE');
    expect(result.refusal?.message).toContain('elasticfilesystem DescribeFileSystems: PaginationStuckError');
    expect(efs.commandCalls(DescribeFileSystemsCommand)).toHaveLength(2);
  });

  it('follows ListGrants while KMS says it is truncated', async () => {
    // Prepare
    kms
      .on(ListGrantsCommand)
      .resolvesOnce({ Grants: [{ GrantId: 'g-1' }], Truncated: true, NextMarker: 'm' })
      .resolvesOnce({ Grants: [{ GrantId: 'g-2' }], Truncated: false, NextMarker: 'ignored' });

    // Act
    const result = await beforeDisable();

    // Assess
    expect(kms.commandCalls(ListGrantsCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'm']);
    expect(result.inventory?.grants.map((g) => g.grantId)).toEqual(['g-1', 'g-2']);
    expect(kms.commandCalls(GetKeyPolicyCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ARN,
      PolicyName: 'default',
    });
  });

  it('refuses ENCRYPTS_WATCH_SOURCE when the key encrypts the log group the watch reads', async () => {
    // Prepare
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        {
          logGroupName: 'org-trail',
          logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:org-trail`,
          kmsKeyId: KEY_ARN,
        },
      ],
    });

    // Act
    const result = await beforeDisable([`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:org-trail`]);

    // Assess
    expect(result.refusal?.cause).toBe('ENCRYPTS_WATCH_SOURCE');
  });

  it('goes on when acceptDataLoss names exactly what was found, saying what will become unreadable', async () => {
    // Prepare
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: 'vol-1', KmsKeyId: KEY_ARN }] });

    // Act
    const exact = await beforeDisable([`arn:aws:ec2:us-east-1:${ACCOUNT}:volume/vol-1`]);
    const less = await beforeDisable(['arn:aws:s3:::something-else']);

    // Assess
    expect(exact.verdict).toBe('ACCEPTED');
    expect(exact.summaryText).toContain('WILL BECOME UNREADABLE');
    expect(exact.summaryText).toContain(`arn:aws:ec2:us-east-1:${ACCOUNT}:volume/vol-1`);
    expect(less.refusal?.cause).toBe('PROTECTS_DATA');
  });

  it('answers CLEAR or REFUSED before the deletion, leaving the assessment as it was', async () => {
    // Act
    const clear = (await handler(event('BEFORE_DELETION'))) as InventoryCheck;
    secrets
      .on(ListSecretsCommand)
      .resolves({ SecretList: [{ ARN: 'arn:aws:secretsmanager:s', KmsKeyId: 'alias/legacy' }] });
    const refused = (await handler(event('BEFORE_DELETION'))) as InventoryCheck;

    // Assess
    expect(clear).toMatchObject({ verdict: 'CLEAR', refusal: null, causeText: '' });
    expect(clear.inventory.phase).toBe('BEFORE_DELETION');
    expect(refused.verdict).toBe('REFUSED');
    expect(refused.refusal?.cause).toBe('PROTECTS_DATA');
    expect(refused.refusal?.message).toContain('gives it back');
  });

  it('also reads the trails of the stack Region when the key lives in another Region', async () => {
    // Prepare
    const input = event('BEFORE_DISABLE');
    const key = keyFacts({ region: 'eu-west-1' });

    // Act
    await handler({ ...input, assessment: { ...input.assessment, key } });

    // Assess
    expect(cloudTrail.commandCalls(DescribeTrailsCommand)).toHaveLength(2);
  });

  it('refuses a malformed event with a named error', async () => {
    await expect(handler({ executionArn: EXECUTION, phase: 'LATER', assessment: {} })).rejects.toBeInstanceOf(
      InvalidHandlerEventError,
    );
  });
});
