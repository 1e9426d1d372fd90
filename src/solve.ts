import { Observable } from 'rxjs';
import * as F from './autograd/api.js';
import type { DType } from './autograd/dtype.js';
import { compile } from './autograd/compile.js';
import { fromProgramArgs, inputTensor, toProgramArgs } from './autograd/jit.js';
import type { Tensor } from './autograd/tensor.js';
import type { Backend, Executable } from './backends/backend.js';
import { type WebGpuBackend, webgpuBackend } from './backends/webgpu/index.js';
import { cpu } from './backends/cpu/index.js';
import { checkChoice, checkNumber, checkOptionsObject, describe } from './check.js';
import { MatgradError } from './errors.js';
import { adam } from './optimizers/adam.js';
import { type Lbfgs, LbfgsProgram } from './optimizers/lbfgs.js';
import { StepProgram, type StepWatch } from './optimizers/program.js';
import { takeFailure } from './linalg/status.js';
import type { Transform } from './optimizers/transform.js';
import { type AnyParams, checkObjective, initialValues, type Objective, type Params } from './problems/objective.js';

export type RunStatus = 'converged' | 'max-steps' | 'diverged' | 'stalled' | 'cancelled' | 'time-limit';

export interface SolveOptions {
  /** A gradient transform or L-BFGS (default: the problem's, else Adam lr 1e-2). */
  optimizer?: Transform | Lbfgs;
  /** Maximum steps (default: the problem's, else 1000). */
  steps?: number;
  /** Converged when the loss is ≤ tolerance (default: the problem's, else none). */
  tolerance?: number;
  /** Converged when ‖∇‖₂ ≤ gradTolerance (checked every step). */
  gradTolerance?: number;
  /** Stalled when the best loss has not improved by a relative 1e-12 for this many steps. */
  patience?: number;
  /** Stop with status 'time-limit' after this long (checked about every 10 ms, inside chunks too). */
  timeLimitMs?: number;
  /**
   * Steps per chunk: progress is emitted after each. Default 100. It changes only how often events
   * come: stops are decided every step, and a chunk runs in slices of about 10 ms with the event loop
   * (cancellation, timers) in between.
   */
  reportEvery?: number;
  /** 'auto': WebGPU when an adapter exists (and the problem runs there), else CPU. */
  backend?: 'cpu' | 'webgpu' | 'auto' | Backend;
  dtype?: DType;
  /** Shifts every parameter's initialization seed. */
  seed?: number;
  signal?: AbortSignal;
}

export interface Progress {
  readonly done: false;
  readonly step: number;
  readonly loss: number;
  readonly gradNorm: number;
  readonly lr: number;
  readonly elapsedMs: number;
  readonly metrics: Record<string, number>;
}

export interface SolveResult<P extends AnyParams = Params> {
  readonly done: true;
  readonly status: RunStatus;
  /** Steps run (for 'diverged', the step it happened at, which equals `divergedAt`). */
  readonly step: number;
  /** The loss of the last step run (NaN when none ran, e.g. a run cancelled before its first step). */
  readonly loss: number;
  readonly gradNorm: number;
  readonly elapsedMs: number;
  readonly params: P;
  /** Each metric's mean at the final parameters; NaN where it cannot be computed there. */
  readonly metrics: Record<string, number>;
  /** 'diverged': the step whose loss or updated parameters were not finite, or the step that threw. */
  readonly divergedAt?: number;
  /**
   * 'diverged': why — 'the loss is NaN' (or ±Infinity), 'a parameter is not finite after the update',
   * or the class and message of the error a step threw.
   */
  readonly cause?: string;
  /** First step whose loss was ≤ tolerance. */
  readonly stepsToTolerance?: number;
  /** Where it ran: 'cpu' or 'webgpu (adapter)'. */
  readonly backend: string;
  readonly timeToToleranceMs?: number;
}

export type SolveEvent<P extends AnyParams = Params> = Progress | SolveResult<P>;

const now = () => performance.now();
/** A macrotask turn: setImmediate in Node; a message in browsers (nested setTimeout(0) waits ≥ 4 ms). */
const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else if (typeof MessageChannel === 'function') {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    } else setTimeout(resolve, 0);
  });

