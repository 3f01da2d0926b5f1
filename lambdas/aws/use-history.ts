import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { type KeyRef, recordConcernsKey, recordMatchesKind } from '../domain/cloudtrail.js';
import { DAY_MS, MINUTE_MS } from '../domain/time.js';
import type { CadenceSearchInput, KnownUse } from '../domain/usage-cadence.js';
import type { HistoryStart } from '../domain/usage-history.js';
import { logsClient } from './clients.js';
import {
  buildFilterPattern,
  describeLogGroup,
  horizon,
  MAX_FILTER_PATTERN_LENGTH,
  parseRecord,
  unavailable,
} from './cloudtrail-source.js';

/**
 * What the log group can tell about a key's past beyond one search window: where its history
 * begins (creation, retention), and the key's earlier successful uses, located with a bounded
 * number of requests however many records the key has.
 */

/** How much one search may spend: FilterLogEvents requests, and time. */
export interface SearchBudget {
  readonly maxRequests: number;
  readonly maxMs: number;
}

/**
 * The cadence search's budget. The assessment has 5 minutes in all; a search that uses a minute
 * and 150 pages (FilterLogEvents serves 5 a second per account) leaves the rest to the other reads.
 * A search that runs out says how far it reached; it never stands for "no more uses".
 */
export const CADENCE_BUDGET: SearchBudget = { maxRequests: 150, maxMs: 60_000 };

/** Events per probe page: the first successful use is all a probe needs. */
const PROBE_PAGE_LIMIT = 50;

/** How exactly the start of a gap longer than the observation is located. */
const GAP_PRECISION_MS = MINUTE_MS;

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Where the log group's history begins at `now`: the later of its creation and its retention
 * horizon. Its first record is not taken as the start: a quiet account's group may hold nothing
 * for months while its trail delivers, and the first thing that happened is not the first thing
 * the trail could have shown (the canary proves delivery from the disable on).
 */
export async function historyStart(logGroupName: string, region: string, now: Date): Promise<HistoryStart> {
  const group = await describeLogGroup(logsClient(region), logGroupName, region);
  const at = horizon(new Date(0), now, group);
  const retained =
    group.retentionInDays !== undefined && at.getTime() === now.getTime() - group.retentionInDays * DAY_MS;
  return {
    at,
    because: retained
      ? `the log group's retention of ${group.retentionInDays} days`
      : "the log group's creation",
  };
}

async function filter(
  client: CloudWatchLogsClient,
  logGroupName: string,
  region: string,
  params: {
    readonly startTime: number;
    readonly endTime: number;
    readonly limit: number;
    readonly filterPattern?: string;
    readonly nextToken?: string | undefined;
  },
) {
  try {
    return await client.send(new FilterLogEventsCommand({ logGroupName, ...params }));
  } catch (error) {
    if (isNamed(error, 'ResourceNotFoundException')) {
      throw unavailable(logGroupName, region, error);
    }
    throw error;
  }
}

/** A located successful use: when (the log event's time, which is the record's eventTime) and what. */
interface Located {
  readonly at: number;
  readonly use: KnownUse;
}

/** Thrown inside a search when its budget is spent; the search then reports how far it reached. */
class BudgetSpent {
  constructor(readonly by: 'REQUESTS' | 'TIME') {}
}

