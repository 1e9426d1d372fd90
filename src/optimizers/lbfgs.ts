import * as F from '../autograd/api.js';
import { checkOptionsObject, keysOf } from '../check.js';
import { compile } from '../autograd/compile.js';
import { backward } from '../autograd/grad.js';
import { inputTensor, outputsOf } from '../autograd/jit.js';
import { fromArray, ones, type Tensor } from '../autograd/tensor.js';
import type { Executable } from '../backends/backend.js';
import { cpu } from '../backends/cpu/index.js';
import { MatgradError, MatgradShapeError } from '../errors.js';
import type { LossFn, StepWatch } from './program.js';
import { checkNumber } from './transform.js';

export interface LbfgsOptions {
  lr?: number;
  /** Iterations per step (torch's max_iter). */
  maxIter?: number;
  /** Objective evaluations per step (default maxIter·5/4). */
  maxEval?: number;
  toleranceGrad?: number;
  toleranceChange?: number;
  historySize?: number;
  lineSearchFn?: 'strong_wolfe' | null;
}

/** torch.optim.LBFGS. Not a gradient transform: it evaluates the objective several times per step. */
export interface Lbfgs {
  readonly kind: 'lbfgs';
  readonly name: 'lbfgs';
  readonly options: Required<Omit<LbfgsOptions, 'lineSearchFn'>> & { lineSearchFn: 'strong_wolfe' | null };
}

const LBFGS_OPTIONS = keysOf<LbfgsOptions>({ lr: 1, maxIter: 1, maxEval: 1, toleranceGrad: 1, toleranceChange: 1, historySize: 1, lineSearchFn: 1 });

export function lbfgs(options?: LbfgsOptions): Lbfgs {
  const opts = checkOptionsObject<LbfgsOptions>('lbfgs', options, LBFGS_OPTIONS);
  const maxIter = checkNumber('lbfgs', 'maxIter', opts.maxIter ?? 20, { min: 1, integer: true });
  const lineSearchFn = opts.lineSearchFn === undefined ? 'strong_wolfe' : opts.lineSearchFn;
  if (lineSearchFn !== null && lineSearchFn !== 'strong_wolfe') throw new MatgradError(`lbfgs: lineSearchFn must be 'strong_wolfe' or null`);
  return {
    kind: 'lbfgs',
    name: 'lbfgs',
    options: {
      lr: checkNumber('lbfgs', 'lr', opts.lr ?? 1, { min: 0 }),
      maxIter,
      maxEval: checkNumber('lbfgs', 'maxEval', opts.maxEval ?? Math.floor((maxIter * 5) / 4), { min: 1, integer: true }),
      toleranceGrad: checkNumber('lbfgs', 'toleranceGrad', opts.toleranceGrad ?? 1e-7, { min: 0 }),
      toleranceChange: checkNumber('lbfgs', 'toleranceChange', opts.toleranceChange ?? 1e-9, { min: 0 }),
      historySize: checkNumber('lbfgs', 'historySize', opts.historySize ?? 100, { min: 1, integer: true }),
      lineSearchFn,
    },
  };
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const absMax = (a: Float64Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/** Minimizer of the cubic interpolating (x1, f1, g1), (x2, f2, g2), clamped to bounds (torch's rule). */
function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(pos, lo), hi);
  }
  return (lo + hi) / 2;
}

type Evaluate = (x: Float64Array, t: number, d: Float64Array, gOut: Float64Array) => number;

