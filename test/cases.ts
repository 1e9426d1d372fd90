import { matmulT, pad } from '../src/autograd/api.js';
import type { OpName } from '../src/autograd/ops.js';
import * as mg from '../src/index.js';
import type { Tensor } from '../src/index.js';

const L = mg.linalg;
/** x with x³ + p·x − q = 0 (p > 0: one real root), by Newton; differentiated implicitly. */
const cubicRoot = mg.customRoot(
  (x, p, q) => mg.sub(mg.add(mg.pow(x, 3), mg.mul(p, x)), q),
  (p, q) => {
    const P = p.dataSync();
    const Q = q.dataSync();
    return Float64Array.from(P, (pv, i) => {
      let x = 0;
      for (let k = 0; k < 100; k++) x -= (x ** 3 + pv * x - Q[i]) / (3 * x * x + pv);
      return x;
    });
  },
);
const sym = (x: Tensor) => mg.mul(mg.add(x, mg.transpose(x)), 0.5);
const shift = (x: Tensor, s: number) => mg.add(x, mg.mul(mg.eye(x.shape[x.shape.length - 1]), s));
/** A gauge-invariant function of orthonormal columns: V·diag(1..k)·Vᵀ (sign flips cancel). */
const projector = (V: Tensor) => {
  const k = V.shape[V.shape.length - 1];
  return mg.matmul(mg.mul(V, mg.tensor(Array.from({ length: k }, (_, i) => i + 1))), mg.transpose(V));
};

const cx = (x: Tensor) => mg.viewAsComplex(x);
const herm = (z: mg.ComplexTensor) => mg.mul(mg.add(z, mg.adjoint(z)), 0.5);
const cshift = (z: mg.ComplexTensor, s: number) => mg.add(z, mg.eye(z.shape[z.shape.length - 1]).mul(s));
/** V·diag(1..k)·Vᴴ: invariant to the phases of V's columns. */
const projectorC = (V: mg.ComplexTensor) => {
  const k = V.shape[V.shape.length - 1];
  return mg.matmul(mg.mul(V, mg.tensor(Array.from({ length: k }, (_, i) => i + 1))), mg.adjoint(V));
};

// Op cases shared by every backend's tests: table-driven from the op table.
/** A gradcheck case: input shapes, how to draw inputs, and the function to check. */
export interface Case {
  name: string;
  shapes: number[][];
  fn: (...xs: Tensor[]) => Tensor | Tensor[];
  /** Inputs drawn from [low, high) (default [-1, 1)). */
  range?: [number, number];
  tol?: { eps?: number; atol?: number; rtol?: number };
}

const c = (name: string, shapes: number[][], fn: Case['fn'], extra: Partial<Case> = {}): Case => ({
  name,
  shapes,
  fn,
  ...extra,
});
const positive: Partial<Case> = { range: [0.5, 2] };

