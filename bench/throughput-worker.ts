/**
 * One worker thread of the throughput figure. A thread has its own module graph, so its own
 * simulator: its own faked `Date`, `process.env`, SDK clients, handler modules and emulator. It
 * warms up (synth, module loading), says so, then takes keys from the shared counter until none
 * are left.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { quietKeyScenario } from './scenarios.js';
import { runSimulation } from './simulation.js';

export interface ThroughputWorkerData {
  readonly keys: number;
  /** Int32 slot 0: the next key to run, shared by every worker. */
  readonly counter: SharedArrayBuffer;
}

export type ThroughputWorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'key' }
  | { readonly type: 'finished'; readonly keys: number }
  | { readonly type: 'error'; readonly message: string };

const port = parentPort;
if (!port) {
  throw new Error('bench/throughput-worker.ts runs as a worker thread of bench/throughput.ts');
}
const data = workerData as ThroughputWorkerData;
const next = new Int32Array(data.counter);
const scenario = quietKeyScenario({ background: 0, config: { checkIntervalHours: 6 } });
const post = (message: ThroughputWorkerMessage) => port.postMessage(message);

await runSimulation(scenario, ['DELETION_SCHEDULED']);
port.once('message', () => {
  void (async () => {
    let ran = 0;
    while (Atomics.add(next, 0, 1) < data.keys) {
      await runSimulation(scenario, ['DELETION_SCHEDULED']);
      ran += 1;
      post({ type: 'key' });
    }
    post({ type: 'finished', keys: ran });
  })().catch((error: unknown) => {
    // An error thrown here would only reach the worker's console; the parent must fail the figure.
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  });
});
post({ type: 'ready' });
