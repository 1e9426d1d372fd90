import * as F from '../autograd/api.js';
import { type AnyTensor, ComplexTensor, like, toReal } from '../autograd/complex.js';
import { COMPLEX_DTYPES, type ComplexDType, complexDTypeOf, type DType, DTYPES, isComplexDType, isDType } from '../autograd/dtype.js';
import { assertShape, fmt } from '../autograd/shape.js';
import { eye, full, random, Tensor } from '../autograd/tensor.js';
import { checkChoice, checkNumber, checkOptionsObject, describe } from '../check.js';
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

const INITS: readonly Init[] = ['zeros', 'ones', 'eye', 'uniform', 'normal'];
const PARAM_OPTIONS = ['init', 'seed', 'scale', 'dtype', 'constraint'] as const satisfies readonly (keyof ParamOptions)[];

/** `mg.param([4, 4], { init: 'uniform', seed: 1 })`, or `mg.param(tensor)`: the tensor is the initial value. */
export function param(value: ComplexTensor, opts?: ParamOptions): ParamSpec<ComplexTensor>;
export function param(value: Tensor, opts?: ParamOptions): ParamSpec<Tensor>;
export function param(shape: readonly number[], opts: ParamOptions & { dtype: ComplexDType }): ParamSpec<ComplexTensor>;
export function param(shape: readonly number[], opts?: ParamOptions & { dtype?: DType }): ParamSpec<Tensor>;
export function param(shapeOrValue: readonly number[] | AnyTensor, opts: ParamOptions = {}): ParamSpec<AnyTensor> {
  const o = checkOptionsObject<ParamOptions>('param', opts, PARAM_OPTIONS);
  if (!Array.isArray(shapeOrValue)) {
    if (!(shapeOrValue instanceof Tensor || shapeOrValue instanceof ComplexTensor))
      throw new MatgradError(`param: expected a shape (a list of integers) or a tensor, got ${describe(shapeOrValue)}`);
    const t = shapeOrValue as AnyTensor;
    // the tensor is the initial value: options that would make another one are contradictions, not hints
    for (const k of ['init', 'seed', 'scale'] as const) {
      if (o[k] !== undefined) throw new MatgradError(`param: option '${k}' does not apply when the initial value is a tensor`);
    }
    if (o.dtype !== undefined && o.dtype !== t.dtype) throw new MatgradError(`param: dtype '${String(o.dtype)}' differs from the tensor's ${t.dtype} (cast the tensor instead)`);
    return checkParamSpec('param', { kind: 'param', shape: t.shape, init: t, seed: 0, scale: 1, dtype: t.dtype, constraint: o.constraint });
  }
  return checkParamSpec('param', {
    kind: 'param',
    shape: [...shapeOrValue],
    init: o.init ?? 'uniform',
    seed: o.seed ?? 0,
    scale: o.scale ?? 1,
    dtype: o.dtype,
    constraint: o.constraint,
  });
}

