// Batched dense linear algebra on COMPLEX matrices: reduced SVD (one-sided Jacobi with complex
// rotations), Hermitian eigendecomposition (cyclic complex Jacobi), LU with partial pivoting
// (solve, inverse, determinant, slogdet), Cholesky, Householder QR, and the general (non-Hermitian)
// eigendecomposition (Hessenberg reduction, single-shift complex QR, Schur back-substitution).
//
// Storage: interleaved (re, im) pairs, row-major, `batch` matrices back to back: element (b, i, j) of
// an m×n complex matrix has its real part at 2·((b·m + i)·n + j) and its imaginary part right after.
// Real-valued outputs (singular values, eigenvalues) hold one number per value. Otherwise the
// conventions of the real kernels hold (see ../kernels.ts): float64 arithmetic, float32 outputs
// rounded on the final write, -1 or the first failed batch index returned, NaN outputs for a failed
// item, grow-only scratch (no allocation on repeated calls with the same sizes), deterministic results.

import { EPS, type FloatArray, fillNaN, growF64, growI32, loadMaxAbs, pow2Scale, sortPerm } from './common.js';

const SVD_MAX_SWEEPS = 60;
const EIGH_MAX_SWEEPS = 60;

/** A column whose squared norm is at most this times the largest one counts as zero. */
const NEGLIGIBLE2 = 1e-100;

/** Row stride (doubles) of the 4×4 SVD path: 4 complex entries of G, then 4 of V. */
const SMALL_STRIDE = 16;

let gBuf = new Float64Array(0);
let vtBuf = new Float64Array(0);
let dBuf = new Float64Array(0);
let permBuf = new Int32Array(0);
let wBuf = new Float64Array(0);
let rhsBuf = new Float64Array(0);
let pivBuf = new Int32Array(0);

// ---------------------------------------------------------------------------------------------------
// SVD
// ---------------------------------------------------------------------------------------------------

/**
 * One-sided Jacobi on the c complex columns (each of length r, stored as the rows of `g`, c×r complex
 * row-major, 2r doubles a row) of a matrix X with r >= c: X·V = G with the columns of G mutually
 * orthogonal. Row i of `vt` (c complex entries) receives column i of the unitary V; `d[i]` the squared
 * norm of column i of G (exact on return). The input must be scaled to max |entry| ~ 1.
 *
 * For a pair with α = ‖g_i‖², β = ‖g_j‖², γ = g_iᴴ·g_j = |γ|·e^{iφ}, the rotation is
 *   g_i' = cs·g_i − P·g_j,   g_j' = cs·g_j + conj(P)·g_i,   P = sn·e^{-iφ}
 * (the real Jacobi rotation on |γ| after the phase e^{-iφ} on g_j turns γ real, with column j then
 * multiplied back by e^{iφ}: still unitary), after which g_i'ᴴ·g_j' = 0,
 * ‖g_i'‖² = α − t|γ| and ‖g_j'‖² = β + t|γ| (t = sn/cs). A pair is left alone when
 * |γ| <= sqrt(r)·EPS·‖g_i‖‖g_j‖ (relative orthogonality); the iteration stops after a sweep with no
 * rotation. Columns with squared norm at most 1e-100 times the largest count as zero and are never
 * rotated. Cyclic row ordering with de Rijk's pivoting. Returns false on non-convergence.
 */
function cjacobiSVD(g: Float64Array, r: number, c: number, vt: Float64Array, d: Float64Array): boolean {
  const r2 = 2 * r;
  const c2 = 2 * c;
  vt.fill(0, 0, c * c2);
  for (let i = 0; i < c; i++) vt[i * c2 + 2 * i] = 1;
  const tol2 = r * EPS * EPS;
  for (let i = 0; i < c; i++) d[i] = sqNorm(g, i * r2, r2);
  for (let sweep = 0; sweep < SVD_MAX_SWEEPS; sweep++) {
    let dmax = 0;
    for (let i = 0; i < c; i++) if (d[i] > dmax) dmax = d[i];
    const dTiny = dmax * NEGLIGIBLE2;
    let rotated = false;
    for (let i = 0; i < c - 1; i++) {
      const ri = i * r2;
      const vi = i * c2;
      let best = i;
      let bv = d[i];
      for (let j = i + 1; j < c; j++) {
        if (d[j] > bv) {
          bv = d[j];
          best = j;
        }
      }
      if (best !== i) {
        swapRange(g, ri, best * r2, r2);
        swapRange(vt, vi, best * c2, c2);
        d[best] = d[i];
        d[i] = bv;
      }
      for (let j = i + 1; j < c; j++) {
        const a = d[i];
        const b = d[j];
        if (a <= dTiny || b <= dTiny) continue;
        const rj = j * r2;
        let gr = 0;
        let gi = 0;
        for (let k = 0; k < r2; k += 2) {
          const xr = g[ri + k];
          const xi = g[ri + k + 1];
          const yr = g[rj + k];
          const yi = g[rj + k + 1];
          gr += xr * yr + xi * yi;
          gi += xr * yi - xi * yr;
        }
        const gg = gr * gr + gi * gi;
        if (gg <= tol2 * a * b) continue;
        rotated = true;
        // real rotation on |γ| (see svd.ts): x = β − α, y = 2|γ|, rr = sqrt(x² + y²), u = |x| + rr,
        // t = sign(x)·y/u, cs = sqrt(u/(2rr)); with h = sign(x)·2/u this gives P = sn·e^{-iφ} =
        // h·cs·conj(γ) and t|γ| = h·|γ|² (no |γ| needed). No overflow or underflow: entries are scaled
        // to ~1 and a rotation needs |γ|² > tol2·α·β > ~1e-231.
        const x = b - a;
        const rr = Math.sqrt(x * x + 4 * gg);
        const u = (x < 0 ? -x : x) + rr;
        const cs = Math.sqrt(u / (2 * rr));
        const hh = (x < 0 ? -2 : 2) / u;
        const hc = hh * cs;
        const pr = hc * gr;
        const pi = -hc * gi;
        rotatePair(g, ri, rj, r2, cs, pr, pi);
        const tg = hh * gg;
        let na = a - tg;
        let nb = b + tg;
        if (na < 0.25 * a) na = sqNorm(g, ri, r2);
        if (nb < 0.25 * b) nb = sqNorm(g, rj, r2);
        d[i] = na;
        d[j] = nb;
        rotatePair(vt, vi, j * c2, c2, cs, pr, pi);
      }
    }
    if (!rotated) {
      for (let i = 0; i < c; i++) d[i] = sqNorm(g, i * r2, r2);
      return true;
    }
  }
  return false;
}

/**
 * x_i' = cs·x_i − P·x_j, x_j' = cs·x_j + conj(P)·x_i (P = pr + i·pi) on `len` doubles (len/2 complex
 * entries) from offsets oi and oj: the unitary [[cs, conj(P)], [−P, cs]] applied to the columns i, j.
 */
function rotatePair(x: Float64Array, oi: number, oj: number, len: number, cs: number, pr: number, pi: number): void {
  for (let k = 0; k < len; k += 2) {
    const ar = x[oi + k];
    const ai = x[oi + k + 1];
    const br = x[oj + k];
    const bi = x[oj + k + 1];
    x[oi + k] = cs * ar - (pr * br - pi * bi);
    x[oi + k + 1] = cs * ai - (pr * bi + pi * br);
    x[oj + k] = cs * br + (pr * ar + pi * ai);
    x[oj + k + 1] = cs * bi + (pr * ai - pi * ar);
  }
}

function sqNorm(x: Float64Array, off: number, len: number): number {
  let s = 0;
  for (let k = 0; k < len; k++) {
    const v = x[off + k];
    s += v * v;
  }
  return s;
}

function swapRange(x: Float64Array, oa: number, ob: number, len: number): void {
  for (let k = 0; k < len; k++) {
    const tmp = x[oa + k];
    x[oa + k] = x[ob + k];
    x[ob + k] = tmp;
  }
}

/**
 * cjacobiSVD for r = c = 4 on rows of {@link SMALL_STRIDE} doubles: doubles 0..7 hold the column of G,
 * 8..15 the matching row of vt (the caller sets the identity). Round-robin ordering: each
 * sweep is three rounds of two disjoint pairs, (0,1)(2,3), (0,2)(1,3), (0,3)(1,2), whose rotations are
 * independent and computed side by side, so the latency of one rotation's square roots and divisions
 * overlaps the other's. Same rotation and thresholds as cjacobiSVD; when only one pair of a round
 * needs a rotation, the other gets the exact identity (cs = 1, P = 0).
 */
