// Eigen-decomposition of real non-symmetric matrices with an all-real spectrum: Householder reduction to
// upper Hessenberg form, Francis double-shift QR to the real Schur form T = Zᵀ·A·Z (accumulating Z),
// and eigenvectors by back-substitution on the triangular T, mapped back through Z.

import {
  EPS,
  type FloatArray,
  fillNaN,
  growF64,
  growI32,
  pow2Scale,
  sortPerm,
  writeSignedColumn,
} from './common.js';

/** An eigenvalue pair counts as complex when |imag| > IMAG_TOL·‖A‖_F (about 7·sqrt(EPS)·‖A‖_F). */
export const EIG_IMAG_TOL = 1e-7;

const MAX_ITER_PER_EIGENVALUE = 40;

let hBuf = new Float64Array(0);
let zBuf = new Float64Array(0);
let xBuf = new Float64Array(0);
let hvBuf = new Float64Array(0);
let vecBuf = new Float64Array(0);
let valBuf = new Float64Array(0);
let permBuf = new Int32Array(0);

/**
 * Reduces the `n`×`n` matrix in `h` to upper Hessenberg form H = Zᵀ·A·Z in place by Householder
 * reflections, accumulating `z` (which must hold the identity on entry). `s` and `v` need n entries.
 */
function hessenberg(h: Float64Array, n: number, z: Float64Array, s: Float64Array, v: Float64Array): void {
  for (let k = 0; k < n - 2; k++) {
    const x0 = h[(k + 1) * n + k];
    let sigma = 0;
    for (let i = k + 2; i < n; i++) {
      const t = h[i * n + k];
      sigma += t * t;
    }
    if (sigma === 0) continue;
    const norm = Math.sqrt(x0 * x0 + sigma);
    const alpha = x0 > 0 ? -norm : norm;
    const inv = 1 / (x0 - alpha);
    v[k + 1] = 1;
    for (let i = k + 2; i < n; i++) v[i] = h[i * n + k] * inv;
    const tau = (alpha - x0) / alpha;
    h[(k + 1) * n + k] = alpha;
    for (let i = k + 2; i < n; i++) h[i * n + k] = 0;
    // left: rows k+1..n-1, columns k+1..n-1
    for (let c = k + 1; c < n; c++) s[c] = 0;
    for (let i = k + 1; i < n; i++) {
      const vi = v[i];
      const ri = i * n;
      for (let c = k + 1; c < n; c++) s[c] += vi * h[ri + c];
    }
    for (let i = k + 1; i < n; i++) {
      const f = tau * v[i];
      const ri = i * n;
      for (let c = k + 1; c < n; c++) h[ri + c] -= f * s[c];
    }
    // right: all rows, columns k+1..n-1 (of H and of Z)
    for (let r = 0; r < n; r++) {
      const rr = r * n;
      let acc = 0;
      for (let j = k + 1; j < n; j++) acc += h[rr + j] * v[j];
      acc *= tau;
      for (let j = k + 1; j < n; j++) h[rr + j] -= acc * v[j];
      let accz = 0;
      for (let j = k + 1; j < n; j++) accz += z[rr + j] * v[j];
      accz *= tau;
      for (let j = k + 1; j < n; j++) z[rr + j] -= accz * v[j];
    }
  }
}

/**
 * Applies the reflector I - tau·w·wᵀ, w = (1, v1, v2) (v2 ignored when `three` is false), acting on
 * indices k..k+2 (or k..k+1): from the left to rows of H over columns c0..n-1, from the right to
 * columns of H over rows 0..r1, and from the right to columns of Z over all rows.
 */
