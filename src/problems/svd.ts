import { z } from 'zod';
import * as F from '../autograd/api.js';
import { eye, full, type Tensor, tensor } from '../autograd/tensor.js';
import { svdvals } from '../linalg/index.js';
import { adam } from '../optimizers/adam.js';
import { stiefel } from '../optimizers/constraints.js';
import { sgd } from '../optimizers/sgd.js';
import { chain } from '../optimizers/transform.js';
import { EPS, lossTolerance, maxAbs, scaleEach, stepFromCurvature, usableScale } from './defaults.js';
import { type Issue, type KindDef, ParamInit, type SourceShapes, SpecBase, throwIssues } from './common.js';
import { type Objective, objective, param } from './objective.js';
import { MatrixSource, materialize, PositiveInt, sourceShape } from './sources.js';

/**
 * Seed 001: learn a rank-k SVD A ≈ U·diag(s)·Vᵀ. 'factors' penalizes UᵀU − I and VᵀV − I with `weight`
 * (the blog's loss); 'stiefel' keeps U and V orthonormal in the optimizer (projected gradient +
 * retraction), which converges to the true singular values.
 */
export const SvdSpec = SpecBase.extend({
  kind: z.literal('svd'),
  matrix: MatrixSource,
  rank: PositiveInt.optional(),
  parametrization: z.enum(['factors', 'stiefel']).default('stiefel'),
  weight: z.number().nonnegative({ error: 'expected a non-negative number' }).default(1),
  init: ParamInit.default({ init: 'normal', seed: 1, scale: 1 }),
}).strict();
export type SvdSpec = z.infer<typeof SvdSpec>;

function check(spec: SvdSpec, shapes: SourceShapes = { matrix: sourceShape(spec.matrix) }): Issue[] {
  const shape = shapes.matrix;
  if (!shape || spec.rank === undefined) return [];
  const [m, n] = shape.slice(-2);
  return spec.rank > Math.min(m, n) ? [{ path: 'rank', message: `rank ${spec.rank} exceeds min(m, n) = ${Math.min(m, n)} for a ${m}×${n} matrix` }] : [];
}

/** The factor loss of seed 001: mean((A − U diag(s) Vᵀ)²) + w·(mean((UᵀU − I)²) + mean((VᵀV − I)²)). */
export function factorLoss(A: Tensor, U: Tensor, s: Tensor, V: Tensor, weight: number): Tensor {
  const k = s.shape[s.shape.length - 1];
  const I = eye(k, { dtype: A.dtype });
  const fit = F.mean(F.square(F.sub(A, reconstruct(U, s, V))));
  if (!weight) return fit;
  const ortho = F.add(F.mean(F.square(F.sub(F.matmulT(U, U, true, false), I))), F.mean(F.square(F.sub(F.matmulT(V, V, true, false), I))));
  return F.add(fit, F.mul(ortho, weight));
}
const reconstruct = (U: Tensor, s: Tensor, V: Tensor) =>
  F.matmulT(F.mul(U, F.reshape(s, [...s.shape.slice(0, -1), 1, s.shape[s.shape.length - 1]])), V, false, true);

