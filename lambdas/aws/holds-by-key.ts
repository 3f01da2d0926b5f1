import { type AttributeValue, BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { type HoldRecord, holdRecordSchema } from '../contracts/hold-registry.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { HoldRecordUnreadableError } from '../domain/errors.js';
import { dynamoDbClient } from './clients.js';
import { fromItem, holdTableName } from './hold-reader.js';

/** Keys one BatchGetItem may ask for. */
const BATCH_KEYS = 100;
/** Rounds of asking again for what DynamoDB left unprocessed (it does under load) before failing. */
const MAX_UNPROCESSED_ROUNDS = 8;

/**
 * The holds recorded under these key ARNs (those that have one), read together (BatchGetItem,
 * strongly consistent). Throws HoldRecordUnreadableError on an item the stack did not write, and
 * when DynamoDB keeps leaving keys unprocessed: a delivery must never take "not read" for "not held".
 */
export async function readHolds(keyArns: readonly string[]): Promise<HoldRecord[]> {
  const holds: HoldRecord[] = [];
  const tableName = holdTableName();
  for (let i = 0; i < keyArns.length; i += BATCH_KEYS) {
    let keys: Record<string, AttributeValue>[] = keyArns
      .slice(i, i + BATCH_KEYS)
      .map((keyArn) => ({ keyArn: { S: keyArn } }));
    for (let round = 0; keys.length > 0; round += 1) {
      if (round === MAX_UNPROCESSED_ROUNDS) {
        throw new HoldRecordUnreadableError(
          String(keys[0]?.keyArn?.S ?? '(a key)'),
          `DynamoDB left ${keys.length} holds unread after ${MAX_UNPROCESSED_ROUNDS} rounds`,
        );
      }
      const answer = await dynamoDbClient().send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of answer.Responses?.[tableName] ?? []) {
        const parsed = safeParseContract(holdRecordSchema, fromItem(item));
        if (!parsed.success) {
          throw new HoldRecordUnreadableError(
            item.keyArn?.S ?? '(no key ARN)',
            describeIssues(parsed.error.issues, 3),
          );
        }
        holds.push(parsed.data);
      }
      keys = answer.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return holds;
}
