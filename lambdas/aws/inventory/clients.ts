import { BackupClient } from '@aws-sdk/client-backup';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientsPerRegion, cloudTrailClient, kmsClient, logsClient } from '../clients.js';
import type { InventoryClients } from './index.js';

/**
 * The inventory function's clients, one per service and Region, made on first use and kept for the
 * life of the module (lambdas/aws/clients.ts rules: the SDK's standard endpoint settings, the
 * simulator's transport).
 */
const ec2 = clientsPerRegion((config) => new EC2Client(config));
const rds = clientsPerRegion((config) => new RDSClient(config));
const s3 = clientsPerRegion((config) => new S3Client(config));
const backup = clientsPerRegion((config) => new BackupClient(config));
const secretsManager = clientsPerRegion((config) => new SecretsManagerClient(config));
const ssm = clientsPerRegion((config) => new SSMClient(config));
const dynamodb = clientsPerRegion((config) => new DynamoDBClient(config));
const efs = clientsPerRegion((config) => new EFSClient(config));

/** Every client the inventory reads a Region with. */
export function inventoryClients(region: string): InventoryClients {
  return {
    ec2: ec2(region),
    rds: rds(region),
    s3: s3(region),
    backup: backup(region),
    secretsManager: secretsManager(region),
    ssm: ssm(region),
    dynamodb: dynamodb(region),
    efs: efs(region),
    logs: logsClient(region),
    cloudTrail: cloudTrailClient(region),
    kms: kmsClient(region),
  };
}
