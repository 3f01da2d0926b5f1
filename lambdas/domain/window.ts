/**
 * The query windows of the watch.
 *
 * An observation check searches incrementally: CloudTrail delivers records minutes after the call,
 * so each window reaches back `lag` before the previous window's end, and a record delivered within
 * the lag is found. The overlap means a record can be returned twice; `dedupe` counts it once.
 *
 * CloudTrail promises no delivery time, though, and the log group is searched by event time: a record
 * delivered later than the lag lands behind a window that has already been searched. So a decision
 * (FinalCheck, and every check of the pending window) searches the whole hold again, from the disable
 * time less the lag: whatever reached the source before the decision is found, however late.
 */

/** Seen IDs kept in the state at most; Step Functions state is limited to 256 KB. */
export const MAX_SEEN_EVENT_IDS = 2000;

export interface QueryWindow {
  readonly start: Date;
  readonly end: Date;
}

/**
 * `[cursor - lag, now]`, never starting before `notBefore` when given (the watch's start), and
 * never ending before it starts.
 */
export function nextWindow(cursor: Date, now: Date, lagSeconds: number, notBefore?: Date): QueryWindow {
  let start = cursor.getTime() - lagSeconds * 1000;
  if (notBefore !== undefined) {
    start = Math.max(start, notBefore.getTime());
  }
  const end = Math.max(now.getTime(), start);
  return { start: new Date(start), end: new Date(end) };
}

export interface CheckWindowArgs {
  /** A decision searches the whole hold; an observation check only what is new since its cursor. */
  readonly decision: boolean;
  readonly cursor: Date;
  /** When this execution disabled the key: where the hold, and so every decision's window, starts. */
  readonly disabledAt: Date;
  readonly now: Date;
  readonly lagSeconds: number;
}

/** The window one check searches: `[cursor - lag, now]`, or for a decision `[disabledAt - lag, now]`. */
export function checkWindow(args: CheckWindowArgs): QueryWindow {
  return nextWindow(args.decision ? args.disabledAt : args.cursor, args.now, args.lagSeconds);
}

export interface Dedupable {
  readonly eventID: string;
  readonly eventTime: string;
}

export interface Deduped<T> {
  /** Records not seen in an earlier window, each once. */
  readonly fresh: T[];
  /** IDs to remember for the next window. */
  readonly seen: string[];
}

/**
 * Splits off the records an earlier window already returned and chooses what to remember.
 *
 * Only IDs of records in this window can come back in the next one (windows move forward), so
 * IDs seen before and not returned now are forgotten; of this window's records, those before
 * `keepSince` (the next window's start, less any margin the caller wants for delivery delay)
 * are forgotten too. Memory stays bounded by what one overlap holds, capped at
 * MAX_SEEN_EVENT_IDS (newest kept). A record with an unreadable eventTime is kept: forgetting it
 * could count it twice, remembering it costs a few bytes.
 */
export function dedupe<T extends Dedupable>(
  records: readonly T[],
  seenEventIds: readonly string[],
  keepSince: Date,
): Deduped<T> {
  const seenBefore = new Set(seenEventIds);
  const inThisWindow = new Set<string>();
  const fresh: T[] = [];
  const remember: { id: string; time: number }[] = [];
  for (const record of records) {
    if (inThisWindow.has(record.eventID)) {
      continue;
    }
    inThisWindow.add(record.eventID);
    if (!seenBefore.has(record.eventID)) {
      fresh.push(record);
    }
    const time = Date.parse(record.eventTime);
    if (Number.isNaN(time) || time >= keepSince.getTime()) {
      remember.push({ id: record.eventID, time: Number.isNaN(time) ? Number.POSITIVE_INFINITY : time });
    }
  }
  remember.sort((a, b) => b.time - a.time);
  return { fresh, seen: remember.slice(0, MAX_SEEN_EVENT_IDS).map((entry) => entry.id) };
}
