import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.AWS_REGION = 'us-east-1';
  process.env.KDG_TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:guard-topic';
});

import { handler } from '../../../lambdas/alarm-relay/index.js';
import { MAX_SUBJECT_LENGTH } from '../../../lambdas/domain/subject.js';

const sns = mockClient(SNSClient);
const ALARM_ARN = 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:Guard-RestoreFailed';

/** The payload CloudWatch sends to a Lambda alarm action. */
function alarmEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: 'aws.cloudwatch',
    alarmArn: ALARM_ARN,
    accountId: '111122223333',
    time: '2026-02-12T06:05:00.000+0000',
    region: 'us-east-1',
    alarmData: {
      alarmName: 'Guard-RestoreFailed',
      state: {
        value: 'ALARM',
        reason:
          'Threshold Crossed: 1 datapoint [1.0 (12/02/26 06:00:00)] was greater than or equal to the threshold (1.0).',
        timestamp: '2026-02-12T06:05:00.000+0000',
      },
      previousState: { value: 'OK', reason: 'no data', timestamp: '2026-02-11T06:05:00.000+0000' },
      configuration: { description: 'A restore failed: check the key by hand.', metrics: [] },
    },
    ...overrides,
  };
}

describe('alarm-relay handler', () => {
  beforeEach(() => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  afterEach(() => {
    sns.reset();
    vi.unstubAllEnvs();
  });

  it('publishes the alarm to the notifications topic with what it means first', async () => {
    // Act
    const relayed = await handler(alarmEvent());

    // Assess
    expect(relayed).toEqual({ alarmName: 'Guard-RestoreFailed', state: 'ALARM', messageId: 'm-1' });
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:guard-topic',
      Subject: 'ALARM: kms-deletion-guard alarm Guard-RestoreFailed',
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'alarm' },
        alarm: { DataType: 'String', StringValue: 'Guard-RestoreFailed' },
      },
    });
    const lines = input?.Message?.split('\n') ?? [];
    expect(lines[0]).toBe('A restore failed: check the key by hand.');
    expect(lines).toContain('State: ALARM since 2026-02-12T06:05:00.000+0000');
    expect(lines).toContain(`Alarm: ${ALARM_ARN}`);
    expect(lines).toContain(
      'Console: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/Guard-RestoreFailed',
    );
    expect(lines.some((line) => line.startsWith('Reason: Threshold Crossed'))).toBe(true);
  });

  it('keeps the subject within what SNS accepts: fewer than 100 printable ASCII characters', async () => {
    // Prepare
    const event = alarmEvent();
    const data = event.alarmData as Record<string, unknown>;
    const longName = `Guard-${'x'.repeat(120)}-é`;

    // Act
    await handler({ ...event, alarmData: { ...data, alarmName: longName } });

    // Assess
    const subject = sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject ?? '';
    expect(subject).toHaveLength(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('refuses an event that is not an alarm action, naming what is missing, and publishes nothing', async () => {
    // Act
    const relayed = handler({ source: 'aws.cloudwatch', alarmArn: ALARM_ARN });

    // Assess
    await expect(relayed).rejects.toMatchObject({
      name: 'InvalidHandlerEventError',
      message: expect.stringContaining('alarmData'),
    });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('fails with a named error, publishing nothing, when the template gave it no topic', async () => {
    // Prepare
    vi.stubEnv('KDG_TOPIC_ARN', '');

    // Act
    const relayed = handler(alarmEvent());

    // Assess
    await expect(relayed).rejects.toMatchObject({
      name: 'AlarmRelaySettingsError',
      variables: ['KDG_TOPIC_ARN'],
    });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('lets a failed publish fail the invocation, so Lambda retries it', async () => {
    // Prepare
    sns.on(PublishCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottledException' }));

    // Act
    const relayed = handler(alarmEvent());

    // Assess
    await expect(relayed).rejects.toMatchObject({ name: 'ThrottledException' });
  });
});