function cjacobiSVD44(g: Float64Array, d: Float64Array): boolean {
  const tol2 = 4 * EPS * EPS;
  for (let i = 0; i < 4; i++) {
    const ri = i * 16;
    d[i] = g[ri] * g[ri] + g[ri + 1] * g[ri + 1] + g[ri + 2] * g[ri + 2] + g[ri + 3] * g[ri + 3] + g[ri + 4] * g[ri + 4] + g[ri + 5] * g[ri + 5] + g[ri + 6] * g[ri + 6] + g[ri + 7] * g[ri + 7];
  }
  for (let sweep = 0; sweep < SVD_MAX_SWEEPS; sweep++) {
    const dTiny = Math.max(d[0], d[1], d[2], d[3]) * NEGLIGIBLE2;
    let rotated = false;
    for (let round = 0; round < 3; round++) {
      // pairs (0, j1) and (i2, j2) with {j1, i2, j2} = {1, 2, 3}
      const j1 = round + 1;
      const i2 = round === 0 ? 2 : 1;
      const j2 = round === 2 ? 2 : 3;
      const a1 = d[0];
      const b1 = d[j1];
      const a2 = d[i2];
      const b2 = d[j2];
      const rj1 = j1 * 16;
      const ri2 = i2 * 16;
      const rj2 = j2 * 16;
      const a10 = g[0];
      const a11 = g[1];
      const a12 = g[2];
      const a13 = g[3];
      const a14 = g[4];
      const a15 = g[5];
      const a16 = g[6];
      const a17 = g[7];
      const b10 = g[rj1];
      const b11 = g[rj1 + 1];
      const b12 = g[rj1 + 2];
      const b13 = g[rj1 + 3];
      const b14 = g[rj1 + 4];
      const b15 = g[rj1 + 5];
      const b16 = g[rj1 + 6];
      const b17 = g[rj1 + 7];
      const a20 = g[ri2];
      const a21 = g[ri2 + 1];
      const a22 = g[ri2 + 2];
      const a23 = g[ri2 + 3];
      const a24 = g[ri2 + 4];
      const a25 = g[ri2 + 5];
      const a26 = g[ri2 + 6];
      const a27 = g[ri2 + 7];
      const b20 = g[rj2];
      const b21 = g[rj2 + 1];
      const b22 = g[rj2 + 2];
      const b23 = g[rj2 + 3];
      const b24 = g[rj2 + 4];
      const b25 = g[rj2 + 5];
      const b26 = g[rj2 + 6];
      const b27 = g[rj2 + 7];
      const gr1 = a10 * b10 + a11 * b11 + (a12 * b12 + a13 * b13) + (a14 * b14 + a15 * b15 + (a16 * b16 + a17 * b17));
      const gi1 = a10 * b11 - a11 * b10 + (a12 * b13 - a13 * b12) + (a14 * b15 - a15 * b14 + (a16 * b17 - a17 * b16));
      const gg1 = gr1 * gr1 + gi1 * gi1;
      const gr2 = a20 * b20 + a21 * b21 + (a22 * b22 + a23 * b23) + (a24 * b24 + a25 * b25 + (a26 * b26 + a27 * b27));
      const gi2 = a20 * b21 - a21 * b20 + (a22 * b23 - a23 * b22) + (a24 * b25 - a25 * b24 + (a26 * b27 - a27 * b26));
      const gg2 = gr2 * gr2 + gi2 * gi2;
      const rot1 = gg1 > tol2 * a1 * b1 && a1 > dTiny && b1 > dTiny;
      const rot2 = gg2 > tol2 * a2 * b2 && a2 > dTiny && b2 > dTiny;
      if (!rot1 && !rot2) continue;
      rotated = true;
      // both chains side by side (a pair that needs no rotation is computed, then replaced by the identity)
      const x1 = b1 - a1;
      const x2 = b2 - a2;
      const rr1 = Math.sqrt(x1 * x1 + 4 * gg1);
      const rr2 = Math.sqrt(x2 * x2 + 4 * gg2);
      const u1 = Math.abs(x1) + rr1;
      const u2 = Math.abs(x2) + rr2;
      let cs1 = Math.sqrt(u1 / (2 * rr1));
      let cs2 = Math.sqrt(u2 / (2 * rr2));
      let h1 = (x1 < 0 ? -2 : 2) / u1;
      let h2 = (x2 < 0 ? -2 : 2) / u2;
      if (!rot1) {
        cs1 = 1;
        h1 = 0;
      }
      if (!rot2) {
        cs2 = 1;
        h2 = 0;
      }
      const hc1 = h1 * cs1;
      const pr1 = hc1 * gr1;
      const pi1 = -hc1 * gi1;
      const hc2 = h2 * cs2;
      const pr2 = hc2 * gr2;
      const pi2 = -hc2 * gi2;
      const a18 = g[8];
      const a19 = g[9];
      const a110 = g[10];
      const a111 = g[11];
      const a112 = g[12];
      const a113 = g[13];
      const a114 = g[14];
      const a115 = g[15];
      const b18 = g[rj1 + 8];
      const b19 = g[rj1 + 9];
      const b110 = g[rj1 + 10];
      const b111 = g[rj1 + 11];
      const b112 = g[rj1 + 12];
      const b113 = g[rj1 + 13];
      const b114 = g[rj1 + 14];
      const b115 = g[rj1 + 15];
      const n10 = cs1 * a10 - (pr1 * b10 - pi1 * b11);
      const n11 = cs1 * a11 - (pr1 * b11 + pi1 * b10);
      g[0] = n10;
      g[1] = n11;
      g[rj1] = cs1 * b10 + (pr1 * a10 + pi1 * a11);
      g[rj1 + 1] = cs1 * b11 + (pr1 * a11 - pi1 * a10);
      const n12 = cs1 * a12 - (pr1 * b12 - pi1 * b13);
      const n13 = cs1 * a13 - (pr1 * b13 + pi1 * b12);
      g[2] = n12;
      g[3] = n13;
      g[rj1 + 2] = cs1 * b12 + (pr1 * a12 + pi1 * a13);
      g[rj1 + 3] = cs1 * b13 + (pr1 * a13 - pi1 * a12);
      const n14 = cs1 * a14 - (pr1 * b14 - pi1 * b15);
      const n15 = cs1 * a15 - (pr1 * b15 + pi1 * b14);
      g[4] = n14;
      g[5] = n15;
      g[rj1 + 4] = cs1 * b14 + (pr1 * a14 + pi1 * a15);
      g[rj1 + 5] = cs1 * b15 + (pr1 * a15 - pi1 * a14);
      const n16 = cs1 * a16 - (pr1 * b16 - pi1 * b17);
      const n17 = cs1 * a17 - (pr1 * b17 + pi1 * b16);
      g[6] = n16;
      g[7] = n17;
      g[rj1 + 6] = cs1 * b16 + (pr1 * a16 + pi1 * a17);
      g[rj1 + 7] = cs1 * b17 + (pr1 * a17 - pi1 * a16);
      const n18 = cs1 * a18 - (pr1 * b18 - pi1 * b19);
      const n19 = cs1 * a19 - (pr1 * b19 + pi1 * b18);
      g[8] = n18;
      g[9] = n19;
      g[rj1 + 8] = cs1 * b18 + (pr1 * a18 + pi1 * a19);
      g[rj1 + 9] = cs1 * b19 + (pr1 * a19 - pi1 * a18);
      const n110 = cs1 * a110 - (pr1 * b110 - pi1 * b111);
      const n111 = cs1 * a111 - (pr1 * b111 + pi1 * b110);
      g[10] = n110;
      g[11] = n111;
      g[rj1 + 10] = cs1 * b110 + (pr1 * a110 + pi1 * a111);
      g[rj1 + 11] = cs1 * b111 + (pr1 * a111 - pi1 * a110);
      const n112 = cs1 * a112 - (pr1 * b112 - pi1 * b113);
      const n113 = cs1 * a113 - (pr1 * b113 + pi1 * b112);
      g[12] = n112;
      g[13] = n113;
      g[rj1 + 12] = cs1 * b112 + (pr1 * a112 + pi1 * a113);
      g[rj1 + 13] = cs1 * b113 + (pr1 * a113 - pi1 * a112);
      const n114 = cs1 * a114 - (pr1 * b114 - pi1 * b115);
      const n115 = cs1 * a115 - (pr1 * b115 + pi1 * b114);
      g[14] = n114;
      g[15] = n115;
      g[rj1 + 14] = cs1 * b114 + (pr1 * a114 + pi1 * a115);
      g[rj1 + 15] = cs1 * b115 + (pr1 * a115 - pi1 * a114);
      const tg1 = h1 * gg1;
      let na1 = a1 - tg1;
      let nb1 = b1 + tg1;
      if (na1 < 0.25 * a1) na1 = n10 * n10 + n11 * n11 + n12 * n12 + n13 * n13 + n14 * n14 + n15 * n15 + n16 * n16 + n17 * n17;
      if (nb1 < 0.25 * b1) nb1 = g[rj1] * g[rj1] + g[rj1 + 1] * g[rj1 + 1] + g[rj1 + 2] * g[rj1 + 2] + g[rj1 + 3] * g[rj1 + 3] + g[rj1 + 4] * g[rj1 + 4] + g[rj1 + 5] * g[rj1 + 5] + g[rj1 + 6] * g[rj1 + 6] + g[rj1 + 7] * g[rj1 + 7];
      const a28 = g[ri2 + 8];
      const a29 = g[ri2 + 9];
      const a210 = g[ri2 + 10];
      const a211 = g[ri2 + 11];
      const a212 = g[ri2 + 12];
      const a213 = g[ri2 + 13];
      const a214 = g[ri2 + 14];
      const a215 = g[ri2 + 15];
      const b28 = g[rj2 + 8];
      const b29 = g[rj2 + 9];
      const b210 = g[rj2 + 10];
      const b211 = g[rj2 + 11];
      const b212 = g[rj2 + 12];
      const b213 = g[rj2 + 13];
      const b214 = g[rj2 + 14];
      const b215 = g[rj2 + 15];
      const n20 = cs2 * a20 - (pr2 * b20 - pi2 * b21);
      const n21 = cs2 * a21 - (pr2 * b21 + pi2 * b20);
      g[ri2] = n20;
      g[ri2 + 1] = n21;
      g[rj2] = cs2 * b20 + (pr2 * a20 + pi2 * a21);
      g[rj2 + 1] = cs2 * b21 + (pr2 * a21 - pi2 * a20);
      const n22 = cs2 * a22 - (pr2 * b22 - pi2 * b23);
      const n23 = cs2 * a23 - (pr2 * b23 + pi2 * b22);
      g[ri2 + 2] = n22;
      g[ri2 + 3] = n23;
      g[rj2 + 2] = cs2 * b22 + (pr2 * a22 + pi2 * a23);
      g[rj2 + 3] = cs2 * b23 + (pr2 * a23 - pi2 * a22);
      const n24 = cs2 * a24 - (pr2 * b24 - pi2 * b25);
      const n25 = cs2 * a25 - (pr2 * b25 + pi2 * b24);
      g[ri2 + 4] = n24;
      g[ri2 + 5] = n25;
      g[rj2 + 4] = cs2 * b24 + (pr2 * a24 + pi2 * a25);
      g[rj2 + 5] = cs2 * b25 + (pr2 * a25 - pi2 * a24);
      const n26 = cs2 * a26 - (pr2 * b26 - pi2 * b27);
      const n27 = cs2 * a27 - (pr2 * b27 + pi2 * b26);
      g[ri2 + 6] = n26;
      g[ri2 + 7] = n27;
      g[rj2 + 6] = cs2 * b26 + (pr2 * a26 + pi2 * a27);
      g[rj2 + 7] = cs2 * b27 + (pr2 * a27 - pi2 * a26);
      const n28 = cs2 * a28 - (pr2 * b28 - pi2 * b29);
      const n29 = cs2 * a29 - (pr2 * b29 + pi2 * b28);
      g[ri2 + 8] = n28;
      g[ri2 + 9] = n29;
      g[rj2 + 8] = cs2 * b28 + (pr2 * a28 + pi2 * a29);
      g[rj2 + 9] = cs2 * b29 + (pr2 * a29 - pi2 * a28);
      const n210 = cs2 * a210 - (pr2 * b210 - pi2 * b211);
      const n211 = cs2 * a211 - (pr2 * b211 + pi2 * b210);
      g[ri2 + 10] = n210;
      g[ri2 + 11] = n211;
      g[rj2 + 10] = cs2 * b210 + (pr2 * a210 + pi2 * a211);
      g[rj2 + 11] = cs2 * b211 + (pr2 * a211 - pi2 * a210);
      const n212 = cs2 * a212 - (pr2 * b212 - pi2 * b213);
      const n213 = cs2 * a213 - (pr2 * b213 + pi2 * b212);
      g[ri2 + 12] = n212;
      g[ri2 + 13] = n213;
      g[rj2 + 12] = cs2 * b212 + (pr2 * a212 + pi2 * a213);
      g[rj2 + 13] = cs2 * b213 + (pr2 * a213 - pi2 * a212);
      const n214 = cs2 * a214 - (pr2 * b214 - pi2 * b215);
      const n215 = cs2 * a215 - (pr2 * b215 + pi2 * b214);
      g[ri2 + 14] = n214;
      g[ri2 + 15] = n215;
      g[rj2 + 14] = cs2 * b214 + (pr2 * a214 + pi2 * a215);
      g[rj2 + 15] = cs2 * b215 + (pr2 * a215 - pi2 * a214);
      const tg2 = h2 * gg2;
      let na2 = a2 - tg2;
      let nb2 = b2 + tg2;
      if (na2 < 0.25 * a2) na2 = n20 * n20 + n21 * n21 + n22 * n22 + n23 * n23 + n24 * n24 + n25 * n25 + n26 * n26 + n27 * n27;
      if (nb2 < 0.25 * b2) nb2 = g[rj2] * g[rj2] + g[rj2 + 1] * g[rj2 + 1] + g[rj2 + 2] * g[rj2 + 2] + g[rj2 + 3] * g[rj2 + 3] + g[rj2 + 4] * g[rj2 + 4] + g[rj2 + 5] * g[rj2 + 5] + g[rj2 + 6] * g[rj2 + 6] + g[rj2 + 7] * g[rj2 + 7];
      d[0] = na1;
      d[j1] = nb1;
      d[i2] = na2;
      d[j2] = nb2;
    }
    if (!rotated) {
      for (let i = 0; i < 4; i++) {
        const ri = i * 16;
        d[i] = g[ri] * g[ri] + g[ri + 1] * g[ri + 1] + g[ri + 2] * g[ri + 2] + g[ri + 3] * g[ri + 3] + g[ri + 4] * g[ri + 4] + g[ri + 5] * g[ri + 5] + g[ri + 6] * g[ri + 6] + g[ri + 7] * g[ri + 7];
      }
      return true;
    }
  }
  return false;
}

