import { DAY_MS } from '../../../lambdas/domain/time.js';
import { BackgroundStream } from './background.js';
import {
  accountOfPrincipal,
  appClientOf,
  backgroundRecords,
  deterministicUuid,
  type EmulatedRecord,
  eventTimeOf,
  userIdentityFor,
} from './cloudtrail.js';
import { CloudWatchMetrics } from './cloudwatch.js';
import type { EmulatedDynamoDb } from './dynamodb.js';
import { AwsError, faultError } from './errors.js';
import type { InventoryService } from './inventory/protocol.js';
import { InventoryWorld, type ProtectedResource } from './inventory/resources.js';
import { KeyUsabilityHistory } from './key-usability.js';
import {
  type AddKeyOptions,
  defaultAlgorithm,
  type EmulatedKey,
  type KeySnapshot,
  type KmsCallContext,
  type KmsCaller,
  KmsService,
  macFor,
  signatureFor,
  TRACKED_OPERATIONS,
} from './kms.js';
import {
  type ForwardedLogEvent,
  LogsService,
  type LogsStats,
  type SubscriptionFilterOptions,
} from './logs.js';
import { SchedulerService } from './scheduler.js';
import { SfnService, SnsService } from './sns-sfn.js';
import {
  EMULATED_TRAIL_NAME,
  handleCloudTrail,
  isLoggingAt,
  selectorsAt,
  type TrailSetup,
  type TrailView,
} from './trail.js';

export type { TrailSetup } from './trail.js';

export interface EmulatedAccountOptions {
  readonly account: string;
  readonly region: string;
  /** The principal every call arriving over HTTP acts as (the workflow's Lambda role). */
  readonly workflowPrincipalArn: string;
  readonly clock?: (() => Date) | undefined;
  readonly cloudTrail: {
    readonly deliveryLagMs: number;
    readonly retentionDays: number;
    readonly logGroupName: string;
    /** Defaults to `retentionDays` before the clock at construction. */
    readonly logGroupCreatedAt?: Date | undefined;
    readonly trail?: TrailSetup | undefined;
  };
  /** How many events one FilterLogEvents page examines at most (default 5,000). */
  readonly filterScanPageSize?: number | undefined;
  /**
   * FilterLogEvents in virtual time: each page costs `pageLatencyMs` of the calling function's time
   * (default 0), and requests above `tps` a second get ThrottlingException (default: no quota).
   */
  readonly search?:
    | { readonly pageLatencyMs?: number | undefined; readonly tps?: number | undefined }
    | undefined;
  /** The Scheduler schedule groups that exist besides `default` (none given: any group exists). */
  readonly scheduleGroups?: readonly string[] | undefined;
}

/**
 * The fault operation that hits CloudWatch Logs' deliveries to a subscription's destination (not a
 * call of the workflow: a `*` fault does not reach it, a named one does).
 */
export const SUBSCRIPTION_DELIVERY = 'SubscriptionDelivery';

/** The services `serve` answers (AWS JSON 1.1). */
export type FaultService = 'kms' | 'logs' | 'cloudtrail';

/** Every service a fault can hit: Step Functions' faults apply to all its calls over HTTP. */
export type FaultTarget = FaultService | 'sfn' | 'dynamodb' | 'scheduler' | InventoryService;

export interface FaultSpec {
  readonly service: FaultTarget;
  readonly operation: string;
  readonly error: string;
  readonly from: Date;
  readonly until: Date;
  /** Omitted: every matching call in [from, until). */
  readonly count?: number | undefined;
}

export interface Caller extends KmsCaller {
  /** The SDK's attempt number (its `amz-sdk-request` header): a retry comes after the SDK's backoff. */
  readonly attempt?: number | undefined;
}

/**
 * One Lambda invocation in virtual time. The world's clock stands still while a handler runs; the
 * time its searches take (`pageLatencyMs` a page, the SDK's backoff before a retry) is counted here,
 * against the function's configured timeout. The request that would end after the timeout is never
 * answered, nor is any later one: Lambda stopped the function.
 */
export interface Invocation {
  /** The function's name, for the error. */
  readonly functionName: string;
  readonly timeoutMs: number;
  /** Where its own time starts (ms): the world's instant, or the end of the searches before it. */
  readonly startMs: number;
  /** Virtual time the invocation has spent so far. */
  spentMs: number;
  /** FilterLogEvents pages answered. */
  pages: number;
  timedOut: boolean;
}

/** The mean of the SDK's jittered backoff before retry `retry` of a throttled request (@smithy/core retry: 500 ms base, doubling, full jitter). */
function throttlingBackoffMs(retry: number): number {
  return Math.min(20_000, 500 * 2 ** (retry - 1)) / 2;
}

/**
 * A request quota as a token bucket in virtual time: `tps` a second, a burst of one second's worth.
 * Requests that arrive out of time order (two functions' own clocks) take from the same bucket.
 */
export class RequestQuota {
  private tokens: number;
  private lastMs: number | null = null;
  private readonly capacity: number;

  constructor(private readonly tps: number) {
    this.capacity = Math.max(1, tps);
    this.tokens = this.capacity;
  }

