// mg.linalg: batched dense linear algebra with gradients (leading dims are batch dims).
import * as F from '../autograd/api.js';
import * as C from '../autograd/complex.js';
import { type AnyTensor, ComplexTensor } from '../autograd/complex.js';
import { broadcastShapes, fmt } from '../autograd/shape.js';
import { customRoot } from '../autograd/implicit.js';
import { Tensor } from '../autograd/tensor.js';
import { MatgradError, MatgradShapeError } from '../errors.js';
import { userOp } from '../autograd/userop.js';

export { DEGENERACY_RTOL } from './ops.js';

function need(op: string, x: unknown): Tensor {
  if (x instanceof ComplexTensor) throw C.notForComplex(`linalg.${op}`, [x]);
  if (!(x instanceof Tensor)) throw new MatgradError(`linalg.${op}: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}

const view = (z: ComplexTensor) => z.view;
const complexOut = (t: Tensor) => ComplexTensor.fromView(t);

/**
 * Symmetric (Hermitian for complex A) eigendecomposition, reading the lower triangle like torch:
 * values ascending (real), orthonormal vectors in columns (complex ones: largest component real > 0).
 */
export function eigh(A: Tensor): { values: Tensor; vectors: Tensor };
export function eigh(A: ComplexTensor): { values: Tensor; vectors: ComplexTensor };
export function eigh(A: AnyTensor): { values: Tensor; vectors: AnyTensor } {
  if (A instanceof ComplexTensor) {
    const [values, vectors] = F.apply('complexEigh', [view(A)]);
    return { values, vectors: complexOut(vectors) };
  }
  const [values, vectors] = F.apply('eigh', [need('eigh', A)]);
  return { values, vectors };
}
export const eigvalsh = (A: AnyTensor): Tensor => userOp('linalg.eigvalsh', [A], () => (A instanceof ComplexTensor ? eigh(A).values : F.apply('eigvalsh', [need('eigvalsh', A)])[0]));

/** Reduced SVD A = U·diag(S)·Vh, singular values descending (real for complex A too). */
export function svd(A: Tensor): { U: Tensor; S: Tensor; Vh: Tensor };
export function svd(A: ComplexTensor): { U: ComplexTensor; S: Tensor; Vh: ComplexTensor };
export function svd(A: AnyTensor): { U: AnyTensor; S: Tensor; Vh: AnyTensor } {
  if (A instanceof ComplexTensor) {
    const [U, S, Vh] = F.apply('complexSvd', [view(A)]);
    return { U: complexOut(U), S, Vh: complexOut(Vh) };
  }
  const [U, S, Vh] = F.apply('svd', [need('svd', A)]);
  return { U, S, Vh };
}
export const svdvals = (A: AnyTensor): Tensor => userOp('linalg.svdvals', [A], () => (A instanceof ComplexTensor ? svd(A).S : F.apply('svdvals', [need('svdvals', A)])[0]));

/** Solves A·X = B (LU with partial pivoting); B may be a vector [..., n]; batch dims broadcast; complex A or B: complex X. */
export function solve(A: Tensor, B: Tensor): Tensor;
export function solve(A: AnyTensor, B: AnyTensor): ComplexTensor;
export function solve(A: AnyTensor, B: AnyTensor): AnyTensor {
  return userOp('linalg.solve', [A, B], () => {
    if (A instanceof ComplexTensor || B instanceof ComplexTensor) return complexSolve(A, B);
    need('solve', A);
    need('solve', B);
    if (A.rank < 2) throw new MatgradShapeError(`linalg.solve: A must be a (batch of) matrices, got ${fmt(A.shape)}`);
    const vector = B.rank === A.rank - 1 || B.rank === 1;
    const B2 = vector ? F.reshape(B, [...B.shape, 1]) : B;
    const batch = broadcastShapes('linalg.solve', [A.shape.slice(0, -2), B2.shape.slice(0, -2)]);
    const Ab = F.broadcastTo(A, [...batch, ...A.shape.slice(-2)]);
    const Bb = F.broadcastTo(B2, [...batch, ...B2.shape.slice(-2)]);
    const lazy = F.apply('solve', [Ab, Bb])[0];
    // broadcastTo does not fold: evaluate now on concrete inputs, so a singular A throws at this call
    const X = A.isConcrete && B.isConcrete ? F.materialize(lazy) : lazy;
    return vector ? F.reshape(X, X.shape.slice(0, -1)) : X;
  });
}
function complexSolve(A0: AnyTensor, B0: AnyTensor): ComplexTensor {
  const [A, B] = [A0, B0].map((x) => (x instanceof ComplexTensor ? x : C.complex(need('solve', x), F.mul(x, 0))));
  if (A.rank < 2) throw new MatgradShapeError(`linalg.solve: A must be a (batch of) matrices, got ${fmt(A.shape)}`);
  const vector = B.rank === A.rank - 1 || B.rank === 1;
  const B2 = vector ? C.reshape(B, [...B.shape, 1]) : B;
  const batch = broadcastShapes('linalg.solve', [A.shape.slice(0, -2), B2.shape.slice(0, -2)]);
  const Ab = C.broadcastTo(A, [...batch, ...A.shape.slice(-2)]).view;
  const Bb = C.broadcastTo(B2, [...batch, ...B2.shape.slice(-2)]).view;
  const lazy = F.apply('complexSolve', [Ab, Bb])[0];
  const X = complexOut(A.isConcrete && B.isConcrete ? F.materialize(lazy) : lazy);
  return vector ? C.reshape(X, X.shape.slice(0, -1)) : X;
}

export function inv(A: Tensor): Tensor;
export function inv(A: ComplexTensor): ComplexTensor;
export function inv(A: AnyTensor): AnyTensor;
export function inv(A: AnyTensor): AnyTensor {
  return userOp('linalg.inv', [A], () => A instanceof ComplexTensor ? complexOut(F.apply('complexInv', [view(A)])[0]) : F.apply('inv', [need('inv', A)])[0]);
}
/** Lower Cholesky factor L (A = L·Lᵀ, or L·Lᴴ with a real positive diagonal), reading the lower triangle. */
export function cholesky(A: Tensor): Tensor;
export function cholesky(A: ComplexTensor): ComplexTensor;
export function cholesky(A: AnyTensor): AnyTensor {
  return userOp('linalg.cholesky', [A], () => A instanceof ComplexTensor ? complexOut(F.apply('complexCholesky', [view(A)])[0]) : F.apply('cholesky', [need('cholesky', A)])[0]);
}
/** Reduced Householder QR, diag(R) real and ≥ 0. */
export function qr(A: Tensor): { Q: Tensor; R: Tensor };
export function qr(A: ComplexTensor): { Q: ComplexTensor; R: ComplexTensor };
export function qr(A: AnyTensor): { Q: AnyTensor; R: AnyTensor } {
  if (A instanceof ComplexTensor) {
    const [Q, R] = F.apply('complexQr', [view(A)]);
    return { Q: complexOut(Q), R: complexOut(R) };
  }
  const [Q, R] = F.apply('qr', [need('qr', A)]);
  return { Q, R };
}
export function det(A: Tensor): Tensor;
export function det(A: ComplexTensor): ComplexTensor;
export function det(A: AnyTensor): AnyTensor {
  return userOp('linalg.det', [A], () => A instanceof ComplexTensor ? complexOut(F.apply('complexDet', [view(A)])[0]) : F.apply('det', [need('det', A)])[0]);
}
/** sign·exp(logabsdet) = det A; for complex A the sign is complex (det/|det|). */
export function slogdet(A: Tensor): { sign: Tensor; logabsdet: Tensor };
export function slogdet(A: ComplexTensor): { sign: ComplexTensor; logabsdet: Tensor };
export function slogdet(A: AnyTensor): { sign: AnyTensor; logabsdet: Tensor } {
  if (A instanceof ComplexTensor) {
    const [sign, logabsdet] = F.apply('complexSlogdet', [view(A)]);
    return { sign: complexOut(sign), logabsdet };
  }
  const [sign, logabsdet] = F.apply('slogdet', [need('slogdet', A)]);
  return { sign, logabsdet };
}
/**
 * Eigendecomposition A·V = V·diag(values), vectors in unit-norm columns. A real matrix must have a
 * real spectrum (values ascending); a complex one gives complex values, sorted by (Re, Im) ascending,
 * each vector's largest component real > 0. For a real matrix with complex eigenvalues, pass it as
 * complex: `eig(mg.complex(A, mg.mul(A, 0)))` (torch.linalg.eig's result).
 */
export function eig(A: Tensor): { values: Tensor; vectors: Tensor };
export function eig(A: ComplexTensor): { values: ComplexTensor; vectors: ComplexTensor };
export function eig(A: AnyTensor): { values: AnyTensor; vectors: AnyTensor } {
  if (A instanceof ComplexTensor) {
    const [values, vectors] = F.apply('complexEig', [view(A)]);
    return { values: complexOut(values), vectors: complexOut(vectors) };
  }
  const [values, vectors] = F.apply('eig', [need('eig', A)]);
  return { values, vectors };
}
/** Eigenvalues, complex and sorted by (Re, Im) ascending, like torch.linalg.eigvals (real A is taken as complex). */
export function eigvals(A: AnyTensor): ComplexTensor {
  return userOp('linalg.eigvals', [A], () => eig(A instanceof ComplexTensor ? A : C.complex(need('eigvals', A), F.mul(A, 0))).values);
}

export interface EigenvectorOptions {
  /** Which eigenpair, in ascending order of eigenvalue: 'smallest', 'largest', or an index. */
  which?: 'smallest' | 'largest' | number;
  /** Use the symmetric solver (default: detected from A). */
  symmetric?: boolean;
}

/**
 * One eigenpair (value, unit vector) of each matrix, differentiated implicitly (seed 003): the
 * eigen-equation F(v, λ; A) = [(A − λI)v; (vᵀv − 1)/2] = 0 is the constraint, so the adjoint is the
 * bordered system [A − λI, −v; vᵀ, 0]ᵀ. Works for symmetric A and for non-symmetric A with a simple
 * real eigenvalue; batched over leading dims. At a repeated eigenvalue the bordered system is singular:
 * it is solved in the least-squares sense, dropping the directions of the other eigenvectors of the
 * same eigenvalue (gaps ≤ DEGENERACY_RTOL relative to ‖A‖_F), the pairs eigh's gradient drops.
 */
export function eigenvector(A: Tensor, opts: EigenvectorOptions = {}): { value: Tensor; vector: Tensor } {
  need('eigenvector', A);
  if (A.rank < 2 || A.shape[A.rank - 1] !== A.shape[A.rank - 2]) {
    throw new MatgradShapeError(`linalg.eigenvector: A must be a (batch of) square matrices, got ${fmt(A.shape)}`);
  }
  const n = A.shape[A.rank - 1];
  const batch = A.shape.slice(0, -2);
  const which = opts.which ?? 'smallest';
  const index = which === 'smallest' ? 0 : which === 'largest' ? n - 1 : which;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new MatgradError(`linalg.eigenvector: which must be 'smallest', 'largest' or an index in [0, ${n - 1}], got ${String(which)}`);
  const root = eigenRoot(batch.length, n, index, opts.symmetric);
  const s = normScale(A);
  const x = root(A, s);
  const start = batch.map(() => 0);
  return {
    vector: F.slice(x, [...start, 0], [...batch, n]),
    value: F.mul(F.reshape(F.slice(x, [...start, n], [...batch, 1]), batch), F.reshape(s, batch)),
  };
}

/**
 * ‖A‖_F per matrix ([..., 1]; 1 for a zero matrix, with a finite gradient there): the bordered system
 * is written in units of it, so its border has the scale of its eigenvalue gaps and one relative
 * tolerance separates degenerate gaps from the rest at any scale of A.
 */
function normScale(A: Tensor): Tensor {
  const q = F.sum(F.square(A), [-2, -1]);
  const s = F.sqrt(F.where(F.gt(q, 0), q, 1));
  return F.reshape(s, [...s.shape, 1]);
}

const eigenRoots = new Map<string, (A: Tensor, s: Tensor) => Tensor>();
function eigenRoot(batchDims: number, n: number, index: number, symmetric: boolean | undefined) {
  const key = `${batchDims}:${n}:${index}:${symmetric}`;
  let root = eigenRoots.get(key);
  if (!root) {
    // x = (v, μ) with λ = s·μ, s = ‖A‖_F: F = [(A − sμI)v; s(vᵀv − 1)/2], whose Jacobian in x has
    // singular values |λⱼ − λ| (j ≠ the chosen pair) and s, s (the border)
    const residual = (x: Tensor, A: Tensor, s: Tensor) => {
      const batch = x.shape.slice(0, -1);
      const start = batch.map(() => 0);
      const v = F.slice(x, [...start, 0], [...batch, n]);
      const lam = F.mul(F.slice(x, [...start, n], [...batch, 1]), s);
      const Av = F.reshape(F.matmul(A, F.reshape(v, [...batch, n, 1])), [...batch, n]);
      const norm = F.mul(F.mul(F.sub(F.sum(F.square(v), -1, true), 1), 0.5), s);
      return F.concat([F.sub(Av, F.mul(lam, v)), norm], -1);
    };
    const solver = (A: Tensor, s: Tensor) => {
      const sym = symmetric ?? F.max(F.abs(F.sub(A, F.transpose(A)))).item() <= 1e-12 * Math.max(1e-300, F.max(F.abs(A)).item());
      const { values, vectors } = sym ? eigh(A) : eig(A);
      const batch = A.shape.slice(0, -2);
      const start = batch.map(() => 0);
      const v = F.reshape(F.slice(vectors, [...start, 0, index], [...batch, n, 1]), [...batch, n]);
      const lam = F.slice(values, [...start, index], [...batch, 1]);
      return F.concat([v, F.div(lam, s)], -1);
    };
    root = customRoot(residual, solver, { shape: ([a]) => [...a.slice(0, -2), n + 1], batchDims, linearSolver: 'lstsq' });
    eigenRoots.set(key, root);
  }
  return root;
}
