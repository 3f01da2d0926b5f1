import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { LINK_ATTRIBUTES as A } from '../contracts/approval.js';
import type { ApprovalLinkRecord } from '../domain/approval-link.js';
import type { ApprovalDecisionKind } from '../domain/approval-page.js';
import { linkRecordOf } from './approval-link-item.js';
import { dynamoDbClient } from './clients.js';

/**
 * Redeems approval links: reads the record of a secret's digest, and spends it. The approval page's
 * only calls on the link store; errors (throttling, an unreachable table) propagate, so a read that
 * fails is never "no such link" and a spend that fails decides nothing.
 */

/** The link stored under `linkHash`, or null when there is none (or the item is not a link's shape). */
export async function readApprovalLink(table: string, linkHash: string): Promise<ApprovalLinkRecord | null> {
  const response = await dynamoDbClient().send(
    new GetItemCommand({ TableName: table, Key: { [A.hash]: { S: linkHash } }, ConsistentRead: true }),
  );
  return response.Item ? linkRecordOf(response.Item) : null;
}

/**
 * Marks the link used by one decision, if it is still unused and unexpired at `at`: a compare-and-set,
 * so of two decisions sent at once exactly one gets `true`. The expiry comparison is on ISO-8601 UTC
 * text, which sorts as time does.
 */
export async function spendApprovalLink(
  table: string,
  linkHash: string,
  decision: ApprovalDecisionKind,
  at: Date,
): Promise<boolean> {
  try {
    await dynamoDbClient().send(
      new UpdateItemCommand({
        TableName: table,
        Key: { [A.hash]: { S: linkHash } },
        UpdateExpression: 'SET #usedAt = :at, #usedFor = :decision',
        ConditionExpression: 'attribute_exists(#hash) AND attribute_not_exists(#usedAt) AND #expiresAt > :at',
        ExpressionAttributeNames: {
          '#hash': A.hash,
          '#usedAt': A.usedAt,
          '#usedFor': A.usedFor,
          '#expiresAt': A.expiresAt,
        },
        ExpressionAttributeValues: { ':at': { S: at.toISOString() }, ':decision': { S: decision } },
      }),
    );
    return true;
  } catch (error) {
    if (
      error instanceof ConditionalCheckFailedException ||
      (error as Error).name === 'ConditionalCheckFailedException'
    ) {
      return false;
    }
    throw error;
  }
}

/**
 * Gives a spent link back when its decision never reached Step Functions (a throttled or unreachable
 * service), so the person can try again: only the spend made at `at` is undone, never another.
 */
export async function unspendApprovalLink(table: string, linkHash: string, at: Date): Promise<void> {
  try {
    await dynamoDbClient().send(
      new UpdateItemCommand({
        TableName: table,
        Key: { [A.hash]: { S: linkHash } },
        UpdateExpression: 'REMOVE #usedAt, #usedFor',
        ConditionExpression: '#usedAt = :at',
        ExpressionAttributeNames: { '#usedAt': A.usedAt, '#usedFor': A.usedFor },
        ExpressionAttributeValues: { ':at': { S: at.toISOString() } },
      }),
    );
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return;
    throw error;
  }
}
