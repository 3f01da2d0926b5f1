import { createHash } from 'node:crypto';
import { KeyLastUsageTrackingOperation } from '@aws-sdk/client-kms';
import { DAY_MS } from '../../../lambdas/domain/time.js';
import { deterministicUuid } from './cloudtrail.js';
import { AwsError, validationError } from './errors.js';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion';
/** `Deleted` is never a KMS answer (the key is gone); only the inspection methods report it. */
export type InspectedKeyState = KeyState | 'Deleted';

/**
 * The operations whose success `GetKeyLastUsage` tracks, from the KMS service model itself rather
 * than the domain's copy, so the emulator checks the domain instead of repeating it.
 */
export const TRACKED_OPERATIONS: ReadonlySet<string> = new Set(Object.values(KeyLastUsageTrackingOperation));

export interface KeyUsageRecord {
  readonly operation: string;
  readonly at: Date;
  readonly cloudTrailEventId: string;
  readonly kmsRequestId: string;
}

/** A grant on a key, as a scenario writes it. */
export interface GrantOptions {
  readonly granteePrincipal: string;
  readonly retiringPrincipal?: string | undefined;
  readonly operations: readonly string[];
  readonly name?: string | undefined;
  /** Default: the key's creation. */
  readonly createdAt?: Date | undefined;
  readonly encryptionContextSubset?: Readonly<Record<string, string>> | undefined;
}

export interface AddKeyOptions {
  readonly keyId: string;
  /** Defaults to the account's Region. */
  readonly region?: string | undefined;
  readonly createdAt: Date;
  /** Defaults to `createdAt`. */
  readonly trackingStartDate?: Date | undefined;
  /** The last successful cryptographic use before the simulation starts. */
  readonly lastUsage?:
    | {
        readonly operation: string;
        readonly at: Date;
        readonly cloudTrailEventId?: string | undefined;
        readonly kmsRequestId?: string | undefined;
      }
    | null
    | undefined;
  readonly state?: KeyState | undefined;
  /** For a key created pending deletion; defaults to 30 days after the clock at `addKey`. */
  readonly deletionDate?: Date | undefined;
  readonly manager?: 'CUSTOMER' | 'AWS' | undefined;
  readonly aliases?: readonly string[] | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly keySpec?: string | undefined;
  readonly keyUsage?: string | undefined;
  readonly description?: string | undefined;
  readonly multiRegion?:
    | {
        readonly role: 'PRIMARY' | 'REPLICA';
        readonly replicaRegions?: readonly string[] | undefined;
        readonly primaryRegion?: string | undefined;
      }
    | undefined;
  readonly grants?: readonly GrantOptions[] | undefined;
  /** The key policy document; default: KMS's default key policy (the account may do kms:*). */
  readonly keyPolicy?: Readonly<Record<string, unknown>> | undefined;
}

export interface EmulatedKey {
  readonly keyId: string;
  readonly region: string;
  readonly arn: string;
  readonly createdAt: Date;
  readonly trackingStartDate: Date;
  lastUsage: KeyUsageRecord | null;
  state: KeyState;
  deletionDate: Date | null;
  pendingWindowInDays: number | null;
  deletedAt: Date | null;
  readonly manager: 'CUSTOMER' | 'AWS';
  readonly tags: Map<string, string>;
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly description: string;
  readonly multiRegion:
    | { readonly role: 'PRIMARY' | 'REPLICA'; replicaRegions: string[]; readonly primaryRegion: string }
    | undefined;
  readonly grants: readonly EmulatedGrant[];
  /** The key policy as GetKeyPolicy returns it (a JSON document in a string). */
  readonly policy: string;
}

export interface EmulatedGrant {
  readonly grantId: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly granteePrincipal: string;
  readonly retiringPrincipal: string | undefined;
  readonly operations: readonly string[];
  readonly encryptionContextSubset: Readonly<Record<string, string>> | undefined;
}

/**
 * The key policy KMS gives a key created without one ("Default key policy", KMS developer guide):
 * the account's root principal may do everything, so IAM policies decide.
 */
