import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatedAccount, FaultService } from './account.js';
import { AwsError } from './errors.js';

/**
 * The HTTP face of the emulated account: AWS JSON 1.1 for KMS (`TrentService.<Op>`) and CloudWatch
 * Logs (`Logs_20140328.<Op>`), JSON 1.0 for Step Functions (`AWSStepFunctions.<Op>`) and the Query
 * protocol for SNS (form-encoded `Action=Publish`), so the real SDK clients of the handlers reach it
 * through `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, `AWS_ENDPOINT_URL_SFN` and
 * `AWS_ENDPOINT_URL_SNS`. Signatures are not verified; the
 * caller's Region is read from the SigV4 credential scope.
 */
export interface EmulatorServer {
  readonly url: string;
  setAccount(account: EmulatedAccount | null): void;
  close(): Promise<void>;
}

const TARGETS: Readonly<Record<string, FaultService>> = {
  TrentService: 'kms',
  Logs_20140328: 'logs',
  // The SDK sends the short prefix; botocore and the API reference use the namespaced one.
  CloudTrail_20131101: 'cloudtrail',
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101': 'cloudtrail',
};

const CONTENT_TYPE = 'application/x-amz-json-1.1';

let running: Promise<EmulatorServer> | null = null;

/** `Credential=AKID/20260101/<region>/<service>/aws4_request` -> region. */
export function regionOfAuthorization(header: string | undefined): string | undefined {
  return header ? /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//.exec(header)?.[1] : undefined;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(
  response: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  requestId: string,
  now: Date,
  contentType = CONTENT_TYPE,
): void {
  const text = JSON.stringify(body);
  const errorType = typeof body.__type === 'string' ? { 'x-amzn-ErrorType': body.__type } : {};
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
    // Node stamps the real time otherwise, and the SDK would "correct" its clock by the difference.
    Date: now.toUTCString(),
    ...errorType,
  });
  response.end(text);
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  account: EmulatedAccount | null,
): Promise<void> {
  const now = account ? account.clock() : new Date();
  const text = await readBody(request);
  const target = String(request.headers['x-amz-target'] ?? '');
  // The operation follows the last dot: CloudTrail's namespaced prefix contains dots itself.
  const dot = target.lastIndexOf('.');
  const prefix = dot < 0 ? target : target.slice(0, dot);
  const operation = dot < 0 ? '' : target.slice(dot + 1);
  const service = TARGETS[prefix];
  const fallbackId = '00000000-0000-4000-8000-000000000000';
  if (String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const answer = account
      ? account.sns.serve(new URLSearchParams(text))
      : {
          status: 503,
          requestId: fallbackId,
          xml: '<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>',
        };
    response.writeHead(answer.status, {
      'Content-Type': 'text/xml',
      'Content-Length': Buffer.byteLength(answer.xml),
      'x-amzn-RequestId': answer.requestId,
      Date: now.toUTCString(),
    });
    response.end(answer.xml);
    return;
  }
  if (prefix === 'AWSStepFunctions' && account) {
    const sfnType = 'application/x-amz-json-1.0';
    try {
      const body = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      send(response, 200, account.sfn.handle(operation, body), fallbackId, now, sfnType);
    } catch (error) {
      const aws = error instanceof AwsError ? error : new AwsError('SerializationException', String(error));
      send(response, aws.status, aws.toBody(), fallbackId, now, sfnType);
    }
    return;
  }
  if (!service || operation === '') {
    send(
      response,
      400,
      { __type: 'UnknownOperationException', message: `Unknown target '${target}'` },
      fallbackId,
      now,
    );
    return;
  }
  if (!account) {
    send(
      response,
      503,
      { __type: 'ServiceUnavailableException', message: 'No emulated account is active.' },
      fallbackId,
      now,
    );
    return;
  }
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    send(
      response,
      400,
      { __type: 'SerializationException', message: 'Malformed JSON body' },
      fallbackId,
      now,
    );
    return;
  }
  const served = account.serve(service, operation, body as Record<string, unknown>, {
    principalArn: account.workflowPrincipalArn,
    account: account.account,
    region: regionOfAuthorization(request.headers.authorization) ?? account.region,
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
    userAgent: String(request.headers['user-agent'] ?? request.headers['x-amz-user-agent'] ?? 'unknown'),
  });
  send(response, served.status, served.body, served.requestId, account.clock());
}

/** The one emulator server of this process (started on first call, on 127.0.0.1 and a free port). */
export function startEmulatorServer(): Promise<EmulatorServer> {
  if (running) {
    return running;
  }
  let account: EmulatedAccount | null = null;
  const server: Server = createServer((request, response) => {
    handle(request, response, account).catch((error: unknown) => {
      if (!response.headersSent) {
        send(
          response,
          500,
          { __type: 'InternalFailure', message: String(error) },
          '00000000-0000-4000-8000-000000000000',
          new Date(),
        );
      }
    });
  });
  // Dropped by close(); a server that keeps the process alive would hang the CLI after a simulation.
  server.keepAliveTimeout = 5_000;
  const started = new Promise<EmulatorServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.unref();
      resolve({
        url: `http://127.0.0.1:${port}`,
        setAccount(next) {
          account = next;
        },
        close() {
          running = null;
          return new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          });
        },
      });
    });
  });
  running = started;
  started.catch(() => {
    running = null;
  });
  return started;
}
