// A subset of the random programs on WebGPU (float32): outputs, loss and gradients of one compiled
// plan against the float64 plain-JS reference and its finite differences, with float32 tolerances.
import { describe, it } from 'vitest';
import * as mg from '../src/index.js';
import { expectClose, inputsOf, lossMg, lossRef, numericalGrads, randomProgram, runMg, runRef, toTensor } from './helpers/random-programs.js';
import { noteSkip, runFloat32, webgpuForTests } from './helpers/webgpu.js';

const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('webgpu-random-programs.test.ts', reason);

const PROGRAMS = 30;

describe.skipIf(!gpu)('random programs on WebGPU (float32)', () => {
  it.each(Array.from({ length: PROGRAMS }, (_, i) => i))('program %i', async (seed) => {
    const p = randomProgram(seed);
    const xs = inputsOf(p, seed);
    const results = await runFloat32(gpu!, xs.map((x) => toTensor(x, 'float32')), (...a) => {
      const { value, grads } = mg.valueAndGrad((...b: mg.Tensor[]) => lossMg(p, b))(...a);
      return [...runMg(p, a), value, ...grads];
    });
    const ref = runRef(p, xs);
    const expected = [...ref.map((r) => r.data), [lossRef(p, xs)], ...numericalGrads(p, xs)];
    // float32 through a few ops: errors relative to each result's magnitude
    expected.forEach((e, k) => {
      const scale = 1 + Math.max(...e.map(Math.abs));
      expectClose(results[k], e, () => 1e-3 * scale, `result ${k} of ${JSON.stringify(p)}`);
    });
  });
});
