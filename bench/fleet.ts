/**
 * The fleet table: keys held at once (N) x CloudTrail records a day in the log group (V), measured
 * on the design as it is, where every held key's checks search the log group on their own.
 *
 * How a row is made (the model; every figure is one key's measured work, times N):
 * - One quiet key runs through a short watch (`observationDays`, 6-hour checks, the shortest
 *   pending window KMS allows, watched) in a log group taking V records a day. The run has no
 *   request quota and no time per page, so it measures the searches' work instead of dying of it
 *   (at 300 ms a page a busy group's searches outlive their functions' timeouts and the key is
 *   restored). Its totals over the days the execution ran are one key's work a day.
 * - N keys held at once are N executions that each search on their own: the fleet's search
 *   requests and events scanned a day are N times one key's. The log group's intake does not grow
 *   with N (the keys' own records are a few dozen a day).
 * - Keys approved together fire their checks in the same minute: N searches run at once, each
 *   sending its next page when the last one answered (`searchPageLatencyMs` a page), so together
 *   they ask N x min(pages of one search, 1000 / latency) requests in one second. That is the
 *   peak set against the account's FilterLogEvents quota.
 * - An invocation's search time is its pages x the default 300 ms a page.
 * - Volumes above `maxSimulatedPerDay` come from page counts: the background records are evenly
 *   spaced, so each window of the largest simulated run holds V / V_sim times the events at V, and
 *   a search of e events takes ceil(e / page size) pages. The assessment's search stops at its
 *   request budget whatever V is.
 */
import { CADENCE_BUDGET } from '../lambdas/aws/use-history.js';
import { VirtualClock } from '../lib/simulator/clock.js';
import { DEFAULT_SEARCH_PAGE_LATENCY_MS, DEFAULT_SEARCH_TPS } from '../lib/simulator/scenario.js';
import { type HandlerFacts, PRICES } from './cost.js';
import { quietKeyScenario } from './scenarios.js';
import { BenchError, runSimulation, type SimulationRun, scheduledInvocations } from './simulation.js';

/** Keys held at once, and records a day in the CloudTrail log group: the table's cells. */
export const FLEET_KEYS = [10, 100, 1000] as const;
const FEWEST_KEYS = FLEET_KEYS[0];
const MOST_KEYS = FLEET_KEYS[2];
export const FLEET_EVENTS_PER_DAY = [10_000, 1_000_000, 100_000_000] as const;
/** Events one FilterLogEvents page examines (the emulator's default, set explicitly here). */
export const FLEET_PAGE_SIZE = 5000;
export const FLEET_CHECK_INTERVAL_HOURS = 6;
/** The shortest pending window KMS accepts: the cheapest run that still watches it. */
export const FLEET_PENDING_WINDOW_DAYS = 7;
/** The account's FilterLogEvents quota the peak is held against (requests a second, AWS default). */
export const SEARCH_QUOTA_TPS = DEFAULT_SEARCH_TPS;
export const PAGE_LATENCY_MS = DEFAULT_SEARCH_PAGE_LATENCY_MS;

/** A quota no single key's run reaches: the run measures its work, not the throttling. */
const UNMETERED_SEARCH_TPS = 1_000_000;
const DAY_MS = 86_400_000;
const DAYS_PER_MONTH = 30;

/** The fleet targets. */
export const REQUEST_GROWTH_TARGET = 1.5;
export const SCAN_TO_INGEST_TARGET = 1.3;
export const PEAK_SHARE_OF_QUOTA_TARGET = 0.5;
export const SEARCH_SECONDS_TARGET = 240;

export interface FleetOptions {
  /** Observation days of each one-key run. */
  readonly observationDays: number;
  /** Volumes up to this many records a day are simulated page by page; larger ones by page counts. */
  readonly maxSimulatedPerDay: number;
  /** Memory of each handler, from the template (the search time is billed at it). */
  readonly handlers: ReadonlyMap<string, HandlerFacts>;
  readonly log?: ((line: string) => void) | undefined;
}

