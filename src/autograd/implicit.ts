// Implicit differentiation: x*(θ) defined by F(x*, θ) = 0 and found by any forward solver. The
// gradient comes from the adjoint system (∂F/∂x)ᵀ λ = x̄, then θ̄ = −(∂F/∂θ)ᵀ λ (implicit function theorem).
import { cpu } from '../backends/cpu/index.js';
import type { Executable } from '../backends/backend.js';
import { MatgradError, MatgradShapeError } from '../errors.js';
import { solve as luSolve, svd as svdKernel } from '../linalg/kernels.js';
import { DEGENERACY_RTOL } from '../linalg/ops.js';
import * as F from './api.js';
import { compile } from './compile.js';
import { dtypeOfArray, type FloatArray } from './dtype.js';
import { backward } from './grad.js';
import { inputTensor, outputsOf, signature } from './jit.js';
import type { Attrs, TensorInfo } from './node.js';
import type { CpuKernelArgs, OpDef } from './ops.js';
import { fmt, type Shape, sizeOf } from './shape.js';
import { fromArray, Tensor } from './tensor.js';

export interface CustomRootOptions {
  /** Shape of x* from the shapes of θ (default: the shape of θ₀). */
  shape?: (thetas: readonly Shape[]) => Shape;
  /** Leading dims of x over which F is independent (a batch of small systems): each is solved alone. */
  batchDims?: number;
  /**
   * The adjoint solve: dense LU (default; small systems), dense least squares ('lstsq': the
   * pseudo-inverse, for a ∂F/∂x that may be singular), or matrix-free GMRES / CG (CG needs ∂F/∂x
   * symmetric positive definite).
   */
  linearSolver?: 'lu' | 'lstsq' | 'gmres' | 'cg';
  /**
   * 'lstsq': singular values of each block's ∂F/∂x at most rtol·(its largest) count as zero: those
   * directions get no adjoint, so the gradient stays finite. Default DEGENERACY_RTOL of x's dtype.
   */
  rtol?: number;
  /** Iterative solvers: relative residual tolerance and iteration cap. */
  tol?: number;
  maxIter?: number;
}

interface RootSpec {
  residual: (x: Tensor, ...thetas: Tensor[]) => Tensor;
  solver: (...thetas: Tensor[]) => Tensor | FloatArray;
  opts: Required<Pick<CustomRootOptions, 'batchDims' | 'linearSolver' | 'tol' | 'maxIter'>> & Pick<CustomRootOptions, 'shape' | 'rtol'>;
  /** Compiled (x, θ…, v) ↦ (vᵀ∂F/∂x, vᵀ∂F/∂θ…), one per input signature. */
  adjoint: Map<string, Executable>;
}
const roots = new Map<number, RootSpec>();
let nextRoot = 0;

/**
 * `mg.customRoot(F, solver, opts)` returns θ ↦ x*(θ): the forward value comes from `solver` (a black box,
 * iterative or not, called with concrete tensors), the gradient from the implicit function theorem on
 * the residual `F(x, θ…)` (written with matgrad ops, same shape as x).
 */
export function customRoot(
  residual: RootSpec['residual'],
  solver: RootSpec['solver'],
  opts: CustomRootOptions = {},
): (...thetas: Tensor[]) => Tensor {
  if (typeof residual !== 'function' || typeof solver !== 'function') throw new MatgradError('customRoot: expects a residual function and a solver function');
  if (opts.rtol !== undefined && !(typeof opts.rtol === 'number' && opts.rtol >= 0 && opts.rtol < 1)) throw new MatgradError(`customRoot: rtol must be a number in [0, 1), got ${String(opts.rtol)}`);
  const id = nextRoot++;
  roots.set(id, {
    residual,
    solver,
    opts: { batchDims: opts.batchDims ?? 0, linearSolver: opts.linearSolver ?? 'lu', tol: opts.tol ?? 1e-12, maxIter: opts.maxIter ?? 500, shape: opts.shape, rtol: opts.rtol },
    adjoint: new Map(),
  });
  return (...thetas) => {
    thetas.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new MatgradError(`customRoot: argument ${i} must be a Tensor`);
    });
    return F.apply('customRoot', thetas, { root: id })[0];
  };
}

const spec = (attrs: Attrs): RootSpec => {
  const s = roots.get(attrs.root as number);
  if (!s) throw new MatgradError('customRoot: unknown root (internal)');
  return s;
};
const copyTensor = (a: FloatArray, shape: Shape) => fromArray(a.slice(), shape);

