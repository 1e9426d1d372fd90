// Symmetric eigendecomposition A = V·diag(λ)·Vᵀ. Householder tridiagonalization followed by the implicit
// QL algorithm with Wilkinson shifts; the tiniest matrices use cyclic Jacobi rotations instead.

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

/**
 * Matrices with n up to this use cyclic Jacobi; larger ones tridiagonalization + implicit QL. Measured
 * (Node 20, float64, both paths optimized): Jacobi is only on par for n <= 3 and is 1.5x slower at
 * n = 5, 2x at n = 8 and about 3x at n = 16..32, so the crossover is here rather than at 32.
 */
export const EIGH_JACOBI_MAX_N = 3;

const JACOBI_MAX_SWEEPS = 60;
const QL_MAX_ITER = 60; // per eigenvalue

let wBuf = new Float64Array(0);
let vtBuf = new Float64Array(0);
let dBuf = new Float64Array(0);
let eBuf = new Float64Array(0);
let tmpBuf = new Float64Array(0);
let permBuf = new Int32Array(0);

/**
 * Cyclic Jacobi on the symmetric `n`×`n` matrix whose upper triangle is in `w` (the strict upper
 * triangle is destroyed; the lower one is not read). On return `d` holds the eigenvalues and row i of
 * `vt` the unit eigenvector of d[i]. Returns false if it did not converge.
 *
 * Rotation (p, q) is skipped, and a_pq set to zero, when |a_pq| <= EPS·sqrt(|a_pp a_qq|) (relative to
 * the diagonal: keeps small eigenvalues accurate) or |a_pq| <= EPS·‖A‖_F/n (a backward error below
 * EPS·‖A‖_F in total); the iteration stops after a sweep with no rotation.
 */
export function jacobiEigh(w: Float64Array, n: number, d: Float64Array, vt: Float64Array): boolean {
  let fro = 0;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const aii = w[ri + i];
    d[i] = aii;
    fro += aii * aii;
    for (let j = i + 1; j < n; j++) {
      const v = w[ri + j];
      fro += 2 * v * v;
    }
  }
  vt.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) vt[i * n + i] = 1;
  const absTol = (EPS * Math.sqrt(fro)) / n;
  for (let sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const rp = p * n;
      for (let q = p + 1; q < n; q++) {
        const apq = w[rp + q];
        if (apq === 0) continue;
        const dp = d[p];
        const dq = d[q];
        const aa = apq < 0 ? -apq : apq;
        const dpq = dp * dq;
        if (aa <= absTol || aa * aa <= EPS * EPS * (dpq < 0 ? -dpq : dpq)) {
          w[rp + q] = 0;
          continue;
        }
        rotated = true;
        // rotation zeroing a_pq: t = tan φ is the smaller root of t² + 2θt - 1 = 0,
        // θ = (a_qq - a_pp)/(2a_pq); with x = a_qq - a_pp, y = 2a_pq, rr = sqrt(x² + y²), u = |x| + rr:
        // t = sign(x)·y/u and c = sqrt(u/(2rr))
        const x = dq - dp;
        const y = 2 * apq;
        const ax = x < 0 ? -x : x;
        const rr = Math.sqrt(x * x + y * y);
        const u = ax + rr;
        const c = Math.sqrt(u / (2 * rr));
        const t = (x < 0 ? -y : y) / u;
        const s = t * c;
        const h = t * apq;
        d[p] = dp - h;
        d[q] = dq + h;
        w[rp + q] = 0;
        const rq = q * n;
        for (let j = 0; j < p; j++) {
          const rj = j * n;
          const g = w[rj + p];
          const hh = w[rj + q];
          w[rj + p] = c * g - s * hh;
          w[rj + q] = s * g + c * hh;
        }
        for (let j = p + 1; j < q; j++) {
          const g = w[rp + j];
          const hh = w[j * n + q];
          w[rp + j] = c * g - s * hh;
          w[j * n + q] = s * g + c * hh;
        }
        for (let j = q + 1; j < n; j++) {
          const g = w[rp + j];
          const hh = w[rq + j];
          w[rp + j] = c * g - s * hh;
          w[rq + j] = s * g + c * hh;
        }
        for (let j = 0; j < n; j++) {
          const g = vt[rp + j];
          const hh = vt[rq + j];
          vt[rp + j] = c * g - s * hh;
          vt[rq + j] = s * g + c * hh;
        }
      }
    }
    if (!rotated) return true;
  }
  return false;
}

