// The report writer on a small comparison, the charts, the tables and the progress views.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { markdownTable, num, textTable } from '../src/report/format.js';
import { pickOptimizer } from '../src/report/optimizers.js';
import { lossCurvesSvg, svgToPng } from '../src/report/plot.js';
import { progressView } from '../src/report/progress.js';
import { type ProblemRecord, pickWinner, Recorder, summaryTable } from '../src/report/record.js';
import { writeReport } from '../src/report/write.js';

const NAMES = ['sgd', 'momentum', 'adam', 'lbfgs'];

/** A real comparison on a 2×2 inverse, recorded the way `matgrad start` records it. */
async function smallComparison(): Promise<ProblemRecord> {
  const spec = { kind: 'inverse', matrix: [[4, 1], [2, 3]] } as const;
  const problem = mg.problem(spec);
  const choices = NAMES.map((n) => ({ name: n, ...pickOptimizer(n, problem) }));
  const recorder = new Recorder(
    { id: 'inverse-2x2', title: 'inverse of a 2×2', problem: problem.name, spec, steps: 2000, tolerance: 1e-20, optimum: problem.optimum, keyMetric: 'relativeError' },
    choices.map((c) => ({ name: c.name, description: c.description, note: c.note })),
  );
  recorder.start();
  await lastValueFrom(mg.compare(Object.fromEntries(choices.map((c) => [c.name, c.optimizer!])), problem, { steps: 2000, tolerance: 1e-20, reportEvery: 20 }).pipe(tap((e) => recorder.add(e))));
  return recorder.finish();
}

