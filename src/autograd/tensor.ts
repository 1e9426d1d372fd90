import { checkChoice, checkNumber, checkOptionsObject, describe } from '../check.js';
import { MatgradDTypeError, MatgradError, MatgradShapeError } from '../errors.js';
import { LIMITS } from '../limits.js';
import * as F from './api.js';
import type { ComplexTensor } from './complex.js';
import { allocArray, DEFAULT_DTYPE, type DType, dtypeOfArray, type FloatArray, isDType } from './dtype.js';
import { makeNode, type Node, type TensorRef } from './node.js';
import { assertShape, fmt, type Shape, sizeOf } from './shape.js';

export type NestedArray = number | NestedArray[];
export type TensorLike = Tensor | number;

/**
 * A tensor is an output of a graph node. Concrete tensors are 'const' nodes holding data; inside a
 * traced function tensors are symbolic and cannot be read. Methods mirror the functional ops.
 */
export class Tensor implements TensorRef {
  constructor(
    readonly node: Node,
    readonly index: number,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  /** True when the tensor holds data (not a traced value inside a function being traced). */
  get isConcrete(): boolean {
    return this.node.op === 'const';
  }

  /** The values as a fresh typed array (CPU, synchronous). */
  dataSync(): FloatArray {
    return concrete(this).node.data!.slice();
  }
  async data(): Promise<FloatArray> {
    return this.dataSync();
  }
  /** Nested JS arrays (a number for 0-d tensors). */
  arraySync(): NestedArray {
    const data = concrete(this).node.data!;
    return nest(data, this.shape, 0, 0);
  }
  async array(): Promise<NestedArray> {
    return this.arraySync();
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new MatgradShapeError(
        `item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`,
      );
    return concrete(this).node.data![0];
  }
  toString(): string {
    return this.isConcrete
      ? `Tensor(${JSON.stringify(this.arraySync())}, ${this.dtype})`
      : `Tensor<traced ${fmt(this.shape)} ${this.dtype}>`;
  }

  add(b: TensorLike): Tensor;
  add(b: ComplexTensor): ComplexTensor;
  add(b: TensorLike | ComplexTensor): Tensor | ComplexTensor {
    return F.add(this, b);
  }
  sub(b: TensorLike): Tensor;
  sub(b: ComplexTensor): ComplexTensor;
  sub(b: TensorLike | ComplexTensor): Tensor | ComplexTensor {
    return F.sub(this, b);
  }
  mul(b: TensorLike): Tensor;
  mul(b: ComplexTensor): ComplexTensor;
  mul(b: TensorLike | ComplexTensor): Tensor | ComplexTensor {
    return F.mul(this, b);
  }
  div(b: TensorLike): Tensor;
  div(b: ComplexTensor): ComplexTensor;
  div(b: TensorLike | ComplexTensor): Tensor | ComplexTensor {
    return F.div(this, b);
  }
  pow(p: number): Tensor {
    return F.pow(this, p);
  }
  neg(): Tensor {
    return F.neg(this);
  }
  exp(): Tensor {
    return F.exp(this);
  }
  log(): Tensor {
    return F.log(this);
  }
  sqrt(): Tensor {
    return F.sqrt(this);
  }
  abs(): Tensor {
    return F.abs(this);
  }
  square(): Tensor {
    return F.square(this);
  }
  maximum(b: TensorLike): Tensor {
    return F.maximum(this, b);
  }
  minimum(b: TensorLike): Tensor {
    return F.minimum(this, b);
  }
  sum(axis?: number | number[], keepdims = false): Tensor {
    return F.sum(this, axis, keepdims);
  }
  mean(axis?: number | number[], keepdims = false): Tensor {
    return F.mean(this, axis, keepdims);
  }
  max(axis?: number | number[], keepdims = false): Tensor {
    return F.max(this, axis, keepdims);
  }
  matmul(b: Tensor): Tensor;
  matmul(b: ComplexTensor): ComplexTensor;
  matmul(b: Tensor | ComplexTensor): Tensor | ComplexTensor {
    return F.matmul(this, b);
  }
  transpose(): Tensor {
    return F.transpose(this);
  }
  get T(): Tensor {
    return F.transpose(this);
  }
  reshape(shape: readonly number[]): Tensor {
    return F.reshape(this, shape);
  }
  broadcastTo(shape: readonly number[]): Tensor {
    return F.broadcastTo(this, shape);
  }
  slice(begin: readonly number[], size: readonly number[]): Tensor {
    return F.slice(this, begin, size);
  }
  diag(): Tensor {
    return F.diag(this);
  }
  trace(): Tensor {
    return F.trace(this);
  }
  cast(dtype: DType): Tensor {
    return F.cast(this, dtype);
  }
}

function concrete(t: Tensor): Tensor {
  if (t.isConcrete) return t;
  if (t.node.op === 'input' || !t.node.inputs.length) {
    throw new MatgradError(
      `cannot read a traced tensor (${fmt(t.shape)} ${t.dtype}) inside a function being traced; return it instead`,
    );
  }
  return F.materialize(t);
}

function nest(data: FloatArray, shape: Shape, dim: number, offset: number): NestedArray {
  if (dim === shape.length) return data[offset];
  const stride = sizeOf(shape.slice(dim + 1));
  return Array.from({ length: shape[dim] }, (_, i) => nest(data, shape, dim + 1, offset + i * stride));
}

export interface CreateOptions {
  dtype?: DType;
}

function checkDType(owner: string, dtype: unknown): DType {
  if (dtype === undefined) return DEFAULT_DTYPE;
  if (!isDType(dtype))
    throw new MatgradDTypeError(`${owner}: unknown dtype ${describe(dtype)}; use 'float64' or 'float32'`);
  return dtype;
}

/** Wraps a typed array (taken as is when its dtype matches) as a concrete tensor. */
export function fromArray(data: FloatArray, shape: Shape): Tensor {
  if (!(data instanceof Float64Array || data instanceof Float32Array))
    throw new MatgradError(`fromArray: expected a Float64Array or Float32Array, got ${describe(data)}`);
  const s = assertShape(shape, 'tensor');
  if (sizeOf(s) !== data.length) {
    throw new MatgradShapeError(
      `tensor: ${data.length} values do not fill shape ${fmt(s)} (${sizeOf(s)} elements)`,
    );
  }
  const dtype = dtypeOfArray(data);
  const node = makeNode('const', [], {}, [{ shape: s, dtype }], data);
  return new Tensor(node, 0, s, dtype);
}

/** The shape of nested arrays; throws on ragged nesting, non-numbers, and nesting deeper than LIMITS.maxRank. */
function inferShape(values: unknown, path: string, depth: number): number[] {
  if (typeof values === 'number') return [];
  if (!Array.isArray(values))
    throw new MatgradShapeError(`tensor: ${path} is ${describe(values)}, expected a number or an array`);
  if (depth >= LIMITS.maxRank)
    throw new MatgradShapeError(`tensor: ${path} is nested deeper than LIMITS.maxRank = ${LIMITS.maxRank}`);
  if (values.length === 0) return [0];
  const inner = inferShape(values[0], `${path}[0]`, depth + 1);
  for (let i = 1; i < values.length; i++) {
    const s = inferShape(values[i], `${path}[${i}]`, depth + 1);
    if (fmt(s) !== fmt(inner))
      throw new MatgradShapeError(
        `tensor: ragged nested array: ${path}[${i}] has shape ${fmt(s)}, ${path}[0] has ${fmt(inner)}`,
      );
  }
  return [values.length, ...inner];
}

/** `mg.tensor([[1, 2], [3, 4]])`, `mg.tensor(2)`, or `mg.tensor(typedArray, { shape })`. */
export function tensor(
  values: NestedArray | FloatArray | readonly number[],
  opts: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  const o = checkOptionsObject<CreateOptions & { shape?: readonly number[] }>('tensor', opts, ['dtype', 'shape']);
  const dtype = checkDType('tensor', o.dtype ?? (values instanceof Float32Array ? 'float32' : undefined));
  if (ArrayBuffer.isView(values)) {
    if (values instanceof DataView || values instanceof BigInt64Array || values instanceof BigUint64Array)
      throw new MatgradError(`tensor: expected numbers or a numeric typed array, got ${describe(values)}`);
    const shape = assertShape(o.shape ?? [values.length], 'tensor');
    const data =
      dtypeOfArray(values) === dtype && (values instanceof Float64Array || values instanceof Float32Array)
        ? values
        : allocArray(dtype, values.length).map((_, i) => values[i]);
    return fromArray(data as FloatArray, shape);
  }
  const shape = assertShape(inferShape(values, 'values', 0), 'tensor');
  const target = o.shape === undefined ? shape : assertShape(o.shape, 'tensor');
  const data = allocArray(dtype, sizeOf(shape));
  if (typeof values === 'number') data[0] = values;
  else data.set((values as unknown[]).flat(shape.length) as number[]);
  return fromArray(data, target);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const o = checkOptionsObject<CreateOptions>('full', opts, ['dtype']);
  const dtype = checkDType('full', o.dtype);
  if (typeof value !== 'number') throw new MatgradError(`full: the fill value must be a number, got ${describe(value)}`);
  const s = assertShape(shape, 'full');
  return fromArray(allocArray(dtype, sizeOf(s)).fill(value), s);
}
export const zeros = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 1, opts);
export const scalar = (value: number, opts: CreateOptions = {}): Tensor => full([], value, opts);

