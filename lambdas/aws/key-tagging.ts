import { TagResourceCommand } from '@aws-sdk/client-kms';
import { kmsClient } from './clients.js';

/** Writes tags on the key (TagResource): the hold's visible record and the fast path's claim. */
export async function tagKey(
  keyArn: string,
  region: string,
  tags: Readonly<Record<string, string>>,
): Promise<void> {
  await kmsClient(region).send(
    new TagResourceCommand({
      KeyId: keyArn,
      Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    }),
  );
}
