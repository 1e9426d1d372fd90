import { describe, expect, it } from 'vitest';
import { bitsEqual, item, maxAbs, maxAbsDiff, signedRng, stack } from './helpers/arrays.js';
import { eigh, svd, type FloatArray } from '../src/linalg/kernels.js';
import { ccholesky, cdet, ceig, ceigh, cinv, cqr, cslogdet, csolve, csvd } from '../src/linalg/kernels/complex.js';

// Complex matrices are interleaved (re, im), row-major: entry (i, j) of an m×n matrix is at
// 2·(i·n + j) (re) and 2·(i·n + j) + 1 (im).

// ---------- helpers (independent of the kernels under test) ----------

function randomComplex(m: number, n: number, r: () => number): Float64Array {
  const a = new Float64Array(2 * m * n);
  for (let i = 0; i < a.length; i++) a[i] = r();
  return a;
}

/** C = A·B for complex A (m×k) and B (k×n). */
function cmatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(2 * m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const ar = a[2 * (i * k + p)];
      const ai = a[2 * (i * k + p) + 1];
      for (let j = 0; j < n; j++) {
        const br = b[2 * (p * n + j)];
        const bi = b[2 * (p * n + j) + 1];
        c[2 * (i * n + j)] += ar * br - ai * bi;
        c[2 * (i * n + j) + 1] += ar * bi + ai * br;
      }
    }
  }
  return c;
}

/** Conjugate transpose of a complex m×n matrix (n×m). */
function adjoint(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const t = new Float64Array(2 * m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      t[2 * (j * m + i)] = a[2 * (i * n + j)];
      t[2 * (j * m + i) + 1] = -a[2 * (i * n + j) + 1];
    }
  }
  return t;
}

function ceye(n: number): Float64Array {
  const a = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) a[2 * (i * n + i)] = 1;
  return a;
}

/** Random unitary n×n matrix: complex Gram-Schmidt (two passes) on the columns of a random matrix. */
function randomUnitary(n: number, r: () => number): Float64Array {
  const q = randomComplex(n, n, r);
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let l = 0; l < j; l++) {
        let dr = 0;
        let di = 0; // q_lᴴ q_j
        for (let i = 0; i < n; i++) {
          const xr = q[2 * (i * n + l)];
          const xi = q[2 * (i * n + l) + 1];
          const yr = q[2 * (i * n + j)];
          const yi = q[2 * (i * n + j) + 1];
          dr += xr * yr + xi * yi;
          di += xr * yi - xi * yr;
        }
        for (let i = 0; i < n; i++) {
          const xr = q[2 * (i * n + l)];
          const xi = q[2 * (i * n + l) + 1];
          q[2 * (i * n + j)] -= dr * xr - di * xi;
          q[2 * (i * n + j) + 1] -= dr * xi + di * xr;
        }
      }
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += q[2 * (i * n + j)] ** 2 + q[2 * (i * n + j) + 1] ** 2;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < n; i++) {
      q[2 * (i * n + j)] /= nrm;
      q[2 * (i * n + j) + 1] /= nrm;
    }
  }
  return q;
}

/** Q·diag(d)·Qᴴ for a random unitary Q, made exactly Hermitian. */
function hermitianWithSpectrum(d: number[], r: () => number): Float64Array {
  const n = d.length;
  const q = randomUnitary(n, r);
  const qd = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      qd[2 * (i * n + j)] = q[2 * (i * n + j)] * d[j];
      qd[2 * (i * n + j) + 1] = q[2 * (i * n + j) + 1] * d[j];
    }
  }
  return makeHermitian(cmatmul(qd, adjoint(q, n, n), n, n, n), n);
}

/** Copies the lower triangle onto the upper one (conjugated) and zeroes the diagonal's imaginary part. */
function makeHermitian(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    a[2 * (i * n + i) + 1] = 0;
    for (let j = 0; j < i; j++) {
      a[2 * (j * n + i)] = a[2 * (i * n + j)];
      a[2 * (j * n + i) + 1] = -a[2 * (i * n + j) + 1];
    }
  }
  return a;
}

function randomHermitian(n: number, r: () => number): Float64Array {
  return makeHermitian(randomComplex(n, n, r), n);
}

function scaleComplex(a: Float64Array, s: number): Float64Array {
  return a.map((v) => v * s);
}

// ---------- invariant checks ----------

/** QᴴQ = I for a complex m×k matrix with orthonormal columns. */
function checkOrthonormalColumns(q: ArrayLike<number>, m: number, k: number, tol: number): void {
  expect(maxAbsDiff(cmatmul(adjoint(q, m, k), q, k, m, k), ceye(k))).toBeLessThan(tol);
}

function checkCsvd(
  a: Float64Array,
  m: number,
  n: number,
  U: Float64Array,
  S: Float64Array,
  Vh: Float64Array,
  tol: number,
): void {
  const k = Math.min(m, n);
  const scale = Math.max(1, maxAbs(a));
  const us = new Float64Array(2 * m * k);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) {
      us[2 * (i * k + j)] = U[2 * (i * k + j)] * S[j];
      us[2 * (i * k + j) + 1] = U[2 * (i * k + j) + 1] * S[j];
    }
  }
  expect(maxAbsDiff(cmatmul(us, Vh, m, k, n), a) / scale).toBeLessThan(tol);
  checkOrthonormalColumns(U, m, k, tol);
  checkOrthonormalColumns(adjoint(Vh, k, n), n, k, tol);
  for (let j = 0; j < k; j++) expect(S[j]).toBeGreaterThanOrEqual(0);
  for (let j = 1; j < k; j++) expect(S[j]).toBeLessThanOrEqual(S[j - 1]);
}

/** The largest-magnitude component of each column is real (exactly) and positive. */
function checkGauge(v: ArrayLike<number>, n: number, tol: number): void {
  for (let j = 0; j < n; j++) {
    let best = 0;
    for (let i = 0; i < n; i++) best = Math.max(best, Math.hypot(v[2 * (i * n + j)], v[2 * (i * n + j) + 1]));
    let found = false;
    for (let i = 0; i < n; i++) {
      const re = v[2 * (i * n + j)];
      if (v[2 * (i * n + j) + 1] === 0 && re > 0 && re >= best - tol) found = true;
    }
    expect(found).toBe(true);
  }
}

/** A·V = V·diag(λ), VᴴV = I, λ ascending, gauge. `a` must be the full Hermitian matrix. */
function checkCeigh(a: Float64Array, n: number, L: Float64Array, V: Float64Array, tol: number): void {
  const scale = Math.max(1, maxAbs(a));
  const av = cmatmul(a, V, n, n, n);
  const vl = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      vl[2 * (i * n + j)] = V[2 * (i * n + j)] * L[j];
      vl[2 * (i * n + j) + 1] = V[2 * (i * n + j) + 1] * L[j];
    }
  }
  expect(maxAbsDiff(av, vl) / scale).toBeLessThan(tol);
  checkOrthonormalColumns(V, n, n, tol);
  for (let j = 1; j < n; j++) expect(L[j]).toBeGreaterThanOrEqual(L[j - 1]);
  checkGauge(V, n, tol);
}

function runCsvd(a: Float64Array, m: number, n: number, batch = 1) {
  const k = Math.min(m, n);
  const U = new Float64Array(batch * 2 * m * k);
  const S = new Float64Array(batch * k);
  const Vh = new Float64Array(batch * 2 * k * n);
  const status = csvd(a, batch, m, n, U, S, Vh);
  return { U, S, Vh, status };
}

function runCeigh(a: Float64Array, n: number, batch = 1) {
  const L = new Float64Array(batch * n);
  const V = new Float64Array(batch * 2 * n * n);
  const status = ceigh(a, batch, n, L, V);
  return { L, V, status };
}

function runCdet(a: Float64Array, n: number): [number, number] {
  const out = new Float64Array(2);
  expect(cdet(a, 1, n, out)).toBe(-1);
  return [out[0], out[1]];
}

const SHAPES: [number, number][] = [
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [5, 5],
  [6, 6],
  [7, 7],
  [8, 8],
  [4, 2],
  [2, 4],
  [4, 1],
  [1, 4],
  [3, 2],
  [2, 3],
  [8, 3],
  [3, 8],
  [6, 5],
  [5, 6],
  [7, 4],
  [4, 7],
  [12, 9],
  [9, 12],
];

// ---------- csvd ----------

