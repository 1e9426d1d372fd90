// Live progress for the CLI: a bar per run redrawn in place on a terminal (cli-progress), plain
// periodic lines otherwise.
import { MultiBar, type SingleBar } from 'cli-progress';
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
  /** A message for the user (an interrupt) that must not tear the bars. */
  note(message: string): void;
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

/** A run's numbers after its bar (without the status). */
const tail = (r: RunState) => `step ${String(r.step).padStart(String(r.total).length)}/${r.total}  loss ${num(r.loss).padEnd(8)}  ${ms(r.elapsedMs).padStart(7)}`;

/** Breaks `text` at spaces into lines of at most `width` columns (continuations indented by 2). */
export function wrapText(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

const statusMark = (s: RunStatus) => (s === 'converged' ? '✓ converged' : s === 'diverged' ? '✗ diverged' : s);

/** A progress view on `out` (default stdout): bars when it is a TTY, else lines at most every `intervalMs` per run. */
export function progressView(out: Writable = process.stdout, opts: { tty?: boolean; intervalMs?: number } = {}): ProgressView {
  return (opts.tty ?? !!out.isTTY) ? new TtyProgress(out) : new LineProgress(out, opts.intervalMs ?? 1000);
}

/** No progress (--json, --quiet); notes still go to `out`. */
export function silentProgress(out: Writable): ProgressView {
  return { begin() {}, update() {}, end() {}, note: (m) => void out.write(`${m}\n`) };
}

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
  note(message: string): void {
    this.out.write(`${message}\n`);
  }
  protected nameWidth(): number {
    return Math.max(4, ...this.runs.map((r) => r.name.length));
  }
}

/**
 * Bars redrawn in place by cli-progress (one MultiBar per block), every line cut to the terminal's
 * width; stopped (cursor shown, final state drawn) at the end, on a note, or when the process exits.
 */
class TtyProgress extends Base {
  private multi: MultiBar | null = null;
  private bars = new Map<string, SingleBar>();
  private readonly restore = () => this.stop();
  override begin(title: string, runs: readonly ProgressRun[]): void {
    this.stop();
    super.begin(title, runs);
    this.out.write(`${wrapText(title, Math.max(20, (this.out.columns || 100) - 1))}\n`);
    const multi = new MultiBar({
      stream: this.terminal(),
      format: (_o, params, payload: { run: RunState }) => this.line(payload.run, params.maxWidth),
      fps: 12,
      hideCursor: true,
      linewrap: true, // cli-progress then cuts each line at the width (the lines fit it anyway)
      clearOnComplete: false,
      forceRedraw: true, // a note above the bars shifts them: every line must be redrawn, changed or not
      gracefulExit: false, // the CLI owns SIGINT: it ends the runs, then end() stops the bars
    });
    this.multi = multi;
    this.bars = new Map(this.runs.map((r) => [r.name, multi.create(Math.max(1, r.total), 0, { run: r })]));
    process.once('exit', this.restore);
  }
  /** `out` as cli-progress's terminal: a TTY (the caller said so) whose width follows `out`'s. */
  private terminal(): NodeJS.WritableStream {
    const out = this.out;
    return { isTTY: true, get columns() { return out.columns; }, write: (s: string) => out.write(s) } as unknown as NodeJS.WritableStream;
  }
  protected changed(r: RunState): void {
    this.bars.get(r.name)?.update(Math.min(r.step, r.total), { run: r });
    if (r.status) this.multi?.update();
  }
  end(): void {
    this.stop();
  }
  override note(message: string): void {
    if (!this.multi) return super.note(message);
    // above the bars, which go on redrawing below it (to their final 'cancelled')
    this.multi.log(`${message}\n`);
    this.multi.update();
  }
  private stop(): void {
    process.off('exit', this.restore);
    if (!this.multi) return;
    this.multi.update();
    this.multi.stop();
    this.multi = null;
  }
  /** One run's line, at most `width − 1` columns: the bar shrinks first, then the tail is cut. */
  private line(r: RunState, width: number): string {
    const cols = Math.max(20, width || 100);
    const name = `  ${r.name.padEnd(this.nameWidth())}  `;
    if (r.note && r.step === 0 && !r.status) return `${name}${r.note}`.slice(0, cols - 1);
    const frac = r.status === 'converged' ? 1 : r.total > 0 ? Math.min(1, r.step / r.total) : 0;
    const pct = `${Math.round(frac * 100)}%`.padStart(4);
    // one bar width for the block: what the longest tail leaves (a status adds up to 13 columns)
    const longest = Math.max(...this.runs.map((x) => tail(x).length)) + 13;
    const barWidth = Math.min(30, cols - 1 - name.length - pct.length - 2 - longest - 1);
    const full = Math.round(frac * Math.max(0, barWidth));
    const bar = barWidth >= 6 ? `${'█'.repeat(full)}${'░'.repeat(barWidth - full)} ` : '';
    return `${name}${bar}${pct}  ${tail(r)}${r.status ? `  ${statusMark(r.status)}` : ''}`.slice(0, cols - 1);
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
