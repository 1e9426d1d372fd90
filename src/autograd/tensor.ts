import { MatgradError, MatgradShapeError } from '../errors.js';
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

function checkDType(dtype: unknown): DType {
  if (dtype === undefined) return DEFAULT_DTYPE;
  if (!isDType(dtype))
    throw new MatgradError(`unknown dtype ${JSON.stringify(dtype)}; use 'float64' or 'float32'`);
  return dtype;
}

/** Wraps a typed array (taken as is when its dtype matches) as a concrete tensor. */
export function fromArray(data: FloatArray, shape: Shape): Tensor {
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

function inferShape(values: unknown, path: string): number[] {
  if (typeof values === 'number') return [];
  if (!Array.isArray(values))
    throw new MatgradShapeError(`tensor: ${path} is ${typeof values}, expected a number or an array`);
  if (values.length === 0) return [0];
  const inner = inferShape(values[0], `${path}[0]`);
  values.forEach((v, i) => {
    const s = inferShape(v, `${path}[${i}]`);
    if (fmt(s) !== fmt(inner))
      throw new MatgradShapeError(
        `tensor: ragged nested array: ${path}[${i}] has shape ${fmt(s)}, ${path}[0] has ${fmt(inner)}`,
      );
  });
  return [values.length, ...inner];
}

/** `mg.tensor([[1, 2], [3, 4]])`, `mg.tensor(2)`, or `mg.tensor(typedArray, { shape })`. */
export function tensor(
  values: NestedArray | FloatArray | readonly number[],
  opts: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  const dtype = checkDType(opts.dtype ?? (values instanceof Float32Array ? 'float32' : undefined));
  if (ArrayBuffer.isView(values)) {
    const shape = opts.shape ?? [values.length];
    const data =
      dtypeOfArray(values) === dtype ? values : allocArray(dtype, values.length).map((_, i) => values[i]);
    return fromArray(data as FloatArray, shape);
  }
  const shape = inferShape(values, 'values');
  const flat =
    typeof values === 'number'
      ? [values]
      : ((values as unknown[]).flat(Number.POSITIVE_INFINITY) as number[]);
  flat.forEach((v, i) => {
    if (typeof v !== 'number')
      throw new MatgradError(`tensor: element ${i} is ${typeof v}, expected a number`);
  });
  const data = allocArray(dtype, flat.length);
  data.set(flat);
  return fromArray(data, opts.shape ?? shape);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const s = assertShape(shape, 'full');
  return fromArray(allocArray(checkDType(opts.dtype), sizeOf(s)).fill(value), s);
}
export const zeros = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 1, opts);
export const scalar = (value: number, opts: CreateOptions = {}): Tensor => full([], value, opts);

/** n×n identity (m×n with `cols`), optionally batched: `eye(3, { batch: [10] })`. */
export function eye(
  n: number,
  opts: CreateOptions & { cols?: number; batch?: readonly number[] } = {},
): Tensor {
  const m = opts.cols ?? n;
  const batch = opts.batch ?? [];
  const data = allocArray(checkDType(opts.dtype), sizeOf(batch) * n * m);
  for (let b = 0; b < sizeOf(batch); b++)
    for (let i = 0; i < Math.min(n, m); i++) data[b * n * m + i * m + i] = 1;
  return fromArray(data, assertShape([...batch, n, m], 'eye'));
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
  const s = assertShape(shape, 'random');
  const next = rng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
  const data = allocArray(checkDType(opts.dtype), sizeOf(s));
  if ((opts.dist ?? 'uniform') === 'uniform') {
    const lo = opts.low ?? 0;
    const hi = opts.high ?? 1;
    for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * next();
  } else {
    const mu = opts.mean ?? 0;
    const sd = opts.std ?? 1;
    for (let i = 0; i < data.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - next()));
      const th = 2 * Math.PI * next();
      data[i] = mu + sd * r * Math.cos(th);
      if (i + 1 < data.length) data[i + 1] = mu + sd * r * Math.sin(th);
    }
  }
  return fromArray(data, s);
}