describe('csvd', () => {
  it('decomposes random float64 complex matrices of many shapes (batch 3)', () => {
    const r = signedRng(1);
    for (const [m, n] of SHAPES) {
      const k = Math.min(m, n);
      const items = [randomComplex(m, n, r), randomComplex(m, n, r), randomComplex(m, n, r)];
      const { U, S, Vh, status } = runCsvd(stack(items), m, n, 3);
      expect(status).toBe(-1);
      for (let t = 0; t < 3; t++) {
        checkCsvd(items[t], m, n, item(U, t, 2 * m * k), item(S, t, k), item(Vh, t, 2 * k * n), 1e-13);
      }
    }
  });

  it('works on float32 data (float64 inside, rounded outputs)', () => {
    const r = signedRng(2);
    for (const [m, n] of SHAPES) {
      const k = Math.min(m, n);
      const a32 = Float32Array.from(stack([randomComplex(m, n, r), randomComplex(m, n, r)]));
      const U = new Float32Array(2 * 2 * m * k);
      const S = new Float32Array(2 * k);
      const Vh = new Float32Array(2 * 2 * k * n);
      expect(csvd(a32, 2, m, n, U, S, Vh)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        const a = item(a32, t, 2 * m * n);
        checkCsvd(a, m, n, item(U, t, 2 * m * k), item(S, t, k), item(Vh, t, 2 * k * n), 1e-5);
        // same singular values as the float64 computation on the same (rounded) input, then rounded
        const ref = runCsvd(a, m, n);
        expect(maxAbsDiff(item(S, t, k), Float32Array.from(ref.S))).toBe(0);
      }
    }
  });

  it('matches known singular values (complex diagonal with phases, embedded in unitaries)', () => {
    const r = signedRng(3);
    const d = [3, 0.5, 2, 1e-3];
    const n = d.length;
    const diag = new Float64Array(2 * n * n);
    for (let i = 0; i < n; i++) {
      const phi = 0.7 * i + 0.3;
      diag[2 * (i * n + i)] = d[i] * Math.cos(phi);
      diag[2 * (i * n + i) + 1] = d[i] * Math.sin(phi);
    }
    const a = cmatmul(cmatmul(randomUnitary(n, r), diag, n, n, n), randomUnitary(n, r), n, n, n);
    const { U, S, Vh, status } = runCsvd(a, n, n);
    expect(status).toBe(-1);
    checkCsvd(a, n, n, U, S, Vh, 1e-14);
    const sorted = [...d].sort((x, y) => y - x);
    // absolute: forming Q1·D·Q2 already perturbs the singular values by ~EPS·‖A‖
    for (let i = 0; i < n; i++) expect(Math.abs(S[i] - sorted[i])).toBeLessThan(1e-14 * sorted[0]);
  });

  it('agrees with the real svd on real input', () => {
    const r = signedRng(4);
    for (const [m, n] of [
      [4, 4],
      [5, 3],
      [3, 7],
    ]) {
      const k = Math.min(m, n);
      const real = new Float64Array(m * n).map(() => r());
      const cplx = new Float64Array(2 * m * n);
      for (let i = 0; i < m * n; i++) cplx[2 * i] = real[i];
      const c = runCsvd(cplx, m, n);
      const U = new Float64Array(m * k);
      const S = new Float64Array(k);
      const Vh = new Float64Array(k * n);
      expect(svd(real, 1, m, n, U, S, Vh)).toBe(-1);
      expect(maxAbsDiff(c.S, S)).toBeLessThan(1e-14);
    }
  });

  it('handles repeated singular values: scaled unitary, identity, 1x1', () => {
    const r = signedRng(5);
    for (const n of [1, 2, 3, 4, 5, 8]) {
      const a = scaleComplex(randomUnitary(n, r), 3);
      const { U, S, Vh, status } = runCsvd(a, n, n);
      expect(status).toBe(-1);
      checkCsvd(a, n, n, U, S, Vh, 1e-14);
      for (let i = 0; i < n; i++) expect(Math.abs(S[i] - 3)).toBeLessThan(1e-14);
      const id = runCsvd(ceye(n), n, n);
      expect(Array.from(id.S)).toEqual(new Array(n).fill(1));
      checkCsvd(ceye(n), n, n, id.U, id.S, id.Vh, 1e-15);
    }
    const one = runCsvd(new Float64Array([3, -4]), 1, 1);
    expect(one.S[0]).toBe(5);
    checkCsvd(new Float64Array([3, -4]), 1, 1, one.U, one.S, one.Vh, 1e-15);
  });

  it('completes orthonormal bases for rank-deficient and zero matrices', () => {
    const r = signedRng(6);
    for (const [m, n] of [
      [4, 4],
      [5, 3],
      [3, 5],
      [8, 8],
      [2, 6],
      [7, 2],
      [10, 10],
    ]) {
      const k = Math.min(m, n);
      // rank 1: x·yᴴ
      const a = cmatmul(randomComplex(m, 1, r), adjoint(randomComplex(n, 1, r), n, 1), m, 1, n);
      const res = runCsvd(a, m, n);
      expect(res.status).toBe(-1);
      checkCsvd(a, m, n, res.U, res.S, res.Vh, 1e-13);
      for (let i = 1; i < k; i++) expect(res.S[i]).toBeLessThan(1e-14 * res.S[0]);
      // zero matrix
      const z = runCsvd(new Float64Array(2 * m * n), m, n);
      expect(z.status).toBe(-1);
      expect(maxAbs(z.S)).toBe(0);
      checkCsvd(new Float64Array(2 * m * n), m, n, z.U, z.S, z.Vh, 1e-15);
      // rank 2 with a zero column and a zero row
      const b = randomComplex(m, n, r);
      for (let i = 0; i < m; i++) {
        b[2 * i * n] = 0;
        b[2 * i * n + 1] = 0;
      }
      for (let j = 0; j < 2 * n; j++) b[j] = 0;
      const rb = runCsvd(b, m, n);
      expect(rb.status).toBe(-1);
      checkCsvd(b, m, n, rb.U, rb.S, rb.Vh, 1e-13);
    }
  });

  it('is scale invariant (no overflow or underflow for huge or tiny entries)', () => {
    const r = signedRng(7);
    for (const [m, n] of [
      [4, 4],
      [6, 3],
    ]) {
      const a = randomComplex(m, n, r);
      const base = runCsvd(a, m, n);
      for (const s of [2 ** 600, 2 ** -600]) {
        const res = runCsvd(scaleComplex(a, s), m, n);
        expect(res.status).toBe(-1);
        expect(bitsEqual(res.S.map((v) => v / s), base.S)).toBe(true);
        expect(bitsEqual(res.U, base.U)).toBe(true);
        expect(bitsEqual(res.Vh, base.Vh)).toBe(true);
      }
    }
  });

  it('keeps tiny singular values accurate relative to themselves (graded matrix)', () => {
    const r = signedRng(8);
    for (const n of [4, 6]) {
      // A = diag(g)·B with B well conditioned: relative accuracy in the small singular values
      const b = randomComplex(n, n, r);
      for (let i = 0; i < n; i++) b[2 * (i * n + i)] += 3;
      const a = b.slice();
      for (let i = 0; i < n; i++) for (let j = 0; j < 2 * n; j++) a[2 * i * n + j] *= 10 ** (-3 * i);
      const { S, status } = runCsvd(a, n, n);
      expect(status).toBe(-1);
      // a row-scaled copy (exact powers of ten are not exact; use the product of singular values)
      // |det A| = ∏ σ_i
      const [dr, di] = runCdet(a, n);
      let prod = 1;
      for (let i = 0; i < n; i++) prod *= S[i];
      expect(Math.abs(prod - Math.hypot(dr, di)) / Math.hypot(dr, di)).toBeLessThan(1e-12);
      expect(S[n - 1]).toBeGreaterThan(0);
    }
  });

  it('handles a large mixed batch of 4x4 and 3x3 matrices (structured, nearly converged, degenerate)', () => {
    const r = signedRng(19);
    for (const n of [4, 3]) {
      const items: Float64Array[] = [];
      for (let t = 0; t < 120; t++) {
        const kind = t % 8;
        let a: Float64Array;
        if (kind === 0) {
          a = randomComplex(n, n, r);
        } else if (kind === 1) {
          // two equal columns (equal norms: x = 0 in the rotation)
          a = randomComplex(n, n, r);
          for (let i = 0; i < n; i++) {
            a[2 * (i * n + 1)] = a[2 * i * n];
            a[2 * (i * n + 1) + 1] = a[2 * i * n + 1];
          }
        } else if (kind === 2) {
          // column 1 = i·column 0 plus a tiny perturbation (nearly rank deficient)
          a = randomComplex(n, n, r);
          for (let i = 0; i < n; i++) {
            a[2 * (i * n + 1)] = -a[2 * i * n + 1] + 1e-9 * r();
            a[2 * (i * n + 1) + 1] = a[2 * i * n] + 1e-9 * r();
          }
        } else if (kind === 3) {
          // orthogonal columns except one pair (most pairs need no rotation)
          a = scaleComplex(randomUnitary(n, r), 1 + t / 100);
          for (let i = 0; i < n; i++) a[2 * (i * n + n - 1)] += 0.1 * a[2 * i * n];
        } else if (kind === 4) {
          a = scaleComplex(randomUnitary(n, r), 0.5); // all singular values equal
        } else if (kind === 5) {
          a = randomComplex(n, n, r);
          for (let j = 0; j < 2 * n; j++) a[2 * n + j] = 0; // a zero row
          for (let i = 0; i < n; i++) a[2 * (i * n + 2)] = a[2 * (i * n + 2) + 1] = 0; // a zero column
        } else if (kind === 6) {
          a = cmatmul(randomComplex(n, 1, r), adjoint(randomComplex(n, 1, r), n, 1), n, 1, n); // rank 1
        } else {
          // graded columns
          a = randomComplex(n, n, r);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              a[2 * (i * n + j)] *= 10 ** (-4 * j);
              a[2 * (i * n + j) + 1] *= 10 ** (-4 * j);
            }
          }
        }
        items.push(a);
      }
      const { U, S, Vh, status } = runCsvd(stack(items), n, n, items.length);
      expect(status).toBe(-1);
      items.forEach((a, t) => {
        checkCsvd(a, n, n, item(U, t, 2 * n * n), item(S, t, n), item(Vh, t, 2 * n * n), 1e-13);
      });
    }
  });

  it('is deterministic and independent of the batch position', () => {
    const r = signedRng(9);
    for (const [m, n] of [
      [4, 4],
      [7, 5],
    ]) {
      const k = Math.min(m, n);
      const a = randomComplex(m, n, r);
      const b = randomComplex(m, n, r);
      const both = runCsvd(stack([a, b]), m, n, 2);
      const x = runCsvd(b, m, n);
      const y = runCsvd(b, m, n);
      expect(bitsEqual(x.S, item(both.S, 1, k))).toBe(true);
      expect(bitsEqual(x.U, item(both.U, 1, 2 * m * k))).toBe(true);
      expect(bitsEqual(x.Vh, item(both.Vh, 1, 2 * k * n))).toBe(true);
      expect(bitsEqual(x.U, y.U) && bitsEqual(x.S, y.S) && bitsEqual(x.Vh, y.Vh)).toBe(true);
    }
  });

  it('reports the first non-finite item, fills it with NaN, and computes the others', () => {
    const r = signedRng(10);
    for (const [m, n] of [
      [4, 4],
      [3, 6],
      [7, 5],
    ]) {
      const k = Math.min(m, n);
      const good = randomComplex(m, n, r);
      const bad = randomComplex(m, n, r);
      bad[3] = Number.NaN;
      const inf = randomComplex(m, n, r);
      inf[0] = Number.POSITIVE_INFINITY;
      const { U, S, Vh, status } = runCsvd(stack([good, bad, inf, good]), m, n, 4);
      expect(status).toBe(1);
      for (const t of [1, 2]) {
        expect(item(U, t, 2 * m * k).every(Number.isNaN)).toBe(true);
        expect(item(S, t, k).every(Number.isNaN)).toBe(true);
        expect(item(Vh, t, 2 * k * n).every(Number.isNaN)).toBe(true);
      }
      for (const t of [0, 3]) {
        checkCsvd(good, m, n, item(U, t, 2 * m * k), item(S, t, k), item(Vh, t, 2 * k * n), 1e-13);
      }
    }
  });
});

