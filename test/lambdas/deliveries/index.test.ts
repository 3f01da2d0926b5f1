import { gzipSync } from 'node:zlib';
import type { PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dynamoDbClient } from '../../../lambdas/aws/clients.js';
import { readSightings } from '../../../lambdas/aws/hold-reader.js';
import { putSightings } from '../../../lambdas/aws/sweep-registry.js';
import type { SubscriptionMessage } from '../../../lambdas/contracts/deliveries.js';
import { sightingsKeyOf } from '../../../lambdas/contracts/sweep.js';
import { handler } from '../../../lambdas/deliveries/index.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import { InvalidHandlerEventError, SightingsContendedError } from '../../../lambdas/domain/errors.js';
import {
  ACCOUNT,
  disabledDecryptRecord,
  EXECUTION,
  holdRecord,
  KEY_ID,
  keyArnIn,
  OTHER_EXECUTION,
} from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

const HELD = keyArnIn('us-east-1');
const SECOND = HELD.replace(KEY_ID, 'bbbbbbbb-0000-4000-8000-000000000002');
const ENDED = HELD.replace(KEY_ID, 'cccccccc-0000-4000-8000-000000000003');
const UNHELD = HELD.replace(KEY_ID, 'dddddddd-0000-4000-8000-000000000004');
const ALIAS = 'alias/billing';
const WORKFLOW_ROLE = `arn:aws:iam::${ACCOUNT}:role/guard-check`;
const NOW = new Date('2026-02-10T00:00:00.000Z');
const DISABLED_AT = '2026-02-05T00:00:00.000Z';

let table: HoldTable;

/** A failed Decrypt that names `keyArn` in its resources and message. */
function failureOn(eventID: string, keyArn: string, eventTime = '2026-02-08T00:00:00Z'): CloudTrailRecord {
  return disabledDecryptRecord({
    eventID,
    eventTime,
    errorMessage: `${keyArn} is disabled.`,
    resources: [{ ARN: keyArn, accountId: ACCOUNT, type: 'AWS::KMS::Key' }],
    requestParameters: { keyId: keyArn },
  });
}

/** A failed Decrypt that names the key only by its alias (as KMS logs a call made by alias). */
function failureByAlias(eventID: string, alias = ALIAS): CloudTrailRecord {
  const { resources: _none, ...record } = disabledDecryptRecord({
    eventID,
    eventTime: '2026-02-08T00:00:00Z',
    errorMessage: 'The key is disabled.',
    requestParameters: { keyId: alias },
  });
  return record;
}

/** The document CloudWatch Logs sends the subscription's destination, with `messages` as its events. */
function message(
  messages: readonly string[],
  overrides: Partial<SubscriptionMessage> = {},
): SubscriptionMessage {
  return {
    messageType: 'DATA_MESSAGE',
    owner: ACCOUNT,
    logGroup: 'aws-cloudtrail-logs',
    logStream: `${ACCOUNT}_CloudTrail_us-east-1`,
    subscriptionFilters: ['Test-failed-kms-calls'],
    logEvents: messages.map((text, i) => ({
      id: `3${String(i).padStart(55, '0')}`,
      timestamp: Date.parse('2026-02-08T00:00:00Z') + i,
      message: text,
    })),
    ...overrides,
  };
}

/** The Lambda event of a delivery: `{ awslogs: { data } }`, data the Base64 of the gzipped JSON. */
function delivery(document: unknown): { awslogs: { data: string } } {
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(document))).toString('base64') } };
}

function deliveryOf(records: readonly CloudTrailRecord[]): { awslogs: { data: string } } {
  return delivery(message(records.map((record) => JSON.stringify(record))));
}

async function seedHolds(): Promise<void> {
  await table.seed({
    ...holdRecord('watching', { disabledAt: DISABLED_AT }),
    keyId: KEY_ID,
    aliases: [ALIAS],
  });
  await table.seed(
    holdRecord('pending-deletion', { keyArn: SECOND, execution: OTHER_EXECUTION, disabledAt: DISABLED_AT }),
  );
  await table.seed(holdRecord('ended', { keyArn: ENDED, disabledAt: DISABLED_AT }));
}