export interface HandlerSearchWork {
  readonly handler: string;
  /** Invocations that searched at least one page. */
  readonly invocations: number;
  readonly pages: number;
  readonly maxPagesPerInvocation: number;
}

/** One key's whole run at one volume. */
export interface KeyWorkAtVolume {
  readonly eventsPerDay: number;
  /** `simulated`: run page by page; else the simulated volume it was derived from by page counts. */
  readonly measuredBy: 'simulated' | { readonly pageCountsFrom: number };
  /** Days from the execution's start to its end (the deletion date). */
  readonly runDays: number;
  readonly searchRequests: number;
  readonly eventsScanned: number;
  /** Of those, the assessment's search (a budget of requests, once per key). */
  readonly assessRequests: number;
  readonly assessScanned: number;
  readonly eventsIngestedPerDay: number;
  readonly byHandler: readonly HandlerSearchWork[];
  /** The handler of the invocation with the most pages. */
  readonly longestSearchHandler: string;
  readonly maxPagesPerInvocation: number;
  /** Pages of the largest search of a scheduled check (the searches keys approved together fire at once). */
  readonly maxPagesPerCheck: number;
  /** Search time in Lambda, GB-s, at the default page latency and each function's memory. */
  readonly searchGbSeconds: number;
  /** What the rest of the run costs (transitions, Lambda requests, KMS, Scheduler), USD. */
  readonly otherUsd: number;
  /** Wall-clock seconds the simulation took (0 when derived). */
  readonly wallSeconds: number;
}

export interface FleetRow {
  readonly keys: number;
  readonly eventsPerDay: number;
  readonly logSearchRequestsPerDay: number;
  readonly eventsScannedPerDay: number;
  readonly eventsIngestedPerDay: number;
  /** Requests a second keys approved together ask of the quota when their checks fire. */
  readonly peakLogSearchTps: number;
  /** The day's requests spread evenly over it (what the quota sees on average). */
  readonly meanLogSearchTps: number;
  /** The longest single invocation's search at the default page latency, seconds. */
  readonly maxSearchSecondsPerInvocation: number;
  readonly costPerKeyMonthUsd: number;
  readonly measuredBy: KeyWorkAtVolume['measuredBy'];
}

export interface FleetTarget {
  readonly figure: string;
  readonly target: string;
  readonly measured: number;
  readonly met: boolean;
}

export interface FleetFigures {
  readonly observationDays: number;
  readonly checkIntervalHours: number;
  readonly pendingWindowInDays: number;
  readonly pageSize: number;
  readonly pageLatencyMs: number;
  readonly searchQuotaTps: number;
  readonly perKey: readonly KeyWorkAtVolume[];
  readonly rows: readonly FleetRow[];
  readonly targets: readonly FleetTarget[];
}

function handlerOf(run: SimulationRun, functionName: string): string {
  const handler = run.handlerOfFunction.get(functionName);
  if (!handler) {
    throw new BenchError(`invocation of '${functionName}', a function the template does not have`);
  }
  return handler;
}

function memoryGbOf(handlers: ReadonlyMap<string, HandlerFacts>, handler: string): number {
  const facts = handlers.get(handler);
  if (!facts) {
    throw new BenchError(`no memory size for the '${handler}' function: its bundle was not measured`);
  }
  return facts.memoryMb / 1024;
}

function searchWorkByHandler(run: SimulationRun): HandlerSearchWork[] {
  const work = new Map<string, { invocations: number; pages: number; maxPagesPerInvocation: number }>();
  for (const invocation of run.account.invocations()) {
    if (invocation.pages === 0) continue;
    const handler = handlerOf(run, invocation.functionName);
    const entry = work.get(handler) ?? { invocations: 0, pages: 0, maxPagesPerInvocation: 0 };
    entry.invocations += 1;
    entry.pages += invocation.pages;
    entry.maxPagesPerInvocation = Math.max(entry.maxPagesPerInvocation, invocation.pages);
    work.set(handler, entry);
  }
  return [...work].map(([handler, entry]) => ({ handler, ...entry })).sort((a, b) => b.pages - a.pages);
}

