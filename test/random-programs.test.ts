// Random programs compiled with mg.jit and mg.valueAndGrad: values against a plain-JS evaluator,
// gradients against its central finite differences (float64).
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { expectClose, inputsOf, lossMg, lossRef, numericalGrads, randomProgram, runMg, runRef, toTensor } from './helpers/random-programs.js';

// MATGRAD_RANDOM_PROGRAMS=5000 for a longer soak run
const PROGRAMS = Number(process.env.MATGRAD_RANDOM_PROGRAMS ?? 240);
const seeds = Array.from({ length: PROGRAMS }, (_, i) => i);

describe('random programs: jit and valueAndGrad against a plain-JS reference', () => {
  it.each(seeds)('program %i', (seed) => {
    const p = randomProgram(seed);
    const xs = inputsOf(p, seed);
    const ts = xs.map((x) => toTensor(x));
    const describeP = () => JSON.stringify(p);

    const f = mg.jit((...a: mg.Tensor[]) => runMg(p, a));
    try {
      const outs = f(...ts) as mg.Tensor[];
      const ref = runRef(p, xs);
      outs.forEach((o, k) => {
        expect(o.shape, describeP()).toEqual(ref[k].shape);
        expectClose(o.dataSync(), ref[k].data, (e) => 1e-10 * (1 + Math.abs(e)), `jit output ${k} of ${describeP()}`);
      });
    } finally {
      f.dispose();
    }

    const { value, grads } = mg.valueAndGrad((...a: mg.Tensor[]) => lossMg(p, a))(...ts);
    const loss = lossRef(p, xs);
    expectClose(value.dataSync(), [loss], (e) => 1e-10 * (1 + Math.abs(e)), `value of ${describeP()}`);
    const numerical = numericalGrads(p, xs);
    grads.forEach((g, k) => {
      expect(g.shape).toEqual(p.inputs[k]);
      // FD error: O(eps²) truncation plus rounding of the loss divided by eps
      expectClose(g.dataSync(), numerical[k], (e) => 1e-6 * (1 + Math.abs(e)) + 1e-8 * (1 + Math.abs(loss)), `grad ${k} of ${describeP()}`);
    });
  });
});

// Both used to fail with "compile: internal error: cyclic schedule": a merge looked for paths between
// nodes, but the kernels are groups, and a path could leave a group through one member and come back
// through another (here: the exp group feeds the x-loop, whose reduction feeds exp's backward).
describe('fusion regressions: a merge never closes a cycle between groups', () => {
  it('grad of sum(x · exp(s)) for a vector x and a scalar s', () => {
    const x = [0.3, -1.2, 0.7];
    const s = 0.4;
    const [gx, gs] = mg.grad((a: mg.Tensor, b: mg.Tensor) => mg.sum(mg.mul(a, mg.exp(b))))(
      mg.tensor(x, { dtype: 'float64' }),
      mg.scalar(s, { dtype: 'float64' }),
    );
    expectClose(gx.dataSync(), x.map(() => Math.exp(s)), () => 1e-12, 'd/dx');
    expectClose(gs.dataSync(), [x.reduce((a, b) => a + b) * Math.exp(s)], () => 1e-12, 'd/ds');
  });

  it('grad of sum(sum(q², 1) + sum(q, 1)²)', () => {
    const q = [[0.5, -1, 2], [1.5, 0.25, -0.75]];
    const g = mg.grad((a: mg.Tensor) => mg.sum(mg.add(mg.sum(mg.square(a), 1), mg.square(mg.sum(a, 1)))))(
      mg.tensor(q, { dtype: 'float64' }),
    );
    // ∂/∂q_ij = 2 q_ij + 2 Σ_k q_ik
    const expected = q.flatMap((row) => row.map((v) => 2 * v + 2 * row.reduce((a, b) => a + b)));
    expect(g.shape).toEqual([2, 3]);
    expectClose(g.dataSync(), expected, () => 1e-12, 'd/dq');
  });
});