function resolveBackend(b: SolveOptions['backend']): Backend {
  if (b === undefined || b === 'cpu') return cpu;
  if (typeof b === 'object' && typeof b.compile === 'function') return b;
  throw new MatgradError(`solve: unknown backend ${JSON.stringify(b)}; use 'cpu', 'webgpu', 'auto' or a Backend`);
}

/** Describes a backend for results: 'cpu', or 'webgpu (vendor / architecture / description)'. */
const backendLabel = (b: Backend): string =>
  b.name === 'webgpu' && 'describeAdapter' in b ? `webgpu (${(b as WebGpuBackend).describeAdapter()})` : b.name;

/**
 * Creates a run on the requested backend, in the requested dtype: problems from specs are rebuilt in
 * it (their data, defaults and tolerances follow). WebGPU runs float32; 'auto' falls back to the CPU
 * when no adapter exists or the problem uses ops WebGPU lacks.
 */
async function createRun(objective: Objective<AnyParams>, opts: SolveOptions): Promise<Run> {
  const b = opts.backend;
  if (b !== 'webgpu' && b !== 'auto') return new Run(inDType(objective, opts.dtype), opts);
  const gpu = await webgpuBackend();
  if (!gpu) {
    if (b === 'webgpu') throw new MatgradError("solve: backend 'webgpu' was requested but no WebGPU adapter was found");
    return new Run(inDType(objective, opts.dtype), { ...opts, backend: cpu });
  }
  const dtype = opts.dtype ?? 'float32';
  try {
    return new Run(inDType(objective, dtype), { ...opts, backend: gpu, dtype });
  } catch (e) {
    if (b === 'webgpu' || !(e instanceof MatgradError)) throw e;
    return new Run(inDType(objective, opts.dtype), { ...opts, backend: cpu }); // e.g. linear algebra without WGSL kernels yet
  }
}

/** The objective in `dtype`: rebuilt when it can be (problems from specs) and is not in it already. */
function inDType(objective: Objective<AnyParams>, dtype: DType | undefined): Objective<AnyParams> {
  if (!dtype || !objective.withDType) return objective;
  const realOf = (d: string | undefined) => (d === 'complex64' ? 'float32' : d === 'complex128' || d === undefined ? 'float64' : d);
  const current = Object.values(objective.params).map((p) => realOf(p.dtype));
  return current.every((d) => d === dtype) ? objective : objective.withDType(dtype);
}

// every SolveOptions key (the type makes this list complete): any other key is a misspelling
const SOLVE_OPTIONS = Object.keys({
  optimizer: 1, steps: 1, tolerance: 1, gradTolerance: 1, patience: 1, timeLimitMs: 1, reportEvery: 1, backend: 1, dtype: 1, seed: 1, signal: 1,
} satisfies Record<keyof SolveOptions, 1>);

/** True for a gradient transform or L-BFGS (what `optimizer` takes). */
const isOptimizer = (v: unknown): v is Transform | Lbfgs => {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  if (o.kind === 'lbfgs') return typeof o.options === 'object' && o.options !== null;
  return ['slots', 'writeScalars', 'update'].every((k) => typeof o[k] === 'function') && Number.isSafeInteger(o.scalarCount) && (o.scalarCount as number) >= 0;
};

function checkOptions(opts: SolveOptions, owner = 'solve'): void {
  const o = checkOptionsObject<SolveOptions>(owner, opts, SOLVE_OPTIONS);
  const positiveInt = (name: keyof SolveOptions) => {
    const v = o[name];
    if (v !== undefined && (!Number.isSafeInteger(v) || (v as number) < 1)) {
      throw new MatgradError(`${owner}: ${name} must be a positive integer, got ${describe(v)}`);
    }
  };
  positiveInt('steps');
  positiveInt('reportEvery');
  positiveInt('patience');
  // a loss may be negative (λ_min's is −λ), so its tolerance may be too
  if (o.tolerance !== undefined) checkNumber(owner, 'tolerance', o.tolerance);
  for (const name of ['gradTolerance', 'timeLimitMs'] as const) {
    const v = o[name];
    if (v !== undefined && !(typeof v === 'number' && v >= 0))
      throw new MatgradError(`${owner}: ${name} must be a non-negative number, got ${describe(v)}`);
  }
  if (o.optimizer !== undefined && !isOptimizer(o.optimizer))
    throw new MatgradError(`${owner}: optimizer must be a gradient transform (mg.optimizers.adam(...), sgd(...), ...) or mg.optimizers.lbfgs(...), got ${describe(o.optimizer)}`);
  const b = o.backend as unknown;
  if (b !== undefined && b !== 'cpu' && b !== 'webgpu' && b !== 'auto' && typeof (b as Backend | null)?.compile !== 'function')
    throw new MatgradError(`${owner}: unknown backend ${describe(b)}; use 'cpu', 'webgpu', 'auto' or a Backend`);
  if (o.dtype !== undefined) checkChoice(owner, 'dtype', o.dtype, ['float64', 'float32']);
  if (o.seed !== undefined) checkNumber(owner, 'seed', o.seed, { integer: true });
  if (o.signal !== undefined && typeof (o.signal as { aborted?: unknown } | null)?.aborted !== 'boolean')
    throw new MatgradError(`${owner}: signal must be an AbortSignal, got ${describe(o.signal)}`);
}

