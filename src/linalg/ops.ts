// The linear-algebra ops: forward kernels (src/linalg/kernels) and their VJPs, side by side.
import * as F from '../autograd/api.js';
import { commonDType, type DType } from '../autograd/dtype.js';
import type { Attrs, TensorInfo } from '../autograd/node.js';
import type { CpuKernelArgs, OpDef, VjpContext } from '../autograd/ops.js';
import { fmt, type Shape, sizeOf } from '../autograd/shape.js';
import { type Tensor, tensor } from '../autograd/tensor.js';
import { MatgradShapeError } from '../errors.js';
import * as K from './kernels.js';
import { COMPLEX_LINALG_OPS, type ComplexLinalgOpName } from './complex-ops.js';
import { noteFailure } from './status.js';

export type LinalgOpName = 'eigh' | 'svd' | 'solve' | 'inv' | 'cholesky' | 'qr' | 'det' | 'slogdet' | 'eig' | 'eigvalsh' | 'svdvals' | ComplexLinalgOpName;

/**
 * Eigen/singular value pairs closer than this (relative to the largest magnitude) count as degenerate:
 * their ill-defined 1/(λⱼ − λᵢ) terms are dropped from the gradient, which stays finite. It is exact
 * when the loss depends on each degenerate cluster only through a symmetric function of its values and
 * the subspace its vectors span (then the dropped terms are 0); a loss that weights a cluster's values
 * differently (⟨W, V·diag(λ)·Vᵀ⟩ at I) loses their limit (see test/degenerate-gradients.test.ts).
 */
export const DEGENERACY_RTOL: Record<DType, number> = { float64: 1e-10, float32: 1e-5 };

export function matrixDims(op: string, x: TensorInfo, square = true): { batch: number[]; m: number; n: number } {
  if (x.shape.length < 2) throw new MatgradShapeError(`linalg.${op}: input must be a (batch of) matrices, got ${fmt(x.shape)}`);
  const [m, n] = x.shape.slice(-2);
  if (square && m !== n) throw new MatgradShapeError(`linalg.${op}: input must be square, got ${fmt(x.shape)}`);
  return { batch: [...x.shape.slice(0, -2)], m, n };
}
export const batchSize = (shape: Shape, trailing: number) => sizeOf(shape.slice(0, shape.length - trailing));

/** A kernel call with the batch size and matrix sizes baked into the bound closure. */
export const call = (k: CpuKernelArgs, fn: (...arrays: never[]) => void): string =>
  `${k.bind(fn)}(${[...k.ins, ...k.outs].map((a) => a.name).join(', ')});`;

// ---- gradient helpers --------------------------------------------------------------------------

const T = (x: Tensor) => F.transpose(x);
const mm = (a: Tensor, b: Tensor) => F.matmul(a, b);
/** Row vector λⱼ minus column vector λᵢ: E[i, j] = λⱼ − λᵢ. */
export const gaps = (lam: Tensor) => F.sub(F.reshape(lam, [...lam.shape.slice(0, -1), 1, lam.shape[lam.shape.length - 1]]), F.reshape(lam, [...lam.shape, 1]));

/**
 * 1/E with degenerate pairs (|E| ≤ rtol·scale, the diagonal among them) set to 0, never dividing by 0
 * (safe to differentiate again).
 */
export function safeInverseGaps(E: Tensor, scale: Tensor, rtol = DEGENERACY_RTOL[E.dtype]): Tensor {
  const tol = F.mul(F.reshape(scale, [...scale.shape, 1, 1]), rtol);
  const ok = F.gt(F.abs(E), F.add(tol, 1e-300));
  return F.where(ok, F.div(1, F.where(ok, E, 1)), 0);
}
/** x⁺: 1/x where x is clearly non-zero, else 0 (pseudo-inverse of a diagonal). */
export function safeReciprocal(x: Tensor): Tensor {
  const scale = F.max(F.abs(x), -1, true);
  const ok = F.gt(F.abs(x), F.add(F.mul(scale, DEGENERACY_RTOL[x.dtype]), 1e-300));
  return F.where(ok, F.div(1, F.where(ok, x, 1)), 0);
}
/** Lower-triangular mask (with `diagonal` on the diagonal), as a constant. */
export const trilMask = (n: number, dtype: DType, diagonal = 1, offset = 0) =>
  tensor(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? (offset < 0 ? 0 : diagonal) : i > j ? 1 : 0))), { dtype });