/** n×n identity (m×n with `cols`), optionally batched: `eye(3, { batch: [10] })`. */
export function eye(
  n: number,
  opts: CreateOptions & { cols?: number; batch?: readonly number[] } = {},
): Tensor {
  const o = checkOptionsObject<CreateOptions & { cols?: number; batch?: readonly number[] }>('eye', opts, ['dtype', 'cols', 'batch']);
  const dtype = checkDType('eye', o.dtype);
  checkNumber('eye', 'n', n, { min: 0, integer: true });
  const m = o.cols === undefined ? n : checkNumber('eye', 'cols', o.cols, { min: 0, integer: true });
  const batch = o.batch === undefined ? [] : assertShape(o.batch, 'eye (batch)');
  const shape = assertShape([...batch, n, m], 'eye');
  const data = allocArray(dtype, sizeOf(shape));
  for (let b = 0; b < sizeOf(batch); b++)
    for (let i = 0; i < Math.min(n, m); i++) data[b * n * m + i * m + i] = 1;
  return fromArray(data, shape);
}

/** A seeded 32-bit generator (sfc32): the same seed gives the same stream everywhere. */
export function rng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

export interface RandomOptions extends CreateOptions {
  seed?: number;
  dist?: 'uniform' | 'normal';
  /** uniform: [low, high) (default [0, 1)); normal: mean/std (default 0/1). */
  low?: number;
  high?: number;
  mean?: number;
  std?: number;
}