export function defaultKeyPolicy(account: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

export interface KeySnapshot {
  readonly keyId: string;
  readonly arn: string;
  readonly region: string;
  readonly state: InspectedKeyState;
  readonly deletionDate: Date | null;
  readonly deletedAt: Date | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly aliases: readonly string[];
  readonly lastUsage: KeyUsageRecord | null;
}

export interface KmsCaller {
  readonly principalArn: string;
  readonly account: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly region: string;
}

/** What one call learns on its way, for its CloudTrail record and for GetKeyLastUsage. */
export interface KmsCallContext {
  readonly now: Date;
  readonly caller: KmsCaller;
  readonly eventId: string;
  readonly requestId: string;
  /** Keys the call resolved (the record's `resources`), in the order resolved. */
  readonly resources: EmulatedKey[];
  /** Keys a successful call used cryptographically. */
  readonly used: EmulatedKey[];
  /** Set for the operations whose record carries `responseElements`. */
  responseElements: Record<string, unknown> | null;
}

/** What the emulated KMS knows of an operation it serves. */
interface KmsOperation {
  readonly serve: (
    kms: KmsService,
    request: Record<string, unknown>,
    ctx: KmsCallContext,
  ) => Record<string, unknown>;
  /** CloudTrail logs it with `readOnly: false`. */
  readonly write?: true;
  /** A caller of another account may call it with our key's ARN (the key policy permitting). */
  readonly crossAccount?: true;
}

interface Alias {
  readonly name: string;
  readonly region: string;
  readonly key: EmulatedKey;
  readonly createdAt: Date;
}

const KEY_ID_FORM = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/i;
const KMS_ARN = /^arn:([^:]+):kms:([^:]*):([^:]*):(key|alias)\/(.+)$/;

function defaultKeyUsage(keySpec: string): string {
  if (keySpec.startsWith('HMAC_')) return 'GENERATE_VERIFY_MAC';
  if (keySpec.startsWith('ECC_') || keySpec === 'SM2' || keySpec.startsWith('ML_DSA')) return 'SIGN_VERIFY';
  return 'ENCRYPT_DECRYPT';
}

function algorithmsOf(key: EmulatedKey): Record<string, string[]> {
  if (key.keyUsage === 'KEY_AGREEMENT') {
    return { KeyAgreementAlgorithms: ['ECDH'] };
  }
  if (key.keyUsage === 'GENERATE_VERIFY_MAC') {
    return { MacAlgorithms: [`HMAC_SHA_${key.keySpec.replace('HMAC_', '')}`] };
  }
  if (key.keyUsage === 'SIGN_VERIFY') {
    if (key.keySpec.startsWith('RSA_')) {
      return {
        SigningAlgorithms: [
          'RSASSA_PKCS1_V1_5_SHA_256',
          'RSASSA_PKCS1_V1_5_SHA_384',
          'RSASSA_PKCS1_V1_5_SHA_512',
          'RSASSA_PSS_SHA_256',
          'RSASSA_PSS_SHA_384',
          'RSASSA_PSS_SHA_512',
        ],
      };
    }
    const bits = /P(\d+)/.exec(key.keySpec)?.[1];
    const sha = bits === '384' ? '384' : bits === '521' ? '512' : '256';
    return { SigningAlgorithms: [`ECDSA_SHA_${sha}`] };
  }
  return key.keySpec === 'SYMMETRIC_DEFAULT'
    ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }
    : { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] };
}