function build(spec: SvdSpec, ctx: { baseDir?: string }): Objective {
  const dtype = spec.dtype;
  const A = materialize(spec.matrix, 'matrix', { dtype, baseDir: ctx.baseDir });
  throwIssues(check(spec, { matrix: A.shape }));
  const [m, n] = A.shape.slice(-2);
  const batch = A.shape.slice(0, -2);
  const k = spec.rank ?? Math.min(m, n);
  const sigma = svdvals(A);
  const top = F.slice(sigma, [...batch.map(() => 0), 0], [...batch, k]);
  // s starts at each matrix's largest singular value c (1 for a zero matrix), so every run starts at
  // the scale of its data (see the default optimizers below)
  const c = Array.from(F.slice(sigma, [...batch.map(() => 0), 0], [...batch, 1]).dataSync(), usableScale);
  const cOf = (f: (c: number) => number, trailing: number) => tensor(c.map(f), { dtype, shape: [...batch, ...Array<number>(trailing).fill(1)] });
  const s0 = F.mul(full([...batch, k], 1, { dtype }), cOf((x) => x, 1));
  const { init, seed, scale } = spec.init;
  const stiefelParam = spec.parametrization === 'stiefel';
  const params = {
    U: param([...batch, m, k], { init, seed, scale: stiefelParam ? scale : scale * 0.1, dtype, constraint: stiefelParam ? stiefel() : undefined }),
    s: param(s0),
    V: param([...batch, n, k], { init, seed: seed + 1, scale: stiefelParam ? scale : scale * 0.1, dtype, constraint: stiefelParam ? stiefel() : undefined }),
  };
  // Eckart–Young: the best rank-k error is the norm of the remaining singular values
  const tail = k < Math.min(m, n) ? F.sqrt(F.sum(F.square(F.slice(sigma, [...batch.map(() => 0), k], [...batch, Math.min(m, n) - k])), -1)) : null;
  const optimum = tail ? F.mean(F.div(F.square(tail), m * n)).item() : 0;
  return objective(
    params,
    ({ U, s, V }) => (stiefelParam ? F.mean(F.square(F.sub(A, reconstruct(U, s, V)))) : factorLoss(A, U, s, V, spec.weight)),
    {
      name: spec.name ?? `svd ${A.shape.join('×')} rank ${k} (${spec.parametrization})`,
      metrics: ({ U, s, V }) => {
        const err = F.sqrt(F.sum(F.square(F.sub(A, reconstruct(U, s, V))), [-2, -1]));
        const learned = F.abs(s);
        // singular values are compared as sorted magnitudes (factor signs and order are free)
        const sorted = F.slice(svdvals(F.diagEmbed(learned)), [...batch.map(() => 0), 0], [...batch, k]);
        const I = eye(k, { dtype });
        return {
          approximationError: err,
          excessOverBest: tail ? F.sub(err, tail) : err,
          // relative to each value, but to at least eps·σ_max: a zero singular value has no relative error
          singularValueError: F.max(F.div(F.abs(F.sub(sorted, top)), F.maximum(top, F.mul(cOf((x) => x, 1), EPS[dtype]))), -1),
          orthogonality: F.add(F.sqrt(F.sum(F.square(F.sub(F.matmulT(U, U, true, false), I)), [-2, -1])), F.sqrt(F.sum(F.square(F.sub(F.matmulT(V, V, true, false), I)), [-2, -1]))),
        };
      },
      defaults: {
        // The mean-squared fit f = ‖A − U·diag(s)·Vᵀ‖²_F/(mn) with orthonormal U, V: its residual moves by
        // ‖dr‖ ≤ s_max(‖dU‖ + ‖dV‖) + ‖ds‖, and s stays near c (where it starts). Scaling the U and V
        // gradients by 1/c² makes that ‖dr‖² ≤ 3‖d‖² in the scaled steps: curvature L = 6/(mn) for
        // every block, whatever the scale of A (zero A included). Heavy ball (β = 0.9) is stable up to
        // lr·L < 2(1 + β) = 3.8; lr = 2/L keeps a margin.
        // The factor loss (Adam) has s's steps scaled by c, so s moves at the scale of A.
        optimizer: stiefelParam
          ? () => chain(scaleEach([cOf((x) => 1 / (x * x), 2), 1, cOf((x) => 1 / (x * x), 2)]), sgd({ lr: 2 * stepFromCurvature(6 / (m * n)), momentum: 0.9 }))
          : () => chain(adam({ lr: 0.01 }), scaleEach([1, cOf((x) => x, 1), 1])),
        steps: 5000,
        // converged at the optimum up to rounding: residual entries of ~1e-13·σ_max (float64) past it
        tolerance: optimum * (1 + 64 * EPS[dtype]) + lossTolerance(1e-26, dtype) * maxAbs(c) ** 2,
      },
      optimum,
    },
  );
}

export const svdKind: KindDef<SvdSpec> = { schema: SvdSpec, check, build };
