import { describe, expect, it } from 'vitest';
import { bitsEqual, item, maxAbs, maxAbsDiff, signedRng, stack } from './helpers/arrays.js';
import {
  cholesky,
  det,
  EIGH_JACOBI_MAX_N,
  eig,
  eigh,
  inv,
  qr,
  slogdet,
  solve,
  svd,
} from '../src/linalg/kernels.js';

// ---------- helpers (independent of the kernels under test) ----------

function randomMatrix(m: number, n: number, r: () => number): Float64Array {
  const a = new Float64Array(m * n);
  for (let i = 0; i < a.length; i++) a[i] = r();
  return a;
}

function randomSymmetric(n: number, r: () => number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = r();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j];
    }
  }
  return c;
}

function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

function eye(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  return a;
}

/** Random orthogonal matrix by Gram-Schmidt on a random matrix. */
function randomOrthogonal(n: number, r: () => number): Float64Array {
  const q = randomMatrix(n, n, r); // columns orthonormalized in place
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let l = 0; l < j; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * n + l] * q[i * n + j];
        for (let i = 0; i < n; i++) q[i * n + j] -= dot * q[i * n + l];
      }
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += q[i * n + j] ** 2;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < n; i++) q[i * n + j] /= nrm;
  }
  return q;
}

/** Q·diag(d)·Qᵀ for a random orthogonal Q. */
function symmetricWithSpectrum(d: number[], r: () => number): Float64Array {
  const n = d.length;
  const q = randomOrthogonal(n, r);
  const qd = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) qd[i * n + j] = q[i * n + j] * d[j];
  const a = matmul(qd, transpose(q, n, n), n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j]; // exactly symmetric
  return a;
}

/** Gauss-Jordan inverse with partial pivoting (reference for building test matrices). */
function refInverse(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = eye(n);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(m[i * n + c]) > Math.abs(m[p * n + c])) p = i;
    for (let j = 0; j < n; j++) {
      [m[c * n + j], m[p * n + j]] = [m[p * n + j], m[c * n + j]];
      [x[c * n + j], x[p * n + j]] = [x[p * n + j], x[c * n + j]];
    }
    const d = m[c * n + c];
    for (let j = 0; j < n; j++) {
      m[c * n + j] /= d;
      x[c * n + j] /= d;
    }
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const f = m[i * n + c];
      for (let j = 0; j < n; j++) {
        m[i * n + j] -= f * m[c * n + j];
        x[i * n + j] -= f * x[c * n + j];
      }
    }
  }
  return x;
}

/** S·diag(d)·S⁻¹ for a random well-conditioned S (a non-symmetric matrix with real spectrum d). */
function nonSymmetricWithSpectrum(d: number[], r: () => number): Float64Array {
  const n = d.length;
  const s = randomMatrix(n, n, r);
  for (let i = 0; i < n; i++) s[i * n + i] += 2; // keep S well conditioned
  const sd = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sd[i * n + j] = s[i * n + j] * d[j];
  return matmul(sd, refInverse(s, n), n, n, n);
}

// ---------- invariant checks ----------

function checkOrthonormalColumns(q: ArrayLike<number>, m: number, k: number, tol: number): void {
  const qtq = matmul(transpose(q, m, k), q, k, m, k);
  expect(maxAbsDiff(qtq, eye(k))).toBeLessThan(tol);
}

function checkLargestComponentPositive(v: ArrayLike<number>, n: number): void {
  for (let j = 0; j < n; j++) {
    let best = 0;
    let bi = 0;
    for (let i = 0; i < n; i++) {
      if (Math.abs(v[i * n + j]) > best + 1e-6) {
        best = Math.abs(v[i * n + j]);
        bi = i;
      }
    }
    expect(v[bi * n + j]).toBeGreaterThan(0);
  }
}

/** Checks eigh's outputs for one item: A·V = V·diag(λ), VᵀV = I, ascending, sign convention. */
function checkEigh(
  a: Float64Array,
  n: number,
  values: Float64Array,
  vectors: Float64Array,
  tol: number,
): void {
  const scale = Math.max(1, maxAbs(a));
  const av = matmul(a, vectors, n, n, n);
  const vl = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vl[i * n + j] = vectors[i * n + j] * values[j];
  expect(maxAbsDiff(av, vl) / scale).toBeLessThan(tol);
  checkOrthonormalColumns(vectors, n, n, tol);
  for (let j = 1; j < n; j++) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1]);
  checkLargestComponentPositive(vectors, n);
}

function checkSvd(
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
  const us = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) us[i * k + j] = U[i * k + j] * S[j];
  expect(maxAbsDiff(matmul(us, Vh, m, k, n), a) / scale).toBeLessThan(tol);
  checkOrthonormalColumns(U, m, k, tol);
  checkOrthonormalColumns(transpose(Vh, k, n), n, k, tol);
  for (let j = 0; j < k; j++) expect(S[j]).toBeGreaterThanOrEqual(0);
  for (let j = 1; j < k; j++) expect(S[j]).toBeLessThanOrEqual(S[j - 1]);
}

