import { MINUTE_MS } from '../lambdas/domain/time.js';

/**
 * The scenarios the benchmark runs, written as scenario files would be (the simulator validates
 * them against the contract schema like any other).
 */

export const BENCH_ACCOUNT = '111122223333';
export const BENCH_REGION = 'us-east-1';
export const BENCH_START = '2026-01-01T00:00:00Z';
export const QUIET_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const QUIET_KEY_ALIAS = 'alias/old-reports';
export const USED_KEY_ID = '2345bcde-23bc-45de-67f0-234567890abc';
export const USED_KEY_ALIAS = 'alias/billing-export';

export type RawScenario = Record<string, unknown>;

export function keyArnOf(keyId: string): string {
  return `arn:aws:kms:${BENCH_REGION}:${BENCH_ACCOUNT}:key/${keyId}`;
}

/** A key last used long before `minIdleDays`, tracked since creation (the assessment searches no history). */
function idleKey(keyId: string, alias: string): RawScenario {
  return {
    keyId,
    createdAt: '2024-03-01T00:00:00Z',
    trackingStartDate: '2024-03-01T00:00:00Z',
    lastUsage: { operation: 'Decrypt', at: '2025-02-10T09:30:00Z' },
    aliases: [alias],
  };
}

/** What sets one bench scenario apart; the rest is a single idle-looking key's run. */
interface BenchRun {
  readonly name: string;
  readonly keyId: string;
  readonly alias: string;
  readonly calls: readonly RawScenario[];
  readonly disableAnswer: 'approve' | 'reject';
  readonly config: Readonly<Record<string, unknown>>;
  readonly cloudTrail: RawScenario;
}

function benchScenario(run: BenchRun): RawScenario {
  return {
    name: run.name,
    start: BENCH_START,
    account: BENCH_ACCOUNT,
    region: BENCH_REGION,
    keys: [idleKey(run.keyId, run.alias)],
    calls: [...run.calls],
    approvals: { disable: run.disableAnswer, deletion: 'approve' },
    input: { keyId: run.keyId, requestedBy: 'bench', reason: 'benchmark' },
    config: { ...run.config },
    cloudTrail: run.cloudTrail,
  };
}

export interface QuietKeyOptions {
  /** Unrelated CloudTrail records in the log group. */
  readonly background: number;
  /** Stack configuration overrides, merged over the stack's defaults (lib/constructs/config.ts). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly disableAnswer?: 'approve' | 'reject';
  /** The account's FilterLogEvents quota (requests a second); the scenario's default when absent. */
  readonly searchTps?: number | undefined;
  /** More `cloudTrail` fields of the scenario (`backgroundPerDay`, `searchPageLatencyMs`, ...). */
  readonly cloudTrail?: Readonly<Record<string, unknown>> | undefined;
}

/** A key nobody uses: approved, disabled, watched, scheduled for deletion. */
export function quietKeyScenario(options: QuietKeyOptions): RawScenario {
  return benchScenario({
    name: 'bench: a quiet key through the whole workflow',
    keyId: QUIET_KEY_ID,
    alias: QUIET_KEY_ALIAS,
    calls: [],
    disableAnswer: options.disableAnswer ?? 'approve',
    config: options.config,
    cloudTrail: {
      background: options.background,
      ...(options.searchTps === undefined ? {} : { searchTps: options.searchTps }),
      ...options.cloudTrail,
    },
  });
}

export interface StillUsedKeyOptions {
  /** The one application call on the disabled key, as an offset from start (`+P2DT1H30M`). */
  readonly callAt: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Share of EventBridge deliveries dropped: 1 leaves only the polling watch. */
  readonly eventBridgeDrop: number;
}

/** A key that looks idle but one application still decrypts with, once, while it is disabled. */
export function stillUsedKeyScenario(options: StillUsedKeyOptions): RawScenario {
  return benchScenario({
    name: 'bench: a still-used key comes back',
    keyId: USED_KEY_ID,
    alias: USED_KEY_ALIAS,
    calls: [
      {
        at: options.callAt,
        keyId: USED_KEY_ALIAS,
        operation: 'Decrypt',
        principal: `arn:aws:iam::${BENCH_ACCOUNT}:role/monthly-billing-batch`,
      },
    ],
    disableAnswer: 'approve',
    config: options.config,
    cloudTrail: { eventBridgeDrop: options.eventBridgeDrop },
  });
}

/** `PT<minutes>M` offsets from start as ISO-8601 (`+P2DT1H30M`), for call placements. */
export function offsetFromStart(ms: number): string {
  const totalMinutes = Math.round(ms / MINUTE_MS);
  const minutesPerDay = 24 * 60;
  const days = Math.floor(totalMinutes / minutesPerDay);
  const hours = Math.floor((totalMinutes % minutesPerDay) / 60);
  const minutes = totalMinutes % 60;
  const time =
    hours > 0 || minutes > 0 ? `T${hours > 0 ? `${hours}H` : ''}${minutes > 0 ? `${minutes}M` : ''}` : '';
  return `+P${days}D${time}`;
}

export interface PendingFailureOptions {
  /** The one failing application call, as an ISO instant; none for the quiet run that finds the deletion date. */
  readonly callAt?: string | undefined;
  /** Share of EventBridge deliveries dropped: 1 leaves only the polling watch. */
  readonly eventBridgeDrop: number;
}

/**
 * A key nobody uses until one caller decrypts with it in the pending window, at `callAt`: a one-day
 * observation and the shortest pending window (7 days) keep each run short; the last minutes before
 * the deletion date, which the figure is about, are the same whatever the lengths.
 */
export function pendingFailureScenario(options: PendingFailureOptions): RawScenario {
  const scenario = benchScenario({
    name: 'bench: a failure just before the deletion date',
    keyId: USED_KEY_ID,
    alias: USED_KEY_ALIAS,
    calls:
      options.callAt === undefined
        ? []
        : [
            {
              at: options.callAt,
              keyId: USED_KEY_ALIAS,
              operation: 'Decrypt',
              principal: `arn:aws:iam::${BENCH_ACCOUNT}:role/quarterly-report`,
            },
          ],
    disableAnswer: 'approve',
    config: {},
    cloudTrail: { eventBridgeDrop: options.eventBridgeDrop },
  });
  return {
    ...scenario,
    input: { ...(scenario.input as RawScenario), observationDays: 1, pendingWindowInDays: 7 },
  };
}
