import { afterAll, describe, expect, it, vi } from 'vitest';
import { lehmerInverse4 } from '../bench/workloads.js';
import { compile } from '../src/autograd/compile.js';
import { backward } from '../src/autograd/grad.js';
import { inputTensor } from '../src/autograd/jit.js';
import type { Plan } from '../src/autograd/plan.js';
import type { Backend } from '../src/backends/backend.js';
import {
  WGSL_ELEMENTWISE,
  WGSL_OPS,
  type WebGpuBackend,
  type WebGpuExecutable,
  webgpuBackend,
} from '../src/backends/webgpu/index.js';
import * as mg from '../src/index.js';
import { LINALG_WGSL } from '../src/backends/webgpu/linalg.js';
import { COMPLEX_LINALG_WGSL } from '../src/backends/webgpu/complex-linalg.js';
import { type Case, CASES, inputsFor } from './cases.js';
import { noteSkip, requireWebGpu, webgpuForTests } from './helpers/webgpu.js';

// WebGPU float32 against the CPU backend running the same float32 plan.
// Tolerance: |gpu − cpu| ≤ ATOL + RTOL·|cpu| (f32 kernels; WGSL exp/log/pow are a few ulp).
const RTOL = 1e-4;
const ATOL = 1e-5;
// Plans with decompositions: the CPU kernels compute in float64 internally (rounding once), the WGSL
// ones in float32 throughout (Jacobi, LU, Householder). Measured on SwiftShader: max |gpu − cpu| /
// (1 + |cpu|) ≤ 1.1e-6 over every linalg case, values and gradients (logged after the run); the
// tolerance leaves a margin of about 20 for other adapters.
const LINALG_RTOL = 1e-4;
const LINALG_ATOL = 2e-5;

// Op cases are traced in float32: constants they create without a dtype (mg.eye(n), mg.tensor([...]))
// follow the default dtype, which is float32 in this file (the CPU tests trace the same cases in float64).
vi.mock('../src/autograd/dtype.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/autograd/dtype.js')>()),
  DEFAULT_DTYPE: 'float32',
}));

const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('webgpu.test.ts', reason);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = RTOL, atol = ATOL) {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  if (at >= 0) expect.fail(`${what}: element ${at}: webgpu ${got[at]} vs cpu ${want[at]}`);
}

/** Runs a plan once on a backend and reads every output. */
async function runPlan(b: Backend, plan: Plan, inputs: readonly ArrayLike<number>[], steps = 1) {
  const exe = b.compile(plan);
  try {
    inputs.forEach((x, i) => exe.write(i, x));
    exe.run(steps);
    return await Promise.all(plan.outputs.map((_, o) => exe.read(o)));
  } finally {
    exe.dispose();
  }
}

/** Compiles inside `fn` in the given form: 'single' (one workgroup loops over steps) or 'multi'. */
async function inForm<T>(form: 'single' | 'multi', fn: () => Promise<T>): Promise<T> {
  const saved = gpu!.singleWorkgroupWork;
  gpu!.singleWorkgroupWork = form === 'single' ? Infinity : 0;
  try {
    return await fn();
  } finally {
    gpu!.singleWorkgroupWork = saved;
  }
}

const f32 = (t: mg.Tensor) => mg.fromArray(Float32Array.from(t.dataSync()), t.shape);

/** Plan of [values..., gradients...] of a case (float32), with fixed random cotangents. */
function casePlan(k: Case) {
  const xs = inputsFor(k, 3).map(f32);
  const ins = xs.map((x) => inputTensor(x.shape, 'float32'));
  const outs = [k.fn(...ins)].flat();
  const seeds = outs.map((o, j) => mg.random(o.shape, { seed: 100 + j, dtype: o.dtype, low: -1, high: 1 }));
  const grads = backward(outs, seeds, ins).filter((g): g is mg.Tensor => g !== null);
  const plan = compile(ins, [...outs, ...grads]);
  return { plan, data: xs.map((x) => x.dataSync()), nValues: outs.length };
}