function scenarioAt(eventsPerDay: number, observationDays: number, disableAnswer: 'approve' | 'reject') {
  return quietKeyScenario({
    background: 0,
    disableAnswer,
    config: {
      observationDays,
      checkIntervalHours: FLEET_CHECK_INTERVAL_HOURS,
      pendingWindowInDays: FLEET_PENDING_WINDOW_DAYS,
      watchPendingWindow: true,
    },
    searchTps: UNMETERED_SEARCH_TPS,
    cloudTrail: {
      backgroundPerDay: eventsPerDay,
      filterScanPageSize: FLEET_PAGE_SIZE,
      searchPageLatencyMs: 0,
    },
  });
}

function runDaysOf(run: SimulationRun): number {
  const first = run.result.timeline[0];
  const last = run.result.timeline.at(-1);
  if (!first || !last) {
    throw new BenchError(`'${run.result.name}' has an empty timeline`);
  }
  return (Date.parse(last.at) - Date.parse(first.at)) / DAY_MS;
}

function ingestedPerDay(run: SimulationRun, days: number): number {
  const first = Date.parse(run.result.timeline[0]?.at ?? '');
  const end = first + days * DAY_MS;
  // Counted once the last record of the run is delivered and before retention drops any.
  const clock = VirtualClock.install(new Date(end + DAY_MS));
  try {
    return run.account.logEventsInWindow(first, end) / days;
  } finally {
    clock.uninstall();
  }
}

function gbSecondsOf(byHandler: readonly HandlerSearchWork[], handlers: ReadonlyMap<string, HandlerFacts>) {
  return byHandler.reduce(
    (sum, h) => sum + h.pages * (PAGE_LATENCY_MS / 1000) * memoryGbOf(handlers, h.handler),
    0,
  );
}

/** One quiet key at `eventsPerDay`, page by page; the assessment alone in a second run. */
async function simulateKey(eventsPerDay: number, options: FleetOptions): Promise<KeyWorkAtVolume> {
  const started = performance.now();
  const run = await runSimulation(scenarioAt(eventsPerDay, options.observationDays, 'approve'), [
    'DELETION_SCHEDULED',
  ]);
  // The same key stopped at the disable approval: what the assessment's search alone reads.
  const assess = await runSimulation(scenarioAt(eventsPerDay, options.observationDays, 'reject'), [
    'REJECTED',
  ]);
  const wallSeconds = (performance.now() - started) / 1000;
  if (run.stats.throttled > 0) {
    throw new BenchError(
      `the one-key run at ${eventsPerDay} records a day was throttled: its quota is not unmetered`,
    );
  }
  const byHandler = searchWorkByHandler(run);
  const longest = byHandler.reduce<HandlerSearchWork | undefined>(
    (top, h) => (top === undefined || h.maxPagesPerInvocation > top.maxPagesPerInvocation ? h : top),
    undefined,
  );
  const check = byHandler.find((h) => h.handler === 'check');
  if (!longest || !check) {
    throw new BenchError(`the one-key run at ${eventsPerDay} records a day never searched in a check`);
  }
  const runDays = runDaysOf(run);
  const otherUsd =
    run.result.stats.stateTransitions * PRICES.stateTransition +
    run.result.stats.lambdaInvocations * PRICES.lambdaRequest +
    run.stats.workflowKmsCalls * PRICES.kmsRequest +
    scheduledInvocations(run) * PRICES.schedulerInvocation;
  return {
    eventsPerDay,
    measuredBy: 'simulated',
    runDays,
    searchRequests: run.stats.filterLogEventsCalls,
    eventsScanned: run.stats.logEventsScanned,
    assessRequests: assess.stats.filterLogEventsCalls,
    assessScanned: assess.stats.logEventsScanned,
    eventsIngestedPerDay: ingestedPerDay(run, runDays),
    byHandler,
    longestSearchHandler: longest.handler,
    maxPagesPerInvocation: longest.maxPagesPerInvocation,
    maxPagesPerCheck: check.maxPagesPerInvocation,
    searchGbSeconds: gbSecondsOf(byHandler, options.handlers),
    otherUsd,
    wallSeconds,
  };
}

