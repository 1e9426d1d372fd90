import * as F from '../autograd/api.js';
import { eye, type Tensor } from '../autograd/tensor.js';
import { MatgradError } from '../errors.js';
import type { Constraint } from './program.js';

/** Axes a constraint acts on: each matrix of a batch (last two dims), or the whole of a vector. */
const matrixAxes = (p: Tensor) => (p.rank >= 2 ? [-2, -1] : undefined);

/** Unit Frobenius norm per matrix (per vector for rank 1): Riemannian gradient on the sphere, then normalize. */
export function sphere(): Constraint {
  return {
    name: 'sphere',
    projectGrad: (p, g) => {
      const axes = matrixAxes(p);
      const inner = F.sum(F.mul(p, g), axes, true);
      const norm2 = F.sum(F.square(p), axes, true);
      return F.sub(g, F.mul(p, F.div(inner, norm2)));
    },
    retract: (p) => F.div(p, F.sqrt(F.sum(F.square(p), matrixAxes(p), true))),
  };
}

/**
 * The spectrahedron {A ⪰ 0, tr A = 1} through A = YYᵀ with ‖Y‖_F = 1: a sphere constraint on Y.
 * Build A with `spectrahedronPoint(Y)`.
 */
export const spectrahedron = (): Constraint => ({ ...sphere(), name: 'spectrahedron' });
export const spectrahedronPoint = (Y: Tensor): Tensor => F.matmul(Y, F.transpose(Y));

/** Entries clamped to [low, high] after each update (projected gradient). */
export function box(low = -Infinity, high = Infinity): Constraint {
  if (!(low <= high)) throw new MatgradError(`box: low ${low} must be ≤ high ${high}`);
  return {
    name: 'box',
    retract: (p) => {
      const lo = Number.isFinite(low) ? F.maximum(p, low) : p;
      return Number.isFinite(high) ? F.minimum(lo, high) : lo;
    },
  };
}
export const nonNegative = (): Constraint => ({ ...box(0), name: 'nonNegative' });

/**
 * Orthonormal columns (XᵀX = I, X of shape [..., n, k], k ≤ n): the gradient is projected onto the
 * tangent space (G − X·sym(XᵀG)) and the update is retracted by the polar factor, computed with
 * Newton–Schulz iterations X ← X(3I − XᵀX)/2 (quadratic convergence from a point near the manifold).
 */
export function stiefel(opts: { iterations?: number } = {}): Constraint {
  const iterations = opts.iterations ?? 8;
  return {
    name: 'stiefel',
    projectGrad: (X, G) => {
      if (X.rank < 2) throw new MatgradError(`stiefel: parameter must be a matrix, got shape [${X.shape.join(', ')}]`);
      const XtG = F.matmulT(X, G, true, false);
      const sym = F.mul(F.add(XtG, F.transpose(XtG)), 0.5);
      return F.sub(G, F.matmul(X, sym));
    },
    retract: (X) => newtonSchulz(X, iterations),
    init: (X) => newtonSchulz(F.div(X, F.sqrt(F.sum(F.square(X), [-2, -1], true))), 60),
  };
}

/** Polar factor of X by Newton–Schulz: converges when every singular value lies in (0, √3). */
function newtonSchulz(X: Tensor, iterations: number): Tensor {
  const [n, k] = X.shape.slice(-2);
  if (k > n) throw new MatgradError(`stiefel: needs at least as many rows as columns, got ${n}×${k}`);
  const three = F.mul(eye(k, { dtype: X.dtype }), 3);
  let Y = X;
  for (let i = 0; i < iterations; i++) Y = F.mul(F.matmul(Y, F.sub(three, F.matmulT(Y, Y, true, false))), 0.5);
  return Y;
}
