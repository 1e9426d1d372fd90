import { lastValueFrom } from 'rxjs';
import * as mg from '../src/index.js';
import type { Backend, Executable } from '../src/backends/backend.js';
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import { takeFailure } from '../src/linalg/status.js';
import { factorLoss } from '../src/problems/svd.js';
import { capacity } from '../examples/mimo-capacity.js';

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
  linalgBatch8('svd'),
  linalgBatch8('eigh'),
  lambdaMin4Adam(500),
  mimoSvdvals(),
  mimoCapacityAdam(20),
];

/**
 * `mimo-svdvals-102400-4x4` (seed 000, issue 9): 102,400 complex64 4×4 channel matrices (re and im
 * from the Lehmer generator in [-1, 1), interleaved), the forward singular values and the gradient
 * of Σσ with respect to H (U·Vᴴ per matrix) in one compiled program, as bench/torch_bench.py runs
 * torch.linalg.svdvals + backward. Result: Σσ.
 */
export function mimoSvdvals(): Workload {
  return {
    name: 'mimo-svdvals-102400-4x4',
    dtype: 'float32',
    description: 'svdvals of 102,400 complex64 4×4 matrices, forward + backward of Σσ',
    prepare() {
      const exe = mimoSvdvalsProgram(mg.cpu);
      const data = mimoData(MIMO_BATCH).H;
      return () => {
        takeFailure();
        exe.write(0, data); // the input is written into the program inside the timed part, every run
        exe.run(1);
        const failure = takeFailure();
        if (failure) throw new Error(`mimo-svdvals: linalg.${failure.op} failed on item ${failure.index}`);
        const sum = exe.view(0)[0];
        exe.dispose();
        return sum;
      };
    },
  };
}

const MIMO_BATCH = 102_400;

/** The mimo-svdvals program on a backend, its input written: outputs Σσ and the gradient to H. */
export function mimoSvdvalsProgram(backend: Backend): Executable {
  const h = inputTensor([MIMO_BATCH, 4, 4, 2], 'float32');
  const total = mg.sum(mg.linalg.svdvals(mg.viewAsComplex(h)));
  const [grad] = mg.backward([total], [mg.ones([], { dtype: 'float32' })], [h]);
  const exe = backend.compile(compile([h], [total, grad!]));
  exe.write(0, mimoData(MIMO_BATCH).H);
  return exe;
}

/** The mimo-capacity step program (Adam lr 0.01 on P, snr 10 dB) on a backend. */
export function mimoCapacityProgram(backend: Backend): mg.optimizers.StepProgram {
  const { H, P0 } = mimoData(MIMO_BATCH);
  const Hc = mg.viewAsComplex(mg.tensor(H, { shape: [MIMO_BATCH, 4, 4, 2] }));
  return new mg.optimizers.StepProgram(
    [mg.tensor(P0, { shape: [4, 4, 2] })],
    (p) => mg.neg(capacity(Hc, mg.viewAsComplex(p), 10)),
    mg.optimizers.adam({ lr: 0.01 }),
    { backend, gradNorm: false },
  );
}

/** The MIMO data both implementations use: H (re, im interleaved, Lehmer in [-1, 1)) and P₀ = H₀. */
export function mimoData(batch: number): { H: Float32Array; P0: Float32Array } {
  const H = Float32Array.from(lehmerSigned(batch * 32));
  return { H, P0: H.slice(0, 32) };
}

/**
 * `mimo-capacity-102400-adam-20` (issue 9): the capacity Σᵢ log2(1 + snr·σᵢ(H·P)²/4) of 102,400
 * complex64 4×4 channels with a shared precoder P (power-normalized), snr 10 dB; Adam (lr 0.01)
 * maximizes the mean capacity, 20 steps, as examples/mimo-capacity.ts. Result: the last loss
 * (−mean capacity).
 */
export function mimoCapacityAdam(steps: number): Workload {
  return {
    name: `mimo-capacity-102400-adam-${steps}`,
    dtype: 'float32',
    description: `Adam on a shared complex 4×4 precoder, mean capacity of 102,400 complex64 channels, ${steps} steps`,
    prepare() {
      const prog = mimoCapacityProgram(mg.cpu);
      return () => {
        prog.run(steps);
        const loss = prog.loss();
        prog.dispose();
        return loss;
      };
    },
  };
}

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

// ---- linear algebra (float64; data shared with bench/torch_bench.py through the Lehmer generator) ----

