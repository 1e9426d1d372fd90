import * as F from '../autograd/api.js';
import { compile } from '../autograd/compile.js';
import { backward } from '../autograd/grad.js';
import { inputTensor, outputsOf } from '../autograd/jit.js';
import { fromArray, ones, type Tensor } from '../autograd/tensor.js';
import type { Backend, Executable } from '../backends/backend.js';
import { cpu } from '../backends/cpu/index.js';
import { MatgradError, MatgradShapeError } from '../errors.js';
import { startTransform, type Transform } from './transform.js';

/** The loss as a function of the parameters. */
export type LossFn = (...params: Tensor[]) => Tensor;

/** A per-parameter constraint, applied inside the compiled step. */
export interface Constraint {
  readonly name: string;
  /** Riemannian gradient: project the Euclidean gradient onto the tangent space at p (optional). */
  projectGrad?(p: Tensor, g: Tensor): Tensor;
  /** Maps the updated point back onto the constraint set (a retraction or projection). */
  retract(p: Tensor): Tensor;
  /** Projects an arbitrary starting point onto the set (default: `retract`). */
  init?(p: Tensor): Tensor;
}

export interface StepProgramOptions {
  backend?: Backend;
  /** Also compute ‖∇‖₂ over all parameters each step (read with `gradNorm()`). Default true. */
  gradNorm?: boolean;
  /** Per parameter (same order), an optional constraint. */
  constraints?: readonly (Constraint | undefined)[];
  /**
   * Also check every step that the updated parameters are finite (one reduction over them), so a
   * watch sees a blow-up at the step it happens (`paramsFinite`). Default false.
   */
  finiteCheck?: boolean;
}

/** What a watch learns about step t besides its loss. */
export interface StepInfo {
  /** ‖∇‖₂ at the step (NaN when not computed). */
  readonly gradNorm: number;
  /** False when the parameters after the step hold a NaN or ±∞ (true when not checked). */
  readonly paramsFinite: boolean;
}

/** Called after every completed step t with its loss; return true to stop there (CPU: every step). */
export type StepWatch = (t: number, loss: number, info: StepInfo) => boolean;

/**
 * One optimization step compiled as a single program: loss, gradients, the optimizer's update, the
 * constraints and the parameter write-back, all in place over preallocated buffers. `run(n)` executes
 * n steps with no allocation; `loss()` is the loss computed at the last step (before its update).
 */
export class StepProgram {
  /** Completed steps. */
  t = 0;
  private readonly exe: Executable;
  private readonly shapes: readonly (readonly number[])[];
  private readonly gradNormOut: number;
  private readonly finiteOut: number;
  private readonly paramsOut: number;
  private readonly sync: boolean;
  /** This program's own copy of the transform: its host-side state (schedules) belongs to this run. */
  private readonly tx: Transform;

  constructor(initial: readonly Tensor[], loss: LossFn, transform: Transform, opts: StepProgramOptions = {}) {
    const tx = startTransform(transform);
    this.tx = tx;
    const backend = opts.backend ?? cpu;
    this.sync = backend.name === 'cpu';
    initial.forEach((p, i) => {
      if (!p.isConcrete)
        throw new MatgradError(`step program: initial value of parameter ${i} must be a concrete tensor`);
    });
    const params = initial.map((p) => inputTensor(p.shape, p.dtype));
    const slotSpecs = initial.map((p) => tx.slots(p));
    const state = slotSpecs.map((specs, i) =>
      specs.map(() => inputTensor(initial[i].shape, initial[i].dtype)),
    );
    const dtype = initial[0]?.dtype ?? 'float64';
    const scalars = Array.from({ length: tx.scalarCount }, () => inputTensor([], dtype));
    const constraints = opts.constraints ?? [];

    const [value] = outputsOf('loss', loss(...params));
    if (value.size !== 1)
      throw new MatgradShapeError(`loss must be a scalar (1 element), got shape [${value.shape.join(', ')}]`);
    const rawGrads = backward([value], [ones(value.shape, { dtype: value.dtype })], params).map(
      (g, i) => g ?? F.mul(params[i], 0),
    );
    const grads = rawGrads.map((g, i) => constraints[i]?.projectGrad?.(params[i], g) ?? g);
    const { updates, state: nextState } = tx.update({ grads, params, state, scalars });
    const newParams = params.map((p, i) => {
      const moved = F.add(p, updates[i]);
      return constraints[i] ? constraints[i].retract(moved) : moved;
    });
    const norm =
      opts.gradNorm === false
        ? []
        : [F.sqrt(grads.map((g) => F.sum(F.square(g))).reduce((a, b) => F.add(a, b)))];
    // Σ p·0 is 0 exactly when every p is finite (NaN otherwise) and cannot overflow, unlike Σ p
    const finite = opts.finiteCheck && newParams.length
      ? [F.reshape(newParams.map((p) => F.sum(F.mul(p, 0))).reduce((a, b) => F.add(a, b)), [])]
      : [];
    const flatState = state.flat();
    const flatNext = nextState.flat();
    const inputs = [...params, ...flatState, ...scalars];
    const outputs = [F.reshape(value, []), ...norm, ...finite, ...newParams, ...flatNext];
    const first = 1 + norm.length + finite.length;
    const donate: [number, number][] = [
      ...newParams.map((_, i): [number, number] => [first + i, i]),
      ...flatNext.map((_, j): [number, number] => [first + params.length + j, params.length + j]),
    ];
    const stepScalars = scalars.map((_, k) => params.length + flatState.length + k);
    this.exe = backend.compile(compile(inputs, outputs, { donate, stepScalars }));
    this.gradNormOut = norm.length ? 1 : -1;
    this.finiteOut = finite.length ? 1 + norm.length : -1;
    this.paramsOut = first;
    this.shapes = initial.map((p) => p.shape);

    initial.forEach((p, i) => this.exe.write(i, p.node.data!));
    let slot = params.length;
    slotSpecs.forEach((specs, i) => {
      for (const s of specs) {
        this.exe.write(
          slot++,
          s.init === 'param' ? initial[i].node.data! : new Float64Array(initial[i].size).fill(s.init),
        );
      }
    });
  }

