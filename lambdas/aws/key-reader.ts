import { DescribeKeyCommand, type KeyMetadata, ListResourceTagsCommand, type Tag } from '@aws-sdk/client-kms';
import { KeyUnreadableError } from '../domain/errors.js';
import { kmsClient } from './clients.js';

/** A key as it is now: its metadata and every tag on it (the tags say who holds the key). */
export interface KeyReading {
  readonly metadata: KeyMetadata;
  readonly tags: Record<string, string>;
}

/**
 * Reads the key's metadata and all its tags, in the key's own Region.
 *
 * Tags are paginated: a key may carry up to 50 tags, and a hold decision made on a first page that
 * lacks `kms-deletion-guard:execution` would wrongly treat the key as free. SDK errors (such as
 * `NotFoundException`) propagate unchanged so callers can tell them apart by `name`.
 */
export async function readKey(keyArn: string, region: string): Promise<KeyReading> {
  const client = kmsClient(region);
  const described = await client.send(new DescribeKeyCommand({ KeyId: keyArn }));
  if (!described.KeyMetadata) {
    throw new KeyUnreadableError(keyArn);
  }
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const page = await client.send(new ListResourceTagsCommand({ KeyId: keyArn, Marker: marker }));
    for (const tag of page.Tags ?? []) {
      if (tag.TagKey !== undefined) {
        tags[tag.TagKey] = tag.TagValue ?? '';
      }
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return { metadata: described.KeyMetadata, tags };
}

/** A tag map as the KMS API takes it. */
export function toTagList(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

/** True for the SDK error a call on a key that does not exist (any more) answers. */
export function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'NotFoundException';
}
