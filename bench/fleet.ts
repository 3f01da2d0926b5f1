/**
 * The fleet table: keys held at once (N) x CloudTrail records a day in the log group (V). Its rows
 * are the subscription source's (bench/stream-fleet.ts: the log group's subscription hands every
 * failed KMS call to the Deliveries function, the proof reads the delivery metrics; nothing searches
 * the log group), the design meant for scale, and the targets are held against them. Two designs are
 * kept beside it as comparisons: the search sweep (bench/sweep-fleet.ts: one search of the log group
 * an interval for every held key) and the per-key design below.
 *
 * The per-key design: every held key's checks search the log group on their own.
 *
 * How a row is made (the model; every figure is one key's measured work, times N):
 * - One quiet key runs through a short watch (`observationDays`, 6-hour checks, the shortest
 *   pending window KMS allows, watched) in a log group taking V records a day, at the default
 *   300 ms a FilterLogEvents page. Its searches therefore stop within their invocation as they do
 *   in Lambda (at most 240 s of searching, less what the function keeps for its other work) and go
 *   on in the next one, and the run measures each invocation's search time directly. It has no
 *   request quota (it measures the work, not the throttling). Its totals over the days the
 *   execution ran are one key's work a day.
 * - N keys held at once are N executions that each search on their own: the fleet's search
 *   requests, invocations that searched and events scanned a day are N times one key's. The log
 *   group's intake does not grow with N (the keys' own records are a few dozen a day).
 * - Keys approved together fire their checks in the same minute: N searches run at once, each
 *   sending its next page when the last one answered (`searchPageLatencyMs` a page), so together
 *   they ask N x min(pages of one search, 1000 / latency) requests in one second. That is the
 *   peak set against the account's FilterLogEvents quota.
 * - Volumes above `maxSimulatedPerDay` come from page counts: the background records are evenly
 *   spaced, so each search of the largest simulated run holds V / V_sim times the events at V, and
 *   a search of e events takes ceil(e / page size) pages. It is split as the code splits it: one
 *   invocation reads at most floor(min(240 s, the function's timeout) / page latency) pages, so no
 *   derived invocation searches longer than 240 s (an upper bound: the code stops a few pages
 *   earlier, to keep time for the rest of the invocation), and a search of P pages takes
 *   ceil(P / that) invocations. The assessment's search stops at its request budget whatever V is.
 * - A check's split search may take at most the invocations (and the time) of one check interval;
 *   past that it fails closed and the hold is restored. `maxInvocationsPerSearch` is held against
 *   that limit: a derived volume over it could not delete the key at all.
 */
import { CADENCE_BUDGET } from '../lambdas/aws/use-history.js';
import { checkSearchLimit, MAX_SEARCH_MS_PER_INVOCATION } from '../lambdas/domain/search-resume.js';
import { PROOF_RATE_MS } from '../lambdas/domain/stream.js';
import { VirtualClock } from '../lib/simulator/clock.js';
import type { Invocation } from '../lib/simulator/emulator/account.js';
import { DEFAULT_SEARCH_PAGE_LATENCY_MS, DEFAULT_SEARCH_TPS } from '../lib/simulator/scenario.js';
import { type HandlerFacts, PRICES } from './cost.js';
import { quietKeyScenario } from './scenarios.js';
import { BenchError, runSimulation, type SimulationRun, scheduledInvocations } from './simulation.js';
import { measureStreamFleet, type StreamRow, type StreamTarget, streamTargetsOf } from './stream-fleet.js';
import { measureSweepFleet, type SweepRow, type SweepTarget, sweepTargetsOf } from './sweep-fleet.js';

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

/** The fleet targets (one set, held against every design's fleet). */
export {
  PEAK_SHARE_OF_QUOTA_TARGET,
  REQUEST_GROWTH_TARGET,
  SCAN_TO_INGEST_TARGET,
  SEARCH_SECONDS_TARGET,
} from './sweep-fleet.js';

import {
  PEAK_SHARE_OF_QUOTA_TARGET,
  REQUEST_GROWTH_TARGET,
  SCAN_TO_INGEST_TARGET,
  SEARCH_SECONDS_TARGET,
} from './sweep-fleet.js';

