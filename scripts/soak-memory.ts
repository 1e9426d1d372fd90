/**
 * Memory soak of batched CPU runs with worker threads: `cycles` start/cancel cycles (or completed
 * solves) of an inverse problem over a random batch of 100,000 4×4 matrices with Adam. Prints the
 * RSS after the first cycle and after the last, and their ratio (acceptance: ≤ 1.3).
 *
 *   NODE_OPTIONS=--expose-gc npx tsx scripts/soak-memory.ts [cycles=60] [cancel|complete] [batch=100000]
 */
import { pathToFileURL } from 'node:url';
import { lastValueFrom, take } from 'rxjs';
import * as mg from '../src/index.js';

export interface SoakMemory {
  /** RSS (bytes) after each cycle. */
  readonly rss: readonly number[];
  /** Worker threads of the CPU backend at the end. */
  readonly workers: number;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

export async function soakMemory(cycles: number, mode: 'cancel' | 'complete' = 'cancel', batch = 100_000): Promise<SoakMemory> {
  const rss: number[] = [];
  for (let i = 0; i < cycles; i++) {
    const problem = mg.problem({ kind: 'inverse', matrix: { random: { shape: [batch, 4, 4], seed: i } } });
    const opts = { optimizer: mg.optimizers.adam({ lr: 1e-2 }), reportEvery: 20, steps: 40 };
    // cancel: unsubscribe at the first progress event; complete: run all 40 steps
    const run = mg.solve(problem, opts);
    await lastValueFrom(mode === 'cancel' ? run.pipe(take(1)) : run);
    // a turn of the event loop: the cancelled run's last callback runs and V8 finishes freeing
    // array buffers (foreground tasks); then a full collection when node runs with --expose-gc
    await settle();
    (globalThis as { gc?: () => void }).gc?.();
    await settle();
    rss.push(process.memoryUsage().rss);
  }
  return { rss, workers: mg.cpu.workers };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cycles = Number(process.argv[2] ?? 60);
  const mode = (process.argv[3] ?? 'cancel') as 'cancel' | 'complete';
  const batch = Number(process.argv[4] ?? 100_000);
  const t0 = performance.now();
  const { rss, workers } = await soakMemory(cycles, mode, batch);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log(
    `${cycles} ${mode} cycles of a ${batch}×4×4 batched run, ${mg.cpu.threads} threads (${workers} workers now): ` +
      `RSS ${mb(rss[0])} after the first, ${mb(Math.max(...rss))} at most, ${mb(rss[rss.length - 1])} after the last ` +
      `(×${(rss[rss.length - 1] / rss[0]).toFixed(2)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
