/**
 * Figure 2: what one key costs through the default workflow (30-day observation, 6-hour checks,
 * the pending window watched), at list prices, from one simulated quiet key.
 */
import { quietKeyScenario } from './scenarios.js';
import { invocationsByHandler, runSimulation, type SimulationRun } from './simulation.js';

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
} as const;

/** Assumed round trip of one AWS API call from a Lambda in the same Region. */
export const API_CALL_MS = 30;

export interface CostFigures {
  readonly checkIntervalHours: number;
  readonly transitionsPerKey: number;
  /** Transitions if every check were only a Wait and a Task (the loop's floor). */
  readonly transitionsFloor: number;
  readonly checks: number;
  readonly lambdaInvocationsPerKey: number;
  readonly workflowKmsRequests: number;
  /** Of those, the workflow's own failing cryptographic calls (canaries). */
  readonly canaryKmsRequests: number;
  readonly workflowLogsRequests: number;
  /** Estimated: memory from the template x (cold import as init + API calls x API_CALL_MS). */
  readonly lambdaGbSeconds: number;
  readonly usd: {
    readonly transitions: number;
    readonly lambdaRequests: number;
    readonly lambdaDuration: number;
    readonly kmsRequests: number;
    readonly logsQueries: number;
  };
  readonly costPerKeyUsd: number;
}

export interface HandlerFacts {
  readonly memoryMb: number;
  readonly coldImportMs: number;
}

const CANARY_ERRORS = new Set(['DisabledException', 'KMSInvalidStateException']);

function transitionsFloor(run: SimulationRun, checks: number): number {
  // States entered more than once, other than the check task and its Wait, are the loop's
  // overhead (Choice, Pass, ...); a Wait + Task loop would not have them.
  const visits = new Map<string, number>();
  for (const entry of run.result.timeline) {
    visits.set(entry.state, (visits.get(entry.state) ?? 0) + 1);
  }
  let overhead = 0;
  for (const [state, count] of visits) {
    const isCheck = run.handlerOfState.get(state) === 'check';
    const isWait = run.typeOfState.get(state) === 'Wait';
    if (count > 1 && !isCheck && !isWait) {
      overhead += count;
    }
  }
  return Math.max(run.result.stats.stateTransitions - overhead, 2 * checks);
}

export async function measureCost(handlers: ReadonlyMap<string, HandlerFacts>): Promise<CostFigures> {
  const checkIntervalHours = 6;
  const run = await runSimulation(quietKeyScenario({ background: 0, config: { checkIntervalHours } }), [
    'DELETION_SCHEDULED',
  ]);
  const byHandler = invocationsByHandler(run);
  const invocations = run.result.stats.lambdaInvocations;
  const checks = byHandler.get('check') ?? 0;
  const workflowKmsRequests = run.stats.workflowKmsCalls;
  const workflowLogsRequests = run.stats.workflowLogsCalls;
  const canaryKmsRequests = run.account
    .records()
    .filter(
      (e) => e.workflow && e.record.errorCode !== undefined && CANARY_ERRORS.has(e.record.errorCode),
    ).length;

  // At 6-hour intervals every invocation is a cold start, and Lambda bills the init phase.
  const apiMsPerInvocation =
    invocations > 0 ? ((workflowKmsRequests + workflowLogsRequests) * API_CALL_MS) / invocations : 0;
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
    // The checks use FilterLogEvents: no per-query charge (Logs Insights would bill GB scanned).
    logsQueries: 0,
  };
  return {
    checkIntervalHours,
    transitionsPerKey: run.result.stats.stateTransitions,
    transitionsFloor: transitionsFloor(run, checks),
    checks,
    lambdaInvocationsPerKey: invocations,
    workflowKmsRequests,
    canaryKmsRequests,
    workflowLogsRequests,
    lambdaGbSeconds: gbSeconds,
    usd,
    costPerKeyUsd: Object.values(usd).reduce((sum, value) => sum + value, 0),
  };
}
