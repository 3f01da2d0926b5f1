import type { BackupClient } from '@aws-sdk/client-backup';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EFSClient } from '@aws-sdk/client-efs';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type {
  EncryptedResource,
  GrantSummary,
  InventoryFailure,
  InventoryFindings,
  PolicySummary,
  TrailFacts,
} from '../../domain/inventory.js';
import { readRecoveryPoints } from './backup.js';
import { readTrails } from './cloudtrail.js';
import { readTables } from './dynamodb.js';
import { readSnapshots, readVolumes } from './ec2.js';
import { readFileSystems } from './efs.js';
import { readAliases, readGrants, readKeyPolicy } from './key-access.js';
import { readLogGroups } from './logs.js';
import { readDbClusterSnapshots, readDbClusters, readDbInstances, readDbSnapshots } from './rds.js';
import { readError, type Scope } from './read.js';
import { readBuckets } from './s3.js';
import { readSecrets } from './secrets-manager.js';
import { readSecureStrings } from './ssm.js';

/**
 * The inventory of one key: every reader of lambdas/aws/inventory run side by side with the clients
 * of the key's Region, each failure kept with its service, call and error (one failed service never
 * hides what the others found, and never reads as "nothing there"). The handler and the `candidates`
 * CLI both call it, each with its own clients.
 */

/** The clients of the key's Region the inventory reads with. */
export interface InventoryClients {
  readonly ec2: EC2Client;
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly backup: BackupClient;
  readonly secretsManager: SecretsManagerClient;
  readonly ssm: SSMClient;
  readonly dynamodb: DynamoDBClient;
  readonly efs: EFSClient;
  readonly logs: CloudWatchLogsClient;
  readonly cloudTrail: CloudTrailClient;
  readonly kms: KMSClient;
}

export interface InventoryTarget {
  readonly keyId: string;
  readonly keyArn: string;
}

export interface TakenInventory {
  readonly findings: InventoryFindings;
  /** The key's aliases as ListAliases answered now (what the services' alias references are matched with). */
  readonly aliases: readonly string[];
}

export interface InventoryOptions {
  /**
   * DescribeTrails in the stack's Region when it is not the key's: the trail that feeds the watched log
   * group lives there, and a single-Region trail does not show elsewhere.
   */
  readonly watchTrails?: CloudTrailClient | undefined;
}

const KEY_ARN = /^arn:([^:]+):kms:([^:]+):(\d{12}):key\/.+$/;

/** The partition, Region and account of a key ARN. */
export function scopeOf(keyArn: string): Scope {
  const [, partition, region, account] = KEY_ARN.exec(keyArn) ?? [];
  if (!partition || !region || !account) {
    throw new TypeError(`Not a key ARN: ${keyArn}`);
  }
  return { partition, region, account };
}

function failureOf(reason: unknown, service: string, call: string): InventoryFailure {
  const error = readError(service, call, reason);
  return { service: error.service, call: error.call, error: error.errorName, message: error.errorMessage };
}

/** What the services of a Region report encrypted under any key, for any number of keys to be matched with. */
export interface RegionResources {
  readonly resources: readonly EncryptedResource[];
  readonly trails: readonly TrailFacts[];
  readonly failures: readonly InventoryFailure[];
}

/**
 * Every resource of the Region that names a KMS key, with the trails and where they deliver: one walk
 * of each service, whichever key it is for (the `candidates` report matches every key of the Region
 * against one walk).
 */
