import { DescribeFileSystemsCommand, type EFSClient } from '@aws-sdk/client-efs';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, encrypted, isoDate, type Scope } from './read.js';

/** EFS file systems (DescribeFileSystems); an encrypted one names its key's ARN. */
export async function readFileSystems(efs: EFSClient, scope: Scope): Promise<EncryptedResource[]> {
  const fileSystems = await allPages('elasticfilesystem', 'DescribeFileSystems', async (Marker) => {
    const page = await efs.send(new DescribeFileSystemsCommand({ MaxItems: 100, Marker }));
    return { items: page.FileSystems, next: page.NextMarker };
  });
  return fileSystems.flatMap((fs) =>
    encrypted(
      'AWS::EFS::FileSystem',
      fs.KmsKeyId,
      fs.FileSystemArn ??
        `arn:${scope.partition}:elasticfilesystem:${scope.region}:${scope.account}:file-system/${fs.FileSystemId ?? '(no ID)'}`,
      isoDate(fs.CreationTime),
    ),
  );
}