  /**
   * Runs up to `steps` steps; returns how many ran. On CPU `watch` sees every step's loss and may stop
   * the run after any step, and a transform that observes the loss (reduce-on-plateau) gets each one
   * before the next step's scalars are written; elsewhere use `advance`, which awaits the device. When
   * a step throws (a host-side solver inside the program), `t` counts the steps completed before it and
   * the error propagates.
   */
  run(steps: number, watch?: StepWatch): number {
    const t0 = this.t;
    const loss = this.sync ? this.exe.view(0) : null;
    const gradNorm = loss && this.gradNormOut >= 0 ? this.exe.view(this.gradNormOut) : null;
    const finite = loss && this.finiteOut >= 0 ? this.exe.view(this.finiteOut) : null;
    const observe = this.tx.observe;
    const seeing = loss !== null && (watch !== undefined || observe !== undefined);
    const info = { gradNorm: Number.NaN, paramsFinite: true }; // one object for every step: no garbage
    const sees = (t: number): boolean => {
      observe?.(loss![0]);
      if (!watch) return false;
      info.gradNorm = gradNorm ? gradNorm[0] : Number.NaN;
      info.paramsFinite = finite ? finite[0] === 0 : true;
      return watch(t, loss![0], info);
    };
    let stopped = false;
    let current = 0;
    const before = (s: number, out: Float64Array): boolean | undefined => {
      current = s;
      if (s > 0 && seeing && sees(t0 + s)) {
        stopped = true;
        return false;
      }
      this.tx.writeScalars(t0 + s + 1, out, 0);
      return undefined;
    };
    let ran: number;
    try {
      // when nothing reads the losses, the scalars depend on the step alone: the backend may compute them ahead
      ran = this.exe.run(steps, before, { lookahead: !seeing });
    } catch (e) {
      this.t = t0 + current;
      throw e;
    }
    this.t += ran;
    if (!stopped && ran > 0 && seeing) sees(this.t);
    return ran;
  }

  /**
   * Runs up to `steps` steps on any backend and waits for them: on CPU the watch (and a transform that
   * observes the loss) sees every step, on other backends (one submit) the last step only, once its
   * values are read back.
   */
  async advance(steps: number, watch: StepWatch): Promise<number> {
    if (this.sync) return this.run(steps, watch);
    const ran = this.run(steps);
    const [loss, gradNorm, finite] = await Promise.all(
      [0, this.gradNormOut, this.finiteOut].map(async (o) => (o < 0 ? Number.NaN : (await this.exe.read(o))[0])),
    );
    if (ran > 0) {
      this.tx.observe?.(loss);
      watch(this.t, loss, { gradNorm, paramsFinite: this.finiteOut < 0 || finite === 0 });
    }
    return ran;
  }

  /** Loss at the last step (computed before that step's update). CPU only; use `read()` elsewhere. */
  loss(): number {
    return this.exe.view(0)[0];
  }
  gradNorm(): number {
    if (this.gradNormOut < 0) throw new MatgradError('step program was compiled without gradNorm');
    return this.exe.view(this.gradNormOut)[0];
  }
  /** Current parameter values (copies); CPU only, use `read()` elsewhere. */
  params(): Tensor[] {
    return this.shapes.map((s, i) => fromArray(this.exe.readSync(this.paramsOut + i), s));
  }
  /** Loss, gradient norm (NaN when not computed) and parameters, on any backend. */
  async read(): Promise<{ loss: number; gradNorm: number; params: Tensor[] }> {
    if (this.sync) {
      // CPU: read the live buffers directly (no promise per buffer)
      const gradNorm = this.gradNormOut < 0 ? Number.NaN : this.gradNorm();
      return { loss: this.loss(), gradNorm, params: this.params() };
    }
    const loss = (await this.exe.read(0))[0];
    const gradNorm = this.gradNormOut < 0 ? Number.NaN : (await this.exe.read(this.gradNormOut))[0];
    const params = await Promise.all(
      this.shapes.map(async (s, i) => fromArray(await this.exe.read(this.paramsOut + i), s)),
    );
    return { loss, gradNorm, params };
  }
  /** The learning rate in effect at the next step, when the optimizer reports one. */
  lr(): number {
    return this.tx.lr?.(this.t + 1) ?? Number.NaN;
  }
  dispose(): void {
    this.exe.dispose();
  }
}
