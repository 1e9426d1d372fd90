import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import type { AnyTensor, ComplexTensor, Tensor } from '../src/index.js';

// Complex tensors: PyTorch reference values (scripts/fixtures/complex.py, complex128) for every
// complex op's forward value and gradient of a real loss, gradcheck in complex128, the API around them.

type Real = { shape: number[]; values: number[] };
type Cplx = { shape: number[]; re: number[]; im: number[] };
type Enc = Real | Cplx;
interface Case {
  name: string;
  op: string;
  axis?: number;
  inputs: Enc[];
  loss: { kind: string; [k: string]: unknown };
  value: number;
  outputs: Enc[];
  grads: Enc[];
}
interface OptimizerCase {
  name: string;
  optimizer: { kind: 'sgd' | 'adam' | 'adamw'; lr: number; momentum?: number; weightDecay?: number };
  A: Cplx;
  b: Cplx;
  z0: Cplx;
  losses: number[];
  z: Cplx;
}
const fixture: { cases: Case[]; optimizers: OptimizerCase[] } = JSON.parse(readFileSync(new URL('./fixtures/complex.json', import.meta.url), 'utf8'));

const dec = (e: Enc): AnyTensor =>
  'values' in e
    ? mg.tensor(Float64Array.from(e.values), { shape: e.shape })
    : mg.complex(mg.tensor(Float64Array.from(e.re), { shape: e.shape }), mg.tensor(Float64Array.from(e.im), { shape: e.shape }));
const real = (e: unknown): Tensor => dec(e as Real) as Tensor;
const L = mg.linalg;

/** The op's outputs from the inputs, as scripts/fixtures/complex.py's run. */
function run(c: Case, xs: AnyTensor[]): AnyTensor[] {
  const [a, b] = xs as [ComplexTensor, ComplexTensor];
  switch (c.op) {
    case 'add':
      return [mg.add(a, b)];
    case 'sub':
      return [mg.sub(a, b)];
    case 'mul':
    case 'mul-real':
      return [mg.mul(a, b)];
    case 'div':
      return [mg.div(a, b)];
    case 'neg':
      return [mg.neg(a)];
    case 'conj':
      return [mg.conj(a)];
    case 'real':
      return [mg.real(a)];
    case 'imag':
      return [mg.imag(a)];
    case 'abs':
      return [mg.abs(a)];
    case 'square':
      return [mg.square(a)];
    case 'exp':
      return [mg.exp(a)];
    case 'reciprocal':
      return [mg.reciprocal(a)];
    case 'log':
      return [mg.log(a)];
    case 'sqrt':
      return [mg.sqrt(a)];
    case 'pow-2.5':
      return [mg.pow(a, 2.5)];
    case 'pow-3':
      return [mg.pow(a, 3)];
    case 'angle':
      return [mg.angle(a)];
    case 'cholesky':
      return [L.cholesky(a)];
    case 'qr': {
      const { Q, R } = L.qr(a);
      return [Q, R];
    }
    case 'slogdet': {
      const { sign, logabsdet } = L.slogdet(a);
      return [sign, logabsdet];
    }
    case 'eig': {
      const { values, vectors } = L.eig(a);
      return [values, vectors];
    }
    case 'eig-of-real': {
      const r = xs[0] as Tensor;
      const { values, vectors } = L.eig(mg.complex(r, mg.mul(r, 0)));
      return [values, vectors];
    }
    case 'sum':
      return [mg.sum(a)];
    case 'mean':
      return [mg.mean(a)];
    case 'sum-axis':
      return [mg.sum(a, c.axis)];
    case 'matmul':
      return [mg.matmul(a, b)];
    case 'adjoint':
      return [mg.adjoint(a)];
    case 'transpose':
      return [mg.transpose(a)];
    case 'trace':
      return [mg.trace(a)];
    case 'diag':
      return [mg.diag(a)];
    case 'svdvals':
      return [L.svdvals(a)];
    case 'svd': {
      const { U, S, Vh } = L.svd(a);
      return [S, U, Vh];
    }
    case 'eigvalsh':
      return [L.eigvalsh(a)];
    case 'eigh': {
      const { values, vectors } = L.eigh(a);
      return [values, vectors];
    }
    case 'solve':
      return [L.solve(a, b)];
    case 'inv':
      return [L.inv(a)];
    case 'det':
      return [L.det(a)];
    case 'det-abs':
      return [mg.abs(L.det(a))];
    default:
      throw new Error(`no op ${c.op}`);
  }
}

