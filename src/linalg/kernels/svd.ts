// Reduced singular value decomposition A = U·diag(S)·Vh by one-sided (Hestenes) Jacobi rotations.

import { EPS, type FloatArray, fillNaN, growF64, growI32, sortPerm } from './common.js';

const SVD_MAX_SWEEPS = 60;

/** A column whose squared norm is at most this times the largest one counts as zero. */
const NEGLIGIBLE2 = 1e-100;

/** Smallest column length r that takes the unrolled jacobiSVD8 (r <= 8) path. */
const SMALL_MIN = 6;

let gBuf = new Float64Array(0);
let vtBuf = new Float64Array(0);
let dBuf = new Float64Array(0);
let permBuf = new Int32Array(0);

/**
 * One-sided Jacobi on the c columns (each of length r, stored as the rows of `g`, c×r row-major) of a
 * matrix X with r >= c: rotates pairs of columns until all are mutually orthogonal, X·V = G. Row i of
 * `vt` receives column i of V; `d[i]` the squared norm of column i of G (during the sweeps it is updated
 * by the exact identities below; recomputed on return). The columns must be scaled to max |entry| ~ 1.
 * - A pair is left alone when |g_iᵀg_j| <= sqrt(r)·EPS·‖g_i‖‖g_j‖ (relative orthogonality, so
 *   small singular values keep their relative accuracy); the iteration stops after a sweep with no
 *   rotation.
 * - Columns with norm at most 1e-50 times the largest count as zero and are never rotated.
 * - Cyclic row ordering with de Rijk's pivoting (column i is swapped with the largest remaining one
 *   before its row of pairs); inner loops unrolled by 4.
 * Returns false on non-convergence.
 */
