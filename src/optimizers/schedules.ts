import { MatgradError } from '../errors.js';
import { checkNumber, type Schedule } from './transform.js';

// Learning-rate schedules with torch.optim.lr_scheduler semantics. `step` counts completed optimizer
// steps (the scheduler's last_epoch when it is stepped once per optimizer step).

export const constant = (lr: number): Schedule => {
  checkNumber('constant', 'lr', lr, { min: 0 });
  return () => lr;
};

/** StepLR: lr·γ^⌊step/stepSize⌋. */
export function step(opts: { lr: number; stepSize: number; gamma?: number }): Schedule {
  const { lr, stepSize, gamma = 0.1 } = opts;
  checkNumber('schedules.step', 'stepSize', stepSize, { min: 1, integer: true });
  return (t) => lr * gamma ** Math.floor(t / stepSize);
}

/** ExponentialLR: lr·γ^step. */
export function exponential(opts: { lr: number; gamma: number }): Schedule {
  return (t) => opts.lr * opts.gamma ** t;
}

/** CosineAnnealingLR: ηmin + (lr − ηmin)(1 + cos(π·step/T))/2. */
export function cosine(opts: { lr: number; tMax: number; etaMin?: number }): Schedule {
  const { lr, tMax, etaMin = 0 } = opts;
  checkNumber('schedules.cosine', 'tMax', tMax, { min: 1 });
  return (t) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

/** LinearLR (linear warmup): lr·(start + (end − start)·min(step, totalIters)/totalIters). */
export function linear(opts: { lr: number; startFactor?: number; endFactor?: number; totalIters?: number }): Schedule {
  const { lr, startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = opts;
  checkNumber('schedules.linear', 'totalIters', totalIters, { min: 1, integer: true });
  return (t) => lr * (startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters);
}

/** Warmup for `warmupSteps` linearly from 0, then `after` (a schedule, shifted to start at 0). */
export function warmup(opts: { lr: number; warmupSteps: number; after?: Schedule }): Schedule {
  const { lr, warmupSteps, after } = opts;
  checkNumber('schedules.warmup', 'warmupSteps', warmupSteps, { min: 1, integer: true });
  const s: Schedule = (t) => (t < warmupSteps ? (lr * (t + 1)) / warmupSteps : after ? after(t - warmupSteps) : lr);
  // a stateful `after` makes warmup stateful: each run starts its own copy of it
  if (after?.start) s.start = () => warmup({ ...opts, after: after.start!() });
  if (after?.observe) s.observe = after.observe.bind(after);
  return s;
}

export interface PlateauOptions {
  lr: number;
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number;
  eps?: number;
}

/**
 * ReduceLROnPlateau. The value is a description (its lr is `opts.lr`); each run steps its own started
 * copy, fed every step's loss through `observe` (StepProgram does this).
 */
export function reduceOnPlateau(opts: PlateauOptions): Schedule {
  if ((opts.factor ?? 0.1) >= 1) throw new MatgradError('reduceOnPlateau: factor must be < 1');
  const s: Schedule = () => opts.lr;
  s.start = () => plateauRun(opts);
  return s;
}

/** One run's ReduceLROnPlateau state. */
function plateauRun(opts: PlateauOptions): Schedule {
  const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8 } = opts;
  let lr = opts.lr;
  let best = mode === 'min' ? Infinity : -Infinity;
  let bad = 0;
  let cooldownLeft = 0;
  const better = (a: number) => {
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  };
  const s: Schedule = () => lr;
  s.start = () => plateauRun(opts);
  s.observe = (metric) => {
    if (better(metric)) {
      best = metric;
      bad = 0;
    } else bad++;
    if (cooldownLeft > 0) {
      cooldownLeft--;
      bad = 0;
    }
    if (bad > patience) {
      const next = Math.max(lr * factor, minLr);
      if (lr - next > eps) lr = next;
      cooldownLeft = cooldown;
      bad = 0;
    }
  };
  return s;
}