const abs2 = (z: ComplexTensor) => mg.add(mg.square(z.re), mg.square(z.im));
/** The loss, rebuilt from its kind and weights. */
function loss(c: Case, outs: AnyTensor[]): Tensor {
  const l = c.loss;
  const [y] = outs;
  switch (l.kind) {
    case 'linear': {
      const z = y as ComplexTensor;
      return mg.add(mg.sum(mg.mul(z.re, real(l.wr))), mg.sum(mg.mul(z.im, real(l.wi))));
    }
    case 'linear-real':
      return mg.sum(mg.mul(y as Tensor, real(l.w)));
    case 'svd-gauge-free': {
      const [S, U, Vh] = outs as [Tensor, ComplexTensor, ComplexTensor];
      return mg.add(mg.sum(mg.mul(S, real(l.wS))), mg.add(mg.sum(mg.mul(abs2(U), real(l.wU))), mg.sum(mg.mul(abs2(Vh), real(l.wV)))));
    }
    case 'eigh-gauge-free': {
      const [vals, V] = outs as [Tensor, ComplexTensor];
      return mg.add(mg.sum(mg.mul(vals, real(l.wL))), mg.sum(mg.mul(abs2(V), real(l.wV))));
    }
    case 'qr-gauge-free': {
      const [Q, R] = outs as [ComplexTensor, ComplexTensor];
      return mg.add(mg.sum(mg.mul(abs2(Q), real(l.wQ))), mg.sum(mg.mul(abs2(R), real(l.wR))));
    }
    case 'eig-gauge-free': {
      const [vals, V] = outs as [ComplexTensor, ComplexTensor];
      return mg.add(mg.add(mg.sum(mg.mul(vals.re, real(l.wr))), mg.sum(mg.mul(vals.im, real(l.wi)))), mg.sum(mg.mul(abs2(V), real(l.wV))));
    }
    case 'eig-symmetric': {
      const [vals, V] = outs as [ComplexTensor, ComplexTensor];
      const perPair = mg.add(mg.add(mg.mul(vals.re, real(l.a)), mg.mul(mg.square(vals.im), real(l.b))), mg.mul(mg.square(vals.re), real(l.c)));
      return mg.add(mg.sum(perPair), mg.sum(mg.mul(abs2(V), real(l.wRow))));
    }
    case 'slogdet-linear': {
      const [sign, logabsdet] = outs as [ComplexTensor, Tensor];
      return mg.add(mg.add(mg.sum(mg.mul(sign.re, real(l.wr))), mg.sum(mg.mul(sign.im, real(l.wi)))), mg.sum(mg.mul(logabsdet, real(l.wl))));
    }
    default:
      throw new Error(`no loss ${l.kind}`);
  }
}

/** Interleaved values of an encoded tensor (re, im pairs for complex ones). */
const flat = (e: Enc): number[] => ('values' in e ? e.values : e.re.flatMap((r, i) => [r, e.im[i]]));
function expectClose(got: AnyTensor, want: Enc, rtol: number) {
  expect(got.shape).toEqual(want.shape);
  expect('values' in want ? got.dtype : 'complex').toBe('values' in want ? 'float64' : 'complex');
  const w = flat(want);
  const g = Array.from(got.dataSync());
  const scale = Math.max(1, ...w.map(Math.abs));
  const err = Math.max(0, ...g.map((v, i) => Math.abs(v - w[i])));
  expect(err / scale).toBeLessThan(rtol);
}
const isComplex = (t: AnyTensor) => t instanceof mg.ComplexTensor;