export interface FleetOptions {
  /** Observation days of each one-key run. */
  readonly observationDays: number;
  /**
   * The subscription's cells run for real while keys held x records a day stay within this (the
   * fewest keys at every volume); the others are derived (bench/stream-fleet.ts).
   */
  readonly maxKeyRecordsPerDay: number;
  /** The search sweep's cells run for real up to this many records a day; busier ones by page counts. */
  readonly maxSimulatedPerDay: number;
  /** Keys held in the search sweep's cells (its 1,000-key cell alone takes minutes). */
  readonly searchSweepKeys: readonly number[];
  /** Memory of each handler, from the template (the search time is billed at it). */
  readonly handlers: ReadonlyMap<string, HandlerFacts>;
  readonly log?: ((line: string) => void) | undefined;
}

export interface HandlerSearchWork {
  readonly handler: string;
  /** Invocations that searched at least one page. */
  readonly invocations: number;
  /** Searches: a search split across invocations counts once. */
  readonly searches: number;
  readonly pages: number;
  readonly maxPagesPerInvocation: number;
  /** The longest one invocation spent searching, virtual milliseconds. */
  readonly maxSearchMsPerInvocation: number;
  /** Invocations of the search that took the most. */
  readonly maxInvocationsPerSearch: number;
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
  /** Invocations that searched at least one page (a split search's continuations included). */
  readonly searchInvocations: number;
  /** Of those, the assessment's search (a budget of requests, once per key). */
  readonly assessRequests: number;
  readonly assessScanned: number;
  readonly eventsIngestedPerDay: number;
  readonly byHandler: readonly HandlerSearchWork[];
  /** The handler of the invocation that searched longest. */
  readonly longestSearchHandler: string;
  readonly maxPagesPerInvocation: number;
  /** The longest one invocation spent searching, seconds (measured in virtual time, or derived). */
  readonly maxSearchSecondsPerInvocation: number;
  /** Invocations of the check search that took the most, and how many a check's search may take. */
  readonly maxInvocationsPerCheckSearch: number;
  readonly checkSearchInvocationLimit: number;
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
  /** Lambda invocations that searched, of all held keys (a split search counts each invocation). */
  readonly searchInvocationsPerDay: number;
  readonly eventsScannedPerDay: number;
  readonly eventsIngestedPerDay: number;
  /** Requests a second keys approved together ask of the quota when their checks fire. */
  readonly peakLogSearchTps: number;
  /** The day's requests spread evenly over it (what the quota sees on average). */
  readonly meanLogSearchTps: number;
  /** The longest single invocation's search at the default page latency, seconds. */
  readonly maxSearchSecondsPerInvocation: number;
  /** Invocations of the longest check search, beside the most a check's search may take. */
  readonly maxInvocationsPerCheckSearch: number;
  readonly checkSearchInvocationLimit: number;
  readonly costPerKeyMonthUsd: number;
  readonly measuredBy: KeyWorkAtVolume['measuredBy'];
}

export interface FleetTarget {
  readonly figure: string;
  readonly target: string;
  readonly measured: number;
  readonly met: boolean;
}

/** The sweep's settings the fleet rows were measured with. */
export interface SweepSettings {
  readonly holdSpanDays: number;
  readonly intervalSeconds: number;
  readonly sweepRateMinutes: number;
  readonly ingestionLagSeconds: number;
  /** Hours each volume above 10^4 ran for real (10^4 runs a whole day). */
  readonly busyHours: number;
  /** The memory the sweep's time is billed at (the check function's). */
  readonly memoryMb: number;
}

/** The per-key design (each held key's checks search on their own), kept beside the sweep for comparison. */
export interface PerKeyDesign {
  readonly rows: readonly FleetRow[];
  readonly targets: readonly FleetTarget[];
}

/** The search sweep (one search of the log group an interval for every held key), kept for comparison. */
export interface SearchSweepDesign {
  readonly rows: readonly SweepRow[];
  readonly targets: readonly SweepTarget[];
  readonly settings: SweepSettings;
}

