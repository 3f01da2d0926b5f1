import { createHash } from 'node:crypto';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import { HOUR_MS } from '../../../lambdas/domain/time.js';

/**
 * CloudTrail records in the shape CloudTrail delivers them to CloudWatch Logs (event version
 * 1.08), so the handlers' matcher and filter patterns meet the same fields they meet in AWS.
 */
export interface UserIdentity {
  /** Absent in the service events KMS writes for itself (`DeleteKey` at the end of the waiting period). */
  readonly type?: 'AssumedRole' | 'IAMUser' | 'Root' | 'AWSService';
  readonly principalId?: string;
  readonly arn?: string;
  readonly accountId?: string;
  readonly accessKeyId?: string;
  readonly userName?: string;
  readonly invokedBy?: string;
  readonly sessionContext?: {
    readonly sessionIssuer: {
      readonly type: 'Role';
      readonly principalId: string;
      readonly arn: string;
      readonly accountId: string;
      readonly userName: string;
    };
    readonly attributes: { readonly creationDate: string; readonly mfaAuthenticated: 'false' };
  };
}

export interface EmulatedRecord {
  readonly eventVersion: '1.08';
  readonly userIdentity: UserIdentity;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly awsRegion: string;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestParameters: Record<string, unknown> | null;
  readonly responseElements: Record<string, unknown> | null;
  /** Absent in service events. */
  readonly requestID?: string;
  readonly eventID: string;
  readonly readOnly: boolean;
  readonly resources?: readonly { readonly accountId: string; readonly type: string; readonly ARN: string }[];
  /** `AwsServiceEvent`: what a service did on its own, such as KMS deleting a key. */
  readonly eventType: 'AwsApiCall' | 'AwsServiceEvent';
  readonly managementEvent: true;
  readonly recipientAccountId: string;
  readonly eventCategory: 'Management';
}

/** Compile-time proof that what the emulator writes is what the domain reads. */
export const asDomainRecord = (record: EmulatedRecord): CloudTrailRecord => record;

/** `2026-01-01T00:00:00Z`: CloudTrail's eventTime has whole seconds. */
export function eventTimeOf(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** A UUID-shaped identifier that is a pure function of its inputs (same scenario, same IDs). */
export function deterministicUuid(...parts: readonly (string | number)[]): string {
  const hex = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Principals are few and recur in every record; their derived IDs are computed once. */
const suffixes = new Map<string, string>();

function idSuffix(seed: string, length: number): string {
  const cacheKey = `${length}|${seed}`;
  let suffix = suffixes.get(cacheKey);
  if (suffix === undefined) {
    suffix = createHash('sha1').update(seed).digest('hex').toUpperCase().slice(0, length);
    suffixes.set(cacheKey, suffix);
  }
  return suffix;
}

/**
 * The identity CloudTrail shows for a principal. A role is seen through its session
 * (`assumed-role/<role>/<session>`, session named after the role as Lambda does with its
 * function), with the role's own ARN as the session issuer.
 */
export function userIdentityFor(principalArn: string, callerAccount: string, at: Date): UserIdentity {
  const role = /^arn:([^:]+):iam::(\d*):role\/(?:(.*)\/)?([^/]+)$/.exec(principalArn);
  const session = /^arn:([^:]+):sts::(\d*):assumed-role\/([^/]+)\/(.+)$/.exec(principalArn);
  if (role || session) {
    const partition = (role ?? session)?.[1] ?? 'aws';
    const account = (role ?? session)?.[2] || callerAccount;
    const roleName = role ? (role[4] ?? '') : (session?.[3] ?? '');
    const sessionName = session?.[4] ?? roleName;
    const issuerArn = role ? principalArn : `arn:${partition}:iam::${account}:role/${roleName}`;
    const roleId = `AROA${idSuffix(issuerArn, 17)}`;
    const created = new Date(at);
    created.setUTCMinutes(0, 0, 0);
    return {
      type: 'AssumedRole',
      principalId: `${roleId}:${sessionName}`,
      arn: `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`,
      accountId: account,
      accessKeyId: `ASIA${idSuffix(`${issuerArn}:${sessionName}`, 16)}`,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: roleId,
          arn: issuerArn,
          accountId: account,
          userName: roleName,
        },
        attributes: { creationDate: eventTimeOf(created), mfaAuthenticated: 'false' },
      },
    };
  }
  const user = /^arn:[^:]+:iam::(\d*):user\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  if (user) {
    const account = user[1] || callerAccount;
    return {
      type: 'IAMUser',
      principalId: `AIDA${idSuffix(principalArn, 17)}`,
      arn: principalArn,
      accountId: account,
      accessKeyId: `AKIA${idSuffix(`${principalArn}:key`, 16)}`,
      userName: user[2] ?? '',
    };
  }
  const root = /^arn:[^:]+:iam::(\d*):root$/.exec(principalArn);
  if (root) {
    return {
      type: 'Root',
      principalId: root[1] || callerAccount,
      arn: principalArn,
      accountId: root[1] || callerAccount,
    };
  }
  return { type: 'AWSService', invokedBy: principalArn };
}

