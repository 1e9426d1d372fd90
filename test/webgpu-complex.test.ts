import { describe, expect, it } from 'vitest';
import * as F from '../src/autograd/api.js';
import { WEBGPU_LINALG_MAX_N } from '../src/backends/webgpu/linalg.js';
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import type { Backend } from '../src/backends/backend.js';
import * as mg from '../src/index.js';
import { noteSkip, requireWebGpu, runFloat32 as run, webgpuForTests } from './helpers/webgpu.js';

// The WGSL complex decompositions (src/backends/webgpu/complex-linalg.ts) on their own, on interleaved
// real views [..., m, n, 2]: invariants (A·V = V·Λ, VᴴV = I, U·S·Vh = A, UᴴU = I, Vh·Vhᴴ = I, A·X = B,
// A·A⁻¹ = I) and the values the CPU kernels give (eigenvalues, singular values, determinants), over
// sizes 1..16, tall and wide matrices, batches, degenerate and failing inputs; then svdvals of a complex
// batch end to end.
//
// Tolerances as webgpu-linalg.test.ts (float32, entries in [-1, 1)): residuals and orthonormality
// ≤ TOL·n·4 (TOL = 2e-6, about 16 ulp); values against the CPU (float64 inside) ≤ TOL·n·4.

const TOL = 2e-6;
/** Tall, square and wide shapes the svd and qr kernels are checked on. */
const RECT_SHAPES = [
  [1, 1],
  [2, 2],
  [3, 3],
  [5, 3],
  [3, 5],
  [8, 8],
  [16, 7],
  [6, 16],
  [16, 16],
];

const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('webgpu-complex.test.ts', reason);


const cx = (x: mg.Tensor) => mg.viewAsComplex(x);
const rand = (shape: number[], seed: number) => mg.random(shape, { seed, dtype: 'float32', low: -1, high: 1 });
const f32 = (data: ArrayLike<number>, shape: readonly number[]) => mg.tensor(Float32Array.from(data), { shape });
/**
 * x·yᵀ (5×3) and y·xᵀ (3×5) for fixed complex x and y, rank 1; y has a zero entry, so A has an exactly
 * zero column (row) that the decompositions must complete (complex Gram–Schmidt).
 */
function rankOne(): mg.Tensor[] {
  const x = [
    [1, 0.5],
    [-2, 0],
    [0.5, -1],
    [3, 0.25],
    [1, 1],
  ];
  const y = [
    [2, -1],
    [0, 0],
    [-1, 0.5],
  ];
  const outer = (p: number[][], q: number[][]) => p.flatMap(([pr, pi]) => q.flatMap(([qr, qi]) => [pr * qr - pi * qi, pr * qi + pi * qr]));
  return [f32(outer(x, y), [5, 3, 2]), f32(outer(y, x), [3, 5, 2])];
}
/** The real view of A + s·I for a complex view A [..., n, n, 2]. */
function shiftView(a: mg.Tensor, s: number): mg.Tensor {
  const n = a.shape[a.shape.length - 2];
  const d = Float32Array.from(a.dataSync());
  for (let o = 0; o < d.length; o += 2 * n * n) for (let j = 0; j < n; j++) d[o + 2 * (j * n + j)] += s;
  return f32(d, a.shape);
}

/** Largest |x − y| over the arrays. */
function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return Number.isNaN(d) ? Infinity : d;
}

// complex matrices in float64, interleaved (re, im), row-major
/** Complex matrix k of a batch (2·rows·cols doubles). */
const citem = (x: ArrayLike<number>, k: number, rows: number, cols: number) =>
  Float64Array.from({ length: 2 * rows * cols }, (_, i) => x[2 * k * rows * cols + i]);
/** Real vector k of a batch. */
const ritem = (x: ArrayLike<number>, k: number, len: number) => Float64Array.from({ length: len }, (_, i) => x[k * len + i]);
/** op(A)·op(B), op = adjoint where asked; op(A) is m×k, op(B) is k×n. */
function cmm(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number, ha = false, hb = false) {
  const c = new Float64Array(2 * m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sr = 0;
      let si = 0;
      for (let p = 0; p < k; p++) {
        const ia = ha ? 2 * (p * m + i) : 2 * (i * k + p);
        const ib = hb ? 2 * (j * k + p) : 2 * (p * n + j);
        const ar = a[ia];
        const ai = ha ? -a[ia + 1] : a[ia + 1];
        const br = b[ib];
        const bi = hb ? -b[ib + 1] : b[ib + 1];
        sr += ar * br - ai * bi;
        si += ar * bi + ai * br;
      }
      c[2 * (i * n + j)] = sr;
      c[2 * (i * n + j) + 1] = si;
    }
  return c;
}
const ceye = (n: number) => Float64Array.from({ length: 2 * n * n }, (_, i) => (i % 2 === 0 && (i / 2) % (n + 1) === 0 ? 1 : 0));
/** Columns of the complex m×n `a` scaled by the real d. */
const scaleCols = (a: ArrayLike<number>, d: ArrayLike<number>, m: number, n: number) =>
  Float64Array.from({ length: 2 * m * n }, (_, i) => a[i] * d[(i >> 1) % n]);