/** How the subscription's rows were measured. */
export interface SubscriptionSettings {
  readonly holdSpanDays: number;
  /** Virtual hours each cell run for real ran (scaled to the day). */
  readonly busyHours: number;
  /** Cells of more keys x records a day than this (but the fewest keys') are derived. */
  readonly maxKeyRecordsPerDay: number;
  readonly proofRateMinutes: number;
}

export interface FleetFigures {
  /** The subscription source: the failed calls delivered as they are ingested, the deliveries proven. */
  readonly rows: readonly StreamRow[];
  readonly targets: readonly StreamTarget[];
  readonly subscription: SubscriptionSettings;
  readonly searchSweep: SearchSweepDesign;
  readonly perKeyDesign: PerKeyDesign;
  readonly observationDays: number;
  readonly checkIntervalHours: number;
  readonly pendingWindowInDays: number;
  readonly pageSize: number;
  readonly pageLatencyMs: number;
  readonly searchQuotaTps: number;
  readonly perKey: readonly KeyWorkAtVolume[];
}

/** One search of one run: its invocations' pages in order, and the function's timeout. */
interface SearchRun {
  readonly handler: string;
  readonly timeoutMs: number;
  readonly pages: readonly number[];
  readonly searchMs: readonly number[];
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

/**
 * A split search goes on in the next invocation of the same function as soon as the last one
 * ended (a one-time schedule a minute on, or the state machine's loop straight away; the world's
 * clock stood still while the last one searched, so its continuation starts where its search time
 * ended). Searches that are not continuations start a check interval, or at least many minutes,
 * later. A gap of at most this much between one invocation's end and the next's start is a
 * continuation.
 */
const CONTINUATION_GAP_MS = 60_000;

/** The run's searches, each with the invocations it took (only invocations that read a page). */
function searchesOf(run: SimulationRun): SearchRun[] {
  const searches: {
    handler: string;
    timeoutMs: number;
    pages: number[];
    searchMs: number[];
    endMs: number;
  }[] = [];
  const lastOfFunction = new Map<string, (typeof searches)[number]>();
  const searched = run.account.invocations().filter((invocation: Invocation) => invocation.pages > 0);
  for (const invocation of searched) {
    if (invocation.timedOut) {
      throw new BenchError(
        `an invocation of '${invocation.functionName}' outlived its timeout: the run's figures would describe a broken search`,
      );
    }
    const last = lastOfFunction.get(invocation.functionName);
    const endMs = invocation.startMs + invocation.spentMs;
    if (last && invocation.startMs - last.endMs <= CONTINUATION_GAP_MS) {
      last.pages.push(invocation.pages);
      last.searchMs.push(invocation.spentMs);
      last.endMs = endMs;
      continue;
    }
    const search = {
      handler: handlerOf(run, invocation.functionName),
      timeoutMs: invocation.timeoutMs,
      pages: [invocation.pages],
      searchMs: [invocation.spentMs],
      endMs,
    };
    searches.push(search);
    lastOfFunction.set(invocation.functionName, search);
  }
  return searches.map(({ endMs: _end, ...search }) => search);
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function searchWorkByHandler(searches: readonly SearchRun[]): HandlerSearchWork[] {
  const work = new Map<string, HandlerSearchWork>();
  for (const search of searches) {
    const entry = work.get(search.handler) ?? {
      handler: search.handler,
      invocations: 0,
      searches: 0,
      pages: 0,
      maxPagesPerInvocation: 0,
      maxSearchMsPerInvocation: 0,
      maxInvocationsPerSearch: 0,
    };
    work.set(search.handler, {
      handler: search.handler,
      invocations: entry.invocations + search.pages.length,
      searches: entry.searches + 1,
      pages: entry.pages + sum(search.pages),
      maxPagesPerInvocation: Math.max(entry.maxPagesPerInvocation, ...search.pages),
      maxSearchMsPerInvocation: Math.max(entry.maxSearchMsPerInvocation, ...search.searchMs),
      maxInvocationsPerSearch: Math.max(entry.maxInvocationsPerSearch, search.pages.length),
    });
  }
  return [...work.values()].sort((a, b) => b.pages - a.pages);
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
      searchPageLatencyMs: PAGE_LATENCY_MS,
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
    (total, h) => total + h.pages * (PAGE_LATENCY_MS / 1000) * memoryGbOf(handlers, h.handler),
    0,
  );
}

const CHECK_SEARCH_LIMIT = checkSearchLimit(FLEET_CHECK_INTERVAL_HOURS * 3600).maxInvocations;

/** The figures of `searches` (simulated or derived) that describe the whole run's searching. */
function searchFigures(searches: readonly SearchRun[], handlers: ReadonlyMap<string, HandlerFacts>) {
  const byHandler = searchWorkByHandler(searches);
  const longest = byHandler.reduce<HandlerSearchWork | undefined>(
    (top, h) => (top === undefined || h.maxSearchMsPerInvocation > top.maxSearchMsPerInvocation ? h : top),
    undefined,
  );
  const check = byHandler.find((h) => h.handler === 'check');
  if (!longest || !check) {
    return null;
  }
  const checkSearches = searches.filter((s) => s.handler === 'check');
  return {
    byHandler,
    searchInvocations: sum(byHandler.map((h) => h.invocations)),
    longestSearchHandler: longest.handler,
    maxPagesPerInvocation: Math.max(...byHandler.map((h) => h.maxPagesPerInvocation)),
    maxSearchSecondsPerInvocation: longest.maxSearchMsPerInvocation / 1000,
    maxInvocationsPerCheckSearch: check.maxInvocationsPerSearch,
    checkSearchInvocationLimit: CHECK_SEARCH_LIMIT,
    maxPagesPerCheck: Math.max(...checkSearches.map((s) => sum(s.pages))),
    searchGbSeconds: gbSecondsOf(byHandler, handlers),
  };
}

/** One quiet key at `eventsPerDay`, page by page; the assessment alone in a second run. */
async function simulateKey(
  eventsPerDay: number,
  options: FleetOptions,
): Promise<{ readonly work: KeyWorkAtVolume; readonly searches: readonly SearchRun[] }> {
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
  const searches = searchesOf(run);
  const pagesRead = sum(searches.flatMap((s) => s.pages));
  if (pagesRead !== run.stats.filterLogEventsCalls) {
    throw new BenchError(
      `the one-key run at ${eventsPerDay} records a day answered ${run.stats.filterLogEventsCalls} FilterLogEvents requests, but its invocations read ${pagesRead} pages`,
    );
  }
  const figures = searchFigures(searches, options.handlers);
  if (!figures) {
    throw new BenchError(`the one-key run at ${eventsPerDay} records a day never searched in a check`);
  }
  const runDays = runDaysOf(run);
  const otherUsd =
    run.result.stats.stateTransitions * PRICES.stateTransition +
    run.result.stats.lambdaInvocations * PRICES.lambdaRequest +
    run.stats.workflowKmsCalls * PRICES.kmsRequest +
    scheduledInvocations(run) * PRICES.schedulerInvocation;
  const work: KeyWorkAtVolume = {
    eventsPerDay,
    measuredBy: 'simulated',
    runDays,
    searchRequests: run.stats.filterLogEventsCalls,
    eventsScanned: run.stats.logEventsScanned,
    assessRequests: assess.stats.filterLogEventsCalls,
    assessScanned: assess.stats.logEventsScanned,
    eventsIngestedPerDay: ingestedPerDay(run, runDays),
    ...figures,
    otherUsd,
    wallSeconds,
  };
  return { work, searches };
}

/** Pages one invocation of a function with `timeoutMs` reads at most (see the module comment). */
export function maxPagesPerInvocation(timeoutMs: number): number {
  return Math.floor(Math.min(MAX_SEARCH_MS_PER_INVOCATION, timeoutMs) / PAGE_LATENCY_MS);
}

/** A search of `pages` pages split as the code splits it: full invocations, then the rest. */
export function splitPages(pages: number, timeoutMs: number): number[] {
  const perInvocation = maxPagesPerInvocation(timeoutMs);
  const full = Math.floor(pages / perInvocation);
  const rest = pages - full * perInvocation;
  return [...Array.from({ length: full }, () => perInvocation), ...(rest > 0 ? [rest] : [])];
}

/**
 * One key at `eventsPerDay` from a simulated run at a lower volume, by page counts: every search
 * of the simulated run holds `factor` times the events, so `factor` times its pages (over by less
 * than `factor` pages: its last page was not full), split into invocations of at most
 * `maxPagesPerInvocation` pages. The assessment's search stops at its request budget.
 */
function deriveKey(
  base: KeyWorkAtVolume,
  baseSearches: readonly SearchRun[],
  eventsPerDay: number,
  handlers: ReadonlyMap<string, HandlerFacts>,
): KeyWorkAtVolume {
  const factor = eventsPerDay / base.eventsPerDay;
  const budget = CADENCE_BUDGET.maxRequests;
  const assessCapped = base.assessRequests >= budget;
  const assessRequests = assessCapped
    ? base.assessRequests
    : Math.min(budget, Math.ceil(base.assessRequests * factor));
  const assessScanned = assessCapped
    ? base.assessScanned
    : Math.min(base.assessScanned * factor, budget * FLEET_PAGE_SIZE);
  const searches = baseSearches.map((search): SearchRun => {
    const pages =
      search.handler === 'assess'
        ? [assessRequests]
        : splitPages(Math.ceil(sum(search.pages) * factor), search.timeoutMs);
    return { ...search, pages, searchMs: pages.map((p) => p * PAGE_LATENCY_MS) };
  });
  const figures = searchFigures(searches, handlers);
  if (!figures) {
    throw new BenchError(`the run at ${base.eventsPerDay} records a day never searched in a check`);
  }
  const checkScanned = (base.eventsScanned - base.assessScanned) * factor;
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
    ...figures,
    wallSeconds: 0,
  };
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
    searchInvocationsPerDay: keys * perDay(work.searchInvocations),
    eventsScannedPerDay: keys * perDay(work.eventsScanned),
    eventsIngestedPerDay: work.eventsIngestedPerDay,
    peakLogSearchTps: keys * pagesPerSecondOfOneSearch,
    meanLogSearchTps: requestsPerDay / 86_400,
    maxSearchSecondsPerInvocation: work.maxSearchSecondsPerInvocation,
    maxInvocationsPerCheckSearch: work.maxInvocationsPerCheckSearch,
    checkSearchInvocationLimit: work.checkSearchInvocationLimit,
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
  for (const v of FLEET_EVENTS_PER_DAY) {
    const cells = rows.filter((r) => r.eventsPerDay === v);
    const measured = Math.max(...cells.map((r) => r.maxInvocationsPerCheckSearch));
    const limit = Math.min(...cells.map((r) => r.checkSearchInvocationLimit));
    targets.push({
      figure: `fleet.maxInvocationsPerCheckSearch at ${v} records/day`,
      target: `<= ${limit} (a check's search past it fails closed: the key is restored)`,
      measured,
      met: measured <= limit,
    });
  }
  return targets;
}

