import { describe, expect, it } from 'vitest';
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import * as mg from '../src/index.js';
import { lehmerInverse4 } from '../bench/workloads.js';
import { MatgradDTypeError, MatgradShapeError, type Tensor } from '../src/index.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
};

describe('tensors', () => {
  it('creates and reads tensors of every creator', () => {
    expect(
      mg
        .tensor([
          [1, 2],
          [3, 4],
        ])
        .arraySync(),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(mg.tensor(2).shape).toEqual([]);
    expect(mg.tensor(2).item()).toBe(2);
    expect(mg.eye(3).arraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(mg.eye(2, { batch: [2] }).shape).toEqual([2, 2, 2]);
    expect(mg.zeros([2, 3]).dataSync()).toEqual(new Float64Array(6));
    expect(mg.ones([2], { dtype: 'float32' }).dataSync()).toEqual(new Float32Array([1, 1]));
    expect(mg.tensor(new Float32Array([1, 2, 3, 4]), { shape: [2, 2] }).dtype).toBe('float32');
  });
  it('random is reproducible per seed and differs across seeds', () => {
    const a = mg.random([5, 5], { seed: 3 }).dataSync();
    expect(mg.random([5, 5], { seed: 3 }).dataSync()).toEqual(a);
    expect(mg.random([5, 5], { seed: 4 }).dataSync()).not.toEqual(a);
    const n = Array.from(mg.random([20000], { seed: 1, dist: 'normal' }).dataSync());
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const variance = n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
  it('async readers match sync ones', async () => {
    const t = mg.random([2, 3], { seed: 1 });
    expect(await t.array()).toEqual(t.arraySync());
    expect(await t.data()).toEqual(t.dataSync());
  });
  it('rejects ragged arrays and bad shapes with clear messages', () => {
    expect(() => mg.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => mg.tensor(new Float64Array(5), { shape: [2, 2] })).toThrow(
      /5 values do not fill shape \[2, 2\]/,
    );
    expect(() => mg.zeros([2, -1])).toThrow(/non-negative integers/);
  });
});

describe('bad input', () => {
  it('names the op and both shapes at trace time', () => {
    const a = mg.zeros([2, 3]);
    const b = mg.zeros([4, 5]);
    expect(() => mg.add(a, b)).toThrow(MatgradShapeError);
    expect(() => mg.add(a, b)).toThrow('add: shapes [2, 3] and [4, 5] cannot be broadcast together');
    expect(() => mg.matmul(a, b)).toThrow('matmul: inner dimensions differ: [2, 3] @ [4, 5]');
    // inside a traced function too
    expect(() => mg.grad((x: Tensor) => mg.sum(mg.matmul(x, x)))(a)).toThrow(
      'matmul: inner dimensions differ: [2, 3] @ [2, 3]',
    );
    expect(() => mg.reshape(a, [4])).toThrow('reshape: cannot reshape [2, 3] (6 elements) to [4]');
    expect(() => mg.sum(a, 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2');
  });
  it('refuses to mix float32 and float64 without a cast', () => {
    const a = mg.ones([2], { dtype: 'float32' });
    const b = mg.ones([2]);
    expect(() => mg.add(a, b)).toThrow(MatgradDTypeError);
    expect(() => mg.add(a, b)).toThrow(/add: inputs have different dtypes \(float32, float64\)/);
    expect(mg.add(a, mg.cast(b, 'float32')).dtype).toBe('float32');
    expect(mg.add(a, 1).dtype).toBe('float32'); // numbers take the tensor's dtype
  });
  it('requires a scalar loss for grad', () => {
    expect(() => mg.grad((x: Tensor) => mg.mul(x, 2))(mg.ones([3]))).toThrow(
      /must return one scalar \(1 element\), got \[3\]/,
    );
  });
  it('cannot read a traced tensor', () => {
    expect(() => mg.grad((x: Tensor) => mg.tensor(x.arraySync() as number[]).sum())(mg.ones([3]))).toThrow(
      /traced tensor/,
    );
  });
});

describe('differentiation', () => {
  const M = mg.tensor([
    [4, 1],
    [2, 3],
  ]);
  const loss = (X: Tensor) => X.matmul(M).sub(mg.eye(2)).square().mean();
  it('gives the analytic gradient of the seed-002 loss', () => {
    const X = mg.random([2, 2], { seed: 5 });
    const g = mg.grad(loss)(X);
    const R = X.matmul(M).sub(mg.eye(2));
    close(g.dataSync(), mg.mul(R.matmul(M.transpose()), 0.5).dataSync());
  });
  it('valueAndGrad returns value and every argument gradient', () => {
    const f = (a: Tensor, b: Tensor) => mg.sum(mg.mul(a, b));
    const a = mg.random([3], { seed: 1 });
    const b = mg.random([3], { seed: 2 });
    const { value, grads } = mg.valueAndGrad(f)(a, b);
    close([value.item()], [mg.sum(mg.mul(a, b)).item()]);
    close(grads[0].dataSync(), b.dataSync());
    close(grads[1].dataSync(), a.dataSync());
  });
  it('an unused argument gets a zero gradient', () => {
    const g = mg.grad((a: Tensor, _b: Tensor) => mg.sum(a))(mg.ones([2]), mg.ones([3])) as Tensor[];
    expect(g[1].dataSync()).toEqual(new Float64Array(3));
  });
  it('second order: grad of grad', () => {
    // f(x) = sum(x^3) -> f' = 3x^2 -> d/dx sum(f') = 6x
    const inner = mg.grad((x: Tensor) => mg.sum(mg.pow(x, 3)));
    const outer = mg.grad((x: Tensor) => mg.sum(inner(x) as Tensor));
    const x = mg.tensor([1, 2, -3]);
    close(outer(x).dataSync(), [6, 12, -18]);
    // and gradcheck of a gradient
    expect(mg.gradcheck((y: Tensor) => inner(y) as Tensor, [mg.random([4], { seed: 2 })]).ok).toBe(true);
  });
  it('mixed partials: d/dy of (d/dx x*y) = 1', () => {
    const dfdx = (x: Tensor, y: Tensor) =>
      (mg.grad((a: Tensor, b: Tensor) => mg.sum(mg.mul(a, b)))(x, y) as Tensor[])[0];
    const g = mg.grad((x: Tensor, y: Tensor) => mg.sum(dfdx(x, y)))(mg.ones([3]), mg.ones([3])) as Tensor[];
    close(g[1].dataSync(), [1, 1, 1]);
  });
  it('gradcheck catches a gradient that disagrees with finite differences', () => {
    // a jump at 0: the VJP sees slope 1 on each side, finite differences see the jump
    const jump = (x: Tensor) => mg.sum(mg.where(mg.gt(x, 0), x, mg.sub(x, 1)));
    const r = mg.gradcheck(jump, [mg.tensor([0, 0.5, -0.5])]);
    expect(r.ok).toBe(false);
    expect(r.failures.some((f) => f.input === 0 && f.index === 0)).toBe(true);
    expect(mg.gradcheck(jump, [mg.tensor([0.3, 0.5, -0.5])]).ok).toBe(true);
  });
  it('jit caches per signature and matches eager results', () => {
    const f = mg.jit((x: Tensor) => mg.sum(mg.square(x), -1));
    const x = mg.random([3, 4], { seed: 1 });
    close((f(x) as Tensor).dataSync(), mg.sum(mg.square(x), -1).dataSync());
    close((f(mg.ones([2, 2])) as Tensor).dataSync(), [2, 2]);
  });
});

describe('compiled plans', () => {
  it('fuses the seed-002 step into few kernels and updates the parameter in place', () => {
    const X = inputTensor([4, 4], 'float64');
    const M = mg.random([4, 4], { seed: 1 });
    const r = X.matmul(M).sub(mg.eye(4));
    const loss = r.square().mean();
    const next = mg.sub(X, mg.mul(r.matmul(M.transpose()), 0.1));
    const plan = compile([X], [loss, next], { donate: [[1, 0]] });
    const kinds = plan.kernels.map((k) => (k.kind === 'op' ? k.op : k.kind));
    expect(kinds).toEqual(['matmul', 'fused', 'matmul', 'fused']);
    expect(plan.outputs[1]).toBe(plan.inputs[0]); // written straight into X's buffer
    expect(plan.kernels.some((k) => k.kind === 'copy')).toBe(false);
  });
  it('falls back to a copy when another reader runs after the writer', () => {
    const X = inputTensor([3], 'float64');
    const next = mg.add(X, 1);
    const later = mg.matmul(mg.reshape(X, [1, 3]), mg.reshape(next, [3, 1])); // reads old X after next exists
    const plan = compile([X], [next, later], { donate: [[0, 0]] });
    const exe = mg.cpu.compile(plan);
    exe.write(0, [1, 2, 3]);
    exe.run(1);
    expect(Array.from(exe.readSync(0))).toEqual([2, 3, 4]);
    expect(Array.from(exe.readSync(1))).toEqual([1 * 2 + 2 * 3 + 3 * 4]);
    exe.dispose();
  });
  it('frees a buffer read twice by one kernel only once (two reshapes of one input)', () => {
    const W = mg.random([3, 3, 4], { seed: 1 });
    const f = (X: Tensor) => mg.sum(mg.mul(W, mg.add(mg.reshape(X, [3, 1, 4]), mg.reshape(X, [1, 3, 4]))));
    const X = mg.random([3, 4], { seed: 2 });
    // d/dX: Σ over the broadcast axis of W, once per reshape
    const expected = mg.add(mg.sum(W, 1), mg.sum(W, 0));
    close(mg.grad(f)(X).dataSync(), expected.dataSync());
  });
  it('reuses the plan of a structurally identical graph, and only then', () => {
    const M = mg.random([4, 4], { seed: 1 });
    const trace = (m: Tensor, lr: number) => {
      const X = inputTensor([4, 4], 'float64');
      return compile([X], [mg.sub(X, mg.mul(mg.matmul(X, m), lr))]);
    };
    expect(trace(M, 0.1)).toBe(trace(M, 0.1));
    expect(trace(M, 0.1)).not.toBe(trace(M, 0.2)); // a different constant
    expect(trace(M, 0.1)).not.toBe(trace(mg.random([4, 4], { seed: 2 }), 0.1)); // different data
  });
  it('reuses buffers by liveness', () => {
    const X = inputTensor([8, 8], 'float64');
    let y = X;
    for (let i = 0; i < 6; i++) y = mg.matmul(y, X);
    const plan = compile([X], [mg.sum(y)]);
    // 6 matmul results, but only two live at once (+ input + output)
    expect(plan.buffers.length).toBeLessThanOrEqual(4);
    const exe = mg.cpu.compile(plan);
    const x = mg.random([8, 8], { seed: 1, low: -0.5, high: 0.5 });
    exe.write(0, x.dataSync());
    exe.run(1);
    let e = x;
    for (let i = 0; i < 6; i++) e = mg.matmul(e, x);
    close(exe.readSync(0), [mg.sum(e).item()], 1e-12);
    exe.dispose();
  });
  it('allocates no buffer after the first step (100 steps)', () => {
    const M = mg.random([4, 4], { seed: 1 });
    const prog = new mg.optimizers.StepProgram(
      [mg.random([4, 4], { seed: 2 })],
      (x) => mg.mse(x.matmul(M), mg.eye(4)),
      mg.optimizers.adam({ lr: 0.01 }),
    );
    prog.run(1);
    const before = mg.cpu.stats();
    prog.run(100);
    const after = mg.cpu.stats();
    expect(after.allocations).toBe(before.allocations);
    expect(after.liveBuffers).toBe(before.liveBuffers);
    prog.dispose();
    expect(mg.cpu.stats().liveBuffers).toBeLessThan(before.liveBuffers);
  });
  it('the compiled momentum loop reproduces the hand-fused reference exactly', () => {
    const { M, X } = lehmerInverse4();
    const Mt = mg.tensor(M, { shape: [4, 4] });
    const prog = new mg.optimizers.StepProgram(
      [mg.tensor(X, { shape: [4, 4] })],
      (x) => x.matmul(Mt).sub(mg.eye(4)).square().mean(),
      mg.optimizers.sgd({ lr: 0.9, momentum: 0.9 }),
    );
    // the reference loop, inline
    const V = new Float64Array(16);
    const R = new Float64Array(16);
    let loss = 0;
    for (let t = 0; t < 200; t++) {
      loss = 0;
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) {
          let acc = 0;
          for (let k = 0; k < 4; k++) acc += X[i * 4 + k] * M[k * 4 + j];
          R[i * 4 + j] = acc - (i === j ? 1 : 0);
          loss += R[i * 4 + j] ** 2;
        }
      loss /= 16;
      for (let i = 0; i < 4; i++)
        for (let k = 0; k < 4; k++) {
          let acc = 0;
          for (let j = 0; j < 4; j++) acc += R[i * 4 + j] * M[k * 4 + j];
          V[i * 4 + k] = 0.9 * V[i * 4 + k] + (2 / 16) * acc;
        }
      for (let i = 0; i < 16; i++) X[i] -= 0.9 * V[i];
    }
    prog.run(200);
    close([prog.loss()], [loss], 1e-10);
    close(prog.params()[0].dataSync(), X, 1e-10);
    prog.dispose();
  });
});
