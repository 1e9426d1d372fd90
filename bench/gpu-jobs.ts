// The float32 workloads that run on any backend (WebGPU rows of `npm run bench`, and bench/webgpu.ts).
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import type { Backend } from '../src/backends/backend.js';
import * as mg from '../src/index.js';
import { factorLoss } from '../src/problems/svd.js';
import { lehmer, lehmerInverse4, lehmerSigned, mimoCapacityProgram, mimoSvdvalsProgram } from './workloads.js';

/** A float32 workload for a given backend (the WebGPU rows of the benchmarks). */
export interface GpuJob {
  name: string;
  steps: number;
  /** Builds the program (not timed): a step program, or anything that runs steps and reads a result. */
  build(backend: Backend): Pick<mg.optimizers.StepProgram, 'run' | 'dispose'> & { read(): Promise<{ loss: number }> };
}

const f32 = { dtype: 'float32' } as const;

/** Seed 002's 4×4 inverse (the reference's data) in float32 with the given optimizer. */
const inverse4 = (name: string, optimizer: () => mg.optimizers.Transform): GpuJob => ({
  name,
  steps: 10_000,
  build(backend) {
    const { M, X } = lehmerInverse4();
    const Mt = mg.tensor(Float32Array.from(M), { shape: [4, 4] });
    const I = mg.eye(4, f32);
    return new mg.optimizers.StepProgram(
      [mg.tensor(Float32Array.from(X), { shape: [4, 4] })],
      (x) => x.matmul(Mt).sub(I).square().mean(),
      optimizer(),
      { backend, gradNorm: false },
    );
  },
});

export const GPU_JOBS: GpuJob[] = [
  inverse4('inverse4-momentum-10k', () => mg.optimizers.sgd({ lr: 0.9, momentum: 0.9 })),
  inverse4('inverse4-adam-10k', () => mg.optimizers.adam({ lr: 0.01 })),
  {
    name: 'inverse8-batch10k-adam-1000',
    steps: 1000,
    build(backend) {
      const B = 10_000;
      const n = 8;
      const M = mg.add(mg.random([B, n, n], { seed: 7, ...f32 }), mg.mul(mg.eye(n, f32), 8));
      const I = mg.eye(n, f32);
      return new mg.optimizers.StepProgram(
        [mg.zeros([B, n, n], f32)],
        (x) => x.matmul(M).sub(I).square().mean(),
        mg.optimizers.adam({ lr: 0.01 }),
        { backend, gradNorm: false },
      );
    },
  },
  {
    name: 'svd-gd-16x12-adam-5k',
    steps: 5000,
    build(backend) {
      const r = Float32Array.from(lehmer(192 + 192 + 144));
      const A = mg.tensor(r.slice(0, 192), { shape: [16, 12] });
      const U = mg.tensor(r.slice(192, 384).map((v) => 0.1 * v), { shape: [16, 12] });
      const V = mg.tensor(r.slice(384).map((v) => 0.1 * v), { shape: [12, 12] });
      return new mg.optimizers.StepProgram([U, mg.ones([12], f32), V], (u, s, v) => factorLoss(A, u, s, v, 1), mg.optimizers.adam({ lr: 0.01 }), {
        backend,
        gradNorm: false,
      });
    },
  },
  {
    name: 'lambda-min4-adam-500',
    steps: 500,
    build(backend) {
      const L0 = mg.tensor(Float32Array.from(lehmer(16), (v) => 2 * v - 1), { shape: [4, 4] });
      return new mg.optimizers.StepProgram(
        [L0],
        (l) => {
          const G = mg.matmul(l, mg.transpose(l));
          return mg.neg(mg.slice(mg.linalg.eigvalsh(mg.div(G, mg.trace(G))), [0], [1]).sum());
        },
        mg.optimizers.adam({ lr: 0.01 }),
        { backend, gradNorm: false },
      );
    },
  },
  linalgBatch8('svd'),
  linalgBatch8('eigh'),
  {
    // forward svdvals of 102,400 complex 4×4 matrices and the gradient of Σσ (as bench/workloads.ts)
    name: 'mimo-svdvals-102400-4x4',
    steps: 1,
    build(backend) {
      const exe = mimoSvdvalsProgram(backend);
      return {
        run: (steps: number) => exe.run(steps),
        read: async () => ({ loss: (await exe.read(0))[0] }),
        dispose: () => exe.dispose(),
      };
    },
  },
  { name: 'mimo-capacity-102400-adam-20', steps: 20, build: mimoCapacityProgram },
];

/** svd/eigh of 1000 8×8 float32 matrices (eigh symmetrized), forward only: one step = one call (×10). */
function linalgBatch8(op: 'svd' | 'eigh'): GpuJob {
  return {
    name: `${op}-batch1000-8x8`,
    steps: 10,
    build(backend) {
      const X = mg.tensor(Float32Array.from(lehmerSigned(1000 * 64)), { shape: [1000, 8, 8] });
      const data = (op === 'eigh' ? mg.mul(mg.add(X, mg.transpose(X)), 0.5) : X).dataSync();
      const a = inputTensor([1000, 8, 8], 'float32');
      const values = op === 'svd' ? mg.linalg.svd(a).S : mg.linalg.eigh(a).values;
      const exe = backend.compile(compile([a], [mg.sum(mg.abs(values))]));
      exe.write(0, data);
      return {
        run: (steps: number) => exe.run(steps),
        read: async () => ({ loss: (await exe.read(0))[0] }),
        dispose: () => exe.dispose(),
      };
    },
  };
}