/** The Hermitian matrix eigh sees: the lower triangle, the diagonal's imaginary part dropped. */
function hermLower(a: ArrayLike<number>, n: number) {
  const h = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const re = a[2 * (i * n + j)];
      const im = i === j ? 0 : a[2 * (i * n + j) + 1];
      h[2 * (i * n + j)] = re;
      h[2 * (i * n + j) + 1] = im;
      h[2 * (j * n + i)] = re;
      h[2 * (j * n + i) + 1] = -im;
    }
  return h;
}
/** Eigh's gauge: some component of column j is real, positive and of the largest modulus. */
function expectGauge(v: ArrayLike<number>, n: number) {
  for (let j = 0; j < n; j++) {
    let mx = 0;
    let realMax = -Infinity;
    for (let r = 0; r < n; r++) {
      const re = v[2 * (r * n + j)];
      const im = v[2 * (r * n + j) + 1];
      mx = Math.max(mx, Math.hypot(re, im));
      if (im === 0 && re > 0) realMax = Math.max(realMax, re);
    }
    expect(realMax, `column ${j}`).toBeGreaterThanOrEqual(mx - 1e-6);
  }
}
/** A random n×n unitary matrix (Gram–Schmidt, float64). */
function unitary(n: number, seed: number): Float64Array {
  const x = mg.random([n, n, 2], { seed, dtype: 'float64', low: -1, high: 1 }).dataSync();
  const q = Float64Array.from(x);
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++)
      for (let l = 0; l < j; l++) {
        let dr = 0;
        let di = 0;
        for (let r = 0; r < n; r++) {
          const [ar, ai, br, bi] = [q[2 * (r * n + l)], q[2 * (r * n + l) + 1], q[2 * (r * n + j)], q[2 * (r * n + j) + 1]];
          dr += ar * br + ai * bi;
          di += ar * bi - ai * br;
        }
        for (let r = 0; r < n; r++) {
          const [ar, ai] = [q[2 * (r * n + l)], q[2 * (r * n + l) + 1]];
          q[2 * (r * n + j)] -= dr * ar - di * ai;
          q[2 * (r * n + j) + 1] -= dr * ai + di * ar;
        }
      }
    let nn = 0;
    for (let r = 0; r < n; r++) nn += q[2 * (r * n + j)] ** 2 + q[2 * (r * n + j) + 1] ** 2;
    for (let r = 0; r < n; r++) {
      q[2 * (r * n + j)] /= Math.sqrt(nn);
      q[2 * (r * n + j) + 1] /= Math.sqrt(nn);
    }
  }
  return q;
}

const eighOf = (a: mg.Tensor) => {
  const r = mg.linalg.eigh(cx(a));
  return [r.values, r.vectors.view];
};
const svdOf = (a: mg.Tensor) => {
  const r = mg.linalg.svd(cx(a));
  return [r.U.view, r.S, r.Vh.view];
};

/** Checks eigh's outputs of item k against the Hermitian matrix read from the lower triangle of `a`. */
function checkEigh(a: ArrayLike<number>, L: ArrayLike<number>, V: ArrayLike<number>, k: number, n: number, tol: number) {
  const h = hermLower(citem(a, k, n, n), n);
  const v = citem(V, k, n, n);
  const lam = ritem(L, k, n);
  expect(maxDiff(cmm(h, v, n, n, n), scaleCols(v, lam, n, n))).toBeLessThan(tol);
  expect(maxDiff(cmm(v, v, n, n, n, true), ceye(n))).toBeLessThan(tol);
  for (let j = 1; j < n; j++) expect(lam[j]).toBeGreaterThanOrEqual(lam[j - 1]);
  expectGauge(v, n);
}

/** Checks svd's outputs of item b: U·S·Vh = A, UᴴU = I, Vh·Vhᴴ = I, S descending and ≥ 0. */
function checkSvd(a: ArrayLike<number>, U: ArrayLike<number>, S: ArrayLike<number>, Vh: ArrayLike<number>, b: number, m: number, n: number, tol: number) {
  const k = Math.min(m, n);
  const u = citem(U, b, m, k);
  const s = ritem(S, b, k);
  const vh = citem(Vh, b, k, n);
  const scale = Math.max(1, s[0] ?? 0);
  expect(maxDiff(cmm(scaleCols(u, s, m, k), vh, m, k, n), citem(a, b, m, n))).toBeLessThan(tol * scale);
  expect(maxDiff(cmm(u, u, k, m, k, true), ceye(k))).toBeLessThan(tol);
  expect(maxDiff(cmm(vh, vh, k, n, k, false, true), ceye(k))).toBeLessThan(tol);
  for (let j = 0; j < k; j++) expect(s[j]).toBeGreaterThanOrEqual(0);
  for (let j = 1; j < k; j++) expect(s[j]).toBeLessThanOrEqual(s[j - 1]);
}

const SIZES = [1, 2, 3, 4, 5, 8, 16];
const B = 3;

