// Optimizers by name, for the CLI and `matgrad start`: `sgd`, `momentum`, `adam`, `lbfgs`, ... with a
// learning rate that fits the problem when none is given (the problem's own default where it fits).
import { MatgradError } from '../errors.js';
import { adagrad } from '../optimizers/adagrad.js';
import { adam, adamw } from '../optimizers/adam.js';
import { type Lbfgs, lbfgs } from '../optimizers/lbfgs.js';
import { rmsprop } from '../optimizers/rmsprop.js';
import { sgd } from '../optimizers/sgd.js';
import type { Transform } from '../optimizers/transform.js';
import type { Objective } from '../problems/objective.js';

export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad', 'lbfgs', 'default'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerChoice {
  /** The optimizer, or null when it cannot run on this problem (see `note`). */
  readonly optimizer: Transform | Lbfgs | null;
  /** What it is, for tables: `sgd lr=0.05 momentum=0.9`. */
  readonly description: string;
  /** A short name for legends when it differs from the requested one ('default' → 'adam'). */
  readonly label?: string;
  /** Why it was skipped, or a remark (L-BFGS counts one iteration per step). */
  readonly note?: string;
}

export interface OptimizerSettings {
  lr?: number;
  /** Heavy-ball momentum for sgd (and rmsprop); `momentum` and `nesterov` default to 0.9. */
  momentum?: number;
}

/** The parameter constraints of a problem (stiefel, sphere, ...): L-BFGS cannot take them. */
export function constraintsOf(problem: Objective): string[] {
  return [...new Set(Object.values(problem.params).flatMap((p) => (p.constraint ? [p.constraint.name] : [])))];
}

const fmt = (x: number) => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(Number(x.toPrecision(3))) : x.toExponential(2));

/**
 * Builds the optimizer `name` for `problem`. Without an explicit lr: the problem's default optimizer when
 * it is of the same family (its lr is tuned to the problem: 1/L for the quadratic kinds, a plateau
 * schedule for λ_min), else the problem default's lr for sgd-like names, else 0.01 (1 for L-BFGS).
 */
/**
 * Heavy ball: sgd with momentum (3 scalars per step), alone or behind gradient preconditioners that
 * write no scalars (the svd default scales U's and V's gradients by 1/σ_max² first).
 */
const isHeavyBall = (t: Transform | undefined): boolean => {
  const parts = t?.name.split('+') ?? [];
  return parts[parts.length - 1] === 'sgd' && parts.slice(0, -1).every((p) => p === 'scaleEach') && t!.scalarCount === 3;
};

export function pickOptimizer(name: string, problem: Objective, settings: OptimizerSettings = {}): OptimizerChoice {
  const base = problem.defaults?.optimizer?.();
  const baseLr = base?.lr?.(1);
  const { lr, momentum } = settings;
  const sgdLr = lr ?? (base?.name === 'sgd' && baseLr !== undefined ? baseLr : 0.01);
  const withLr = (d: string, x: number) => `${d} lr=${fmt(x)}`;
  switch (name as OptimizerName) {
    case 'default': {
      if (!base) return { optimizer: adam({ lr: 0.01 }), description: 'adam lr=0.01 (default)', label: 'adam' };
      // sgd with momentum keeps a buffer and writes 3 scalars per step
      const heavyBall = isHeavyBall(base);
      return {
        optimizer: base,
        description: `${base.name}${baseLr !== undefined ? ` lr=${fmt(baseLr)}` : ''}${heavyBall ? ' with momentum' : ''} (problem default)`,
        label: heavyBall ? 'momentum' : base.name,
      };
    }
    case 'sgd':
      if (momentum) return { optimizer: sgd({ lr: sgdLr, momentum }), description: `${withLr('sgd', sgdLr)} momentum=${momentum}` };
      return { optimizer: sgd({ lr: sgdLr }), description: withLr('sgd', sgdLr) };
    case 'momentum':
    case 'nesterov': {
      // the problem's own heavy ball, preconditioners included, when nothing overrides it
      if (name === 'momentum' && lr === undefined && momentum === undefined && isHeavyBall(base) && base!.name !== 'sgd')
        return { optimizer: base!, description: `${base!.name} with momentum (problem default)` };
      const mu = momentum ?? 0.9;
      const nesterov = name === 'nesterov';
      return { optimizer: sgd({ lr: sgdLr, momentum: mu, nesterov }), description: `${withLr('sgd', sgdLr)} momentum=${mu}${nesterov ? ' nesterov' : ''}` };
    }
    case 'adam':
      if (lr === undefined && base?.name === 'adam') return { optimizer: base, description: `adam lr=${fmt(baseLr ?? 1e-3)} (problem default)` };
      return { optimizer: adam({ lr: lr ?? 0.01 }), description: withLr('adam', lr ?? 0.01) };
    case 'adamw':
      return { optimizer: adamw({ lr: lr ?? 0.01 }), description: withLr('adamw', lr ?? 0.01) };
    case 'rmsprop':
      return { optimizer: rmsprop({ lr: lr ?? 0.01, momentum: momentum ?? 0 }), description: `${withLr('rmsprop', lr ?? 0.01)}${momentum ? ` momentum=${momentum}` : ''}` };
    case 'adagrad':
      return { optimizer: adagrad({ lr: lr ?? 0.01 }), description: withLr('adagrad', lr ?? 0.01) };
    case 'lbfgs': {
      const constraints = constraintsOf(problem);
      const description = `${withLr('lbfgs', lr ?? 1)} strong-Wolfe`;
      if (constraints.length) return { optimizer: null, description, note: `skipped: L-BFGS takes no constraints (${constraints.join(', ')})` };
      // one L-BFGS iteration per step, so steps compare with the other optimizers'; torch's default
      // tolerances (1e-7 / 1e-9) would stop it near loss 1e-10, far above float64's reach
      return {
        optimizer: lbfgs({ lr: lr ?? 1, maxIter: 1, historySize: 10, toleranceGrad: 1e-30, toleranceChange: 1e-30 }),
        description,
        note: '1 iteration + line search per step',
      };
    }
    default:
      throw new MatgradError(`unknown optimizer '${name}'; use one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
}
