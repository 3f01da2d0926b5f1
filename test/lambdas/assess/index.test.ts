import { Logger } from '@aws-lambda-powertools/logger';
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  type GetKeyLastUsageResponse,
  type KeyMetadata,
  KMSClient,
  KMSInternalException,
  ListAliasesCommand,
  ListResourceTagsCommand,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../../lambdas/assess/index.js';
import { findRecords, requireLogGroup } from '../../../lambdas/aws/cloudtrail-source.js';
import { historyStart, searchEarlierUses } from '../../../lambdas/aws/use-history.js';
import type { CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import { EventSourceUnavailableError, SearchIncompleteError } from '../../../lambdas/domain/errors.js';
import { newHold } from '../../../lambdas/domain/hold-record.js';
import { type AssessEvent, TAGS } from '../../../lambdas/domain/types.js';
import { guardConfig } from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

vi.mock('../../../lambdas/aws/cloudtrail-source.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../lambdas/aws/cloudtrail-source.js')>()),
  findRecords: vi.fn(),
  requireLogGroup: vi.fn(),
}));

vi.mock('../../../lambdas/aws/use-history.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../lambdas/aws/use-history.js')>()),
  historyStart: vi.fn(),
  searchEarlierUses: vi.fn(),
}));

const findRecordsMock = vi.mocked(findRecords);
const historyStartMock = vi.mocked(historyStart);
const searchEarlierUsesMock = vi.mocked(searchEarlierUses);
const requireLogGroupMock = vi.mocked(requireLogGroup);
const kms = mockClient(KMSClient);
const cloudtrail = mockClient(CloudTrailClient);

const NOW = new Date('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const ACCOUNT = '111122223333';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;
const EXECUTION = `arn:aws:states:us-east-1:${ACCOUNT}:execution:guard:run-1`;
/** An earlier execution of the same state machine. */
const OTHER = `arn:aws:states:us-east-1:${ACCOUNT}:execution:guard:run-0`;
const CREATED = new Date('2024-01-01T00:00:00Z');

const config = guardConfig();

function event(input: unknown = { keyId: KEY_ID }, overrides: Partial<AssessEvent> = {}): AssessEvent {
  return { input, config, executionArn: EXECUTION, ...overrides };
}

function metadata(overrides: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    KeyId: KEY_ID,
    Arn: KEY_ARN,
    AWSAccountId: ACCOUNT,
    CreationDate: CREATED,
    Enabled: true,
    KeyState: 'Enabled',
    KeyManager: 'CUSTOMER',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyUsage: 'ENCRYPT_DECRYPT',
    Description: 'Legacy billing key',
    MultiRegion: false,
    ...overrides,
  };
}

function daysBefore(days: number): Date {
  return new Date(NOW.getTime() - days * DAY);
}

function record(overrides: Partial<CloudTrailRecord>): CloudTrailRecord {
  return {
    eventID: 'evt',
    eventTime: daysBefore(400).toISOString(),
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    ...overrides,
  };
}

/** A key that KMS describes, with usage `lastUsage`, aliases and tags in two pages each. */
function givenKey(
  meta: KeyMetadata = metadata(),
  lastUsage: GetKeyLastUsageResponse = {
    KeyCreationDate: CREATED,
    TrackingStartDate: CREATED,
    KeyLastUsage: {},
  },
  tags: Record<string, string> = {},
): void {
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: meta });
  kms.on(GetKeyLastUsageCommand).resolves({ KeyId: meta.Arn, ...lastUsage });
  kms
    .on(ListAliasesCommand)
    .resolvesOnce({ Aliases: [{ AliasName: 'alias/old' }], Truncated: true, NextMarker: 'm1' })
    .resolves({ Aliases: [{ AliasName: 'alias/legacy' }], Truncated: false });
  const entries = Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  kms
    .on(ListResourceTagsCommand)
    .resolvesOnce({ Tags: [{ TagKey: 'team', TagValue: 'billing' }], Truncated: true, NextMarker: 't1' })
    .resolves({ Tags: entries, Truncated: false });
}

const unknownBeforeTracking: GetKeyLastUsageResponse = {
  KeyCreationDate: CREATED,
  TrackingStartDate: new Date('2025-06-01T00:00:00Z'),
  KeyLastUsage: {},
};