describe('webgpu: adapter', () => {
  it.runIf(requireWebGpu)('an adapter exists (MATGRAD_REQUIRE_WEBGPU=1)', () => {
    expect(gpu, reason).not.toBeNull();
  });
  it.runIf(!!gpu)('names the adapter it runs on', () => {
    const d = gpu!.describeAdapter();
    expect(d.length).toBeGreaterThan(0);
    console.info(`[webgpu.test.ts] adapter: ${d}`);
  });
});

describe('webgpu: WGSL tables', () => {
  it('cover every op of the op table with the right kind', () => {
    for (const op of mg.opNames) {
      const def = mg.OPS[op];
      const elementwise = op in WGSL_ELEMENTWISE;
      const other = op in WGSL_OPS;
      expect(elementwise !== other, `${op}: in exactly one WGSL table`).toBe(true);
      expect(elementwise, `${op}: elementwise in OPS iff in WGSL_ELEMENTWISE`).toBe(def.kind === 'elementwise');
      if (other) {
        const entry = WGSL_OPS[op as keyof typeof WGSL_OPS];
        if (def.kind === 'reduce') expect(entry.kind).toBe('reduce');
        if (def.kind === 'kernel') expect(['kernel', 'unsupported']).toContain(entry.kind);
        if (def.kind === 'source' || def.kind === 'composite' || def.kind === 'alias')
          expect(entry.kind).toBe('none');
      }
    }
  });
});

/** max |gpu − cpu| / (1 + |cpu|) per linalg case, logged after the parity tests (for the docs). */
const worstLinalg = new Map<string, number>();
const relErr = (g: ArrayLike<number>, w: ArrayLike<number>) => {
  let e = 0;
  for (let i = 0; i < w.length; i++) e = Math.max(e, Math.abs(g[i] - w[i]) / (1 + Math.abs(w[i])));
  return e;
};

describe.skipIf(!gpu)('webgpu: every op case and its gradient match the CPU backend (float32)', () => {
  const cpu = mg.cpu;
  afterAll(() => {
    const lines = [...worstLinalg].map(([name, e]) => `  ${name}: ${e.toExponential(1)}`);
    if (lines.length) console.info(`[webgpu.test.ts] linalg cases, max |gpu − cpu| / (1 + |cpu|):\n${lines.join('\n')}`);
  });
  for (const op of mg.opNames) {
    for (const k of CASES[op]) {
      it(`${op}: ${k.name}`, async () => {
        const { plan, data } = casePlan(k);
        if (plan.buffers.some((b) => b.dtype !== 'float32')) {
          // e.g. a cast to float64: WebGPU refuses it with a clear error instead of computing in f32
          expect(() => gpu!.compile(plan)).toThrow(mg.MatgradDTypeError);
          expect(() => gpu!.compile(plan)).toThrow(/float32/);
          return;
        }
        const missing = plan.kernels.find(
          (kk) => kk.kind === 'op' && WGSL_OPS[kk.op as keyof typeof WGSL_OPS]?.kind === 'unsupported',
        );
        if (missing) {
          // no WGSL kernel (customRoot runs a JS solver): a clear error, never a wrong result
          expect(() => gpu!.compile(plan)).toThrow(/not supported yet.*CPU backend/);
          return;
        }
        const linalg = plan.kernels.some((kk) => kk.kind === 'op' && (kk.op in LINALG_WGSL || kk.op in COMPLEX_LINALG_WGSL));
        const [rtol, atol] = linalg ? [LINALG_RTOL, LINALG_ATOL] : [RTOL, ATOL];
        const want = await runPlan(cpu, plan, data);
        for (const form of ['single', 'multi'] as const) {
          // 3 steps: the outputs are a function of the inputs alone, so re-running the program (in the
          // single form: inside one dispatch) must give the same values
          const got = await inForm(form, () => runPlan(gpu!, plan, data, 3));
          got.forEach((g, o) => expectClose(g, want[o], `${form}-dispatch form, output ${o}`, rtol, atol));
          if (linalg) worstLinalg.set(`${op}: ${k.name}`, Math.max(worstLinalg.get(`${op}: ${k.name}`) ?? 0, ...got.map((g, o) => relErr(g, want[o]))));
        }
      });
    }
  }
});

