import {
  DescribeLogGroupsCommand,
  type FilteredLogEvent,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { DecryptCommand, DisableKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import {
  ACCOUNT,
  APP_ROLE,
  DAY,
  KEY_ARN,
  KEY_ID,
  LOG_GROUP,
  MINUTE,
  newAccount,
  REGION,
  START,
  TestClock,
  useEmulatorServer,
  WORKFLOW_ROLE,
} from './fixtures.js';

interface Record {
  eventID: string;
  eventName: string;
  eventTime: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: { keyId?: string } | null;
  responseElements: unknown;
  resources?: { ARN: string; accountId: string; type: string }[];
  userIdentity: {
    type: string;
    arn: string;
    accountId: string;
    sessionContext: { sessionIssuer: { arn: string } };
  };
  readOnly: boolean;
  eventVersion: string;
  eventType: string;
  managementEvent: boolean;
  recipientAccountId: string;
  awsRegion: string;
  eventSource: string;
}

const parse = (event: FilteredLogEvent): Record => JSON.parse(event.message ?? '{}') as Record;

describe('emulated CloudWatch Logs with CloudTrail records', () => {
  const emulator = useEmulatorServer((clock) => newAccount(clock, { filterScanPageSize: 3 }));

  async function filterAll(
    filterPattern: string,
    startTime = START.getTime() - DAY,
  ): Promise<{ events: FilteredLogEvent[]; pages: FilterLogEventsCommandOutput[] }> {
    const pages: FilterLogEventsCommandOutput[] = [];
    let nextToken: string | undefined;
    do {
      const page = await emulator.logs().send(
        new FilterLogEventsCommand({
          logGroupName: LOG_GROUP,
          startTime,
          endTime: emulator.clock.now().getTime(),
          filterPattern,
          nextToken,
        }),
      );
      pages.push(page);
      nextToken = page.nextToken;
    } while (nextToken);
    return { events: pages.flatMap((page) => page.events ?? []), pages };
  }

  it('writes a failed Decrypt in the real CloudTrail shape, visible only after the delivery lag', async () => {
    // Prepare
    emulator.account.appCall({ keyId: KEY_ID, operation: 'DisableKey', principalArn: WORKFLOW_ROLE });
    emulator.clock.advance(MINUTE);
    emulator.account.appCall({
      keyId: KEY_ID,
      operation: 'Decrypt',
      principalArn: APP_ROLE,
      omitKeyId: true,
    });
    const pattern = '{ $.errorCode = "DisabledException" }';

    // Act
    const beforeLag = await filterAll(pattern);
    emulator.clock.advance(5 * MINUTE);
    const afterLag = await filterAll(pattern);

    // Assess
    expect(beforeLag.events).toHaveLength(0);
    expect(afterLag.events).toHaveLength(1);
    const record = parse(afterLag.events[0] as FilteredLogEvent);
    expect(record).toMatchObject({
      eventVersion: '1.08',
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      eventTime: '2026-01-01T00:01:00Z',
      awsRegion: REGION,
      errorCode: 'DisabledException',
      errorMessage: `${KEY_ARN} is disabled.`,
      responseElements: null,
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: KEY_ARN }],
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/app`,
        accountId: ACCOUNT,
        sessionContext: { sessionIssuer: { arn: APP_ROLE } },
      },
    });
    expect(record.requestParameters).not.toHaveProperty('keyId');
    expect(record.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(afterLag.events[0]?.timestamp).toBe(Date.parse('2026-01-01T00:01:00Z'));
  });

  it('a per-call delivery lag overrides the default', async () => {
    // Prepare
    emulator.account.appCall({
      keyId: KEY_ID,
      operation: 'Encrypt',
      principalArn: APP_ROLE,
      deliveryLagMs: 40 * MINUTE,
    });
    emulator.clock.advance(30 * MINUTE);

    // Act
    const early = await filterAll('{ $.eventName = "Encrypt" }');
    emulator.clock.advance(10 * MINUTE);
    const due = await filterAll('{ $.eventName = "Encrypt" }');

    // Assess
    expect(early.events).toHaveLength(0);
    expect(due.events).toHaveLength(1);
  });

  it('a failed workflow call over HTTP is recorded with the workflow role and the key ARN', async () => {
    // Prepare
    await emulator.kms().send(new DisableKeyCommand({ KeyId: KEY_ID }));
    await emulator
      .kms()
      .send(new DecryptCommand({ KeyId: KEY_ID, CiphertextBlob: Buffer.from('garbage') }))
      .catch(() => undefined);
    emulator.clock.advance(10 * MINUTE);

    // Act
    const { events } = await filterAll('{ $.eventName = "Decrypt" }');

    // Assess
    const record = parse(events[0] as FilteredLogEvent);
    expect(record.userIdentity.sessionContext.sessionIssuer.arn).toBe(WORKFLOW_ROLE);
    expect(record.requestParameters?.keyId).toBe(KEY_ID);
    expect(record.resources?.[0]?.ARN).toBe(KEY_ARN);
    expect(record.errorCode).toBeDefined();
  });

  it('pages FilterLogEvents, returning an empty page with a nextToken when a scanned stretch holds no match', async () => {
    // Prepare: 3 events per scan page; the one match is the 7th event.
    for (let i = 0; i < 6; i += 1) {
      emulator.account.appCall({ keyId: KEY_ID, operation: 'Encrypt', principalArn: APP_ROLE });
      emulator.clock.advance(MINUTE);
    }
    emulator.account.appCall({ keyId: KEY_ID, operation: 'DisableKey', principalArn: WORKFLOW_ROLE });
    emulator.clock.advance(10 * MINUTE);

    // Act
    const { events, pages } = await filterAll('{ $.eventName = "DisableKey" }');

    // Assess
    expect(pages.length).toBe(3);
    expect(pages[0]?.events).toEqual([]);
    expect(pages[0]?.nextToken).toBeDefined();
    expect(events.map((event) => parse(event).eventName)).toEqual(['DisableKey']);
    expect(emulator.account.stats()).toMatchObject({
      logEventsScanned: 7,
      logEventsReturned: 1,
      filterLogEventsCalls: 3,
    });
  });

  it('honours limit and resumes after the last returned event', async () => {
    // Prepare
    const account = newAccount(emulator.clock);
    emulator.server.setAccount(account);
    for (let i = 0; i < 5; i += 1) {
      account.appCall({ keyId: KEY_ID, operation: 'Encrypt', principalArn: APP_ROLE });
      emulator.clock.advance(MINUTE);
    }
    emulator.clock.advance(10 * MINUTE);
    const request = { logGroupName: LOG_GROUP, startTime: 0, limit: 2 };

    // Act
    const first = await emulator.logs().send(new FilterLogEventsCommand(request));
    const second = await emulator
      .logs()
      .send(new FilterLogEventsCommand({ ...request, nextToken: first.nextToken }));

    // Assess
    expect(first.events).toHaveLength(2);
    expect(second.events).toHaveLength(2);
    expect(second.events?.[0]?.timestamp).toBeGreaterThan(first.events?.[1]?.timestamp ?? Number.MAX_VALUE);
  });

  it('refuses a nextToken older than 24 hours, as the API reference says it expires', async () => {
    // Prepare
    const account = newAccount(emulator.clock);
    emulator.server.setAccount(account);
    for (let i = 0; i < 5; i += 1) {
      account.appCall({ keyId: KEY_ID, operation: 'Encrypt', principalArn: APP_ROLE });
      emulator.clock.advance(MINUTE);
    }
    emulator.clock.advance(10 * MINUTE);
    const request = {
      logGroupName: LOG_GROUP,
      startTime: 0,
      endTime: emulator.clock.now().getTime(),
      limit: 2,
    };
    const first = await emulator.logs().send(new FilterLogEventsCommand(request));
    emulator.clock.advance(DAY - MINUTE);
    const inTime = await emulator
      .logs()
      .send(new FilterLogEventsCommand({ ...request, nextToken: first.nextToken }));
    emulator.clock.advance(2 * MINUTE);

    // Act
    const late = emulator.logs().send(new FilterLogEventsCommand({ ...request, nextToken: first.nextToken }));

    // Assess
    expect(inTime.events).toHaveLength(2);
    await expect(late).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('matches filter patterns exactly: an alias that only starts like ours does not match', async () => {
    // Prepare
    emulator.account.addKey({
      keyId: 'aaaa1111-12ab-34cd-56ef-1234567890ab',
      createdAt: START,
      aliases: ['alias/legacy-v2'],
    });
    emulator.account.appCall({ keyId: 'alias/legacy-v2', operation: 'Encrypt', principalArn: APP_ROLE });
    emulator.account.appCall({ keyId: 'alias/legacy', operation: 'Encrypt', principalArn: APP_ROLE });
    emulator.clock.advance(10 * MINUTE);

    // Act
    const exact = await filterAll('{ $.requestParameters.keyId = "alias/legacy" }');
    const prefix = await filterAll('{ $.requestParameters.keyId = "alias/legacy*" }');
    const byResource = await filterAll(
      `{ ($.resources[0].ARN = "${KEY_ARN}") && $.eventName != "DisableKey" }`,
    );

    // Assess
    expect(exact.events.map((event) => parse(event).requestParameters?.keyId)).toEqual(['alias/legacy']);
    expect(prefix.events).toHaveLength(2);
    expect(byResource.events.map((event) => parse(event).resources?.[0]?.ARN)).toEqual([KEY_ARN]);
  });

  it('a missing log group is ResourceNotFoundException', async () => {
    // Act
    const error = await emulator
      .logs()
      .send(new FilterLogEventsCommand({ logGroupName: 'no-such-group' }))
      .catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
  });

  it('DescribeLogGroups reports retention and stored bytes', async () => {
    // Prepare
    emulator.account.appCall({ keyId: KEY_ID, operation: 'Encrypt', principalArn: APP_ROLE });

    // Act
    const result = await emulator
      .logs()
      .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'aws-cloudtrail' }));
    const none = await emulator.logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'other' }));

    // Assess
    expect(result.logGroups).toHaveLength(1);
    expect(result.logGroups?.[0]).toMatchObject({ logGroupName: LOG_GROUP, retentionInDays: 365 });
    expect(result.logGroups?.[0]?.storedBytes).toBeGreaterThan(100);
    expect(none.logGroups).toEqual([]);
  });

  it('drops events older than retention', async () => {
    // Prepare
    emulator.account.appCall({
      keyId: KEY_ID,
      operation: 'Encrypt',
      principalArn: APP_ROLE,
      at: new Date(START.getTime() - 400 * DAY),
    });
    emulator.account.appCall({
      keyId: KEY_ID,
      operation: 'Encrypt',
      principalArn: APP_ROLE,
      at: new Date(START.getTime() - 100 * DAY),
    });

    // Act
    const { events } = await filterAll('', 0);

    // Assess
    expect(events.map((event) => parse(event).eventTime)).toEqual(['2025-09-23T00:00:00Z']);
  });

  it('background noise is deterministic, names other keys only, and costs scanning', async () => {
    // Prepare
    const account = newAccount(emulator.clock, { filterScanPageSize: 5000 });
    emulator.server.setAccount(account);
    account.addBackgroundRecords(2000, new Date(START.getTime() - 10 * DAY), START, 42);
    const twin = newAccount(new TestClock());
    twin.addBackgroundRecords(2000, new Date(START.getTime() - 10 * DAY), START, 42);
    emulator.clock.advance(10 * MINUTE);

    // Act
    const disabled = await filterAll('{ $.errorCode = "DisabledException" }', START.getTime() - 11 * DAY);
    const twinPage = twin.serve(
      'logs',
      'FilterLogEvents',
      { logGroupName: LOG_GROUP, limit: 5, startTime: 0 },
      {
        principalArn: WORKFLOW_ROLE,
        account: ACCOUNT,
        region: REGION,
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
    );
    const ours = await emulator
      .logs()
      .send(new FilterLogEventsCommand({ logGroupName: LOG_GROUP, limit: 5, startTime: 0 }));

    // Assess
    expect(disabled.events.length).toBeGreaterThan(0);
    expect(disabled.events.every((event) => !event.message?.includes(KEY_ID))).toBe(true);
    expect(account.stats().logEventsScanned).toBeGreaterThanOrEqual(2000);
    expect((twinPage.body.events as FilteredLogEvent[]).map((event) => event.message)).toEqual(
      ours.events?.map((event) => event.message),
    );
  });

  it('sees successful workflow Encrypt calls over HTTP as records too', async () => {
    // Prepare
    await emulator.kms().send(new EncryptCommand({ KeyId: 'alias/legacy', Plaintext: Buffer.from('x') }));
    emulator.clock.advance(10 * MINUTE);

    // Act
    const { events } = await filterAll(
      '{ $.requestParameters.keyId = "alias/legacy" && $.errorCode NOT EXISTS }',
    );

    // Assess
    expect(events).toHaveLength(1);
    expect(parse(events[0] as FilteredLogEvent).resources?.[0]?.ARN).toBe(KEY_ARN);
  });
});