function runEigh(a: Float64Array, n: number) {
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  const status = eigh(a, 1, n, values, vectors);
  return { values, vectors, status };
}

function runSvd(a: Float64Array, m: number, n: number) {
  const k = Math.min(m, n);
  const U = new Float64Array(m * k);
  const S = new Float64Array(k);
  const Vh = new Float64Array(k * n);
  const status = svd(a, 1, m, n, U, S, Vh);
  return { U, S, Vh, status };
}

// ---------- eigh ----------

describe('eigh', () => {
  it('decomposes a batch of random symmetric float64 matrices on both the Jacobi and the QL path', () => {
    const r = signedRng(1);
    for (const n of [1, 2, 3, 4, 5, 8, EIGH_JACOBI_MAX_N + 1, 17]) {
      const batch = 3;
      const mats = [0, 1, 2].map(() => randomSymmetric(n, r));
      const values = new Float64Array(batch * n);
      const vectors = new Float64Array(batch * n * n);
      expect(eigh(stack(mats), batch, n, values, vectors)).toBe(-1);
      for (let t = 0; t < batch; t++) {
        checkEigh(mats[t], n, item(values, t, n), item(vectors, t, n * n), 1e-13);
      }
    }
  });

  it('handles n = 33 and n = 40 (tridiagonal + QL path)', () => {
    const r = signedRng(2);
    for (const n of [33, 40]) {
      const a = randomSymmetric(n, r);
      const { values, vectors, status } = runEigh(a, n);
      expect(status).toBe(-1);
      checkEigh(a, n, values, vectors, 1e-12);
    }
  });

  it('matches a known spectrum', () => {
    const r = signedRng(3);
    const d = [-2.5, -1, 0.25, 3, 7];
    const { values, status } = runEigh(symmetricWithSpectrum([7, -1, 3, -2.5, 0.25], r), 5);
    expect(status).toBe(-1);
    expect(maxAbsDiff(values, d)).toBeLessThan(1e-13);
  });

  it('reads only the lower triangle', () => {
    const r = signedRng(4);
    for (const n of [3, 6]) {
      const a = randomSymmetric(n, r);
      const garbage = Float64Array.from(a);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) garbage[i * n + j] = 100 * r();
      const x = runEigh(a, n);
      const y = runEigh(garbage, n);
      expect(bitsEqual(x.values, y.values)).toBe(true);
      expect(bitsEqual(x.vectors, y.vectors)).toBe(true);
    }
  });

  it('handles degenerate inputs: identity, repeated eigenvalues, zero matrix, 1x1', () => {
    const r = signedRng(5);
    for (const n of [2, 3, 6, 40]) {
      const I = runEigh(eye(n), n);
      expect(I.status).toBe(-1);
      expect(maxAbsDiff(I.values, new Float64Array(n).fill(1))).toBe(0);
      checkEigh(eye(n), n, I.values, I.vectors, 1e-14);

      const Z = runEigh(new Float64Array(n * n), n);
      expect(Z.status).toBe(-1);
      expect(maxAbs(Z.values)).toBe(0);
      checkOrthonormalColumns(Z.vectors, n, n, 1e-14);
    }
    for (const n of [3, 5, 12]) {
      const d = Array.from({ length: n }, (_, i) => (i < 2 ? 1.5 : i));
      const a = symmetricWithSpectrum(d, r);
      const { values, vectors, status } = runEigh(a, n);
      expect(status).toBe(-1);
      checkEigh(a, n, values, vectors, 1e-13);
      expect(Math.abs(values[0] - 1.5)).toBeLessThan(1e-13);
      expect(Math.abs(values[1] - 1.5)).toBeLessThan(1e-13);
    }
    const one = runEigh(new Float64Array([-3.5]), 1);
    expect(Array.from(one.values)).toEqual([-3.5]);
    expect(Array.from(one.vectors)).toEqual([1]);
  });

  it('computes float32 inputs and outputs in float64 internally', () => {
    const r = signedRng(6);
    for (const n of [3, 8]) {
      const a64 = randomSymmetric(n, r);
      const a32 = Float32Array.from(a64);
      const values = new Float32Array(2 * n);
      const vectors = new Float32Array(2 * n * n);
      const both = new Float32Array(2 * n * n);
      both.set(a32, 0);
      both.set(a32, n * n);
      expect(eigh(both, 2, n, values, vectors)).toBe(-1);
      checkEigh(Float64Array.from(a32), n, item(values, 1, n), item(vectors, 1, n * n), 2e-6);
      // float64 reference on the same (rounded) input, then rounded: results agree to float32 precision
      const ref = runEigh(Float64Array.from(a32), n);
      expect(maxAbsDiff(item(values, 0, n), Float32Array.from(ref.values))).toBe(0);
    }
  });

  it('is deterministic and independent of the batch position', () => {
    const r = signedRng(7);
    const n = 8;
    const a = randomSymmetric(n, r);
    const b = randomSymmetric(n, r);
    const v1 = new Float64Array(2 * n);
    const w1 = new Float64Array(2 * n * n);
    eigh(stack([a, b]), 2, n, v1, w1);
    const x = runEigh(b, n);
    const y = runEigh(b, n);
    expect(bitsEqual(x.values, item(v1, 1, n))).toBe(true);
    expect(bitsEqual(x.vectors, item(w1, 1, n * n))).toBe(true);
    expect(bitsEqual(x.values, y.values) && bitsEqual(x.vectors, y.vectors)).toBe(true);
  });

  it('reports a non-finite item and still computes the others', () => {
    const r = signedRng(8);
    const n = 4;
    const good = randomSymmetric(n, r);
    const bad = randomSymmetric(n, r);
    bad[5] = Number.NaN;
    const values = new Float64Array(3 * n);
    const vectors = new Float64Array(3 * n * n);
    expect(eigh(stack([good, bad, bad]), 3, n, values, vectors)).toBe(1);
    expect(item(values, 1, n).every(Number.isNaN)).toBe(true);
    expect(item(vectors, 2, n * n).every(Number.isNaN)).toBe(true);
    checkEigh(good, n, item(values, 0, n), item(vectors, 0, n * n), 1e-13);
  });

  it('is scale invariant (no overflow for huge or tiny entries)', () => {
    const r = signedRng(9);
    const n = 5;
    const a = randomSymmetric(n, r);
    const base = runEigh(a, n);
    for (const s of [2 ** 600, 2 ** -600]) {
      const scaled = a.map((v) => v * s);
      const { values, vectors, status } = runEigh(scaled, n);
      expect(status).toBe(-1);
      expect(bitsEqual(values.map((v) => v / s), base.values)).toBe(true);
      expect(bitsEqual(vectors, base.vectors)).toBe(true);
    }
  });
});

