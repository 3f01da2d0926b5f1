import { BackupClient, ListBackupVaultsCommand } from '@aws-sdk/client-backup';
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, EFSClient } from '@aws-sdk/client-efs';
import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { csvField, run, toCsv } from '../../../lib/cli/candidates.js';
import { bufferedIo } from '../../../lib/cli/io.js';
import { ACCOUNT, REGION } from './fixtures.js';

const kmsMock = mockClient(KMSClient);
const ec2Mock = mockClient(EC2Client);
const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const backupMock = mockClient(BackupClient);
const secretsMock = mockClient(SecretsManagerClient);
const ssmMock = mockClient(SSMClient);
const dynamodbMock = mockClient(DynamoDBClient);
const efsMock = mockClient(EFSClient);
const logsMock = mockClient(CloudWatchLogsClient);
const cloudTrailMock = mockClient(CloudTrailClient);
const INVENTORY_MOCKS = [
  ec2Mock,
  rdsMock,
  s3Mock,
  backupMock,
  secretsMock,
  ssmMock,
  dynamodbMock,
  efsMock,
  logsMock,
  cloudTrailMock,
];

/** A Region whose services hold nothing encrypted under any key. */
function emptyInventory(): void {
  ec2Mock.on(DescribeVolumesCommand).resolves({ Volumes: [] });
  ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
  rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
  rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rdsMock.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  s3Mock.on(ListBucketsCommand).resolves({ Buckets: [] });
  backupMock.on(ListBackupVaultsCommand).resolves({ BackupVaultList: [] });
  secretsMock.on(ListSecretsCommand).resolves({ SecretList: [] });
  ssmMock.on(DescribeParametersCommand).resolves({ Parameters: [] });
  dynamodbMock.on(ListTablesCommand).resolves({ TableNames: [] });
  efsMock.on(DescribeFileSystemsCommand).resolves({ FileSystems: [] });
  logsMock.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
  cloudTrailMock.on(DescribeTrailsCommand).resolves({ trailList: [] });
}
const NOW = new Date('2026-03-15T00:00:00Z');
const DAY = 86_400_000;

const ids = {
  neverUsed: '11111111-1111-1111-1111-111111111111',
  recent: '22222222-2222-2222-2222-222222222222',
  awsManaged: '33333333-3333-3333-3333-333333333333',
  denied: '44444444-4444-4444-4444-444444444444',
  usageDenied: '55555555-5555-5555-5555-555555555555',
  pending: '66666666-6666-6666-6666-666666666666',
  idle40: '77777777-7777-7777-7777-777777777777',
} as const;

