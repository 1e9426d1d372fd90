import * as F from '../autograd/api.js';
import { checkOptionsObject, keysOf } from '../check.js';
import type { Tensor } from '../autograd/tensor.js';
import { checkNumber, checkRate, type ScalarOrSchedule, scheduleHooks, type Transform, valueAt } from './transform.js';

export interface AdamOptions {
  lr?: ScalarOrSchedule;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

const ADAM_OPTIONS = keysOf<AdamOptions>({ lr: 1, betas: 1, eps: 1, weightDecay: 1, amsgrad: 1, maximize: 1 });

function adamLike(name: 'adam' | 'adamw', options: AdamOptions | undefined, decoupled: boolean): Transform {
  const opts = checkOptionsObject<AdamOptions>(name, options, ADAM_OPTIONS);
  const lr = checkRate(name, 'lr', opts.lr ?? 1e-3);
  const [b1, b2] = opts.betas ?? [0.9, 0.999];
  checkNumber(name, 'betas[0]', b1, { min: 0, max: 1 });
  checkNumber(name, 'betas[1]', b2, { min: 0, max: 1 });
  const eps = checkNumber(name, 'eps', opts.eps ?? 1e-8, { min: 0 });
  const weightDecay = checkNumber(name, 'weightDecay', opts.weightDecay ?? (decoupled ? 1e-2 : 0), {
    min: 0,
  });
  const amsgrad = !!opts.amsgrad;
  const maximize = !!opts.maximize;
  return {
    name,
    slots: () => [
      { name: 'expAvg', init: 0 },
      { name: 'expAvgSq', init: 0 },
      ...(amsgrad ? [{ name: 'maxExpAvgSq', init: 0 }] : []),
    ],
    // scalars: lr, lr / (1 − β1ᵗ), sqrt(1 − β2ᵗ)
    scalarCount: 3,
    writeScalars(t, out, o) {
      const rate = valueAt(lr, t - 1);
      out[o] = rate;
      out[o + 1] = rate / (1 - b1 ** t);
      out[o + 2] = Math.sqrt(1 - b2 ** t);
    },
    update({ grads, params, state, scalars: [lrT, stepSize, bc2Sqrt] }) {
      const updates: Tensor[] = [];
      const next: Tensor[][] = [];
      grads.forEach((g0, i) => {
        const p = params[i];
        let g = maximize ? F.neg(g0) : g0;
        // Adam adds wd·p to the gradient; AdamW shrinks the parameter by lr·wd·p instead
        if (!decoupled && weightDecay) g = F.add(g, F.mul(p, weightDecay));
        const m = F.add(F.mul(state[i][0], b1), F.mul(g, 1 - b1));
        // addcmul order as in ATen: (value·g)·g
        const v = F.add(F.mul(state[i][1], b2), F.mul(F.mul(g, 1 - b2), g));
        const vMax = amsgrad ? F.maximum(state[i][2], v) : v;
        const denom = F.add(F.div(F.sqrt(vMax), bc2Sqrt), eps);
        const step = F.neg(F.mul(F.div(m, denom), stepSize));
        updates.push(decoupled && weightDecay ? F.sub(step, F.mul(p, F.mul(lrT, weightDecay))) : step);
        next.push(amsgrad ? [m, v, vMax] : [m, v]);
      });
      return { updates, state: next };
    },
    ...scheduleHooks(lr, (rate) => adamLike(name, { ...opts, lr: rate }, decoupled)),
  };
}

/** torch.optim.Adam (L2 weight decay added to the gradient; amsgrad keeps the running max of v). */
export const adam = (opts?: AdamOptions): Transform => adamLike('adam', opts, false);
/** torch.optim.AdamW: decoupled weight decay p ← p(1 − lr·wd), default wd 1e-2. */
export const adamw = (opts?: AdamOptions): Transform => adamLike('adamw', opts, true);
