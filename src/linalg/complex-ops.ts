// The complex linear-algebra ops. Graphs only hold real tensors, so these ops take and return the
// interleaved real views ([..., 2], see src/autograd/complex.ts) of complex matrices; eigen/singular
// values are real tensors. The VJPs are PyTorch's complex formulas (torch.linalg backward, conjugate
// Wirtinger convention), written with complex ops on views of the cotangents.
import * as F from '../autograd/api.js';
import * as C from '../autograd/complex.js';
import { ComplexTensor } from '../autograd/complex.js';
import { commonDType } from '../autograd/dtype.js';
import type { TensorInfo } from '../autograd/node.js';
import type { OpDef, VjpContext } from '../autograd/ops.js';
import { fmt } from '../autograd/shape.js';
import { eye, type Tensor } from '../autograd/tensor.js';
import { MatgradShapeError } from '../errors.js';
import { ccholesky, cdet, ceig, ceigh, cinv, cqr, cslogdet, csolve, csvd } from './kernels/complex.js';
import { asRow, batchSize, call, choleskyGrad, DEGENERACY_RTOL, eighGrad, gaps, type MatrixAlgebra, matrixDims, qrGrad, safeInverseGaps, svdGrad } from './ops.js';
import { noteFailure } from './status.js';

export type ComplexLinalgOpName =
  | 'complexEigh'
  | 'complexSvd'
  | 'complexSolve'
  | 'complexInv'
  | 'complexDet'
  | 'complexCholesky'
  | 'complexQr'
  | 'complexSlogdet'
  | 'complexEig';

/** The complex matrix dims of a real view [..., m, n, 2]. */
function complexDims(op: string, x: TensorInfo, square = true) {
  if (x.shape[x.shape.length - 1] !== 2) throw new MatgradShapeError(`linalg.${op}: expected the real view [..., m, n, 2] of a complex matrix, got ${fmt(x.shape)}`);
  return matrixDims(op, { shape: x.shape.slice(0, -1), dtype: x.dtype }, square);
}
const view = (t: Tensor) => ComplexTensor.fromView(t);
const cv = (t: Tensor | null) => (t ? view(t) : null);
const mm = C.matmul;
const H = C.adjoint;

const COMPLEX: MatrixAlgebra<ComplexTensor> = {
  mm: (a, b, adjA = false, adjB = false) => C.matmul(adjA ? C.adjoint(a) : a, adjB ? C.adjoint(b) : b),
  adj: (a) => C.adjoint(a),
  add: (a, b) => C.add(a, b),
  sub: (a, b) => C.sub(a, b),
  neg: (a) => C.neg(a),
  scale: (a, r) => C.mul(a, r),
  real: (r) => C.complex(r, F.mul(r, 0)),
  inv: (a) => view(F.apply('complexInv', [a.view])[0]),
  imagDiag: (a) => C.complex(F.mul(a.re, 0), F.mul(a.im, eye(a.shape[a.shape.length - 1], { dtype: a.realDType }))),
};

// the imaginary diagonal of VᴴgV (the phase gauge) drops out of eighGrad's skew part: E is 0 there
const eighVjp = ([gL, gV]: readonly (Tensor | null)[], { outputs: [L, V] }: VjpContext): (Tensor | null)[] => [
  eighGrad(COMPLEX, gL, cv(gV), L, view(V)).view,
];
function svdVjp([gU, gS, gVh]: readonly (Tensor | null)[], { inputs: [A], outputs: [U, S, Vh] }: VjpContext): (Tensor | null)[] {
  const [m, n] = A.shape.slice(-3, -1);
  return [svdGrad(COMPLEX, cv(gU), gS, cv(gVh), view(U), S, view(Vh), m, n).view];
}

function choleskyVjp([gL]: readonly (Tensor | null)[], { outputs: [L] }: VjpContext): (Tensor | null)[] {
  const n = L.shape[L.shape.length - 2];
  return [choleskyGrad(COMPLEX, view(gL!), view(L), n, L.dtype).view];
}

function qrVjp([gQ, gR]: readonly (Tensor | null)[], { inputs: [A], outputs: [Q, R] }: VjpContext): (Tensor | null)[] {
  const [m, n] = A.shape.slice(-3, -1);
  if (m < n) throw new MatgradShapeError(`linalg.qr: the gradient needs rows ≥ columns, got ${fmt(A.shape.slice(0, -1))}`);
  return [qrGrad(COMPLEX, cv(gQ), cv(gR), view(Q), view(R), n, A.dtype).view];
}

