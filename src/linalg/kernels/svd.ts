// Reduced singular value decomposition A = U·diag(S)·Vh by one-sided (Hestenes) Jacobi rotations.

import { EPS, type FloatArray, fillNaN, growF64, growI32, sortPerm } from './common.js';

const SVD_MAX_SWEEPS = 60;

/** A column whose squared norm is at most this times the largest one counts as zero. */
const NEGLIGIBLE2 = 1e-100;

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
 * Normalizes rows perm[0..c) of `g` (c vectors of length r) to g_perm[k] / σ_perm[k], in place. Rows
 * whose σ is zero or negligible (at most about 1e-50·σ_max) are replaced by unit vectors orthogonal to
 * all earlier ones (two passes of Gram-Schmidt on the standard basis vectors), so the c rows end up
 * orthonormal.
 */
function orthonormalize(g: Float64Array, r: number, c: number, perm: Int32Array, sigma: Float64Array): void {
  const smax = c > 0 ? sigma[perm[0]] : 0;
  const small = smax * 2e-50; // a little above jacobiSVD's threshold: rows it never rotated are replaced
  let basis = 0; // next standard basis vector to try
  for (let k = 0; k < c; k++) {
    const rk = perm[k] * r;
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
          const rl = perm[l] * r;
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
  gBuf = growF64(gBuf, mn);
  vtBuf = growF64(vtBuf, k * k);
  dBuf = growF64(dBuf, k);
  permBuf = growI32(permBuf, k);
  const g = gBuf;
  const vt = vtBuf;
  const d = dBuf;
  const perm = permBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * mn;
    const ou = t * m * k;
    const ov = t * k * n;
    // load the columns of X (A if tall, else Aᵀ) as rows of g, tracking max |a_ij|
    let mx = 0;
    let finite = true;
    if (tall) {
      for (let i = 0; i < m; i++) {
        const ri = o + i * n;
        for (let j = 0; j < n; j++) {
          const v = a[ri + j];
          g[j * m + i] = v;
          const av = v < 0 ? -v : v;
          if (av > mx) mx = av;
          else if (!(av <= mx)) finite = false;
        }
      }
    } else {
      for (let i = 0; i < mn; i++) {
        const v = a[o + i];
        g[i] = v;
        const av = v < 0 ? -v : v;
        if (av > mx) mx = av;
        else if (!(av <= mx)) finite = false;
      }
    }
    if (!finite || mx === Number.POSITIVE_INFINITY) {
      fillNaN(U, ou, m * k);
      fillNaN(S, t * k, k);
      fillNaN(Vh, ov, k * n);
      if (failed < 0) failed = t;
      continue;
    }
    // exact power-of-two scaling to max |entry| in [0.7, 1.5) (jacobiSVD relies on it)
    const sc = mx > 0 ? 2 ** -Math.max(-1022, Math.min(1022, Math.round(Math.log2(mx)))) : 1;
    if (sc !== 1) for (let i = 0; i < mn; i++) g[i] *= sc;
    if (!jacobiSVD(g, r, k, vt, d)) {
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
    if (complete) orthonormalize(g, r, k, perm, d);
    if (tall) {
      // U = normalized rows of g as columns, Vh rows = rows of vt
      for (let i = 0; i < k; i++) {
        const src = perm[i] * m;
        const inv = complete ? 1 : 1 / d[perm[i]];
        for (let j = 0; j < m; j++) U[ou + j * k + i] = g[src + j] * inv;
      }
      for (let i = 0; i < k; i++) {
        const src = perm[i] * k;
        const dst = ov + i * n;
        for (let j = 0; j < n; j++) Vh[dst + j] = vt[src + j];
      }
    } else {
      // Aᵀ = U'ΣV'ᵀ so A = V'ΣU'ᵀ: U = V' (columns = rows of vt), Vh rows = normalized rows of g
      for (let i = 0; i < k; i++) {
        const src = perm[i] * k;
        for (let j = 0; j < m; j++) U[ou + j * k + i] = vt[src + j];
      }
      for (let i = 0; i < k; i++) {
        const src = perm[i] * n;
        const dst = ov + i * n;
        const inv = complete ? 1 : 1 / d[perm[i]];
        for (let j = 0; j < n; j++) Vh[dst + j] = g[src + j] * inv;
      }
    }
  }
  return failed;
}
