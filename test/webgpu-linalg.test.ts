import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { WEBGPU_LINALG_MAX_N } from '../src/backends/webgpu/linalg.js';
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import type { Backend } from '../src/backends/backend.js';
import * as mg from '../src/index.js';
import { noteSkip, requireWebGpu, runFloat32 as run, webgpuForTests } from './helpers/webgpu.js';

// The WGSL decompositions (src/backends/webgpu/linalg.ts) on their own: invariants (A·V = V·Λ,
// U·S·Vh = A, Q·R = A, L·Lᵀ = A, A·X = B) and the values the CPU kernels give in float32, over sizes
// 1..32, batches, degenerate and failing inputs. Then every problem kind that can run on WebGPU.
//
// Tolerances (float32, entries in [-1, 1)): residuals and orthogonality ≤ TOL·n·scale, where
// TOL = 2e-6 (about 16 ulp); eigen/singular values and determinants against the CPU ≤ TOL·n·scale.

const TOL = 2e-6;

const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('webgpu-linalg.test.ts', reason);


const rand = (shape: number[], seed: number) => mg.random(shape, { seed, dtype: 'float32', low: -1, high: 1 });
const f32 = (data: ArrayLike<number>, shape: number[]) => mg.tensor(Float32Array.from(data), { shape });

/** Largest |x − y| over the arrays. */
function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return Number.isNaN(d) ? Infinity : d;
}

/** Row-major matrix k of a batch (float64 copy). */
const item = (x: ArrayLike<number>, k: number, rows: number, cols: number) =>
  Float64Array.from({ length: rows * cols }, (_, i) => x[k * rows * cols + i]);
function mm(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number, ta = false, tb = false) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}
const eye = (n: number) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
const scaleCols = (a: ArrayLike<number>, d: ArrayLike<number>, m: number, n: number) =>
  Float64Array.from({ length: m * n }, (_, i) => a[i] * d[i % n]);
const sym = (x: mg.Tensor) => mg.mul(mg.add(x, mg.transpose(x)), 0.5);
const shift = (x: mg.Tensor, s: number) => mg.add(x, mg.mul(mg.eye(x.shape[x.shape.length - 1], { dtype: 'float32' }), s));

const SIZES = [1, 2, 3, 5, 8, 16, 32];
const B = 3;