/** The successful-use pattern, narrowed to records without an error where the pattern has room. */
function usePattern(key: KeyRef): string {
  const pattern = buildFilterPattern(key, 'SUCCESSFUL_USE');
  const narrowed = pattern.replace(/^\{ /, '{ ($.errorCode NOT EXISTS) && ');
  return narrowed.length <= MAX_FILTER_PATTERN_LENGTH ? narrowed : pattern;
}

/** Finds the first successful use of the key in a time range, counting every request against the budget. */
class UseProbe {
  requests = 0;
  private readonly client: CloudWatchLogsClient;
  private readonly pattern: string;
  private readonly startedAt = Date.now();

  constructor(
    private readonly logGroupName: string,
    private readonly region: string,
    private readonly key: KeyRef,
    private readonly budget: SearchBudget,
  ) {
    this.client = logsClient(region);
    this.pattern = usePattern(key);
  }

  private spend(): void {
    if (this.requests >= this.budget.maxRequests) throw new BudgetSpent('REQUESTS');
    if (Date.now() - this.startedAt >= this.budget.maxMs) throw new BudgetSpent('TIME');
    this.requests += 1;
  }

  /** The earliest successful use of the key in [from, to] (ms, both included), or null. */
  async first(from: number, to: number): Promise<Located | null> {
    if (to < from) return null;
    let nextToken: string | undefined;
    do {
      this.spend();
      const page = await filter(this.client, this.logGroupName, this.region, {
        startTime: from,
        endTime: to,
        limit: PROBE_PAGE_LIMIT,
        filterPattern: this.pattern,
        nextToken,
      });
      let best: Located | null = null;
      for (const event of page.events ?? []) {
        const record = parseRecord(event.message);
        if (!record || !recordMatchesKind(record, 'SUCCESSFUL_USE') || !recordConcernsKey(record, this.key)) {
          continue;
        }
        const at = event.timestamp ?? Date.parse(record.eventTime);
        if (Number.isNaN(at) || at < from || at > to || (best !== null && best.at <= at)) continue;
        best = {
          at,
          use: { at: iso(at), operation: record.eventName, eventID: record.eventID, source: 'CloudTrail' },
        };
      }
      // The events of a page come in time order, and a later page holds only later ones.
      if (best) return best;
      // FilterLogEvents may answer an empty page while more follow; only an absent token ends the search.
      nextToken = page.nextToken;
    } while (nextToken);
    return null;
  }
}

export interface EarlierUsesQuery {
  readonly logGroupName: string;
  /** Region of the log group. */
  readonly region: string;
  readonly key: KeyRef;
  /** Where the history begins (historyStart) or the key's creation, whichever is later. */
  readonly from: Date;
  /** The assessment time. */
  readonly to: Date;
  /** Gaps between uses up to this many days need not be measured: only longer ones refuse. */
  readonly observationDays: number;
  readonly budget?: SearchBudget | undefined;
}

/** The search's answer, and the FilterLogEvents requests it took (for the logs). */
export interface EarlierUses extends CadenceSearchInput {
  readonly requests: number;
}

/**
 * The key's earlier successful uses in [from, to], located so that a gap between consecutive uses
 * longer than the observation is found and measured, with a number of requests that does not
 * grow with the number of uses:
 *
 * - from a located use `c`, the next probe starts half an observation later, at `p`; the first use
 *   `q` at or after `p` is located.
 * - if `q` is within an observation of `c`, no gap between `c` and `q` can be longer than the
 *   observation, whatever uses lie between them; the search moves on from `q`.
 * - otherwise the last use before `p` is located (a binary search down to a minute): it and `q`
 *   are consecutive uses, and their distance is the gap.
 *
 * So a key used every minute for a year costs about 2 × 365 / observationDays probes, and a quarterly
 * job three per run. Two consecutive located uses are thus either within an observation of each
 * other or consecutive uses of the key, which is what measureCadence relies on. When the budget
 * runs out the search reports the last use it established and stops there.
 */
export async function searchEarlierUses(q: EarlierUsesQuery): Promise<EarlierUses> {
  const probe = new UseProbe(q.logGroupName, q.region, q.key, q.budget ?? CADENCE_BUDGET);
  const observationMs = q.observationDays * DAY_MS;
  const step = Math.max(MINUTE_MS, Math.floor(observationMs / 2));
  const end = q.to.getTime();
  const located: Located[] = [];
  let reached = q.from.getTime();
  const result = (complete: boolean, stoppedBy: CadenceSearchInput['stoppedBy']): EarlierUses => ({
    searchedFrom: q.from.toISOString(),
    reachedTo: iso(complete ? end : reached),
    complete,
    stoppedBy,
    uses: located.map((l) => l.use),
    requests: probe.requests,
  });
  try {
    let current = await probe.first(q.from.getTime(), end);
    while (current) {
      located.push(current);
      reached = current.at;
      const p = current.at + step;
      if (p > end) break;
      const next = await probe.first(p, end);
      if (!next) break;
      if (next.at - current.at > observationMs) {
        const last = await lastUseBefore(probe, current, p);
        if (last !== current) located.push(last);
      }
      current = next;
    }
    return result(true, null);
  } catch (error) {
    if (error instanceof BudgetSpent) {
      return result(false, error.by);
    }
    throw error;
  }
}

/** The last use before `before`, knowing `after` is a use and none lies in [before, next use). */
async function lastUseBefore(probe: UseProbe, after: Located, before: number): Promise<Located> {
  let lo = await probe.first(after.at + 1, before - 1);
  if (!lo) return after;
  let hi = before;
  while (hi - lo.at > GAP_PRECISION_MS) {
    const mid = lo.at + Math.floor((hi - lo.at) / 2);
    const upper = await probe.first(mid, hi - 1);
    if (upper) {
      lo = upper;
      continue;
    }
    hi = mid;
    const between: Located | null = await probe.first(lo.at + 1, hi - 1);
    if (!between) return lo;
    lo = between;
  }
  return lo;
}
