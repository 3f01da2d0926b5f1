import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  ACCOUNT,
  APP_ROLE,
  KEY_ID,
  LOG_GROUP,
  MINUTE,
  OTHER_KEY_ID,
  REGION,
  START,
  TestClock,
} from './fixtures.js';
import { accountWith, DECOY, inProcessClient, SUBJECT } from './inventory-fixtures.js';

const ADMIN = `arn:aws:iam::${ACCOUNT}:role/admin`;

describe('emulated CloudWatch Logs: log groups encrypted under a key', () => {
  it('reports the key ARN of a protected log group and of the CloudTrail group', async () => {
    // Prepare
    const account = accountWith([{ type: 'AWS::Logs::LogGroup', id: '/app/audit' }]);
    account.setLogGroupKey(DECOY.arn);
    const logs = inProcessClient(CloudWatchLogsClient, account);

    // Act
    const answer = await logs.send(new DescribeLogGroupsCommand({}));

    // Assess
    expect(answer.logGroups?.map((group) => [group.logGroupName, group.kmsKeyId])).toEqual([
      ['/app/audit', SUBJECT.arn],
      [LOG_GROUP, DECOY.arn],
    ]);
  });

  it('stores nothing that arrives while the group’s key is disabled, in-flight records included', async () => {
    // Prepare: the CloudTrail group is encrypted under the decoy key; records arrive 5 minutes late.
    const clock = new TestClock(START);
    const account = accountWith([], clock);
    account.setLogGroupKey(DECOY.arn);
    const logs = inProcessClient(CloudWatchLogsClient, account);
    const decrypt = () => account.appCall({ keyId: KEY_ID, operation: 'Encrypt', principalArn: APP_ROLE });
    const manage = (operation: string) =>
      account.appCall({ keyId: OTHER_KEY_ID, operation, principalArn: ADMIN });

    // Act
    decrypt(); // delivered at +5m while the key is enabled: stored
    clock.advance(10 * MINUTE);
    decrypt(); // in flight when the key is disabled a minute later: lost
    clock.advance(MINUTE);
    manage('DisableKey'); // its own record arrives while disabled: lost
    clock.advance(20 * MINUTE);
    decrypt(); // arrives 3 minutes after the key is enabled again: stored
    clock.advance(2 * MINUTE);
    manage('EnableKey'); // stored
    clock.advance(30 * MINUTE);
    const found = await logs.send(new FilterLogEventsCommand({ logGroupName: LOG_GROUP, startTime: 0 }));

    // Assess
    const names = (found.events ?? []).map((event) => JSON.parse(event.message ?? '{}').eventName);
    expect(names).toEqual(['Encrypt', 'Encrypt', 'EnableKey']);
    expect(account.logEventsInWindow(0, clock.now().getTime())).toBe(3);
  });

  it('keeps storing records while a key other than the group’s is disabled', async () => {
    // Prepare
    const clock = new TestClock(START);
    const account = accountWith([], clock);
    account.setLogGroupKey(DECOY.arn);
    const logs = inProcessClient(CloudWatchLogsClient, account);

    // Act
    account.appCall({ keyId: KEY_ID, operation: 'DisableKey', principalArn: ADMIN });
    clock.advance(10 * MINUTE);
    const found = await logs.send(new FilterLogEventsCommand({ logGroupName: LOG_GROUP, startTime: 0 }));

    // Assess
    expect(found.events).toHaveLength(1);
  });

  it('refuses a log group key the account does not have', () => {
    // Prepare
    const account = accountWith([]);

    // Act / Assess
    expect(() => account.setLogGroupKey(`arn:aws:kms:${REGION}:${ACCOUNT}:key/unknown`)).toThrow(
      /is not a key of the account/,
    );
  });
});

describe('emulated CloudTrail: trails encrypted under a key', () => {
  it('reports the watched trail’s key and the account’s other trails with theirs, in their Region', async () => {
    // Prepare
    const account = accountWith([
      { type: 'AWS::CloudTrail::Trail', id: 'management-events' },
      { type: 'AWS::CloudTrail::Trail', id: 'data-events', key: DECOY },
      { type: 'AWS::CloudTrail::Trail', id: 'eu-trail', region: 'eu-west-1' },
    ]);
    const cloudtrail = inProcessClient(CloudTrailClient, account);

    // Act
    const here = await cloudtrail.send(new DescribeTrailsCommand({}));
    const named = await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: ['data-events'] }));

    // Assess
    expect(here.trailList?.map((trail) => [trail.Name, trail.KmsKeyId])).toEqual([
      ['management-events', SUBJECT.arn],
      ['data-events', DECOY.arn],
    ]);
    expect(named.trailList?.map((trail) => trail.TrailARN)).toEqual([
      `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/data-events`,
    ]);
  });
});
