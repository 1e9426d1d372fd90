import { MatgradDTypeError } from '../errors.js';
import * as F from './api.js';
import { valueAndGrad } from './grad.js';
import { type AnyTensor, toReal } from './complex.js';
import { anyOutputsOf, fromProgramArgs, jit, toProgramArgs } from './jit.js';
import { fromArray, random, rng, type Tensor } from './tensor.js';

export interface GradcheckOptions {
  /** Finite-difference step (PyTorch's default 1e-6). */
  eps?: number;
  /** Tolerances: |analytical − numerical| ≤ atol + rtol·|numerical| (PyTorch's defaults 1e-5, 1e-3). */
  atol?: number;
  rtol?: number;
  /** Random directions checked for the whole gradient at once. */
  directions?: number;
  /** Elements checked one by one per input (all when the input is at most this big, else a sample). */
  maxElements?: number;
  seed?: number;
}

export interface GradcheckFailure {
  input: number;
  /** Element index, or -1 for a random-direction check. */
  index: number;
  analytical: number;
  numerical: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytical − numerical| seen. */
  maxError: number;
  checks: number;
  failures: GradcheckFailure[];
}

/**
 * Compares reverse-mode gradients with central finite differences in float64, per element and along
 * random directions. Functions with several or non-scalar outputs are checked through a fixed random
 * projection Σ wₖ·fₖ(x), which tests every output's VJP.
 */
export function gradcheck<A extends AnyTensor[]>(
  fn: (...xs: A) => AnyTensor | readonly AnyTensor[],
  anyInputs: readonly AnyTensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, directions = 3, maxElements = 64, seed = 0 } = opts;
  anyInputs.forEach((x, i) => {
    if (x.dtype !== 'float64' && x.dtype !== 'complex128')
      throw new MatgradDTypeError(`gradcheck: input ${i} is ${x.dtype}; finite differences need float64 or complex128`);
  });
  // complex inputs and outputs are checked through their real views (re and im perturbed separately)
  const { reals: inputs, tag } = toProgramArgs(anyInputs);
  const outputs = (xs: Tensor[]) => anyOutputsOf('gradcheck', (fn as (...a: AnyTensor[]) => unknown)(...fromProgramArgs(xs, tag))).map(toReal);
  const weights = outputs(inputs).map((y, k) => random(y.shape, { seed: seed + 101 * k + 7, dist: 'normal' }));
  const projected = (...xs: Tensor[]) =>
    outputs(xs)
      .map((y, k) => F.sum(F.mul(y, weights[k])))
      .reduce((a, b) => F.add(a, b));
  const forward = jit(projected);
  const analytical = valueAndGrad(projected)(...inputs).grads.map((g) => g.dataSync());
  const base = inputs.map((x) => x.dataSync());
  const evalAt = (shift: (i: number, data: Float64Array) => void): number => {
    const xs = base.map((b, i) => {
      const d = Float64Array.from(b);
      shift(i, d);
      return fromArray(d, inputs[i].shape);
    });
    return (forward(...xs) as Tensor).item();
  };

  const failures: GradcheckFailure[] = [];
  let maxError = 0;
  let checks = 0;
  const compare = (input: number, index: number, a: number, n: number) => {
    checks++;
    const err = Math.abs(a - n);
    if (!(err <= maxError)) maxError = Number.isNaN(err) ? Number.NaN : Math.max(maxError, err);
    if (!(err <= atol + rtol * Math.abs(n))) failures.push({ input, index, analytical: a, numerical: n });
  };

  const next = rng(seed + 12345);
  base.forEach((b, i) => {
    const idx =
      b.length <= maxElements
        ? [...b.keys()]
        : Array.from({ length: maxElements }, () => Math.floor(next() * b.length));
    for (const j of idx) {
      const plus = evalAt((k, d) => {
        if (k === i) d[j] += eps;
      });
      const minus = evalAt((k, d) => {
        if (k === i) d[j] -= eps;
      });
      compare(i, j, analytical[i][j], (plus - minus) / (2 * eps));
    }
  });
  for (let r = 0; r < directions; r++) {
    const dirs = base.map((_b, i) =>
      random(inputs[i].shape, { seed: seed + 1000 * (r + 1) + i, dist: 'normal' }).dataSync(),
    );
    const plus = evalAt((i, d) => d.forEach((v, j) => (d[j] = v + eps * dirs[i][j])));
    const minus = evalAt((i, d) => d.forEach((v, j) => (d[j] = v - eps * dirs[i][j])));
    let a = 0;
    analytical.forEach((g, i) => {
      for (let j = 0; j < g.length; j++) a += g[j] * dirs[i][j];
    });
    compare(-1, -1, a, (plus - minus) / (2 * eps));
  }
  return { ok: failures.length === 0, maxError, checks, failures };
}
