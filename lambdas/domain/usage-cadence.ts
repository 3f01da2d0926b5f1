import { executionDaysNeeded, MAX_EXECUTION_DAYS } from '../contracts/config.js';
import { DAY_MS, wholeDays } from './time.js';
import type { ExecutionRequest, GuardConfig, KeyFacts, LastUsage, Refusal } from './types.js';

/**
 * Usage cadence: how far apart the known successful uses of a key are, and whether the observation
 * is long enough to see their caller come back.
 *
 * The observation proves a key unused only if every caller that still needs it calls within the
 * observation. Known uses (GetKeyLastUsage's last use, and the uses the CloudTrail log group still
 * holds) show how long a caller may stay away: when two consecutive known uses are further apart
 * than the observation, a caller on that cadence can fall entirely between the start and the end of
 * the watch, and the quiet watch would say a needed key is unused.
 *
 * The rule, and why it is this one: a gap between two consecutive known uses that is longer than
 * the observation refuses (`OBSERVATION_TOO_SHORT`), naming an observation at least as long as the
 * longest such gap. The time from the last known use to now is not a gap between uses: it is the
 * idleness `minIdleDays` already judges (every key that gets here has been idle that long), and
 * counting it would refuse every used key. Nor does the rule try to predict the next use from the
 * phase of the last one. Take a key used every 60 days, last used 40 days ago, observed for 30:
 * if the cadence is exact, the next use comes 20 days into the observation and is seen. But two or
 * three known uses cannot prove an exact cadence: a run that is skipped, late, retried a week later,
 * or a calendar job (quarters are 90 to 92 days, months 28 to 31) moves the next use past the 30
 * days, the approval itself may wait days and shift the watch, and then the watch reports a needed
 * key as unused. Only an observation at least as long as the longest gap sees a caller of that
 * cadence whatever the phase, so that is what the rule asks for. When a single use is known and it
 * is older than the observation, nothing says how often its caller comes back: that is a warning in
 * the approval e-mail, with the days, not a refusal (the single use may simply be the last).
 *
 * Pure: the search (lambdas/aws/use-cadence.ts) hands over the uses it located and how far it reached.
 */

/** A successful use of the key that is known, from GetKeyLastUsage or from a CloudTrail record. */
export interface KnownUse {
  /** ISO-8601 instant of the use. */
  readonly at: string;
  readonly operation: string;
  /** The CloudTrail event ID when known. */
  readonly eventID: string | null;
  readonly source: 'GetKeyLastUsage' | 'CloudTrail';
}

/**
 * What the search of the log group for earlier uses found. `uses` are the uses it located, oldest
 * first; the search guarantees that any two consecutive ones are either no further apart than the
 * observation or consecutive uses of the key (nothing between them), so a distance longer than the
 * observation between two of them is a real gap between uses.
 */
export interface CadenceSearchInput {
  /** The earliest instant searched: the key's creation, or the log group's creation or retention when later. */
  readonly searchedFrom: string;
  /** The search is complete up to here; later uses may be missing when it stopped early. */
  readonly reachedTo: string;
  /** True when the search reached the end it was asked for (the assessment time). */
  readonly complete: boolean;
  /** Why it stopped early: its request or time budget ran out; null when complete. */
  readonly stoppedBy: 'REQUESTS' | 'TIME' | null;
  readonly uses: readonly KnownUse[];
}

/** Two consecutive known uses and the time between them. */
export interface UseGap {
  readonly from: KnownUse;
  readonly to: KnownUse;
  /** The gap in days, with fractions. */
  readonly days: number;
}

/** The cadence as the assessment records it (in the assessment, the e-mail and the refusal). */
export interface UsageCadence {
  readonly observationDays: number;
  readonly searchedFrom: string;
  readonly searchedTo: string;
  readonly complete: boolean;
  readonly stoppedBy: 'REQUESTS' | 'TIME' | null;
  /** Distinct known uses: GetKeyLastUsage's and those the search located (a busy stretch is sampled, not counted). */
  readonly knownUses: number;
  readonly earliestUse: KnownUse | null;
  readonly latestUse: KnownUse | null;
  /** The longest gap between consecutive known uses; null with fewer than two uses. */
  readonly longestGap: UseGap | null;
}

function time(use: KnownUse): number {
  return Date.parse(use.at);
}

/** GetKeyLastUsage's use as a known use. */
export function lastUsageAsKnownUse(lastUsage: LastUsage): KnownUse {
  return {
    at: lastUsage.timestamp,
    operation: lastUsage.operation,
    eventID: lastUsage.cloudTrailEventId ?? null,
    source: 'GetKeyLastUsage',
  };
}

/**
 * The known uses, oldest first: the located ones plus `extra` (GetKeyLastUsage's), counted once when
 * a located record carries the same CloudTrail event ID. Uses without a valid time are left out of
 * the cadence (the idle rule already treats an undated last use as recent).
 */
function mergeUses(located: readonly KnownUse[], extra: readonly KnownUse[]): KnownUse[] {
  const ids = new Set(located.flatMap((use) => (use.eventID ? [use.eventID] : [])));
  const merged = [...located, ...extra.filter((use) => !(use.eventID && ids.has(use.eventID)))];
  return merged.filter((use) => !Number.isNaN(time(use))).sort((a, b) => time(a) - time(b));
}

/**
 * The longest gap between consecutive known uses. A pair whose later use lies beyond where an
 * incomplete search stopped is not a gap: the uses between them were never searched.
 */
