// Live progress for the CLI: a bar per run redrawn in place on a terminal, plain periodic lines otherwise.
import type { RunStatus } from '../solve.js';
import { ms, num } from './format.js';

export interface ProgressRun {
  readonly name: string;
  /** Step budget. */
  readonly total: number;
  /** Shown instead of a bar (skipped runs). */
  readonly note?: string;
}

export interface ProgressUpdate {
  readonly run: string;
  readonly step: number;
  readonly loss: number;
  readonly elapsedMs: number;
  readonly status?: RunStatus;
}

export interface ProgressView {
  /** A new block of runs under a title. */
  begin(title: string, runs: readonly ProgressRun[]): void;
  update(u: ProgressUpdate): void;
  /** Draws the final state of the block. */
  end(): void;
}

interface Writable {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

interface RunState extends ProgressRun {
  step: number;
  loss: number | null;
  elapsedMs: number;
  status?: RunStatus;
  lastPrinted: number;
}

const statusMark = (s: RunStatus) => (s === 'converged' ? '✓ converged' : s === 'diverged' ? '✗ diverged' : s);

/** A progress view on `out` (default stdout): bars when it is a TTY, else lines at most every `intervalMs` per run. */
export function progressView(out: Writable = process.stdout, opts: { tty?: boolean; intervalMs?: number } = {}): ProgressView {
  return (opts.tty ?? !!out.isTTY) ? new TtyProgress(out) : new LineProgress(out, opts.intervalMs ?? 1000);
}

/** Prints nothing (--json, --quiet). */
export const silentProgress: ProgressView = { begin() {}, update() {}, end() {} };

abstract class Base implements ProgressView {
  protected title = '';
  protected runs: RunState[] = [];
  constructor(protected readonly out: Writable) {}
  begin(title: string, runs: readonly ProgressRun[]): void {
    this.title = title;
    this.runs = runs.map((r) => ({ ...r, step: 0, loss: null, elapsedMs: 0, lastPrinted: -Infinity }));
  }
  update(u: ProgressUpdate): void {
    const r = this.runs.find((x) => x.name === u.run);
    if (!r) return;
    r.step = u.step;
    r.loss = u.loss;
    r.elapsedMs = u.elapsedMs;
    r.status = u.status;
    this.changed(r);
  }
  protected abstract changed(r: RunState): void;
  abstract end(): void;
  protected nameWidth(): number {
    return Math.max(4, ...this.runs.map((r) => r.name.length));
  }
}

/** Bars redrawn in place (ANSI cursor movement), at most every 80 ms. */
class TtyProgress extends Base {
  private drawn = 0;
  private lastDraw = 0;
  override begin(title: string, runs: readonly ProgressRun[]): void {
    super.begin(title, runs);
    this.drawn = 0;
    this.out.write(`${title}\n`);
    this.draw();
  }
  protected changed(r: RunState): void {
    const now = performance.now();
    if (r.status || now - this.lastDraw >= 80) this.draw();
  }
  end(): void {
    this.draw();
  }
  private draw(): void {
    this.lastDraw = performance.now();
    const cols = Math.max(40, this.out.columns || 100); // 0 when the terminal does not say
    const w = this.nameWidth();
    const rows = this.runs.map((r) => {
      const frac = r.status === 'converged' ? 1 : r.total > 0 ? Math.min(1, r.step / r.total) : 0;
      const tail = `step ${String(r.step).padStart(String(r.total).length)}/${r.total}  loss ${num(r.loss).padEnd(8)}  ${ms(r.elapsedMs).padStart(7)}`;
      return { r, frac, tail };
    });
    // one bar width for the block: what the terminal has left beside the longest line (none if narrow)
    const room = cols - 1 - (w + 4) - Math.max(...rows.map((x) => x.tail.length)) - 13 - 7;
    const barWidth = Math.min(30, room);
    const lines = rows.map(({ r, frac, tail }) => {
      const name = `  ${r.name.padEnd(w)}  `;
      if (r.note && r.step === 0 && !r.status) return `${name}${r.note}`.slice(0, cols - 1);
      const pct = `${Math.round(frac * 100)}%`.padStart(4);
      const full = Math.round(frac * Math.max(0, barWidth));
      const bar = barWidth >= 6 ? `${'█'.repeat(full)}${'░'.repeat(barWidth - full)} ` : '';
      return `${name}${bar}${pct}  ${tail}${r.status ? `  ${statusMark(r.status)}` : ''}`.slice(0, cols - 1);
    });
    let s = this.drawn ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    this.out.write(s);
    this.drawn = lines.length;
  }
}

/** Plain lines (logs, pipes): the first report of each run, then at most one per interval, and the end. */
class LineProgress extends Base {
  constructor(
    out: Writable,
    private readonly intervalMs: number,
  ) {
    super(out);
  }
  override begin(title: string, runs: readonly ProgressRun[]): void {
    super.begin(title, runs);
    this.out.write(`${title}\n`);
    for (const r of this.runs) if (r.note) this.out.write(`  ${r.name}: ${r.note}\n`);
  }
  protected changed(r: RunState): void {
    const now = performance.now();
    if (!r.status && now - r.lastPrinted < this.intervalMs) return;
    r.lastPrinted = now;
    const end = r.status ? `  ${statusMark(r.status)}` : '';
    this.out.write(`  ${r.name.padEnd(this.nameWidth())}  step ${r.step}/${r.total}  loss ${num(r.loss)}  ${ms(r.elapsedMs)}${end}\n`);
  }
  end(): void {}
}
