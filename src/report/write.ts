// The report directory: one loss-curve chart per problem (SVG + PNG), index.html with the tables and the
// charts inline, and summary.json with every number (and the curves) for other programs.
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MatgradError } from '../errors.js';
import { escapeHtml, htmlTable, ms, num } from './format.js';
import { lossCurvesSvg, type Series, svgToPng } from './plot.js';
import { type ProblemRecord, summaryTable } from './record.js';

export interface ReportOptions {
  /** The page's heading. */
  title?: string;
  /** A line under the heading (how it was run). */
  subtitle?: string;
  /** Wall-clock time of the whole comparison. */
  totalMs?: number;
  /** Write PNGs next to the SVGs (default true). */
  png?: boolean;
  /** Extra fields for summary.json. */
  extra?: Record<string, unknown>;
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EISDIR: 'it is a directory',
  EEXIST: 'a file is in the way',
  ENOSPC: 'no space left on the device',
};
/** A file or directory that cannot be written: the path and the reason, no stack. */
export class OutputError extends MatgradError {
  override name = 'OutputError';
  constructor(file: string, reason: unknown) {
    const code = (reason as NodeJS.ErrnoException)?.code;
    super(`cannot write ${file}: ${typeof reason === 'string' ? reason : ((code && REASONS[code]) ?? (reason as Error)?.message ?? String(reason))}`);
  }
}

/**
 * Checks, before any work, that `target` can be written: a file's directory must exist and be
 * writable; a directory (`dir`) is created at once, so a path that cannot hold one fails now.
 */
export function checkWritable(target: string, opts: { dir?: boolean } = {}): void {
  const abs = path.resolve(target);
  if (opts.dir) makeDir(target);
  const stat = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return null;
    }
  };
  const self = stat(abs);
  if (self && self.isDirectory() !== !!opts.dir) throw new OutputError(target, opts.dir ? `${target} is a file` : 'it is a directory');
  const parent = stat(path.dirname(abs));
  if (!parent) throw new OutputError(target, `no such directory ${path.dirname(abs)}`);
  if (!parent.isDirectory()) throw new OutputError(target, `${path.dirname(abs)} is not a directory`);
  try {
    accessSync(self ? abs : path.dirname(abs), constants.W_OK);
  } catch (e) {
    throw new OutputError(target, e);
  }
}

/** mkdir -p, one level at a time (Node's recursive mkdir spins forever under /proc). */
export function makeDir(dir: string): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  for (let p = abs; ; p = path.dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) throw new OutputError(dir, `${p} is not a directory`);
      break;
    } catch (e) {
      if (e instanceof OutputError) throw e;
      missing.unshift(p);
      if (path.dirname(p) === p) break;
    }
  }
  for (const p of missing) {
    try {
      mkdirSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new OutputError(dir, `cannot create the directory ${p} (${(code && REASONS[code]) ?? (e as Error).message})`);
    }
  }
}

/** writeFileSync with an OutputError (path and reason) instead of a raw Node error. */
export function writeOutput(file: string, data: string | Uint8Array): void {
  try {
    writeFileSync(file, data);
  } catch (e) {
    throw new OutputError(file, e);
  }
}

/** The series a problem's chart draws: one per run that ran, loss − optimum when the optimum is not 0. */
export function seriesOf(rec: ProblemRecord): Series[] {
  const shift = rec.optimum ?? 0;
  return rec.runs.filter((r) => r.status !== 'skipped' && r.points.length).map((r) => ({ name: r.name, points: r.points.map((p) => ({ step: p.step, loss: p.loss - shift })) }));
}

/** A problem's loss-curve chart (log scale, one labelled line per optimizer) as an SVG string. */
export function problemChartSvg(rec: ProblemRecord, opts: { width?: number; height?: number } = {}): Promise<string> {
  const shifted = (rec.optimum ?? 0) !== 0;
  return lossCurvesSvg(seriesOf(rec), { title: rec.title, log: true, yLabel: shifted ? `loss − optimum (optimum ${num(rec.optimum)})` : 'loss', ...opts });
}

function machine() {
  const cpus = os.cpus();
  return { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: cpus.length, cpuModel: cpus[0]?.model?.trim() ?? 'unknown' };
}