  take(atMs: number): boolean {
    if (this.lastMs === null) {
      this.lastMs = atMs;
    } else if (atMs > this.lastMs) {
      this.tokens = Math.min(this.capacity, this.tokens + ((atMs - this.lastMs) * this.tps) / 1000);
      this.lastMs = atMs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

export interface AppCallOptions {
  /** Key ID, key ARN, alias name or alias ARN, as the application sends it. */
  readonly keyId: string;
  readonly operation: string;
  readonly principalArn: string;
  /** The caller's account; defaults to the principal's, then ours. */
  readonly account?: string | undefined;
  /** The caller's Region; defaults to the Region of an ARN `keyId`, then the account's. */
  readonly region?: string | undefined;
  /** This call's CloudTrail delivery delay (default: the account's). */
  readonly deliveryLagMs?: number | undefined;
  /** When the call happened (history before the simulation start); default: the clock. */
  readonly at?: Date | undefined;
  /** Decrypt/ReEncrypt without a key ID: the ciphertext names the key. */
  readonly omitKeyId?: boolean | undefined;
  /** Extra or overriding request fields (e.g. `TagKeys` for UntagResource). */
  readonly request?: Readonly<Record<string, unknown>> | undefined;
  /**
   * An AWS service calling for the principal (SSE-KMS): the record's `userIdentity.invokedBy`,
   * `sourceIPAddress` and `userAgent` name the service.
   */
  readonly invokedBy?: string | undefined;
  /** `caller`: only the caller's account logs the call; this account's trail gets no record. */
  readonly loggedIn?: 'both' | 'caller' | undefined;
  /** This call's EventBridge event: `deliver` is never dropped, `drop` always is. */
  readonly eventBridge?: 'deliver' | 'drop' | undefined;
  /** This call's EventBridge delay (default: the bus's). */
  readonly eventBridgeLagMs?: number | undefined;
  /** TagResource: the tags set (default: none). */
  readonly tags?: Readonly<Record<string, string>> | undefined;
  /** UntagResource: the tag keys removed (default: every tag the key has). */
  readonly tagKeys?: readonly string[] | undefined;
  /** CreateAlias, UpdateAlias, DeleteAlias: the alias (`keyId` is the target key). */
  readonly alias?: string | undefined;
  /** ScheduleKeyDeletion: the waiting period (default 30, as KMS's). */
  readonly pendingWindowInDays?: number | undefined;
}

/** How one record reaches EventBridge, where the call says so. */
export interface RecordEventBridge {
  readonly mode?: 'deliver' | 'drop' | undefined;
  readonly lagMs?: number | undefined;
}

export interface AppCallResult {
  readonly ok: boolean;
  readonly errorCode?: string | undefined;
  readonly errorMessage?: string | undefined;
  /** The CloudTrail eventID in our account; absent when the call never reached our account's trail. */
  readonly eventID?: string | undefined;
  readonly requestID?: string | undefined;
}

/** One emitted CloudTrail record and what became of it (for timelines and an EventBridge model). */
export interface EmittedRecord {
  readonly record: EmulatedRecord;
  /** When the call happened (ms). */
  readonly at: number;
  /** When the record becomes visible in the log group, or null when the trail did not deliver it. */
  readonly visibleAt: number | null;
  /** True for calls that arrived over HTTP (the workflow). */
  readonly workflow: boolean;
  /** The call's own EventBridge delivery, overriding the bus's drop share and lag. */
  readonly eventBridge?: RecordEventBridge | undefined;
}

export interface AccountStats extends LogsStats {
  kmsCalls: number;
  workflowKmsCalls: number;
  workflowLogsCalls: number;
  faultsFired: number;
  /** FilterLogEvents requests refused above the quota. */
  throttled: number;
}

export interface ServedResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly requestId: string;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

/**
 * The emulated AWS account: KMS keys, the CloudWatch Logs group that receives CloudTrail, faults
 * for the workflow's calls and the application traffic that hits the keys. Pure state: time only
 * comes from the injected clock (or an explicit `at`), and nothing here does I/O.
 */
export class EmulatedAccount {
  readonly account: string;
  readonly region: string;
  readonly workflowPrincipalArn: string;
  readonly clock: () => Date;
  readonly logGroupName: string;
  /** SNS Publish from Lambdas (the fast path's e-mail) and the executions DescribeExecution knows. */
  readonly sns: SnsService;
  readonly sfn: SfnService;
  /** The one-time schedules of the watch's check chain (the world fires them in virtual time). */
  readonly scheduler: SchedulerService;
  /** What the services publish to CloudWatch (Lambda's and CloudWatch Logs' metrics), for GetMetricData. */
  readonly cloudwatch = new CloudWatchMetrics();
  private readonly kms: KmsService;
  private readonly logs: LogsService;
  private readonly deliveryLagMs: number;
  private readonly trail: TrailSetup;
  private readonly logGroupCreatedAt: Date;
  private readonly faults: ActiveFault[] = [];
  /** The resources encrypted under the account's keys that the inventory services report. */
  readonly inventory: InventoryWorld;
  /** Trails other than the watched one, each encrypted under a key (CloudTrail reports them). */
  private readonly protectedTrails: ProtectedResource[] = [];
  /** When each key turned usable or unusable, as the services encrypting under it see it. */
  private readonly usability = new KeyUsabilityHistory();
  /** The ARN of the key encrypting the CloudTrail log group. */
  private logGroupKeyArn: string | null = null;
  private faultsSuspended = 0;
  /**
   * Tables a scenario's `dynamodb` faults do not reach: the approval links' table. Those faults were
   * written for the hold registry and the inventory's reads; a link that cannot be stored or redeemed
   * is the approval page's own failure, which its tests cover (the request is retried, the page
   * answers 503 and decides nothing).
   */
  readonly faultFreeTables = new Set<string>();
  private readonly emitted: EmittedRecord[] = [];
  private readonly listeners = new Set<(emitted: EmittedRecord) => void>();
  private callCounter = 0;
  private logsRequestCounter = 0;
  private readonly pageLatencyMs: number;
  private readonly searchQuota: RequestQuota | null;
  private invocation: Invocation | null = null;
  /** Where the searches of the invocations so far ended, in their own time (ms). */
  private searchesEndMs = Number.NEGATIVE_INFINITY;
  private readonly finished: Invocation[] = [];
  private readonly counters = {
    kmsCalls: 0,
    workflowKmsCalls: 0,
    workflowLogsCalls: 0,
    faultsFired: 0,
    throttled: 0,
  };

  constructor(options: EmulatedAccountOptions) {
    this.account = options.account;
    this.region = options.region;
    this.workflowPrincipalArn = options.workflowPrincipalArn;
    this.clock = options.clock ?? (() => new Date());
    this.logGroupName = options.cloudTrail.logGroupName;
    this.deliveryLagMs = options.cloudTrail.deliveryLagMs;
    this.trail = options.cloudTrail.trail ?? {};
    this.kms = new KmsService(options.account, options.region);
    this.inventory = new InventoryWorld(options.account, this.usability);
    this.sns = new SnsService(options.account, this.clock);
    this.sfn = new SfnService(this.clock, (operation) => {
      const fault = this.takeFault('sfn', operation, this.clock());
      return fault ? faultError(fault.error, operation, this.workflowPrincipalArn, 'states') : undefined;
    });
    this.scheduler = new SchedulerService(
      options.account,
      options.region,
      this.clock,
      new Set(options.scheduleGroups ?? []),
    );
    this.logs = new LogsService(options.account, options.region, options.filterScanPageSize ?? 5000);
    this.pageLatencyMs = options.search?.pageLatencyMs ?? 0;
    const tps = options.search?.tps;
    this.searchQuota = tps === undefined || !Number.isFinite(tps) ? null : new RequestQuota(tps);
    this.logGroupCreatedAt =
      options.cloudTrail.logGroupCreatedAt ??
      new Date(this.clock().getTime() - options.cloudTrail.retentionDays * DAY_MS);
    this.logs.addLogGroup({
      name: options.cloudTrail.logGroupName,
      creationTime: this.logGroupCreatedAt,
      retentionInDays: options.cloudTrail.retentionDays,
    });
  }

  addKey(options: AddKeyOptions): void {
    const key = this.kms.addKey(options, this.clock());
    this.usability.start(key.arn, key.state === 'Enabled');
  }

  /**
   * A Lambda invocation starts: its searches count against `timeoutMs` until `endInvocation`. Its
   * requests reach the search quota from the world's instant on, or from where the last
   * invocation's own time ended if that is later: the world's clock stands still during an
   * invocation, so the next one may start before the last one's searches would have ended.
   */
  beginInvocation(functionName: string, timeoutMs: number): Invocation {
    const invocation: Invocation = {
      functionName,
      timeoutMs,
      startMs: Math.max(this.clock().getTime(), this.searchesEndMs),
      spentMs: 0,
      pages: 0,
      timedOut: false,
    };
    this.invocation = invocation;
    return invocation;
  }

  /**
   * The running invocation waits `ms` of its own time (a search pacing its pages): its clock moves on,
   * the world's does not; a wait past the function's timeout ends it there.
   */
  waitInInvocation(ms: number): void {
    const invocation = this.invocation;
    if (!invocation || ms <= 0) return;
    invocation.spentMs = Math.min(invocation.timeoutMs, invocation.spentMs + ms);
    if (invocation.spentMs >= invocation.timeoutMs) invocation.timedOut = true;
  }

  endInvocation(invocation: Invocation): void {
    if (this.invocation === invocation) {
      this.invocation = null;
      if (invocation.pages > 0) {
        this.searchesEndMs = Math.max(this.searchesEndMs, invocation.startMs + invocation.spentMs);
      }
      this.finished.push(invocation);
    }
  }

  /** Every invocation that ended, with the time its searches took: what a benchmark reads. */
  invocations(): readonly Invocation[] {
    return this.finished;
  }

  /** The answer to any request of an invocation Lambda already stopped (it never reaches a service). */
  refusalAfterTimeout(): AwsError | null {
    const invocation = this.invocation;
    return invocation?.timedOut
      ? new AwsError(
          'Sandbox.Timedout',
          `${invocation.functionName} timed out after ${invocation.timeoutMs / 1000} s; Lambda stopped it before this request`,
        )
      : null;
  }

  /**
   * Unrelated records, `perDay` a day from the log group's creation on, generated when a search
   * reaches them (never stored), delivered like every record under the trail's settings.
   */
  addBackgroundPerDay(perDay: number, seed: number): void {
    const keys = this.kms.allKeys();
    const setup = this.trail;
    // The selectors hold from trailChangeAt on, or always; before it the trail logged everything.
    const selectors = {
      readWriteType: setup.readWriteType ?? 'All',
      excludeKms: setup.excludeKmsEvents === true,
    };
    this.logs.addGeneratedEvents(
      this.logGroupName,
      new BackgroundStream({
        perDay,
        originMs: this.logGroupCreatedAt.getTime(),
        lagMs: this.deliveryLagMs,
        seed,
        logStreamName: this.streamName(this.region),
        context: {
          account: this.account,
          region: this.region,
          reservedKeyIds: new Set(keys.map((key) => key.keyId)),
          aliases: keys.flatMap((key) => this.kms.aliasesOf(key)),
        },
        delivery: {
          stopMs: setup.stopLoggingAt?.getTime() ?? null,
          changeMs: setup.trailChangeAt?.getTime() ?? Number.NEGATIVE_INFINITY,
          excluded: (record) => blockedBy(selectors, record),
        },
      }),
    );
  }

  /** Another log group (a missing CloudTrail group is modelled by a fault or by a wrong name). */
  addLogGroup(name: string, createdAt: Date, retentionInDays?: number): void {
    this.logs.addLogGroup({ name, creationTime: createdAt, retentionInDays });
  }

  /**
   * A subscription filter on the CloudTrail log group, as the stack's deployment created it before
   * the scenario (its `creationTime`). At most two per group; a pattern CloudWatch refuses is refused.
   */
  addSubscriptionFilter(filter: SubscriptionFilterOptions): void {
    this.logs.putSubscriptionFilter(this.logGroupName, filter);
  }

  /** The CloudTrail log group's subscription filters as they stand at `atMs` (none once the group was deleted). */
  subscriptionFilters(atMs: number): readonly SubscriptionFilterOptions[] {
    this.settleLogGroupDeletion(atMs);
    return this.logs.subscriptionFilters(this.logGroupName);
  }

  /**
   * When the CloudTrail log group was deleted, as of `atMs`, or null: a scenario deletes it with a
   * `logs` `*` `ResourceNotFoundException` fault without a count (every call from `from` on fails).
   * A counted fault is a passing failure of some calls, not a deletion.
   */
  logGroupDeletedAt(atMs: number): number | null {
    let deletedAt: number | null = null;
    for (const fault of this.faults) {
      const from = fault.from.getTime();
      if (
        fault.service === 'logs' &&
        fault.operation === '*' &&
        fault.error === 'ResourceNotFoundException' &&
        fault.count === undefined &&
        from <= atMs &&
        fault.until.getTime() > from
      ) {
        deletedAt = deletedAt === null ? from : Math.min(deletedAt, from);
      }
    }
    return deletedAt;
  }

  /** Deleting a log group deletes its subscription filters for good (a group made again has none). */
  private settleLogGroupDeletion(atMs: number): void {
    if (this.logGroupDeletedAt(atMs) !== null) {
      this.logs.deleteSubscriptionFilters(this.logGroupName);
    }
  }

  /** The events the filter forwards from those the CloudTrail group ingested in [fromMs, toMs), as known at `nowMs`. */
  forwardedEvents(filterName: string, fromMs: number, toMs: number, nowMs: number): ForwardedLogEvent[] {
    return this.logs.forwardedEvents(this.logGroupName, filterName, fromMs, toMs, nowMs);
  }

  /** When the filter's next forwarded event is ingested in [fromMs, untilMs), or null. */
  nextForwardedIngestion(filterName: string, fromMs: number, untilMs: number, nowMs: number): number | null {
    return this.logs.nextForwardedIngestion(this.logGroupName, filterName, fromMs, untilMs, nowMs);
  }

  /** Changes whenever the log store does: what was computed from it holds until then. */
  logsVersion(): number {
    return this.logs.version;
  }

  /** The error an injected `SubscriptionDelivery` fault gives a delivery at `atMs`, if one is due. */
  subscriptionDeliveryFault(atMs: number): string | undefined {
    return this.takeFault('logs', SUBSCRIPTION_DELIVERY, new Date(atMs))?.error;
  }

  /**
   * A resource encrypted under one of the account's keys: log groups go to CloudWatch Logs (the
   * watched one takes the key), trails to CloudTrail, the rest to the inventory services.
   */
  addProtectedResource(resource: ProtectedResource): void {
    if (resource.type === 'AWS::Logs::LogGroup') {
      if (resource.id === this.logGroupName) {
        this.setLogGroupKey(resource.key.arn);
      } else {
        this.logs.addLogGroup({
          name: resource.id,
          creationTime: resource.createdAt,
          kmsKeyId: resource.key.arn,
        });
      }
    } else if (resource.type === 'AWS::CloudTrail::Trail') {
      if (this.protectedTrails.some((trail) => trail.id === resource.id)) {
        throw new Error(`Trail ${resource.id} is already in the account`);
      }
      this.protectedTrails.push(resource);
    } else {
      this.inventory.add(resource);
    }
  }

  /**
   * The KMS key (an ARN of this account) that encrypts the CloudTrail log group. CloudWatch Logs
   * encrypts "all newly ingested data for the log group ... using this key" and cannot use a key
   * that is disabled or pending deletion (CloudWatch Logs user guide, "Encrypt log data in
   * CloudWatch Logs using AWS KMS"; KMS key states): a record that reaches the group while the key
   * is unusable is never stored. Reads apply that at each record's delivery time, so a record of a
   * call just before `DisableKey` that arrives after it is lost too, as in AWS.
   */
  setLogGroupKey(keyArn: string): void {
    if (this.kms.inspect(keyArn) === undefined) {
      throw new Error(`The log group key ${keyArn} is not a key of the account`);
    }
    if (this.logGroupKeyArn !== null && this.logGroupKeyArn !== keyArn) {
      throw new Error(`The log group is already encrypted under ${this.logGroupKeyArn}`);
    }
    this.logGroupKeyArn = keyArn;
    this.logs.setKmsKey(
      this.logGroupName,
      keyArn,
      (visibleAt) => this.usability.usableAt(keyArn, visibleAt),
      (until) => this.usability.unusableStretches(keyArn, until),
    );
  }

  /**
   * The error an injected fault gives this call by the workflow to `service`, if one is due (the
   * services phrase it themselves).
   */
  serviceFault(service: FaultTarget, operation: string): string | undefined {
    return this.takeFault(service, operation, this.clock())?.error;
  }

  /**
   * The stack's DynamoDB tables, served by a real implementation that lives outside this pure
   * state (it does I/O); simulate attaches one per run, and the router forwards to it.
   */
  tables: EmulatedDynamoDb | null = null;

  /** An injected fault for a DynamoDB call by the workflow, as the service would phrase it. */
  dynamoDbFault(operation: string, tableName?: string): AwsError | undefined {
    if (tableName !== undefined && this.faultFreeTables.has(tableName)) return undefined;
    const fault = this.takeFault('dynamodb', operation, this.clock());
    return fault ? faultError(fault.error, operation, this.workflowPrincipalArn, 'dynamodb') : undefined;
  }

  addFault(fault: FaultSpec): void {
    this.faults.push({ ...fault, remaining: fault.count ?? Number.POSITIVE_INFINITY });
  }

  /** The key as it stands now, `Deleted` once its DeletionDate has passed. */
  inspectKey(keyId: string): KeySnapshot | undefined {
    this.settle(this.clock());
    return this.kms.inspect(keyId);
  }

  deleteReplicas(keyId: string): void {
    this.kms.deleteReplicas(keyId, this.clock());
  }

  /** Every KMS record this account's trail saw, delivered or not, in call order. */
  records(): readonly EmittedRecord[] {
    return this.emitted;
  }

  /** Called for every KMS record at the moment of the call (an EventBridge model subscribes here). */
  onRecord(listener: (emitted: EmittedRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): AccountStats {
    return { ...this.logs.stats, ...this.counters };
  }

  /** Log events a query of [startMs, endMs] on the CloudTrail group would see now. */
  logEventsInWindow(startMs: number, endMs: number): number {
    return this.logs.countVisible(this.logGroupName, startMs, endMs, this.clock());
  }

  /**
   * A request from the workflow (over HTTP): faults apply, and the answer is the HTTP status and
   * JSON body the service would send. Never throws for an AWS-level error.
   */
  serve(
    service: FaultService,
    operation: string,
    request: Record<string, unknown>,
    caller: Caller,
  ): ServedResponse {
    if (service === 'kms') {
      this.counters.workflowKmsCalls += 1;
      const outcome = this.invokeKms(operation, request, caller, { workflow: true });
      return outcome.error
        ? { status: outcome.error.status, body: outcome.error.toBody(), requestId: outcome.requestId }
        : { status: 200, body: outcome.response, requestId: outcome.requestId };
    }
    this.counters.workflowLogsCalls += 1;
    this.logsRequestCounter += 1;
    const requestId = deterministicUuid(this.account, 'logs-request', this.logsRequestCounter);
    try {
      const now = this.clock();
      const fault = this.takeFault(service, operation, now);
      if (fault) {
        throw faultError(fault.error, operation, caller.principalArn, service);
      }
      if (service === 'logs' && operation === 'FilterLogEvents') {
        this.searchPage(caller);
      }
      const body =
        service === 'cloudtrail'
          ? handleCloudTrail(operation, request, this.trailView(caller.region), now)
          : this.handleLogs(operation, request, now);
      return { status: 200, body, requestId };
    } catch (error) {
      const aws =
        error instanceof AwsError ? error : new AwsError('ServiceUnavailableException', String(error), 500);
      return { status: aws.status, body: aws.toBody(), requestId };
    }
  }

  /** Application traffic: the operation as that principal at the clock (or `at`), no HTTP. */
  appCall(options: AppCallOptions): AppCallResult {
    const at = options.at ?? this.clock();
    const callerAccount = options.account ?? accountOfPrincipal(options.principalArn) ?? this.account;
    const arnRegion = /^arn:[^:]+:kms:([^:]+):/.exec(options.keyId)?.[1];
    const region = options.region ?? arnRegion ?? this.region;
    if (callerAccount !== this.account) {
      // KMS resolves names in the caller's own account; only our key's (or alias's) ARN reaches us,
      // and only for operations KMS allows across accounts. Anything else is logged in theirs only.
      // A Decrypt without KeyId reaches the key its ciphertext names, wherever the caller is.
      const ours =
        new RegExp(`^arn:[^:]+:kms:[^:]+:${this.account}:`).test(options.keyId) ||
        (options.omitKeyId === true && this.kms.lookup(options.keyId, region) !== undefined);
      if (!ours) {
        return { ok: false, errorCode: 'NotFoundException', errorMessage: 'The key is not in our account.' };
      }
      if (!KmsService.servesAcrossAccounts(options.operation)) {
        return {
          ok: false,
          errorCode: 'AccessDeniedException',
          errorMessage: `kms:${options.operation} is not allowed across accounts.`,
        };
      }
    }
    if (options.loggedIn === 'caller' && callerAccount === this.account) {
      throw new Error('loggedIn: caller is for a call from another account');
    }
    const client = appClientOf(options.principalArn);
    // A service calling for the principal shows as itself in the address and agent fields.
    const caller: Caller = {
      principalArn: options.principalArn,
      account: callerAccount,
      region,
      sourceIp: options.invokedBy ?? client.sourceIp,
      userAgent: options.invokedBy ?? client.userAgent,
      invokedBy: options.invokedBy,
    };
    const request = { ...this.appRequest(options, region), ...(options.request ?? {}) };
    const eventBridge =
      options.eventBridge !== undefined || options.eventBridgeLagMs !== undefined
        ? { mode: options.eventBridge, lagMs: options.eventBridgeLagMs }
        : undefined;
    const outcome = this.invokeKms(options.operation, request, caller, {
      workflow: false,
      at,
      deliveryLagMs: options.deliveryLagMs,
      logged: options.loggedIn !== 'caller',
      eventBridge,
    });
    const eventID = options.loggedIn === 'caller' ? {} : { eventID: outcome.eventId };
    return outcome.error
      ? {
          ok: false,
          errorCode: outcome.error.type,
          errorMessage: outcome.error.message,
          ...eventID,
          requestID: outcome.requestId,
        }
      : { ok: true, ...eventID, requestID: outcome.requestId };
  }

  /**
   * Lets KMS delete the keys whose DeletionDate has come (each with its `DeleteKey` record) and
   * returns them; every KMS call does the same first, so a call never sees a key past its date.
   */
  settleKeys(): KeySnapshot[] {
    return this.settle(this.clock()).flatMap((key) => {
      const snapshot = this.kms.inspect(key.arn, key.region);
      return snapshot ? [snapshot] : [];
    });
  }

  /** When KMS deletes the next key pending deletion (ms), or null. */
  nextDeletionAt(): number | null {
    return this.kms.nextDeletionAt();
  }

  /** Deterministic records of unrelated keys and services, delivered with the default lag. */
  addBackgroundRecords(n: number, from: Date, to: Date, seed: number): void {
    const keys = this.kms.allKeys();
    const generated = backgroundRecords(n, from, to, seed, {
      account: this.account,
      region: this.region,
      reservedKeyIds: new Set(keys.map((key) => key.keyId)),
      aliases: keys.flatMap((key) => this.kms.aliasesOf(key)),
    });
    this.logs.putEvents(
      this.logGroupName,
      generated
        .filter(({ record, at }) => this.delivers(record, at))
        .map(({ record, at }) => ({
          timestamp: Date.parse(record.eventTime),
          visibleAt: at.getTime() + this.deliveryLagMs,
          logStreamName: this.streamName(record.awsRegion),
          record,
        })),
    );
  }

  /**
   * A FilterLogEvents page in virtual time: it arrives at the world's instant plus what the calling
   * invocation has spent (a retry after the SDK's backoff too), is refused above the quota, and
   * costs `pageLatencyMs` of the invocation's time; a page that would end after the function's
   * timeout is never answered.
   */
  private searchPage(caller: Caller): void {
    const invocation = this.invocation;
    if (invocation && (caller.attempt ?? 1) > 1) {
      invocation.spentMs += throttlingBackoffMs((caller.attempt ?? 1) - 1);
    }
    const at = invocation ? invocation.startMs + invocation.spentMs : this.clock().getTime();
    if (this.searchQuota && !this.searchQuota.take(at)) {
      this.counters.throttled += 1;
      throw new AwsError('ThrottlingException', 'Rate exceeded');
    }
    if (invocation) {
      if (invocation.spentMs + this.pageLatencyMs > invocation.timeoutMs) {
        invocation.spentMs = invocation.timeoutMs;
        invocation.timedOut = true;
        const refusal = this.refusalAfterTimeout();
        if (refusal) throw refusal;
      }
      invocation.spentMs += this.pageLatencyMs;
      invocation.pages += 1;
    }
  }

  private handleLogs(
    operation: string,
    request: Record<string, unknown>,
    now: Date,
  ): Record<string, unknown> {
    switch (operation) {
      case 'DescribeLogGroups':
        return this.logs.describeLogGroups(request, now);
      case 'FilterLogEvents':
        return this.logs.filterLogEvents(request, now);
      case 'DescribeSubscriptionFilters':
        this.settleLogGroupDeletion(now.getTime());
        return this.logs.describeSubscriptionFilters(request);
      default:
        throw new AwsError(
          'UnknownOperationException',
          `The emulated CloudWatch Logs does not serve ${operation}.`,
        );
    }
  }

  /** The trail as the CloudTrail API reports it: the same setup `delivers` applies. */
  private trailView(callerRegion: string = this.region): TrailView {
    const watchedArn = `arn:aws:cloudtrail:${this.region}:${this.account}:trail/${EMULATED_TRAIL_NAME}`;
    const watched = this.protectedTrails.find(
      (trail) => trail.id === EMULATED_TRAIL_NAME || trail.arn === watchedArn,
    );
    return {
      account: this.account,
      region: this.region,
      logGroupName: this.logGroupName,
      deliveryLagMs: this.deliveryLagMs,
      startedAt: this.logGroupCreatedAt,
      setup: this.trail,
      ...(watched ? { kmsKeyId: watched.key.arn } : {}),
      callerRegion,
      otherTrails: this.protectedTrails
        .filter((trail) => trail !== watched)
        .map((trail) => ({ name: trail.id, arn: trail.arn, region: trail.region, kmsKeyId: trail.key.arn })),
    };
  }

  /**
   * Runs `body` with no fault injected: the calls of a person's action (the simulated approver's
   * visit to the approval page), which the scenario's faults, written for the workflow's own
   * calls, do not aim at.
   */
  async withoutFaults<T>(body: () => Promise<T>): Promise<T> {
    this.faultsSuspended += 1;
    try {
      return await body();
    } finally {
      this.faultsSuspended -= 1;
    }
  }

  private takeFault(service: FaultTarget, operation: string, now: Date): ActiveFault | undefined {
    if (this.faultsSuspended > 0) return undefined;
    const fault = this.faults.find(
      (candidate) =>
        candidate.service === service &&
        ((candidate.operation === '*' && operation !== SUBSCRIPTION_DELIVERY) ||
          candidate.operation === operation) &&
        candidate.remaining > 0 &&
        now >= candidate.from &&
        now < candidate.until,
    );
    if (fault) {
      fault.remaining -= 1;
      this.counters.faultsFired += 1;
    }
    return fault;
  }

  /** KMS deletes the keys due by `now`, logging a `DeleteKey` service event for each at its DeletionDate. */
  private settle(now: Date): EmulatedKey[] {
    const deleted = this.kms.settle(now);
    for (const key of deleted) {
      const at = key.deletedAt ?? now;
      this.callCounter += 1;
      this.writeRecord(
        deleteKeyRecord(key, this.account, at, deterministicUuid(this.account, 'event', this.callCounter)),
        at,
        this.deliveryLagMs,
        false,
      );
    }
    return deleted;
  }

  private invokeKms(
    operation: string,
    request: Record<string, unknown>,
    caller: Caller,
    options: {
      workflow: boolean;
      at?: Date | undefined;
      deliveryLagMs?: number | undefined;
      /** False: the call is logged in the caller's account only. */
      logged?: boolean | undefined;
      eventBridge?: RecordEventBridge | undefined;
    },
  ): { response: Record<string, unknown>; error?: AwsError; eventId: string; requestId: string } {
    const now = this.clock();
    this.settle(now);
    const at = options.at ?? now;
    this.callCounter += 1;
    const eventId = deterministicUuid(this.account, 'event', this.callCounter);
    const requestId = deterministicUuid(this.account, 'request', this.callCounter);
    if (!KmsService.serves(operation)) {
      // An unknown operation never reaches KMS, so CloudTrail has nothing to log.
      return {
        response: {},
        error: new AwsError('UnknownOperationException', `The emulated KMS does not serve ${operation}.`),
        eventId,
        requestId,
      };
    }
    this.counters.kmsCalls += 1;
    const ctx: KmsCallContext = {
      now: at,
      caller,
      eventId,
      requestId,
      resources: [],
      used: [],
      responseElements: null,
      recordResources: null,
    };
    let response: Record<string, unknown> = {};
    let error: AwsError | undefined;
    try {
      const fault = options.workflow ? this.takeFault('kms', operation, now) : undefined;
      if (fault) {
        this.peekResources(ctx, request);
        throw faultError(fault.error, operation, caller.principalArn, 'kms');
      }
      response = this.kms.handle(operation, request, ctx);
      if (TRACKED_OPERATIONS.has(operation)) {
        for (const key of ctx.used) {
          this.recordUsage(key, operation, at, eventId, requestId);
        }
      }
    } catch (thrown) {
      error = thrown instanceof AwsError ? thrown : new AwsError('KMSInternalException', String(thrown), 500);
    }
    for (const key of ctx.resources) {
      this.usability.observe(key.arn, at.getTime(), key.state === 'Enabled' && key.deletedAt === null);
    }
    if (options.logged !== false) {
      this.writeRecord(
        this.kmsRecord(operation, request, caller, ctx, at, error),
        at,
        options.deliveryLagMs ?? this.deliveryLagMs,
        options.workflow,
        options.eventBridge,
      );
    }
    return error ? { response, error, eventId, requestId } : { response, eventId, requestId };
  }

  /** A faulted call still names its key in CloudTrail when the key resolves. */
  private peekResources(ctx: KmsCallContext, request: Record<string, unknown>): void {
    for (const field of ['KeyId', 'SourceKeyId', 'DestinationKeyId']) {
      const sent = request[field];
      if (typeof sent === 'string') {
        try {
          this.kms.resolve(ctx, sent, true);
        } catch {
          // An unresolvable key simply has no resources entry.
        }
      }
    }
  }

  private recordUsage(
    key: EmulatedKey,
    operation: string,
    at: Date,
    eventId: string,
    requestId: string,
  ): void {
    const last = key.lastUsage;
    if (at < key.trackingStartDate || (last !== null && at < last.at)) {
      return;
    }
    key.lastUsage = { operation, at, cloudTrailEventId: eventId, kmsRequestId: requestId };
  }

  private kmsRecord(
    operation: string,
    request: Record<string, unknown>,
    caller: Caller,
    ctx: KmsCallContext,
    at: Date,
    error: AwsError | undefined,
  ): EmulatedRecord {
    const parameters = requestParametersOf(operation, request, ctx);
    const identity = userIdentityFor(caller.principalArn, caller.account, at);
    const resources = ctx.recordResources ?? ctx.resources.map((key) => key.arn);
    return {
      eventVersion: '1.08',
      userIdentity: caller.invokedBy ? { ...identity, invokedBy: caller.invokedBy } : identity,
      eventTime: eventTimeOf(at),
      eventSource: 'kms.amazonaws.com',
      eventName: operation,
      awsRegion: caller.region,
      sourceIPAddress: caller.sourceIp,
      userAgent: caller.userAgent,
      ...(error ? { errorCode: error.type, errorMessage: error.message } : {}),
      requestParameters: parameters,
      responseElements: error ? null : ctx.responseElements,
      requestID: ctx.requestId,
      eventID: ctx.eventId,
      readOnly: !KmsService.writes(operation),
      // CloudTrail types an alias in `resources` as AWS::KMS::Key too (its CreateAlias examples).
      ...(resources.length > 0
        ? {
            resources: resources.map((arn) => ({ accountId: this.account, type: 'AWS::KMS::Key', ARN: arn })),
          }
        : {}),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: this.account,
      eventCategory: 'Management',
    };
  }

  /**
   * The trail's settings at the time of the call decide, for calls made before the simulation start
   * (history) as for the rest.
   */
  private delivers(record: EmulatedRecord, at: Date): boolean {
    if (!isLoggingAt(this.trail, at)) {
      return false;
    }
    return !blockedBy(selectorsAt(this.trail, at), record);
  }

  private writeRecord(
    record: EmulatedRecord,
    at: Date,
    lagMs: number,
    workflow: boolean,
    eventBridge?: RecordEventBridge,
  ): void {
    const delivered = this.delivers(record, at);
    const visibleAt = delivered ? at.getTime() + lagMs : null;
    if (visibleAt !== null) {
      this.logs.putEvent(this.logGroupName, {
        timestamp: Date.parse(record.eventTime),
        visibleAt,
        logStreamName: this.streamName(record.awsRegion),
        record,
      });
    }
    const emitted: EmittedRecord = {
      record,
      at: at.getTime(),
      visibleAt,
      workflow,
      ...(eventBridge ? { eventBridge } : {}),
    };
    this.emitted.push(emitted);
    for (const listener of this.listeners) {
      listener(emitted);
    }
  }

  private streamName(region: string): string {
    return `${this.account}_CloudTrail_${region}`;
  }

  /** The request an application would send for the operation on that key. */
  private appRequest(options: AppCallOptions, region: string): Record<string, unknown> {
    const key = this.kms.lookup(options.keyId, region);
    const keyArn = key?.arn ?? `arn:aws:kms:${region}:${this.account}:key/${options.keyId}`;
    const algorithm = key ? defaultAlgorithm(key) : 'SYMMETRIC_DEFAULT';
    const message = Buffer.from(`message for ${keyArn}`).toString('base64');
    const ciphertext = Buffer.from(
      JSON.stringify({ emulatedKms: 1, k: keyArn, n: 0, p: Buffer.from('secret').toString('base64') }),
    ).toString('base64');
    const keyId = { KeyId: options.keyId };
    switch (options.operation) {
      case 'Encrypt':
        return {
          ...keyId,
          Plaintext: Buffer.from('secret').toString('base64'),
          EncryptionAlgorithm: algorithm,
        };
      case 'Decrypt':
        return {
          ...(options.omitKeyId ? {} : keyId),
          CiphertextBlob: ciphertext,
          EncryptionAlgorithm: algorithm,
        };
      case 'ReEncrypt':
        return {
          ...(options.omitKeyId ? {} : { SourceKeyId: options.keyId }),
          CiphertextBlob: ciphertext,
          DestinationKeyId: options.keyId,
        };
      case 'GenerateDataKey':
      case 'GenerateDataKeyWithoutPlaintext':
        return { ...keyId, KeySpec: 'AES_256' };
      case 'Sign':
        return { ...keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: algorithm };
      case 'Verify':
        return {
          ...keyId,
          Message: message,
          MessageType: 'RAW',
          SigningAlgorithm: algorithm,
          Signature: signatureFor(keyArn, message),
        };
      case 'DeriveSharedSecret':
        return {
          ...keyId,
          KeyAgreementAlgorithm: 'ECDH',
          PublicKey: Buffer.from(`peer of ${keyArn}`).toString('base64'),
        };
      case 'GenerateMac':
      case 'VerifyMac':
        return {
          ...keyId,
          Message: message,
          MacAlgorithm: algorithm,
          ...(options.operation === 'VerifyMac' ? { Mac: macFor(keyArn, message) } : {}),
        };
      case 'ScheduleKeyDeletion':
        return { ...keyId, PendingWindowInDays: options.pendingWindowInDays ?? 30 };
      case 'UntagResource':
        return {
          ...keyId,
          TagKeys: options.tagKeys ? [...options.tagKeys] : key ? [...key.tags.keys()] : [],
        };
      case 'TagResource':
        return {
          ...keyId,
          Tags: Object.entries(options.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        };
      case 'CreateAlias':
      case 'UpdateAlias':
        return { AliasName: options.alias, TargetKeyId: options.keyId };
      case 'DeleteAlias':
        return { AliasName: options.alias };
      default:
        return keyId;
    }
  }
}

/** Whether the trail's event selectors keep the record out: read-only events of a WriteOnly trail, KMS read events when excluded. */
function blockedBy(
  selectors: { readonly readWriteType: 'All' | 'WriteOnly'; readonly excludeKms: boolean },
  record: EmulatedRecord,
): boolean {
  if (selectors.readWriteType === 'WriteOnly' && record.readOnly) {
    return true;
  }
  return selectors.excludeKms && record.eventSource === 'kms.amazonaws.com' && record.readOnly;
}

/**
 * The record KMS writes when it deletes a key at the end of its waiting period: a service event,
 * no caller, the key ARN in `resources` and (since December 2022) in `responseElements.keyId`
 * (KMS Developer Guide, "DeleteKey" CloudTrail example).
 */
function deleteKeyRecord(key: EmulatedKey, account: string, at: Date, eventId: string): EmulatedRecord {
  return {
    eventVersion: '1.08',
    userIdentity: { accountId: account, invokedBy: 'AWS Internal' },
    eventTime: eventTimeOf(at),
    eventSource: 'kms.amazonaws.com',
    eventName: 'DeleteKey',
    awsRegion: key.region,
    sourceIPAddress: 'AWS Internal',
    userAgent: 'AWS Internal',
    requestParameters: null,
    responseElements: { keyId: key.arn },
    eventID: eventId,
    readOnly: false,
    resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: key.arn }],
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
  };
}

/** Request fields CloudTrail never logs (data, not parameters). */
const UNLOGGED = new Set([
  'Plaintext',
  'CiphertextBlob',
  'Message',
  'Signature',
  'Mac',
  'GrantTokens',
  'PublicKey',
]);

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function camelize(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(camelize);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([name, inner]) => [lowerFirst(name), camelize(inner)]),
    );
  }
  return value;
}

/**
 * `requestParameters` as CloudTrail writes them: the request's fields in lower camel case with the
 * data left out, the key exactly as sent (a Decrypt without KeyId has no `keyId`), and the
 * algorithm KMS assumed when the caller named none.
 */
function requestParametersOf(
  operation: string,
  request: Record<string, unknown>,
  ctx: KmsCallContext,
): Record<string, unknown> | null {
  const parameters: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request)) {
    if (!UNLOGGED.has(name) && value !== undefined && value !== null) {
      parameters[lowerFirst(name)] = camelize(value);
    }
  }
  if ((operation === 'Encrypt' || operation === 'Decrypt') && parameters.encryptionAlgorithm === undefined) {
    const key = ctx.resources[0];
    parameters.encryptionAlgorithm = key ? defaultAlgorithm(key) : 'SYMMETRIC_DEFAULT';
  }
  return Object.keys(parameters).length > 0 ? parameters : null;
}
