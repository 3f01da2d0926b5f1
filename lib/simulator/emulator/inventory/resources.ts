import { createHash } from 'node:crypto';
import { deterministicUuid } from '../cloudtrail.js';
import type { KeyUsabilityHistory } from '../key-usability.js';

/**
 * The resources of the emulated account whose data is encrypted under a KMS key (a scenario's
 * `keys[].protects`), as each service's read APIs report them. Nothing here knows a wire protocol:
 * the service modules next to this one shape and page these records the way their service does.
 */

/** CloudFormation type names, as the scenario format spells them (`$defs/resourceType`). */
export const RESOURCE_TYPES = [
  'AWS::EC2::Volume',
  'AWS::EC2::Snapshot',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBSnapshot',
  'AWS::RDS::DBClusterSnapshot',
  'AWS::S3::Bucket',
  'AWS::Backup::RecoveryPoint',
  'AWS::SecretsManager::Secret',
  'AWS::SSM::Parameter',
  'AWS::DynamoDB::Table',
  'AWS::EFS::FileSystem',
  'AWS::Logs::LogGroup',
  'AWS::CloudTrail::Trail',
] as const;

export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** The key a resource is encrypted under, with every name a service may report it by. */
export interface ProtectingKey {
  readonly keyId: string;
  readonly arn: string;
  /** Alias names (`alias/...`) of the key when the scenario starts. */
  readonly aliases: readonly string[];
}

export interface ProtectedResource {
  readonly type: ResourceType;
  /** The resource's own identifier (vol-..., a bucket name, a secret name, ...). */
  readonly id: string;
  readonly arn: string;
  readonly createdAt: Date;
  /** The resource lives in its key's Region (KMS keys encrypt only in their own Region). */
  readonly region: string;
  /** AWS Config records it (its configuration items exist). */
  readonly recordedByConfig: boolean;
  readonly key: ProtectingKey;
}

/**
 * "1 to 63 letters, numbers, or hyphens; first character must be a letter; can't end with a hyphen
 * or contain two consecutive hyphens", "stored as a lowercase string" (RDS API reference,
 * DBInstanceIdentifier): an identifier written with capitals would be reported differently.
 */
const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/;
/** Automated snapshots are named `rds:<db>-<date>`. */
const RDS_SNAPSHOT_IDENTIFIER = /^(?:rds:)?[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$/;
const RDS_FORM = 'a lower-case letter, then lower-case letters, digits and single hyphens';

/**
 * What a scenario may write as a resource ID, per type: the services' own documented forms. A
 * scenario with `my-volume` for an EBS volume describes something AWS cannot hold, and the bucket
 * name also travels in the request path or host, so it is refused before the run.
 */
const ID_FORMS: Readonly<Record<ResourceType, { readonly pattern: RegExp; readonly form: string }>> = {
  'AWS::EC2::Volume': { pattern: /^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, form: 'vol- and 8 or 17 hex digits' },
  'AWS::EC2::Snapshot': {
    pattern: /^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$/,
    form: 'snap- and 8 or 17 hex digits',
  },
  'AWS::RDS::DBInstance': { pattern: RDS_IDENTIFIER, form: RDS_FORM },
  'AWS::RDS::DBCluster': { pattern: RDS_IDENTIFIER, form: RDS_FORM },
  'AWS::RDS::DBSnapshot': { pattern: RDS_SNAPSHOT_IDENTIFIER, form: RDS_FORM },
  'AWS::RDS::DBClusterSnapshot': { pattern: RDS_SNAPSHOT_IDENTIFIER, form: RDS_FORM },
  'AWS::S3::Bucket': {
    pattern: /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    form: '3 to 63 lower-case letters, digits, dots and hyphens',
  },
  'AWS::Backup::RecoveryPoint': { pattern: /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,1023}$/, form: 'an identifier' },
  'AWS::SecretsManager::Secret': {
    pattern: /^[A-Za-z0-9/_+=.@-]{1,512}$/,
    form: 'up to 512 letters, digits and /_+=.@-',
  },
  'AWS::SSM::Parameter': {
    pattern: /^(?!\/?aws)(?!\/?ssm)[A-Za-z0-9_./-]{1,2048}$/i,
    form: 'letters, digits and _.-/, not starting with aws or ssm',
  },
  'AWS::DynamoDB::Table': { pattern: /^[A-Za-z0-9_.-]{3,255}$/, form: '3 to 255 letters, digits and _.-' },
  'AWS::EFS::FileSystem': { pattern: /^fs-[0-9a-f]{8,40}$/, form: 'fs- and 8 to 40 hex digits' },
  'AWS::Logs::LogGroup': {
    pattern: /^[.\-_/#A-Za-z0-9]{1,512}$/,
    form: 'up to 512 of .-_/# letters and digits',
  },
  'AWS::CloudTrail::Trail': {
    pattern: /^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,126})[A-Za-z0-9]$/,
    form: '3 to 128 letters, digits and ._-, starting and ending with a letter or digit',
  },
};

/** Null when `id` is a form the service accepts for `type`, else the form expected. */
export function invalidIdForm(type: ResourceType, id: string): string | null {
  const { pattern, form } = ID_FORMS[type];
  return pattern.test(id) ? null : form;
}