describe.skipIf(!gpu)('webgpu complex linalg: invariants and CPU parity (float32)', () => {
  it.runIf(requireWebGpu)('has an adapter', () => expect(gpu, reason).not.toBeNull());

  for (const n of SIZES) {
    it(`eigh ${B}×${n}×${n} (lower triangle): A·V = V·Λ, VᴴV = I, ascending, gauge, values = CPU`, async () => {
      // a general complex matrix: only its lower triangle (real diagonal) counts
      const A = rand([B, n, n, 2], 300 + n);
      const [L, V] = await run(gpu!, [A], eighOf);
      const [Lc] = await run(mg.cpu, [A], (a) => [mg.linalg.eigvalsh(cx(a))]);
      const tol = TOL * n * 4;
      expect(maxDiff(L, Lc)).toBeLessThan(tol);
      for (let k = 0; k < B; k++) checkEigh(A.dataSync(), L, V, k, n, tol);
    });
  }

  for (const [m, n] of RECT_SHAPES) {
    it(`svd ${B}×${m}×${n}: U·S·Vh = A, orthonormal factors, descending, values = CPU`, async () => {
      const A = rand([B, m, n, 2], 400 + m * 100 + n);
      const [U, S, Vh] = await run(gpu!, [A], svdOf);
      const [Sc] = await run(mg.cpu, [A], (a) => [mg.linalg.svdvals(cx(a))]);
      const tol = TOL * Math.max(m, n) * 4;
      expect(maxDiff(S, Sc)).toBeLessThan(tol);
      for (let b = 0; b < B; b++) checkSvd(A.dataSync(), U, S, Vh, b, m, n, tol);
    });
  }

  it(`the largest size (${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N}): eigh and svd`, async () => {
    const n = WEBGPU_LINALG_MAX_N;
    const A = rand([1, n, n, 2], 77);
    const [L, V, U, S, Vh] = await run(gpu!, [A], (a) => [...eighOf(a), ...svdOf(a)]);
    const [Lc, Sc] = await run(mg.cpu, [A], (a) => [mg.linalg.eigvalsh(cx(a)), mg.linalg.svdvals(cx(a))]);
    const tol = TOL * n * 4;
    expect(maxDiff(L, Lc)).toBeLessThan(tol);
    expect(maxDiff(S, Sc)).toBeLessThan(tol);
    checkEigh(A.dataSync(), L, V, 0, n, tol);
    checkSvd(A.dataSync(), U, S, Vh, 0, n, n, tol);
  });

  it('svd of rank-deficient, zero and identity matrices completes orthonormal singular vectors', async () => {
    // rank 1 (5×3 and 3×5, see rankOne); all zeros; the identity
    const cases = [
      ...rankOne(),
      mg.zeros([4, 3, 2], { dtype: 'float32' }),
      f32(ceye(4), [4, 4, 2]),
    ];
    for (const A of cases) {
      const [m, n] = A.shape;
      const k = Math.min(m, n);
      const [U, S, Vh] = await run(gpu!, [A], svdOf);
      const scale = Math.max(1, S[0]);
      const rank = A === cases[3] ? 4 : A === cases[2] ? 0 : 1;
      for (let j = rank; j < k; j++) expect(S[j]).toBeLessThan(1e-5 * scale);
      checkSvd(A.dataSync(), U, S, Vh, 0, m, n, 1e-5);
    }
  });

  it('eigh of the identity and of a matrix with a double eigenvalue is orthonormal', async () => {
    const n = 3;
    const q = unitary(n, 5);
    const D = cmm(scaleCols(q, [2, 2, -1], n, n), q, n, n, n, false, true);
    for (const A of [f32(ceye(4), [4, 4, 2]), f32(D, [n, n, 2])]) {
      const nn = A.shape[0];
      const [L, V] = await run(gpu!, [A], eighOf);
      checkEigh(A.dataSync(), L, V, 0, nn, 1e-5);
    }
  });

  for (const n of SIZES) {
    it(`solve, inv, det ${B}×${n}×${n} (complex LU, partial pivoting): residuals and CPU parity`, async () => {
      const A = shiftView(rand([B, n, n, 2], 500 + n), 2);
      const Bm = rand([B, n, 2, 2], 600 + n);
      const go = (b: Backend) =>
        run(b, [A, Bm], (a, rhs) => [mg.linalg.solve(cx(a), cx(rhs)).view, mg.linalg.inv(cx(a)).view, mg.linalg.det(cx(a)).view]);
      const [X, Ai, D] = await go(gpu!);
      const [, , Dc] = await go(mg.cpu);
      const tol = TOL * n * 4;
      for (let b = 0; b < B; b++) {
        const a = citem(A.dataSync(), b, n, n);
        expect(maxDiff(cmm(a, citem(X, b, n, 2), n, n, 2), citem(Bm.dataSync(), b, n, 2))).toBeLessThan(tol);
        expect(maxDiff(cmm(a, citem(Ai, b, n, n), n, n, n), ceye(n))).toBeLessThan(tol);
        const err = Math.hypot(D[2 * b] - Dc[2 * b], D[2 * b + 1] - Dc[2 * b + 1]);
        expect(err).toBeLessThanOrEqual(tol * Math.hypot(Dc[2 * b], Dc[2 * b + 1]));
      }
    });
  }

  it('singular items: solve and inv NaN, det exactly 0, the other item computed; as the CPU', async () => {
    // item 0: [[1+i, 2+2i], [2+2i, 4+4i]] (exactly singular in float32 too); item 1: [[2, i], [0, 1−i]]
    const A = f32([1, 1, 2, 2, 2, 2, 4, 4, 2, 0, 0, 1, 0, 0, 1, -1], [2, 2, 2, 2]);
    const go = (b: Backend) => run(b, [A], (a) => [mg.linalg.inv(cx(a)).view, mg.linalg.solve(cx(a), cx(a)).view, mg.linalg.det(cx(a)).view]);
    const [Ai, X, D] = await go(gpu!);
    const [Aic, Xc, Dc] = await go(mg.cpu);
    expect([...Ai.slice(0, 8), ...X.slice(0, 8)].every(Number.isNaN)).toBe(true);
    expect([...D]).toEqual([0, 0, 2, -2]);
    expect([...D]).toEqual([...Dc]);
    expect(maxDiff(Ai.slice(8), Aic.slice(8))).toBeLessThan(1e-6);
    expect(maxDiff(X.slice(8), Xc.slice(8))).toBeLessThan(1e-6);
  });

  it('a NaN input fails only its own item, every op (eigh: a NaN in the lower triangle)', async () => {
    const n = 3;
    const good = shiftView(rand([1, n, n, 2], 9), 2).dataSync();
    const data = new Float32Array(4 * n * n);
    data.set(good, 0);
    data.set(good, 2 * n * n);
    data[2 * (2 * n + 0) + 1] = Number.NaN; // item 0, entry (2, 0), imaginary part
    const A = f32(data, [2, n, n, 2]);
    const go = (b: Backend) =>
      run(b, [A], (a) => [...eighOf(a), ...svdOf(a), mg.linalg.solve(cx(a), cx(a)).view, mg.linalg.inv(cx(a)).view, mg.linalg.det(cx(a)).view]);
    const got = await go(gpu!);
    const want = await go(mg.cpu);
    got.forEach((g, o) => {
      const half = g.length / 2;
      expect([...g.slice(0, half)].every(Number.isNaN), `output ${o}, item 0`).toBe(true);
      expect([...g.slice(half)].every(Number.isFinite), `output ${o}, item 1`).toBe(true);
    });
    // gauge-free outputs of item 1 agree with the CPU: eigenvalues, singular values, X, inverse, det
    for (const o of [0, 3, 5, 6, 7]) expect(maxDiff(got[o].slice(got[o].length / 2), want[o].slice(want[o].length / 2)), `output ${o}`).toBeLessThan(1e-5);
    checkEigh(A.dataSync(), got[0], got[1], 1, n, 1e-5);
    checkSvd(A.dataSync(), got[2], got[3], got[4], 1, n, n, 1e-5);
    // a NaN in the upper triangle is not read by eigh
    const upper = Float32Array.from(good);
    upper[2 * (0 * n + 2)] = Number.NaN;
    const [L] = await run(gpu!, [f32(upper, [1, n, n, 2])], (a) => [mg.linalg.eigvalsh(cx(a))]);
    expect([...L].every(Number.isFinite)).toBe(true);
  });

  it(`complex matrices larger than ${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N} are refused with a clear error`, () => {
    const x = inputTensor([WEBGPU_LINALG_MAX_N + 1, WEBGPU_LINALG_MAX_N + 1, 2], 'float32');
    expect(() => gpu!.compile(compile([x], [mg.linalg.eigvalsh(cx(x))]))).toThrow(/linalg\.eigh runs complex matrices up to 32×32.*CPU backend/);
    expect(() => gpu!.compile(compile([x], [mg.linalg.inv(cx(x)).view]))).toThrow(/linalg\.inv runs complex matrices up to 32×32/);
  });

  it('end to end: svdvals of a random complex64 batch in a compiled plan matches the CPU backend', async () => {
    const X = rand([64, 6, 6, 2], 1234);
    const t0 = performance.now();
    const [S] = await run(gpu!, [X], (x) => [mg.linalg.svdvals(mg.viewAsComplex(x))]);
    const t1 = performance.now();
    const [Sc] = await run(mg.cpu, [X], (x) => [mg.linalg.svdvals(mg.viewAsComplex(x))]);
    console.info(`[webgpu-complex] 64×6×6 complex svdvals: webgpu ${(t1 - t0).toFixed(0)} ms (incl. compile)`);
    expect(S.length).toBe(64 * 6);
    expect(maxDiff(S, Sc)).toBeLessThan(TOL * 6 * 4);
  });

  it('end to end: complex elementwise ops, matmul and their gradients run on WebGPU like on the CPU', async () => {
    const Z = rand([3, 4, 4, 2], 77);
    const W = rand([4, 4, 2], 78);
    const f = (z: mg.Tensor, w: mg.Tensor) => {
      const loss = (a: mg.Tensor, b: mg.Tensor) => {
        const A = mg.viewAsComplex(a);
        const B = mg.viewAsComplex(b);
        const C = mg.matmul(mg.mul(mg.exp(A), mg.conj(B)), mg.adjoint(B));
        const D = mg.div(mg.sqrt(mg.add(C, 3)), mg.add(mg.log(mg.add(A, 3)), 2));
        return mg.sum(mg.abs(D));
      };
      const { value, grads } = mg.valueAndGrad(loss)(z, w);
      return [value, ...grads];
    };
    const got = await run(gpu!, [Z, W], f);
    const want = await run(mg.cpu, [Z, W], f);
    got.forEach((g, i) => {
      const scale = Math.max(1, ...Array.from(want[i], Math.abs));
      expect(maxDiff(g, want[i]) / scale).toBeLessThan(1e-5);
    });
  });
});

