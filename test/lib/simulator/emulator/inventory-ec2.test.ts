import {
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type Volume,
} from '@aws-sdk/client-ec2';
import { ACCOUNT } from './fixtures.js';
import {
  accountWith,
  DECOY,
  denyAll,
  ids,
  inProcessClient,
  rejection,
  SUBJECT,
} from './inventory-fixtures.js';

const VOLUMES = ids('vol-', 12);
const SNAPSHOTS = ids('snap-', 7);

function world() {
  return accountWith([
    ...VOLUMES.map((id, i) => ({
      type: 'AWS::EC2::Volume' as const,
      id,
      key: i % 3 === 0 ? SUBJECT : DECOY,
    })),
    ...SNAPSHOTS.map((id, i) => ({
      type: 'AWS::EC2::Snapshot' as const,
      id,
      key: i === 0 ? SUBJECT : DECOY,
      createdAt: new Date(`2025-0${i + 1}-15T08:30:00Z`),
    })),
    { type: 'AWS::EC2::Volume', id: 'vol-0000000000000eu01', region: 'eu-west-1' },
  ]);
}

describe('emulated EC2 DescribeVolumes', () => {
  it('lists every encrypted volume of the Region with its key ARN, the decoys of other keys included', async () => {
    // Prepare
    const ec2 = inProcessClient(EC2Client, world());

    // Act
    const answer = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'encrypted', Values: ['true'] }] }),
    );

    // Assess
    const volumes = answer.Volumes ?? [];
    expect(volumes.map((volume) => volume.VolumeId)).toEqual(VOLUMES);
    expect(volumes[0]).toMatchObject({
      VolumeId: VOLUMES[0],
      Encrypted: true,
      KmsKeyId: SUBJECT.arn,
      CreateTime: new Date('2025-03-01T12:00:00Z'),
      State: 'available',
    });
    expect(volumes.filter((volume) => volume.KmsKeyId === DECOY.arn)).toHaveLength(8);
    expect(answer.NextToken).toBeUndefined();
  });

  it('pages with MaxResults and NextToken until every volume was seen', async () => {
    // Prepare
    const ec2 = inProcessClient(EC2Client, world());
    const seen: Volume[] = [];
    let pages = 0;

    // Act
    for await (const page of paginateDescribeVolumes({ client: ec2, pageSize: 5 }, {})) {
      pages += 1;
      seen.push(...(page.Volumes ?? []));
    }

    // Assess
    expect(pages).toBe(3);
    expect(seen.map((volume) => volume.VolumeId)).toEqual(VOLUMES);
  });

  it('answers only for the Region asked', async () => {
    // Prepare
    const ec2 = inProcessClient(EC2Client, world(), { region: 'eu-west-1' });

    // Act
    const answer = await ec2.send(new DescribeVolumesCommand({}));

    // Assess
    expect(answer.Volumes?.map((volume) => [volume.VolumeId, volume.KmsKeyId])).toEqual([
      ['vol-0000000000000eu01', SUBJECT.arn.replace('us-east-1', 'eu-west-1')],
    ]);
  });

  it('honours the filters it documents and refuses one it does not', async () => {
    // Prepare
    const ec2 = inProcessClient(EC2Client, world());

    // Act
    const unencrypted = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'encrypted', Values: ['false'] }] }),
    );
    const wildcard = await ec2.send(
      new DescribeVolumesCommand({
        Filters: [{ Name: 'volume-id', Values: ['vol-*1', 'vol-????????????????2'] }],
      }),
    );
    const unknown = await rejection(
      ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'kms-key-id', Values: [SUBJECT.arn] }] })),
    );

    // Assess
    expect(unencrypted.Volumes).toEqual([]);
    expect(wildcard.Volumes?.map((volume) => volume.VolumeId)).toEqual(VOLUMES.slice(0, 2));
    expect(unknown.name).toBe('InvalidParameterValue');
    expect(unknown.message).toBe("The filter 'kms-key-id' is invalid");
  });

  it('refuses a page size below 5, page size with IDs, and an unknown volume ID as EC2 does', async () => {
    // Prepare
    const ec2 = inProcessClient(EC2Client, world());

    // Act
    const small = await rejection(ec2.send(new DescribeVolumesCommand({ MaxResults: 3 })));
    const combined = await rejection(
      ec2.send(new DescribeVolumesCommand({ MaxResults: 5, VolumeIds: [VOLUMES[0] as string] })),
    );
    const missing = await rejection(
      ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0123456789abcdef0'] })),
    );
    const byId = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [VOLUMES[1] as string] }));

    // Assess
    expect([small.name, small.message]).toEqual([
      'InvalidParameterValue',
      'Value ( 3 ) for parameter maxResults is invalid. Expecting a value greater than 5.',
    ]);
    expect(combined.name).toBe('InvalidParameterCombination');
    expect(missing.name).toBe('InvalidVolume.NotFound');
    expect(byId.Volumes?.map((volume) => volume.VolumeId)).toEqual([VOLUMES[1]]);
  });
});

describe('emulated EC2 DescribeSnapshots', () => {
  it('lists the account’s own snapshots with their key and start time, for self and for the account ID', async () => {
    // Prepare
    const ec2 = inProcessClient(EC2Client, world());

    // Act
    const self = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    const byAccount = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: [ACCOUNT] }));
    const amazon = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['amazon'] }));

    // Assess
    expect(self.Snapshots?.map((snapshot) => snapshot.SnapshotId)).toEqual(SNAPSHOTS);
    expect(self.Snapshots?.[0]).toMatchObject({
      SnapshotId: SNAPSHOTS[0],
      Encrypted: true,
      KmsKeyId: SUBJECT.arn,
      StartTime: new Date('2025-01-15T08:30:00Z'),
      OwnerId: ACCOUNT,
      State: 'completed',
    });
    expect(byAccount.Snapshots).toHaveLength(SNAPSHOTS.length);
    expect(amazon.Snapshots).toEqual([]);
  });

  it('pages through every snapshot with the encrypted filter', async () => {
    // Prepare
    const ec2 = inProcessClient(EC2Client, world());
    const seen: string[] = [];

    // Act
    for await (const page of paginateDescribeSnapshots(
      { client: ec2, pageSize: 5 },
      { OwnerIds: ['self'], Filters: [{ Name: 'encrypted', Values: ['true'] }] },
    )) {
      seen.push(...(page.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId ?? ''));
    }

    // Assess
    expect(seen).toEqual(SNAPSHOTS);
  });
});

describe('emulated EC2 faults', () => {
  it('answers a denied call with UnauthorizedOperation (403), EC2’s own code', async () => {
    // Prepare
    const account = world();
    denyAll(account, 'ec2', 'AccessDeniedException');
    const ec2 = inProcessClient(EC2Client, account);

    // Act
    const error = await rejection(ec2.send(new DescribeVolumesCommand({})));

    // Assess
    expect(error.name).toBe('UnauthorizedOperation');
    expect(error.message).toContain('is not authorized to perform: ec2:DescribeVolumes');
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });

  it('answers a throttled call with RequestLimitExceeded, which the SDK retries', async () => {
    // Prepare
    const account = world();
    account.addFault({
      service: 'ec2',
      operation: 'DescribeSnapshots',
      error: 'ThrottlingException',
      from: new Date(0),
      until: new Date(8.64e15),
      count: 1,
    });
    const ec2 = inProcessClient(EC2Client, account);

    // Act
    const error = await rejection(ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] })));
    const retried = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));

    // Assess
    expect(error.name).toBe('RequestLimitExceeded');
    expect(retried.Snapshots).toHaveLength(SNAPSHOTS.length);
  });
});
