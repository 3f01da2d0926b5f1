/**
 * Figure 5: quiet keys through the whole default workflow (30-day observation, the pending window
 * watched) per second of wall-clock time, one simulation after another as the simulator runs them.
 */
import { quietKeyScenario } from './scenarios.js';
import { runSimulation } from './simulation.js';

export interface ThroughputFigures {
  /** Keys per second, by the number of keys run ("1" and the requested count). */
  readonly keysPerSecond: Readonly<Record<string, number>>;
  readonly secondsPerKey: Readonly<Record<string, number>>;
}

async function keysPerSecond(keys: number, progress: (done: number) => void): Promise<number> {
  const scenario = quietKeyScenario({ background: 0, config: { checkIntervalHours: 6 } });
  const started = performance.now();
  for (let i = 0; i < keys; i += 1) {
    await runSimulation(scenario, ['DELETION_SCHEDULED']);
    progress(i + 1);
  }
  return keys / ((performance.now() - started) / 1000);
}

/** `progress` is told after every key of the larger run (a long run should show it is alive). */
export async function measureThroughput(
  keys: number,
  progress: (done: number, of: number) => void = () => undefined,
): Promise<ThroughputFigures> {
  // Warm: the first simulation of a process synthesizes the app and loads every module.
  await runSimulation(quietKeyScenario({ background: 0, config: { checkIntervalHours: 6 } }), [
    'DELETION_SCHEDULED',
  ]);
  const one = await keysPerSecond(1, () => undefined);
  const many = keys === 1 ? one : await keysPerSecond(keys, (done) => progress(done, keys));
  const keysPerSecondByCount: Record<string, number> = { '1': one, [String(keys)]: many };
  return {
    keysPerSecond: keysPerSecondByCount,
    secondsPerKey: Object.fromEntries(Object.entries(keysPerSecondByCount).map(([k, v]) => [k, 1 / v])),
  };
}