// ---- complexCholesky, complexQr, complexSlogdet ---------------------------------------------------

const cholOf = (a: mg.Tensor) => [mg.linalg.cholesky(cx(a)).view];
const qrOf = (a: mg.Tensor) => {
  const r = mg.linalg.qr(cx(a));
  return [r.Q.view, r.R.view];
};
const slogdetOf = (a: mg.Tensor) => {
  const r = mg.linalg.slogdet(cx(a));
  return [r.sign.view, r.logabsdet];
};

/** A batch of Hermitian positive definite M·Mᴴ/n + I (float32), junk in the strict upper triangle and the diagonal's imaginary part. */
function hpdWithJunk(b: number, n: number, seed: number): mg.Tensor {
  const M = mg.random([b, n, n, 2], { seed, dtype: 'float64', low: -1, high: 1 }).dataSync();
  const junk = mg.random([b, n, n, 2], { seed: seed + 1, dtype: 'float64', low: -5, high: 5 }).dataSync();
  const out = new Float32Array(2 * b * n * n);
  for (let k = 0; k < b; k++) {
    const m = citem(M, k, n, n);
    const h = cmm(m, m, n, n, n, false, true);
    for (let r = 0; r < n; r++)
      for (let c = 0; c < n; c++) {
        const o = 2 * (r * n + c);
        const g = 2 * k * n * n + o;
        out[g] = c > r ? junk[g] : h[o] / n + (r === c ? 1 : 0);
        out[g + 1] = c >= r ? junk[g + 1] : h[o + 1] / n;
      }
  }
  return f32(out, [b, n, n, 2]);
}

