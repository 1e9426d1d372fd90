import * as F from '../autograd/api.js';
import type { DType } from '../autograd/dtype.js';
import { eye, full, random, type Tensor } from '../autograd/tensor.js';
import { MatgradError } from '../errors.js';
import type { Constraint } from '../optimizers/program.js';
import type { Transform } from '../optimizers/transform.js';

export type Init = 'zeros' | 'ones' | 'eye' | 'uniform' | 'normal';

/** A parameter to learn: its shape and how to initialize it (or a tensor holding its initial value). */
export interface ParamSpec {
  readonly kind: 'param';
  readonly shape: readonly number[];
  readonly init: Init | Tensor;
  readonly seed: number;
  /** Spread of random initializations: uniform draws from [0, scale) like torch.rand, normal has std scale. */
  readonly scale: number;
  readonly dtype?: DType;
  readonly constraint?: Constraint;
}

export interface ParamOptions {
  init?: Init;
  seed?: number;
  scale?: number;
  dtype?: DType;
  constraint?: Constraint;
}

/** `mg.param([4, 4], { init: 'uniform', seed: 1 })`, or `mg.param(tensor)`: the tensor is the initial value. */
export function param(shapeOrValue: readonly number[] | Tensor, opts: ParamOptions = {}): ParamSpec {
  if (!Array.isArray(shapeOrValue)) {
    const t = shapeOrValue as Tensor;
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

export type Params = Record<string, Tensor>;

/** What solve() needs: named parameters, a scalar loss, optional metrics and defaults. */
export interface Objective<P extends Params = Params> {
  readonly kind: 'objective';
  readonly name: string;
  readonly params: { readonly [K in keyof P]: ParamSpec };
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

export interface ObjectiveOptions<P extends Params> {
  name?: string;
  metrics?: (p: P) => Record<string, Tensor>;
  defaults?: Objective<P>['defaults'];
  optimum?: number;
}

/** A custom objective in code: `mg.objective({ X: mg.param([4, 4]) }, ({ X }) => mg.mse(X.matmul(M), I))`. */
export function objective<P extends Params>(
  params: { [K in keyof P]: ParamSpec },
  loss: (p: P) => Tensor,
  opts: ObjectiveOptions<P> = {},
): Objective<P> {
  for (const [name, spec] of Object.entries(params)) {
    if ((spec as ParamSpec)?.kind !== 'param')
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

/** Initial parameter values; `seedOffset` shifts every parameter's seed (for repeated trials). */
export function initialValues(obj: Objective, opts: { dtype?: DType; seedOffset?: number } = {}): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(obj.params)) {
    const dtype = opts.dtype ?? spec.dtype ?? 'float64';
    let value: Tensor;
    if (typeof spec.init !== 'string') value = F.cast(spec.init, dtype);
    else {
      const seed = spec.seed + (opts.seedOffset ?? 0);
      const shape = spec.shape;
      switch (spec.init) {
        case 'zeros':
          value = full(shape, 0, { dtype });
          break;
        case 'ones':
          value = full(shape, 1, { dtype });
          break;
        case 'eye': {
          const [m, n] = shape.slice(-2);
          value = eye(m, { cols: n, batch: shape.slice(0, -2), dtype });
          break;
        }
        case 'uniform':
          value = random(shape, { seed, dtype, low: 0, high: spec.scale });
          break;
        case 'normal':
          value = random(shape, { seed, dtype, dist: 'normal', std: spec.scale });
          break;
      }
    }
    out[name] = spec.constraint ? (spec.constraint.init ?? spec.constraint.retract)(value) : value;
  }
  return out;
}