/**
 * Householder reduction of the symmetric `n`×`n` matrix in `w` (full storage, both triangles valid) to
 * tridiagonal T = Qᵀ A Q: diagonal in `d`, off-diagonal in `e` (e[i] couples i and i+1, e[n-1] = 0).
 * Row i of `zt` receives column i of Q. `w` is destroyed; `tmp` needs 2n entries.
 */
export function tridiagonalize(
  w: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
  zt: Float64Array,
  tmp: Float64Array,
): void {
  // Reflector k (I - beta v vᵀ) acts on indices k+1..n-1: v is kept in row k of w at columns
  // k+1..n-1 (that row is finished), beta in tmp[k]; tmp[n..2n) is the work vector p.
  const betas = tmp; // n entries
  const p = tmp; // reuses tmp[n..2n) via offset below
  const po = n;
  for (let k = 0; k < n - 2; k++) {
    const rk = k * n;
    const x0 = w[rk + k + 1];
    let sigma = 0;
    for (let j = k + 2; j < n; j++) {
      const v = w[rk + j];
      sigma += v * v;
    }
    if (sigma === 0) {
      betas[k] = 0;
      e[k] = x0;
      continue;
    }
    const norm = Math.sqrt(x0 * x0 + sigma);
    const alpha = x0 > 0 ? -norm : norm;
    e[k] = alpha;
    // v = x - alpha e1 (unnormalized); beta = 2 / vᵀv = 1 / (norm (norm + |x0|))
    w[rk + k + 1] = x0 - alpha;
    const beta = 1 / (norm * (norm + (x0 < 0 ? -x0 : x0)));
    betas[k] = beta;
    // p = beta B v, B the trailing block rows/cols k+1..n-1
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let acc = 0;
      for (let j = k + 1; j < n; j++) acc += w[ri + j] * w[rk + j];
      acc *= beta;
      p[po + i] = acc;
      pv += acc * w[rk + i];
    }
    // q = p - (beta/2)(pᵀv) v, stored over p
    const kk = 0.5 * beta * pv;
    for (let i = k + 1; i < n; i++) p[po + i] -= kk * w[rk + i];
    // B -= v qᵀ + q vᵀ
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const vi = w[rk + i];
      const qi = p[po + i];
      for (let j = k + 1; j < n; j++) w[ri + j] -= vi * p[po + j] + qi * w[rk + j];
    }
  }
  for (let i = 0; i < n; i++) d[i] = w[i * n + i];
  if (n >= 2) e[n - 2] = w[(n - 2) * n + n - 1];
  e[n - 1] = 0;
  if (n >= 3) betas[n - 2] = 0;
  // zt = Qᵀ = H_{n-3} ... H_0, built as zt = I·H_{n-3}·...·H_0 (each H_k only touches rows and columns
  // k+1..n-1 at that point); row i of zt is column i of Q.
  zt.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) zt[i * n + i] = 1;
  for (let k = n - 3; k >= 0; k--) {
    const beta = betas[k];
    if (beta === 0) continue;
    const rk = k * n;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let acc = 0;
      for (let j = k + 1; j < n; j++) acc += zt[ri + j] * w[rk + j];
      acc *= beta;
      for (let j = k + 1; j < n; j++) zt[ri + j] -= acc * w[rk + j];
    }
  }
}