// Every op in the table needs at least one case: the Record type makes a missing op a compile error,
// and the test below fails for an op whose list is empty (sources excepted: they are not applied).
export const CASES: Record<OpName, Case[]> = {
  const: [],
  input: [],
  add: [
    c(
      'same shape',
      [
        [3, 4],
        [3, 4],
      ],
      mg.add,
    ),
    c('broadcast rows', [[2, 3, 4], [4]], mg.add),
    c(
      'outer broadcast',
      [
        [3, 1],
        [1, 4],
      ],
      mg.add,
    ),
  ],
  sub: [
    c(
      'broadcast',
      [
        [2, 3],
        [2, 1],
      ],
      mg.sub,
    ),
    c('scalar', [[3], []], mg.sub),
  ],
  mul: [
    c(
      'broadcast',
      [
        [2, 3, 4],
        [3, 1],
      ],
      mg.mul,
    ),
    c('self', [[3, 3]], (x) => mg.mul(x, x)),
  ],
  div: [c('broadcast', [[2, 3], [3]], mg.div, positive), c('number', [[4]], (x) => mg.div(1, x), positive)],
  maximum: [c('broadcast', [[3, 4], [4]], mg.maximum)],
  minimum: [
    c(
      'broadcast',
      [
        [3, 4],
        [3, 1],
      ],
      mg.minimum,
    ),
  ],
  atan2: [
    c(
      'all quadrants, broadcast',
      [
        [3, 4],
        [4],
      ],
      mg.atan2,
    ),
  ],
  gt: [
    c(
      'mask times x',
      [
        [3, 3],
        [3, 3],
      ],
      (a, b) => mg.mul(mg.gt(a, b), a),
    ),
  ],
  ge: [c('mask times x', [[3, 3], [3]], (a, b) => mg.mul(mg.ge(a, b), b))],
  lt: [
    c(
      'mask times x',
      [
        [2, 4],
        [2, 4],
      ],
      (a, b) => mg.mul(mg.lt(a, b), mg.add(a, b)),
    ),
  ],
  le: [c('mask times x', [[2, 4], [4]], (a, b) => mg.mul(mg.le(a, b), a))],
  eq: [c('mask plus x', [[3], [3]], (a, b) => mg.add(mg.eq(a, b), a))],
  where: [c('broadcast', [[3, 4], [3, 4], [4]], (x, a, b) => mg.where(mg.gt(x, 0), a, b))],
  neg: [c('matrix', [[3, 2]], mg.neg)],
  identity: [c('matrix', [[3, 2]], mg.identity)],
  exp: [c('matrix', [[3, 4]], mg.exp)],
  sin: [c('matrix', [[3, 4]], mg.sin, { range: [-4, 4] })],
  cos: [c('matrix', [[3, 4]], mg.cos, { range: [-4, 4] })],
  log: [c('matrix', [[3, 4]], mg.log, positive)],
  sqrt: [c('matrix', [[3, 4]], mg.sqrt, positive)],
  abs: [
    c('matrix', [[3, 4]], mg.abs, { range: [0.1, 1] }),
    c('negative', [[5]], (x) => mg.abs(mg.neg(x)), { range: [0.1, 1] }),
  ],
  sign: [c('sign times x', [[3, 4]], (x) => mg.mul(mg.sign(x), mg.square(x)))],
  square: [c('batched', [[2, 3, 3]], mg.square)],
  pow: [
    c('cube', [[3, 3]], (x) => mg.pow(x, 3)),
    c('fractional', [[4]], (x) => mg.pow(x, 2.5), positive),
    c('reciprocal', [[4]], (x) => mg.pow(x, -1), positive),
  ],
  cast: [
    c('float32 round trip', [[3, 3]], (x) => mg.cast(mg.cast(x, 'float32'), 'float64'), {
      tol: { eps: 1e-3, atol: 1e-3, rtol: 1e-2 },
    }),
  ],
  broadcastTo: [
    c('leading', [[3]], (x) => mg.broadcastTo(x, [2, 3])),
    c('middle', [[2, 1, 3]], (x) => mg.broadcastTo(x, [2, 4, 3])),
  ],
  sum: [
    c('all', [[3, 4]], (x) => mg.sum(x)),
    c('axis', [[2, 3, 4]], (x) => mg.sum(x, 1)),
    c('axes keepdims', [[2, 3, 4]], (x) => mg.sum(x, [0, 2], true)),
    c('negative axis', [[3, 5]], (x) => mg.sum(x, -1)),
  ],
  mean: [c('all', [[3, 4]], (x) => mg.mean(x)), c('axis keepdims', [[2, 3, 4]], (x) => mg.mean(x, 2, true))],
  max: [
    c('all', [[3, 4]], (x) => mg.max(x)),
    c('axis', [[2, 3, 4]], (x) => mg.max(x, 1)),
    c('axis keepdims', [[3, 4]], (x) => mg.max(x, 0, true)),
  ],
  matmul: [
    c(
      'square',
      [
        [4, 4],
        [4, 4],
      ],
      mg.matmul,
    ),
    c(
      'rectangular',
      [
        [3, 5],
        [5, 2],
      ],
      mg.matmul,
    ),
    c(
      'batch broadcast',
      [
        [2, 3, 4],
        [4, 5],
      ],
      mg.matmul,
    ),
    c(
      'batch both',
      [
        [2, 1, 3, 4],
        [5, 4, 2],
      ],
      mg.matmul,
    ),
    c('vector right', [[3, 4], [4]], mg.matmul),
    c('vector left', [[3], [3, 2]], mg.matmul),
    c(
      'transposed A',
      [
        [4, 3],
        [4, 2],
      ],
      (a, b) => matmulT(a, b, true, false),
    ),
    c(
      'transposed B',
      [
        [3, 4],
        [2, 4],
      ],
      (a, b) => matmulT(a, b, false, true),
    ),
    c(
      'transposed both',
      [
        [2, 4, 3],
        [2, 5, 4],
      ],
      (a, b) => matmulT(a, b, true, true),
    ),
    c(
      'large (looped kernel)',
      [
        [12, 11],
        [11, 10],
      ],
      mg.matmul,
    ),
  ],
  transpose: [c('matrix', [[3, 4]], mg.transpose), c('batched', [[2, 3, 4]], mg.transpose)],
  reshape: [
    c('flatten', [[2, 3, 4]], (x) => mg.reshape(x, [6, 4])),
    c('infer', [[3, 4]], (x) => mg.mul(mg.reshape(x, [-1]), 2)),
  ],
  slice: [
    c('block', [[4, 5]], (x) => mg.slice(x, [1, 2], [2, 3])),
    c('to end', [[2, 4, 3]], (x) => mg.slice(x, [0, 1, 0], [-1, -1, 2])),
  ],
  pad: [c('block', [[2, 3]], (x) => pad(x, [1, 1], [4, 5]))],
  concat: [
    c(
      'axis 0',
      [
        [2, 3],
        [1, 3],
      ],
      (a, b) => mg.concat([a, b], 0),
    ),
    c(
      'axis -1',
      [
        [2, 2],
        [2, 3],
        [2, 1],
      ],
      (a, b, d) => mg.concat([a, b, d], -1),
    ),
  ],
  diag: [
    c('square', [[4, 4]], mg.diag),
    c('wide batched', [[2, 3, 5]], mg.diag),
    c('tall', [[5, 2]], mg.diag),
  ],
  diagEmbed: [
    c('vector', [[4]], (v) => mg.diagEmbed(v)),
    c('batched rectangular', [[2, 3]], (v) => mg.diagEmbed(v, 3, 5)),
  ],
  trace: [c('square', [[4, 4]], mg.trace), c('batched', [[3, 2, 2]], mg.trace)],
  outer: [
    c('vectors', [[3], [4]], mg.outer),
    c(
      'batched',
      [
        [2, 3],
        [2, 4],
      ],
      mg.outer,
    ),
  ],
  mse: [
    c(
      'matrices',
      [
        [3, 3],
        [3, 3],
      ],
      mg.mse,
    ),
    c('broadcast', [[2, 3], [3]], mg.mse),
  ],
  eigh: [
    c('values and vectors', [[4, 4]], (x) => {
      const { values, vectors } = L.eigh(sym(x));
      return [values, vectors];
    }),
    c('batched, projector', [[3, 5, 5]], (x) => {
      const { values, vectors } = L.eigh(sym(x));
      return [values, projector(vectors)];
    }),
  ],
  eigvalsh: [c('batched', [[2, 4, 4]], (x) => L.eigvalsh(sym(x)))],
  svd: [
    c('tall', [[5, 3]], (x) => {
      const { U, S, Vh } = L.svd(x);
      return [projector(U), S, projector(mg.transpose(Vh))];
    }),
    c('wide batched', [[2, 3, 5]], (x) => {
      const { U, S, Vh } = L.svd(x);
      return [projector(U), S, projector(mg.transpose(Vh))];
    }),
    c('square reconstruction', [[4, 4]], (x) => {
      const { U, S, Vh } = L.svd(x);
      return mg.matmul(mg.mul(U, mg.reshape(S, [1, 4])), Vh);
    }),
  ],
  svdvals: [c('batched rectangular', [[3, 4, 2]], (x) => L.svdvals(x))],
  solve: [
    c('matrix rhs', [[4, 4], [4, 2]], (a, b) => L.solve(shift(a, 3), b)),
    c('batched vector rhs', [[2, 3, 3], [2, 3]], (a, b) => L.solve(shift(a, 3), b)),
  ],
  inv: [c('batched', [[2, 4, 4]], (x) => L.inv(shift(x, 3)))],
  cholesky: [c('batched', [[2, 4, 4]], (x) => L.cholesky(shift(mg.matmul(x, mg.transpose(x)), 1)))],
  qr: [
    c('tall', [[5, 3]], (x) => {
      const { Q, R } = L.qr(x);
      return [Q, R];
    }),
    c('square batched', [[2, 4, 4]], (x) => {
      const { Q, R } = L.qr(x);
      return [Q, R];
    }),
  ],
  det: [c('batched', [[3, 3, 3]], (x) => L.det(shift(x, 2)))],
  slogdet: [c('log |det|', [[2, 4, 4]], (x) => L.slogdet(shift(x, -0.3)).logabsdet)],
  eig: [
    c('real spectrum', [[4, 4]], (x) => {
      const { values, vectors } = L.eig(mg.add(x, mg.diagEmbed(mg.tensor([3, 6, 9, 12]))));
      return [values, vectors];
    }),
  ],
  customRoot: [
    c('cubic root, elementwise', [[4], [4]], (a, b) => cubicRoot(mg.add(mg.abs(a), 0.5), b)),
    c('eigenvector (bordered system)', [[4, 4]], (x) => {
      const { value, vector } = L.eigenvector(sym(x), { which: 'largest' });
      return [value, vector];
    }),
  ],
  // complex decompositions: checked on the real views of complex128 inputs (re and im perturbed apart)
  complexEigh: [
    c('hermitian: values and projector', [[4, 4, 2]], (x) => {
      const { values, vectors } = L.eigh(herm(cx(x)));
      return [values, projectorC(vectors).view];
    }),
    c('batched values', [[2, 3, 3, 2]], (x) => L.eigvalsh(herm(cx(x)))),
  ],
  complexSvd: [
    c('tall', [[5, 3, 2]], (x) => {
      const { U, S, Vh } = L.svd(cx(x));
      return [S, projectorC(U).view, projectorC(mg.adjoint(Vh)).view];
    }),
    c('wide batched', [[2, 3, 4, 2]], (x) => {
      const { U, S, Vh } = L.svd(cx(x));
      return [S, projectorC(U).view, projectorC(mg.adjoint(Vh)).view];
    }),
    // gauge-invariant but sensitive to the phase of U alone: exercises the complex diagonal term
    c('U·diag(m)·Vh', [[4, 4, 2]], (x) => {
      const { U, Vh } = L.svd(cx(x));
      return mg.matmul(mg.mul(U, mg.tensor([[1, 2, 3, 4]])), Vh).view;
    }),
    c('svdvals batched', [[2, 4, 4, 2]], (x) => L.svdvals(cx(x))),
  ],
  complexSolve: [
    c('matrix rhs', [[3, 3, 2], [3, 2, 2]], (a, b) => L.solve(cshift(cx(a), 2), cx(b)).view),
    c('vector rhs, batched', [[2, 3, 3, 2], [2, 3, 2]], (a, b) => L.solve(cshift(cx(a), 2), cx(b)).view),
  ],
  complexInv: [c('batched', [[2, 3, 3, 2]], (x) => L.inv(cshift(cx(x), 2)).view)],
  complexDet: [c('batched', [[2, 3, 3, 2]], (x) => L.det(cshift(cx(x), 1)).view)],
  complexCholesky: [
    c('hermitian positive definite, batched', [[2, 3, 3, 2]], (x) => {
      const z = cx(x);
      return L.cholesky(cshift(mg.matmul(z, mg.adjoint(z)), 1)).view;
    }),
  ],
  complexQr: [
    c('tall batched: Q·diag(1..k)·Qᴴ and R', [[2, 4, 3, 2]], (x) => {
      const { Q, R } = L.qr(cx(x));
      return [projectorC(Q).view, R.view];
    }),
    c('square: Q and R', [[3, 3, 2]], (x) => {
      const { Q, R } = L.qr(cx(x));
      return [Q.view, R.view];
    }),
  ],
  complexEig: [
    c('values and a phase-free function of the vectors', [[4, 4, 2]], (x) => {
      // a diagonal shift keeps the eigenvalues apart; |V|² ignores the vectors' phases
      const { values, vectors } = L.eig(mg.add(cx(x), mg.diagEmbed(mg.tensor([0, 3, 6, 9]))));
      return [values.view, mg.abs(vectors)];
    }),
    c('real input with a complex pair', [[3, 3]], (x) => {
      const A = mg.add(x, mg.tensor([[0, 3, 0], [-3, 0, 0], [0, 0, 5]]));
      const { values, vectors } = L.eig(mg.complex(A, mg.mul(A, 0)));
      // symmetric in the conjugate pair (its order may flip under perturbation)
      return [mg.sum(mg.square(mg.abs(values))), mg.sum(values.re), mg.sum(mg.square(mg.abs(vectors)), -1)];
    }),
  ],
  complexSlogdet: [
    c('sign and log|det|, batched', [[2, 3, 3, 2]], (x) => {
      const { sign, logabsdet } = L.slogdet(cshift(cx(x), 1));
      return [sign.view, logabsdet];
    }),
  ],
  // exercised by every customRoot gradient (its own VJP is not supported: no second order)
  customRootVjp: [c('cubic root, elementwise', [[3], [3]], (a, b) => cubicRoot(mg.add(mg.abs(a), 0.5), b))],
};

export const inputsFor = (k: Case, seed: number) =>
  k.shapes.map((s, i) => {
    const [lo, hi] = k.range ?? [-1, 1];
    return mg.random(s, { seed: seed * 31 + i, low: lo, high: hi });
  });