// ---------- ceigh ----------

describe('ceigh', () => {
  it('decomposes random Hermitian float64 matrices (n = 1..8, 16, 33, 64; batch 2)', () => {
    const r = signedRng(11);
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 16, 33, 64]) {
      const items = [randomHermitian(n, r), randomHermitian(n, r)];
      const { L, V, status } = runCeigh(stack(items), n, 2);
      expect(status).toBe(-1);
      for (let t = 0; t < 2; t++) {
        checkCeigh(items[t], n, item(L, t, n), item(V, t, 2 * n * n), n <= 8 ? 1e-13 : 1e-12);
      }
    }
  });

  it('matches a known spectrum, including repeated eigenvalues', () => {
    const r = signedRng(12);
    const d = [-2, 0.5, 0.5, 3, 1e-4, 7];
    const a = hermitianWithSpectrum(d, r);
    const { L, V, status } = runCeigh(a, d.length);
    expect(status).toBe(-1);
    checkCeigh(a, d.length, L, V, 1e-13);
    const sorted = [...d].sort((x, y) => x - y);
    expect(maxAbsDiff(L, sorted)).toBeLessThan(1e-13);
  });

  it('reads only the lower triangle and ignores the diagonal imaginary part', () => {
    const r = signedRng(13);
    for (const n of [3, 6]) {
      const a = randomHermitian(n, r);
      const junk = a.slice();
      for (let i = 0; i < n; i++) {
        junk[2 * (i * n + i) + 1] = 5 * r(); // diagonal imaginary part: ignored
        for (let j = i + 1; j < n; j++) {
          junk[2 * (i * n + j)] = 9 * r();
          junk[2 * (i * n + j) + 1] = Number.NaN; // upper triangle: never read
        }
      }
      const clean = runCeigh(a, n);
      const dirty = runCeigh(junk, n);
      expect(dirty.status).toBe(-1);
      expect(bitsEqual(clean.L, dirty.L)).toBe(true);
      expect(bitsEqual(clean.V, dirty.V)).toBe(true);
      checkCeigh(a, n, dirty.L, dirty.V, 1e-13);
    }
  });

  it('handles degenerate inputs: identity, zero matrix, 1x1', () => {
    for (const n of [1, 2, 5, 9]) {
      const id = runCeigh(ceye(n), n);
      expect(id.status).toBe(-1);
      expect(Array.from(id.L)).toEqual(new Array(n).fill(1));
      checkCeigh(ceye(n), n, id.L, id.V, 1e-15);
      const z = runCeigh(new Float64Array(2 * n * n), n);
      expect(z.status).toBe(-1);
      expect(maxAbs(z.L)).toBe(0);
      checkCeigh(new Float64Array(2 * n * n), n, z.L, z.V, 1e-15);
    }
    const one = runCeigh(new Float64Array([-3.5, 2]), 1);
    expect(Array.from(one.L)).toEqual([-3.5]);
    expect(Array.from(one.V)).toEqual([1, 0]);
  });

  it('puts eigenvectors in the gauge: largest component real and positive', () => {
    const r = signedRng(14);
    // a 2x2 Hermitian with an imaginary off-diagonal: eigenvectors are (1, ±i)/√2 up to phase, a tie;
    // the first component must be the real positive one
    const a = new Float64Array([2, 0, 0, 0, 0, 1, 2, 0]);
    makeHermitian(a, 2);
    const { L, V } = runCeigh(a, 2);
    checkCeigh(a, 2, L, V, 1e-15);
    expect(V[1]).toBe(0);
    expect(V[3]).toBe(0);
    expect(V[0]).toBeGreaterThan(0);
    expect(V[2]).toBeGreaterThan(0);
    for (const n of [4, 7]) {
      const b = randomHermitian(n, r);
      const res = runCeigh(b, n);
      checkGauge(res.V, n, 1e-15);
    }
  });

  it('agrees with the real eigh on real symmetric input', () => {
    const r = signedRng(15);
    for (const n of [3, 6]) {
      const real = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          real[i * n + j] = r();
          real[j * n + i] = real[i * n + j];
        }
      }
      const cplx = new Float64Array(2 * n * n);
      for (let i = 0; i < n * n; i++) cplx[2 * i] = real[i];
      const c = runCeigh(cplx, n);
      const values = new Float64Array(n);
      const vectors = new Float64Array(n * n);
      expect(eigh(real, 1, n, values, vectors)).toBe(-1);
      expect(maxAbsDiff(c.L, values)).toBeLessThan(1e-14);
      // same gauge: the eigenvectors agree (real, up to rounding)
      for (let i = 0; i < n * n; i++) {
        expect(Math.abs(c.V[2 * i] - vectors[i])).toBeLessThan(1e-12);
        expect(Math.abs(c.V[2 * i + 1])).toBeLessThan(1e-12);
      }
    }
  });

  it('works on float32 data', () => {
    const r = signedRng(16);
    for (const n of [1, 3, 4, 8]) {
      const a32 = Float32Array.from(stack([randomHermitian(n, r), randomHermitian(n, r)]));
      const L = new Float32Array(2 * n);
      const V = new Float32Array(2 * 2 * n * n);
      expect(ceigh(a32, 2, n, L, V)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        const a = item(a32, t, 2 * n * n);
        checkCeigh(a, n, item(L, t, n), item(V, t, 2 * n * n), 1e-5);
        const ref = runCeigh(a, n);
        expect(maxAbsDiff(item(L, t, n), Float32Array.from(ref.L))).toBe(0);
      }
    }
  });

  it('is scale invariant and deterministic', () => {
    const r = signedRng(17);
    const n = 5;
    const a = randomHermitian(n, r);
    const base = runCeigh(a, n);
    for (const s of [2 ** 600, 2 ** -600]) {
      const res = runCeigh(scaleComplex(a, s), n);
      expect(res.status).toBe(-1);
      expect(bitsEqual(res.L.map((v) => v / s), base.L)).toBe(true);
      expect(bitsEqual(res.V, base.V)).toBe(true);
    }
    const both = runCeigh(stack([randomHermitian(n, r), a]), n, 2);
    expect(bitsEqual(item(both.L, 1, n), base.L)).toBe(true);
    expect(bitsEqual(item(both.V, 1, 2 * n * n), base.V)).toBe(true);
  });

  it('reports the first non-finite item and still computes the others', () => {
    const r = signedRng(18);
    const n = 4;
    const good = randomHermitian(n, r);
    const bad = randomHermitian(n, r);
    bad[2 * (2 * n + 1)] = Number.NaN; // lower triangle
    const inf = randomHermitian(n, r);
    inf[2 * (3 * n + 3)] = Number.NEGATIVE_INFINITY; // diagonal
    const { L, V, status } = runCeigh(stack([good, bad, inf]), n, 3);
    expect(status).toBe(1);
    for (const t of [1, 2]) {
      expect(item(L, t, n).every(Number.isNaN)).toBe(true);
      expect(item(V, t, 2 * n * n).every(Number.isNaN)).toBe(true);
    }
    checkCeigh(good, n, item(L, 0, n), item(V, 0, 2 * n * n), 1e-13);
  });
});

