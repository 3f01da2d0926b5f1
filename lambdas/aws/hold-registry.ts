import { isDeepStrictEqual } from 'node:util';
import { type AttributeValue, PutItemCommand, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { HoldRecord } from '../contracts/hold-registry.js';
import { dynamoDbClient } from './clients.js';
import { fromItem, holdTableName, readHoldItem } from './hold-reader.js';

/**
 * The one module that talks to the hold registry (lib/constructs/hold-registry.ts). Every write is
 * conditional: a new hold only where the key has none or an ended one, and every later write only
 * while the item still has the version its writer read. Two actors that read the same version can
 * therefore never both write: the second gets `CONFLICT` and must read again. A writer reads with
 * hold-reader.ts first.
 */

/** What a conditional write did: `CONFLICT` when the item was not as the writer expected. */
export type HoldWrite = 'WRITTEN' | 'CONFLICT';

/** Records a new hold (version 1): only where the key has no hold, or one that ended. */
export function putNewHold(record: HoldRecord): Promise<HoldWrite> {
  if (record.version !== 1) {
    throw new RangeError(`A new hold starts at version 1, not ${record.version}.`);
  }
  return put(record, {
    ConditionExpression: 'attribute_not_exists(keyArn) OR #phase = :ended',
    ExpressionAttributeNames: { '#phase': 'phase' },
    ExpressionAttributeValues: { ':ended': { S: 'ended' } },
  });
}

/**
 * Replaces the hold `seen` (as read) with `next`: written only if the item still has `seen`'s
 * version, phase and execution, which makes it a compare-and-set.
 */
export function replaceHold(seen: HoldRecord, next: HoldRecord): Promise<HoldWrite> {
  if (next.keyArn !== seen.keyArn || next.version !== seen.version + 1) {
    throw new RangeError(
      `A hold write must keep the key and add one to the version (${seen.keyArn} v${seen.version} -> ${next.keyArn} v${next.version}).`,
    );
  }
  return put(next, {
    ConditionExpression: '#version = :version AND #phase = :phase AND executionArn = :execution',
    ExpressionAttributeNames: { '#version': 'version', '#phase': 'phase' },
    ExpressionAttributeValues: {
      ':version': { N: String(seen.version) },
      ':phase': { S: seen.phase },
      ':execution': { S: seen.executionArn },
    },
  });
}

async function put(
  record: HoldRecord,
  condition: Pick<
    PutItemCommandInput,
    'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  >,
): Promise<HoldWrite> {
  const item = toItem(record);
  try {
    await dynamoDbClient().send(new PutItemCommand({ TableName: holdTableName(), Item: item, ...condition }));
    return 'WRITTEN';
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) {
      throw error;
    }
  }
  // The SDK retries a request whose answer was lost; if the lost attempt wrote, the retry finds its
  // own write and fails the condition. That write is this one: the item holds exactly what was sent.
  const stored = await readHoldItem(record.keyArn);
  return stored && isDeepStrictEqual(fromItem(stored), fromItem(item)) ? 'WRITTEN' : 'CONFLICT';
}

/*
 * DynamoDB's typed JSON for the plain JSON a record is made of (strings, finite numbers, booleans,
 * null, lists and maps). `undefined` members are left out, as JSON.stringify would.
 */

/** The item a hold record (or another of the registry's JSON items) is stored as. */
export function toItem(record: object): Record<string, AttributeValue> {
  const item = toAttribute(record);
  if (!item.M) {
    throw new TypeError('A hold record must be an object.');
  }
  return item.M;
}

function toAttribute(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} cannot be stored in a hold record.`);
    return { N: String(value) };
  }
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  if (typeof value === 'object') {
    const map: Record<string, AttributeValue> = {};
    for (const [name, member] of Object.entries(value)) {
      if (member !== undefined) map[name] = toAttribute(member);
    }
    return { M: map };
  }
  throw new TypeError(`A ${typeof value} cannot be stored in a hold record.`);
}