/**
 * slogdet: d log det = tr(A⁻¹dA), so gA = (g_logabsdet − i·c)·A⁻ᴴ with c = Im(conj(g_sign)·sign)
 * (only the part of g_sign along i·sign moves the loss).
 */
function slogdetVjp([gSign, gLog]: readonly (Tensor | null)[], { inputs: [A], outputs: [signView, logabsdet] }: VjpContext): (Tensor | null)[] {
  const c = gSign ? C.mul(C.conj(view(gSign)), view(signView)).im : null;
  const re = gLog ?? F.mul(logabsdet, 0);
  const scale = C.complex(re, c ? F.neg(c) : F.mul(re, 0));
  return [C.mul(H(COMPLEX.inv(view(A))), C.reshape(scale, [...scale.shape, 1, 1])).view];
}

/**
 * General eigendecomposition (PyTorch's linalg_eig_backward): with E_ij = λⱼ − λᵢ,
 * gA = V⁻ᴴ·(diag(gL) + (VᴴgV − VᴴV·diag(Re diag(VᴴgV))) / conj(E))·Vᴴ; the Re-diagonal term removes
 * what only changes the unit norm of the vectors, and near-equal eigenvalues drop their 1/E terms.
 */
function eigVjp([gLview, gVview]: readonly (Tensor | null)[], { outputs: [Lview, Vview] }: VjpContext): (Tensor | null)[] {
  const V = view(Vview);
  const lam = view(Lview);
  let inner: ComplexTensor | null = null;
  if (gVview) {
    const VhgV = mm(H(V), view(gVview));
    const adj = C.sub(VhgV, mm(H(V), C.mul(V, asRow(F.diag(VhgV.re)))));
    const E = C.complex(gaps(lam.re), gaps(lam.im));
    // adj / conj(E) = adj·E/|E|², with |E|² compared to (rtol·max|λ|)²
    const abs2 = F.add(F.square(E.re), F.square(E.im));
    const scale2 = F.max(F.add(F.square(lam.re), F.square(lam.im)), -1);
    inner = C.mul(C.mul(adj, E), safeInverseGaps(abs2, scale2, DEGENERACY_RTOL[V.realDType] ** 2));
  }
  if (gLview) {
    const gL = C.diagEmbed(view(gLview));
    inner = inner ? C.add(inner, gL) : gL;
  }
  return [F.apply('complexSolve', [H(V).view, mm(inner!, H(V)).view])[0]];
}

const squareInfo = (op: string) => ([a]: readonly TensorInfo[]) => {
  complexDims(op, a);
  return [{ shape: a.shape, dtype: a.dtype }];
};
/** Batch count and trailing dims of a complex view for the kernels. */
const dims = (shape: readonly number[]) => ({ b: batchSize(shape, 3), m: shape[shape.length - 3], n: shape[shape.length - 2] });