// ---------- csolve, cinv, cdet ----------

describe('csolve', () => {
  it('solves A·X = B for batches of float64 systems', () => {
    const r = signedRng(21);
    for (let n = 1; n <= 8; n++) {
      for (const nrhs of [1, 3]) {
        const as = [randomComplex(n, n, r), randomComplex(n, n, r), randomComplex(n, n, r)];
        const bs = [randomComplex(n, nrhs, r), randomComplex(n, nrhs, r), randomComplex(n, nrhs, r)];
        const x = new Float64Array(3 * 2 * n * nrhs);
        expect(csolve(stack(as), stack(bs), 3, n, nrhs, x)).toBe(-1);
        for (let t = 0; t < 3; t++) {
          const xt = item(x, t, 2 * n * nrhs);
          const scale = maxAbs(as[t]) * maxAbs(xt);
          expect(maxAbsDiff(cmatmul(as[t], xt, n, n, nrhs), bs[t]) / scale).toBeLessThan(1e-13);
        }
      }
    }
  });

  it('needs pivoting: zero leading entry, purely imaginary pivots', () => {
    // [[0, i], [2, 1]]·x = [i, 3]  ->  x = [1, 1]
    const a = new Float64Array([0, 0, 0, 1, 2, 0, 1, 0]);
    const b = new Float64Array([0, 1, 3, 0]);
    const x = new Float64Array(4);
    expect(csolve(a, b, 1, 2, 1, x)).toBe(-1);
    expect(maxAbsDiff(x, [1, 0, 1, 0])).toBeLessThan(1e-15);
  });

  it('reports the first singular or non-finite item, fills it with NaN, and solves the others', () => {
    const r = signedRng(22);
    const n = 4;
    const good = randomComplex(n, n, r);
    const singular = randomComplex(n, n, r);
    for (let j = 0; j < 2 * n; j++) singular[2 * n + j] = singular[j]; // row 1 = row 0
    const nan = randomComplex(n, n, r);
    nan[5] = Number.NaN;
    const b = randomComplex(n, 2, r);
    const x = new Float64Array(4 * 2 * n * 2);
    expect(csolve(stack([good, singular, nan, good]), stack([b, b, b, b]), 4, n, 2, x)).toBe(1);
    expect(item(x, 1, 4 * n).every(Number.isNaN)).toBe(true);
    expect(item(x, 2, 4 * n).every(Number.isNaN)).toBe(true);
    for (const t of [0, 3]) {
      expect(maxAbsDiff(cmatmul(good, item(x, t, 4 * n), n, n, 2), b)).toBeLessThan(1e-13);
    }
    // an exactly zero matrix is singular as well
    const z = new Float64Array(4 * n);
    expect(csolve(new Float64Array(2 * n * n), b, 1, n, 2, z)).toBe(0);
    expect(z.every(Number.isNaN)).toBe(true);
  });

  it('works on float32 data', () => {
    const r = signedRng(23);
    for (const n of [1, 3, 6]) {
      const a = Float32Array.from(randomComplex(n, n, r));
      for (let i = 0; i < n; i++) a[2 * (i * n + i)] += 3; // well conditioned
      const b = Float32Array.from(randomComplex(n, 2, r));
      const x = new Float32Array(2 * n * 2);
      expect(csolve(a, b, 1, n, 2, x)).toBe(-1);
      expect(maxAbsDiff(cmatmul(a, x, n, n, 2), b)).toBeLessThan(1e-5);
    }
  });

  it('is scale invariant', () => {
    const r = signedRng(24);
    const n = 5;
    const a = randomComplex(n, n, r);
    const b = randomComplex(n, 1, r);
    const x = new Float64Array(2 * n);
    csolve(a, b, 1, n, 1, x);
    for (const s of [2 ** 700, 2 ** -700]) {
      const y = new Float64Array(2 * n);
      expect(csolve(scaleComplex(a, s), b, 1, n, 1, y)).toBe(-1);
      expect(bitsEqual(y.map((v) => v * s), x)).toBe(true);
    }
  });
});

describe('cinv', () => {
  it('A·inv(A) = I and inv(A)·A = I for batches (float64 and float32)', () => {
    const r = signedRng(31);
    for (let n = 1; n <= 8; n++) {
      const as = [randomComplex(n, n, r), randomComplex(n, n, r)];
      const out = new Float64Array(2 * 2 * n * n);
      expect(cinv(stack(as), 2, n, out)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        const x = item(out, t, 2 * n * n);
        const scale = maxAbs(as[t]) * maxAbs(x);
        expect(maxAbsDiff(cmatmul(as[t], x, n, n, n), ceye(n)) / scale).toBeLessThan(1e-13);
        expect(maxAbsDiff(cmatmul(x, as[t], n, n, n), ceye(n)) / scale).toBeLessThan(1e-13);
      }
      const a32 = Float32Array.from(as[0]);
      for (let i = 0; i < n; i++) a32[2 * (i * n + i)] += 3;
      const o32 = new Float32Array(2 * n * n);
      expect(cinv(a32, 1, n, o32)).toBe(-1);
      expect(maxAbsDiff(cmatmul(a32, o32, n, n, n), ceye(n))).toBeLessThan(1e-5);
    }
  });

  it('inverts a unitary matrix to its adjoint and a scalar to its reciprocal', () => {
    const r = signedRng(32);
    const q = randomUnitary(5, r);
    const out = new Float64Array(2 * 25);
    expect(cinv(q, 1, 5, out)).toBe(-1);
    expect(maxAbsDiff(out, adjoint(q, 5, 5))).toBeLessThan(1e-14);
    const one = new Float64Array(2);
    expect(cinv(new Float64Array([0, 2]), 1, 1, one)).toBe(-1);
    expect(Array.from(one)).toEqual([0, -0.5]);
  });

  it('reports singular and non-finite items with NaN and inverts the rest', () => {
    const r = signedRng(33);
    const n = 3;
    const good = randomComplex(n, n, r);
    const singular = randomComplex(n, n, r);
    // column 2 = i·column 0
    for (let i = 0; i < n; i++) {
      singular[2 * (i * n + 2)] = -singular[2 * (i * n) + 1];
      singular[2 * (i * n + 2) + 1] = singular[2 * (i * n)];
    }
    const inf = randomComplex(n, n, r);
    inf[4] = Number.POSITIVE_INFINITY;
    const out = new Float64Array(4 * 2 * n * n);
    const status = cinv(stack([good, inf, singular, good]), 4, n, out);
    expect(status).toBe(1);
    expect(item(out, 1, 2 * n * n).every(Number.isNaN)).toBe(true);
    // the singular one is rank deficient in exact arithmetic; with rounding it may or may not hit an
    // exact zero pivot, but an exactly zero row always does
    const zeroRow = good.slice();
    for (let j = 0; j < 2 * n; j++) zeroRow[2 * n + j] = 0;
    const out2 = new Float64Array(2 * 2 * n * n);
    expect(cinv(stack([good, zeroRow]), 2, n, out2)).toBe(1);
    expect(item(out2, 1, 2 * n * n).every(Number.isNaN)).toBe(true);
    for (const [o, t] of [
      [out, 0],
      [out, 3],
      [out2, 0],
    ] as const) {
      const x = item(o, t, 2 * n * n);
      expect(maxAbsDiff(cmatmul(good, x, n, n, n), ceye(n)) / (maxAbs(good) * maxAbs(x))).toBeLessThan(1e-13);
    }
  });
});

