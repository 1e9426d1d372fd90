// What the degenerate-gradient rule guarantees (README, mg.linalg): at repeated eigen/singular values
// the gradient is exact when the loss depends on each repeated cluster only through a symmetric
// function of its values and the subspace its vectors span; otherwise it is finite, and the implicit
// eigenvector's gradient is eigh's.
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import type { Tensor } from '../src/index.js';

const n = 4;
const orth = (seed: number) => mg.linalg.qr(mg.random([n, n], { seed, dist: 'normal' })).Q;
const Q = orth(3);
const P = orth(4);
const withValues = (values: number[]) => mg.matmul(mg.matmul(Q, mg.diagEmbed(mg.tensor(values))), mg.transpose(Q));
/** λ = (1, 1, 3, 5): the two smallest repeated. */
const A = withValues([1, 1, 3, 5]);
const I = mg.eye(n);
/** σ = (2, 2, 1, 0.5) with singular vectors Q and P: the two largest repeated. */
const B = mg.matmul(mg.matmul(Q, mg.diagEmbed(mg.tensor([2, 2, 1, 0.5]))), mg.transpose(P));
const W = mg.random([n, n], { seed: 7, dist: 'normal' });
const w = mg.random([n], { seed: 8, dist: 'normal' });

const col = (V: Tensor, j: number) => mg.reshape(mg.slice(V, [0, j], [n, 1]), [n]);
const outer = (v: Tensor) => mg.outer(v, v);
const dot = (a: Tensor, b: Tensor) => mg.sum(mg.mul(a, b));
const lam = (X: Tensor) => mg.linalg.eigvalsh(X);
const vecs = (X: Tensor) => mg.linalg.eigh(X).vectors;
const sym = (X: Tensor) => mg.mul(mg.add(X, mg.transpose(X)), 0.5);
const relErr = (a: Tensor, b: Tensor) => mg.max(mg.abs(mg.sub(a, b))).item() / Math.max(1e-300, mg.max(mg.abs(b)).item());

/**
 * Central differences of f along random directions D (symmetric for eigh inputs): ⟨∇f, D⟩ against
 * (f(X + hD) − f(X − hD))/2h; returns the largest relative mismatch.
 */
function directionalMismatch(f: (X: Tensor) => Tensor, X: Tensor, symmetric: boolean): number {
  const g = mg.grad(f)(X);
  let worst = 0;
  for (let seed = 0; seed < 4; seed++) {
    const R = mg.random([n, n], { seed: 100 + seed, dist: 'normal' });
    const D = symmetric ? sym(R) : R;
    const h = 1e-5;
    const fd = (f(mg.add(X, mg.mul(D, h))).item() - f(mg.sub(X, mg.mul(D, h))).item()) / (2 * h);
    const an = dot(g, D).item();
    worst = Math.max(worst, Math.abs(fd - an) / Math.max(1e-3, Math.abs(fd)));
  }
  return worst;
}