/** Checks cholesky's item k: L·Lᴴ = the Hermitian matrix of a's lower triangle, L lower with a real positive diagonal. */
function checkCholesky(a: ArrayLike<number>, L: ArrayLike<number>, k: number, n: number, tol: number) {
  const l = citem(L, k, n, n);
  const h = hermLower(citem(a, k, n, n), n);
  const scale = Math.max(1, ...Array.from(h, Math.abs));
  expect(maxDiff(cmm(l, l, n, n, n, false, true), h)).toBeLessThan(tol * scale);
  for (let r = 0; r < n; r++)
    for (let c = r; c < n; c++) {
      const [re, im] = [l[2 * (r * n + c)], l[2 * (r * n + c) + 1]];
      expect(im, `L[${r}, ${c}] imaginary`).toBe(0);
      if (c === r) expect(re, `L[${r}, ${r}]`).toBeGreaterThan(0);
      else expect(re, `L[${r}, ${c}]`).toBe(0);
    }
}

/** Checks qr's item b: Q·R = A, QᴴQ = I, R upper triangular with a real non-negative diagonal. */
function checkQr(a: ArrayLike<number>, Q: ArrayLike<number>, R: ArrayLike<number>, b: number, m: number, n: number, tol: number) {
  const k = Math.min(m, n);
  const q = citem(Q, b, m, k);
  const r = citem(R, b, k, n);
  const ab = citem(a, b, m, n);
  const scale = Math.max(1, ...Array.from(ab, Math.abs));
  expect(maxDiff(cmm(q, r, m, k, n), ab)).toBeLessThan(tol * scale);
  expect(maxDiff(cmm(q, q, k, m, k, true), ceye(k))).toBeLessThan(tol);
  for (let i = 0; i < k; i++) {
    expect(r[2 * (i * n + i) + 1], `R[${i}, ${i}] imaginary`).toBe(0);
    expect(r[2 * (i * n + i)], `R[${i}, ${i}]`).toBeGreaterThanOrEqual(0);
    for (let c = 0; c < Math.min(i, n); c++) {
      expect(r[2 * (i * n + c)], `R[${i}, ${c}]`).toBe(0);
      expect(r[2 * (i * n + c) + 1], `R[${i}, ${c}] imaginary`).toBe(0);
    }
  }
}

