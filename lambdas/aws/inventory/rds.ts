import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, encrypted, isoDate, type Scope } from './read.js';

/**
 * RDS instances, clusters and their snapshots (manual and automated). RDS names the key by its ARN
 * and gives each resource's ARN; a missing ARN is built in RDS's documented form.
 */

const MAX_RECORDS = 100;

function rdsArn(scope: Scope, kind: string, id: string | undefined): string {
  return `arn:${scope.partition}:rds:${scope.region}:${scope.account}:${kind}:${id ?? '(no ID)'}`;
}

export async function readDbInstances(rds: RDSClient, scope: Scope): Promise<EncryptedResource[]> {
  const instances = await allPages('rds', 'DescribeDBInstances', async (Marker) => {
    const page = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: MAX_RECORDS, Marker }));
    return { items: page.DBInstances, next: page.Marker };
  });
  return instances.flatMap((db) =>
    encrypted(
      'AWS::RDS::DBInstance',
      db.KmsKeyId,
      db.DBInstanceArn ?? rdsArn(scope, 'db', db.DBInstanceIdentifier),
      isoDate(db.InstanceCreateTime),
    ),
  );
}

export async function readDbClusters(rds: RDSClient, scope: Scope): Promise<EncryptedResource[]> {
  const clusters = await allPages('rds', 'DescribeDBClusters', async (Marker) => {
    const page = await rds.send(new DescribeDBClustersCommand({ MaxRecords: MAX_RECORDS, Marker }));
    return { items: page.DBClusters, next: page.Marker };
  });
  return clusters.flatMap((cluster) =>
    encrypted(
      'AWS::RDS::DBCluster',
      cluster.KmsKeyId,
      cluster.DBClusterArn ?? rdsArn(scope, 'cluster', cluster.DBClusterIdentifier),
      isoDate(cluster.ClusterCreateTime),
    ),
  );
}

export async function readDbSnapshots(rds: RDSClient, scope: Scope): Promise<EncryptedResource[]> {
  const snapshots = await allPages('rds', 'DescribeDBSnapshots', async (Marker) => {
    const page = await rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: MAX_RECORDS, Marker }));
    return { items: page.DBSnapshots, next: page.Marker };
  });
  return snapshots.flatMap((snapshot) =>
    encrypted(
      'AWS::RDS::DBSnapshot',
      snapshot.KmsKeyId,
      snapshot.DBSnapshotArn ?? rdsArn(scope, 'snapshot', snapshot.DBSnapshotIdentifier),
      isoDate(snapshot.SnapshotCreateTime),
    ),
  );
}

export async function readDbClusterSnapshots(rds: RDSClient, scope: Scope): Promise<EncryptedResource[]> {
  const snapshots = await allPages('rds', 'DescribeDBClusterSnapshots', async (Marker) => {
    const page = await rds.send(new DescribeDBClusterSnapshotsCommand({ MaxRecords: MAX_RECORDS, Marker }));
    return { items: page.DBClusterSnapshots, next: page.Marker };
  });
  return snapshots.flatMap((snapshot) =>
    encrypted(
      'AWS::RDS::DBClusterSnapshot',
      snapshot.KmsKeyId,
      snapshot.DBClusterSnapshotArn ??
        rdsArn(scope, 'cluster-snapshot', snapshot.DBClusterSnapshotIdentifier),
      isoDate(snapshot.SnapshotCreateTime),
    ),
  );
}
