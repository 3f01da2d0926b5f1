import { InventoryReadError, PaginationStuckError } from '../../domain/errors.js';
import type { EncryptedResource, ResourceType } from '../../domain/inventory.js';

/**
 * What every inventory reader shares: the account and Region it reads, one call with its failure
 * named, every page of a paged call, and a bounded number of calls side by side.
 */

/** The account and Region of the key, and the partition its ARNs are in. */
export interface Scope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** Per-resource calls (one per bucket, table or vault) made side by side, to stay under the services' rates. */
export const PER_RESOURCE_CONCURRENCY = 8;

/** The error of a call, named by its service and call; an InventoryReadError passes through unchanged. */
export function readError(service: string, call: string, error: unknown): InventoryReadError {
  if (error instanceof InventoryReadError) {
    return error;
  }
  if (error instanceof Error) {
    return new InventoryReadError(service, call, error.name || 'Error', error.message);
  }
  return new InventoryReadError(service, call, 'Error', String(error));
}

/** One call; whatever it throws comes back as an InventoryReadError naming the service and the call. */
export async function read<T>(service: string, call: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw readError(service, call, error);
  }
}

/** One page of a paged call: its items, and the token of the next page (absent or empty at the end). */
export interface Page<T> {
  readonly items: readonly T[] | undefined;
  readonly next: string | undefined;
}

/**
 * Every page of a paged call. Only an answer without a next token ends it: a page may be empty while
 * more follow (filtered EC2 and CloudWatch Logs answers are). A token handed back twice would loop
 * forever, and is an error rather than the end (what the pages after it hold is unknown).
 */
export async function allPages<T>(
  service: string,
  call: string,
  page: (token: string | undefined) => Promise<Page<T>>,
): Promise<T[]> {
  const items: T[] = [];
  const tokens = new Set<string>();
  let token: string | undefined;
  do {
    const answer = await read(service, call, () => page(token));
    items.push(...(answer.items ?? []));
    token = answer.next ? answer.next : undefined;
    if (token !== undefined) {
      if (tokens.has(token)) {
        throw readError(service, call, new PaginationStuckError(token));
      }
      tokens.add(token);
    }
  } while (token !== undefined);
  return items;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; the first failure fails the whole. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** An SDK date as ISO-8601, or null when the service gave none. */
export function isoDate(date: Date | number | undefined): string | null {
  if (date === undefined) {
    return null;
  }
  const at = date instanceof Date ? date : new Date(date);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/** A resource with a key reference, or nothing when the service names no customer key for it. */
export function encrypted(
  type: ResourceType,
  keyRef: string | undefined,
  arn: string,
  createdAt: string | null,
  otherArns?: readonly string[],
): EncryptedResource[] {
  if (!keyRef) {
    return [];
  }
  return [{ type, arn, createdAt, keyRef, ...(otherArns?.length ? { otherArns } : {}) }];
}
