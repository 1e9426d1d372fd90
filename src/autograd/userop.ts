// Shape and dtype errors name the op the user called, with the shapes the user passed. Ops are built
// from other ops (trace is sum∘diag, matmul of vectors reshapes them, complex ops work on real views),
// so the op that detects a mistake is often not the one the user called: the outermost public call
// rewrites such an error's prefix to its own name and adds its inputs' shapes when they are missing.
import { MatgradDTypeError, MatgradShapeError } from '../errors.js';
import { fmt, type Shape } from './shape.js';

let depth = 0;

interface Shaped {
  readonly shape: Shape;
  readonly dtype: string;
}
const isShaped = (x: unknown): x is Shaped => typeof x === 'object' && x !== null && Array.isArray((x as Shaped).shape) && typeof (x as Shaped).dtype === 'string';

/** How an input reads in a message: its shape (complex ones say so); numbers as scalars; lists in brackets. */
function describe(x: unknown): string | null {
  if (isShaped(x)) return x.dtype.startsWith('complex') ? `${x.dtype} ${fmt(x.shape)}` : fmt(x.shape);
  if (typeof x === 'number') return 'a scalar';
  if (Array.isArray(x) && x.some(isShaped)) return `(${x.map((y) => describe(y) ?? '?').join(', ')})`;
  return null;
}

/** Rewrites `e` (in place) as an error of `op` applied to `inputs`. */
function rename(e: MatgradShapeError | MatgradDTypeError, op: string, inputs: readonly unknown[]): void {
  const before = e.message;
  const detail = before.replace(/^[A-Za-z_.]+: /, '');
  const shapes = inputs.flatMap((x) => (Array.isArray(x) ? x : [x])).filter(isShaped);
  const shown = shapes.every((s) => detail.includes(fmt(s.shape)));
  const list = inputs.map(describe).filter((d): d is string => d !== null);
  e.message = `${op}: ${detail}${shown || !list.length ? '' : ` (${op} of ${list.join(' and ')})`}`;
  if (e.stack) e.stack = e.stack.replace(before, e.message);
}

/**
 * Runs `f` as the public op `op` on `inputs`: a shape or dtype error thrown anywhere inside, when this
 * is the outermost public call, is reported as this op's.
 */
export function userOp<T>(op: string, inputs: readonly unknown[], f: () => T): T {
  depth++;
  try {
    return f();
  } catch (e) {
    if (depth === 1 && (e instanceof MatgradShapeError || e instanceof MatgradDTypeError)) rename(e, op, inputs);
    throw e;
  } finally {
    depth--;
  }
}

/** `f` as the public op `op` (its arguments are its inputs); keeps f's overloads. */
export function named<F extends (...args: never[]) => unknown>(op: string, f: F): F {
  return ((...args: never[]) => userOp(op, args, () => f(...args))) as F;
}