// ---------- svd ----------

describe('svd', () => {
  it('decomposes random float64 matrices of many shapes (batch 2)', () => {
    const r = signedRng(10);
    const shapes: [number, number][] = [
      [1, 1],
      [1, 4],
      [4, 1],
      [2, 2],
      [8, 8],
      [5, 3],
      [3, 5],
      [7, 9],
      [40, 12],
      [12, 40],
      [30, 30],
    ];
    for (const [m, n] of shapes) {
      const k = Math.min(m, n);
      const mats = [randomMatrix(m, n, r), randomMatrix(m, n, r)];
      const U = new Float64Array(2 * m * k);
      const S = new Float64Array(2 * k);
      const Vh = new Float64Array(2 * k * n);
      expect(svd(stack(mats), 2, m, n, U, S, Vh)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        checkSvd(mats[t], m, n, item(U, t, m * k), item(S, t, k), item(Vh, t, k * n), 1e-13);
      }
    }
  });

  it('matches known singular values', () => {
    const r = signedRng(11);
    const m = 6;
    const n = 4;
    const sigma = [5, 3, 1, 0.001];
    const u = randomOrthogonal(m, r);
    const v = randomOrthogonal(n, r);
    const a = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < n; l++) s += u[i * m + l] * sigma[l] * v[j * n + l];
        a[i * n + j] = s;
      }
    }
    const { S, status } = runSvd(a, m, n);
    expect(status).toBe(-1);
    expect(maxAbsDiff(S, sigma)).toBeLessThan(1e-14);
    expect(runSvd(transpose(a, m, n), n, m).S).toEqual(S);
  });

  it('completes orthonormal bases for rank-deficient and zero matrices', () => {
    const r = signedRng(12);
    const cases: [number, number, number][] = [
      [6, 6, 2],
      [5, 3, 1],
      [3, 5, 1],
      [8, 8, 7],
      [10, 4, 0],
      [4, 10, 0],
    ];
    for (const [m, n, rank] of cases) {
      const a =
        rank === 0
          ? new Float64Array(m * n)
          : matmul(randomMatrix(m, rank, r), randomMatrix(rank, n, r), m, rank, n);
      const { U, S, Vh, status } = runSvd(a, m, n);
      expect(status).toBe(-1);
      checkSvd(a, m, n, U, S, Vh, 1e-13);
      for (let j = rank; j < Math.min(m, n); j++) expect(S[j]).toBeLessThan(1e-14);
      if (rank > 0) expect(S[rank - 1]).toBeGreaterThan(1e-3);
    }
    // duplicate columns give exactly dependent columns
    const dup = new Float64Array([1, 1, 2, 2, 3, 3]);
    const d = runSvd(dup, 3, 2);
    checkSvd(dup, 3, 2, d.U, d.S, d.Vh, 1e-14);
    expect(d.S[1]).toBeLessThan(1e-15);
    // larger matrices with every column (or row) duplicated: the dependent half shrinks to noise and then to
    // exact zeros during the sweeps, and the singular vectors must stay orthonormal throughout
    for (const [m, n] of [
      [16, 16],
      [20, 10],
      [10, 20],
    ] as [number, number][]) {
      for (let rep = 0; rep < 5; rep++) {
        const a = randomMatrix(m, n, r);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            if (m >= n && j % 2 === 1) a[i * n + j] = a[i * n + j - 1];
            if (m < n && i % 2 === 1) a[i * n + j] = a[(i - 1) * n + j];
          }
        }
        const res = runSvd(a, m, n);
        expect(res.status).toBe(-1);
        checkSvd(a, m, n, res.U, res.S, res.Vh, 1e-13);
        expect(res.S[Math.min(m, n) - 1]).toBeLessThan(1e-14);
      }
    }
  });

  it('is scale invariant (no overflow or underflow for huge or tiny entries)', () => {
    const r = signedRng(16);
    for (const [m, n] of [
      [5, 5],
      [6, 3],
      [3, 6],
    ] as [number, number][]) {
      const a = randomMatrix(m, n, r);
      const base = runSvd(a, m, n);
      // signedRng() values have at most 32 significant bits, so even the subnormal scaling 2^-1040 is exact
      for (const s of [2 ** 700, 2 ** -700, 2 ** -1040]) {
        const res = runSvd(
          a.map((v) => v * s),
          m,
          n,
        );
        expect(res.status).toBe(-1);
        expect(bitsEqual(res.U, base.U) && bitsEqual(res.Vh, base.Vh)).toBe(true);
        if (s > 2 ** -1000) expect(bitsEqual(res.S.map((v) => v / s), base.S)).toBe(true);
        else expect(maxAbsDiff(res.S.map((v) => v / s), base.S)).toBeLessThan(1e-9 * base.S[0]);
      }
    }
  });

  it('handles the identity and 1x1 matrices', () => {
    for (const n of [1, 3, 8]) {
      const { U, S, Vh, status } = runSvd(eye(n), n, n);
      expect(status).toBe(-1);
      expect(Array.from(S)).toEqual(new Array(n).fill(1));
      checkSvd(eye(n), n, n, U, S, Vh, 1e-15);
    }
    const neg = runSvd(new Float64Array([-2]), 1, 1);
    expect(Array.from(neg.S)).toEqual([2]);
    expect(neg.U[0] * neg.Vh[0]).toBe(-1);
  });

  it('works on float32 data', () => {
    const r = signedRng(13);
    for (const [m, n] of [
      [6, 4],
      [4, 6],
      [8, 8],
    ] as [number, number][]) {
      const k = Math.min(m, n);
      const a32 = Float32Array.from(randomMatrix(m, n, r));
      const U = new Float32Array(m * k);
      const S = new Float32Array(k);
      const Vh = new Float32Array(k * n);
      expect(svd(a32, 1, m, n, U, S, Vh)).toBe(-1);
      const [a64, U64, S64, Vh64] = [a32, U, S, Vh].map((x) => Float64Array.from(x));
      checkSvd(a64, m, n, U64, S64, Vh64, 2e-6);
    }
  });

  it('is deterministic and reports non-finite items', () => {
    const r = signedRng(14);
    const m = 5;
    const n = 4;
    const a = randomMatrix(m, n, r);
    const x = runSvd(a, m, n);
    const y = runSvd(a, m, n);
    expect(bitsEqual(x.U, y.U) && bitsEqual(x.S, y.S) && bitsEqual(x.Vh, y.Vh)).toBe(true);
    const bad = Float64Array.from(a);
    bad[3] = Number.POSITIVE_INFINITY;
    const U = new Float64Array(2 * m * n);
    const S = new Float64Array(2 * n);
    const Vh = new Float64Array(2 * n * n);
    expect(svd(stack([bad, a]), 2, m, n, U, S, Vh)).toBe(0);
    expect(item(S, 0, n).every(Number.isNaN)).toBe(true);
    expect(item(U, 0, m * n).every(Number.isNaN)).toBe(true);
    expect(bitsEqual(item(S, 1, n), x.S)).toBe(true);
  });

  it('keeps tiny singular values accurate relative to themselves (graded matrix)', () => {
    // columns scaled by 1, 1e-5, 1e-10: one-sided Jacobi recovers each singular value to high
    // relative accuracy
    const r = signedRng(15);
    const n = 3;
    const b = randomOrthogonal(n, r);
    const a = new Float64Array(n * n);
    const scales = [1, 1e-5, 1e-10];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = b[i * n + j] * scales[j];
    const { S } = runSvd(a, n, n);
    for (let j = 0; j < n; j++) expect(Math.abs(S[j] - scales[j]) / scales[j]).toBeLessThan(1e-12);
  });

  it('keeps its accuracy on the unrolled path for 6..8 rows or columns (graded, duplicated, rank-deficient)', () => {
    const r = signedRng(17);
    for (const n of [6, 7, 8]) {
      // A = B·D and A = D·B with B orthogonal: the singular values are D's, down to 1e-2(n-1)
      const b = randomOrthogonal(n, r);
      const scales = Array.from({ length: n }, (_, j) => 10 ** (-2 * j));
      for (const byColumn of [true, false]) {
        const a = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) a[i * n + j] = b[i * n + j] * scales[byColumn ? j : i];
        }
        const res = runSvd(a, n, n);
        expect(res.status).toBe(-1);
        checkSvd(a, n, n, res.U, res.S, res.Vh, 1e-14);
        for (let j = 0; j < n; j++) expect(Math.abs(res.S[j] - scales[j]) / scales[j]).toBeLessThan(1e-12);
      }
    }
    for (const [m, n, rank] of [
      [8, 6, 3],
      [6, 8, 3],
      [7, 7, 4],
      [8, 8, 1],
    ] as [number, number, number][]) {
      const a = matmul(randomMatrix(m, rank, r), randomMatrix(rank, n, r), m, rank, n);
      const res = runSvd(a, m, n);
      expect(res.status).toBe(-1);
      checkSvd(a, m, n, res.U, res.S, res.Vh, 1e-13);
      for (let j = rank; j < Math.min(m, n); j++) expect(res.S[j]).toBeLessThan(1e-14);
    }
    for (const [m, n] of [
      [8, 8],
      [8, 7],
      [7, 8],
    ] as [number, number][]) {
      const a = randomMatrix(m, n, r);
      for (let i = 0; i < m; i++) for (let j = 1; j < n; j += 2) a[i * n + j] = a[i * n + j - 1]; // duplicated columns
      const res = runSvd(a, m, n);
      expect(res.status).toBe(-1);
      checkSvd(a, m, n, res.U, res.S, res.Vh, 1e-13);
      expect(res.S[Math.min(m, n) - 1]).toBeLessThan(1e-14);
    }
  });
});

