/**
 * How a search waits between two pages to stay under its share of the account's request quota. In
 * Lambda it is a timer; the simulator, whose clock is virtual, puts its own wait in its place (as it
 * does the SDK's transport with `useRequestHandler`), so a paced search costs virtual time, not real.
 */
export type Wait = (ms: number) => Promise<void>;

const realWait: Wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let wait: Wait = realWait;

/** Replaces the wait (undefined: the timer again). */
export function usePacing(replacement: Wait | undefined): void {
  wait = replacement ?? realWait;
}

/** Waits `ms` (nothing for zero or less). */
export function pause(ms: number): Promise<void> {
  return ms > 0 ? wait(ms) : Promise.resolve();
}
