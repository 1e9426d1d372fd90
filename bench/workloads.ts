import { lastValueFrom } from 'rxjs';
import * as mg from '../src/index.js';
import { factorLoss } from '../src/problems/svd.js';

/** One benchmark workload as matgrad runs it: returns the final loss (or error) as `result`. */
export interface Workload {
  readonly name: string;
  readonly dtype: mg.DType;
  readonly description: string;
  /** Builds the problem (not timed) and returns the timed part. */
  prepare(): () => number;
}

/** The reference's Lehmer generator (seed 1), so every implementation starts from the same 4×4 data. */
export function lehmerInverse4(): { M: Float64Array; X: Float64Array } {
  let s = 1;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const M = new Float64Array(16);
  const X = new Float64Array(16);
  for (let i = 0; i < 16; i++) {
    M[i] = rnd();
    X[i] = rnd();
  }
  return { M, X };
}

function inverse4(name: string, optimizer: () => mg.optimizers.Transform, description: string): Workload {
  return {
    name,
    dtype: 'float64',
    description,
    prepare() {
      const { M, X } = lehmerInverse4();
      const Mt = mg.tensor(M, { shape: [4, 4] });
      const I = mg.eye(4);
      const prog = new mg.optimizers.StepProgram(
        [mg.tensor(X, { shape: [4, 4] })],
        (x) => x.matmul(Mt).sub(I).square().mean(),
        optimizer(),
        {
          gradNorm: false,
        },
      );
      return () => {
        prog.run(10_000);
        const loss = prog.loss();
        prog.dispose();
        return loss;
      };
    },
  };
}

/** 10,000 independent well-conditioned 8×8 problems (M = U[0,1) + 8I), X₀ = 0, float32. */
export function batchInverse8(steps: number): Workload {
  return {
    name: `inverse8-batch10k-adam-${steps}`,
    dtype: 'float32',
    description: '10,000 independent 8×8 inverses, loss mean((XM−I)²), Adam lr 0.01, float32',
    prepare() {
      const B = 10_000;
      const n = 8;
      const M = mg.add(
        mg.random([B, n, n], { seed: 7, dtype: 'float32' }),
        mg.mul(mg.eye(n, { dtype: 'float32' }), 8),
      );
      const I = mg.eye(n, { dtype: 'float32' });
      const prog = new mg.optimizers.StepProgram(
        [mg.zeros([B, n, n], { dtype: 'float32' })],
        (x) => x.matmul(M).sub(I).square().mean(),
        mg.optimizers.adam({ lr: 0.01 }),
        {
          gradNorm: false,
        },
      );
      return () => {
        prog.run(steps);
        const loss = prog.loss();
        prog.dispose();
        return loss;
      };
    },
  };
}

/** The reference's Lehmer generator, continued: `count` uniforms in [0, 1). */
export function lehmer(count: number, seed = 1): Float64Array {
  let s = seed;
  return Float64Array.from({ length: count }, () => (s = (s * 16807) % 2147483647) / 2147483647);
}

/** Seed 001's factor loss on a 16×12 matrix (U, s, V; orthogonality penalty weight 1), Adam lr 0.01. */
export const svdGd: Workload = {
  name: 'svd-gd-16x12-adam-5k',
  dtype: 'float64',
  description: 'seed 001: mean((A − U diag(s) Vᵀ)²) + mean((UᵀU − I)²) + mean((VᵀV − I)²), Adam lr 0.01, 5k steps',
  prepare() {
    const r = lehmer(192 + 192 + 144);
    const A = mg.tensor(r.slice(0, 192), { shape: [16, 12] });
    const U = mg.tensor(r.slice(192, 384).map((v) => 0.1 * v), { shape: [16, 12] });
    const V = mg.tensor(r.slice(384).map((v) => 0.1 * v), { shape: [12, 12] });
    const prog = new mg.optimizers.StepProgram([U, mg.ones([12]), V], (u, s, v) => factorLoss(A, u, s, v, 1), mg.optimizers.adam({ lr: 0.01 }), {
      gradNorm: false,
    });
    return () => {
      prog.run(5000);
      const loss = prog.loss();
      prog.dispose();
      return loss;
    };
  },
};

export const WORKLOADS: readonly Workload[] = [
  inverse4(
    'inverse4-momentum-10k',
    () => mg.optimizers.sgd({ lr: 0.9, momentum: 0.9 }),
    'seed 002: random 4×4, mean((XM−I)²), heavy ball lr 0.9 μ 0.9, 10k steps',
  ),
  inverse4(
    'inverse4-adam-10k',
    () => mg.optimizers.adam({ lr: 0.01 }),
    'seed 002: random 4×4, Adam lr 0.01, 10k steps',
  ),
  batchInverse8(1000),
  svdGd,
];

/** inverse4-adam-10k through the public run loop: solve() with a progress event every 1000 steps. */
export function inverse4Solve(): () => Promise<number> {
  const { M, X } = lehmerInverse4();
  const Mt = mg.tensor(M, { shape: [4, 4] });
  const I = mg.eye(4);
  const objective = mg.objective({ X: mg.param(mg.tensor(X, { shape: [4, 4] })) }, ({ X: x }) => x.matmul(Mt).sub(I).square().mean());
  return async () => {
    const r = await lastValueFrom(mg.solve(objective, { optimizer: mg.optimizers.adam({ lr: 0.01 }), steps: 10_000, reportEvery: 1000 }));
    return r.loss;
  };
}
