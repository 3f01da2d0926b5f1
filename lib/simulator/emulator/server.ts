import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildQueryString, type HttpHandler, type HttpRequest, HttpResponse } from '@smithy/core/protocols';
import type { EmulatedAccount, FaultService } from './account.js';
import { CloudWatchError } from './cloudwatch.js';
import { AwsError } from './errors.js';
import { answerScenarioTables } from './inventory/dynamodb.js';
import { injectedFault, restJsonErrorAnswer } from './inventory/protocol.js';
import { answerInventory, inventoryServiceOf } from './inventory/router.js';

/**
 * The wire face of the emulated account: AWS JSON 1.1 for KMS (`TrentService.<Op>`) and CloudWatch
 * Logs (`Logs_20140328.<Op>`), JSON 1.0 for Step Functions (`AWSStepFunctions.<Op>`), the Query
 * protocol for SNS (form-encoded `Action=Publish`) and REST JSON for EventBridge Scheduler
 * (`/schedules/{Name}`). Signatures are not verified; the caller's Region is read from the SigV4
 * credential scope.
 *
 * One router, two transports: an HTTP server on 127.0.0.1 (clients that bring their own SDK client,
 * such as the CLI, reach it through `AWS_ENDPOINT_URL_*`) and an in-process SDK request handler (the
 * simulator's handlers, through lambdas/aws/clients.ts) that hands the serialized request to the
 * same router, so both answer with the same status, headers and bytes.
 */
export interface EmulatorServer {
  readonly url: string;
  /** Serves the same account as the HTTP server, without a socket (see `InProcessEmulatorHandler`). */
  readonly requestHandler: InProcessEmulatorHandler;
  setAccount(account: EmulatedAccount | null): void;
  close(): Promise<void>;
}