describe.skipIf(!gpu)('webgpu complex cholesky, qr, slogdet: invariants and CPU parity (float32)', () => {
  for (const n of SIZES) {
    it(`cholesky ${B}×${n}×${n} (lower triangle): L·Lᴴ = A, real positive diagonal, zero upper part, = CPU`, async () => {
      const A = hpdWithJunk(B, n, 700 + n);
      const [L] = await run(gpu!, [A], cholOf);
      const tol = TOL * n * 4;
      for (let k = 0; k < B; k++) checkCholesky(A.dataSync(), L, k, n, tol);
      const [Lc] = await run(mg.cpu, [A], cholOf);
      expect(maxDiff(L, Lc)).toBeLessThan(tol * 4);
    });
  }

  for (const [m, n] of RECT_SHAPES) {
    it(`qr ${B}×${m}×${n}: Q·R = A, QᴴQ = I, R upper with a real non-negative diagonal, = CPU`, async () => {
      const A = rand([B, m, n, 2], 800 + m * 100 + n);
      const [Q, R] = await run(gpu!, [A], qrOf);
      const tol = TOL * Math.max(m, n) * 4;
      for (let b = 0; b < B; b++) checkQr(A.dataSync(), Q, R, b, m, n, tol);
      // full rank: Q and R are unique (diag(R) > 0)
      const [Qc, Rc] = await run(mg.cpu, [A], qrOf);
      expect(maxDiff(Q, Qc)).toBeLessThan(tol * 4);
      expect(maxDiff(R, Rc)).toBeLessThan(tol * 4);
    });
  }

  it(`the largest size (${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N}): cholesky, qr and slogdet`, async () => {
    const n = WEBGPU_LINALG_MAX_N;
    const H = hpdWithJunk(1, n, 91);
    const A = rand([1, n, n, 2], 92);
    const [L, Q, R, S, LD, D] = await run(gpu!, [H, A], (h, a) => [...cholOf(h), ...qrOf(a), ...slogdetOf(a), mg.linalg.det(cx(a)).view]);
    const tol = TOL * n * 4;
    checkCholesky(H.dataSync(), L, 0, n, tol);
    checkQr(A.dataSync(), Q, R, 0, n, n, tol);
    expect(Math.hypot(S[0], S[1])).toBeCloseTo(1, 5);
    const mag = Math.hypot(D[0], D[1]);
    expect(Math.abs(LD[0] - Math.log(mag))).toBeLessThan(tol * n);
    expect(Math.hypot(S[0] - D[0] / mag, S[1] - D[1] / mag)).toBeLessThan(tol * n);
  });

  it('qr of rank-deficient and zero matrices: unit, orthogonal Q columns; Q·R = A; R\'s first row as the CPU', async () => {
    const cases = [...rankOne(), mg.zeros([4, 3, 2], { dtype: 'float32' }), mg.zeros([2, 4, 2], { dtype: 'float32' })];
    for (const A of cases) {
      const [m, n] = A.shape;
      const [Q, R] = await run(gpu!, [A], qrOf);
      checkQr(A.dataSync(), Q, R, 0, m, n, 1e-5);
      // rank ≤ 1: every diagonal entry of R after the first vanishes
      for (let j = 1; j < Math.min(m, n); j++) expect(R[2 * (j * n + j)]).toBeLessThan(1e-5);
      // R's first row (‖a_0‖, then q_0ᴴ·a_c) is unique when rank ≤ 1
      const [, Rc] = await run(mg.cpu, [A], qrOf);
      expect(maxDiff(R.slice(0, 2 * n), Rc.slice(0, 2 * n))).toBeLessThan(1e-5);
    }
  });

  for (const n of SIZES) {
    it(`slogdet ${B}×${n}×${n}: sign·exp(logabsdet) = det, |sign| = 1, = CPU`, async () => {
      const A = shiftView(rand([B, n, n, 2], 900 + n), n % 2 === 0 ? 2 : 0);
      const [S, LD, D] = await run(gpu!, [A], (a) => [...slogdetOf(a), mg.linalg.det(cx(a)).view]);
      const tol = TOL * n * 4;
      for (let b = 0; b < B; b++) {
        const [sr, si] = [S[2 * b], S[2 * b + 1]];
        expect(Math.hypot(sr, si)).toBeCloseTo(1, 5);
        const [dr, di] = [D[2 * b], D[2 * b + 1]];
        const mag = Math.hypot(dr, di);
        const e = Math.exp(LD[b]);
        expect(Math.hypot(sr * e - dr, si * e - di)).toBeLessThanOrEqual(tol * mag);
      }
      const [Sc, LDc] = await run(mg.cpu, [A], slogdetOf);
      expect(maxDiff(S, Sc)).toBeLessThan(tol);
      expect(maxDiff(LD, LDc)).toBeLessThan(tol);
    });
  }

  it('slogdet of a matrix whose det overflows float32: the power-of-two scaling keeps logabsdet finite, as the CPU', async () => {
    const n = 8;
    const A0 = shiftView(rand([1, n, n, 2], 31), 2).dataSync();
    const A = f32(Array.from(A0, (v) => v * 2 ** 40), [1, n, n, 2]);
    const [S, LD, D] = await run(gpu!, [A], (a) => [...slogdetOf(a), mg.linalg.det(cx(a)).view]);
    expect(Number.isFinite(D[0])).toBe(false); // det itself overflows (|det| ≈ 2^320)
    expect(LD[0]).toBeGreaterThan(300 * Math.LN2);
    expect(Number.isFinite(LD[0])).toBe(true);
    const [Sc, LDc] = await run(mg.cpu, [A], slogdetOf);
    expect(maxDiff(S, Sc)).toBeLessThan(1e-5);
    expect(Math.abs(LD[0] - LDc[0])).toBeLessThan(1e-6 * Math.abs(LDc[0]));
  });

  it('failing items fail alone: singular slogdet (0, −∞), non-PD cholesky NaN, NaN input NaN; as the CPU', async () => {
    const n = 2;
    // item 0: singular [[1+i, 2+2i], [2+2i, 4+4i]]; item 1: a NaN; item 2: [[2, i], [−i, 3]] (Hermitian PD)
    const A = f32([1, 1, 2, 2, 2, 2, 4, 4, Number.NaN, 0, 0, 1, 0, -1, 3, 0, 2, 0, 0, 1, 0, -1, 3, 0], [3, n, n, 2]);
    const go = (b: Backend) => run(b, [A], (a) => [...slogdetOf(a), ...cholOf(a), ...qrOf(a)]);
    const [S, LD, L, Q, R] = await go(gpu!);
    expect([...S.slice(0, 2)]).toEqual([0, 0]);
    expect(LD[0]).toBe(-Infinity);
    expect([...S.slice(2, 4), LD[1]].every(Number.isNaN)).toBe(true);
    // det(item 2) = 6 − 1 = 5
    expect(maxDiff(S.slice(4), [1, 0])).toBeLessThan(1e-6);
    expect(Math.abs(LD[2] - Math.log(5))).toBeLessThan(1e-6);
    // cholesky: item 0 is not positive definite (second pivot 4 − |2+2i|² = −4), item 1 NaN, item 2 computed
    expect([...L.slice(0, 16)].every(Number.isNaN)).toBe(true);
    checkCholesky(A.dataSync(), L, 2, n, 1e-6);
    // qr: item 1 fails alone
    expect([...Q.slice(8, 16), ...R.slice(8, 16)].every(Number.isNaN)).toBe(true);
    checkQr(A.dataSync(), Q, R, 0, n, n, 1e-5);
    checkQr(A.dataSync(), Q, R, 2, n, n, 1e-5);
    const [Sc, LDc, Lc, Qc, Rc] = await go(mg.cpu);
    expect([...S.slice(0, 2), LD[0]]).toEqual([...Sc.slice(0, 2), LDc[0]]);
    expect([...Sc.slice(2, 4), LDc[1], ...Lc.slice(0, 16)].every(Number.isNaN)).toBe(true);
    expect(maxDiff(S.slice(4), Sc.slice(4))).toBeLessThan(1e-6);
    expect(maxDiff(L.slice(16), Lc.slice(16))).toBeLessThan(1e-6);
    expect(maxDiff(Q.slice(16), Qc.slice(16))).toBeLessThan(1e-6);
    expect(maxDiff(R.slice(16), Rc.slice(16))).toBeLessThan(1e-6);
  });

  it('cholesky ignores the strict upper triangle and the diagonal imaginary part (NaN there too)', async () => {
    const n = 3;
    const A = Float32Array.from(hpdWithJunk(1, n, 55).dataSync());
    A[2 * (0 * n + 2)] = Number.NaN;
    A[2 * (1 * n + 1) + 1] = Number.NaN;
    const [L] = await run(gpu!, [f32(A, [1, n, n, 2])], cholOf);
    checkCholesky(A, L, 0, n, 1e-5);
  });

  it(`complex cholesky, qr, slogdet larger than ${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N} are refused with a clear error`, () => {
    const x = inputTensor([WEBGPU_LINALG_MAX_N + 1, WEBGPU_LINALG_MAX_N + 1, 2], 'float32');
    expect(() => gpu!.compile(compile([x], cholOf(x)))).toThrow(/linalg\.cholesky runs complex matrices up to 32×32/);
    expect(() => gpu!.compile(compile([x], qrOf(x)))).toThrow(/linalg\.qr runs complex matrices up to 32×32/);
    expect(() => gpu!.compile(compile([x], slogdetOf(x)))).toThrow(/linalg\.slogdet runs complex matrices up to 32×32/);
  });
});