/** n uniform numbers in [-1, 1) from the Lehmer generator (seed 1), as bench/torch_bench.py draws them. */
export function lehmerSigned(n: number): Float64Array {
  let s = 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * ((s = (s * 16807) % 2147483647) / 2147483647) - 1;
  return out;
}

/**
 * `svd-batch1000-8x8` / `eigh-batch1000-8x8`: the forward decomposition of 1000 random 8×8 matrices
 * (eigh: (X + Xᵀ)/2), 10 times per timed run (one call is only a few ms; bench/torch_bench.py repeats
 * it as often). Like every other matgrad workload it runs a compiled program (traced and compiled
 * outside the timed part): each repetition writes the input matrices into the program and runs it; the
 * outputs (U, S, Vh or values, vectors) stay in the program's buffers, as PyTorch returns its result
 * tensors without copying them. A linear-algebra failure is an error. Result: Σ S or Σ |λ| (a checksum).
 */
function linalgBatch8(op: 'svd' | 'eigh'): Workload {
  const reps = 10;
  return {
    name: `${op}-batch1000-8x8`,
    dtype: 'float64',
    description: `forward linalg.${op} of 1000 random 8×8 float64 matrices${op === 'eigh' ? ' (symmetrized)' : ''}, ×${reps}`,
    prepare() {
      const X = mg.tensor(lehmerSigned(1000 * 64), { shape: [1000, 8, 8] });
      const data = (op === 'eigh' ? mg.mul(mg.add(X, mg.transpose(X)), 0.5) : X).dataSync();
      const a = inputTensor([1000, 8, 8], 'float64');
      let outputs: mg.Tensor[];
      if (op === 'svd') {
        const { U, S, Vh } = mg.linalg.svd(a);
        outputs = [U, S, Vh];
      } else {
        const { values, vectors } = mg.linalg.eigh(a);
        outputs = [values, vectors];
      }
      const exe = mg.cpu.compile(compile([a], outputs));
      return () => {
        takeFailure();
        for (let r = 0; r < reps; r++) {
          exe.write(0, data);
          exe.run(1);
        }
        const failure = takeFailure();
        if (failure) throw new Error(`${op}-batch1000-8x8: linalg.${failure.op} failed on item ${failure.index}`);
        const v = exe.view(op === 'svd' ? 1 : 0); // S or the eigenvalues
        let sum = 0;
        for (let i = 0; i < v.length; i++) sum += Math.abs(v[i]);
        exe.dispose();
        return sum;
      };
    },
  };
}

/**
 * `lambda-min4-adam-500` (seed 000): A = L·Lᵀ / tr(L·Lᵀ) with L a 4×4 parameter (Lehmer, seed 1),
 * maximize λ_min(A), i.e. minimize −eigvalsh(A)[0]; Adam lr 0.01 through a compiled StepProgram.
 * Result: the last loss (−λ_min, → −1/4 at the optimum A = I/4).
 */
function lambdaMin4Program(): mg.optimizers.StepProgram {
  return new mg.optimizers.StepProgram(
    [mg.tensor(lehmerSigned(16), { shape: [4, 4] })],
    (l) => {
      const G = mg.matmul(l, mg.transpose(l));
      const A = mg.div(G, mg.trace(G));
      return mg.neg(mg.sum(mg.slice(mg.linalg.eigvalsh(A), [0], [1])));
    },
    mg.optimizers.adam({ lr: 0.01 }),
    { gradNorm: false },
  );
}

function lambdaMin4Adam(steps: number): Workload {
  return {
    name: `lambda-min4-adam-${steps}`,
    dtype: 'float64',
    description: `maximize λ_min(L·Lᵀ/tr(L·Lᵀ)), L 4×4, Adam lr 0.01, ${steps} steps, float64`,
    prepare() {
      const prog = lambdaMin4Program();
      return () => {
        prog.run(steps);
        const loss = prog.loss();
        prog.dispose();
        return loss;
      };
    },
  };
}

/**
 * lambda-min4-adam-500 on a program V8 has already optimized: a fresh program's generated step runs
 * unoptimized for its first few thousand steps (TurboFan compiles it in the background), which is most
 * of a 500-step run. Here one program runs `warmup` steps untimed, then `steps` more are timed; the
 * result is the loss after warmup + steps, so it is not comparable to PyTorch's 500-step loss.
 */
export function lambdaMin4Warm(steps: number, warmup = 20_000): () => () => number {
  return () => {
    const prog = lambdaMin4Program();
    prog.run(warmup);
    return () => {
      prog.run(steps);
      const loss = prog.loss();
      prog.dispose();
      return loss;
    };
  };
}