/**
 * Normalizes rows perm[0..c) of `g` (c complex vectors of length r, row stride gs doubles) to
 * g_perm[k] / σ_perm[k], in place. Rows whose σ is negligible (at most about 1e-50·σ_max) are replaced
 * by unit vectors orthogonal to all earlier ones (two passes of complex Gram-Schmidt on the standard
 * basis vectors), so the c rows end up orthonormal.
 */
function corthonormalize(
  g: Float64Array,
  r: number,
  c: number,
  perm: Int32Array,
  sigma: Float64Array,
  gs: number,
): void {
  const r2 = 2 * r;
  const smax = c > 0 ? sigma[perm[0]] : 0;
  const small = smax * 2e-50;
  let basis = 0;
  for (let k = 0; k < c; k++) {
    const rk = perm[k] * gs;
    const sk = sigma[perm[k]];
    if (sk > small) {
      const inv = 1 / sk;
      for (let i = 0; i < r2; i++) g[rk + i] *= inv;
      continue;
    }
    for (; basis < r; basis++) {
      for (let i = 0; i < r2; i++) g[rk + i] = 0;
      g[rk + 2 * basis] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let l = 0; l < k; l++) {
          const rl = perm[l] * gs;
          // dot = g_lᴴ·g_k; g_k −= dot·g_l
          let dr = 0;
          let di = 0;
          for (let i = 0; i < r2; i += 2) {
            const xr = g[rl + i];
            const xi = g[rl + i + 1];
            const yr = g[rk + i];
            const yi = g[rk + i + 1];
            dr += xr * yr + xi * yi;
            di += xr * yi - xi * yr;
          }
          for (let i = 0; i < r2; i += 2) {
            const xr = g[rl + i];
            const xi = g[rl + i + 1];
            g[rk + i] -= dr * xr - di * xi;
            g[rk + i + 1] -= dr * xi + di * xr;
          }
        }
      }
      const nrm = sqNorm(g, rk, r2);
      if (nrm > 0.25) {
        const inv = 1 / Math.sqrt(nrm);
        for (let i = 0; i < r2; i++) g[rk + i] *= inv;
        basis++;
        break;
      }
    }
  }
}

/**
 * Reduced SVD of each complex `m`×`n` matrix, like torch.linalg.svd(full_matrices=False):
 * k = min(m, n), `U` m×k complex with orthonormal columns (UᴴU = I), `S` k REAL values per item,
 * descending and >= 0, `Vh` k×n complex with orthonormal rows (Vh·Vhᴴ = I), A = U·diag(S)·Vh.
 * One-sided Jacobi with complex rotations on the columns of A (m > n) or of Aᴴ (m <= n); unrolled
 * variants for max(m, n) <= 4 (4×4, the common case, with two rotations side by side). Zero singular values get singular vectors completing an
 * orthonormal basis. Singular vectors have no canonical phase (deterministic, but not normalized). An
 * item fails (outputs NaN) on non-finite input or non-convergence. Returns -1 or the first failed
 * batch index.
 */
export function csvd(
  a: FloatArray,
  batch: number,
  m: number,
  n: number,
  U: FloatArray,
  S: FloatArray,
  Vh: FloatArray,
): number {
  const k = m < n ? m : n;
  const tall = m > n; // square matrices take the Aᴴ path: rows of A load contiguously
  const r = tall ? m : n;
  const mn2 = 2 * m * n;
  const mk2 = 2 * m * k;
  const kn2 = 2 * k * n;
  const small = r === 4 && k === 4; // the unrolled 4×4 path (other small shapes gain little from one)
  // small: rows of g hold [G column | V column] (stride 16); else g (stride 2r) and vt (stride 2k)
  const gs = small ? SMALL_STRIDE : 2 * r;
  const vs = small ? SMALL_STRIDE : 2 * k;
  const vo = small ? 8 : 0; // offset of the V part in its buffer
  gBuf = growF64(gBuf, k * gs);
  vtBuf = growF64(vtBuf, small ? 0 : k * vs);
  dBuf = growF64(dBuf, k);
  permBuf = growI32(permBuf, k);
  const g = gBuf;
  const vt = small ? gBuf : vtBuf;
  const d = dBuf;
  const perm = permBuf;
  // small: the padding past r (G part) and past k (V part) stays zero, as rotations and row swaps keep it
  if (small) g.fill(0, 0, k * SMALL_STRIDE);
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * mn2;
    const ou = t * mk2;
    const ov = t * kn2;
    if (small) {
      // V part = identity (entries of G are loaded below; the padding is zero from the call's fill)
      for (let i = 0; i < k; i++) {
        const rv = i * SMALL_STRIDE + 8;
        for (let l = 0; l < 2 * k; l++) g[rv + l] = 0;
        g[rv + 2 * i] = 1;
      }
    }
    // columns of X (A if tall, else Aᴴ) as rows of g, tracking max |re|, |im|
    let mx = 0;
    if (tall) {
      for (let i = 0; i < m; i++) {
        const ri = o + 2 * i * n;
        for (let j = 0; j < n; j++) {
          const re = a[ri + 2 * j];
          const im = a[ri + 2 * j + 1];
          const gj = j * gs + 2 * i;
          g[gj] = re;
          g[gj + 1] = im;
          mx = Math.max(mx, Math.abs(re), Math.abs(im)); // branch-free; NaN propagates
        }
      }
    } else {
      for (let i = 0; i < m; i++) {
        const ri = o + 2 * i * n;
        const gi = i * gs;
        for (let j = 0; j < n; j++) {
          const re = a[ri + 2 * j];
          const im = a[ri + 2 * j + 1];
          g[gi + 2 * j] = re;
          g[gi + 2 * j + 1] = -im; // conjugate
          mx = Math.max(mx, Math.abs(re), Math.abs(im)); // branch-free; NaN propagates
        }
      }
    }
    if (!(mx <= Number.MAX_VALUE)) {
      // NaN or ±Infinity in the input
      fillNaN(U, ou, mk2);
      fillNaN(S, t * k, k);
      fillNaN(Vh, ov, kn2);
      if (failed < 0) failed = t;
      continue;
    }
    // exact power-of-two scaling to max |entry| in [0.7, 1.5) (the Jacobi thresholds rely on it)
    const sc =
      mx === 0 || (mx >= 0.7071067811865476 && mx < 1.4142135623730951)
        ? 1
        : 2 ** -Math.max(-1022, Math.min(1022, Math.round(Math.log2(mx))));
    if (sc !== 1) {
      if (small) {
        for (let i = 0; i < k; i++) for (let l = 0; l < 8; l++) g[i * SMALL_STRIDE + l] *= sc;
      } else {
        for (let i = 0; i < k * gs; i++) g[i] *= sc;
      }
    }
    const ok = small ? cjacobiSVD44(g, d) : cjacobiSVD(g, r, k, vt, d);
    if (!ok) {
      fillNaN(U, ou, mk2);
      fillNaN(S, t * k, k);
      fillNaN(Vh, ov, kn2);
      if (failed < 0) failed = t;
      continue;
    }
    for (let i = 0; i < k; i++) d[i] = Math.sqrt(d[i]);
    sortPerm(d, k, perm, true);
    const unscale = 1 / sc;
    for (let i = 0; i < k; i++) S[t * k + i] = d[perm[i]] * unscale;
    const complete = k > 0 && !(d[perm[k - 1]] > d[perm[0]] * 2e-50);
    if (complete) corthonormalize(g, r, k, perm, d, gs);
    if (tall) {
      // A·V = G: U = normalized columns of G, Vh = Vᴴ (row i = conj of column i of V)
      for (let i = 0; i < k; i++) {
        const src = perm[i] * gs;
        const inv = complete ? 1 : 1 / d[perm[i]];
        for (let j = 0; j < m; j++) {
          const dst = ou + 2 * (j * k + i);
          U[dst] = g[src + 2 * j] * inv;
          U[dst + 1] = g[src + 2 * j + 1] * inv;
        }
      }
      for (let i = 0; i < k; i++) {
        const src = perm[i] * vs + vo;
        const dst = ov + 2 * i * n;
        for (let j = 0; j < 2 * n; j += 2) {
          Vh[dst + j] = vt[src + j];
          Vh[dst + j + 1] = 0 - vt[src + j + 1];
        }
      }
    } else {
      // Aᴴ·V = G = Ũ·Σ, so A = V·Σ·Ũᴴ: U = V, Vh row i = conj of normalized column i of G
      for (let i = 0; i < k; i++) {
        const src = perm[i] * vs + vo;
        for (let j = 0; j < m; j++) {
          const dst = ou + 2 * (j * k + i);
          U[dst] = vt[src + 2 * j];
          U[dst + 1] = vt[src + 2 * j + 1];
        }
      }
      for (let i = 0; i < k; i++) {
        const src = perm[i] * gs;
        const dst = ov + 2 * i * n;
        const inv = complete ? 1 : 1 / d[perm[i]];
        for (let j = 0; j < 2 * n; j += 2) {
          Vh[dst + j] = g[src + j] * inv;
          Vh[dst + j + 1] = 0 - g[src + j + 1] * inv;
        }
      }
    }
  }
  return failed;
}