describe.skipIf(!gpu)('webgpu: kernel paths', () => {
  const cpu = mg.cpu;
  const check = async (shapes: number[][], fn: (...xs: mg.Tensor[]) => mg.Tensor | mg.Tensor[], seed = 1) => {
    const xs = shapes.map((s, i) => mg.random(s, { seed: seed + i, dtype: 'float32', low: -1, high: 1 }));
    const ins = xs.map((x) => inputTensor(x.shape, 'float32'));
    const outs = [fn(...ins)].flat();
    const plan = compile(ins, outs);
    const data = xs.map((x) => x.dataSync());
    const want = await runPlan(cpu, plan, data);
    const got = await runPlan(gpu!, plan, data);
    got.forEach((g, o) => expectClose(g, want[o], `output ${o}`, 1e-4, 1e-4));
    return got;
  };
  it('matmul with a long inner dimension (looped kernel) and transposes', async () => {
    await check(
      [
        [3, 40, 70],
        [70, 33],
      ],
      (a, b) => mg.matmul(a, b),
    );
    await check(
      [
        [2, 70, 40],
        [2, 33, 70],
      ],
      (a, b) => mg.matmulT(a, b, true, true),
    );
  });
  it('full reductions over many workgroups (two passes; tree or per-invocation partials)', async () => {
    const saved = gpu!.cpuAdapter;
    try {
      for (const cpuLike of [false, true]) {
        gpu!.cpuAdapter = cpuLike;
        await check([[300, 301]], (x) => [mg.sum(mg.square(x)), mg.max(x), mg.mean(mg.exp(x)), mg.mul(x, 2)]);
      }
    } finally {
      gpu!.cpuAdapter = saved;
    }
  });
  it('partial reductions over inner, outer and several axes', async () => {
    await check([[7, 50, 9]], (x) => [mg.sum(x, 1), mg.max(x, [0, 2]), mg.mean(x, 0, true), mg.sum(x, -1)]);
  });
  it('a 2-D dispatch grid (more than 65535 workgroups)', async () => {
    const n = 65535 * 64 + 1000;
    await check([[n], [1]], (x, b) => mg.add(mg.mul(x, b), 1));
  });
  it('empty tensors', async () => {
    const got = await check([[0, 3]], (x) => [mg.mul(x, 2), mg.sum(x), mg.sum(x, 0)]);
    expect(got[1][0]).toBe(0);
  });
});

