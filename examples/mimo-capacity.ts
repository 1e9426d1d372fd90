// Seed 000's MIMO setting: a batch of random 4×4 complex channel matrices H (complex64) and one
// shared 4×4 complex precoder P with total power ‖P‖²_F = 4. Capacity of channel b with P:
// Σᵢ log2(1 + snr·σᵢ(H_b·P)²/4). Adam maximizes the mean capacity through complex singular-value
// gradients; for i.i.d. channels the optimum is a unitary P (PᴴP = I), which the run approaches.
// Run: npx tsx examples/mimo-capacity.ts
import { lastValueFrom } from 'rxjs';
import * as mg from '../src/index.js';
import type { ComplexTensor } from '../src/index.js';

/** Mean capacity (bits/s/Hz per channel) of precoder P, scaled to total power 4. */
export function capacity(H: ComplexTensor, P: ComplexTensor, snr: number): mg.Tensor {
  const n = P.shape[0];
  const power = mg.sum(mg.square(mg.abs(P)));
  const Pn = mg.mul(P, mg.sqrt(mg.div(n, power)));
  const s = mg.linalg.svdvals(mg.matmul(H, Pn));
  const bits = mg.div(mg.log(mg.add(1, mg.mul(mg.square(s), snr / n))), Math.LN2);
  return mg.mean(mg.sum(bits, -1));
}

export async function main({ batch = 102_400, steps = 100, snrDb = 10, seed = 1 } = {}) {
  const snr = 10 ** (snrDb / 10);
  const H = mg.randomComplex([batch, 4, 4], { seed, dtype: 'complex64' });
  const problem = mg.objective({ P: mg.param([4, 4], { dtype: 'complex64', init: 'normal', seed: seed + 1 }) }, ({ P }) => mg.neg(capacity(H, P, snr)), {
    name: `mimo-capacity ${batch}×4×4`,
  });
  const P0 = mg.initialValues(problem).P as ComplexTensor;
  const before = capacity(H, P0, snr).item();
  const t0 = performance.now();
  const r = await lastValueFrom(mg.solve(problem, { optimizer: mg.optimizers.adam({ lr: 0.02 }), steps, reportEvery: Math.max(1, steps / 5) }));
  if (!r.done) throw new Error('no result');
  const ms = performance.now() - t0;
  const after = -r.loss;
  // how far the learned precoder (scaled to power 4) is from unitary: ‖PᴴP − I‖_F
  const P = r.params.P;
  const Pn = mg.mul(P, mg.sqrt(mg.div(4, mg.sum(mg.square(mg.abs(P))))));
  const unitarity = mg.sqrt(mg.sum(mg.square(mg.abs(mg.sub(mg.matmul(mg.adjoint(Pn), Pn), mg.eye(4, { dtype: 'float32' })))))).item();
  console.log(`${batch} channels, snr ${snrDb} dB: capacity ${before.toFixed(3)} → ${after.toFixed(3)} bits/s/Hz in ${r.step} Adam steps (${(ms / r.step).toFixed(1)} ms/step)`);
  console.log(`‖PᴴP − I‖_F = ${unitarity.toExponential(2)} (a unitary precoder is optimal for i.i.d. channels)`);
  return { before, after, unitarity, result: r };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