function applyReflector(
  h: Float64Array,
  z: Float64Array,
  n: number,
  k: number,
  tau: number,
  v1: number,
  v2: number,
  three: boolean,
  c0: number,
  r1: number,
): void {
  const r0 = k * n;
  const ra = r0 + n;
  const rb = ra + n;
  if (three) {
    for (let c = c0; c < n; c++) {
      const s = tau * (h[r0 + c] + v1 * h[ra + c] + v2 * h[rb + c]);
      h[r0 + c] -= s;
      h[ra + c] -= s * v1;
      h[rb + c] -= s * v2;
    }
    for (let i = 0; i <= r1; i++) {
      const ri = i * n + k;
      const s = tau * (h[ri] + v1 * h[ri + 1] + v2 * h[ri + 2]);
      h[ri] -= s;
      h[ri + 1] -= s * v1;
      h[ri + 2] -= s * v2;
    }
    for (let i = 0; i < n; i++) {
      const ri = i * n + k;
      const s = tau * (z[ri] + v1 * z[ri + 1] + v2 * z[ri + 2]);
      z[ri] -= s;
      z[ri + 1] -= s * v1;
      z[ri + 2] -= s * v2;
    }
  } else {
    for (let c = c0; c < n; c++) {
      const s = tau * (h[r0 + c] + v1 * h[ra + c]);
      h[r0 + c] -= s;
      h[ra + c] -= s * v1;
    }
    for (let i = 0; i <= r1; i++) {
      const ri = i * n + k;
      const s = tau * (h[ri] + v1 * h[ri + 1]);
      h[ri] -= s;
      h[ri + 1] -= s * v1;
    }
    for (let i = 0; i < n; i++) {
      const ri = i * n + k;
      const s = tau * (z[ri] + v1 * z[ri + 1]);
      z[ri] -= s;
      z[ri + 1] -= s * v1;
    }
  }
}

/**
 * One implicit Francis double-shift QR step on the unreduced window l..hi (hi - l >= 2) of the
 * Hessenberg matrix `h`, with shifts the roots of λ² - tr·λ + dt (GVL Algorithm 7.5.1), applied to the
 * full matrix (real Schur form) and accumulated into `z`.
 */
function francisStep(
  h: Float64Array,
  z: Float64Array,
  n: number,
  l: number,
  hi: number,
  tr: number,
  dt: number,
): void {
  const h00 = h[l * n + l];
  const h01 = h[l * n + l + 1];
  const h10 = h[(l + 1) * n + l];
  const h11 = h[(l + 1) * n + l + 1];
  const h21 = h[(l + 2) * n + l + 1];
  let x = h00 * h00 + h01 * h10 - tr * h00 + dt;
  let y = h10 * (h00 + h11 - tr);
  let w = h10 * h21;
  for (let k = l; k <= hi - 2; k++) {
    const nrm = Math.sqrt(x * x + y * y + w * w);
    if (nrm !== 0) {
      const alpha = x > 0 ? -nrm : nrm;
      const inv = 1 / (x - alpha);
      const tau = (alpha - x) / alpha;
      const r1 = k + 3 < hi ? k + 3 : hi;
      applyReflector(h, z, n, k, tau, y * inv, w * inv, true, k > l ? k - 1 : l, r1);
      if (k > l) {
        h[k * n + k - 1] = alpha;
        h[(k + 1) * n + k - 1] = 0;
        h[(k + 2) * n + k - 1] = 0;
      }
    }
    x = h[(k + 1) * n + k];
    y = h[(k + 2) * n + k];
    if (k < hi - 2) w = h[(k + 3) * n + k];
  }
  const k = hi - 1;
  const nrm = Math.sqrt(x * x + y * y);
  if (nrm !== 0) {
    const alpha = x > 0 ? -nrm : nrm;
    const tau = (alpha - x) / alpha;
    applyReflector(h, z, n, k, tau, y / (x - alpha), 0, false, k - 1 > l ? k - 1 : l, hi);
    if (k > l) {
      h[k * n + k - 1] = alpha;
      h[(k + 1) * n + k - 1] = 0;
    }
  }
}

/**
 * Triangularizes the deflated 2×2 diagonal block at rows/columns p, p+1 with a rotation when its
 * eigenvalues are real (or their imaginary parts are at most `imagTol`, then treated as a double real
 * eigenvalue). Returns false for a complex pair.
 */
