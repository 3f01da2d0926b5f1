import { jsonAnswer, restJsonErrorAnswer, ServiceError } from './protocol.js';
import {
  decodeToken,
  encodeToken,
  InvalidTokenError,
  type InventoryWorld,
  type ProtectedResource,
  pageAfter,
} from './resources.js';
import { type InventoryRequest, type InventoryServiceHandler, integerParameter } from './service.js';

/**
 * AWS Backup (REST JSON): `ListBackupVaults` (GET /backup-vaults/) and
 * `ListRecoveryPointsByBackupVault` (GET /backup-vaults/{name}/recovery-points/). Sourced
 * behaviour (AWS Backup API reference):
 * - `maxResults` 1 to 1000, `nextToken` continues; a value out of range is
 *   `InvalidParameterValueException`; a vault that does not exist is `ResourceNotFoundException`.
 * - A recovery point reports `EncryptionKeyArn`, "the server-side encryption key that is used to
 *   protect your backups"; for resource types AWS Backup fully manages, that is the vault's key.
 *   The emulator keeps each key's recovery points in one vault encrypted under that key, named
 *   `vault-<key ID>` (the scenario format names no vault), so a vault's key and its recovery
 *   points' keys agree as they do for fully managed types.
 */

const MAX_RESULTS = 1000;

function vaultNameOf(point: ProtectedResource): string {
  return `vault-${point.key.keyId}`;
}

function vaultArn(name: string, point: ProtectedResource, account: string): string {
  return `arn:aws:backup:${point.region}:${account}:backup-vault:${name}`;
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

interface Vault {
  readonly name: string;
  readonly arn: string;
  readonly keyArn: string;
  readonly createdAt: Date;
  readonly points: readonly ProtectedResource[];
}

function vaultsOf(world: InventoryWorld, region: string): Vault[] {
  const byName = new Map<string, ProtectedResource[]>();
  for (const point of world.of('AWS::Backup::RecoveryPoint', region)) {
    const name = vaultNameOf(point);
    byName.set(name, [...(byName.get(name) ?? []), point]);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, points]) => {
      const first = points[0] as ProtectedResource;
      return {
        name,
        arn: vaultArn(name, first, world.account),
        keyArn: first.key.arn,
        createdAt: new Date(Math.min(...points.map((point) => point.createdAt.getTime()))),
        points,
      };
    });
}

function paging(request: InventoryRequest, scope: string): { limit: number; after: string | undefined } {
  const limit = integerParameter(request.query.get('maxResults') ?? undefined) ?? MAX_RESULTS;
  if (Number.isNaN(limit) || limit < 1 || limit > MAX_RESULTS) {
    throw new ServiceError(
      'InvalidParameterValueException',
      `maxResults must be between 1 and ${MAX_RESULTS}; it was ${request.query.get('maxResults')}.`,
    );
  }
  const token = request.query.get('nextToken');
  try {
    return { limit, after: token ? decodeToken(scope, token) : undefined };
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      throw new ServiceError('InvalidParameterValueException', 'The next token is not valid.');
    }
    throw error;
  }
}

const LIST_VAULTS = /^\/backup-vaults\/?$/;
const LIST_POINTS = /^\/backup-vaults\/([^/]+)\/recovery-points\/?$/;

export const backupService: InventoryServiceHandler = {
  operationOf(request) {
    if (request.method === 'GET' && LIST_VAULTS.test(request.path)) return 'ListBackupVaults';
    if (request.method === 'GET' && LIST_POINTS.test(request.path)) return 'ListRecoveryPointsByBackupVault';
    return `${request.method} ${request.path}`;
  },

  serve(world, request) {
    const operation = this.operationOf(request);
    const vaults = vaultsOf(world, request.region);
    if (operation === 'ListBackupVaults') {
      const { limit, after } = paging(request, operation);
      const page = pageAfter(vaults, (vault) => vault.name, after, limit);
      return jsonAnswer(
        200,
        {
          BackupVaultList: page.items.map((vault) => ({
            BackupVaultName: vault.name,
            BackupVaultArn: vault.arn,
            VaultType: 'BACKUP_VAULT',
            CreationDate: epochSeconds(vault.createdAt),
            EncryptionKeyArn: vault.keyArn,
            NumberOfRecoveryPoints: vault.points.length,
            Locked: false,
          })),
          ...(page.after !== undefined ? { NextToken: encodeToken(operation, page.after) } : {}),
        },
        'application/json',
        request.requestId,
      );
    }
    if (operation === 'ListRecoveryPointsByBackupVault') {
      const name = decodeURIComponent(LIST_POINTS.exec(request.path)?.[1] ?? '');
      const vault = vaults.find((candidate) => candidate.name === name);
      if (!vault) {
        throw new ServiceError('ResourceNotFoundException', `Backup vault ${name} does not exist.`);
      }
      const { limit, after } = paging(request, `${operation}|${name}`);
      const page = pageAfter(vault.points, (point) => point.id, after, limit);
      return jsonAnswer(
        200,
        {
          RecoveryPoints: page.items.map((point) => ({
            RecoveryPointArn: point.arn,
            BackupVaultName: vault.name,
            BackupVaultArn: vault.arn,
            CreationDate: epochSeconds(point.createdAt),
            CompletionDate: epochSeconds(point.createdAt),
            Status: 'COMPLETED',
            EncryptionKeyArn: point.key.arn,
            IsEncrypted: true,
            StorageClass: 'WARM',
          })),
          ...(page.after !== undefined ? { NextToken: encodeToken(`${operation}|${name}`, page.after) } : {}),
        },
        'application/json',
        request.requestId,
      );
    }
    throw new ServiceError('InvalidRequestException', `The emulated AWS Backup does not serve ${operation}.`);
  },

  errorAnswer(error, request) {
    return restJsonErrorAnswer(error, request.requestId, { Code: error.code, Message: error.message });
  },
};