describe('complex ops against PyTorch (fixtures, complex128)', () => {
  expect(fixture.cases.length).toBeGreaterThan(30);
  for (const c of fixture.cases) {
    it(c.name, () => {
      const xs = c.inputs.map(dec);
      const outs = run(c, xs);
      c.outputs.forEach((o, i) => expectClose(outs[i], o, 1e-8));
      const { value, grads } = mg.valueAndGrad((...args: AnyTensor[]) => loss(c, run(c, args)))(...xs);
      expect(Math.abs(value.item() - c.value)).toBeLessThan(1e-8 * Math.max(1, Math.abs(c.value)));
      grads.forEach((g, i) => {
        expect(isComplex(g)).toBe(isComplex(xs[i]));
        expectClose(g, c.grads[i], 1e-8);
      });
    });
  }
});

const cx = (shape: number[], seed: number) => mg.randomComplex(shape, { seed });
const check = (fn: (...xs: ComplexTensor[]) => AnyTensor | AnyTensor[], inputs: AnyTensor[]) => {
  const r = mg.gradcheck(fn as (...xs: AnyTensor[]) => AnyTensor | AnyTensor[], inputs);
  expect(r.failures).toEqual([]);
  expect(r.ok).toBe(true);
};

describe('gradcheck in complex128 (real views, re and im perturbed apart)', () => {
  const a = cx([3, 4], 1);
  const b = cx([3, 4], 2);
  const r = mg.random([4], { seed: 3 });
  const cases: [string, (...xs: ComplexTensor[]) => AnyTensor | AnyTensor[], AnyTensor[]][] = [
    ['add', (x, y) => mg.add(x, y), [a, b]],
    ['sub with a real', (x) => mg.sub(x, r), [a]],
    ['mul', (x, y) => mg.mul(x, y), [a, b]],
    ['mul by a real (real input too)', (x, y) => mg.mul(x, y), [a, r]],
    ['div', (x, y) => mg.div(x, mg.add(y, 2)), [a, b]],
    ['real / complex', (x) => mg.div(r, mg.add(x, 2)), [a]],
    ['neg, conj', (x) => mg.conj(mg.neg(x)), [a]],
    ['real, imag', (x) => [mg.real(x), mg.imag(x)], [a]],
    ['abs', (x) => mg.abs(x), [a]],
    ['square, exp', (x) => mg.exp(mg.square(x)), [a]],
    ['reciprocal', (x) => mg.reciprocal(mg.add(x, 2)), [a]],
    ['log, angle (off the branch cut)', (x) => [mg.log(mg.add(x, 3)), mg.angle(mg.add(x, 3))], [a]],
    ['sqrt on both half planes', (x) => mg.sqrt(mg.add(x, mg.tensor([[-3], [3], [-3]]))), [a]],
    ['pow: integer, negative, fractional', (x) => [mg.pow(x, 3), mg.pow(mg.add(x, 2), -2), mg.pow(mg.add(x, 3), 0.7)], [a]],
    ['matmul (complex @ complex, real @ complex)', (x, y) => [mg.matmul(x, mg.adjoint(y)), mg.matmul(mg.transpose(r.reshape([4, 1])), mg.transpose(y))], [a, b]],
    ['sum, mean, keepdims', (x) => [mg.sum(x, 0), mg.mean(x, -1, true), mg.sum(x)], [a]],
    ['reshape, slice, concat', (x, y) => mg.concat([mg.slice(mg.reshape(x, [4, 3]), [1, 0], [2, -1]), mg.reshape(y, [4, 3])], 0), [a, b]],
    ['trace, diag, diagEmbed', (x) => [mg.trace(x), mg.diagEmbed(mg.diag(x))], [cx([2, 3, 3], 4)]],
    ['where', (x, y) => mg.where(mg.gt(r, 0.5), x, y), [a, b]],
    ['mse', (x, y) => mg.mse(x, y), [a, b]],
    ['broadcastTo', (x) => mg.broadcastTo(x, [2, 3, 4]), [a]],
    ['complex(re, im) from reals, viewAsReal', (x, y) => mg.viewAsReal(mg.mul(mg.complex(x as unknown as Tensor, y as unknown as Tensor), a)), [r, mg.random([3, 1], { seed: 6 })]],
  ];
  for (const [name, fn, inputs] of cases) it(name, () => check(fn, inputs));
});

