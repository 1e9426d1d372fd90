import * as F from '../autograd/api.js';
import { type AnyTensor, ComplexTensor, like, toReal } from '../autograd/complex.js';
import { COMPLEX_DTYPES, type ComplexDType, complexDTypeOf, type DType, isComplexDType } from '../autograd/dtype.js';
import { eye, full, random, type Tensor } from '../autograd/tensor.js';
import { MatgradError } from '../errors.js';
import type { Constraint } from '../optimizers/program.js';
import type { Transform } from '../optimizers/transform.js';

export type Init = 'zeros' | 'ones' | 'eye' | 'uniform' | 'normal';

/**
 * A parameter to learn: its shape and how to initialize it (or a tensor holding its initial value).
 * Complex parameters (dtype complex64/complex128) are optimized through their real views, like
 * torch.optim; a constraint then acts on that view (sphere: unit Frobenius norm).
 */
export interface ParamSpec<T extends AnyTensor = Tensor> {
  readonly kind: 'param';
  readonly shape: readonly number[];
  readonly init: Init | T;
  readonly seed: number;
  /** Spread of random initializations: uniform draws from [0, scale) like torch.rand, normal has std scale. */
  readonly scale: number;
  readonly dtype?: DType | ComplexDType;
  readonly constraint?: Constraint;
}

export interface ParamOptions {
  init?: Init;
  seed?: number;
  /** Complex 'normal' draws like torch.randn: re and im each with std scale/√2. */
  scale?: number;
  dtype?: DType | ComplexDType;
  constraint?: Constraint;
}

/** `mg.param([4, 4], { init: 'uniform', seed: 1 })`, or `mg.param(tensor)`: the tensor is the initial value. */
export function param(value: ComplexTensor, opts?: ParamOptions): ParamSpec<ComplexTensor>;
export function param(value: Tensor, opts?: ParamOptions): ParamSpec<Tensor>;
export function param(shape: readonly number[], opts: ParamOptions & { dtype: ComplexDType }): ParamSpec<ComplexTensor>;
export function param(shape: readonly number[], opts?: ParamOptions & { dtype?: DType }): ParamSpec<Tensor>;
export function param(shapeOrValue: readonly number[] | AnyTensor, opts: ParamOptions = {}): ParamSpec<AnyTensor> {
  if (!Array.isArray(shapeOrValue)) {
    const t = shapeOrValue as AnyTensor;
    return {
      kind: 'param',
      shape: t.shape,
      init: t,
      seed: 0,
      scale: 1,
      dtype: t.dtype,
      constraint: opts.constraint,
    };
  }
  return {
    kind: 'param',
    shape: [...shapeOrValue],
    init: opts.init ?? 'uniform',
    seed: opts.seed ?? 0,
    scale: opts.scale ?? 1,
    dtype: opts.dtype,
    constraint: opts.constraint,
  };
}

/** Named parameter values (real); AnyParams allows complex ones. */
export type Params = Record<string, Tensor>;
export type AnyParams = Record<string, AnyTensor>;

/** What solve() needs: named parameters, a scalar loss, optional metrics and defaults. */
export interface Objective<P extends AnyParams = Params> {
  readonly kind: 'objective';
  readonly name: string;
  readonly params: { readonly [K in keyof P]: ParamSpec<P[K]> };
  loss(p: P): Tensor;
  /** Scalar diagnostics reported with progress (computed at report points, not every step). */
  metrics?(p: P): Record<string, Tensor>;
  /** Defaults a problem kind recommends (solve options override them). */
  readonly defaults?: { optimizer?: () => Transform; steps?: number; tolerance?: number };
  /** The optimal loss when known (for "gap" reporting). */
  readonly optimum?: number;
  /** The same problem built in another dtype (problems from specs; WebGPU runs float32). */
  readonly withDType?: (dtype: DType) => Objective;
}

export interface ObjectiveOptions<P extends AnyParams> {
  name?: string;
  metrics?: (p: P) => Record<string, Tensor>;
  defaults?: Objective<P>['defaults'];
  optimum?: number;
}

