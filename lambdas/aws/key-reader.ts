import {
  DescribeKeyCommand,
  type KeyMetadata,
  type KMSClient,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { KeyUnreadableError } from '../domain/errors.js';
import type { KeyFacts } from '../domain/types.js';
import { kmsClient } from './clients.js';

/**
 * Reading a key: DescribeKey and its tags, for the handlers and the CLI alike (the CLI passes its own
 * clients). Only the two read actions every role that looks at a key is granted live here, so a
 * module that imports this one calls nothing else.
 */

/** A key as it is now: its metadata and every tag on it (the tags say who holds the key). */
export interface KeyReading {
  readonly metadata: KeyMetadata;
  readonly tags: Record<string, string>;
}

/**
 * DescribeKey's metadata, or undefined when the answer has none (each caller names that its own
 * way). SDK errors (such as `NotFoundException`) propagate unchanged so callers can tell them apart
 * by `name`.
 */
export async function describeKey(client: KMSClient, keyId: string): Promise<KeyMetadata | undefined> {
  const described = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
  return described.KeyMetadata;
}

/**
 * Every tag on the key, all pages: a key may carry up to 50 tags, and a hold decision made on a
 * first page that lacks `kms-deletion-guard:execution` would wrongly treat a held key as free.
 */
export async function readTags(client: KMSClient, keyId: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const page = await client.send(new ListResourceTagsCommand({ KeyId: keyId, Marker: marker }));
    for (const tag of page.Tags ?? []) {
      if (tag.TagKey !== undefined) {
        tags[tag.TagKey] = tag.TagValue ?? '';
      }
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return tags;
}

/** Reads the key's metadata and all its tags, in the key's own Region. */
export async function readKey(keyArn: string, region: string): Promise<KeyReading> {
  const client = kmsClient(region);
  const metadata = await describeKey(client, keyArn);
  if (!metadata) {
    throw new KeyUnreadableError(keyArn);
  }
  return { metadata, tags: await readTags(client, keyArn) };
}

/** What the caller knows of a key beside its metadata: how it names it, where it is, its aliases and tags. */
export interface KeyContext {
  readonly keyId: string;
  readonly keyArn: string;
  readonly account: string;
  readonly region: string;
  readonly aliases: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The facts the rules and messages use, from DescribeKey's metadata. A missing state is `Unknown` and
 * an unknown manager counts as AWS managed, so such a key is refused and never disabled.
 */
export function keyFactsOf(metadata: KeyMetadata, context: KeyContext): KeyFacts {
  const mrc = metadata.MultiRegionConfiguration;
  const role = mrc?.MultiRegionKeyType;
  return {
    keyId: context.keyId,
    keyArn: context.keyArn,
    account: context.account,
    region: context.region,
    aliases: context.aliases,
    description: metadata.Description ?? '',
    keyState: metadata.KeyState ?? 'Unknown',
    keyManager: metadata.KeyManager === 'CUSTOMER' ? 'CUSTOMER' : 'AWS',
    keySpec: metadata.KeySpec ?? 'SYMMETRIC_DEFAULT',
    keyUsage: metadata.KeyUsage ?? 'ENCRYPT_DECRYPT',
    creationDate: metadata.CreationDate?.toISOString() ?? '',
    multiRegion: metadata.MultiRegion === true,
    multiRegionRole: role === 'PRIMARY' || role === 'REPLICA' ? role : undefined,
    replicaCount: role === 'PRIMARY' ? (mrc?.ReplicaKeys?.length ?? 0) : 0,
    tags: context.tags,
  };
}

/** True for the SDK error a call on a key that does not exist (any more) answers. */
export function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'NotFoundException';
}
