import { type AttributeValue, PutItemCommand, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { type Building, buildingKeyOf, buildingSchema, type SweepState } from '../contracts/sweep.js';
import type { HoldSightings } from '../domain/sweep.js';
import { dynamoDbClient } from './clients.js';
import { holdTableName, readRegistryItem } from './hold-reader.js';

// The checks read the sweep's state too, without this module's writes.
export { readSweepState } from './hold-reader.js';

import { toItem } from './hold-registry.js';

/**
 * The sweep's side of the hold registry: it lists the live holds (Scan), keeps its own progress in
 * one item (a compare-and-set on its version, so two sweeps never both advance it) and writes each
 * hold's sightings. It never writes a hold: the holds stay the workflow's.
 */

export type SweepWrite = 'WRITTEN' | 'CONFLICT';

/** A hold's sightings as stored: under `sightings#<key ARN>`, deleted by DynamoDB after `expiresAt`. */
export type SightingsItem = HoldSightings & { readonly keyArn: string; readonly expiresAt: number };

/** What a split sweep found so far of the key's hold, or null when nothing was kept. */
export function readBuilding(keyArn: string): Promise<Building | null> {
  return readRegistryItem(buildingKeyOf(keyArn), buildingSchema);
}

/** Replaces what a split sweep found so far of a hold (only the sweep, one at a time, writes it). */
export async function putBuilding(building: Building): Promise<void> {
  await dynamoDbClient().send(new PutItemCommand({ TableName: holdTableName(), Item: toItem(building) }));
}

/** Writes `next` over `seen` (null: over no item): CONFLICT when another sweep wrote in between. */
export async function writeSweepState(seen: SweepState | null, next: SweepState): Promise<SweepWrite> {
  const condition: Pick<
    PutItemCommandInput,
    'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  > =
    seen === null
      ? { ConditionExpression: 'attribute_not_exists(keyArn)' }
      : {
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': { N: String(seen.version) } },
        };
  return conditionalPut(toItem(next), condition);
}

/**
 * Writes a hold's sightings unless the item already holds a later sweep's: a sweep that was slow to
 * finish never puts older sightings over newer ones.
 */
export function putSightings(sightings: SightingsItem): Promise<SweepWrite> {
  return conditionalPut(toItem(sightings), {
    ConditionExpression: 'attribute_not_exists(keyArn) OR sweptTo <= :sweptTo',
    ExpressionAttributeValues: { ':sweptTo': { S: sightings.sweptTo } },
  });
}

/**
 * Writes a hold's sightings from the subscription over the item as it was read (`seenVersion`; null:
 * over no item, or over one without a version, which the search's sweep wrote): CONFLICT when another
 * delivery wrote it in between, and the caller reads and merges again.
 */
export function putDeliveredSightings(
  sightings: SightingsItem,
  seenVersion: number | null,
): Promise<SweepWrite> {
  return conditionalPut(
    toItem({ ...sightings, version: (seenVersion ?? 0) + 1 }),
    seenVersion === null
      ? {
          ConditionExpression: 'attribute_not_exists(keyArn) OR attribute_not_exists(#version)',
          ExpressionAttributeNames: { '#version': 'version' },
        }
      : {
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': { N: String(seenVersion) } },
        },
  );
}

async function conditionalPut(
  item: Record<string, AttributeValue>,
  condition: Pick<
    PutItemCommandInput,
    'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  >,
): Promise<SweepWrite> {
  try {
    await dynamoDbClient().send(new PutItemCommand({ TableName: holdTableName(), Item: item, ...condition }));
    return 'WRITTEN';
  } catch (error) {
    if (error instanceof Error && error.name === 'ConditionalCheckFailedException') {
      return 'CONFLICT';
    }
    throw error;
  }
}
