// A custom objective in a few lines: the nearest matrix with orthonormal columns to A (the polar
// factor), learned on the Stiefel manifold, and a matrix square root learned without constraints.
// Run: npx tsx examples/custom-objective.ts
import { lastValueFrom } from 'rxjs';
import * as mg from '../src/index.js';

export async function main({ steps = 3000 } = {}) {
  const A = mg.random([6, 3], { seed: 4, dist: 'normal' });
  const nearestOrthogonal = mg.objective(
    { Q: mg.param([6, 3], { init: 'normal', seed: 2, constraint: mg.optimizers.constraints.stiefel() }) },
    ({ Q }) => mg.sum(mg.square(mg.sub(Q, A))),
  );
  const q = await lastValueFrom(mg.solve(nearestOrthogonal, { optimizer: mg.optimizers.sgd({ lr: 0.05, momentum: 0.5 }), steps }));

  const S = mg.tensor([[5, 2, 0], [2, 4, 1], [0, 1, 3]]); // symmetric positive definite
  const sqrt = mg.objective({ R: mg.param(mg.eye(3)) }, ({ R }) => mg.mse(mg.matmul(R, R), S));
  const r = await lastValueFrom(mg.solve(sqrt, { optimizer: mg.optimizers.lbfgs({ toleranceChange: 1e-24, toleranceGrad: 1e-14 }), steps: 50, tolerance: 1e-24 }));

  if (!q.done || !r.done) throw new Error('runs did not finish');
  console.log(`nearest orthogonal: loss ${q.loss.toFixed(6)}, QᵀQ = I to ${orthogonalityError(q.params.Q).toExponential(1)}`);
  console.log(`square root: ‖R² − S‖² = ${r.loss.toExponential(2)} after ${r.step} L-BFGS steps`);
  return { nearestOrthogonal: q, sqrt: r };
}

export function orthogonalityError(Q: mg.Tensor): number {
  return mg.max(mg.abs(mg.sub(mg.matmul(mg.transpose(Q), Q), mg.eye(Q.shape[1])))).item();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
