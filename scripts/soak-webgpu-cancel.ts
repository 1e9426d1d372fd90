/**
 * WebGPU cancel-then-start soak: cancels a run after its first event (at several points of the
 * event loop: inside the event, a microtask later, setImmediate, setTimeout, an AbortSignal) and at
 * once starts another run to completion. Counts the cycles that fail.
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp \
 *     npx tsx scripts/soak-webgpu-cancel.ts [cycles=1000]
 */
import { pathToFileURL } from 'node:url';
import { filter, lastValueFrom } from 'rxjs';
import { webgpuBackend } from '../src/backends/webgpu/index.js';
import * as mg from '../src/index.js';

export interface SoakResult {
  readonly cycles: number;
  readonly failures: number;
  /** First line of each failure message, with its count. */
  readonly messages: ReadonlyMap<string, number>;
}

type Cancel = (stop: () => void) => void;
const CANCELS: readonly Cancel[] = [
  (stop) => stop(),
  (stop) => queueMicrotask(stop),
  (stop) => setImmediate(stop),
  (stop) => setTimeout(stop, 0),
  (stop) => setTimeout(stop, 1),
];

const STARTS: readonly (() => Promise<void>)[] = [
  async () => {},
  () => new Promise((resolve) => setImmediate(resolve)),
  () => new Promise((resolve) => setTimeout(resolve, 0)),
  () => new Promise((resolve) => setTimeout(resolve, 1)),
];

/** Starts a long run, cancels it after its first event (the i-th way), resolves once it was cancelled. */
function startAndCancel(problem: mg.Objective, i: number): Promise<void> {
  const byAbort = i % (CANCELS.length + 1) === CANCELS.length;
  const abort = new AbortController();
  const opts = { backend: 'webgpu' as const, steps: 1_000_000, reportEvery: 10, signal: abort.signal };
  return new Promise<void>((resolve, reject) => {
    let first = true;
    const sub = mg.solve(problem, opts).subscribe({
      next: (e) => {
        if (byAbort) {
          if (first) abort.abort();
          else if (e.done && e.status !== 'cancelled') reject(new Error(`cancelled run ended ${e.status}`));
        } else if (first) {
          CANCELS[i % (CANCELS.length + 1)](() => {
            sub.unsubscribe();
            resolve();
          });
        }
        first = false;
      },
      complete: () => resolve(),
      error: reject,
    });
  });
}

export async function cancelThenStart(cycles: number): Promise<SoakResult> {
  if (!(await webgpuBackend())) throw new Error('no WebGPU adapter');
  const problem = mg.problem({ kind: 'inverse', matrix: { random: { shape: [4, 4], seed: 1 } } });
  const messages = new Map<string, number>();
  let failures = 0;
  for (let i = 0; i < cycles; i++) {
    try {
      await startAndCancel(problem, i);
      // the next run starts at once, or a little later (while the cancelled run's last read settles)
      await STARTS[Math.floor(i / (CANCELS.length + 1)) % STARTS.length]();
      const done = await lastValueFrom(mg.solve(problem, { backend: 'webgpu', steps: 20, reportEvery: 10 }).pipe(filter((e) => e.done)));
      if (done.status !== 'max-steps' || done.step !== 20 || !Number.isFinite(done.loss))
        throw new Error(`the next run ended ${done.status} at step ${done.step} with loss ${done.loss}`);
    } catch (e) {
      failures++;
      const m = String((e as Error).message ?? e).split('\n')[0];
      messages.set(m, (messages.get(m) ?? 0) + 1);
    }
  }
  return { cycles, failures, messages };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cycles = Number(process.argv[2] ?? 1000);
  const t0 = performance.now();
  const r = await cancelThenStart(cycles);
  console.log(`${r.cycles} cancel-then-start cycles: ${r.failures} failures in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const [m, n] of r.messages) console.log(`  ${n}× ${m}`);
  process.exit(r.failures ? 1 : 0);
}
