// Seed 003: a loss on eigenvectors, differentiated implicitly — the eigen-equation is the constraint and
// the adjoint is the bordered system [A − λI, −v; vᵀ, 0]. A batch of 64 symmetric 6×6 matrices is
// perturbed until each one's smallest eigenvector points along e₁.
// Run: npx tsx examples/eigenvector-implicit.ts
import { lastValueFrom } from 'rxjs';
import * as mg from '../src/index.js';

export async function main({ batch = 64, steps = 3000 } = {}) {
  const problem = mg.problem({ kind: 'eigenvector', matrix: { random: { shape: [batch, 6, 6], seed: 7 } }, which: 'smallest', gradient: 'implicit' });
  const r = await lastValueFrom(mg.solve(problem, { steps, reportEvery: 200 }));
  if (!r.done) throw new Error('no result');
  console.log(`${batch} problems: ${r.status} after ${r.step} steps, mean sin(angle to e₁) = ${r.metrics.angle.toExponential(2)}`);

  // the implicit gradient equals the closed-form one (eigh's VJP) on symmetric matrices
  const A = mg.random([6, 6], { seed: 1 });
  const loss = (gradient: 'implicit' | 'closed') => (X: mg.Tensor) => {
    const S = mg.mul(mg.add(X, mg.transpose(X)), 0.5);
    const v =
      gradient === 'implicit'
        ? mg.linalg.eigenvector(S, { which: 'smallest' }).vector
        : mg.reshape(mg.slice(mg.linalg.eigh(S).vectors, [0, 0], [6, 1]), [6]);
    return mg.square(mg.slice(v, [0], [1])).sum();
  };
  const gap = mg.max(mg.abs(mg.sub(mg.grad(loss('implicit'))(A), mg.grad(loss('closed'))(A)))).item();
  console.log(`max |implicit − closed-form gradient| = ${gap.toExponential(2)}`);
  return { result: r, gap };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