describe('cdet', () => {
  it('matches known determinants: triangular, permutation signs, 1x1, singular', () => {
    const r = signedRng(41);
    for (const n of [1, 2, 3, 5, 8]) {
      // lower triangular: det = product of the diagonal (with row swaps inside the LU)
      const a = randomComplex(n, n, r);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          a[2 * (i * n + j)] = 0;
          a[2 * (i * n + j) + 1] = 0;
        }
      }
      let pr = 1;
      let pi = 0;
      for (let i = 0; i < n; i++) {
        const dr = a[2 * (i * n + i)];
        const di = a[2 * (i * n + i) + 1];
        [pr, pi] = [pr * dr - pi * di, pr * di + pi * dr];
      }
      const [re, im] = runCdet(a, n);
      expect(Math.abs(re - pr) + Math.abs(im - pi)).toBeLessThan(1e-14 * Math.max(1, Math.hypot(pr, pi)));
      // upper triangular (adjoint of the lower one): conj of the product
      const [ure, uim] = runCdet(adjoint(a, n, n), n);
      expect(Math.abs(ure - pr) + Math.abs(uim + pi)).toBeLessThan(1e-14 * Math.max(1, Math.hypot(pr, pi)));
    }
    // a swap of two rows of the identity: -1; i·I (3x3): -i
    expect(runCdet(new Float64Array([0, 0, 1, 0, 1, 0, 0, 0]), 2)).toEqual([-1, 0]);
    const iI = new Float64Array(18);
    for (let i = 0; i < 3; i++) iI[2 * (i * 3 + i) + 1] = 1;
    expect(runCdet(iI, 3)).toEqual([0, -1]);
    expect(runCdet(new Float64Array([1.5, -2]), 1)).toEqual([1.5, -2]);
    // singular: a zero row and an exactly repeated row give exactly 0 (no -0)
    const s = randomComplex(4, 4, r);
    for (let j = 0; j < 8; j++) s[8 + j] = s[j];
    const [sr, si] = runCdet(s, 4);
    expect(Object.is(sr, 0) && Object.is(si, 0)).toBe(true);
    expect(runCdet(new Float64Array(2 * 9), 3)).toEqual([0, 0]);
  });

  it('det(A·B) = det(A)·det(B), det(Aᴴ) = conj(det(A)) (batch, float64 and float32)', () => {
    const r = signedRng(42);
    for (let n = 1; n <= 8; n++) {
      const a = randomComplex(n, n, r);
      const b = randomComplex(n, n, r);
      const ab = cmatmul(a, b, n, n, n);
      const out = new Float64Array(2 * 4);
      expect(cdet(stack([a, b, ab, adjoint(a, n, n)]), 4, n, out)).toBe(-1);
      const [ar, ai, br, bi, cr, ci, hr, hi] = out;
      const scale = Math.max(1, Math.hypot(cr, ci));
      expect(Math.abs(cr - (ar * br - ai * bi)) / scale).toBeLessThan(1e-13);
      expect(Math.abs(ci - (ar * bi + ai * br)) / scale).toBeLessThan(1e-13);
      expect(Math.abs(hr - ar) + Math.abs(hi + ai)).toBeLessThan(1e-14 * Math.max(1, Math.hypot(ar, ai)));
      const o32 = new Float32Array(2);
      expect(cdet(Float32Array.from(a), 1, n, o32)).toBe(-1);
      const [rr, ri] = runCdet(Float64Array.from(Float32Array.from(a)), n);
      expect(Math.abs(o32[0] - rr) + Math.abs(o32[1] - ri)).toBeLessThan(1e-6 * Math.max(1, Math.hypot(rr, ri)));
    }
  });

  it('gives NaN for non-finite input and never fails; no overflow for scaled input', () => {
    const r = signedRng(43);
    const n = 3;
    const a = randomComplex(n, n, r);
    const bad = a.slice();
    bad[7] = Number.NaN;
    const out = new Float64Array(4);
    expect(cdet(stack([bad, a]), 2, n, out)).toBe(-1);
    expect(Number.isNaN(out[0]) && Number.isNaN(out[1])).toBe(true);
    const [re, im] = runCdet(a, n);
    expect(out[2]).toBe(re);
    expect(out[3]).toBe(im);
    // entries of 2^300: det ~ 2^900 is representable; the squared moduli inside are not
    const [sr, si] = runCdet(scaleComplex(a, 2 ** 300), n);
    expect(sr / 2 ** 900).toBe(re);
    expect(si / 2 ** 900).toBe(im);
  });
});

// ---------- ccholesky, cqr, cslogdet ----------

/** X·Xᴴ + n·I for a random complex n×n X: Hermitian positive definite, made exactly Hermitian. */
function randomHpd(n: number, r: () => number): Float64Array {
  const x = randomComplex(n, n, r);
  const a = cmatmul(x, adjoint(x, n, n), n, n, n);
  for (let i = 0; i < n; i++) a[2 * (i * n + i)] += n;
  return makeHermitian(a, n);
}

/** L lower triangular (upper part exactly 0), diag(L) real (exactly) and positive, L·Lᴴ = A. */
function checkCcholesky(a: Float64Array, n: number, l: ArrayLike<number>, tol: number): void {
  for (let i = 0; i < n; i++) {
    expect(l[2 * (i * n + i)]).toBeGreaterThan(0);
    expect(Object.is(l[2 * (i * n + i) + 1], 0)).toBe(true);
    for (let j = i + 1; j < n; j++) {
      expect(Object.is(l[2 * (i * n + j)], 0) && Object.is(l[2 * (i * n + j) + 1], 0)).toBe(true);
    }
  }
  const scale = Math.max(1, maxAbs(a));
  expect(maxAbsDiff(cmatmul(l, adjoint(l, n, n), n, n, n), a) / scale).toBeLessThan(tol);
}

/** Q·R = A, QᴴQ = I, R upper triangular (strict lower part exactly 0) with a real, >= 0 diagonal. */
function checkCqr(a: Float64Array, m: number, n: number, q: ArrayLike<number>, rr: ArrayLike<number>, tol: number): void {
  const k = Math.min(m, n);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) {
      expect(Object.is(rr[2 * (i * n + j)], 0) && Object.is(rr[2 * (i * n + j) + 1], 0)).toBe(true);
    }
    expect(rr[2 * (i * n + i)]).toBeGreaterThanOrEqual(0);
    expect(Object.is(rr[2 * (i * n + i) + 1], 0)).toBe(true);
  }
  const scale = Math.max(1, maxAbs(a));
  expect(maxAbsDiff(cmatmul(q, rr, m, k, n), a) / scale).toBeLessThan(tol);
  checkOrthonormalColumns(q, m, k, tol);
}

function runCqr(a: Float64Array, m: number, n: number, batch = 1) {
  const k = Math.min(m, n);
  const Q = new Float64Array(batch * 2 * m * k);
  const R = new Float64Array(batch * 2 * k * n);
  const status = cqr(a, batch, m, n, Q, R);
  return { Q, R, status };
}

function runCslogdet(a: FloatArray, n: number, batch = 1) {
  const sign = new Float64Array(2 * batch);
  const logabs = new Float64Array(batch);
  expect(cslogdet(a, batch, n, sign, logabs)).toBe(-1);
  return { sign, logabs };
}

describe('ccholesky', () => {
  it('factors random Hermitian positive definite matrices A = X·Xᴴ + n·I (float64, batch 3)', () => {
    const r = signedRng(51);
    for (const n of [1, 2, 3, 4, 5, 8, 16, 33]) {
      const items = [randomHpd(n, r), randomHpd(n, r), randomHpd(n, r)];
      const L = new Float64Array(3 * 2 * n * n);
      expect(ccholesky(stack(items), 3, n, L)).toBe(-1);
      for (let t = 0; t < 3; t++) checkCcholesky(items[t], n, item(L, t, 2 * n * n), 1e-14);
    }
  });

  it('works on float32 data (float64 inside, rounded outputs)', () => {
    const r = signedRng(52);
    for (const n of [1, 3, 4, 7]) {
      const a32 = Float32Array.from(stack([randomHpd(n, r), randomHpd(n, r)]));
      const L = new Float32Array(2 * 2 * n * n);
      expect(ccholesky(a32, 2, n, L)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        const a = item(a32, t, 2 * n * n);
        checkCcholesky(a, n, item(L, t, 2 * n * n), 1e-5);
        const ref = new Float64Array(2 * n * n);
        expect(ccholesky(a, 1, n, ref)).toBe(-1);
        expect(bitsEqual(item(L, t, 2 * n * n), Float32Array.from(ref))).toBe(true);
      }
    }
  });

  it('reads only the lower triangle and ignores the diagonal imaginary part', () => {
    const r = signedRng(53);
    for (const n of [3, 6]) {
      const a = randomHpd(n, r);
      const junk = a.slice();
      for (let i = 0; i < n; i++) {
        junk[2 * (i * n + i) + 1] = 5 * r();
        for (let j = i + 1; j < n; j++) {
          junk[2 * (i * n + j)] = Number.NaN; // never read
          junk[2 * (i * n + j) + 1] = 9 * r();
        }
      }
      const clean = new Float64Array(2 * n * n);
      const dirty = new Float64Array(2 * n * n);
      expect(ccholesky(a, 1, n, clean)).toBe(-1);
      expect(ccholesky(junk, 1, n, dirty)).toBe(-1);
      expect(bitsEqual(clean, dirty)).toBe(true);
      checkCcholesky(a, n, dirty, 1e-14);
    }
  });

  it('matches known factors: 1x1, a 2x2 with an imaginary off-diagonal', () => {
    const one = new Float64Array(2);
    expect(ccholesky(new Float64Array([4, 7]), 1, 1, one)).toBe(-1);
    expect(Array.from(one)).toEqual([2, 0]);
    // [[4, -2i], [2i, 5]] = L·Lᴴ with L = [[2, 0], [i, 2]]
    const a = new Float64Array([4, 0, 0, -2, 0, 2, 5, 0]);
    const L = new Float64Array(8);
    expect(ccholesky(a, 1, 2, L)).toBe(-1);
    expect(Array.from(L)).toEqual([2, 0, 0, 0, 0, 1, 2, 0]);
  });

  it('fails alone on a non-positive-definite or non-finite item (NaN), computing the others', () => {
    const r = signedRng(54);
    const n = 4;
    const good = randomHpd(n, r);
    const indefinite = randomHpd(n, r);
    indefinite[2 * (2 * n + 2)] = -1; // a negative diagonal entry: a leading minor is not PD
    const semidefinite = new Float64Array(2 * n * n); // zero matrix: pivot 0
    const nan = randomHpd(n, r);
    nan[2 * (3 * n + 1) + 1] = Number.NaN; // lower triangle, last row
    const items = [good, indefinite, good, semidefinite, nan, good];
    const L = new Float64Array(items.length * 2 * n * n);
    expect(ccholesky(stack(items), items.length, n, L)).toBe(1);
    for (const t of [1, 3, 4]) expect(item(L, t, 2 * n * n).every(Number.isNaN)).toBe(true);
    for (const t of [0, 2, 5]) checkCcholesky(good, n, item(L, t, 2 * n * n), 1e-14);
  });

  it('is deterministic and independent of the batch position', () => {
    const r = signedRng(55);
    const n = 6;
    const a = randomHpd(n, r);
    const both = new Float64Array(2 * 2 * n * n);
    ccholesky(stack([randomHpd(n, r), a]), 2, n, both);
    const x = new Float64Array(2 * n * n);
    ccholesky(a, 1, n, x);
    expect(bitsEqual(x, item(both, 1, 2 * n * n))).toBe(true);
  });
});

