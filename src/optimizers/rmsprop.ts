import * as F from '../autograd/api.js';
import { checkOptionsObject, keysOf } from '../check.js';
import type { Tensor } from '../autograd/tensor.js';
import { checkNumber, checkRate, type ScalarOrSchedule, scheduleHooks, type Transform, valueAt } from './transform.js';

export interface RmspropOptions {
  lr?: ScalarOrSchedule;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

/**
 * torch.optim.RMSprop: v = αv + (1−α)g²; centered subtracts the running mean of g squared;
 * denominator sqrt(·) + eps; with momentum b = μb + g/denom and p ← p − lr·b, else p ← p − lr·g/denom.
 */
const RMSPROP_OPTIONS = keysOf<RmspropOptions>({ lr: 1, alpha: 1, eps: 1, weightDecay: 1, momentum: 1, centered: 1, maximize: 1 });

export function rmsprop(options?: RmspropOptions): Transform {
  const opts = checkOptionsObject<RmspropOptions>('rmsprop', options, RMSPROP_OPTIONS);
  const lr = checkRate('rmsprop', 'lr', opts.lr ?? 1e-2);
  const alpha = checkNumber('rmsprop', 'alpha', opts.alpha ?? 0.99, { min: 0, max: 1 });
  const eps = checkNumber('rmsprop', 'eps', opts.eps ?? 1e-8, { min: 0 });
  const weightDecay = checkNumber('rmsprop', 'weightDecay', opts.weightDecay ?? 0, { min: 0 });
  const momentum = checkNumber('rmsprop', 'momentum', opts.momentum ?? 0, { min: 0 });
  const centered = !!opts.centered;
  const maximize = !!opts.maximize;
  return {
    name: 'rmsprop',
    slots: () => [
      { name: 'squareAvg', init: 0 },
      ...(momentum > 0 ? [{ name: 'momentumBuffer', init: 0 }] : []),
      ...(centered ? [{ name: 'gradAvg', init: 0 }] : []),
    ],
    scalarCount: 1,
    writeScalars(t, out, o) {
      out[o] = valueAt(lr, t - 1);
    },
    update({ grads, params, state, scalars: [lrT] }) {
      const updates: Tensor[] = [];
      const next: Tensor[][] = [];
      grads.forEach((g0, i) => {
        let g = maximize ? F.neg(g0) : g0;
        if (weightDecay) g = F.add(g, F.mul(params[i], weightDecay));
        const [sq0, ...rest] = state[i];
        const buf0 = momentum > 0 ? rest[0] : null;
        const gAvg0 = centered ? rest[momentum > 0 ? 1 : 0] : null;
        // addcmul order as in ATen: (value·g)·g
        const sq = F.add(F.mul(sq0, alpha), F.mul(F.mul(g, 1 - alpha), g));
        const gAvg = gAvg0 ? F.add(F.mul(gAvg0, alpha), F.mul(g, 1 - alpha)) : null;
        const avg = F.add(F.sqrt(gAvg ? F.sub(sq, F.mul(gAvg, gAvg)) : sq), eps);
        if (buf0) {
          const buf = F.add(F.mul(buf0, momentum), F.div(g, avg));
          updates.push(F.neg(F.mul(buf, lrT)));
          next.push(gAvg ? [sq, buf, gAvg] : [sq, buf]);
        } else {
          updates.push(F.neg(F.mul(F.div(g, avg), lrT)));
          next.push(gAvg ? [sq, gAvg] : [sq]);
        }
      });
      return { updates, state: next };
    },
    ...scheduleHooks(lr, (rate) => rmsprop({ ...opts, lr: rate })),
  };
}
