import { allocArray } from '../../autograd/dtype.js';
import type { Plan } from '../../autograd/plan.js';
import { MatgradError } from '../../errors.js';
import type { Backend, BackendStats, Executable } from '../backend.js';
import { analyzeBatch } from './batch.js';
import { generateStep } from './codegen.js';
import { programIO, releasing } from './io.js';
import { compileBatched } from './parallel.js';
import { nodeBuiltin, WorkerPool } from './pool.js';
import { simdKernels } from './simd.js';
import { compileSmall } from './small.js';

export interface CpuBackendOptions {
  /**
   * Threads a big batch-separable program may use, the calling one included. Default: the
   * MATGRAD_THREADS environment variable, else every core (os.availableParallelism()).
   */
  readonly threads?: number;
  /**
   * Batch-separable plans doing at least this many scalar operations a step run batch-tiled over
   * shared memory (and WebAssembly SIMD kernels). Default 65536; Infinity turns the batched path off.
   */
  readonly batchWork?: number;
  /** Runs of at least this many scalar operations (steps × work per step) use the workers. Default 2^21. */
  readonly parallelWork?: number;
  /** Bytes of batched data per tile. Default 24 KiB. */
  readonly tileBytes?: number;
  /** WebAssembly SIMD kernels in batched programs. Default true (MATGRAD_SIMD=0 turns them off). */
  readonly simd?: boolean;
  /** Workers stop this long after the last program using them is disposed (0: at once). Default 5000. */
  readonly idleMs?: number;
}

function threadsFromEnv(): number {
  const env = typeof process !== 'undefined' ? process.env?.MATGRAD_THREADS : undefined;
  const n = env === undefined || env === '' ? Number.NaN : Number(env);
  if (Number.isInteger(n) && n >= 1) return n;
  const os = nodeBuiltin<typeof import('node:os')>('node:os');
  return os?.availableParallelism?.() ?? 1;
}

/**
 * The CPU backend: a plan becomes one generated JS function whose loop runs whole steps over
 * preallocated typed arrays (shapes baked in, small loops unrolled): no allocation, no dispatch per op.
 * Big batch-separable plans (thousands of independent small problems) instead run batch-tiled, split
 * across worker threads over shared memory (see parallel.ts).
 */
/**
 * Generated step factories by source text. Programs with the same code reuse one factory, so their
 * step functions share V8's type feedback and optimized code: a recompiled problem (another run, a
 * repeated solve) starts fast instead of interpreting its first thousands of steps again.
 */
const factories = new Map<string, Function>();
const FACTORY_CACHE_LIMIT = 256;
function stepFactory(source: string): Function {
  let f = factories.get(source);
  if (f) {
    factories.delete(source);
  } else {
    f = new Function('B', 'H', source);
    if (factories.size >= FACTORY_CACHE_LIMIT) factories.delete(factories.keys().next().value!);
  }
  factories.set(source, f);
  return f;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  /** Threads a batched program may use, the calling one included. */
  readonly threads: number;
  private live = 0;
  private allocated = 0;
  private bytes = 0;
  private pool: WorkerPool | null = null;
  private readonly batchWork: number;
  private readonly parallelWork: number;
  private readonly tileBytes: number;
  private readonly simd: boolean;
  private readonly idleMs: number;

  constructor(opts: CpuBackendOptions = {}) {
    const threads = opts.threads ?? threadsFromEnv();
    if (!Number.isInteger(threads) || threads < 1)
      throw new MatgradError(`cpu backend: threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.batchWork = opts.batchWork ?? 65536;
    this.parallelWork = opts.parallelWork ?? 2 ** 21;
    this.tileBytes = opts.tileBytes ?? 24 * 1024;
    const env = typeof process !== 'undefined' ? process.env?.MATGRAD_SIMD : undefined;
    this.simd = opts.simd ?? env !== '0';
    this.idleMs = opts.idleMs ?? 5000;
  }

  stats(): BackendStats {
    return { liveBuffers: this.live, allocations: this.allocated, liveBytes: this.bytes };
  }

  /** Worker threads running now (started by the first parallel run; see `idleMs`). */
  get workers(): number {
    return this.pool?.running ?? 0;
  }

  /** Stops the worker threads now; a later parallel run starts them again. */
  stopWorkers(): void {
    this.pool?.shutdown();
  }

  compile(plan: Plan): Executable {
    const batched = this.compileBatched(plan);
    if (batched) return batched;
    // small float64 plans with matmuls: buffers in a wasm memory, SIMD kernels where they fit
    const small = this.simd ? compileSmall(plan) : null;
    const buffers = plan.buffers.map((b, i) => {
      this.live++;
      this.allocated++;
      this.bytes += b.size * (b.dtype === 'float64' ? 8 : 4);
      if (!small) return allocArray(b.dtype, b.size);
      const at = small.offsets[i];
      return b.dtype === 'float64'
        ? new Float64Array(small.memory.buffer, at, b.size)
        : new Float32Array(small.memory.buffer, at, b.size);
    });
    for (const c of plan.constants) buffers[c.buffer].set(c.data);
    const { prelude, body, hostFunctions } = generateStep(plan, small?.replaced);
    const unpack = [
      ...buffers.map((_, i) => `const b${i} = B[${i}];`),
      ...hostFunctions.map((_, i) => `const f${i} = H[${i}];`),
    ].join('\n');
    const fill = plan.stepScalars.map((b, j) => `b${b}[0] = S[${j}];`).join(' ');
    const source = `${unpack}
const S = new Float64Array(${plan.stepScalars.length});
${prelude}
return function run(steps, before) {
  for (let step = 0; step < steps; step++) {
    if (before !== undefined) { if (before(step, S) === false) return step; ${fill} }
${body}
  }
  return steps;
};`;
    const run = stepFactory(source)(buffers, hostFunctions) as Executable['run'];
    const io = programIO(plan, buffers);
    const exe: Executable = {
      write: (i, values) => buffers[io.input(i, values.length)].set(values),
      run: (steps, before) => {
        io.check();
        return run(steps, before);
      },
      read: io.read,
      readSync: io.readSync,
      view: io.view,
      dispose: () => io.dispose(),
    };
    return releasing(exe, () => this.release(plan));
  }

  /** Buffer accounting of a disposed program. */
  private release(plan: Plan): void {
    for (const b of plan.buffers) {
      this.live--;
      this.bytes -= b.size * (b.dtype === 'float64' ? 8 : 4);
    }
  }
  private compileBatched(plan: Plan): Executable | null {
    if (!(this.batchWork < Infinity)) return null;
    const info = analyzeBatch(plan);
    if (!info || info.work < this.batchWork) return null;
    const exe = compileBatched(plan, info, {
      threads: this.threads,
      pool: () => (this.pool ??= WorkerPool.create(this.threads - 1, this.idleMs)),
      tileBytes: this.tileBytes,
      parallelWork: this.parallelWork,
      simd: this.simd ? simdKernels : undefined,
    });
    if (!exe) return null;
    for (const b of plan.buffers) {
      this.live++;
      this.allocated++;
      this.bytes += b.size * (b.dtype === 'float64' ? 8 : 4);
    }
    return releasing(exe, () => this.release(plan));
  }
}

export const cpu = new CpuBackend();
