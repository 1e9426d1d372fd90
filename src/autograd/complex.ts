// Complex tensors (complex64 / complex128). A complex tensor of shape S is its real and imaginary
// parts, or equivalently its interleaved real view of shape [...S, 2] (torch.view_as_real); either
// form is derived from the other on demand. Every complex op is written here with real ops on the
// parts, so graphs, the compiler and every backend only see real tensors, and reverse mode on the
// real view gives PyTorch's convention for real-valued losses: grad = ∂L/∂Re + i·∂L/∂Im (the
// conjugate Wirtinger derivative, times 2). Optimizers then work on complex parameters unchanged,
// exactly like torch.optim (which steps complex parameters through view_as_real).
import { checkNumber, checkOptionsObject, describe } from '../check.js';
import { MatgradDTypeError, MatgradError, MatgradShapeError } from '../errors.js';
import * as F from './api.js';
import { COMPLEX_DTYPES, type ComplexDType, complexDTypeOf, type DType, type FloatArray, isComplexDType } from './dtype.js';
import { assertShape, broadcastShapes, fmt, type Shape, sizeOf } from './shape.js';
import { type NestedArray, random, type RandomOptions, scalar, Tensor, type TensorLike, tensor } from './tensor.js';
import { userOp } from './userop.js';

export class ComplexTensor {
  private constructor(
    readonly shape: Shape,
    readonly dtype: ComplexDType,
    private _view?: Tensor,
    private _re?: Tensor,
    private _im?: Tensor,
  ) {}

  /** The complex tensor whose interleaved storage is `view` (shape [...S, 2]). */
  static fromView(view: Tensor): ComplexTensor {
    if (!(view instanceof Tensor)) throw new MatgradError('viewAsComplex: expected a Tensor');
    if (view.shape[view.rank - 1] !== 2) {
      throw new MatgradShapeError(`viewAsComplex: the last dim must be 2 (re, im), got ${fmt(view.shape)}`);
    }
    return new ComplexTensor(view.shape.slice(0, -1), complexDTypeOf(view.dtype), view);
  }
  /** re + i·im; the parts broadcast against each other. */
  static fromParts(re: Tensor, im: Tensor): ComplexTensor {
    if (re.dtype !== im.dtype) {
      throw new MatgradDTypeError(`complex: real and imaginary parts have different dtypes (${re.dtype}, ${im.dtype})`);
    }
    const shape = broadcastShapes('complex', [re.shape, im.shape]);
    const fit = (x: Tensor) => (fmt(x.shape) === fmt(shape) ? x : F.broadcastTo(x, shape));
    return new ComplexTensor(shape, complexDTypeOf(re.dtype), undefined, fit(re), fit(im));
  }

