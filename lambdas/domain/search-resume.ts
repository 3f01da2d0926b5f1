import type { CloudTrailRecord, RecordKind } from './cloudtrail.js';
import { SearchTooLongError } from './errors.js';
import { HOUR_MS } from './time.js';

/**
 * A search of the CloudTrail log group split across invocations. A busy group can hold more events
 * in a decision's window than one invocation can read before its timeout, so the search stops while
 * it has time left and hands on what the next invocation needs to go on where it stopped: the
 * window, what determined the filter, the page token and what it found so far. Pure: the reading
 * lives in lambdas/aws/cloudtrail-source.ts.
 */

/** No invocation searches longer than this, whatever its timeout (the check function has 300 s). */
export const MAX_SEARCH_MS_PER_INVOCATION = 240_000;

/**
 * CloudWatch Logs documents that a FilterLogEvents `nextToken` expires after 24 hours. A token older
 * than this is not used: the window is searched again from its start instead, so an expired token
 * can never cut a search short.
 */
export const NEXT_TOKEN_MAX_AGE_MS = 23 * HOUR_MS;

/**
 * What a split search may carry, serialized. Step Functions passes at most 256 KB between states
 * (and a schedule's input is the check's whole event): the rest of the state needs room too.
 */
export const MAX_RESUME_BYTES = 128 * 1024;

/** Where a search stopped, and what it found until then. JSON as it travels in the workflow's state. */
export interface SearchResume {
  readonly logGroupName: string;
  readonly kind: RecordKind;
  /** The filter pattern the pages were read with; a different one starts the search again. */
  readonly filterPattern: string;
  /** The window (ISO): fixed for the whole search, whenever its last page is read. */
  readonly start: string;
  readonly end: string;
  readonly nextToken: string;
  /** When the service issued `nextToken` (ISO). */
  readonly tokenAt: string;
  /** When the search's first page was read (ISO). */
  readonly startedAt: string;
  /** Invocations that have searched so far, and pages read (over restarts too). */
  readonly invocations: number;
  readonly pages: number;
  /** How often the window was searched again from its start (an expired or refused token). */
  readonly restarts: number;
  /** What the pages read so far returned: records of the kind on the key, with when each was ingested. */
  readonly records: readonly CloudTrailRecord[];
  readonly ingestedAt: Readonly<Record<string, number>>;
  readonly scanned: number;
  readonly unparseable: number;
}

/** How long a split search may go on before it fails closed. */
export interface SearchLimit {
  /** Invocations in all (the first included). */
  readonly maxInvocations: number;
  /** Time from the first page to the last (wall clock: continuations wait for their schedule too). */
  readonly maxElapsedMs: number;
}

/**
 * The limit of a check's search: it must be read before the next check is due, so no more than one
 * check interval, and no more invocations than that interval holds at the longest search each.
 */
export function checkSearchLimit(checkIntervalSeconds: number): SearchLimit {
  const intervalMs = checkIntervalSeconds * 1000;
  return {
    maxInvocations: Math.max(2, Math.ceil(intervalMs / MAX_SEARCH_MS_PER_INVOCATION)),
    maxElapsedMs: intervalMs,
  };
}

/** Throws SearchTooLongError when continuing `resume` at `now` would go past `limit`. */
export function requireWithinLimit(resume: SearchResume, limit: SearchLimit, now: Date): void {
  const elapsed = now.getTime() - Date.parse(resume.startedAt);
  if (resume.invocations >= limit.maxInvocations || elapsed > limit.maxElapsedMs) {
    throw new SearchTooLongError(
      `The search of log group ${resume.logGroupName} from ${resume.start} to ${resume.end} is not done after ` +
        `${resume.invocations} invocations, ${resume.pages} pages and ${Math.round(elapsed / 1000)} s ` +
        `(at most ${limit.maxInvocations} invocations and ${Math.round(limit.maxElapsedMs / 1000)} s): the group ` +
        'takes more records than the watch can read before its next check, or the FilterLogEvents quota is ' +
        'used up by others. A check that cannot finish never counts as a quiet one.',
    );
  }
}
