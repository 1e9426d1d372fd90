import { describe, expect, it } from 'vitest';
import * as F from '../src/autograd/api.js';
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import type { Tensor } from '../src/autograd/tensor.js';
import { CpuBackend } from '../src/backends/cpu/index.js';
import { compileSmall } from '../src/backends/cpu/small.js';
import * as mg from '../src/index.js';
import { factorLoss } from '../src/problems/svd.js';

type DType = 'float32' | 'float64';
const wasm = new CpuBackend({ batchWork: Infinity });
const js = new CpuBackend({ batchWork: Infinity, simd: false });

function data(n: number, seed: number): Float64Array {
  let s = seed;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * ((s = (s * 16807) % 2147483647) / 2147483647) - 1;
  return out;
}

/** Compiles fn over inputs of these shapes; runs it on the wasm (small) and the JS path. */
function both(shapes: number[][], fn: (...xs: Tensor[]) => Tensor[], dtype: DType = 'float64') {
  const inputs = shapes.map((s) => inputTensor(s, dtype));
  const plan = compile(inputs, fn(...inputs));
  const run = (be: CpuBackend) => {
    const exe = be.compile(plan);
    shapes.forEach((s, i) => exe.write(i, data(s.reduce((a, b) => a * b, 1), 11 + 7 * i)));
    exe.run(1);
    const out = plan.outputs.map((_, o) => Array.from(exe.readSync(o)));
    exe.dispose();
    return out;
  };
  return { plan, small: compileSmall(plan), wasm: run(wasm), js: run(js) };
}

const close = (a: number[][], b: number[][], tol: number) => {
  expect(a.length).toBe(b.length);
  a.forEach((x, o) => {
    expect(x.length).toBe(b[o].length);
    const scale = Math.max(1e-300, ...b[o].map(Math.abs));
    x.forEach((v, i) => expect(Math.abs(v - b[o][i]) / scale).toBeLessThanOrEqual(tol));
  });
};

describe('cpu small-plan wasm kernels', () => {
  const shapes: [number, number, number][] = [
    [16, 12, 12],
    [12, 16, 12],
    [5, 3, 4],
    [3, 7, 6],
    [1, 4, 2],
    [7, 5, 10],
    [9, 2, 14],
  ];
  for (const [m, k, n] of shapes)
    for (const tA of [false, true])
      for (const tB of [false, true])
        it(`matmul ${m}×${k}×${n} transA=${tA} transB=${tB} matches the JS kernel exactly`, () => {
          const a = tA ? [k, m] : [m, k];
          const b = tB ? [n, k] : [k, n];
          const r = both([a, b], (x, y) => [F.matmulT(x, y, tA, tB)]);
          expect(r.small).not.toBeNull();
          expect(r.wasm).toEqual(r.js);
        });

  it('a product with odd n stays JS (and the plan falls back whole)', () => {
    const r = both([[4, 3], [3, 5]], (x, y) => [F.matmul(x, y)]);
    expect(r.small).toBeNull();
    expect(r.wasm).toEqual(r.js);
  });

  it('float32 plans keep the JS kernels', () => {
    const r = both([[4, 4], [4, 4]], (x, y) => [F.matmul(x, y)], 'float32');
    expect(r.small).toBeNull();
    expect(r.wasm).toEqual(r.js);
  });

  it('fuses broadcasts, reductions, partial sums and JS-only ops around the products', () => {
    const r = both([[16, 12], [12, 12], [1, 12], [16, 1], []], (x, y, row, col, s) => {
      const p = F.matmul(x, y); // 16×12
      const q = F.add(F.mul(p, row), F.div(col, F.add(F.square(s), 2)));
      const e = F.exp(F.mul(q, 0.1)); // exp: a JS kernel between wasm segments
      const z = F.matmulT(x, e, true, false); // 12×12
      return [
        q,
        e,
        z,
        F.sum(F.square(q)),
        F.mean(z),
        F.max(q),
        F.sum(q, [0], true),
        F.mean(z, [1], true),
        F.sqrt(F.add(F.abs(z), 1)),
        F.pow(F.add(F.abs(q), 1), -1),
        F.sub(F.neg(q), F.reshape(F.sum(q), [])),
      ];
    });
    expect(r.small).not.toBeNull();
    const kinds = r.plan.kernels.filter((_, i) => r.small!.replaced.has(i)).map((k) => (k.kind === 'op' ? k.op : k.kind));
    expect(kinds).toEqual(expect.arrayContaining(['matmul', 'fused', 'sum']));
    expect(r.plan.kernels.some((_, i) => !r.small!.replaced.has(i))).toBe(true); // exp stays JS
    // elementwise and product outputs exactly; full reductions up to summation order
    close(r.wasm, r.js, 1e-14);
    for (const o of [0, 1, 2, 6, 7, 8, 9]) expect(r.wasm[o]).toEqual(r.js[o]);
  });

  it('odd-sized and scalar fused loops', () => {
    const r = both([[3, 5], [5, 2], [7]], (x, y, v) => {
      const p = F.matmul(x, y); // 3×2
      return [F.mul(p, 3), F.sum(F.square(v)), F.add(F.mean(v), 1), F.square(v), F.max(F.neg(v))];
    });
    expect(r.small).not.toBeNull();
    close(r.wasm, r.js, 1e-14);
    expect(r.wasm[0]).toEqual(r.js[0]);
    expect(r.wasm[3]).toEqual(r.js[3]);
    expect(r.wasm[4]).toEqual(r.js[4]);
  });

  it('runs the seed-001 SVD Adam step program like the JS path', () => {
    const A = mg.tensor(data(192, 5), { shape: [16, 12] });
    const make = (backend: CpuBackend) =>
      new mg.optimizers.StepProgram(
        [mg.tensor(data(192, 9).map((v) => 0.1 * v), { shape: [16, 12] }), mg.ones([12]), mg.tensor(data(144, 13).map((v) => 0.1 * v), { shape: [12, 12] })],
        (u, s, v) => factorLoss(A, u, s, v, 1),
        mg.optimizers.adam({ lr: 0.01 }),
        { backend },
      );
    const a = make(wasm);
    const b = make(js);
    expect(a.run(200)).toBe(200);
    b.run(200);
    expect(Math.abs(a.loss() - b.loss()) / b.loss()).toBeLessThan(1e-10);
    expect(Math.abs(a.gradNorm() - b.gradNorm()) / b.gradNorm()).toBeLessThan(1e-9);
    close(
      a.params().map((p) => Array.from(p.node.data!)),
      b.params().map((p) => Array.from(p.node.data!)),
      1e-10,
    );
    a.dispose();
    b.dispose();
  });
});