// ---------------------------------------------------------------------------------------------------
// Hermitian eigendecomposition
// ---------------------------------------------------------------------------------------------------

/**
 * Cyclic complex Jacobi on the Hermitian `n`×`n` matrix in `w` (full complex storage, both triangles
 * consistent; the diagonal is read from w's real parts and then kept in `d`). On return `d` holds the
 * eigenvalues and row i of `vt` (n complex entries) the unit eigenvector of d[i]. Returns false if it
 * did not converge.
 *
 * Rotation (p, q), with a_pq = |a_pq|·e^{iφ} and P = s·e^{-iφ}, is the unitary J with columns
 * p' = c·e_p − P·e_q and q' = conj(P)·e_p + c·e_q (the real Jacobi rotation of eigh.ts on |a_pq|,
 * conjugated by diag(1, e^{-iφ}), which turns a_pq real): A ← JᴴAJ, V ← VJ. It is skipped, and a_pq
 * set to zero, when |a_pq| <= EPS·sqrt(|a_pp a_qq|) or |a_pq| <= EPS·‖A‖_F/n (as in eigh.ts); the
 * iteration stops after a sweep with no rotation.
 */
function cjacobiEigh(w: Float64Array, n: number, d: Float64Array, vt: Float64Array): boolean {
  const n2 = 2 * n;
  let fro = 0;
  for (let i = 0; i < n; i++) {
    const ri = i * n2;
    const aii = w[ri + 2 * i];
    d[i] = aii;
    fro += aii * aii;
    for (let j = i + 1; j < n; j++) {
      const re = w[ri + 2 * j];
      const im = w[ri + 2 * j + 1];
      fro += 2 * (re * re + im * im);
    }
  }
  vt.fill(0, 0, n * n2);
  for (let i = 0; i < n; i++) vt[i * n2 + 2 * i] = 1;
  const absTol = (EPS * Math.sqrt(fro)) / n;
  const eps2 = EPS * EPS;
  for (let sweep = 0; sweep < EIGH_MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const rp = p * n2;
      const cp = 2 * p;
      for (let q = p + 1; q < n; q++) {
        const rq = q * n2;
        const cq = 2 * q;
        const re = w[rp + cq];
        const im = w[rp + cq + 1];
        if (re === 0 && im === 0) continue;
        const aa2 = re * re + im * im;
        const aa = Math.sqrt(aa2);
        const dp = d[p];
        const dq = d[q];
        const dpq = dp * dq;
        if (aa <= absTol || aa2 <= eps2 * (dpq < 0 ? -dpq : dpq)) {
          w[rp + cq] = 0;
          w[rp + cq + 1] = 0;
          w[rq + cp] = 0;
          w[rq + cp + 1] = 0;
          continue;
        }
        rotated = true;
        // the real rotation of eigh.ts on |a_pq|: x = a_qq − a_pp, y = 2|a_pq|, rr = sqrt(x² + y²),
        // u = |x| + rr, t = sign(x)·y/u, c = sqrt(u/(2rr)); with f = sign(x)·2/u: P = s·e^{-iφ} =
        // f·c·conj(a_pq) and the diagonal shift t·|a_pq| = f·|a_pq|²
        const x = dq - dp;
        const rr = Math.sqrt(x * x + 4 * aa2);
        const u = (x < 0 ? -x : x) + rr;
        const c = Math.sqrt(u / (2 * rr));
        const f = (x < 0 ? -2 : 2) / u;
        const sh = f * aa2;
        d[p] = dp - sh;
        d[q] = dq + sh;
        w[rp + cq] = 0;
        w[rp + cq + 1] = 0;
        w[rq + cp] = 0;
        w[rq + cp + 1] = 0;
        const fc = f * c;
        const pr = fc * re;
        const pi = -fc * im;
        // rows k != p, q: a_kp' = c·a_kp − P·a_kq, a_kq' = c·a_kq + conj(P)·a_kp; a_pk', a_qk' their
        // conjugates
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const rk = k * n2;
          const ck = 2 * k;
          const xr = w[rk + cp];
          const xi = w[rk + cp + 1];
          const yr = w[rk + cq];
          const yi = w[rk + cq + 1];
          const nr = c * xr - (pr * yr - pi * yi);
          const ni = c * xi - (pr * yi + pi * yr);
          const mr = c * yr + (pr * xr + pi * xi);
          const mi = c * yi + (pr * xi - pi * xr);
          w[rk + cp] = nr;
          w[rk + cp + 1] = ni;
          w[rk + cq] = mr;
          w[rk + cq + 1] = mi;
          w[rp + ck] = nr;
          w[rp + ck + 1] = -ni;
          w[rq + ck] = mr;
          w[rq + ck + 1] = -mi;
        }
        rotatePair(vt, rp, rq, n2, c, pr, pi);
      }
    }
    if (!rotated) return true;
  }
  return false;
}

/**
 * Writes the complex n-vector at src[off..] as column j of the n×n matrix at V[o..], multiplied by
 * conj(v_b)/|v_b| for its first largest-magnitude component v_b, which so becomes real and positive
 * (the eigenvector gauge of ceigh and ceig).
 */
function writePhasedColumn(src: Float64Array, off: number, n: number, V: FloatArray, o: number, j: number): void {
  const n2 = 2 * n;
  let best = -1;
  let bi = 0;
  for (let i = 0; i < n2; i += 2) {
    const m2 = src[off + i] * src[off + i] + src[off + i + 1] * src[off + i + 1];
    if (m2 > best) {
      best = m2;
      bi = i;
    }
  }
  const br = src[off + bi];
  const bim = src[off + bi + 1];
  const bmag = Math.sqrt(br * br + bim * bim);
  const fr = br / bmag;
  const fi = -bim / bmag;
  for (let i = 0; i < n2; i += 2) {
    const vr = src[off + i];
    const vi = src[off + i + 1];
    const dst = o + i * n + 2 * j; // row i/2, column j
    if (i === bi) {
      V[dst] = bmag;
      V[dst + 1] = 0;
    } else {
      V[dst] = vr * fr - vi * fi;
      V[dst + 1] = vr * fi + vi * fr;
    }
  }
}

/**
 * Eigen-decomposition of each Hermitian complex `n`×`n` matrix, reading ONLY the lower triangle
 * (diagonal included; the diagonal's imaginary part is ignored, the upper triangle is implied as the
 * conjugate), like torch.linalg.eigh(UPLO='L'). `L` gets the n REAL eigenvalues ascending; `V` (n×n
 * complex) gets in COLUMN j the unit eigenvector of L[j], the columns orthonormal (VᴴV = I). Gauge: the
 * largest-magnitude component of each eigenvector (the first on ties) is real and positive. Method:
 * cyclic complex Jacobi. An item fails (outputs NaN) on non-finite input or non-convergence. Returns
 * -1 or the first failed batch index.
 */
export function ceigh(a: FloatArray, batch: number, n: number, L: FloatArray, V: FloatArray): number {
  const n2 = 2 * n;
  const nn2 = n * n2;
  wBuf = growF64(wBuf, nn2);
  vtBuf = growF64(vtBuf, nn2);
  dBuf = growF64(dBuf, n);
  permBuf = growI32(permBuf, n);
  const w = wBuf;
  const vt = vtBuf;
  const d = dBuf;
  const perm = permBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn2;
    // the lower triangle into both triangles of w (conjugated above the diagonal), tracking max |.|
    let mx = 0;
    for (let i = 0; i < n; i++) {
      const ri = i * n2;
      for (let j = 0; j < i; j++) {
        const re = a[o + ri + 2 * j];
        const im = a[o + ri + 2 * j + 1];
        w[ri + 2 * j] = re;
        w[ri + 2 * j + 1] = im;
        w[j * n2 + 2 * i] = re;
        w[j * n2 + 2 * i + 1] = -im;
        mx = Math.max(mx, Math.abs(re), Math.abs(im));
      }
      const dr = a[o + ri + 2 * i];
      w[ri + 2 * i] = dr;
      w[ri + 2 * i + 1] = 0;
      mx = Math.max(mx, Math.abs(dr));
    }
    if (!(mx <= Number.MAX_VALUE)) {
      fillNaN(L, t * n, n);
      fillNaN(V, o, nn2);
      if (failed < 0) failed = t;
      continue;
    }
    const sc = pow2Scale(mx);
    if (sc !== 1) for (let i = 0; i < nn2; i++) w[i] *= sc;
    if (!cjacobiEigh(w, n, d, vt)) {
      fillNaN(L, t * n, n);
      fillNaN(V, o, nn2);
      if (failed < 0) failed = t;
      continue;
    }
    sortPerm(d, n, perm, false);
    const unscale = 1 / sc;
    for (let j = 0; j < n; j++) {
      const pj = perm[j];
      L[t * n + j] = d[pj] * unscale;
      writePhasedColumn(vt, pj * n2, n, V, o, j);
    }
  }
  return failed;
}

// ---------------------------------------------------------------------------------------------------
// LU: solve, inverse, determinant
// ---------------------------------------------------------------------------------------------------

/**
 * Loads the complex `n`×`n` matrix at `a[off..]` into `w`, scaled by an exact power of two that brings
 * its largest |re|, |im| near 1 (so squared moduli neither overflow nor underflow). Returns the scale,
 * or NaN when an entry is not finite.
 */
function loadScaled(a: FloatArray, off: number, n: number, w: Float64Array): number {
  const len = 2 * n * n;
  const mx = loadMaxAbs(a, off, len, w);
  if (!Number.isFinite(mx)) return Number.NaN;
  const sc = pow2Scale(mx);
  if (sc !== 1) for (let i = 0; i < len; i++) w[i] *= sc;
  return sc;
}

/**
 * Factors the complex `n`×`n` matrix in `w` in place as P·A = L·U (unit lower L below the diagonal, U on
 * and above it), pivoting on the largest modulus; `piv[k]` is the row interchanged with row `k` at step
 * `k`. A zero pivot column is skipped, leaving an exact zero on U's diagonal. Returns the permutation
 * sign (+1 or -1).
 */