/** The per-key design is simulated at this volume only (a comparison); busier ones by page counts. */
const PER_KEY_SIMULATED_PER_DAY = 10_000;
/** The sweep's defaults, as the stack sets them: a new sweep an hour after the last, every 5 minutes. */
export const SWEEP_INTERVAL_SECONDS = 3600;
/** The stack's default ingestion lag (ingestionLagMinutes 30). */
export const INGESTION_LAG_SECONDS = 1800;
/** The oldest hold: a 7-day observation and the 7-day pending window watched. */
export const HOLD_SPAN_DAYS = 14;
/** Hours each cell's sweep runs for real: two whole sweep cycles (the second finds the day's failures). */
export const BUSY_HOURS = 2;
/** Hours each subscription cell runs for real: 24 proofs, and a day's failures delivered and proven. */
export const SUBSCRIPTION_BUSY_HOURS = 2;

export async function measureFleet(options: FleetOptions): Promise<FleetFigures> {
  if (options.maxSimulatedPerDay < FLEET_EVENTS_PER_DAY[0]) {
    throw new BenchError(
      `the search sweep needs at least one volume simulated page by page: --fleet-max-per-day ${options.maxSimulatedPerDay} is below ${FLEET_EVENTS_PER_DAY[0]}`,
    );
  }
  const perKey: KeyWorkAtVolume[] = [];
  options.log?.(
    `  fleet, per-key design: one key at ${PER_KEY_SIMULATED_PER_DAY.toLocaleString('en-US')} records a day, page by page (busier volumes by page counts)`,
  );
  const base = await simulateKey(PER_KEY_SIMULATED_PER_DAY, options);
  for (const v of FLEET_EVENTS_PER_DAY) {
    perKey.push(
      v === base.work.eventsPerDay ? base.work : deriveKey(base.work, base.searches, v, options.handlers),
    );
  }
  const perKeyRows = perKey.flatMap((work) => FLEET_KEYS.map((keys) => fleetRow(keys, work)));
  const memoryMb = options.handlers.get('check')?.memoryMb;
  if (memoryMb === undefined) {
    throw new BenchError('no memory size for the check function: its bundle was not measured');
  }
  // The checks' own work without searches (they read sightings): the quiet key's, less its searches.
  const checkUsdPerKeyDay = base.work.otherUsd / base.work.runDays;
  const streamOptions = {
    keys: FLEET_KEYS,
    volumes: FLEET_EVENTS_PER_DAY,
    maxKeyRecordsPerDay: options.maxKeyRecordsPerDay,
    busyHours: SUBSCRIPTION_BUSY_HOURS,
    holdSpanDays: HOLD_SPAN_DAYS,
    checkIntervalHours: FLEET_CHECK_INTERVAL_HOURS,
    searchTps: SEARCH_QUOTA_TPS,
    checkUsdPerKeyDay,
    log: options.log,
  };
  const rows = await measureStreamFleet(streamOptions);
  const sweepOptions = {
    keys: options.searchSweepKeys,
    volumes: FLEET_EVENTS_PER_DAY,
    maxSimulatedPerDay: options.maxSimulatedPerDay,
    busyHours: BUSY_HOURS,
    holdSpanDays: HOLD_SPAN_DAYS,
    checkIntervalHours: FLEET_CHECK_INTERVAL_HOURS,
    intervalSeconds: SWEEP_INTERVAL_SECONDS,
    ingestionLagSeconds: INGESTION_LAG_SECONDS,
    pageSize: FLEET_PAGE_SIZE,
    pageLatencyMs: PAGE_LATENCY_MS,
    searchTps: SEARCH_QUOTA_TPS,
    memoryMb,
    checkUsdPerKeyDay,
    log: options.log,
  };
  const sweepRows = await measureSweepFleet(sweepOptions);
  return {
    rows,
    targets: streamTargetsOf(rows, streamOptions),
    subscription: {
      holdSpanDays: HOLD_SPAN_DAYS,
      busyHours: SUBSCRIPTION_BUSY_HOURS,
      maxKeyRecordsPerDay: options.maxKeyRecordsPerDay,
      proofRateMinutes: PROOF_RATE_MS / 60_000,
    },
    searchSweep: {
      rows: sweepRows,
      targets: sweepTargetsOf(sweepRows, sweepOptions),
      settings: {
        holdSpanDays: HOLD_SPAN_DAYS,
        intervalSeconds: SWEEP_INTERVAL_SECONDS,
        sweepRateMinutes: 5,
        ingestionLagSeconds: INGESTION_LAG_SECONDS,
        busyHours: BUSY_HOURS,
        memoryMb,
      },
    },
    perKeyDesign: { rows: perKeyRows, targets: fleetTargetsOf(perKeyRows) },
    observationDays: options.observationDays,
    checkIntervalHours: FLEET_CHECK_INTERVAL_HOURS,
    pendingWindowInDays: FLEET_PENDING_WINDOW_DAYS,
    pageSize: FLEET_PAGE_SIZE,
    pageLatencyMs: PAGE_LATENCY_MS,
    searchQuotaTps: SEARCH_QUOTA_TPS,
    perKey,
  };
}