/** A request as the router sees it, whichever transport carried it. */
export interface EmulatorRequest {
  readonly method: string;
  /** Path and query string, as on the HTTP request line. */
  readonly url: string;
  /** Header names in lower case, as Node's HTTP server presents them. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  readonly remoteAddress: string;
}

export interface EmulatorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: string;
}

const TARGETS: Readonly<Record<string, FaultService>> = {
  TrentService: 'kms',
  Logs_20140328: 'logs',
  // The SDK sends the short prefix; botocore and the API reference use the namespaced one.
  CloudTrail_20131101: 'cloudtrail',
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101': 'cloudtrail',
};

const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** CloudWatch's JSON 1.0 target prefix (the SDK's `GraniteServiceVersion20100801.<Op>`). */
const CLOUDWATCH_TARGET = 'GraniteServiceVersion20100801';
const FALLBACK_ID = '00000000-0000-4000-8000-000000000000';

let running: Promise<EmulatorServer> | null = null;

/** `Credential=AKID/20260101/<region>/<service>/aws4_request` -> region. */
export function regionOfAuthorization(header: string | undefined): string | undefined {
  return header ? /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//.exec(header)?.[1] : undefined;
}

function json(
  status: number,
  body: Record<string, unknown>,
  requestId: string,
  now: Date,
  contentType = CONTENT_TYPE,
): EmulatorAnswer {
  const text = JSON.stringify(body);
  const errorType: Record<string, string> =
    typeof body.__type === 'string' ? { 'x-amzn-ErrorType': body.__type } : {};
  return {
    status,
    headers: {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': requestId,
      // Node stamps the real time otherwise, and the SDK would "correct" its clock by the difference.
      Date: now.toUTCString(),
      ...errorType,
    },
    body: text,
  };
}

const requestsByService = new Map<string, number>();

/**
 * Requests this thread's emulator answered, by service (`kms`, `logs`, `cloudtrail`, `sfn`, `sns`,
 * `scheduler`, `cloudwatch`, `unknown`), every SDK attempt counted, over either transport. The benchmark reads
 * the difference around a run: the API calls a key costs.
 */
export function emulatorRequestCounts(): Readonly<Record<string, number>> {
  return Object.fromEntries(requestsByService);
}

function serviceOf(request: EmulatorRequest): string {
  const inventory = inventoryServiceOf(request);
  if (inventory) return inventory;
  const target = request.headers['x-amz-target'] ?? '';
  const prefix = target.slice(0, Math.max(target.lastIndexOf('.'), 0));
  if (request.url.startsWith('/schedules')) return 'scheduler';
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return 'sns';
  if (prefix === 'AWSStepFunctions') return 'sfn';
  if (prefix === 'DynamoDB_20120810') return 'dynamodb';
  if (prefix === CLOUDWATCH_TARGET) return 'cloudwatch';
  return TARGETS[prefix] ?? 'unknown';
}

/** The emulated account's answer to one request (never throws: a failure is a 500, as over HTTP). */
export async function answerRequest(
  request: EmulatorRequest,
  account: EmulatedAccount | null,
): Promise<EmulatorAnswer> {
  const service = serviceOf(request);
  requestsByService.set(service, (requestsByService.get(service) ?? 0) + 1);
  try {
    return await route(request, account);
  } catch (error) {
    return json(500, { __type: 'InternalFailure', message: String(error) }, FALLBACK_ID, new Date());
  }
}

async function route(request: EmulatorRequest, account: EmulatedAccount | null): Promise<EmulatorAnswer> {
  const now = account ? account.clock() : new Date();
  // A function Lambda stopped at its timeout reaches no service any more.
  const stopped = account?.refusalAfterTimeout();
  if (stopped) {
    return json(stopped.status, stopped.toBody(), FALLBACK_ID, now);
  }
  const text = request.body;
  const target = request.headers['x-amz-target'] ?? '';
  // The operation follows the last dot: CloudTrail's namespaced prefix contains dots itself.
  const dot = target.lastIndexOf('.');
  const prefix = dot < 0 ? target : target.slice(0, dot);
  const operation = dot < 0 ? '' : target.slice(dot + 1);
  const service = TARGETS[prefix];
  const url = new URL(request.url, 'http://emulator');
  const inventory = inventoryServiceOf(request);
  if (inventory) {
    // EC2, RDS, S3, Backup, Secrets Manager, SSM, EFS and Config: the data at rest under the keys.
    const answer = account
      ? answerInventory(
          inventory,
          request,
          account,
          regionOfAuthorization(request.headers.authorization) ?? account.region,
          now,
        )
      : { status: 503, contentType: 'text/plain', body: 'No emulated account is active.', headers: {} };
    return {
      status: answer.status,
      headers: {
        'Content-Type': answer.contentType,
        'Content-Length': Buffer.byteLength(answer.body),
        Date: now.toUTCString(),
        ...answer.headers,
      },
      body: answer.body,
    };
  }
  if (url.pathname.startsWith('/schedules')) {
    // EventBridge Scheduler speaks REST JSON: the operation is the method and path, not a target header.
    const operation = schedulerOperation(request.method, url.pathname);
    const fault = account?.serviceFault('scheduler', operation);
    const faulted =
      account && fault !== undefined
        ? restJsonErrorAnswer(
            injectedFault('scheduler', fault, operation, account.workflowPrincipalArn),
            FALLBACK_ID,
          )
        : undefined;
    if (faulted) {
      return {
        status: faulted.status,
        headers: {
          'Content-Type': faulted.contentType,
          'Content-Length': Buffer.byteLength(faulted.body),
          Date: now.toUTCString(),
          ...faulted.headers,
        },
        body: faulted.body,
      };
    }
    const answer = account
      ? account.scheduler.serve(request.method, url.pathname, url.searchParams, text)
      : {
          status: 503,
          body: { Message: 'No emulated account is active.' },
          headers: { 'x-amzn-ErrorType': 'ServiceUnavailableException' },
        };
    const body = JSON.stringify(answer.body);
    return {
      status: answer.status,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        Date: now.toUTCString(),
        ...answer.headers,
      },
      body,
    };
  }
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const answer = account
      ? account.sns.serve(new URLSearchParams(text))
      : {
          status: 503,
          requestId: FALLBACK_ID,
          xml: '<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>',
        };
    return {
      status: answer.status,
      headers: {
        'Content-Type': 'text/xml',
        'Content-Length': Buffer.byteLength(answer.xml),
        'x-amzn-RequestId': answer.requestId,
        Date: now.toUTCString(),
      },
      body: answer.xml,
    };
  }
  if (prefix === 'AWSStepFunctions' && account) {
    const sfnType = 'application/x-amz-json-1.0';
    try {
      const body = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      return json(200, account.sfn.handle(operation, body), FALLBACK_ID, now, sfnType);
    } catch (error) {
      const aws = error instanceof AwsError ? error : new AwsError('SerializationException', String(error));
      return json(aws.status, aws.toBody(), FALLBACK_ID, now, sfnType);
    }
  }
  if (prefix === CLOUDWATCH_TARGET && account) {
    return answerCloudWatch(account, operation, text, now);
  }
  if (prefix === 'DynamoDB_20120810' && account) {
    return answerDynamoDb(
      account,
      operation,
      text,
      regionOfAuthorization(request.headers.authorization) ?? account.region,
      now,
    );
  }
  if (!service || operation === '') {
    return json(
      400,
      { __type: 'UnknownOperationException', message: `Unknown target '${target}'` },
      FALLBACK_ID,
      now,
    );
  }
  if (!account) {
    return json(
      503,
      { __type: 'ServiceUnavailableException', message: 'No emulated account is active.' },
      FALLBACK_ID,
      now,
    );
  }
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return json(400, { __type: 'SerializationException', message: 'Malformed JSON body' }, FALLBACK_ID, now);
  }
  const served = account.serve(service, operation, body as Record<string, unknown>, {
    principalArn: account.workflowPrincipalArn,
    account: account.account,
    region: regionOfAuthorization(request.headers.authorization) ?? account.region,
    sourceIp: request.remoteAddress,
    userAgent: request.headers['user-agent'] ?? request.headers['x-amz-user-agent'] ?? 'unknown',
    attempt: Number(/attempt=(\d+)/.exec(request.headers['amz-sdk-request'] ?? '')?.[1] ?? 1),
  });
  return json(served.status, served.body, served.requestId, account.clock());
}