/**
 * One key at `eventsPerDay` from a simulated run at a lower volume, by page counts: every search
 * window holds `factor` times the events, and pages are events / page size. The pages of one
 * invocation are scaled from the simulated one's, which is over by less than `factor` pages (its
 * last page was not full). The assessment's search stops at its request budget.
 */
function deriveKey(base: KeyWorkAtVolume, eventsPerDay: number, handlers: ReadonlyMap<string, HandlerFacts>) {
  const factor = eventsPerDay / base.eventsPerDay;
  const budget = CADENCE_BUDGET.maxRequests;
  const assessCapped = base.assessRequests >= budget;
  const assessRequests = assessCapped
    ? base.assessRequests
    : Math.min(budget, Math.ceil(base.assessRequests * factor));
  const assessScanned = assessCapped
    ? base.assessScanned
    : Math.min(base.assessScanned * factor, budget * FLEET_PAGE_SIZE);
  const checkScanned = (base.eventsScanned - base.assessScanned) * factor;
  const byHandler = base.byHandler.map((h) =>
    h.handler === 'assess'
      ? { ...h, pages: assessRequests, maxPagesPerInvocation: assessRequests }
      : {
          ...h,
          pages: Math.ceil(h.pages * factor),
          maxPagesPerInvocation: Math.ceil(h.maxPagesPerInvocation * factor),
        },
  );
  const longest = byHandler.reduce((top, h) =>
    h.maxPagesPerInvocation > top.maxPagesPerInvocation ? h : top,
  );
  const ownRecordsPerDay = base.eventsIngestedPerDay - base.eventsPerDay;
  return {
    ...base,
    eventsPerDay,
    measuredBy: { pageCountsFrom: base.eventsPerDay },
    searchRequests: assessRequests + Math.ceil(checkScanned / FLEET_PAGE_SIZE),
    eventsScanned: assessScanned + checkScanned,
    assessRequests,
    assessScanned,
    eventsIngestedPerDay: eventsPerDay + ownRecordsPerDay,
    byHandler,
    longestSearchHandler: longest.handler,
    maxPagesPerInvocation: longest.maxPagesPerInvocation,
    maxPagesPerCheck: Math.ceil(base.maxPagesPerCheck * factor),
    searchGbSeconds: gbSecondsOf(byHandler, handlers),
    wallSeconds: 0,
  } satisfies KeyWorkAtVolume;
}

/** The fleet's row for N keys held at once: one key's work a day, N times (see the module comment). */
export function fleetRow(keys: number, work: KeyWorkAtVolume): FleetRow {
  const perDay = (n: number) => n / work.runDays;
  const requestsPerDay = keys * perDay(work.searchRequests);
  const pagesPerSecondOfOneSearch = Math.min(work.maxPagesPerCheck, 1000 / PAGE_LATENCY_MS);
  const usdPerDay = perDay(work.searchGbSeconds) * PRICES.lambdaGbSecond + perDay(work.otherUsd);
  return {
    keys,
    eventsPerDay: work.eventsPerDay,
    logSearchRequestsPerDay: requestsPerDay,
    eventsScannedPerDay: keys * perDay(work.eventsScanned),
    eventsIngestedPerDay: work.eventsIngestedPerDay,
    peakLogSearchTps: keys * pagesPerSecondOfOneSearch,
    meanLogSearchTps: requestsPerDay / 86_400,
    maxSearchSecondsPerInvocation: (work.maxPagesPerInvocation * PAGE_LATENCY_MS) / 1000,
    costPerKeyMonthUsd: usdPerDay * DAYS_PER_MONTH,
    measuredBy: work.measuredBy,
  };
}

const growth = (rows: readonly FleetRow[], v: number) => {
  const at = (n: number) => rows.find((r) => r.keys === n && r.eventsPerDay === v)?.logSearchRequestsPerDay;
  const few = at(FEWEST_KEYS);
  const many = at(MOST_KEYS);
  return few && many ? many / few : Number.NaN;
};

