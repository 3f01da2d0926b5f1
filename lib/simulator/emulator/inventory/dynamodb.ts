import { DAY_MS } from '../../../../lambdas/domain/time.js';
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
 * - While that key is inaccessible (disabled, pending deletion) the table is
 *   `INACCESSIBLE_ENCRYPTION_CREDENTIALS`, `SSEDescription.InaccessibleEncryptionDateTime` "when
 *   DynamoDB detected that the table's KMS key was inaccessible" (cleared when it is accessible
 *   again); "DynamoDB will initiate the table archival process when table's KMS key remains
 *   inaccessible for more than seven days": then `ARCHIVED`, with an `ArchivalSummary` whose
 *   reason is `INACCESSIBLE_ENCRYPTION_CREDENTIALS` ("An On-Demand backup was created at the
 *   archival time"). An archived table stays archived. The emulator detects at once.
 */

const ARCHIVAL_DELAY_MS = 7 * DAY_MS;

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

function describe(table: ProtectedResource, world: InventoryWorld, now: Date): Record<string, unknown> {
  const created = table.createdAt.getTime();
  const stretches = world.keys
    .unusableStretches(table.key.arn, now.getTime())
    .map(({ from, to }) => ({ from: Math.max(from, created), to }))
    .filter(({ from, to }) => to >= from);
  const archived = stretches.find(({ from, to }) => to - from > ARCHIVAL_DELAY_MS);
  const current = stretches.at(-1);
  const unusableNow = !world.keys.usableAt(table.key.arn, now.getTime());
  const inaccessible = !archived && unusableNow ? current : undefined;
  const status = archived ? 'ARCHIVED' : inaccessible ? 'INACCESSIBLE_ENCRYPTION_CREDENTIALS' : 'ACTIVE';
  const archivedAt = archived ? archived.from + ARCHIVAL_DELAY_MS : undefined;
  return {
    Table: {
      TableName: table.id,
      TableArn: table.arn,
      TableId: deterministicUuid(world.account, 'table', table.arn),
      TableStatus: status,
      CreationDateTime: epochSeconds(table.createdAt),
      // The format gives no key schema; every scenario table has a string partition key `id`.
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
      TableSizeBytes: 0,
      ItemCount: 0,
      SSEDescription: {
        Status: 'ENABLED',
        SSEType: 'KMS',
        KMSMasterKeyArn: table.key.arn,
        ...(inaccessible
          ? { InaccessibleEncryptionDateTime: epochSeconds(new Date(inaccessible.from)) }
          : {}),
      },
      ...(archivedAt !== undefined
        ? {
            ArchivalSummary: {
              ArchivalDateTime: epochSeconds(new Date(archivedAt)),
              ArchivalReason: 'INACCESSIBLE_ENCRYPTION_CREDENTIALS',
              ArchivalBackupArn: `${table.arn}/backup/${String(archivedAt).padStart(14, '0')}-${deterministicUuid(table.arn, 'archive').slice(0, 8)}`,
            },
          }
        : {}),
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
  now: Date,
  stackTables: StackTableNames,
): Promise<TableAnswerBody | null> {
  const tables = world.of('AWS::DynamoDB::Table', region);
  if (operation === 'DescribeTable') {
    const name = request.TableName;
    const table = tables.find((candidate) => candidate.id === name || candidate.arn === name);
    return table ? { status: 200, body: describe(table, world, now) } : null;
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
