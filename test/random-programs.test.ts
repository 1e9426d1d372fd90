// Random programs compiled with mg.jit and mg.valueAndGrad: values against a plain-JS evaluator,
// gradients against its central finite differences (float64).
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { signedRng } from './helpers/arrays.js';
import { type Arr, lossMg, lossRef, type Program, randomProgram, runMg, runRef, size } from './helpers/random-programs.js';

const inputsOf = (p: Program, seed: number): Arr[] => {
  const rnd = signedRng(seed + 1_000_003);
  return p.inputs.map((shape) => ({ shape, data: Array.from({ length: size(shape) }, () => rnd()) }));
};
const toTensor = (x: Arr) => mg.fromArray(Float64Array.from(x.data), x.shape);

/** Central differences of the reference loss, element by element. */
function numericalGrads(p: Program, xs: Arr[], eps = 1e-6): number[][] {
  return xs.map((x, k) =>
    x.data.map((_, i) => {
      const at = (h: number) => lossRef(p, xs.map((y, j) => (j === k ? { shape: y.shape, data: y.data.map((v, l) => (l === i ? v + h : v)) } : y)));
      return (at(eps) - at(-eps)) / (2 * eps);
    }),
  );
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: (e: number) => number, what: string) {
  expect(actual.length, what).toBe(expected.length);
  expected.forEach((e, i) => {
    if (!(Math.abs(actual[i] - e) <= tol(e))) throw new Error(`${what}[${i}]: got ${actual[i]}, expected ${e}`);
  });
}

// MATGRAD_RANDOM_PROGRAMS=5000 for a longer soak run
const PROGRAMS = Number(process.env.MATGRAD_RANDOM_PROGRAMS ?? 240);
const seeds = Array.from({ length: PROGRAMS }, (_, i) => i);

describe('random programs: jit and valueAndGrad against a plain-JS reference', () => {
  it.each(seeds)('program %i', (seed) => {
    const p = randomProgram(seed);
    const xs = inputsOf(p, seed);
    const ts = xs.map(toTensor);
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