// ---------- solve / inv ----------

function wellConditioned(n: number, r: () => number): Float64Array {
  const a = randomMatrix(n, n, r);
  for (let i = 0; i < n; i++) a[i * n + i] += n;
  return a;
}

describe('solve', () => {
  it('solves A X = B for a batch of float64 systems', () => {
    const r = signedRng(20);
    for (const [n, nrhs] of [
      [1, 1],
      [4, 1],
      [6, 3],
      [25, 2],
    ]) {
      const batch = 3;
      const as = [0, 1, 2].map(() => randomMatrix(n, n, r)); // general (pivoting needed)
      const bs = [0, 1, 2].map(() => randomMatrix(n, nrhs, r));
      const x = new Float64Array(batch * n * nrhs);
      expect(solve(stack(as), stack(bs), batch, n, nrhs, x)).toBe(-1);
      for (let t = 0; t < batch; t++) {
        const ax = matmul(as[t], item(x, t, n * nrhs), n, n, nrhs);
        expect(maxAbsDiff(ax, bs[t])).toBeLessThan(1e-11);
      }
    }
  });

  it('needs pivoting: zero leading entry', () => {
    const a = new Float64Array([0, 1, 1, 1]);
    const b = new Float64Array([2, 3]);
    const x = new Float64Array(2);
    expect(solve(a, b, 1, 2, 1, x)).toBe(-1);
    expect(Array.from(x)).toEqual([1, 2]);
  });

  it('reports the first singular item, fills it with NaN, and solves the others', () => {
    const r = signedRng(21);
    const n = 3;
    const good0 = wellConditioned(n, r);
    const good2 = wellConditioned(n, r);
    const singular = new Float64Array([1, 2, 3, 2, 4, 6, 1, 0, 1]); // row 2 = 2·row 1
    const b = randomMatrix(n, 2, r);
    const x = new Float64Array(4 * n * 2);
    const status = solve(stack([good0, singular, good2, singular]), stack([b, b, b, b]), 4, n, 2, x);
    expect(status).toBe(1);
    expect(item(x, 1, n * 2).every(Number.isNaN)).toBe(true);
    expect(item(x, 3, n * 2).every(Number.isNaN)).toBe(true);
    expect(maxAbsDiff(matmul(good0, item(x, 0, n * 2), n, n, 2), b)).toBeLessThan(1e-13);
    expect(maxAbsDiff(matmul(good2, item(x, 2, n * 2), n, n, 2), b)).toBeLessThan(1e-13);
    const zero = new Float64Array(n * n);
    expect(solve(zero, b, 1, n, 2, new Float64Array(n * 2))).toBe(0);
  });

  it('works on float32 data', () => {
    const r = signedRng(22);
    const n = 5;
    const a = Float32Array.from(wellConditioned(n, r));
    const b = Float32Array.from(randomMatrix(n, 2, r));
    const x = new Float32Array(n * 2);
    expect(solve(a, b, 1, n, 2, x)).toBe(-1);
    expect(maxAbsDiff(matmul(a, x, n, n, 2), b)).toBeLessThan(1e-5);
  });
});