export function jacobiSVD(g: Float64Array, r: number, c: number, vt: Float64Array, d: Float64Array): boolean {
  vt.fill(0, 0, c * c);
  for (let i = 0; i < c; i++) vt[i * c + i] = 1;
  const tol2 = r * EPS * EPS; // (sqrt(r)·EPS)²
  const r4 = r & ~3;
  const c4 = c & ~3;
  columnNorms(g, r, c, d);
  for (let sweep = 0; sweep < SVD_MAX_SWEEPS; sweep++) {
    // columns with norm <= 1e-50·max norm are treated as zero (never rotated; the caller replaces them)
    let dmax = 0;
    for (let i = 0; i < c; i++) if (d[i] > dmax) dmax = d[i];
    const dTiny = dmax * NEGLIGIBLE2;
    let rotated = false;
    for (let i = 0; i < c - 1; i++) {
      const ri = i * r;
      const vi = i * c;
      // de Rijk pivoting: bring the largest remaining column to position i
      let best = i;
      let bv = d[i];
      for (let j = i + 1; j < c; j++) {
        if (d[j] > bv) {
          bv = d[j];
          best = j;
        }
      }
      if (best !== i) {
        const rb = best * r;
        for (let k = 0; k < r; k++) {
          const tmp = g[ri + k];
          g[ri + k] = g[rb + k];
          g[rb + k] = tmp;
        }
        const vb = best * c;
        for (let k = 0; k < c; k++) {
          const tmp = vt[vi + k];
          vt[vi + k] = vt[vb + k];
          vt[vb + k] = tmp;
        }
        d[best] = d[i];
        d[i] = bv;
      }
      for (let j = i + 1; j < c; j++) {
        const a = d[i];
        const b = d[j];
        if (a <= dTiny || b <= dTiny) continue;
        const rj = j * r;
        let g0 = 0;
        let g1 = 0;
        let k = 0;
        for (; k < r4; k += 4) {
          g0 += g[ri + k] * g[rj + k] + g[ri + k + 2] * g[rj + k + 2];
          g1 += g[ri + k + 1] * g[rj + k + 1] + g[ri + k + 3] * g[rj + k + 3];
        }
        for (; k < r; k++) g0 += g[ri + k] * g[rj + k];
        const gamma = g0 + g1;
        if (gamma * gamma <= tol2 * a * b) continue;
        rotated = true;
        // g_i' = cs·g_i - sn·g_j, g_j' = sn·g_i + cs·g_j with g_i'ᵀg_j' = 0: t = sn/cs is the smaller
        // root of t² + 2ζt - 1 = 0, ζ = (b - a)/(2γ); with x = b - a, y = 2γ, rr = sqrt(x² + y²),
        // u = |x| + rr: t = sign(x)·y/u and cs = sqrt(u/(2rr)) (fewer dependent divisions than the ζ
        // form). No overflow or underflow in x² + y²: the input is scaled to max |entry| ~ 1, and a
        // rotation needs γ² > tol2·a·b > tol2·dTiny² ≈ 1e-231.
        const x = b - a;
        const y = 2 * gamma;
        const rr = Math.sqrt(x * x + y * y);
        const u = (x < 0 ? -x : x) + rr;
        const cs = Math.sqrt(u / (2 * rr));
        const t = (x < 0 ? -y : y) / u;
        const sn = t * cs;
        for (k = 0; k < r4; k += 4) {
          const p0 = g[ri + k];
          const q0 = g[rj + k];
          const p1 = g[ri + k + 1];
          const q1 = g[rj + k + 1];
          const p2 = g[ri + k + 2];
          const q2 = g[rj + k + 2];
          const p3 = g[ri + k + 3];
          const q3 = g[rj + k + 3];
          g[ri + k] = cs * p0 - sn * q0;
          g[rj + k] = sn * p0 + cs * q0;
          g[ri + k + 1] = cs * p1 - sn * q1;
          g[rj + k + 1] = sn * p1 + cs * q1;
          g[ri + k + 2] = cs * p2 - sn * q2;
          g[rj + k + 2] = sn * p2 + cs * q2;
          g[ri + k + 3] = cs * p3 - sn * q3;
          g[rj + k + 3] = sn * p3 + cs * q3;
        }
        for (; k < r; k++) {
          const p = g[ri + k];
          const q = g[rj + k];
          g[ri + k] = cs * p - sn * q;
          g[rj + k] = sn * p + cs * q;
        }
        // exact identities ‖g_i'‖² = a - tγ, ‖g_j'‖² = b + tγ; recompute on heavy cancellation
        const tg = t * gamma;
        let na = a - tg;
        let nb = b + tg;
        if (na < 0.25 * a) {
          na = 0;
          for (k = 0; k < r; k++) na += g[ri + k] * g[ri + k];
        }
        if (nb < 0.25 * b) {
          nb = 0;
          for (k = 0; k < r; k++) nb += g[rj + k] * g[rj + k];
        }
        d[i] = na;
        d[j] = nb;
        const vj = j * c;
        for (k = 0; k < c4; k += 4) {
          const p0 = vt[vi + k];
          const q0 = vt[vj + k];
          const p1 = vt[vi + k + 1];
          const q1 = vt[vj + k + 1];
          const p2 = vt[vi + k + 2];
          const q2 = vt[vj + k + 2];
          const p3 = vt[vi + k + 3];
          const q3 = vt[vj + k + 3];
          vt[vi + k] = cs * p0 - sn * q0;
          vt[vj + k] = sn * p0 + cs * q0;
          vt[vi + k + 1] = cs * p1 - sn * q1;
          vt[vj + k + 1] = sn * p1 + cs * q1;
          vt[vi + k + 2] = cs * p2 - sn * q2;
          vt[vj + k + 2] = sn * p2 + cs * q2;
          vt[vi + k + 3] = cs * p3 - sn * q3;
          vt[vj + k + 3] = sn * p3 + cs * q3;
        }
        for (; k < c; k++) {
          const p = vt[vi + k];
          const q = vt[vj + k];
          vt[vi + k] = cs * p - sn * q;
          vt[vj + k] = sn * p + cs * q;
        }
      }
    }
    if (!rotated) {
      columnNorms(g, r, c, d); // exact values in place of the updated ones
      return true;
    }
  }
  return false;
}

