import type { TensorInfo } from '../autograd/node.js';
import type { Tensor } from '../autograd/tensor.js';
import { checkNumber } from '../check.js';

/**
 * A learning rate (or other hyperparameter) that changes with the step: `step` counts completed steps.
 * A schedule value is a description that any number of runs may share. One with state (reacting to
 * the loss, like reduce-on-plateau) has `start()`: every run steps its own started copy.
 */
export interface Schedule {
  (step: number): number;
  /** A fresh copy with its own state, for one run (stateful schedules only). */
  start?(): Schedule;
  /** On a started copy: gets every step's loss (schedules that react to it). */
  observe?(loss: number): void;
}
export type ScalarOrSchedule = number | Schedule;

export interface UpdateArgs {
  /** Incoming updates: the gradients for the first transform of a chain. */
  readonly grads: readonly Tensor[];
  readonly params: readonly Tensor[];
  /** Per parameter, this transform's state slots in `slots` order. */
  readonly state: readonly (readonly Tensor[])[];
  /** This transform's per-step host scalars, in `scalars` order, as one-element tensors. */
  readonly scalars: readonly Tensor[];
}
export interface UpdateResult {
  /** Added to the parameters (or passed to the next transform of a chain). */
  readonly updates: readonly Tensor[];
  readonly state: readonly (readonly Tensor[])[];
}

/**
 * A pure gradient transformation (optax-style). Its update is written with matgrad ops, so it is
 * traced into the step program and fused with everything else: one loop (or dispatch) per parameter.
 */
export interface Transform {
  readonly name: string;
  /** Per-parameter state slots with their initial fill value (or 'param': a copy of the parameter). */
  slots(param: TensorInfo): readonly { readonly name: string; readonly init: number | 'param' }[];
  /** How many host scalars `writeScalars` fills. */
  readonly scalarCount: number;
  /** Writes this step's scalars (t = 1-based step number) at `offset`. Must not allocate. */
  writeScalars(t: number, out: Float64Array, offset: number): void;
  update(args: UpdateArgs): UpdateResult;
  /** The learning rate used at 1-based step t (for progress reports). */
  lr?(t: number): number;
  /**
   * A copy with fresh host-side state (its schedules started), for one run. A transform value is a
   * description that runs may share: each run (StepProgram) steps `startTransform(tx)`.
   */
  start?(): Transform;
  /** On a started copy: gets each step's loss (schedules that watch it). */
  observe?(loss: number): void;
}

/** The per-run copy of a transform (itself when it keeps no host-side state). */
export const startTransform = (tx: Transform): Transform => tx.start?.() ?? tx;

/** The per-run copy of a rate (itself when it is a number or a stateless schedule). */
export const startRate = (v: ScalarOrSchedule): ScalarOrSchedule => (typeof v === 'function' ? (v.start?.() ?? v) : v);

/**
 * lr reporting and schedule hooks shared by every optimizer with a (possibly scheduled) lr: `start`
 * rebuilds the optimizer (`withRate`) around a started copy of its rate.
 */
export function scheduleHooks(
  lr: ScalarOrSchedule,
  withRate: (lr: ScalarOrSchedule) => Transform,
): Pick<Transform, 'lr' | 'start' | 'observe'> {
  const observe = typeof lr === 'function' ? lr.observe?.bind(lr) : undefined;
  return {
    lr: (t) => valueAt(lr, t - 1),
    ...(typeof lr === 'function' && lr.start ? { start: () => withRate(startRate(lr)) } : {}),
    ...(observe ? { observe } : {}),
  };
}

export const valueAt = (v: ScalarOrSchedule, step: number): number => (typeof v === 'number' ? v : v(step));

// numeric option checks live with the other argument checks (src/check.ts); optimizers import them from here
export { checkNumber };
export function checkRate(owner: string, name: string, v: unknown): ScalarOrSchedule {
  if (typeof v === 'function') return v as Schedule;
  return checkNumber(owner, name, v, { min: 0 });
}

/** Applies transforms in order: each one's updates are the next one's gradients. */
export function chain(...transforms: Transform[]): Transform {
  const offsets = transforms.map((_, i) => transforms.slice(0, i).reduce((s, t) => s + t.scalarCount, 0));
  return {
    name: transforms.map((t) => t.name).join('+'),
    slots: (p) => transforms.flatMap((t, i) => t.slots(p).map((s) => ({ ...s, name: `${i}.${s.name}` }))),
    scalarCount: transforms.reduce((s, t) => s + t.scalarCount, 0),
    writeScalars(t, out, offset) {
      transforms.forEach((tr, i) => tr.writeScalars(t, out, offset + offsets[i]));
    },
    update({ grads, params, state, scalars }) {
      let updates = grads;
      const next: Tensor[][] = params.map(() => []);
      const at = params.map(() => 0); // per parameter: where this transform's slots start
      transforms.forEach((tr, i) => {
        const mine = state.map((s, j) => s.slice(at[j], (at[j] += tr.slots(params[j]).length)));
        const own = scalars.slice(offsets[i], offsets[i] + tr.scalarCount);
        const r = tr.update({ grads: updates, params, state: mine, scalars: own });
        updates = r.updates;
        r.state.forEach((s, j) => next[j].push(...s));
      });
      return { updates, state: next };
    },
    lr: (t) => transforms.map((tr) => tr.lr?.(t)).find((v) => v !== undefined) ?? Number.NaN,
    ...(transforms.some((t) => t.start) ? { start: () => chain(...transforms.map(startTransform)) } : {}),
    ...(transforms.some((t) => t.observe) ? { observe: (loss: number) => transforms.forEach((t) => t.observe?.(loss)) } : {}),
  };
}
