import { MatgradShapeError } from '../errors.js';
import { describe } from '../check.js';
import { checkShapeLimits } from '../limits.js';

export type Shape = readonly number[];

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);
export const fmt = (shape: Shape): string => `[${shape.join(', ')}]`;
export const sameShape = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Row-major strides; broadcast (size-1) dims of `shape` against `target` get stride 0. */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const strides = new Array<number>(target.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const t = target.length - shape.length + i;
    strides[t] = shape[i] === 1 && target[t] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** NumPy broadcasting of several shapes; throws naming the op and every shape. */
export function broadcastShapes(op: string, shapes: Shape[]): number[] {
  const rank = shapes.reduce((r, s) => Math.max(r, s.length), 0); // no spread: shapes may be many
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else
        throw new MatgradShapeError(
          `${op}: shapes ${shapes.map(fmt).join(' and ')} cannot be broadcast together`,
        );
    }
  }
  return out;
}

/** Normalizes axis arguments (negative allowed) to sorted unique non-negative axes. */
export function normalizeAxes(
  op: string,
  axis: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new MatgradShapeError(`${op}: axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    return a < 0 ? a + rank : a;
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

/** A valid shape within LIMITS (rank and element count), checked before anything is allocated for it. */
export function assertShape(shape: Shape, what: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    const text = Array.isArray(shape) ? `[${shape.slice(0, 8).map(describe).join(', ')}${shape.length > 8 ? ', …' : ''}]` : describe(shape);
    throw new MatgradShapeError(`${what}: shape must be a list of non-negative integers, got ${text}`);
  }
  checkShapeLimits(what, shape);
  return [...shape];
}
