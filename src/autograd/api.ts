import { MatgradError, MatgradShapeError } from '../errors.js';
import { type DType, DEFAULT_DTYPE } from './dtype.js';
import { evaluate } from './jit.js';
import { type Attrs, isConst, makeNode } from './node.js';
import { OPS, type OpName } from './ops.js';
import { fmt, normalizeAxes } from './shape.js';
import { scalar, Tensor, type TensorLike } from './tensor.js';

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
  const node = makeNode(op, inputs, attrs, infos);
  const outs = infos.map((info, i) => new Tensor(node, i, info.shape, info.dtype));
  const foldable = !(def.kind === 'elementwise' && def.fold === false);
  return foldable && inputs.length > 0 && inputs.every(isConst) ? evaluate(outs) : outs;
}
const one = (op: OpName, inputs: readonly Tensor[], attrs?: Attrs): Tensor => apply(op, inputs, attrs)[0];

/** Numbers become 0-d constants of the other operand's dtype. */
function lift(values: readonly TensorLike[]): Tensor[] {
  const dtype: DType = values.find((v): v is Tensor => v instanceof Tensor)?.dtype ?? DEFAULT_DTYPE;
  return values.map((v) => (v instanceof Tensor ? v : scalar(v, { dtype })));
}
function need(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor))
    throw new MatgradError(`${op}: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}
const binary =
  (op: OpName) =>
  (a: TensorLike, b: TensorLike): Tensor =>
    one(op, lift([a, b]));
const unary =
  (op: OpName) =>
  (x: Tensor): Tensor =>
    one(op, [need(op, x)]);

export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
export const maximum = binary('maximum');
export const minimum = binary('minimum');
export const gt = binary('gt');
export const ge = binary('ge');
export const lt = binary('lt');
export const le = binary('le');
export const eq = binary('eq');
export const where = (cond: TensorLike, a: TensorLike, b: TensorLike): Tensor =>
  one('where', lift([cond, a, b]));

export const neg = unary('neg');
export const identity = unary('identity');
export const exp = unary('exp');
export const log = unary('log');
export const sqrt = unary('sqrt');
export const abs = unary('abs');
export const sign = unary('sign');
export const square = unary('square');
export const transpose = unary('transpose');
export const diag = unary('diag');
export const trace = unary('trace');

export function pow(x: Tensor, exponent: number): Tensor {
  if (typeof exponent !== 'number') throw new MatgradError('pow: the exponent must be a number');
  return one('pow', [need('pow', x)], { exponent });
}
export function cast(x: Tensor, dtype: DType): Tensor {
  return need('cast', x).dtype === dtype ? x : one('cast', [x], { dtype });
}
export const broadcastTo = (x: Tensor, shape: readonly number[]): Tensor =>
  one('broadcastTo', [need('broadcastTo', x)], { shape: [...shape] });

function reduce(op: 'sum' | 'mean' | 'max') {
  return (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
    one(op, [need(op, x)], { axes: normalizeAxes(op, axis, x.shape.length), keepdims });
}
export const sum = reduce('sum');
export const mean = reduce('mean');
export const max = reduce('max');

/** Reshape; one dim may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  need('reshape', x);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const target = shape.map((d) => (d === -1 ? x.size / known : d));
  if (shape.filter((d) => d === -1).length > 1 || !target.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new MatgradShapeError(`reshape: cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  return target.length === x.shape.length && target.every((d, i) => d === x.shape[i])
    ? x
    : one('reshape', [x], { shape: target });
}

/** `size[i] = -1` takes the rest of axis i, like tfjs. */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  need('slice', x);
  const s = size.map((d, i) => (d === -1 ? x.shape[i] - begin[i] : d));
  return one('slice', [x], { begin: [...begin], size: s });
}
export const pad = (x: Tensor, begin: readonly number[], shape: readonly number[]): Tensor =>
  one('pad', [x], { begin: [...begin], shape: [...shape] });
export const concat = (xs: readonly Tensor[], axis = 0): Tensor =>
  apply(
    'concat',
    xs.map((x) => need('concat', x)),
    { axis },
  )[0];
export const diagEmbed = (v: Tensor, rows?: number, cols?: number): Tensor =>
  one('diagEmbed', [need('diagEmbed', v)], { rows, cols });
export const outer = (a: Tensor, b: Tensor): Tensor => one('outer', [need('outer', a), need('outer', b)]);
export const mse = (a: TensorLike, b: TensorLike): Tensor => one('mse', lift([a, b]));

/** matmul with optional transposes of either operand, without materializing them. */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return one('matmul', [a, b], { transA, transB });
}
/** NumPy/PyTorch matmul: batch dims broadcast; a 1-D operand is a row (left) or column (right) vector. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  need('matmul', a);
  need('matmul', b);
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
