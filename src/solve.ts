import { Observable } from 'rxjs';
import * as F from './autograd/api.js';
import type { DType } from './autograd/dtype.js';
import { fromProgramArgs, type Jitted, jit, toProgramArgs } from './autograd/jit.js';
import type { Tensor } from './autograd/tensor.js';
import type { Backend } from './backends/backend.js';
import { type WebGpuBackend, webgpuBackend } from './backends/webgpu/index.js';
import { cpu } from './backends/cpu/index.js';
import { MatgradError } from './errors.js';
import { adam } from './optimizers/adam.js';
import { type Lbfgs, LbfgsProgram } from './optimizers/lbfgs.js';
import { StepProgram } from './optimizers/program.js';
import type { Transform } from './optimizers/transform.js';
import { type AnyParams, initialValues, type Objective, type Params } from './problems/objective.js';

export type RunStatus = 'converged' | 'max-steps' | 'diverged' | 'stalled' | 'cancelled' | 'time-limit';

export interface SolveOptions {
  /** A gradient transform or L-BFGS (default: the problem's, else Adam lr 1e-2). */
  optimizer?: Transform | Lbfgs;
  /** Maximum steps (default: the problem's, else 1000). */
  steps?: number;
  /** Converged when the loss is ≤ tolerance (default: the problem's, else none). */
  tolerance?: number;
  /** Converged when ‖∇‖₂ ≤ gradTolerance (checked at report points). */
  gradTolerance?: number;
  /** Stalled when the best loss has not improved by a relative 1e-12 for this many steps. */
  patience?: number;
  /** Stop with status 'time-limit' after this long. */
  timeLimitMs?: number;
  /** Steps per chunk: progress is emitted (and the event loop yielded to) after each. Default 100. */
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
  /** Steps completed. */
  readonly step: number;
  readonly loss: number;
  readonly gradNorm: number;
  readonly elapsedMs: number;
  readonly params: P;
  readonly metrics: Record<string, number>;
  /** Step at which the loss or parameters became non-finite (status 'diverged'). */
  readonly divergedAt?: number;
  /** First step whose loss was ≤ tolerance. */
  readonly stepsToTolerance?: number;
  /** Where it ran: 'cpu' or 'webgpu (adapter)'. */
  readonly backend: string;
  readonly timeToToleranceMs?: number;
}

export type SolveEvent<P extends AnyParams = Params> = Progress | SolveResult<P>;

const now = () => performance.now();
const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );

function resolveBackend(b: SolveOptions['backend']): Backend {
  if (b === undefined || b === 'cpu') return cpu;
  if (typeof b === 'object' && typeof b.compile === 'function') return b;
  throw new MatgradError(`solve: unknown backend ${JSON.stringify(b)}; use 'cpu', 'webgpu', 'auto' or a Backend`);
}

/** Describes a backend for results: 'cpu', or 'webgpu (vendor / architecture / description)'. */
const backendLabel = (b: Backend): string =>
  b.name === 'webgpu' && 'describeAdapter' in b ? `webgpu (${(b as WebGpuBackend).describeAdapter()})` : b.name;

/**
 * Creates a run on the requested backend. WebGPU runs float32 (the problem is rebuilt in float32 when
 * it can be); 'auto' falls back to the CPU when no adapter exists or the problem uses ops WebGPU lacks.
 */
async function createRun(objective: Objective<AnyParams>, opts: SolveOptions): Promise<Run> {
  const b = opts.backend;
  if (b !== 'webgpu' && b !== 'auto') return new Run(objective, opts);
  const gpu = await webgpuBackend();
  if (!gpu) {
    if (b === 'webgpu') throw new MatgradError("solve: backend 'webgpu' was requested but no WebGPU adapter was found");
    return new Run(objective, { ...opts, backend: cpu });
  }
  const dtype = opts.dtype ?? 'float32';
  try {
    return new Run(objective.withDType?.(dtype) ?? objective, { ...opts, backend: gpu, dtype });
  } catch (e) {
    if (b === 'webgpu' || !(e instanceof MatgradError)) throw e;
    return new Run(objective, { ...opts, backend: cpu }); // e.g. linear algebra without WGSL kernels yet
  }
}

function checkOptions(o: SolveOptions): void {
  const positiveInt = (name: keyof SolveOptions) => {
    const v = o[name];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) {
      throw new MatgradError(`solve: ${name} must be a positive integer, got ${String(v)}`);
    }
  };
  positiveInt('steps');
  positiveInt('reportEvery');
  positiveInt('patience');
  for (const name of ['tolerance', 'gradTolerance', 'timeLimitMs'] as const) {
    const v = o[name];
    if (v !== undefined && !(typeof v === 'number' && v >= 0))
      throw new MatgradError(`solve: ${name} must be a non-negative number, got ${String(v)}`);
  }
}

/**
 * One run of an objective as a stepwise state machine: `advance()` runs one chunk and returns a
 * progress event or the final result. solve() drives one, compare() several in lockstep.
 */
