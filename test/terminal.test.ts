// Terminal output: tables fit the terminal's width without cutting a value; progress bars fit it,
// survive a note (Ctrl-C's message) and hand the cursor back.
import { describe, expect, it } from 'vitest';
import { fitColumns, type Table, textTable } from '../src/report/format.js';
import { progressView, wrapText } from '../src/report/progress.js';
import { summaryTable, type ProblemRecord } from '../src/report/record.js';

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[\d;?]*[A-Za-z]|\x1b[78]/g, '');
const cols = (s: string) => [...s].length;

const run = (name: string, over: Partial<ProblemRecord['runs'][number]> = {}): ProblemRecord['runs'][number] => ({
  name,
  description: name,
  status: 'max-steps',
  steps: 2000,
  finalLoss: 0.0115,
  gradNorm: 0,
  stepsToTolerance: null,
  timeToToleranceMs: null,
  timeMs: 571.3,
  divergedAt: null,
  metrics: { singularValueError: 0.074 },
  points: [],
  ...over,
});
const record = (problem: string): ProblemRecord => ({
  id: problem,
  title: problem,
  problem,
  steps: 2000,
  tolerance: 1e-10,
  keyMetric: 'singularValueError',
  winner: 'momentum',
  winnerReason: 'lowest final loss',
  cancelled: false,
  runs: [
    run('sgd'),
    run('momentum', { finalLoss: 1.5e-4, stepsToTolerance: 1234, timeToToleranceMs: 99.5 }),
    run('adam', { status: 'converged', finalLoss: 9.9e-30 }),
    run('lbfgs', { status: 'skipped', note: 'skipped: L-BFGS takes no constraints (stiefel)', finalLoss: null }),
  ],
});
const table = summaryTable([record('svd 16×12 stiefel'), record('inverse random 4×4')]);

describe('tables fit the terminal', () => {
  const natural = textTable(table);
  const naturalWidth = Math.max(...natural.split('\n').map(cols));

  it.each([40, 60, 80, 100, 135, 200])('width %i: every line fits, no value is cut', (width) => {
    const text = textTable(table, { width });
    const lines = text.split('\n');
    for (const l of lines) expect(cols(l), l).toBeLessThanOrEqual(width - 1);
    expect(text).not.toContain('…');
    // every number printed whole, on one line; words too where the terminal has room for them
    for (const value of ['0.0115', '1.50e-4', '9.90e-30']) expect(text).toContain(value);
    if (width >= 60) for (const value of ['max-steps', 'converged', 'skipped', 'momentum']) expect(text).toContain(value);
    if (width > naturalWidth) expect(text).toBe(natural); // room enough: nothing changes
    else expect(lines.length).toBeGreaterThan(0);
  });

  it('narrow terminals leave out the optional columns first, in their order', () => {
    const headersAt = (width: number) => textTable(table, { width }).split('\n')[0];
    expect(headersAt(1000)).toMatch(/winner\s+note$/);
    const at80 = headersAt(80);
    expect(at80).not.toContain('time to tol');
    expect(at80).toMatch(/^problem\s+optimizer\s+status/);
  });

  it('fitColumns: the widest give way first, never below their minimum', () => {
    expect(fitColumns([10, 40, 5], [10, 8, 5], 45)).toEqual([12, 26, 7]);
    expect(fitColumns([10, 40, 5], [10, 38, 5], 45)).toEqual([12, 40, 7]); // cannot: stays wide
    expect(fitColumns([3, 3], [3, 3], 100)).toEqual([5, 5]);
  });

  it('a table with no optional columns and one long text column wraps that column', () => {
    const t: Table = { headers: ['name', 'text'], rows: [['a', 'word '.repeat(40).trim()]], align: ['left', 'left'] };
    const lines = textTable(t, { width: 50 }).split('\n');
    for (const l of lines) expect(cols(l)).toBeLessThanOrEqual(49);
    expect(lines.length).toBeGreaterThan(4);
  });
});

describe('progress bars on a terminal', () => {
  const terminal = (columns: number) => {
    const chunks: string[] = [];
    return { chunks, write: (s: string) => chunks.push(s), columns };
  };

  it.each([40, 80, 135])('width %i: every drawn line fits; the title wraps at spaces', (columns) => {
    const out = terminal(columns);
    const view = progressView(out, { tty: true });
    view.begin('SVD of a 16×12 matrix on the Stiefel manifold (seed 001) — at most 100000000 steps, tolerance 1.00e-10', [
      { name: 'momentum', total: 100_000_000 },
      { name: 'lbfgs', total: 100_000_000, note: 'skipped: L-BFGS takes no constraints (stiefel) and so on and so forth' },
    ]);
    view.update({ run: 'momentum', step: 5_000_000, loss: 1.234e-31, elapsedMs: 12_345 });
    view.update({ run: 'momentum', step: 100_000_000, loss: 1e-32, elapsedMs: 99_999, status: 'max-steps' });
    view.end();
    const raw = out.chunks.join('');
    // what is written between two cursor movements lands on one line
    // eslint-disable-next-line no-control-regex
    for (const l of raw.split(/\x1b\[[\d;?]*[A-Za-z]|\x1b[78]|\r?\n|\r/)) expect(cols(l), l).toBeLessThanOrEqual(columns - 1);
    if (columns >= 80) expect(plain(raw)).toContain('max-steps'); // narrower: the line's end is cut
  });

  it('a note mid-block (Ctrl-C) prints once above the bars, which still end with their status; the cursor comes back', () => {
    const out = terminal(100);
    const view = progressView(out, { tty: true });
    view.begin('title', [{ name: 'adam', total: 1000 }, { name: 'lbfgs', total: 1000, note: 'skipped: constraints' }]);
    view.update({ run: 'adam', step: 10, loss: 0.5, elapsedMs: 3 });
    view.note('interrupted: cancelling');
    view.update({ run: 'adam', step: 20, loss: 0.25, elapsedMs: 6, status: 'cancelled' });
    view.end();
    const raw = out.chunks.join('');
    const screen = plain(raw);
    expect(screen.split('interrupted: cancelling')).toHaveLength(2);
    const after = screen.slice(screen.lastIndexOf('interrupted: cancelling'));
    expect(after).toContain('cancelled');
    expect(after).toContain('skipped: constraints'); // an unchanged line is redrawn below the note too
    expect(raw.lastIndexOf('\x1b[?25h')).toBeGreaterThan(raw.lastIndexOf('\x1b[?25l')); // cursor shown again
  });

  it('wrapText breaks at spaces within the width', () => {
    expect(wrapText('aaa bbb ccc ddd', 8)).toBe('aaa bbb\n  ccc\n  ddd');
    expect(wrapText('short', 80)).toBe('short');
  });
});
