import { DescribeSnapshotsCommand, DescribeVolumesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, encrypted, isoDate, type Scope } from './read.js';

/** Only encrypted volumes and snapshots name a key; the filter keeps the pages to them. */
const ENCRYPTED = [{ Name: 'encrypted', Values: ['true'] }];

/** EBS volumes (DescribeVolumes); EC2 names the key by its ARN. */
export async function readVolumes(ec2: EC2Client, scope: Scope): Promise<EncryptedResource[]> {
  const volumes = await allPages('ec2', 'DescribeVolumes', async (NextToken) => {
    const page = await ec2.send(
      new DescribeVolumesCommand({ Filters: ENCRYPTED, MaxResults: 500, NextToken }),
    );
    return { items: page.Volumes, next: page.NextToken };
  });
  return volumes.flatMap((volume) =>
    encrypted(
      'AWS::EC2::Volume',
      volume.KmsKeyId,
      `arn:${scope.partition}:ec2:${scope.region}:${scope.account}:volume/${volume.VolumeId ?? '(no ID)'}`,
      isoDate(volume.CreateTime),
    ),
  );
}

/**
 * The account's own EBS snapshots (DescribeSnapshots of owner `self`). A snapshot's ARN has no
 * account (`arn:aws:ec2:<region>::snapshot/<id>`, as IAM documents it); the form with the account is
 * accepted as the same resource.
 */
export async function readSnapshots(ec2: EC2Client, scope: Scope): Promise<EncryptedResource[]> {
  const snapshots = await allPages('ec2', 'DescribeSnapshots', async (NextToken) => {
    const page = await ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: ENCRYPTED, MaxResults: 1000, NextToken }),
    );
    return { items: page.Snapshots, next: page.NextToken };
  });
  return snapshots.flatMap((snapshot) => {
    const id = snapshot.SnapshotId ?? '(no ID)';
    return encrypted(
      'AWS::EC2::Snapshot',
      snapshot.KmsKeyId,
      `arn:${scope.partition}:ec2:${scope.region}::snapshot/${id}`,
      isoDate(snapshot.StartTime),
      [`arn:${scope.partition}:ec2:${scope.region}:${scope.account}:snapshot/${id}`],
    );
  });
}
