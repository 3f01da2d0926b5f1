/**
 * Runs one scenario in the simulator and keeps what the benchmark needs beside the result: the
 * emulated account (its CloudWatch Logs accounting) and which handler each state of the
 * synthesized definition invokes.
 */
import type { AslDefinition, AslState, SynthesizedWorkflow } from '../lib/simulator/definition.js';
import { synthesizeWorkflow } from '../lib/simulator/definition.js';
import type { AccountStats, EmulatedAccount } from '../lib/simulator/emulator/account.js';
import { emulatorRequestCounts } from '../lib/simulator/emulator/server.js';
import type { SimulationReport } from '../lib/simulator/result.js';
import { parseScenario } from '../lib/simulator/scenario.js';
import { simulate, stackConfigOf } from '../lib/simulator/simulate.js';
import type { RawScenario } from './scenarios.js';

export interface SimulationRun {
  readonly result: SimulationReport;
  readonly account: EmulatedAccount;
  /** The account's counters when the run ended (later queries by the benchmark do not count). */
  readonly stats: AccountStats;
  /** Handler folder of every Lambda task state, by state name. */
  readonly handlerOfState: ReadonlyMap<string, string>;
  /** Handler folder of every function of the template, by logical ID (how invocations are named). */
  readonly handlerOfFunction: ReadonlyMap<string, string>;
  /** ASL type (`Wait`, `Choice`, `Task`, ...) of every state of the synthesized definition. */
  readonly typeOfState: ReadonlyMap<string, string>;
  /**
   * Task states that wait for a task token (`.waitForTaskToken`): their invocation starts a watch
   * (the first schedule) and reads no logs; the checks run later, outside the state machine.
   */
  readonly tokenStates: ReadonlySet<string>;
  /** Requests the emulator answered during the run, by service (every SDK attempt). */
  readonly apiCalls: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

/** The benchmark itself failed to measure (never a figure that missed its target). */
export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

function stateTypes(states: Record<string, AslState>, out: Map<string, string>): Map<string, string> {
  for (const [name, state] of Object.entries(states)) {
    out.set(name, state.Type);
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) {
      stateTypes(branch.States, out);
    }
    const inner = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    if (inner) {
      stateTypes(inner.States, out);
    }
  }
  return out;
}

function lambdaStates(
  states: Record<string, AslState>,
  arnToHandler: Map<string, string>,
  out: Map<string, string>,
): void {
  for (const [name, state] of Object.entries(states)) {
    const parameters = (state.Parameters ?? state.Arguments) as Record<string, unknown> | undefined;
    const fn = parameters?.FunctionName;
    if (state.Type === 'Task' && typeof fn === 'string') {
      const handler = arnToHandler.get(fn) ?? arnToHandler.get(fn.split(':').pop() ?? '');
      if (handler) {
        out.set(name, handler);
      }
    }
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) {
      lambdaStates(branch.States, arnToHandler, out);
    }
    const inner = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    if (inner) {
      lambdaStates(inner.States, arnToHandler, out);
    }
  }
}

function tokenStatesOf(states: Record<string, AslState>, out: Set<string>): Set<string> {
  for (const [name, state] of Object.entries(states)) {
    if (
      state.Type === 'Task' &&
      typeof state.Resource === 'string' &&
      state.Resource.endsWith('.waitForTaskToken')
    ) {
      out.add(name);
    }
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) {
      tokenStatesOf(branch.States, out);
    }
    const inner = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    if (inner) {
      tokenStatesOf(inner.States, out);
    }
  }
  return out;
}

/** State name -> handler folder (`check`, `disable`, ...), read from the synthesized definition. */
export function handlerOfStates(workflow: SynthesizedWorkflow): Map<string, string> {
  const arnToHandler = new Map<string, string>();
  for (const fn of workflow.functions) {
    arnToHandler.set(fn.arn, fn.handler);
    arnToHandler.set(fn.logicalId, fn.handler);
  }
  const out = new Map<string, string>();
  lambdaStates(workflow.definition.States, arnToHandler, out);
  return out;
}