  /** The dtype of the parts (float32 for complex64, float64 for complex128). */
  get realDType(): DType {
    return COMPLEX_DTYPES[this.dtype].real;
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  get isConcrete(): boolean {
    return this._view ? this._view.isConcrete : this._re!.isConcrete && this._im!.isConcrete;
  }
  /** The real part (a real tensor of the same shape). */
  get re(): Tensor {
    this._re ??= this.part(0);
    return this._re;
  }
  /** The imaginary part. */
  get im(): Tensor {
    this._im ??= this.part(1);
    return this._im;
  }
  /** The interleaved real view, shape [...S, 2]: what programs, optimizers and backends see. */
  get view(): Tensor {
    this._view ??= F.concat([F.reshape(this._re!, [...this.shape, 1]), F.reshape(this._im!, [...this.shape, 1])], -1);
    return this._view;
  }
  private part(k: 0 | 1): Tensor {
    const view = this._view!;
    return F.reshape(F.slice(view, [...this.shape.map(() => 0), k], [...this.shape, 1]), this.shape);
  }

  /** Interleaved (re, im) values as a fresh typed array. */
  dataSync(): FloatArray {
    return this.view.dataSync();
  }
  async data(): Promise<FloatArray> {
    return this.dataSync();
  }
  /** `{ re, im }` as nested arrays. */
  arraySync(): { re: NestedArray; im: NestedArray } {
    return { re: this.re.arraySync(), im: this.im.arraySync() };
  }
  async array(): Promise<{ re: NestedArray; im: NestedArray }> {
    return this.arraySync();
  }
  item(): { re: number; im: number } {
    return { re: this.re.item(), im: this.im.item() };
  }
  toString(): string {
    return this.isConcrete
      ? `ComplexTensor(${JSON.stringify(this.arraySync())}, ${this.dtype})`
      : `ComplexTensor<traced ${fmt(this.shape)} ${this.dtype}>`;
  }

  add(b: AnyLike): ComplexTensor {
    return add(this, b);
  }
  sub(b: AnyLike): ComplexTensor {
    return sub(this, b);
  }
  mul(b: AnyLike): ComplexTensor {
    return mul(this, b);
  }
  div(b: AnyLike): ComplexTensor {
    return div(this, b);
  }
  neg(): ComplexTensor {
    return neg(this);
  }
  conj(): ComplexTensor {
    return conj(this);
  }
  abs(): Tensor {
    return abs(this);
  }
  square(): ComplexTensor {
    return square(this);
  }
  exp(): ComplexTensor {
    return exp(this);
  }
  log(): ComplexTensor {
    return log(this);
  }
  sqrt(): ComplexTensor {
    return sqrt(this);
  }
  pow(p: number): ComplexTensor {
    return pow(this, p);
  }
  matmul(b: AnyTensor): ComplexTensor {
    return matmul(this, b);
  }
  transpose(): ComplexTensor {
    return transpose(this);
  }
  get T(): ComplexTensor {
    return transpose(this);
  }
  /** Conjugate transpose of the last two dims (torch's `.mH`). */
  get mH(): ComplexTensor {
    return adjoint(this);
  }
  sum(axis?: number | number[], keepdims = false): ComplexTensor {
    return sum(this, axis, keepdims);
  }
  mean(axis?: number | number[], keepdims = false): ComplexTensor {
    return mean(this, axis, keepdims);
  }
  reshape(shape: readonly number[]): ComplexTensor {
    return reshape(this, shape);
  }
  broadcastTo(shape: readonly number[]): ComplexTensor {
    return broadcastTo(this, shape);
  }
  slice(begin: readonly number[], size: readonly number[]): ComplexTensor {
    return F.slice(this, begin, size); // resolves size −1 like the real slice
  }
  diag(): ComplexTensor {
    return diag(this);
  }
  trace(): ComplexTensor {
    return trace(this);
  }
  cast(dtype: ComplexDType): ComplexTensor {
    return cast(this, dtype);
  }
}

export type AnyTensor = Tensor | ComplexTensor;
export type AnyLike = TensorLike | ComplexTensor;

/** Real and imaginary parts of an operand (null: a real operand, imaginary part zero). */
function split(op: string, x: AnyLike, real: DType): [Tensor, Tensor | null] {
  if (x instanceof ComplexTensor) return [x.re, x.im];
  if (typeof x === 'number') return [scalar(x, { dtype: real }), null];
  if (!(x instanceof Tensor)) throw new MatgradError(`${op}: expected a Tensor, ComplexTensor or number, got ${x === null ? 'null' : typeof x}`);
  if (x.dtype !== real) {
    throw new MatgradDTypeError(`${op}: a ${complexDTypeOf(real)} operand meets a ${x.dtype} one; cast one of them (complex64 pairs with float32, complex128 with float64)`);
  }
  return [x, null];
}
/** The part dtype shared by the complex operands (mixing complex64 and complex128 is an error). */
function partDType(op: string, xs: readonly AnyLike[]): DType {
  const complex = xs.filter((x): x is ComplexTensor => x instanceof ComplexTensor);
  const dtypes = [...new Set(complex.map((z) => z.dtype))];
  if (dtypes.length > 1) throw new MatgradDTypeError(`${op}: inputs have different dtypes (${dtypes.join(', ')}); cast one with .cast()`);
  if (!complex.length) throw new MatgradError(`${op}: expected a complex operand`);
  return complex[0].realDType;
}
function operands(op: string, a: AnyLike, b: AnyLike) {
  const real = partDType(op, [a, b]);
  return [...split(op, a, real), ...split(op, b, real)] as [Tensor, Tensor | null, Tensor, Tensor | null];
}
const make = (re: Tensor, im: Tensor) => ComplexTensor.fromParts(re, im);
/** x + y where either may be missing (a zero part). */
const plus = (x: Tensor | null, y: Tensor | null, zeroLike: Tensor): Tensor => (x && y ? F.add(x, y) : (x ?? y ?? F.mul(zeroLike, 0)));

// ---- creation ----------------------------------------------------------------------------------

/** re + i·im from two real tensors of one dtype (torch.complex); the parts broadcast. */
export function complex(re: Tensor, im: Tensor): ComplexTensor {
  return userOp('complex', [re, im], () => ComplexTensor.fromParts(re, im));
}
/** The complex tensor stored interleaved in `view` (shape [...S, 2]); torch.view_as_complex. */
export const viewAsComplex = (view: Tensor): ComplexTensor => ComplexTensor.fromView(view);
/** The interleaved real view [...S, 2] of a complex tensor; torch.view_as_real. */
export function viewAsReal(z: ComplexTensor): Tensor {
  if (!(z instanceof ComplexTensor)) throw new MatgradError('viewAsReal: expected a ComplexTensor');
  return z.view;
}

export interface ComplexCreateOptions {
  dtype?: ComplexDType;
  shape?: readonly number[];
}
function checkComplexDType(owner: string, dtype: unknown): ComplexDType {
  if (dtype === undefined) return 'complex128';
  if (!isComplexDType(dtype)) throw new MatgradDTypeError(`${owner}: unknown complex dtype ${describe(dtype)}; use 'complex64' or 'complex128'`);
  return dtype;
}

/**
 * `mg.complexTensor({ re: [[1, 2], [3, 4]], im: [[0, 1], [1, 0]] })` (im defaults to zeros), or from
 * interleaved values: `mg.complexTensor(float32Array, { shape: [2, 2], dtype: 'complex64' })`.
 */
export function complexTensor(
  values: { re: NestedArray | FloatArray | readonly number[]; im?: NestedArray | FloatArray | readonly number[] } | FloatArray,
  opts: ComplexCreateOptions = {},
): ComplexTensor {
  const o = checkOptionsObject<ComplexCreateOptions>('complexTensor', opts, ['dtype', 'shape']);
  const dtype = checkComplexDType('complexTensor', o.dtype ?? (values instanceof Float32Array ? 'complex64' : undefined));
  const real = COMPLEX_DTYPES[dtype].real;
  const shape = o.shape === undefined ? undefined : assertShape(o.shape, 'complexTensor');
  if (ArrayBuffer.isView(values)) {
    if (shape === undefined && (values as FloatArray).length % 2 !== 0)
      throw new MatgradShapeError(`complexTensor: interleaved (re, im) values need an even length, got ${(values as FloatArray).length}`);
    return ComplexTensor.fromView(tensor(values, { dtype: real, shape: [...(shape ?? [(values as FloatArray).length / 2]), 2] }));
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values) || !('re' in values)) {
    throw new MatgradError(`complexTensor: expected { re, im } (nested arrays or typed arrays) or an interleaved typed array, got ${describe(values)}`);
  }
  checkOptionsObject('complexTensor (values)', values, ['re', 'im']);
  const re = tensor(values.re, { dtype: real, shape });
  const im = values.im === undefined ? F.mul(re, 0) : tensor(values.im, { dtype: real, shape });
  if (fmt(re.shape) !== fmt(im.shape)) throw new MatgradShapeError(`complexTensor: re has shape ${fmt(re.shape)}, im has ${fmt(im.shape)}`);
  return ComplexTensor.fromParts(re, im);
}

