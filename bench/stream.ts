/**
 * The subscription source measured for real (`sweep: true, sweepSubscription: true`): one emulated
 * account holding N keys at once, the log group's subscription filter handing every failed KMS call
 * to the real Deliveries handler (lambdas/deliveries/) as CloudWatch Logs ingests it, and the real
 * DeliveryProof handler (lambdas/delivery-proof/) run by the template's five-minute rule. Both run
 * through the simulator's models: SubscriptionDeliveries (batches a minute after their minute,
 * 10,000 events or 1 MiB at most, the delivery metrics) and the AsyncInvokeQueue they share with the
 * rule (Lambda's asynchronous retries, its `AWS/Lambda` metrics). Their SDK clients talk to the
 * emulator, and DynamoDB is dynalite, as in the simulator.
 *
 * The world of one cell is the sweep's (bench/sweep.ts):
 * - N live holds in the registry, disabled evenly over the hold span before the day, each key
 *   disabled in KMS.
 * - The CloudTrail log group takes V unrelated records a day (generated on demand), each key's canary
 *   (one DisabledException a check interval, by the check function's role) from its disable on, and
 *   a real failure (an application's Decrypt refused) on about five keys: half before the day, half
 *   during it.
 * - The filter exists from before the oldest hold; the days before the measured one are set up, not
 *   run: what the filter forwarded of the held keys' records before the day is handed to the real
 *   Deliveries handler, one hold's records at a time (the background concerns no held key, so its
 *   deliveries before the day would write no sightings), and the proof's state is the one its last
 *   run before the day leaves when every run since the filter's creation found nothing lost
 *   (`streamSince` the filter's creation, proven to STREAM_SETTLE_MS before that run).
 *
 * What it measures over `hours` virtual hours from the day's start, scaled to the day (every hour is
 * alike: the holds stay, and the subscription's work follows the trail's failed calls): the requests
 * that read the trail or its deliveries (FilterLogEvents, DescribeSubscriptionFilters, GetMetricData
 * and the metrics it asks for), their peak in one virtual second, each function's invocations, the
 * events delivered, the longest invocation (its virtual time, and its wall-clock time in this
 * process, on the emulated services: nothing charges virtual time but a log search), the DynamoDB
 * requests and the capacity units dynalite reports for them, and the events the log group ingested.
 * When the day ends, the checks must find: the proof fresh (within the checks' maximum age) and
 * standing since before every hold began, and every failure and every hold's latest canary that
 * CloudWatch Logs delivered before the end in that hold's sightings. Otherwise: a BenchError.
 */

import { SWEEP_STATE_KEY } from '../lambdas/contracts/sweep.js';
import { STREAM_SETTLE_MS } from '../lambdas/domain/stream.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../lambdas/domain/time.js';
import { VirtualClock } from '../lib/simulator/clock.js';
import {
  LAMBDA_DEFAULT_MEMORY_MB,
  type SynthesizedWorkflow,
  synthesizeWorkflow,
  type WorkflowFunction,
  workflowPrincipalArnsOf,
} from '../lib/simulator/definition.js';
import { EmulatedAccount, type Invocation } from '../lib/simulator/emulator/account.js';
import { EmulatedDynamoDb } from '../lib/simulator/emulator/dynamodb.js';
import { startEmulatorServer } from '../lib/simulator/emulator/server.js';
import { loadHandler } from '../lib/simulator/engine.js';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from '../lib/simulator/scenario.js';
import {
  AsyncInvokeQueue,
  type AsyncOutcome,
  type MetricSink,
  ScheduledRules,
} from '../lib/simulator/scheduled-rules.js';
import { prepareEnvironment } from '../lib/simulator/simulate.js';
import { FORWARD_DELAY_MS, payloadOf, SubscriptionDeliveries } from '../lib/simulator/subscriptions.js';
import { BenchError } from './simulation.js';
import { getItem, type HeldKey, itemBytes, plain, putItem, readKeptSightings, seedHolds } from './sweep.js';