describe.skipIf(!gpu)('webgpu: executable semantics', () => {
  // p ← p − lr·(p − target), lr a step scalar
  const program = () => {
    const p = inputTensor([5], 'float32');
    const lr = inputTensor([], 'float32');
    const target = mg.tensor([1, 2, 3, 4, 5], { dtype: 'float32' });
    const loss = mg.sum(mg.square(mg.sub(p, target)));
    const next = mg.sub(p, mg.mul(lr, mg.sub(p, target)));
    return compile([p, lr], [loss, next], { donate: [[1, 0]], stepScalars: [1] });
  };
  const schedule = (s: number, out: Float64Array) => {
    out[0] = 0.5 / (1 + s);
    return undefined;
  };
  for (const form of ['single', 'multi'] as const) {
    it(`runs step scalars per step in one submit, like the CPU backend (${form})`, async () => {
      const plan = program();
      for (const steps of [1, 7, 300, 2500]) {
        const results = [];
        for (const b of [mg.cpu, gpu!] as Backend[]) {
          const exe = await inForm(form, async () => b.compile(plan));
          if (b === gpu) expect((exe as WebGpuExecutable).form).toBe(form);
          exe.write(0, [0, 0, 0, 0, 0]);
          expect(exe.run(steps, schedule)).toBe(steps);
          results.push([await exe.read(0), await exe.read(1)]);
          exe.dispose();
        }
        expectClose(results[1][0], results[0][0], `loss after ${steps}`);
        expectClose(results[1][1], results[0][1], `params after ${steps}`);
      }
    });
    it(`without a callback, step scalars keep their written values; false stops a run (${form})`, async () => {
      await inForm(form, () => noCallback());
    });
  }
  const noCallback = async () => {
    const plan = program();
    const exe = gpu!.compile(plan);
    exe.write(0, [0, 0, 0, 0, 0]);
    exe.write(1, [1]);
    exe.run(1);
    expect([...(await exe.read(1))]).toEqual([1, 2, 3, 4, 5]);
    exe.write(0, [0, 0, 0, 0, 0]);
    const ran = exe.run(10, (s, out) => {
      out[0] = 0.5;
      return s < 2 ? undefined : false;
    });
    expect(ran).toBe(2);
    expectClose(await exe.read(1), [0.75, 1.5, 2.25, 3, 3.75], 'two half steps');
    // and the last step's scalar stays in effect for a run without a callback
    exe.run(1);
    expectClose(await exe.read(1), [0.875, 1.75, 2.625, 3.5, 4.375], 'third half step');
    exe.dispose();
  };
  it('reads of the same output in flight at once see the values at their submission', async () => {
    const plan = program();
    const exe = gpu!.compile(plan);
    exe.write(0, [0, 0, 0, 0, 0]);
    exe.write(1, [0.5]);
    const before = exe.read(1);
    exe.run(1);
    const after = exe.read(1);
    expect([...(await before)]).toEqual([0, 0, 0, 0, 0]);
    expect([...(await after)]).toEqual([0.5, 1, 1.5, 2, 2.5]);
    exe.dispose();
  });
  it('readSync and view are CPU-only, with a clear error', () => {
    const exe = gpu!.compile(program());
    expect(() => exe.readSync(0)).toThrow(/CPU-only.*await/);
    expect(() => exe.view(0)).toThrow(/CPU-only/);
    exe.dispose();
    expect(() => exe.run(1)).toThrow(/disposed/);
  });
  it('refuses float64 plans, naming the fix', () => {
    const x = inputTensor([2], 'float64');
    expect(() => gpu!.compile(compile([x], [mg.mul(x, 2)]))).toThrow(/float32 only.*dtype 'float32'/);
  });
  it('live buffers return to baseline after dispose and after errors', async () => {
    const base = gpu!.stats().liveBuffers;
    const baseBytes = gpu!.stats().liveBytes;
    const exe = gpu!.compile(program());
    expect(gpu!.stats().liveBuffers).toBeGreaterThan(base);
    exe.write(0, [1, 1, 1, 1, 1]);
    exe.run(500, schedule); // grows the step-scalar table
    await exe.read(0);
    exe.dispose();
    exe.dispose();
    expect(gpu!.stats().liveBuffers).toBe(base);
    expect(gpu!.stats().liveBytes).toBe(baseBytes);
    // too large: a clear error naming the size, nothing allocated
    const huge = gpu!.maxBufferBytes / 4 + 64;
    const plan: Plan = {
      buffers: [{ size: huge, dtype: 'float32' }],
      inputs: [0],
      outputs: [0],
      stepScalars: [],
      constants: [],
      kernels: [],
    };
    expect(() => gpu!.compile(plan)).toThrow(new RegExp(`out of memory.*${Math.ceil(huge / 64) * 64 * 4} bytes`));
    expect(gpu!.stats().liveBuffers).toBe(base);
    // a StepProgram that fails mid-way also leaves nothing behind
    const bad = () =>
      new mg.optimizers.StepProgram([mg.zeros([2], { dtype: 'float64' })], (x) => mg.sum(x), mg.optimizers.sgd(), {
        backend: gpu!,
      });
    expect(bad).toThrow(mg.MatgradDTypeError);
    expect(gpu!.stats().liveBuffers).toBe(base);
  });
});

