import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  ListBucketsCommand,
  paginateListBuckets,
  S3Client,
} from '@aws-sdk/client-s3';
import { REGION } from './fixtures.js';
import {
  accountWith,
  DECOY,
  denyAll,
  inProcessClient,
  rejection,
  SUBJECT,
  SUBJECT_ALIAS_ARN,
} from './inventory-fixtures.js';

const BUCKETS = Array.from({ length: 9 }, (_, i) => `archive-${i}`);

function world() {
  return accountWith([
    ...BUCKETS.map((id, i) => ({ type: 'AWS::S3::Bucket' as const, id, key: i < 6 ? SUBJECT : DECOY })),
    { type: 'AWS::S3::Bucket', id: 'eu.logs.example', region: 'eu-west-1' },
  ]);
}

const SUBJECT_NAMES = [SUBJECT.arn, SUBJECT.keyId, 'alias/legacy', SUBJECT_ALIAS_ARN];

describe('emulated S3 ListBuckets', () => {
  it('lists the buckets of every Region with their Region and creation date', async () => {
    // Prepare
    const s3 = inProcessClient(S3Client, world());

    // Act
    const answer = await s3.send(new ListBucketsCommand({}));

    // Assess
    expect(answer.Buckets?.map((bucket) => [bucket.Name, bucket.BucketRegion])).toEqual([
      ...BUCKETS.map((name) => [name, REGION]),
      ['eu.logs.example', 'eu-west-1'],
    ]);
    expect(answer.Buckets?.[0]?.CreationDate).toEqual(new Date('2025-03-01T12:00:00Z'));
    expect(answer.ContinuationToken).toBeUndefined();
  });

  it('pages with max-buckets and narrows to bucket-region', async () => {
    // Prepare
    const s3 = inProcessClient(S3Client, world());
    const seen: string[] = [];
    let pages = 0;

    // Act
    for await (const page of paginateListBuckets({ client: s3, pageSize: 4 }, {})) {
      pages += 1;
      seen.push(...(page.Buckets ?? []).map((bucket) => bucket.Name ?? ''));
    }
    const europe = await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-west-1' }));

    // Assess
    expect(pages).toBe(3);
    expect(seen).toEqual([...BUCKETS, 'eu.logs.example']);
    expect(europe.Buckets?.map((bucket) => bucket.Name)).toEqual(['eu.logs.example']);
  });
});

describe('emulated S3 GetBucketEncryption', () => {
  it('reports each bucket’s SSE-KMS key as its owner wrote it: key ARN, key ID or alias', async () => {
    // Prepare
    const s3 = inProcessClient(S3Client, world());

    // Act
    const keys = await Promise.all(
      BUCKETS.map(async (name) => {
        const answer = await s3.send(new GetBucketEncryptionCommand({ Bucket: name }));
        const rule = answer.ServerSideEncryptionConfiguration?.Rules?.[0];
        expect(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('aws:kms');
        return rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID ?? '';
      }),
    );

    // Assess: the subject's buckets name it in more than one way, the decoys name only their own key.
    const subject = keys.slice(0, 6);
    expect(subject.every((name) => SUBJECT_NAMES.includes(name))).toBe(true);
    expect(new Set(subject).size).toBeGreaterThan(1);
    expect(keys.slice(6).every((name) => name === DECOY.arn || name === DECOY.keyId)).toBe(true);
  });

  it('answers path-style and virtual-host-style requests alike', async () => {
    // Prepare
    const account = world();
    const pathStyle = inProcessClient(S3Client, account);
    const hostStyle = inProcessClient(S3Client, account, { endpoint: 'http://emulator.local:4566' });

    // Act
    const byPath = await pathStyle.send(new GetBucketEncryptionCommand({ Bucket: 'archive-3' }));
    const byHost = await hostStyle.send(new GetBucketEncryptionCommand({ Bucket: 'archive-3' }));

    // Assess
    expect(byHost.ServerSideEncryptionConfiguration).toEqual(byPath.ServerSideEncryptionConfiguration);
  });

  it('answers NoSuchBucket for a bucket the account does not own and redirects to another Region’s bucket', async () => {
    // Prepare
    const s3 = inProcessClient(S3Client, world());

    // Act
    const missing = await rejection(s3.send(new GetBucketEncryptionCommand({ Bucket: 'someone-elses' })));
    const elsewhere = await rejection(s3.send(new GetBucketEncryptionCommand({ Bucket: 'eu.logs.example' })));
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: 'eu.logs.example' }));

    // Assess
    expect([missing.name, missing.$metadata?.httpStatusCode]).toEqual(['NoSuchBucket', 404]);
    expect([elsewhere.name, elsewhere.$metadata?.httpStatusCode]).toEqual(['PermanentRedirect', 301]);
    expect(location.LocationConstraint).toBe('eu-west-1');
  });

  it('answers a denied call with AccessDenied (403), S3’s own code', async () => {
    // Prepare
    const account = world();
    denyAll(account, 's3', 'AccessDeniedException');
    const s3 = inProcessClient(S3Client, account);

    // Act
    const error = await rejection(s3.send(new GetBucketEncryptionCommand({ Bucket: 'archive-0' })));

    // Assess
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain('is not authorized to perform: s3:GetEncryptionConfiguration');
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });
});