/** Runs `around` for every DynamoDB command the handler sends, in this test only. */
function aroundDynamoDb(
  around: (command: string, input: Record<string, unknown>, send: () => Promise<unknown>) => Promise<unknown>,
): void {
  dynamoDbClient().middlewareStack.add(
    (next, context) => async (args) =>
      (await around(context.commandName ?? '', args.input as Record<string, unknown>, () =>
        next(args),
      )) as Awaited<ReturnType<typeof next>>,
    { step: 'initialize', name: 'deliveriesTestAround' },
  );
}

/** Is this the GetItem or PutItem of the held key's sightings? */
function onSightings(input: Record<string, unknown>): boolean {
  const key = (input.Key ?? input.Item) as Record<string, { S?: string }> | undefined;
  return key?.keyArn?.S === sightingsKeyOf(HELD);
}

beforeAll(async () => {
  table = await startHoldTable();
});

afterAll(async () => {
  await table.close();
});

beforeEach(async () => {
  await table.clear();
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  process.env.KDG_INGESTION_LAG_SECONDS = '1800';
  process.env.KDG_WORKFLOW_PRINCIPALS = WORKFLOW_ROLE;
});

afterEach(() => {
  dynamoDbClient().middlewareStack.remove('deliveriesTestAround');
  vi.useRealTimers();
});

