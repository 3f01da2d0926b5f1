import { deterministicUuid } from '../cloudtrail.js';
import { epochSeconds } from './json-service.js';
import type { InventoryWorld, ProtectedResource } from './resources.js';

/**
 * The scenario's DynamoDB tables beside the stack's own ones (those live in a real DynamoDB,
 * dynalite, which answers everything else). Sourced behaviour (DynamoDB API reference):
 * - `ListTables`: names in ascending order, `Limit` 1 to 100 (default 100),
 *   `ExclusiveStartTableName` continues after a name, `LastEvaluatedTableName` "is the name of the
 *   last table in the current page of results" when more may remain.
 * - `DescribeTable` of a table encrypted under a customer managed key:
 *   `SSEDescription { Status: ENABLED, SSEType: KMS, KMSMasterKeyArn }`; `TableName` may also be
 *   the table's ARN.
 */

export interface TableAnswerBody {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Names of the stack's own tables (from the real DynamoDB), all pages. */
export type StackTableNames = () => Promise<readonly string[]>;

const MAX_LIMIT = 100;

function validation(message: string): TableAnswerBody {
  return {
    status: 400,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#ValidationException', message },
  };
}

function describe(table: ProtectedResource, account: string): Record<string, unknown> {
  return {
    Table: {
      TableName: table.id,
      TableArn: table.arn,
      TableId: deterministicUuid(account, 'table', table.arn),
      TableStatus: 'ACTIVE',
      CreationDateTime: epochSeconds(table.createdAt),
      // The format gives no key schema; every scenario table has a string partition key `id`.
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
      TableSizeBytes: 0,
      ItemCount: 0,
      SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: table.key.arn },
      DeletionProtectionEnabled: false,
    },
  };
}

/**
 * The answer for a `ListTables` or for a `DescribeTable` of a scenario table; null when dynalite
 * should answer (every other operation, and the stack's own tables).
 */
export async function answerScenarioTables(
  world: InventoryWorld,
  operation: string,
  request: Record<string, unknown>,
  region: string,
  stackTables: StackTableNames,
): Promise<TableAnswerBody | null> {
  const tables = world.of('AWS::DynamoDB::Table', region);
  if (operation === 'DescribeTable') {
    const name = request.TableName;
    const table = tables.find((candidate) => candidate.id === name || candidate.arn === name);
    return table ? { status: 200, body: describe(table, world.account) } : null;
  }
  if (operation !== 'ListTables') {
    return null;
  }
  const limit = request.Limit ?? MAX_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    const bound =
      typeof limit === 'number' && limit > MAX_LIMIT
        ? `less than or equal to ${MAX_LIMIT}`
        : 'greater than or equal to 1';
    return validation(
      `1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value ${bound}`,
    );
  }
  const start = request.ExclusiveStartTableName;
  const names = [...new Set([...(await stackTables()), ...tables.map((table) => table.id)])].sort();
  const rest = typeof start === 'string' ? names.filter((name) => name > start) : names;
  const page = rest.slice(0, limit);
  const last = page[page.length - 1];
  return {
    status: 200,
    body: {
      TableNames: page,
      ...(rest.length > limit && last !== undefined ? { LastEvaluatedTableName: last } : {}),
    },
  };
}
