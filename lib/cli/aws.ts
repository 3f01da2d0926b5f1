import { BackupClient } from '@aws-sdk/client-backup';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { type KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { readHistoryPage } from '../../lambdas/aws/execution-history.js';
import { describeExecution as describeAnExecution } from '../../lambdas/aws/executions.js';
import type { InventoryClients } from '../../lambdas/aws/inventory/index.js';
import { describeKey, isNotFound, readTags } from '../../lambdas/aws/key-reader.js';
import { isHeldBy } from '../../lambdas/domain/hold.js';
import { locateKey, parseKeyId } from '../../lambdas/domain/key-id.js';
import { TAGS } from '../../lambdas/domain/types.js';
import type { ParsedArgs } from './args.js';
import {
  ExecutionNotFoundError,
  InvalidOptionValueError,
  KeyNotFoundError,
  MissingRegionError,
  MissingStateMachineArnError,
  SeveralExecutionsError,
} from './errors.js';
import type { CliIo } from './io.js';

/**
 * The CLI's side of AWS: Region and state machine discovery, clients, and the look-ups several
 * commands share (a key by ID, ARN or alias; the executions that work on a key). The calls
 * themselves go through the readers of lambdas/aws, the same the handlers use, with the CLI's
 * clients.
 */

/**
 * The CLI may make thousands of requests (a few per key or execution). The SDK's standard retry
 * backs off and repeats throttled and transient failures; with CONCURRENCY bounding the request
 * rate, eight attempts ride out a burst of throttling without slowing the whole report down.
 */
const CLIENT_RETRY = { maxAttempts: 8 } as const;

/** Calls made side by side, low enough to stay below the per-account request rates of KMS and Step Functions. */
export const CONCURRENCY = 5;

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const STATE_MACHINE_ARN =
  /^arn:(aws(?:-[a-z]+)*):states:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;
const EXECUTION_ARN =
  /^arn:(aws(?:-[a-z]+)*):states:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):execution:([A-Za-z0-9_-]{1,80}):(.{1,80})$/;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const ALIAS_ARN = /^arn:aws(?:-[a-z]+)*:kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):alias\/.+$/;

export interface AwsOptions {
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
  readonly stateMachineArn?: string | undefined;
}

export function awsOptions(args: ParsedArgs): AwsOptions {
  return {
    region: args.string('region'),
    profile: args.string('profile'),
    stateMachineArn: args.string('state-machine-arn'),
  };
}

export interface StateMachineRef {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

export interface ExecutionRef {
  readonly arn: string;
  readonly region: string;
  readonly account: string;
  readonly stateMachineArn: string;
  readonly name: string;
}

export function parseStateMachineArn(arn: string): StateMachineRef | null {
  const match = STATE_MACHINE_ARN.exec(arn);
  const [, partition, region, account, name] = match ?? [];
  return partition && region && account && name ? { arn, partition, region, account, name } : null;
}

export function parseExecutionArn(arn: string): ExecutionRef | null {
  const match = EXECUTION_ARN.exec(arn);
  const [, partition, region, account, machine, name] = match ?? [];
  if (!partition || !region || !account || !machine || !name) {
    return null;
  }
  return {
    arn,
    region,
    account,
    stateMachineArn: `arn:${partition}:states:${region}:${account}:stateMachine:${machine}`,
    name,
  };
}

/** The state machine from --state-machine-arn or KDG_STATE_MACHINE_ARN; checked before any call. */
export function stateMachineFrom(options: AwsOptions, io: CliIo): StateMachineRef {
  const flag = options.stateMachineArn !== undefined;
  const arn = options.stateMachineArn ?? io.env.KDG_STATE_MACHINE_ARN;
  if (arn === undefined || arn.trim() === '') {
    throw new MissingStateMachineArnError();
  }
  const parsed = parseStateMachineArn(arn.trim());
  if (!parsed) {
    throw new InvalidOptionValueError(
      'state-machine-arn',
      `${flag ? '--state-machine-arn' : 'KDG_STATE_MACHINE_ARN'} is not a state machine ARN ` +
        '(arn:aws:states:<region>:<account>:stateMachine:<name>); use the StateMachineArn output of the stack.',
    );
  }
  if (options.region !== undefined && options.region !== parsed.region) {
    throw new InvalidOptionValueError(
      'region',
      `--region ${options.region} differs from the state machine's Region (${parsed.region}); drop --region or ` +
        'give the state machine deployed in that Region.',
    );
  }
  return parsed;
}

/** The Region: --region, AWS_REGION, AWS_DEFAULT_REGION, else the profile's configuration. */
export async function resolveRegion(options: AwsOptions, io: CliIo): Promise<string> {
  const explicit = options.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (explicit !== undefined && explicit !== '') {
    if (!REGION.test(explicit)) {
      throw new InvalidOptionValueError(
        'region',
        `${JSON.stringify(explicit)} is not an AWS Region name (like eu-west-1).`,
      );
    }
    return explicit;
  }
  try {
    const probe = new KMSClient(options.profile ? { profile: options.profile } : {});
    const region = await probe.config.region();
    probe.destroy();
    if (region && REGION.test(region)) {
      return region;
    }
  } catch {
    // No Region in any configuration: the error below says where to set one.
  }
  throw new MissingRegionError();
}

interface ClientConfig {
  readonly region: string;
  readonly maxAttempts: number;
  readonly profile?: string;
}

/**
 * The SDK clients of one command run: made on first use, one per service and Region, with the
 * CLI's retries and the person's profile, and destroyed together when the command ends.
 */
export class AwsClients {
  private readonly made = new Map<string, { destroy(): void }>();