describe('inv', () => {
  it('A·inv(A) = I for a batch (float64 and float32)', () => {
    const r = signedRng(30);
    for (const n of [1, 2, 5, 20]) {
      const as = [randomMatrix(n, n, r), wellConditioned(n, r)];
      const out = new Float64Array(2 * n * n);
      expect(inv(stack(as), 2, n, out)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        expect(maxAbsDiff(matmul(as[t], item(out, t, n * n), n, n, n), eye(n))).toBeLessThan(1e-11);
      }
    }
    const a32 = Float32Array.from(wellConditioned(4, r));
    const o32 = new Float32Array(16);
    expect(inv(a32, 1, 4, o32)).toBe(-1);
    expect(maxAbsDiff(matmul(a32, o32, 4, 4, 4), eye(4))).toBeLessThan(1e-5);
  });

  it('reports singular items with NaN and inverts the rest', () => {
    const r = signedRng(31);
    const n = 3;
    const good = wellConditioned(n, r);
    const singular = new Float64Array([1, 2, 3, 4, 5, 6, 2, 4, 6]);
    const out = new Float64Array(3 * n * n);
    expect(inv(stack([good, good, singular]), 3, n, out)).toBe(2);
    expect(item(out, 2, n * n).every(Number.isNaN)).toBe(true);
    expect(maxAbsDiff(matmul(good, item(out, 1, n * n), n, n, n), eye(n))).toBeLessThan(1e-13);
  });
});