/**
 * Implicit QL with Wilkinson shifts on the symmetric tridiagonal (d, e) (e[i] couples i and i+1),
 * applying the rotations to rows of `zt`. On return d holds the eigenvalues and row i of `zt` the
 * eigenvector of d[i] (in the basis `zt` started in). Returns false if an eigenvalue did not converge.
 */
export function tridiagonalQL(d: Float64Array, e: Float64Array, n: number, zt: Float64Array): boolean {
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= EPS * dd) break;
      }
      if (m === l) break;
      if (++iter > QL_MAX_ITER) return false;
      // |e[l]| > EPS·(|d[l]| + |d[l+1]|) here, so |g| < 1/EPS and g² cannot overflow; the input is
      // scaled to max |a_ij| ~ 1, so the plain sqrt(f² + g²) below is safe as well.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.sqrt(g * g + 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.sqrt(f * f + g * g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        const ri = i * n;
        const ri1 = ri + n;
        for (let k = 0; k < n; k++) {
          const zk1 = zt[ri1 + k];
          const zk = zt[ri + k];
          zt[ri1 + k] = s * zk + c * zk1;
          zt[ri + k] = c * zk - s * zk1;
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return true;
}

/**
 * Eigen-decomposition of each symmetric `n`×`n` matrix (row-major), reading ONLY the lower triangle
 * (diagonal included), like torch.linalg.eigh(UPLO='L'). `values` gets the n eigenvalues ascending;
 * `vectors` (n×n) gets in COLUMN j the unit eigenvector of values[j], the columns orthonormal. Sign
 * convention: the largest-magnitude component of each eigenvector (the first on ties) is positive.
 * Method: cyclic Jacobi for n <= {@link EIGH_JACOBI_MAX_N}, else Householder tridiagonalization +
 * implicit QL. An item fails (outputs NaN) on non-finite input or non-convergence.
 * Returns -1 or the first failed batch index.
 */
export function eigh(
  a: FloatArray,
  batch: number,
  n: number,
  values: FloatArray,
  vectors: FloatArray,
): number {
  const nn = n * n;
  wBuf = growF64(wBuf, nn);
  vtBuf = growF64(vtBuf, nn);
  dBuf = growF64(dBuf, n);
  eBuf = growF64(eBuf, n);
  tmpBuf = growF64(tmpBuf, 2 * n);
  permBuf = growI32(permBuf, n);
  const w = wBuf;
  const vt = vtBuf;
  const d = dBuf;
  const e = eBuf;
  const perm = permBuf;
  const jacobi = n <= EIGH_JACOBI_MAX_N;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn;
    // load the lower triangle into both triangles of w, tracking max |a_ij|
    let mx = 0;
    let finite = true;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j <= i; j++) {
        const v = a[o + ri + j];
        w[ri + j] = v;
        w[j * n + i] = v;
        const av = v < 0 ? -v : v;
        if (av > mx) mx = av;
        else if (!(av <= mx)) finite = false;
      }
    }
    if (!finite || mx === Number.POSITIVE_INFINITY) {
      fillNaN(values, t * n, n);
      fillNaN(vectors, o, nn);
      if (failed < 0) failed = t;
      continue;
    }
    const sc = pow2Scale(mx);
    if (sc !== 1) for (let i = 0; i < nn; i++) w[i] *= sc;
    let ok: boolean;
    if (jacobi) {
      ok = jacobiEigh(w, n, d, vt);
    } else {
      tridiagonalize(w, n, d, e, vt, tmpBuf);
      ok = tridiagonalQL(d, e, n, vt);
    }
    if (!ok) {
      fillNaN(values, t * n, n);
      fillNaN(vectors, o, nn);
      if (failed < 0) failed = t;
      continue;
    }
    sortPerm(d, n, perm, false);
    const unscale = 1 / sc;
    for (let j = 0; j < n; j++) {
      const pj = perm[j];
      values[t * n + j] = d[pj] * unscale;
      writeSignedColumn(vt, pj, n, vectors, o, j);
    }
  }
  return failed;
}
