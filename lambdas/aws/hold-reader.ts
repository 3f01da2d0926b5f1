import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type * as z from 'zod/mini';
import { holdRegistryEnvironment } from '../contracts/environment.js';
import { type HoldRecord, holdRecordSchema } from '../contracts/hold-registry.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import {
  type Sightings,
  SWEEP_STATE_KEY,
  type SweepState,
  sightingsKeyOf,
  sightingsSchema,
  sweepStateSchema,
} from '../contracts/sweep.js';
import { HoldRecordUnreadableError } from '../domain/errors.js';
import { dynamoDbClient } from './clients.js';
import { readEnvironment } from './environment.js';

/**
 * Reads the hold registry (lib/constructs/hold-registry.ts): GetItem only, so a function that must
 * know who holds a key (the assessment, the checks) gets no right to change it. Writes live in
 * hold-registry.ts. Reads are strongly consistent, so a writer always decides on the latest version.
 */

export function holdTableName(): string {
  return readEnvironment(holdRegistryEnvironment).tableName;
}

/** The item of the key's hold as stored, or undefined when none was ever recorded. */
export async function readHoldItem(keyArn: string): Promise<Record<string, AttributeValue> | undefined> {
  const answer = await dynamoDbClient().send(
    new GetItemCommand({ TableName: holdTableName(), Key: { keyArn: { S: keyArn } }, ConsistentRead: true }),
  );
  return answer.Item;
}

/** The hold recorded for the key, or null when none was ever recorded. */
export function readHold(keyArn: string): Promise<HoldRecord | null> {
  return readRegistryItem(keyArn, holdRecordSchema);
}

/**
 * The registry's item under `key` as `schema` reads it, or null when there is none. Never guesses what
 * an unreadable item says: it throws HoldRecordUnreadableError, and the caller stops, away from any change.
 */
export async function readRegistryItem<T extends z.ZodMiniType>(
  key: string,
  schema: T,
): Promise<z.output<T> | null> {
  const item = await readHoldItem(key);
  if (!item) {
    return null;
  }
  const parsed = safeParseContract(schema, fromItem(item));
  if (!parsed.success) {
    throw new HoldRecordUnreadableError(key, describeIssues(parsed.error.issues, 3));
  }
  return parsed.data;
}

/** The plain JSON an item holds (checked against the record's schema by the reader). */
export function fromItem(item: Record<string, AttributeValue>): unknown {
  return fromAttribute({ M: item });
}

function fromAttribute(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.L !== undefined) return value.L.map(fromAttribute);
  if (value.M !== undefined) {
    return Object.fromEntries(Object.entries(value.M).map(([name, member]) => [name, fromAttribute(member)]));
  }
  // Sets and binary never appear in a hold record: an item carrying one was not written by the stack.
  return undefined;
}

/** The sweep's sightings of the key's hold, or null when no sweep wrote any (GetItem, as readHold). */
export function readSightings(keyArn: string): Promise<Sightings | null> {
  return readRegistryItem(sightingsKeyOf(keyArn), sightingsSchema);
}

/**
 * The sweep's progress (or the proof of the subscription's deliveries), or null before its first
 * write. Throws on an item the stack did not write.
 */
export function readSweepState(): Promise<SweepState | null> {
  return readRegistryItem(SWEEP_STATE_KEY, sweepStateSchema);
}
