import { z } from 'zod';
import * as F from '../autograd/api.js';
import type { Tensor } from '../autograd/tensor.js';
import { eigvalsh } from '../linalg/index.js';
import { sphere } from '../optimizers/constraints.js';
import { adam } from '../optimizers/adam.js';
import { reduceOnPlateau } from '../optimizers/schedules.js';
import { type Issue, type KindDef, limitIssues, ParamInit, SpecBase } from './common.js';
import { type Objective, objective, param } from './objective.js';
import { BatchDims, PositiveInt, Side } from './sources.js';
import { EPS } from './defaults.js';

/** Seed 000: the symmetric PSD matrix of given trace whose smallest eigenvalue is largest (optimum: (trace/n)·I). */
export const LambdaMinSpec = SpecBase.extend({
  kind: z.literal('lambda-min'),
  n: Side,
  trace: z.number().positive({ error: 'expected a positive number' }).default(1),
  /** cholesky: A = trace·LLᵀ/tr(LLᵀ) (seed 000); spectrahedron: A = trace·YYᵀ with ‖Y‖_F = 1 kept by the optimizer. */
  parametrization: z.enum(['cholesky', 'spectrahedron']).default('cholesky'),
  /** Maximize the sum of the k smallest eigenvalues (k = 1: λ_min). */
  k: PositiveInt.default(1),
  /** Independent problems solved at once. */
  batch: BatchDims.default([]),
  init: ParamInit.default({ init: 'normal', seed: 1, scale: 1 }),
}).strict();
export type LambdaMinSpec = z.infer<typeof LambdaMinSpec>;

function check(spec: LambdaMinSpec): Issue[] {
  if (spec.k > spec.n) return [{ path: 'k', message: `k = ${spec.k} exceeds n = ${spec.n}` }];
  return limitIssues(spec.batch.length ? 'batch' : 'n', `the ${spec.n}×${spec.n} matrices`, [...spec.batch, spec.n, spec.n]);
}

function build(spec: LambdaMinSpec): Objective {
  const { n, k, trace, batch, dtype } = spec;
  const matrix = (L: Tensor) => {
    const LLt = F.matmul(L, F.transpose(L));
    return spec.parametrization === 'cholesky' ? F.mul(F.div(LLt, F.reshape(F.trace(LLt), [...batch, 1, 1])), trace) : F.mul(LLt, trace);
  };
  const optimum = (-k * trace) / n;
  const smallest = (A: Tensor) => F.slice(eigvalsh(A), [...batch.map(() => 0), 0], [...batch, k]);
  return objective(
    {
      L: param([...batch, n, n], {
        init: spec.init.init,
        seed: spec.init.seed,
        scale: spec.init.scale,
        dtype,
        constraint: spec.parametrization === 'spectrahedron' ? sphere() : undefined,
      }),
    },
    ({ L }) => F.neg(F.mean(F.sum(smallest(matrix(L)), -1))),
    {
      name: spec.name ?? `lambda-min n=${n}${batch.length ? ` ×${batch.join('×')}` : ''}`,
      metrics: ({ L }) => {
        const lam = eigvalsh(matrix(L));
        const lmin = F.slice(lam, [...batch.map(() => 0), 0], [...batch, 1]);
        const lmax = F.slice(lam, [...batch.map(() => 0), n - 1], [...batch, 1]);
        return { lambdaMin: lmin, gap: F.sub(trace / n, lmin), spread: F.sub(lmax, lmin) };
      },
      // λ_min is not smooth at its optimum (all eigenvalues meet): Adam oscillates at the scale of its
      // step, so the default halves the step whenever progress stalls. The gradients scale with the
      // trace (A is trace times a scale-free matrix of L), so Adam's eps does too. At a kink the loss
      // is reached to about √eps relative: converged there.
      defaults: {
        optimizer: () => adam({ lr: reduceOnPlateau({ lr: 0.01, factor: 0.5, patience: 10, threshold: 1e-9, minLr: 1e-12 }), eps: 1e-8 * trace }),
        steps: 5000,
        tolerance: optimum + Math.abs(optimum) * Math.sqrt(EPS[dtype]),
      },
      optimum,
    },
  );
}

export const lambdaMinKind: KindDef<LambdaMinSpec> = { schema: LambdaMinSpec, check, build };
