// Reduced Householder QR: A = Q·R with Q m×k (orthonormal columns), R k×n upper triangular, k = min(m, n).

import { type FloatArray, fillNaN, growF64, loadMaxAbs, pow2Scale } from './common.js';

let wBuf = new Float64Array(0);
let qBuf = new Float64Array(0);
let tauBuf = new Float64Array(0);
let sBuf = new Float64Array(0);

/**
 * Householder QR of the `m`×`n` row-major matrix in `w`, in place: on return R is on and above the
 * diagonal of `w`, the reflector vectors (implicit leading 1) below it and their factors in `tau`.
 * Reflector j is H_j = I - tau_j v_j v_jᵀ with v_j supported on rows j..m-1. `s` is an `n`-long work row.
 */
export function householderQR(
  w: Float64Array,
  m: number,
  n: number,
  tau: Float64Array,
  s: Float64Array,
): void {
  const k = m < n ? m : n;
  for (let j = 0; j < k; j++) {
    const rj = j * n;
    const x0 = w[rj + j];
    let sigma = 0;
    for (let i = j + 1; i < m; i++) {
      const v = w[i * n + j];
      sigma += v * v;
    }
    if (sigma === 0) {
      tau[j] = 0;
      continue;
    }
    const norm = Math.sqrt(x0 * x0 + sigma);
    const beta = x0 > 0 ? -norm : norm;
    const v0 = x0 - beta;
    const inv = 1 / v0;
    for (let i = j + 1; i < m; i++) w[i * n + j] *= inv;
    const tj = (beta - x0) / beta;
    tau[j] = tj;
    w[rj + j] = beta;
    // apply H_j to columns j+1..n-1: s = tau * (row j + sum_i v_i row i), rows -= v_i s
    if (j + 1 < n) {
      for (let c = j + 1; c < n; c++) s[c] = w[rj + c];
      for (let i = j + 1; i < m; i++) {
        const ri = i * n;
        const vi = w[ri + j];
        if (vi === 0) continue;
        for (let c = j + 1; c < n; c++) s[c] += vi * w[ri + c];
      }
      for (let c = j + 1; c < n; c++) {
        s[c] *= tj;
        w[rj + c] -= s[c];
      }
      for (let i = j + 1; i < m; i++) {
        const ri = i * n;
        const vi = w[ri + j];
        if (vi === 0) continue;
        for (let c = j + 1; c < n; c++) w[ri + c] -= vi * s[c];
      }
    }
  }
}

/**
 * Forms the first `k` columns of Q = H_0 H_1 ... H_{k-1} (backward accumulation) into `q` (`m`×`k`,
 * row-major) from the output of {@link householderQR}. `s` is a `k`-long work row.
 */
export function formQ(
  w: Float64Array,
  m: number,
  n: number,
  tau: Float64Array,
  q: Float64Array,
  k: number,
  s: Float64Array,
): void {
  q.fill(0, 0, m * k);
  for (let i = 0; i < k; i++) q[i * k + i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const tj = tau[j];
    if (tj === 0) continue;
    const rj = j * k;
    for (let c = j; c < k; c++) s[c] = q[rj + c];
    for (let i = j + 1; i < m; i++) {
      const vi = w[i * n + j];
      if (vi === 0) continue;
      const ri = i * k;
      for (let c = j; c < k; c++) s[c] += vi * q[ri + c];
    }
    for (let c = j; c < k; c++) {
      s[c] *= tj;
      q[rj + c] -= s[c];
    }
    for (let i = j + 1; i < m; i++) {
      const vi = w[i * n + j];
      if (vi === 0) continue;
      const ri = i * k;
      for (let c = j; c < k; c++) q[ri + c] -= vi * s[c];
    }
  }
}

/**
 * Reduced QR of each `m`×`n` matrix: Q `m`×k with orthonormal columns, R k×`n` upper triangular,
 * k = min(m, n), by Householder reflections. Sign convention: every diagonal entry of R is >= 0 (a
 * column of Q and the matching row of R are negated where needed), so the factorization is unique
 * for full-rank A. A non-finite input fails (outputs NaN). Returns -1 or the first failed batch index.
 */
export function qr(a: FloatArray, batch: number, m: number, n: number, Q: FloatArray, R: FloatArray): number {
  const k = m < n ? m : n;
  const mn = m * n;
  const mk = m * k;
  const kn = k * n;
  wBuf = growF64(wBuf, mn);
  qBuf = growF64(qBuf, mk);
  tauBuf = growF64(tauBuf, k);
  sBuf = growF64(sBuf, n > k ? n : k);
  const w = wBuf;
  const q = qBuf;
  const tau = tauBuf;
  const s = sBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const mx = loadMaxAbs(a, t * mn, mn, w);
    if (!Number.isFinite(mx)) {
      fillNaN(Q, t * mk, mk);
      fillNaN(R, t * kn, kn);
      if (failed < 0) failed = t;
      continue;
    }
    const sc = pow2Scale(mx);
    if (sc !== 1) for (let i = 0; i < mn; i++) w[i] *= sc;
    householderQR(w, m, n, tau, s);
    formQ(w, m, n, tau, q, k, s);
    const unscale = 1 / sc;
    const oq = t * mk;
    const or = t * kn;
    for (let j = 0; j < k; j++) {
      const neg = w[j * n + j] < 0;
      const rr = or + j * n;
      for (let c = 0; c < j; c++) R[rr + c] = 0;
      if (neg) {
        for (let c = j; c < n; c++) R[rr + c] = 0 - w[j * n + c] * unscale;
        for (let i = 0; i < m; i++) Q[oq + i * k + j] = 0 - q[i * k + j];
      } else {
        for (let c = j; c < n; c++) R[rr + c] = w[j * n + c] * unscale;
        for (let i = 0; i < m; i++) Q[oq + i * k + j] = q[i * k + j];
      }
    }
  }
  return failed;
}