function cluFactor(w: Float64Array, n: number, piv: Int32Array): number {
  const n2 = 2 * n;
  let sign = 1;
  for (let k = 0; k < n; k++) {
    const rk = k * n2;
    const ck = 2 * k;
    let p = k;
    let mx = w[rk + ck] * w[rk + ck] + w[rk + ck + 1] * w[rk + ck + 1];
    for (let i = k + 1; i < n; i++) {
      const re = w[i * n2 + ck];
      const im = w[i * n2 + ck + 1];
      const m2 = re * re + im * im;
      if (m2 > mx) {
        mx = m2;
        p = i;
      }
    }
    piv[k] = p;
    if (p !== k) {
      sign = -sign;
      swapRange(w, rk, p * n2, n2);
    }
    const ur = w[rk + ck];
    const ui = w[rk + ck + 1];
    if (ur === 0 && ui === 0) continue;
    const ir = recipRe(ur, ui);
    const ii = recipIm(ur, ui);
    for (let i = k + 1; i < n; i++) {
      const ri = i * n2;
      const xr = w[ri + ck];
      const xi = w[ri + ck + 1];
      const lr = xr * ir - xi * ii;
      const li = xr * ii + xi * ir;
      w[ri + ck] = lr;
      w[ri + ck + 1] = li;
      if (lr === 0 && li === 0) continue;
      for (let j = ck + 2; j < n2; j += 2) {
        const yr = w[rk + j];
        const yi = w[rk + j + 1];
        w[ri + j] -= lr * yr - li * yi;
        w[ri + j + 1] -= lr * yi + li * yr;
      }
    }
  }
  return sign;
}

/** Real part of 1/(re + i·im) by Smith's method (no overflow in re² + im²). */
function recipRe(re: number, im: number): number {
  if (Math.abs(re) >= Math.abs(im)) {
    const r = im / re;
    return 1 / (re + im * r);
  }
  const r = re / im;
  return r / (re * r + im);
}

/** Imaginary part of 1/(re + i·im) by Smith's method. */
function recipIm(re: number, im: number): number {
  if (Math.abs(re) >= Math.abs(im)) {
    const r = im / re;
    return -r / (re + im * r);
  }
  const r = re / im;
  return -1 / (re * r + im);
}

function cluSingular(w: Float64Array, n: number): boolean {
  for (let k = 0; k < n; k++) {
    const o = 2 * (k * n + k);
    if (w[o] === 0 && w[o + 1] === 0) return true;
  }
  return false;
}

/** Solves L·U·X = P·B in place in `x` (complex `n`×`r`) from a factorization by {@link cluFactor}. */
function cluSolveInPlace(w: Float64Array, n: number, piv: Int32Array, x: Float64Array, r: number): void {
  const n2 = 2 * n;
  const r2 = 2 * r;
  for (let k = 0; k < n; k++) {
    const p = piv[k];
    if (p !== k) swapRange(x, k * r2, p * r2, r2);
  }
  for (let i = 1; i < n; i++) {
    const ri = i * r2;
    for (let k = 0; k < i; k++) {
      const lr = w[i * n2 + 2 * k];
      const li = w[i * n2 + 2 * k + 1];
      if (lr === 0 && li === 0) continue;
      const rk = k * r2;
      for (let j = 0; j < r2; j += 2) {
        const yr = x[rk + j];
        const yi = x[rk + j + 1];
        x[ri + j] -= lr * yr - li * yi;
        x[ri + j + 1] -= lr * yi + li * yr;
      }
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * r2;
    for (let k = i + 1; k < n; k++) {
      const ur = w[i * n2 + 2 * k];
      const ui = w[i * n2 + 2 * k + 1];
      if (ur === 0 && ui === 0) continue;
      const rk = k * r2;
      for (let j = 0; j < r2; j += 2) {
        const yr = x[rk + j];
        const yi = x[rk + j + 1];
        x[ri + j] -= ur * yr - ui * yi;
        x[ri + j + 1] -= ur * yi + ui * yr;
      }
    }
    const dr = w[i * n2 + 2 * i];
    const di = w[i * n2 + 2 * i + 1];
    const ir = recipRe(dr, di);
    const ii = recipIm(dr, di);
    for (let j = 0; j < r2; j += 2) {
      const yr = x[ri + j];
      const yi = x[ri + j + 1];
      x[ri + j] = yr * ir - yi * ii;
      x[ri + j + 1] = yr * ii + yi * ir;
    }
  }
}

/**
 * Solves A·X = B for each batch item (A complex `n`×`n`, B and X complex `n`×`nrhs`) by LU with partial
 * pivoting on the largest modulus. An item fails (X filled with NaN) when A is exactly singular (a zero
 * pivot) or has a non-finite entry. Returns -1 or the first failed batch index.
 */
export function csolve(
  a: FloatArray,
  b: FloatArray,
  batch: number,
  n: number,
  nrhs: number,
  out: FloatArray,
): number {
  const nn2 = 2 * n * n;
  const nr2 = 2 * n * nrhs;
  wBuf = growF64(wBuf, nn2);
  rhsBuf = growF64(rhsBuf, nr2);
  pivBuf = growI32(pivBuf, n);
  const w = wBuf;
  const y = rhsBuf;
  const piv = pivBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const ob = t * nr2;
    const sc = loadScaled(a, t * nn2, n, w);
    if (Number.isNaN(sc) || (cluFactor(w, n, piv), cluSingular(w, n))) {
      fillNaN(out, ob, nr2);
      if (failed < 0) failed = t;
      continue;
    }
    for (let i = 0; i < nr2; i++) y[i] = b[ob + i];
    cluSolveInPlace(w, n, piv, y, nrhs);
    // (sc·A)·Y = B, so X = sc·Y (sc an exact power of two)
    for (let i = 0; i < nr2; i++) out[ob + i] = y[i] * sc;
  }
  return failed;
}

/**
 * Inverse of each complex `n`×`n` matrix by LU with partial pivoting. An item fails (`out` filled with
 * NaN) when A is exactly singular or non-finite, as in {@link csolve}, or when the inverse overflows.
 * Returns -1 or the first failed batch index.
 */
export function cinv(a: FloatArray, batch: number, n: number, out: FloatArray): number {
  const n2 = 2 * n;
  const nn2 = n * n2;
  wBuf = growF64(wBuf, nn2);
  rhsBuf = growF64(rhsBuf, nn2);
  pivBuf = growI32(pivBuf, n);
  const w = wBuf;
  const y = rhsBuf;
  const piv = pivBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn2;
    const sc = loadScaled(a, o, n, w);
    let ok = !Number.isNaN(sc);
    if (ok) {
      cluFactor(w, n, piv);
      ok = !cluSingular(w, n);
    }
    if (ok) {
      y.fill(0, 0, nn2);
      for (let i = 0; i < n; i++) y[i * n2 + 2 * i] = 1;
      cluSolveInPlace(w, n, piv, y, n);
      for (let i = 0; i < nn2; i++) {
        const v = y[i] * sc; // inv(A) = sc·inv(sc·A)
        y[i] = v;
        if (!Number.isFinite(v)) ok = false;
      }
    }
    if (!ok) {
      fillNaN(out, o, nn2);
      if (failed < 0) failed = t;
      continue;
    }
    for (let i = 0; i < nn2; i++) out[o + i] = y[i];
  }
  return failed;
}

/**
 * Determinant of each complex `n`×`n` matrix: the permutation sign times the product of the LU
 * pivots; `out` gets (re, im) per item. A singular matrix gives exactly 0 (an exact zero pivot) and is
 * not a failure; a non-finite input gives NaN. Always returns -1.
 */
export function cdet(a: FloatArray, batch: number, n: number, out: FloatArray): number {
  const nn2 = 2 * n * n;
  wBuf = growF64(wBuf, nn2);
  pivBuf = growI32(pivBuf, n);
  const w = wBuf;
  const piv = pivBuf;
  for (let t = 0; t < batch; t++) {
    const sc = loadScaled(a, t * nn2, n, w);
    if (Number.isNaN(sc)) {
      out[2 * t] = Number.NaN;
      out[2 * t + 1] = Number.NaN;
      continue;
    }
    const unscale = 1 / sc;
    let dr: number = cluFactor(w, n, piv);
    let di = 0;
    for (let k = 0; k < n; k++) {
      const o = 2 * (k * n + k);
      const ur = w[o] * unscale; // det(A) = det(sc·A)·sc^-n, one factor per pivot
      const ui = w[o + 1] * unscale;
      const nr = dr * ur - di * ui;
      di = dr * ui + di * ur;
      dr = nr;
    }
    out[2 * t] = dr === 0 ? 0 : dr; // no -0
    out[2 * t + 1] = di === 0 ? 0 : di;
  }
  return -1;
}

/**
 * Sign and log-magnitude of the determinant of each complex `n`×`n` matrix, like
 * torch.linalg.slogdet: `sign` gets det/|det| as (re, im) per item (unit modulus), `logabsdet` gets
 * log|det| (one real per item), summed over the LU pivots as log|u_kk| (no overflow for large n or
 * large entries). A singular matrix (an exact zero pivot) gives sign 0 + 0i and logabsdet -Infinity;
 * neither is a failure. A non-finite input gives NaN in all three outputs. Always returns -1.
 */
