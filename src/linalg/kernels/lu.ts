// LU factorization with partial pivoting (row interchanges) and the routines built on it: solve, inv,
// det, slogdet. Matrices are row-major; all arithmetic is float64.

import { type FloatArray, fillNaN, growF64, growI32, loadMaxAbs } from './common.js';

let luBuf = new Float64Array(0);
let rhsBuf = new Float64Array(0);
let pivBuf = new Int32Array(0);

/**
 * Factors the `n`×`n` matrix in `w` in place as P·A = L·U (unit lower L below the diagonal, U on and
 * above it); `piv[k]` is the row interchanged with row `k` at step `k`. A zero pivot column is skipped
 * (the factorization continues), so U has an exact zero on its diagonal. Returns the permutation
 * sign (+1 or -1).
 */
function luFactor(w: Float64Array, n: number, piv: Int32Array): number {
  let sign = 1;
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    let p = k;
    let mx = Math.abs(w[rk + k]);
    for (let i = k + 1; i < n; i++) {
      const a = Math.abs(w[i * n + k]);
      if (a > mx) {
        mx = a;
        p = i;
      }
    }
    piv[k] = p;
    if (p !== k) {
      sign = -sign;
      const rp = p * n;
      for (let j = 0; j < n; j++) {
        const t = w[rk + j];
        w[rk + j] = w[rp + j];
        w[rp + j] = t;
      }
    }
    const pivot = w[rk + k];
    if (pivot === 0) continue;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const l = w[ri + k] / pivot;
      w[ri + k] = l;
      if (l !== 0) {
        for (let j = k + 1; j < n; j++) w[ri + j] -= l * w[rk + j];
      }
    }
  }
  return sign;
}

/** True when some diagonal entry of U (in the factored `w`) is exactly zero. */
function luSingular(w: Float64Array, n: number): boolean {
  for (let k = 0; k < n; k++) if (w[k * n + k] === 0) return true;
  return false;
}

/** Solves L·U·X = P·B in place in `x` (`n`×`r`, row-major) from a factorization by {@link luFactor}. */
function luSolveInPlace(w: Float64Array, n: number, piv: Int32Array, x: Float64Array, r: number): void {
  for (let k = 0; k < n; k++) {
    const p = piv[k];
    if (p !== k) {
      const rk = k * r;
      const rp = p * r;
      for (let j = 0; j < r; j++) {
        const t = x[rk + j];
        x[rk + j] = x[rp + j];
        x[rp + j] = t;
      }
    }
  }
  // forward substitution with unit lower L
  for (let i = 1; i < n; i++) {
    const ri = i * r;
    for (let k = 0; k < i; k++) {
      const l = w[i * n + k];
      if (l === 0) continue;
      const rk = k * r;
      for (let j = 0; j < r; j++) x[ri + j] -= l * x[rk + j];
    }
  }
  // back substitution with U
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * r;
    for (let k = i + 1; k < n; k++) {
      const u = w[i * n + k];
      if (u === 0) continue;
      const rk = k * r;
      for (let j = 0; j < r; j++) x[ri + j] -= u * x[rk + j];
    }
    const d = w[i * n + i];
    for (let j = 0; j < r; j++) x[ri + j] /= d;
  }
}

function allFinite(x: Float64Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

/**
 * Solves A·X = B for each batch item (A `n`×`n`, B and X `n`×`nrhs`, row-major) by LU with partial
 * pivoting. An item fails (X filled with NaN) when A is exactly singular (a zero pivot, as in LAPACK
 * getrf) or has a non-finite entry. Returns -1 or the first failed batch index.
 */
export function solve(
  a: FloatArray,
  b: FloatArray,
  batch: number,
  n: number,
  nrhs: number,
  x: FloatArray,
): number {
  const nn = n * n;
  const nr = n * nrhs;
  luBuf = growF64(luBuf, nn);
  rhsBuf = growF64(rhsBuf, nr);
  pivBuf = growI32(pivBuf, n);
  const w = luBuf;
  const y = rhsBuf;
  const piv = pivBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const mx = loadMaxAbs(a, t * nn, nn, w);
    if (!Number.isFinite(mx)) {
      fillNaN(x, t * nr, nr);
      if (failed < 0) failed = t;
      continue;
    }
    luFactor(w, n, piv);
    if (luSingular(w, n)) {
      fillNaN(x, t * nr, nr);
      if (failed < 0) failed = t;
      continue;
    }
    const ob = t * nr;
    for (let i = 0; i < nr; i++) y[i] = b[ob + i];
    luSolveInPlace(w, n, piv, y, nrhs);
    for (let i = 0; i < nr; i++) x[ob + i] = y[i];
  }
  return failed;
}

