// The float32 workloads that run on any backend (WebGPU rows of `npm run bench`, and bench/webgpu.ts).
import type { Backend } from '../src/backends/backend.js';
import * as mg from '../src/index.js';
import { lehmerInverse4 } from './workloads.js';

/** A float32 workload for a given backend (the WebGPU rows of the benchmarks). */
export interface GpuJob {
  name: string;
  steps: number;
  /** Builds the step program (not timed). */
  build(backend: Backend): mg.optimizers.StepProgram;
}

const f32 = { dtype: 'float32' } as const;

export const GPU_JOBS: GpuJob[] = [
  {
    name: 'inverse4-momentum-10k',
    steps: 10_000,
    build(backend) {
      const { M, X } = lehmerInverse4();
      const Mt = mg.tensor(Float32Array.from(M), { shape: [4, 4] });
      const I = mg.eye(4, f32);
      return new mg.optimizers.StepProgram(
        [mg.tensor(Float32Array.from(X), { shape: [4, 4] })],
        (x) => x.matmul(Mt).sub(I).square().mean(),
        mg.optimizers.sgd({ lr: 0.9, momentum: 0.9 }),
        { backend, gradNorm: false },
      );
    },
  },
  {
    name: 'inverse4-adam-10k',
    steps: 10_000,
    build(backend) {
      const { M, X } = lehmerInverse4();
      const Mt = mg.tensor(Float32Array.from(M), { shape: [4, 4] });
      const I = mg.eye(4, f32);
      return new mg.optimizers.StepProgram(
        [mg.tensor(Float32Array.from(X), { shape: [4, 4] })],
        (x) => x.matmul(Mt).sub(I).square().mean(),
        mg.optimizers.adam({ lr: 0.01 }),
        { backend, gradNorm: false },
      );
    },
  },
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
];