  constructor(private readonly options: AwsOptions) {}

  kms(region: string): KMSClient {
    return this.client('kms', region, (config) => new KMSClient(config));
  }

  sfn(region: string): SFNClient {
    return this.client('sfn', region, (config) => new SFNClient(config));
  }

  cloudTrail(region: string): CloudTrailClient {
    return this.client('cloudtrail', region, (config) => new CloudTrailClient(config));
  }

  /** Who the person is to AWS (GetCallerIdentity), for the decisions that record it. */
  sts(region: string): STSClient {
    return this.client('sts', region, (config) => new STSClient(config));
  }

  /** The clients the inventory of what keys protect reads a Region with (lambdas/aws/inventory). */
  inventory(region: string): InventoryClients {
    return {
      ec2: this.client('ec2', region, (config) => new EC2Client(config)),
      rds: this.client('rds', region, (config) => new RDSClient(config)),
      s3: this.client('s3', region, (config) => new S3Client(config)),
      backup: this.client('backup', region, (config) => new BackupClient(config)),
      secretsManager: this.client('secretsmanager', region, (config) => new SecretsManagerClient(config)),
      ssm: this.client('ssm', region, (config) => new SSMClient(config)),
      dynamodb: this.client('dynamodb', region, (config) => new DynamoDBClient(config)),
      efs: this.client('efs', region, (config) => new EFSClient(config)),
      logs: this.client('logs', region, (config) => new CloudWatchLogsClient(config)),
      cloudTrail: this.cloudTrail(region),
      kms: this.kms(region),
    };
  }

  destroy(): void {
    for (const client of this.made.values()) {
      client.destroy();
    }
    this.made.clear();
  }

  private client<C extends { destroy(): void }>(
    service: string,
    region: string,
    create: (config: ClientConfig) => C,
  ): C {
    const id = `${service} ${region}`;
    let client = this.made.get(id) as C | undefined;
    if (!client) {
      const profile = this.options.profile;
      client = create({ region, ...CLIENT_RETRY, ...(profile ? { profile } : {}) });
      this.made.set(id, client);
    }
    return client;
  }
}

/** Runs `body` with the clients of one command run, and destroys them however it ends. */
export async function withClients<T>(
  options: AwsOptions,
  body: (clients: AwsClients) => Promise<T>,
): Promise<T> {
  const clients = new AwsClients(options);
  try {
    return await body(clients);
  } finally {
    clients.destroy();
  }
}

/** The Step Functions console page of an execution. */
export function consoleUrl(executionArn: string): string {
  const region = parseExecutionArn(executionArn)?.region ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The newest `count` events, newest first: enough to tell where an execution is. */
export async function readRecentHistory(
  sfn: SFNClient,
  executionArn: string,
  count: number,
): Promise<HistoryEvent[]> {
  return (await readHistoryPage(sfn, executionArn, { maxResults: count, newestFirst: true })).events;
}

export async function listExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  status?: ExecutionStatus,
  limit = Number.POSITIVE_INFINITY,
): Promise<ExecutionListItem[]> {
  const executions: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: status, maxResults: 100, nextToken }),
    );
    executions.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken && executions.length < limit);
  return executions.slice(0, limit);
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The key ID an execution's input names (a key ARN reduced to its ID), or the raw value, or null. */
export function inputKeyId(input: string | undefined): string | null {
  const parsed = parseJson(input);
  const raw = isRecord(parsed) ? parsed.keyId : undefined;
  if (typeof raw !== 'string') {
    return null;
  }
  try {
    return parseKeyId(raw).keyId;
  } catch {
    return raw;
  }
}

