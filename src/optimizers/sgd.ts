import * as F from '../autograd/api.js';
import { checkOptionsObject, keysOf } from '../check.js';
import { MatgradError } from '../errors.js';
import { checkNumber, checkRate, type ScalarOrSchedule, scheduleHooks, type Transform, valueAt } from './transform.js';

export interface SgdOptions {
  lr?: ScalarOrSchedule;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
}

/**
 * torch.optim.SGD: d = ±g + wd·p; with momentum, b = d on the first step, then b = μb + (1−τ)d;
 * nesterov uses d + μb; p ← p − lr·d. (Heavy ball: `{ momentum: 0.9 }`.)
 */
const SGD_OPTIONS = keysOf<SgdOptions>({ lr: 1, momentum: 1, dampening: 1, nesterov: 1, weightDecay: 1, maximize: 1 });

export function sgd(options?: SgdOptions): Transform {
  const opts = checkOptionsObject<SgdOptions>('sgd', options, SGD_OPTIONS);
  const lr = checkRate('sgd', 'lr', opts.lr ?? 1e-3);
  const momentum = checkNumber('sgd', 'momentum', opts.momentum ?? 0, { min: 0 });
  const dampening = checkNumber('sgd', 'dampening', opts.dampening ?? 0);
  const weightDecay = checkNumber('sgd', 'weightDecay', opts.weightDecay ?? 0, { min: 0 });
  const nesterov = !!opts.nesterov;
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new MatgradError('sgd: nesterov momentum requires a momentum and zero dampening');
  }
  const maximize = !!opts.maximize;
  return {
    name: 'sgd',
    slots: () => (momentum ? [{ name: 'momentumBuffer', init: 0 }] : []),
    // scalars: lr, then (momentum only) the buffer's decay and the new direction's weight
    scalarCount: momentum ? 3 : 1,
    writeScalars(t, out, o) {
      out[o] = valueAt(lr, t - 1);
      if (momentum) {
        out[o + 1] = t === 1 ? 0 : momentum;
        out[o + 2] = t === 1 ? 1 : 1 - dampening;
      }
    },
    update({ grads, params, state, scalars: [lrT, decay, weight] }) {
      const updates = [];
      const next = [];
      for (let i = 0; i < grads.length; i++) {
        let d = maximize ? F.neg(grads[i]) : grads[i];
        if (weightDecay) d = F.add(d, F.mul(params[i], weightDecay));
        if (momentum) {
          const buf = F.add(F.mul(state[i][0], decay), F.mul(d, weight));
          d = nesterov ? F.add(d, F.mul(buf, momentum)) : buf;
          next.push([buf]);
        } else next.push([]);
        updates.push(F.neg(F.mul(d, lrT)));
      }
      return { updates, state: next };
    },
    ...scheduleHooks(lr, (rate) => sgd({ ...opts, lr: rate })),
  };
}