/** Runs `raw`; an outcome other than `expected` means the figures would describe a broken run. */
export async function runSimulation(raw: RawScenario, expected: readonly string[]): Promise<SimulationRun> {
  const scenario = parseScenario(raw);
  const workflow = await synthesizeWorkflow(stackConfigOf(scenario), {
    account: scenario.account,
    region: scenario.region,
  });
  let account: EmulatedAccount | undefined;
  let stats: AccountStats | undefined;
  const requestsBefore = emulatorRequestCounts();
  const started = performance.now();
  const result = await simulate(scenario, {
    inspect: (inspected) => {
      account = inspected;
      stats = inspected.stats();
    },
  });
  const elapsedMs = performance.now() - started;
  const apiCalls = Object.fromEntries(
    Object.entries(emulatorRequestCounts()).map(([service, count]) => [
      service,
      count - (requestsBefore[service] ?? 0),
    ]),
  );
  if (!account || !stats) {
    throw new BenchError('the simulator did not hand over its emulated account');
  }
  if (!expected.includes(result.outcome)) {
    const why = `${result.cause ?? 'no cause'}${result.error ? `: ${result.error.Cause}` : ''}`;
    throw new BenchError(
      `'${scenario.name}' ended ${result.outcome} (${why}), not ${expected.join(' or ')}: its figures would describe a broken run`,
    );
  }
  return {
    result,
    account,
    stats,
    handlerOfState: handlerOfStates(workflow),
    handlerOfFunction: new Map(workflow.functions.map((fn) => [fn.logicalId, fn.handler])),
    typeOfState: stateTypes(workflow.definition.States, new Map()),
    tokenStates: tokenStatesOf(workflow.definition.States, new Set()),
    apiCalls,
    elapsedMs,
  };
}

/**
 * The handler folder an entry of the timeline invoked: a scheduled check names its handler itself
 * (it runs outside the state machine), a Lambda task state through the definition.
 */
export function handlerOfEntry(
  run: SimulationRun,
  entry: SimulationReport['timeline'][number],
): string | undefined {
  return entry.handler ?? run.handlerOfState.get(entry.state);
}

/**
 * Instants (ms) at which `handler` was invoked, in order; `tokenStarts: false` leaves out the
 * invocations of token task states (they start a watch, the scheduled checks do its work).
 */
export function timesOfHandler(
  run: SimulationRun,
  handler: string,
  options: { readonly tokenStarts?: boolean } = {},
): number[] {
  const tokenStarts = options.tokenStarts ?? true;
  return run.result.timeline
    .filter(
      (entry) => handlerOfEntry(run, entry) === handler && (tokenStarts || !run.tokenStates.has(entry.state)),
    )
    .map((entry) => Date.parse(entry.at));
}

/** Invocations per handler folder, counted from the execution's timeline. */
export function invocationsByHandler(run: SimulationRun): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of run.result.timeline) {
    const handler = handlerOfEntry(run, entry);
    if (handler) {
      counts.set(handler, (counts.get(handler) ?? 0) + 1);
    }
  }
  return counts;
}

/** Lambda invocations outside the state machine (scheduled checks): entries of no state of the definition. */
export function scheduledInvocations(run: SimulationRun): number {
  return run.result.timeline.filter(
    (entry) => entry.handler !== undefined && !run.typeOfState.has(entry.state),
  ).length;
}

/** When the workflow's own DisableKey succeeded, from the emulated trail. */
export function disabledAtOf(run: SimulationRun): number {
  const disable = run.account
    .records()
    .find((e) => e.workflow && e.record.eventName === 'DisableKey' && e.record.errorCode === undefined);
  if (!disable) {
    throw new BenchError(`'${run.result.name}': the workflow never disabled the key`);
  }
  return disable.at;
}