describe.skipIf(!gpu)('webgpu: device loss', () => {
  it('the next call after a lost device throws a clear error; dispose still frees', async () => {
    const own = (await webgpuBackend({ fresh: true })) as WebGpuBackend;
    const x = inputTensor([3], 'float32');
    const exe = own.compile(compile([x], [mg.mul(x, 2)]));
    exe.write(0, [1, 2, 3]);
    exe.run(1);
    expect([...(await exe.read(0))]).toEqual([2, 4, 6]);
    own.destroy();
    expect(await own.lost).toMatch(/destroyed/);
    expect(() => exe.run(1)).toThrow(/device lost/);
    await expect(exe.read(0)).rejects.toThrow(/device lost/);
    expect(() => own.compile(compile([x], [mg.mul(x, 3)]))).toThrow(/device lost/);
    exe.dispose();
    expect(own.stats().liveBuffers).toBe(0);
  });
});

describe.skipIf(!gpu)('webgpu: a buffer pool serves repeated runs', () => {
  it('a recompiled program reuses the disposed one\'s buffers, zeroed, and live buffers return to baseline', async () => {
    const x = inputTensor([64], 'float32');
    const plan = compile([x], [mg.sum(mg.square(x))]);
    const baseline = gpu!.stats();
    const first = gpu!.compile(plan);
    first.write(0, new Float32Array(64).fill(2));
    first.run(1);
    expect((await first.read(0))[0]).toBe(256);
    first.dispose();
    expect(gpu!.stats().liveBuffers).toBe(baseline.liveBuffers);
    const allocated = gpu!.stats().allocations;
    const second = gpu!.compile(plan);
    expect(gpu!.stats().allocations).toBe(allocated); // nothing new allocated
    second.write(0, new Float32Array(64).fill(1));
    second.run(1);
    expect((await second.read(0))[0]).toBe(64);
    second.dispose();
    expect(gpu!.stats().liveBuffers).toBe(baseline.liveBuffers);
  });
});

