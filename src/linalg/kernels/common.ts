// Shared helpers for the dense linear-algebra kernels: the array type, machine constants, grow-only
// scratch and the eigenvector sign convention. Nothing here allocates once the scratch has grown.

export type FloatArray = Float64Array | Float32Array;

/** Machine epsilon of float64: 2^-52, the spacing of the numbers just above 1. */
export const EPS = 2.220446049250313e-16;

/** Returns `buf` if it holds at least `size` elements, else a new, larger Float64Array (grow-only). */
export function growF64(buf: Float64Array<ArrayBuffer>, size: number): Float64Array<ArrayBuffer> {
  return buf.length >= size ? buf : new Float64Array(Math.max(size, buf.length * 2));
}

/** Int32Array counterpart of {@link growF64}. */
export function growI32(buf: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  return buf.length >= size ? buf : new Int32Array(Math.max(size, buf.length * 2));
}

/**
 * A power of two that brings `mx` (a largest |entry|) near 1 when it is far from 1, else 1. Scaling by
 * it is exact, and keeps squares and sums of squares from overflowing or underflowing.
 */
export function pow2Scale(mx: number): number {
  if (mx === 0 || (mx > 5.421010862427522e-20 && mx < 1.8446744073709552e19)) return 1; // 2^-64..2^64
  const e = Math.round(Math.log2(mx));
  return 2 ** -(e > 1022 ? 1022 : e < -1022 ? -1022 : e);
}

/** Fills `len` elements of `out` from `off` with NaN (the marker of a failed batch item). */
export function fillNaN(out: FloatArray, off: number, len: number): void {
  out.fill(Number.NaN, off, off + len);
}

/**
 * Copies `len` elements of `src` from `off` into `dst` (float64) and returns the largest absolute
 * value, or NaN when any element is not finite.
 */
export function loadMaxAbs(src: FloatArray, off: number, len: number, dst: Float64Array): number {
  let mx = 0;
  for (let i = 0; i < len; i++) {
    const v = src[off + i];
    dst[i] = v;
    const a = v < 0 ? -v : v;
    if (a > mx) mx = a;
    else if (!(a <= mx)) return Number.NaN; // NaN; Infinity is caught by the caller's isFinite check
  }
  return mx;
}

/**
 * Sorts indices `0..n-1` of `keys` into `perm` (ascending when `descending` is false). Stable
 * insertion sort: `n` is small for every caller and ties keep their original order (deterministic).
 */
export function sortPerm(keys: Float64Array, n: number, perm: Int32Array, descending: boolean): void {
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = 1; i < n; i++) {
    const pi = perm[i];
    const k = keys[pi];
    let j = i - 1;
    if (descending) {
      while (j >= 0 && keys[perm[j]] < k) {
        perm[j + 1] = perm[j];
        j--;
      }
    } else {
      while (j >= 0 && keys[perm[j]] > k) {
        perm[j + 1] = perm[j];
        j--;
      }
    }
    perm[j + 1] = pi;
  }
}

/**
 * Writes row `row` of the row-major `n`-column float64 matrix `src` (a unit vector) as COLUMN `col` of
 * the `n`×`n` output matrix at `out[off..]`, flipping its sign so that its largest-magnitude component
 * (the first one on ties) is positive.
 */
export function writeSignedColumn(
  src: Float64Array,
  row: number,
  n: number,
  out: FloatArray,
  off: number,
  col: number,
): void {
  const base = row * n;
  let best = 0;
  let bi = 0;
  for (let i = 0; i < n; i++) {
    const v = src[base + i];
    const a = v < 0 ? -v : v;
    if (a > best) {
      best = a;
      bi = i;
    }
  }
  if (src[base + bi] < 0) {
    for (let i = 0; i < n; i++) out[off + i * n + col] = 0 - src[base + i];
  } else {
    for (let i = 0; i < n; i++) out[off + i * n + col] = src[base + i];
  }
}