describe('complex tensors', () => {
  it('are created from { re, im }, from interleaved arrays and from parts, and read back', () => {
    const z = mg.complexTensor({ re: [[1, 2], [3, 4]], im: [[0.5, -1], [2, 0]] });
    expect(z.dtype).toBe('complex128');
    expect(z.shape).toEqual([2, 2]);
    expect(Array.from(z.dataSync())).toEqual([1, 0.5, 2, -1, 3, 2, 4, 0]);
    expect(z.arraySync()).toEqual({ re: [[1, 2], [3, 4]], im: [[0.5, -1], [2, 0]] });
    const f = mg.complexTensor(Float32Array.from([1, 2, 3, 4]), { shape: [2] });
    expect(f.dtype).toBe('complex64');
    expect(f.realDType).toBe('float32');
    expect(f.arraySync()).toEqual({ re: [1, 3], im: [2, 4] });
    expect(mg.complexTensor({ re: [1, 2] }).arraySync()).toEqual({ re: [1, 2], im: [0, 0] });
    expect(mg.viewAsReal(z).shape).toEqual([2, 2, 2]);
    expect(mg.viewAsComplex(mg.viewAsReal(z)).arraySync()).toEqual(z.arraySync());
    expect(mg.complex(mg.tensor([1, 2]), mg.tensor(3)).arraySync()).toEqual({ re: [1, 2], im: [3, 3] });
    expect(mg.sum(z).item()).toEqual({ re: 10, im: 1.5 });
    expect(z.cast('complex64').dataSync()).toBeInstanceOf(Float32Array);
    expect(String(mg.complexTensor({ re: [1], im: [2] }))).toContain('complex128');
  });

  it('real tensors take complex operands in their methods (the result is complex)', () => {
    const z = mg.complexTensor({ re: [[1, 2], [3, 4]], im: [[1, 0], [0, 1]] });
    const r = mg.tensor([[2, 0], [0, 2]]);
    expect(r.mul(z)).toBeInstanceOf(mg.ComplexTensor);
    expect(r.matmul(z).arraySync()).toEqual({ re: [[2, 4], [6, 8]], im: [[2, 0], [0, 2]] });
    expect(r.sub(z).add(z).arraySync()).toEqual({ re: [[2, 0], [0, 2]], im: [[0, 0], [0, 0]] });
  });

  it('multiply like complex numbers', () => {
    const a = mg.complexTensor({ re: [1, 0], im: [2, 1] });
    const b = mg.complexTensor({ re: [3, 0], im: [-1, 1] });
    expect(mg.mul(a, b).arraySync()).toEqual({ re: [5, -1], im: [5, 0] }); // (1+2i)(3−i) = 5+5i, i·i = −1
    expect(mg.div(mg.mul(a, b), b).arraySync()).toEqual(a.arraySync());
    expect(mg.abs(mg.complexTensor({ re: [3], im: [4] })).arraySync()).toEqual([5]);
  });

  it('randomComplex draws like torch.randn (E|z|² = 1)', () => {
    const z = mg.randomComplex([20000], { seed: 5 });
    const power = mg.mean(mg.square(mg.abs(z))).item();
    expect(Math.abs(power - 1)).toBeLessThan(0.05);
  });

  it('sqrt, log and pow take the principal branch (like torch)', () => {
    const z = mg.complexTensor({ re: [-4, 3, -3, -3, 0], im: [0, 4, 4, -4, 2] });
    const r = mg.sqrt(z).arraySync() as { re: number[]; im: number[] };
    expect(r.re.map((v) => +v.toFixed(12))).toEqual([0, 2, 1, 1, 1]);
    expect(r.im.map((v) => +v.toFixed(12))).toEqual([2, 1, 2, -2, 1]);
    expect(mg.log(mg.complexTensor({ re: [-1], im: [0] })).item().im).toBeCloseTo(Math.PI, 14);
    expect(mg.pow(mg.complexTensor({ re: [0], im: [1] }), 2).item()).toEqual({ re: -1, im: 0 });
  });

  it('abs has gradient 0 at 0 (like torch)', () => {
    const g = mg.grad((z: ComplexTensor) => mg.sum(mg.abs(z)))(mg.complexTensor({ re: [0, 3], im: [0, 4] }));
    expect(Array.from(g.dataSync(), (v) => Math.round(v * 1e12) / 1e12)).toEqual([0, 0, 0.6, 0.8]);
  });

  it('grad follows PyTorch: ∂|z|²/∂z = 2z, and real arguments keep real gradients', () => {
    const z = mg.complexTensor({ re: [1, -2], im: [0.5, 3] });
    const r = mg.tensor([2, 3]);
    const { grads } = mg.valueAndGrad((a: AnyTensor, b: AnyTensor) => mg.sum(mg.mul(mg.square(mg.abs(a as ComplexTensor)), b as Tensor)))(z, r);
    expect((grads[0] as ComplexTensor).arraySync()).toEqual({ re: [4, -12], im: [2, 18] });
    expect(grads[1]).toBeInstanceOf(mg.Tensor);
  });

  it('jit takes and returns complex tensors (and keeps programs apart from real ones of the view shape)', () => {
    const f = mg.jit((z: ComplexTensor) => mg.matmul(z, mg.adjoint(z)));
    const z = cx([3, 2], 7);
    const want = mg.matmul(z, mg.adjoint(z));
    const got = f(z);
    expect(got).toBeInstanceOf(mg.ComplexTensor);
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    const g = mg.jit((x: AnyTensor) => mg.mul(x as Tensor, 2));
    expect(g(mg.viewAsReal(z))).toBeInstanceOf(mg.Tensor);
    expect(g(z)).toBeInstanceOf(mg.ComplexTensor);
    f.dispose();
  });

  it('complex64 runs in float32', () => {
    const z = mg.randomComplex([2, 4, 4], { seed: 1, dtype: 'complex64' });
    const { U, S, Vh } = L.svd(z);
    expect(S.dtype).toBe('float32');
    const back = mg.matmul(mg.mul(U, S.reshape([2, 1, 4])), Vh);
    const err = mg.max(mg.abs(mg.sub(back, z))).item();
    expect(err).toBeLessThan(1e-5);
  });

  it('errors name the op and the dtypes', () => {
    const z = cx([2, 2], 1);
    expect(() => mg.sign(z as never)).toThrow(/sign: not defined for complex tensors \(got complex128 \[2, 2\]\)/);
    expect(() => mg.atan2(z, z)).toThrow(/atan2: not defined for complex/);
    expect(() => mg.maximum(z, 1)).toThrow(/maximum: not defined for complex/);
    expect(() => mg.add(z, mg.tensor([1, 2], { dtype: 'float32' }))).toThrow(/add: a complex128 operand meets a float32 one/);
    expect(() => mg.add(z, z.cast('complex64'))).toThrow(/add: inputs have different dtypes \(complex128, complex64\)/);
    expect(() => mg.viewAsComplex(mg.zeros([2, 3]))).toThrow(/last dim must be 2/);
    expect(() => L.eigenvector(z as never)).toThrow(/linalg.eigenvector: not defined for complex/);
    expect(() => L.cholesky(z)).toThrow(/linalg.cholesky: the matrix is not positive definite/);
    expect(() => mg.grad((x: ComplexTensor) => x as never)(z)).toThrow(/real tensors, got a complex128 one/);
    expect(() => mg.complexTensor({ re: [1, 2], im: [1] })).toThrow(/re has shape \[2\], im has \[1\]/);
    expect(() => L.inv(mg.complexTensor({ re: [[1, 2], [2, 4]] }))).toThrow(/linalg.inv: the matrix is singular \(batch index 0\)/);
  });

  it('eigvals of a real rotation block: ±i·θ-pair, complex like torch.linalg.eigvals', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const vals = L.eigvals(mg.tensor([[c, -s, 0], [s, c, 0], [0, 0, 2]]));
    expect(vals).toBeInstanceOf(mg.ComplexTensor);
    const { re, im } = vals.arraySync() as { re: number[]; im: number[] };
    expect(re.map((v) => +v.toFixed(12))).toEqual([+c.toFixed(12), +c.toFixed(12), 2]);
    expect(im.map((v) => Math.abs(+v.toFixed(12))).slice(0, 2)).toEqual([+s.toFixed(12), +s.toFixed(12)]);
    expect(im[0] + im[1]).toBeCloseTo(0, 12);
  });

  it('decompositions hold their invariants (A·V = V·Λ, UᴴU = I) on a batch', () => {
    const A = cx([5, 4, 4], 11);
    const Hm = mg.mul(mg.add(A, mg.adjoint(A)), 0.5);
    const { values, vectors: V } = L.eigh(Hm);
    const res = mg.sub(mg.matmul(Hm, V), mg.mul(V, values.reshape([5, 1, 4])));
    expect(mg.max(mg.abs(res)).item()).toBeLessThan(1e-12);
    const { U } = L.svd(cx([3, 6, 4], 12));
    const I = mg.sub(mg.matmul(mg.adjoint(U), U), mg.eye(4));
    expect(mg.max(mg.abs(I)).item()).toBeLessThan(1e-12);
  });
});

