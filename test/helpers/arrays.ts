// Plain-array helpers shared by the kernel tests and bench/linalg-kernels.ts (independent of the
// code under test).
import type { FloatArray } from '../../src/linalg/kernels.js';

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
export function signedRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  };
}

/** max |a[i] − b[i]| (the lengths must agree). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

export function maxAbs(a: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]));
  return d;
}

/** Item `t` of a batch of `size`-element items, as a fresh Float64Array. */
export function item(a: FloatArray, t: number, size: number): Float64Array {
  return Float64Array.from(a.subarray(t * size, (t + 1) * size));
}

/** The items back to back. */
export function stack(items: Float64Array[]): Float64Array {
  const size = items[0].length;
  const out = new Float64Array(items.length * size);
  items.forEach((x, t) => out.set(x, t * size));
  return out;
}

/** Same values bit for bit (NaN equals NaN, +0 differs from −0). */
export function bitsEqual(a: FloatArray, b: FloatArray): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
