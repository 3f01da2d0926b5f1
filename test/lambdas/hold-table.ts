/**
 * The hold registry for handler tests: a real DynamoDB implementation (dynalite, in this process,
 * as the simulator hosts it) with the table the stack creates, reached by the handlers' own client
 * through the SDK's standard endpoint setting. KMS, Logs, SFN and SNS stay mocked per test file; the
 * registry's conditional writes are the real ones.
 */
import { useRequestHandler } from '../../lambdas/aws/clients.js';
import { readHold } from '../../lambdas/aws/hold-reader.js';
import { toItem } from '../../lambdas/aws/hold-registry.js';
import type { HoldRecord } from '../../lambdas/contracts/hold-registry.js';
import { EmulatedDynamoDb } from '../../lib/simulator/emulator/dynamodb.js';
import { keyArnIn } from './fixtures.js';

export const HOLD_TABLE = 'kms-deletion-guard-holds';

export interface HoldTable {
  /** Stores the record as it is (any phase and version), replacing what the key had. */
  seed(record: HoldRecord): Promise<void>;
  /** The key's record as the registry has it now. */
  read(keyArn?: string): Promise<HoldRecord | null>;
  /** The raw item, for records a later version (or someone else) wrote. */
  putRaw(item: Record<string, unknown>): Promise<void>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Starts an empty registry and points this process's DynamoDB client at it. */
export async function startHoldTable(): Promise<HoldTable> {
  const db = await EmulatedDynamoDb.start([
    {
      TableName: HOLD_TABLE,
      KeySchema: [{ AttributeName: 'keyArn', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'keyArn', AttributeType: 'S' }],
    },
  ]);
  process.env.KDG_HOLD_TABLE = HOLD_TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIATESTTESTTESTTEST';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test-secret';
  // Clients made before (with another endpoint) are dropped.
  useRequestHandler(undefined);
  const call = async (operation: string, body: unknown) => {
    const answer = await db.forward(operation, body);
    if (answer.status !== 200) {
      throw new Error(`${operation}: ${answer.body}`);
    }
    return JSON.parse(answer.body) as Record<string, unknown>;
  };
  return {
    seed: async (record) => {
      await call('PutItem', { TableName: HOLD_TABLE, Item: toItem(record) });
    },
    read: (keyArn = keyArnIn('us-east-1')) => readHold(keyArn),
    putRaw: async (item) => {
      await call('PutItem', { TableName: HOLD_TABLE, Item: item });
    },
    clear: async () => {
      const scanned = await call('Scan', { TableName: HOLD_TABLE });
      for (const item of (scanned.Items as Record<string, { S: string }>[] | undefined) ?? []) {
        await call('DeleteItem', { TableName: HOLD_TABLE, Key: { keyArn: item.keyArn } });
      }
    },
    close: () => db.close(),
  };
}
