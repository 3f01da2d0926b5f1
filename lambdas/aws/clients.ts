import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * SDK clients, one per Region, created on first use and kept for the life of the module.
 *
 * A key ARN of another Region is handled with a client for that Region: KMS answers only for the
 * keys of its own Region. Endpoints and credentials come only from the SDK's standard settings
 * (`AWS_REGION`, `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, ...), which is how the
 * simulator reaches its emulated account.
 */

/**
 * The transport every client of this module sends through. Lambda never sets it (the SDK's own HTTP
 * handler is used). The simulator sets an in-process handler that hands the serialized, signed
 * request straight to its emulated account: the clients, their serializers and middleware stay the
 * real ones, only the socket round trip (about 2 ms a call over loopback HTTP, against 0.2 ms in
 * process) is skipped. Clients made before the change are dropped so none keeps the old transport.
 */
type RequestHandler = NonNullable<ConstructorParameters<typeof KMSClient>[0]>['requestHandler'];
let requestHandler: RequestHandler | undefined;

export function useRequestHandler(handler: RequestHandler | undefined): void {
  requestHandler = handler;
  for (const clients of allClients) {
    clients.clear();
  }
}

const kmsClients = new Map<string, KMSClient>();
const logsClients = new Map<string, CloudWatchLogsClient>();
const cloudTrailClients = new Map<string, CloudTrailClient>();
const snsClients = new Map<string, SNSClient>();
const sfnClients = new Map<string, SFNClient>();
const schedulerClients = new Map<string, SchedulerClient>();
const dynamoDbClients = new Map<string, DynamoDBClient>();
const allClients: Map<string, unknown>[] = [
  kmsClients,
  logsClients,
  cloudTrailClients,
  snsClients,
  sfnClients,
  schedulerClients,
  dynamoDbClients,
];

/**
 * A client factory of one more service, one client per Region, under the same rules as the clients
 * above (the simulator's transport included). For the modules that own a set of clients of their own
 * (lambdas/aws/inventory/clients.ts), so this module does not grow with every service they read.
 */
export function clientsPerRegion<C>(create: (config: ClientConfig) => C): (region?: string) => C {
  const clients = new Map<string, C>();
  allClients.push(clients);
  return (region = homeRegion()) => clientFor(clients, region, create);
}

/** The Region this Lambda runs in; every Lambda runtime sets AWS_REGION. */
export function homeRegion(): string {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new Error('AWS_REGION is not set: run the handler in Lambda or set AWS_REGION.');
  }
  return region;
}

function clientFor<C>(clients: Map<string, C>, region: string, create: (config: ClientConfig) => C): C {
  let client = clients.get(region);
  if (!client) {
    client = create({ region, maxAttempts: 3, ...(requestHandler ? { requestHandler } : {}) });
    clients.set(region, client);
  }
  return client;
}

export interface ClientConfig {
  readonly region: string;
  readonly maxAttempts: number;
  readonly requestHandler?: RequestHandler;
}

export function kmsClient(region: string = homeRegion()): KMSClient {
  return clientFor(kmsClients, region, (config) => new KMSClient(config));
}

export function logsClient(region: string = homeRegion()): CloudWatchLogsClient {
  return clientFor(logsClients, region, (config) => new CloudWatchLogsClient(config));
}

/** The evidence topic lives in the stack's Region (the fast path's e-mail). */
export function snsClient(region: string = homeRegion()): SNSClient {
  return clientFor(snsClients, region, (config) => new SNSClient(config));
}

export function sfnClient(region: string = homeRegion()): SFNClient {
  return clientFor(sfnClients, region, (config) => new SFNClient(config));
}

export function cloudTrailClient(region: string = homeRegion()): CloudTrailClient {
  return clientFor(cloudTrailClients, region, (config) => new CloudTrailClient(config));
}

/** The watch's one-time schedules (the next check of a held key) live in the stack's Region. */
export function schedulerClient(region: string = homeRegion()): SchedulerClient {
  return clientFor(schedulerClients, region, (config) => new SchedulerClient(config));
}

/** The stack's own tables (the hold registry, the approval links) live in the stack's Region. */
export function dynamoDbClient(region: string = homeRegion()): DynamoDBClient {
  return clientFor(dynamoDbClients, region, (config) => new DynamoDBClient(config));
}
