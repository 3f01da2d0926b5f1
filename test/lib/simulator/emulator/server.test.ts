import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { regionOfAuthorization, startEmulatorServer } from '../../../../lib/simulator/emulator/server.js';
import { DAY, KEY_ARN, KEY_ID, LOG_GROUP, MINUTE, START, useEmulatorServer } from './fixtures.js';

describe('emulator server', () => {
  const emulator = useEmulatorServer();

  it('is one server per process', async () => {
    // Act
    const again = await startEmulatorServer();

    // Assess
    expect(again).toBe(emulator.server);
  });

  it('answers with JSON 1.1, a request ID and the virtual emulator.clock in the Date header', async () => {
    // Act
    const response = await fetch(emulator.server.url, {
      method: 'POST',
      headers: {
        'X-Amz-Target': 'TrentService.DescribeKey',
        'Content-Type': 'application/x-amz-json-1.1',
        Authorization:
          'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ KeyId: 'nope' }),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('date')).toBe(START.toUTCString());
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({ __type: 'NotFoundException', message: "Invalid keyId 'nope'" });
  });

  it('takes the caller Region from the SigV4 credential scope', async () => {
    // Prepare
    const client = new KMSClient({
      region: 'eu-west-1',
      endpoint: emulator.server.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });

    // Act
    const error = await client.send(new DescribeKeyCommand({ KeyId: KEY_ID })).catch((e: Error) => e);

    // Assess
    expect(
      regionOfAuthorization('AWS4-HMAC-SHA256 Credential=AKID/20260101/ap-south-1/logs/aws4_request'),
    ).toBe('ap-south-1');
    expect(error).toMatchObject({
      name: 'NotFoundException',
      message: `Key 'arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}' does not exist`,
    });
    expect(emulator.account.records()[0]?.record.awsRegion).toBe('eu-west-1');
  });

  describe('faults', () => {
    it('fail workflow calls count times with the AWS error, are still recorded, and spare application calls', async () => {
      // Prepare
      emulator.account.addFault({
        service: 'kms',
        operation: 'DisableKey',
        error: 'KMSInternalException',
        from: START,
        until: new Date(START.getTime() + DAY),
        count: 2,
      });

      // Act
      const first = await emulator
        .kms()
        .send(new DisableKeyCommand({ KeyId: KEY_ID }))
        .catch((e: Error) => e);
      const app = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'DisableKey',
        principalArn: 'arn:aws:iam::111122223333:role/admin',
      });
      emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'EnableKey',
        principalArn: 'arn:aws:iam::111122223333:role/admin',
      });
      const second = await emulator
        .kms()
        .send(new DisableKeyCommand({ KeyId: KEY_ID }))
        .catch((e: Error) => e);
      const third = await emulator.kms().send(new DisableKeyCommand({ KeyId: KEY_ID }));

      // Assess
      expect(first).toMatchObject({ name: 'KMSInternalException', $metadata: { httpStatusCode: 500 } });
      expect(app.ok).toBe(true);
      expect(second).toMatchObject({ name: 'KMSInternalException' });
      expect(third.$metadata.httpStatusCode).toBe(200);
      const failed = emulator.account.records().filter((r) => r.record.errorCode === 'KMSInternalException');
      expect(failed).toHaveLength(2);
      expect(failed[0]?.record.resources?.[0]?.ARN).toBe(KEY_ARN);
      expect(emulator.account.stats().faultsFired).toBe(2);
    });

    it('apply only inside their time range', async () => {
      // Prepare
      emulator.account.addFault({
        service: 'kms',
        operation: '*',
        error: 'ThrottlingException',
        from: new Date(START.getTime() + DAY),
        until: new Date(START.getTime() + 2 * DAY),
      });

      // Act
      const before = await emulator.kms().send(new DescribeKeyCommand({ KeyId: KEY_ID }));
      emulator.clock.advance(DAY + MINUTE);
      const during = await emulator
        .kms()
        .send(new DescribeKeyCommand({ KeyId: KEY_ID }))
        .catch((e: Error) => e);
      emulator.clock.advance(DAY);
      const after = await emulator.kms().send(new DescribeKeyCommand({ KeyId: KEY_ID }));

      // Assess
      expect(before.KeyMetadata?.KeyId).toBe(KEY_ID);
      expect(during).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
      expect(after.KeyMetadata?.KeyId).toBe(KEY_ID);
    });

    it('model a missing log group on logs *', async () => {
      // Prepare
      emulator.account.addFault({
        service: 'logs',
        operation: '*',
        error: 'ResourceNotFoundException',
        from: START,
        until: new Date(START.getTime() + DAY),
      });

      // Act
      const error = await emulator
        .logs()
        .send(new FilterLogEventsCommand({ logGroupName: LOG_GROUP }))
        .catch((e: Error) => e);

      // Assess
      expect(error).toMatchObject({
        name: 'ResourceNotFoundException',
        message: 'The specified log group does not exist.',
      });
    });

    it('are absorbed by SDK retries when count is below maxAttempts', async () => {
      // Prepare
      emulator.account.addFault({
        service: 'kms',
        operation: 'DescribeKey',
        error: 'DependencyTimeoutException',
        from: START,
        until: new Date(START.getTime() + DAY),
        count: 1,
      });
      const client = new KMSClient({
        region: 'us-east-1',
        endpoint: emulator.server.url,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 2,
      });

      // Act
      const result = await client.send(new DescribeKeyCommand({ KeyId: KEY_ID }));

      // Assess
      expect(result.KeyMetadata?.KeyId).toBe(KEY_ID);
      expect(result.$metadata.attempts).toBe(2);
    });
  });

  it('answers 503 when no emulator.account is set', async () => {
    // Prepare
    emulator.server.setAccount(null);

    // Act
    const error = await emulator
      .kms()
      .send(new DescribeKeyCommand({ KeyId: KEY_ID }))
      .catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'ServiceUnavailableException' });
  });
});