const arnOf = (id: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
const denied = (action: string) =>
  Object.assign(new Error(`User is not authorized to perform: kms:${action}`), {
    name: 'AccessDeniedException',
  });

function customer(id: string, state = 'Enabled') {
  return {
    KeyMetadata: {
      KeyId: id,
      Arn: arnOf(id),
      AWSAccountId: ACCOUNT,
      KeyManager: 'CUSTOMER' as const,
      KeyState: state as 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT' as const,
      KeyUsage: 'ENCRYPT_DECRYPT' as const,
      CreationDate: new Date('2025-12-01T00:00:00Z'),
    },
  };
}

function fleet(): void {
  kmsMock
    .on(ListKeysCommand, { Marker: undefined })
    .resolves({
      Keys: [ids.neverUsed, ids.recent, ids.awsManaged].map((id) => ({ KeyId: id, KeyArn: arnOf(id) })),
      Truncated: true,
      NextMarker: 'm2',
    })
    .on(ListKeysCommand, { Marker: 'm2' })
    .resolves({
      Keys: [ids.denied, ids.usageDenied, ids.pending, ids.idle40].map((id) => ({
        KeyId: id,
        KeyArn: arnOf(id),
      })),
      Truncated: false,
    });
  kmsMock.on(ListAliasesCommand).resolves({
    Aliases: [
      { AliasName: 'alias/billing-old', TargetKeyId: ids.recent },
      { AliasName: 'alias/aws/s3', TargetKeyId: ids.awsManaged },
      { AliasName: 'alias/forgotten', TargetKeyId: ids.neverUsed },
      { AliasName: 'alias/forgotten-too', TargetKeyId: ids.neverUsed },
    ],
  });
  kmsMock
    .on(DescribeKeyCommand, { KeyId: arnOf(ids.neverUsed) })
    .resolves(customer(ids.neverUsed))
    .on(DescribeKeyCommand, { KeyId: arnOf(ids.recent) })
    .resolves(customer(ids.recent))
    .on(DescribeKeyCommand, { KeyId: arnOf(ids.awsManaged) })
    .resolves({ KeyMetadata: { ...customer(ids.awsManaged).KeyMetadata, KeyManager: 'AWS' } })
    .on(DescribeKeyCommand, { KeyId: arnOf(ids.denied) })
    .rejects(denied('DescribeKey'))
    .on(DescribeKeyCommand, { KeyId: arnOf(ids.usageDenied) })
    .resolves(customer(ids.usageDenied))
    .on(DescribeKeyCommand, { KeyId: arnOf(ids.pending) })
    .resolves(customer(ids.pending, 'PendingDeletion'))
    .on(DescribeKeyCommand, { KeyId: arnOf(ids.idle40) })
    .resolves(customer(ids.idle40));
  const tracking = new Date('2025-08-01T00:00:00Z');
  const created = new Date('2025-12-01T00:00:00Z');
  const usedAt = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * DAY);
  kmsMock
    .on(GetKeyLastUsageCommand)
    .resolves({ TrackingStartDate: tracking, KeyCreationDate: created })
    .on(GetKeyLastUsageCommand, { KeyId: arnOf(ids.recent) })
    .resolves({
      TrackingStartDate: tracking,
      KeyCreationDate: created,
      KeyLastUsage: { Operation: 'Decrypt', Timestamp: usedAt(3), CloudTrailEventId: 'ev-3' },
    })
    .on(GetKeyLastUsageCommand, { KeyId: arnOf(ids.idle40) })
    .resolves({
      TrackingStartDate: tracking,
      KeyCreationDate: created,
      KeyLastUsage: { Operation: 'Encrypt', Timestamp: usedAt(40) },
    })
    .on(GetKeyLastUsageCommand, { KeyId: arnOf(ids.usageDenied) })
    .rejects(
      Object.assign(new Error('User "ops" is not authorized,\nas policy says: no'), {
        name: 'AccessDeniedException',
      }),
    );
  kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [], Truncated: false });
  kmsMock.on(ListGrantsCommand).resolves({ Grants: [], Truncated: false });
  emptyInventory();
}