/**
 * Work between two looks at the clock, the abort signal and the event loop: a chunk of `reportEvery`
 * steps runs as slices of about this long, so a cancel or a time limit lands within a slice whatever
 * `reportEvery` is (on WebGPU a slice is one submit).
 */
const SLICE_MS = 10;

/**
 * One run of an objective as a stepwise state machine: `advance()` runs one chunk and returns a
 * progress event or the final result. solve() drives one, compare() several in lockstep.
 *
 * Every stop is decided at the step it happens, so the outcome (status, step, divergedAt) does not
 * depend on `reportEvery`: each step's loss, ‖∇‖ and the finiteness of the updated parameters are
 * watched on the CPU (on WebGPU at the end of each submit). A step that throws (a host-side solver
 * inside the program, a schedule rejecting its value) ends the run as 'diverged' at that step, with
 * the error in `cause`. A metric that cannot be computed is NaN in that event.
 */
export class Run {
  private readonly program: StepProgram | LbfgsProgram;
  private readonly names: string[];
  private readonly metricNames: string[] = [];
  private readonly metricsProgram: MetricsProgram | null;
  private readonly steps: number;
  /** Converged at a loss ≤ this (the option, else the problem's default; none when both are unset). */
  private readonly tolerance: number | undefined;
  private readonly reportEvery: number;
  private readonly started = now();
  private best = Infinity;
  private bestAt = 0;
  private status: RunStatus | null = null;
  private readonly toParams: (ts: readonly Tensor[]) => AnyParams;
  private divergedAt?: number;
  private stepsToTolerance?: number;
  private timeToToleranceMs?: number;
  private cause?: string;
  /** The loss and ‖∇‖ of the last step run (NaN before the first). */
  private loss = Number.NaN;
  private gradNorm = Number.NaN;
  /** The parameters last read (the initial values before the first read). */
  private params: Tensor[];
  /** Steps per slice, tuned to about SLICE_MS. */
  private slice = 1;
  private cancelled = false;

  constructor(
    private readonly objective: Objective<AnyParams>,
    private readonly opts: SolveOptions,
  ) {
    checkOptions(opts);
    const backend = resolveBackend(opts.backend);
    this.backend = backendLabel(backend);
    const dtype = opts.dtype ?? (backend.name === 'webgpu' ? 'float32' : undefined);
    const init = initialValues(objective, { dtype, seedOffset: opts.seed });
    this.names = Object.keys(objective.params);
    const opt = opts.optimizer ?? objective.defaults?.optimizer?.() ?? adam({ lr: 1e-2 });
    // complex parameters travel as their real views (optimizers step them like torch.optim does)
    const { reals: initial, tag } = toProgramArgs(this.names.map((n) => init[n]));
    this.params = initial;
    const toParams = (ts: readonly Tensor[]): AnyParams => {
      const values = fromProgramArgs(ts, tag);
      return Object.fromEntries(this.names.map((n, i) => [n, values[i]]));
    };
    this.toParams = toParams;
    const loss = (...ps: Tensor[]) => objective.loss(toParams(ps));
    const constraints = this.names.map((n) => objective.params[n].constraint);
    if ('kind' in opt && opt.kind === 'lbfgs') {
      if (backend.name !== 'cpu') throw new MatgradError('solve: lbfgs runs on the CPU backend');
      if (constraints.some(Boolean)) throw new MatgradError('solve: lbfgs does not support parameter constraints; use a gradient transform');
      this.program = new LbfgsProgram(initial, loss, opt);
    } else {
      // the program steps its own started copy of the transform (schedule state belongs to the run)
      this.program = new StepProgram(initial, loss, opt as Transform, { backend, constraints, finiteCheck: true });
    }
    this.steps = opts.steps ?? objective.defaults?.steps ?? 1000;
    this.tolerance = opts.tolerance ?? objective.defaults?.tolerance;
    this.reportEvery = opts.reportEvery ?? 100;
    const metrics = objective.metrics;
    this.metricsProgram = metrics
      ? new MetricsProgram(initial, (ps) => {
          const m = metrics(toParams(ps));
          this.metricNames.push(...Object.keys(m));
          return this.metricNames.map((k) => F.reshape(F.mean(m[k]), []));
        })
      : null;
  }
  private readonly backend: string;