/**
 * jacobiSVD for r <= 8 and c <= 8 with a fixed row stride of 8 in `g` and `vt` (entries past r in g
 * and past c in vt must be zero; they stay zero). Cyclic row ordering with de Rijk pivoting, as in
 * jacobiSVD, with column i (and row i of vt) held in locals across its row of pairs: a rotation loads and
 * stores only column j.
 */
export function jacobiSVD8(g: Float64Array, r: number, c: number, vt: Float64Array, d: Float64Array): boolean {
  vt.fill(0, 0, c * 8);
  for (let i = 0; i < c; i++) vt[i * 9] = 1;
  const tol2 = r * EPS * EPS;
  for (let i = 0; i < c; i++) {
    const ri = i * 8;
    d[i] = g[ri] * g[ri] + g[ri + 1] * g[ri + 1] + g[ri + 2] * g[ri + 2] + g[ri + 3] * g[ri + 3] + g[ri + 4] * g[ri + 4] + g[ri + 5] * g[ri + 5] + g[ri + 6] * g[ri + 6] + g[ri + 7] * g[ri + 7];
  }
  for (let sweep = 0; sweep < SVD_MAX_SWEEPS; sweep++) {
    let dmax = 0;
    for (let i = 0; i < c; i++) if (d[i] > dmax) dmax = d[i];
    const dTiny = dmax * NEGLIGIBLE2;
    let rotated = false;
    for (let i = 0; i < c - 1; i++) {
      const ri = i * 8;
      let best = i;
      let bv = d[i];
      for (let j = i + 1; j < c; j++) {
        if (d[j] > bv) {
          bv = d[j];
          best = j;
        }
      }
      if (best !== i) {
        const rb = best * 8;
        for (let k = 0; k < 8; k++) {
          const tg = g[ri + k];
          g[ri + k] = g[rb + k];
          g[rb + k] = tg;
          const tv = vt[ri + k];
          vt[ri + k] = vt[rb + k];
          vt[rb + k] = tv;
        }
        d[best] = d[i];
        d[i] = bv;
      }
      let a = d[i];
      if (a <= dTiny) continue;
      let a0 = g[ri];
      let a1 = g[ri + 1];
      let a2 = g[ri + 2];
      let a3 = g[ri + 3];
      let a4 = g[ri + 4];
      let a5 = g[ri + 5];
      let a6 = g[ri + 6];
      let a7 = g[ri + 7];
      let w0 = vt[ri];
      let w1 = vt[ri + 1];
      let w2 = vt[ri + 2];
      let w3 = vt[ri + 3];
      let w4 = vt[ri + 4];
      let w5 = vt[ri + 5];
      let w6 = vt[ri + 6];
      let w7 = vt[ri + 7];
      let touched = false;
      for (let j = i + 1; j < c; j++) {
        const b = d[j];
        if (b <= dTiny) continue;
        const rj = j * 8;
        const b0 = g[rj];
        const b1 = g[rj + 1];
        const b2 = g[rj + 2];
        const b3 = g[rj + 3];
        const b4 = g[rj + 4];
        const b5 = g[rj + 5];
        const b6 = g[rj + 6];
        const b7 = g[rj + 7];
        const gamma = (a0 * b0 + a2 * b2 + (a4 * b4 + a6 * b6)) + (a1 * b1 + a3 * b3 + (a5 * b5 + a7 * b7));
        if (gamma * gamma <= tol2 * a * b) continue;
        touched = true;
        // the rotation of jacobiSVD; when y² < 2^-55·x², fl(x² + y²) = fl(x²), so rr = |x|, u = 2|x|
        // and the same formulas give exactly cs = 1, t = y/(2x): one division instead of a chain of
        // two square roots and two divisions (most rotations of the last sweeps)
        const x = b - a;
        const y = 2 * gamma;
        const x2 = x * x;
        const y2 = y * y;
        let cs = 1;
        let t: number;
        if (y2 < x2 * 2.7755575615628914e-17) {
          t = y / (2 * x);
        } else {
          const rr = Math.sqrt(x2 + y2);
          const u = (x < 0 ? -x : x) + rr;
          cs = Math.sqrt(u / (2 * rr));
          t = (x < 0 ? -y : y) / u;
        }
        const sn = t * cs;
        const n0 = cs * a0 - sn * b0;
        const m0 = sn * a0 + cs * b0;
        a0 = n0;
        g[rj] = m0;
        const n1 = cs * a1 - sn * b1;
        const m1 = sn * a1 + cs * b1;
        a1 = n1;
        g[rj + 1] = m1;
        const n2 = cs * a2 - sn * b2;
        const m2 = sn * a2 + cs * b2;
        a2 = n2;
        g[rj + 2] = m2;
        const n3 = cs * a3 - sn * b3;
        const m3 = sn * a3 + cs * b3;
        a3 = n3;
        g[rj + 3] = m3;
        const n4 = cs * a4 - sn * b4;
        const m4 = sn * a4 + cs * b4;
        a4 = n4;
        g[rj + 4] = m4;
        const n5 = cs * a5 - sn * b5;
        const m5 = sn * a5 + cs * b5;
        a5 = n5;
        g[rj + 5] = m5;
        const n6 = cs * a6 - sn * b6;
        const m6 = sn * a6 + cs * b6;
        a6 = n6;
        g[rj + 6] = m6;
        const n7 = cs * a7 - sn * b7;
        const m7 = sn * a7 + cs * b7;
        a7 = n7;
        g[rj + 7] = m7;
        const tg = t * gamma;
        let na = a - tg;
        let nb = b + tg;
        if (na < 0.25 * a) na = a0 * a0 + a1 * a1 + a2 * a2 + a3 * a3 + a4 * a4 + a5 * a5 + a6 * a6 + a7 * a7;
        if (nb < 0.25 * b) nb = m0 * m0 + m1 * m1 + m2 * m2 + m3 * m3 + m4 * m4 + m5 * m5 + m6 * m6 + m7 * m7;
        a = na;
        d[j] = nb;
        const q0 = vt[rj];
        const q1 = vt[rj + 1];
        const q2 = vt[rj + 2];
        const q3 = vt[rj + 3];
        const q4 = vt[rj + 4];
        const q5 = vt[rj + 5];
        const q6 = vt[rj + 6];
        const q7 = vt[rj + 7];
        vt[rj] = sn * w0 + cs * q0;
        w0 = cs * w0 - sn * q0;
        vt[rj + 1] = sn * w1 + cs * q1;
        w1 = cs * w1 - sn * q1;
        vt[rj + 2] = sn * w2 + cs * q2;
        w2 = cs * w2 - sn * q2;
        vt[rj + 3] = sn * w3 + cs * q3;
        w3 = cs * w3 - sn * q3;
        vt[rj + 4] = sn * w4 + cs * q4;
        w4 = cs * w4 - sn * q4;
        vt[rj + 5] = sn * w5 + cs * q5;
        w5 = cs * w5 - sn * q5;
        vt[rj + 6] = sn * w6 + cs * q6;
        w6 = cs * w6 - sn * q6;
        vt[rj + 7] = sn * w7 + cs * q7;
        w7 = cs * w7 - sn * q7;
      }
      if (touched) {
        rotated = true;
        d[i] = a;
        g[ri] = a0;
        g[ri + 1] = a1;
        g[ri + 2] = a2;
        g[ri + 3] = a3;
        g[ri + 4] = a4;
        g[ri + 5] = a5;
        g[ri + 6] = a6;
        g[ri + 7] = a7;
        vt[ri] = w0;
        vt[ri + 1] = w1;
        vt[ri + 2] = w2;
        vt[ri + 3] = w3;
        vt[ri + 4] = w4;
        vt[ri + 5] = w5;
        vt[ri + 6] = w6;
        vt[ri + 7] = w7;
      }
    }
    if (!rotated) {
      for (let i = 0; i < c; i++) {
        const ri = i * 8;
        d[i] = g[ri] * g[ri] + g[ri + 1] * g[ri + 1] + g[ri + 2] * g[ri + 2] + g[ri + 3] * g[ri + 3] + g[ri + 4] * g[ri + 4] + g[ri + 5] * g[ri + 5] + g[ri + 6] * g[ri + 6] + g[ri + 7] * g[ri + 7];
      }
      return true;
    }
  }
  return false;
}

