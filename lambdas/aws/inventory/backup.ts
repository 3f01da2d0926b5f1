import {
  type BackupClient,
  ListBackupVaultsCommand,
  ListRecoveryPointsByBackupVaultCommand,
} from '@aws-sdk/client-backup';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, encrypted, isoDate, mapLimit, PER_RESOURCE_CONCURRENCY } from './read.js';

/** AWS Backup recovery points of every vault; each names the key that encrypts it (`EncryptionKeyArn`). */
export async function readRecoveryPoints(backup: BackupClient): Promise<EncryptedResource[]> {
  const vaults = await allPages('backup', 'ListBackupVaults', async (NextToken) => {
    const page = await backup.send(new ListBackupVaultsCommand({ MaxResults: 1000, NextToken }));
    return { items: page.BackupVaultList, next: page.NextToken };
  });
  const names = vaults.flatMap((vault) => (vault.BackupVaultName ? [vault.BackupVaultName] : []));
  const found = await mapLimit(names, PER_RESOURCE_CONCURRENCY, async (BackupVaultName) => {
    const points = await allPages('backup', 'ListRecoveryPointsByBackupVault', async (NextToken) => {
      const page = await backup.send(
        new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName, MaxResults: 1000, NextToken }),
      );
      return { items: page.RecoveryPoints, next: page.NextToken };
    });
    return points.flatMap((point) =>
      encrypted(
        'AWS::Backup::RecoveryPoint',
        point.EncryptionKeyArn,
        point.RecoveryPointArn ?? `(a recovery point of vault ${BackupVaultName} without an ARN)`,
        isoDate(point.CreationDate),
      ),
    );
  });
  return found.flat();
}
