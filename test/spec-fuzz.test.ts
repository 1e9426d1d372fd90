// Seeded fuzzing of problem specs: valid specs of every kind and source, each mutated once (a field
// deleted, replaced by a wrong type, NaN, ±Infinity, a negative, fractional or huge number, garbage, an
// extra field, an emptied or grown array). Every mutant must either be accepted (mg.problem returns and a
// 2-step solve completes) or be refused with a MatgradSpecError that names the mutated path (or a field
// checked together with it). Never a TypeError, RangeError or any other error.
// Another seed: MATGRAD_FUZZ_SEED=7 npx vitest run test/spec-fuzz.test.ts
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { MatgradSpecError } from '../src/index.js';
import { npyBytes, tempFiles } from './helpers/files.js';

const SEED = Number(process.env.MATGRAD_FUZZ_SEED ?? 13);
const MUTANTS = 320;

const files = tempFiles('matgrad-fuzz-');
files.write('m.json', JSON.stringify({ shape: [2, 2], data: [2, 1, 1, 3] }));
files.write('m.csv', '# a symmetric matrix\n4,1,0\n1,3,1\n0,1,2\n');
files.write('m.npy', npyBytes('<f8', [2, 3, 3], new Float64Array([3, 1, 0, 1, 2, 0, 0, 0, 1, 2, 0, 0, 0, 3, 1, 0, 1, 4])));

mg.registerObjective('fuzz-quadratic', () => mg.objective({ x: mg.param([3], { init: 'normal', seed: 1 }) }, ({ x }) => mg.sum(mg.square(mg.sub(x, 1)))));

const BASES: Record<string, unknown>[] = [
  { kind: 'inverse', matrix: [[2, 1], [1, 3]], side: 'left', loss: 'mse', init: { init: 'uniform', seed: 2, scale: 1 } },
  { kind: 'inverse', matrix: [[[2, 1], [1, 3]], [[1, 0], [0, 2]]], side: 'right' },
  { kind: 'inverse', matrix: { eye: 3, batch: [2] }, loss: 'fro', name: 'eye' },
  { kind: 'inverse', matrix: { random: { shape: [3, 3], seed: 1, dist: 'normal', shift: 2 } }, imag: { eye: 3 } },
  { kind: 'inverse', matrix: { file: 'm.json' }, dtype: 'float32' },
  { kind: 'svd', matrix: { diagonal: [3, 2, 1] }, rank: 1, parametrization: 'stiefel' },
  { kind: 'svd', matrix: { random: { shape: [4, 3], seed: 1, dist: 'normal' } }, parametrization: 'factors', weight: 1, init: { init: 'normal', seed: 3, scale: 0.5 } },
  { kind: 'svd', matrix: { file: 'm.npy' } },
  { kind: 'lambda-min', n: 3, trace: 2, k: 1, batch: [2], parametrization: 'cholesky', init: { init: 'normal', seed: 1, scale: 1 } },
  { kind: 'lambda-min', n: 4, parametrization: 'spectrahedron' },
  { kind: 'eigenvector', matrix: { diagonal: [1, 2, 3] }, which: 'smallest', target: [[1], [1], [0]], loss: 'align', gradient: 'implicit' },
  { kind: 'eigenvector', matrix: { file: 'm.csv' }, which: 1, loss: 'mse', gradient: 'closed-form' },
  { kind: 'custom', objective: 'fuzz-quadratic', options: { n: 3 }, dtype: 'float64' },
];

/** Groups of fields checked together (side 'both' needs a square matrix, rank ≤ min(m, n), ...). */
const COUPLED: Record<string, string[][]> = {
  inverse: [['matrix', 'imag', 'side'], ['imag', 'init']],
  svd: [['matrix', 'rank']],
  'lambda-min': [['n', 'k', 'batch']],
  eigenvector: [['matrix', 'which', 'target']],
};

const BAD: unknown[] = [
  null, true, 'x', '', {}, [], [[]], [[[]]], NaN, Infinity, -Infinity, -1, 0, 0.5, 1.5, 1e9, 2 ** 53, -1e300,
  { garbage: { deep: [1, 'x'] } }, [1, 'a'], [[1, 2], [3]], [[1, 2], [3, 4]], { eye: 2 }, { file: 'missing.csv' }, 'float16',
];

