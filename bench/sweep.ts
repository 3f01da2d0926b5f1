/**
 * The sweep measured for real: one emulated account holding N keys at once, the real sweep handler
 * (lambdas/sweep/index.ts) invoked every five virtual minutes through a simulated day, its SDK
 * clients talking to the emulator as in the simulator.
 *
 * The world of one cell:
 * - N live holds in the hold registry (DynamoDB, dynalite), written as newHold shapes them and moved
 *   to `watching`, their disable times spread evenly over the hold span before the day (a
 *   `observation + pending window`, so the oldest hold is that old when the day starts), each key
 *   disabled in KMS.
 * - The CloudTrail log group takes V unrelated records a day (generated when a search reaches them),
 *   each key's canary (one DisabledException a check interval, by the workflow's role) from its
 *   disable on, and a real failure (an application's Decrypt refused) on a few keys: half before
 *   the day, half during it.
 * - FilterLogEvents pages cost `pageLatencyMs` of the invocation's virtual time and the account's
 *   quota holds (`searchTps`); the function has 300 s and the context's remaining time follows the
 *   virtual time its pages took, so the sweep splits its search as it would in Lambda.
 *
 * What it measures: the day's FilterLogEvents requests, events scanned and ingested, requests in
 * each virtual second (their peak), the longest search in one invocation, invocations, and the
 * registry's sightings as the checks would read them: every hold's item written, fresh, and holding
 * the failures. A cell whose sightings miss a failure, or whose sweep fails, is a BenchError.
 */

import { toItem } from '../lambdas/aws/hold-registry.js';
import { usePacing } from '../lambdas/aws/pacing.js';
import { sightingsKeyOf } from '../lambdas/contracts/sweep.js';
import { newHold, nextHold } from '../lambdas/domain/hold-record.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../lambdas/domain/time.js';
import type { SweepOutcome } from '../lambdas/sweep/index.js';
import { VirtualClock } from '../lib/simulator/clock.js';
import { synthesizeWorkflow } from '../lib/simulator/definition.js';
import { EmulatedAccount, type Invocation } from '../lib/simulator/emulator/account.js';
import { EmulatedDynamoDb } from '../lib/simulator/emulator/dynamodb.js';
import { startEmulatorServer } from '../lib/simulator/emulator/server.js';
import { loadHandler } from '../lib/simulator/engine.js';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from '../lib/simulator/scenario.js';
import { prepareEnvironment } from '../lib/simulator/simulate.js';
import { BenchError } from './simulation.js';

const LOG_GROUP = 'aws-cloudtrail-logs';
const WORKFLOW_ROLE = `arn:aws:iam::${DEFAULT_ACCOUNT}:role/kms-deletion-guard-workflow`;
const CANARY_SESSION = `arn:aws:sts::${DEFAULT_ACCOUNT}:assumed-role/kms-deletion-guard-workflow/check`;
const APP_ROLE = `arn:aws:sts::${DEFAULT_ACCOUNT}:assumed-role/orders-service/worker`;
const BACKGROUND_SEED = 20_260_101;
/** The day the sweep is measured on starts here (holds reach back a hold span before it). */
const DAY_START = Date.parse('2026-03-01T00:00:00.000Z');
/** The sweep's schedule: every five minutes (the stack's rate). */
export const SWEEP_RATE_MS = 5 * MINUTE_MS;
/** The sweep function's timeout (Lambda's 300 s, as the check function's). */
export const SWEEP_TIMEOUT_MS = 300_000;
/** CloudTrail's delivery delay into the log group. */
const DELIVERY_LAG_MS = 5 * MINUTE_MS;

export interface SweepCellOptions {
  readonly keys: number;
  readonly eventsPerDay: number;
  /** How long the oldest hold has been held when the day starts (observation + pending window). */
  readonly holdSpanDays: number;
  readonly checkIntervalHours: number;
  /** KDG_SWEEP_INTERVAL_SECONDS: a new sweep starts once the last one ended this long ago. */
  readonly intervalSeconds: number;
  /** KDG_INGESTION_LAG_SECONDS (the stack's ingestionLagMinutes). */
  readonly ingestionLagSeconds: number;
  readonly pageSize: number;
  readonly pageLatencyMs: number;
  readonly searchTps: number;
  /**
   * Virtual hours the sweep runs from the day's start. Every hour of the day is alike (the holds stay,
   * each sweep reads the same span), so fewer than 24 measure whole sweeps and the day is that, 24 /
   * hours times; at least 2, so that a failure made after the first sweep is found by the next.
   */
  readonly hours: number;
  /** false: no canary records in the log group (the holds' real failures stay). */
  readonly canaries: boolean;
}

