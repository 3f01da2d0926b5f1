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

/**
 * Worker threads for the larger run, started early: each warms up (loads the modules, synthesizes
 * the app, runs one key) while the bench measures figures in virtual time, where sharing the CPU
 * changes nothing. The clock of `run` starts only once every worker is warm.
 */
export class ThroughputWorkers {
  private readonly counter = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  private readonly threads: Worker[];
  private readonly ready: Promise<unknown>;
  private readonly finished: Promise<number[]>;
  private onKey: () => void = () => undefined;

  constructor(
    readonly keys: number,
    readonly workers: number,
  ) {
    this.threads = Array.from({ length: workers }, () => startWorker({ keys, counter: this.counter }));
    const ready: Promise<void>[] = [];
    const finished: Promise<number>[] = [];
    for (const thread of this.threads) {
      const { promise: warm, resolve: warmed } = withResolvers<void>();
      ready.push(warm);
      finished.push(
        new Promise<number>((resolve, reject) => {
          thread.on('message', (message: ThroughputWorkerMessage) => {
            if (message.type === 'ready') {
              warmed();
            } else if (message.type === 'key') {
              this.onKey();
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
    this.finished = Promise.all(finished);
    // A worker that dies while warming up fails the figure instead of leaving the bench waiting.
    this.ready = Promise.race([Promise.all(ready), this.finished]);
    // Until `run` awaits them, a failure must not surface as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Resolves when every worker is warm (a failed warm-up rejects). */
  whenReady(): Promise<unknown> {
    return this.ready;
  }

  /** Runs the keys; keys per second from the go signal to the last key. Terminates the workers. */
  async run(progress: (done: number) => void): Promise<number> {
    try {
      await this.ready;
      let done = 0;
      this.onKey = () => {
        done += 1;
        progress(done);
      };
      const started = performance.now();
      for (const thread of this.threads) {
        thread.postMessage('go');
      }
      const ran = (await this.finished).reduce((sum, n) => sum + n, 0);
      if (ran !== this.keys) {
        throw new BenchError(`the workers ran ${ran} keys, not ${this.keys}`);
      }
      return this.keys / ((performance.now() - started) / 1000);
    } finally {
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }
}

function withResolvers<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Worker threads for `keys` keys: one per core by default, never more than keys. */
export function startThroughputWorkers(
  keys: number,
  workers: number = availableParallelism(),
): ThroughputWorkers | null {
  return keys > 1 ? new ThroughputWorkers(keys, Math.max(1, Math.min(workers, keys))) : null;
}

/**
 * One key alone in this thread, then the larger run on `pool` (none: `keys` is 1). `progress` is
 * told after every key of the larger run (a long run should show it is alive).
 */
export async function measureThroughput(
  pool: ThroughputWorkers | null,
  progress: (done: number, of: number) => void = () => undefined,
): Promise<ThroughputFigures> {
  // The single key runs with the workers idle, warm and waiting, so it has a core to itself.
  await pool?.whenReady();
  // Warm: the first simulation of a thread synthesizes the app and loads every module.
  await runSimulation(quietKey(), ['DELETION_SCHEDULED']);
  const started = performance.now();
  await runSimulation(quietKey(), ['DELETION_SCHEDULED']);
  const one = 1 / ((performance.now() - started) / 1000);
  const keysPerSecondByCount: Record<string, number> = { '1': one };
  if (pool) {
    keysPerSecondByCount[String(pool.keys)] = await pool.run((done) => progress(done, pool.keys));
  }
  return {
    keysPerSecond: keysPerSecondByCount,
    secondsPerKey: Object.fromEntries(Object.entries(keysPerSecondByCount).map(([k, v]) => [k, 1 / v])),
    workers: pool?.workers ?? 1,
  };
}