/** The account a principal ARN belongs to, when it names one. */
export function accountOfPrincipal(principalArn: string): string | undefined {
  const match = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principalArn);
  return match?.[1];
}

/** A UUID-shaped identifier drawn from a seeded generator (cheaper than hashing, for bulk noise). */
function randomUuid(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 4; i += 1) {
    hex += Math.floor(random() * 4_294_967_296)
      .toString(16)
      .padStart(8, '0');
  }
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Mulberry32: small, fast and the same on every Node version. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const APP_USER_AGENTS = [
  'aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE',
  'Boto3/1.34.120 md/Botocore#1.34.120 ua/2.0 os/linux#5.10.219 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.120',
  'aws-sdk-go-v2/1.27.0 os/linux lang/go#1.22.3 md/GOOS#linux md/GOARCH#amd64 api/kms#1.32.1',
  'aws-cli/2.15.58 md/awscrt#0.19.19 ua/2.0 os/linux#5.10.218 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython exec-env/CloudShell cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2 md/prompt#off md/command#kms.decrypt',
];

/** A stable user agent and private source address per principal, as a caller inside a VPC shows. */
export function appClientOf(principalArn: string): { userAgent: string; sourceIp: string } {
  const digest = createHash('sha1').update(principalArn).digest();
  const agent = APP_USER_AGENTS[(digest[0] ?? 0) % APP_USER_AGENTS.length] ?? 'aws-sdk-java/2.25.60';
  return { userAgent: agent, sourceIp: `10.${digest[1] ?? 0}.${digest[2] ?? 0}.${(digest[3] ?? 0) | 1}` };
}

export interface BackgroundKind {
  readonly weight: number;
  readonly eventSource: string;
  readonly eventName: string;
  readonly readOnly: boolean;
  readonly kms: boolean;
  readonly errorCode?: 'DisabledException' | 'KMSInvalidStateException' | 'AccessDeniedException';
}

