import { readFileSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { MatgradSpecError } from '../src/index.js';
import { schemaText } from '../scripts/schema.js';

const run = async (spec: mg.ProblemSpec, opts: mg.SolveOptions = {}) => {
  const r = await lastValueFrom(mg.solve(mg.problem(spec), { reportEvery: 1000, ...opts }));
  if (!r.done) throw new Error('run did not finish');
  return r;
};

describe('every problem kind reaches its optimum with its default optimizer (CPU, float64)', () => {
  it('inverse: relative error < 1e-6 (random 4×4, batched, non-square left inverse)', async () => {
    for (const spec of [
      { kind: 'inverse', matrix: { random: { shape: [4, 4], seed: 1 } } },
      { kind: 'inverse', matrix: { random: { shape: [3, 4, 4], seed: 2, shift: 1 } } },
      { kind: 'inverse', matrix: { random: { shape: [6, 4], seed: 3, shift: 1 } }, loss: 'fro' },
      { kind: 'inverse', matrix: { diagonal: [1, 2, 3, 4] }, side: 'both' },
    ] as mg.ProblemSpec[]) {
      const r = await run(spec);
      expect(r.metrics.relativeError, JSON.stringify(spec)).toBeLessThan(1e-6);
    }
  });
  it('inverse of a complex matrix (matrix + i·imag): square, batched right inverse, non-square, float32 → complex64', async () => {
    for (const spec of [
      { kind: 'inverse', matrix: { random: { shape: [4, 4], seed: 1 } }, imag: { random: { shape: [4, 4], seed: 2 } } },
      { kind: 'inverse', matrix: { random: { shape: [2, 3, 3], seed: 3, shift: 1 } }, imag: { random: { shape: [2, 3, 3], seed: 4 } }, side: 'right' },
      { kind: 'inverse', matrix: { random: { shape: [5, 3], seed: 5, shift: 1 } }, imag: { random: { shape: [5, 3], seed: 6 } }, loss: 'fro' },
    ] as mg.ProblemSpec[]) {
      const r = await run(spec);
      expect(r.metrics.relativeError, JSON.stringify(spec)).toBeLessThan(1e-6);
      // X is held as the interleaved view of the complex inverse: it solves X·M = I
      const X = mg.viewAsComplex(r.params.X);
      expect(X.shape).toEqual([...(spec as { matrix: { random: { shape: number[] } } }).matrix.random.shape.slice(0, -2), ...(spec as { matrix: { random: { shape: number[] } } }).matrix.random.shape.slice(-2).reverse()]);
    }
    const f32 = mg.problem({ kind: 'inverse', dtype: 'float32', matrix: { random: { shape: [3, 3], seed: 1, shift: 1 } }, imag: { eye: 3 } });
    expect(mg.initialValues(f32).X.dtype).toBe('float32');
  });
  for (const n of [4, 16]) {
    it(`lambda-min: |λ_min − 1/n| < 1e-6 for n = ${n}`, async () => {
      const r = await run({ kind: 'lambda-min', n });
      expect(Math.abs(r.metrics.lambdaMin - 1 / n)).toBeLessThan(1e-6);
      expect(r.metrics.spread).toBeLessThan(1e-5);
    });
  }
  it('lambda-min on the spectrahedron (Riemannian) and with a trace of 3', async () => {
    const r = await run({ kind: 'lambda-min', n: 4, parametrization: 'spectrahedron', trace: 3 });
    expect(Math.abs(r.metrics.lambdaMin - 3 / 4)).toBeLessThan(1e-6);
  });
  it('svd: singular values relative error < 1e-6 (16×12, and rank 3 of 8×6 at the Eckart–Young optimum)', async () => {
    const full = await run({ kind: 'svd', matrix: { random: { shape: [16, 12], seed: 3, dist: 'normal' } } });
    expect(full.metrics.singularValueError).toBeLessThan(1e-6);
    expect(full.metrics.orthogonality).toBeLessThan(1e-10);
    const batched = await run({ kind: 'svd', matrix: { random: { shape: [3, 6, 4], seed: 2, dist: 'normal' } } });
    expect(batched.metrics.singularValueError).toBeLessThan(1e-6);
    const low = await run({ kind: 'svd', matrix: { random: { shape: [8, 6], seed: 3 } }, rank: 3 });
    expect(low.metrics.singularValueError).toBeLessThan(1e-6);
    expect(Math.abs(low.metrics.excessOverBest)).toBeLessThan(1e-8);
  });
  it('svd with the blog factor loss is supported (and is why stiefel is the default)', async () => {
    const r = await run({ kind: 'svd', matrix: { random: { shape: [16, 12], seed: 3, dist: 'normal' } }, parametrization: 'factors' }, { steps: 2000 });
    expect(r.metrics.singularValueError).toBeGreaterThan(1e-6);
  });
  it('eigenvector: angle < 1e-6, implicit and closed-form, batched', async () => {
    for (const spec of [
      { kind: 'eigenvector', matrix: { random: { shape: [4, 4], seed: 5 } } },
      { kind: 'eigenvector', matrix: { random: { shape: [4, 4], seed: 5 } }, gradient: 'closed-form', which: 'largest' },
      { kind: 'eigenvector', matrix: { random: { shape: [5, 4, 4], seed: 5 } }, loss: 'mse', target: [[0], [1], [1], [0]] },
    ] as mg.ProblemSpec[]) {
      const r = await run(spec);
      expect(r.metrics.angle, JSON.stringify(spec)).toBeLessThan(1e-6);
    }
  });
  it('custom: a registered objective by name', async () => {
    mg.registerObjective('nearest-psd-diag', (opts) =>
      mg.objective({ d: mg.param([Number(opts.n ?? 3)], { init: 'normal', seed: 1 }) }, ({ d }) => mg.sum(mg.square(mg.sub(mg.square(d), 4)))),
    );
    const r = await run({ kind: 'custom', objective: 'nearest-psd-diag', options: { n: 3 } }, { optimizer: mg.optimizers.lbfgs({ toleranceChange: 1e-20, toleranceGrad: 1e-14 }), steps: 20 });
    expect(r.loss).toBeLessThan(1e-12);
  });
});

describe('matrix sources', () => {
  it('inline rows, batches, eye, diagonal, random, files', async () => {
    const shapes = [
      [[[1, 2], [3, 4]], [2, 2]],
      [[[[1, 0], [0, 1]], [[2, 0], [0, 2]]], [2, 2, 2]],
      [{ eye: 3 }, [3, 3]],
      [{ diagonal: [1, 2, 3], batch: [2] }, [2, 3, 3]],
      [{ random: { shape: [2, 5, 5], seed: 1 } }, [2, 5, 5]],
      [{ file: 'test/fixtures/matrix.csv' }, [3, 3]],
      [{ file: 'test/fixtures/matrix.json' }, [2, 2]],
      [{ file: 'test/fixtures/matrix.npy' }, [2, 3, 3]],
    ] as const;
    for (const [matrix, shape] of shapes) {
      const p = mg.problem({ kind: 'inverse', matrix, side: 'left' } as mg.ProblemSpec);
      expect(p.params.X.shape.slice(-2).reverse(), JSON.stringify(matrix)).toEqual(shape.slice(-2));
      expect(p.params.X.shape.slice(0, -2)).toEqual(shape.slice(0, -2));
    }
  });
});

// ≥ 50 malformed specs: each must name the failing field's path in the error.
const MALFORMED: [string, unknown, string][] = [
  ['not an object', 42, '(root)'],
  ['missing kind', { matrix: { eye: 2 } }, 'kind'],
  ['unknown kind', { kind: 'inv' }, 'kind'],
  ['kind not a string', { kind: 3 }, 'kind'],
  ['unknown field', { kind: 'inverse', matrix: { eye: 2 }, extra: 1 }, '(root)'],
  ['missing matrix', { kind: 'inverse' }, 'matrix'],
  ['matrix is a string', { kind: 'inverse', matrix: 'M' }, 'matrix'],
  ['empty matrix', { kind: 'inverse', matrix: [] }, 'matrix'],
  ['ragged rows', { kind: 'inverse', matrix: [[1, 2], [3]] }, 'matrix[1]'],
  ['non-number entry', { kind: 'inverse', matrix: [[1, 'x'], [3, 4]] }, 'matrix[0][1]'],
  ['ragged batch', { kind: 'inverse', matrix: [[[1, 2], [3, 4]], [[1]]] }, 'matrix[1]'],
  ['eye zero', { kind: 'inverse', matrix: { eye: 0 } }, 'matrix.eye'],
  ['eye fraction', { kind: 'inverse', matrix: { eye: 2.5 } }, 'matrix.eye'],
  ['eye negative', { kind: 'inverse', matrix: { eye: -3 } }, 'matrix.eye'],
  ['eye batch bad', { kind: 'inverse', matrix: { eye: 2, batch: [0] } }, 'matrix.batch[0]'],
  ['diagonal empty', { kind: 'inverse', matrix: { diagonal: [] } }, 'matrix.diagonal'],
  ['diagonal not numbers', { kind: 'inverse', matrix: { diagonal: [1, null] } }, 'matrix.diagonal[1]'],
  ['random shape negative', { kind: 'inverse', matrix: { random: { shape: [4, -1] } } }, 'matrix.random.shape[1]'],
  ['random shape 1-d', { kind: 'inverse', matrix: { random: { shape: [4] } } }, 'matrix.random.shape'],
  ['random shape fraction', { kind: 'inverse', matrix: { random: { shape: [4, 1.5] } } }, 'matrix.random.shape[1]'],
  ['random seed fraction', { kind: 'inverse', matrix: { random: { shape: [2, 2], seed: 0.5 } } }, 'matrix.random.seed'],
  ['random dist unknown', { kind: 'inverse', matrix: { random: { shape: [2, 2], dist: 'cauchy' } } }, 'matrix.random.dist'],
  ['random unknown field', { kind: 'inverse', matrix: { random: { shape: [2, 2], mean: 3 } } }, 'matrix.random'],
  ['source unknown key', { kind: 'inverse', matrix: { zeros: 3 } }, 'matrix'],
  ['file empty path', { kind: 'inverse', matrix: { file: '' } }, 'matrix.file'],
  ['side unknown', { kind: 'inverse', matrix: { eye: 2 }, side: 'up' }, 'side'],
  ['loss unknown', { kind: 'inverse', matrix: { eye: 2 }, loss: 'l1' }, 'loss'],
  ['both needs square', { kind: 'inverse', matrix: { random: { shape: [3, 2] } }, side: 'both' }, 'matrix'],
  ['imag shape differs', { kind: 'inverse', matrix: { eye: 2 }, imag: { eye: 3 } }, 'imag'],
  ['imag not a source', { kind: 'inverse', matrix: { eye: 2 }, imag: 'i' }, 'imag'],
  ['complex eye init', { kind: 'inverse', matrix: { eye: 2 }, imag: { eye: 2 }, init: { init: 'eye' } }, 'init.init'],
  ['dtype unknown', { kind: 'inverse', matrix: { eye: 2 }, dtype: 'float16' }, 'dtype'],
  ['name not string', { kind: 'inverse', matrix: { eye: 2 }, name: 5 }, 'name'],
  ['init unknown', { kind: 'inverse', matrix: { eye: 2 }, init: { init: 'xavier' } }, 'init.init'],
  ['init scale zero', { kind: 'inverse', matrix: { eye: 2 }, init: { scale: 0 } }, 'init.scale'],
  ['init seed string', { kind: 'inverse', matrix: { eye: 2 }, init: { seed: 'a' } }, 'init.seed'],
  ['init extra', { kind: 'inverse', matrix: { eye: 2 }, init: { init: 'zeros', std: 1 } }, 'init'],
  ['svd missing matrix', { kind: 'svd' }, 'matrix'],
  ['svd rank zero', { kind: 'svd', matrix: { eye: 3 }, rank: 0 }, 'rank'],
  ['svd rank too big', { kind: 'svd', matrix: { random: { shape: [4, 3] } }, rank: 4 }, 'rank'],
  ['svd parametrization', { kind: 'svd', matrix: { eye: 3 }, parametrization: 'qr' }, 'parametrization'],
  ['svd weight negative', { kind: 'svd', matrix: { eye: 3 }, weight: -1 }, 'weight'],
  ['svd unknown field', { kind: 'svd', matrix: { eye: 3 }, side: 'left' }, '(root)'],
  ['lambda-min missing n', { kind: 'lambda-min' }, 'n'],
  ['lambda-min n zero', { kind: 'lambda-min', n: 0 }, 'n'],
  ['lambda-min n string', { kind: 'lambda-min', n: '4' }, 'n'],
  ['lambda-min trace negative', { kind: 'lambda-min', n: 4, trace: -1 }, 'trace'],
  ['lambda-min parametrization', { kind: 'lambda-min', n: 4, parametrization: 'svd' }, 'parametrization'],
  ['lambda-min k too big', { kind: 'lambda-min', n: 4, k: 5 }, 'k'],
  ['lambda-min batch bad', { kind: 'lambda-min', n: 4, batch: [2, 0] }, 'batch[1]'],
  ['eigenvector not square', { kind: 'eigenvector', matrix: { random: { shape: [3, 4] } } }, 'matrix'],
  ['eigenvector which word', { kind: 'eigenvector', matrix: { eye: 3 }, which: 'middle' }, 'which'],
  ['eigenvector which negative', { kind: 'eigenvector', matrix: { eye: 3 }, which: -1 }, 'which'],
  ['eigenvector which too big', { kind: 'eigenvector', matrix: { eye: 3 }, which: 3 }, 'which'],
  ['eigenvector loss', { kind: 'eigenvector', matrix: { eye: 3 }, loss: 'l1' }, 'loss'],
  ['eigenvector gradient', { kind: 'eigenvector', matrix: { eye: 3 }, gradient: 'numeric' }, 'gradient'],
  ['eigenvector target ragged', { kind: 'eigenvector', matrix: { eye: 2 }, target: [[1], [2, 3]] }, 'target[1]'],
  ['custom missing objective', { kind: 'custom' }, 'objective'],
  ['custom unregistered', { kind: 'custom', objective: 'nope' }, 'objective'],
  ['custom options not object', { kind: 'custom', objective: 'x', options: 3 }, 'options'],
];

describe(`malformed specs (${MALFORMED.length}) name the failing path`, () => {
  it('has at least 50 cases', () => expect(MALFORMED.length).toBeGreaterThanOrEqual(50));
  for (const [what, spec, path] of MALFORMED) {
    it(what, () => {
      let err: unknown;
      try {
        mg.problem(spec);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MatgradSpecError);
      const issues = (err as MatgradSpecError).issues;
      expect(issues.map((i) => i.path)).toContain(path === '(root)' ? '' : path);
      expect((err as Error).message).toContain(`${path}: `);
    });
  }
  it('reports every problem at once', () => {
    try {
      mg.problem({ kind: 'inverse', matrix: { random: { shape: [0, 2] } }, side: 'up', loss: 'l1' });
    } catch (e) {
      expect((e as MatgradSpecError).issues.map((i) => i.path).sort()).toEqual(['loss', 'matrix.random.shape[0]', 'side']);
    }
  });
  it('a file that does not exist names the path and the file', () => {
    expect(() => mg.problem({ kind: 'inverse', matrix: { file: 'nope.csv' } })).toThrow(/matrix\.file: nope.csv: cannot be read/);
  });
});

describe('JSON Schema', () => {
  it('schema/problem.schema.json is current (regenerate: npx tsx scripts/schema.ts)', () => {
    expect(readFileSync(new URL('../schema/problem.schema.json', import.meta.url), 'utf8')).toBe(schemaText());
  });
  it('names every kind', () => {
    const text = schemaText();
    for (const k of mg.problemKinds) expect(text).toContain(`"${k}"`);
  });
});
