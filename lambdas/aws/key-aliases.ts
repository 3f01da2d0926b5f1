import { type AliasListEntry, type KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';

/**
 * ListAliases, all pages. IAM cannot scope it to keys (it has no resource), so it lives alone: only
 * the modules that are granted it import this one.
 */

export interface AliasFilter {
  /** Only the aliases of this key; all aliases of the account and Region when absent. */
  readonly keyId?: string | undefined;
  /** Aliases per page (KMS answers 50 when absent, 100 at most). */
  readonly pageSize?: number | undefined;
}

export async function listAliases(client: KMSClient, filter: AliasFilter = {}): Promise<AliasListEntry[]> {
  const aliases: AliasListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(
      new ListAliasesCommand({ KeyId: filter.keyId, Limit: filter.pageSize, Marker: marker }),
    );
    aliases.push(...(page.Aliases ?? []));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return aliases;
}
