// mg.linalg: batched dense linear algebra with gradients (leading dims are batch dims).
import * as F from '../autograd/api.js';
import { broadcastShapes, fmt } from '../autograd/shape.js';
import { Tensor } from '../autograd/tensor.js';
import { MatgradError, MatgradShapeError } from '../errors.js';

export { DEGENERACY_RTOL } from './ops.js';

function need(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new MatgradError(`linalg.${op}: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}

/** Symmetric eigendecomposition (lower triangle read, like torch): values ascending, vectors in columns. */
export function eigh(A: Tensor): { values: Tensor; vectors: Tensor } {
  const [values, vectors] = F.apply('eigh', [need('eigh', A)]);
  return { values, vectors };
}
export const eigvalsh = (A: Tensor): Tensor => F.apply('eigvalsh', [need('eigvalsh', A)])[0];

/** Reduced SVD A = U·diag(S)·Vh, singular values descending. */
export function svd(A: Tensor): { U: Tensor; S: Tensor; Vh: Tensor } {
  const [U, S, Vh] = F.apply('svd', [need('svd', A)]);
  return { U, S, Vh };
}
export const svdvals = (A: Tensor): Tensor => F.apply('svdvals', [need('svdvals', A)])[0];

/** Solves A·X = B (LU with partial pivoting); B may be a vector [..., n]; batch dims broadcast. */
export function solve(A: Tensor, B: Tensor): Tensor {
  need('solve', A);
  need('solve', B);
  if (A.rank < 2) throw new MatgradShapeError(`linalg.solve: A must be a (batch of) matrices, got ${fmt(A.shape)}`);
  const vector = B.rank === A.rank - 1 || B.rank === 1;
  const B2 = vector ? F.reshape(B, [...B.shape, 1]) : B;
  const batch = broadcastShapes('linalg.solve', [A.shape.slice(0, -2), B2.shape.slice(0, -2)]);
  const Ab = F.broadcastTo(A, [...batch, ...A.shape.slice(-2)]);
  const Bb = F.broadcastTo(B2, [...batch, ...B2.shape.slice(-2)]);
  const X = F.apply('solve', [Ab, Bb])[0];
  return vector ? F.reshape(X, X.shape.slice(0, -1)) : X;
}
export const inv = (A: Tensor): Tensor => F.apply('inv', [need('inv', A)])[0];
/** Lower Cholesky factor L (A = L·Lᵀ), reading the lower triangle. */
export const cholesky = (A: Tensor): Tensor => F.apply('cholesky', [need('cholesky', A)])[0];
/** Reduced Householder QR, diag(R) ≥ 0. */
export function qr(A: Tensor): { Q: Tensor; R: Tensor } {
  const [Q, R] = F.apply('qr', [need('qr', A)]);
  return { Q, R };
}
export const det = (A: Tensor): Tensor => F.apply('det', [need('det', A)])[0];
export function slogdet(A: Tensor): { sign: Tensor; logabsdet: Tensor } {
  const [sign, logabsdet] = F.apply('slogdet', [need('slogdet', A)]);
  return { sign, logabsdet };
}
/** Eigendecomposition of a real matrix with a real spectrum: values ascending, unit-norm vector columns. */
export function eig(A: Tensor): { values: Tensor; vectors: Tensor } {
  const [values, vectors] = F.apply('eig', [need('eig', A)]);
  return { values, vectors };
}
