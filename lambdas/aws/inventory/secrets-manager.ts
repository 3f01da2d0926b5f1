import { ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, encrypted, isoDate } from './read.js';

/**
 * Secrets (ListSecrets), those scheduled for deletion included: they can be restored until they are
 * gone, and then need their key. A secret without `KmsKeyId` uses the AWS managed key
 * `aws/secretsmanager`; one with it names the key as it was configured (ID, ARN or alias).
 */
export async function readSecrets(secrets: SecretsManagerClient): Promise<EncryptedResource[]> {
  const list = await allPages('secretsmanager', 'ListSecrets', async (NextToken) => {
    const page = await secrets.send(
      new ListSecretsCommand({ MaxResults: 100, NextToken, IncludePlannedDeletion: true }),
    );
    return { items: page.SecretList, next: page.NextToken };
  });
  return list.flatMap((secret) =>
    encrypted(
      'AWS::SecretsManager::Secret',
      secret.KmsKeyId,
      secret.ARN ?? `(secret ${secret.Name ?? 'without a name'})`,
      isoDate(secret.CreatedDate),
    ),
  );
}
