import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type HoldRecord, holdRecordSchema } from '../contracts/hold-registry.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { HoldRecordUnreadableError } from '../domain/errors.js';
import { dynamoDbClient } from './clients.js';
import { fromItem, holdTableName } from './hold-reader.js';

/**
 * The live holds of the registry, listed by one Scan: what the sweep searches for, and what the
 * subscription's deliveries are matched against.
 */

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