export const BACKGROUND_KINDS: readonly BackgroundKind[] = [
  { weight: 26, eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', readOnly: true, kms: true },
  { weight: 10, eventSource: 'kms.amazonaws.com', eventName: 'GenerateDataKey', readOnly: true, kms: true },
  { weight: 6, eventSource: 'kms.amazonaws.com', eventName: 'Encrypt', readOnly: true, kms: true },
  { weight: 3, eventSource: 'kms.amazonaws.com', eventName: 'DescribeKey', readOnly: true, kms: true },
  {
    weight: 2,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    readOnly: true,
    kms: true,
    errorCode: 'DisabledException',
  },
  {
    weight: 1,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Encrypt',
    readOnly: true,
    kms: true,
    errorCode: 'KMSInvalidStateException',
  },
  { weight: 18, eventSource: 'sts.amazonaws.com', eventName: 'AssumeRole', readOnly: true, kms: false },
  {
    weight: 12,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    readOnly: true,
    kms: false,
  },
  { weight: 8, eventSource: 's3.amazonaws.com', eventName: 'GetBucketAcl', readOnly: true, kms: false },
  { weight: 6, eventSource: 'logs.amazonaws.com', eventName: 'CreateLogStream', readOnly: false, kms: false },
  { weight: 5, eventSource: 'iam.amazonaws.com', eventName: 'GetRole', readOnly: true, kms: false },
  {
    weight: 3,
    eventSource: 'iam.amazonaws.com',
    eventName: 'GetRole',
    readOnly: true,
    kms: false,
    errorCode: 'AccessDeniedException',
  },
];

const TOTAL_WEIGHT = BACKGROUND_KINDS.reduce((sum, kind) => sum + kind.weight, 0);

export interface BackgroundContext {
  readonly account: string;
  readonly region: string;
  /** Key IDs of the account's emulated keys: noise must never name them. */
  readonly reservedKeyIds: ReadonlySet<string>;
  /** Aliases of the emulated keys; noise names aliases that only start like them. */
  readonly aliases: readonly string[];
}

/**
 * Records of unrelated keys and services. Some are `DisabledException` on OTHER keys, and some name
 * an alias that merely starts like a real one (`alias/<n>-other`), so a query that is too broad
 * shows up as false evidence and one that scans too much shows up in the scan counts.
 */
export function backgroundRecords(
  n: number,
  from: Date,
  to: Date,
  seed: number,
  context: BackgroundContext,
): { record: EmulatedRecord; at: Date }[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const otherKeys: string[] = [];
  for (let i = 0; otherKeys.length < 40; i += 1) {
    const id = deterministicUuid('background-key', seed, i);
    if (!context.reservedKeyIds.has(id)) {
      otherKeys.push(id);
    }
  }
  const principals = ['app', 'batch', 'etl', 'reporting', 'billing', 'search', 'ci-deployer'].map(
    (role) => `arn:aws:iam::${context.account}:role/${role}`,
  );
  const clients = new Map(principals.map((principal) => [principal, appClientOf(principal)]));
  // One identity per principal and hour: the session's creationDate is all that differs.
  const identities = new Map<string, UserIdentity>();
  const identityAt = (principal: string, at: Date): UserIdentity => {
    const cacheKey = `${principal}|${Math.floor(at.getTime() / HOUR_MS)}`;
    let identity = identities.get(cacheKey);
    if (!identity) {
      identity = userIdentityFor(principal, context.account, at);
      identities.set(cacheKey, identity);
    }
    return identity;
  };
  const span = Math.max(0, to.getTime() - from.getTime());
  const out: { record: EmulatedRecord; at: Date }[] = [];
  // Times drawn first and sorted, so the records arrive in time order and the log store merges them.
  const times = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    times[i] = from.getTime() + Math.floor(random() * (span + 1));
  }
  times.sort();
  for (let i = 0; i < n; i += 1) {
    const at = new Date(times[i] as number);
    let roll = random() * TOTAL_WEIGHT;
    let kind = BACKGROUND_KINDS[0] as BackgroundKind;
    for (const candidate of BACKGROUND_KINDS) {
      roll -= candidate.weight;
      if (roll < 0) {
        kind = candidate;
        break;
      }
    }
    const principal = pick(principals);
    const client = clients.get(principal) ?? appClientOf(principal);
    const keyId = pick(otherKeys);
    const keyArn = `arn:aws:kms:${context.region}:${context.account}:key/${keyId}`;
    const byAlias = kind.kms && random() < 0.2;
    const lookalike =
      context.aliases.length > 0 ? `${pick(context.aliases)}-other` : `alias/${keyId.slice(0, 4)}`;
    const sentKeyId = byAlias ? lookalike : keyId;
    const errorMessage =
      kind.errorCode === 'DisabledException'
        ? `${keyArn} is disabled.`
        : kind.errorCode === 'KMSInvalidStateException'
          ? `${keyArn} is pending deletion.`
          : kind.errorCode === 'AccessDeniedException'
            ? `User: ${principal} is not authorized to perform: iam:GetRole`
            : undefined;
    const record: EmulatedRecord = {
      eventVersion: '1.08',
      userIdentity: identityAt(principal, at),
      eventTime: eventTimeOf(at),
      eventSource: kind.eventSource,
      eventName: kind.eventName,
      awsRegion: context.region,
      sourceIPAddress: kind.eventSource === 'sts.amazonaws.com' ? 'lambda.amazonaws.com' : client.sourceIp,
      userAgent: client.userAgent,
      ...(kind.errorCode !== undefined && errorMessage !== undefined
        ? { errorCode: kind.errorCode, errorMessage }
        : {}),
      requestParameters: kind.kms
        ? {
            keyId: sentKeyId,
            ...(kind.eventName === 'DescribeKey' ? {} : { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
          }
        : kind.eventName === 'GetRole'
          ? { roleName: pick(['app', 'batch', 'etl']) }
          : null,
      responseElements: null,
      requestID: randomUuid(random),
      eventID: randomUuid(random),
      readOnly: kind.readOnly,
      ...(kind.kms
        ? { resources: [{ accountId: context.account, type: 'AWS::KMS::Key', ARN: keyArn }] }
        : {}),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: context.account,
      eventCategory: 'Management',
    };
    out.push({ record, at });
  }
  return out;
}
