import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';

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