/** The default algorithm a caller names for a key (used to build application requests). */
export function defaultAlgorithm(key: EmulatedKey): string {
  const first = Object.values(algorithmsOf(key))[0]?.[0];
  return first ?? 'SYMMETRIC_DEFAULT';
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function stringField(request: Record<string, unknown>, name: string): string | undefined {
  const value = request[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new AwsError('SerializationException', `Unexpected value for ${name}`);
  }
  return value;
}

function requiredString(request: Record<string, unknown>, name: string): string {
  const value = stringField(request, name);
  if (value === undefined || value === '') {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    throw validationError(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function integerField(request: Record<string, unknown>, name: string): number | undefined {
  const value = request[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AwsError('SerializationException', `Unexpected value for ${name}`);
  }
  return value;
}

function blobField(request: Record<string, unknown>, name: string): Buffer {
  return Buffer.from(requiredString(request, name), 'base64');
}

function digest(...parts: readonly string[]): Buffer {
  return createHash('sha256').update(parts.join('|')).digest();
}

/** The emulator's signature of a base64 message: what Verify accepts for that key. */
export function signatureFor(keyArn: string, message: string): string {
  return digest(keyArn, message).toString('base64');
}

/** The emulator's MAC of a base64 message: what VerifyMac accepts for that key. */
export function macFor(keyArn: string, message: string): string {
  return digest('mac', keyArn, message).toString('base64');
}

/** What Sign/Verify and GenerateMac/VerifyMac share: a digest of the message that names the key. */
interface DigestKind {
  readonly create: string;
  readonly verify: string;
  readonly usage: string;
  readonly algorithmField: string;
  readonly digestField: string;
  readonly validField: string;
  readonly invalidError: string;
  readonly digestOf: (keyArn: string, message: string) => string;
}

const SIGNATURE: DigestKind = {
  create: 'Sign',
  verify: 'Verify',
  usage: 'SIGN_VERIFY',
  algorithmField: 'SigningAlgorithm',
  digestField: 'Signature',
  validField: 'SignatureValid',
  invalidError: 'KMSInvalidSignatureException',
  digestOf: signatureFor,
};

const MAC: DigestKind = {
  create: 'GenerateMac',
  verify: 'VerifyMac',
  usage: 'GENERATE_VERIFY_MAC',
  algorithmField: 'MacAlgorithm',
  digestField: 'Mac',
  validField: 'MacValid',
  invalidError: 'KMSInvalidMacException',
  digestOf: macFor,
};

/** Pages a list with an opaque marker (the index of the next item). */
function page<T>(
  items: readonly T[],
  request: Record<string, unknown>,
  maxLimit: number,
  defaultLimit: number,
): { items: T[]; truncated: boolean; nextMarker?: string } {
  const limit = integerField(request, 'Limit') ?? defaultLimit;
  if (limit < 1 || limit > maxLimit) {
    throw validationError(
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${maxLimit}`,
    );
  }
  const marker = stringField(request, 'Marker');
  const start =
    marker === undefined ? 0 : Number.parseInt(Buffer.from(marker, 'base64url').toString('utf8'), 10);
  if (!Number.isInteger(start) || start < 0) {
    throw new AwsError('InvalidMarkerException', 'The marker is invalid.');
  }
  const slice = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  return {
    items: slice,
    truncated,
    ...(truncated ? { nextMarker: Buffer.from(String(start + limit)).toString('base64url') } : {}),
  };
}

function pagedResponse(
  listName: string,
  result: ReturnType<typeof page>,
  items: unknown[],
): Record<string, unknown> {
  return {
    [listName]: items,
    Truncated: result.truncated,
    ...(result.nextMarker !== undefined ? { NextMarker: result.nextMarker } : {}),
  };
}

/**
 * The KMS side of the account: keys, aliases and the operations the workflow and the
 * applications call, with the key state rules and error texts KMS itself answers with.
 */
export class KmsService {
  private readonly keys = new Map<string, EmulatedKey>();
  private readonly aliases = new Map<string, Alias>();
  private ciphertexts = 0;

  constructor(
    readonly account: string,
    readonly region: string,
  ) {}

  keyArn(keyId: string, region: string = this.region): string {
    return `arn:aws:kms:${region}:${this.account}:key/${keyId}`;
  }

  aliasArn(alias: string, region: string, account: string = this.account): string {
    return `arn:aws:kms:${region}:${account}:${alias}`;
  }

  addKey(options: AddKeyOptions, now: Date): EmulatedKey {
    const region = options.region ?? this.region;
    const id = `${region}/${options.keyId}`;
    if (this.keys.has(id)) {
      throw new Error(`Key ${options.keyId} already exists in ${region}`);
    }
    const keySpec = options.keySpec ?? 'SYMMETRIC_DEFAULT';
    const state = options.state ?? 'Enabled';
    const arn = this.keyArn(options.keyId, region);
    const trackingStart = options.trackingStartDate ?? options.createdAt;
    const last = options.lastUsage;
    const key: EmulatedKey = {
      keyId: options.keyId,
      region,
      arn,
      createdAt: options.createdAt,
      // "The date from which KMS began recording ..., or the date the KMS key was created, whichever is later."
      trackingStartDate: new Date(Math.max(trackingStart.getTime(), options.createdAt.getTime())),
      lastUsage: last
        ? {
            operation: last.operation,
            at: last.at,
            cloudTrailEventId: last.cloudTrailEventId ?? deterministicUuid('history-event', arn),
            kmsRequestId: last.kmsRequestId ?? deterministicUuid('history-request', arn),
          }
        : null,
      state,
      deletionDate:
        state === 'PendingDeletion' ? (options.deletionDate ?? new Date(now.getTime() + 30 * DAY_MS)) : null,
      pendingWindowInDays: state === 'PendingDeletion' || state === 'PendingReplicaDeletion' ? 30 : null,
      deletedAt: null,
      manager: options.manager ?? 'CUSTOMER',
      tags: new Map(Object.entries(options.tags ?? {})),
      keySpec,
      keyUsage: options.keyUsage ?? defaultKeyUsage(keySpec),
      description: options.description ?? '',
      multiRegion: options.multiRegion
        ? {
            role: options.multiRegion.role,
            replicaRegions: [...(options.multiRegion.replicaRegions ?? [])],
            primaryRegion:
              options.multiRegion.primaryRegion ??
              (options.multiRegion.role === 'PRIMARY'
                ? region
                : region === 'us-east-1'
                  ? 'us-west-2'
                  : 'us-east-1'),
          }
        : undefined,
      grants: (options.grants ?? []).map((grant, i) => ({
        // Grant IDs are 64 hex digits.
        grantId: digest('grant', arn, String(i)).toString('hex'),
        name: grant.name ?? '',
        createdAt: grant.createdAt ?? options.createdAt,
        granteePrincipal: grant.granteePrincipal,
        retiringPrincipal: grant.retiringPrincipal,
        operations: [...grant.operations],
        encryptionContextSubset: grant.encryptionContextSubset,
      })),
      policy: JSON.stringify(options.keyPolicy ?? defaultKeyPolicy(this.account), null, 2),
    };
    this.keys.set(id, key);
    for (const alias of options.aliases ?? []) {
      if (!alias.startsWith('alias/')) {
        throw new Error(`Alias ${alias} must start with alias/`);
      }
      this.aliases.set(`${region}/${alias}`, { name: alias, region, key, createdAt: options.createdAt });
    }
    return key;
  }

  /** Keys whose DeletionDate has passed are deleted, with their aliases. */
  settle(now: Date): void {
    for (const key of this.keys.values()) {
      if (
        key.state === 'PendingDeletion' &&
        key.deletedAt === null &&
        key.deletionDate &&
        key.deletionDate <= now
      ) {
        key.deletedAt = key.deletionDate;
      }
    }
    for (const [name, alias] of this.aliases) {
      if (alias.key.deletedAt !== null) {
        this.aliases.delete(name);
      }
    }
  }

  allKeys(): EmulatedKey[] {
    return [...this.keys.values()];
  }

  aliasesOf(key: EmulatedKey): string[] {
    return [...this.aliases.values()]
      .filter((alias) => alias.key === key)
      .map((alias) => alias.name)
      .sort();
  }

  /** Finds a key by ID, ARN, alias name or alias ARN without any error or state rule. */
  lookup(identifier: string, region: string = this.region): EmulatedKey | undefined {
    const arn = KMS_ARN.exec(identifier);
    if (arn) {
      const [, , arnRegion = '', account = '', kind, rest = ''] = arn;
      if (account !== this.account) return undefined;
      return kind === 'key'
        ? this.keys.get(`${arnRegion}/${rest}`)
        : this.aliases.get(`${arnRegion}/alias/${rest}`)?.key;
    }
    if (identifier.startsWith('alias/')) {
      return this.aliases.get(`${region}/${identifier}`)?.key;
    }
    return this.keys.get(`${region}/${identifier}`);
  }

  inspect(identifier: string, region?: string): KeySnapshot | undefined {
    const key =
      this.lookup(identifier, region) ?? this.allKeys().find((candidate) => candidate.keyId === identifier);
    if (!key) {
      return undefined;
    }
    return {
      keyId: key.keyId,
      arn: key.arn,
      region: key.region,
      state: key.deletedAt !== null ? 'Deleted' : key.state,
      deletionDate: key.deletionDate,
      deletedAt: key.deletedAt,
      tags: Object.fromEntries(key.tags),
      aliases: this.aliasesOf(key),
      lastUsage: key.lastUsage,
    };
  }

  /** Removes a primary key's replicas; a primary waiting for them starts its own waiting period. */
  deleteReplicas(identifier: string, now: Date): void {
    const key = this.lookup(identifier);
    if (!key?.multiRegion) {
      throw new Error(`${identifier} is not a multi-Region key of this account`);
    }
    key.multiRegion.replicaRegions = [];
    if (key.state === 'PendingReplicaDeletion') {
      key.state = 'PendingDeletion';
      key.deletionDate = new Date(now.getTime() + (key.pendingWindowInDays ?? 30) * DAY_MS);
    }
  }

  /**
   * Resolves `sent` the way KMS does for the caller's account and Region, recording the key in
   * the call's resources. Aliases only where the operation accepts them.
   */
  resolve(ctx: KmsCallContext, sent: string, allowAlias: boolean): EmulatedKey {
    const region = ctx.caller.region;
    const arn = KMS_ARN.exec(sent);
    let key: EmulatedKey | undefined;
    if (arn) {
      const [, , arnRegion = '', account = '', kind, rest = ''] = arn;
      if (kind === 'alias' && !allowAlias) {
        throw new AwsError('InvalidArnException', 'Key Aliases are not supported for this operation.');
      }
      if (arnRegion !== region) {
        throw new AwsError('NotFoundException', `Invalid arn ${arnRegion}`);
      }
      if (kind === 'alias') {
        key = account === this.account ? this.aliases.get(`${region}/alias/${rest}`)?.key : undefined;
        if (!key) {
          throw new AwsError('NotFoundException', `Alias ${sent} is not found.`);
        }
      } else {
        key = account === this.account ? this.keys.get(`${region}/${rest}`) : undefined;
        if (!key || key.deletedAt !== null) {
          throw new AwsError('NotFoundException', `Key '${sent}' does not exist`);
        }
      }
    } else if (sent.startsWith('alias/')) {
      if (!allowAlias) {
        throw new AwsError('InvalidArnException', 'Key Aliases are not supported for this operation.');
      }
      // Alias names resolve in the caller's own account.
      key = ctx.caller.account === this.account ? this.aliases.get(`${region}/${sent}`)?.key : undefined;
      if (!key) {
        throw new AwsError(
          'NotFoundException',
          `Alias ${this.aliasArn(sent, region, ctx.caller.account)} is not found.`,
        );
      }
    } else {
      const known = ctx.caller.account === this.account ? this.keys.get(`${region}/${sent}`) : undefined;
      if (!known && !KEY_ID_FORM.test(sent)) {
        throw new AwsError('NotFoundException', `Invalid keyId '${sent}'`);
      }
      if (!known || known.deletedAt !== null) {
        throw new AwsError(
          'NotFoundException',
          `Key 'arn:aws:kms:${region}:${ctx.caller.account}:key/${sent}' does not exist`,
        );
      }
      key = known;
    }
    if (!ctx.resources.includes(key)) {
      ctx.resources.push(key);
    }
    return key;
  }

  /** Every operation the emulated KMS serves, by name; any other name is unknown to it. */
  private static readonly OPERATIONS: ReadonlyMap<string, KmsOperation> = new Map(
    Object.entries({
      DescribeKey: { serve: (kms, request, ctx) => kms.describeKey(request, ctx), crossAccount: true },
      GetKeyLastUsage: { serve: (kms, request, ctx) => kms.getKeyLastUsage(request, ctx) },
      ListKeys: { serve: (kms, request, ctx) => kms.listKeys(request, ctx) },
      ListAliases: { serve: (kms, request, ctx) => kms.listAliases(request, ctx) },
      ListResourceTags: { serve: (kms, request, ctx) => kms.listResourceTags(request, ctx) },
      ListGrants: { serve: (kms, request, ctx) => kms.listGrants(request, ctx), crossAccount: true },
      GetKeyPolicy: { serve: (kms, request, ctx) => kms.getKeyPolicy(request, ctx) },
      TagResource: { serve: (kms, request, ctx) => kms.tagResource(request, ctx), write: true },
      UntagResource: { serve: (kms, request, ctx) => kms.untagResource(request, ctx), write: true },
      EnableKey: { serve: (kms, request, ctx) => kms.setEnabled(request, ctx, true), write: true },
      DisableKey: { serve: (kms, request, ctx) => kms.setEnabled(request, ctx, false), write: true },
      ScheduleKeyDeletion: {
        serve: (kms, request, ctx) => kms.scheduleKeyDeletion(request, ctx),
        write: true,
      },
      CancelKeyDeletion: { serve: (kms, request, ctx) => kms.cancelKeyDeletion(request, ctx), write: true },
      GetPublicKey: { serve: (kms, request, ctx) => kms.getPublicKey(request, ctx), crossAccount: true },
      Encrypt: { serve: (kms, request, ctx) => kms.encrypt(request, ctx), crossAccount: true },
      Decrypt: { serve: (kms, request, ctx) => kms.decrypt(request, ctx), crossAccount: true },
      ReEncrypt: { serve: (kms, request, ctx) => kms.reEncrypt(request, ctx), crossAccount: true },
      GenerateDataKey: {
        serve: (kms, request, ctx) => kms.generateDataKey(request, ctx, true),
        crossAccount: true,
      },
      GenerateDataKeyWithoutPlaintext: {
        serve: (kms, request, ctx) => kms.generateDataKey(request, ctx, false),
        crossAccount: true,
      },
      Sign: { serve: (kms, request, ctx) => kms.createDigest(request, ctx, SIGNATURE), crossAccount: true },
      Verify: { serve: (kms, request, ctx) => kms.verifyDigest(request, ctx, SIGNATURE), crossAccount: true },
      GenerateMac: { serve: (kms, request, ctx) => kms.createDigest(request, ctx, MAC), crossAccount: true },
      VerifyMac: { serve: (kms, request, ctx) => kms.verifyDigest(request, ctx, MAC), crossAccount: true },
      DeriveSharedSecret: {
        serve: (kms, request, ctx) => kms.deriveSharedSecret(request, ctx),
        crossAccount: true,
      },
    } satisfies Record<string, KmsOperation>),
  );

  static serves(operation: string): boolean {
    return KmsService.OPERATIONS.has(operation);
  }

  /** Whether CloudTrail logs the operation with `readOnly: false`. */
  static writes(operation: string): boolean {
    return KmsService.OPERATIONS.get(operation)?.write === true;
  }

  /** Whether a caller of another account may call the operation with our key's ARN. */
  static servesAcrossAccounts(operation: string): boolean {
    return KmsService.OPERATIONS.get(operation)?.crossAccount === true;
  }

  handle(operation: string, request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const served = KmsService.OPERATIONS.get(operation);
    if (!served) {
      throw new AwsError('UnknownOperationException', `The emulated KMS does not serve ${operation}.`);
    }
    return served.serve(this, request, ctx);
  }

  private keyMetadata(key: EmulatedKey): Record<string, unknown> {
    const multi = key.multiRegion;
    const primaryArn = multi ? this.keyArn(key.keyId, multi.primaryRegion) : undefined;
    return {
      AWSAccountId: this.account,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: epochSeconds(key.createdAt),
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: key.keyUsage,
      KeyState: key.state,
      ...(key.deletionDate && key.state === 'PendingDeletion'
        ? { DeletionDate: epochSeconds(key.deletionDate) }
        : {}),
      ...(key.state === 'PendingReplicaDeletion'
        ? { PendingDeletionWindowInDays: key.pendingWindowInDays }
        : {}),
      Origin: 'AWS_KMS',
      KeyManager: key.manager,
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      ...algorithmsOf(key),
      MultiRegion: multi !== undefined,
      ...(multi
        ? {
            MultiRegionConfiguration: {
              MultiRegionKeyType: multi.role,
              PrimaryKey: { Arn: primaryArn, Region: multi.primaryRegion },
              ReplicaKeys: (multi.role === 'PRIMARY' ? multi.replicaRegions : [key.region]).map((region) => ({
                Arn: this.keyArn(key.keyId, region),
                Region: region,
              })),
            },
          }
        : {}),
    };
  }

  private describeKey(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), true);
    return { KeyMetadata: this.keyMetadata(key) };
  }

  private getKeyLastUsage(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    const last = key.lastUsage;
    const tracked = last !== null && last.at >= key.trackingStartDate;
    return {
      KeyId: key.keyId,
      KeyCreationDate: epochSeconds(key.createdAt),
      TrackingStartDate: epochSeconds(key.trackingStartDate),
      KeyLastUsage: tracked
        ? {
            Operation: last.operation,
            Timestamp: epochSeconds(last.at),
            CloudTrailEventId: last.cloudTrailEventId,
            KmsRequestId: last.kmsRequestId,
          }
        : {},
    };
  }

  private listKeys(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const keys = this.allKeys().filter((key) => key.region === ctx.caller.region && key.deletedAt === null);
    const result = page(keys, request, 1000, 100);
    return pagedResponse(
      'Keys',
      result,
      result.items.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })),
    );
  }

  private listAliases(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const filter = stringField(request, 'KeyId');
    const key = filter === undefined ? undefined : this.resolve(ctx, filter, false);
    const aliases = [...this.aliases.values()]
      .filter((alias) => alias.region === ctx.caller.region && (key === undefined || alias.key === key))
      .sort((a, b) => a.name.localeCompare(b.name));
    const result = page(aliases, request, 100, 50);
    return pagedResponse(
      'Aliases',
      result,
      result.items.map((alias) => ({
        AliasName: alias.name,
        AliasArn: this.aliasArn(alias.name, alias.region),
        TargetKeyId: alias.key.keyId,
        CreationDate: epochSeconds(alias.createdAt),
        LastUpdatedDate: epochSeconds(alias.createdAt),
      })),
    );
  }

  private listResourceTags(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    const result = page([...key.tags], request, 50, 50);
    return pagedResponse(
      'Tags',
      result,
      result.items.map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    );
  }

  /**
   * ListGrants (KMS API reference): `KeyId` is a key ID or key ARN, `Limit` 1 to 100 (default 50),
   * `GrantId` and `GranteePrincipal` narrow the list; it works in every key state. Each grant
   * names its key by ARN, the issuing account as `arn:aws:iam::<account>:root`, and its
   * encryption-context constraint under `Constraints`.
   */
  private listGrants(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    const grantId = stringField(request, 'GrantId');
    const grantee = stringField(request, 'GranteePrincipal');
    const grants = key.grants.filter(
      (grant) =>
        (grantId === undefined || grant.grantId === grantId) &&
        (grantee === undefined || grant.granteePrincipal === grantee),
    );
    const result = page(grants, request, 100, 50);
    return pagedResponse(
      'Grants',
      result,
      result.items.map((grant) => ({
        KeyId: key.arn,
        GrantId: grant.grantId,
        ...(grant.name !== '' ? { Name: grant.name } : {}),
        CreationDate: epochSeconds(grant.createdAt),
        GranteePrincipal: grant.granteePrincipal,
        ...(grant.retiringPrincipal !== undefined ? { RetiringPrincipal: grant.retiringPrincipal } : {}),
        IssuingAccount: `arn:aws:iam::${this.account}:root`,
        Operations: grant.operations,
        ...(grant.encryptionContextSubset !== undefined
          ? { Constraints: { EncryptionContextSubset: grant.encryptionContextSubset } }
          : {}),
      })),
    );
  }

  /**
   * GetKeyPolicy (KMS API reference): `KeyId` is a key ID or key ARN; `PolicyName` "If no policy
   * name is specified, the default value is default. The only valid name is default."; the
   * answer's `Policy` is the document as a JSON string. It works in every key state.
   */
  private getKeyPolicy(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    const name = stringField(request, 'PolicyName') ?? 'default';
    if (name !== 'default') {
      throw new AwsError('NotFoundException', `No such policy exists: ${name}`);
    }
    return { Policy: key.policy, PolicyName: 'default' };
  }

  /** Key management needs a customer managed key that is not pending deletion. */
  private manageable(key: EmulatedKey, operation: string, ctx: KmsCallContext): void {
    if (key.manager === 'AWS') {
      throw new AwsError(
        'AccessDeniedException',
        `User: ${ctx.caller.principalArn} is not authorized to perform: kms:${operation} on resource: ${key.arn} because no resource-based policy allows the kms:${operation} action`,
      );
    }
    if (key.state === 'PendingDeletion' || key.state === 'PendingReplicaDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
  }

  private tagResource(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    const tags = request.Tags;
    if (!Array.isArray(tags)) {
      throw validationError(
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
      );
    }
    this.manageable(key, 'TagResource', ctx);
    const entries = tags.map((tag: unknown) => {
      const record = (tag ?? {}) as Record<string, unknown>;
      const tagKey = requiredString(record, 'TagKey');
      const tagValue = stringField(record, 'TagValue') ?? '';
      if (tagKey.startsWith('aws:')) {
        throw new AwsError('TagException', 'Tags beginning with aws: are reserved.');
      }
      if (tagKey.length > 128 || tagValue.length > 256) {
        throw new AwsError('TagException', `Tag ${tagKey} is too long.`);
      }
      return [tagKey, tagValue] as const;
    });
    const keys = new Set([...key.tags.keys(), ...entries.map(([tagKey]) => tagKey)]);
    if (keys.size > 50) {
      throw new AwsError('LimitExceededException', 'A KMS key can have at most 50 tags.');
    }
    for (const [tagKey, tagValue] of entries) {
      key.tags.set(tagKey, tagValue);
    }
    return {};
  }

  private untagResource(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    const tagKeys = request.TagKeys;
    if (!Array.isArray(tagKeys)) {
      throw validationError(
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
      );
    }
    this.manageable(key, 'UntagResource', ctx);
    for (const tagKey of tagKeys) {
      key.tags.delete(String(tagKey));
    }
    return {};
  }

  private setEnabled(
    request: Record<string, unknown>,
    ctx: KmsCallContext,
    enabled: boolean,
  ): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    this.manageable(key, enabled ? 'EnableKey' : 'DisableKey', ctx);
    key.state = enabled ? 'Enabled' : 'Disabled';
    return {};
  }

  private scheduleKeyDeletion(
    request: Record<string, unknown>,
    ctx: KmsCallContext,
  ): Record<string, unknown> {
    const window = integerField(request, 'PendingWindowInDays') ?? 30;
    if (window < 7 || window > 30) {
      throw validationError('PendingWindowInDays must be between 7 and 30');
    }
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    this.manageable(key, 'ScheduleKeyDeletion', ctx);
    key.pendingWindowInDays = window;
    const waitsForReplicas = key.multiRegion?.role === 'PRIMARY' && key.multiRegion.replicaRegions.length > 0;
    if (waitsForReplicas) {
      key.state = 'PendingReplicaDeletion';
      key.deletionDate = null;
    } else {
      key.state = 'PendingDeletion';
      key.deletionDate = new Date(ctx.now.getTime() + window * DAY_MS);
    }
    ctx.responseElements = {
      keyId: key.arn,
      keyState: key.state,
      ...(key.deletionDate ? { deletionDate: key.deletionDate.toISOString() } : {}),
      pendingWindowInDays: window,
    };
    return {
      KeyId: key.arn,
      KeyState: key.state,
      ...(key.deletionDate ? { DeletionDate: epochSeconds(key.deletionDate) } : {}),
      PendingWindowInDays: window,
    };
  }

  private cancelKeyDeletion(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), false);
    if (key.state !== 'PendingDeletion' && key.state !== 'PendingReplicaDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
    }
    key.state = 'Disabled';
    key.deletionDate = null;
    key.pendingWindowInDays = null;
    ctx.responseElements = { keyId: key.arn };
    return { KeyId: key.arn };
  }

  /** The key state rules of cryptographic operations (and GetPublicKey). */
  private usable(key: EmulatedKey): void {
    if (key.state === 'Disabled') {
      throw new AwsError('DisabledException', `${key.arn} is disabled.`);
    }
    if (key.state === 'PendingDeletion' || key.state === 'PendingReplicaDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
  }

  private requireUsage(key: EmulatedKey, usage: string, operation: string): void {
    if (key.keyUsage !== usage) {
      throw new AwsError(
        'InvalidKeyUsageException',
        `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`,
      );
    }
  }

  private cryptoKey(ctx: KmsCallContext, sent: string, usage: string, operation: string): EmulatedKey {
    const key = this.resolve(ctx, sent, true);
    this.usable(key);
    this.requireUsage(key, usage, operation);
    return key;
  }

  /** A ciphertext that names its key, so Decrypt without KeyId finds it as KMS does. */
  private seal(key: EmulatedKey, plaintext: Buffer): string {
    this.ciphertexts += 1;
    const body = JSON.stringify({
      emulatedKms: 1,
      k: key.arn,
      n: this.ciphertexts,
      p: plaintext.toString('base64'),
    });
    return Buffer.from(body).toString('base64');
  }

  private open(
    ctx: KmsCallContext,
    request: Record<string, unknown>,
    keyField: string,
  ): {
    key: EmulatedKey;
    plaintext: Buffer;
  } {
    const blob = blobField(request, 'CiphertextBlob');
    let parsed: { k?: unknown; p?: unknown } = {};
    try {
      parsed = JSON.parse(blob.toString('utf8')) as { k?: unknown; p?: unknown };
    } catch {
      parsed = {};
    }
    const named = stringField(request, keyField);
    if (typeof parsed.k !== 'string' || typeof parsed.p !== 'string') {
      if (named !== undefined) {
        this.resolve(ctx, named, true);
      }
      throw new AwsError('InvalidCiphertextException', '');
    }
    const key = named !== undefined ? this.resolve(ctx, named, true) : this.resolve(ctx, parsed.k, true);
    if (key.arn !== parsed.k) {
      throw new AwsError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a CMK that can perform this operation.',
      );
    }
    this.usable(key);
    this.requireUsage(key, 'ENCRYPT_DECRYPT', 'Decrypt');
    return { key, plaintext: Buffer.from(parsed.p, 'base64') };
  }

  private encrypt(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.cryptoKey(ctx, requiredString(request, 'KeyId'), 'ENCRYPT_DECRYPT', 'Encrypt');
    const plaintext = blobField(request, 'Plaintext');
    ctx.used.push(key);
    return {
      CiphertextBlob: this.seal(key, plaintext),
      KeyId: key.arn,
      EncryptionAlgorithm: stringField(request, 'EncryptionAlgorithm') ?? defaultAlgorithm(key),
    };
  }

  private decrypt(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const { key, plaintext } = this.open(ctx, request, 'KeyId');
    ctx.used.push(key);
    return {
      KeyId: key.arn,
      Plaintext: plaintext.toString('base64'),
      EncryptionAlgorithm: stringField(request, 'EncryptionAlgorithm') ?? defaultAlgorithm(key),
    };
  }

  private reEncrypt(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const destinationId = requiredString(request, 'DestinationKeyId');
    const source = this.open(ctx, request, 'SourceKeyId');
    const destination = this.cryptoKey(ctx, destinationId, 'ENCRYPT_DECRYPT', 'ReEncrypt');
    ctx.used.push(source.key, destination);
    return {
      CiphertextBlob: this.seal(destination, source.plaintext),
      SourceKeyId: source.key.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm:
        stringField(request, 'SourceEncryptionAlgorithm') ?? defaultAlgorithm(source.key),
      DestinationEncryptionAlgorithm:
        stringField(request, 'DestinationEncryptionAlgorithm') ?? defaultAlgorithm(destination),
    };
  }

  private generateDataKey(
    request: Record<string, unknown>,
    ctx: KmsCallContext,
    withPlaintext: boolean,
  ): Record<string, unknown> {
    const operation = withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext';
    const key = this.cryptoKey(ctx, requiredString(request, 'KeyId'), 'ENCRYPT_DECRYPT', operation);
    if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
      throw new AwsError(
        'InvalidKeyUsageException',
        `${key.arn} key spec is ${key.keySpec} which is not valid for ${operation}.`,
      );
    }
    const spec = stringField(request, 'KeySpec');
    const bytes =
      integerField(request, 'NumberOfBytes') ?? (spec === 'AES_128' ? 16 : spec === 'AES_256' ? 32 : 0);
    if (bytes < 1 || bytes > 1024) {
      throw validationError('Please specify either number of bytes or key spec.');
    }
    const plaintext = Buffer.alloc(bytes);
    digest(ctx.requestId, key.arn).copy(plaintext);
    ctx.used.push(key);
    return {
      CiphertextBlob: this.seal(key, plaintext),
      ...(withPlaintext ? { Plaintext: plaintext.toString('base64') } : {}),
      KeyId: key.arn,
    };
  }

  /** Sign and GenerateMac: the key's digest of the message, under the algorithm the caller names. */
  private createDigest(
    request: Record<string, unknown>,
    ctx: KmsCallContext,
    kind: DigestKind,
  ): Record<string, unknown> {
    const key = this.cryptoKey(ctx, requiredString(request, 'KeyId'), kind.usage, kind.create);
    const algorithm = requiredString(request, kind.algorithmField);
    const message = requiredString(request, 'Message');
    ctx.used.push(key);
    return {
      KeyId: key.arn,
      [kind.digestField]: kind.digestOf(key.arn, message),
      [kind.algorithmField]: algorithm,
    };
  }

  /** Verify and VerifyMac: only the digest `createDigest` gives for the key and message is valid. */
  private verifyDigest(
    request: Record<string, unknown>,
    ctx: KmsCallContext,
    kind: DigestKind,
  ): Record<string, unknown> {
    const key = this.cryptoKey(ctx, requiredString(request, 'KeyId'), kind.usage, kind.verify);
    const algorithm = requiredString(request, kind.algorithmField);
    const message = requiredString(request, 'Message');
    if (requiredString(request, kind.digestField) !== kind.digestOf(key.arn, message)) {
      throw new AwsError(kind.invalidError, '');
    }
    ctx.used.push(key);
    return { KeyId: key.arn, [kind.validField]: true, [kind.algorithmField]: algorithm };
  }

  private deriveSharedSecret(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.cryptoKey(ctx, requiredString(request, 'KeyId'), 'KEY_AGREEMENT', 'DeriveSharedSecret');
    const algorithm = requiredString(request, 'KeyAgreementAlgorithm');
    if (algorithm !== 'ECDH') {
      throw validationError(`KeyAgreementAlgorithm ${algorithm} is not valid; ECDH is.`);
    }
    const peer = requiredString(request, 'PublicKey');
    ctx.used.push(key);
    return {
      KeyId: key.arn,
      SharedSecret: digest('shared', key.arn, peer).toString('base64'),
      KeyAgreementAlgorithm: algorithm,
      KeyOrigin: 'AWS_KMS',
    };
  }

  private getPublicKey(request: Record<string, unknown>, ctx: KmsCallContext): Record<string, unknown> {
    const key = this.resolve(ctx, requiredString(request, 'KeyId'), true);
    this.usable(key);
    if (key.keySpec === 'SYMMETRIC_DEFAULT' || key.keySpec.startsWith('HMAC_')) {
      throw new AwsError(
        'UnsupportedOperationException',
        `KeySpec ${key.keySpec} is not supported for this operation.`,
      );
    }
    return {
      KeyId: key.arn,
      PublicKey: digest('public', key.arn).toString('base64'),
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      KeyUsage: key.keyUsage,
      ...algorithmsOf(key),
    };
  }
}