// ---------- cholesky ----------

function spd(n: number, r: () => number): Float64Array {
  const m = randomMatrix(n, n, r);
  const a = matmul(m, transpose(m, n, n), n, n, n);
  for (let i = 0; i < n; i++) a[i * n + i] += 0.5;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}

describe('cholesky', () => {
  it('L·Lᵀ = A with L lower triangular and a positive diagonal (batch, float64)', () => {
    const r = signedRng(40);
    for (const n of [1, 2, 6, 30]) {
      const as = [spd(n, r), spd(n, r)];
      const L = new Float64Array(2 * n * n);
      expect(cholesky(stack(as), 2, n, L)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        const l = item(L, t, n * n);
        for (let i = 0; i < n; i++) {
          expect(l[i * n + i]).toBeGreaterThan(0);
          for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
        }
        expect(maxAbsDiff(matmul(l, transpose(l, n, n), n, n, n), as[t]) / maxAbs(as[t])).toBeLessThan(1e-14);
      }
    }
  });

  it('reads only the lower triangle', () => {
    const r = signedRng(41);
    const n = 5;
    const a = spd(n, r);
    const g = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) g[i * n + j] = -1000;
    const l1 = new Float64Array(n * n);
    const l2 = new Float64Array(n * n);
    cholesky(a, 1, n, l1);
    cholesky(g, 1, n, l2);
    expect(bitsEqual(l1, l2)).toBe(true);
  });

  it('fails on non positive definite items only', () => {
    const r = signedRng(42);
    const n = 3;
    const good = spd(n, r);
    const indefinite = new Float64Array([1, 2, 0, 2, 1, 0, 0, 0, 1]); // eigenvalues 3, -1, 1
    const semidefinite = new Float64Array([1, 1, 0, 1, 1, 0, 0, 0, 1]); // singular PSD
    const L = new Float64Array(3 * n * n);
    expect(cholesky(stack([good, indefinite, semidefinite]), 3, n, L)).toBe(1);
    expect(item(L, 1, n * n).every(Number.isNaN)).toBe(true);
    expect(item(L, 2, n * n).every(Number.isNaN)).toBe(true);
    const l0 = item(L, 0, n * n);
    expect(maxAbsDiff(matmul(l0, transpose(l0, n, n), n, n, n), good)).toBeLessThan(1e-13);
  });

  it('works on float32 data', () => {
    const r = signedRng(43);
    const n = 6;
    const a = Float32Array.from(spd(n, r));
    const L = new Float32Array(n * n);
    expect(cholesky(a, 1, n, L)).toBe(-1);
    expect(maxAbsDiff(matmul(L, transpose(L, n, n), n, n, n), a) / maxAbs(a)).toBeLessThan(1e-6);
  });
});

// ---------- qr ----------

function checkQr(
  a: ArrayLike<number>,
  m: number,
  n: number,
  Q: ArrayLike<number>,
  R: ArrayLike<number>,
  tol: number,
): void {
  const k = Math.min(m, n);
  expect(maxAbsDiff(matmul(Q, R, m, k, n), a) / Math.max(1, maxAbs(a))).toBeLessThan(tol);
  checkOrthonormalColumns(Q, m, k, tol);
  for (let i = 0; i < k; i++) {
    expect(R[i * n + i]).toBeGreaterThanOrEqual(0);
    for (let j = 0; j < i; j++) expect(R[i * n + j]).toBe(0);
  }
}