/** Strong-Wolfe line search (bracketing then zoom with cubic interpolation), as torch implements it. */
function strongWolfe(obj: Evaluate, x: Float64Array, t0: number, d: Float64Array, f: number, g: Float64Array, gtd: number, tolChange: number) {
  const c1 = 1e-4;
  const c2 = 0.9;
  const maxLs = 25;
  const n = x.length;
  let t = t0;
  const dNorm = absMax(d);
  let gNew = new Float64Array(n);
  let fNew = obj(x, t, d, gNew);
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g.slice();
  let gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bf: number[] = [];
  let bg: Float64Array[] = [];
  let bgtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      [bracket, bf, bg, bgtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew.slice()], [gtdPrev, gtdNew]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bf, bg] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bf, bg, bgtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew.slice()], [gtdPrev, gtdNew]];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = tmp;
    fPrev = fNew;
    gPrev = gNew.slice();
    gtdPrev = gtdNew;
    gNew = new Float64Array(n);
    fNew = obj(x, t, d, gNew);
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) [bracket, bf, bg] = [[0, t], [f, fNew], [g, gNew]];
  let insufProgress = false;
  let [low, high] = bf[0] <= bf[bf.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < tolChange) break;
    t = cubicInterpolate(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1]);
    const bMax = Math.max(...bracket);
    const bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else insufProgress = true;
    } else insufProgress = false;
    gNew = new Float64Array(n);
    fNew = obj(x, t, d, gNew);
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bf[low]) {
      bracket[high] = t;
      bf[high] = fNew;
      bg[high] = gNew.slice();
      bgtd[high] = gtdNew;
      [low, high] = bf[0] <= bf[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        bracket[high] = bracket[low];
        bf[high] = bf[low];
        bg[high] = bg[low];
        bgtd[high] = bgtd[low];
      }
      bracket[low] = t;
      bf[low] = fNew;
      bg[low] = gNew.slice();
      bgtd[low] = gtdNew;
    }
  }
  return { f: bf[low], g: bg[low], t: bracket[low], evals };
}

/**
 * Runs L-BFGS on a loss compiled once (value and gradient in one program, over one flat parameter
 * vector). One `run` step is one torch `optimizer.step(closure)` call: up to maxIter iterations.
 */
export class LbfgsProgram {
  /** Completed steps (outer iterations). */
  t = 0;
  /** Objective evaluations so far (torch's state['func_evals']). */
  evaluations = 0;
  private readonly exe: Executable;
  private readonly shapes: (readonly number[])[];
  private readonly offsets: number[];
  private readonly x: Float64Array;
  private readonly grad: Float64Array;
  private loss = Number.NaN;
  private nIter = 0;
  private d: Float64Array | null = null;
  private stepT = 0;
  private dirs: Float64Array[] = [];
  private stps: Float64Array[] = [];
  private ro: number[] = [];
  private hDiag = 1;
  private prevGrad: Float64Array | null = null;
  private prevLoss = Number.NaN;

  constructor(
    initial: readonly Tensor[],
    lossFn: LossFn,
    private readonly opt: Lbfgs,
  ) {
    const params = initial.map((p) => inputTensor(p.shape, p.dtype));
    const [value] = outputsOf('loss', lossFn(...params));
    if (value.size !== 1) throw new MatgradShapeError(`loss must be a scalar (1 element), got shape [${value.shape.join(', ')}]`);
    if (initial.some((p) => p.dtype !== 'float64')) throw new MatgradError('lbfgs runs in float64 on CPU');
    const grads = backward([value], [ones(value.shape, { dtype: value.dtype })], params).map((g, i) => g ?? F.mul(params[i], 0));
    this.exe = cpu.compile(compile(params, [F.reshape(value, []), ...grads]));
    this.shapes = initial.map((p) => p.shape);
    this.offsets = [];
    let n = 0;
    for (const p of initial) {
      this.offsets.push(n);
      n += p.size;
    }
    this.x = new Float64Array(n);
    initial.forEach((p, i) => this.x.set(p.node.data!, this.offsets[i]));
    this.grad = new Float64Array(n);
  }

  /** f(x + t·d) and its gradient (into gOut). */
  private evaluate: Evaluate = (x, t, d, gOut) => {
    this.shapes.forEach((_, i) => {
      const from = this.offsets[i];
      const to = i + 1 < this.offsets.length ? this.offsets[i + 1] : x.length;
      const slice = new Float64Array(to - from);
      for (let j = 0; j < slice.length; j++) slice[j] = x[from + j] + t * d[from + j];
      this.exe.write(i, slice);
    });
    this.exe.run(1);
    this.shapes.forEach((_, i) => gOut.set(this.exe.view(i + 1), this.offsets[i]));
    this.evaluations++;
    return this.exe.view(0)[0];
  };

  private closure(gOut: Float64Array): number {
    return this.evaluate(this.x, 0, this.x, gOut);
  }

