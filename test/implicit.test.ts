import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import type { Tensor } from '../src/index.js';

const sym = (x: Tensor) => mg.mul(mg.add(x, mg.transpose(x)), 0.5);
const maxAbsDiff = (a: Tensor, b: Tensor) => mg.max(mg.abs(mg.sub(a, b))).item();

describe('implicit differentiation (customRoot)', () => {
  it('matches the analytic derivative of a scalar root', () => {
    // x = √θ solves x² − θ = 0; dx/dθ = 1/(2√θ)
    const sqrtRoot = mg.customRoot((x, t) => mg.sub(mg.square(x), t), (t) => mg.sqrt(t));
    const theta = mg.tensor([4, 9, 0.25]);
    const g = mg.grad((t: Tensor) => mg.sum(sqrtRoot(t)))(theta);
    expect(Array.from(g.dataSync())).toEqual([0.25, 1 / 6, 1].map((v) => expect.closeTo(v, 14)));
  });
  it('iterative adjoint solvers (GMRES, CG) agree with dense LU', () => {
    const make = (linearSolver: 'lu' | 'gmres' | 'cg') =>
      mg.customRoot(
        // x = A⁻¹θ for a fixed SPD A: residual A x − θ
        (x, t) => mg.sub(mg.matmul(A, x), t),
        (t) => mg.linalg.solve(A, t),
        { linearSolver },
      );
    const X = mg.random([6, 6], { seed: 3 });
    const A = mg.add(mg.matmul(X, mg.transpose(X)), mg.eye(6));
    const theta = mg.random([6, 1], { seed: 4 });
    const w = mg.random([6, 1], { seed: 5 });
    const grads = (['lu', 'gmres', 'cg'] as const).map((k) => mg.grad((t: Tensor) => mg.sum(mg.mul(make(k)(t), w)))(theta));
    expect(maxAbsDiff(grads[0], mg.linalg.solve(A, w))).toBeLessThan(1e-12); // A symmetric: θ̄ = A⁻ᵀ w
    expect(maxAbsDiff(grads[1], grads[0])).toBeLessThan(1e-10);
    expect(maxAbsDiff(grads[2], grads[0])).toBeLessThan(1e-10);
  });
});

describe('linalg.eigenvector (bordered system, seed 003)', () => {
  const gaugeFree = (v: Tensor, W: Tensor) => mg.sum(mg.mul(W, mg.matmul(mg.reshape(v, [...v.shape, 1]), mg.reshape(v, [...v.shape.slice(0, -1), 1, v.shape[v.shape.length - 1]]))));
  for (const which of ['smallest', 'largest', 2] as const) {
    it(`agrees with the closed-form eigh gradient on symmetric A to 1e-10 (which: ${which})`, () => {
      const X = mg.random([3, 5, 5], { seed: 11 });
      const W = mg.random([3, 5, 5], { seed: 12 });
      const w = mg.random([3], { seed: 13 });
      const idx = which === 'smallest' ? 0 : which === 'largest' ? 4 : which;
      const implicit = (x: Tensor) => {
        const { value, vector } = mg.linalg.eigenvector(sym(x), { which });
        return mg.add(gaugeFree(vector, W), mg.sum(mg.mul(value, w)));
      };
      const closed = (x: Tensor) => {
        const { values, vectors } = mg.linalg.eigh(sym(x));
        const v = mg.reshape(mg.slice(vectors, [0, 0, idx], [3, 5, 1]), [3, 5]);
        const lam = mg.reshape(mg.slice(values, [0, idx], [3, 1]), [3]);
        return mg.add(gaugeFree(v, W), mg.sum(mg.mul(lam, w)));
      };
      const a = mg.valueAndGrad(implicit)(X);
      const b = mg.valueAndGrad(closed)(X);
      expect(Math.abs(a.value.item() - b.value.item())).toBeLessThan(1e-12);
      expect(maxAbsDiff(a.grads[0], b.grads[0])).toBeLessThan(1e-10);
    });
  }
  it('works for non-symmetric A with a simple real eigenvalue (gradcheck)', () => {
    const D = mg.diagEmbed(mg.tensor([1, 3, 6, 10]));
    const f = (x: Tensor) => {
      const { value, vector } = mg.linalg.eigenvector(mg.add(D, mg.mul(x, 0.5)), { which: 'largest' });
      return [value, vector];
    };
    const r = mg.gradcheck(f, [mg.random([4, 4], { seed: 2, low: -1, high: 1 })]);
    expect(r.failures).toEqual([]);
    const A = mg.add(D, mg.mul(mg.random([4, 4], { seed: 2, low: -1, high: 1 }), 0.5));
    const { value, vector } = mg.linalg.eigenvector(A, { which: 'largest' });
    const residual = mg.sub(mg.matmul(A, mg.reshape(vector, [4, 1])), mg.mul(value, mg.reshape(vector, [4, 1])));
    expect(mg.max(mg.abs(residual)).item()).toBeLessThan(1e-12);
  });
  it('rejects a bad `which`', () => {
    expect(() => mg.linalg.eigenvector(mg.eye(3), { which: 5 })).toThrow(/which must be/);
  });
});
