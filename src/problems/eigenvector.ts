import { z } from 'zod';
import * as F from '../autograd/api.js';
import { type Tensor, tensor } from '../autograd/tensor.js';
import { eigenvector, eigh } from '../linalg/index.js';
import { adam } from '../optimizers/adam.js';
import { type Issue, type KindDef, limitIssues, ParamInit, type SourceShapes, SpecBase, throwIssues } from './common.js';
import { type Objective, objective, param } from './objective.js';
import { MatrixSource, materialize, sourceShape } from './sources.js';
import { lossTolerance, usableScale } from './defaults.js';

/**
 * Seed 003: a loss on an eigenvector of a learned symmetric matrix M = S + P (S the given matrix, P the
 * learned perturbation, symmetrized): steer the chosen eigenvector toward a target, differentiating it
 * implicitly (bordered system) or in closed form (eigh's gradient).
 */
export const EigenvectorSpec = SpecBase.extend({
  kind: z.literal('eigenvector'),
  matrix: MatrixSource,
  which: z.union([z.enum(['smallest', 'largest']), z.number().int({ error: 'expected an integer index' }).nonnegative()]).default('smallest'),
  /** The vector to align with (default: e₁); normalized. */
  target: MatrixSource.optional(),
  loss: z.enum(['align', 'mse']).default('align'),
  gradient: z.enum(['implicit', 'closed-form']).default('implicit'),
  init: ParamInit.default({ init: 'zeros', seed: 1, scale: 1 }),
}).strict();
export type EigenvectorSpec = z.infer<typeof EigenvectorSpec>;

function check(spec: EigenvectorSpec, shapes: SourceShapes = { matrix: sourceShape(spec.matrix), target: spec.target && sourceShape(spec.target) }): Issue[] {
  const shape = shapes.matrix;
  if (!shape) return [];
  const [m, n] = shape.slice(-2);
  const issues: Issue[] = [];
  if (m !== n) issues.push({ path: 'matrix', message: `eigenvectors need a square matrix, got ${m}×${n}` });
  if (typeof spec.which === 'number' && spec.which >= n) issues.push({ path: 'which', message: `index ${spec.which} is out of range for ${n} eigenvectors` });
  const target = shapes.target;
  if (target && target.reduce((a, b) => a * b, 1) !== n) issues.push({ path: 'target', message: `shape ${target.join('×')} does not hold one vector of the matrix's ${n} entries` });
  // the implicit gradient solves a bordered (n+1)×(n+1) system per matrix
  issues.push(...limitIssues('matrix', `the bordered ${n + 1}×${n + 1} systems`, [...shape.slice(0, -2), n + 1, n + 1]));
  return issues;
}

function build(spec: EigenvectorSpec, ctx: { baseDir?: string }): Objective {
  const dtype = spec.dtype;
  const S = materialize(spec.matrix, 'matrix', { dtype, baseDir: ctx.baseDir });
  const given = spec.target ? materialize(spec.target, 'target', { dtype, baseDir: ctx.baseDir }) : null;
  throwIssues(check(spec, { matrix: S.shape, target: given?.shape }));
  const n = S.shape[S.shape.length - 1];
  const batch = S.shape.slice(0, -2);
  const start = batch.map(() => 0);
  let target: Tensor = given ? F.reshape(given, [n]) : tensor(Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 0)), { dtype });
  const norm = F.sqrt(F.sum(F.square(target), -1, true));
  if (!(norm.item() > 0)) throwIssues([{ path: 'target', message: 'the target vector is zero (it is normalized, so it needs a direction)' }]);
  target = F.div(target, norm);
  const index = spec.which === 'smallest' ? 0 : spec.which === 'largest' ? n - 1 : spec.which;
  const vectorOf = (P: Tensor): Tensor => {
    const M = F.add(S, F.mul(F.add(P, F.transpose(P)), 0.5));
    if (spec.gradient === 'implicit') return eigenvector(M, { which: spec.which, symmetric: true }).vector;
    return F.reshape(F.slice(eigh(M).vectors, [...start, 0, index], [...batch, n, 1]), [...batch, n]);
  };
  // the component of v across the target: its norm is sin(angle), accurate for tiny angles (unlike 1 − cos²)
  const across = (v: Tensor) => F.sub(v, F.mul(F.sum(F.mul(v, target), -1, true), target));
  const c = usableScale(Math.sqrt(F.mean(F.square(S)).item() * n));
  return objective(
    { P: param([...batch, n, n], { init: spec.init.init, seed: spec.init.seed, scale: spec.init.scale, dtype }) },
    ({ P }) => {
      const v = vectorOf(P);
      if (spec.loss === 'align') return F.mean(F.sum(F.square(across(v)), -1));
      // mse to ±target, whichever sign is nearer
      const sign = F.sign(F.sum(F.mul(v, target), -1, true));
      return F.mean(F.square(F.sub(v, F.mul(target, sign))));
    },
    {
      name: spec.name ?? `eigenvector ${S.shape.join('×')} (${spec.which}, ${spec.gradient})`,
      // sin of the angle to the target (the angle itself to first order); eigenvectors have no sign
      metrics: ({ P }) => ({ angle: F.sqrt(F.sum(F.square(across(vectorOf(P))), -1)) }),
      // Adam moves P by about lr per step: 0.05 of the size c of S's eigenvalues (‖S‖_F/√n; 1 for S = 0),
      // so the perturbation has the scale of the matrix it perturbs; the loss (sin² of an angle) has
      // gradients ∝ 1/c, so Adam's eps is 1e-8/c. Together: the same run at any scale of S.
      defaults: { optimizer: () => adam({ lr: 0.05 * c, eps: 1e-8 / c }), steps: 2000, tolerance: lossTolerance(1e-26, dtype) },
      optimum: 0,
    },
  );
}

export const eigenvectorKind: KindDef<EigenvectorSpec> = { schema: EigenvectorSpec, check, build };
