import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  paginateListTables,
} from '@aws-sdk/client-dynamodb';
import { EmulatedDynamoDb } from '../../../../lib/simulator/emulator/dynamodb.js';
import { ACCOUNT, DAY, REGION, START, TestClock } from './fixtures.js';
import { accountWith, DECOY, denyAll, inProcessClient, rejection, SUBJECT } from './inventory-fixtures.js';

/** The stack's own tables, in the real DynamoDB; the scenario's sort around them. */
const STACK_TABLES = ['guard-approvals', 'guard-holds'];
const SCENARIO_TABLES = ['accounts', 'guard-audit', 'orders', 'zeta'];

describe('emulated DynamoDB with the scenario’s tables', () => {
  let db: EmulatedDynamoDb;

  beforeEach(async () => {
    db = await EmulatedDynamoDb.start(
      STACK_TABLES.map((TableName) => ({
        TableName,
        KeySchema: [{ AttributeName: 'keyArn', KeyType: 'HASH' as const }],
        AttributeDefinitions: [{ AttributeName: 'keyArn', AttributeType: 'S' as const }],
      })),
    );
  });

  afterEach(async () => {
    await db.close();
  });

  function world() {
    const account = accountWith([
      ...SCENARIO_TABLES.map((id, i) => ({
        type: 'AWS::DynamoDB::Table' as const,
        id,
        key: i === 2 ? SUBJECT : DECOY,
      })),
      { type: 'AWS::DynamoDB::Table', id: 'eu-orders', region: 'eu-west-1' },
    ]);
    account.tables = db;
    return account;
  }

  it('lists the stack’s and the scenario’s tables in name order, page by page', async () => {
    // Prepare
    const ddb = inProcessClient(DynamoDBClient, world());
    const seen: string[] = [];
    let pages = 0;

    // Act
    for await (const page of paginateListTables({ client: ddb, pageSize: 4 }, {})) {
      pages += 1;
      seen.push(...(page.TableNames ?? []));
    }
    const europe = await inProcessClient(DynamoDBClient, world(), { region: 'eu-west-1' }).send(
      new ListTablesCommand({}),
    );

    // Assess
    expect(pages).toBe(2);
    expect(seen).toEqual([...STACK_TABLES, ...SCENARIO_TABLES].sort());
    expect(europe.TableNames).toEqual(['eu-orders']);
  });

  it('describes a scenario table with its KMS key and leaves the stack’s tables to DynamoDB', async () => {
    // Prepare
    const ddb = inProcessClient(DynamoDBClient, world());

    // Act
    const orders = await ddb.send(new DescribeTableCommand({ TableName: 'orders' }));
    const byArn = await ddb.send(
      new DescribeTableCommand({ TableName: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders` }),
    );
    const holds = await ddb.send(new DescribeTableCommand({ TableName: 'guard-holds' }));
    const item = await ddb.send(
      new GetItemCommand({ TableName: 'guard-holds', Key: { keyArn: { S: 'k' } } }),
    );

    // Assess
    expect(orders.Table).toMatchObject({
      TableName: 'orders',
      TableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`,
      TableStatus: 'ACTIVE',
      CreationDateTime: new Date('2025-03-01T12:00:00Z'),
      SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: SUBJECT.arn },
    });
    expect(byArn.Table?.TableName).toBe('orders');
    expect(holds.Table?.TableName).toBe('guard-holds');
    expect(holds.Table?.SSEDescription).toBeUndefined();
    expect(item.Item).toBeUndefined();
  });

  it('refuses a Limit over 100 and applies dynamodb faults to the scenario’s tables too', async () => {
    // Prepare
    const account = world();
    const ddb = inProcessClient(DynamoDBClient, account);

    // Act
    const large = await rejection(ddb.send(new ListTablesCommand({ Limit: 101 })));
    denyAll(account, 'dynamodb', 'AccessDeniedException');
    const denied = await rejection(ddb.send(new ListTablesCommand({})));

    // Assess
    expect(large.name).toBe('ValidationException');
    expect(denied.name).toBe('AccessDeniedException');
  });
});

describe('emulated DynamoDB: a scenario table whose key becomes inaccessible', () => {
  const ADMIN = `arn:aws:iam::${ACCOUNT}:role/admin`;

  it('turns INACCESSIBLE_ENCRYPTION_CREDENTIALS, then ARCHIVED after seven days, and stays archived', async () => {
    // Prepare
    const clock = new TestClock(START);
    const account = accountWith(
      [
        { type: 'AWS::DynamoDB::Table', id: 'orders', createdAt: new Date('2025-01-01T00:00:00Z') },
        {
          type: 'AWS::DynamoDB::Table',
          id: 'ledger',
          key: DECOY,
          createdAt: new Date('2025-01-01T00:00:00Z'),
        },
      ],
      clock,
    );
    const ddb = inProcessClient(DynamoDBClient, account);
    const describe = async (name: string) =>
      (await ddb.send(new DescribeTableCommand({ TableName: name }))).Table;
    const manage = (keyId: string, operation: string) =>
      account.appCall({ keyId, operation, principalArn: ADMIN });

    // Act
    const before = await describe('orders');
    manage(SUBJECT.keyId, 'DisableKey');
    manage(DECOY.keyId, 'DisableKey');
    const disabledAt = clock.now();
    clock.advance(DAY);
    const inaccessible = await describe('orders');
    manage(DECOY.keyId, 'EnableKey');
    const recovered = await describe('ledger');
    clock.advance(7 * DAY);
    const archived = await describe('orders');
    manage(SUBJECT.keyId, 'EnableKey');
    const stillArchived = await describe('orders');

    // Assess
    expect([before?.TableStatus, before?.SSEDescription?.InaccessibleEncryptionDateTime]).toEqual([
      'ACTIVE',
      undefined,
    ]);
    expect(inaccessible).toMatchObject({
      TableStatus: 'INACCESSIBLE_ENCRYPTION_CREDENTIALS',
      SSEDescription: { KMSMasterKeyArn: SUBJECT.arn, InaccessibleEncryptionDateTime: disabledAt },
    });
    expect(recovered?.TableStatus).toBe('ACTIVE');
    expect(archived).toMatchObject({
      TableStatus: 'ARCHIVED',
      SSEDescription: { KMSMasterKeyArn: SUBJECT.arn },
      ArchivalSummary: {
        ArchivalDateTime: new Date(disabledAt.getTime() + 7 * DAY),
        ArchivalReason: 'INACCESSIBLE_ENCRYPTION_CREDENTIALS',
      },
    });
    expect(stillArchived?.TableStatus).toBe('ARCHIVED');
  });
});