const LOG_GROUP = 'aws-cloudtrail-logs';
const APP_ROLE = `arn:aws:sts::${DEFAULT_ACCOUNT}:assumed-role/orders-service/worker`;
const BACKGROUND_SEED = 20_260_101;
/** The day measured starts here (holds reach back a hold span before it). */
const DAY_START = Date.parse('2026-03-01T00:00:00.000Z');
/** CloudTrail's delivery delay into the log group. */
const DELIVERY_LAG_MS = 5 * MINUTE_MS;
/**
 * A record CloudWatch Logs has delivered by the day's end: ingested (its event time and the delivery
 * lag), forwarded a minute after its minute ends, and the three minutes AWS gives ("usually less").
 */
const DELIVERED_WITHIN_MS = DELIVERY_LAG_MS + FORWARD_DELAY_MS + 3 * MINUTE_MS;
/** PutLogEvents' batch limits, which the subscription's batches keep (lib/simulator/subscriptions.ts). */
const MAX_BATCH_EVENTS = 10_000;
const MAX_BATCH_BYTES = 1_048_576;
/** Read and write capacity units, by the DynamoDB operations that read or write. */
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface StreamCellOptions {
  readonly keys: number;
  readonly eventsPerDay: number;
  /** How long the oldest hold has been held when the day starts (observation + pending window). */
  readonly holdSpanDays: number;
  readonly checkIntervalHours: number;
  /** Virtual hours run from the day's start (2 to 24); every `...PerDay` figure is them scaled to 24. */
  readonly hours: number;
}

/** What one function did over the hours run. */
export interface FunctionWork {
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly invocations: number;
  /** Invocations that ended in an error (the queue retries them; the proof counts them). */
  readonly errors: number;
  /** The longest invocation in virtual time (log searches and paced waits: 0 when it searched nothing). */
  readonly maxVirtualMs: number;
  /** The longest invocation in wall-clock time, in this process on the emulated services. */
  readonly maxWallMs: number;
  /** All invocations' wall-clock time, ms (what the Lambda duration is estimated from). */
  readonly wallMs: number;
}

/** DynamoDB requests and the capacity units dynalite reported for them (on-demand request units). */
export interface TableWork {
  readonly requests: Readonly<Record<string, number>>;
  /** Capacity units by operation. */
  readonly units: Readonly<Record<string, number>>;
  /** Wall-clock time of the requests by operation, ms (in this process, dynalite answering). */
  readonly wallMs: Readonly<Record<string, number>>;
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Invocations that sent at least one Scan (a Scan of the registry is paged: one request per MB). */
  readonly scanningInvocations: number;
}

/** What the checks would read when the day ends. */
export interface StreamCorrectness {
  readonly holds: number;
  /** The proof's `sweptTo` (provenThrough), minutes before the day's end; the checks' maximum age. */
  readonly proofAgeMinutes: number;
  readonly proofMaxAgeMinutes: number;
  /** Holds that began at or after the proof's `streamSince` (the checks of the others fail closed). */
  readonly holdsCovered: number;
  /** Holds with a sightings item of their execution. */
  readonly sightingsWritten: number;
  /** Real failures on held keys CloudWatch Logs delivered before the end, and how many the sightings hold. */
  readonly failures: number;
  readonly failuresSighted: number;
  /** Holds with a canary delivered before the end, and of them those whose sightings hold the latest. */
  readonly canariesDue: number;
  readonly canariesSighted: number;
  /** The largest sightings item, and all of them, bytes. */
  readonly maxSightingsBytes: number;
  readonly totalSightingsBytes: number;
  /** The proof's state item, bytes. */
  readonly stateBytes: number;
}

export interface StreamCell {
  readonly keys: number;
  readonly eventsPerDay: number;
  readonly hours: number;
  readonly filterLogEventsPerDay: number;
  /** Events the FilterLogEvents requests scanned (none expected: nothing searches the log group). */
  readonly eventsSearchedPerDay: number;
  readonly describeSubscriptionFiltersPerDay: number;
  readonly getMetricDataPerDay: number;
  /** Metrics the GetMetricData requests asked for (CloudWatch bills them per metric). */
  readonly metricsRequestedPerDay: number;
  readonly eventsIngestedPerDay: number;
  readonly eventsDeliveredPerDay: number;
  /** Most of those log and metric requests in one virtual second. */
  readonly peakRequestsInOneSecond: number;
  readonly deliveries: FunctionWork;
  readonly proof: FunctionWork;
  /** Per day: the deliveries' and the proof's DynamoDB work. */
  readonly deliveriesTable: TableWork;
  readonly proofTable: TableWork;
  /** Asynchronous attempts that failed, were throttled or dropped, and deliveries refused: each a BenchError. */
  readonly incidents: readonly string[];
  readonly correctness: StreamCorrectness;
  readonly wallSeconds: number;
}