describe.skipIf(!gpu)('webgpu linalg: invariants and CPU parity (float32)', () => {
  it.runIf(requireWebGpu)('has an adapter', () => expect(gpu, reason).not.toBeNull());

  for (const n of SIZES) {
    it(`eigh ${B}×${n}×${n}: A·V = V·Λ, VᵀV = I, ascending, sign convention, values = CPU`, async () => {
      const A = sym(rand([B, n, n], n));
      const Ad = A.dataSync();
      const [L, V] = await run(gpu!, [A], (a) => {
        const r = mg.linalg.eigh(a);
        return [r.values, r.vectors];
      });
      const [Lc] = await run(mg.cpu, [A], (a) => [mg.linalg.eigh(a).values]);
      const tol = TOL * n * 4;
      expect(maxDiff(L, Lc)).toBeLessThan(tol);
      for (let k = 0; k < B; k++) {
        const a = item(Ad, k, n, n);
        const v = item(V, k, n, n);
        const lam = item(L, k, 1, n);
        expect(maxDiff(mm(a, v, n, n, n), scaleCols(v, lam, n, n))).toBeLessThan(tol);
        expect(maxDiff(mm(v, v, n, n, n, true), eye(n))).toBeLessThan(tol);
        for (let j = 1; j < n; j++) expect(lam[j]).toBeGreaterThanOrEqual(lam[j - 1]);
        for (let j = 0; j < n; j++) {
          let best = 0;
          for (let r = 0; r < n; r++) if (Math.abs(v[r * n + j]) > Math.abs(best)) best = v[r * n + j];
          expect(best).toBeGreaterThan(0);
        }
      }
    });
  }

  const svdShapes = [
    [1, 1],
    [3, 3],
    [5, 3],
    [3, 5],
    [8, 8],
    [32, 7],
    [6, 32],
    [32, 32],
  ];
  for (const [m, n] of svdShapes) {
    it(`svd ${B}×${m}×${n}: U·S·Vh = A, orthonormal factors, descending, values = CPU`, async () => {
      const A = rand([B, m, n], m * 100 + n);
      const Ad = A.dataSync();
      const k = Math.min(m, n);
      const [U, S, Vh] = await run(gpu!, [A], (a) => {
        const r = mg.linalg.svd(a);
        return [r.U, r.S, r.Vh];
      });
      const [Sc] = await run(mg.cpu, [A], (a) => [mg.linalg.svdvals(a)]);
      const tol = TOL * Math.max(m, n) * 4;
      expect(maxDiff(S, Sc)).toBeLessThan(tol);
      for (let b = 0; b < B; b++) {
        const u = item(U, b, m, k);
        const s = item(S, b, 1, k);
        const vh = item(Vh, b, k, n);
        expect(maxDiff(mm(scaleCols(u, s, m, k), vh, m, k, n), item(Ad, b, m, n))).toBeLessThan(tol);
        expect(maxDiff(mm(u, u, k, m, k, true), eye(k))).toBeLessThan(tol);
        expect(maxDiff(mm(vh, vh, k, n, k, false, true), eye(k))).toBeLessThan(tol);
        for (let j = 1; j < k; j++) expect(s[j]).toBeLessThanOrEqual(s[j - 1]);
      }
    });
  }

  it('svd of rank-deficient and zero matrices completes orthonormal singular vectors', async () => {
    // rank 1 (5×3 and its transpose) and all zeros
    const x = [1, -2, 0.5, 3, 1];
    const y = [2, 1, -1];
    const r1 = f32(
      x.flatMap((xi) => y.map((yj) => xi * yj)),
      [5, 3],
    );
    for (const A of [r1, mg.transpose(r1), mg.zeros([4, 3], { dtype: 'float32' })]) {
      const [m, n] = A.shape;
      const k = Math.min(m, n);
      const [U, S, Vh] = await run(gpu!, [A], (a) => {
        const r = mg.linalg.svd(a);
        return [r.U, r.S, r.Vh];
      });
      const scale = Math.max(1, S[0]);
      for (let j = 1; j < k; j++) expect(S[j]).toBeLessThan(1e-5 * scale);
      expect(maxDiff(mm(U, U, k, m, k, true), eye(k))).toBeLessThan(1e-5);
      expect(maxDiff(mm(Vh, Vh, k, n, k, false, true), eye(k))).toBeLessThan(1e-5);
      expect(maxDiff(mm(scaleCols(U, S, m, k), Vh, m, k, n), A.dataSync())).toBeLessThan(1e-5 * scale);
    }
  });

  it('eigh of matrices with repeated eigenvalues (identity, a double eigenvalue) is orthonormal', async () => {
    const q = [0.6, 0.8, -0.8, 0.6]; // a rotation: Q·diag(2, 2, -1)·Qᵀ has a double eigenvalue
    const Q = [q[0], q[1], 0, q[2], q[3], 0, 0, 0, 1];
    const D = mm(scaleCols(Q, [2, 2, -1], 3, 3), Q, 3, 3, 3, false, true);
    for (const A of [mg.eye(4, { dtype: 'float32' }), f32(D, [3, 3])]) {
      const n = A.shape[0];
      const [L, V] = await run(gpu!, [A], (a) => {
        const r = mg.linalg.eigh(a);
        return [r.values, r.vectors];
      });
      expect(maxDiff(mm(V, V, n, n, n, true), eye(n))).toBeLessThan(1e-6);
      expect(maxDiff(mm(A.dataSync(), V, n, n, n), scaleCols(V, L, n, n))).toBeLessThan(1e-6);
    }
  });

  for (const n of SIZES) {
    it(`solve, inv, det, slogdet ${B}×${n}×${n} (LU, partial pivoting): residuals and CPU parity`, async () => {
      const A = shift(rand([B, n, n], 7 + n), 2);
      const Bm = rand([B, n, 2], 8 + n);
      const run2 = (b: Backend) =>
        run(b, [A, Bm], (a, rhs) => {
          const s = mg.linalg.slogdet(a);
          return [mg.linalg.solve(a, rhs), mg.linalg.inv(a), mg.linalg.det(a), s.sign, s.logabsdet];
        });
      const [X, Ai, D, Sg, La] = await run2(gpu!);
      const [, , Dc, Sgc, Lac] = await run2(mg.cpu);
      const Ad = A.dataSync();
      const tol = TOL * n * 4;
      for (let b = 0; b < B; b++) {
        const a = item(Ad, b, n, n);
        expect(maxDiff(mm(a, item(X, b, n, 2), n, n, 2), item(Bm.dataSync(), b, n, 2))).toBeLessThan(tol);
        expect(maxDiff(mm(a, item(Ai, b, n, n), n, n, n), eye(n))).toBeLessThan(tol);
        expect(Math.abs(D[b] - Dc[b])).toBeLessThanOrEqual(tol * Math.abs(Dc[b]));
      }
      expect([...Sg]).toEqual([...Sgc]);
      expect(maxDiff(La, Lac)).toBeLessThan(tol);
    });
    it(`cholesky and qr ${B}×${n}×${n}: L·Lᵀ = A, Q·R = A, diag(R) ≥ 0, CPU parity`, async () => {
      const X = rand([B, n, n], 20 + n);
      const P = shift(mg.matmul(X, mg.transpose(X)), 1);
      const go = (b: Backend) =>
        run(b, [P, X], (p, x) => {
          const { Q, R } = mg.linalg.qr(x);
          return [mg.linalg.cholesky(p), Q, R];
        });
      const [L, Q, R] = await go(gpu!);
      const [Lc, Qc, Rc] = await go(mg.cpu);
      const tol = TOL * n * 8;
      expect(maxDiff(L, Lc)).toBeLessThan(tol);
      expect(maxDiff(Q, Qc)).toBeLessThan(tol * 10);
      expect(maxDiff(R, Rc)).toBeLessThan(tol * 10);
      for (let b = 0; b < B; b++) {
        const l = item(L, b, n, n);
        expect(maxDiff(mm(l, l, n, n, n, false, true), item(P.dataSync(), b, n, n))).toBeLessThan(tol * n);
        const q = item(Q, b, n, n);
        const r = item(R, b, n, n);
        expect(maxDiff(mm(q, r, n, n, n), item(X.dataSync(), b, n, n))).toBeLessThan(tol);
        expect(maxDiff(mm(q, q, n, n, n, true), eye(n))).toBeLessThan(tol);
        for (let i = 0; i < n; i++) {
          expect(r[i * n + i]).toBeGreaterThanOrEqual(0);
          for (let j = 0; j < i; j++) expect(r[i * n + j]).toBe(0);
        }
      }
    });
  }

  it('qr of tall and wide matrices matches the CPU', async () => {
    for (const [m, n] of [
      [7, 3],
      [3, 7],
      [32, 5],
    ]) {
      const X = rand([2, m, n], m + n);
      const go = (b: Backend) =>
        run(b, [X], (x) => {
          const { Q, R } = mg.linalg.qr(x);
          return [Q, R];
        });
      const [Q, R] = await go(gpu!);
      const [Qc, Rc] = await go(mg.cpu);
      expect(maxDiff(Q, Qc)).toBeLessThan(1e-4);
      expect(maxDiff(R, Rc)).toBeLessThan(1e-4);
    }
  });

  it('failures give what the CPU gives: NaN items (singular, not PD, non-finite), det 0, slogdet (0, −∞)', async () => {
    const singular = f32([1, 2, 2, 4, 1, 0, 0, 1], [2, 2, 2]); // item 0 singular, item 1 the identity
    const go = (b: Backend) =>
      run(b, [singular], (a) => {
        const s = mg.linalg.slogdet(a);
        return [mg.linalg.inv(a), mg.linalg.solve(a, a), mg.linalg.det(a), s.sign, s.logabsdet, mg.linalg.cholesky(a)];
      });
    const got = await go(gpu!);
    const want = await go(mg.cpu);
    got.forEach((g, o) => expect([...g], `output ${o}`).toEqual([...want[o]]));
    expect(Number.isNaN(got[0][0])).toBe(true);
    expect([...got[2]]).toEqual([0, 1]);
    expect(got[4][0]).toBe(-Infinity);
    const bad = f32([1, 0, Number.NaN, 1], [2, 2]); // NaN in the lower triangle (the one eigh reads)
    const [ev, vec, sv] = await run(gpu!, [bad], (a) => [mg.linalg.eigh(a).values, mg.linalg.eigh(a).vectors, mg.linalg.svdvals(a)]);
    for (const x of [ev, vec, sv]) expect([...x].every(Number.isNaN)).toBe(true);
  });

  it(`matrices larger than ${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N} are refused with a clear error`, () => {
    const x = inputTensor([WEBGPU_LINALG_MAX_N + 1, WEBGPU_LINALG_MAX_N + 1], 'float32');
    expect(() => gpu!.compile(compile([x], [mg.linalg.eigh(x).values]))).toThrow(/linalg\.eigh runs matrices up to 32×32.*CPU backend/);
    expect(() => gpu!.compile(compile([x], [mg.linalg.inv(x)]))).toThrow(/linalg\.inv runs matrices up to 32×32/);
  });

  for (const n of SIZES) {
    it(`eig ${B}×${n}×${n} (real spectra, non-symmetric): A·V = V·Λ, unit columns, ascending, values = CPU`, async () => {
      // A = T·diag(1..n)·T⁻¹ with T = I + X/(2√n): eigenvalues 1..n, eigenvectors far from orthogonal
      const X = mg.random([B, n, n], { seed: 40 + n, low: -1, high: 1 });
      const T = mg.add(mg.eye(n), mg.mul(X, 0.5 / Math.sqrt(n)));
      const D = mg.diagEmbed(mg.tensor(Array.from({ length: n }, (_, j) => j + 1)));
      const A = f32(mg.matmul(mg.matmul(T, D), mg.linalg.inv(T)).dataSync(), [B, n, n]);
      const go = (b: Backend) =>
        run(b, [A], (a) => {
          const r = mg.linalg.eig(a);
          return [r.values, r.vectors];
        });
      const [L, V] = await go(gpu!);
      const [Lc] = await go(mg.cpu);
      const tol = TOL * n * n * 4;
      expect(maxDiff(L, Lc)).toBeLessThan(tol);
      for (let k = 0; k < B; k++) {
        const a = item(A.dataSync(), k, n, n);
        const v = item(V, k, n, n);
        const lam = item(L, k, 1, n);
        expect(maxDiff(mm(a, v, n, n, n), scaleCols(v, lam, n, n))).toBeLessThan(tol);
        for (let j = 0; j < n; j++) {
          let norm = 0;
          let best = 0;
          for (let r = 0; r < n; r++) {
            norm += v[r * n + j] ** 2;
            if (Math.abs(v[r * n + j]) > Math.abs(best)) best = v[r * n + j];
          }
          expect(Math.abs(norm - 1)).toBeLessThan(1e-5);
          expect(best).toBeGreaterThan(0);
          if (j > 0) expect(lam[j]).toBeGreaterThanOrEqual(lam[j - 1]);
        }
      }
    });
  }

  it('eig of a matrix with a complex pair fails (NaN), like the CPU; the other items are computed', async () => {
    const A = f32([0, -1, 1, 0, 2, 1, 0, 3], [2, 2, 2]);
    const go = (b: Backend) =>
      run(b, [A], (a) => {
        const r = mg.linalg.eig(a);
        return [r.values, r.vectors];
      });
    const [L, V] = await go(gpu!);
    const [Lc, Vc] = await go(mg.cpu);
    expect([...L.slice(0, 2), ...V.slice(0, 4)].every(Number.isNaN)).toBe(true);
    expect(maxDiff(L.slice(2), Lc.slice(2))).toBeLessThan(1e-6);
    expect(maxDiff(V.slice(4), Vc.slice(4))).toBeLessThan(1e-6);
  });

  it('a large batch (4096 × 8×8 eigh and svd) matches the CPU', async () => {
    const A = sym(rand([4096, 8, 8], 99));
    const t0 = performance.now();
    const [L, S] = await run(gpu!, [A], (a) => [mg.linalg.eigvalsh(a), mg.linalg.svdvals(a)]);
    const t1 = performance.now();
    const [Lc, Sc] = await run(mg.cpu, [A], (a) => [mg.linalg.eigvalsh(a), mg.linalg.svdvals(a)]);
    const t2 = performance.now();
    console.info(`[webgpu-linalg] 4096×8×8 eigvalsh+svdvals: webgpu ${(t1 - t0).toFixed(0)} ms (incl. compile), cpu ${(t2 - t1).toFixed(0)} ms`);
    expect(maxDiff(L, Lc)).toBeLessThan(TOL * 32);
    expect(maxDiff(S, Sc)).toBeLessThan(TOL * 32);
  });
});