/** Complex normal like torch.randn(dtype=complex): re and im independent N(mean, std²/2). */
export function randomComplex(shape: readonly number[], opts: Omit<RandomOptions, 'dtype' | 'dist' | 'low' | 'high'> & { dtype?: ComplexDType } = {}): ComplexTensor {
  const o = checkOptionsObject<typeof opts>('randomComplex', opts, ['dtype', 'seed', 'mean', 'std']);
  const dtype = checkComplexDType('randomComplex', o.dtype);
  const std = o.std === undefined ? 1 : checkNumber('randomComplex', 'std', o.std, { min: 0 });
  const view = random([...assertShape(shape, 'randomComplex'), 2], { seed: o.seed, dtype: COMPLEX_DTYPES[dtype].real, dist: 'normal', mean: o.mean, std: std / Math.SQRT2 });
  return ComplexTensor.fromView(view);
}

// ---- elementwise -------------------------------------------------------------------------------

export function add(a: AnyLike, b: AnyLike): ComplexTensor {
  const [ar, ai, br, bi] = operands('add', a, b);
  const re = F.add(ar, br);
  return make(re, plus(ai, bi, re));
}
export function sub(a: AnyLike, b: AnyLike): ComplexTensor {
  const [ar, ai, br, bi] = operands('sub', a, b);
  const re = F.sub(ar, br);
  return make(re, plus(ai, bi && F.neg(bi), re));
}
export function mul(a: AnyLike, b: AnyLike): ComplexTensor {
  const [ar, ai, br, bi] = operands('mul', a, b);
  if (!ai) return make(F.mul(ar, br), F.mul(ar, bi!));
  if (!bi) return make(F.mul(ar, br), F.mul(ai, br));
  return make(F.sub(F.mul(ar, br), F.mul(ai, bi)), F.add(F.mul(ar, bi), F.mul(ai, br)));
}
export function div(a: AnyLike, b: AnyLike): ComplexTensor {
  const [ar, ai, br, bi] = operands('div', a, b);
  if (!bi) return make(F.div(ar, br), F.div(ai!, br));
  const d = F.add(F.mul(br, br), F.mul(bi, bi));
  // (a·conj b) / |b|²
  const re = ai ? F.add(F.mul(ar, br), F.mul(ai, bi)) : F.mul(ar, br);
  const im = ai ? F.sub(F.mul(ai, br), F.mul(ar, bi)) : F.neg(F.mul(ar, bi));
  return make(F.div(re, d), F.div(im, d));
}
/** 1 / z. */
export function reciprocal(z: ComplexTensor): ComplexTensor {
  return div(1, need('reciprocal', z));
}
export function neg(z: ComplexTensor): ComplexTensor {
  need('neg', z);
  return make(F.neg(z.re), F.neg(z.im));
}
export function conj(z: Tensor): Tensor;
export function conj(z: ComplexTensor): ComplexTensor;
export function conj(z: AnyTensor): AnyTensor {
  return z instanceof ComplexTensor ? make(z.re, F.neg(z.im)) : z;
}
export function real(z: AnyTensor): Tensor {
  return z instanceof ComplexTensor ? z.re : z;
}
export function imag(z: AnyTensor): Tensor {
  return z instanceof ComplexTensor ? z.im : F.mul(z, 0);
}
/** |z|, with gradient 0 at z = 0 (like torch). */
export function abs(z: ComplexTensor): Tensor {
  need('abs', z);
  const r2 = F.add(F.square(z.re), F.square(z.im));
  const ok = F.gt(r2, 0);
  return F.where(ok, F.sqrt(F.where(ok, r2, 1)), 0);
}
export function square(z: ComplexTensor): ComplexTensor {
  need('square', z);
  return make(F.sub(F.square(z.re), F.square(z.im)), F.mul(F.mul(z.re, z.im), 2));
}
export function exp(z: ComplexTensor): ComplexTensor {
  need('exp', z);
  const r = F.exp(z.re);
  return make(F.mul(r, F.cos(z.im)), F.mul(r, F.sin(z.im)));
}
/** The argument arg z in (−π, π] (torch.angle); for a real tensor 0 or π. */
export function angle(z: AnyTensor): Tensor {
  return z instanceof ComplexTensor ? F.atan2(z.im, z.re) : F.where(F.lt(z, 0), Math.PI, F.mul(z, 0));
}
/** Principal logarithm: log|z| + i·arg z (branch cut along the negative real axis, like torch). */
export function log(z: ComplexTensor): ComplexTensor {
  need('log', z);
  return make(F.mul(F.log(F.add(F.square(z.re), F.square(z.im))), 0.5), F.atan2(z.im, z.re));
}
/** Principal square root (Re ≥ 0), without the cancellation of exp(log(z)/2). */
export function sqrt(z: ComplexTensor): ComplexTensor {
  need('sqrt', z);
  const ax = F.abs(z.re);
  const s = F.sqrt(F.mul(F.add(abs(z), ax), 0.5)); // |Re| or |Im| of the root, whichever is larger
  const t = F.div(z.im, F.mul(s, 2)); // the other one, signed like Im z
  const right = F.ge(z.re, 0);
  return make(F.where(right, s, F.abs(t)), F.where(right, t, F.where(F.lt(z.im, 0), F.neg(s), s)));
}
/** z^p: repeated products for small integer p (exact, like the real pow), else exp(p·log z). */
export function pow(z: ComplexTensor, p: number): ComplexTensor {
  need('pow', z);
  if (Number.isInteger(p) && Math.abs(p) <= 8) {
    if (p === 0) return make(F.add(F.mul(z.re, 0), 1), F.mul(z.im, 0));
    let y = z;
    for (let k = 1; k < Math.abs(p); k++) y = mul(y, z);
    return p > 0 ? y : reciprocal(y);
  }
  const w = log(z);
  return exp(make(F.mul(w.re, p), F.mul(w.im, p)));
}
export function where(cond: TensorLike, a: AnyLike, b: AnyLike): ComplexTensor {
  const [ar, ai, br, bi] = operands('where', a, b);
  const re = F.where(cond, ar, br);
  return make(re, F.where(cond, ai ?? 0, bi ?? 0));
}
/** mean |a − b|² (a real scalar). */
export function mse(a: AnyLike, b: AnyLike): Tensor {
  const d = sub(a, b);
  return F.mean(F.add(F.square(d.re), F.square(d.im)));
}
export function cast(z: ComplexTensor, dtype: ComplexDType): ComplexTensor {
  need('cast', z);
  const real = COMPLEX_DTYPES[checkComplexDType('cast', dtype)].real;
  return z.dtype === dtype ? z : make(F.cast(z.re, real), F.cast(z.im, real));
}