/**
 * The matrix operations the eigh/svd VJPs need, so that one formula serves real matrices (adjoint =
 * transpose) and complex ones (adjoint = conjugate transpose; see complex-ops.ts).
 */
export interface MatrixAlgebra<M> {
  /** a·b, either side adjoint first. */
  mm(a: M, b: M, adjA?: boolean, adjB?: boolean): M;
  adj(a: M): M;
  add(a: M, b: M): M;
  sub(a: M, b: M): M;
  neg(a: M): M;
  /** Elementwise product with a real tensor or number (broadcasting). */
  scale(a: M, r: Tensor | number): M;
  /** A real matrix as one of this algebra. */
  real(r: Tensor): M;
  inv(a: M): M;
  /** i·Im(diag(a)) as a diagonal matrix; null for real matrices (it is zero). */
  imagDiag(a: M): M | null;
}
const REAL: MatrixAlgebra<Tensor> = {
  mm: (a, b, adjA = false, adjB = false) => F.matmulT(a, b, adjA, adjB),
  adj: (a) => F.transpose(a),
  add: (a, b) => F.add(a, b),
  sub: (a, b) => F.sub(a, b),
  neg: (a) => F.neg(a),
  scale: (a, r) => F.mul(a, r),
  real: (r) => r,
  inv: (a) => F.apply('inv', [a])[0],
  imagDiag: () => null,
};
/** d[..., k] as a row [..., 1, k] (scales columns) or a column [..., k, 1] (scales rows). */
export const asRow = (d: Tensor) => F.reshape(d, [...d.shape.slice(0, -1), 1, d.shape[d.shape.length - 1]]);
const asColumn = (d: Tensor) => F.reshape(d, [...d.shape, 1]);

/** eigh: gA = V·(diag(gL) + ½(VᴴgV − (VᴴgV)ᴴ)/E)·Vᴴ, degenerate pairs dropped (see DEGENERACY_RTOL). */
export function eighGrad<M>(A: MatrixAlgebra<M>, gL: Tensor | null, gV: M | null, L: Tensor, V: M): M {
  let inner: M | null = gL ? A.real(F.diagEmbed(gL)) : null;
  if (gV) {
    const VhgV = A.mm(V, gV, true, false);
    const term = A.scale(A.scale(A.sub(VhgV, A.adj(VhgV)), 0.5), safeInverseGaps(gaps(L), F.max(F.abs(L), -1)));
    inner = inner ? A.add(inner, term) : term;
  }
  return A.mm(A.mm(V, inner!), V, false, true);
}

/**
 * Reduced svd. a = UᴴgU − (UᴴgU)ᴴ, b = VᴴgV − (VᴴgV)ᴴ. Off the diagonal the middle term
 * (a·sⱼ + sᵢ·b)/(sⱼ² − sᵢ²) is split as ½(a + b)/(sⱼ − sᵢ) + ½(a − b)/(sⱼ + sᵢ). Only the first part
 * (a joint rotation of the pair's u and v: the gauge) is ill-defined when sᵢ = sⱼ; it is dropped there.
 * The second part stays (it is what U·diag(c)·Vh with c constant on a cluster needs) unless
 * sᵢ = sⱼ = 0. For complex matrices a and b also have an imaginary diagonal (the columns' phases),
 * which the (a − b)/(2sᵢ) part turns into PyTorch's i·(Im(UᴴgU)ᵢᵢ − Im(VᴴgV)ᵢᵢ)/(2sᵢ).
 */