describe('optimizers on a complex parameter match torch.optim (which steps its real view)', () => {
  for (const o of fixture.optimizers) {
    it(o.name, () => {
      const A = dec(o.A) as ComplexTensor;
      const b = dec(o.b) as ComplexTensor;
      const { kind, lr, momentum, weightDecay } = o.optimizer;
      const tx = kind === 'sgd' ? mg.optimizers.sgd({ lr, momentum }) : kind === 'adam' ? mg.optimizers.adam({ lr }) : mg.optimizers.adamw({ lr, weightDecay });
      const r = mg.objective({ z: mg.param(dec(o.z0) as ComplexTensor) }, ({ z }) => mg.sum(mg.square(mg.abs(mg.sub(mg.matmul(A, z), b)))));
      const init = mg.initialValues(r).z as ComplexTensor;
      const prog = new mg.optimizers.StepProgram([init.view], (v) => r.loss({ z: mg.viewAsComplex(v) }), tx);
      const losses: number[] = [];
      for (let t = 0; t < o.losses.length; t++) {
        prog.run(1);
        losses.push(prog.loss());
      }
      const z = mg.viewAsComplex(prog.params()[0]);
      prog.dispose();
      losses.forEach((l, t) => expect(Math.abs(l - o.losses[t])).toBeLessThan(1e-10 * Math.max(1, o.losses[t])));
      expectClose(z, o.z, 1e-10);
    });
  }

  it('solve() takes complex parameters and returns them complex', async () => {
    const { lastValueFrom } = await import('rxjs');
    const target = cx([3, 3], 9);
    const problem = mg.objective({ Z: mg.param([3, 3], { dtype: 'complex128', init: 'normal', seed: 2 }) }, ({ Z }) => mg.mse(Z, target));
    const r = await lastValueFrom(mg.solve(problem, { optimizer: mg.optimizers.adam({ lr: 0.05 }), steps: 2000, tolerance: 1e-14 }));
    if (!r.done) throw new Error('no result');
    expect(r.status).toBe('converged');
    expect(r.params.Z).toBeInstanceOf(mg.ComplexTensor);
    expect(mg.max(mg.abs(mg.sub(r.params.Z, target))).item()).toBeLessThan(1e-6);
  });
});