const QR_SHAPES: [number, number][] = [
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [8, 8],
  [4, 2],
  [2, 4],
  [4, 1],
  [1, 4],
  [7, 3],
  [3, 7],
  [12, 9],
  [9, 12],
  [20, 20],
];

describe('cqr', () => {
  it('factors random float64 complex matrices: tall, square and wide (batch 3)', () => {
    const r = signedRng(61);
    for (const [m, n] of QR_SHAPES) {
      const k = Math.min(m, n);
      const items = [randomComplex(m, n, r), randomComplex(m, n, r), randomComplex(m, n, r)];
      const { Q, R, status } = runCqr(stack(items), m, n, 3);
      expect(status).toBe(-1);
      expect(Q.length).toBe(3 * 2 * m * k);
      expect(R.length).toBe(3 * 2 * k * n);
      for (let t = 0; t < 3; t++) checkCqr(items[t], m, n, item(Q, t, 2 * m * k), item(R, t, 2 * k * n), 1e-14);
    }
  });

  it('works on float32 data', () => {
    const r = signedRng(62);
    for (const [m, n] of QR_SHAPES) {
      const k = Math.min(m, n);
      const a32 = Float32Array.from(stack([randomComplex(m, n, r), randomComplex(m, n, r)]));
      const Q = new Float32Array(2 * 2 * m * k);
      const R = new Float32Array(2 * 2 * k * n);
      expect(cqr(a32, 2, m, n, Q, R)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        const a = item(a32, t, 2 * m * n);
        checkCqr(a, m, n, item(Q, t, 2 * m * k), item(R, t, 2 * k * n), 1e-5);
        const ref = runCqr(a, m, n);
        expect(bitsEqual(item(Q, t, 2 * m * k), Float32Array.from(ref.Q))).toBe(true);
        expect(bitsEqual(item(R, t, 2 * k * n), Float32Array.from(ref.R))).toBe(true);
      }
    }
  });

  it('is unique for full-rank input: a unitary times an upper triangular with a positive diagonal', () => {
    const r = signedRng(63);
    const n = 5;
    const u = randomUnitary(n, r);
    const tri = randomComplex(n, n, r);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) tri[2 * (i * n + j)] = tri[2 * (i * n + j) + 1] = 0;
      tri[2 * (i * n + i)] = 1 + i;
      tri[2 * (i * n + i) + 1] = 0;
    }
    const a = cmatmul(u, tri, n, n, n);
    const { Q, R, status } = runCqr(a, n, n);
    expect(status).toBe(-1);
    expect(maxAbsDiff(Q, u)).toBeLessThan(1e-13);
    expect(maxAbsDiff(R, tri)).toBeLessThan(1e-13);
    // a complex scalar: Q = phase, R = modulus
    const one = runCqr(new Float64Array([-3, 4]), 1, 1);
    expect(Array.from(one.R)).toEqual([5, 0]);
    expect(maxAbsDiff(one.Q, [-0.6, 0.8])).toBeLessThan(1e-16);
  });

  it('keeps Q orthonormal for rank-deficient input: zero columns, zero matrix, rank 1', () => {
    const r = signedRng(64);
    for (const [m, n] of [
      [4, 4],
      [6, 3],
      [3, 6],
      [8, 8],
    ]) {
      const k = Math.min(m, n);
      // zero column 1 (R_11 = 0 exactly when the column is zero below the first reflector too)
      const a = randomComplex(m, n, r);
      for (let i = 0; i < m; i++) a[2 * (i * n + 1)] = a[2 * (i * n + 1) + 1] = 0;
      const za = runCqr(a, m, n);
      expect(za.status).toBe(-1);
      checkCqr(a, m, n, za.Q, za.R, 1e-14);
      if (k > 1) expect(za.R[2 * (n + 1)]).toBe(0);
      // zero column 0 and a duplicated column
      const b = randomComplex(m, n, r);
      for (let i = 0; i < m; i++) {
        b[2 * i * n] = b[2 * i * n + 1] = 0;
        if (n > 2) {
          b[2 * (i * n + 2)] = b[2 * (i * n + 1)];
          b[2 * (i * n + 2) + 1] = b[2 * (i * n + 1) + 1];
        }
      }
      const zb = runCqr(b, m, n);
      expect(zb.status).toBe(-1);
      checkCqr(b, m, n, zb.Q, zb.R, 1e-14);
      expect(zb.R[0]).toBe(0);
      // zero matrix: Q = the first k columns of the identity, R = 0
      const z = runCqr(new Float64Array(2 * m * n), m, n);
      expect(z.status).toBe(-1);
      checkCqr(new Float64Array(2 * m * n), m, n, z.Q, z.R, 1e-15);
      expect(maxAbs(z.R)).toBe(0);
      // rank 1: x·yᴴ
      const c = cmatmul(randomComplex(m, 1, r), adjoint(randomComplex(n, 1, r), n, 1), m, 1, n);
      const rc = runCqr(c, m, n);
      expect(rc.status).toBe(-1);
      checkCqr(c, m, n, rc.Q, rc.R, 1e-14);
    }
  });

  it('is scale invariant (exact powers of two) and deterministic', () => {
    const r = signedRng(65);
    for (const [m, n] of [
      [5, 5],
      [7, 4],
      [3, 6],
    ]) {
      const a = randomComplex(m, n, r);
      const base = runCqr(a, m, n);
      for (const s of [2 ** 600, 2 ** -600]) {
        const res = runCqr(scaleComplex(a, s), m, n);
        expect(res.status).toBe(-1);
        expect(bitsEqual(res.Q, base.Q)).toBe(true);
        expect(bitsEqual(res.R.map((v) => v / s), base.R)).toBe(true);
      }
      const both = runCqr(stack([randomComplex(m, n, r), a]), m, n, 2);
      const k = Math.min(m, n);
      expect(bitsEqual(item(both.Q, 1, 2 * m * k), base.Q)).toBe(true);
      expect(bitsEqual(item(both.R, 1, 2 * k * n), base.R)).toBe(true);
    }
  });

  it('reports the first non-finite item, fills it with NaN, and computes the others', () => {
    const r = signedRng(66);
    for (const [m, n] of [
      [4, 4],
      [5, 3],
      [3, 5],
    ]) {
      const k = Math.min(m, n);
      const good = randomComplex(m, n, r);
      const nan = randomComplex(m, n, r);
      nan[3] = Number.NaN;
      const inf = randomComplex(m, n, r);
      inf[2 * m * n - 1] = Number.NEGATIVE_INFINITY;
      const { Q, R, status } = runCqr(stack([good, nan, inf, good]), m, n, 4);
      expect(status).toBe(1);
      for (const t of [1, 2]) {
        expect(item(Q, t, 2 * m * k).every(Number.isNaN)).toBe(true);
        expect(item(R, t, 2 * k * n).every(Number.isNaN)).toBe(true);
      }
      for (const t of [0, 3]) checkCqr(good, m, n, item(Q, t, 2 * m * k), item(R, t, 2 * k * n), 1e-14);
    }
  });
});