  get done(): boolean {
    return this.status !== null;
  }
  get step(): number {
    return this.program.t;
  }

  /**
   * Runs the next chunk (up to `reportEvery` steps, in slices of about SLICE_MS between which the
   * event loop runs); returns its progress event, or the final result when the run ends.
   */
  advance(signal?: AbortSignal): Promise<SolveEvent<AnyParams>> {
    if (this.status) throw new MatgradError('run already finished');
    return this.busyWith(() => this.chunk(signal));
  }

  /** Ends the run now with `status` (cancellation); frees its buffers. */
  finish(status: RunStatus): Promise<SolveResult<AnyParams>> {
    return this.busyWith(async () => {
      this.status = status;
      await this.readParams();
      return this.result(this.computeMetrics(this.params));
    });
  }

  private async busyWith<T>(f: () => Promise<T>): Promise<T> {
    this.busy = true;
    try {
      return await f();
    } finally {
      this.busy = false;
      if (this.releaseRequested) this.release();
    }
  }

  private async chunk(signal?: AbortSignal): Promise<SolveEvent<AnyParams>> {
    const target = Math.min(this.program.t + this.reportEvery, this.steps);
    const { timeLimitMs } = this.opts;
    let yielded = now();
    while (!this.status) {
      if (this.program.t >= this.steps) this.status = 'max-steps';
      else if (signal?.aborted || this.cancelled) this.status = 'cancelled';
      else if (timeLimitMs !== undefined && now() - this.started >= timeLimitMs) this.status = 'time-limit';
      else if (this.program.t >= target) break;
      else {
        await this.runSlice(target - this.program.t);
        if (now() - yielded >= SLICE_MS) {
          await yieldToEventLoop(); // lets an abort, an unsubscribe or a timer in
          yielded = now();
        }
      }
    }
    await this.readParams();
    const metrics = this.computeMetrics(this.params);
    if (this.status) return this.result(metrics);
    return {
      done: false,
      step: this.program.t,
      loss: this.loss,
      gradNorm: this.gradNorm,
      lr: this.lr(),
      elapsedMs: now() - this.started,
      metrics,
    };
  }

  /** Runs up to `maxSteps` steps, as many as fit in about SLICE_MS, watching each. */
  private async runSlice(maxSteps: number): Promise<void> {
    const n = Math.min(this.slice, maxSteps);
    const t0 = now();
    const before = this.program.t;
    try {
      await this.program.advance(n, this.watch);
    } catch (e) {
      this.fail(e, this.program.t + 1);
      return;
    }
    const ran = this.program.t - before;
    // aim the next slice at SLICE_MS; grow at most 4× at once (the first steps pay for warm-up)
    if (ran === n) this.slice = Math.max(1, Math.min(4 * n, Math.floor((n * SLICE_MS) / Math.max(now() - t0, 1e-3))));
  }

  /** Sees every step (on WebGPU every submit's last); returns true to stop the run there. */
  private readonly watch: StepWatch = (t, loss, { gradNorm, paramsFinite }) => {
    this.loss = loss;
    this.gradNorm = gradNorm;
    if (!Number.isFinite(loss) || !paramsFinite) {
      this.divergedAt = t;
      this.cause = Number.isFinite(loss) ? 'a parameter is not finite after the update' : `the loss is ${loss}`;
      this.status = 'diverged';
      return true;
    }
    if (loss < this.best * (1 - 1e-12)) {
      this.best = loss;
      this.bestAt = t;
    }
    const reached = this.tolerance !== undefined && loss <= this.tolerance;
    if (reached) {
      this.stepsToTolerance ??= t;
      this.timeToToleranceMs ??= now() - this.started;
    }
    if (reached || (this.opts.gradTolerance !== undefined && gradNorm <= this.opts.gradTolerance)) {
      this.status = 'converged';
      return true;
    }
    if (this.opts.patience !== undefined && t - this.bestAt >= this.opts.patience) {
      this.status = 'stalled';
      return true;
    }
    return false;
  };

