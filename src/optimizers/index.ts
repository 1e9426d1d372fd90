export { type AdagradOptions, adagrad } from './adagrad.js';
export { type AdamOptions, adam, adamw } from './adam.js';
export { clipByGlobalNorm, clipByValue } from './clip.js';
export * as constraints from './constraints.js';
export { type Lbfgs, type LbfgsOptions, LbfgsProgram, lbfgs } from './lbfgs.js';
export { type Constraint, type LossFn, StepProgram, type StepProgramOptions, type StepWatch } from './program.js';
export { type RmspropOptions, rmsprop } from './rmsprop.js';
export { type SgdOptions, sgd } from './sgd.js';
export { chain, type ScalarOrSchedule, type Schedule, type Transform, type UpdateArgs, type UpdateResult } from './transform.js';
