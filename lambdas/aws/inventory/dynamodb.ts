import { DescribeTableCommand, type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { EncryptedResource } from '../../domain/inventory.js';
import {
  allPages,
  encrypted,
  isoDate,
  mapLimit,
  PER_RESOURCE_CONCURRENCY,
  read,
  type Scope,
} from './read.js';

/**
 * Tables (ListTables, then DescribeTable for each): a table encrypted with a KMS key names it in
 * `SSEDescription.KMSMasterKeyArn`; one encrypted with a key DynamoDB owns has no SSEDescription.
 */
export async function readTables(dynamodb: DynamoDBClient, scope: Scope): Promise<EncryptedResource[]> {
  const names = await allPages('dynamodb', 'ListTables', async (ExclusiveStartTableName) => {
    const page = await dynamodb.send(new ListTablesCommand({ Limit: 100, ExclusiveStartTableName }));
    return { items: page.TableNames, next: page.LastEvaluatedTableName };
  });
  const found = await mapLimit(names, PER_RESOURCE_CONCURRENCY, async (TableName) => {
    const described = await read('dynamodb', 'DescribeTable', () =>
      dynamodb.send(new DescribeTableCommand({ TableName })),
    );
    const table = described.Table;
    return encrypted(
      'AWS::DynamoDB::Table',
      table?.SSEDescription?.KMSMasterKeyArn,
      table?.TableArn ??
        `arn:${scope.partition}:dynamodb:${scope.region}:${scope.account}:table/${TableName}`,
      isoDate(table?.CreationDateTime),
    );
  });
  return found.flat();
}
