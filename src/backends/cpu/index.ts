import { allocArray, type FloatArray } from '../../autograd/dtype.js';
import type { Plan } from '../../autograd/plan.js';
import { MatgradError } from '../../errors.js';
import type { Backend, BackendStats, Executable } from '../backend.js';
import { generateStep } from './codegen.js';

/**
 * The CPU backend: a plan becomes one generated JS function whose loop runs whole steps over
 * preallocated typed arrays (shapes baked in, small loops unrolled): no allocation, no dispatch per op.
 */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  private live = 0;
  private allocated = 0;
  private bytes = 0;

  stats(): BackendStats {
    return { liveBuffers: this.live, allocations: this.allocated, liveBytes: this.bytes };
  }

  compile(plan: Plan): Executable {
    const buffers = plan.buffers.map((b) => {
      this.live++;
      this.allocated++;
      this.bytes += b.size * (b.dtype === 'float64' ? 8 : 4);
      return allocArray(b.dtype, b.size);
    });
    for (const c of plan.constants) buffers[c.buffer].set(c.data);
    const { prelude, body, hostFunctions } = generateStep(plan);
    const unpack = [
      ...buffers.map((_, i) => `const b${i} = B[${i}];`),
      ...hostFunctions.map((_, i) => `const f${i} = H[${i}];`),
    ].join('\n');
    const fill = plan.stepScalars.map((b, j) => `b${b}[0] = S[${j}];`).join(' ');
    const source = `${unpack}
const S = new Float64Array(${plan.stepScalars.length});
${prelude}
return function run(steps, before) {
  for (let step = 0; step < steps; step++) {
    if (before !== undefined) { if (before(step, S) === false) return step; ${fill} }
${body}
  }
  return steps;
};`;
    const run = new Function('B', 'H', source)(buffers, hostFunctions) as Executable['run'];
    let disposed = false;
    const check = () => {
      if (disposed) throw new MatgradError('this compiled program was disposed');
    };
    const outBuffer = (o: number): FloatArray => {
      check();
      const b = plan.outputs[o];
      if (b === undefined)
        throw new MatgradError(`read: program has ${plan.outputs.length} outputs, not ${o + 1}`);
      return buffers[b];
    };
    return {
      write: (i, values) => {
        check();
        const b = plan.inputs[i];
        if (b === undefined)
          throw new MatgradError(`write: program has ${plan.inputs.length} inputs, not ${i + 1}`);
        const target = buffers[b];
        if (values.length !== target.length) {
          throw new MatgradError(`write: input ${i} holds ${target.length} values, got ${values.length}`);
        }
        target.set(values);
      },
      run: (steps, before) => {
        check();
        return run(steps, before);
      },
      read: async (o) => outBuffer(o).slice(),
      readSync: (o) => outBuffer(o).slice(),
      view: (o) => outBuffer(o),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        for (const b of plan.buffers) {
          this.live--;
          this.bytes -= b.size * (b.dtype === 'float64' ? 8 : 4);
        }
      },
    };
  }
}

export const cpu = new CpuBackend();