describe('qr', () => {
  it('Q·R = A, QᵀQ = I, R upper with diag(R) >= 0 (shapes, batch, float64)', () => {
    const r = signedRng(50);
    for (const [m, n] of [
      [1, 1],
      [1, 3],
      [3, 1],
      [5, 5],
      [6, 4],
      [4, 6],
      [30, 10],
    ]) {
      const k = Math.min(m, n);
      const as = [randomMatrix(m, n, r), randomMatrix(m, n, r)];
      const Q = new Float64Array(2 * m * k);
      const R = new Float64Array(2 * k * n);
      expect(qr(stack(as), 2, m, n, Q, R)).toBe(-1);
      for (let t = 0; t < 2; t++) checkQr(as[t], m, n, item(Q, t, m * k), item(R, t, k * n), 1e-14);
    }
  });

  it('handles identity, negated identity, zero and rank-deficient matrices', () => {
    const r = signedRng(51);
    const n = 4;
    const negI = eye(n).map((v) => -v);
    const rank2 = matmul(randomMatrix(n, 2, r), randomMatrix(2, n, r), n, 2, n);
    for (const a of [eye(n), negI, new Float64Array(n * n), rank2]) {
      const Q = new Float64Array(n * n);
      const R = new Float64Array(n * n);
      expect(qr(a, 1, n, n, Q, R)).toBe(-1);
      checkQr(a, n, n, Q, R, 1e-14);
    }
    const Q = new Float64Array(n * n);
    const R = new Float64Array(n * n);
    qr(negI, 1, n, n, Q, R);
    expect(Array.from(R)).toEqual(Array.from(eye(n)));
  });

  it('works on float32 data', () => {
    const r = signedRng(52);
    const m = 7;
    const n = 5;
    const a = Float32Array.from(randomMatrix(m, n, r));
    const Q = new Float32Array(m * n);
    const R = new Float32Array(n * n);
    expect(qr(a, 1, m, n, Q, R)).toBe(-1);
    checkQr(a, m, n, Q, R, 2e-6);
  });
});

// ---------- det / slogdet ----------

describe('det and slogdet', () => {
  it('matches known determinants, including pivoting signs and singular matrices', () => {
    const known = new Float64Array([4, 3, 2, 1, 3, 1, 2, 1, 5]); // 37
    const perm = new Float64Array([0, 1, 0, 1, 0, 0, 0, 0, 1]); // a row swap: -1
    const singular = new Float64Array([1, 2, 3, 2, 4, 6, 1, 1, 1]);
    const out = new Float64Array(3);
    expect(det(stack([known, perm, singular]), 3, 3, out)).toBe(-1);
    expect(out[0]).toBeCloseTo(37, 12);
    expect(out[1]).toBe(-1);
    expect(out[2]).toBe(0);
    const one = new Float64Array(1);
    det(new Float64Array([-2.5]), 1, 1, one);
    expect(one[0]).toBe(-2.5);
  });

  it('det(AB) = det(A)·det(B) and det(Aᵀ) = det(A)', () => {
    const r = signedRng(60);
    for (const n of [2, 5, 12]) {
      const a = randomMatrix(n, n, r);
      const b = randomMatrix(n, n, r);
      const out = new Float64Array(4);
      det(stack([a, b, matmul(a, b, n, n, n), transpose(a, n, n)]), 4, n, out);
      expect(Math.abs(out[2] - out[0] * out[1]) / Math.abs(out[2])).toBeLessThan(1e-12);
      expect(Math.abs(out[3] - out[0]) / Math.abs(out[0])).toBeLessThan(1e-12);
    }
  });

  it('slogdet is consistent with det, and handles singular and huge determinants', () => {
    const r = signedRng(61);
    const n = 6;
    const as = [randomMatrix(n, n, r), randomMatrix(n, n, r), new Float64Array(n * n)];
    const d = new Float64Array(3);
    const sign = new Float64Array(3);
    const logabs = new Float64Array(3);
    det(stack(as), 3, n, d);
    expect(slogdet(stack(as), 3, n, sign, logabs)).toBe(-1);
    for (let t = 0; t < 2; t++) {
      expect(sign[t]).toBe(Math.sign(d[t]));
      expect(Math.abs(Math.log(Math.abs(d[t])) - logabs[t])).toBeLessThan(1e-12);
    }
    expect(sign[2]).toBe(0);
    expect(logabs[2]).toBe(Number.NEGATIVE_INFINITY);
    // 200×200 of 10·I has det 1e200 (> float64 range when squared); slogdet stays finite
    const big = eye(200).map((v) => -10 * v);
    const s1 = new Float64Array(1);
    const l1 = new Float64Array(1);
    slogdet(big, 1, 200, s1, l1);
    expect(s1[0]).toBe(1);
    expect(l1[0]).toBeCloseTo(200 * Math.log(10), 10);
    const f32s = new Float32Array(1);
    const f32l = new Float32Array(1);
    slogdet(Float32Array.from(as[0]), 1, n, f32s, f32l);
    expect(Math.abs(f32l[0] - logabs[0])).toBeLessThan(1e-5);
  });
});

// ---------- eig ----------

function checkEig(
  a: Float64Array,
  n: number,
  values: ArrayLike<number>,
  vectors: ArrayLike<number>,
  tol: number,
): void {
  const scale = Math.max(1, maxAbs(a));
  const av = matmul(a, vectors, n, n, n);
  for (let j = 0; j < n; j++) {
    let nrm = 0;
    for (let i = 0; i < n; i++) {
      nrm += vectors[i * n + j] ** 2;
      expect(Math.abs(av[i * n + j] - values[j] * vectors[i * n + j]) / scale).toBeLessThan(tol);
    }
    expect(Math.abs(Math.sqrt(nrm) - 1)).toBeLessThan(tol);
  }
  for (let j = 1; j < n; j++) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1]);
  checkLargestComponentPositive(vectors, n);
}