/** d[i] = squared 2-norm of row i of the c×r matrix g. */
function columnNorms(g: Float64Array, r: number, c: number, d: Float64Array): void {
  for (let i = 0; i < c; i++) {
    const ri = i * r;
    let s = 0;
    for (let k = 0; k < r; k++) {
      const v = g[ri + k];
      s += v * v;
    }
    d[i] = s;
  }
}

/**
 * Normalizes rows perm[0..c) of `g` (c vectors of length r, row stride gs) to g_perm[k] / σ_perm[k], in place. Rows
 * whose σ is zero or negligible (at most about 1e-50·σ_max) are replaced by unit vectors orthogonal to
 * all earlier ones (two passes of Gram-Schmidt on the standard basis vectors), so the c rows end up
 * orthonormal.
 */
function orthonormalize(
  g: Float64Array,
  r: number,
  c: number,
  perm: Int32Array,
  sigma: Float64Array,
  gs: number,
): void {
  const smax = c > 0 ? sigma[perm[0]] : 0;
  const small = smax * 2e-50; // a little above jacobiSVD's threshold: rows it never rotated are replaced
  let basis = 0; // next standard basis vector to try
  for (let k = 0; k < c; k++) {
    const rk = perm[k] * gs;
    const sk = sigma[perm[k]];
    if (sk > small) {
      const inv = 1 / sk;
      for (let i = 0; i < r; i++) g[rk + i] *= inv;
      continue;
    }
    for (; basis < r; basis++) {
      for (let i = 0; i < r; i++) g[rk + i] = 0;
      g[rk + basis] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let l = 0; l < k; l++) {
          const rl = perm[l] * gs;
          let dot = 0;
          for (let i = 0; i < r; i++) dot += g[rl + i] * g[rk + i];
          for (let i = 0; i < r; i++) g[rk + i] -= dot * g[rl + i];
        }
      }
      let nrm = 0;
      for (let i = 0; i < r; i++) nrm += g[rk + i] * g[rk + i];
      if (nrm > 0.25) {
        const inv = 1 / Math.sqrt(nrm);
        for (let i = 0; i < r; i++) g[rk + i] *= inv;
        basis++;
        break;
      }
    }
  }
}

