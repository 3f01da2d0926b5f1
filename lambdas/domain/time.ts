/** Lengths of time in the units the handlers compute with: milliseconds (Date) and seconds (Step Functions, plans). */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Whole days in a length of time, rounded down, as the idle rule and every message count them. */
export function wholeDays(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export const MINUTE_SECONDS = 60;
export const HOUR_SECONDS = 60 * MINUTE_SECONDS;
export const DAY_SECONDS = 24 * HOUR_SECONDS;
