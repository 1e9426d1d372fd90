// Every problem kind's defaults (optimizer, step size, tolerance) on hostile matrices: the run ends
// converged / max-steps / stalled, never diverged because of a default; dtype options and tolerances.
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { noteSkip, webgpuForTests } from './helpers/webgpu.js';

const scaled = (M: number[][], s: number) => M.map((r) => r.map((v) => v * s));
const random = [
  [0.3, -1.2, 0.5],
  [0.8, 0.1, -0.7],
  [-0.4, 0.9, 1.1],
];
/** name, matrix, whether it is invertible (an inverse of a singular matrix cannot converge). */
const MATRICES: [string, number[][], boolean][] = [
  ['I', scaled([[1, 0, 0], [0, 1, 0], [0, 0, 1]], 1), true],
  ['diagonal', [[3, 0, 0], [0, 2, 0], [0, 0, 0.5]], true],
  ['zero', scaled(random, 0), false],
  ['rank-deficient', [[1, 2, 3], [2, 4, 6], [1, 0, 1]], false],
  ['random', random, true],
  ['1e-8 · random', scaled(random, 1e-8), true],
  ['1e8 · random', scaled(random, 1e8), true],
  ['1e8 · diagonal with a repeated value', [[1e8, 0, 0], [0, 1e8, 0], [0, 0, 3e8]], true],
];
/** kind settings, and whether the default must converge on every matrix its kind can solve. */
const KINDS: [string, Record<string, unknown>, (invertible: boolean) => boolean][] = [
  ['inverse (left, mse)', { kind: 'inverse' }, (inv) => inv],
  ['inverse (right)', { kind: 'inverse', side: 'right' }, (inv) => inv],
  ['inverse (both, fro)', { kind: 'inverse', side: 'both', loss: 'fro' }, (inv) => inv],
  ['inverse (complex)', { kind: 'inverse', imagScale: 0.5 }, (inv) => inv],
  ['svd (stiefel)', { kind: 'svd' }, () => true],
  ['svd (stiefel, rank 2)', { kind: 'svd', rank: 2 }, () => true],
  ['svd (stiefel, rank 1)', { kind: 'svd', rank: 1 }, () => true],
  ['svd (factors)', { kind: 'svd', parametrization: 'factors' }, () => false],
  ['eigenvector (implicit)', { kind: 'eigenvector' }, () => false],
  ['eigenvector (closed form, largest)', { kind: 'eigenvector', which: 'largest', gradient: 'closed-form' }, () => false],
];

function specFor(settings: Record<string, unknown>, matrix: number[][]) {
  const { imagScale, ...rest } = settings;
  return { ...rest, matrix, ...(imagScale ? { imag: scaled(matrix, imagScale as number).map((r) => r.reverse()) } : {}) };
}

describe('problem defaults on I, diagonal, zero, rank-deficient, badly scaled and random matrices', () => {
  const cases = KINDS.flatMap(([kind, settings, mustConverge]) => MATRICES.map(([name, matrix, invertible]) => [`${kind} on ${name}`, specFor(settings, matrix), mustConverge(invertible)] as const));
  it.each(cases)('%s', async (_, spec, mustConverge) => {
    const problem = mg.problem(spec);
    const lr = problem.defaults?.optimizer?.().lr?.(1);
    expect(Number.isFinite(lr)).toBe(true);
    expect(Number.isFinite(problem.defaults?.tolerance)).toBe(true);
    const r = await lastValueFrom(mg.solve(problem, { reportEvery: 5000 }));
    expect(r.done && r.status).toMatch(mustConverge ? /^converged$/ : /^(converged|max-steps|stalled)$/);
    expect(Number.isFinite(r.loss)).toBe(true);
  });

  it.each([
    ['n = 1', { n: 1 }],
    ['n = 5, k = 2', { n: 5, k: 2 }],
    ['trace 1e-8', { n: 4, trace: 1e-8 }],
    ['trace 1e8, spectrahedron', { n: 4, trace: 1e8, parametrization: 'spectrahedron' }],
  ])('lambda-min (%s) converges to (trace/n)·I', async (_, settings) => {
    const spec = { kind: 'lambda-min' as const, ...settings };
    const r = await lastValueFrom(mg.solve(mg.problem(spec), { reportEvery: 5000 }));
    expect(r.done && r.status).toBe('converged');
    const trace = (settings as { trace?: number }).trace ?? 1;
    expect(Math.abs(r.metrics.gap) / trace).toBeLessThan(1e-6);
  });
});

describe('dtype: solve(p, { dtype }) and tolerances that follow it', () => {
  const specs: [string, Record<string, unknown>][] = [
    ['inverse', { kind: 'inverse', matrix: random }],
    ['complex inverse', { kind: 'inverse', matrix: random, imag: scaled(random, 0.5) }],
    ['svd', { kind: 'svd', matrix: random }],
    ['eigenvector', { kind: 'eigenvector', matrix: random }],
    ['lambda-min', { kind: 'lambda-min', n: 3 }],
  ];
  it.each(specs)("%s runs in float32 on the CPU and converges at float32's tolerance", async (_, spec) => {
    const problem = mg.problem(spec);
    const r = await lastValueFrom(mg.solve(problem, { dtype: 'float32', reportEvery: 5000 }));
    expect(r.done && r.status).toBe('converged');
    for (const p of Object.values(r.done ? r.params : {})) expect(p.dtype).toMatch(/float32|complex64/);
  });
  it.each(specs)('%s: the float32 tolerance is the float64 one scaled by (eps32/eps64)² (or eps for lambda-min)', (name, spec) => {
    const t64 = mg.problem({ ...spec, dtype: 'float64' }).defaults!.tolerance!;
    const t32 = mg.problem({ ...spec, dtype: 'float32' }).defaults!.tolerance!;
    const optimum = mg.problem(spec).optimum ?? 0;
    // relative to the optimum: the excess the run must reach
    const ratio = (t32 - optimum) / (t64 - optimum);
    // (svd: σ_max itself is computed in the dtype, so the ratio is exact only to float32 precision)
    expect(ratio / (name === 'lambda-min' ? 2 ** 14.5 : 2 ** 58)).toBeCloseTo(1, 5);
  });
  it('a float32 solve of a float32 spec does not rebuild it, and a float64 one does', async () => {
    const p32 = mg.problem({ kind: 'inverse', matrix: random, dtype: 'float32' });
    const r = await lastValueFrom(mg.solve(p32, { dtype: 'float64', steps: 10, reportEvery: 10 }));
    expect(r.done && r.params.X.dtype).toBe('float64');
  });
});

const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('problem-defaults.test.ts', reason);
describe('dtype on WebGPU', () => {
  it.skipIf(!gpu)('an inverse with its default optimizer converges in float32 on WebGPU (float32 tolerance)', async () => {
    const problem = mg.problem({ kind: 'inverse', matrix: { random: { shape: [4, 4], seed: 2, shift: 2 } } });
    const r = await lastValueFrom(mg.solve(problem, { backend: 'webgpu', reportEvery: 500 }));
    expect(r.done && r.backend).toMatch(/^webgpu \(/);
    expect(r.done && r.status).toBe('converged');
    expect(r.done && r.params.X.dtype).toBe('float32');
  });
});
