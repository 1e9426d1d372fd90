// Seed 000: the trace-1 symmetric PSD matrix with the largest smallest eigenvalue, A = LLᵀ/tr(LLᵀ),
// maximizing eigvalsh(A)[0] through eigenvalue gradients. The optimum is I/n.
// Run: npx tsx examples/lambda-min.ts
import { lastValueFrom } from 'rxjs';
import * as mg from '../src/index.js';

export async function main({ n = 4, steps = 5000 } = {}) {
  const problem = mg.problem({ kind: 'lambda-min', n });
  const r = await lastValueFrom(mg.solve(problem, { steps, reportEvery: 500 }));
  if (!r.done) throw new Error('no result');
  const L = r.params.L;
  const LLt = mg.matmul(L, mg.transpose(L));
  const A = mg.div(LLt, mg.trace(LLt));
  console.log(`λ_min = ${r.metrics.lambdaMin} (optimum 1/${n} = ${1 / n}), gap ${r.metrics.gap.toExponential(2)}`);
  console.log('eigenvalues:', Array.from(mg.linalg.eigvalsh(A).dataSync()).map((v) => v.toFixed(9)).join(' '));
  return { result: r, A };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