export function cslogdet(a: FloatArray, batch: number, n: number, sign: FloatArray, logabsdet: FloatArray): number {
  const nn2 = 2 * n * n;
  wBuf = growF64(wBuf, nn2);
  pivBuf = growI32(pivBuf, n);
  const w = wBuf;
  const piv = pivBuf;
  for (let t = 0; t < batch; t++) {
    const sc = loadScaled(a, t * nn2, n, w);
    if (Number.isNaN(sc)) {
      sign[2 * t] = Number.NaN;
      sign[2 * t + 1] = Number.NaN;
      logabsdet[t] = Number.NaN;
      continue;
    }
    let sr: number = cluFactor(w, n, piv);
    let si = 0;
    let l = 0;
    let singular = false;
    for (let k = 0; k < n; k++) {
      const o = 2 * (k * n + k);
      const ur = w[o];
      const ui = w[o + 1];
      const ar = ur < 0 ? -ur : ur;
      const ai = ui < 0 ? -ui : ui;
      // |u| = big·sqrt(1 + q²) with q = small/big <= 1: no underflow of the squares for tiny pivots
      const big = ar >= ai ? ar : ai;
      if (big === 0) {
        singular = true;
        break;
      }
      const pr = ur / big;
      const pi = ui / big;
      const q = (ar >= ai ? ai : ar) / big;
      const q2 = q * q;
      l += Math.log(big) + 0.5 * Math.log1p(q2);
      // the pivot's phase u/|u| = (pr, pi)/sqrt(1 + q²)
      const h = 1 / Math.sqrt(1 + q2);
      const fr = pr * h;
      const fi = pi * h;
      const nr = sr * fr - si * fi;
      si = sr * fi + si * fr;
      sr = nr;
    }
    if (singular) {
      sign[2 * t] = 0;
      sign[2 * t + 1] = 0;
      logabsdet[t] = Number.NEGATIVE_INFINITY;
      continue;
    }
    // renormalize the accumulated phase (n roundings) to unit modulus; det(A) = det(sc·A)·sc^-n
    const m = 1 / Math.sqrt(sr * sr + si * si);
    sr *= m;
    si *= m;
    sign[2 * t] = sr === 0 ? 0 : sr; // no -0
    sign[2 * t + 1] = si === 0 ? 0 : si;
    logabsdet[t] = sc === 1 ? l : l - n * Math.log(sc);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------
// Cholesky
// ---------------------------------------------------------------------------------------------------

/**
 * Lower Cholesky factor of each Hermitian positive definite complex `n`×`n` matrix, A = L·Lᴴ, like
 * torch.linalg.cholesky(upper=False): reads ONLY the lower triangle of A (diagonal included; the
 * diagonal's imaginary part is ignored, the upper triangle is never read). L's diagonal is real and
 * positive (imaginary part exactly 0) and its strict upper triangle is written as exact 0. An item
 * fails (L filled with NaN) when a pivot a_jj − Σ_k |L_jk|² is <= 0 or not finite (as in LAPACK potrf;
 * a non-finite entry of the lower triangle always reaches some pivot). Returns -1 or the first failed
 * batch index.
 */
export function ccholesky(a: FloatArray, batch: number, n: number, L: FloatArray): number {
  const n2 = 2 * n;
  const nn2 = n * n2;
  wBuf = growF64(wBuf, nn2);
  const w = wBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn2;
    let ok = true;
    for (let j = 0; j < n; j++) {
      const rj = j * n2;
      // pivot: re(a_jj) − Σ_k |L_jk|²
      let s = a[o + rj + 2 * j];
      for (let k = 0; k < 2 * j; k++) {
        const v = w[rj + k];
        s -= v * v;
      }
      if (!(s > 0) || s === Number.POSITIVE_INFINITY) {
        ok = false;
        break;
      }
      const ljj = Math.sqrt(s);
      w[rj + 2 * j] = ljj;
      w[rj + 2 * j + 1] = 0;
      // L_ij = (a_ij − Σ_k L_ik·conj(L_jk)) / L_jj for i > j
      for (let i = j + 1; i < n; i++) {
        const ri = i * n2;
        let vr = a[o + ri + 2 * j];
        let vi = a[o + ri + 2 * j + 1];
        for (let k = 0; k < 2 * j; k += 2) {
          const xr = w[ri + k];
          const xi = w[ri + k + 1];
          const yr = w[rj + k];
          const yi = w[rj + k + 1];
          vr -= xr * yr + xi * yi;
          vi -= xi * yr - xr * yi;
        }
        w[ri + 2 * j] = vr / ljj;
        w[ri + 2 * j + 1] = vi / ljj;
      }
    }
    if (!ok) {
      fillNaN(L, o, nn2);
      if (failed < 0) failed = t;
      continue;
    }
    for (let i = 0; i < n; i++) {
      const ri = i * n2;
      for (let j = 0; j < 2 * i; j++) L[o + ri + j] = w[ri + j];
      L[o + ri + 2 * i] = w[ri + 2 * i];
      L[o + ri + 2 * i + 1] = 0;
      for (let j = 2 * i + 2; j < n2; j++) L[o + ri + j] = 0;
    }
  }
  return failed;
}

// ---------------------------------------------------------------------------------------------------
// QR
// ---------------------------------------------------------------------------------------------------

/**
 * Complex Householder QR of the `m`×`n` matrix in `w` (interleaved, row-major), in place, for the
 * first k = min(m, n) columns. Reflector j is the Hermitian unitary H_j = I − τ_j·v_j·v_jᴴ with τ_j
 * REAL, v_j supported on rows j..m-1 with v_jj = 1 implicit and the rest stored below the diagonal
 * of column j. With x the column of rows j..m-1, θ = arg(x_0) (0 when x_0 = 0), ν = ‖x‖ and
 * u = |x_0| + ν: v = x·e^{-iθ}/u (v_0 = 1), τ = u/ν, and H·x = −e^{iθ}·ν·e_0. When x has nothing
 * below x_0 (σ = 0) no reflector is applied (τ = 0) and x_0 stays as it is. On return row j of R is
 * right of the diagonal of `w`; for each j, `tp` holds 4 numbers from 4j: τ_j, the modulus |R_jj|,
 * and the phase φ_j (re, im) with R_jj = φ_j·|R_jj| (φ_j = 1 when R_jj = 0). `s` holds 2n doubles.
 */
function chouseholderQR(w: Float64Array, m: number, n: number, tp: Float64Array, s: Float64Array): void {
  const k = m < n ? m : n;
  const n2 = 2 * n;
  for (let j = 0; j < k; j++) {
    const rj = j * n2;
    const cj = 2 * j;
    const x0r = w[rj + cj];
    const x0i = w[rj + cj + 1];
    let sigma = 0;
    for (let i = j + 1; i < m; i++) {
      const re = w[i * n2 + cj];
      const im = w[i * n2 + cj + 1];
      sigma += re * re + im * im;
    }
    const mod0 = Math.sqrt(x0r * x0r + x0i * x0i);
    // e^{iθ}
    const er = mod0 === 0 ? 1 : x0r / mod0;
    const ei = mod0 === 0 ? 0 : x0i / mod0;
    if (sigma === 0) {
      tp[4 * j] = 0;
      tp[4 * j + 1] = mod0;
      tp[4 * j + 2] = er;
      tp[4 * j + 3] = ei;
      continue;
    }
    const nu = Math.sqrt(mod0 * mod0 + sigma);
    const u = mod0 + nu;
    const tj = u / nu;
    tp[4 * j] = tj;
    tp[4 * j + 1] = nu;
    tp[4 * j + 2] = -er;
    tp[4 * j + 3] = -ei;
    // v_i = x_i·e^{-iθ}/u
    const fr = er / u;
    const fi = -ei / u;
    for (let i = j + 1; i < m; i++) {
      const o = i * n2 + cj;
      const re = w[o];
      const im = w[o + 1];
      w[o] = re * fr - im * fi;
      w[o + 1] = re * fi + im * fr;
    }
    w[rj + cj] = 0; // R_jj lives in tp
    w[rj + cj + 1] = 0;
    // columns c > j: s_c = τ·(vᴴ·col_c), col_c −= v·s_c
    if (j + 1 < n) {
      for (let c = cj + 2; c < n2; c++) s[c] = w[rj + c];
      for (let i = j + 1; i < m; i++) {
        const ri = i * n2;
        const vr = w[ri + cj];
        const vi = w[ri + cj + 1];
        if (vr === 0 && vi === 0) continue;
        for (let c = cj + 2; c < n2; c += 2) {
          const yr = w[ri + c];
          const yi = w[ri + c + 1];
          s[c] += vr * yr + vi * yi;
          s[c + 1] += vr * yi - vi * yr;
        }
      }
      for (let c = cj + 2; c < n2; c++) {
        s[c] *= tj;
        w[rj + c] -= s[c];
      }
      for (let i = j + 1; i < m; i++) {
        const ri = i * n2;
        const vr = w[ri + cj];
        const vi = w[ri + cj + 1];
        if (vr === 0 && vi === 0) continue;
        for (let c = cj + 2; c < n2; c += 2) {
          const yr = s[c];
          const yi = s[c + 1];
          w[ri + c] -= vr * yr - vi * yi;
          w[ri + c + 1] -= vr * yi + vi * yr;
        }
      }
    }
  }
}

/**
 * The first `k` columns of Q = H_0·H_1···H_{k−1} (backward accumulation) into `q` (complex `m`×`k`,
 * row-major) from the output of {@link chouseholderQR} (τ_j at tp[4j]). `s` holds 2k doubles.
 */
function cformQ(w: Float64Array, m: number, n: number, tp: Float64Array, q: Float64Array, k: number, s: Float64Array): void {
  const n2 = 2 * n;
  const k2 = 2 * k;
  q.fill(0, 0, m * k2);
  for (let i = 0; i < k; i++) q[i * k2 + 2 * i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const tj = tp[4 * j];
    if (tj === 0) continue;
    const cj = 2 * j;
    const rj = j * k2;
    for (let c = cj; c < k2; c++) s[c] = q[rj + c];
    for (let i = j + 1; i < m; i++) {
      const vr = w[i * n2 + cj];
      const vi = w[i * n2 + cj + 1];
      if (vr === 0 && vi === 0) continue;
      const ri = i * k2;
      for (let c = cj; c < k2; c += 2) {
        const yr = q[ri + c];
        const yi = q[ri + c + 1];
        s[c] += vr * yr + vi * yi;
        s[c + 1] += vr * yi - vi * yr;
      }
    }
    for (let c = cj; c < k2; c++) {
      s[c] *= tj;
      q[rj + c] -= s[c];
    }
    for (let i = j + 1; i < m; i++) {
      const vr = w[i * n2 + cj];
      const vi = w[i * n2 + cj + 1];
      if (vr === 0 && vi === 0) continue;
      const ri = i * k2;
      for (let c = cj; c < k2; c += 2) {
        const yr = s[c];
        const yi = s[c + 1];
        q[ri + c] -= vr * yr - vi * yi;
        q[ri + c + 1] -= vr * yi + vi * yr;
      }
    }
  }
}

/**
 * Reduced QR of each complex `m`×`n` matrix, like torch.linalg.qr(mode='reduced'): k = min(m, n),
 * `Q` complex m×k with orthonormal columns (QᴴQ = I), `R` complex k×n upper triangular (strict lower
 * part exact 0), A = Q·R, by Householder reflections. Phase convention: diag(R) is REAL and >= 0
 * (imaginary part exactly 0): column j of Q is multiplied by the phase φ_j of the Householder R_jj and
 * row j of R by conj(φ_j), so the factorization is unique for full-rank A. A zero column still gets a
 * unit column of Q orthogonal to the others (Q is a product of unitary reflectors). An item fails
 * (outputs NaN) only on non-finite input. Returns -1 or the first failed batch index.
 */
export function cqr(a: FloatArray, batch: number, m: number, n: number, Q: FloatArray, R: FloatArray): number {
  const k = m < n ? m : n;
  const n2 = 2 * n;
  const k2 = 2 * k;
  const mn2 = m * n2;
  const mk2 = m * k2;
  const kn2 = k * n2;
  // scratch shared with the other kernels: w = the factored matrix, vt = Q, d = (τ_j, |R_jj|, φ_j)
  // quadruples, rhs = the work row
  wBuf = growF64(wBuf, mn2);
  vtBuf = growF64(vtBuf, mk2);
  dBuf = growF64(dBuf, 4 * k);
  rhsBuf = growF64(rhsBuf, n2 > k2 ? n2 : k2);
  const w = wBuf;
  const q = vtBuf;
  const tp = dBuf;
  const s = rhsBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const oq = t * mk2;
    const or = t * kn2;
    const mx = loadMaxAbs(a, t * mn2, mn2, w);
    if (!Number.isFinite(mx)) {
      fillNaN(Q, oq, mk2);
      fillNaN(R, or, kn2);
      if (failed < 0) failed = t;
      continue;
    }
    const sc = pow2Scale(mx);
    if (sc !== 1) for (let i = 0; i < mn2; i++) w[i] *= sc;
    chouseholderQR(w, m, n, tp, s);
    cformQ(w, m, n, tp, q, k, s);
    const unscale = 1 / sc;
    for (let j = 0; j < k; j++) {
      const pr = tp[4 * j + 2];
      const pi = tp[4 * j + 3];
      const cj = 2 * j;
      // Q column j ·= φ_j
      for (let i = 0; i < m; i++) {
        const src = i * k2 + cj;
        const yr = q[src];
        const yi = q[src + 1];
        Q[oq + src] = yr * pr - yi * pi;
        Q[oq + src + 1] = yr * pi + yi * pr;
      }
      // R row j ·= conj(φ_j): zeros, |R_jj|, then the rest
      const rr = or + j * n2;
      const rw = j * n2;
      for (let c = 0; c < cj; c++) R[rr + c] = 0;
      R[rr + cj] = tp[4 * j + 1] * unscale;
      R[rr + cj + 1] = 0;
      for (let c = cj + 2; c < n2; c += 2) {
        const yr = w[rw + c];
        const yi = w[rw + c + 1];
        R[rr + c] = (yr * pr + yi * pi) * unscale;
        R[rr + c + 1] = (yi * pr - yr * pi) * unscale;
      }
    }
  }
  return failed;
}

