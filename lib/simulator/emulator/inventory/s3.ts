import { createHash } from 'node:crypto';
import { ServiceError, s3ErrorAnswer, XmlList, xmlAnswer } from './protocol.js';
import {
  decodeToken,
  encodeToken,
  InvalidTokenError,
  type InventoryWorld,
  keyReference,
  type ProtectedResource,
  pageAfter,
} from './resources.js';
import { type InventoryRequest, type InventoryServiceHandler, integerParameter } from './service.js';

/**
 * Amazon S3 (REST XML): `ListBuckets`, `GetBucketEncryption` and `GetBucketLocation` of the
 * account's SSE-KMS buckets. Sourced behaviour (S3 API reference):
 * - `ListBuckets` lists the account's buckets of every Region; `max-buckets` (1 to 10,000) pages
 *   it with `ContinuationToken`; with `bucket-region`, `prefix` or `continuation-token` but no
 *   `max-buckets`, pages hold 10,000; each bucket carries `BucketRegion`.
 * - "By default, all buckets have a default encryption configuration that uses server-side
 *   encryption with Amazon S3 managed keys (SSE-S3)": a bucket without an SSE-KMS default answers
 *   `AES256`, and `ServerSideEncryptionConfigurationNotFoundError` (the answer before 2023) no
 *   longer occurs. Every bucket of the emulated account has an SSE-KMS default (it is in the
 *   account because it protects data under a key).
 * - `KMSMasterKeyID` is what the owner configured: "the key ID, key alias, or the Amazon Resource
 *   Name (ARN) of the KMS key", so the emulator reports one of those forms (see `keyReference`).
 * - A bucket the account does not own: `NoSuchBucket` (404); one of another Region asked through
 *   this Region's endpoint: `PermanentRedirect` (301) with `x-amz-bucket-region`.
 * The SDK addresses a bucket path-style (`/bucket/?encryption`) when the endpoint is an IP address
 * and virtual-host style (`bucket.host/?encryption`) otherwise; both are understood.
 */

const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_BUCKETS = 10_000;

/** A canonical user ID is 64 hex digits; the account's one is derived from its ID. */
function canonicalUserId(account: string): string {
  return createHash('sha256').update(`s3-canonical-user|${account}`).digest('hex');
}

interface Addressed {
  readonly bucket: string | null;
  readonly operation: string;
}

/** The bucket a request names (path-style first segment, else the host's leading labels). */
function address(request: InventoryRequest, knownBuckets: readonly string[]): Addressed {
  const segments = request.path.split('/').filter((segment) => segment !== '');
  let bucket: string | null = segments[0] === undefined ? null : decodeURIComponent(segments[0]);
  if (bucket === null) {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    const known = knownBuckets
      .filter((name) => host.startsWith(`${name}.`))
      .sort((a, b) => b.length - a.length)[0];
    const awsStyle = /^(.+)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$/.exec(host)?.[1];
    const isIp = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[');
    const firstLabel = !isIp && host.split('.').length > 1 ? host.split('.')[0] : undefined;
    bucket = known ?? awsStyle ?? firstLabel ?? null;
  }
  const query = request.query;
  if (bucket === null) {
    return { bucket, operation: request.method === 'GET' ? 'ListBuckets' : `${request.method} /` };
  }
  if (request.method === 'GET' && query.has('encryption')) {
    return { bucket, operation: 'GetBucketEncryption' };
  }
  if (request.method === 'GET' && query.has('location')) {
    return { bucket, operation: 'GetBucketLocation' };
  }
  return { bucket, operation: `${request.method} bucket` };
}

function listBuckets(world: InventoryWorld, request: InventoryRequest) {
  const query = request.query;
  const maxText = query.get('max-buckets');
  const max = integerParameter(maxText ?? undefined);
  if (max !== undefined && (Number.isNaN(max) || max < 1 || max > MAX_BUCKETS)) {
    throw new ServiceError(
      'InvalidArgument',
      `Argument max-buckets must be an integer between 1 and ${MAX_BUCKETS}.`,
    );
  }
  const region = query.get('bucket-region');
  const prefix = query.get('prefix') ?? '';
  const token = query.get('continuation-token');
  const paged = max !== undefined || region !== null || query.has('prefix') || token !== null;
  let after: string | undefined;
  try {
    after = token ? decodeToken('ListBuckets', token) : undefined;
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      throw new ServiceError('InvalidArgument', 'The continuation token provided is incorrect');
    }
    throw error;
  }
  const buckets = world
    .of('AWS::S3::Bucket', null)
    .filter((bucket) => (region === null || bucket.region === region) && bucket.id.startsWith(prefix));
  const page = pageAfter(
    buckets,
    (bucket) => bucket.id,
    after,
    paged ? (max ?? MAX_BUCKETS) : buckets.length,
  );
  return xmlAnswer(
    200,
    'ListAllMyBucketsResult',
    {
      Owner: { ID: canonicalUserId(world.account) },
      Buckets: new XmlList(
        'Bucket',
        page.items.map((bucket) => ({
          Name: bucket.id,
          CreationDate: bucket.createdAt,
          BucketRegion: bucket.region,
          // `BucketArn` "is only supported for S3 directory buckets": general purpose buckets have none.
        })),
      ),
      ContinuationToken: page.after === undefined ? undefined : encodeToken('ListBuckets', page.after),
      Prefix: query.has('prefix') ? prefix : undefined,
    },
    NAMESPACE,
    request.requestId,
    'application/xml',
  );
}