/** Seeded random tensor; without a seed, a fresh one is drawn. */
export function random(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const o = checkOptionsObject<RandomOptions>('random', opts, ['dtype', 'seed', 'dist', 'low', 'high', 'mean', 'std']);
  const dtype = checkDType('random', o.dtype);
  const dist = o.dist === undefined ? 'uniform' : checkChoice('random', 'dist', o.dist, ['uniform', 'normal']);
  const other = dist === 'uniform' ? (['mean', 'std'] as const) : (['low', 'high'] as const);
  for (const k of other) if (o[k] !== undefined) throw new MatgradError(`random: ${k} does not apply to dist '${dist}'`);
  const num = (name: keyof RandomOptions, fallback: number, min = -Infinity) =>
    o[name] === undefined ? fallback : checkNumber('random', name, o[name], { min });
  const lo = num('low', 0);
  const hi = num('high', 1, lo);
  const mu = num('mean', 0);
  const sd = num('std', 1, 0);
  const seed = o.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : checkNumber('random', 'seed', o.seed, { integer: true });
  const s = assertShape(shape, 'random');
  const next = rng(seed);
  const data = allocArray(dtype, sizeOf(s));
  if (dist === 'uniform') {
    for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * next();
  } else {
    for (let i = 0; i < data.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - next()));
      const th = 2 * Math.PI * next();
      data[i] = mu + sd * r * Math.cos(th);
      if (i + 1 < data.length) data[i + 1] = mu + sd * r * Math.sin(th);
    }
  }
  return fromArray(data, s);
}
