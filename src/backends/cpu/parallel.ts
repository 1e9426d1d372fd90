import type { FloatArray } from '../../autograd/dtype.js';
import type { Plan } from '../../autograd/plan.js';
import { MatgradError } from '../../errors.js';
import { programIO } from './io.js';
import type { Executable } from '../backend.js';
import type { BatchInfo } from './batch.js';
import { generateStep } from './codegen.js';
import { DONE, GEN, type LoadedProgram, MAX_TILES, runtime, STEPS, WORK, type WorkerPool } from './pool.js';
import { combineSource, tiledSource } from './tiled.js';

export interface BatchedOptions {
  /** Threads a run may use, the calling thread included. */
  readonly threads: number;
  /** The worker pool (threads − 1 workers), started on first use. */
  readonly pool: () => WorkerPool | null;
  /** Target bytes of batched data one tile touches (keeps a tile's working set in L1/L2). */
  readonly tileBytes: number;
  /** Runs of fewer scalar operations than this (steps × work per step) stay on the calling thread. */
  readonly parallelWork: number;
  /** WebAssembly kernels for this plan, if any (see simd.ts). */
  readonly simd?: (plan: Plan, info: BatchInfo, layout: Layout) => SimdKernels | null;
}

/** Where buffers lie in the program's memory (byte offsets). */
export interface Layout {
  readonly tile: number;
  readonly tiles: number;
  /** Per plan buffer: byte offset (temps and step scalars: within a thread's scratch area). */
  readonly offsets: readonly number[];
  /** Start of a thread's scratch area beyond its temps, for kernels' own use (bytes, 16-aligned). */
  readonly scratch: number;
}

export interface SimdKernels {
  readonly module: WebAssembly.Module;
  /** Kernel index -> body of its `k{i}(t0, n, prow)` calling into the module's exports. */
  readonly bodies: ReadonlyMap<number, string>;
  /** Bytes of per-thread scratch the kernels need. */
  readonly scratchBytes: number;
}

const ALIGN = 64;
const align = (x: number) => Math.ceil(x / ALIGN) * ALIGN;
const PAGE = 65536;
const MAX_PAGES = 32768; // 2 GiB
const MIN_TILES = 64;
/** Steps whose scalars a lookahead run computes at once (rows of the step-scalar table). */
const LOOKAHEAD = 1024;

/**
 * A batch-separable plan as a batch-tiled program over one shared WebAssembly.Memory. Each step runs
 * every kernel on one tile of batch indices before the next tile (temporaries stay in cache), and
 * tiles are shared out between the calling thread and the pool's workers. Two ways to run:
 * - lockstep (the default): `beforeStep` runs before every step on the calling thread, after the
 *   previous step's reductions are combined, exactly as in the single-thread path; the threads meet
 *   after every step;
 * - lookahead (`run(..., { lookahead: true })`, when the plan allows): the scalars of up to 1024 steps
 *   are computed first, then each tile runs through all of them on whichever thread claimed it, with
 *   no meeting between steps; reductions and host kernels after the tiles run for the last step only.
 * Per-tile reduction partials are combined in tile order, so results depend neither on the thread
 * count nor on the mode. Returns null when the memory cannot be had (too large, or no shared
 * WebAssembly memory).
 */
