/**
 * Figure 2: what one key costs through the default workflow (30-day observation, 6-hour checks,
 * the pending window watched), at list prices, from one simulated quiet key.
 */
import { quietKeyScenario } from './scenarios.js';
import {
  handlerOfEntry,
  invocationsByHandler,
  runSimulation,
  type SimulationRun,
  scheduledInvocations,
} from './simulation.js';

/** US East (N. Virginia) list prices. */
export const PRICES = {
  /** Step Functions Standard, per state transition. */
  stateTransition: 0.000025,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** Lambda, per request ($0.20 per million). */
  lambdaRequest: 0.2 / 1_000_000,
  /** KMS, per API request ($0.03 per 10,000). */
  kmsRequest: 0.03 / 10_000,
  /** CloudWatch Logs Insights, per GB scanned; FilterLogEvents has no per-query charge. */
  logsInsightsGb: 0.005,
  /** EventBridge Scheduler, per invocation ($1.00 per million, beyond the free 14 million a month). */
  schedulerInvocation: 1 / 1_000_000,
} as const;

/** Assumed round trip of one AWS API call from a Lambda in the same Region. */
export const API_CALL_MS = 30;

export interface CostFigures {
  readonly checkIntervalHours: number;
  readonly transitionsPerKey: number;
  /** Transitions of the same checks as a Wait + Task loop in the state machine (the loop's floor). */
  readonly transitionsFloor: number;
  /** Periodic checks of both watches (scheduled, or a repeated check task). */
  readonly checks: number;
  /** Check invocations by EventBridge Scheduler, outside the state machine. */
  readonly scheduledInvocationsPerKey: number;
  readonly lambdaInvocationsPerKey: number;
  readonly workflowKmsRequests: number;
  /** Of those, the workflow's own failing cryptographic calls (canaries). */
  readonly canaryKmsRequests: number;
  readonly workflowLogsRequests: number;
  /** Every request the handlers sent to the emulated account, by service (SDK attempts). */
  readonly apiRequestsPerKey: Readonly<Record<string, number>>;
  /** Estimated: memory from the template x (cold import as init + API calls x API_CALL_MS). */
  readonly lambdaGbSeconds: number;
  readonly usd: {
    readonly transitions: number;
    readonly lambdaRequests: number;
    readonly lambdaDuration: number;
    readonly kmsRequests: number;
    readonly schedulerInvocations: number;
    readonly logsQueries: number;
  };
  readonly costPerKeyUsd: number;
}

export interface HandlerFacts {
  readonly memoryMb: number;
  readonly coldImportMs: number;
}

const CANARY_ERRORS = new Set(['DisabledException', 'KMSInvalidStateException']);

/**
 * The baseline of figure 2: the same run's work as a polling loop inside the state machine at its
 * floor, a Wait and a Task per periodic check, plus the states entered once. Periodic checks are
 * the check invocations repeated over a watch: scheduled runs outside the state machine, or a check
 * task state entered more than once; states of a loop other than these (Choice, Pass, Wait) are
 * the overhead the floor leaves out.
 */
function loopFloor(run: SimulationRun): { transitions: number; periodicChecks: number } {
  const visits = new Map<string, number>();
  for (const entry of run.result.timeline) {
    visits.set(entry.state, (visits.get(entry.state) ?? 0) + 1);
  }
  let repeatedStates = 0;
  let periodicChecks = 0;
  for (const [state, count] of visits) {
    const inDefinition = run.typeOfState.has(state);
    if (inDefinition && count > 1) {
      repeatedStates += count;
    }
    if (!inDefinition || (count > 1 && run.handlerOfState.get(state) === 'check')) {
      periodicChecks += run.result.timeline.filter(
        (entry) => entry.state === state && handlerOfEntry(run, entry) === 'check',
      ).length;
    }
  }
  return {
    transitions: run.result.stats.stateTransitions - repeatedStates + 2 * periodicChecks,
    periodicChecks,
  };
}

export async function measureCost(handlers: ReadonlyMap<string, HandlerFacts>): Promise<CostFigures> {
  const checkIntervalHours = 6;
  const run = await runSimulation(quietKeyScenario({ background: 0, config: { checkIntervalHours } }), [
    'DELETION_SCHEDULED',
  ]);
  const byHandler = invocationsByHandler(run);
  const invocations = run.result.stats.lambdaInvocations;
  const scheduled = scheduledInvocations(run);
  const floor = loopFloor(run);
  const workflowKmsRequests = run.stats.workflowKmsCalls;
  const workflowLogsRequests = run.stats.workflowLogsCalls;
  const apiRequests = Object.values(run.apiCalls).reduce((sum, count) => sum + count, 0);
  const canaryKmsRequests = run.account
    .records()
    .filter(
      (e) => e.workflow && e.record.errorCode !== undefined && CANARY_ERRORS.has(e.record.errorCode),
    ).length;

  // At 6-hour intervals every invocation is a cold start, and Lambda bills the init phase. Every
  // request a handler sent counts (KMS, Logs, Scheduler, Step Functions callbacks, ...).
  const apiMsPerInvocation = invocations > 0 ? (apiRequests * API_CALL_MS) / invocations : 0;
  let gbSeconds = 0;
  for (const [handler, count] of byHandler) {
    const facts = handlers.get(handler);
    const memoryGb = (facts?.memoryMb ?? 256) / 1024;
    const ms = Math.ceil((facts?.coldImportMs ?? 0) + apiMsPerInvocation);
    gbSeconds += count * memoryGb * (ms / 1000);
  }
  const usd = {
    transitions: run.result.stats.stateTransitions * PRICES.stateTransition,
    lambdaRequests: invocations * PRICES.lambdaRequest,
    lambdaDuration: gbSeconds * PRICES.lambdaGbSecond,
    kmsRequests: workflowKmsRequests * PRICES.kmsRequest,
    schedulerInvocations: scheduled * PRICES.schedulerInvocation,
    // The checks use FilterLogEvents: no per-query charge (Logs Insights would bill GB scanned).
    logsQueries: 0,
  };
  return {
    checkIntervalHours,
    transitionsPerKey: run.result.stats.stateTransitions,
    transitionsFloor: floor.transitions,
    checks: floor.periodicChecks,
    scheduledInvocationsPerKey: scheduled,
    lambdaInvocationsPerKey: invocations,
    workflowKmsRequests,
    canaryKmsRequests,
    workflowLogsRequests,
    apiRequestsPerKey: run.apiCalls,
    lambdaGbSeconds: gbSeconds,
    usd,
    costPerKeyUsd: Object.values(usd).reduce((sum, value) => sum + value, 0),
  };
}