/** Checks a parameter spec field by field (mg.param's result or one written by hand); `owner` prefixes messages. */
export function checkParamSpec<S extends ParamSpec<AnyTensor>>(owner: string, spec: S): S {
  if (spec === null || typeof spec !== 'object' || spec.kind !== 'param') throw new MatgradError(`${owner}: must be made with mg.param(...), got ${describe(spec)}`);
  const shape = assertShape(spec.shape, `${owner} (shape)`);
  if (typeof spec.init === 'string' || !(spec.init instanceof Tensor || spec.init instanceof ComplexTensor)) {
    checkChoice(owner, 'init', spec.init, INITS);
    if (spec.init === 'eye' && shape.length < 2) throw new MatgradError(`${owner}: init 'eye' needs at least 2 dims, got shape ${fmt(shape)}`);
  } else if (fmt(spec.init.shape) !== fmt(shape)) {
    throw new MatgradError(`${owner}: the initial value has shape ${fmt(spec.init.shape)}, the parameter ${fmt(shape)}`);
  }
  checkNumber(owner, 'seed', spec.seed, { integer: true });
  if (!(checkNumber(owner, 'scale', spec.scale) > 0)) throw new MatgradError(`${owner}: scale must be a positive number, got ${spec.scale}`);
  if (spec.dtype !== undefined && !isDType(spec.dtype) && !isComplexDType(spec.dtype))
    checkChoice(owner, 'dtype', spec.dtype, [...(Object.keys(DTYPES) as DType[]), ...(Object.keys(COMPLEX_DTYPES) as ComplexDType[])]);
  const c = spec.constraint as Partial<Constraint> | undefined;
  if (c !== undefined && (c === null || typeof c !== 'object' || typeof c.retract !== 'function' || [c.projectGrad, c.init].some((f) => f !== undefined && typeof f !== 'function')))
    throw new MatgradError(`${owner}: constraint must be a Constraint (e.g. mg.optimizers.sphere()), got ${describe(c)}`);
  return spec;
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

const OBJECTIVE_OPTIONS = ['name', 'metrics', 'defaults', 'optimum'] as const satisfies readonly (keyof ObjectiveOptions<Params>)[];

/** A custom objective in code: `mg.objective({ X: mg.param([4, 4]) }, ({ X }) => mg.mse(X.matmul(M), I))`. */
export function objective<P extends AnyParams>(
  params: { [K in keyof P]: ParamSpec<P[K]> },
  loss: (p: P) => Tensor,
  opts: ObjectiveOptions<P> = {},
): Objective<P> {
  const o = checkOptionsObject<ObjectiveOptions<P>>('objective', opts, OBJECTIVE_OPTIONS);
  return checkObjective('objective', {
    kind: 'objective',
    name: o.name ?? 'custom',
    params,
    loss,
    metrics: o.metrics,
    defaults: o.defaults,
    optimum: o.optimum,
  });
}

/**
 * Checks an objective (mg.objective's, a problem's, or one written by hand) before a run: at least one
 * parameter, each a valid ParamSpec, a loss function, and well-formed metrics, defaults and optimum.
 */
export function checkObjective<O extends Objective<AnyParams>>(owner: string, obj: O): O {
  if (obj === null || typeof obj !== 'object' || obj.kind !== 'objective')
    throw new MatgradError(`${owner}: expected a problem (mg.problem(spec)) or an objective (mg.objective(...)), got ${describe(obj)}`);
  const params = obj.params as unknown;
  if (params === null || typeof params !== 'object' || Array.isArray(params) || params instanceof Tensor)
    throw new MatgradError(`${owner}: params must be an object of named mg.param(...) specs, got ${describe(params)}`);
  const names = Object.keys(params);
  if (!names.length) throw new MatgradError(`${owner}: needs at least one parameter to learn, e.g. { X: mg.param([4, 4]) }`);
  for (const name of names) checkParamSpec(`${owner}: parameter '${name}'`, obj.params[name]);
  if (typeof obj.loss !== 'function') throw new MatgradError(`${owner}: the loss must be a function of the parameters, got ${describe(obj.loss)}`);
  if (typeof obj.name !== 'string') throw new MatgradError(`${owner}: name must be a string, got ${describe(obj.name)}`);
  if (obj.metrics !== undefined && typeof obj.metrics !== 'function') throw new MatgradError(`${owner}: metrics must be a function of the parameters, got ${describe(obj.metrics)}`);
  if (obj.optimum !== undefined) checkNumber(owner, 'optimum', obj.optimum);
  const d = checkOptionsObject<NonNullable<Objective['defaults']>>(`${owner} (defaults)`, obj.defaults, ['optimizer', 'steps', 'tolerance']);
  if (d.optimizer !== undefined && typeof d.optimizer !== 'function') throw new MatgradError(`${owner}: defaults.optimizer must be a function returning an optimizer, got ${describe(d.optimizer)}`);
  if (d.steps !== undefined) checkNumber(`${owner}: defaults`, 'steps', d.steps, { min: 1, integer: true });
  if (d.tolerance !== undefined) checkNumber(`${owner}: defaults`, 'tolerance', d.tolerance); // a loss (and so its tolerance) may be negative
  return obj;
}

/**
 * Initial parameter values; `seedOffset` shifts every parameter's seed (for repeated trials). `dtype`
 * (a real dtype) overrides the precision: float32 turns complex parameters into complex64.
 */
export function initialValues(obj: Objective<AnyParams>, opts: { dtype?: DType; seedOffset?: number } = {}): AnyParams {
  checkObjective('initialValues', obj);
  const o = checkOptionsObject<typeof opts>('initialValues', opts, ['dtype', 'seedOffset']);
  if (o.dtype !== undefined) checkChoice('initialValues', 'dtype', o.dtype, Object.keys(DTYPES) as DType[]);
  if (o.seedOffset !== undefined) checkNumber('initialValues', 'seedOffset', o.seedOffset, { integer: true });
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
