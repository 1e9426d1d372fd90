// Seed 001: learn the SVD of a 16×12 matrix by gradient descent. The blog's factor loss (an
// orthogonality penalty, Adam lr 0.01) stalls far from the true singular values; keeping U and V on
// the Stiefel manifold (projected gradient + retraction) converges to them.
// Run: npx tsx examples/svd-by-gradient-descent.ts
import { lastValueFrom } from 'rxjs';
import * as mg from '../src/index.js';

export async function main({ steps = 5000 } = {}) {
  const matrix = { random: { shape: [16, 12], seed: 3, dist: 'normal' as const } };
  const results: Record<string, mg.SolveResult> = {};
  for (const parametrization of ['factors', 'stiefel'] as const) {
    const problem = mg.problem({ kind: 'svd', matrix, parametrization });
    const r = await lastValueFrom(mg.solve(problem, { steps, reportEvery: 500 }));
    if (!r.done) throw new Error('no result');
    results[parametrization] = r;
    console.log(
      `${parametrization.padEnd(8)} ${r.step} steps: singular values relative error ${r.metrics.singularValueError.toExponential(2)}, ` +
        `‖UᵀU − I‖ + ‖VᵀV − I‖ = ${r.metrics.orthogonality.toExponential(2)}`,
    );
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
