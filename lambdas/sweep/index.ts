import type { Context } from 'aws-lambda';
import { homeRegion } from '../aws/clients.js';
import { carriedRecord, type SearchBound, searchRecords } from '../aws/cloudtrail-source.js';
import { readEnvironment } from '../aws/environment.js';
import { listLiveHolds } from '../aws/live-holds.js';
import { createLogger } from '../aws/logger.js';
import {
  putBuilding,
  putSightings,
  readBuilding,
  readSweepState,
  type SightingsItem,
  writeSweepState,
} from '../aws/sweep-registry.js';
import { sweepEnvironment } from '../contracts/environment.js';
import {
  type Building,
  buildingKeyOf,
  SWEEP_STATE_KEY,
  type SweepState,
  type SweptHold,
  sightingsKeyOf,
} from '../contracts/sweep.js';
import { type CloudTrailRecord, recordConcernsKey } from '../domain/cloudtrail.js';
import type { SearchResume } from '../domain/search-resume.js';
import {
  SIGHTINGS_TTL_MS,
  SWEEP_MIN_PAGE_MS,
  sightingsOf,
  sweepWindowOf,
  sweptHoldOf,
} from '../domain/sweep.js';

const logger = createLogger('sweep');

/** What the sweep keeps of its 300 s for the writes after its search. */
export const SWEEP_RESERVE_MS = 45_000;

/** Sightings written at once: DynamoDB takes them in parallel, the SDK's pool has 50 sockets. */
const WRITE_BATCH = 25;

export type SweepOutcome =
  /** Not due: the last sweep ended less than an interval ago. */
  | { readonly outcome: 'NOT_DUE'; readonly sweptTo: string }
  /** No hold to search for; the sweep still marks the time it looked. */
  | { readonly outcome: 'IDLE'; readonly sweptTo: string }
  /** The search goes on in the next invocation. */
  | { readonly outcome: 'CONTINUES'; readonly holds: number; readonly pages: number }
  /** Every hold's sightings were written up to `sweptTo`. */
  | {
      readonly outcome: 'SWEPT';
      readonly holds: number;
      readonly sweptTo: string;
      readonly pages: number;
      readonly invocations: number;
      readonly scanned: number;
      readonly matched: number;
    }
  /** Another sweep wrote the state in between: this one's work is left to it. */
  | { readonly outcome: 'SUPERSEDED' };

function boundOf(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): SearchBound | null {
  const remaining = context?.getRemainingTimeInMillis;
  if (typeof remaining !== 'function') {
    return null;
  }
  return {
    remainingMs: () => remaining.call(context),
    reserveMs: SWEEP_RESERVE_MS,
    minPageMs: SWEEP_MIN_PAGE_MS,
    // What a stopped sweep found goes to the registry (keepFound), never into its state.
    storesFound: true,
  };
}

/** Runs `work` on every item, WRITE_BATCH at a time. */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += WRITE_BATCH) {
    await Promise.all(items.slice(i, i + WRITE_BATCH).map(work));
  }
}

/**
 * Adds what a stopped search found to each hold's building item, kept as the hold's sightings would
 * keep it (so it stays small however many invocations the sweep takes). Another sweep's leftovers
 * are replaced. Records a search reads again after a restart are counted once (by event ID).
 */
async function keepFound(
  holds: readonly SweptHold[],
  resume: SearchResume,
  workflowPrincipalArns: readonly string[],
): Promise<void> {
  const sweepId = resume.startedAt;
  const expiresAt = Math.floor((Date.parse(sweepId) + SIGHTINGS_TTL_MS) / 1000);
  const found = Object.entries(resume.ingestedAt);
  // Each hold's records are picked out once: a stopped sweep can hold thousands, for thousands of holds.
  const touched = holds.flatMap((hold) => {
    const key = { keyId: hold.keyId, keyArn: hold.keyArn, aliases: hold.aliases };
    const mine = resume.records.filter((record) => recordConcernsKey(record, key));
    return mine.length === 0 ? [] : [{ hold, mine }];
  });
  await inBatches(touched, async ({ hold, mine }) => {
    const before = await readBuilding(hold.keyArn);
    const earlier = before?.sweepId === sweepId ? before : null;
    const merged = sightingsOf({
      hold,
      records: dedupeById([...(earlier?.records ?? []), ...mine]),
      ingestedAt: new Map([...Object.entries(earlier?.ingestedAt ?? {}), ...found]),
      sweptTo: new Date(resume.end),
      workflowPrincipalArns,
    });
    await putBuilding({
      keyArn: buildingKeyOf(hold.keyArn),
      sweepId,
      records: merged.records.map(carriedRecord),
      ingestedAt: merged.ingestedAt,
      dropped: merged.dropped,
      expiresAt,
    });
  });
}

/** The building items of this sweep (`sweepId`), by key ARN; other sweeps' leftovers are left out. */
async function readKept(holds: readonly SweptHold[], sweepId: string): Promise<Map<string, Building>> {
  const kept = new Map<string, Building>();
  await inBatches(holds, async (hold) => {
    const building = await readBuilding(hold.keyArn);
    if (building?.sweepId === sweepId) kept.set(hold.keyArn, building);
  });
  return kept;
}

function dedupeById(records: readonly CloudTrailRecord[]): CloudTrailRecord[] {
  return [...new Map(records.map((record) => [record.eventID, record])).values()];
}

function nextState(seen: SweepState | null, now: Date, changes: Partial<SweepState>): SweepState {
  return {
    keyArn: SWEEP_STATE_KEY,
    version: (seen?.version ?? 0) + 1,
    sweptTo: seen?.sweptTo ?? null,
    running: null,
    last: seen?.last ?? null,
    ...changes,
    updatedAt: now.toISOString(),
  };
}