// ---------------------------------------------------------------------------------------------------
// General (non-Hermitian) eigendecomposition
// ---------------------------------------------------------------------------------------------------

/** At most this many QR steps times n per matrix (more: the item fails). */
const CEIG_MAX_ITER_PER_EIGENVALUE = 30;

let eigVecBuf = new Float64Array(0);
let eigRowBuf = new Float64Array(0);

/** |re| + |im| of the complex number at x[o], x[o + 1] (LAPACK's cabs1). */
function cabs1(x: Float64Array, o: number): number {
  const re = x[o];
  const im = x[o + 1];
  return (re < 0 ? -re : re) + (im < 0 ? -im : im);
}

/**
 * Reduces the complex `n`×`n` matrix in `h` to upper Hessenberg form H = Zᴴ·A·Z in place by
 * Householder reflections, accumulating `z` (which must hold the identity on entry). Reflector k acts
 * on indices k+1..n-1 as P = I − τ·v·vᴴ (Hermitian and unitary) with x = column k below the diagonal,
 * θ = arg(x_0) (0 when x_0 = 0), ν = ‖x‖, u = |x_0| + ν: v = x·e^{-iθ}/u (v_0 = 1), τ = u/ν, and
 * P·x = −e^{iθ}·ν·e_0 (as in {@link chouseholderQR}); a column with nothing below x_0 is skipped.
 * `v` and `s` need 2n doubles.
 */
function chessenberg(h: Float64Array, n: number, z: Float64Array, v: Float64Array, s: Float64Array): void {
  const n2 = 2 * n;
  for (let k = 0; k < n - 2; k++) {
    const ck = 2 * k;
    const c1 = ck + 2; // first column (doubles) touched by the reflector
    const r1 = (k + 1) * n2;
    const x0r = h[r1 + ck];
    const x0i = h[r1 + ck + 1];
    let sigma = 0;
    for (let i = k + 2; i < n; i++) {
      const re = h[i * n2 + ck];
      const im = h[i * n2 + ck + 1];
      sigma += re * re + im * im;
    }
    if (sigma === 0) continue;
    const mod0 = Math.sqrt(x0r * x0r + x0i * x0i);
    const er = mod0 === 0 ? 1 : x0r / mod0;
    const ei = mod0 === 0 ? 0 : x0i / mod0;
    const nu = Math.sqrt(mod0 * mod0 + sigma);
    const u = mod0 + nu;
    const tau = u / nu;
    const fr = er / u;
    const fi = -ei / u;
    v[c1] = 1;
    v[c1 + 1] = 0;
    for (let i = k + 2; i < n; i++) {
      const o = i * n2 + ck;
      const re = h[o];
      const im = h[o + 1];
      v[2 * i] = re * fr - im * fi;
      v[2 * i + 1] = re * fi + im * fr;
      h[o] = 0;
      h[o + 1] = 0;
    }
    h[r1 + ck] = -er * nu;
    h[r1 + ck + 1] = -ei * nu;
    // left, rows and columns k+1..n-1: s_c = τ·Σ_i conj(v_i)·h_ic, h_ic −= v_i·s_c
    for (let c = c1; c < n2; c++) s[c] = 0;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n2;
      const vr = v[2 * i];
      const vi = v[2 * i + 1];
      for (let c = c1; c < n2; c += 2) {
        const yr = h[ri + c];
        const yi = h[ri + c + 1];
        s[c] += vr * yr + vi * yi;
        s[c + 1] += vr * yi - vi * yr;
      }
    }
    for (let c = c1; c < n2; c++) s[c] *= tau;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n2;
      const vr = v[2 * i];
      const vi = v[2 * i + 1];
      for (let c = c1; c < n2; c += 2) {
        const yr = s[c];
        const yi = s[c + 1];
        h[ri + c] -= vr * yr - vi * yi;
        h[ri + c + 1] -= vr * yi + vi * yr;
      }
    }
    // right, all rows, columns k+1..n-1 (of H and of Z): p = τ·Σ_j m_rj·v_j, m_rj −= p·conj(v_j)
    for (let pass = 0; pass < 2; pass++) {
      const m = pass === 0 ? h : z;
      for (let r = 0; r < n; r++) {
        const rr = r * n2;
        let pr = 0;
        let pi = 0;
        for (let c = c1; c < n2; c += 2) {
          const xr = m[rr + c];
          const xi = m[rr + c + 1];
          const vr = v[c];
          const vi = v[c + 1];
          pr += xr * vr - xi * vi;
          pi += xr * vi + xi * vr;
        }
        pr *= tau;
        pi *= tau;
        for (let c = c1; c < n2; c += 2) {
          const vr = v[c];
          const vi = v[c + 1];
          m[rr + c] -= pr * vr + pi * vi;
          m[rr + c + 1] -= pi * vr - pr * vi;
        }
      }
    }
  }
}

/**
 * One explicit-shift QR step with shift μ = (mr, mi) on the unreduced window l..hi of the Hessenberg
 * `h`, as a chase of complex Givens rotations: rotation k (k = l..hi−1) acts on rows/columns k, k+1
 * and is G = [[c, s], [−conj(s), c]] with c = |x|/r, s = (x/|x|)·conj(y)/r, r = sqrt(|x|² + |y|²)
 * (x/|x| := 1 when x = 0), which maps (x, y) to ((x/|x|)·r, 0); (x, y) is (h_ll − μ, h_{l+1,l}) for
 * k = l, else the bulge column (h_{k,k−1}, h_{k+1,k−1}). H ← G·H·Gᴴ over the full matrix (Schur
 * form), Z ← Z·Gᴴ. A rotation with r = 0 is skipped.
 */
function cqrStep(h: Float64Array, z: Float64Array, n: number, l: number, hi: number, mr: number, mi: number): void {
  const n2 = 2 * n;
  let xr = h[l * n2 + 2 * l] - mr;
  let xi = h[l * n2 + 2 * l + 1] - mi;
  let yr = h[(l + 1) * n2 + 2 * l];
  let yi = h[(l + 1) * n2 + 2 * l + 1];
  for (let k = l; k < hi; k++) {
    const rk = k * n2;
    const rk1 = rk + n2;
    const ck = 2 * k;
    if (k > l) {
      xr = h[rk + ck - 2];
      xi = h[rk + ck - 1];
      yr = h[rk1 + ck - 2];
      yi = h[rk1 + ck - 1];
    }
    const ax2 = xr * xr + xi * xi;
    const r2 = ax2 + yr * yr + yi * yi;
    if (r2 === 0) continue;
    const ax = Math.sqrt(ax2);
    const r = Math.sqrt(r2);
    const pxr = ax === 0 ? 1 : xr / ax;
    const pxi = ax === 0 ? 0 : xi / ax;
    const c = ax / r;
    // s = px·conj(y)/r
    const sr = (pxr * yr + pxi * yi) / r;
    const si = (pxi * yr - pxr * yi) / r;
    // left: rows k, k+1, columns from k−1 (or l) to n−1
    for (let j = k > l ? ck - 2 : ck; j < n2; j += 2) {
      const ur = h[rk + j];
      const ui = h[rk + j + 1];
      const wr = h[rk1 + j];
      const wi = h[rk1 + j + 1];
      h[rk + j] = c * ur + (sr * wr - si * wi);
      h[rk + j + 1] = c * ui + (sr * wi + si * wr);
      h[rk1 + j] = c * wr - (sr * ur + si * ui);
      h[rk1 + j + 1] = c * wi - (sr * ui - si * ur);
    }
    if (k > l) {
      h[rk + ck - 2] = pxr * r;
      h[rk + ck - 1] = pxi * r;
      h[rk1 + ck - 2] = 0;
      h[rk1 + ck - 1] = 0;
    }
    // right (by Gᴴ): columns k, k+1, rows 0..min(k+2, hi) of H and all rows of Z
    const last = k + 2 < hi ? k + 2 : hi;
    for (let pass = 0; pass < 2; pass++) {
      const m = pass === 0 ? h : z;
      const rows = pass === 0 ? last + 1 : n;
      for (let i = 0; i < rows; i++) {
        const o = i * n2 + ck;
        const ur = m[o];
        const ui = m[o + 1];
        const wr = m[o + 2];
        const wi = m[o + 3];
        m[o] = c * ur + (sr * wr + si * wi);
        m[o + 1] = c * ui + (sr * wi - si * wr);
        m[o + 2] = c * wr - (sr * ur - si * ui);
        m[o + 3] = c * wi - (sr * ui + si * ur);
      }
    }
  }
}

/**
 * Complex Schur form of the Hessenberg `h` (in place, accumulating `z`): on success `h` is upper
 * triangular (T = Zᴴ·A·Z) with the eigenvalues on its diagonal. Single-shift QR ({@link cqrStep}) on
 * the trailing unreduced window l..hi:
 * - deflation: scanning l from hi down, h_{l,l−1} is set to 0 and ends the window when
 *   cabs1(h_{l,l−1}) <= EPS·(cabs1(h_{l−1,l−1}) + cabs1(h_ll)), that sum replaced by ‖H‖_F when it is
 *   0 (cabs1 = |re| + |im|); a 1×1 window (l = hi) deflates: hi −= 1 and the counter `iter` resets;
 * - shift: Wilkinson's, the eigenvalue of the trailing 2×2 [[a, b], [c, d]] closer to d, computed as
 *   μ = d − b·c/(p + q) with p = (a − d)/2, q = the principal sqrt(p² + b·c) negated when
 *   re(conj(p)·q) < 0 (μ = d when p + q = 0); exceptional shifts on the 10th step without deflation,
 *   μ = h_ll + 0.75·cabs1(h_{l+1,l}), and on the 20th, μ = h_hi,hi + 0.75·cabs1(h_hi,hi−1) (real
 *   offsets, as in LAPACK zlahqr);
 * - at most {@link CEIG_MAX_ITER_PER_EIGENVALUE}·n steps in total, else returns false.
 */
