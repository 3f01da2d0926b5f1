import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  buildFilterPattern,
  findRecords,
  MAX_FILTER_PATTERN_LENGTH,
  type RecordQuery,
} from '../../../lambdas/aws/cloudtrail-source.js';
import type { CloudTrailRecord, KeyRef } from '../../../lambdas/domain/cloudtrail.js';
import { EventSourceUnavailableError } from '../../../lambdas/domain/errors.js';

const ACCOUNT = '111122223333';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;
const OTHER_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
const KEY: KeyRef = { keyId: KEY_ID, keyArn: KEY_ARN, aliases: ['alias/legacy'] };
const LOG_GROUP = 'aws-cloudtrail-logs';
const START = new Date('2026-01-01T05:30:00.000Z');
const END = new Date('2026-01-01T12:00:00.000Z');

const logs = mockClient(CloudWatchLogsClient);

function query(overrides: Partial<RecordQuery> = {}): RecordQuery {
  return {
    logGroupName: LOG_GROUP,
    region: 'us-east-1',
    key: KEY,
    start: START,
    end: END,
    kind: 'BREAKAGE',
    now: END,
    ...overrides,
  };
}

function record(eventID: string, arn: string, errorCode = 'DisabledException'): CloudTrailRecord {
  return {
    eventID,
    eventTime: '2026-01-01T08:00:00Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    errorCode,
    errorMessage: `${arn} is disabled.`,
    requestParameters: null,
    resources: [{ ARN: arn }],
  };
}

function event(value: CloudTrailRecord | string): { message: string; timestamp: number } {
  return { message: typeof value === 'string' ? value : JSON.stringify(value), timestamp: START.getTime() };
}

function givenLogGroup(group: { creationTime?: number; retentionInDays?: number } = {}): void {
  logs.on(DescribeLogGroupsCommand).resolves({
    logGroups: [
      { logGroupName: `${LOG_GROUP}-other`, creationTime: 0 },
      { logGroupName: LOG_GROUP, creationTime: Date.parse('2025-01-01T00:00:00Z'), ...group },
    ],
  });
}

afterEach(() => {
  logs.reset();
});

describe('findRecords', () => {
  it('follows nextToken through an empty page and stops only when it is absent', async () => {
    // Prepare
    givenLogGroup();
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [event(record('ev-1', KEY_ARN))], nextToken: 't1' })
      .resolvesOnce({ events: [], nextToken: 't2' })
      .resolvesOnce({ events: [event(record('ev-2', KEY_ARN))] });

    // Act
    const result = await findRecords(query());

    // Assess
    const calls = logs.commandCalls(FilterLogEventsCommand);
    expect(calls.map((call) => call.args[0].input.nextToken)).toEqual([undefined, 't1', 't2']);
    expect(result.records.map((r) => r.eventID)).toEqual(['ev-1', 'ev-2']);
    expect(result.scanned).toBe(2);
  });

  it('queries in milliseconds with a filter scoped to KMS, the error code and the key ARN', async () => {
    // Prepare
    givenLogGroup();
    logs.on(FilterLogEventsCommand).resolves({ events: [] });

    // Act
    await findRecords(query());

    // Assess
    const input = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(input?.logGroupName).toBe(LOG_GROUP);
    expect(input?.startTime).toBe(START.getTime());
    expect(input?.endTime).toBe(END.getTime());
    expect(input?.filterPattern).toContain('$.eventSource = "kms.amazonaws.com"');
    expect(input?.filterPattern).toContain('$.errorCode = "DisabledException"');
    expect(input?.filterPattern).toContain(`$.resources[0].ARN = "${KEY_ARN}"`);
    expect(input?.filterPattern).toContain(`$.requestParameters.keyId = "alias/legacy"`);
  });

  it('lets the domain matcher decide: other keys, other error codes and garbage are dropped', async () => {
    // Prepare
    givenLogGroup();
    logs.on(FilterLogEventsCommand).resolves({
      events: [
        event(record('ours', KEY_ARN)),
        event(record('other-key', OTHER_ARN)),
        event(record('other-error', KEY_ARN, 'AccessDeniedException')),
        event('not json at all'),
        event('{"eventID": 1}'),
      ],
    });

    // Act
    const result = await findRecords(query());

    // Assess
    expect(result.records.map((r) => r.eventID)).toEqual(['ours']);
    expect(result.scanned).toBe(5);
    expect(result.unparseable).toBe(2);
  });

  it('throws EventSourceUnavailableError when the log group is missing', async () => {
    // Prepare
    givenLogGroup();
    logs
      .on(FilterLogEventsCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }),
      );

    // Act
    const act = findRecords(query());

    // Assess
    await expect(act).rejects.toBeInstanceOf(EventSourceUnavailableError);
    await expect(act).rejects.toHaveProperty('name', 'EventSourceUnavailableError');
  });

  it('throws EventSourceUnavailableError when DescribeLogGroups finds only longer names', async () => {
    // Prepare
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: `${LOG_GROUP}-2` }] });

    // Act
    const act = findRecords(query());

    // Assess
    await expect(act).rejects.toBeInstanceOf(EventSourceUnavailableError);
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
  });

  it('passes other errors (throttling the SDK could not absorb) on unchanged', async () => {
    // Prepare
    givenLogGroup();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    logs.on(FilterLogEventsCommand).rejects(throttled);

    // Act
    const act = findRecords(query());

    // Assess
    await expect(act).rejects.toHaveProperty('name', 'ThrottlingException');
  });

  it('reports how far back the log group can see (creation, retention)', async () => {
    // Prepare
    givenLogGroup({ creationTime: Date.parse('2026-01-01T07:00:00Z') });
    logs.on(FilterLogEventsCommand).resolves({ events: [] });
    const retained = { retentionInDays: 1, creationTime: 0 };

    // Act
    const created = await findRecords(query());
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: LOG_GROUP, ...retained }] });
    const trimmed = await findRecords(query({ start: new Date('2025-12-01T00:00:00Z') }));
    const full = await findRecords(query({ start: new Date('2026-01-01T11:00:00Z') }));

    // Assess
    expect(created.searchedFrom.toISOString()).toBe('2026-01-01T07:00:00.000Z');
    expect(trimmed.searchedFrom.toISOString()).toBe('2025-12-31T12:00:00.000Z');
    expect(full.searchedFrom.toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });
});