// ---- structure (applied to both parts) ---------------------------------------------------------

function both(op: string, z: ComplexTensor, f: (x: Tensor) => Tensor): ComplexTensor {
  return make(f(need(op, z).re), f(z.im));
}

// function declarations, not consts: api.ts binds them while this module may still be loading
export function transpose(z: ComplexTensor): ComplexTensor {
  return both('transpose', z, F.transpose);
}
/** Conjugate transpose of the last two dims (torch's A.mH). */
export function adjoint(z: Tensor): Tensor;
export function adjoint(z: ComplexTensor): ComplexTensor;
export function adjoint(z: AnyTensor): AnyTensor;
export function adjoint(z: AnyTensor): AnyTensor {
  return userOp('adjoint', [z], () => (z instanceof ComplexTensor ? make(F.transpose(z.re), F.neg(F.transpose(z.im))) : F.transpose(z)));
}
export function reshape(z: ComplexTensor, shape: readonly number[]): ComplexTensor {
  return both('reshape', z, (x) => F.reshape(x, shape));
}
export function broadcastTo(z: ComplexTensor, shape: readonly number[]): ComplexTensor {
  return both('broadcastTo', z, (x) => F.broadcastTo(x, shape));
}
export function slice(z: ComplexTensor, begin: readonly number[], size: readonly number[]): ComplexTensor {
  return both('slice', z, (x) => F.slice(x, begin, size));
}
export function diag(z: ComplexTensor): ComplexTensor {
  return both('diag', z, F.diag);
}
export function trace(z: ComplexTensor): ComplexTensor {
  return both('trace', z, F.trace);
}
export function diagEmbed(z: ComplexTensor, rows?: number, cols?: number): ComplexTensor {
  return both('diagEmbed', z, (x) => F.diagEmbed(x, rows, cols));
}
export function sum(z: ComplexTensor, axis?: number | readonly number[], keepdims = false): ComplexTensor {
  return both('sum', z, (x) => F.sum(x, axis, keepdims));
}
export function mean(z: ComplexTensor, axis?: number | readonly number[], keepdims = false): ComplexTensor {
  return both('mean', z, (x) => F.mean(x, axis, keepdims));
}
export function concat(zs: readonly AnyTensor[], axis = 0): ComplexTensor {
  const real = partDType('concat', zs);
  const parts = zs.map((z) => split('concat', z, real));
  return make(
    F.concat(parts.map(([re]) => re), axis),
    F.concat(parts.map(([re, im]) => im ?? F.mul(re, 0)), axis),
  );
}