/** The EventBridge Scheduler operation of a REST request (the API reference's method and path). */
function schedulerOperation(method: string, path: string): string {
  if (/^\/schedules\/?$/.test(path)) return method === 'GET' ? 'ListSchedules' : `${method} /schedules`;
  const verbs: Readonly<Record<string, string>> = {
    POST: 'CreateSchedule',
    GET: 'GetSchedule',
    PUT: 'UpdateSchedule',
    DELETE: 'DeleteSchedule',
  };
  return verbs[method] ?? `${method} /schedules/{Name}`;
}

/**
 * CloudWatch JSON 1.0 (query-compatible: an error also names its Query code in `x-amzn-query-error`,
 * which the SDK reads). The scenario's faults name no CloudWatch operation, so none apply.
 */
function answerCloudWatch(
  account: EmulatedAccount,
  operation: string,
  text: string,
  now: Date,
): EmulatorAnswer {
  const type = 'application/x-amz-json-1.0';
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fail = (error: AwsError, queryCode: string): EmulatorAnswer => {
    const answer = json(error.status, error.toBody(), FALLBACK_ID, now, type);
    return { ...answer, headers: { ...answer.headers, 'x-amzn-query-error': `${queryCode};Sender` } };
  };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return fail(new AwsError('SerializationException', 'Malformed JSON body'), 'SerializationException');
  }
  if (operation !== 'GetMetricData') {
    return fail(
      new AwsError('UnknownOperationException', `The emulated CloudWatch does not serve ${operation}.`),
      'InvalidAction',
    );
  }
  try {
    return json(
      200,
      account.cloudwatch.getMetricData(body as Record<string, unknown>, now),
      FALLBACK_ID,
      now,
      type,
    );
  } catch (error) {
    if (error instanceof CloudWatchError) return fail(error, error.queryCode);
    throw error;
  }
}

/**
 * DynamoDB JSON 1.0: injected faults first, then the scenario's tables (ListTables merges them
 * with the stack's), then the account's real DynamoDB answers.
 */