export function svdGrad<M>(A: MatrixAlgebra<M>, gU: M | null, gS: Tensor | null, gVh: M | null, U: M, S: Tensor, Vh: M, m: number, n: number): M {
  const k = S.shape[S.shape.length - 1];
  if (!gU && !gVh) return A.mm(A.scale(U, asRow(gS!)), Vh);
  const skew = (X: M) => A.sub(X, A.adj(X));
  const UhgU = gU ? A.mm(U, gU, true, false) : null;
  const a = UhgU ? skew(UhgU) : null;
  const b = gVh ? skew(A.mm(Vh, gVh, false, true)) : null;
  const both = a && b ? A.add(a, b) : (a ?? b)!;
  const diff = a && b ? A.sub(a, b) : (a ?? A.neg(b!));
  const scale = F.max(S, -1);
  const sums = F.add(asRow(S), asColumn(S));
  const middle = A.scale(A.add(A.scale(both, safeInverseGaps(gaps(S), scale)), A.scale(diff, safeInverseGaps(sums, scale))), 0.5);
  const inner = gS ? A.add(A.real(F.diagEmbed(gS)), middle) : middle;
  let gA = A.mm(A.mm(U, inner), Vh);
  const Sinv = safeReciprocal(S);
  if (gU && m > k) gA = A.add(gA, A.mm(A.scale(A.sub(gU, A.mm(U, UhgU!)), asRow(Sinv)), Vh));
  if (gVh && n > k) gA = A.add(gA, A.mm(U, A.scale(A.sub(gVh, A.mm(A.mm(gVh, Vh, false, true), Vh)), asColumn(Sinv))));
  return gA;
}

const eighVjp = ([gL, gV]: readonly (Tensor | null)[], { outputs: [L, V] }: VjpContext): (Tensor | null)[] => [eighGrad(REAL, gL, gV, L, V)];
function svdVjp([gU, gS, gVh]: readonly (Tensor | null)[], { inputs: [A], outputs: [U, S, Vh] }: VjpContext): (Tensor | null)[] {
  const [m, n] = A.shape.slice(-2);
  return [svdGrad(REAL, gU, gS, gVh, U, S, Vh, m, n)];
}

/**
 * QR (m ≥ n, diag(R) real): with X = Qᴴ·dA·R⁻¹, the skew-Hermitian QᴴdQ is tril(X, −1) − tril(X, −1)ᴴ
 * + i·Im diag(X), which gives gA = (Q·Z + gQ − Q·Qᴴ·gQ)·R⁻ᴴ with M = R·gRᴴ − gQᴴ·Q and
 * Z = gR·Rᴴ − tril(Mᴴ, −1) + tril(M, −1) + i·Im diag(M), gR taken upper triangular (for real
 * matrices this is TensorFlow's QrGrad).
 */
export function qrGrad<M>(A: MatrixAlgebra<M>, gQ: M | null, gR: M | null, Q: M, R: M, n: number, dtype: DType): M {
  const strictlyLower = (X: M) => A.scale(X, trilMask(n, dtype, 0));
  const dq = gQ ?? A.scale(Q, 0);
  const dr = gR ? A.scale(gR, F.transpose(trilMask(n, dtype))) : A.scale(R, 0);
  const Mx = A.sub(A.mm(R, dr, false, true), A.mm(dq, Q, true, false));
  const Z0 = A.add(A.sub(A.mm(dr, R, false, true), strictlyLower(A.adj(Mx))), strictlyLower(Mx));
  const imDiag = A.imagDiag(Mx);
  const Z = imDiag ? A.add(Z0, imDiag) : Z0;
  const RinvH = A.adj(A.inv(R));
  return A.mm(A.add(A.mm(Q, Z), A.sub(dq, A.mm(Q, A.mm(Q, dq, true, false)))), RinvH);
}

/** Cholesky (PyTorch's cholesky_backward): gA = L⁻ᴴ·½(T + tril(T, −1)ᴴ)·L⁻¹ with T = tril(Lᴴ·gL). */
export function choleskyGrad<M>(A: MatrixAlgebra<M>, gL: M, L: M, n: number, dtype: DType): M {
  const T = A.scale(A.mm(L, gL, true, false), trilMask(n, dtype));
  const phi = A.scale(A.add(T, A.adj(A.scale(T, trilMask(n, dtype, 0)))), 0.5);
  const Linv = A.inv(L);
  return A.mm(A.mm(Linv, phi, true, false), Linv);
}

