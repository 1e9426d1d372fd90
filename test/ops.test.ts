import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { CASES, inputsFor } from './cases.js';

describe('op table: gradcheck of every op (float64, random inputs)', () => {
  it('has a case for every op', () => {
    const missing = mg.opNames.filter((op) => mg.OPS[op].kind !== 'source' && !(CASES[op]?.length > 0));
    expect(missing).toEqual([]);
  });
  for (const op of mg.opNames) {
    for (const k of CASES[op]) {
      it(`${op}: ${k.name}`, () => {
        for (const seed of [1, 2]) {
          const r = mg.gradcheck(k.fn, inputsFor(k, seed), { seed, ...k.tol });
          expect(r.failures).toEqual([]);
          expect(r.ok).toBe(true);
        }
      });
    }
  }
});

describe('compiled programs agree with eager evaluation', () => {
  for (const op of mg.opNames) {
    for (const k of CASES[op]) {
      it(`${op}: ${k.name}`, () => {
        const xs = inputsFor(k, 3);
        const eager = [k.fn(...xs)].flat();
        const compiled = [mg.jit(k.fn)(...xs)].flat();
        eager.forEach((e, i) => {
          expect(compiled[i].shape).toEqual(e.shape);
          const a = compiled[i].dataSync();
          const b = e.dataSync();
          for (let j = 0; j < a.length; j++) expect(a[j]).toBeCloseTo(b[j], 12);
        });
      });
    }
  }
});
