import { z } from 'zod';
import * as F from '../autograd/api.js';
import { eye, type Tensor } from '../autograd/tensor.js';
import { inv } from '../linalg/index.js';
import { MatgradLinalgError } from '../errors.js';
import { sgd } from '../optimizers/sgd.js';
import { type Objective, objective, param } from './objective.js';
import { type Issue, type KindDef, ParamInit, SpecBase } from './common.js';
import { MatrixSource, materialize, sourceShape } from './sources.js';

export const InverseSpec = SpecBase.extend({
  kind: z.literal('inverse'),
  matrix: MatrixSource,
  /** left: XM ≈ I; right: MX ≈ I; both: both (square M). */
  side: z.enum(['left', 'right', 'both']).default('left'),
  /** mse: mean of squared residuals (seed 002); fro: squared Frobenius norm. */
  loss: z.enum(['mse', 'fro']).default('mse'),
  /** Default: uniform [0, 1) like seed 002 for square M; zeros otherwise (gradient descent from 0 finds the pseudo-inverse). */
  init: ParamInit.optional(),
}).strict();
export type InverseSpec = z.infer<typeof InverseSpec>;

function check(spec: InverseSpec): Issue[] {
  const shape = sourceShape(spec.matrix);
  if (!shape) return [];
  const [m, n] = shape.slice(-2);
  if (spec.side === 'both' && m !== n) return [{ path: 'matrix', message: `side 'both' needs a square matrix, got ${m}×${n}` }];
  return [];
}

/** The exact (pseudo-)inverse for the relative-error metric: (MᵀM)⁻¹Mᵀ, M⁻¹ when square. */
function exactInverse(M: Tensor, side: InverseSpec['side']): Tensor | null {
  const [m, n] = M.shape.slice(-2);
  try {
    if (m === n) return inv(M);
    const Mt = F.transpose(M);
    return side === 'right' ? F.matmul(Mt, inv(F.matmul(M, Mt))) : F.matmul(inv(F.matmul(Mt, M)), Mt);
  } catch (e) {
    if (e instanceof MatgradLinalgError) return null; // singular: no exact inverse to compare with
    throw e;
  }
}

function build(spec: InverseSpec, ctx: Parameters<KindDef<InverseSpec>['build']>[1]): Objective {
  const dtype = spec.dtype;
  const M = materialize(spec.matrix, 'matrix', { dtype, baseDir: ctx.baseDir });
  const shape = M.shape;
  const [m, n] = shape.slice(-2);
  const batch = shape.slice(0, -2);
  const I_left = eye(n, { dtype });
  const I_right = eye(m, { dtype });
  const residuals = (X: Tensor) => {
    const rs: Tensor[] = [];
    if (spec.side !== 'right') rs.push(F.sub(F.matmul(X, M), I_left));
    if (spec.side !== 'left') rs.push(F.sub(F.matmul(M, X), I_right));
    return rs;
  };
  const lossOf = (r: Tensor) => (spec.loss === 'mse' ? F.mean(F.square(r)) : F.sum(F.square(r)));
  // curvature bound: the loss Hessian's largest eigenvalue is at most 2‖M‖²_F (divided by the count for mse)
  const frob2 = Math.max(...(F.sum(F.square(M), [-2, -1]).dataSync() as Float64Array));
  const count = spec.loss === 'mse' ? Math.max(1, batch.reduce((a, b) => a * b, 1)) * m * n : 1;
  const L = ((spec.side === 'both' ? 4 : 2) * frob2) / count;
  const exact = exactInverse(M, spec.side);
  const exactNorm = exact ? F.sqrt(F.sum(F.square(exact), [-2, -1])) : null;
  const init = spec.init ?? { init: m === n ? ('uniform' as const) : ('zeros' as const), seed: 1, scale: 1 };
  return objective(
    { X: param([...batch, n, m], { init: init.init, seed: init.seed, scale: init.scale, dtype }) },
    ({ X }) => residuals(X).map(lossOf).reduce((a, b) => F.add(a, b)),
    {
      name: spec.name ?? `inverse ${shape.join('×')}`,
      metrics: ({ X }) => ({
        residual: F.sqrt(F.sum(F.square(residuals(X)[0]), [-2, -1])),
        ...(exact && exactNorm ? { relativeError: F.div(F.sqrt(F.sum(F.square(F.sub(X, exact)), [-2, -1])), exactNorm) } : {}),
      }),
      defaults: { optimizer: () => sgd({ lr: 1 / L, momentum: 0.9 }), steps: 20_000, tolerance: spec.loss === 'mse' ? 1e-28 : 1e-26 },
      optimum: 0,
    },
  );
}

export const inverseKind: KindDef<InverseSpec> = { schema: InverseSpec, check, build };