export class Run {
  private readonly program: StepProgram | LbfgsProgram;
  private readonly names: string[];
  private readonly metricsFn: Jitted<(...ps: Tensor[]) => Tensor | readonly Tensor[]> | null;
  private readonly metricNames: string[];
  private readonly steps: number;
  private readonly reportEvery: number;
  private readonly started = now();
  private best = Infinity;
  private bestAt = 0;
  private status: RunStatus | null = null;
  private readonly toParams: (ts: readonly Tensor[]) => AnyParams;
  private divergedAt?: number;
  private stepsToTolerance?: number;
  private timeToToleranceMs?: number;

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
      this.program = new StepProgram(initial, loss, opt as Transform, { backend, constraints });
    }
    this.steps = opts.steps ?? objective.defaults?.steps ?? 1000;
    this.reportEvery = opts.reportEvery ?? 100;
    const metrics = objective.metrics;
    this.metricNames = [];
    if (metrics) {
      const probe = metrics(init);
      this.metricNames = Object.keys(probe);
      this.metricsFn = jit((...ps: Tensor[]) => {
        const m = metrics(toParams(ps));
        return this.metricNames.map((k) => F.reshape(F.mean(m[k]), []));
      });
    } else this.metricsFn = null;
  }
  private readonly backend: string;

  get done(): boolean {
    return this.status !== null;
  }
  get step(): number {
    return this.program.t;
  }

  /** Runs the next chunk; returns its progress event, or the final result when the run ends. */
  async advance(signal?: AbortSignal): Promise<SolveEvent<AnyParams>> {
    if (this.status) throw new MatgradError('run already finished');
    if (signal?.aborted) return this.finish('cancelled');
    const tolerance = this.opts.tolerance ?? this.objective.defaults?.tolerance;
    const patience = this.opts.patience;
    const chunk = Math.min(this.reportEvery, this.steps - this.program.t);
    const watch = (t: number, loss: number): boolean => {
      if (!Number.isFinite(loss)) {
        this.divergedAt = t;
        this.status = 'diverged';
        return true;
      }
      if (loss < this.best * (1 - 1e-12)) {
        this.best = loss;
        this.bestAt = t;
      }
      if (tolerance !== undefined && loss <= tolerance) {
        this.stepsToTolerance ??= t;
        this.timeToToleranceMs ??= now() - this.started;
        this.status = 'converged';
        return true;
      }
      if (patience !== undefined && t - this.bestAt >= patience) {
        this.status = 'stalled';
        return true;
      }
      return false;
    };
    this.program.run(chunk, watch);
    const { loss, gradNorm, params } = await this.program.read();
    if (!this.status) {
      if (!Number.isFinite(loss) || !params.every((p) => allFinite(p))) {
        this.divergedAt ??= this.program.t;
        this.status = 'diverged';
      } else if (this.opts.gradTolerance !== undefined && gradNorm <= this.opts.gradTolerance)
        this.status = 'converged';
      else if (this.opts.timeLimitMs !== undefined && now() - this.started >= this.opts.timeLimitMs)
        this.status = 'time-limit';
      else if (this.program.t >= this.steps) this.status = 'max-steps';
    }
    const metrics = this.computeMetrics(params);
    if (this.status) return this.result(loss, gradNorm, params, metrics);
    return {
      done: false,
      step: this.program.t,
      loss,
      gradNorm,
      lr: this.program.lr(),
      elapsedMs: now() - this.started,
      metrics,
    };
  }

  private computeMetrics(params: Tensor[]): Record<string, number> {
    if (!this.metricsFn) return {};
    const values = this.metricsFn(...params) as Tensor[];
    return Object.fromEntries(this.metricNames.map((k, i) => [k, values[i].item()]));
  }

  /** Ends the run early (cancellation); frees its buffers. */
  async finish(status: RunStatus): Promise<SolveResult<AnyParams>> {
    this.status = status;
    const { loss, gradNorm, params } = await this.program.read();
    return this.result(loss, gradNorm, params, this.computeMetrics(params));
  }

  private result(loss: number, gradNorm: number, ps: Tensor[], metrics: Record<string, number>): SolveResult<AnyParams> {
    this.dispose();
    return {
      done: true,
      status: this.status!,
      step: this.program.t,
      loss,
      gradNorm,
      elapsedMs: now() - this.started,
      params: this.toParams(ps),
      metrics,
      divergedAt: this.divergedAt,
      stepsToTolerance: this.stepsToTolerance,
      timeToToleranceMs: this.timeToToleranceMs,
      backend: this.backend,
    };
  }

  private disposed = false;
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.program.dispose();
    this.metricsFn?.dispose();
  }
}

function allFinite(t: Tensor): boolean {
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

/**
 * Minimizes an objective. A cold Observable: each subscription is one run that emits a progress
 * event every `reportEvery` steps and ends with `{ done: true, status, params, metrics, ... }`.
 * Unsubscribing or aborting `signal` cancels it: no further step runs and its buffers are freed.
 */
export function solve<P extends AnyParams = Params>(objective: Objective<P>, options: SolveOptions = {}): Observable<SolveEvent<P>> {
  if (objective?.kind !== 'objective')
    throw new MatgradError(
      'solve: expected a problem (mg.problem(spec)) or an objective (mg.objective(...))',
    );
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
        const event = options.signal?.aborted
          ? await run.finish('cancelled')
          : await run.advance(options.signal);
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
  const entries = Object.entries(runs);
  if (!entries.length) throw new MatgradError('compare: give at least one run');
  const isOptimizer = (v: object): v is Transform | Lbfgs =>
    ('update' in v && typeof v.update === 'function') || ('kind' in v && v.kind === 'lbfgs');
  const optsFor = (v: Transform | Lbfgs | SolveOptions): SolveOptions =>
    isOptimizer(v) ? { ...options, optimizer: v } : { ...options, ...v };
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
          const event = options.signal?.aborted
            ? await run.finish('cancelled')
            : await run.advance(options.signal);
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