function qrVjp([gQ, gR]: readonly (Tensor | null)[], { inputs: [A], outputs: [Q, R] }: VjpContext): (Tensor | null)[] {
  const [m, n] = A.shape.slice(-2);
  if (m < n) throw new MatgradShapeError(`linalg.qr: the gradient needs rows ≥ columns, got ${fmt(A.shape)}`);
  return [qrGrad(REAL, gQ, gR, Q, R, n, A.dtype)];
}

function choleskyVjp([gL]: readonly (Tensor | null)[], { outputs: [L] }: VjpContext): (Tensor | null)[] {
  return [choleskyGrad(REAL, gL!, L, L.shape[L.shape.length - 1], L.dtype)];
}

function eigVjp([gL, gV]: readonly (Tensor | null)[], { outputs: [L, V] }: VjpContext): (Tensor | null)[] {
  let inner: Tensor | null = null;
  if (gV) {
    const VtgV = F.matmulT(V, gV, true, false);
    // unit-norm eigenvectors: remove the component along each vector's own normalization
    const norm = mm(T(V), F.mul(V, asRow(F.diag(VtgV))));
    inner = F.mul(F.sub(VtgV, norm), safeInverseGaps(gaps(L), F.max(F.abs(L), -1)));
  }
  if (gL) inner = inner ? F.add(inner, F.diagEmbed(gL)) : F.diagEmbed(gL);
  // V⁻ᵀ · inner · Vᵀ, as a solve with Vᵀ
  return [F.apply('solve', [T(V), mm(inner!, T(V))])[0]];
}

// ---- the ops -----------------------------------------------------------------------------------

const square = (op: string) => (inputs: readonly TensorInfo[]) => {
  const [x] = inputs;
  matrixDims(op, x);
  return { shape: x.shape, dtype: x.dtype };
};