/** Complex matmul (4 real products; 2 when one side is real). */
export function matmul(a: AnyTensor, b: AnyTensor): ComplexTensor {
  const [ar, ai, br, bi] = operands('matmul', a, b);
  if (!ai) return make(F.matmul(ar, br), F.matmul(ar, bi!));
  if (!bi) return make(F.matmul(ar, br), F.matmul(ai, br));
  return make(F.sub(F.matmul(ar, br), F.matmul(ai, bi)), F.add(F.matmul(ar, bi), F.matmul(ai, br)));
}

function need(op: string, z: unknown): ComplexTensor {
  if (!(z instanceof ComplexTensor)) throw new MatgradError(`${op}: expected a ComplexTensor, got ${z === null ? 'null' : typeof z}`);
  return z;
}

/** The error for a real-only op given a complex input. */
export function notForComplex(op: string, xs: readonly unknown[]): MatgradDTypeError {
  const z = xs.find((x): x is ComplexTensor => x instanceof ComplexTensor);
  return new MatgradDTypeError(`${op}: not defined for complex tensors (got ${z ? `${z.dtype} ${fmt(z.shape)}` : 'a complex input'}); take mg.real, mg.imag or mg.abs first`);
}

// ---- crossing into programs (jit, grad, solve) -------------------------------------------------

/** What a program sees of an argument: a complex one travels as its real view. */
export const toReal = (x: AnyTensor): Tensor => (x instanceof ComplexTensor ? x.view : x);
/** A program's real tensor, given back in the form of `model` (complex when the model is). */
export const like = (t: Tensor, complexModel: boolean): AnyTensor => (complexModel ? ComplexTensor.fromView(t) : t);
/** A cache tag telling which arguments are complex (their views share real signatures). */
export const complexMask = (xs: readonly unknown[]): string => xs.map((x) => (x instanceof ComplexTensor ? 'c' : 'r')).join('');
