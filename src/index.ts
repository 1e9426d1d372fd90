// The public API of matgrad: everything users import comes through here.
export * from './autograd/api.js';
export { COMPLEX_DTYPES, type ComplexDType, type DType, DTYPES, type FloatArray } from './autograd/dtype.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';
export { backward, grad, type ValueAndGrad, valueAndGrad } from './autograd/grad.js';
export { jit } from './autograd/jit.js';
export { type OpName, opNames, OPS } from './autograd/ops.js';
export {
  type CreateOptions,
  eye,
  fromArray,
  full,
  type NestedArray,
  ones,
  type RandomOptions,
  random,
  rng,
  scalar,
  Tensor,
  type TensorLike,
  tensor,
  zeros,
} from './autograd/tensor.js';
export type { Backend, BackendStats, Executable } from './backends/backend.js';
export { cpu } from './backends/cpu/index.js';
export {
  describeAdapterInfo,
  WebGpuBackend,
  type WebGpuOptions,
  webgpuBackend,
  webgpuBackend as webgpu,
} from './backends/webgpu/index.js';
export * from './errors.js';
export { LIMITS } from './limits.js';
export * as optimizers from './optimizers/index.js';
export * as schedules from './optimizers/schedules.js';
export {
  type AnyParams,
  type Init,
  initialValues,
  type Objective,
  objective,
  type ParamSpec,
  type Params,
  param,
} from './problems/objective.js';
export {
  type CompareEvent,
  type CompareSummary,
  compare,
  type Progress,
  type RunStatus,
  type SolveEvent,
  type SolveOptions,
  type SolveResult,
  Run,
  solve,
} from './solve.js';
export { formatPath, parseSpec, type ProblemSpec, problem, problemKinds, registeredObjectives, registerObjective, specSchema } from './problems/index.js';
export * as report from './report/plot.js';
import * as plotModule from './report/plot.js';
export * as linalg from './linalg/index.js';
export { type CustomRootOptions, customRoot } from './autograd/implicit.js';

/** `mg.plot.lossCurves(series)`: loss curves as an SVG string (Node) or an element (browser); `toPng` for Node. */
export const plot = { lossCurves: plotModule.lossCurves, svg: plotModule.lossCurvesSvg, toPng: plotModule.svgToPng };