export async function readRegionResources(
  clients: Omit<InventoryClients, 'kms'>,
  scope: Scope,
  options: InventoryOptions = {},
): Promise<RegionResources> {
  // Each reader with the service and first call that name its failure if it throws something unnamed.
  const readers: readonly [string, string, () => Promise<EncryptedResource[]>][] = [
    ['ec2', 'DescribeVolumes', () => readVolumes(clients.ec2, scope)],
    ['ec2', 'DescribeSnapshots', () => readSnapshots(clients.ec2, scope)],
    ['rds', 'DescribeDBInstances', () => readDbInstances(clients.rds, scope)],
    ['rds', 'DescribeDBClusters', () => readDbClusters(clients.rds, scope)],
    ['rds', 'DescribeDBSnapshots', () => readDbSnapshots(clients.rds, scope)],
    ['rds', 'DescribeDBClusterSnapshots', () => readDbClusterSnapshots(clients.rds, scope)],
    ['s3', 'ListBuckets', () => readBuckets(clients.s3, scope)],
    ['backup', 'ListBackupVaults', () => readRecoveryPoints(clients.backup)],
    ['secretsmanager', 'ListSecrets', () => readSecrets(clients.secretsManager)],
    ['ssm', 'DescribeParameters', () => readSecureStrings(clients.ssm, scope)],
    ['dynamodb', 'ListTables', () => readTables(clients.dynamodb, scope)],
    ['elasticfilesystem', 'DescribeFileSystems', () => readFileSystems(clients.efs, scope)],
    ['logs', 'DescribeLogGroups', () => readLogGroups(clients.logs, scope)],
  ];
  const trailClients = [clients.cloudTrail, ...(options.watchTrails ? [options.watchTrails] : [])];
  const [resources, trailReads] = await Promise.all([
    Promise.allSettled(readers.map(([, , reader]) => reader())),
    Promise.allSettled(trailClients.map((client) => readTrails(client))),
  ]);

  const failures: InventoryFailure[] = [];
  const found: EncryptedResource[] = [];
  resources.forEach((result, index) => {
    const [service, call] = readers[index] ?? ['unknown', 'unknown'];
    if (result.status === 'fulfilled') found.push(...result.value);
    else failures.push(failureOf(result.reason, service, call));
  });
  const trails: TrailFacts[] = [];
  for (const [index, result] of trailReads.entries()) {
    if (result.status === 'rejected') {
      failures.push(failureOf(result.reason, 'cloudtrail', 'DescribeTrails'));
      continue;
    }
    // The key's own Region lists the trails encrypted under it; the stack's Region only adds the trail
    // that feeds the watched group, which the key may encrypt from wherever its bucket is.
    if (index === 0) found.push(...result.value.resources);
    trails.push(...result.value.trails);
  }
  return { resources: found, trails, failures };
}

/** The key's own access paths and names: its aliases now, its grants, its policy. */
export interface KeyAccess {
  readonly aliases: readonly string[];
  readonly grants: readonly GrantSummary[] | null;
  readonly policy: PolicySummary | null;
  readonly failures: readonly InventoryFailure[];
}

export async function readKeyAccess(kms: KMSClient, key: InventoryTarget): Promise<KeyAccess> {
  const scope = scopeOf(key.keyArn);
  const [aliasRead, grantRead, policyRead] = await Promise.allSettled([
    readAliases(kms, key.keyId),
    readGrants(kms, key.keyArn),
    readKeyPolicy(kms, key.keyArn, scope.account),
  ]);
  const failures: InventoryFailure[] = [];
  let aliases: string[] = [];
  if (aliasRead.status === 'fulfilled') aliases = aliasRead.value;
  else failures.push(failureOf(aliasRead.reason, 'kms', 'ListAliases'));
  let grants: GrantSummary[] | null = null;
  if (grantRead.status === 'fulfilled') grants = grantRead.value;
  else failures.push(failureOf(grantRead.reason, 'kms', 'ListGrants'));
  let policy: PolicySummary | null = null;
  if (policyRead.status === 'fulfilled') policy = policyRead.value;
  else failures.push(failureOf(policyRead.reason, 'kms', 'GetKeyPolicy'));
  return { aliases, grants, policy, failures };
}

/** The whole inventory of one key: the Region's resources and the key's access paths, read side by side. */
export async function takeInventory(
  clients: InventoryClients,
  key: InventoryTarget,
  options: InventoryOptions = {},
): Promise<TakenInventory> {
  const [region, access] = await Promise.all([
    readRegionResources(clients, scopeOf(key.keyArn), options),
    readKeyAccess(clients.kms, key),
  ]);
  return {
    findings: {
      resources: region.resources,
      failures: [...region.failures, ...access.failures],
      grants: access.grants,
      policy: access.policy,
      trails: region.trails,
    },
    aliases: access.aliases,
  };
}