/** A stable 32-bit number of some text, for choices that must not change between runs. */
export function stableHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/** Secrets Manager appends six random characters to a secret's name in its ARN. */
function secretSuffix(account: string, region: string, name: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const digest = createHash('sha256').update(`${account}|${region}|${name}`).digest();
  return Array.from(digest.subarray(0, 6), (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * The resource's ARN as the service forms it (each service's "resource types" table in the
 * Service Authorization Reference): EBS snapshots carry no account, S3 buckets neither account nor
 * Region, an SSM parameter name's leading slash is not repeated after `parameter`.
 */
export function defaultArn(type: ResourceType, id: string, account: string, region: string): string {
  switch (type) {
    case 'AWS::EC2::Volume':
      return `arn:aws:ec2:${region}:${account}:volume/${id}`;
    case 'AWS::EC2::Snapshot':
      return `arn:aws:ec2:${region}::snapshot/${id}`;
    case 'AWS::RDS::DBInstance':
      return `arn:aws:rds:${region}:${account}:db:${id}`;
    case 'AWS::RDS::DBCluster':
      return `arn:aws:rds:${region}:${account}:cluster:${id}`;
    case 'AWS::RDS::DBSnapshot':
      return `arn:aws:rds:${region}:${account}:snapshot:${id}`;
    case 'AWS::RDS::DBClusterSnapshot':
      return `arn:aws:rds:${region}:${account}:cluster-snapshot:${id}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${id}`;
    case 'AWS::Backup::RecoveryPoint':
      return `arn:aws:backup:${region}:${account}:recovery-point:${id}`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${region}:${account}:secret:${id}-${secretSuffix(account, region, id)}`;
    case 'AWS::SSM::Parameter':
      return `arn:aws:ssm:${region}:${account}:parameter/${id.replace(/^\//, '')}`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${region}:${account}:table/${id}`;
    case 'AWS::EFS::FileSystem':
      return `arn:aws:elasticfilesystem:${region}:${account}:file-system/${id}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${region}:${account}:log-group:${id}`;
    case 'AWS::CloudTrail::Trail':
      return `arn:aws:cloudtrail:${region}:${account}:trail/${id}`;
  }
}

/** The ways a service that keeps the caller's own key reference may report it. */
export type KeyForm = 'keyArn' | 'keyId' | 'aliasName' | 'aliasArn';

/**
 * The key reference a service reports for a resource whose configuration holds whatever the owner
 * wrote (S3 `KMSMasterKeyID`: "the key ID, key alias, or the ARN"; SSM `KeyId`: the alias or key
 * the parameter was written with). The scenario format names the key, not how the owner wrote it,
 * so the form is chosen by a stable hash of the resource among `forms` (alias forms only when the
 * key has an alias): deterministic, and a reader that matches only ARNs meets the other forms.
 */
export function keyReference(resource: ProtectedResource, forms: readonly KeyForm[]): string {
  const alias = [...resource.key.aliases].sort()[0];
  const usable = forms.filter((form) => alias !== undefined || (form !== 'aliasName' && form !== 'aliasArn'));
  const form = usable[stableHash(`${resource.type}|${resource.id}`) % usable.length] ?? 'keyArn';
  switch (form) {
    case 'keyId':
      return resource.key.keyId;
    case 'aliasName':
      return alias ?? resource.key.arn;
    case 'aliasArn':
      return alias === undefined ? resource.key.arn : resource.key.arn.replace(/key\/.+$/, alias);
    default:
      return resource.key.arn;
  }
}

/** A page of a sorted list and the sort key to continue after, when more remain. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly after: string | undefined;
}

/** Items sorted by `keyOf` after `after` (exclusive), at most `limit` of them. */
export function pageAfter<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  after: string | undefined,
  limit: number,
): Page<T> {
  const rest = after === undefined ? items : items.filter((item) => keyOf(item) > after);
  const page = rest.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, after: rest.length > limit && last !== undefined ? keyOf(last) : undefined };
}

/** A continuation token the emulator issued; `InvalidTokenError` for any other text. */
export class InvalidTokenError extends Error {
  constructor(readonly token: string) {
    super(`The token '${token}' was not issued by this operation`);
    this.name = 'InvalidTokenError';
  }
}

/** An opaque token naming where a listing continues; `scope` ties it to one listing. */
export function encodeToken(scope: string, after: string): string {
  return Buffer.from(JSON.stringify({ s: scope, a: after })).toString('base64url');
}

export function decodeToken(scope: string, token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      s?: unknown;
      a?: unknown;
    };
    if (parsed.s === scope && typeof parsed.a === 'string') {
      return parsed.a;
    }
  } catch {
    // Falls through: a token this listing did not issue.
  }
  throw new InvalidTokenError(token);
}

/**
 * The data-at-rest resources of the emulated account, by type and Region. Log groups and trails
 * are not kept here: CloudWatch Logs and CloudTrail serve them (the account routes them there).
 */
export class InventoryWorld {
  private readonly resources: ProtectedResource[] = [];
  private requests = 0;

  /**
   * @param keys when each key was usable, for services whose resources change state when their
   *   key becomes unusable (a DynamoDB table becomes inaccessible, then archived).
   */
  constructor(
    readonly account: string,
    readonly keys: KeyUsabilityHistory,
  ) {}

  add(resource: ProtectedResource): void {
    const clash = this.resources.find((other) => other.type === resource.type && other.id === resource.id);
    if (clash && (resource.type === 'AWS::S3::Bucket' || clash.region === resource.region)) {
      throw new Error(`${resource.type} ${resource.id} is already in the account`);
    }
    this.resources.push(resource);
  }

  /** The resources of `type` in `region` (every Region when null), sorted by ID. */
  of(type: ResourceType, region: string | null): ProtectedResource[] {
    return this.resources
      .filter((resource) => resource.type === type && (region === null || resource.region === region))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  find(type: ResourceType, id: string, region: string | null): ProtectedResource | undefined {
    return this.of(type, region).find((resource) => resource.id === id);
  }

  all(): readonly ProtectedResource[] {
    return this.resources;
  }

  /** A request ID per answer, deterministic for a given sequence of requests. */
  nextRequestId(): string {
    this.requests += 1;
    return deterministicUuid(this.account, 'inventory-request', this.requests);
  }
}
