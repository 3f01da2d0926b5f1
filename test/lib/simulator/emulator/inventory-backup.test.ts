import {
  BackupClient,
  ListBackupVaultsCommand,
  ListRecoveryPointsByBackupVaultCommand,
  paginateListRecoveryPointsByBackupVault,
} from '@aws-sdk/client-backup';
import { ACCOUNT, REGION } from './fixtures.js';
import { accountWith, DECOY, denyAll, inProcessClient, rejection, SUBJECT } from './inventory-fixtures.js';

const POINTS = Array.from({ length: 5 }, (_, i) => `point-${i}`);

function world() {
  return accountWith([
    ...POINTS.map((id) => ({ type: 'AWS::Backup::RecoveryPoint' as const, id })),
    { type: 'AWS::Backup::RecoveryPoint', id: 'decoy-point', key: DECOY },
  ]);
}

describe('emulated AWS Backup', () => {
  it('lists one vault per key, encrypted under it, with its recovery point count', async () => {
    // Prepare
    const backup = inProcessClient(BackupClient, world());

    // Act
    const answer = await backup.send(new ListBackupVaultsCommand({}));

    // Assess
    expect(answer.BackupVaultList).toEqual([
      expect.objectContaining({
        BackupVaultName: `vault-${DECOY.keyId}`,
        EncryptionKeyArn: DECOY.arn,
        NumberOfRecoveryPoints: 1,
      }),
      expect.objectContaining({
        BackupVaultName: `vault-${SUBJECT.keyId}`,
        BackupVaultArn: `arn:aws:backup:${REGION}:${ACCOUNT}:backup-vault:vault-${SUBJECT.keyId}`,
        EncryptionKeyArn: SUBJECT.arn,
        NumberOfRecoveryPoints: POINTS.length,
      }),
    ]);
  });

  it('pages a vault’s recovery points with their ARN, key and creation date', async () => {
    // Prepare
    const backup = inProcessClient(BackupClient, world());
    const seen: string[] = [];
    let pages = 0;

    // Act
    for await (const page of paginateListRecoveryPointsByBackupVault(
      { client: backup, pageSize: 2 },
      { BackupVaultName: `vault-${SUBJECT.keyId}` },
    )) {
      pages += 1;
      for (const point of page.RecoveryPoints ?? []) {
        expect(point).toMatchObject({
          EncryptionKeyArn: SUBJECT.arn,
          CreationDate: new Date('2025-03-01T12:00:00Z'),
          IsEncrypted: true,
        });
        seen.push(point.RecoveryPointArn ?? '');
      }
    }

    // Assess
    expect(pages).toBe(3);
    expect(seen).toEqual(POINTS.map((id) => `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:${id}`));
  });

  it('names a vault that does not exist, and a denied call, as AWS Backup does', async () => {
    // Prepare
    const account = world();
    const backup = inProcessClient(BackupClient, account);

    // Act
    const missing = await rejection(
      backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: 'Default' })),
    );
    denyAll(account, 'backup', 'AccessDenied');
    const denied = await rejection(backup.send(new ListBackupVaultsCommand({})));

    // Assess
    expect(missing.name).toBe('ResourceNotFoundException');
    expect([denied.name, denied.$metadata?.httpStatusCode]).toEqual(['AccessDeniedException', 403]);
    expect(denied.message).toContain('backup:ListBackupVaults');
  });
});
