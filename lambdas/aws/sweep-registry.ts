import {
  type AttributeValue,
  PutItemCommand,
  type PutItemCommandInput,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { type HoldRecord, holdRecordSchema } from '../contracts/hold-registry.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import {
  type Building,
  buildingKeyOf,
  buildingSchema,
  SWEEP_STATE_KEY,
  type SweepState,
  sweepStateSchema,
} from '../contracts/sweep.js';
import { HoldRecordUnreadableError } from '../domain/errors.js';
import type { HoldSightings } from '../domain/sweep.js';
import { dynamoDbClient } from './clients.js';
import { fromItem, holdTableName, readRegistryItem } from './hold-reader.js';
import { toItem } from './hold-registry.js';

/**
 * The sweep's side of the hold registry: it lists the live holds (Scan), keeps its own progress in
 * one item (a compare-and-set on its version, so two sweeps never both advance it) and writes each
 * hold's sightings. It never writes a hold: the holds stay the workflow's.
 */

export type SweepWrite = 'WRITTEN' | 'CONFLICT';

/** A hold's sightings as stored: under `sightings#<key ARN>`, deleted by DynamoDB after `expiresAt`. */
export type SightingsItem = HoldSightings & { readonly keyArn: string; readonly expiresAt: number };

export interface LiveHolds {
  readonly holds: HoldRecord[];
  /** Items under a key ARN that are not a readable hold, as HoldRecordUnreadableError. */
  readonly unreadable: HoldRecordUnreadableError[];
}

/**
 * Every hold that has not ended. A hold whose item cannot be read is left out and named: its own
 * checks read it too and fail on it, so one bad item does not blind the sweep for every other hold.
 */
export async function listLiveHolds(): Promise<LiveHolds> {
  const holds: HoldRecord[] = [];
  const unreadable: HoldRecordUnreadableError[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamoDbClient().send(
      new ScanCommand({
        TableName: holdTableName(),
        ConsistentRead: true,
        FilterExpression: 'begins_with(keyArn, :arn) AND #phase <> :ended',
        ExpressionAttributeNames: { '#phase': 'phase' },
        ExpressionAttributeValues: { ':arn': { S: 'arn:' }, ':ended': { S: 'ended' } },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const parsed = safeParseContract(holdRecordSchema, fromItem(item));
      if (parsed.success) {
        holds.push(parsed.data);
      } else {
        const keyArn = item.keyArn?.S ?? '(no key ARN)';
        unreadable.push(new HoldRecordUnreadableError(keyArn, describeIssues(parsed.error.issues, 3)));
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return { holds, unreadable };
}

/** What a split sweep found so far of the key's hold, or null when nothing was kept. */
export function readBuilding(keyArn: string): Promise<Building | null> {
  return readRegistryItem(buildingKeyOf(keyArn), buildingSchema);
}

/** Replaces what a split sweep found so far of a hold (only the sweep, one at a time, writes it). */
export async function putBuilding(building: Building): Promise<void> {
  await dynamoDbClient().send(new PutItemCommand({ TableName: holdTableName(), Item: toItem(building) }));
}

/** The sweep's progress, or null before its first write. Throws on an item the stack did not write. */
export function readSweepState(): Promise<SweepState | null> {
  return readRegistryItem(SWEEP_STATE_KEY, sweepStateSchema);
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
