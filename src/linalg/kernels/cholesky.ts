// Cholesky factorization A = L·Lᵀ of symmetric positive definite matrices, reading only the lower
// triangle (diagonal included) of A, like torch.linalg.cholesky(upper=False).

import { type FloatArray, fillNaN, growF64 } from './common.js';

let lBuf = new Float64Array(0);

/**
 * Lower Cholesky factor of each `n`×`n` matrix (row-major), from its lower triangle; the strict upper
 * triangle of `L` is written as 0. An item fails (filled with NaN) when a leading minor is not positive
 * definite (a pivot <= 0 or NaN, as in LAPACK potrf). Returns -1 or the first failed batch index.
 */
export function cholesky(a: FloatArray, batch: number, n: number, L: FloatArray): number {
  const nn = n * n;
  lBuf = growF64(lBuf, nn);
  const w = lBuf;
  let failed = -1;
  for (let t = 0; t < batch; t++) {
    const o = t * nn;
    let ok = true;
    for (let j = 0; j < n && ok; j++) {
      const rj = j * n;
      // diagonal: a_jj - sum_k L_jk^2
      let s = a[o + rj + j];
      for (let k = 0; k < j; k++) {
        const v = w[rj + k];
        s -= v * v;
      }
      if (!(s > 0) || s === Number.POSITIVE_INFINITY) {
        ok = false;
        break;
      }
      const ljj = Math.sqrt(s);
      w[rj + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        const ri = i * n;
        let v = a[o + ri + j];
        for (let k = 0; k < j; k++) v -= w[ri + k] * w[rj + k];
        w[ri + j] = v / ljj;
      }
    }
    if (!ok) {
      fillNaN(L, o, nn);
      if (failed < 0) failed = t;
      continue;
    }
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j <= i; j++) L[o + ri + j] = w[ri + j];
      for (let j = i + 1; j < n; j++) L[o + ri + j] = 0;
    }
  }
  return failed;
}