// ---- complexEig (general complex eigendecomposition) ----------------------------------------------

const eigOf = (a: mg.Tensor) => F.apply('complexEig', [a]);

/** Largest modulus over the complex entries. */
function cmaxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i += 2) m = Math.max(m, Math.hypot(x[i], x[i + 1]));
  return m;
}

/**
 * Checks complexEig's item k of the complex n×n batch `a`: A·V = V·diag(L) (relative to max |a_ij|), unit
 * columns, the gauge (the first largest-|.| component of each column real > 0, imaginary part exactly 0),
 * eigenvalues ascending by real part, exact ties by imaginary part. Returns the residual.
 */
function checkEig(a: ArrayLike<number>, L: ArrayLike<number>, V: ArrayLike<number>, k: number, n: number, tol: number): number {
  const ak = citem(a, k, n, n);
  const v = citem(V, k, n, n);
  const lam = citem(L, k, n, 1);
  // V·diag(L): column j times λ_j
  const lv = new Float64Array(2 * n * n);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < n; j++) {
      const [xr, xi, lr, li] = [v[2 * (r * n + j)], v[2 * (r * n + j) + 1], lam[2 * j], lam[2 * j + 1]];
      lv[2 * (r * n + j)] = xr * lr - xi * li;
      lv[2 * (r * n + j) + 1] = xr * li + xi * lr;
    }
  const res = maxDiff(cmm(ak, v, n, n, n), lv);
  expect(res).toBeLessThan(tol * Math.max(1, cmaxAbs(ak)));
  for (let j = 0; j < n; j++) {
    let nv = 0;
    let best = -1;
    let bi = 0;
    for (let r = 0; r < n; r++) {
      const [re, im] = [v[2 * (r * n + j)], v[2 * (r * n + j) + 1]];
      nv += re * re + im * im;
      if (Math.fround(re * re + im * im) > best) [best, bi] = [Math.fround(re * re + im * im), r];
    }
    expect(Math.abs(Math.sqrt(nv) - 1), `column ${j} norm`).toBeLessThan(tol);
    expect(v[2 * (bi * n + j) + 1], `column ${j} gauge imaginary`).toBe(0);
    expect(v[2 * (bi * n + j)], `column ${j} gauge real`).toBeGreaterThan(0);
  }
  expectGauge(v, n);
  for (let j = 1; j < n; j++) {
    const [pr, pi, qr, qi] = [lam[2 * j - 2], lam[2 * j - 1], lam[2 * j], lam[2 * j + 1]];
    expect(qr > pr || (qr === pr && qi >= pi), `eigenvalues ${j - 1}, ${j} in order`).toBe(true);
  }
  return res;
}

/** Smallest distance between two eigenvalues of item k (n complex values). */
function minGap(L: ArrayLike<number>, k: number, n: number): number {
  let g = Infinity;
  for (let p = 0; p < n; p++)
    for (let q = p + 1; q < n; q++) g = Math.min(g, Math.hypot(L[2 * (k * n + p)] - L[2 * (k * n + q)], L[2 * (k * n + p) + 1] - L[2 * (k * n + q) + 1]));
  return g;
}

const EIG_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 16];