/** What the registry holds for the checks when the day ends. */
export interface SweepCorrectness {
  readonly holds: number;
  /** Holds whose sightings item is this execution's. */
  readonly sightingsWritten: number;
  /** Of them, swept at most an interval and one schedule period before the day's end. */
  readonly fresh: number;
  /** The oldest sightings' age when the day ended, minutes. */
  readonly oldestSightingsMinutes: number;
  /** Real failures on held keys, delivered before the last sweep began, and how many the sightings hold. */
  readonly failures: number;
  readonly failuresSighted: number;
  /** Canary records in the sightings of the hold with the fewest (the checks prove recent canaries by them). */
  readonly fewestCanariesSighted: number;
  /** The largest sightings item, bytes (DynamoDB takes items up to 400 KB). */
  readonly maxSightingsBytes: number;
  /** All sightings items, bytes (what the sweep's Scan of the registry reads besides the holds). */
  readonly totalSightingsBytes: number;
}

export interface SweepCell {
  readonly keys: number;
  readonly eventsPerDay: number;
  /** Virtual hours run; every `...PerDay` figure is what they measured, scaled to 24 hours. */
  readonly hours: number;
  readonly canaries: boolean;
  readonly sweepInvocationsPerDay: number;
  /** Invocations that read at least one page. */
  readonly searchInvocationsPerDay: number;
  readonly sweepsPerDay: number;
  /** Sweeps that completed (SWEPT), and invocations that ended otherwise, by outcome. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly logSearchRequestsPerDay: number;
  readonly eventsScannedPerDay: number;
  /** Events the key-agnostic server filter returned (every failed KMS call in the window, each sweep). */
  readonly eventsReturnedPerDay: number;
  readonly eventsIngestedPerDay: number;
  /** Most FilterLogEvents requests sent in one virtual second. */
  readonly peakRequestsInOneSecond: number;
  /** Requests a second while a sweep's pages come back to back (1000 / page latency, at most). */
  readonly meanRequestsPerSearchingSecond: number;
  readonly maxSearchMsPerInvocation: number;
  readonly maxPagesPerInvocation: number;
  /** Invocations the longest sweep took. */
  readonly maxInvocationsPerSweep: number;
  readonly pagesPerSweep: number;
  /** The window of the last sweep (its oldest hold to its end), days. */
  readonly sweepSpanDays: number;
  readonly throttled: number;
  readonly correctness: SweepCorrectness;
  readonly wallSeconds: number;
}

export const keyIdOf = (keys: number, i: number) =>
  `5c0e${String(keys).padStart(4, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`;

export interface HeldKey {
  readonly keyId: string;
  readonly keyArn: string;
  readonly executionArn: string;
  readonly disabledAt: number;
}