type Path = (string | number)[];
const fmt = (p: Path) => p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');

/** Every path in a JSON-like value (objects and arrays, not the root). */
function paths(v: unknown, base: Path = []): Path[] {
  if (v === null || typeof v !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return keys.flatMap((k) => [[...base, k], ...paths((v as Record<string | number, unknown>)[k], [...base, k])]);
}

interface Mutant {
  spec: Record<string, unknown>;
  path: string;
  what: string;
}

function mutate(base: Record<string, unknown>, next: () => number): Mutant {
  const spec = structuredClone(base);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const all = paths(spec);
  const target = pick(all);
  const parent = target.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, spec);
  const key = target[target.length - 1];
  const value = parent[key];
  const r = next();
  if (r < 0.15) {
    // delete a field (or an array element)
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return { spec, path: fmt(target), what: `delete ${fmt(target)}` };
  }
  if (r < 0.25 && value !== null && typeof value === 'object') {
    // an extra field in an object, an extra or no element in an array
    if (Array.isArray(value)) {
      if (next() < 0.5) value.length = 0;
      else value.push(pick(BAD));
      return { spec, path: fmt(target), what: `resize ${fmt(target)} to ${JSON.stringify(value)}` };
    }
    (value as Record<string, unknown>).extra = pick(BAD);
    return { spec, path: fmt([...target, 'extra']), what: `add ${fmt(target)}.extra` };
  }
  if (r < 0.4 && typeof value === 'number') {
    const v = pick([0, -value, value + 0.5, value * 1e9, Number.MAX_SAFE_INTEGER, value - 1]);
    parent[key] = v;
    return { spec, path: fmt(target), what: `${fmt(target)} = ${v}` };
  }
  const v = pick(BAD);
  parent[key] = v;
  return { spec, path: fmt(target), what: `${fmt(target)} = ${typeof v === 'number' ? String(v) : JSON.stringify(v)}` };
}

/** True when an issue at `issue` is about the mutated `path`: the same field, one inside it, or one containing it. */
function names(issue: string, path: string, kind: unknown): boolean {
  const inside = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  if (inside(issue, path) || inside(path, issue)) return true;
  const top = (p: string) => p.split(/[.[]/)[0];
  if (issue === '') return !/[.[]/.test(path); // a root-level issue (unknown or missing field, wrong kind)
  return (COUPLED[String(kind)] ?? []).some((group) => group.includes(top(issue)) && group.includes(top(path)));
}

describe(`spec fuzzing (seed ${SEED}, ${MUTANTS} mutants)`, () => {
  it('every mutant is accepted and runs, or is refused with a MatgradSpecError naming its path', async () => {
    const next = mg.rng(SEED);
    const outcomes = { accepted: 0, refused: 0 };
    for (let i = 0; i < MUTANTS; i++) {
      const base = BASES[i % BASES.length];
      const m = mutate(base, next);
      const label = `#${i} ${String(base.kind)}: ${m.what}`;
      let problem: mg.Objective;
      try {
        problem = mg.problem(m.spec, { baseDir: files.dir });
      } catch (e) {
        expect(e, label).toBeInstanceOf(MatgradSpecError);
        const issues = (e as MatgradSpecError).issues.map((i) => i.path);
        expect(issues.some((p) => names(p, m.path, m.spec.kind)), `${label}: issues at ${JSON.stringify(issues)}`).toBe(true);
        outcomes.refused++;
        continue;
      }
      const r = await lastValueFrom(mg.solve(problem, { steps: 2, reportEvery: 1 })).catch((e: unknown) => e);
      expect(r, `${label}: the run threw ${String(r)}`).toMatchObject({ done: true });
      outcomes.accepted++;
    }
    // both outcomes are exercised (a fuzzer that only produced one would test half the contract)
    expect(outcomes.accepted).toBeGreaterThan(MUTANTS / 10);
    expect(outcomes.refused).toBeGreaterThan(MUTANTS / 3);
  });
});