describe.skipIf(!gpu)('webgpu complexEig: invariants and CPU parity (float32)', () => {
  for (const n of EIG_SIZES) {
    it(`eig ${B}×${n}×${n}: A·V = V·Λ, unit columns, gauge, sorted; values (and vectors where well separated) = CPU`, async () => {
      const A = rand([B, n, n, 2], 700 + n);
      const [L, V] = await run(gpu!, [A], eigOf);
      const [Lc, Vc] = await run(mg.cpu, [A], eigOf);
      const tol = TOL * n * 4;
      let compared = 0;
      for (let k = 0; k < B; k++) {
        checkEig(A.dataSync(), L, V, k, n, tol);
        // eigenvalues of a random (non-normal) matrix: conditioning ~ 1/gap; compare the well separated
        const gap = minGap(Lc, k, n);
        if (gap > 0.05) {
          compared++;
          expect(maxDiff(citem(L, k, n, 1), citem(Lc, k, n, 1)), `item ${k} values`).toBeLessThan(tol / Math.min(1, gap));
          // simple eigenvalues: the gauge fixes the vectors, comparable too
          expect(maxDiff(citem(V, k, n, n), citem(Vc, k, n, n)), `item ${k} vectors`).toBeLessThan((tol * 4) / Math.min(1, gap));
        }
      }
      expect(compared).toBeGreaterThan(0);
    });
  }

  it(`eig at the largest size (${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N}): invariants, values and vectors = CPU`, async () => {
    const n = WEBGPU_LINALG_MAX_N;
    const A = rand([1, n, n, 2], 777);
    const tol = TOL * n * 4;
    const [L, V] = await run(gpu!, [A], eigOf);
    checkEig(A.dataSync(), L, V, 0, n, tol);
    const [Lc, Vc] = await run(mg.cpu, [A], eigOf);
    const gap = minGap(Lc, 0, n);
    expect(gap).toBeGreaterThan(0.05); // this seed's spectrum is well separated
    expect(maxDiff(L, Lc)).toBeLessThan(tol / Math.min(1, gap));
    expect(maxDiff(V, Vc)).toBeLessThan((tol * 4) / Math.min(1, gap));
  });

  it('a real matrix: eigenvalues in conjugate pairs, real ones real; as the CPU', async () => {
    const n = 6;
    const R = mg.random([2, n, n], { seed: 81, dtype: 'float32', low: -1, high: 1 }).dataSync();
    const A = f32(Array.from({ length: 2 * R.length }, (_, i) => (i % 2 === 0 ? R[i >> 1] : 0)), [2, n, n, 2]);
    const [L, V] = await run(gpu!, [A], eigOf);
    const [Lc] = await run(mg.cpu, [A], eigOf);
    const tol = TOL * n * 4;
    let pairs = 0;
    for (let k = 0; k < 2; k++) {
      checkEig(A.dataSync(), L, V, k, n, tol);
      const lam = citem(L, k, n, 1);
      const lamc = citem(Lc, k, n, 1);
      for (let j = 0; j < n; j++) {
        const [re, im] = [lam[2 * j], lam[2 * j + 1]];
        // its conjugate is an eigenvalue too (the pair's order may differ: the real parts are rounded apart)
        let d = Infinity;
        let dc = Infinity;
        for (let q = 0; q < n; q++) {
          d = Math.min(d, Math.hypot(lam[2 * q] - re, lam[2 * q + 1] + im));
          dc = Math.min(dc, Math.hypot(lamc[2 * q] - re, lamc[2 * q + 1] - im));
        }
        expect(d, `item ${k}, conj(λ${j})`).toBeLessThan(1e-4);
        expect(dc, `item ${k}, λ${j} on the CPU`).toBeLessThan(1e-4);
        if (Math.abs(im) > 1e-3) pairs++;
      }
    }
    expect(pairs).toBeGreaterThanOrEqual(2); // the seed has complex pairs
  });

  it('a Hermitian matrix: real eigenvalues equal to complexEigh\'s, orthonormal vectors', async () => {
    const n = 5;
    const G = rand([2, n, n, 2], 91).dataSync();
    const H = new Float32Array(G.length);
    for (let k = 0; k < 2; k++) H.set(hermLower(citem(G, k, n, n), n), 2 * k * n * n);
    const A = f32(H, [2, n, n, 2]);
    const [L, V, Lh, Vh] = await run(gpu!, [A], (a) => [...eigOf(a), ...eighOf(a)]);
    const tol = TOL * n * 4;
    for (let k = 0; k < 2; k++) {
      checkEig(H, L, V, k, n, tol);
      const lam = citem(L, k, n, 1);
      expect(maxDiff(lam.filter((_, i) => i % 2 === 0), ritem(Lh, k, n))).toBeLessThan(tol);
      expect(Math.max(...lam.filter((_, i) => i % 2 === 1).map(Math.abs))).toBeLessThan(tol);
      const v = citem(V, k, n, n);
      expect(maxDiff(cmm(v, v, n, n, n, true), ceye(n))).toBeLessThan(tol * 10);
      // simple eigenvalues and the same gauge: the same vectors as eigh's
      if (minGap(L, k, n) > 0.05) expect(maxDiff(v, citem(Vh, k, n, n))).toBeLessThan(tol * 20);
    }
  });

  it('the identity, a diagonal and a triangular matrix: exact eigenvalues, finite unit vectors', async () => {
    const n = 4;
    const diag = new Float64Array(2 * n * n);
    [0.5, -1, 0.5, 0.25].forEach((d, j) => (diag[2 * j * (n + 1)] = d));
    const tri = Float64Array.from(rand([n, n, 2], 5).dataSync(), (x, i) => (Math.floor(i / 2 / n) > (i >> 1) % n ? 0 : x));
    for (const a of [ceye(n), diag, tri]) {
      const A = f32(a, [1, n, n, 2]);
      const [L, V] = await run(gpu!, [A], eigOf);
      expect([...L, ...V].every(Number.isFinite)).toBe(true);
      checkEig(A.dataSync(), L, V, 0, n, 1e-5);
      const want = Array.from({ length: n }, (_, j) => [a[2 * j * (n + 1)], a[2 * j * (n + 1) + 1]]).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
      expect(maxDiff(L, want.flat())).toBeLessThan(1e-6);
    }
  });

  it('a NaN input fails only its own item; as the CPU', async () => {
    const n = 4;
    const good = rand([1, n, n, 2], 17).dataSync();
    const data = new Float32Array(4 * n * n);
    data.set(good, 0);
    data.set(good, 2 * n * n);
    data[2 * (0 * n + 3) + 1] = Number.NaN; // item 0, entry (0, 3), imaginary part
    const A = f32(data, [2, n, n, 2]);
    const [L, V] = await run(gpu!, [A], eigOf);
    const [Lc] = await run(mg.cpu, [A], eigOf);
    expect([...L.slice(0, 2 * n), ...V.slice(0, 2 * n * n)].every(Number.isNaN)).toBe(true);
    expect([...L.slice(2 * n), ...V.slice(2 * n * n)].every(Number.isFinite)).toBe(true);
    expect([...Lc.slice(0, 2 * n)].every(Number.isNaN)).toBe(true);
    checkEig(data, L, V, 1, n, TOL * n * 4);
    expect(maxDiff(L.slice(2 * n), Lc.slice(2 * n))).toBeLessThan(1e-4);
  });

  it(`complexEig larger than ${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N} is refused with a clear error`, () => {
    const x = inputTensor([WEBGPU_LINALG_MAX_N + 1, WEBGPU_LINALG_MAX_N + 1, 2], 'float32');
    expect(() => gpu!.compile(compile([x], eigOf(x)))).toThrow(/linalg\.eig runs complex matrices up to 32×32.*CPU backend/);
  });
});
