import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * SDK clients, one per Region, created on first use and kept for the life of the module.
 *
 * A key ARN of another Region is handled with a client for that Region (DESIGN §2). Endpoints and
 * credentials come only from the SDK's standard settings (`AWS_REGION`, `AWS_ENDPOINT_URL_KMS`,
 * `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, ...), which is how the simulator reaches its emulated
 * account without any hook in handler code.
 */
const kmsClients = new Map<string, KMSClient>();
const logsClients = new Map<string, CloudWatchLogsClient>();
const cloudTrailClients = new Map<string, CloudTrailClient>();
const snsClients = new Map<string, SNSClient>();
const sfnClients = new Map<string, SFNClient>();

/** The Region this Lambda runs in; every Lambda runtime sets AWS_REGION. */
export function homeRegion(): string {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new Error('AWS_REGION is not set: run the handler in Lambda or set AWS_REGION.');
  }
  return region;
}

export function kmsClient(region: string = homeRegion()): KMSClient {
  let client = kmsClients.get(region);
  if (!client) {
    client = new KMSClient({ region, maxAttempts: 3 });
    kmsClients.set(region, client);
  }
  return client;
}

export function logsClient(region: string = homeRegion()): CloudWatchLogsClient {
  let client = logsClients.get(region);
  if (!client) {
    client = new CloudWatchLogsClient({ region, maxAttempts: 3 });
    logsClients.set(region, client);
  }
  return client;
}

/** The evidence topic lives in the stack's Region (the fast path's e-mail). */
export function snsClient(region: string = homeRegion()): SNSClient {
  let client = snsClients.get(region);
  if (!client) {
    client = new SNSClient({ region, maxAttempts: 3 });
    snsClients.set(region, client);
  }
  return client;
}

export function sfnClient(region: string = homeRegion()): SFNClient {
  let client = sfnClients.get(region);
  if (!client) {
    client = new SFNClient({ region, maxAttempts: 3 });
    sfnClients.set(region, client);
  }
  return client;
}

export function cloudTrailClient(region: string = homeRegion()): CloudTrailClient {
  let client = cloudTrailClients.get(region);
  if (!client) {
    client = new CloudTrailClient({ region, maxAttempts: 3 });
    cloudTrailClients.set(region, client);
  }
  return client;
}
