import * as F from '../autograd/api.js';
import { checkOptionsObject, keysOf } from '../check.js';
import type { Tensor } from '../autograd/tensor.js';
import { checkNumber, checkRate, type ScalarOrSchedule, scheduleHooks, type Transform, valueAt } from './transform.js';

export interface AdagradOptions {
  lr?: ScalarOrSchedule;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
  maximize?: boolean;
}

/** torch.optim.Adagrad: s += g²; p ← p − clr·g/(sqrt(s) + eps) with clr = lr / (1 + (t−1)·lrDecay). */
const ADAGRAD_OPTIONS = keysOf<AdagradOptions>({ lr: 1, lrDecay: 1, weightDecay: 1, initialAccumulatorValue: 1, eps: 1, maximize: 1 });

export function adagrad(options?: AdagradOptions): Transform {
  const opts = checkOptionsObject<AdagradOptions>('adagrad', options, ADAGRAD_OPTIONS);
  const lr = checkRate('adagrad', 'lr', opts.lr ?? 1e-2);
  const lrDecay = checkNumber('adagrad', 'lrDecay', opts.lrDecay ?? 0, { min: 0 });
  const weightDecay = checkNumber('adagrad', 'weightDecay', opts.weightDecay ?? 0, { min: 0 });
  const init = checkNumber('adagrad', 'initialAccumulatorValue', opts.initialAccumulatorValue ?? 0, { min: 0 });
  const eps = checkNumber('adagrad', 'eps', opts.eps ?? 1e-10, { min: 0 });
  const maximize = !!opts.maximize;
  return {
    name: 'adagrad',
    slots: () => [{ name: 'sum', init }],
    scalarCount: 1,
    writeScalars(t, out, o) {
      out[o] = valueAt(lr, t - 1) / (1 + (t - 1) * lrDecay);
    },
    update({ grads, params, state, scalars: [clr] }) {
      const updates: Tensor[] = [];
      const next: Tensor[][] = [];
      grads.forEach((g0, i) => {
        let g = maximize ? F.neg(g0) : g0;
        if (weightDecay) g = F.add(g, F.mul(params[i], weightDecay));
        const sum = F.add(state[i][0], F.mul(g, g));
        updates.push(F.neg(F.mul(F.div(g, F.add(F.sqrt(sum), eps)), clr)));
        next.push([sum]);
      });
      return { updates, state: next };
    },
    ...scheduleHooks(lr, (rate) => adagrad({ ...opts, lr: rate })),
  };
}
