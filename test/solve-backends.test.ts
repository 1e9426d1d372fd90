import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { noteSkip, requireWebGpu, webgpuForTests } from './helpers/webgpu.js';

const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('solve-backends.test.ts', reason);

describe('solve() backend selection', () => {
  it.runIf(requireWebGpu)('an adapter exists (required in CI)', () => {
    expect(gpu, reason).not.toBeNull();
  });
  it.skipIf(!gpu)("'webgpu' runs a spec in float32 on the adapter and reports it", async () => {
    const problem = mg.problem({ kind: 'inverse', matrix: { random: { shape: [4, 4], seed: 2, shift: 2 } } });
    const r = await lastValueFrom(mg.solve(problem, { backend: 'webgpu', optimizer: mg.optimizers.sgd({ lr: 0.5, momentum: 0.9 }), steps: 2000, reportEvery: 500 }));
    expect(r.done && r.backend).toMatch(/^webgpu \(/);
    expect(r.done && r.params.X.dtype).toBe('float32');
    expect(r.done && r.metrics.relativeError).toBeLessThan(1e-5);
  });
  it.skipIf(!gpu)("'auto' falls back to the CPU for ops without WGSL kernels (customRoot's host-side solver)", async () => {
    const spec = { kind: 'eigenvector', matrix: { random: { shape: [4, 4], seed: 1 } }, gradient: 'implicit' } as const;
    const r = await lastValueFrom(mg.solve(mg.problem(spec), { backend: 'auto', steps: 50, reportEvery: 50 }));
    expect(r.done && r.backend).toBe('cpu');
    expect(r.done && r.status).toMatch(/max-steps|converged/);
  });
  it.skipIf(!gpu)("'auto' runs linear algebra on the adapter (eigvalsh: lambda-min)", async () => {
    const r = await lastValueFrom(mg.solve(mg.problem({ kind: 'lambda-min', n: 4 }), { backend: 'auto', steps: 50, reportEvery: 50 }));
    expect(r.done && r.backend).toMatch(/^webgpu \(/);
    expect(r.done && r.status).toBe('max-steps');
  });
  it("'cpu' is the default and is reported", async () => {
    const r = await lastValueFrom(mg.solve(mg.problem({ kind: 'inverse', matrix: { eye: 2 } }), { steps: 10, reportEvery: 10 }));
    expect(r.done && r.backend).toBe('cpu');
  });
  it('an unknown backend is a clear error', () => {
    expect(() => new mg.Run(mg.problem({ kind: 'inverse', matrix: { eye: 2 } }), { backend: 'tpu' as never })).toThrow(/unknown backend "tpu"/);
  });
});
