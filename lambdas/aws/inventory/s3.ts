import { GetBucketEncryptionCommand, ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, isoDate, mapLimit, PER_RESOURCE_CONCURRENCY, read, type Scope } from './read.js';

/**
 * General purpose buckets of the key's Region whose default encryption is SSE-KMS or DSSE-KMS with a
 * customer key (GetBucketEncryption per bucket). S3 keeps `KMSMasterKeyID` as it was configured: a
 * key ID, key ARN, alias name or alias ARN. A rule with SSE-KMS and no key ID uses the AWS managed
 * key `aws/s3`, never a customer key.
 *
 * What this cannot see: objects uploaded with an explicit SSE-KMS key other than the bucket's default.
 */

const KMS_ALGORITHMS = new Set(['aws:kms', 'aws:kms:dsse']);

/** S3's answer for a bucket without a default encryption configuration: no KMS key, not a failure. */
const NO_CONFIGURATION = 'ServerSideEncryptionConfigurationNotFoundError';

export async function readBuckets(s3: S3Client, scope: Scope): Promise<EncryptedResource[]> {
  const buckets = await allPages('s3', 'ListBuckets', async (ContinuationToken) => {
    const page = await s3.send(
      new ListBucketsCommand({ MaxBuckets: 1000, ContinuationToken, BucketRegion: scope.region }),
    );
    return { items: page.Buckets, next: page.ContinuationToken };
  });
  // BucketRegion asks for this Region only; a bucket the answer places elsewhere is not read here.
  const here = buckets.filter(
    (bucket) => bucket.Name && (bucket.BucketRegion ?? scope.region) === scope.region,
  );
  const found = await mapLimit(here, PER_RESOURCE_CONCURRENCY, async (bucket) => {
    const name = bucket.Name as string;
    const keys = await bucketKeys(s3, name);
    const arn = `arn:${scope.partition}:s3:::${name}`;
    return keys.map(
      (keyRef): EncryptedResource => ({
        type: 'AWS::S3::Bucket',
        arn,
        createdAt: isoDate(bucket.CreationDate),
        keyRef,
      }),
    );
  });
  return found.flat();
}

/** The customer keys a bucket's default encryption names (none when it has no SSE-KMS default). */
async function bucketKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const answer = await read('s3', 'GetBucketEncryption', async () => {
    try {
      return await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    } catch (error) {
      if (error instanceof Error && error.name === NO_CONFIGURATION) {
        return null;
      }
      throw error;
    }
  });
  return (answer?.ServerSideEncryptionConfiguration?.Rules ?? []).flatMap((rule) => {
    const byDefault = rule.ApplyServerSideEncryptionByDefault;
    const algorithm = byDefault?.SSEAlgorithm;
    return algorithm && KMS_ALGORITHMS.has(algorithm) && byDefault?.KMSMasterKeyID
      ? [byDefault.KMSMasterKeyID]
      : [];
  });
}