describe('candidates', () => {
  afterEach(() => {
    kmsMock.reset();
    for (const mock of INVENTORY_MOCKS) mock.reset();
  });

  it('reports every customer managed key, lists unreadable ones, and counts the AWS managed ones it skips', async () => {
    // Prepare
    fleet();
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--json'], io);

    // Assess
    expect(code).toBe(0);
    const rows = JSON.parse(io.out()) as Record<string, unknown>[];
    const byId = new Map(rows.map((r) => [r.keyId, r]));
    expect(rows.map((r) => r.keyId)).toEqual([
      ids.neverUsed,
      ids.recent,
      ids.denied,
      ids.usageDenied,
      ids.pending,
      ids.idle40,
    ]);
    expect(byId.get(ids.neverUsed)).toMatchObject({
      verdict: 'ACCEPTED',
      usage: 'NEVER_USED',
      aliases: ['alias/forgotten', 'alias/forgotten-too'],
      lastUsedOperation: null,
    });
    expect(byId.get(ids.recent)).toMatchObject({
      verdict: 'REFUSED',
      cause: 'RECENTLY_USED',
      usage: 'USED',
      lastUsedOperation: 'Decrypt',
      lastUsedAt: '2026-03-12T00:00:00.000Z',
      aliases: ['alias/billing-old'],
    });
    expect(byId.get(ids.denied)).toMatchObject({ verdict: 'UNREADABLE', state: null });
    expect(byId.get(ids.denied)?.reason).toContain('DescribeKey: AccessDeniedException');
    expect(byId.get(ids.usageDenied)).toMatchObject({ verdict: 'UNREADABLE', state: 'Enabled' });
    expect(byId.get(ids.usageDenied)?.reason).toContain('GetKeyLastUsage: AccessDeniedException');
    expect(byId.get(ids.pending)).toMatchObject({ verdict: 'REFUSED', cause: 'PENDING_DELETION' });
    expect(byId.get(ids.idle40)).toMatchObject({ verdict: 'REFUSED', cause: 'RECENTLY_USED' });
    expect(io.err()).toContain('6 customer managed keys in eu-west-1: 1 accepted, 3 refused, 2 unreadable');
    expect(io.err()).toContain('1 AWS managed key skipped');
    // AWS managed keys are skipped before their usage is read.
    const usageCalls = kmsMock.commandCalls(GetKeyLastUsageCommand).map((c) => c.args[0].input.KeyId);
    expect(usageCalls).not.toContain(arnOf(ids.awsManaged));
  });

  it('counts what each key protects from one walk of the Region, refusing a key that protects data', async () => {
    // Prepare
    fleet();
    ec2Mock.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'snap-1', KmsKeyId: arnOf(ids.neverUsed), StartTime: new Date('2025-12-02T00:00:00Z') },
        { SnapshotId: 'snap-2', KmsKeyId: arnOf(ids.recent) },
      ],
    });
    secretsMock.on(ListSecretsCommand).resolves({
      SecretList: [
        { ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:s-1`, KmsKeyId: 'alias/forgotten-too' },
      ],
    });
    kmsMock.on(ListGrantsCommand, { KeyId: arnOf(ids.idle40) }).resolves({ Grants: [{ GrantId: 'g' }] });
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--json', '--min-idle-days', '30'], io);

    // Assess
    expect(code).toBe(0);
    const byId = new Map((JSON.parse(io.out()) as Record<string, unknown>[]).map((r) => [r.keyId, r]));
    expect(byId.get(ids.neverUsed)).toMatchObject({
      verdict: 'REFUSED',
      cause: 'PROTECTS_DATA',
      protects: 2,
      protectsText: '2',
      summary: 'PROTECTS_DATA: 2 resources',
    });
    expect(byId.get(ids.neverUsed)?.reason).toContain(
      `AWS::EC2::Snapshot arn:aws:ec2:${REGION}::snapshot/snap-1`,
    );
    expect(byId.get(ids.recent)).toMatchObject({ cause: 'RECENTLY_USED', protects: 1 });
    expect(byId.get(ids.idle40)).toMatchObject({ verdict: 'ACCEPTED', protects: 0, grants: 1 });
    expect(byId.get(ids.denied)).toMatchObject({ protects: null, protectsText: 'not read' });
    // One walk of each service for the whole Region, however many keys.
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand)).toHaveLength(1);
  });

  it('says UNREADABLE where a read of the inventory failed, never 0', async () => {
    // Prepare
    fleet();
    dynamodbMock
      .on(ListTablesCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    await run(['--json'], io);

    // Assess
    const byId = new Map((JSON.parse(io.out()) as Record<string, unknown>[]).map((r) => [r.keyId, r]));
    expect(byId.get(ids.neverUsed)).toMatchObject({
      verdict: 'UNREADABLE',
      protects: null,
      protectsText: 'UNREADABLE: dynamodb ListTables: AccessDeniedException (not authorized)',
    });
    expect(byId.get(ids.recent)).toMatchObject({ verdict: 'REFUSED', protects: null });
  });

  it('reads nothing of the inventory with --skip-inventory, and says so', async () => {
    // Prepare
    fleet();
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    await run(['--json', '--skip-inventory'], io);

    // Assess
    const rows = JSON.parse(io.out()) as Record<string, unknown>[];
    expect(rows.every((r) => r.protectsText === 'not read')).toBe(true);
    expect(INVENTORY_MOCKS.map((mock) => mock.calls().length)).toEqual(INVENTORY_MOCKS.map(() => 0));
    expect(io.err()).toContain('What the keys protect was not read (--skip-inventory).');
  });

  it('applies --min-idle-days', async () => {
    // Prepare
    fleet();
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--json', '--min-idle-days', '30'], io);

    // Assess
    expect(code).toBe(0);
    const rows = JSON.parse(io.out()) as Record<string, unknown>[];
    expect(rows.find((r) => r.keyId === ids.idle40)).toMatchObject({
      verdict: 'ACCEPTED',
      summary: 'idle 40 days',
    });
    expect(rows.find((r) => r.keyId === ids.recent)).toMatchObject({ verdict: 'REFUSED' });
  });

  it('prints a table with a footer and no progress when stderr is not a terminal', async () => {
    // Prepare
    fleet();
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run([], io);

    // Assess
    expect(code).toBe(0);
    expect(io.err()).toBe('');
    const out = io.out();
    expect(out).toMatch(/^KEY ID\s+STATE\s+LAST USE\s+USAGE\s+ALIASES\s+PROTECTS\s+VERDICT\s+REASON\n/);
    expect(out).toMatch(
      new RegExp(
        `${ids.recent}\\s+Enabled\\s+Decrypt 2026-03-12T00:00:00.000Z\\s+USED\\s+alias/billing-old\\s+0\\s+REFUSED\\s+RECENTLY_USED: used 3 days ago; minIdleDays 90`,
      ),
    );
    expect(out).toMatch(
      new RegExp(
        `${ids.denied}\\s+-\\s+-\\s+-\\s+-\\s+-\\s+UNREADABLE\\s+DescribeKey: AccessDeniedException`,
      ),
    );
    expect(out).toContain('1 AWS managed key skipped.');
  });

  it('shows progress on stderr when it is a terminal', async () => {
    // Prepare
    fleet();
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW, stderrIsTTY: true });

    // Act
    await run(['--csv'], io);

    // Assess
    expect(io.err()).toContain('Reading keys: 7/7');
    expect(io.out()).not.toContain('Reading keys');
  });

  it('writes CSV with a header and quotes fields with commas, quotes and line breaks', async () => {
    // Prepare
    fleet();
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--csv'], io);

    // Assess
    expect(code).toBe(0);
    const csv = io.out();
    const [header] = csv.split('\n');
    expect(header).toBe(
      'keyId,keyArn,state,aliases,lastUsedOperation,lastUsedAt,usage,trackingStartDate,creationDate,verdict,cause,reason,protectsText,grants',
    );
    const records = parseCsv(csv);
    expect(records).toHaveLength(6);
    for (const record of records) expect(record).toHaveLength(14);
    const recent = records.find((r) => r[0] === ids.recent);
    expect(recent?.[3]).toBe('alias/billing-old');
    expect(recent?.[11]).toContain(
      'was used for a successful Decrypt at 2026-03-12T00:00:00.000Z (3 days ago, ',
    );
    const usageDenied = records.find((r) => r[0] === ids.usageDenied);
    expect(usageDenied?.[9]).toBe('UNREADABLE');
    expect(usageDenied?.[11]).toBe(
      'GetKeyLastUsage: AccessDeniedException: User "ops" is not authorized, as policy says: no (your credentials lack this permission)',
    );
  });

  it('quotes CSV fields as RFC 4180 says', () => {
    // Assess
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(toCsv([]).trimEnd().split('\n')).toHaveLength(1);
  });

  it('refuses --json together with --csv before any call', async () => {
    // Prepare
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--json', '--csv'], io);

    // Assess
    expect(code).toBe(2);
    expect(JSON.parse(io.out())).toMatchObject({ error: { name: 'UsageError' } });
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('fails with one line when the keys cannot be listed at all', async () => {
    // Prepare
    kmsMock.on(ListKeysCommand).rejects(denied('ListKeys'));
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run([], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toBe(
      'kms-deletion-guard: AccessDeniedException: User is not authorized to perform: kms:ListKeys (your credentials lack this permission)\n',
    );
  });
});

/** A small RFC 4180 reader, so the test checks the quoting by reading it back. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  return records.slice(1);
}