/**
 * Inverse of each `n`×`n` matrix by LU with partial pivoting. An item fails (`out` filled with NaN) when
 * A is exactly singular or non-finite, as in {@link solve}, or when the inverse overflows.
 * Returns -1 or the first failed batch index.
 */
export function inv(a: FloatArray, batch: number, n: number, out: FloatArray): number {
  const nn = n * n;
  luBuf = growF64(luBuf, nn);
  rhsBuf = growF64(rhsBuf, nn);
  pivBuf = growI32(pivBuf, n);
  const w = luBuf;
  const y = rhsBuf;
  const piv = pivBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn;
    const mx = loadMaxAbs(a, o, nn, w);
    if (!Number.isFinite(mx)) {
      fillNaN(out, o, nn);
      if (failed < 0) failed = t;
      continue;
    }
    luFactor(w, n, piv);
    if (luSingular(w, n)) {
      fillNaN(out, o, nn);
      if (failed < 0) failed = t;
      continue;
    }
    y.fill(0, 0, nn);
    for (let i = 0; i < n; i++) y[i * n + i] = 1;
    luSolveInPlace(w, n, piv, y, n);
    if (!allFinite(y, nn)) {
      fillNaN(out, o, nn);
      if (failed < 0) failed = t;
      continue;
    }
    for (let i = 0; i < nn; i++) out[o + i] = y[i];
  }
  return failed;
}

/**
 * Determinant of each `n`×`n` matrix: the permutation sign times the product of the LU pivots. A
 * singular matrix gives 0 (an exact zero pivot) and is not a failure; NaN input gives NaN. Always -1.
 */
export function det(a: FloatArray, batch: number, n: number, out: FloatArray): number {
  const nn = n * n;
  luBuf = growF64(luBuf, nn);
  pivBuf = growI32(pivBuf, n);
  const w = luBuf;
  const piv = pivBuf;
  for (let t = 0; t < batch; t++) {
    if (Number.isNaN(loadMaxAbs(a, t * nn, nn, w))) {
      out[t] = Number.NaN;
      continue;
    }
    let d: number = luFactor(w, n, piv);
    for (let k = 0; k < n; k++) d *= w[k * n + k];
    out[t] = d === 0 ? 0 : d; // +0 for singular matrices, never -0
  }
  return -1;
}

/**
 * Sign and log of the absolute determinant of each `n`×`n` matrix, from the LU pivots (no overflow
 * for large determinants). Singular: sign 0 and logabs -Infinity, not a failure. NaN input gives NaN
 * in both outputs. Always returns -1.
 */
export function slogdet(
  a: FloatArray,
  batch: number,
  n: number,
  sign: FloatArray,
  logabs: FloatArray,
): number {
  const nn = n * n;
  luBuf = growF64(luBuf, nn);
  pivBuf = growI32(pivBuf, n);
  const w = luBuf;
  const piv = pivBuf;
  for (let t = 0; t < batch; t++) {
    const mx = loadMaxAbs(a, t * nn, nn, w);
    if (Number.isNaN(mx)) {
      sign[t] = Number.NaN;
      logabs[t] = Number.NaN;
      continue;
    }
    let s = luFactor(w, n, piv);
    let l = 0;
    for (let k = 0; k < n; k++) {
      const u = w[k * n + k];
      if (u < 0) {
        s = -s;
        l += Math.log(-u);
      } else if (u > 0) {
        l += Math.log(u);
      } else if (u === 0) {
        s = 0;
        l = Number.NEGATIVE_INFINITY;
        break;
      } else {
        s = Number.NaN;
        l = Number.NaN;
        break;
      }
    }
    sign[t] = s;
    logabs[t] = l;
  }
  return -1;
}