export const LINALG_OPS: { readonly [K in LinalgOpName]: OpDef } = {
  eigh: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, n } = matrixDims('eigh', a);
      return [
        { shape: [...batch, n], dtype: a.dtype },
        { shape: [...batch, n, n], dtype: a.dtype },
      ];
    },
    vjp: eighVjp,
    cpu: (k) => {
      const [a] = k.ins;
      const n = a.shape[a.shape.length - 1];
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, l: K.FloatArray, v: K.FloatArray) => noteFailure('eigh', K.eigh(x, b, n, l, v))) as never);
    },
  },
  svd: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, m, n } = matrixDims('svd', a, false);
      const k = Math.min(m, n);
      return [
        { shape: [...batch, m, k], dtype: a.dtype },
        { shape: [...batch, k], dtype: a.dtype },
        { shape: [...batch, k, n], dtype: a.dtype },
      ];
    },
    vjp: svdVjp,
    cpu: (k) => {
      const [a] = k.ins;
      const [m, n] = a.shape.slice(-2);
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, u: K.FloatArray, s: K.FloatArray, vh: K.FloatArray) => noteFailure('svd', K.svd(x, b, m, n, u, s, vh))) as never);
    },
  },
  solve: {
    kind: 'kernel',
    infer: ([a, b], _attrs: Attrs) => {
      const { batch, n } = matrixDims('solve', a);
      if (b.shape.length !== a.shape.length || b.shape[b.shape.length - 2] !== n || fmt(b.shape.slice(0, -2)) !== fmt(batch)) {
        throw new MatgradShapeError(`linalg.solve: right-hand side ${fmt(b.shape)} does not fit ${fmt(a.shape)} (expected [${[...batch, n, 'k'].join(', ')}])`);
      }
      return [{ shape: b.shape, dtype: commonDType('linalg.solve', [a.dtype, b.dtype]) }];
    },
    vjp: ([gX], { inputs: [A], outputs: [X] }) => {
      const gB = F.apply('solve', [T(A), gX!])[0];
      return [F.neg(F.matmulT(gB, X, false, true)), gB];
    },
    cpu: (k) => {
      const [a, b] = k.ins;
      const n = a.shape[a.shape.length - 1];
      const nrhs = b.shape[b.shape.length - 1];
      const bs = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, rhs: K.FloatArray, out: K.FloatArray) => noteFailure('solve', K.solve(x, rhs, bs, n, nrhs, out))) as never);
    },
  },
  inv: {
    kind: 'kernel',
    infer: (inputs) => [square('inv')(inputs)],
    vjp: ([gY], { outputs: [Y] }) => [F.neg(F.matmulT(Y, F.matmulT(gY!, Y, false, true), true, false))],
    cpu: (k) => {
      const [a] = k.ins;
      const n = a.shape[a.shape.length - 1];
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, out: K.FloatArray) => noteFailure('inv', K.inv(x, b, n, out))) as never);
    },
  },
  cholesky: {
    kind: 'kernel',
    infer: (inputs) => [square('cholesky')(inputs)],
    vjp: choleskyVjp,
    cpu: (k) => {
      const [a] = k.ins;
      const n = a.shape[a.shape.length - 1];
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, out: K.FloatArray) => noteFailure('cholesky', K.cholesky(x, b, n, out))) as never);
    },
  },
  qr: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, m, n } = matrixDims('qr', a, false);
      const k = Math.min(m, n);
      return [
        { shape: [...batch, m, k], dtype: a.dtype },
        { shape: [...batch, k, n], dtype: a.dtype },
      ];
    },
    vjp: qrVjp,
    cpu: (k) => {
      const [a] = k.ins;
      const [m, n] = a.shape.slice(-2);
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, q: K.FloatArray, r: K.FloatArray) => noteFailure('qr', K.qr(x, b, m, n, q, r))) as never);
    },
  },
  det: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch } = matrixDims('det', a);
      return [{ shape: batch, dtype: a.dtype }];
    },
    // d det / dA = det · A⁻ᵀ (undefined gradient at singular A: documented)
    vjp: ([g], { inputs: [A], outputs: [d] }) => [F.mul(T(F.apply('inv', [A])[0]), F.reshape(F.mul(g!, d), [...d.shape, 1, 1]))],
    cpu: (k) => {
      const [a] = k.ins;
      const n = a.shape[a.shape.length - 1];
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, out: K.FloatArray) => K.det(x, b, n, out)) as never);
    },
  },
  slogdet: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch } = matrixDims('slogdet', a);
      return [
        { shape: batch, dtype: a.dtype },
        { shape: batch, dtype: a.dtype },
      ];
    },
    vjp: ([, gLog], { inputs: [A] }) => [gLog ? F.mul(T(F.apply('inv', [A])[0]), F.reshape(gLog, [...gLog.shape, 1, 1])) : null],
    cpu: (k) => {
      const [a] = k.ins;
      const n = a.shape[a.shape.length - 1];
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, s: K.FloatArray, l: K.FloatArray) => K.slogdet(x, b, n, s, l)) as never);
    },
  },
  eig: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, n } = matrixDims('eig', a);
      return [
        { shape: [...batch, n], dtype: a.dtype },
        { shape: [...batch, n, n], dtype: a.dtype },
      ];
    },
    vjp: eigVjp,
    cpu: (k) => {
      const [a] = k.ins;
      const n = a.shape[a.shape.length - 1];
      const b = batchSize(a.shape, 2);
      return call(k, ((x: K.FloatArray, l: K.FloatArray, v: K.FloatArray) => noteFailure('eig', K.eig(x, b, n, l, v))) as never);
    },
  },
  eigvalsh: { kind: 'composite', expand: ([a]) => F.apply('eigh', [a])[0] },
  svdvals: { kind: 'composite', expand: ([a]) => F.apply('svd', [a])[1] },
  ...COMPLEX_LINALG_OPS,
};

