import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as F from '../src/autograd/api.js';
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import type { Plan } from '../src/autograd/plan.js';
import { analyzeBatch } from '../src/backends/cpu/batch.js';
import { CpuBackend } from '../src/backends/cpu/index.js';
import { simdAvailable } from '../src/backends/cpu/simd.js';
import * as mg from '../src/index.js';

type DType = 'float32' | 'float64';

/** The plain single-thread path, the batched path on one thread, and on two threads (workers forced). */
const backends = () => ({
  plain: new CpuBackend({ batchWork: Infinity }),
  single: new CpuBackend({ threads: 1, batchWork: 1 }),
  parallel: new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1, idleMs: 0 }),
});

/** max |a − b| / max |b| */
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return s === 0 ? d : d / s;
};
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** The bench's batched inverse: B independent n×n problems, loss mean((XM − I)²), Adam. */
function inverseProgram(
  backend: CpuBackend,
  dtype: DType,
  opts: { B?: number; n?: number; gradNorm?: boolean; tx?: mg.optimizers.Transform } = {},
) {
  const B = opts.B ?? 300;
  const n = opts.n ?? 8;
  const M = mg.add(mg.random([B, n, n], { seed: 7, dtype }), mg.mul(mg.eye(n, { dtype }), n));
  const I = mg.eye(n, { dtype });
  return new mg.optimizers.StepProgram(
    [mg.random([B, n, n], { seed: 3, dtype, low: -0.1, high: 0.1 })],
    (x) => x.matmul(M).sub(I).square().mean(),
    opts.tx ?? mg.optimizers.adam({ lr: 0.01 }),
    { backend, gradNorm: opts.gradNorm ?? true },
  );
}

function runAll(dtype: DType, steps: number, opts: Parameters<typeof inverseProgram>[2] = {}) {
  const out: Record<string, { params: ArrayLike<number>; loss: number; gradNorm: number }> = {};
  for (const [name, be] of Object.entries(backends())) {
    const prog = inverseProgram(be, dtype, opts);
    expect(prog.run(steps)).toBe(steps);
    out[name] = {
      params: prog.params()[0].dataSync(),
      loss: prog.loss(),
      gradNorm: opts.gradNorm === false ? Number.NaN : prog.gradNorm(),
    };
    prog.dispose();
  }
  return out;
}

describe('batch-separable plans', () => {
  it('finds the batch axis, the temps and the host kernels of the inverse Adam step', () => {
    let plan: Plan | undefined;
    const spy = new CpuBackend({ batchWork: Infinity });
    const compileOrig = spy.compile.bind(spy);
    spy.compile = (p) => {
      plan = p;
      return compileOrig(p);
    };
    inverseProgram(spy, 'float32', { B: 50 }).dispose();
    const info = analyzeBatch(plan!)!;
    expect(info).not.toBeNull();
    expect(info.batch).toBe(50);
    expect(info.reductions.length).toBe(2); // the loss and ‖∇‖²
    expect(info.post.length).toBe(1); // sqrt of ‖∇‖²
    expect(info.roles.filter((r) => r === 'temp').length).toBeGreaterThan(0);
    // the parameter and Adam's state keep the batch axis in shared memory
    for (const b of plan!.inputs.slice(0, 3)) expect(info.roles[b]).toBe('batched');
  });

  it('rejects plans that mix batch indices (a parameter shared across the batch)', () => {
    const W = inputTensor([4, 4], 'float64');
    const X = mg.random([64, 4, 4], { seed: 1 });
    const loss = F.mean(F.square(F.matmul(X, W)));
    const [gW] = mg.backward([loss], [mg.ones([])], [W]);
    expect(analyzeBatch(compile([W], [F.reshape(loss, []), gW!]))).toBeNull();
  });

  it('keeps small plans on the plain path', () => {
    const be = new CpuBackend({ threads: 2 });
    const a = inputTensor([4, 4, 4], 'float64');
    const exe = be.compile(compile([a], [F.mul(a, 2)]));
    exe.write(0, new Float64Array(64).fill(1));
    exe.run(1);
    expect(be.workers).toBe(0);
    expect(exe.readSync(0)[5]).toBe(2);
    exe.dispose();
  });
});