/**
 * Reduced SVD of each `m`×`n` matrix (row-major), like torch.linalg.svd(full_matrices=False):
 * k = min(m, n), `U` m×k with orthonormal columns, `S` k values descending and >= 0, `Vh` k×n with
 * orthonormal rows. One-sided Jacobi on the columns of A (m >= n) or of Aᵀ (m < n). Zero singular
 * values get singular vectors completing an orthonormal basis. Singular vectors have no canonical
 * sign (deterministic, but not normalized). An item fails (outputs NaN) on non-finite input or
 * non-convergence. Returns -1 or the first failed batch index.
 */
export function svd(
  a: FloatArray,
  batch: number,
  m: number,
  n: number,
  U: FloatArray,
  S: FloatArray,
  Vh: FloatArray,
): number {
  const k = m < n ? m : n;
  const tall = m > n; // square matrices take the Aᵀ path: rows of A load contiguously
  const r = tall ? m : n; // column length of the matrix Jacobi works on
  const mn = m * n;
  // up to 8×8 Jacobi runs on rows of stride 8, zero-padded (jacobiSVD8)
  const small = r <= 8 && r >= SMALL_MIN;
  const gs = small ? 8 : r; // row stride of g
  const vs = small ? 8 : k; // row stride of vt
  gBuf = growF64(gBuf, k * gs);
  vtBuf = growF64(vtBuf, k * vs);
  dBuf = growF64(dBuf, k);
  permBuf = growI32(permBuf, k);
  const g = gBuf;
  const vt = vtBuf;
  const d = dBuf;
  const perm = permBuf;
  if (small) g.fill(0, 0, k * gs); // padding: stays zero (rotations and row swaps keep it)
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * mn;
    const ou = t * m * k;
    const ov = t * k * n;
    // load the columns of X (A if tall, else Aᵀ) as rows of g, tracking max |a_ij|
    let mx = 0;
    if (tall) {
      for (let i = 0; i < m; i++) {
        const ri = o + i * n;
        for (let j = 0; j < n; j++) {
          const v = a[ri + j];
          g[j * gs + i] = v;
          mx = Math.max(mx, Math.abs(v)); // branch-free; NaN propagates
        }
      }
    } else {
      for (let i = 0; i < m; i++) {
        const ri = o + i * n;
        const gi = i * gs;
        for (let j = 0; j < n; j++) {
          const v = a[ri + j];
          g[gi + j] = v;
          mx = Math.max(mx, Math.abs(v));
        }
      }
    }
    if (!(mx <= Number.MAX_VALUE)) {
      // NaN or ±Infinity in the input
      fillNaN(U, ou, m * k);
      fillNaN(S, t * k, k);
      fillNaN(Vh, ov, k * n);
      if (failed < 0) failed = t;
      continue;
    }
    // exact power-of-two scaling to max |entry| in [0.7, 1.5) (jacobiSVD relies on it)
    const sc = mx > 0 ? 2 ** -Math.max(-1022, Math.min(1022, Math.round(Math.log2(mx)))) : 1;
    if (sc !== 1) for (let i = 0; i < k * gs; i++) g[i] *= sc;
    if (!(small ? jacobiSVD8(g, r, k, vt, d) : jacobiSVD(g, r, k, vt, d))) {
      fillNaN(U, ou, m * k);
      fillNaN(S, t * k, k);
      fillNaN(Vh, ov, k * n);
      if (failed < 0) failed = t;
      continue;
    }
    for (let i = 0; i < k; i++) d[i] = Math.sqrt(d[i]); // exact squared norms: see jacobiSVD
    sortPerm(d, k, perm, true);
    const unscale = 1 / sc;
    for (let i = 0; i < k; i++) S[t * k + i] = d[perm[i]] * unscale;
    // singular vectors from g: rows scaled by 1/σ on output, unless some σ is negligible, in which case
    // orthonormalize() normalizes in place and completes the basis (then the output scale is 1)
    const complete = k > 0 && !(d[perm[k - 1]] > d[perm[0]] * 2e-50);
    if (complete) orthonormalize(g, r, k, perm, d, gs);
    if (tall) {
      // U = normalized rows of g as columns, Vh rows = rows of vt
      for (let i = 0; i < k; i++) {
        const src = perm[i] * gs;
        const inv = complete ? 1 : 1 / d[perm[i]];
        for (let j = 0; j < m; j++) U[ou + j * k + i] = g[src + j] * inv;
      }
      for (let i = 0; i < k; i++) {
        const src = perm[i] * vs;
        const dst = ov + i * n;
        for (let j = 0; j < n; j++) Vh[dst + j] = vt[src + j];
      }
    } else {
      // Aᵀ = U'ΣV'ᵀ so A = V'ΣU'ᵀ: U = V' (columns = rows of vt), Vh rows = normalized rows of g
      for (let i = 0; i < k; i++) {
        const src = perm[i] * vs;
        for (let j = 0; j < m; j++) U[ou + j * k + i] = vt[src + j];
      }
      for (let i = 0; i < k; i++) {
        const src = perm[i] * gs;
        const dst = ov + i * n;
        const inv = complete ? 1 : 1 / d[perm[i]];
        for (let j = 0; j < n; j++) Vh[dst + j] = g[src + j] * inv;
      }
    }
  }
  return failed;
}