describe('eig', () => {
  it('A v = λ v for S·diag(d)·S⁻¹ (batch, several sizes)', () => {
    const r = signedRng(70);
    for (const n of [1, 2, 3, 6, 12, 25]) {
      const ds = [0, 1].map(() => Array.from({ length: n }, (_, i) => i - n / 2 + 0.3 * r()));
      const as = ds.map((d) => nonSymmetricWithSpectrum(d, r));
      const values = new Float64Array(2 * n);
      const vectors = new Float64Array(2 * n * n);
      expect(eig(stack(as), 2, n, values, vectors)).toBe(-1);
      for (let t = 0; t < 2; t++) {
        checkEig(as[t], n, item(values, t, n), item(vectors, t, n * n), 1e-10);
        const sorted = [...ds[t]].sort((x, y) => x - y);
        expect(maxAbsDiff(item(values, t, n), sorted)).toBeLessThan(1e-10);
      }
    }
  });

  it('handles identity, zero, triangular, repeated and defective cases', () => {
    const r = signedRng(71);
    const cases: [Float64Array, number][] = [
      [eye(4), 4],
      [new Float64Array(9), 3],
      [new Float64Array([1, 2, 3, 0, 4, 5, 0, 0, 6]), 3],
      [nonSymmetricWithSpectrum([2, 2, -1, 5], r), 4],
      [new Float64Array([2, 1, 0, 2]), 2], // Jordan block: a double eigenvalue, one eigenvector
    ];
    for (const [a, n] of cases) {
      const values = new Float64Array(n);
      const vectors = new Float64Array(n * n);
      expect(eig(a, 1, n, values, vectors)).toBe(-1);
      checkEig(a, n, values, vectors, 1e-9);
    }
    const values = new Float64Array(4);
    eig(nonSymmetricWithSpectrum([2, 2, -1, 5], r), 1, 4, values, new Float64Array(16));
    expect(maxAbsDiff(values, [-1, 2, 2, 5])).toBeLessThan(1e-9);
  });

  it('agrees with eigh on symmetric input', () => {
    const r = signedRng(72);
    const n = 7;
    const a = randomSymmetric(n, r);
    const values = new Float64Array(n);
    const vectors = new Float64Array(n * n);
    expect(eig(a, 1, n, values, vectors)).toBe(-1);
    const ref = runEigh(a, n);
    expect(maxAbsDiff(values, ref.values)).toBeLessThan(1e-13);
    expect(maxAbsDiff(vectors, ref.vectors)).toBeLessThan(1e-10);
  });

  it('fails on complex spectra (rotation matrices) and still computes the other items', () => {
    const r = signedRng(73);
    const rot = new Float64Array([0, -1, 1, 0]);
    const good = nonSymmetricWithSpectrum([-1, 3], r);
    const values = new Float64Array(6);
    const vectors = new Float64Array(12);
    expect(eig(stack([good, rot, good]), 3, 2, values, vectors)).toBe(1);
    expect(item(values, 1, 2).every(Number.isNaN)).toBe(true);
    expect(item(vectors, 1, 4).every(Number.isNaN)).toBe(true);
    checkEig(good, 2, item(values, 2, 2), item(vectors, 2, 4), 1e-12);
    // a 3-D rotation about z plus a real eigenvalue: still complex
    const rot3 = new Float64Array([Math.cos(1), -Math.sin(1), 0, Math.sin(1), Math.cos(1), 0, 0, 0, 2]);
    expect(eig(rot3, 1, 3, new Float64Array(3), new Float64Array(9))).toBe(0);
    // a larger matrix with one complex pair hidden by a similarity transform
    const s = wellConditioned(5, r);
    const blk = new Float64Array(25);
    blk[0] = 1;
    blk[6] = 2;
    blk[7] = -3;
    blk[11] = 3;
    blk[12] = 2;
    blk[18] = -1;
    blk[24] = 4;
    const hidden = matmul(matmul(s, blk, 5, 5, 5), refInverse(s, 5), 5, 5, 5);
    expect(eig(hidden, 1, 5, new Float64Array(5), new Float64Array(25))).toBe(0);
  });

  it('works on float32 data and is deterministic', () => {
    const r = signedRng(74);
    const n = 5;
    const a64 = nonSymmetricWithSpectrum([-2, -0.5, 1, 2.5, 4], r);
    const a = Float32Array.from(a64);
    const values = new Float32Array(n);
    const vectors = new Float32Array(n * n);
    expect(eig(a, 1, n, values, vectors)).toBe(-1);
    checkEig(Float64Array.from(a), n, values, vectors, 1e-5);
    const v2 = new Float64Array(n);
    const w2 = new Float64Array(n * n);
    const v3 = new Float64Array(n);
    const w3 = new Float64Array(n * n);
    eig(a64, 1, n, v2, w2);
    eig(a64, 1, n, v3, w3);
    expect(bitsEqual(v2, v3) && bitsEqual(w2, w3)).toBe(true);
  });
});
