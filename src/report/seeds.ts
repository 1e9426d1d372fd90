// The seed workloads `matgrad start` (npm start) compares optimizers on: one or two specs per kind.
import type { ProblemSpec } from '../problems/index.js';
import type { OptimizerSettings } from './optimizers.js';

export interface SeedWorkload {
  /** File-name slug: report/<id>.svg. */
  readonly id: string;
  readonly title: string;
  readonly spec: ProblemSpec;
  readonly steps: number;
  /** Steps in quick mode (MATGRAD_QUICK=1, `matgrad start --quick`). */
  readonly quickSteps: number;
  /** Converged when loss − optimum ≤ tolerance. */
  readonly tolerance: number;
  /** The metric the summary shows (the problem's most telling one). */
  readonly keyMetric: string;
  /** Optimizer settings per optimizer name (lr where the problem default does not fit). */
  readonly settings?: Readonly<Record<string, OptimizerSettings>>;
  readonly reportEvery?: number;
}

/** The metric that tells most about a solution, per problem kind (the summary's "key metric"). */
export const KEY_METRICS: Readonly<Record<string, string>> = {
  inverse: 'relativeError',
  svd: 'singularValueError',
  'lambda-min': 'gap',
  eigenvector: 'angle',
};

/** The optimizers `start` compares on every problem. */
export const START_OPTIMIZERS = ['sgd', 'momentum', 'adam', 'lbfgs'] as const;

export const SEED_WORKLOADS: readonly SeedWorkload[] = [
  {
    id: 'inverse-random-4x4',
    title: 'inverse of a random 4×4 (seed 002)',
    spec: { kind: 'inverse', name: 'inverse random 4×4', matrix: { random: { shape: [4, 4], seed: 1 } } },
    steps: 20_000,
    quickSteps: 2000,
    tolerance: 1e-28,
    keyMetric: 'relativeError',
  },
  {
    id: 'inverse-diagonal-4x4',
    title: 'inverse of diag(1, 2, 3, 4) (seed 002)',
    spec: { kind: 'inverse', name: 'inverse diagonal 4×4', matrix: { diagonal: [1, 2, 3, 4] } },
    steps: 5000,
    quickSteps: 1000,
    tolerance: 1e-28,
    keyMetric: 'relativeError',
  },
  {
    id: 'inverse-complex-4x4',
    title: 'inverse of a random complex 4×4 (seeds 002 and 000: complex128)',
    spec: {
      kind: 'inverse',
      name: 'inverse complex 4×4',
      matrix: { random: { shape: [4, 4], seed: 1 } },
      imag: { random: { shape: [4, 4], seed: 2 } },
    },
    steps: 20_000,
    quickSteps: 2000,
    tolerance: 1e-28,
    keyMetric: 'relativeError',
  },
  {
    id: 'svd-16x12',
    title: 'SVD of a 16×12 matrix on the Stiefel manifold (seed 001)',
    spec: { kind: 'svd', name: 'svd 16×12 stiefel', matrix: { random: { shape: [16, 12], seed: 3, dist: 'normal' } }, parametrization: 'stiefel' },
    // the default heavy ball's step is sized for every scale (I, zero, rank-deficient): ~4000 steps here
    steps: 5000,
    quickSteps: 500,
    tolerance: 1e-10,
    keyMetric: 'singularValueError',
  },
  {
    id: 'lambda-min-4',
    title: 'maximize λ_min of a 4×4 PSD matrix of trace 1 (seed 000)',
    spec: { kind: 'lambda-min', name: 'lambda-min n=4', n: 4 },
    steps: 2000,
    quickSteps: 300,
    tolerance: 1e-8,
    keyMetric: 'gap',
    // λ_min is not smooth at the optimum: constant steps end up oscillating at their own scale
    settings: { sgd: { lr: 0.03 }, momentum: { lr: 0.01 } },
  },
  {
    id: 'lambda-min-16',
    title: 'maximize λ_min of a 16×16 PSD matrix of trace 1 (seed 000)',
    spec: { kind: 'lambda-min', name: 'lambda-min n=16', n: 16 },
    steps: 1500,
    quickSteps: 200,
    tolerance: 1e-8,
    keyMetric: 'gap',
    // A = LLᵀ/tr(LLᵀ): the gradient scales like 1/‖L‖², so larger n takes larger steps
    settings: { sgd: { lr: 3 }, momentum: { lr: 0.3 } },
  },
  {
    id: 'eigenvector-4x4',
    title: 'steer the smallest eigenvector of a 4×4 (implicit gradient, seed 003)',
    spec: { kind: 'eigenvector', name: 'eigenvector 4×4 implicit', matrix: { random: { shape: [4, 4], seed: 5 } }, gradient: 'implicit' },
    steps: 2000,
    quickSteps: 300,
    tolerance: 1e-26,
    keyMetric: 'angle',
    settings: { sgd: { lr: 0.1 }, momentum: { lr: 0.05 } },
  },
];
