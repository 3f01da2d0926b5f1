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
  overrides: Partial<EmulatedAccountOptions['cloudTrail']> &
    Pick<EmulatedAccountOptions, 'filterScanPageSize' | 'scheduleGroups' | 'search'> = {},
): EmulatedAccount {
  const { filterScanPageSize, scheduleGroups, search, ...cloudTrail } = overrides;
  const account = new EmulatedAccount({
    account: ACCOUNT,
    region: REGION,
    workflowPrincipalArn: WORKFLOW_ROLE,
    clock: clock.now,
    cloudTrail: { deliveryLagMs: 5 * MINUTE, retentionDays: 365, logGroupName: LOG_GROUP, ...cloudTrail },
    filterScanPageSize,
    scheduleGroups,
    search,
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

/** What every SDK client of these tests is built with: the emulator as endpoint, and no retries. */
export interface EmulatorClientConfig {
  readonly region: string;
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly maxAttempts: number;
}

export interface Harness {
  readonly server: EmulatorServer;
  /** An SDK client of any service the emulator serves, in `region` (default: the account's). */
  client<C>(Client: new (config: EmulatorClientConfig) => C, region?: string): C;
  kms(region?: string): KMSClient;
  logs(region?: string): CloudWatchLogsClient;
}

export async function harness(): Promise<Harness> {
  const server = await startEmulatorServer();
  const client = <C>(Client: new (config: EmulatorClientConfig) => C, region = REGION): C =>
    new Client({
      region,
      endpoint: server.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  return {
    server,
    client,
    kms: (region) => client(KMSClient, region),
    logs: (region) => client(CloudWatchLogsClient, region),
  };
}

/** A suite against the emulator server; `clock` and `account` are new for each test. */
export interface EmulatorSuite extends Harness {
  readonly clock: TestClock;
  readonly account: EmulatedAccount;
}

/**
 * Registers the hooks of a suite that talks to the emulator server: the server for the whole file,
 * and before each test a fresh clock and the account `makeAccount` builds on it, which the server
 * answers for until the test ends (null: each test gives the server its own account). Read the
 * fields inside tests and hooks, not at the top of the suite: they exist only once the hooks ran.
 */
export function useEmulatorServer(
  makeAccount: ((clock: TestClock) => EmulatedAccount) | null = newAccount,
): EmulatorSuite {
  let h: Harness | undefined;
  let clock: TestClock | undefined;
  let account: EmulatedAccount | undefined;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.server.close();
  });
  beforeEach(() => {
    clock = new TestClock();
    if (makeAccount) {
      account = makeAccount(clock);
      started().server.setAccount(account);
    }
  });
  afterEach(() => {
    h?.server.setAccount(null);
  });
  const started = (): Harness => ready(h, 'the emulator server');
  return {
    get server() {
      return started().server;
    },
    client: (Client, region) => started().client(Client, region),
    kms: (region) => started().kms(region),
    logs: (region) => started().logs(region),
    get clock() {
      return ready(clock, 'the clock');
    },
    get account() {
      return ready(account, 'the account');
    },
  };
}

function ready<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`${what} exists only inside tests and hooks of the suite`);
  }
  return value;
}