export function compileBatched(plan: Plan, info: BatchInfo, opts: BatchedOptions): Executable | null {
  const bytesOf = (b: number) => (plan.buffers[b].dtype === 'float64' ? 8 : 4);
  // tile size: about tileBytes of batched data per tile, and enough tiles to share out; never a
  // function of the thread count, so that reductions sum the same partials on any number of threads
  let perIndex = 0;
  info.roles.forEach((r, b) => {
    if (r === 'batched' || r === 'temp') perIndex += info.inner[b] * bytesOf(b);
  });
  let tile = Math.max(1, Math.floor(opts.tileBytes / Math.max(1, perIndex)));
  tile = Math.min(tile, Math.max(1, Math.ceil(info.batch / MIN_TILES)));
  tile = Math.max(tile, Math.ceil(info.batch / MAX_TILES));
  const tiles = Math.ceil(info.batch / tile);
  const R = info.reductions.length;

  // memory: shared and batched buffers, the partials table, then one scratch area per thread
  let at = 0;
  const offsets = plan.buffers.map((b, i) => {
    if (info.roles[i] === 'temp' || info.roles[i] === 'scalar') return -1;
    const o = at;
    at = align(at + b.size * bytesOf(i));
    return o;
  });
  const ptOffset = at;
  at = align(at + Math.max(1, tiles * R) * 8);
  const nScalars = plan.stepScalars.length;
  const tableOffset = at;
  const tableLength = Math.max(1, LOOKAHEAD * nScalars);
  at = align(at + tableLength * 8);
  let tmpSize = 0;
  const local = (b: number) => info.roles[b] === 'temp' || info.roles[b] === 'scalar';
  info.roles.forEach((r, b) => {
    if (!local(b)) return;
    offsets[b] = tmpSize;
    tmpSize = align(tmpSize + (r === 'temp' ? tile * info.inner[b] : plan.buffers[b].size) * bytesOf(b));
  });
  const layout: Layout = { tile, tiles, offsets, scratch: tmpSize };
  const simd = opts.simd?.(plan, info, layout) ?? null;
  const tmpStride = align(tmpSize + (simd?.scratchBytes ?? 0));
  const tmpBase = at;
  const total = tmpBase + opts.threads * tmpStride;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  if (pages > MAX_PAGES) return null;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null;
  }

  const program: LoadedProgram = {
    memory,
    module: simd?.module ?? null,
    source: tiledSource(plan, info, tile, simd?.bodies),
    views: plan.buffers.map((b, i) => ({
      offset: offsets[i],
      length: info.roles[i] === 'temp' ? tile * info.inner[i] : b.size,
      f64: b.dtype === 'float64',
      local: local(i),
    })),
    tmpBase,
    tmpStride,
    ptOffset,
    ptLength: Math.max(1, tiles * R),
    tableOffset,
    tableLength,
    tiles,
  };
  const code = runtime.instantiate(program, 0);
  const { PT, TB } = code;
  const views = code.V as FloatArray[];
  for (const c of plan.constants) views[c.buffer].set(c.data);
  // every thread's copy of each input that is thread-local (the step scalars)
  const copies = plan.buffers.map((b, i): FloatArray[] =>
    info.roles[i] !== 'scalar'
      ? [views[i]]
      : Array.from({ length: opts.threads }, (_, th) => {
          const at = tmpBase + th * tmpStride + offsets[i];
          return b.dtype === 'float64'
            ? new Float64Array(memory.buffer, at, b.size)
            : new Float32Array(memory.buffer, at, b.size);
        }),
  );
  const combine = new Function('V', 'PT', combineSource(info, tiles)) as (
    v: FloatArray[],
    pt: Float64Array,
  ) => void;
  const hostCode = (kernels: readonly number[]): (() => void) | null => {
    if (!kernels.length) return null;
    const { prelude, body, hostFunctions } = generateStep({ ...plan, kernels: kernels.map((i) => plan.kernels[i]) });
    const unpack = [
      ...views.map((_, i) => `const b${i} = B[${i}];`),
      ...hostFunctions.map((_, i) => `const f${i} = H[${i}];`),
    ].join('\n');
    return new Function('B', 'H', `${unpack}\n${prelude}\nreturn function host() {\n${body}\n};`)(
      views,
      hostFunctions,
    ) as () => void;
  };
  const pre = hostCode(info.pre);
  const post = hostCode(info.post);
  const scalarCopies = plan.stepScalars.map((b) => copies[b]);
  const S = new Float64Array(nScalars);

  let id = 0;
  let pool: WorkerPool | null = null;
  const io = programIO(plan, views);

  /** Runs one step (count 0) or `count` steps of every tile, sharing tiles with the pool's workers. */
  const shared = (ctrl: Int32Array, count: number) => {
    const g = (Atomics.load(ctrl, GEN) + 1) | 0; // only this thread writes GEN
    const ep = g & runtime.EPOCH;
    Atomics.store(ctrl, STEPS, count);
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, WORK, ep << runtime.SHIFT);
    Atomics.store(ctrl, GEN, g);
    Atomics.notify(ctrl, GEN);
    runtime.drain(ctrl, ep, tiles, code, count, opts.threads);
    let spins = 0;
    let d: number;
    while ((d = Atomics.load(ctrl, DONE)) < tiles) {
      if (++spins > 4000) Atomics.wait(ctrl, DONE, d, 2);
    }
  };
  const setScalars = (values: ArrayLike<number>, from: number) => {
    for (let j = 0; j < nScalars; j++) {
      const c = scalarCopies[j];
      for (let th = 0; th < c.length; th++) c[th][0] = values[from + j];
    }
  };

  /** Lockstep: beforeStep sees every step's outputs; the threads meet after every step. */
  const lockstep = (steps: number, before: Parameters<Executable['run']>[1], ctrl: Int32Array | null) => {
    for (let step = 0; step < steps; step++) {
      if (before !== undefined) {
        if (before(step, S) === false) return step;
        setScalars(S, 0);
      }
      if (pre) pre();
      if (ctrl) shared(ctrl, 0);
      else for (let t = 0; t < tiles; t++) code.tile(t);
      combine(views, PT);
      if (post) post();
    }
    return steps;
  };

  /**
   * Lookahead: every step's scalars are computed ahead (up to LOOKAHEAD steps at a time) and each
   * tile runs all of those steps in a row, on whichever thread claimed it: no meeting between steps.
   */
  const ahead = (steps: number, before: Parameters<Executable['run']>[1], ctrl: Int32Array | null) => {
    let ran = 0;
    while (ran < steps) {
      let count = Math.min(LOOKAHEAD, steps - ran);
      let stop = false;
      if (before !== undefined) {
        for (let s = 0; s < count; s++) {
          if (before(ran + s, S) === false) {
            count = s;
            stop = true;
            break;
          }
          TB.set(S, s * nScalars);
        }
      } else {
        // no beforeStep: the scalars keep their values
        for (let s = 0; s < count; s++)
          for (let j = 0; j < nScalars; j++) TB[s * nScalars + j] = scalarCopies[j][0][0];
      }
      if (count > 0) {
        if (ctrl) shared(ctrl, count);
        else for (let t = 0; t < tiles; t++) code.steps(t, count);
        setScalars(TB, (count - 1) * nScalars);
        ran += count;
      }
      if (stop) break;
    }
    if (ran > 0) {
      combine(views, PT);
      if (post) post();
    }
    return ran;
  };

  return {
    write: (i, values) => {
      for (const c of copies[io.input(i, values.length)]) c.set(values);
    },
    run: (steps, before, runOpts) => {
      io.check();
      // workers for long enough runs; a single step (eager ops, jit calls) never starts them
      let usePool = false;
      if (opts.threads > 1 && tiles > 1 && steps * info.work >= opts.parallelWork) {
        if (!pool) {
          pool = opts.pool();
          if (pool) id = pool.newId();
        }
        usePool = pool !== null && pool.size > 0 && (steps > 1 || pool.running > 0);
      }
      if (usePool) {
        pool!.load(id, program);
        pool!.begin(id);
      }
      const ctrl = usePool ? pool!.ctrl : null;
      let ran: number;
      try {
        ran = runOpts?.lookahead && info.free ? ahead(steps, before, ctrl) : lockstep(steps, before, ctrl);
      } finally {
        if (usePool) pool!.stop();
      }
      if (usePool) {
        const error = pool!.error();
        if (error) throw new MatgradError(`a CPU worker failed: ${error}`);
      }
      return ran;
    },
    read: io.read,
    readSync: io.readSync,
    view: io.view,
    dispose: () => {
      if (!io.dispose()) return;
      pool?.drop(id);
    },
  };
}