/**
 * One invocation of the sweep (run every few minutes by a schedule). It starts a sweep when the last
 * one ended an interval ago: it lists the live holds, searches the log group once, from the oldest
 * hold's start to now, for failed calls on any held key, and writes each hold's sightings, where the
 * hold's checks read them. A search longer than one invocation goes on in the next one (its holds and
 * resume are kept in the sweep's state item), and nothing is written for any hold until it is complete.
 *
 * Every error propagates: a sweep that fails writes nothing, its sightings age, and the checks fail
 * on sightings older than they accept (SweepBehindError), which restores the keys.
 */
export async function handler(_event: unknown, context?: Context): Promise<SweepOutcome> {
  const settings = readEnvironment(sweepEnvironment);
  const now = new Date();
  const seen = await readSweepState();
  let holds: SweptHold[];
  let resume: SearchResume | null = null;
  if (seen?.running) {
    holds = seen.running.holds;
    resume = seen.running.resume as unknown as SearchResume;
  } else {
    if (seen?.sweptTo && now.getTime() - Date.parse(seen.sweptTo) < settings.intervalSeconds * 1000) {
      return { outcome: 'NOT_DUE', sweptTo: seen.sweptTo };
    }
    const live = await listLiveHolds();
    for (const error of live.unreadable) {
      logger.error('hold left out of the sweep', { error: error.message });
    }
    holds = live.holds
      .map((hold) => sweptHoldOf(hold, settings.lagSeconds))
      .filter((hold): hold is SweptHold => hold !== null);
  }
  const window = resume
    ? { start: new Date(resume.start), end: new Date(resume.end) }
    : sweepWindowOf(holds, now);
  if (window === null) {
    const idle = nextState(seen, now, { sweptTo: now.toISOString() });
    if ((await writeSweepState(seen, idle)) === 'CONFLICT') {
      return { outcome: 'SUPERSEDED' };
    }
    return { outcome: 'IDLE', sweptTo: now.toISOString() };
  }

  const search = await searchRecords(
    {
      logGroupName: settings.logGroupName,
      region: homeRegion(),
      key: holds.map((h) => ({ keyId: h.keyId, keyArn: h.keyArn, aliases: h.aliases })),
      start: window.start,
      end: window.end,
      // Failed calls of either phase: a key pending deletion fails with KMSInvalidStateException too.
      kind: 'PENDING_USE',
      now,
    },
    boundOf(context),
    resume,
  );
  if (!search.complete) {
    // Every hold's records found so far are kept in the registry, so the state carries only where the
    // search stopped: what a thousand holds' canaries weigh would not fit one item.
    await keepFound(holds, search.resume, settings.workflowPrincipals);
    const carried: SearchResume = { ...search.resume, records: [], ingestedAt: {} };
    const running = nextState(seen, now, {
      running: { holds, resume: carried as unknown as Record<string, unknown> },
    });
    if ((await writeSweepState(seen, running)) === 'CONFLICT') {
      return { outcome: 'SUPERSEDED' };
    }
    logger.info('sweep continues', {
      holds: holds.length,
      window: { start: window.start.toISOString(), end: window.end.toISOString() },
      pages: search.stats.pages,
      totalPages: search.stats.totalPages,
      invocations: search.stats.invocations,
    });
    return { outcome: 'CONTINUES', holds: holds.length, pages: search.stats.totalPages };
  }

  const found = search.result;
  const sweptTo = found.searchedTo ?? window.end;
  const expiresAt = Math.floor((sweptTo.getTime() + SIGHTINGS_TTL_MS) / 1000);
  // A split search: the records earlier invocations found are in the registry.
  const kept = resume ? await readKept(holds, resume.startedAt) : new Map<string, Building>();
  const items: SightingsItem[] = holds.map((hold) => {
    const earlier = kept.get(hold.keyArn);
    const sightings = sightingsOf({
      hold,
      records: dedupeById([...(earlier?.records ?? []), ...found.records]),
      ingestedAt: new Map<string, number>([
        ...Object.entries(earlier?.ingestedAt ?? {}),
        ...found.ingestedAt,
      ]),
      sweptTo,
      workflowPrincipalArns: settings.workflowPrincipals,
    });
    // The log group may not reach back to the hold's start (created later, or its retention): the
    // sightings say where it could see from, and the check refuses a window they do not cover.
    const from = Math.max(Date.parse(sightings.searchedFrom), found.searchedFrom.getTime());
    return {
      ...sightings,
      dropped: sightings.dropped + (earlier?.dropped ?? 0),
      records: sightings.records.map(carriedRecord),
      searchedFrom: new Date(from).toISOString(),
      keyArn: sightingsKeyOf(hold.keyArn),
      expiresAt,
    };
  });
  await inBatches(items, putSightings);
  const done = nextState(seen, now, {
    sweptTo: sweptTo.toISOString(),
    last: {
      start: window.start.toISOString(),
      end: sweptTo.toISOString(),
      holds: holds.length,
      pages: search.stats.totalPages,
      invocations: search.stats.invocations,
      scanned: found.scanned,
      matched: found.records.length,
    },
  });
  if ((await writeSweepState(seen, done)) === 'CONFLICT') {
    return { outcome: 'SUPERSEDED' };
  }
  const result = {
    outcome: 'SWEPT' as const,
    holds: holds.length,
    sweptTo: sweptTo.toISOString(),
    pages: search.stats.totalPages,
    invocations: search.stats.invocations,
    scanned: found.scanned,
    matched: found.records.length,
  };
  logger.info('sweep done', { ...result, windowStart: window.start.toISOString() });
  return result;
}
