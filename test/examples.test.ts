import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as customObjective from '../examples/custom-objective.js';
import * as inverseRandomVsDiagonal from '../examples/inverse-random-vs-diagonal.js';
import * as pipeline from '../examples/pipeline.js';

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
});
