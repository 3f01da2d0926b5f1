import { GetKeyPolicyCommand, type KMSClient, ListGrantsCommand } from '@aws-sdk/client-kms';
import {
  type GrantSummary,
  type PolicySummary,
  summarizeGrant,
  summarizeKeyPolicy,
} from '../../domain/inventory.js';
import { listAliases } from '../key-aliases.js';
import { allPages, read } from './read.js';

/**
 * The key's own access paths: its grants (AWS services create one for each resource they encrypt),
 * its policy, and its aliases as they are now (a service may name the key through one).
 */

export async function readGrants(kms: KMSClient, keyArn: string): Promise<GrantSummary[]> {
  const grants = await allPages('kms', 'ListGrants', async (Marker) => {
    const page = await kms.send(new ListGrantsCommand({ KeyId: keyArn, Limit: 100, Marker }));
    return { items: page.Grants, next: page.Truncated ? page.NextMarker : undefined };
  });
  return grants.map(summarizeGrant);
}

export async function readKeyPolicy(kms: KMSClient, keyArn: string, account: string): Promise<PolicySummary> {
  const answer = await read('kms', 'GetKeyPolicy', () =>
    kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })),
  );
  return summarizeKeyPolicy(answer.Policy ?? '', account);
}

export async function readAliases(kms: KMSClient, keyId: string): Promise<string[]> {
  const aliases = await read('kms', 'ListAliases', () => listAliases(kms, { keyId }));
  return aliases.flatMap((alias) => (alias.AliasName ? [alias.AliasName] : [])).sort();
}