describe('parallel CPU execution', () => {
  it('runs the batched inverse Adam program identically on 1 and 2 threads (float32)', () => {
    const r = runAll('float32', 60);
    expect(relDiff(r.parallel.params, r.single.params)).toBeLessThanOrEqual(1e-6);
    expect(relErr(r.parallel.loss, r.single.loss)).toBeLessThanOrEqual(1e-6);
    expect(relErr(r.parallel.gradNorm, r.single.gradNorm)).toBeLessThanOrEqual(1e-6);
    // the SIMD kernels compute in float32 where the plain path computes in float64 and rounds
    expect(relDiff(r.single.params, r.plain.params)).toBeLessThanOrEqual(1e-5);
    expect(relErr(r.single.loss, r.plain.loss)).toBeLessThanOrEqual(1e-4);
    expect(relErr(r.single.gradNorm, r.plain.gradNorm)).toBeLessThanOrEqual(1e-4);
  });

  it('matches the plain path exactly in float64 (up to the loss summation order)', () => {
    const r = runAll('float64', 40);
    expect(relDiff(r.parallel.params, r.plain.params)).toBe(0);
    expect(relDiff(r.single.params, r.plain.params)).toBe(0);
    expect(relErr(r.parallel.loss, r.plain.loss)).toBeLessThanOrEqual(1e-13);
    expect(relErr(r.parallel.gradNorm, r.plain.gradNorm)).toBeLessThanOrEqual(1e-13);
    expect(r.parallel.loss).toBe(r.single.loss);
  });

  it('runs the JS (non-SIMD) tiles identically too', () => {
    const plain = inverseProgram(new CpuBackend({ batchWork: Infinity }), 'float32', { B: 200 });
    const js = inverseProgram(
      new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1, simd: false, idleMs: 0 }),
      'float32',
      { B: 200 },
    );
    plain.run(30);
    js.run(30);
    expect(relDiff(js.params()[0].dataSync(), plain.params()[0].dataSync())).toBe(0);
    expect(relErr(js.loss(), plain.loss())).toBeLessThanOrEqual(1e-12);
    plain.dispose();
    js.dispose();
  });

  it('runs AdamW (scalar kernels before the tiles) and plain SGD the same', () => {
    for (const tx of [
      () => mg.optimizers.adamw({ lr: 0.01, weightDecay: 0.1 }),
      () => mg.optimizers.sgd({ lr: 0.1, momentum: 0.9 }),
    ]) {
      const out = Object.entries(backends()).map(([, be]) => {
        const prog = inverseProgram(be, 'float64', { B: 120, n: 4, tx: tx() });
        prog.run(25);
        const res = { params: prog.params()[0].dataSync(), loss: prog.loss() };
        prog.dispose();
        return res;
      });
      expect(relDiff(out[1].params, out[0].params)).toBe(0);
      expect(relDiff(out[2].params, out[0].params)).toBe(0);
      expect(relErr(out[2].loss, out[0].loss)).toBeLessThanOrEqual(1e-13);
    }
  });

  it('broadcasts constants over the batch and combines sum, mean and max reductions', () => {
    const B = 257; // not a multiple of any tile size
    const C = mg.random([3, 4], { seed: 5 }); // shared by every batch index
    const v = mg.random([4], { seed: 6 });
    const x = inputTensor([B, 2, 3], 'float64');
    const y = F.add(F.matmul(x, C), v); // [B, 2, 4]
    const z = F.matmulT(y, C, false, true); // [B, 2, 3] = y Cᵀ
    const w = F.matmulT(x, y, true, false); // [B, 3, 4] = xᵀ y
    const plan = compile(
      [x],
      [F.reshape(F.sum(F.square(y)), []), F.reshape(F.max(z), []), F.reshape(F.mean(w), []), F.mul(z, 2), w],
    );
    expect(analyzeBatch(plan)).not.toBeNull();
    const data = mg.random([B, 2, 3], { seed: 8 }).dataSync();
    const results = Object.values(backends()).map((be) => {
      const exe = be.compile(plan);
      exe.write(0, data);
      exe.run(3); // stateless: every step computes the same outputs (and 3 steps start the workers)
      const outs = [0, 1, 2, 3, 4].map((o) => exe.readSync(o));
      exe.dispose();
      return outs;
    });
    const [plain, single, parallel] = results;
    for (const r of [single, parallel]) {
      expect(relErr(r[0][0], plain[0][0])).toBeLessThanOrEqual(1e-13);
      expect(r[1][0]).toBe(plain[1][0]);
      expect(relErr(r[2][0], plain[2][0])).toBeLessThanOrEqual(1e-13);
      expect(relDiff(r[3], plain[3])).toBe(0);
      expect(relDiff(r[4], plain[4])).toBe(0);
    }
    // independent check of the reductions
    const yv = F.add(F.matmul(mg.tensor(data, { shape: [B, 2, 3] }), C), v);
    expect(relErr(parallel[0][0], F.sum(F.square(yv)).item())).toBeLessThanOrEqual(1e-12);
  });

  it('lets beforeStep see every step’s loss and stop early (solve() semantics)', () => {
    const seen: Record<string, number[]> = {};
    for (const [name, be] of Object.entries(backends())) {
      const prog = inverseProgram(be, 'float64', { B: 100 });
      const losses: number[] = [];
      const ran = prog.run(50, (t, loss) => {
        losses.push(loss);
        return t === 17;
      });
      expect(ran).toBe(17);
      expect(prog.t).toBe(17);
      seen[name] = losses;
      prog.dispose();
    }
    expect(seen.parallel.length).toBe(17);
    for (let i = 0; i < 17; i++) {
      expect(relErr(seen.parallel[i], seen.plain[i])).toBeLessThanOrEqual(1e-13);
      expect(seen.parallel[i]).toBe(seen.single[i]);
    }
  });

  it('gives the same result with and without lookahead (per-step scalars from a schedule)', () => {
    // StepProgram.run without a watch lets the backend compute the scalars ahead (1024 steps at a time)
    // and run each tile through them; with a watch it runs in lockstep
    const steps = 2100;
    const make = (be: CpuBackend) =>
      inverseProgram(be, 'float64', {
        B: 64,
        n: 4,
        tx: mg.optimizers.adam({ lr: mg.schedules.cosine({ lr: 0.05, tMax: steps }) }),
      });
    const plain = make(new CpuBackend({ batchWork: Infinity }));
    const ahead = make(new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1, idleMs: 0 }));
    const lock = make(new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1, idleMs: 0 }));
    plain.run(steps);
    expect(ahead.run(steps)).toBe(steps);
    expect(lock.run(steps, () => false)).toBe(steps);
    const p = plain.params()[0].dataSync();
    expect(relDiff(ahead.params()[0].dataSync(), p)).toBe(0);
    expect(relDiff(lock.params()[0].dataSync(), p)).toBe(0);
    expect(ahead.loss()).toBe(lock.loss());
    expect(ahead.gradNorm()).toBe(lock.gradNorm());
    expect(relErr(ahead.loss(), plain.loss())).toBeLessThanOrEqual(1e-13);
    expect(relErr(ahead.gradNorm(), plain.gradNorm())).toBeLessThanOrEqual(1e-13);
    for (const q of [plain, ahead, lock]) q.dispose();
  });

  it('stops a lookahead run where beforeStep says so', () => {
    const B = 100;
    const x = inputTensor([B, 4], 'float64');
    const lr = inputTensor([], 'float64');
    const plan = compile([x, lr], [F.add(x, lr), F.reshape(F.sum(F.mul(x, lr)), [])], {
      donate: [[0, 0]],
      stepScalars: [1],
    });
    const outs = Object.values(backends()).map((be) => {
      const exe = be.compile(plan);
      exe.write(0, new Float64Array(B * 4).fill(1));
      const seen: number[] = [];
      const ran = exe.run(
        10,
        (s, scalars) => {
          seen.push(s);
          scalars[0] = s + 1;
          return s === 6 ? false : undefined;
        },
        { lookahead: true },
      );
      const res = { ran, seen, x: exe.readSync(0)[7], sum: exe.readSync(1)[0] };
      exe.dispose();
      return res;
    });
    for (const o of outs) {
      expect(o.ran).toBe(6);
      expect(o.x).toBe(1 + 1 + 2 + 3 + 4 + 5 + 6);
      expect(o.sum).toBe((1 + 1 + 2 + 3 + 4 + 5) * 6 * B * 4);
      expect(o.seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
  });

  it('allocates nothing after the first run, and dispose frees buffers and workers', () => {
    const be = new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1, idleMs: 0 });
    const base = be.stats();
    const prog = inverseProgram(be, 'float32', { B: 200 });
    prog.run(2);
    expect(be.workers).toBe(1);
    const before = be.stats();
    expect(before.liveBuffers).toBeGreaterThan(base.liveBuffers);
    prog.run(50);
    prog.run(5, () => false);
    const after = be.stats();
    expect(after.allocations).toBe(before.allocations);
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.liveBytes).toBe(before.liveBytes);
    prog.dispose();
    expect(be.stats().liveBuffers).toBe(base.liveBuffers);
    expect(be.stats().liveBytes).toBe(base.liveBytes);
    expect(be.workers).toBe(0);
    expect(() => prog.run(1)).toThrow(/disposed/);
  });

  it('starts no workers for a single step, but uses running ones', () => {
    const be = new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1, idleMs: 0 });
    const a = inverseProgram(be, 'float64', { B: 64, n: 4 });
    a.run(1);
    a.run(1);
    expect(be.workers).toBe(0);
    const b = inverseProgram(be, 'float64', { B: 64, n: 4 });
    b.run(2);
    expect(be.workers).toBe(1);
    a.run(1); // joins the running pool
    const ref = inverseProgram(new CpuBackend({ batchWork: Infinity }), 'float64', { B: 64, n: 4 });
    ref.run(3);
    expect(relDiff(a.params()[0].dataSync(), ref.params()[0].dataSync())).toBe(0);
    a.dispose();
    b.dispose();
    ref.dispose();
    expect(be.workers).toBe(0);
  });

  it('shares one pool between programs and stops it when idle', () => {
    const be = new CpuBackend({ threads: 3, batchWork: 1, parallelWork: 1, idleMs: 60_000 });
    const a = inverseProgram(be, 'float64', { B: 64, n: 4 });
    const b = inverseProgram(be, 'float64', { B: 64, n: 4 });
    a.run(3);
    b.run(3);
    expect(be.workers).toBe(2);
    a.dispose();
    expect(be.workers).toBe(2);
    b.run(2);
    b.dispose();
    expect(be.workers).toBe(2); // kept for the idle period
    be.stopWorkers();
    expect(be.workers).toBe(0);
    const c = inverseProgram(be, 'float64', { B: 64, n: 4 });
    c.run(2); // starts them again
    expect(be.workers).toBe(2);
    c.dispose();
    be.stopWorkers();
  });

  it('restarts the workers once dropped programs pass RECYCLE_BYTES (freeing what they held); live programs reload', () => {
    const be = new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1, idleMs: 60_000 });
    // a program that lives across the restarts, checked against the plain path afterwards
    const kept = inverseProgram(be, 'float64', { B: 64, n: 4 });
    kept.run(2);
    let restarts = 0;
    for (let i = 0; i < 12; i++) {
      const big = inverseProgram(be, 'float64', { B: 10_000, n: 4 }); // a few MB of memory each
      big.run(2);
      expect(be.workers).toBe(1);
      big.dispose();
      if (be.workers === 0) restarts++;
    }
    expect(restarts).toBeGreaterThanOrEqual(1);
    expect(restarts).toBeLessThanOrEqual(6); // not after every program: each is well under RECYCLE_BYTES
    kept.run(3);
    expect(be.workers).toBe(1);
    const ref = inverseProgram(new CpuBackend({ batchWork: Infinity }), 'float64', { B: 64, n: 4 });
    ref.run(5);
    expect(relDiff(kept.params()[0].dataSync(), ref.params()[0].dataSync())).toBe(0);
    kept.dispose();
    ref.dispose();
    be.stopWorkers();
  });

  it('uses the SIMD kernels where the engine has them', () => {
    expect(typeof simdAvailable()).toBe('boolean');
    if (!simdAvailable()) return;
    // SIMD float32 arithmetic differs from the plain path's float64-then-round in the last bits
    const r = runAll('float32', 5, { B: 100, gradNorm: false });
    expect(relDiff(r.single.params, r.plain.params)).toBeGreaterThan(0);
  });

  it('does not keep the process alive', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'matgrad-'));
    const file = path.join(dir, 'exit.ts');
    const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
    writeFileSync(
      file,
      `import * as mg from '${src}/index.js';
import { CpuBackend } from '${src}/backends/cpu/index.js';
const be = new CpuBackend({ threads: 2, batchWork: 1, parallelWork: 1 });
const M = mg.random([500, 4, 4], { seed: 1 });
const p = new mg.optimizers.StepProgram([mg.zeros([500, 4, 4])], (x) => x.matmul(M).sub(mg.eye(4)).square().mean(), mg.optimizers.adam({ lr: 0.01 }), { backend: be });
p.run(20);
console.log('ran', be.workers, p.loss() > 0);
`,
    );
    const res = spawnSync(process.execPath, ['--import', 'tsx', file], {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: path.resolve(src, '..'),
    });
    expect(res.stderr).toBe('');
    expect(res.stdout.trim()).toBe('ran 1 true');
    expect(res.status).toBe(0);
  });
});
