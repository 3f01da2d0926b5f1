import { run } from '../../../lib/cli/candidates.js';
import { bufferedIo } from '../../../lib/cli/io.js';
import { EmulatedAccount } from '../../../lib/simulator/emulator/account.js';
import { useEmulatorServer } from './emulated.js';

/**
 * `candidates` with the real KMS client against the emulated account over HTTP (the SDK's
 * AWS_ENDPOINT_URL_KMS), so request shapes, pagination markers, error names and retries are the
 * SDK's own, not a mock's. The usage picture only (--skip-inventory): the inventory's services are
 * not pointed at the emulator here.
 */

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
// The emulator runs on the real clock: its Date header then matches the SDK's, which would otherwise
// correct the skew and retry the first error it sees (an AccessDeniedException included).
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const DAY = 86_400_000;

const ids = {
  neverUsed: '11111111-1111-1111-1111-111111111111',
  recent: '22222222-2222-2222-2222-222222222222',
  awsManaged: '33333333-3333-3333-3333-333333333333',
  beforeTracking: '44444444-4444-4444-4444-444444444444',
  held: '55555555-5555-5555-5555-555555555555',
} as const;

function account(): EmulatedAccount {
  const emulated = new EmulatedAccount({
    account: ACCOUNT,
    region: REGION,
    workflowPrincipalArn: `arn:aws:iam::${ACCOUNT}:role/cli-user`,
    clock: () => new Date(),
    cloudTrail: { deliveryLagMs: 300_000, retentionDays: 90, logGroupName: 'trail' },
  });
  const created = new Date(NOW.getTime() - 100 * DAY);
  emulated.addKey({ keyId: ids.neverUsed, createdAt: created, aliases: ['alias/forgotten'] });
  emulated.addKey({
    keyId: ids.recent,
    createdAt: created,
    lastUsage: { operation: 'Decrypt', at: new Date(NOW.getTime() - 2 * DAY) },
  });
  emulated.addKey({ keyId: ids.awsManaged, createdAt: created, manager: 'AWS', aliases: ['alias/aws/s3'] });
  emulated.addKey({
    keyId: ids.beforeTracking,
    createdAt: new Date(NOW.getTime() - 700 * DAY),
    trackingStartDate: new Date(NOW.getTime() - 300 * DAY),
  });
  emulated.addKey({
    keyId: ids.held,
    createdAt: created,
    state: 'Disabled',
    tags: {
      'kms-deletion-guard:execution': `arn:aws:states:${REGION}:${ACCOUNT}:execution:Workflow:other`,
      'kms-deletion-guard:status': 'disabled',
    },
  });
  return emulated;
}

describe('candidates against the emulated account', () => {
  const server = useEmulatorServer('AWS_ENDPOINT_URL_KMS');

  it('classifies every customer managed key with the real client and skips the AWS managed one', async () => {
    // Prepare
    server().setAccount(account());
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--json', '--skip-inventory'], io);

    // Assess
    expect(code).toBe(0);
    const rows = JSON.parse(io.out()) as Record<string, unknown>[];
    const byId = new Map(rows.map((r) => [r.keyId, r]));
    expect([...byId.keys()].sort()).toEqual([ids.neverUsed, ids.recent, ids.beforeTracking, ids.held].sort());
    expect(byId.get(ids.neverUsed)).toMatchObject({
      verdict: 'ACCEPTED',
      usage: 'NEVER_USED',
      aliases: ['alias/forgotten'],
    });
    expect(byId.get(ids.recent)).toMatchObject({
      verdict: 'REFUSED',
      cause: 'RECENTLY_USED',
      lastUsedOperation: 'Decrypt',
    });
    expect(byId.get(ids.beforeTracking)).toMatchObject({
      verdict: 'ACCEPTED',
      usage: 'UNKNOWN_BEFORE_TRACKING',
    });
    expect(byId.get(ids.held)).toMatchObject({ verdict: 'REFUSED', cause: 'HELD_BY_ANOTHER_EXECUTION' });
    expect(io.err()).toContain('1 AWS managed key skipped');
  });

  it('lists a key whose usage could not be read as UNREADABLE, and rides out throttling', async () => {
    // Prepare
    const emulated = account();
    const window = { from: new Date(NOW.getTime() - DAY), until: new Date(NOW.getTime() + DAY) };
    emulated.addFault({
      service: 'kms',
      operation: 'DescribeKey',
      error: 'ThrottlingException',
      count: 1,
      ...window,
    });
    emulated.addFault({
      service: 'kms',
      operation: 'GetKeyLastUsage',
      error: 'AccessDeniedException',
      count: 1,
      ...window,
    });
    server().setAccount(emulated);
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--csv', '--skip-inventory'], io);
    const stats = emulated.stats();

    // Assess
    expect(code).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    const unreadable = lines.filter((line) => line.includes(',UNREADABLE,'));
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]).toContain(
      'GetKeyLastUsage: AccessDeniedException: User: arn:aws:iam::111122223333:role/cli-user',
    );
    expect(io.err()).toContain('4 customer managed keys in eu-west-1: ');
    expect(io.err()).toContain('1 unreadable');
    // The throttled DescribeKey call was retried by the SDK, not reported as unreadable keys.
    expect(stats.faultsFired).toBe(2);
  });
});

describe('candidates with the inventory against the emulated account', () => {
  // Every client of the run, the inventory's services included, reaches the emulator.
  const server = useEmulatorServer('AWS_ENDPOINT_URL');

  it('counts what each key protects through the real clients of every service, decoys apart', async () => {
    // Prepare
    const emulated = account();
    const keyOf = (keyId: string, aliases: readonly string[] = []) => ({
      keyId,
      arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`,
      aliases,
    });
    const at = new Date(NOW.getTime() - 50 * DAY);
    const resource = (
      type: 'AWS::EC2::Snapshot' | 'AWS::S3::Bucket' | 'AWS::DynamoDB::Table',
      id: string,
    ) => ({
      type,
      id,
      createdAt: at,
      region: REGION,
      recordedByConfig: false,
    });
    const snapshot = resource('AWS::EC2::Snapshot', 'snap-0a1b2c3d4e5f60718');
    emulated.addProtectedResource({
      ...snapshot,
      arn: `arn:aws:ec2:${REGION}::snapshot/${snapshot.id}`,
      key: keyOf(ids.neverUsed, ['alias/forgotten']),
    });
    emulated.addProtectedResource({
      ...resource('AWS::S3::Bucket', 'forgotten-archive'),
      arn: 'arn:aws:s3:::forgotten-archive',
      key: keyOf(ids.neverUsed, ['alias/forgotten']),
    });
    emulated.addProtectedResource({
      ...resource('AWS::DynamoDB::Table', 'recent-orders'),
      arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/recent-orders`,
      key: keyOf(ids.recent),
    });
    server().setAccount(emulated);
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run(['--json'], io);

    // Assess
    expect(code).toBe(0);
    const byId = new Map((JSON.parse(io.out()) as Record<string, unknown>[]).map((r) => [r.keyId, r]));
    expect(byId.get(ids.neverUsed)).toMatchObject({
      verdict: 'REFUSED',
      cause: 'PROTECTS_DATA',
      protects: 2,
    });
    expect(byId.get(ids.recent)).toMatchObject({ cause: 'RECENTLY_USED', protects: 1 });
    expect(byId.get(ids.beforeTracking)).toMatchObject({ verdict: 'ACCEPTED', protects: 0, grants: 0 });
  });
});