  /** A thrown error inside the run ends it as 'diverged' at `step`, the error as its cause. */
  private fail(e: unknown, step: number): void {
    this.status = 'diverged';
    this.divergedAt ??= step;
    this.cause ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }

  /** The next step's learning rate; NaN when the schedule cannot give one (that step will fail). */
  private lr(): number {
    try {
      return this.program.lr();
    } catch {
      return Number.NaN;
    }
  }

  /** Reads the parameters back (a read that fails ends the run; the last ones read are kept). */
  private async readParams(): Promise<void> {
    try {
      this.params = (await this.program.read()).params;
    } catch (e) {
      this.fail(e, this.program.t);
    }
  }

  private computeMetrics(params: Tensor[]): Record<string, number> {
    if (!this.metricsProgram) return {};
    const values = this.metricsProgram.evaluate(params);
    return Object.fromEntries(this.metricNames.map((k, i) => [k, values[i]]));
  }

  private result(metrics: Record<string, number>): SolveResult<AnyParams> {
    this.release();
    return {
      done: true,
      status: this.status!,
      // a step that threw counts as the run's last step, as a step whose loss was not finite does
      step: Math.max(this.program.t, this.divergedAt ?? 0),
      loss: this.loss,
      gradNorm: this.gradNorm,
      elapsedMs: now() - this.started,
      params: this.toParams(this.params),
      metrics,
      divergedAt: this.divergedAt,
      cause: this.cause,
      stepsToTolerance: this.stepsToTolerance,
      timeToToleranceMs: this.timeToToleranceMs,
      backend: this.backend,
    };
  }

  /**
   * Frees the run's buffers. During an `advance` (an unsubscribe from inside the loop's await) it
   * cancels the run instead: the advance ends within a slice and frees them then.
   */
  dispose(): void {
    this.cancelled = true;
    if (this.busy) this.releaseRequested = true;
    else this.release();
  }
  private busy = false;
  private releaseRequested = false;
  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.program.dispose();
    this.metricsProgram?.dispose();
  }
}

/**
 * A run's metrics, one compiled CPU program: each value is the mean of a metric. A metric that cannot
 * be computed is NaN: a failing linear-algebra kernel gives NaN outputs; when the program throws (a
 * host-side solver), each metric is computed on its own and those that throw are NaN.
 */
class MetricsProgram {
  private readonly inputs: Tensor[];
  private readonly outputs: Tensor[];
  private readonly exe: Executable;
  private single: Executable[] | null = null;

  constructor(initial: readonly Tensor[], build: (ps: Tensor[]) => Tensor[]) {
    this.inputs = initial.map((p) => inputTensor(p.shape, p.dtype));
    this.outputs = build(this.inputs);
    this.exe = cpu.compile(compile(this.inputs, this.outputs));
  }

  evaluate(params: readonly Tensor[]): number[] {
    try {
      return runOnce(this.exe, params, this.outputs.length);
    } catch {
      this.single ??= this.outputs.map((o) => cpu.compile(compile(this.inputs, [o])));
      return this.single.map((exe) => {
        try {
          return runOnce(exe, params, 1)[0];
        } catch {
          return Number.NaN;
        }
      });
    } finally {
      takeFailure(); // kernel failures are NaN here, not errors for the next eager call
    }
  }

  dispose(): void {
    this.exe.dispose();
    for (const exe of this.single ?? []) exe.dispose();
  }
}

function runOnce(exe: Executable, params: readonly Tensor[], outputs: number): number[] {
  params.forEach((p, i) => exe.write(i, p.dataSync()));
  exe.run(1);
  return Array.from({ length: outputs }, (_, o) => exe.view(o)[0]);
}

/**
 * Minimizes an objective. A cold Observable: each subscription is one run that emits a progress
 * event every `reportEvery` steps and ends with `{ done: true, status, params, metrics, ... }`.
 * Unsubscribing or aborting `signal` cancels it: no further step runs and its buffers are freed.
 */