describe.skipIf(!gpu)('webgpu: step programs match the CPU backend (float32)', () => {
  const both = async (
    initial: mg.Tensor[],
    loss: (...p: mg.Tensor[]) => mg.Tensor,
    opt: () => mg.optimizers.Transform,
    steps: number[],
  ) => {
    const out = [];
    for (const backend of [mg.cpu, gpu!, gpu!] as Backend[]) {
      // the GPU twice: as one workgroup looping over steps, then as one dispatch per kernel per step
      const prog: mg.optimizers.StepProgram = await inForm(out.length === 2 ? 'multi' : 'single', async () =>
        new mg.optimizers.StepProgram(initial, loss, opt(), { backend }),
      );
      const trace = [];
      for (const n of steps) {
        prog.run(n);
        trace.push(await prog.read());
      }
      prog.dispose();
      out.push(trace);
    }
    return { cpu: out[0], gpu: out[1], gpuMulti: out[2] };
  };
  it('seed 002: 4×4 inverse, heavy ball (lr 0.9, μ 0.9)', async () => {
    const { M, X } = lehmerInverse4();
    const Mt = mg.tensor(Float32Array.from(M), { shape: [4, 4] });
    const I = mg.eye(4, { dtype: 'float32' });
    const r = await both(
      [mg.tensor(Float32Array.from(X), { shape: [4, 4] })],
      (x) => x.matmul(Mt).sub(I).square().mean(),
      () => mg.optimizers.sgd({ lr: 0.9, momentum: 0.9 }),
      [1, 9, 90, 400],
    );
    for (const run of [r.gpu, r.gpuMulti]) {
      run.forEach((g, i) => {
        const c = r.cpu[i];
        expect(g.loss, `loss at checkpoint ${i}`).toBeCloseTo(c.loss, 4);
        expectClose([g.gradNorm], [c.gradNorm], `grad norm ${i}`, 1e-3, 1e-4);
        expectClose(g.params[0].dataSync(), c.params[0].dataSync(), `X at checkpoint ${i}`, 1e-3, 1e-4);
      });
    }
    expect(r.gpu[3].loss).toBeLessThan(1e-3 * r.gpu[0].loss);
  });
  // every gradient transform and option (L-BFGS runs on the CPU only), on a two-parameter problem
  const OPTIMIZERS: [string, () => mg.optimizers.Transform][] = [
    ['sgd', () => mg.optimizers.sgd({ lr: 0.05 })],
    ['sgd momentum + dampening', () => mg.optimizers.sgd({ lr: 0.05, momentum: 0.9, dampening: 0.3 })],
    ['sgd nesterov + weight decay', () => mg.optimizers.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    ['sgd maximize', () => mg.optimizers.sgd({ lr: 0.05, maximize: true })],
    ['adam', () => mg.optimizers.adam({ lr: 0.01 })],
    ['adam amsgrad + weight decay', () => mg.optimizers.adam({ lr: 0.01, amsgrad: true, weightDecay: 0.01 })],
    ['adamw', () => mg.optimizers.adamw({ lr: 0.01 })],
    ['rmsprop centered + momentum', () => mg.optimizers.rmsprop({ lr: 1e-3, centered: true, momentum: 0.9 })],
    ['adagrad lr decay', () => mg.optimizers.adagrad({ lr: 0.05, lrDecay: 0.01 })],
    ['clip by global norm + adam', () => mg.optimizers.chain(mg.optimizers.clipByGlobalNorm(0.1), mg.optimizers.adam({ lr: 0.01 }))],
    ['clip by value + sgd, cosine schedule', () => mg.optimizers.chain(mg.optimizers.clipByValue(0.01), mg.optimizers.sgd({ lr: mg.schedules.cosine({ lr: 0.1, tMax: 20 }) }))],
  ];
  for (const [name, opt] of OPTIMIZERS) {
    it(`optimizer: ${name}`, async () => {
      const f32 = { dtype: 'float32' } as const;
      const A = mg.random([3, 3], { seed: 3, dist: 'normal', ...f32 });
      const b = mg.random([3, 1], { seed: 4, ...f32 });
      const sign = name.includes('maximize') ? -1 : 1;
      const r = await both(
        [mg.random([3, 3], { seed: 1, ...f32 }), mg.random([3, 1], { seed: 2, ...f32 })],
        (X, y) => mg.mul(mg.add(mg.mean(mg.square(mg.sub(mg.matmul(mg.matmul(A, X), y), b))), mg.mul(mg.sum(mg.pow(X, 4)), 0.1)), sign),
        opt,
        [1, 4, 15],
      );
      for (const run of [r.gpu, r.gpuMulti]) {
        run.forEach((g, i) => {
          const c = r.cpu[i];
          expectClose([g.loss], [c.loss], `loss at checkpoint ${i}`, 1e-3, 1e-5);
          g.params.forEach((p, j) => expectClose(p.dataSync(), c.params[j].dataSync(), `param ${j} at checkpoint ${i}`, 1e-3, 1e-4));
        });
      }
    });
  }
  it('100 batched 8×8 inverses, Adam (lr 0.01)', async () => {
    const B = 100;
    const n = 8;
    const M = mg.add(mg.random([B, n, n], { seed: 7, dtype: 'float32' }), mg.mul(mg.eye(n, { dtype: 'float32' }), 8));
    const I = mg.eye(n, { dtype: 'float32' });
    const r = await both(
      [mg.zeros([B, n, n], { dtype: 'float32' })],
      (x) => x.matmul(M).sub(I).square().mean(),
      () => mg.optimizers.adam({ lr: 0.01 }),
      [1, 49, 150],
    );
    for (const run of [r.gpu, r.gpuMulti]) {
      run.forEach((g, i) => {
        const c = r.cpu[i];
        expectClose([g.loss], [c.loss], `loss at checkpoint ${i}`, 1e-3, 1e-6);
        expectClose(g.params[0].dataSync(), c.params[0].dataSync(), `X at checkpoint ${i}`, 1e-3, 1e-4);
      });
    }
    expect(r.gpu[2].loss).toBeLessThan(r.gpu[0].loss);
  });
});