function adjointProgram(s: RootSpec, x: TensorInfo, thetas: readonly TensorInfo[]): Executable {
  const key = signature([x, ...thetas]);
  let exe = s.adjoint.get(key);
  if (!exe) {
    const xi = inputTensor(x.shape, x.dtype);
    const ti = thetas.map((t) => inputTensor(t.shape, t.dtype));
    const v = inputTensor(x.shape, x.dtype);
    const [r] = outputsOf('customRoot residual', s.residual(xi, ...ti));
    if (fmt(r.shape) !== fmt(x.shape)) throw new MatgradShapeError(`customRoot: the residual has shape ${fmt(r.shape)}, x has ${fmt(x.shape)}`);
    const grads = backward([r], [v], [xi, ...ti]).map((g, i) => g ?? F.mul([xi, ...ti][i], 0));
    exe = cpu.compile(compile([xi, ...ti, v], grads));
    s.adjoint.set(key, exe);
  }
  return exe;
}

/** λ with (∂F/∂x)ᵀ λ = xbar, per independent block; then θ̄ = −(∂F/∂θ)ᵀ λ. */
function adjointSolve(s: RootSpec, xbar: FloatArray, x: FloatArray, xShape: Shape, thetas: FloatArray[], thetaShapes: Shape[], outs: FloatArray[]) {
  const exe = adjointProgram(s, { shape: xShape, dtype: xbar instanceof Float32Array ? 'float32' : 'float64' }, thetaShapes.map((shape) => ({ shape, dtype: xbar instanceof Float32Array ? 'float32' : 'float64' })));
  exe.write(0, x);
  thetas.forEach((t, i) => exe.write(1 + i, t));
  const vSlot = 1 + thetas.length;
  const N = x.length;
  const blocks = sizeOf(xShape.slice(0, s.opts.batchDims));
  const m = N / blocks;
  const applyJt = (v: Float64Array, out: Float64Array) => {
    exe.write(vSlot, v);
    exe.run(1);
    out.set(exe.view(0));
  };
  const lambda = new Float64Array(N);
  const dense = s.opts.linearSolver === 'lu' || s.opts.linearSolver === 'lstsq';
  if (dense) {
    // probe with e_i in every block at once: row i of each block's Jacobian J (vᵀJ with v = e_i)
    const J = new Float64Array(blocks * m * m);
    const e = new Float64Array(N);
    const row = new Float64Array(N);
    for (let i = 0; i < m; i++) {
      e.fill(0);
      for (let b = 0; b < blocks; b++) e[b * m + i] = 1;
      applyJt(e, row);
      // store Jᵀ: element (k, i) of block b is J[i, k]
      for (let b = 0; b < blocks; b++) for (let k = 0; k < m; k++) J[b * m * m + k * m + i] = row[b * m + k];
    }
    if (s.opts.linearSolver === 'lu') luSolve(J, Float64Array.from(xbar), blocks, m, 1, lambda);
    else pinvSolve(J, xbar, blocks, m, s.opts.rtol ?? DEGENERACY_RTOL[dtypeOfArray(xbar)], lambda);
  } else {
    iterativeSolve(s.opts.linearSolver as 'gmres' | 'cg', applyJt, Float64Array.from(xbar), lambda, s.opts.tol, s.opts.maxIter);
  }
  exe.write(vSlot, lambda);
  exe.run(1);
  outs.forEach((o, i) => {
    const g = exe.view(1 + i);
    for (let j = 0; j < o.length; j++) o[j] = -g[j];
  });
}

/**
 * x = A⁺b per m×m block (A row-major): the minimum-norm least-squares solution from A's SVD, singular
 * values ≤ rtol·σ_max dropped. A block that is not finite gets NaN (its gradient then shows it).
 */
function pinvSolve(A: Float64Array, b: FloatArray, blocks: number, m: number, rtol: number, x: Float64Array): void {
  const U = new Float64Array(blocks * m * m);
  const S = new Float64Array(blocks * m);
  const Vh = new Float64Array(blocks * m * m);
  svdKernel(A, blocks, m, m, U, S, Vh);
  const t = new Float64Array(m);
  for (let blk = 0; blk < blocks; blk++) {
    const o = blk * m * m;
    const cut = rtol * S[blk * m]; // descending: the first is the largest
    for (let k = 0; k < m; k++) {
      const sk = S[blk * m + k];
      let dot = 0;
      for (let i = 0; i < m; i++) dot += U[o + i * m + k] * b[blk * m + i];
      t[k] = sk > cut && sk > 0 ? dot / sk : sk === sk ? 0 : Number.NaN;
    }
    for (let j = 0; j < m; j++) {
      let v = 0;
      for (let k = 0; k < m; k++) v += Vh[o + k * m + j] * t[k];
      x[blk * m + j] = v;
    }
  }
}