/** summary.json's shape: the records with compact curves ([step, loss] pairs). */
export function summaryJson(records: readonly ProblemRecord[], opts: ReportOptions = {}): Record<string, unknown> {
  const finite = (x: number | null) => (x === null || Number.isFinite(x) ? x : String(x));
  return {
    generatedAt: new Date().toISOString(),
    machine: machine(),
    ...(opts.totalMs !== undefined ? { totalMs: Math.round(opts.totalMs) } : {}),
    ...opts.extra,
    problems: records.map((rec) => ({
      id: rec.id,
      title: rec.title,
      problem: rec.problem,
      spec: rec.spec,
      steps: rec.steps,
      tolerance: rec.tolerance,
      optimum: rec.optimum,
      keyMetric: rec.keyMetric,
      winner: rec.winner,
      winnerReason: rec.winnerReason,
      cancelled: rec.cancelled,
      chart: { svg: `${rec.id}.svg`, png: opts.png === false ? undefined : `${rec.id}.png` },
      runs: rec.runs.map((r) => ({
        name: r.name,
        description: r.description,
        note: r.note,
        status: r.status,
        steps: r.steps,
        finalLoss: finite(r.finalLoss),
        gradNorm: finite(r.gradNorm),
        stepsToTolerance: r.stepsToTolerance,
        timeToToleranceMs: r.timeToToleranceMs,
        timeMs: Math.round(r.timeMs * 1000) / 1000,
        divergedAt: r.divergedAt,
        metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, finite(v)])),
        curve: r.points.map((p) => [p.step, p.loss]),
      })),
    })),
  };
}

const CSS = `
body { font-family: 'DejaVu Sans', system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8rem 0 1.2rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; white-space: nowrap; }
td:last-child { white-space: normal; color: #555; } tr.group td { border-top: 2px solid #bbb; }
th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.winner td { background: #fff6d5; font-weight: bold; }
section { margin-top: 2.5rem; } figure { margin: 0; } figure svg { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
.winner-line { font-weight: bold; } .note { color: #666; font-size: 0.9rem; }
`;

/** index.html: the summary table, then per problem its chart (inline SVG), its table and its spec. */
export function indexHtml(records: readonly ProblemRecord[], charts: ReadonlyMap<string, string>, opts: ReportOptions = {}): string {
  const title = opts.title ?? 'matgrad: optimizer comparison';
  const summary = summaryTable(records);
  const m = machine();
  const sections = records.map((rec) => {
    const t = summaryTable([rec], { problemColumn: false });
    const svg = charts.get(rec.id) ?? '';
    return `<section id="${escapeHtml(rec.id)}">
<h2>${escapeHtml(rec.title)}</h2>
<p class="winner-line">${rec.winner ? `Winner: ${escapeHtml(rec.winner)} — ${escapeHtml(rec.winnerReason)}` : escapeHtml(rec.winnerReason)}${rec.cancelled ? ' (cancelled: partial result)' : ''}</p>
<figure>${svg}</figure>
<p class="note">${escapeHtml(`${rec.steps} steps at most; tolerance: loss${rec.optimum ? ' − optimum' : ''} ≤ ${num(rec.tolerance)}`)} · <a href="${escapeHtml(rec.id)}.svg">SVG</a>${opts.png === false ? '' : ` · <a href="${escapeHtml(rec.id)}.png">PNG</a>`}</p>
${htmlTable(t, (i) => (t.winnerRows.includes(i) ? 'winner' : undefined))}
<p class="note">${rec.runs.map((r) => `${escapeHtml(r.name)}: ${escapeHtml(r.description)}`).join(' · ')}</p>
${rec.spec !== undefined ? `<details><summary>spec</summary><pre>${escapeHtml(JSON.stringify(rec.spec, null, 2))}</pre></details>` : ''}
</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${escapeHtml(opts.subtitle ?? '')}${opts.totalMs !== undefined ? ` · total ${escapeHtml(ms(opts.totalMs))}` : ''} · ${escapeHtml(`${m.cpuModel}, ${m.cpus} cores, Node ${m.node}, ${new Date().toISOString()}`)}</p>
<h2>Summary</h2>
${htmlTable(summary, (i) => [summary.winnerRows.includes(i) ? 'winner' : '', i > 0 && summary.rows[i][0] ? 'group' : ''].filter(Boolean).join(' ') || undefined)}
<p class="note">Winner (★): fewest steps to tolerance, else the lowest final loss. Times are each run's own compute time (the runs are interleaved; building them is shared evenly).</p>
${sections.join('\n')}
</body>
</html>
`;
}

/** Writes the report into `dir` (created); returns the paths written. */
export async function writeReport(dir: string, records: readonly ProblemRecord[], opts: ReportOptions = {}): Promise<string[]> {
  makeDir(dir);
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array) => {
    const file = path.join(dir, name);
    writeOutput(file, data);
    written.push(file);
  };
  const charts = new Map<string, string>();
  for (const rec of records) {
    const svg = await problemChartSvg(rec);
    charts.set(rec.id, svg);
    put(`${rec.id}.svg`, svg);
    if (opts.png !== false) put(`${rec.id}.png`, await svgToPng(svg));
  }
  put('index.html', indexHtml(records, charts, opts));
  put('summary.json', `${JSON.stringify(summaryJson(records, opts), null, 1)}\n`);
  return written;
}