function split2x2(h: Float64Array, z: Float64Array, n: number, p: number, imagTol: number): boolean {
  const q = p + 1;
  const a = h[p * n + p];
  const b = h[p * n + q];
  const c = h[q * n + p];
  const d = h[q * n + q];
  if (c === 0) return true;
  const half = 0.5 * (a - d);
  let disc = half * half + b * c;
  if (disc < 0) {
    if (Math.sqrt(-disc) > imagTol) return false;
    disc = 0;
  }
  const sq = Math.sqrt(disc);
  const mu = half >= 0 ? half + sq : half - sq; // λ1 - d for the eigenvalue λ1 farther from d
  // (mu, c) is an eigenvector of the block for λ1 = d + mu; rotate it onto the first axis
  const nv = Math.sqrt(mu * mu + c * c);
  const cs = mu / nv;
  const sn = c / nv;
  const rp = p * n;
  const rq = q * n;
  for (let j = p; j < n; j++) {
    const u = h[rp + j];
    const v = h[rq + j];
    h[rp + j] = cs * u + sn * v;
    h[rq + j] = cs * v - sn * u;
  }
  for (let i = 0; i <= q; i++) {
    const ri = i * n;
    const u = h[ri + p];
    const v = h[ri + q];
    h[ri + p] = cs * u + sn * v;
    h[ri + q] = cs * v - sn * u;
  }
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const u = z[ri + p];
    const v = z[ri + q];
    z[ri + p] = cs * u + sn * v;
    z[ri + q] = cs * v - sn * u;
  }
  h[rq + p] = 0;
  return true;
}

/**
 * Real Schur form of the Hessenberg `h` (in place, accumulating `z`), requiring every eigenvalue real:
 * on success `h` is upper triangular with the eigenvalues on its diagonal. Returns 0 on success, 1 for a
 * complex eigenvalue pair, 2 for non-convergence.
 */
function realSchur(h: Float64Array, z: Float64Array, n: number, imagTol: number): number {
  let norm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i > 0 ? i - 1 : 0; j < n; j++) {
      const v = h[i * n + j];
      norm += v * v;
    }
  }
  norm = Math.sqrt(norm);
  let hi = n - 1;
  let iter = 0;
  let total = 0;
  const maxTotal = MAX_ITER_PER_EIGENVALUE * (n > 1 ? n : 1);
  while (hi >= 1) {
    // find the start l of the unreduced block ending at hi
    let l = hi;
    for (; l > 0; l--) {
      let s = Math.abs(h[(l - 1) * n + l - 1]) + Math.abs(h[l * n + l]);
      if (s === 0) s = norm;
      const sub = h[l * n + l - 1];
      if (Math.abs(sub) <= EPS * s) {
        h[l * n + l - 1] = 0;
        break;
      }
    }
    if (l === hi) {
      hi -= 1;
      iter = 0;
      continue;
    }
    if (l === hi - 1) {
      if (!split2x2(h, z, n, hi - 1, imagTol)) return 1;
      hi -= 2;
      iter = 0;
      continue;
    }
    if (++total > maxTotal) return 2;
    iter++;
    let tr: number;
    let dt: number;
    if (iter % 10 === 0) {
      // exceptional shift (as in LAPACK dlahqr) to break cycles
      const s = Math.abs(h[hi * n + hi - 1]) + Math.abs(h[(hi - 1) * n + hi - 2]);
      const h11 = 0.75 * s + h[hi * n + hi];
      tr = 2 * h11;
      dt = h11 * h11 + 0.4375 * s * s;
    } else {
      const m = hi - 1;
      const a = h[m * n + m];
      const b = h[m * n + hi];
      const c = h[hi * n + m];
      const d = h[hi * n + hi];
      tr = a + d;
      dt = a * d - b * c;
    }
    francisStep(h, z, n, l, hi, tr, dt);
  }
  return 0;
}

/**
 * Eigenvectors of the upper triangular `t` (n×n) mapped through `z`: row k of `out` receives the unit
 * eigenvector of A = Z·T·Zᵀ for the eigenvalue t[k][k]. Back-substitution (T - λ_k I)x = 0 with x_k = 1;
 * a near-zero divisor (a repeated eigenvalue) is replaced by ±EPS·‖T‖ as in LAPACK trevc.
 */