export function fleetTargetsOf(rows: readonly FleetRow[]): FleetTarget[] {
  const targets: FleetTarget[] = [];
  const fewest = FEWEST_KEYS;
  const most = MOST_KEYS;
  for (const v of FLEET_EVENTS_PER_DAY) {
    const measured = growth(rows, v);
    targets.push({
      figure: `fleet.logSearchRequestsPerDay at ${v} records/day: ${most} keys / ${fewest} keys`,
      target: `<= ${REQUEST_GROWTH_TARGET}`,
      measured,
      met: measured <= REQUEST_GROWTH_TARGET,
    });
  }
  for (const v of FLEET_EVENTS_PER_DAY) {
    const ratios = rows
      .filter((r) => r.eventsPerDay === v)
      .map((r) => r.eventsScannedPerDay / r.eventsIngestedPerDay);
    const measured = Math.max(...ratios);
    targets.push({
      figure: `fleet.eventsScannedPerDay / eventsIngestedPerDay at ${v} records/day, worst of ${FLEET_KEYS.join(', ')} keys`,
      target: `<= ${SCAN_TO_INGEST_TARGET}`,
      measured,
      met: measured <= SCAN_TO_INGEST_TARGET,
    });
  }
  const peak =
    rows.find((r) => r.keys === most && r.eventsPerDay === 1_000_000)?.peakLogSearchTps ?? Number.NaN;
  const peakBound = SEARCH_QUOTA_TPS * PEAK_SHARE_OF_QUOTA_TARGET;
  targets.push({
    figure: `fleet.peakLogSearchTps at ${most} keys and 1000000 records/day`,
    target: `<= ${peakBound} (half the quota of ${SEARCH_QUOTA_TPS} requests/s)`,
    measured: peak,
    met: peak <= peakBound,
  });
  for (const v of FLEET_EVENTS_PER_DAY) {
    const measured = Math.max(
      ...rows.filter((r) => r.eventsPerDay === v).map((r) => r.maxSearchSecondsPerInvocation),
    );
    targets.push({
      figure: `fleet.maxSearchSecondsPerInvocation at ${v} records/day`,
      target: `<= ${SEARCH_SECONDS_TARGET}`,
      measured,
      met: measured <= SEARCH_SECONDS_TARGET,
    });
  }
  return targets;
}

export async function measureFleet(options: FleetOptions): Promise<FleetFigures> {
  const simulated = FLEET_EVENTS_PER_DAY.filter((v) => v <= options.maxSimulatedPerDay);
  if (simulated.length === 0) {
    throw new BenchError(
      `the fleet needs at least one volume simulated page by page: --fleet-max-per-day ${options.maxSimulatedPerDay} is below ${FLEET_EVENTS_PER_DAY[0]}`,
    );
  }
  const perKey: KeyWorkAtVolume[] = [];
  for (const v of FLEET_EVENTS_PER_DAY) {
    const base = perKey.filter((w) => w.measuredBy === 'simulated').at(-1);
    if (v <= options.maxSimulatedPerDay || !base) {
      options.log?.(`  fleet: one key at ${v.toLocaleString('en-US')} records a day, page by page`);
      perKey.push(await simulateKey(v, options));
    } else {
      perKey.push(deriveKey(base, v, options.handlers));
    }
  }
  const rows = perKey.flatMap((work) => FLEET_KEYS.map((keys) => fleetRow(keys, work)));
  return {
    observationDays: options.observationDays,
    checkIntervalHours: FLEET_CHECK_INTERVAL_HOURS,
    pendingWindowInDays: FLEET_PENDING_WINDOW_DAYS,
    pageSize: FLEET_PAGE_SIZE,
    pageLatencyMs: PAGE_LATENCY_MS,
    searchQuotaTps: SEARCH_QUOTA_TPS,
    perKey,
    rows,
    targets: fleetTargetsOf(rows),
  };
}