/** Sets `variables` for the body and puts back what was there before (the handlers read process.env). */
async function withEnvironment<T>(variables: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const before = new Map(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await body();
  } finally {
    for (const [name, value] of before) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export async function putItem(tables: EmulatedDynamoDb, tableName: string, record: object): Promise<void> {
  const answer = await tables.forward('PutItem', { TableName: tableName, Item: toItem(record) });
  if (answer.status !== 200) {
    throw new BenchError(`the emulated DynamoDB refused a hold: ${answer.body}`);
  }
}

/**
 * N keys held at once, disabled evenly over `spanMs` before `dayStart` (the oldest that long before
 * it): each key disabled in KMS and its hold written to the registry as DisableKey writes it, then
 * moved to `watching`.
 */
export async function seedHolds(args: {
  readonly account: EmulatedAccount;
  readonly tables: EmulatedDynamoDb;
  readonly tableName: string;
  readonly stateMachineArn: string;
  readonly keys: number;
  readonly dayStart: number;
  readonly spanMs: number;
}): Promise<HeldKey[]> {
  const held: HeldKey[] = [];
  for (let i = 0; i < args.keys; i += 1) {
    const keyId = keyIdOf(args.keys, i);
    const disabledAt = args.dayStart - args.spanMs + Math.floor((i * args.spanMs) / args.keys);
    args.account.addKey({ keyId, createdAt: new Date(args.dayStart - 60 * DAY_MS), state: 'Disabled' });
    const keyArn = `arn:aws:kms:${DEFAULT_REGION}:${DEFAULT_ACCOUNT}:key/${keyId}`;
    const executionArn = `${args.stateMachineArn.replace(':stateMachine:', ':execution:')}:fleet-${i}`;
    held.push({ keyId, keyArn, executionArn, disabledAt });
    const disabling = newHold({
      keyArn,
      executionArn,
      wasEnabled: true,
      now: new Date(disabledAt),
      keyId,
      aliases: [],
    });
    await putItem(
      args.tables,
      args.tableName,
      nextHold(disabling, { phase: 'watching', disabled: true }, new Date(disabledAt)),
    );
  }
  return held;
}

export async function getItem(
  tables: EmulatedDynamoDb,
  tableName: string,
  keyArn: string,
): Promise<Record<string, unknown> | undefined> {
  const answer = await tables.forward('GetItem', {
    TableName: tableName,
    Key: { keyArn: { S: keyArn } },
    ConsistentRead: true,
  });
  if (answer.status !== 200) {
    throw new BenchError(`the emulated DynamoDB refused a read: ${answer.body}`);
  }
  return (JSON.parse(answer.body) as { Item?: Record<string, unknown> }).Item;
}

/** A DynamoDB JSON item as plain values (enough for the figures: S, N, BOOL, NULL, L, M). */
export function plain(value: unknown): unknown {
  const v = value as Record<string, unknown>;
  if ('S' in v) return v.S;
  if ('N' in v) return Number(v.N);
  if ('BOOL' in v) return v.BOOL;
  if ('NULL' in v) return null;
  if ('L' in v) return (v.L as unknown[]).map(plain);
  if ('M' in v) return Object.fromEntries(Object.entries(v.M as object).map(([k, m]) => [k, plain(m)]));
  return value;
}

/** DynamoDB's size of an item: attribute names and values in UTF-8 (numbers about their digits). */
export function itemBytes(item: Record<string, unknown>): number {
  const size = (value: unknown): number => {
    const v = value as Record<string, unknown>;
    if ('S' in v) return Buffer.byteLength(String(v.S));
    if ('N' in v) return String(v.N).length;
    if ('BOOL' in v || 'NULL' in v) return 1;
    if ('L' in v) return 3 + (v.L as unknown[]).reduce<number>((n, m) => n + 1 + size(m), 0);
    if ('M' in v)
      return 3 + Object.entries(v.M as object).reduce((n, [k, m]) => n + 1 + k.length + size(m), 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + size(value), 0);
}

/** Runs the real sweep over one cell and reads back what it left the checks. */
export async function measureSweepCell(options: SweepCellOptions): Promise<SweepCell> {
  const started = performance.now();
  const workflow = await synthesizeWorkflow(
    { cloudTrailLogGroupName: LOG_GROUP },
    { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION },
  );
  const tableName = workflow.functions.find((fn) => fn.environment?.KDG_HOLD_TABLE)?.environment
    ?.KDG_HOLD_TABLE;
  if (!tableName) {
    throw new BenchError('the template gives no function the hold registry (KDG_HOLD_TABLE)');
  }
  const server = await startEmulatorServer();
  prepareEnvironment(server, false);
  // Loaded once the environment points the SDK at the emulator and silences the logger, as the simulator does.
  const sweep = await loadHandler('sweep');
  const spanMs = options.holdSpanDays * DAY_MS;
  if (!(options.hours >= 2 && options.hours <= 24)) {
    throw new BenchError(`a sweep cell runs 2 to 24 hours, not ${options.hours}`);
  }
  const dayEnd = DAY_START + options.hours * HOUR_MS;
  const perDay = (n: number) => (n * 24) / options.hours;
  const checkMs = options.checkIntervalHours * HOUR_MS;
  const clock = VirtualClock.install(new Date(DAY_START - spanMs - HOUR_MS));
  const tables = await EmulatedDynamoDb.start(workflow.tables ?? []);
  try {
    const account = new EmulatedAccount({
      account: DEFAULT_ACCOUNT,
      region: DEFAULT_REGION,
      workflowPrincipalArn: WORKFLOW_ROLE,
      clock: () => clock.now(),
      filterScanPageSize: options.pageSize,
      search: { pageLatencyMs: options.pageLatencyMs, tps: options.searchTps },
      cloudTrail: {
        deliveryLagMs: DELIVERY_LAG_MS,
        retentionDays: 365,
        logGroupName: LOG_GROUP,
        logGroupCreatedAt: new Date(DAY_START - 90 * DAY_MS),
      },
    });
    account.tables = tables;

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
    account.addBackgroundPerDay(options.eventsPerDay, BACKGROUND_SEED);

    // Canaries: one per check interval per key from its disable on; those before the day now.
    const canaryAt = (key: HeldKey, k: number) => key.disabledAt + (k + 1) * checkMs;
    const nextCanary = held.map(() => 0);
    const emitCanaries = (untilMs: number) => {
      if (!options.canaries) return;
      for (const [i, key] of held.entries()) {
        for (
          let at = canaryAt(key, nextCanary[i] ?? 0);
          at <= untilMs;
          at = canaryAt(key, nextCanary[i] ?? 0)
        ) {
          const call = account.appCall({
            keyId: key.keyArn,
            operation: 'Encrypt',
            principalArn: CANARY_SESSION,
            at: new Date(at),
          });
          if (call.ok || call.errorCode !== 'DisabledException') {
            throw new BenchError(`a canary on a disabled key answered ${call.errorCode ?? 'success'}`);
          }
          nextCanary[i] = (nextCanary[i] ?? 0) + 1;
        }
      }
    };
    // Real failures: about five keys, half before the day, the rest before its last sweep begins.
    const failing = held.filter((_, i) => i % Math.max(1, Math.ceil(options.keys / 5)) === 0);
    const failureAt = failing.map((key, j) =>
      j % 2 === 0
        ? key.disabledAt + Math.floor((DAY_START - key.disabledAt) / 2)
        : DAY_START + Math.floor(((j + 1) * (options.hours - 1) * HOUR_MS) / (failing.length + 1)),
    );
    const failureIds = new Map<string, string>();
    const emitFailures = (fromMs: number, untilMs: number) => {
      for (const [j, key] of failing.entries()) {
        const at = failureAt[j] ?? Number.NaN;
        if (at > fromMs && at <= untilMs) {
          const call = account.appCall({
            keyId: key.keyArn,
            operation: 'Decrypt',
            principalArn: APP_ROLE,
            at: new Date(at),
          });
          if (call.ok || !call.eventID) {
            throw new BenchError('a failure on a disabled key was not refused and logged');
          }
          failureIds.set(call.eventID, key.keyArn);
        }
      }
    };
    clock.advanceTo(DAY_START);
    emitCanaries(DAY_START);
    emitFailures(Number.NEGATIVE_INFINITY, DAY_START);

    const variables = {
      KDG_HOLD_TABLE: tableName,
      KDG_LOG_GROUP: LOG_GROUP,
      KDG_INGESTION_LAG_SECONDS: String(options.ingestionLagSeconds),
      KDG_SWEEP_INTERVAL_SECONDS: String(options.intervalSeconds),
      KDG_WORKFLOW_PRINCIPALS: WORKFLOW_ROLE,
      AWS_REGION: DEFAULT_REGION,
    };
    const statsBefore = account.stats();
    const requestTimes: number[] = [];
    let current: Invocation | null = null;
    const serve = account.serve.bind(account);
    account.serve = (service, operation, request, caller) => {
      if (service === 'logs' && operation === 'FilterLogEvents') {
        requestTimes.push(current ? current.startMs + current.spentMs : clock.nowMs());
      }
      return serve(service, operation, request, caller);
    };
    server.setAccount(account);
    // The sweep paces its pages; here its waits cost the invocation's virtual time, not real time.
    usePacing(async (ms) => account.waitInInvocation(ms));
    const outcomes: Record<string, number> = {};
    const invocations: Invocation[] = [];
    const sweeps: { invocations: number; pages: number; start: string; end: string }[] = [];
    let lastSweepStartMs = Number.NaN;
    await withEnvironment(variables, async () => {
      for (let t = DAY_START; t < dayEnd; t += SWEEP_RATE_MS) {
        clock.advanceTo(t);
        emitCanaries(t);
        emitFailures(t - SWEEP_RATE_MS, t);
        const invocation = account.beginInvocation('Sweep', SWEEP_TIMEOUT_MS);
        current = invocation;
        const context = {
          functionName: 'kdg-sweep',
          functionVersion: '$LATEST',
          invokedFunctionArn: `arn:aws:lambda:${DEFAULT_REGION}:${DEFAULT_ACCOUNT}:function:kdg-sweep`,
          memoryLimitInMB: '256',
          awsRequestId: `sweep-${t}`,
          logGroupName: '/aws/lambda/kdg-sweep',
          logStreamName: 'bench',
          callbackWaitsForEmptyEventLoop: false,
          getRemainingTimeInMillis: () => Math.max(0, invocation.timeoutMs - invocation.spentMs),
          done: () => undefined,
          fail: () => undefined,
          succeed: () => undefined,
        };
        try {
          const outcome = (await sweep.handler({}, context)) as SweepOutcome;
          outcomes[outcome.outcome] = (outcomes[outcome.outcome] ?? 0) + 1;
          if (outcome.outcome === 'SWEPT') {
            const state = plain({ M: (await getItem(tables, tableName, 'sweep#state')) ?? {} }) as {
              last: { invocations: number; pages: number; start: string; end: string };
            };
            sweeps.push(state.last);
            lastSweepStartMs = Date.parse(state.last.end);
          }
        } catch (error) {
          const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          throw new BenchError(
            `the sweep at ${options.keys} keys and ${options.eventsPerDay} records a day failed at ${new Date(t).toISOString()}${invocation.timedOut ? ' (timed out)' : ''}: ${why}`,
          );
        } finally {
          current = null;
          account.endInvocation(invocation);
        }
        if (invocation.timedOut) {
          throw new BenchError(`the sweep outlived its ${SWEEP_TIMEOUT_MS / 1000} s timeout`);
        }
        invocations.push(invocation);
      }
    });

    // What the checks would read when the day ends.
    const correctness = await readCorrectness({
      tables,
      tableName,
      held,
      failureIds,
      failureAt: new Map(failing.map((key, j) => [key.keyArn, failureAt[j] ?? Number.NaN])),
      lastSweepStartMs,
      dayEnd,
      freshWithinMs: options.intervalSeconds * 1000 + SWEEP_RATE_MS,
    });
    const stats = account.stats();
    const perSecond = new Map<number, number>();
    for (const at of requestTimes) {
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const searched = invocations.filter((i) => i.pages > 0);
    const searchingMs = searched.reduce((n, i) => n + i.spentMs, 0);
    const last = sweeps.at(-1);
    // Ingested: counted once every record of the day is delivered (the clock a day on).
    clock.advanceTo(dayEnd + DAY_MS);
    const ingested = account.logEventsInWindow(DAY_START, dayEnd);
    return {
      keys: options.keys,
      eventsPerDay: options.eventsPerDay,
      hours: options.hours,
      canaries: options.canaries,
      sweepInvocationsPerDay: perDay(invocations.length),
      searchInvocationsPerDay: perDay(searched.length),
      sweepsPerDay: perDay(sweeps.length),
      outcomes,
      logSearchRequestsPerDay: perDay(stats.filterLogEventsCalls - statsBefore.filterLogEventsCalls),
      eventsScannedPerDay: perDay(stats.logEventsScanned - statsBefore.logEventsScanned),
      eventsReturnedPerDay: perDay(stats.logEventsReturned - statsBefore.logEventsReturned),
      eventsIngestedPerDay: perDay(ingested),
      peakRequestsInOneSecond: Math.max(0, ...perSecond.values()),
      meanRequestsPerSearchingSecond: searchingMs > 0 ? (requestTimes.length * 1000) / searchingMs : 0,
      maxSearchMsPerInvocation: Math.max(0, ...invocations.map((i) => i.spentMs)),
      maxPagesPerInvocation: Math.max(0, ...invocations.map((i) => i.pages)),
      maxInvocationsPerSweep: Math.max(0, ...sweeps.map((s) => s.invocations)),
      pagesPerSweep: sweeps.length > 0 ? sweeps.reduce((n, s) => n + s.pages, 0) / sweeps.length : 0,
      sweepSpanDays: last ? (Date.parse(last.end) - Date.parse(last.start)) / DAY_MS : 0,
      throttled: stats.throttled - statsBefore.throttled,
      correctness,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    usePacing(undefined);
    server.setAccount(null);
    await tables.close();
    clock.uninstall();
  }
}

/** A hold's sightings item as the harnesses read it back: the fields they check, and its size. */
export interface KeptSightings {
  readonly executionArn: string;
  readonly sweptTo: string;
  readonly records: readonly {
    readonly eventID: string;
    readonly userIdentity?: {
      readonly sessionContext?: { readonly sessionIssuer?: { readonly arn?: string } };
    };
  }[];
  /** DynamoDB's size of the item (itemBytes). */
  readonly bytes: number;
}

/** The key's sightings item, or null when none was written. */
export async function readKeptSightings(
  tables: EmulatedDynamoDb,
  tableName: string,
  keyArn: string,
): Promise<KeptSightings | null> {
  const item = await getItem(tables, tableName, sightingsKeyOf(keyArn));
  if (!item) return null;
  return { ...(plain({ M: item }) as Omit<KeptSightings, 'bytes'>), bytes: itemBytes(item) };
}

async function readCorrectness(args: {
  readonly tables: EmulatedDynamoDb;
  readonly tableName: string;
  readonly held: readonly HeldKey[];
  readonly failureIds: ReadonlyMap<string, string>;
  readonly failureAt: ReadonlyMap<string, number>;
  readonly lastSweepStartMs: number;
  readonly dayEnd: number;
  readonly freshWithinMs: number;
}): Promise<SweepCorrectness> {
  let written = 0;
  let fresh = 0;
  let oldest = 0;
  let failures = 0;
  let sighted = 0;
  let fewestCanaries = Number.POSITIVE_INFINITY;
  let maxBytes = 0;
  let totalBytes = 0;
  const failureOf = new Map([...args.failureIds].map(([eventId, keyArn]) => [keyArn, eventId]));
  for (const key of args.held) {
    const sightings = await readKeptSightings(args.tables, args.tableName, key.keyArn);
    const failureId = failureOf.get(key.keyArn);
    const failureAt = args.failureAt.get(key.keyArn);
    // A failure counts once a sweep began after CloudTrail delivered it.
    const due =
      failureId !== undefined &&
      failureAt !== undefined &&
      failureAt + DELIVERY_LAG_MS <= args.lastSweepStartMs;
    if (due) failures += 1;
    if (!sightings) continue;
    maxBytes = Math.max(maxBytes, sightings.bytes);
    totalBytes += sightings.bytes;
    if (sightings.executionArn !== key.executionArn) continue;
    written += 1;
    const age = args.dayEnd - Date.parse(sightings.sweptTo);
    oldest = Math.max(oldest, age);
    if (age <= args.freshWithinMs) fresh += 1;
    const canaries = sightings.records.filter(
      (r) => r.userIdentity?.sessionContext?.sessionIssuer?.arn === WORKFLOW_ROLE,
    ).length;
    fewestCanaries = Math.min(fewestCanaries, canaries);
    if (due && sightings.records.some((r) => r.eventID === failureId)) sighted += 1;
  }
  return {
    holds: args.held.length,
    sightingsWritten: written,
    fresh,
    oldestSightingsMinutes: oldest / MINUTE_MS,
    failures,
    failuresSighted: sighted,
    fewestCanariesSighted: Number.isFinite(fewestCanaries) ? fewestCanaries : 0,
    maxSightingsBytes: maxBytes,
    totalSightingsBytes: totalBytes,
  };
}
