import { z } from 'zod';
import * as F from '../autograd/api.js';
import { adjoint, type AnyTensor, complex, ComplexTensor, toReal, viewAsComplex } from '../autograd/complex.js';
import { eye, type Tensor } from '../autograd/tensor.js';
import { inv } from '../linalg/index.js';
import { MatgradLinalgError } from '../errors.js';
import { sgd } from '../optimizers/sgd.js';
import { type Objective, objective, param } from './objective.js';
import { lossTolerance, maxAbs, stepFromCurvature } from './defaults.js';
import { type Issue, type KindDef, limitIssues, ParamInit, type SourceShapes, SpecBase, throwIssues } from './common.js';
import { MatrixSource, materialize, sourceShape } from './sources.js';

export const InverseSpec = SpecBase.extend({
  kind: z.literal('inverse'),
  matrix: MatrixSource,
  /**
   * The imaginary part: M = matrix + i·imag is complex (complex128; complex64 with dtype float32).
   * The learned X is then complex too, held as its interleaved real view [..., n, m, 2].
   */
  imag: MatrixSource.optional(),
  /** left: XM ≈ I; right: MX ≈ I; both: both (square M). */
  side: z.enum(['left', 'right', 'both']).default('left'),
  /** mse: mean of squared residuals (seed 002); fro: squared Frobenius norm. */
  loss: z.enum(['mse', 'fro']).default('mse'),
  /** Default: uniform [0, 1) like seed 002 for square M; zeros otherwise (gradient descent from 0 finds the pseudo-inverse). */
  init: ParamInit.optional(),
}).strict();
export type InverseSpec = z.infer<typeof InverseSpec>;

function check(spec: InverseSpec, shapes: SourceShapes = { matrix: sourceShape(spec.matrix), imag: spec.imag && sourceShape(spec.imag) }): Issue[] {
  const { matrix: shape, imag } = shapes;
  if (shape && imag && imag.join('×') !== shape.join('×')) return [{ path: 'imag', message: `shape ${imag.join('×')} differs from matrix's ${shape.join('×')}` }];
  if (spec.imag && spec.init?.init === 'eye') return [{ path: 'init.init', message: "'eye' is not available for a complex inverse (X is held as its real view); use 'zeros', 'uniform' or 'normal'" }];
  if (!shape) return [];
  const [m, n] = shape.slice(-2);
  const batch = shape.slice(0, -2);
  if (spec.side === 'both' && m !== n) return [{ path: 'matrix', message: `side 'both' needs a square matrix, got ${m}×${n}` }];
  // X·M is n×n, M·X is m×m (and the exact inverse forms the same Gram matrix); complex X is held as [..., 2]
  return [
    ...(spec.side !== 'right' ? limitIssues('matrix', `X·M (${n}×${n} per matrix)`, [...batch, n, n * (spec.imag ? 2 : 1)]) : []),
    ...(spec.side !== 'left' ? limitIssues('matrix', `M·X (${m}×${m} per matrix)`, [...batch, m, m * (spec.imag ? 2 : 1)]) : []),
    ...(spec.imag ? limitIssues('imag', 'the complex matrix', [...shape, 2]) : []),
  ].slice(0, 1);
}

/** |z|² elementwise (z² for real tensors): a complex inverse problem has complex M and X. */
const abs2 = (z: AnyTensor): Tensor => (z instanceof ComplexTensor ? F.add(F.square(z.re), F.square(z.im)) : F.square(z));

/** The exact (pseudo-)inverse for the relative-error metric: (MᴴM)⁻¹Mᴴ, M⁻¹ when square. */
function exactInverse(M: AnyTensor, side: InverseSpec['side']): AnyTensor | null {
  const [m, n] = M.shape.slice(-2);
  try {
    if (m === n) return inv(M);
    const Mh = adjoint(M);
    return side === 'right' ? F.matmul(Mh, inv(F.matmul(M, Mh))) : F.matmul(inv(F.matmul(Mh, M)), Mh);
  } catch (e) {
    if (e instanceof MatgradLinalgError) return null; // singular: no exact inverse to compare with
    throw e;
  }
}

function build(spec: InverseSpec, ctx: Parameters<KindDef<InverseSpec>['build']>[1]): Objective {
  const dtype = spec.dtype;
  const re = materialize(spec.matrix, 'matrix', { dtype, baseDir: ctx.baseDir });
  const im = spec.imag ? materialize(spec.imag, 'imag', { dtype, baseDir: ctx.baseDir }) : null;
  throwIssues(check(spec, { matrix: re.shape, imag: im?.shape }));
  const M: AnyTensor = im ? complex(re, im) : re;
  const shape = M.shape;
  const [m, n] = shape.slice(-2);
  const batch = shape.slice(0, -2);
  const I_left = eye(n, { dtype });
  const I_right = eye(m, { dtype });
  // a complex X travels as its real view (so the objective's parameter is a plain tensor)
  const asX = (X: Tensor): AnyTensor => (im ? viewAsComplex(X) : X);
  const residuals = (X: Tensor): AnyTensor[] => {
    const x = asX(X);
    const rs: AnyTensor[] = [];
    if (spec.side !== 'right') rs.push(F.sub(F.matmul(x, M), I_left));
    if (spec.side !== 'left') rs.push(F.sub(F.matmul(M, x), I_right));
    return rs;
  };
  const lossOf = (r: AnyTensor) => (spec.loss === 'mse' ? F.mean(abs2(r)) : F.sum(abs2(r)));
  // Curvature bound: the loss Hessian's largest eigenvalue is at most 2‖M‖²_F per residual (divided by
  // the count for mse), taken over the batch. ‖M‖²_F is computed as max|M|²·‖M/max|M|‖²_F so it does
  // not overflow; a zero M has a constant loss (any step; the run ends at max-steps, not converged).
  const peak = maxAbs(toReal(M).dataSync());
  const frob2 = peak > 0 ? maxAbs(F.sum(abs2(F.div(M, peak)), [-2, -1]).dataSync()) : 0;
  const count = spec.loss === 'mse' ? Math.max(1, batch.reduce((a, b) => a * b, 1)) * m * n : 1;
  const L = (((spec.side === 'both' ? 4 : 2) * frob2) / count) * peak * peak;
  const exact = exactInverse(M, spec.side);
  const exactNorm = exact ? F.sqrt(F.sum(abs2(exact), [-2, -1])) : null;
  const init = spec.init ?? { init: m === n ? ('uniform' as const) : ('zeros' as const), seed: 1, scale: 1 };
  const xShape = im ? [...batch, n, m, 2] : [...batch, n, m];
  return objective(
    { X: param(xShape, { init: init.init, seed: init.seed, scale: init.scale, dtype }) },
    ({ X }) => residuals(X).map(lossOf).reduce((a, b) => F.add(a, b)),
    {
      name: spec.name ?? `inverse ${shape.join('×')}${im ? ' complex' : ''}`,
      metrics: ({ X }) => ({
        residual: F.sqrt(F.sum(abs2(residuals(X)[0]), [-2, -1])),
        ...(exact && exactNorm ? { relativeError: F.div(F.sqrt(F.sum(abs2(F.sub(asX(X), exact)), [-2, -1])), exactNorm) } : {}),
      }),
      defaults: { optimizer: () => sgd({ lr: stepFromCurvature(L), momentum: 0.9 }), steps: 20_000, tolerance: lossTolerance(spec.loss === 'mse' ? 1e-28 : 1e-26, dtype) },
      optimum: 0,
    },
  );
}

export const inverseKind: KindDef<InverseSpec> = { schema: InverseSpec, check, build };
