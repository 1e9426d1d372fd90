export { type AdamOptions, adam, adamw } from './adam.js';
export { type LossFn, StepProgram, type StepProgramOptions } from './program.js';
export { type SgdOptions, sgd } from './sgd.js';
export {
  chain,
  type Schedule,
  type ScalarOrSchedule,
  type Transform,
  type UpdateArgs,
  type UpdateResult,
} from './transform.js';
