import * as F from '../autograd/api.js';
import { checkNumber, type Transform } from './transform.js';

/**
 * torch.nn.utils.clip_grad_norm_ as a transform: scales all gradients by min(1, maxNorm/(‖g‖₂ + 1e-6)),
 * the norm taken over every parameter together. Put it first in a chain.
 */
export function clipByGlobalNorm(maxNorm: number): Transform {
  checkNumber('clipByGlobalNorm', 'maxNorm', maxNorm, { min: 0 });
  return {
    name: 'clipByGlobalNorm',
    slots: () => [],
    scalarCount: 0,
    writeScalars() {},
    update({ grads }) {
      const norm = F.sqrt(grads.map((g) => F.sum(F.square(g))).reduce((a, b) => F.add(a, b)));
      const coef = F.minimum(F.div(maxNorm, F.add(norm, 1e-6)), 1);
      return { updates: grads.map((g) => F.mul(g, coef)), state: grads.map(() => []) };
    },
  };
}

/** torch.nn.utils.clip_grad_value_ as a transform: clamps every gradient entry to [−clip, clip]. */
export function clipByValue(clip: number): Transform {
  checkNumber('clipByValue', 'clip', clip, { min: 0 });
  return {
    name: 'clipByValue',
    slots: () => [],
    scalarCount: 0,
    writeScalars() {},
    update({ grads }) {
      return { updates: grads.map((g) => F.minimum(F.maximum(g, -clip), clip)), state: grads.map(() => []) };
    },
  };
}