describe.skipIf(!gpu)('webgpu: every problem kind that can run on WebGPU does, close to CPU float32', () => {
  type Spec = Record<string, unknown>;
  const both = async (spec: Spec, opts: Omit<mg.SolveOptions, 'backend' | 'dtype'>) => {
    const cpu = await lastValueFrom(mg.solve(mg.problem({ ...spec, dtype: 'float32' }), { ...opts, backend: 'cpu' }));
    const web = await lastValueFrom(mg.solve(mg.problem(spec), { ...opts, backend: 'webgpu' }));
    if (!cpu.done || !web.done) throw new Error('no final result');
    expect(web.backend).toMatch(/^webgpu \(/);
    expect(cpu.backend).toBe('cpu');
    return { cpu, web };
  };
  const closeRel = (a: number, b: number, rtol: number, atol: number) =>
    expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(atol + rtol * Math.abs(b));

  it('inverse (8×8, batch of 4)', async () => {
    const spec = { kind: 'inverse', matrix: { random: { shape: [4, 8, 8], seed: 3, shift: 3 } } } as Spec;
    const { cpu, web } = await both(spec, { optimizer: mg.optimizers.adam({ lr: 0.01 }), steps: 300, reportEvery: 100 });
    closeRel(web.loss, cpu.loss, 1e-2, 1e-7);
  });
  it('complex inverse (complex64: 4×4 matrix + i·imag, batch of 2)', async () => {
    const spec = {
      kind: 'inverse',
      matrix: { random: { shape: [2, 4, 4], seed: 3, shift: 3 } },
      imag: { random: { shape: [2, 4, 4], seed: 4 } },
    } as Spec;
    const { cpu, web } = await both(spec, { optimizer: mg.optimizers.adam({ lr: 0.01 }), steps: 300, reportEvery: 100 });
    closeRel(web.loss, cpu.loss, 1e-2, 1e-7);
    closeRel(web.metrics.relativeError, cpu.metrics.relativeError, 1e-2, 1e-6);
  });
  it('svd (stiefel, 6×4)', async () => {
    const spec = { kind: 'svd', matrix: { random: { shape: [6, 4], seed: 5 } }, parametrization: 'stiefel' } as Spec;
    const { cpu, web } = await both(spec, { steps: 300, reportEvery: 100 });
    closeRel(web.loss, cpu.loss, 2e-2, 1e-6);
    closeRel(web.metrics.orthogonality, cpu.metrics.orthogonality, 1, 1e-5);
  });
  it('lambda-min (n = 5, batch of 3: eigvalsh on the GPU)', async () => {
    const spec = { kind: 'lambda-min', n: 5, batch: [3] } as Spec;
    const { cpu, web } = await both(spec, { optimizer: mg.optimizers.adam({ lr: 0.01 }), steps: 300, reportEvery: 100 });
    closeRel(web.loss, cpu.loss, 1e-3, 1e-5);
    closeRel(web.metrics.gap, cpu.metrics.gap, 5e-2, 1e-4);
  });
  it("eigenvector with gradient 'closed-form' (eigh's VJP on the GPU)", async () => {
    const spec = {
      kind: 'eigenvector',
      matrix: { random: { shape: [5, 5], seed: 4 } },
      gradient: 'closed-form',
      which: 'largest',
    } as Spec;
    const { cpu, web } = await both(spec, { optimizer: mg.optimizers.adam({ lr: 0.02 }), steps: 200, reportEvery: 100 });
    closeRel(web.loss, cpu.loss, 5e-2, 1e-6);
  });
  it("eigenvector with gradient 'implicit' (customRoot: a JS solver) is CPU-only: clear error on 'webgpu', CPU on 'auto'", async () => {
    const spec = { kind: 'eigenvector', matrix: { random: { shape: [4, 4], seed: 4 } }, gradient: 'implicit' } as Spec;
    await expect(lastValueFrom(mg.solve(mg.problem(spec), { backend: 'webgpu', steps: 5 }))).rejects.toThrow(
      /customRoot.*not supported yet.*host-side.*CPU backend/,
    );
    const r = await lastValueFrom(mg.solve(mg.problem(spec), { backend: 'auto', steps: 20, reportEvery: 20 }));
    expect(r.done && r.backend).toBe('cpu');
  });
});
