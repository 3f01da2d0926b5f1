import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { EmulatedAccount, type EmulatedAccountOptions } from '../../../../lib/simulator/emulator/account.js';
import { type EmulatorServer, startEmulatorServer } from '../../../../lib/simulator/emulator/server.js';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const OTHER_KEY_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
export const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${OTHER_KEY_ID}`;
export const WORKFLOW_ROLE = `arn:aws:iam::${ACCOUNT}:role/guard-handler`;
export const APP_ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
export const LOG_GROUP = 'aws-cloudtrail-logs';
export const START = new Date('2026-01-01T00:00:00Z');
export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** A settable virtual clock. */
export class TestClock {
  private current: Date;

  constructor(start: Date = START) {
    this.current = new Date(start);
  }

  readonly now = (): Date => new Date(this.current);

  advance(ms: number): Date {
    this.current = new Date(this.current.getTime() + ms);
    return this.now();
  }
}

export function newAccount(
  clock: TestClock,
  overrides: Partial<EmulatedAccountOptions['cloudTrail']> & { filterScanPageSize?: number } = {},
): EmulatedAccount {
  const { filterScanPageSize, ...cloudTrail } = overrides;
  const account = new EmulatedAccount({
    account: ACCOUNT,
    region: REGION,
    workflowPrincipalArn: WORKFLOW_ROLE,
    clock: clock.now,
    cloudTrail: { deliveryLagMs: 5 * MINUTE, retentionDays: 365, logGroupName: LOG_GROUP, ...cloudTrail },
    filterScanPageSize,
  });
  account.addKey({
    keyId: KEY_ID,
    createdAt: new Date('2024-01-01T00:00:00Z'),
    trackingStartDate: new Date('2025-06-01T00:00:00Z'),
    state: 'Enabled',
    manager: 'CUSTOMER',
    aliases: ['alias/legacy'],
    tags: { team: 'payments' },
  });
  account.addKey({ keyId: OTHER_KEY_ID, createdAt: new Date('2025-07-01T00:00:00Z') });
  return account;
}

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

export interface Harness {
  readonly server: EmulatorServer;
  kms(region?: string): KMSClient;
  logs(region?: string): CloudWatchLogsClient;
}

export async function harness(): Promise<Harness> {
  const server = await startEmulatorServer();
  return {
    server,
    kms: (region = REGION) => new KMSClient({ region, endpoint: server.url, credentials, maxAttempts: 1 }),
    logs: (region = REGION) =>
      new CloudWatchLogsClient({ region, endpoint: server.url, credentials, maxAttempts: 1 }),
  };
}
