import * as F from '../autograd/api.js';
import { compile } from '../autograd/compile.js';
import { backward } from '../autograd/grad.js';
import { inputTensor, outputsOf } from '../autograd/jit.js';
import { fromArray, ones, type Tensor } from '../autograd/tensor.js';
import type { Backend, Executable } from '../backends/backend.js';
import { cpu } from '../backends/cpu/index.js';
import { MatgradError, MatgradShapeError } from '../errors.js';
import type { Transform } from './transform.js';

/** The loss as a function of the parameters; it may also return named metric tensors. */
export type LossFn = (...params: Tensor[]) => Tensor;

export interface StepProgramOptions {
  backend?: Backend;
  /** Also compute ‖∇‖₂ over all parameters each step (read with `gradNorm()`). Default true. */
  gradNorm?: boolean;
}

/**
 * One optimization step compiled as a single program: loss, gradients, the optimizer's update and
 * the parameter write-back, all in place over preallocated buffers. `run(n)` executes n steps with
 * no allocation; the loss read back is the one computed at the last step (before its update).
 */
export class StepProgram {
  /** Completed steps. */
  t = 0;
  private readonly exe: Executable;
  private readonly scalarBase: Float64Array;
  private readonly nParams: number;
  private readonly before: (step: number, scalars: Float64Array) => void;

  constructor(
    initial: readonly Tensor[],
    loss: LossFn,
    private readonly tx: Transform,
    opts: StepProgramOptions = {},
  ) {
    const backend = opts.backend ?? cpu;
    this.nParams = initial.length;
    initial.forEach((p, i) => {
      if (!p.isConcrete)
        throw new MatgradError(`step program: initial value of parameter ${i} must be a concrete tensor`);
    });
    const params = initial.map((p) => inputTensor(p.shape, p.dtype));
    const slotSpecs = initial.map((p) => tx.slots(p));
    const state = slotSpecs.map((specs, i) =>
      specs.map(() => inputTensor(initial[i].shape, initial[i].dtype)),
    );
    const dtype = initial[0]?.dtype ?? 'float64';
    const scalars = Array.from({ length: tx.scalarCount }, () => inputTensor([], dtype));

    const [value] = outputsOf('loss', loss(...params));
    if (value.size !== 1)
      throw new MatgradShapeError(`loss must be a scalar (1 element), got shape [${value.shape.join(', ')}]`);
    const grads = backward([value], [ones(value.shape, { dtype: value.dtype })], params).map(
      (g, i) => g ?? F.mul(params[i], 0),
    );
    const { updates, state: nextState } = tx.update({ grads, params, state, scalars });
    const newParams = params.map((p, i) => F.add(p, updates[i]));
    const norm =
      opts.gradNorm === false
        ? []
        : [F.sqrt(grads.map((g) => F.sum(F.square(g))).reduce((a, b) => F.add(a, b)))];
    const flatState = state.flat();
    const flatNext = nextState.flat();
    const inputs = [...params, ...flatState, ...scalars];
    const outputs = [F.reshape(value, []), ...norm, ...newParams, ...flatNext];
    const first = 1 + norm.length;
    const donate: [number, number][] = [
      ...newParams.map((_, i): [number, number] => [first + i, i]),
      ...flatNext.map((_, j): [number, number] => [first + params.length + j, params.length + j]),
    ];
    const stepScalars = scalars.map((_, k) => params.length + flatState.length + k);
    this.exe = backend.compile(compile(inputs, outputs, { donate, stepScalars }));

    initial.forEach((p, i) => this.exe.write(i, p.node.data!));
    let slot = params.length;
    slotSpecs.forEach((specs, i) =>
      specs.forEach((s) =>
        this.exe.write(
          slot++,
          s.init === 'param' ? initial[i].node.data! : new Float64Array(initial[i].size).fill(s.init),
        ),
      ),
    );
    this.scalarBase = new Float64Array(0);
    void this.scalarBase;
    this.outputs = { loss: 0, gradNorm: norm.length ? 1 : -1, params: first };
    this.shapes = initial.map((p) => p.shape);
    this.before = (step, out) => this.tx.writeScalars(this.t + step + 1, out, 0);
  }
  private readonly outputs: { loss: number; gradNorm: number; params: number };
  private readonly shapes: readonly (readonly number[])[];

  /** Runs `steps` optimization steps. */
  run(steps: number): void {
    this.exe.run(steps, this.before);
    this.t += steps;
  }
  /** Loss at the last step (computed before that step's update). */
  loss(): number {
    return this.exe.view(this.outputs.loss)[0];
  }
  gradNorm(): number {
    if (this.outputs.gradNorm < 0) throw new MatgradError('step program was compiled without gradNorm');
    return this.exe.view(this.outputs.gradNorm)[0];
  }
  /** Current parameter values (copies). */
  params(): Tensor[] {
    return this.shapes.map((s, i) => fromArray(this.exe.readSync(this.outputs.params + i), s));
  }
  /** The live parameter buffer (CPU; no copy). */
  paramView(i: number) {
    return this.exe.view(this.outputs.params + i);
  }
  get parameterCount(): number {
    return this.nParams;
  }
  dispose(): void {
    this.exe.dispose();
  }
}
