import { describe } from '../check.js';
import { MatgradDTypeError, MatgradError, MatgradShapeError } from '../errors.js';
import { checkShapeLimits } from '../limits.js';
import * as C from './complex.js';
import { type AnyLike, type AnyTensor, ComplexTensor } from './complex.js';
import { type ComplexDType, type DType, DEFAULT_DTYPE, isDType } from './dtype.js';
import { evaluate } from './jit.js';
import { type Attrs, isConst, makeNode } from './node.js';
import { OPS, type OpName } from './ops.js';
import { fmt, normalizeAxes } from './shape.js';
import { scalar, Tensor, type TensorLike } from './tensor.js';
import { named, userOp } from './userop.js';

/**
 * Applies an op: checks shapes and dtypes (errors name the op), builds the graph node, and evaluates
 * it at once when every input is concrete (so eager code and constant folding are the same path).
 */
export function apply(op: OpName, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor[] {
  const def = OPS[op];
  if (def.kind === 'source') throw new MatgradError(`${op} is a graph source, not an op to apply`);
  if (def.kind === 'composite') return [def.expand(inputs, attrs)];
  if (def.kind === 'elementwise' && inputs.length !== def.arity) {
    throw new MatgradError(`${op}: expects ${def.arity} inputs, got ${inputs.length}`);
  }
  const infos = def.infer(inputs, attrs, op).map(({ shape, dtype }) => ({ shape, dtype }));
  // an op's output is a buffer: bounded like every tensor (an outer product of two long vectors, say)
  for (const info of infos) checkShapeLimits(op, info.shape);
  const node = makeNode(op, inputs, attrs, infos);
  const outs = infos.map((info, i) => new Tensor(node, i, info.shape, info.dtype));
  const foldable = !(def.kind === 'elementwise' && def.fold === false);
  return foldable && inputs.length > 0 && inputs.every(isConst) ? evaluate(outs) : outs;
}
const one = (op: OpName, inputs: readonly Tensor[], attrs?: Attrs): Tensor => apply(op, inputs, attrs)[0];

/** Numbers become 0-d constants of the other operand's dtype. */
function lift(op: string, values: readonly TensorLike[]): Tensor[] {
  const dtype: DType = values.find((v): v is Tensor => v instanceof Tensor)?.dtype ?? DEFAULT_DTYPE;
  return values.map((v) => {
    if (v instanceof Tensor) return v;
    if (typeof v !== 'number') throw new MatgradError(`${op}: expected a Tensor or a number, got ${describe(v)}`);
    return scalar(v, { dtype });
  });
}
/** A list-of-integers argument (a shape, begin or size); -1 entries are for the op to judge. */
function intList(op: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d)))
    throw new MatgradShapeError(`${op}: ${name} must be a list of integers, got ${Array.isArray(v) ? `[${v.map(describe).join(', ')}]` : describe(v)}`);
  return v;
}
function need(op: string, x: unknown): Tensor {
  if (x instanceof ComplexTensor) throw C.notForComplex(op, [x]);
  if (!(x instanceof Tensor))
    throw new MatgradError(`${op}: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}
const anyComplex = (xs: readonly unknown[]) => xs.some((x) => x instanceof ComplexTensor);

/** An op on real tensors that also takes complex ones (any complex operand: the complex version). */
interface Binary {
  (a: TensorLike, b: TensorLike): Tensor;
  (a: ComplexTensor, b: AnyLike): ComplexTensor;
  (a: AnyLike, b: ComplexTensor): ComplexTensor;
  (a: AnyLike, b: AnyLike): AnyTensor;
}
interface Unary {
  (x: Tensor): Tensor;
  (x: ComplexTensor): ComplexTensor;
  (x: AnyTensor): AnyTensor;
}
const binary = (op: OpName, complex?: (a: AnyLike, b: AnyLike) => ComplexTensor): Binary =>
  named(op, (a: AnyLike, b: AnyLike) => {
    if (!anyComplex([a, b])) return one(op, lift(op, [a as TensorLike, b as TensorLike]));
    if (!complex) throw C.notForComplex(op, [a, b]);
    return complex(a, b);
  }) as Binary;
const unary = (op: OpName, complex?: (z: ComplexTensor) => ComplexTensor): Unary =>
  named(op, (x: AnyTensor) => (complex && x instanceof ComplexTensor ? complex(x) : one(op, [need(op, x)]))) as Unary;

export const add = binary('add', C.add);
export const sub = binary('sub', C.sub);
export const mul = binary('mul', C.mul);
export const div = binary('div', C.div);
export const maximum = binary('maximum');
export const minimum = binary('minimum');
/** atan2(y, x), elementwise (the angle of the point (x, y)). */
export const atan2 = binary('atan2');
export const gt = binary('gt');
export const ge = binary('ge');
export const lt = binary('lt');
export const le = binary('le');
export const eq = binary('eq');
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor;
export function where(cond: TensorLike, a: ComplexTensor, b: AnyLike): ComplexTensor;
export function where(cond: TensorLike, a: AnyLike, b: ComplexTensor): ComplexTensor;
export function where(cond: TensorLike, a: AnyLike, b: AnyLike): AnyTensor;
export function where(cond: TensorLike, a: AnyLike, b: AnyLike): AnyTensor {
  return userOp('where', [cond, a, b], () =>
    anyComplex([a, b]) ? C.where(cond, a, b) : one('where', lift('where', [cond, a as TensorLike, b as TensorLike])),
  );
}

export const neg = unary('neg', C.neg);
export const identity = unary('identity');
export const exp = unary('exp', C.exp);
export const sin = unary('sin');
export const cos = unary('cos');
export const log = unary('log', C.log);
export const sqrt = unary('sqrt', C.sqrt);
/** |x|; for a complex tensor the (real) modulus. */
export function abs(x: AnyTensor): Tensor {
  return userOp('abs', [x], () => (x instanceof ComplexTensor ? C.abs(x) : one('abs', [need('abs', x)])));
}
export const sign = unary('sign');
export const square = unary('square', C.square);
export const transpose = unary('transpose', C.transpose);
export const diag = unary('diag', C.diag);
export const trace = unary('trace', C.trace);

export function pow(x: Tensor, exponent: number): Tensor;
export function pow(x: ComplexTensor, exponent: number): ComplexTensor;
export function pow(x: AnyTensor, exponent: number): AnyTensor {
  if (typeof exponent !== 'number') throw new MatgradError('pow: the exponent must be a number');
  return userOp('pow', [x], () => (x instanceof ComplexTensor ? C.pow(x, exponent) : one('pow', [need('pow', x)], { exponent })));
}
export function cast(x: Tensor, dtype: DType): Tensor;
export function cast(x: ComplexTensor, dtype: ComplexDType): ComplexTensor;
export function cast(x: AnyTensor, dtype: DType | ComplexDType): AnyTensor {
  return userOp('cast', [x], () => {
    if (x instanceof ComplexTensor) return C.cast(x, dtype as ComplexDType);
    if (!isDType(dtype)) throw new MatgradDTypeError(`cast: unknown dtype ${describe(dtype)}; use 'float64' or 'float32'`);
    return need('cast', x).dtype === dtype ? x : one('cast', [x], { dtype });
  });
}
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor;
export function broadcastTo(x: ComplexTensor, shape: readonly number[]): ComplexTensor;
export function broadcastTo(x: AnyTensor, shape: readonly number[]): AnyTensor {
  return userOp('broadcastTo', [x], () => {
    intList('broadcastTo', 'shape', shape);
    return x instanceof ComplexTensor ? C.broadcastTo(x, shape) : one('broadcastTo', [need('broadcastTo', x)], { shape: [...shape] });
  });
}

interface Reduce {
  (x: Tensor, axis?: number | readonly number[], keepdims?: boolean): Tensor;
  (x: ComplexTensor, axis?: number | readonly number[], keepdims?: boolean): ComplexTensor;
  (x: AnyTensor, axis?: number | readonly number[], keepdims?: boolean): AnyTensor;
}
function reduce(op: 'sum' | 'mean' | 'max', complex?: typeof C.sum): Reduce {
  return ((x: AnyTensor, axis?: number | readonly number[], keepdims = false) =>
    userOp(op, [x], () =>
      complex && x instanceof ComplexTensor
        ? complex(x, axis, keepdims)
        : one(op, [need(op, x)], { axes: normalizeAxes(op, axis, x.shape.length), keepdims }),
    )) as Reduce;
}
export const sum = reduce('sum', C.sum);
export const mean = reduce('mean', C.mean);
export const max = reduce('max');

/** Reshape; one dim may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor;
export function reshape(x: ComplexTensor, shape: readonly number[]): ComplexTensor;
export function reshape(x: AnyTensor, shape: readonly number[]): AnyTensor {
  return userOp('reshape', [x], () => {
    intList('reshape', 'shape', shape);
    if (x instanceof ComplexTensor) return C.reshape(x, shape);
    need('reshape', x);
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const target = shape.map((d) => (d === -1 ? x.size / known : d));
    if (shape.filter((d) => d === -1).length > 1 || !target.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new MatgradShapeError(`reshape: cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    }
    return target.length === x.shape.length && target.every((d, i) => d === x.shape[i]) ? x : one('reshape', [x], { shape: target });
  });
}