describe('deliveries handler', () => {
  it('adds a failed call on a held key, named by its ARN, to that hold’s sightings', async () => {
    // Prepare
    await seedHolds();

    // Act
    const outcome = await handler(deliveryOf([failureOn('on-held', HELD)]));

    // Assess
    expect(outcome).toEqual({ events: 1, unparseable: 0, holds: 1 });
    const sightings = await readSightings(HELD);
    expect(sightings).toMatchObject({
      holdKeyArn: HELD,
      executionArn: EXECUTION,
      searchedFrom: '2026-02-04T23:30:00.000Z',
      version: 1,
    });
    expect(sightings?.records.map((r) => r.eventID)).toEqual(['on-held']);
    // CloudWatch Logs sends no ingestion time: the delivery's own stands for it.
    expect(sightings?.ingestedAt).toEqual({ 'on-held': NOW.getTime() });
    expect(sightings?.expiresAt).toBeGreaterThan(NOW.getTime() / 1000);
  });

  it('adds a failed call that names the key only by an alias the hold recorded', async () => {
    // Prepare
    await seedHolds();

    // Act
    const outcome = await handler(deliveryOf([failureByAlias('by-alias')]));

    // Assess
    expect(outcome.holds).toBe(1);
    expect((await readSightings(HELD))?.records.map((r) => r.eventID)).toEqual(['by-alias']);
  });

  it('adds a failed call that names the key only by its bare key ID', async () => {
    // Prepare
    await seedHolds();
    const { resources: _none, ...byId } = disabledDecryptRecord({
      eventID: 'by-id',
      eventTime: '2026-02-08T00:00:00Z',
      errorMessage: 'The key is disabled.',
      requestParameters: { keyId: KEY_ID },
      recipientAccountId: ACCOUNT,
    });

    // Act
    const outcome = await handler(deliveryOf([byId]));

    // Assess
    expect(outcome.holds).toBe(1);
    expect((await readSightings(HELD))?.records.map((r) => r.eventID)).toEqual(['by-id']);
  });

  // A record naming the key only by its ID (no resources, no ARN in its message) cannot say the key's
  // ARN (its partition): it is matched against every hold, in any partition.
  it('adds a failed call naming the key by bare ID in another partition', async () => {
    // Prepare
    const chinaKey = `arn:aws-cn:kms:cn-north-1:${ACCOUNT}:key/${KEY_ID}`;
    await table.seed({
      ...holdRecord('watching', { keyArn: chinaKey, disabledAt: DISABLED_AT }),
      keyId: KEY_ID,
      aliases: [],
    });
    const { resources: _none, ...byId } = disabledDecryptRecord({
      eventID: 'by-id-cn',
      eventTime: '2026-02-08T00:00:00Z',
      awsRegion: 'cn-north-1',
      errorMessage: 'The key is disabled.',
      requestParameters: { keyId: KEY_ID },
      recipientAccountId: ACCOUNT,
    });

    // Act
    const outcome = await handler(deliveryOf([byId]));

    // Assess
    expect(outcome.holds).toBe(1);
    expect((await readSightings(chinaKey))?.records.map((r) => r.eventID)).toEqual(['by-id-cn']);
  });

  it('gives each held key its own records and writes none for an unheld or ended key', async () => {
    // Prepare
    await seedHolds();

    // Act
    const outcome = await handler(
      deliveryOf([
        failureOn('on-held', HELD),
        failureOn('on-second', SECOND),
        failureOn('on-unheld', UNHELD),
        failureOn('on-ended', ENDED),
        failureByAlias('by-other-alias', 'alias/not-the-keys'),
      ]),
    );

    // Assess
    expect(outcome).toEqual({ events: 5, unparseable: 0, holds: 2 });
    expect((await readSightings(HELD))?.records.map((r) => r.eventID)).toEqual(['on-held']);
    const second = await readSightings(SECOND);
    expect(second?.executionArn).toBe(OTHER_EXECUTION);
    expect(second?.records.map((r) => r.eventID)).toEqual(['on-second']);
    expect(await readSightings(UNHELD)).toBeNull();
    expect(await readSightings(ENDED)).toBeNull();
  });

  it('writes nothing for a failed call on a key no one holds', async () => {
    // Prepare
    await seedHolds();

    // Act
    const outcome = await handler(deliveryOf([failureOn('on-unheld', UNHELD)]));

    // Assess
    expect(outcome).toEqual({ events: 1, unparseable: 0, holds: 0 });
    expect(await readSightings(UNHELD)).toBeNull();
    expect(await readSightings(HELD)).toBeNull();
  });

  it('leaves out a record from before the hold began (less the ingestion lag)', async () => {
    // Prepare
    await seedHolds();

    // Act
    await handler(
      deliveryOf([
        failureOn('before', HELD, '2026-02-04T23:29:59Z'),
        failureOn('within-lag', HELD, '2026-02-04T23:30:00Z'),
      ]),
    );

    // Assess
    expect((await readSightings(HELD))?.records.map((r) => r.eventID)).toEqual(['within-lag']);
  });

  it('does nothing for a CONTROL_MESSAGE', async () => {
    // Prepare: a control message carries no log events of the group (its one event is CloudWatch Logs').
    await seedHolds();
    const control = message([JSON.stringify(failureOn('on-held', HELD))], {
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      subscriptionFilters: [],
    });

    // Act
    const outcome = await handler(delivery(control));

    // Assess
    expect(outcome).toEqual({ events: 0, unparseable: 0, holds: 0 });
    expect(await readSightings(HELD)).toBeNull();
  });

  it('counts and skips messages that are no CloudTrail record, keeping the ones that are', async () => {
    // Prepare
    await seedHolds();
    const { eventID: _none, ...noId } = failureOn('no-id', HELD);
    const document = message([
      'not json',
      '[1,2]',
      JSON.stringify(noId),
      JSON.stringify(failureOn('on-held', HELD)),
    ]);

    // Act
    const outcome = await handler(delivery(document));

    // Assess
    expect(outcome).toEqual({ events: 4, unparseable: 3, holds: 1 });
    expect((await readSightings(HELD))?.records.map((r) => r.eventID)).toEqual(['on-held']);
  });

  it.each([
    ['no awslogs', {}],
    ['empty data', { awslogs: { data: '' } }],
    [
      'data that is not gzip',
      { awslogs: { data: Buffer.from('{"messageType":"DATA_MESSAGE"}').toString('base64') } },
    ],
    ['gzip of no JSON', { awslogs: { data: gzipSync(Buffer.from('not json')).toString('base64') } }],
    ['JSON of another shape', delivery({ records: [] })],
    ['an unknown message type', delivery({ ...message([]), messageType: 'OTHER' })],
    ['log events without a message', delivery({ ...message([]), logEvents: [{ id: '1', timestamp: 1 }] })],
  ])('throws InvalidHandlerEventError for %s, before anything is written', async (_case, event) => {
    // Prepare
    await seedHolds();

    // Act
    const run = handler(event);

    // Assess
    await expect(run).rejects.toBeInstanceOf(InvalidHandlerEventError);
    expect(await readSightings(HELD)).toBeNull();
  });

  it('keeps both records when two deliveries for the same hold write at once', async () => {
    // Prepare: both deliveries read the sightings before either writes (a barrier on the two reads).
    await seedHolds();
    let reads = 0;
    let release: () => void = () => {};
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const puts: string[] = [];
    aroundDynamoDb(async (command, input, send) => {
      if (command === 'GetItemCommand' && onSightings(input) && reads < 2) {
        reads += 1;
        if (reads === 2) release();
        await bothRead;
      }
      if (command === 'PutItemCommand' && onSightings(input)) {
        try {
          const answer = await send();
          puts.push('WRITTEN');
          return answer;
        } catch (error) {
          puts.push((error as Error).name);
          throw error;
        }
      }
      return send();
    });

    // Act
    const outcomes = await Promise.all([
      handler(deliveryOf([failureOn('first', HELD, '2026-02-08T00:00:00Z')])),
      handler(deliveryOf([failureOn('second', HELD, '2026-02-08T00:01:00Z')])),
    ]);

    // Assess: one write lost the compare-and-set, read again and merged.
    expect(outcomes.map((o) => o.holds)).toEqual([1, 1]);
    expect(puts).toEqual(['WRITTEN', 'ConditionalCheckFailedException', 'WRITTEN']);
    const sightings = await readSightings(HELD);
    expect(sightings?.records.map((r) => r.eventID)).toEqual(['first', 'second']);
    expect(sightings?.version).toBe(2);
  });

  it('keeps every record of many deliveries for the same hold at once', async () => {
    // Prepare
    await seedHolds();
    const ids = Array.from({ length: 5 }, (_, i) => `delivery-${i}`);

    // Act
    await Promise.all(
      ids.map((id, i) =>
        handler(
          deliveryOf([
            failureOn(id, HELD, new Date(Date.parse('2026-02-08T00:00:00Z') + i * 1000).toISOString()),
          ]),
        ),
      ),
    );

    // Assess
    expect((await readSightings(HELD))?.records.map((r) => r.eventID)).toEqual(ids);
  });

  it('fails the delivery (for Lambda to retry) when the sightings keep changing under every write', async () => {
    // Prepare: someone else writes the item just before each of the handler's writes.
    await seedHolds();
    let bumped = 100;
    let writes = 0;
    aroundDynamoDb(async (command, input, send) => {
      if (command === 'PutItemCommand' && onSightings(input)) {
        writes += 1;
        bumped += 1;
        await table.putRaw({
          ...(input as unknown as PutItemCommandInput).Item,
          version: { N: String(bumped) },
        });
      }
      return send();
    });

    // Act
    const run = handler(deliveryOf([failureOn('on-held', HELD)]));

    // Assess
    await expect(run).rejects.toBeInstanceOf(SightingsContendedError);
    expect(writes).toBe(8);
  });

  it('merges into the sightings the search sweep left (no version) of the same execution', async () => {
    // Prepare
    await seedHolds();
    await putSightings({
      keyArn: sightingsKeyOf(HELD),
      holdKeyArn: HELD,
      executionArn: EXECUTION,
      searchedFrom: '2026-02-04T23:30:00.000Z',
      sweptTo: '2026-02-09T00:00:00.000Z',
      records: [failureOn('searched', HELD, '2026-02-06T00:00:00Z')],
      ingestedAt: { searched: Date.parse('2026-02-06T00:05:00Z') },
      dropped: 0,
      expiresAt: 1_800_000_000,
    });

    // Act
    await handler(deliveryOf([failureOn('delivered', HELD, '2026-02-08T00:00:00Z')]));

    // Assess
    const sightings = await readSightings(HELD);
    expect(sightings?.records.map((r) => r.eventID)).toEqual(['searched', 'delivered']);
    expect(sightings?.ingestedAt).toEqual({
      searched: Date.parse('2026-02-06T00:05:00Z'),
      delivered: NOW.getTime(),
    });
    expect(sightings?.version).toBe(1);
  });

  it('replaces sightings another execution left for the key', async () => {
    // Prepare
    await seedHolds();
    await putSightings({
      keyArn: sightingsKeyOf(HELD),
      holdKeyArn: HELD,
      executionArn: OTHER_EXECUTION,
      searchedFrom: '2026-01-01T00:00:00.000Z',
      sweptTo: '2026-01-20T00:00:00.000Z',
      records: [failureOn('old-hold', HELD, '2026-01-10T00:00:00Z')],
      ingestedAt: {},
      dropped: 4,
      expiresAt: 1_800_000_000,
    });

    // Act
    await handler(deliveryOf([failureOn('delivered', HELD)]));

    // Assess
    const sightings = await readSightings(HELD);
    expect(sightings?.executionArn).toBe(EXECUTION);
    expect(sightings?.records.map((r) => r.eventID)).toEqual(['delivered']);
    expect(sightings?.dropped).toBe(0);
  });
});