let logInfo: ReturnType<typeof vi.spyOn>;
let holds: HoldTable;

beforeAll(async () => {
  holds = await startHoldTable();
});

afterAll(async () => {
  await holds.close();
});

beforeEach(async () => {
  await holds.clear();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  findRecordsMock.mockReset();
  findRecordsMock.mockResolvedValue({
    records: [],
    scanned: 0,
    unparseable: 0,
    searchedFrom: daysBefore(365),
    ingestedAt: new Map(),
  });
  historyStartMock.mockReset();
  // The log group reaches back before the key's creation unless a test says otherwise.
  historyStartMock.mockResolvedValue({
    at: new Date('2023-06-01T00:00:00Z'),
    because: "the log group's creation",
  });
  searchEarlierUsesMock.mockReset();
  searchEarlierUsesMock.mockImplementation(async (q) => ({
    searchedFrom: q.from.toISOString(),
    reachedTo: q.to.toISOString(),
    complete: true,
    stoppedBy: null,
    uses: [],
    requests: 1,
  }));
  logInfo = vi.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
  givenTrail([{ ReadWriteType: 'All', IncludeManagementEvents: true }]);
});

/** One multi-Region trail delivering to the configured group, with these classic selectors. */
function givenTrail(
  selectors: {
    ReadWriteType?: 'All' | 'WriteOnly';
    IncludeManagementEvents?: boolean;
    ExcludeManagementEventSources?: string[];
  }[],
) {
  cloudtrail.on(DescribeTrailsCommand).resolves({
    trailList: [
      {
        Name: 'org',
        TrailARN: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org`,
        HomeRegion: 'us-east-1',
        IsMultiRegionTrail: true,
        CloudWatchLogsLogGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:org-trail:*`,
      },
    ],
  });
  cloudtrail.on(GetEventSelectorsCommand).resolves({ EventSelectors: selectors });
  cloudtrail
    .on(GetTrailStatusCommand)
    .resolves({ IsLogging: true, LatestCloudWatchLogsDeliveryTime: new Date(NOW.getTime() - 300_000) });
}