export function solve<P extends AnyParams = Params>(objective: Objective<P>, options: SolveOptions = {}): Observable<SolveEvent<P>> {
  checkObjective('solve', objective);
  checkOptions(options);
  // the run is untyped inside (AnyParams); its params are the objective's, so P holds
  return new Observable<SolveEvent<AnyParams>>((subscriber) => {
    let stopped = false;
    let run: Run | null = null;
    (async () => {
      run = await createRun(objective, options);
      if (stopped) {
        run.dispose(); // unsubscribed while the run was being created
        return;
      }
      while (!stopped) {
        const event = await run.advance(options.signal);
        if (stopped) break;
        subscriber.next(event);
        if (event.done) {
          subscriber.complete();
          return;
        }
        await yieldToEventLoop();
      }
    })().catch((err) => {
      run?.dispose();
      if (!stopped) subscriber.error(err);
    });
    return () => {
      stopped = true;
      run?.dispose();
    };
  }) as Observable<SolveEvent<P>>;
}

export interface CompareSummary {
  readonly run: string;
  readonly status: RunStatus;
  readonly finalLoss: number;
  readonly steps: number;
  readonly stepsToTolerance?: number;
  readonly timeToToleranceMs?: number;
  readonly elapsedMs: number;
}

export type CompareEvent<P extends AnyParams = Params> =
  | (SolveEvent<P> & { readonly run: string })
  | { readonly done: true; readonly run: null; readonly summary: CompareSummary[] };

/**
 * Runs several optimizers on the same objective from the same initial values, interleaved chunk by
 * chunk so their curves grow together. Events carry the run name; the last event is a summary.
 */
export function compare<P extends AnyParams = Params>(
  runs: Record<string, Transform | Lbfgs | SolveOptions>,
  objective: Objective<P>,
  options: SolveOptions = {},
): Observable<CompareEvent<P>> {
  if (runs === null || typeof runs !== 'object' || Array.isArray(runs)) throw new MatgradError(`compare: runs must be an object of named optimizers or options, got ${describe(runs)}`);
  const entries = Object.entries(runs);
  if (!entries.length) throw new MatgradError('compare: give at least one run');
  checkObjective('compare', objective);
  checkOptions(options, 'compare');
  const optsFor = (v: Transform | Lbfgs | SolveOptions): SolveOptions =>
    isOptimizer(v) ? { ...options, optimizer: v } : { ...options, ...v };
  for (const [name, v] of entries) {
    if (!isOptimizer(v) && (v === null || typeof v !== 'object' || Array.isArray(v)))
      throw new MatgradError(`compare: run '${name}' must be an optimizer or solve options, got ${describe(v)}`);
    checkOptions(optsFor(v), `compare: run '${name}'`);
  }
  return new Observable<CompareEvent<AnyParams>>((subscriber) => {
    let stopped = false;
    const active = new Map<string, Run>();
    (async () => {
      for (const [name, v] of entries) {
        const run = await createRun(objective, optsFor(v));
        if (stopped) {
          run.dispose();
          for (const r of active.values()) r.dispose();
          return;
        }
        active.set(name, run);
      }
      const summary: CompareSummary[] = [];
      while (!stopped && active.size) {
        for (const [name, run] of [...active]) {
          const event = await run.advance(options.signal);
          if (stopped) return;
          subscriber.next({ ...event, run: name });
          if (event.done) {
            active.delete(name);
            summary.push({
              run: name,
              status: event.status,
              finalLoss: event.loss,
              steps: event.step,
              stepsToTolerance: event.stepsToTolerance,
              timeToToleranceMs: event.timeToToleranceMs,
              elapsedMs: event.elapsedMs,
            });
          }
        }
        await yieldToEventLoop();
      }
      if (stopped) return;
      summary.sort(
        (a, b) => entries.findIndex(([n]) => n === a.run) - entries.findIndex(([n]) => n === b.run),
      );
      subscriber.next({ done: true, run: null, summary });
      subscriber.complete();
    })().catch((err) => {
      for (const r of active.values()) r.dispose();
      if (!stopped) subscriber.error(err);
    });
    return () => {
      stopped = true;
      for (const r of active.values()) r.dispose();
    };
  }) as Observable<CompareEvent<P>>;
}
