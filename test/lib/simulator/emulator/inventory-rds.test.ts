import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  paginateDescribeDBInstances,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ACCOUNT, REGION } from './fixtures.js';
import { accountWith, DECOY, denyAll, inProcessClient, rejection, SUBJECT } from './inventory-fixtures.js';

const INSTANCES = Array.from({ length: 45 }, (_, i) => `orders-${String(i).padStart(2, '0')}`);

function world() {
  return accountWith([
    ...INSTANCES.map((id, i) => ({
      type: 'AWS::RDS::DBInstance' as const,
      id,
      key: i === 44 ? SUBJECT : DECOY,
    })),
    { type: 'AWS::RDS::DBCluster', id: 'ledger', createdAt: new Date('2024-05-05T05:05:05Z') },
    { type: 'AWS::RDS::DBCluster', id: 'cache', key: DECOY },
    { type: 'AWS::RDS::DBSnapshot', id: 'yearly-restore-test' },
    { type: 'AWS::RDS::DBSnapshot', id: 'rds:orders-00-2025-12-31-03-00', key: DECOY },
    { type: 'AWS::RDS::DBClusterSnapshot', id: 'ledger-final', createdAt: new Date('2025-06-30T00:00:00Z') },
  ]);
}

describe('emulated RDS', () => {
  it('pages DescribeDBInstances with MaxRecords and Marker until the last instance', async () => {
    // Prepare
    const rds = inProcessClient(RDSClient, world());
    const seen: string[] = [];
    let pages = 0;

    // Act
    for await (const page of paginateDescribeDBInstances({ client: rds, pageSize: 20 }, {})) {
      pages += 1;
      seen.push(...(page.DBInstances ?? []).map((instance) => instance.DBInstanceIdentifier ?? ''));
    }

    // Assess
    expect(pages).toBe(3);
    expect(seen).toEqual(INSTANCES);
  });

  it('reports each instance’s key ARN, ARN, encryption and creation time', async () => {
    // Prepare
    const rds = inProcessClient(RDSClient, world());

    // Act
    const answer = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'ORDERS-44' }));

    // Assess
    expect(answer.DBInstances).toEqual([
      expect.objectContaining({
        DBInstanceIdentifier: 'orders-44',
        DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-44`,
        StorageEncrypted: true,
        KmsKeyId: SUBJECT.arn,
        InstanceCreateTime: new Date('2025-03-01T12:00:00Z'),
      }),
    ]);
  });

  it('lists clusters, snapshots and cluster snapshots with their own ARN fields', async () => {
    // Prepare
    const rds = inProcessClient(RDSClient, world());

    // Act
    const clusters = await rds.send(new DescribeDBClustersCommand({}));
    const snapshots = await rds.send(new DescribeDBSnapshotsCommand({}));
    const manual = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
    const clusterSnapshots = await rds.send(new DescribeDBClusterSnapshotsCommand({}));

    // Assess
    expect(clusters.DBClusters?.map((cluster) => [cluster.DBClusterIdentifier, cluster.KmsKeyId])).toEqual([
      ['cache', DECOY.arn],
      ['ledger', SUBJECT.arn],
    ]);
    expect(clusters.DBClusters?.[1]).toMatchObject({
      DBClusterArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:ledger`,
      StorageEncrypted: true,
      ClusterCreateTime: new Date('2024-05-05T05:05:05Z'),
    });
    expect(
      snapshots.DBSnapshots?.map((snapshot) => [snapshot.DBSnapshotIdentifier, snapshot.SnapshotType]),
    ).toEqual([
      ['rds:orders-00-2025-12-31-03-00', 'automated'],
      ['yearly-restore-test', 'manual'],
    ]);
    expect(snapshots.DBSnapshots?.[0]).toMatchObject({
      DBInstanceIdentifier: 'orders-00',
      Encrypted: true,
      KmsKeyId: DECOY.arn,
      DBSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:rds:orders-00-2025-12-31-03-00`,
    });
    expect(manual.DBSnapshots?.map((snapshot) => snapshot.DBSnapshotIdentifier)).toEqual([
      'yearly-restore-test',
    ]);
    expect(clusterSnapshots.DBClusterSnapshots).toEqual([
      expect.objectContaining({
        DBClusterSnapshotIdentifier: 'ledger-final',
        DBClusterSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:ledger-final`,
        StorageEncrypted: true,
        KmsKeyId: SUBJECT.arn,
        SnapshotCreateTime: new Date('2025-06-30T00:00:00Z'),
      }),
    ]);
  });

  it('refuses MaxRecords outside 20 to 100 and names a missing instance as RDS does', async () => {
    // Prepare
    const rds = inProcessClient(RDSClient, world());

    // Act
    const small = await rejection(rds.send(new DescribeDBInstancesCommand({ MaxRecords: 10 })));
    const missing = await rejection(
      rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' })),
    );

    // Assess
    expect([small.name, small.message]).toEqual([
      'InvalidParameterValue',
      'Invalid value 10 for MaxRecords. Must be between 20 and 100',
    ]);
    expect(missing.name).toBe('DBInstanceNotFoundFault');
    expect(missing.$metadata?.httpStatusCode).toBe(404);
  });

  it('answers a denied call with AccessDenied (403), RDS’s own code', async () => {
    // Prepare
    const account = world();
    denyAll(account, 'rds', 'AccessDeniedException');
    const rds = inProcessClient(RDSClient, account);

    // Act
    const error = await rejection(rds.send(new DescribeDBClusterSnapshotsCommand({})));

    // Assess
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain('is not authorized to perform: rds:DescribeDBClusterSnapshots');
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });
});