/** A key as KMS describes it, with how the person named it. */
export interface ResolvedKey {
  readonly metadata: KeyMetadata & { KeyId: string; Arn: string };
  /** The alias the person gave, when they gave one. */
  readonly alias: string | null;
  readonly region: string;
}

function isAlias(value: string): boolean {
  return value.startsWith('alias/') || ALIAS_ARN.test(value);
}

/** True when the argument names a key (ID, key ARN or alias) rather than an execution. */
export function looksLikeKey(value: string): boolean {
  if (isAlias(value) || /^arn:[^:]*:kms:/.test(value)) {
    return true;
  }
  try {
    parseKeyId(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a key identifier's form without calling AWS (key-id errors name the accepted forms) and
 * tells the Region whose KMS answers for it. A key ARN of another account than the workflow's is
 * refused here as the workflow would refuse it.
 */
export function keyRegion(value: string, homeRegion: string, homeAccount: string | null): string {
  const aliasArn = ALIAS_ARN.exec(value);
  if (aliasArn) {
    return aliasArn[1] ?? homeRegion;
  }
  if (value.startsWith('alias/')) {
    return homeRegion;
  }
  if (homeAccount === null) {
    const ref = parseKeyId(value);
    return ref.kind === 'KEY_ARN' ? ref.region : homeRegion;
  }
  return locateKey(value, homeAccount, homeRegion).region;
}

/** DescribeKey by ID, ARN or alias; a missing key is a KeyNotFoundError. */
export async function resolveKey(value: string, region: string, clients: AwsClients): Promise<ResolvedKey> {
  try {
    const metadata = await describeKey(clients.kms(region), value);
    if (!metadata?.KeyId || !metadata.Arn) {
      throw new KeyNotFoundError(value, region);
    }
    return {
      metadata: { ...metadata, KeyId: metadata.KeyId, Arn: metadata.Arn },
      alias: isAlias(value) ? value.replace(/^arn:[^:]*:kms:[^:]*:[^:]*:/, '') : null,
      region,
    };
  } catch (error) {
    if (isNotFound(error)) {
      throw new KeyNotFoundError(value, region);
    }
    throw error;
  }
}

/** The execution named by the key's hold tag, or null (no tag, or tags not readable). */
export async function holdingExecution(key: ResolvedKey, clients: AwsClients): Promise<string | null> {
  try {
    const tags = await readTags(clients.kms(key.region), key.metadata.Arn);
    const holder = tags[TAGS.execution];
    // The tag value went through sanitizeTagValue; only a value that is an execution ARN as-is can be followed.
    return holder !== undefined && isHeldBy(tags, holder) && parseExecutionArn(holder) ? holder : null;
  } catch (error) {
    if (error instanceof Error && error.name === 'AccessDeniedException') {
      return null;
    }
    throw error;
  }
}

/** DescribeExecution; an execution that does not exist is an ExecutionNotFoundError. */
export async function describeExecution(
  sfn: SFNClient,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  try {
    return await describeAnExecution(sfn, executionArn);
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') {
      throw new ExecutionNotFoundError(executionArn);
    }
    throw error;
  }
}

/**
 * The ARN of the key an execution's input names, or null when the input names none. A bare key ID
 * is the key of that ID in the workflow's own account and Region, as the workflow reads it. The
 * ARN, not the ID, is what identifies the key: a multi-Region replica shares its primary's key ID,
 * and an approval meant for one must never reach the execution working on the other.
 */
export function executionKeyArn(input: string | undefined, machine: StateMachineRef): string | null {
  const parsed = parseJson(input);
  const raw = isRecord(parsed) ? parsed.keyId : undefined;
  if (typeof raw !== 'string') {
    return null;
  }
  try {
    const ref = parseKeyId(raw);
    return ref.kind === 'KEY_ARN'
      ? ref.arn
      : `arn:${machine.partition}:kms:${machine.region}:${machine.account}:key/${ref.keyId}`;
  } catch {
    return null;
  }
}

/** Running executions whose input names this key (the full key ARN, Region and account included), newest first. */
export async function runningExecutionsForKey(
  sfn: SFNClient,
  machine: StateMachineRef,
  keyArn: string,
): Promise<DescribeExecutionCommandOutput[]> {
  const running = await listExecutions(sfn, machine.arn, 'RUNNING');
  const described = await mapLimit(running, CONCURRENCY, (item) =>
    item.executionArn ? describeExecution(sfn, item.executionArn) : Promise.resolve(null),
  );
  return described.filter(
    (d): d is DescribeExecutionCommandOutput =>
      d !== null && d.status === 'RUNNING' && executionKeyArn(d.input, machine) === keyArn,
  );
}

/** The state an execution entered last (newest history events first), or null. */
async function lastState(sfn: SFNClient, executionArn: string): Promise<string | null> {
  const events = await readRecentHistory(sfn, executionArn, RECENT_EVENTS_FOR_STATE);
  const entered = events.find((event) => event.type?.endsWith('StateEntered') === true);
  return entered?.stateEnteredEventDetails?.name ?? null;
}

/** Enough of the newest events to contain the last state entered (each state is entered, then exited). */
const RECENT_EVENTS_FOR_STATE = 10;

/** How far back `status <key>` looks for a finished execution of the key. */
const RECENT_EXECUTIONS_SEARCHED = 200;

/**
 * The execution a person means by `<key|execution>`: an execution ARN or name as given; for a key,
 * its running execution (refused when it has several), else the one its hold tag names, else its
 * most recent one. A key is matched by its full ARN: a bare key ID is the key of that ID in the
 * workflow's Region, so a replica and its primary, which share the ID, never stand for each other.
 */
async function resolveExecutionTarget(
  target: string,
  sfn: SFNClient,
  clients: AwsClients,
  options: AwsOptions,
  io: CliIo,
): Promise<string> {
  if (parseExecutionArn(target)) {
    return target;
  }
  if (!looksLikeKey(target)) {
    if (!EXECUTION_NAME.test(target)) {
      throw new ExecutionNotFoundError(JSON.stringify(target));
    }
    const machine = stateMachineFrom(options, io);
    return `arn:${machine.partition}:states:${machine.region}:${machine.account}:execution:${machine.name}:${target}`;
  }
  const machine = stateMachineFrom(options, io);
  const region = keyRegion(target, machine.region, machine.account);
  const key = await resolveKey(target, region, clients);
  const running = await runningExecutionsForKey(sfn, machine, key.metadata.Arn);
  if (running.length > 1) {
    // Guessing which one the person means could answer an approval nobody looked at.
    const matches = await mapLimit(running, CONCURRENCY, async (d) => ({
      name: d.name ?? parseExecutionArn(d.executionArn ?? '')?.name ?? String(d.executionArn),
      status: d.status ?? 'UNKNOWN',
      state: d.executionArn ? await lastState(sfn, d.executionArn) : null,
    }));
    throw new SeveralExecutionsError(key.metadata.Arn, matches);
  }
  if (running[0]?.executionArn) {
    return running[0].executionArn;
  }
  const holder = await holdingExecution(key, clients);
  if (holder && parseExecutionArn(holder)?.stateMachineArn === machine.arn) {
    return holder;
  }
  const recent = await listExecutions(sfn, machine.arn, undefined, RECENT_EXECUTIONS_SEARCHED);
  // Newest first, a few at a time: the key's latest execution is usually among the first.
  for (let start = 0; start < recent.length; start += CONCURRENCY) {
    const batch = recent.slice(start, start + CONCURRENCY);
    const described = await mapLimit(batch, CONCURRENCY, (item) =>
      item.executionArn ? describeExecution(sfn, item.executionArn) : Promise.resolve(null),
    );
    const match = described.find((d) => d !== null && executionKeyArn(d.input, machine) === key.metadata.Arn);
    if (match?.executionArn) {
      return match.executionArn;
    }
  }
  throw new ExecutionNotFoundError(
    `key ${key.metadata.Arn} (no running execution, no hold tag, none among the last ${RECENT_EXECUTIONS_SEARCHED} executions)`,
  );
}

export interface ExecutionTarget {
  /** Step Functions in the execution's Region. */
  readonly sfn: SFNClient;
  readonly executionArn: string;
  readonly description: DescribeExecutionCommandOutput;
}

/** The execution a `<key|execution>` argument names, described. */
export async function describeTarget(
  target: string,
  clients: AwsClients,
  options: AwsOptions,
  io: CliIo,
): Promise<ExecutionTarget> {
  // An execution ARN names its Region; a key or an execution name needs the state machine.
  const region = parseExecutionArn(target)?.region ?? stateMachineFrom(options, io).region;
  const sfn = clients.sfn(region);
  const executionArn = await resolveExecutionTarget(target, sfn, clients, options, io);
  return { sfn, executionArn, description: await describeExecution(sfn, executionArn) };
}
