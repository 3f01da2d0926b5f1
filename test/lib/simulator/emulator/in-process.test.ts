import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HttpRequest } from '@smithy/core/protocols';
import {
  emulatorRequestCounts,
  InProcessEmulatorHandler,
  startEmulatorServer,
} from '../../../../lib/simulator/emulator/server.js';
import { DAY, KEY_ID, LOG_GROUP, newAccount, REGION, START, useEmulatorServer } from './fixtures.js';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=x/20260101/eu-west-1/kms/aws4_request, SignedHeaders=host, Signature=0';

interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const REQUESTS: Record<string, RawRequest> = {
  'KMS DescribeKey': {
    method: 'POST',
    path: '/',
    headers: {
      'X-Amz-Target': 'TrentService.DescribeKey',
      'Content-Type': 'application/x-amz-json-1.1',
      Authorization: AUTHORIZATION,
    },
    body: JSON.stringify({ KeyId: 'alias/legacy' }),
  },
  'KMS error': {
    method: 'POST',
    path: '/',
    headers: { 'X-Amz-Target': 'TrentService.DescribeKey', 'Content-Type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({ KeyId: 'nope' }),
  },
  'malformed JSON': {
    method: 'POST',
    path: '/',
    headers: { 'X-Amz-Target': 'TrentService.DescribeKey', 'Content-Type': 'application/x-amz-json-1.1' },
    body: '{',
  },
  'unknown target': {
    method: 'POST',
    path: '/',
    headers: { 'X-Amz-Target': 'Nobody.Nothing', 'Content-Type': 'application/x-amz-json-1.1' },
    body: '{}',
  },
  'Step Functions': {
    method: 'POST',
    path: '/',
    headers: {
      'X-Amz-Target': 'AWSStepFunctions.SendTaskHeartbeat',
      'Content-Type': 'application/x-amz-json-1.0',
    },
    body: JSON.stringify({ taskToken: 'unknown' }),
  },
  'SNS Query': {
    method: 'POST',
    path: '/',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A111122223333%3At&Message=hi',
  },
  'Scheduler REST': {
    method: 'DELETE',
    path: '/schedules/missing',
    headers: { 'Content-Type': 'application/json' },
    body: '',
  },
};

/** What a client can observe of an answer: status, headers (minus the socket's own) and body bytes. */
interface Observed {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const SOCKET_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding']);

function observed(status: number, headers: Iterable<[string, string]>, body: Uint8Array): Observed {
  const kept = [...headers]
    .filter(([name]) => !SOCKET_HEADERS.has(name))
    .sort(([a], [b]) => a.localeCompare(b));
  return { status, headers: Object.fromEntries(kept), body: Buffer.from(body).toString('base64') };
}

describe('in-process emulator handler', () => {
  const emulator = useEmulatorServer(null);

  it.each(Object.keys(REQUESTS))(
    'answers %s with the same status, headers and bytes as the HTTP server',
    async (name) => {
      // Prepare: two identical accounts, so deterministic request IDs match.
      const request = REQUESTS[name] as RawRequest;
      emulator.server.setAccount(newAccount(emulator.clock));
      const handler = new InProcessEmulatorHandler();
      handler.setAccount(newAccount(emulator.clock));

      // Act
      const overHttp = await fetch(`${emulator.server.url}${request.path}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body ? { body: request.body } : {}),
      });
      const inProcess = await handler.handle(
        new HttpRequest({
          method: request.method,
          protocol: 'http:',
          hostname: 'emulator.invalid',
          path: request.path,
          headers: request.headers,
          body: request.body,
        }),
      );

      // Assess
      const http = observed(
        overHttp.status,
        overHttp.headers.entries(),
        new Uint8Array(await overHttp.arrayBuffer()),
      );
      const local = observed(
        inProcess.response.statusCode,
        Object.entries(inProcess.response.headers),
        inProcess.response.body as Uint8Array,
      );
      expect(local).toEqual(http);
      expect(local.headers.date).toBe(START.toUTCString());
    },
  );

  it('serves real SDK clients: results, AWS errors, retries and the Region of the signature', async () => {
    // Prepare
    const account = newAccount(emulator.clock);
    account.addFault({
      service: 'kms',
      operation: 'DescribeKey',
      error: 'DependencyTimeoutException',
      from: START,
      until: new Date(START.getTime() + DAY),
      count: 1,
    });
    const handler = new InProcessEmulatorHandler();
    handler.setAccount(account);
    const kms = new KMSClient({ region: 'eu-west-1', credentials, maxAttempts: 2, requestHandler: handler });
    const logs = new CloudWatchLogsClient({
      region: REGION,
      credentials,
      maxAttempts: 1,
      requestHandler: handler,
    });

    // Act
    const retried = await kms
      .send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}` }))
      .catch((e: Error) => e);
    const missing = await logs
      .send(new FilterLogEventsCommand({ logGroupName: `${LOG_GROUP}-missing` }))
      .catch((e: Error) => e);

    // Assess: the key lives in us-east-1; the eu-west-1 client must not find it there.
    expect(retried).toMatchObject({ name: 'NotFoundException', $metadata: { attempts: 2 } });
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(account.records()[0]?.record.awsRegion).toBe('eu-west-1');
  });

  it('answers 503 when no account is set, as the server does', async () => {
    // Prepare
    const kms = new KMSClient({
      region: REGION,
      credentials,
      maxAttempts: 1,
      requestHandler: new InProcessEmulatorHandler(),
    });

    // Act
    const error = await kms.send(new DescribeKeyCommand({ KeyId: KEY_ID })).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'ServiceUnavailableException' });
  });

  it('is the server handler, sharing its account, and counts requests by service', async () => {
    // Prepare
    const server = await startEmulatorServer();
    const account = newAccount(emulator.clock);
    server.setAccount(account);
    const kms = new KMSClient({
      region: REGION,
      credentials,
      maxAttempts: 1,
      requestHandler: server.requestHandler,
    });
    const before = emulatorRequestCounts();

    // Act
    const described = await kms.send(new DescribeKeyCommand({ KeyId: KEY_ID }));

    // Assess
    expect(server).toBe(emulator.server);
    expect(described.KeyMetadata?.KeyId).toBe(KEY_ID);
    expect((emulatorRequestCounts().kms ?? 0) - (before.kms ?? 0)).toBe(1);
  });
});
