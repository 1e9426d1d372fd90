import type { FloatArray } from '../autograd/dtype.js';
import type { Plan } from '../autograd/plan.js';

/** The narrow interface every backend implements: compile a plan, then write, run and read it. */
export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  compile(plan: Plan): Executable;
  /** Buffer accounting, for leak and allocation tests. */
  stats(): BackendStats;
}

export interface BackendStats {
  /** Buffers currently allocated. */
  readonly liveBuffers: number;
  /** Buffers allocated since the backend was created (never decreases). */
  readonly allocations: number;
  readonly liveBytes: number;
}

export interface RunOptions {
  /**
   * The caller promises that `beforeStep` reads no output of the program (its scalars depend on the
   * step number alone), so the backend may call it ahead for many steps and run those steps without
   * returning to the caller in between (the CPU backend's batched programs then skip per-step
   * synchronization between threads).
   */
  readonly lookahead?: boolean;
}

/** A compiled plan with its buffers. A step is one pass over the plan's kernels. */
export interface Executable {
  /** Copies values into program input `i`. */
  write(i: number, values: ArrayLike<number>): void;
  /**
   * Runs up to `steps` steps and returns how many ran. Before each, `beforeStep(s, scalars)` fills
   * `scalars` (one slot per step scalar of the plan, in order), which become those inputs for that
   * step; returning `false` stops before step s.
   */
  run(
    steps: number,
    beforeStep?: (step: number, scalars: Float64Array) => boolean | undefined,
    options?: RunOptions,
  ): number;
  /** A copy of program output `o`. */
  read(o: number): Promise<FloatArray>;
  /** CPU only: a copy of output `o`, synchronously. */
  readSync(o: number): FloatArray;
  /** CPU only: the live buffer behind output `o` (no copy; valid until the next run or dispose). */
  view(o: number): FloatArray;
  /** Frees every buffer; the executable cannot run again. */
  dispose(): void;
}
