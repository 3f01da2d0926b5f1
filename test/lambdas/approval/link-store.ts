import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { linkItem, linkRecordOf } from '../../../lambdas/aws/approval-link-item.js';
import { LINK_ATTRIBUTES } from '../../../lambdas/contracts/approval.js';
import {
  type ApprovalLinkRecord,
  linkRetentionEpochSeconds,
  linkSecretHash,
  newLinkSecret,
} from '../../../lambdas/domain/approval-link.js';
import { EXECUTION_ARN, KEY_ARN, TOKEN } from './fake-execution.js';

/**
 * The link store in tests: a real DynamoDB implementation (dynalite, in memory, in process) with the
 * table as the stack declares it, so the handlers' conditional writes meet DynamoDB's semantics
 * rather than a mock's. `AWS_ENDPOINT_URL_DYNAMODB` points the handlers' client at it; it must be
 * started before a handler makes its first DynamoDB call (the client is kept for the module's life).
 */
export class TestLinkStore {
  private constructor(
    private readonly server: ReturnType<typeof dynalite>,
    public readonly table: string,
    private readonly client: DynamoDBClient,
  ) {}

  static async start(table = 'approval-links'): Promise<TestLinkStore> {
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await client.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: LINK_ATTRIBUTES.hash, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LINK_ATTRIBUTES.hash, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return new TestLinkStore(server, table, client);
  }

  /**
   * Stores a link as the request function would and returns its secret: by default for the fake
   * execution's pending disable approval, expiring a week after `now`.
   */
  async issue(
    options: Partial<Omit<ApprovalLinkRecord, 'linkHash'>> & { readonly now?: Date } = {},
  ): Promise<string> {
    const secret = newLinkSecret();
    const now = options.now ?? new Date();
    const expiresAt = options.expiresAt ?? new Date(now.getTime() + 7 * 86_400_000).toISOString();
    const record: ApprovalLinkRecord = {
      linkHash: linkSecretHash(secret),
      taskToken: options.taskToken ?? TOKEN,
      executionArn: options.executionArn ?? EXECUTION_ARN,
      step: options.step ?? 'disable',
      keyArn: options.keyArn ?? KEY_ARN,
      createdAt: options.createdAt ?? now.toISOString(),
      expiresAt,
      ...(options.usedAt ? { usedAt: options.usedAt } : {}),
      ...(options.usedFor ? { usedFor: options.usedFor } : {}),
    };
    const item: PutItemCommandInput['Item'] = linkItem(
      record,
      linkRetentionEpochSeconds(new Date(expiresAt)),
    );
    if (record.usedAt) item[LINK_ATTRIBUTES.usedAt] = { S: record.usedAt };
    if (record.usedFor) item[LINK_ATTRIBUTES.usedFor] = { S: record.usedFor };
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: item }));
    return secret;
  }

  /** The stored record of a secret, as the store holds it now. */
  async recordOf(secret: string): Promise<ApprovalLinkRecord | null> {
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { [LINK_ATTRIBUTES.hash]: { S: linkSecretHash(secret) } },
        ConsistentRead: true,
      }),
    );
    return response.Item ? linkRecordOf(response.Item) : null;
  }

  /** Every item of the table, raw (to prove what it does not hold). */
  async rawItems(): Promise<readonly Record<string, unknown>[]> {
    const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const response = await this.client.send(new ScanCommand({ TableName: this.table }));
    return response.Items ?? [];
  }

  async close(): Promise<void> {
    this.client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
