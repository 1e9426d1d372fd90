// Chart end labels never overlap, and curves start at step 0 (the loss the runs started from).
import { lastValueFrom, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { labelWidth, lossCurvesSvg, placeLabels } from '../src/report/plot.js';
import { initialLoss, Recorder } from '../src/report/record.js';

/** Seeded uniform [0, 1). */
const rand = (seed: number) => mg.rng(seed);
const overlaps = (a: { x: number; w: number; y: number }, b: { x: number; w: number; y: number }, gap: number) =>
  a.x < b.x + b.w && b.x < a.x + a.w && Math.abs(a.y - b.y) < gap - 1e-9;

describe('placeLabels', () => {
  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i: no two boxes overlap; free labels stay where wanted', (seed) => {
    const r = rand(seed);
    const n = 2 + Math.floor(r() * 12);
    // clustered ends (many curves stopping at the same step and loss), and some scattered ones
    const wanted = Array.from({ length: n }, () => ({ x: r() < 0.5 ? 500 : r() * 600, w: 20 + r() * 120, y: r() < 0.5 ? 200 + r() * 10 : r() * 400 }));
    const ys = placeLabels(wanted, 15, 8, 392);
    const boxes = wanted.map((b, i) => ({ ...b, y: ys[i] }));
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(overlaps(boxes[i], boxes[j], 15), `${i} vs ${j}`).toBe(false);
    // a label that meets no other box keeps its own y (clamped to the band)
    boxes.forEach((b, i) => {
      if (wanted.every((o, j) => j === i || !(o.x < b.x + b.w && b.x < o.x + o.w))) expect(b.y).toBeCloseTo(Math.min(Math.max(wanted[i].y, 8), 392), 9);
    });
  });

  it('more labels than the band holds still get distinct rows', () => {
    const wanted = Array.from({ length: 30 }, () => ({ x: 100, w: 50, y: 50 }));
    const ys = placeLabels(wanted, 15, 40, 60);
    const sorted = [...ys].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBeGreaterThanOrEqual(15 - 1e-9);
  });
});

describe('loss-curve charts', () => {
  it.each([
    ['ten curves ending at one point', ['sgd', 'momentum', 'adam', 'lbfgs', 'adamw', 'rmsprop', 'adagrad', 'nesterov', 'WWWWWW', 'mmmmmmmm'], () => 300],
    // a long label reaching over a short neighbour onto the next one (the eigenvector chart's case)
    ['ends a few steps apart under a long label', ['a-rather-long-label', 'b', 'cc', 'd', 'momentum'], (k: number) => 270 + 8 * k],
  ])('%s: the drawn labels do not overlap', async (_what, names, endStep) => {
    const svg = await lossCurvesSvg(names.map((name, k) => ({ name, points: [{ step: 0, loss: 1 }, { step: endStep(k), loss: 1e-14 * (1 + k * 1e-3) }] })));
    const attr = (tag: string, a: string) => Number(new RegExp(` ${a}="([\\d.]+)"`).exec(tag)?.[1]);
    const labels = [...svg.matchAll(/<text([^>]*font-weight="bold"[^>]*)>([^<]+)<\/text>/g)]
      .map((m) => ({ name: m[2], x: attr(m[1], 'x'), y: attr(m[1], 'y'), w: labelWidth(m[2]) }))
      .filter((l) => names.includes(l.name));
    expect(labels.every((l) => Number.isFinite(l.x) && Number.isFinite(l.y))).toBe(true);
    expect(labels.map((l) => l.name).sort()).toEqual([...names].sort());
    for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) expect(overlaps(labels[i], labels[j], 15), `${labels[i].name} vs ${labels[j].name}`).toBe(false);
  });

  it('a run recorded with its initial loss starts its curve at step 0 with that loss', async () => {
    const problem = mg.problem({ kind: 'inverse', matrix: [[4, 1], [2, 3]] });
    const start = initialLoss(problem);
    expect(start).toBeGreaterThan(0);
    const rec = new Recorder({ id: 'x', title: 'x', problem: 'x', steps: 500 }, [{ name: 'adam', description: 'adam' }], { initialLoss: start });
    rec.start();
    await lastValueFrom(mg.solve(problem, { optimizer: mg.optimizers.adam({ lr: 0.05 }), steps: 500, reportEvery: 50 }).pipe(tap((e) => rec.add({ ...e, run: 'adam' }))));
    const points = rec.finish().runs[0].points;
    expect(points[0]).toEqual({ step: 0, loss: start });
    expect(points[1].step).toBe(50);
    // the first step's loss is the loss at the start: reporting every step shows the same number
    const first = await lastValueFrom(mg.solve(problem, { optimizer: mg.optimizers.adam({ lr: 0.05 }), steps: 1, reportEvery: 1 }));
    expect(first.loss).toBeCloseTo(start!, 12);
  });
});