describe('degenerate gradients: exact cases (a repeated cluster enters symmetrically / through its span)', () => {
  const closedForm: [string, (X: Tensor) => Tensor, Tensor, Tensor][] = [
    ['Σλ² at I', (X) => mg.sum(mg.square(lam(X))), I, mg.mul(I, 2)],
    ['Σλ² at λ = (1, 1, 3, 5)', (X) => mg.sum(mg.square(lam(X))), A, mg.mul(A, 2)],
    ['Σ log λ at λ = (1, 1, 3, 5)', (X) => mg.sum(mg.log(lam(X))), A, mg.linalg.inv(A)],
    ['λ₀ + λ₁ (the repeated pair) at λ = (1, 1, 3, 5)', (X) => mg.sum(mg.slice(lam(X), [0], [2])), A, mg.add(outer(col(Q, 0)), outer(col(Q, 1)))],
    ['Σσ (nuclear norm) at σ = (2, 2, 1, ½)', (X) => mg.sum(mg.linalg.svdvals(X)), B, mg.matmul(Q, mg.transpose(P))],
    ['Σσ² at σ = (2, 2, 1, ½)', (X) => mg.sum(mg.square(mg.linalg.svdvals(X))), B, mg.mul(B, 2)],
  ];
  it.each(closedForm)('%s: the closed form', (_, f, X, expected) => {
    expect(relErr(mg.grad(f)(X), expected)).toBeLessThan(1e-12);
  });

  const byDifferences: [string, (X: Tensor) => Tensor, Tensor, boolean][] = [
    ['the projector onto the repeated pair ⟨W, v₀v₀ᵀ + v₁v₁ᵀ⟩ (eigh)', (X) => dot(W, mg.add(outer(col(vecs(X), 0)), outer(col(vecs(X), 1)))), A, true],
    ['a simple eigenvector beside a repeated pair (wᵀv₃)² (eigh)', (X) => mg.square(dot(w, col(vecs(X), 3))), A, true],
    ['a simple eigenvector beside a repeated pair (wᵀv₃)² (implicit eigenvector)', (X) => mg.square(dot(w, mg.linalg.eigenvector(X, { which: 'largest' }).vector)), A, true],
    ['a simple eigenvalue beside a repeated pair λ₂·λ₃ (implicit eigenvector)', (X) => mg.mul(mg.linalg.eigenvector(X, { which: 2 }).value, mg.linalg.eigenvector(X, { which: 3 }).value), A, true],
    ['the span of the repeated singular pair ⟨W, u₀v₀ᵀ + u₁v₁ᵀ⟩ (svd)', (X) => {
      const { U, Vh } = mg.linalg.svd(X);
      return dot(W, mg.matmul(mg.slice(U, [0, 0], [n, 2]), mg.slice(Vh, [0, 0], [2, n])));
    }, B, false],
  ];
  it.each(byDifferences)('%s: central differences', (_, f, X, symmetric) => {
    expect(directionalMismatch(f, X, symmetric)).toBeLessThan(1e-7);
  });
});

describe('degenerate gradients: finite (not exact) cases', () => {
  const finite: [string, (X: Tensor) => Tensor, Tensor][] = [
    ['⟨W, V·diag(λ)·Vᵀ⟩ at I (values of a cluster weighted differently)', (X) => dot(W, mg.matmul(mg.mul(vecs(X), mg.reshape(lam(X), [1, n])), mg.transpose(vecs(X)))), I],
    ['λ_min at I (not differentiable there)', (X) => mg.slice(lam(X), [0], [1]), I],
    ['an eigenvector of a repeated eigenvalue (wᵀv₀)² (eigh)', (X) => mg.square(dot(w, col(vecs(X), 0))), A],
    ['an eigenvector of a repeated eigenvalue (wᵀv₀)² (implicit eigenvector)', (X) => mg.square(dot(w, mg.linalg.eigenvector(X).vector)), A],
    ['the implicit eigenvector at I', (X) => mg.square(dot(w, mg.linalg.eigenvector(X, { which: 'largest' }).vector)), I],
    ['the implicit eigenvalue of a zero matrix', (X) => mg.linalg.eigenvector(X).value, mg.mul(I, 0)],
    ['the implicit eigenvector of a zero matrix', (X) => mg.square(dot(w, mg.linalg.eigenvector(X).vector)), mg.mul(I, 0)],
  ];
  it.each(finite)('%s: finite', (_, f, X) => {
    const g = mg.grad(f)(X).dataSync();
    expect(g.every(Number.isFinite)).toBe(true);
  });

  it.each([
    ['v₀ of a repeated pair', A, 0],
    ['v₃ beside a repeated pair', A, 3],
    ['v₀ at I', I, 0],
    ['v₁ at 10⁸·I', mg.mul(I, 1e8), 1],
    ['v₂ at 10⁻⁸·A', mg.mul(A, 1e-8), 2],
  ] as const)('the implicit eigenvector drops the pairs eigh drops (%s)', (_, X, j) => {
    const implicit = mg.grad((Y: Tensor) => mg.square(dot(w, mg.linalg.eigenvector(Y, { which: j }).vector)))(X);
    const closed = mg.grad((Y: Tensor) => mg.square(dot(w, col(vecs(Y), j))))(X);
    expect(relErr(sym(implicit), sym(closed))).toBeLessThan(1e-9);
  });
});