class NoSuchBucketError extends ServiceError {
  constructor(readonly bucket: string) {
    super('NoSuchBucket', 'The specified bucket does not exist', 404);
  }
}

class PermanentRedirectError extends ServiceError {
  constructor(
    readonly bucket: string,
    readonly region: string,
  ) {
    super(
      'PermanentRedirect',
      'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
      301,
    );
  }
}

function ownBucket(world: InventoryWorld, name: string, region: string): ProtectedResource {
  const bucket = world.find('AWS::S3::Bucket', name, null);
  if (!bucket) {
    throw new NoSuchBucketError(name);
  }
  if (bucket.region !== region) {
    throw new PermanentRedirectError(name, bucket.region);
  }
  return bucket;
}

export const s3Service: InventoryServiceHandler = {
  operationOf(request) {
    return address(request, []).operation;
  },

  serve(world, request) {
    const names = world.of('AWS::S3::Bucket', null).map((resource) => resource.id);
    const { bucket, operation } = address(request, names);
    if (operation === 'ListBuckets') {
      return listBuckets(world, request);
    }
    if (bucket !== null && operation === 'GetBucketEncryption') {
      const own = ownBucket(world, bucket, request.region);
      return xmlAnswer(
        200,
        'ServerSideEncryptionConfiguration',
        {
          Rule: {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: keyReference(own, ['keyArn', 'keyId', 'aliasName']),
            },
            BucketKeyEnabled: true,
          },
        },
        NAMESPACE,
        request.requestId,
        'application/xml',
      );
    }
    if (bucket !== null && operation === 'GetBucketLocation') {
      const own = world.find('AWS::S3::Bucket', bucket, null);
      if (!own) {
        throw new NoSuchBucketError(bucket);
      }
      // us-east-1 buckets have no location constraint: the element is empty.
      return xmlAnswer(
        200,
        'LocationConstraint',
        own.region === 'us-east-1' ? '' : own.region,
        NAMESPACE,
        request.requestId,
        'application/xml',
      );
    }
    throw new ServiceError(
      'NotImplemented',
      `The emulated S3 does not implement ${operation}: A header you provided implies functionality that is not implemented.`,
      501,
    );
  },

  errorAnswer(error, request) {
    if (error instanceof NoSuchBucketError) {
      return s3ErrorAnswer(error, request.requestId, { BucketName: error.bucket });
    }
    if (error instanceof PermanentRedirectError) {
      const answer = s3ErrorAnswer(error, request.requestId, {
        Endpoint: `s3.${error.region}.amazonaws.com`,
        Bucket: error.bucket,
      });
      return { ...answer, headers: { ...answer.headers, 'x-amz-bucket-region': error.region } };
    }
    return s3ErrorAnswer(error, request.requestId);
  },
};