function longestGap(uses: readonly KnownUse[], search: CadenceSearchInput): UseGap | null {
  const reachedTo = Date.parse(search.reachedTo);
  let best: UseGap | null = null;
  for (let i = 1; i < uses.length; i += 1) {
    const from = uses[i - 1] as KnownUse;
    const to = uses[i] as KnownUse;
    if (!search.complete && time(to) > reachedTo) {
      break;
    }
    const days = (time(to) - time(from)) / DAY_MS;
    if (best === null || days > best.days) {
      best = { from, to, days };
    }
  }
  return best;
}

/** The cadence of the key's known uses, measured against the observation. */
export function measureCadence(args: {
  readonly lastUsage: LastUsage | null;
  readonly search: CadenceSearchInput;
  readonly observationDays: number;
}): UsageCadence {
  const { lastUsage, search, observationDays } = args;
  const uses = mergeUses(search.uses, lastUsage ? [lastUsageAsKnownUse(lastUsage)] : []);
  return {
    observationDays,
    searchedFrom: search.searchedFrom,
    searchedTo: search.reachedTo,
    complete: search.complete,
    stoppedBy: search.stoppedBy,
    knownUses: uses.length,
    earliestUse: uses[0] ?? null,
    latestUse: uses[uses.length - 1] ?? null,
    longestGap: longestGap(uses, search),
  };
}

/** The observation, in whole days, that covers a gap: at least as long as the gap. */
export function observationCovering(gap: UseGap): number {
  return Math.ceil(gap.days - 1e-9);
}

/** Days with a tenth where there is one: `90`, `89.5`. */
function formatDays(days: number): string {
  const tenths = Math.round(days * 10) / 10;
  return Number.isInteger(tenths) ? String(tenths) : tenths.toFixed(1);
}

function describeUse(use: KnownUse): string {
  const id = use.eventID ? `, event ID ${use.eventID}` : '';
  const source = use.source === 'GetKeyLastUsage' ? 'GetKeyLastUsage' : 'CloudTrail';
  return `${use.operation} at ${use.at} (${source}${id})`;
}

/** How far the search reached, in one clause. */
export function describeReach(
  cadence: Pick<UsageCadence, 'searchedFrom' | 'searchedTo' | 'complete' | 'stoppedBy'>,
): string {
  const stopped =
    cadence.stoppedBy === 'TIME'
      ? ' (it stopped there: its time budget ran out)'
      : cadence.stoppedBy === 'REQUESTS'
        ? ' (it stopped there: its request budget ran out)'
        : '';
  return `the CloudTrail log group was searched for earlier uses from ${cadence.searchedFrom} to ${cadence.searchedTo}${stopped}`;
}

/**
 * OBSERVATION_TOO_SHORT when two consecutive known uses are further apart than the observation, or
 * null. Pure: everything it needs is in the arguments.
 */
export function cadenceRefusal(
  key: Pick<KeyFacts, 'keyId'>,
  cadence: UsageCadence | null | undefined,
  request: Pick<ExecutionRequest, 'observationDays' | 'pendingWindowInDays'>,
  config: Pick<GuardConfig, 'approvalTimeoutDays'>,
): Refusal | null {
  const gap = cadence?.longestGap;
  if (!cadence || !gap || gap.days <= request.observationDays) {
    return null;
  }
  const needed = observationCovering(gap);
  // The longest observation one execution can hold with this pending window and approval timeout.
  const longest =
    MAX_EXECUTION_DAYS - executionDaysNeeded(0, request.pendingWindowInDays, config.approvalTimeoutDays);
  const next =
    needed <= longest
      ? `start again with "observationDays": ${needed} or more, so that the watch lasts at least as long as the ` +
        'longest gap between known uses'
      : `an execution can watch for at most ${longest} days with a ${request.pendingWindowInDays}-day pending ` +
        `window and ${config.approvalTimeoutDays}-day approvals, so this workflow cannot show that this key's ` +
        'caller is gone: find the caller in CloudTrail and retire the key with it';
  return {
    cause: 'OBSERVATION_TOO_SHORT',
    message:
      `Key ${key.keyId} has known successful uses ${formatDays(gap.days)} days apart (${describeUse(gap.from)}, ` +
      `then ${describeUse(gap.to)}), longer than the ${request.observationDays}-day observation: a caller that ` +
      'comes back that rarely could call before the key is disabled and again only after the watch ended, and ' +
      `the watch would report a needed key as unused. An observation of at least ${needed} days covers that gap. ` +
      `Uses located: ${cadence.knownUses}; ${describeReach(cadence)}. Nothing was changed; ${next}.`,
  };
}

/**
 * The approval e-mail's words on the cadence: a single known use older than the observation (its
 * caller's cadence cannot be told), and a search that stopped before it reached the assessment.
 */
export function cadenceWarnings(cadence: UsageCadence | null | undefined, now: Date): string[] {
  if (!cadence) {
    return [];
  }
  const warnings: string[] = [];
  const only = cadence.latestUse;
  if (cadence.knownUses === 1 && only) {
    const ageMs = now.getTime() - time(only);
    if (ageMs > cadence.observationDays * DAY_MS) {
      warnings.push(
        `Only one successful use of this key is known: ${describeUse(only)}, ${wholeDays(ageMs)} days ago, ` +
          `longer ago than the ${cadence.observationDays}-day observation. One use cannot show how often its ` +
          `caller comes back: a caller that uses the key less often than every ${cadence.observationDays} days ` +
          `would not be seen by the watch (${describeReach(cadence)}, and found no other use).`,
      );
    }
  }
  if (!cadence.complete) {
    warnings.push(
      `The search for earlier uses of this key did not reach the assessment: ${describeReach(cadence)}. ` +
        `Gaps between uses after ${cadence.searchedTo} were not measured against the observation.`,
    );
  }
  return warnings;
}