let dir: string;
let rec: ProblemRecord;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'matgrad-report-'));
  rec = await smallComparison();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report', () => {
  it('records every run: curve, status, steps to tolerance, own time; picks the winner', () => {
    expect(rec.runs.map((r) => r.name)).toEqual(NAMES);
    for (const r of rec.runs) {
      expect(r.status).toBe('converged');
      expect(r.points.length).toBeGreaterThan(0);
      expect(r.stepsToTolerance).toBe(r.steps);
      expect(r.timeMs).toBeGreaterThan(0);
      expect(r.metrics.relativeError).toBeLessThan(1e-6);
    }
    const fewest = rec.runs.reduce((a, b) => (b.stepsToTolerance! < a.stepsToTolerance! ? b : a));
    expect(rec.winner).toBe(fewest.name);
  });

  it('writes SVG + PNG charts, index.html with the charts inline and the tables, and summary.json', async () => {
    const files = await writeReport(dir, [rec], { title: 'test report', totalMs: 123 });
    expect(files.map((f) => path.basename(f)).sort()).toEqual(['index.html', 'inverse-2x2.png', 'inverse-2x2.svg', 'summary.json']);

    const svg = readFileSync(path.join(dir, 'inverse-2x2.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('step'); // x axis label
    expect(svg).toContain('loss'); // y axis label
    expect(svg).toContain('inverse of a 2×2'); // title
    for (const n of NAMES) expect(svg).toMatch(new RegExp(`>${n}</text>`));

    const png = readFileSync(path.join(dir, 'inverse-2x2.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(statSync(path.join(dir, 'inverse-2x2.png')).size).toBeGreaterThan(20_000); // text and lines, not a blank page
    expect(statSync(path.join(dir, 'inverse-2x2.png')).size).toBeLessThan(2_000_000);
    expect(png.readUInt32BE(16)).toBe(1520); // IHDR width: 760 px at 2×
    expect(png.readUInt32BE(20)).toBe(920);

    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<h1>test report</h1>');
    expect(html.match(/<svg/g)?.length).toBe(1); // the chart, inline
    expect(html).toContain('>lbfgs</text>');
    expect(html.match(/<table>/g)?.length).toBe(2); // the summary and the problem's table
    expect(html).toContain('<th>optimizer</th>');
    expect(html).toContain('class="winner"');
    expect(html).toContain(`Winner: ${rec.winner}`);
    expect(html).toContain('href="inverse-2x2.png"');

    const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    expect(summary.totalMs).toBe(123);
    expect(summary.machine.cpus).toBeGreaterThan(0);
    const p = summary.problems[0];
    expect(p.winner).toBe(rec.winner);
    expect(p.runs.map((r: { name: string }) => r.name)).toEqual(NAMES);
    expect(p.runs[0].curve[0]).toHaveLength(2);
    expect(p.runs[0].stepsToTolerance).toBeGreaterThan(0);
  });

  it('charts: labels that would collide are pushed apart; a log axis with nothing positive says so', async () => {
    const same = [
      { name: 'first', points: [{ step: 10, loss: 1e-3 }, { step: 100, loss: 1e-6 }] },
      { name: 'second', points: [{ step: 10, loss: 1e-3 }, { step: 100, loss: 1e-6 }] },
    ];
    const svg = await lossCurvesSvg(same, { title: 't' });
    // the end-of-curve labels are the bold ones (the legend's are not); attribute order is the serializer's
    const labelY = (n: string) => Number(/ y="([\d.]+)"/.exec(new RegExp(`<text[^>]*font-weight="bold"[^>]*>${n}</text>`).exec(svg)?.[0] ?? '')?.[1]);
    expect(Math.abs(labelY('first') - labelY('second'))).toBeGreaterThanOrEqual(14);
    const empty = await lossCurvesSvg([{ name: 'x', points: [{ step: 1, loss: 0 }] }]);
    expect(empty).toContain('no data to plot');
    const png = await svgToPng(empty, { scale: 1 });
    expect(png[1]).toBe(0x50); // 'P'
  });

  it('tables and numbers', () => {
    expect(num(1.23456e-5)).toBe('1.23e-5');
    expect(num(0.012345)).toBe('0.0123');
    expect(num(null)).toBe('—');
    expect(num(NaN)).toBe('NaN');
    const t = summaryTable([rec]);
    const text = textTable(t);
    expect(text.split('\n')[0]).toMatch(/^problem\s+optimizer\s+status\s+final loss/);
    expect(text).toContain('★');
    expect(markdownTable(t).split('\n')[1]).toMatch(/^\| --- \| --- \| --- \| ---: \|/);
  });

  it('winner: fewest steps to tolerance, else the lowest final loss; diverged runs never win', () => {
    const run = (name: string, over: Partial<ProblemRecord['runs'][number]>) => ({
      name,
      description: name,
      status: 'max-steps' as const,
      steps: 100,
      finalLoss: 1,
      gradNorm: 0,
      stepsToTolerance: null,
      timeToToleranceMs: null,
      timeMs: 1,
      divergedAt: null,
      metrics: {},
      points: [],
      ...over,
    });
    const base = { id: 'x', title: 'x', problem: 'x', steps: 100, winner: null, winnerReason: '', cancelled: false };
    const a: ProblemRecord = { ...base, runs: [run('a', { finalLoss: 1e-3 }), run('b', { finalLoss: 1e-5 }), run('c', { status: 'diverged', finalLoss: NaN })] };
    pickWinner(a);
    expect(a.winner).toBe('b');
    const b: ProblemRecord = { ...base, runs: [run('a', { stepsToTolerance: 50, finalLoss: 1e-9 }), run('b', { stepsToTolerance: 20, finalLoss: 1e-8 })] };
    pickWinner(b);
    expect(b.winner).toBe('b');
    expect(b.winnerReason).toContain('fewest steps');
  });

  it('progress: bars redrawn in place on a TTY, plain lines otherwise', () => {
    const sink = () => {
      const chunks: string[] = [];
      return { chunks, write: (s: string) => chunks.push(s), columns: 120 };
    };
    const tty = sink();
    const view = progressView(tty, { tty: true });
    view.begin('title', [{ name: 'adam', total: 100 }, { name: 'lbfgs', total: 100, note: 'skipped: constraints' }]);
    view.update({ run: 'adam', step: 50, loss: 0.5, elapsedMs: 3 });
    view.update({ run: 'adam', step: 100, loss: 1e-9, elapsedMs: 6, status: 'converged' });
    view.end();
    const screen = tty.chunks.join('');
    // eslint-disable-next-line no-control-regex
    expect(screen).toMatch(/\x1b\[\d+A/); // cursor up over the block
    expect(screen).toContain('█');
    expect(screen).toContain('✓ converged');
    expect(screen).toContain('skipped: constraints');

    const plain = sink();
    const lines = progressView(plain, { tty: false, intervalMs: 60_000 });
    lines.begin('title', [{ name: 'adam', total: 100 }]);
    for (let s = 10; s < 100; s += 10) lines.update({ run: 'adam', step: s, loss: 1 / s, elapsedMs: s });
    lines.update({ run: 'adam', step: 100, loss: 1e-9, elapsedMs: 100, status: 'max-steps' });
    const out = plain.chunks.join('');
    expect(out).not.toContain('\x1b');
    expect(out.split('\n').filter((l) => l.includes('step'))).toHaveLength(2); // the first report and the end
    expect(out).toContain('step 100/100');
  });
});


describe('mg.plot', () => {
  it('lossCurves gives a standalone SVG string in Node, toPng a PNG', async () => {
    const { plot } = await import('../src/index.js');
    const svg = (await plot.lossCurves([{ name: 'adam', points: [{ step: 1, loss: 1 }, { step: 10, loss: 1e-3 }] }], { title: 't' })) as string;
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('adam');
    const png = await plot.toPng(svg);
    expect(Array.from(png.slice(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });
});
