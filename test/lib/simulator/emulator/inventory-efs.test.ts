import { DescribeFileSystemsCommand, EFSClient, paginateDescribeFileSystems } from '@aws-sdk/client-efs';
import { ACCOUNT, REGION } from './fixtures.js';
import {
  accountWith,
  DECOY,
  denyAll,
  ids,
  inProcessClient,
  rejection,
  SUBJECT,
} from './inventory-fixtures.js';

const SYSTEMS = ids('fs-', 5);

function world() {
  return accountWith(
    SYSTEMS.map((id, i) => ({ type: 'AWS::EFS::FileSystem' as const, id, key: i === 0 ? SUBJECT : DECOY })),
  );
}

describe('emulated EFS DescribeFileSystems', () => {
  it('pages every file system with its key ARN, ARN and creation time', async () => {
    // Prepare
    const efs = inProcessClient(EFSClient, world());
    const seen: string[] = [];

    // Act
    for await (const page of paginateDescribeFileSystems({ client: efs, pageSize: 2 }, {})) {
      seen.push(...(page.FileSystems ?? []).map((system) => system.FileSystemId ?? ''));
    }
    const one = await efs.send(new DescribeFileSystemsCommand({ FileSystemId: SYSTEMS[0] }));

    // Assess
    expect(seen).toEqual(SYSTEMS);
    expect(one.FileSystems?.[0]).toMatchObject({
      FileSystemId: SYSTEMS[0],
      FileSystemArn: `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/${SYSTEMS[0]}`,
      Encrypted: true,
      KmsKeyId: SUBJECT.arn,
      CreationTime: new Date('2025-03-01T12:00:00Z'),
    });
  });

  it('names a missing file system and a denied call as EFS does', async () => {
    // Prepare
    const account = world();
    const efs = inProcessClient(EFSClient, account);

    // Act
    const missing = await rejection(
      efs.send(new DescribeFileSystemsCommand({ FileSystemId: 'fs-0123456789abcdef0' })),
    );
    denyAll(account, 'elasticfilesystem');
    const denied = await rejection(efs.send(new DescribeFileSystemsCommand({})));

    // Assess
    expect([missing.name, missing.$metadata?.httpStatusCode]).toEqual(['FileSystemNotFound', 404]);
    expect([denied.name, denied.$metadata?.httpStatusCode]).toEqual(['AccessDeniedException', 403]);
  });
});