describe('cslogdet', () => {
  it('sign·exp(logabsdet) = cdet, |sign| = 1 (float64 batch, float32)', () => {
    const r = signedRng(71);
    for (let n = 1; n <= 8; n++) {
      const items = [randomComplex(n, n, r), randomComplex(n, n, r), randomComplex(n, n, r)];
      const { sign, logabs } = runCslogdet(stack(items), n, 3);
      for (let t = 0; t < 3; t++) {
        const [dr, di] = runCdet(items[t], n);
        const sr = sign[2 * t];
        const si = sign[2 * t + 1];
        expect(Math.abs(Math.hypot(sr, si) - 1)).toBeLessThan(1e-15);
        const e = Math.exp(logabs[t]);
        const scale = Math.hypot(dr, di);
        expect(Math.abs(sr * e - dr) + Math.abs(si * e - di)).toBeLessThan(1e-13 * scale);
      }
      const a32 = Float32Array.from(items[0]);
      const s32 = new Float32Array(2);
      const l32 = new Float32Array(1);
      expect(cslogdet(a32, 1, n, s32, l32)).toBe(-1);
      const ref = runCslogdet(Float64Array.from(a32), n);
      expect(bitsEqual(s32, Float32Array.from(ref.sign))).toBe(true);
      expect(bitsEqual(l32, Float32Array.from(ref.logabs))).toBe(true);
    }
  });

  it('matches known values: i·I, a permutation, a 1x1', () => {
    const iI = new Float64Array(18);
    for (let i = 0; i < 3; i++) iI[2 * (i * 3 + i) + 1] = 2;
    const a = runCslogdet(iI, 3); // det = (2i)^3 = -8i
    expect(Array.from(a.sign)).toEqual([0, -1]);
    expect(Math.abs(a.logabs[0] - Math.log(8))).toBeLessThan(1e-15);
    const p = runCslogdet(new Float64Array([0, 0, 1, 0, 1, 0, 0, 0]), 2);
    expect(Array.from(p.sign)).toEqual([-1, 0]);
    expect(Array.from(p.logabs)).toEqual([0]);
    const one = runCslogdet(new Float64Array([3, -4]), 1);
    expect(maxAbsDiff(one.sign, [0.6, -0.8])).toBeLessThan(1e-15);
    expect(Math.abs(one.logabs[0] - Math.log(5))).toBeLessThan(1e-15);
  });

  it('gives sign 0 and -Infinity for singular items, NaN for non-finite ones, and never fails', () => {
    const r = signedRng(72);
    const n = 4;
    const good = randomComplex(n, n, r);
    const singular = randomComplex(n, n, r);
    // a zero row: an exact zero pivot (a repeated row need not give one: the complex reciprocal rounds)
    for (let j = 0; j < 2 * n; j++) singular[2 * n + j] = 0;
    const nan = randomComplex(n, n, r);
    nan[6] = Number.NaN;
    const inf = randomComplex(n, n, r);
    inf[1] = Number.POSITIVE_INFINITY;
    const { sign, logabs } = runCslogdet(stack([good, singular, nan, new Float64Array(2 * n * n), inf, good]), n, 6);
    for (const t of [1, 3]) {
      expect(Object.is(sign[2 * t], 0) && Object.is(sign[2 * t + 1], 0)).toBe(true);
      expect(logabs[t]).toBe(Number.NEGATIVE_INFINITY);
    }
    for (const t of [2, 4]) {
      expect(Number.isNaN(sign[2 * t]) && Number.isNaN(sign[2 * t + 1]) && Number.isNaN(logabs[t])).toBe(true);
    }
    expect(bitsEqual(sign.subarray(0, 2), sign.subarray(10, 12))).toBe(true);
    expect(logabs[5]).toBe(logabs[0]);
  });

  it('does not overflow: a 40x40 matrix scaled by 2^30 (det ~ 2^1200) and huge or tiny entries', () => {
    const r = signedRng(73);
    const n = 40;
    const a = randomComplex(n, n, r);
    for (let i = 0; i < n; i++) a[2 * (i * n + i)] += 4; // well conditioned
    const base = runCslogdet(a, n);
    const [dr, di] = runCdet(a, n);
    expect(Math.abs(base.sign[0] * Math.exp(base.logabs[0]) - dr)).toBeLessThan(1e-12 * Math.hypot(dr, di));
    expect(Math.abs(base.sign[1] * Math.exp(base.logabs[0]) - di)).toBeLessThan(1e-12 * Math.hypot(dr, di));
    const big = scaleComplex(a, 2 ** 30);
    const [br, bi] = runCdet(big, n);
    expect(Number.isFinite(br) && Number.isFinite(bi)).toBe(false); // the determinant itself overflows
    const res = runCslogdet(big, n);
    expect(Number.isFinite(res.logabs[0])).toBe(true);
    expect(res.logabs[0]).toBeGreaterThan(Math.log(Number.MAX_VALUE));
    expect(Math.abs(res.logabs[0] - (base.logabs[0] + n * 30 * Math.LN2))).toBeLessThan(1e-12 * res.logabs[0]);
    expect(bitsEqual(res.sign, base.sign)).toBe(true);
    // entries of 2^±900 (scaled inside): log|det| shifts by ±n·900·ln2
    for (const e of [900, -900]) {
      const s = runCslogdet(scaleComplex(a, 2 ** e), n);
      expect(Math.abs(s.logabs[0] - (base.logabs[0] + n * e * Math.LN2))).toBeLessThan(1e-12 * n * 900);
      expect(maxAbsDiff(s.sign, base.sign)).toBeLessThan(1e-15);
    }
  });
});

// ---------- ceig (general complex eigendecomposition) ----------

function runCeig(a: FloatArray, n: number, batch = 1) {
  const L = new Float64Array(batch * 2 * n);
  const V = new Float64Array(batch * 2 * n * n);
  const status = ceig(a, batch, n, L, V);
  return { L, V, status };
}

/** max |A·V − V·diag(L)| / (max|A|·n) (max|A| := 1 for the zero matrix). */
function ceigResidual(a: ArrayLike<number>, n: number, L: ArrayLike<number>, V: ArrayLike<number>): number {
  const av = cmatmul(a, V, n, n, n);
  const vl = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const vr = V[2 * (i * n + j)];
      const vi = V[2 * (i * n + j) + 1];
      vl[2 * (i * n + j)] = vr * L[2 * j] - vi * L[2 * j + 1];
      vl[2 * (i * n + j) + 1] = vr * L[2 * j + 1] + vi * L[2 * j];
    }
  }
  return maxAbsDiff(av, vl) / ((maxAbs(a) || 1) * n);
}

/** Residual, unit columns, gauge, and the (re, im) ascending order. */
function checkCeig(a: ArrayLike<number>, n: number, L: ArrayLike<number>, V: ArrayLike<number>, tol: number): void {
  expect(Array.from(L).every(Number.isFinite) && Array.from(V).every(Number.isFinite)).toBe(true);
  expect(ceigResidual(a, n, L, V)).toBeLessThan(tol);
  for (let j = 0; j < n; j++) {
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += V[2 * (i * n + j)] ** 2 + V[2 * (i * n + j) + 1] ** 2;
    expect(Math.abs(Math.sqrt(nrm) - 1)).toBeLessThan(tol);
  }
  checkGauge(V, n, tol);
  for (let j = 1; j < n; j++) {
    const ordered = L[2 * j - 2] < L[2 * j] || (L[2 * j - 2] === L[2 * j] && L[2 * j - 1] <= L[2 * j + 1]);
    expect(ordered).toBe(true);
  }
}

/** Each expected eigenvalue (re, im pairs) is matched, one to one, by a computed one within tol. */
function expectSpectrum(L: ArrayLike<number>, expected: [number, number][], tol: number): void {
  const used = new Array<boolean>(expected.length).fill(false);
  for (let j = 0; j < expected.length; j++) {
    let best = -1;
    let bd = Infinity;
    for (let k = 0; k < expected.length; k++) {
      if (used[k]) continue;
      const d = Math.hypot(L[2 * j] - expected[k][0], L[2 * j + 1] - expected[k][1]);
      if (d < bd) {
        bd = d;
        best = k;
      }
    }
    expect(bd).toBeLessThan(tol);
    used[best] = true;
  }
}

/** S·diag(d)·S⁻¹ for a random complex S (d complex, as (re, im) pairs). */
function withEigenvalues(d: [number, number][], r: () => number): Float64Array {
  const n = d.length;
  const s = randomComplex(n, n, r);
  for (let i = 0; i < n; i++) s[2 * (i * n + i)] += 2; // well conditioned
  const sinv = new Float64Array(2 * n * n);
  expect(cinv(s, 1, n, sinv)).toBe(-1);
  const sd = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const xr = s[2 * (i * n + j)];
      const xi = s[2 * (i * n + j) + 1];
      sd[2 * (i * n + j)] = xr * d[j][0] - xi * d[j][1];
      sd[2 * (i * n + j) + 1] = xr * d[j][1] + xi * d[j][0];
    }
  }
  return cmatmul(sd, sinv, n, n, n);
}