/** GMRES (restarted, modified Gram–Schmidt) or CG for A·x = b with A given as a product. */
function iterativeSolve(kind: 'gmres' | 'cg', A: (v: Float64Array, out: Float64Array) => void, b: Float64Array, x: Float64Array, tol: number, maxIter: number): void {
  const n = b.length;
  const dot = (p: Float64Array, q: Float64Array) => p.reduce((s, v, i) => s + v * q[i], 0);
  const bnorm = Math.sqrt(dot(b, b)) || 1;
  const Ax = new Float64Array(n);
  if (kind === 'cg') {
    const r = b.slice();
    const p = r.slice();
    let rr = dot(r, r);
    for (let it = 0; it < maxIter && Math.sqrt(rr) > tol * bnorm; it++) {
      A(p, Ax);
      const alpha = rr / dot(p, Ax);
      for (let i = 0; i < n; i++) {
        x[i] += alpha * p[i];
        r[i] -= alpha * Ax[i];
      }
      const next = dot(r, r);
      for (let i = 0; i < n; i++) p[i] = r[i] + (next / rr) * p[i];
      rr = next;
    }
    return;
  }
  const restart = Math.min(n, 50);
  for (let total = 0; total < maxIter; ) {
    A(x, Ax);
    const r = b.map((v, i) => v - Ax[i]);
    const beta = Math.sqrt(dot(r, r));
    if (beta <= tol * bnorm) return;
    const V: Float64Array[] = [r.map((v) => v / beta)];
    const H = Array.from({ length: restart + 1 }, () => new Float64Array(restart));
    const cs = new Float64Array(restart);
    const sn = new Float64Array(restart);
    const g = new Float64Array(restart + 1);
    g[0] = beta;
    let k = 0;
    for (; k < restart && total < maxIter; k++, total++) {
      const w = new Float64Array(n);
      A(V[k], w);
      for (let j = 0; j <= k; j++) {
        H[j][k] = dot(w, V[j]);
        for (let i = 0; i < n; i++) w[i] -= H[j][k] * V[j][i];
      }
      H[k + 1][k] = Math.sqrt(dot(w, w));
      V.push(w.map((v) => v / (H[k + 1][k] || 1)));
      for (let j = 0; j < k; j++) {
        const t = cs[j] * H[j][k] + sn[j] * H[j + 1][k];
        H[j + 1][k] = -sn[j] * H[j][k] + cs[j] * H[j + 1][k];
        H[j][k] = t;
      }
      const den = Math.hypot(H[k][k], H[k + 1][k]) || 1;
      cs[k] = H[k][k] / den;
      sn[k] = H[k + 1][k] / den;
      H[k][k] = den;
      H[k + 1][k] = 0;
      g[k + 1] = -sn[k] * g[k];
      g[k] = cs[k] * g[k];
      if (Math.abs(g[k + 1]) <= tol * bnorm) {
        k++;
        break;
      }
    }
    const y = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      let s = g[i];
      for (let j = i + 1; j < k; j++) s -= H[i][j] * y[j];
      y[i] = s / H[i][i];
    }
    for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) x[i] += y[j] * V[j][i];
  }
}

const call = (k: CpuKernelArgs, fn: (...arrays: FloatArray[]) => void): string =>
  `${k.bind(fn as never)}(${[...k.ins, ...k.outs].map((a) => a.name).join(', ')});`;

export const IMPLICIT_OPS: { readonly customRoot: OpDef; readonly customRootVjp: OpDef } = {
  customRoot: {
    kind: 'kernel',
    infer: (thetas, attrs) => {
      const s = spec(attrs);
      const shape = s.opts.shape ? s.opts.shape(thetas.map((t) => t.shape)) : thetas[0]?.shape;
      if (!shape) throw new MatgradShapeError('customRoot: give opts.shape when there is no θ');
      return [{ shape: [...shape], dtype: thetas[0]?.dtype ?? 'float64' }];
    },
    vjp: ([g], { inputs, outputs: [x], attrs }) => F.apply('customRootVjp', [g!, x, ...inputs], attrs),
    cpu: (k) => {
      const s = spec(k.attrs);
      const shapes = k.ins.map((i) => i.shape);
      return call(k, (...arrays) => {
        const out = arrays[arrays.length - 1];
        const xs = s.solver(...arrays.slice(0, -1).map((a, i) => copyTensor(a, shapes[i])));
        const data = xs instanceof Tensor ? xs.dataSync() : xs;
        if (data.length !== out.length) throw new MatgradShapeError(`customRoot: the solver returned ${data.length} values, x has ${out.length}`);
        out.set(data);
      });
    },
  },
  customRootVjp: {
    kind: 'kernel',
    infer: ([, , ...thetas]) => thetas.map((t) => ({ shape: t.shape, dtype: t.dtype })),
    vjp: () => {
      throw new MatgradError('customRoot: gradients of gradients through an implicit solve are not supported');
    },
    cpu: (k) => {
      const s = spec(k.attrs);
      const xShape = k.ins[1].shape;
      const thetaShapes = k.ins.slice(2).map((i) => i.shape);
      const nTheta = thetaShapes.length;
      return call(k, (...arrays) => {
        const [xbar, x] = arrays;
        adjointSolve(s, xbar, x, xShape, arrays.slice(2, 2 + nTheta), thetaShapes, arrays.slice(2 + nTheta));
      });
    },
  },
};
