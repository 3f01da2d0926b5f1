import { ConfigServiceClient, SelectResourceConfigCommand } from '@aws-sdk/client-config-service';
import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { emulatorRequestCounts } from '../../../../lib/simulator/emulator/server.js';
import { useEmulatorServer } from './fixtures.js';
import { accountWith, denyAll, ids, inProcessClient, rejection } from './inventory-fixtures.js';

describe('inventory services behind the emulator router', () => {
  const emulator = useEmulatorServer((clock) =>
    accountWith(
      [
        ...ids('vol-', 3).map((id) => ({ type: 'AWS::EC2::Volume' as const, id })),
        { type: 'AWS::S3::Bucket', id: 'archive-bucket' },
      ],
      clock,
    ),
  );

  it('answers over HTTP exactly as in process', async () => {
    // Prepare
    const overHttp = emulator.client(EC2Client);
    const inProcess = inProcessClient(EC2Client, emulator.account);
    const s3Http = new S3Client({
      region: 'us-east-1',
      endpoint: emulator.server.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });

    // Act
    const http = await overHttp.send(new DescribeVolumesCommand({}));
    const local = await inProcess.send(new DescribeVolumesCommand({}));
    const bucket = await s3Http.send(new GetBucketEncryptionCommand({ Bucket: 'archive-bucket' }));

    // Assess
    expect(http.Volumes).toEqual(local.Volumes);
    expect(http.Volumes).toHaveLength(3);
    expect(
      bucket.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    ).toBe('aws:kms');
  });

  it('still hands SNS its Query requests, and counts each inventory request under its service', async () => {
    // Prepare
    const before = emulatorRequestCounts();
    const sns = inProcessClient(SNSClient, emulator.account);

    // Act
    await sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:111122223333:t', Message: 'hi' }));
    await inProcessClient(EC2Client, emulator.account).send(new DescribeVolumesCommand({}));

    // Assess
    const after = emulatorRequestCounts();
    expect((after.sns ?? 0) - (before.sns ?? 0)).toBe(1);
    expect((after.ec2 ?? 0) - (before.ec2 ?? 0)).toBe(1);
    expect(emulator.account.sns.published()).toHaveLength(1);
  });
});

describe('faults of the Scheduler and of AWS Config', () => {
  it('answers a denied CreateSchedule with AccessDeniedException (403)', async () => {
    // Prepare
    const account = accountWith([]);
    denyAll(account, 'scheduler');
    const scheduler = inProcessClient(SchedulerClient, account);

    // Act
    const error = await rejection(
      scheduler.send(
        new CreateScheduleCommand({
          Name: 'check-1',
          ScheduleExpression: 'at(2026-01-02T00:00:00)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: 'arn:aws:lambda:us-east-1:111122223333:function:f',
            RoleArn: 'arn:aws:iam::111122223333:role/r',
          },
        }),
      ),
    );

    // Assess
    expect([error.name, error.$metadata?.httpStatusCode]).toEqual(['AccessDeniedException', 403]);
    expect(error.message).toContain('scheduler:CreateSchedule');
  });

  it('applies a config fault first and otherwise says the emulated Config answers no query', async () => {
    // Prepare
    const account = accountWith([]);
    const config = inProcessClient(ConfigServiceClient, account);
    const query = new SelectResourceConfigCommand({
      Expression: "SELECT resourceId WHERE resourceType = 'AWS::EC2::Volume'",
    });

    // Act
    const unanswered = await rejection(config.send(query));
    account.addFault({
      service: 'config',
      operation: 'SelectResourceConfig',
      error: 'ThrottlingException',
      from: new Date(0),
      until: new Date(8.64e15),
    });
    const throttled = await rejection(config.send(query));

    // Assess
    expect(unanswered.name).toBe('UnknownOperationException');
    expect(throttled.name).toBe('ThrottlingException');
  });
});