describe('ceig', () => {
  it('decomposes random complex float64 matrices (n = 1..8, 16; batch 3)', () => {
    const r = signedRng(81);
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 16]) {
      const items = [randomComplex(n, n, r), randomComplex(n, n, r), scaleComplex(randomComplex(n, n, r), 1e3)];
      const { L, V, status } = runCeig(stack(items), n, 3);
      expect(status).toBe(-1);
      for (let t = 0; t < 3; t++) checkCeig(items[t], n, item(L, t, 2 * n), item(V, t, 2 * n * n), 1e-12);
    }
  });

  it('works on float32 data', () => {
    const r = signedRng(82);
    for (const n of [1, 3, 4, 8]) {
      const a32 = Float32Array.from(stack([randomComplex(n, n, r), randomComplex(n, n, r)]));
      const L = new Float32Array(2 * 2 * n);
      const V = new Float32Array(2 * 2 * n * n);
      expect(ceig(a32, 2, n, L, V)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        const a = item(a32, t, 2 * n * n);
        checkCeig(a, n, item(L, t, 2 * n), item(V, t, 2 * n * n), 1e-5);
        const ref = runCeig(a, n);
        expect(bitsEqual(item(L, t, 2 * n), Float32Array.from(ref.L))).toBe(true);
        expect(bitsEqual(item(V, t, 2 * n * n), Float32Array.from(ref.V))).toBe(true);
      }
    }
  });

  it('gives complex-conjugate pairs for real matrices (rotation blocks, random real)', () => {
    // a 2x2 rotation by θ: e^{±iθ}
    const th = 0.7;
    const rot = new Float64Array([Math.cos(th), 0, -Math.sin(th), 0, Math.sin(th), 0, Math.cos(th), 0]);
    const a = runCeig(rot, 2);
    expect(a.status).toBe(-1);
    checkCeig(rot, 2, a.L, a.V, 1e-14);
    expectSpectrum(a.L, [[Math.cos(th), -Math.sin(th)], [Math.cos(th), Math.sin(th)]], 1e-15);
    // the eigenvectors of the rotation are (1, ∓i)/√2 up to phase
    for (let j = 0; j < 2; j++) expect(Math.abs(Math.hypot(a.V[2 * j], a.V[2 * j + 1]) - Math.SQRT1_2)).toBeLessThan(1e-15);
    const r = signedRng(83);
    for (const n of [3, 4, 5, 6, 7, 8, 16]) {
      const real = new Float64Array(2 * n * n);
      for (let i = 0; i < n * n; i++) real[2 * i] = r();
      const { L, V, status } = runCeig(real, n);
      expect(status).toBe(-1);
      checkCeig(real, n, L, V, 1e-12);
      // the spectrum is closed under conjugation
      const conj: [number, number][] = [];
      for (let j = 0; j < n; j++) conj.push([L[2 * j], -L[2 * j + 1]]);
      expectSpectrum(L, conj, 1e-12);
      let nComplex = 0;
      for (let j = 0; j < n; j++) if (Math.abs(L[2 * j + 1]) > 1e-6) nComplex++;
      if (n >= 6) expect(nComplex).toBeGreaterThan(0);
    }
    // a real block-diagonal matrix with a rotation-scaling block [[1, -2], [2, 1]] (1 ± 2i) and 3
    const blk = withEigenvalues([[1, 2], [1, -2], [3, 0]], signedRng(84));
    const b = runCeig(blk, 3);
    checkCeig(blk, 3, b.L, b.V, 1e-12);
    expectSpectrum(b.L, [[1, -2], [1, 2], [3, 0]], 1e-12);
  });

  it('agrees with ceigh on Hermitian matrices', () => {
    const r = signedRng(85);
    for (const n of [2, 3, 5, 8, 16]) {
      const a = randomHermitian(n, r);
      const g = runCeig(a, n);
      const h = runCeigh(a, n);
      expect(g.status).toBe(-1);
      checkCeig(a, n, g.L, g.V, 1e-12);
      for (let j = 0; j < n; j++) {
        expect(Math.abs(g.L[2 * j] - h.L[j])).toBeLessThan(1e-13 * n);
        expect(Math.abs(g.L[2 * j + 1])).toBeLessThan(1e-13 * n);
      }
    }
  });

  it('returns the diagonal of a triangular matrix', () => {
    const r = signedRng(86);
    for (const n of [2, 4, 7]) {
      const up = randomComplex(n, n, r);
      const lo = randomComplex(n, n, r);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < i; j++) {
          up[2 * (i * n + j)] = 0;
          up[2 * (i * n + j) + 1] = 0;
          lo[2 * (j * n + i)] = 0;
          lo[2 * (j * n + i) + 1] = 0;
        }
      }
      for (const [a, exact] of [
        [up, true],
        [lo, false],
      ] as const) {
        const diag: [number, number][] = [];
        for (let i = 0; i < n; i++) diag.push([a[2 * (i * n + i)], a[2 * (i * n + i) + 1]]);
        diag.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        const { L, V, status } = runCeig(a, n);
        expect(status).toBe(-1);
        checkCeig(a, n, L, V, 1e-12);
        // upper triangular: already in Schur form, so the eigenvalues are the diagonal exactly
        if (exact) expect(Array.from(L)).toEqual(diag.flat());
        else expect(maxAbsDiff(L, diag.flat())).toBeLessThan(1e-13);
      }
    }
  });

  it('gives finite vectors for repeated eigenvalues and defective (Jordan) matrices', () => {
    const r = signedRng(87);
    // diagonalizable with a repeated eigenvalue
    for (const d of [
      [[1, 0], [1, 0], [2, 0]],
      [[0.5, -1], [0.5, -1], [0.5, -1], [-2, 0.25]],
    ] as [number, number][][]) {
      const n = d.length;
      const a = withEigenvalues(d, r);
      const { L, V, status } = runCeig(a, n);
      expect(status).toBe(-1);
      checkCeig(a, n, L, V, 1e-12);
      expectSpectrum(L, d, 1e-7);
    }
    // exact repeated diagonal (zero denominators in the back-substitution): the identity, a multiple
    for (const n of [1, 3, 6]) {
      const id = ceye(n).map((v) => (v === 1 ? -1.5 : 0));
      const { L, V, status } = runCeig(id, n);
      expect(status).toBe(-1);
      checkCeig(id, n, L, V, 1e-15);
      expect(Array.from(L)).toEqual(new Array(n).fill([-1.5, 0]).flat());
      expect(maxAbsDiff(V, ceye(n))).toBe(0);
    }
    // Jordan blocks (triangular and similarity-transformed): finite outputs, small residual
    for (const n of [2, 3, 5]) {
      const j = new Float64Array(2 * n * n);
      for (let i = 0; i < n; i++) {
        j[2 * (i * n + i)] = 1;
        j[2 * (i * n + i) + 1] = -0.5;
        if (i + 1 < n) j[2 * (i * n + i + 1)] = 1;
      }
      const q = randomUnitary(n, r);
      const jq = cmatmul(cmatmul(q, j, n, n, n), adjoint(q, n, n), n, n, n);
      for (const a of [j, jq]) {
        const res = runCeig(a, n);
        expect(res.status).toBe(-1);
        checkCeig(a, n, res.L, res.V, 1e-12);
        // a rounding-size perturbation moves a Jordan block's eigenvalue by ~EPS^(1/n)
        expectSpectrum(res.L, new Array(n).fill([1, -0.5]) as [number, number][], 10 * 2.2e-16 ** (1 / n));
      }
    }
  });

  it('handles the zero matrix, 1x1 and cyclic permutations (roots of unity)', () => {
    for (const n of [1, 2, 5]) {
      const z = runCeig(new Float64Array(2 * n * n), n);
      expect(z.status).toBe(-1);
      expect(maxAbs(z.L)).toBe(0);
      expect(maxAbsDiff(z.V, ceye(n))).toBe(0);
    }
    const one = runCeig(new Float64Array([-3.5, 2]), 1);
    expect(Array.from(one.L)).toEqual([-3.5, 2]);
    expect(Array.from(one.V)).toEqual([1, 0]);
    for (const n of [2, 3, 4, 5, 8]) {
      const p = new Float64Array(2 * n * n);
      for (let i = 0; i < n; i++) p[2 * (i * n + ((i + 1) % n))] = 1;
      const { L, V, status } = runCeig(p, n);
      expect(status).toBe(-1);
      checkCeig(p, n, L, V, 1e-13);
      const roots: [number, number][] = [];
      for (let k = 0; k < n; k++) roots.push([Math.cos((2 * Math.PI * k) / n), Math.sin((2 * Math.PI * k) / n)]);
      expectSpectrum(L, roots, 1e-13);
    }
  });

  it('is scale invariant and deterministic, independent of the batch position', () => {
    const r = signedRng(88);
    const n = 6;
    const a = randomComplex(n, n, r);
    const base = runCeig(a, n);
    expect(bitsEqual(runCeig(a, n).V, base.V)).toBe(true);
    for (const s of [2 ** 600, 2 ** -600]) {
      const res = runCeig(scaleComplex(a, s), n);
      expect(res.status).toBe(-1);
      expect(bitsEqual(res.L.map((v) => v / s), base.L)).toBe(true);
      expect(bitsEqual(res.V, base.V)).toBe(true);
    }
    const both = runCeig(stack([randomComplex(n, n, r), a, randomComplex(n, n, r)]), n, 3);
    expect(bitsEqual(item(both.L, 1, 2 * n), base.L)).toBe(true);
    expect(bitsEqual(item(both.V, 1, 2 * n * n), base.V)).toBe(true);
  });

  it('reports the first non-finite item and still computes the others', () => {
    const r = signedRng(89);
    const n = 4;
    const good = randomComplex(n, n, r);
    const bad = randomComplex(n, n, r);
    bad[2 * (1 * n + 2) + 1] = Number.NaN;
    const inf = randomComplex(n, n, r);
    inf[0] = Number.POSITIVE_INFINITY;
    const good2 = randomComplex(n, n, r);
    const { L, V, status } = runCeig(stack([good, bad, good2, inf]), n, 4);
    expect(status).toBe(1);
    for (const t of [1, 3]) {
      expect(item(L, t, 2 * n).every(Number.isNaN)).toBe(true);
      expect(item(V, t, 2 * n * n).every(Number.isNaN)).toBe(true);
    }
    checkCeig(good, n, item(L, 0, 2 * n), item(V, 0, 2 * n * n), 1e-12);
    checkCeig(good2, n, item(L, 2, 2 * n), item(V, 2, 2 * n * n), 1e-12);
    const alone = runCeig(good2, n);
    expect(bitsEqual(item(L, 2, 2 * n), alone.L)).toBe(true);
  });
});
