// Default step sizes and tolerances shared by the problem kinds: derived from the problem's data, so
// they are finite for every input (zero, singular, badly scaled) and scale with the dtype.
import type { TensorInfo } from '../autograd/node.js';
import * as F from '../autograd/api.js';
import type { DType } from '../autograd/dtype.js';
import type { Tensor } from '../autograd/tensor.js';
import type { Transform } from '../optimizers/transform.js';

/** Unit roundoff of each dtype (2⁻⁵², 2⁻²³: torch.finfo(dtype).eps). */
export const EPS: Record<DType, number> = { float64: 2 ** -52, float32: 2 ** -23 };

/**
 * A loss tolerance given for float64, in the same units for `dtype`: the losses it applies to are
 * squared residuals, whose rounding floor scales with eps², so float32 gets (eps32/eps64)² times it.
 */
export const lossTolerance = (float64Value: number, dtype: DType): number => float64Value * (EPS[dtype] / EPS.float64) ** 2;

/**
 * 1/L for a curvature bound L, or `fallback` when L is 0 or not finite (a zero matrix has a constant
 * loss: any step is as good; an overflowing bound must not give a NaN or infinite step).
 */
export const stepFromCurvature = (L: number, fallback = 1): number => (L > 0 && Number.isFinite(L) && Number.isFinite(1 / L) ? 1 / L : fallback);

/** max over every entry |x| (loops: no argument spread, so any size works). */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > m || a !== a) m = a; // NaN propagates
  }
  return m;
}

/**
 * A scale for the data: `value` when it is positive, finite and its square and inverse square are
 * finite (so it can divide a curvature), else 1.
 */
export const usableScale = (value: number): number => {
  const s2 = value * value;
  return value > 0 && Number.isFinite(s2) && Number.isFinite(1 / s2) && s2 > 0 ? value : 1;
};

/**
 * Multiplies each parameter's incoming gradient (or update) by its own factor (a number, or a tensor
 * that broadcasts against it): a diagonal preconditioner that gives blocks of different curvature one common step size.
 */
export function scaleEach(factors: readonly (number | Tensor)[]): Transform {
  return {
    name: 'scaleEach',
    slots: (_p: TensorInfo) => [],
    scalarCount: 0,
    writeScalars: () => {},
    update: ({ grads, state }) => ({ updates: grads.map((g, i) => (factors[i] === 1 ? g : F.mul(g, factors[i]))), state }),
  };
}
