import type { FloatArray } from '../../autograd/dtype.js';
import type { Plan } from '../../autograd/plan.js';
import { MatgradError } from '../../errors.js';
import type { Executable } from '../backend.js';

/** Checked access to a compiled plan's inputs and outputs: shared by every CPU executable. */
export function programIO(plan: Plan, buffers: readonly FloatArray[]) {
  let disposed = false;
  const check = (): void => {
    if (disposed) throw new MatgradError('this compiled program was disposed');
  };
  const output = (o: number): FloatArray => {
    check();
    const b = plan.outputs[o];
    if (b === undefined) throw new MatgradError(`read: program has ${plan.outputs.length} outputs, not ${o + 1}`);
    return buffers[b];
  };
  return {
    check,
    /** The buffer index of input `i`, after checking it holds `length` values. */
    input(i: number, length: number): number {
      check();
      const b = plan.inputs[i];
      if (b === undefined) throw new MatgradError(`write: program has ${plan.inputs.length} inputs, not ${i + 1}`);
      if (length !== buffers[b].length) {
        throw new MatgradError(`write: input ${i} holds ${buffers[b].length} values, got ${length}`);
      }
      return b;
    },
    read: async (o: number) => output(o).slice(),
    readSync: (o: number) => output(o).slice(),
    view: output,
    /** Marks the program disposed; false when it already was. */
    dispose(): boolean {
      if (disposed) return false;
      disposed = true;
      return true;
    },
  };
}

/**
 * `exe` behind a handle that lets go of it when disposed: the buffers, the WebAssembly memory and the
 * generated code of a program become garbage at dispose, even while its owner (a cancelled run still
 * awaiting its next turn, a result someone keeps) holds the handle. `onDispose` runs once.
 */
export function releasing(exe: Executable, onDispose: () => void): Executable {
  let live: Executable | null = exe;
  const get = (): Executable => {
    if (!live) throw new MatgradError('this compiled program was disposed');
    return live;
  };
  return {
    write: (i, values) => get().write(i, values),
    run: (steps, before, opts) => get().run(steps, before, opts),
    read: async (o) => get().read(o),
    readSync: (o) => get().readSync(o),
    view: (o) => get().view(o),
    dispose: () => {
      if (!live) return;
      const e = live;
      live = null;
      e.dispose();
      onDispose();
    },
  };
}