describe('buildFilterPattern', () => {
  it('asks for both pending-window error codes and successful-use operations by kind', () => {
    // Act
    const pending = buildFilterPattern(KEY, 'PENDING_USE');
    const used = buildFilterPattern(KEY, 'SUCCESSFUL_USE');
    const download = buildFilterPattern(KEY, 'PUBLIC_KEY_DOWNLOAD');

    // Assess
    expect(pending).toContain('"KMSInvalidStateException"');
    expect(pending).toContain('"DisabledException"');
    expect(used).toContain('$.eventName = "Decrypt"');
    expect(used).not.toContain('errorCode');
    expect(download).toContain('$.eventName = "GetPublicKey"');
  });

  it('falls back to KMS + error code only when the key names do not fit the length limit', () => {
    // Prepare
    const manyAliases = { ...KEY, aliases: Array.from({ length: 12 }, (_, i) => `alias/application-${i}`) };

    // Act
    const pattern = buildFilterPattern(manyAliases, 'BREAKAGE');

    // Assess
    expect(pattern.length).toBeLessThanOrEqual(MAX_FILTER_PATTERN_LENGTH);
    expect(pattern).toBe('{ ($.eventSource = "kms.amazonaws.com") && ($.errorCode = "DisabledException") }');
  });
});

describe('findRecords CANARY', () => {
  it("asks for the canaries' request IDs and keeps only failed canary operations on the key", async () => {
    // Prepare
    givenLogGroup();
    const canary = { ...record('canary', KEY_ARN), eventName: 'Encrypt', requestID: 'req-1' };
    logs.on(FilterLogEventsCommand).resolves({
      events: [
        event(canary),
        event({ ...canary, eventID: 'decrypt', eventName: 'Decrypt' }),
        event({ ...canary, eventID: 'throttled', errorCode: 'ThrottlingException' }),
        event({ ...canary, eventID: 'other-key', resources: [{ ARN: OTHER_ARN }], errorMessage: 'x' }),
      ],
    });

    // Act
    const role = `arn:aws:iam::${ACCOUNT}:role/Guard-CheckRole`;
    const result = await findRecords(
      query({ kind: 'CANARY', requestIds: ['req-1', 'req-2'], principalArns: [role] }),
    );

    // Assess
    const pattern = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.filterPattern;
    expect(pattern).toContain(
      `(($.requestID = "req-1") || ($.requestID = "req-2") || ($.userIdentity.sessionContext.sessionIssuer.arn = "${role}"))`,
    );
    expect(pattern).toContain('($.eventName = "Encrypt")');
    expect(pattern).toContain('($.errorCode = "KMSInvalidStateException")');
    expect(result.records.map((r) => r.eventID)).toEqual(['canary']);
  });
});

describe('buildFilterPattern CANARY', () => {
  it('scopes to the key when a canary has no request ID or the IDs do not fit', () => {
    // Act
    const withoutId = buildFilterPattern(KEY, 'CANARY', ['']);
    const tooMany = buildFilterPattern(
      KEY,
      'CANARY',
      Array.from({ length: 40 }, (_, i) => `00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}`),
    );

    // Assess
    for (const pattern of [withoutId, tooMany]) {
      expect(pattern).not.toContain('$.requestID');
      expect(pattern).toContain(`$.resources[0].ARN = "${KEY_ARN}"`);
      expect(pattern.length).toBeLessThanOrEqual(MAX_FILTER_PATTERN_LENGTH);
    }
  });
});