  /** One torch-style `optimizer.step(closure)`; returns the loss at its start (as torch does). */
  private step(): number {
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearchFn } = this.opt.options;
    const origLoss = this.closure(this.grad);
    let loss = origLoss;
    let flatGrad: Float64Array = this.grad.slice();
    let currentEvals = 1;
    if (absMax(flatGrad) <= toleranceGrad) {
      this.loss = loss;
      return origLoss;
    }
    let d = this.d;
    let t = this.stepT;
    let nIter = 0;
    while (nIter < maxIter) {
      nIter++;
      this.nIter++;
      if (this.nIter === 1) {
        d = flatGrad.map((v) => -v);
        this.dirs = [];
        this.stps = [];
        this.ro = [];
        this.hDiag = 1;
      } else {
        const y = flatGrad.map((v, i) => v - this.prevGrad![i]);
        const s = d!.map((v) => v * t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (this.dirs.length === historySize) {
            this.dirs.shift();
            this.stps.shift();
            this.ro.shift();
          }
          this.dirs.push(y);
          this.stps.push(s);
          this.ro.push(1 / ys);
          this.hDiag = ys / dot(y, y);
        }
        const k = this.dirs.length;
        const al = new Array<number>(k);
        const q = flatGrad.map((v) => -v);
        for (let i = k - 1; i >= 0; i--) {
          al[i] = dot(this.stps[i], q) * this.ro[i];
          const di = this.dirs[i];
          for (let j = 0; j < q.length; j++) q[j] -= al[i] * di[j];
        }
        const r = q.map((v) => v * this.hDiag);
        for (let i = 0; i < k; i++) {
          const be = dot(this.dirs[i], r) * this.ro[i];
          const si = this.stps[i];
          for (let j = 0; j < r.length; j++) r[j] += (al[i] - be) * si[j];
        }
        d = r;
      }
      this.prevGrad = flatGrad.slice();
      this.prevLoss = loss;
      t = this.nIter === 1 ? Math.min(1, 1 / flatGrad.reduce((s, v) => s + Math.abs(v), 0)) * lr : lr;
      const gtd = dot(flatGrad, d!);
      if (gtd > -toleranceChange) break;
      let lsEvals = 0;
      let optCond = false;
      if (lineSearchFn) {
        const r = strongWolfe(this.evaluate, this.x, t, d!, loss, flatGrad, gtd, toleranceChange);
        loss = r.f;
        flatGrad = r.g;
        t = r.t;
        lsEvals = r.evals;
        for (let j = 0; j < this.x.length; j++) this.x[j] += t * d![j];
        optCond = absMax(flatGrad) <= toleranceGrad;
      } else {
        for (let j = 0; j < this.x.length; j++) this.x[j] += t * d![j];
        if (nIter !== maxIter) {
          const g = new Float64Array(this.x.length);
          loss = this.closure(g);
          flatGrad = g;
          optCond = absMax(flatGrad) <= toleranceGrad;
          lsEvals = 1;
        }
      }
      currentEvals += lsEvals;
      if (nIter === maxIter || currentEvals >= maxEval || optCond) break;
      if (absMax(d!) * Math.abs(t) <= toleranceChange) break;
      if (Math.abs(loss - this.prevLoss) < toleranceChange) break;
    }
    this.d = d;
    this.stepT = t;
    this.loss = loss;
    this.grad.set(flatGrad);
    return origLoss;
  }

  /**
   * Runs up to `steps` outer steps; `watch(t, loss, info)` sees the loss each step reached. When a
   * step throws, `t` counts the steps completed before it and the error propagates.
   */
  run(steps: number, watch?: StepWatch): number {
    for (let s = 0; s < steps; s++) {
      this.step();
      this.t++;
      if (watch?.(this.t, this.loss, { gradNorm: this.gradNorm(), paramsFinite: this.x.every(Number.isFinite) })) return s + 1;
    }
    return steps;
  }
  async advance(steps: number, watch: StepWatch): Promise<number> {
    return this.run(steps, watch);
  }
  private gradNorm(): number {
    return Math.sqrt(dot(this.grad, this.grad));
  }

  /** The last loss computed and the parameters now. */
  async read(): Promise<{ loss: number; gradNorm: number; params: Tensor[] }> {
    return { loss: this.loss, gradNorm: this.gradNorm(), params: this.params() };
  }
  params(): Tensor[] {
    return this.shapes.map((s, i) => {
      const from = this.offsets[i];
      return fromArray(this.x.slice(from, from + s.reduce((a, b) => a * b, 1)), s);
    });
  }
  lr(): number {
    return this.opt.options.lr;
  }
  dispose(): void {
    this.exe.dispose();
  }
}
