import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LINK_ATTRIBUTES } from '../contracts/approval.js';
import type { ApprovalLinkRecord } from '../domain/approval-link.js';
import { linkItem } from './approval-link-item.js';
import { dynamoDbClient } from './clients.js';

/**
 * Writes a new approval link to the link store. The only call the request function makes on the
 * store: it can add links, never read one back, so it cannot hand a secret's record to anyone.
 *
 * The write is conditional: a digest already stored (a collision of 256-bit secrets, or a retry that
 * reused a secret) fails with ConditionalCheckFailedException instead of replacing another link.
 */
export async function saveApprovalLink(
  table: string,
  record: ApprovalLinkRecord,
  retainUntil: number,
): Promise<void> {
  await dynamoDbClient().send(
    new PutItemCommand({
      TableName: table,
      Item: linkItem(record, retainUntil),
      ConditionExpression: 'attribute_not_exists(#hash)',
      ExpressionAttributeNames: { '#hash': LINK_ATTRIBUTES.hash },
    }),
  );
}