export const COMPLEX_LINALG_OPS: { readonly [K in ComplexLinalgOpName]: OpDef } = {
  complexEigh: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, n } = complexDims('eigh', a);
      return [
        { shape: [...batch, n], dtype: a.dtype },
        { shape: [...batch, n, n, 2], dtype: a.dtype },
      ];
    },
    vjp: eighVjp,
    cpu: (k) => {
      const { b, n } = dims(k.ins[0].shape);
      return call(k, ((x, l, v) => noteFailure('eigh', ceigh(x, b, n, l, v))) as Parameters<typeof call>[1]);
    },
  },
  complexSvd: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, m, n } = complexDims('svd', a, false);
      const k = Math.min(m, n);
      return [
        { shape: [...batch, m, k, 2], dtype: a.dtype },
        { shape: [...batch, k], dtype: a.dtype },
        { shape: [...batch, k, n, 2], dtype: a.dtype },
      ];
    },
    vjp: svdVjp,
    cpu: (k) => {
      const { b, m, n } = dims(k.ins[0].shape);
      return call(k, ((x, u, s, vh) => noteFailure('svd', csvd(x, b, m, n, u, s, vh))) as Parameters<typeof call>[1]);
    },
  },
  complexSolve: {
    kind: 'kernel',
    infer: ([a, rhs]) => {
      const { batch, n } = complexDims('solve', a);
      const bs = rhs.shape;
      if (bs.length !== a.shape.length || bs[bs.length - 1] !== 2 || bs[bs.length - 3] !== n || fmt(bs.slice(0, -3)) !== fmt(batch)) {
        throw new MatgradShapeError(`linalg.solve: right-hand side ${fmt(bs.slice(0, -1))} does not fit ${fmt(a.shape.slice(0, -1))} (expected [${[...batch, n, 'k'].join(', ')}])`);
      }
      return [{ shape: bs, dtype: commonDType('linalg.solve', [a.dtype, rhs.dtype]) }];
    },
    // X = A⁻¹B: gB = A⁻ᴴ·gX, gA = −gB·Xᴴ
    vjp: ([gX], { inputs: [A], outputs: [X] }) => {
      const gB = F.apply('complexSolve', [H(view(A)).view, gX!])[0];
      return [C.neg(mm(view(gB), H(view(X)))).view, gB];
    },
    cpu: (k) => {
      const { b, n } = dims(k.ins[0].shape);
      const nrhs = k.ins[1].shape[k.ins[1].shape.length - 2];
      return call(k, ((x, rhs, out) => noteFailure('solve', csolve(x, rhs, b, n, nrhs, out))) as Parameters<typeof call>[1]);
    },
  },
  complexInv: {
    kind: 'kernel',
    infer: squareInfo('inv'),
    // Y = A⁻¹: gA = −Yᴴ·gY·Yᴴ
    vjp: ([gY], { outputs: [Y] }) => [C.neg(mm(mm(H(view(Y)), view(gY!)), H(view(Y)))).view],
    cpu: (k) => {
      const { b, n } = dims(k.ins[0].shape);
      return call(k, ((x, out) => noteFailure('inv', cinv(x, b, n, out))) as Parameters<typeof call>[1]);
    },
  },
  complexCholesky: {
    kind: 'kernel',
    infer: squareInfo('cholesky'),
    vjp: choleskyVjp,
    cpu: (k) => {
      const { b, n } = dims(k.ins[0].shape);
      return call(k, ((x, out) => noteFailure('cholesky', ccholesky(x, b, n, out))) as Parameters<typeof call>[1]);
    },
  },
  complexQr: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, m, n } = complexDims('qr', a, false);
      const k = Math.min(m, n);
      return [
        { shape: [...batch, m, k, 2], dtype: a.dtype },
        { shape: [...batch, k, n, 2], dtype: a.dtype },
      ];
    },
    vjp: qrVjp,
    cpu: (k) => {
      const { b, m, n } = dims(k.ins[0].shape);
      return call(k, ((x, q, r) => noteFailure('qr', cqr(x, b, m, n, q, r))) as Parameters<typeof call>[1]);
    },
  },
  complexSlogdet: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch } = complexDims('slogdet', a);
      return [
        { shape: [...batch, 2], dtype: a.dtype },
        { shape: batch, dtype: a.dtype },
      ];
    },
    vjp: slogdetVjp,
    cpu: (k) => {
      const { b, n } = dims(k.ins[0].shape);
      return call(k, ((x, sg, la) => cslogdet(x, b, n, sg, la)) as Parameters<typeof call>[1]);
    },
  },
  complexEig: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch, n } = complexDims('eig', a);
      return [
        { shape: [...batch, n, 2], dtype: a.dtype },
        { shape: [...batch, n, n, 2], dtype: a.dtype },
      ];
    },
    vjp: eigVjp,
    cpu: (k) => {
      const { b, n } = dims(k.ins[0].shape);
      return call(k, ((x, l, v) => noteFailure('eig', ceig(x, b, n, l, v))) as Parameters<typeof call>[1]);
    },
  },
  complexDet: {
    kind: 'kernel',
    infer: ([a]) => {
      const { batch } = complexDims('det', a);
      return [{ shape: [...batch, 2], dtype: a.dtype }];
    },
    // holomorphic: gA = g·conj(det)·A⁻ᴴ (undefined at singular A, like the real det)
    vjp: ([g], { inputs: [A], outputs: [d] }) => {
      const Ainv = COMPLEX.inv(view(A));
      const scale = C.mul(view(g!), C.conj(view(d)));
      return [C.mul(H(Ainv), C.reshape(scale, [...scale.shape, 1, 1])).view];
    },
    cpu: (k) => {
      const { b, n } = dims(k.ins[0].shape);
      return call(k, ((x, out) => cdet(x, b, n, out)) as Parameters<typeof call>[1]);
    },
  },
};