function cschur(h: Float64Array, z: Float64Array, n: number): boolean {
  const n2 = 2 * n;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i > 0 ? i - 1 : 0; j < n; j++) {
      const re = h[i * n2 + 2 * j];
      const im = h[i * n2 + 2 * j + 1];
      norm += re * re + im * im;
    }
  }
  norm = Math.sqrt(norm);
  let hi = n - 1;
  let iter = 0;
  let total = 0;
  const maxTotal = CEIG_MAX_ITER_PER_EIGENVALUE * n;
  while (hi >= 1) {
    let l = hi;
    for (; l > 0; l--) {
      const o = l * n2 + 2 * (l - 1);
      let s = cabs1(h, o - n2) + cabs1(h, o + 2);
      if (s === 0) s = norm;
      if (cabs1(h, o) <= EPS * s) {
        h[o] = 0;
        h[o + 1] = 0;
        break;
      }
    }
    if (l === hi) {
      hi -= 1;
      iter = 0;
      continue;
    }
    if (++total > maxTotal) return false;
    iter++;
    let mr: number;
    let mi: number;
    if (iter === 10) {
      const o = l * n2 + 2 * l;
      mr = h[o] + 0.75 * cabs1(h, o + n2);
      mi = h[o + 1];
    } else if (iter === 20) {
      const o = hi * n2 + 2 * hi;
      mr = h[o] + 0.75 * cabs1(h, o - 2);
      mi = h[o + 1];
    } else {
      const om = (hi - 1) * n2 + 2 * (hi - 1);
      const oh = hi * n2 + 2 * hi;
      const ar = h[om];
      const ai = h[om + 1];
      const br = h[om + 2];
      const bi = h[om + 3];
      const cr = h[oh - 2];
      const ci = h[oh - 1];
      const dr = h[oh];
      const di = h[oh + 1];
      const pr = 0.5 * (ar - dr);
      const pi = 0.5 * (ai - di);
      const bcr = br * cr - bi * ci;
      const bci = br * ci + bi * cr;
      // q = sqrt(p² + bc), principal branch
      const er = pr * pr - pi * pi + bcr;
      const ei = 2 * pr * pi + bci;
      const em = Math.sqrt(er * er + ei * ei);
      let qr = 0;
      let qi = 0;
      if (em > 0) {
        if (er >= 0) {
          qr = Math.sqrt(0.5 * (em + er));
          qi = ei / (2 * qr);
        } else {
          const t = Math.sqrt(0.5 * (em - er));
          qr = (ei < 0 ? -ei : ei) / (2 * t);
          qi = ei < 0 ? -t : t;
        }
      }
      if (pr * qr + pi * qi < 0) {
        qr = -qr;
        qi = -qi;
      }
      const gr = pr + qr;
      const gi = pi + qi;
      mr = dr;
      mi = di;
      if (gr !== 0 || gi !== 0) {
        const ir = recipRe(gr, gi);
        const ii = recipIm(gr, gi);
        mr -= bcr * ir - bci * ii;
        mi -= bcr * ii + bci * ir;
      }
    }
    cqrStep(h, z, n, l, hi, mr, mi);
  }
  return true;
}

/**
 * Eigenvectors of the upper triangular `t` (complex n×n) mapped through `z`: row j of `out` (n
 * complex entries) receives the unit eigenvector Z·y of A = Z·T·Zᴴ for the eigenvalue T_jj, where
 * y_j = 1, y_i = 0 for i > j and, for i = j−1 down to 0, (T_ii − T_jj)·y_i = −Σ_{k=i+1..j} T_ik·y_k;
 * a denominator with cabs1 < smin = EPS·‖T‖_F (upper triangle; smin = 1 when T = 0) is replaced by
 * smin (as in LAPACK ztrevc), so repeated eigenvalues give finite vectors. When |y_i| (cabs1) exceeds
 * 1e150, y is scaled down by its reciprocal. `x` holds 2n doubles.
 */
function cschurVectors(t: Float64Array, z: Float64Array, n: number, x: Float64Array, out: Float64Array): void {
  const n2 = 2 * n;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const re = t[i * n2 + 2 * j];
      const im = t[i * n2 + 2 * j + 1];
      norm += re * re + im * im;
    }
  }
  norm = Math.sqrt(norm);
  const smin = norm > 0 ? EPS * norm : 1;
  for (let j = 0; j < n; j++) {
    const cj = 2 * j;
    const lr = t[j * n2 + cj];
    const li = t[j * n2 + cj + 1];
    x[cj] = 1;
    x[cj + 1] = 0;
    for (let i = j - 1; i >= 0; i--) {
      const ri = i * n2;
      let sr = 0;
      let si = 0;
      for (let k = 2 * i + 2; k <= cj; k += 2) {
        const ar = t[ri + k];
        const ai = t[ri + k + 1];
        const yr = x[k];
        const yi = x[k + 1];
        sr += ar * yr - ai * yi;
        si += ar * yi + ai * yr;
      }
      let dr = t[ri + 2 * i] - lr;
      let di = t[ri + 2 * i + 1] - li;
      if ((dr < 0 ? -dr : dr) + (di < 0 ? -di : di) < smin) {
        dr = smin;
        di = 0;
      }
      const ir = recipRe(dr, di);
      const ii = recipIm(dr, di);
      let yr = -(sr * ir - si * ii);
      let yi = -(sr * ii + si * ir);
      const ay = (yr < 0 ? -yr : yr) + (yi < 0 ? -yi : yi);
      if (ay > 1e150) {
        const f = 1 / ay;
        for (let k = 2 * i + 2; k <= cj + 1; k++) x[k] *= f;
        yr *= f;
        yi *= f;
      }
      x[2 * i] = yr;
      x[2 * i + 1] = yi;
    }
    // v = Z[:, 0..j]·y[0..j], normalized
    const ro = j * n2;
    let nrm = 0;
    for (let r = 0; r < n; r++) {
      const rr = r * n2;
      let accr = 0;
      let acci = 0;
      for (let k = 0; k <= cj; k += 2) {
        const ar = z[rr + k];
        const ai = z[rr + k + 1];
        const yr = x[k];
        const yi = x[k + 1];
        accr += ar * yr - ai * yi;
        acci += ar * yi + ai * yr;
      }
      out[ro + 2 * r] = accr;
      out[ro + 2 * r + 1] = acci;
      nrm += accr * accr + acci * acci;
    }
    const inv = 1 / Math.sqrt(nrm);
    for (let r = 0; r < n2; r++) out[ro + r] *= inv;
  }
}

/**
 * Eigen-decomposition of each general (non-Hermitian) complex `n`×`n` matrix, like torch.linalg.eig:
 * `L` gets the n complex eigenvalues (interleaved, 2n numbers per item), sorted ascending by real
 * part, ties (exactly equal real parts) by imaginary part ascending; `V` (n×n complex) gets in COLUMN
 * j a unit (2-norm) eigenvector of L[j], A·V = V·diag(L). Gauge: the largest-magnitude component of
 * each column (the first on ties, comparing |.|² exactly) is real and positive (imaginary part
 * exactly 0). Method: power-of-two scaling, Householder reduction to Hessenberg form, complex
 * single-shift QR to the Schur form T = Zᴴ·A·Z ({@link cschur}: deflation, Wilkinson and exceptional
 * shifts, at most 30·n steps), then back-substitution on T ({@link cschurVectors}) and V = Z·Y. No
 * balancing. For defective matrices the returned vectors are (nearly) parallel, as in LAPACK geev.
 * An item fails (outputs NaN) on non-finite input or non-convergence. Returns -1 or the first failed
 * batch index.
 */
export function ceig(a: FloatArray, batch: number, n: number, L: FloatArray, V: FloatArray): number {
  const n2 = 2 * n;
  const nn2 = n * n2;
  // scratch shared with the other kernels: w = H then T, vt = Z, d = the eigenvalues, rhs = the
  // Householder vector (Hessenberg), then y (back-substitution); own: eigRow = the Hessenberg work
  // row, eigVec = the eigenvectors (rows)
  wBuf = growF64(wBuf, nn2);
  vtBuf = growF64(vtBuf, nn2);
  dBuf = growF64(dBuf, n2);
  rhsBuf = growF64(rhsBuf, n2);
  permBuf = growI32(permBuf, n);
  eigVecBuf = growF64(eigVecBuf, nn2);
  eigRowBuf = growF64(eigRowBuf, n2);
  const h = wBuf;
  const z = vtBuf;
  const val = dBuf;
  const work = rhsBuf;
  const sv = eigRowBuf;
  const perm = permBuf;
  const vec = eigVecBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn2;
    const sc = loadScaled(a, o, n, h);
    let ok = !Number.isNaN(sc);
    if (ok) {
      z.fill(0, 0, nn2);
      for (let i = 0; i < n; i++) z[i * n2 + 2 * i] = 1;
      chessenberg(h, n, z, work, sv);
      ok = cschur(h, z, n);
    }
    if (!ok) {
      fillNaN(L, t * n2, n2);
      fillNaN(V, o, nn2);
      if (failed < 0) failed = t;
      continue;
    }
    cschurVectors(h, z, n, work, vec);
    for (let i = 0; i < n; i++) {
      val[2 * i] = h[i * n2 + 2 * i];
      val[2 * i + 1] = h[i * n2 + 2 * i + 1];
    }
    // stable insertion sort of the indices by (re, im)
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = 1; i < n; i++) {
      const pi = perm[i];
      const kr = val[2 * pi];
      const ki = val[2 * pi + 1];
      let j = i - 1;
      while (j >= 0) {
        const qr = val[2 * perm[j]];
        if (!(qr > kr || (qr === kr && val[2 * perm[j] + 1] > ki))) break;
        perm[j + 1] = perm[j];
        j--;
      }
      perm[j + 1] = pi;
    }
    const unscale = 1 / sc;
    for (let j = 0; j < n; j++) {
      const pj = perm[j];
      L[t * n2 + 2 * j] = val[2 * pj] * unscale;
      L[t * n2 + 2 * j + 1] = val[2 * pj + 1] * unscale;
      writePhasedColumn(vec, pj * n2, n, V, o, j);
    }
  }
  return failed;
}