// Degenerate inputs (as test/linalg.test.ts for real matrices): repeated eigen/singular values,
// rank deficiency and the zero matrix give finite outputs and gradients; losses invariant to the
// basis inside each degenerate cluster (projectors onto whole clusters, symmetric functions of the
// values, U·diag(c)·Vh with c constant per cluster) match finite differences exactly.
describe('degenerate complex decompositions', () => {
  /** A fixed unitary n×n matrix: complex Householder reflections of fixed vectors. */
  const unitary = (n: number, salt: number): ComplexTensor => {
    let Q = mg.complex(mg.eye(n), mg.zeros([n, n]));
    for (let r = 0; r < 3; r++) {
      const f = (k: number) => Array.from({ length: n }, (_, i) => [Math.sin(1 + salt + 2.3 * r + 1.7 * i * (r + 1) + k)]);
      const v = mg.complexTensor({ re: f(0), im: f(0.5) });
      const vv = mg.real(mg.matmul(mg.adjoint(v), v)).item();
      Q = mg.matmul(Q, mg.sub(mg.eye(n), mg.mul(mg.matmul(v, mg.adjoint(v)), 2 / vv)));
    }
    return Q;
  };
  const scaleCols = (Z: ComplexTensor, d: number[] | Tensor) => mg.mul(Z, mg.reshape(d instanceof mg.Tensor ? d : mg.tensor(d), [1, -1]));
  const spectral = (d: number[], salt = 0) => {
    const Q = unitary(d.length, salt);
    return mg.matmul(scaleCols(Q, d), mg.adjoint(Q));
  };
  const withSingularValues = (m: number, n: number, s: number[]) => {
    const k = s.length;
    const U = mg.slice(unitary(m, 1), [0, 0], [m, k]);
    const V = mg.slice(unitary(n, 2), [0, 0], [n, k]);
    return mg.matmul(scaleCols(U, s), mg.adjoint(V));
  };
  const herm = (z: ComplexTensor) => mg.mul(mg.add(z, mg.adjoint(z)), 0.5);
  const W = (n: number, seed: number) => mg.randomComplex([n, n], { seed });
  /** Re Σ conj(W)∘Z: a real loss of a complex matrix. */
  const pair = (Wt: ComplexTensor, Z: ComplexTensor) => mg.sum(mg.real(mg.mul(mg.conj(Wt), Z)));
  const finite = (t: AnyTensor) => Array.from(t.dataSync()).every(Number.isFinite);
  const exact = (f: (z: ComplexTensor) => Tensor, z: ComplexTensor, label: string) => {
    expect(finite(mg.grad(f)(z)), `${label}: gradient is finite`).toBe(true);
    const r = mg.gradcheck(f as (...xs: AnyTensor[]) => Tensor, [z], { eps: 1e-6, atol: 1e-7, rtol: 1e-6 });
    expect(r.failures, `${label}: max error ${r.maxError}`).toEqual([]);
  };

  const eighCases: [string, () => ComplexTensor, number[]][] = [
    ['A = I', () => mg.complex(mg.eye(4), mg.zeros([4, 4])), [1, 1, 1, 1]],
    ['repeated pair', () => spectral([1, 1, 3, 5]), [1, 1, 0, 0]],
    ['triple', () => spectral([2, 2, 2, -1], 5), [0, 1, 1, 1]],
  ];
  for (const [name, make, sel] of eighCases) {
    it(`eigh, ${name}: finite everywhere; Σλ², cluster projectors exact`, () => {
      const all = (X: ComplexTensor) => {
        const { values, vectors } = L.eigh(herm(X));
        return mg.add(mg.sum(values), pair(W(4, 3), vectors));
      };
      expect(finite(mg.grad(all)(make()))).toBe(true);
      exact((X) => mg.sum(mg.square(L.eigvalsh(herm(X)))), make(), `${name}: Σλ²`);
      for (const mask of [sel, sel.map((v) => 1 - v)]) {
        const projector = (X: ComplexTensor) => {
          const V = L.eigh(herm(X)).vectors;
          return pair(W(4, 4), mg.matmul(scaleCols(V, mask), mg.adjoint(V)));
        };
        exact(projector, make(), `${name}: projector ${mask.join('')}`);
      }
    });
  }

  const svdCases: { name: string; A: () => ComplexTensor; top: number[] }[] = [
    { name: 'repeated pair (4×4)', A: () => withSingularValues(4, 4, [3, 3, 1, 0.5]), top: [1, 1, 0, 0] },
    { name: 'a scaled unitary (all equal)', A: () => mg.mul(unitary(3, 7), 2), top: [1, 1, 1] },
    { name: 'repeated pair (tall 5×3)', A: () => withSingularValues(5, 3, [2, 1, 1]), top: [1, 0, 0] },
    { name: 'rank 2 (wide 3×4)', A: () => withSingularValues(3, 4, [3, 1, 0]), top: [1, 1, 0] },
  ];
  for (const { name, A, top } of svdCases) {
    it(`svd, ${name}: finite everywhere; Σs², Σs, U·diag(c)·Vh exact`, () => {
      const [m, n] = A().shape;
      const Wmn = mg.randomComplex([m, n], { seed: 11 });
      const all = (X: ComplexTensor) => {
        const { U, S, Vh } = L.svd(X);
        return mg.add(mg.sum(S), mg.add(pair(W(m, 5).slice([0, 0], [m, U.shape[1]]), U), pair(W(n, 6).slice([0, 0], [Vh.shape[0], n]), Vh)));
      };
      expect(finite(mg.grad(all)(A()))).toBe(true);
      exact((X) => mg.sum(mg.square(L.svdvals(X))), A(), `${name}: Σs²`);
      if (L.svdvals(A()).dataSync().every((v) => v > 0.1)) exact((X) => mg.sum(L.svdvals(X)), A(), `${name}: Σs`);
      exact((X) => {
        const { U, Vh } = L.svd(X);
        return pair(Wmn, mg.matmul(scaleCols(U, top), Vh));
      }, A(), `${name}: U diag(c) Vh`);
    });
  }

  it('eig at a repeated eigenvalue (diagonalizable) and a Jordan block: finite; Σλ and Σλ² exact', () => {
    const S = mg.add(unitary(3, 9), mg.mul(mg.eye(3), 0.5));
    const repeated = mg.matmul(mg.matmul(S, mg.complex(mg.diagEmbed(mg.tensor([1, 1, 2])), mg.zeros([3, 3]))), L.inv(S));
    const jordan = mg.complexTensor({ re: [[2, 1, 0], [0, 2, 1], [0, 0, 2]] });
    for (const [name, A] of [['S·diag(1, 1, 2)·S⁻¹', repeated], ['Jordan block', jordan]] as const) {
      const all = (X: ComplexTensor) => {
        const { values, vectors } = L.eig(X);
        return mg.add(mg.sum(mg.real(values)), mg.sum(mg.mul(mg.square(mg.abs(vectors)), mg.tensor([[1], [2], [3]]))));
      };
      expect(finite(mg.grad(all)(A)), `${name}: gradient`).toBe(true);
      if (name === 'Jordan block') continue; // eigenvalues are not differentiable there (they move like ε^(1/3))
      exact((X) => mg.sum(mg.real(L.eig(X).values)), A, `${name}: Σ Re λ`);
      exact((X) => mg.sum(mg.real(mg.square(L.eig(X).values))), A, `${name}: Σ Re λ²`);
    }
  });

  it('the zero matrix: finite outputs and gradients (svd and eigh)', () => {
    for (const shape of [[3, 3], [4, 2], [2, 4]]) {
      const Z = mg.complex(mg.zeros(shape), mg.zeros(shape));
      const f = (X: ComplexTensor) => {
        const { U, S, Vh } = L.svd(X);
        return mg.add(mg.sum(S), mg.add(mg.sum(mg.abs(U)), mg.sum(mg.real(Vh))));
      };
      expect(finite(mg.grad(f)(Z))).toBe(true);
    }
    const Z = mg.complex(mg.zeros([3, 3]), mg.zeros([3, 3]));
    expect(finite(mg.grad((X: ComplexTensor) => mg.sum(mg.real(L.eigh(X).vectors)))(Z))).toBe(true);
  });
});