async function answerDynamoDb(
  account: EmulatedAccount,
  operation: string,
  text: string,
  region: string,
  now: Date,
): Promise<EmulatorAnswer> {
  const ddbType = 'application/x-amz-json-1.0';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const tableName = (parsed as { TableName?: unknown } | undefined)?.TableName;
  const fault = account.dynamoDbFault(operation, typeof tableName === 'string' ? tableName : undefined);
  if (fault) {
    return json(fault.status, fault.toBody(), FALLBACK_ID, now, ddbType);
  }
  const tables = account.tables;
  const scenario =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? await answerScenarioTables(
          account.inventory,
          operation,
          parsed as Record<string, unknown>,
          region,
          now,
          async () => (tables && region === account.region ? tables.listTableNames() : []),
        )
      : null;
  if (scenario) {
    return json(scenario.status, scenario.body, FALLBACK_ID, now, ddbType);
  }
  if (!account.tables) {
    return json(
      400,
      {
        __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
        message: 'Requested resource not found',
      },
      FALLBACK_ID,
      now,
      ddbType,
    );
  }
  const answer = await account.tables.forward(operation, text);
  return {
    status: answer.status,
    headers: {
      'Content-Type': ddbType,
      'Content-Length': Buffer.byteLength(answer.body),
      'x-amzn-RequestId': answer.headers['x-amzn-requestid'] ?? FALLBACK_ID,
      ...(answer.headers['x-amz-crc32'] ? { 'x-amz-crc32': answer.headers['x-amz-crc32'] } : {}),
      Date: now.toUTCString(),
    },
    body: answer.body,
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function serveHttp(
  request: IncomingMessage,
  response: ServerResponse,
  account: EmulatedAccount | null,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  const answer = await answerRequest(
    {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers,
      body: await readBody(request),
      remoteAddress: request.socket.remoteAddress ?? '127.0.0.1',
    },
    account,
  );
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function bodyText(body: unknown): string {
  if (body === undefined || body === null) {
    return '';
  }
  if (typeof body === 'string') {
    return body;
  }
  if (body instanceof Uint8Array) {
    return decoder.decode(body);
  }
  // Streaming request bodies (uploads) are not part of any API the handlers call.
  throw new TypeError(`the in-process emulator cannot send a ${typeof body} request body`);
}

/**
 * An SDK request handler (`requestHandler` of any v3 client) that answers from the emulated account in
 * this thread. The client's serializer, signer, retry and deserializer stay the real ones; only the
 * socket is skipped. Header names come back in lower case and the body as bytes, as the SDK's Node
 * HTTP handler hands them over.
 */
export class InProcessEmulatorHandler implements HttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  private account: EmulatedAccount | null = null;

  setAccount(account: EmulatedAccount | null): void {
    this.account = account;
  }

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      headers[name.toLowerCase()] = value;
    }
    const query = request.query ? buildQueryString(request.query) : '';
    const answer = await answerRequest(
      {
        method: request.method,
        url: query ? `${request.path}?${query}` : request.path,
        headers,
        body: bodyText(request.body),
        remoteAddress: '127.0.0.1',
      },
      this.account,
    );
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      responseHeaders[name.toLowerCase()] = String(value);
    }
    return {
      response: new HttpResponse({
        statusCode: answer.status,
        headers: responseHeaders,
        body: encoder.encode(answer.body),
      }),
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

/** The one emulator server of this process or worker thread (started on first call, on 127.0.0.1 and a free port). */
export function startEmulatorServer(): Promise<EmulatorServer> {
  if (running) {
    return running;
  }
  let account: EmulatedAccount | null = null;
  const requestHandler = new InProcessEmulatorHandler();
  const server: Server = createServer((request, response) => {
    serveHttp(request, response, account).catch((error: unknown) => {
      if (!response.headersSent) {
        const answer = json(
          500,
          { __type: 'InternalFailure', message: String(error) },
          FALLBACK_ID,
          new Date(),
        );
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
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
        requestHandler,
        setAccount(next) {
          account = next;
          requestHandler.setAccount(next);
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