/** `size[i] = -1` takes the rest of axis i, like tfjs. */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor;
export function slice(x: ComplexTensor, begin: readonly number[], size: readonly number[]): ComplexTensor;
export function slice(x: AnyTensor, begin: readonly number[], size: readonly number[]): AnyTensor {
  return userOp('slice', [x], () => {
    if (!(x instanceof ComplexTensor)) need('slice', x);
    intList('slice', 'begin', begin);
    const s = intList('slice', 'size', size).map((d, i) => (d === -1 ? x.shape[i] - begin[i] : d));
    if (x instanceof ComplexTensor) return C.slice(x, begin, s);
    return one('slice', [x], { begin: [...begin], size: s });
  });
}
export const pad = (x: Tensor, begin: readonly number[], shape: readonly number[]): Tensor =>
  userOp('pad', [x], () =>
    one('pad', [need('pad', x)], { begin: intList('pad', 'begin', begin), shape: intList('pad', 'shape', shape) }),
  );
export function concat(xs: readonly Tensor[], axis?: number): Tensor;
export function concat(xs: readonly AnyTensor[], axis?: number): AnyTensor;
export function concat(xs: readonly AnyTensor[], axis = 0): AnyTensor {
  if (!Array.isArray(xs)) throw new MatgradError(`concat: expected a list of tensors, got ${describe(xs)}`);
  return userOp('concat', [xs], () =>
    anyComplex(xs)
      ? C.concat(xs, axis)
      : apply(
          'concat',
          xs.map((x) => need('concat', x)),
          { axis },
        )[0],
  );
}
export function diagEmbed(v: Tensor, rows?: number, cols?: number): Tensor;
export function diagEmbed(v: ComplexTensor, rows?: number, cols?: number): ComplexTensor;
export function diagEmbed(v: AnyTensor, rows?: number, cols?: number): AnyTensor {
  return userOp('diagEmbed', [v], () => (v instanceof ComplexTensor ? C.diagEmbed(v, rows, cols) : one('diagEmbed', [need('diagEmbed', v)], { rows, cols })));
}
/** Outer product of the last dims (batch dims broadcast): [..., m] ⊗ [..., n] → [..., m, n]. */
export const outer = named('outer', (a: Tensor, b: Tensor): Tensor => {
  if (need('outer', a).rank === 0 || need('outer', b).rank === 0) throw new MatgradShapeError(`outer: both inputs need at least 1 dim, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  return one('outer', [a, b]);
});
/** Mean squared error; for complex operands mean |a − b|² (a real scalar). */
export const mse = named('mse', (a: AnyLike, b: AnyLike): Tensor =>
  anyComplex([a, b]) ? C.mse(a, b) : one('mse', lift('mse', [a as TensorLike, b as TensorLike])),
);

/** matmul with optional transposes of either operand, without materializing them. */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return one('matmul', [a, b], { transA, transB });
}
/** NumPy/PyTorch matmul: batch dims broadcast; a 1-D operand is a row (left) or column (right) vector. */
export function matmul(a: Tensor, b: Tensor): Tensor;
export function matmul(a: ComplexTensor, b: AnyTensor): ComplexTensor;
export function matmul(a: AnyTensor, b: ComplexTensor): ComplexTensor;
export function matmul(a: AnyTensor, b: AnyTensor): AnyTensor;
export function matmul(a: AnyTensor, b: AnyTensor): AnyTensor {
  return userOp('matmul', [a, b], () => (anyComplex([a, b]) ? C.matmul(a, b) : realMatmul(need('matmul', a), need('matmul', b))));
}
function realMatmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) {
    throw new MatgradShapeError(
      `matmul: both inputs need at least 1 dim, got ${fmt(a.shape)} and ${fmt(b.shape)}`,
    );
  }
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
  let c = matmulT(a2, b2, false, false);
  if (a.rank === 1) c = reshape(c, [...c.shape.slice(0, -2), c.shape[c.shape.length - 1]]);
  if (b.rank === 1) c = reshape(c, c.shape.slice(0, -1));
  return c;
}

/** Evaluates a lazy tensor (built from constants only) to a concrete one. */
export function materialize(t: Tensor): Tensor {
  return evaluate([t])[0];
}

// complex numbers: creation, parts, conjugation (see complex.ts)
export {
  adjoint,
  angle,
  type AnyLike,
  type AnyTensor,
  complex,
  type ComplexCreateOptions,
  ComplexTensor,
  complexTensor,
  conj,
  imag,
  randomComplex,
  real,
  reciprocal,
  viewAsComplex,
  viewAsReal,
} from './complex.js';
