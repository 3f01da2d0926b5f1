import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EmulatedDynamoDb } from '../../../../lib/simulator/emulator/dynamodb.js';
import { InProcessEmulatorHandler } from '../../../../lib/simulator/emulator/server.js';
import { newAccount, REGION, TestClock } from './fixtures.js';

const TABLE = 'guard-holds';

function client(handler: InProcessEmulatorHandler): DynamoDBClient {
  return new DynamoDBClient({
    region: REGION,
    endpoint: 'http://emulator',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: handler,
    maxAttempts: 1,
  });
}

describe('emulated DynamoDB (dynalite behind the emulator router)', () => {
  let db: EmulatedDynamoDb;
  let handler: InProcessEmulatorHandler;

  beforeEach(async () => {
    db = await EmulatedDynamoDb.start([
      {
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'keyArn', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'keyArn', AttributeType: 'S' }],
      },
    ]);
    handler = new InProcessEmulatorHandler();
  });

  afterEach(async () => {
    await db.close();
  });

  it('answers a conditional PutItem race with one winner and ConditionalCheckFailedException', async () => {
    // Prepare
    const account = newAccount(new TestClock());
    account.tables = db;
    handler.setAccount(account);
    const ddb = client(handler);
    const put = (owner: string) =>
      ddb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { keyArn: { S: 'arn:aws:kms:us-east-1:111122223333:key/k' }, owner: { S: owner } },
          ConditionExpression: 'attribute_not_exists(keyArn)',
        }),
      );

    // Act
    const results = await Promise.allSettled([put('a'), put('b')]);

    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [rejected] = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ name: 'ConditionalCheckFailedException' });
  });

  it('compares and sets through UpdateItem: a stale version loses', async () => {
    // Prepare
    const account = newAccount(new TestClock());
    account.tables = db;
    handler.setAccount(account);
    const ddb = client(handler);
    const Key = { keyArn: { S: 'k' } };
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...Key, version: { N: '1' } } }));
    const bump = () =>
      ddb.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key,
          UpdateExpression: 'SET version = :next',
          ConditionExpression: 'version = :seen',
          ExpressionAttributeValues: { ':seen': { N: '1' }, ':next': { N: '2' } },
        }),
      );

    // Act
    await bump();
    const stale = bump();

    // Assess
    await expect(stale).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const item = await ddb.send(new GetItemCommand({ TableName: TABLE, Key, ConsistentRead: true }));
    expect(item.Item?.version).toEqual({ N: '2' });
  });

  it('fails the workflow call with an injected fault instead of reaching the table', async () => {
    // Prepare
    const clock = new TestClock();
    const account = newAccount(clock);
    account.tables = db;
    account.addFault({
      service: 'dynamodb',
      operation: 'GetItem',
      error: 'InternalServerError',
      from: new Date(0),
      until: new Date('2100-01-01T00:00:00Z'),
    });
    handler.setAccount(account);

    // Act
    const read = client(handler).send(new GetItemCommand({ TableName: TABLE, Key: { keyArn: { S: 'k' } } }));

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'InternalServerError' });
  });

  it('knows no table when the run has none', async () => {
    // Prepare
    const account = newAccount(new TestClock());
    handler.setAccount(account);

    // Act
    const read = client(handler).send(new GetItemCommand({ TableName: TABLE, Key: { keyArn: { S: 'k' } } }));

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