/** The template's function for `handler`, with the figures the bench reads from it. */
function functionOf(workflow: SynthesizedWorkflow, handler: string): WorkflowFunction {
  const fn = workflow.functions.find((f) => f.handler === handler);
  if (!fn) {
    throw new BenchError(`the template with the subscription source has no '${handler}' function`);
  }
  return fn;
}

/** Sets a function's own variables for one invocation (as Lambda would); returns what puts them back. */
function useEnvironment(variables: Readonly<Record<string, string>>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(variables)) {
    if (!name.startsWith('KDG_') || name === 'KDG_HANDLER') continue;
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** The events the filter forwarded, cut as CloudWatch Logs cuts its batches (per log stream, at its limits). */
function batchesOf<T extends { readonly logStreamName: string; readonly message: string }>(
  events: readonly T[],
): { logStream: string; events: T[] }[] {
  const batches: { logStream: string; events: T[]; bytes: number }[] = [];
  const open = new Map<string, { logStream: string; events: T[]; bytes: number }>();
  for (const event of events) {
    const bytes = Buffer.byteLength(event.message);
    let batch = open.get(event.logStreamName);
    if (
      !batch ||
      batch.events.length >= MAX_BATCH_EVENTS ||
      (batch.events.length > 0 && batch.bytes + bytes > MAX_BATCH_BYTES)
    ) {
      batch = { logStream: event.logStreamName, events: [], bytes: 0 };
      open.set(event.logStreamName, batch);
      batches.push(batch);
    }
    batch.events.push(event);
    batch.bytes += bytes;
  }
  return batches.map(({ logStream, events: chunk }) => ({ logStream, events: chunk }));
}

interface MutableWork {
  invocations: number;
  errors: number;
  maxVirtualMs: number;
  maxWallMs: number;
  wallMs: number;
}

interface MutableTable {
  requests: Record<string, number>;
  units: Record<string, number>;
  wallMs: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  scanningInvocations: number;
}

const newWork = (): MutableWork => ({ invocations: 0, errors: 0, maxVirtualMs: 0, maxWallMs: 0, wallMs: 0 });
const newTable = (): MutableTable => ({
  requests: {},
  units: {},
  wallMs: {},
  readUnits: 0,
  writeUnits: 0,
  scanningInvocations: 0,
});

/** Runs the real subscription source over one cell and reads back what it left the checks. */
export async function measureStreamCell(options: StreamCellOptions): Promise<StreamCell> {
  const started = performance.now();
  if (!(options.hours >= 2 && options.hours <= 24)) {
    throw new BenchError(`a subscription cell runs 2 to 24 hours, not ${options.hours}`);
  }
  const workflow = await synthesizeWorkflow(
    { cloudTrailLogGroupName: LOG_GROUP, sweep: true, sweepSubscription: true },
    { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION },
  );
  const deliveriesFn = functionOf(workflow, 'deliveries');
  const proofFn = functionOf(workflow, 'delivery-proof');
  const checkFn = functionOf(workflow, 'check');
  const tableName = deliveriesFn.environment?.KDG_HOLD_TABLE;
  const proofMaxAgeSeconds = Number(checkFn.environment?.KDG_SWEEP_MAX_AGE_SECONDS);
  const filter = workflow.subscriptionFilters?.find((f) => f.handler === 'deliveries');
  const rules = (workflow.scheduledRules ?? []).filter((rule) => rule.handler === 'delivery-proof');
  const proofRateMs = rules[0]?.rateMs ?? Number.NaN;
  // The canaries are the check function's calls: its role is one of the workflow's own principals.
  const checkRole = workflowPrincipalArnsOf(workflow).find((arn) => /CheckFunctionRole/.test(arn));
  if (!tableName || !filter || rules.length !== 1 || !checkRole || !(proofMaxAgeSeconds > 0)) {
    throw new BenchError(
      'the template with the subscription source lacks the registry, the subscription filter, the proof rule, the check role or the checks’ maximum proof age',
    );
  }
  const canarySession = `${checkRole.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/check`;

  const server = await startEmulatorServer();
  prepareEnvironment(server, false);
  // Loaded once the environment points the SDK at the emulator and silences the logger.
  const modules = {
    deliveries: await loadHandler('deliveries'),
    'delivery-proof': await loadHandler('delivery-proof'),
  } as const;
  const spanMs = options.holdSpanDays * DAY_MS;
  const dayEnd = DAY_START + options.hours * HOUR_MS;
  const perDay = (n: number) => (n * 24) / options.hours;
  const checkMs = options.checkIntervalHours * HOUR_MS;
  const filterCreatedAt = DAY_START - spanMs - HOUR_MS;
  const clock = VirtualClock.install(new Date(filterCreatedAt));
  const tables = await EmulatedDynamoDb.start(workflow.tables ?? []);
  const region = process.env.AWS_REGION;
  process.env.AWS_REGION = DEFAULT_REGION;
  try {
    const account = new EmulatedAccount({
      account: DEFAULT_ACCOUNT,
      region: DEFAULT_REGION,
      workflowPrincipalArn: checkRole,
      clock: () => clock.now(),
      cloudTrail: {
        deliveryLagMs: DELIVERY_LAG_MS,
        retentionDays: 365,
        logGroupName: LOG_GROUP,
        logGroupCreatedAt: new Date(DAY_START - 90 * DAY_MS),
      },
    });
    account.tables = tables;
    server.setAccount(account);
    account.addSubscriptionFilter({
      filterName: filter.filterName,
      filterPattern: filter.filterPattern,
      destinationArn: filter.destinationArn,
      creationTime: filterCreatedAt,
    });

    // The holds: disabled evenly over the span, the oldest `holdSpanDays` before the day.
    const held = await seedHolds({
      account,
      tables,
      tableName,
      stateMachineArn: workflow.stateMachineArn,
      keys: options.keys,
      dayStart: DAY_START,
      spanMs,
    });

    // Every call on a held key: its canaries (one per check interval from its disable on) and the failures.
    const calls: { at: number; key: HeldKey; canary: boolean }[] = [];
    for (const key of held) {
      for (let at = key.disabledAt + checkMs; at < dayEnd; at += checkMs) {
        calls.push({ at, key, canary: true });
      }
    }
    const failing = held.filter((_, i) => i % Math.max(1, Math.ceil(options.keys / 5)) === 0);
    for (const [j, key] of failing.entries()) {
      const at =
        j % 2 === 0
          ? key.disabledAt + Math.floor((DAY_START - key.disabledAt) / 2)
          : DAY_START + Math.floor(((j + 1) * (options.hours - 1) * HOUR_MS) / (failing.length + 1));
      calls.push({ at, key, canary: false });
    }
    calls.sort((a, b) => a.at - b.at);
    const failureIds = new Map<string, string>();
    const latestCanary = new Map<string, { eventID: string; at: number }>();
    const call = (c: (typeof calls)[number]) => {
      const answer = account.appCall({
        keyId: c.key.keyArn,
        operation: c.canary ? 'Encrypt' : 'Decrypt',
        principalArn: c.canary ? canarySession : APP_ROLE,
        at: new Date(c.at),
      });
      if (answer.ok || answer.errorCode !== 'DisabledException' || !answer.eventID) {
        throw new BenchError(`a call on a disabled key answered ${answer.errorCode ?? 'success'}`);
      }
      if (!c.canary) failureIds.set(c.key.keyArn, answer.eventID);
      else if (c.at + DELIVERED_WITHIN_MS <= dayEnd) {
        latestCanary.set(c.key.keyArn, { eventID: answer.eventID, at: c.at });
      }
    };
    let nextCall = 0;
    for (; (calls[nextCall]?.at ?? Number.POSITIVE_INFINITY) < DAY_START; nextCall += 1) {
      call(calls[nextCall] as (typeof calls)[number]);
    }
    clock.advanceTo(DAY_START);

    // The functions, as Lambda runs an asynchronous invocation: their variables, their timeout, the work measured.
    let measuring = false;
    let current: { invocation: Invocation; handler: keyof typeof modules; scanned: boolean } | null = null;
    const work = { deliveries: newWork(), 'delivery-proof': newWork() };
    const tableWork = { deliveries: newTable(), 'delivery-proof': newTable() };
    let eventsDelivered = 0;
    const byArn = new Map([deliveriesFn, proofFn].map((fn) => [fn.arn, fn]));
    const run = async (handler: string, event: unknown, functionArn: string): Promise<AsyncOutcome> => {
      const fn = byArn.get(functionArn);
      if (!fn || (handler !== 'deliveries' && handler !== 'delivery-proof')) {
        throw new BenchError(`an invocation of '${handler}', which the subscription cell does not run`);
      }
      const timeoutMs = (fn.timeoutSeconds ?? 3) * 1000;
      const invocation = account.beginInvocation(fn.logicalId, timeoutMs);
      const running = { invocation, handler: handler as keyof typeof modules, scanned: false };
      current = running;
      const restore = useEnvironment(fn.environment ?? {});
      const context = {
        functionName: fn.logicalId,
        functionVersion: '$LATEST',
        invokedFunctionArn: fn.arn,
        memoryLimitInMB: String(fn.memoryMb ?? LAMBDA_DEFAULT_MEMORY_MB),
        awsRequestId: `${handler}-${clock.nowMs()}`,
        logGroupName: `/aws/lambda/${fn.logicalId}`,
        logStreamName: 'bench',
        callbackWaitsForEmptyEventLoop: false,
        getRemainingTimeInMillis: () => Math.max(0, invocation.timeoutMs - invocation.spentMs),
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
      };
      const began = performance.now();
      let outcome: AsyncOutcome;
      try {
        const result = await modules[handler].handler(event, context);
        outcome = invocation.timedOut
          ? { error: new BenchError(`${handler} outlived its timeout`), spentMs: invocation.spentMs }
          : { result, spentMs: invocation.spentMs };
      } catch (error) {
        outcome = { error, spentMs: invocation.spentMs };
      } finally {
        restore();
        current = null;
        account.endInvocation(invocation);
      }
      const wallMs = performance.now() - began;
      if (measuring) {
        const w = work[handler];
        w.invocations += 1;
        if (outcome.error !== undefined) w.errors += 1;
        w.maxVirtualMs = Math.max(w.maxVirtualMs, invocation.spentMs);
        w.maxWallMs = Math.max(w.maxWallMs, wallMs);
        w.wallMs += wallMs;
        if (running.scanned) tableWork[handler].scanningInvocations += 1;
        if (handler === 'deliveries' && outcome.error === undefined) {
          eventsDelivered += (outcome.result as { events: number }).events;
        }
      }
      return outcome;
    };

    // The days before: what the filter forwarded of the held keys' records, to the real handler.
    const before = account.forwardedEvents(
      filter.filterName,
      filterCreatedAt,
      DAY_START - FORWARD_DELAY_MS,
      clock.nowMs(),
    );
    // One hold at a time (the handler merges what it is handed into the hold's sightings, whatever
    // the batch): about one invocation a hold instead of a batch's reads and writes of every hold.
    const byKey = new Map<string, typeof before>();
    for (const event of before) {
      const keyId = /key\/([0-9a-f-]{36})/.exec(event.message)?.[1] ?? '';
      byKey.set(keyId, [...(byKey.get(keyId) ?? []), event]);
    }
    for (const batch of [...byKey.values()].flatMap(batchesOf)) {
      const outcome = await run(
        'deliveries',
        payloadOf(account, filter.filterName, { ...batch, firstAt: clock.nowMs() }),
        deliveriesFn.arn,
      );
      if (outcome.error !== undefined) {
        throw new BenchError(`the deliveries of the days before failed: ${String(outcome.error)}`);
      }
    }
    // The proof's last run before the day, five minutes before it, found nothing lost since the filter's creation.
    const lastProofAt = DAY_START - proofRateMs;
    await putItem(tables, tableName, {
      keyArn: SWEEP_STATE_KEY,
      version: 1,
      sweptTo: new Date(lastProofAt - STREAM_SETTLE_MS).toISOString(),
      streamSince: new Date(filterCreatedAt).toISOString(),
      running: null,
      last: null,
      updatedAt: new Date(lastProofAt).toISOString(),
    });
    account.addBackgroundPerDay(options.eventsPerDay, BACKGROUND_SEED);

    // What the day's requests ask of the log group and CloudWatch, and when (the invocation's own time).
    const requestTimes: number[] = [];
    const logsRequests: Record<string, number> = {};
    let metricsRequested = 0;
    let getMetricData = 0;
    const atNow = () => clock.nowMs() + (current?.invocation.spentMs ?? 0);
    const serve = account.serve.bind(account);
    account.serve = (service, operation, request, caller) => {
      if (measuring && service === 'logs') {
        logsRequests[operation] = (logsRequests[operation] ?? 0) + 1;
        requestTimes.push(atNow());
      }
      return serve(service, operation, request, caller);
    };
    const metrics = account.cloudwatch;
    const getMetrics = metrics.getMetricData.bind(metrics);
    metrics.getMetricData = (request, now) => {
      if (measuring) {
        getMetricData += 1;
        const queries = request.MetricDataQueries;
        metricsRequested += Array.isArray(queries) ? queries.length : 0;
        requestTimes.push(atNow());
      }
      return getMetrics(request, now);
    };
    // DynamoDB: each request's capacity units as dynalite computes them (DynamoDB's rules), the
    // answer given to the handler as it would be without them.
    const forward = tables.forward.bind(tables);
    tables.forward = async (operation, body) => {
      const handler = current?.handler;
      if (!measuring || handler === undefined) return forward(operation, body);
      const request = (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>;
      const asked = request.ReturnConsumedCapacity !== undefined && request.ReturnConsumedCapacity !== 'NONE';
      const began = performance.now();
      const answer = await forward(
        operation,
        asked ? request : { ...request, ReturnConsumedCapacity: 'TOTAL' },
      );
      const t = tableWork[handler];
      t.wallMs[operation] = (t.wallMs[operation] ?? 0) + (performance.now() - began);
      t.requests[operation] = (t.requests[operation] ?? 0) + 1;
      if (operation === 'Scan' && current) current.scanned = true;
      const write = WRITES.has(operation);
      let units: number;
      let given = answer;
      if (answer.status === 200) {
        type Consumed = { CapacityUnits?: number };
        const parsed = JSON.parse(answer.body) as { ConsumedCapacity?: Consumed | Consumed[] };
        // Batch operations answer one entry per table.
        const consumed = parsed.ConsumedCapacity;
        units = Array.isArray(consumed)
          ? consumed.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0)
          : (consumed?.CapacityUnits ?? 1);
        if (!asked) {
          // The checksum was of the body with the units; the SDK checks it only when it is there.
          delete parsed.ConsumedCapacity;
          const { 'x-amz-crc32': _crc, ...headers } = answer.headers;
          given = { ...answer, headers, body: JSON.stringify(parsed) };
        }
      } else {
        // A refused conditional write still consumes the item's write units.
        const item = request.Item as Record<string, unknown> | undefined;
        units = write && item ? Math.ceil(itemBytes(item) / 1024) : 1;
      }
      t.units[operation] = (t.units[operation] ?? 0) + units;
      if (write) t.writeUnits += units;
      else t.readUnits += units;
      return given;
    };

    // The day: the calls on held keys, the subscription's batches, the proof's rule, in time order.
    const publish: MetricSink = (namespace, name, dimensions, atMs, value) =>
      account.cloudwatch.record(namespace, name, dimensions, atMs, value);
    const queue = new AsyncInvokeQueue([deliveriesFn, proofFn], run, publish);
    const proofRule = new ScheduledRules(
      rules,
      [deliveriesFn, proofFn],
      run,
      DEFAULT_ACCOUNT,
      DEFAULT_REGION,
      DAY_START,
      queue,
    );
    const subscription = new SubscriptionDeliveries([filter], account, queue, publish, DAY_START, () =>
      clock.nowMs(),
    );
    const incidents: string[] = [];
    const note = (entries: readonly { at: string; handler?: string; detail?: Record<string, unknown> }[]) => {
      for (const entry of entries) {
        const d = entry.detail ?? {};
        if (d.error !== undefined || d.dropped !== undefined || d.deliveryError !== undefined || d.skipped) {
          incidents.push(
            `${entry.at} ${entry.handler ?? 'subscription'}: ${JSON.stringify(d).slice(0, 300)}`,
          );
        }
      }
    };
    measuring = true;
    for (;;) {
      const callAt = calls[nextCall]?.at ?? Number.POSITIVE_INFINITY;
      const ruleAt = proofRule.nextDueAt() ?? Number.POSITIVE_INFINITY;
      const deliveryAt = subscription.nextDueAt() ?? Number.POSITIVE_INFINITY;
      const next = Math.min(callAt, ruleAt, deliveryAt);
      if (next >= dayEnd) break;
      clock.advanceTo(next);
      if (callAt === next) {
        for (; calls[nextCall]?.at === next; nextCall += 1) {
          call(calls[nextCall] as (typeof calls)[number]);
        }
        continue;
      }
      if (ruleAt === next) note(await proofRule.runDue(next));
      if (deliveryAt === next) note(await subscription.runDue(next));
    }
    measuring = false;
    if (work['delivery-proof'].errors > 0 || work.deliveries.errors > 0 || incidents.length > 0) {
      throw new BenchError(
        `the subscription at ${options.keys} keys and ${options.eventsPerDay} records a day lost or failed deliveries: ${incidents.slice(0, 3).join('; ')}`,
      );
    }

    const correctness = await readCorrectness({
      tables,
      tableName,
      held,
      failureIds,
      failureAt: new Map(calls.filter((c) => !c.canary).map((c) => [c.key.keyArn, c.at] as const)),
      latestCanary,
      dayEnd,
      proofMaxAgeMinutes: proofMaxAgeSeconds / 60,
      canaryIssuer: checkRole,
    });
    // Ingested: counted once every record of the day is delivered (the clock a day on).
    clock.advanceTo(dayEnd + DAY_MS);
    const ingested = account.logEventsInWindow(DAY_START, dayEnd);
    const stats = account.stats();
    const perSecond = new Map<number, number>();
    for (const at of requestTimes) {
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const functionWork = (fn: WorkflowFunction, w: MutableWork): FunctionWork => ({
      handler: fn.handler,
      memoryMb: fn.memoryMb ?? LAMBDA_DEFAULT_MEMORY_MB,
      timeoutSeconds: fn.timeoutSeconds ?? 3,
      invocations: perDay(w.invocations),
      errors: w.errors,
      maxVirtualMs: w.maxVirtualMs,
      maxWallMs: w.maxWallMs,
      wallMs: perDay(w.wallMs),
    });
    const tablePerDay = (t: MutableTable): TableWork => ({
      requests: Object.fromEntries(Object.entries(t.requests).map(([op, n]) => [op, perDay(n)])),
      units: Object.fromEntries(Object.entries(t.units).map(([op, n]) => [op, perDay(n)])),
      wallMs: Object.fromEntries(Object.entries(t.wallMs).map(([op, n]) => [op, perDay(n)])),
      scanningInvocations: perDay(t.scanningInvocations),
      readUnits: perDay(t.readUnits),
      writeUnits: perDay(t.writeUnits),
    });
    return {
      keys: options.keys,
      eventsPerDay: options.eventsPerDay,
      hours: options.hours,
      filterLogEventsPerDay: perDay(logsRequests.FilterLogEvents ?? 0),
      eventsSearchedPerDay: perDay(stats.logEventsScanned),
      describeSubscriptionFiltersPerDay: perDay(logsRequests.DescribeSubscriptionFilters ?? 0),
      getMetricDataPerDay: perDay(getMetricData),
      metricsRequestedPerDay: perDay(metricsRequested),
      eventsIngestedPerDay: perDay(ingested),
      eventsDeliveredPerDay: perDay(eventsDelivered),
      peakRequestsInOneSecond: Math.max(0, ...perSecond.values()),
      deliveries: functionWork(deliveriesFn, work.deliveries),
      proof: functionWork(proofFn, work['delivery-proof']),
      deliveriesTable: tablePerDay(tableWork.deliveries),
      proofTable: tablePerDay(tableWork['delivery-proof']),
      incidents,
      correctness,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    server.setAccount(null);
    await tables.close();
    clock.uninstall();
    if (region === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = region;
  }
}

async function readCorrectness(args: {
  readonly tables: EmulatedDynamoDb;
  readonly tableName: string;
  readonly held: readonly HeldKey[];
  readonly failureIds: ReadonlyMap<string, string>;
  readonly failureAt: ReadonlyMap<string, number>;
  readonly latestCanary: ReadonlyMap<string, { readonly eventID: string; readonly at: number }>;
  readonly dayEnd: number;
  readonly proofMaxAgeMinutes: number;
  readonly canaryIssuer: string;
}): Promise<StreamCorrectness> {
  const stateItem = await getItem(args.tables, args.tableName, SWEEP_STATE_KEY);
  if (!stateItem) {
    throw new BenchError('the proof left no state item');
  }
  const state = plain({ M: stateItem }) as { sweptTo: string | null; streamSince?: string | null };
  const provenThrough = state.sweptTo === null ? Number.NaN : Date.parse(state.sweptTo);
  const since = state.streamSince ? Date.parse(state.streamSince) : Number.POSITIVE_INFINITY;
  let written = 0;
  let failures = 0;
  let sighted = 0;
  let canariesSighted = 0;
  let maxBytes = 0;
  let totalBytes = 0;
  for (const key of args.held) {
    const sightings = await readKeptSightings(args.tables, args.tableName, key.keyArn);
    const failureId = args.failureIds.get(key.keyArn);
    const failureAt = args.failureAt.get(key.keyArn);
    const due =
      failureId !== undefined && failureAt !== undefined && failureAt + DELIVERED_WITHIN_MS <= args.dayEnd;
    if (due) failures += 1;
    if (!sightings) continue;
    maxBytes = Math.max(maxBytes, sightings.bytes);
    totalBytes += sightings.bytes;
    if (sightings.executionArn !== key.executionArn) continue;
    written += 1;
    const ids = new Set(sightings.records.map((r) => r.eventID));
    if (due && ids.has(failureId)) sighted += 1;
    const canary = args.latestCanary.get(key.keyArn);
    const canaryRecord = canary ? sightings.records.find((r) => r.eventID === canary.eventID) : undefined;
    if (canaryRecord?.userIdentity?.sessionContext?.sessionIssuer?.arn === args.canaryIssuer) {
      canariesSighted += 1;
    }
  }
  return {
    holds: args.held.length,
    proofAgeMinutes: (args.dayEnd - provenThrough) / MINUTE_MS,
    proofMaxAgeMinutes: args.proofMaxAgeMinutes,
    holdsCovered: args.held.filter((key) => key.disabledAt >= since).length,
    sightingsWritten: written,
    failures,
    failuresSighted: sighted,
    canariesDue: args.latestCanary.size,
    canariesSighted,
    maxSightingsBytes: maxBytes,
    totalSightingsBytes: totalBytes,
    stateBytes: itemBytes(stateItem),
  };
}

/** The checks' reads must find every hold covered and every delivered record: else the figures describe a broken watch. */
export function requireStreamCorrect(cell: StreamCell): void {
  const c = cell.correctness;
  if (
    !(c.proofAgeMinutes <= c.proofMaxAgeMinutes) ||
    c.holdsCovered !== c.holds ||
    c.failuresSighted !== c.failures ||
    c.failures === 0 ||
    c.canariesSighted !== c.canariesDue ||
    c.canariesDue === 0
  ) {
    throw new BenchError(
      `the subscription at ${cell.keys} keys and ${cell.eventsPerDay} records a day left the checks a proof ${c.proofAgeMinutes.toFixed(0)} min old (at most ${c.proofMaxAgeMinutes}), ${c.holdsCovered}/${c.holds} holds covered, ${c.failuresSighted}/${c.failures} failures and ${c.canariesSighted}/${c.canariesDue} latest canaries sighted`,
    );
  }
}