/** A custom objective in code: `mg.objective({ X: mg.param([4, 4]) }, ({ X }) => mg.mse(X.matmul(M), I))`. */
export function objective<P extends AnyParams>(
  params: { [K in keyof P]: ParamSpec<P[K]> },
  loss: (p: P) => Tensor,
  opts: ObjectiveOptions<P> = {},
): Objective<P> {
  for (const [name, spec] of Object.entries(params)) {
    if ((spec as ParamSpec<AnyTensor>)?.kind !== 'param')
      throw new MatgradError(`objective: parameter '${name}' must be made with mg.param(...)`);
  }
  if (typeof loss !== 'function')
    throw new MatgradError('objective: the loss must be a function of the parameters');
  return {
    kind: 'objective',
    name: opts.name ?? 'custom',
    params,
    loss,
    metrics: opts.metrics,
    defaults: opts.defaults,
    optimum: opts.optimum,
  };
}

/**
 * Initial parameter values; `seedOffset` shifts every parameter's seed (for repeated trials). `dtype`
 * (a real dtype) overrides the precision: float32 turns complex parameters into complex64.
 */
export function initialValues(obj: Objective<AnyParams>, opts: { dtype?: DType; seedOffset?: number } = {}): AnyParams {
  const out: AnyParams = {};
  for (const [name, spec] of Object.entries(obj.params)) {
    const declared = spec.dtype ?? 'float64';
    const complex = isComplexDType(declared);
    const real: DType = opts.dtype ?? (complex ? COMPLEX_DTYPES[declared].real : declared);
    const value = complex ? complexInitial(spec, real, opts.seedOffset ?? 0) : realInitial(spec, real, opts.seedOffset ?? 0);
    // constraints act on what the optimizer sees: the real view of a complex parameter
    const project = spec.constraint && (spec.constraint.init ?? spec.constraint.retract);
    out[name] = project ? like(project(toReal(value)), complex) : value;
  }
  return out;
}

function realInitial(spec: ParamSpec<AnyTensor>, dtype: DType, seedOffset: number): Tensor {
  if (typeof spec.init !== 'string') {
    if (spec.init instanceof ComplexTensor) throw new MatgradError(`param: a complex initial value needs a complex dtype, got ${dtype}`);
    return F.cast(spec.init, dtype);
  }
  const seed = spec.seed + seedOffset;
  const shape = spec.shape;
  switch (spec.init) {
    case 'zeros':
      return full(shape, 0, { dtype });
    case 'ones':
      return full(shape, 1, { dtype });
    case 'eye': {
      const [m, n] = shape.slice(-2);
      return eye(m, { cols: n, batch: shape.slice(0, -2), dtype });
    }
    case 'uniform':
      return random(shape, { seed, dtype, low: 0, high: spec.scale });
    case 'normal':
      return random(shape, { seed, dtype, dist: 'normal', std: spec.scale });
  }
}

/** Complex initial values: the real part as realInitial ('normal': std scale/√2 per part, like torch.randn), then the imaginary part. */
function complexInitial(spec: ParamSpec<AnyTensor>, real: DType, seedOffset: number): ComplexTensor {
  if (spec.init instanceof ComplexTensor) return F.cast(spec.init, complexDTypeOf(real));
  if (typeof spec.init !== 'string') return ComplexTensor.fromParts(F.cast(spec.init, real), full(spec.shape, 0, { dtype: real }));
  if (spec.init === 'zeros' || spec.init === 'ones' || spec.init === 'eye') {
    const re = realInitial(spec, real, seedOffset);
    return ComplexTensor.fromParts(re, F.mul(re, 0));
  }
  const part = { ...spec, scale: spec.init === 'normal' ? spec.scale / Math.SQRT2 : spec.scale };
  const re = realInitial(part, real, seedOffset);
  const im = realInitial({ ...part, seed: part.seed + 0x9e37 }, real, seedOffset);
  return ComplexTensor.fromParts(re, im);
}