function schurVectors(t: Float64Array, z: Float64Array, n: number, x: Float64Array, out: Float64Array): void {
  let norm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = t[i * n + j];
      norm += v * v;
    }
  }
  norm = Math.sqrt(norm);
  const smin = norm > 0 ? EPS * norm : 1;
  for (let k = 0; k < n; k++) {
    const lam = t[k * n + k];
    x[k] = 1;
    let top = k; // x[top..k] is computed
    for (let i = k - 1; i >= 0; i--) {
      const ri = i * n;
      let s = 0;
      for (let j = i + 1; j <= k; j++) s += t[ri + j] * x[j];
      let den = t[ri + i] - lam;
      if (den < smin && den > -smin) den = den < 0 ? -smin : smin;
      let xi = -s / den;
      const axi = xi < 0 ? -xi : xi;
      if (axi > 1e150) {
        const f = 1 / axi;
        for (let j = i + 1; j <= k; j++) x[j] *= f;
        xi *= f;
      }
      x[i] = xi;
      top = i;
    }
    // v = Z[:, top..k]·x[top..k], normalized
    const ro = k * n;
    let nrm = 0;
    for (let r = 0; r < n; r++) {
      const rr = r * n;
      let acc = 0;
      for (let j = top; j <= k; j++) acc += z[rr + j] * x[j];
      out[ro + r] = acc;
      nrm += acc * acc;
    }
    const inv = 1 / Math.sqrt(nrm);
    for (let r = 0; r < n; r++) out[ro + r] *= inv;
  }
}

/**
 * Eigen-decomposition of each real non-symmetric `n`×`n` matrix (row-major) whose eigenvalues are all
 * real: `values` gets them ascending, `vectors` (n×n) gets in COLUMN j a unit (2-norm) eigenvector of
 * values[j], with the eigh sign convention (largest-magnitude component positive, first on ties).
 * Method: Householder Hessenberg reduction, Francis double-shift QR to real Schur form, back-substitution
 * on the Schur form (no balancing). An item fails (outputs NaN) when it has a complex eigenvalue pair
 * (|imag| > {@link EIG_IMAG_TOL}·‖A‖_F), non-finite entries, or the QR iteration does not converge.
 * For defective matrices the returned vectors are (nearly) parallel, as in LAPACK geev.
 * Returns -1 or the first failed batch index.
 */
export function eig(
  a: FloatArray,
  batch: number,
  n: number,
  values: FloatArray,
  vectors: FloatArray,
): number {
  const nn = n * n;
  hBuf = growF64(hBuf, nn);
  zBuf = growF64(zBuf, nn);
  xBuf = growF64(xBuf, n);
  hvBuf = growF64(hvBuf, n);
  vecBuf = growF64(vecBuf, nn);
  valBuf = growF64(valBuf, n);
  permBuf = growI32(permBuf, n);
  const h = hBuf;
  const z = zBuf;
  const x = xBuf;
  const vec = vecBuf;
  const val = valBuf;
  const perm = permBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn;
    let mx = 0;
    let fro = 0;
    let finite = true;
    for (let i = 0; i < nn; i++) {
      const v = a[o + i];
      h[i] = v;
      const av = v < 0 ? -v : v;
      if (av > mx) mx = av;
      else if (!(av <= mx)) finite = false;
    }
    let status = 0;
    if (!finite || mx === Number.POSITIVE_INFINITY) status = 3;
    const sc = status === 0 ? pow2Scale(mx) : 1;
    if (status === 0) {
      for (let i = 0; i < nn; i++) {
        const v = h[i] * sc;
        h[i] = v;
        fro += v * v;
      }
      z.fill(0, 0, nn);
      for (let i = 0; i < n; i++) z[i * n + i] = 1;
      hessenberg(h, n, z, x, hvBuf);
      status = realSchur(h, z, n, EIG_IMAG_TOL * Math.sqrt(fro));
    }
    if (status !== 0) {
      fillNaN(values, t * n, n);
      fillNaN(vectors, o, nn);
      if (failed < 0) failed = t;
      continue;
    }
    schurVectors(h, z, n, x, vec);
    for (let i = 0; i < n; i++) val[i] = h[i * n + i];
    sortPerm(val, n, perm, false);
    const unscale = 1 / sc;
    for (let j = 0; j < n; j++) {
      const pj = perm[j];
      values[t * n + j] = val[pj] * unscale;
      writeSignedColumn(vec, pj, n, vectors, o, j);
    }
  }
  return failed;
}