afterEach(() => {
  kms.reset();
  cloudtrail.reset();
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe('assess handler: event source', () => {
  it('refuses, changing nothing, when the CloudTrail log group does not exist', async () => {
    // Prepare
    givenKey(metadata(), { KeyCreationDate: CREATED, TrackingStartDate: CREATED, KeyLastUsage: {} });
    requireLogGroupMock.mockRejectedValueOnce(
      new EventSourceUnavailableError('CloudTrail log group org-trail does not exist in us-east-1.'),
    );

    // Act
    const assessment = await handler(event({ keyId: KEY_ID }));

    // Assess
    expect(assessment.verdict).toBe('REFUSED');
    expect(assessment.refusal?.cause).toBe('EVENT_SOURCE_UNAVAILABLE');
    expect(assessment.causeText).toMatch(
      /^EVENT_SOURCE_UNAVAILABLE: CloudTrail log group org-trail does not exist/,
    );
    expect(requireLogGroupMock).toHaveBeenCalledWith('org-trail', 'us-east-1');
  });

  it('lets other log group errors reach the workflow retry', async () => {
    // Prepare
    givenKey(metadata(), { KeyCreationDate: CREATED, TrackingStartDate: CREATED, KeyLastUsage: {} });
    requireLogGroupMock.mockRejectedValueOnce(
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
    );

    // Act
    const act = handler(event({ keyId: KEY_ID }));

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('assess handler: accepted keys', () => {
  it('accepts a key last used long ago (USED) and builds the plan from configuration and input', async () => {
    // Prepare
    givenKey(metadata(), {
      KeyCreationDate: CREATED,
      TrackingStartDate: CREATED,
      KeyLastUsage: {
        Operation: 'Decrypt',
        Timestamp: daysBefore(200),
        CloudTrailEventId: 'ct-1',
        KmsRequestId: 'r-1',
      },
    });

    // Act
    const assessment = await handler(event({ keyId: KEY_ID, observationDays: 45, requestedBy: 'jane' }));

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.refusal).toBeNull();
    expect(assessment.causeText).toBe('');
    expect(assessment.usage?.classification).toBe('USED');
    expect(assessment.usage?.lastUsage).toEqual({
      operation: 'Decrypt',
      timestamp: daysBefore(200).toISOString(),
      cloudTrailEventId: 'ct-1',
      kmsRequestId: 'r-1',
    });
    expect(assessment.plan).toEqual({
      logGroupName: 'org-trail',
      observationDays: 45,
      pendingWindowInDays: 30,
      checkIntervalSeconds: 21_600,
      ingestionLagSeconds: 1_800,
      watchPendingWindow: true,
    });
    expect(assessment.key).toMatchObject({
      keyId: KEY_ID,
      keyArn: KEY_ARN,
      account: ACCOUNT,
      region: 'us-east-1',
      aliases: ['alias/legacy', 'alias/old'],
      keyManager: 'CUSTOMER',
      creationDate: CREATED.toISOString(),
      tags: { team: 'billing' },
    });
    expect(assessment.assessedAt).toBe(NOW.toISOString());
    expect(assessment.subject).toBe('Approve disabling KMS key alias/legacy (1234abcd...)');
    expect(assessment.summaryText).toContain(`npx kms-deletion-guard approve ${EXECUTION}`);
    expect(kms.commandCalls(GetKeyLastUsageCommand)[0]?.args[0].input).toEqual({ KeyId: KEY_ARN });
    expect(findRecordsMock).not.toHaveBeenCalled();
  });

  it('accepts a NEVER_USED key without searching CloudTrail', async () => {
    // Prepare
    givenKey();

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.usage?.classification).toBe('NEVER_USED');
    expect(assessment.usage?.historySearch).toBeUndefined();
    expect(findRecordsMock).not.toHaveBeenCalled();
  });

  it('searches CloudTrail before TrackingStartDate for an UNKNOWN_BEFORE_TRACKING key and reports the range', async () => {
    // Prepare
    givenKey(metadata(), unknownBeforeTracking);
    findRecordsMock.mockResolvedValue({
      records: [
        record({ eventID: 'older', eventTime: daysBefore(300).toISOString(), eventName: 'Encrypt' }),
        record({ eventID: 'newest', eventTime: daysBefore(250).toISOString(), eventName: 'Decrypt' }),
        record({ eventID: 'middle', eventTime: daysBefore(280).toISOString() }),
      ],
      scanned: 3,
      unparseable: 0,
      searchedFrom: daysBefore(365),
      ingestedAt: new Map(),
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(findRecordsMock).toHaveBeenCalledTimes(1);
    expect(findRecordsMock.mock.calls[0]?.[0]).toMatchObject({
      logGroupName: 'org-trail',
      region: 'us-east-1',
      key: { keyId: KEY_ID, keyArn: KEY_ARN, aliases: ['alias/legacy', 'alias/old'] },
      start: CREATED,
      end: new Date('2025-06-01T00:00:00Z'),
      kind: 'SUCCESSFUL_USE',
    });
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.usage?.classification).toBe('UNKNOWN_BEFORE_TRACKING');
    expect(assessment.usage?.historySearch).toEqual({
      searchedFrom: daysBefore(365).toISOString(),
      searchedTo: '2025-06-01T00:00:00.000Z',
      lastUseFound: { eventName: 'Decrypt', eventTime: daysBefore(250).toISOString(), eventID: 'newest' },
      publicKeyDownloaded: false,
    });
    expect(assessment.warnings.join(' ')).toContain('only from');
  });

  it('accepts a key in another Region of the same account, reading it with that Region’s client', async () => {
    // Prepare
    const arn = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${KEY_ID}`;
    givenKey(metadata({ Arn: arn }));

    // Act
    const assessment = await handler(event({ keyId: arn }));

    // Assess
    const client = kms.commandCalls(DescribeKeyCommand)[0]?.thisValue as KMSClient;
    expect(await client.config.region()).toBe('eu-west-1');
    expect(kms.commandCalls(DescribeKeyCommand)[0]?.args[0].input).toEqual({ KeyId: arn });
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.key?.region).toBe('eu-west-1');
  });

  it('accepts an asymmetric key whose public key was downloaded when allowExportedPublicKey is set, with a warning', async () => {
    // Prepare
    givenKey(metadata({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
    findRecordsMock.mockResolvedValue({
      records: [record({ eventID: 'pk-1', eventName: 'GetPublicKey', eventTime: '2025-02-01T00:00:00Z' })],
      scanned: 1,
      unparseable: 0,
      searchedFrom: CREATED,
      ingestedAt: new Map(),
    });

    // Act
    const assessment = await handler(event({ keyId: KEY_ID, allowExportedPublicKey: true }));

    // Assess
    expect(findRecordsMock.mock.calls[0]?.[0]).toMatchObject({
      kind: 'PUBLIC_KEY_DOWNLOAD',
      start: CREATED,
      end: NOW,
    });
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.warnings.join(' ')).toContain('downloaded 1 time(s)');
    expect(assessment.warnings.join(' ')).toContain(
      'no CloudTrail record or DisabledException will ever show it',
    );
  });

  it('carries the workflow principals from the configuration into the plan', async () => {
    // Prepare
    givenKey();
    const principals = [`arn:aws:iam::${ACCOUNT}:role/Guard-CheckRole`];

    // Act
    const assessment = await handler({
      ...event(),
      config: { ...config, workflowPrincipalArns: principals },
    });

    // Assess
    expect(assessment.plan?.workflowPrincipalArns).toEqual(principals);
  });

  it('reads the trail that feeds the log group and adds no warning when it would see failed KMS calls', async () => {
    // Prepare
    givenKey();

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.warnings.join(' ')).not.toContain('CloudTrail setup');
    expect(cloudtrail.commandCalls(GetEventSelectorsCommand)[0]?.args[0].input).toEqual({
      TrailName: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org`,
    });
  });

  it('warns in the approval e-mail, one line per reason with the fix, when the trail would be blind', async () => {
    // Prepare
    givenKey();
    givenTrail([{ ReadWriteType: 'WriteOnly', ExcludeManagementEventSources: ['kms.amazonaws.com'] }]);

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    const trailLines = assessment.warnings.filter((w) => w.startsWith('CloudTrail setup:'));
    expect(trailLines).toHaveLength(3);
    expect(trailLines[0]).toContain('logs write events only');
    expect(trailLines[1]).toContain('excludes KMS events');
    expect(trailLines[2]).toContain('EVENT_SOURCE_BLIND');
    expect(assessment.summaryText).toContain('excludes KMS events');
  });

  it('turns a trail setup it may not read into a warning, never a refusal', async () => {
    // Prepare
    givenKey();
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    cloudtrail
      .on(DescribeTrailsCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.warnings.join(' ')).toContain(
      'CloudTrail setup: the trails feeding org-trail could not be read (AccessDeniedException: not allowed)',
    );
    expect(warn).toHaveBeenCalledWith('trail setup unreadable', expect.anything());
  });

  it('logs one structured line with the verdict', async () => {
    // Prepare
    givenKey();

    // Act
    await handler(event());

    // Assess
    expect(logInfo).toHaveBeenCalledTimes(1);
    expect(logInfo.mock.calls[0]?.[1]).toMatchObject({ verdict: 'ACCEPTED', cause: null, keyArn: KEY_ARN });
  });
});

describe('assess handler: refusals', () => {
  it('refuses invalid input as INVALID_INPUT without calling KMS', async () => {
    // Act
    const assessment = await handler(event({ keyId: 'alias/legacy' }));

    // Assess
    expect(assessment.verdict).toBe('REFUSED');
    expect(assessment.refusal?.cause).toBe('INVALID_INPUT');
    expect(assessment.causeText).toMatch(/^INVALID_INPUT: .*describe-key --key-id alias\/legacy/);
    expect(assessment).toMatchObject({ key: null, usage: null, request: null, plan: null });
    expect(assessment.subject.length).toBeLessThanOrEqual(100);
    expect(kms.calls()).toHaveLength(0);
    expect(logInfo.mock.calls[0]?.[1]).toMatchObject({ verdict: 'REFUSED', cause: 'INVALID_INPUT' });
  });

  it('refuses a key ARN of another account as FOREIGN_ACCOUNT without calling KMS', async () => {
    // Act
    const assessment = await handler(event({ keyId: `arn:aws:kms:us-east-1:444455556666:key/${KEY_ID}` }));

    // Assess
    expect(assessment.refusal?.cause).toBe('FOREIGN_ACCOUNT');
    expect(assessment.refusal?.message).toContain('GetKeyLastUsage is not cross-account');
    expect(kms.calls()).toHaveLength(0);
  });

  it('refuses a key KMS does not find as KEY_NOT_FOUND', async () => {
    // Prepare
    kms
      .on(DescribeKeyCommand)
      .rejects(new NotFoundException({ message: `Key '${KEY_ARN}' does not exist`, $metadata: {} }));

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('REFUSED');
    expect(assessment.refusal?.cause).toBe('KEY_NOT_FOUND');
    expect(assessment.key).toBeNull();
    expect(assessment.request?.keyId).toBe(KEY_ID);
  });

  it('refuses an AWS managed key without reading its usage or tags', async () => {
    // Prepare
    givenKey(metadata({ KeyManager: 'AWS' }));

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('AWS_MANAGED_KEY');
    expect(kms.commandCalls(GetKeyLastUsageCommand)).toHaveLength(0);
    expect(kms.commandCalls(ListResourceTagsCommand)).toHaveLength(0);
    expect(assessment.usage).toBeNull();
  });

  it.each([
    ['PendingDeletion', 'PENDING_DELETION'],
    ['PendingReplicaDeletion', 'PENDING_DELETION'],
    ['PendingImport', 'KEY_STATE_NOT_ALLOWED'],
    ['Unavailable', 'KEY_STATE_NOT_ALLOWED'],
  ] as const)('refuses a key in state %s as %s', async (state, cause) => {
    // Prepare
    givenKey(metadata({ KeyState: state }));

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe(cause);
    expect(kms.commandCalls(GetKeyLastUsageCommand)).toHaveLength(0);
  });

  it('refuses a key used within minIdleDays as RECENTLY_USED', async () => {
    // Prepare
    givenKey(metadata(), {
      KeyCreationDate: CREATED,
      TrackingStartDate: CREATED,
      KeyLastUsage: { Operation: 'GenerateDataKey', Timestamp: daysBefore(3), CloudTrailEventId: 'ct-9' },
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('RECENTLY_USED');
    expect(assessment.causeText).toContain('GenerateDataKey');
    expect(assessment.usage?.classification).toBe('USED');
    expect(assessment.summaryText).toContain('Refused (RECENTLY_USED)');
  });

  it('refuses an UNKNOWN_BEFORE_TRACKING key whose history shows recent successful use', async () => {
    // Prepare
    givenKey(metadata(), { ...unknownBeforeTracking, TrackingStartDate: daysBefore(10) });
    findRecordsMock.mockResolvedValue({
      records: [record({ eventID: 'recent', eventTime: daysBefore(20).toISOString() })],
      scanned: 1,
      unparseable: 0,
      searchedFrom: daysBefore(365),
      ingestedAt: new Map(),
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('RECENTLY_USED');
    expect(assessment.refusal?.message).toContain('recent');
  });

  it('refuses a multi-Region primary with replicas', async () => {
    // Prepare
    givenKey(
      metadata({
        MultiRegion: true,
        MultiRegionConfiguration: {
          MultiRegionKeyType: 'PRIMARY',
          ReplicaKeys: [{ Region: 'eu-west-1' }, { Region: 'ap-south-1' }],
        },
      }),
    );

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('MULTI_REGION_PRIMARY_WITH_REPLICAS');
    expect(assessment.key?.replicaCount).toBe(2);
  });

  it('refuses a key another execution holds, even when its hold tags are on the second page', async () => {
    // Prepare
    givenKey(metadata({ KeyState: 'Disabled' }), undefined, {
      [TAGS.execution]: OTHER,
      [TAGS.status]: 'disabled',
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('HELD_BY_ANOTHER_EXECUTION');
    expect(kms.commandCalls(ListResourceTagsCommand)[1]?.args[0].input).toMatchObject({ Marker: 't1' });
  });

  it("refuses a key the hold registry records as another execution's, even when its tags were removed", async () => {
    // Prepare
    givenKey(metadata({ KeyState: 'Disabled' }));
    await holds.seed(newHold({ keyArn: KEY_ARN, executionArn: OTHER, wasEnabled: true, now: daysBefore(2) }));

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('HELD_BY_ANOTHER_EXECUTION');
    expect(assessment.refusal?.message).toContain(`held by another execution (${OTHER})`);
    expect(assessment.refusal?.message).toContain('they were removed outside the workflow');
  });

  it('does not refuse for a hold the registry records as ended, when no tag claims the key', async () => {
    // Prepare
    givenKey();
    await holds.seed({
      ...newHold({ keyArn: KEY_ARN, executionArn: OTHER, wasEnabled: true, now: daysBefore(40) }),
      phase: 'ended',
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
  });

  it('says the registry records no live hold when only the tags claim the key, and still refuses', async () => {
    // Prepare
    givenKey(metadata({ KeyState: 'Disabled' }), undefined, {
      [TAGS.execution]: OTHER,
      [TAGS.status]: 'disabled',
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('HELD_BY_ANOTHER_EXECUTION');
    expect(assessment.refusal?.message).toContain("The stack's hold registry records no live hold of it");
  });

  it('refuses an asymmetric key whose public key was downloaded', async () => {
    // Prepare
    givenKey(metadata({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    findRecordsMock.mockResolvedValue({
      records: [record({ eventID: 'pk-2', eventName: 'GetPublicKey' })],
      scanned: 1,
      unparseable: 0,
      searchedFrom: CREATED,
      ingestedAt: new Map(),
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(assessment.refusal?.message).toContain('pk-2');
  });

  it('refuses a key without the required tag', async () => {
    // Prepare
    givenKey();

    // Act
    const assessment = await handler(
      event(undefined, { config: { ...config, keyTagCondition: { key: 'retire', value: 'yes' } } }),
    );

    // Assess
    expect(assessment.refusal?.cause).toBe('TAG_CONDITION_NOT_MET');
  });
});

describe('assess handler: a public key whose download cannot be ruled out', () => {
  const SIGNING = metadata({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });

  it('accepts the key when the history reaches back to its creation and shows no download', async () => {
    // Prepare
    givenKey(SIGNING);
    findRecordsMock.mockResolvedValue({
      records: [],
      scanned: 0,
      unparseable: 0,
      searchedFrom: CREATED,
      ingestedAt: new Map(),
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.summaryText).toContain('no GetPublicKey found from 2024-01-01T00:00:00.000Z');
  });

  it('refuses, as if a download had been seen, when the history begins after the key was created', async () => {
    // Prepare
    givenKey(SIGNING);
    historyStartMock.mockResolvedValue({
      at: daysBefore(90),
      because: "the log group's retention of 90 days",
    });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(assessment.refusal?.message).toContain(
      `reaches back only to ${daysBefore(90).toISOString()} (the log group's retention of 90 days), not to the ` +
        `key's creation (${CREATED.toISOString()})`,
    );
    expect(assessment.refusal?.message).toContain(
      `A download of its public key before ${daysBefore(90).toISOString()} cannot be ruled out`,
    );
    expect(assessment.summaryText).toContain('cannot be ruled out');
    expect(assessment.summaryText).toContain('"allowExportedPublicKey": true');
  });

  it('accepts it with allowExportedPublicKey, saying in the warnings how far back the history reached', async () => {
    // Prepare
    givenKey(SIGNING);
    historyStartMock.mockResolvedValue({
      at: daysBefore(90),
      because: "the log group's creation",
    });

    // Act
    const assessment = await handler(event({ keyId: KEY_ID, allowExportedPublicKey: true }));

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.warnings.join(' ')).toContain(
      `searched for GetPublicKey only from ${daysBefore(90).toISOString()} (the log group's creation)`,
    );
    expect(assessment.summaryText).toContain('a download cannot be ruled out');
  });

  it('refuses when the history cannot be read, naming the error', async () => {
    // Prepare
    givenKey(SIGNING);
    findRecordsMock.mockRejectedValue(
      Object.assign(new Error('not authorized to perform logs:FilterLogEvents'), {
        name: 'AccessDeniedException',
      }),
    );

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(assessment.refusal?.message).toContain(
      'could not be searched for GetPublicKey (AccessDeniedException: not authorized',
    );
    expect(assessment.refusal?.message).toContain('cannot be ruled out');
  });

  it('searches within the invocation, and refuses when the history is longer than it may read', async () => {
    // Prepare
    givenKey(SIGNING);
    findRecordsMock.mockRejectedValue(
      new SearchIncompleteError('The search read 783 pages and ran out of its invocation time.'),
    );
    const context = { getRemainingTimeInMillis: () => 300_000 };

    // Act
    const assessment = await handler(event(), context);

    // Assess
    expect(findRecordsMock.mock.calls[0]?.[1]).toMatchObject({ reserveMs: 90_000 });
    expect(findRecordsMock.mock.calls[0]?.[1]?.remainingMs()).toBe(300_000);
    expect(assessment.refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(assessment.refusal?.message).toContain('SearchIncompleteError');
  });

  it('lets the same error reach the retry when allowExportedPublicKey is set, and throttling always', async () => {
    // Prepare
    givenKey(SIGNING);
    findRecordsMock.mockRejectedValueOnce(
      Object.assign(new Error('denied'), { name: 'AccessDeniedException' }),
    );
    findRecordsMock.mockRejectedValueOnce(
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
    );

    // Act
    const allowed = handler(event({ keyId: KEY_ID, allowExportedPublicKey: true }));
    await expect(allowed).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const throttled = handler(event());

    // Assess
    await expect(throttled).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('refuses when the trails that feed the log group do not log KMS read events', async () => {
    // Prepare
    givenKey(SIGNING);
    givenTrail([{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true }]);

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.refusal?.cause).toBe('PUBLIC_KEY_EXPORTED');
    expect(assessment.refusal?.message).toContain('would not record a GetPublicKey on this key');
    expect(cloudtrail.commandCalls(DescribeTrailsCommand)).toHaveLength(1);
  });

  it('does not refuse a symmetric key for a history that begins after its creation', async () => {
    // Prepare
    givenKey();
    historyStartMock.mockResolvedValue({ at: daysBefore(10), because: "the log group's creation" });

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(historyStartMock).not.toHaveBeenCalled();
  });
});

describe('assess handler: usage cadence', () => {
  const USED_200_DAYS_AGO: GetKeyLastUsageResponse = {
    KeyCreationDate: CREATED,
    TrackingStartDate: CREATED,
    KeyLastUsage: { Operation: 'Decrypt', Timestamp: daysBefore(200), CloudTrailEventId: 'q-3' },
  };

  function quarterlyUses() {
    return [380, 290, 200].map((days, i) => ({
      at: daysBefore(days).toISOString(),
      operation: 'Decrypt',
      eventID: `q-${i + 1}`,
      source: 'CloudTrail' as const,
    }));
  }

  it('searches the log group for earlier uses from where its history begins, with the observation', async () => {
    // Prepare
    givenKey(metadata(), USED_200_DAYS_AGO);
    historyStartMock.mockResolvedValue({
      at: daysBefore(365),
      because: "the log group's retention of 365 days",
    });

    // Act
    await handler(event({ keyId: KEY_ID, observationDays: 45 }));

    // Assess
    expect(searchEarlierUsesMock).toHaveBeenCalledTimes(1);
    expect(searchEarlierUsesMock.mock.calls[0]?.[0]).toMatchObject({
      logGroupName: 'org-trail',
      region: 'us-east-1',
      key: { keyId: KEY_ID, keyArn: KEY_ARN },
      from: daysBefore(365),
      to: NOW,
      observationDays: 45,
    });
  });

  it('refuses OBSERVATION_TOO_SHORT when known uses are further apart than the observation', async () => {
    // Prepare
    givenKey(metadata(), USED_200_DAYS_AGO);
    searchEarlierUsesMock.mockImplementation(async (q) => ({
      searchedFrom: q.from.toISOString(),
      reachedTo: q.to.toISOString(),
      complete: true,
      stoppedBy: null,
      uses: quarterlyUses(),
      requests: 9,
    }));

    // Act
    const assessment = await handler(event({ keyId: KEY_ID, observationDays: 30 }));

    // Assess
    expect(assessment.verdict).toBe('REFUSED');
    expect(assessment.refusal?.cause).toBe('OBSERVATION_TOO_SHORT');
    expect(assessment.refusal?.message).toContain('known successful uses 90 days apart');
    expect(assessment.refusal?.message).toContain('"observationDays": 90 or more');
    expect(assessment.usage?.cadence).toMatchObject({ knownUses: 3, observationDays: 30 });
    expect(assessment.summaryText).toContain('Refused (OBSERVATION_TOO_SHORT)');
  });

  it('accepts the same key with an observation that covers the gap, and shows the cadence in the e-mail', async () => {
    // Prepare
    givenKey(metadata(), USED_200_DAYS_AGO);
    searchEarlierUsesMock.mockImplementation(async (q) => ({
      searchedFrom: q.from.toISOString(),
      reachedTo: q.to.toISOString(),
      complete: true,
      stoppedBy: null,
      uses: quarterlyUses(),
      requests: 9,
    }));

    // Act
    const assessment = await handler(event({ keyId: KEY_ID, observationDays: 100 }));

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.summaryText).toMatch(
      /Earlier uses: +3 uses located \(busy stretches are sampled, not counted\); no gap between uses is longer than the 100-day observation/,
    );
  });

  it('warns, in days, when the only known use is older than the observation', async () => {
    // Prepare
    givenKey(metadata(), USED_200_DAYS_AGO);

    // Act
    const assessment = await handler(event());

    // Assess
    expect(assessment.verdict).toBe('ACCEPTED');
    expect(assessment.warnings.join('\n')).toContain(
      `Only one successful use of this key is known: Decrypt at ${daysBefore(200).toISOString()} ` +
        '(GetKeyLastUsage, event ID q-3), 200 days ago, longer ago than the 30-day observation.',
    );
  });

  it('does not search for the cadence of a key another rule refuses, nor of a key never used', async () => {
    // Prepare
    givenKey(metadata(), {
      KeyCreationDate: CREATED,
      TrackingStartDate: CREATED,
      KeyLastUsage: { Operation: 'Decrypt', Timestamp: daysBefore(3) },
    });

    // Act
    const recent = await handler(event());
    givenKey();
    const never = await handler(event());

    // Assess
    expect(recent.refusal?.cause).toBe('RECENTLY_USED');
    expect(never.verdict).toBe('ACCEPTED');
    expect(searchEarlierUsesMock).not.toHaveBeenCalled();
  });

  it('lets a failing cadence search reach the retry instead of reading it as no earlier use', async () => {
    // Prepare
    givenKey(metadata(), USED_200_DAYS_AGO);
    searchEarlierUsesMock.mockRejectedValue(
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
    );

    // Act
    const act = handler(event());

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('assess handler: errors the workflow retries', () => {
  it('lets throttling propagate', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    kms.on(DescribeKeyCommand).rejects(throttled);

    // Act
    const act = handler(event());

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('lets KMSInternalException from GetKeyLastUsage propagate', async () => {
    // Prepare
    givenKey();
    kms.on(GetKeyLastUsageCommand).rejects(new KMSInternalException({ message: 'internal', $metadata: {} }));

    // Act
    const act = handler(event());

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'KMSInternalException' });
  });

  it('fails, rather than accepts, when the CloudTrail history cannot be read', async () => {
    // Prepare
    givenKey(metadata(), unknownBeforeTracking);
    findRecordsMock.mockRejectedValue(
      Object.assign(new Error('log group not found'), { name: 'EventSourceUnavailableError' }),
    );

    // Act
    const act = handler(event());

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'EventSourceUnavailableError' });
  });

  it('fails when GetKeyLastUsage gives no TrackingStartDate', async () => {
    // Prepare
    givenKey(metadata(), { KeyCreationDate: CREATED, KeyLastUsage: {} });

    // Act
    const act = handler(event());

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'InvalidUsageDateError' });
  });

  it.each([
    ['no config', { input: { keyId: KEY_ID }, executionArn: EXECUTION }],
    ['a bad execution ARN', { input: { keyId: KEY_ID }, config, executionArn: 'run-1' }],
    [
      'a config without a log group',
      { input: {}, config: { ...config, cloudTrailLogGroupName: '' }, executionArn: EXECUTION },
    ],
  ])('throws InvalidHandlerEventError for an envelope with %s', async (_label, bad) => {
    // Act
    const act = handler(bad as unknown as AssessEvent);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'InvalidHandlerEventError' });
    expect(kms.calls()).toHaveLength(0);
  });
});
