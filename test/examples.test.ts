import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as customObjective from '../examples/custom-objective.js';
import * as eigenvectorImplicit from '../examples/eigenvector-implicit.js';
import * as inverseRandomVsDiagonal from '../examples/inverse-random-vs-diagonal.js';
import * as lambdaMin from '../examples/lambda-min.js';
import * as mimoCapacity from '../examples/mimo-capacity.js';
import * as pipeline from '../examples/pipeline.js';
import * as svdByGradientDescent from '../examples/svd-by-gradient-descent.js';

// Every example runs here with fewer steps, so examples cannot rot.
describe('examples', () => {
  it('inverse-random-vs-diagonal: both converge and the chart is written', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'matgrad-ex-'));
    const r = await inverseRandomVsDiagonal.main({ steps: 10_000, out });
    expect(r.diagonal.status).toBe('converged');
    expect(r.random.status).toBe('converged');
    expect(r.random.step).toBeGreaterThan(r.diagonal.step); // the random matrix is worse conditioned
    expect(existsSync(path.join(out, 'inverse-random-vs-diagonal.png'))).toBe(true);
  });
  it('custom-objective: orthonormal columns and an exact square root', async () => {
    const r = await customObjective.main({ steps: 500 });
    expect(customObjective.orthogonalityError(r.nearestOrthogonal.params.Q)).toBeLessThan(1e-12);
    expect(r.sqrt.loss).toBeLessThan(1e-20);
  });
  it('pipeline: switchMap keeps only the last run, which converges', async () => {
    const finished = await pipeline.main({ count: 3, periodMs: 2, steps: 5000 });
    expect(finished.length).toBeGreaterThanOrEqual(1);
    expect(finished[finished.length - 1].status).toBe('converged');
  });
  it('svd-by-gradient-descent: stiefel reaches the singular values, the blog factor loss does not', async () => {
    const r = await svdByGradientDescent.main({ steps: 3000 });
    expect(r.stiefel.metrics.singularValueError).toBeLessThan(1e-6);
    expect(r.factors.metrics.singularValueError).toBeGreaterThan(1e-4);
  });
  it('mimo-capacity: Adam on a complex precoder raises the capacity and approaches a unitary P', async () => {
    const r = await mimoCapacity.main({ batch: 2000, steps: 100 });
    expect(r.result.status).not.toBe('diverged');
    expect(r.after).toBeGreaterThan(r.before + 1);
    expect(r.unitarity).toBeLessThan(0.05);
  });
  it('lambda-min: reaches I/n', async () => {
    const { result } = await lambdaMin.main({ n: 4, steps: 3000 });
    expect(Math.abs(result.metrics.lambdaMin - 0.25)).toBeLessThan(1e-6);
  });
  it('eigenvector-implicit: a batch aligns, and implicit = closed-form gradient', async () => {
    const { result, gap } = await eigenvectorImplicit.main({ batch: 8, steps: 1500 });
    expect(result.metrics.angle).toBeLessThan(1e-3);
    expect(gap).toBeLessThan(1e-12);
  });
});
