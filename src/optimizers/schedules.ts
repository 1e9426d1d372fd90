import { checkOptionsObject, keysOf } from '../check.js';
import { MatgradError } from '../errors.js';
import { checkNumber, type Schedule } from './transform.js';

// Learning-rate schedules with torch.optim.lr_scheduler semantics. `step` counts completed optimizer
// steps (the scheduler's last_epoch when it is stepped once per optimizer step).

export const constant = (lr: number): Schedule => {
  checkNumber('constant', 'lr', lr, { min: 0 });
  return () => lr;
};

/** StepLR: lr·γ^⌊step/stepSize⌋. */
/** The options object of schedule `name` with its known keys and a learning rate ≥ 0. */
function scheduleOptions<T extends { lr: number }>(name: string, opts: T, keys: readonly string[]): T {
  const o = checkOptionsObject<T>(`schedules.${name}`, opts, keys) as T;
  checkNumber(`schedules.${name}`, 'lr', o.lr, { min: 0 });
  return o;
}

export function step(options: { lr: number; stepSize: number; gamma?: number }): Schedule {
  const opts = scheduleOptions('step', options, ['lr', 'stepSize', 'gamma']);
  const { lr, stepSize, gamma = 0.1 } = opts;
  checkNumber('schedules.step', 'gamma', gamma, { min: 0 });
  checkNumber('schedules.step', 'stepSize', stepSize, { min: 1, integer: true });
  return (t) => lr * gamma ** Math.floor(t / stepSize);
}

/** ExponentialLR: lr·γ^step. */
export function exponential(options: { lr: number; gamma: number }): Schedule {
  const opts = scheduleOptions('exponential', options, ['lr', 'gamma']);
  checkNumber('schedules.exponential', 'gamma', opts.gamma, { min: 0 });
  return (t) => opts.lr * opts.gamma ** t;
}

/** CosineAnnealingLR: ηmin + (lr − ηmin)(1 + cos(π·step/T))/2. */
export function cosine(options: { lr: number; tMax: number; etaMin?: number }): Schedule {
  const { lr, tMax, etaMin = 0 } = scheduleOptions('cosine', options, ['lr', 'tMax', 'etaMin']);
  checkNumber('schedules.cosine', 'etaMin', etaMin, { min: 0 });
  checkNumber('schedules.cosine', 'tMax', tMax, { min: 1 });
  return (t) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

/** LinearLR (linear warmup): lr·(start + (end − start)·min(step, totalIters)/totalIters). */
export function linear(options: { lr: number; startFactor?: number; endFactor?: number; totalIters?: number }): Schedule {
  const { lr, startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = scheduleOptions('linear', options, ['lr', 'startFactor', 'endFactor', 'totalIters']);
  checkNumber('schedules.linear', 'startFactor', startFactor, { min: 0 });
  checkNumber('schedules.linear', 'endFactor', endFactor, { min: 0 });
  checkNumber('schedules.linear', 'totalIters', totalIters, { min: 1, integer: true });
  return (t) => lr * (startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters);
}

/** Warmup for `warmupSteps` linearly from 0, then `after` (a schedule, shifted to start at 0). */
export function warmup(options: { lr: number; warmupSteps: number; after?: Schedule }): Schedule {
  const opts = scheduleOptions('warmup', options, ['lr', 'warmupSteps', 'after']);
  if (opts.after !== undefined && typeof opts.after !== 'function') throw new MatgradError('schedules.warmup: after must be a schedule (a function of the step)');
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
const PLATEAU_OPTIONS = keysOf<PlateauOptions>({ lr: 1, mode: 1, factor: 1, patience: 1, threshold: 1, thresholdMode: 1, cooldown: 1, minLr: 1, eps: 1 });

export function reduceOnPlateau(options: PlateauOptions): Schedule {
  const opts = scheduleOptions('reduceOnPlateau', options, PLATEAU_OPTIONS);
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
