/**
 * Figure 5: quiet keys through the whole default workflow (30-day observation, the pending window
 * watched) per second of wall-clock time. One key runs alone in this thread; the larger run spreads
 * its keys over worker threads, one simulator each, as a team would run its batch on every core.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { quietKeyScenario } from './scenarios.js';
import { BenchError, runSimulation } from './simulation.js';
import type { ThroughputWorkerData, ThroughputWorkerMessage } from './throughput-worker.js';

export interface ThroughputFigures {
  /** Keys per second, by the number of keys run ("1" and the requested count). */
  readonly keysPerSecond: Readonly<Record<string, number>>;
  readonly secondsPerKey: Readonly<Record<string, number>>;
  /** Worker threads of the larger run (1 key runs in the bench's own thread). */
  readonly workers: number;
}

const quietKey = () => quietKeyScenario({ background: 0, config: { checkIntervalHours: 6 } });

/**
 * Starts a worker on the TypeScript sources: the worker registers tsx's loader itself, since Node
 * does not hand a `--import` loader to a worker's entry module.
 */
function startWorker(data: ThroughputWorkerData): Worker {
  const loader = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./throughput-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** `keys` quiet keys over `workers` threads; the clock runs from the go signal (all warm) to the last key. */
async function parallelKeysPerSecond(
  keys: number,
  workers: number,
  progress: (done: number) => void,
): Promise<number> {
  const counter = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const threads = Array.from({ length: workers }, () => startWorker({ keys, counter }));
  let started = 0;
  let done = 0;
  try {
    const ready: Promise<void>[] = [];
    const finished: Promise<number>[] = [];
    for (const thread of threads) {
      let onReady: () => void = () => undefined;
      ready.push(new Promise<void>((resolve) => (onReady = resolve)));
      finished.push(
        new Promise<number>((resolve, reject) => {
          thread.on('message', (message: ThroughputWorkerMessage) => {
            if (message.type === 'ready') {
              onReady();
            } else if (message.type === 'key') {
              done += 1;
              progress(done);
            } else if (message.type === 'finished') {
              resolve(message.keys);
            } else {
              reject(new BenchError(`a throughput worker failed: ${message.message}`));
            }
          });
          thread.once('error', (error) =>
            reject(new BenchError(`a throughput worker died: ${error.message}`)),
          );
          thread.once('exit', (code) =>
            reject(new BenchError(`a throughput worker exited with code ${code}`)),
          );
        }),
      );
    }
    // A worker that dies while warming up must fail the figure, not leave the bench waiting.
    await Promise.race([Promise.all(ready), Promise.all(finished)]);
    started = performance.now();
    for (const thread of threads) {
      thread.postMessage('go');
    }
    const ran = (await Promise.all(finished)).reduce((sum, n) => sum + n, 0);
    if (ran !== keys) {
      throw new BenchError(`the workers ran ${ran} keys, not ${keys}`);
    }
    return keys / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}

/**
 * `progress` is told after every key of the larger run (a long run should show it is alive).
 * `workers` defaults to one per core, never more than keys.
 */
export async function measureThroughput(
  keys: number,
  progress: (done: number, of: number) => void = () => undefined,
  workers: number = availableParallelism(),
): Promise<ThroughputFigures> {
  // Warm: the first simulation of a thread synthesizes the app and loads every module.
  await runSimulation(quietKey(), ['DELETION_SCHEDULED']);
  const started = performance.now();
  await runSimulation(quietKey(), ['DELETION_SCHEDULED']);
  const one = 1 / ((performance.now() - started) / 1000);
  const threads = Math.max(1, Math.min(workers, keys));
  const many = keys === 1 ? one : await parallelKeysPerSecond(keys, threads, (done) => progress(done, keys));
  const keysPerSecondByCount: Record<string, number> = { '1': one, [String(keys)]: many };
  return {
    keysPerSecond: keysPerSecondByCount,
    secondsPerKey: Object.fromEntries(Object.entries(keysPerSecondByCount).map(([k, v]) => [k, 1 / v])),
    workers: keys === 1 ? 1 : threads,
  };
}
