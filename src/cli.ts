#!/usr/bin/env node
// The matgrad command line: `matgrad solve|compare|bench|schema|start`. Arguments are parsed with Node's
// util.parseArgs only. Exit codes: 0 done, 1 runtime error, 2 usage or spec error, 130 interrupted.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Observable } from 'rxjs';
import type { DType } from './autograd/dtype.js';
import type { Backend } from './backends/backend.js';
import { MatgradError, MatgradSpecError } from './errors.js';
import * as mg from './index.js';
import type { Lbfgs } from './optimizers/lbfgs.js';
import type { Transform } from './optimizers/transform.js';
import type { Objective } from './problems/objective.js';
import { readTextFd, readTextFile } from './problems/sources.js';
import { num, ms, textTable } from './report/format.js';
import { OPTIMIZER_NAMES, pickOptimizer } from './report/optimizers.js';
import { svgToPng } from './report/plot.js';
import { type ProgressView, progressView, silentProgress } from './report/progress.js';
import { initialLoss, type ProblemRecord, Recorder, type RunPlan, summaryTable } from './report/record.js';
import { KEY_METRICS, SEED_WORKLOADS, START_OPTIMIZERS } from './report/seeds.js';
import { checkWritable, problemChartSvg, writeOutput, writeReport } from './report/write.js';
import type { CompareEvent, SolveEvent, SolveOptions, SolveResult } from './solve.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A mistake in the command line or the spec: exit 2, with a hint. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

// ─── help ────────────────────────────────────────────────────────────────────────────────────────────

const HELP: Record<string, string> = {
  main: `matgrad — learn matrices by gradient descent

Usage: matgrad <command> [options]

Commands:
  start                         compare sgd, momentum, adam and lbfgs on the seed problems;
                                live progress, a summary table, and report/ (charts + index.html)
  solve <spec.json>             solve one problem spec with one optimizer
  compare <spec.json>           solve one problem spec with several optimizers, side by side
  bench [args]                  run the benchmarks (bench/run.ts; needs a source checkout)
  schema                        print the JSON Schema of problem specs

Options:
  -h, --help                    help (also: matgrad <command> --help, matgrad help <command>)
  -v, --version                 the version

Exit codes: 0 done, 1 error, 2 bad command line or spec, 130 interrupted (Ctrl-C).`,
  solve: `Usage: matgrad solve <spec.json> [options]

Solves the problem in spec.json (see \`matgrad schema\`; relative file sources resolve against the
spec's directory; '-' reads the spec from stdin). Prints live progress, then the result: status,
loss, metrics and the learned parameters.

Options:
  --optimizer <name>     ${OPTIMIZER_NAMES.join(', ')}
                         (default: the problem's own default optimizer)
  --lr <x>               learning rate (default: one that fits the problem)
  --momentum [μ]         heavy-ball momentum for sgd/rmsprop (0.9 when given without a value)
  --steps <n>            maximum steps (default: the problem's)
  --tolerance <x>        converged when loss ≤ x (default: the problem's)
  --report-every <n>     steps between progress events (default: steps/200)
  --dtype <t>            float64 (CPU default) or float32
  --backend <b>          cpu (default), webgpu, or auto (a hardware GPU when there is one)
  --seed <n>             shifts every parameter's initialization seed
  --plot <file>          write the loss curve: .svg, or .png
  --json                 NDJSON on stdout: one progress event per line, the last one
                         {"done":true,"status",...,"params":{name: nested arrays}}
  -q, --quiet            no progress, only the result
  -h, --help             this help

Ctrl-C stops the run cleanly: the partial result is printed (status "cancelled"), exit code 130.
Example: matgrad solve examples/specs/inverse.json --optimizer adam --lr 0.01 --steps 5000`,
  compare: `Usage: matgrad compare <spec.json> [options]

Runs several optimizers on the problem in spec.json from the same start, interleaved, and prints a
table: status, final loss, steps and time to tolerance, the key metric, and the winner (fewest steps to
tolerance, else lowest final loss).

Options:
  --optimizers <list>    comma-separated names, each optionally with its lr: sgd:0.1,adam:0.01
                         (names: ${OPTIMIZER_NAMES.join(', ')}; default: sgd,momentum,adam,lbfgs)
  --lr <x>               learning rate for every optimizer without its own
  --momentum [μ]         momentum for sgd/rmsprop entries (0.9 when given without a value)
  --steps <n>            maximum steps (default: the problem's)
  --tolerance <x>        converged when loss ≤ x (default: the problem's)
  --report-every <n>     steps between progress events (default: steps/200)
  --dtype <t>            float64 or float32
  --backend <b>          cpu (default), webgpu, or auto
  --seed <n>             shifts every parameter's initialization seed
  --plot <file>          write the loss curves (one labelled line per optimizer): .svg or .png
  --report <dir>         write a report directory (charts, index.html, summary.json)
  --json                 NDJSON on stdout: events tagged with "run", the last one
                         {"done":true,"run":null,"summary":[...]}
  -q, --quiet            no progress, only the table
  -h, --help             this help

L-BFGS takes no parameter constraints: it is skipped (with a note) on Stiefel/sphere problems.
Ctrl-C stops every run cleanly, prints the partial table and exits 130.`,
  bench: `Usage: matgrad bench [options]

Runs the benchmarks (bench/run.ts, from a source checkout: there, 'matgrad bench --help' lists the
options: --json, --only, --runs, ...) and prints a Markdown table of every workload and implementation.`,
  schema: `Usage: matgrad schema [--out file]

Prints the JSON Schema of problem specs (generated from the zod schemas), for editors:
put "$schema" in a spec file, or configure your editor with schema/problem.schema.json.
  --out <file>           write it to a file instead of stdout
  -h, --help             this help`,
  start: `Usage: matgrad start [options]     (npm start)

Compares sgd, momentum (sgd + 0.9), adam and lbfgs on the seed workloads — inverse of a random and
of a diagonal 4×4, SVD 16×12 on the Stiefel manifold, λ_min for n = 4 and 16, and an eigenvector
steered through implicit differentiation — with live progress, then prints a summary table and writes
<out>/: one loss-curve chart per problem (<id>.svg, <id>.png), index.html and summary.json.

Options:
  --quick                fewer steps (a smoke run of a few seconds); also MATGRAD_QUICK=1
  --only <ids>           only these workloads: ${SEED_WORKLOADS.map((w) => w.id).join(', ')}
  --out <dir>            report directory (default: report)
  --no-png               SVG charts only
  -q, --quiet            no progress bars, only the summary
  -h, --help             this help`,
};

// ─── argument parsing ────────────────────────────────────────────────────────────────────────────────

type OptionSpec = { type: 'string' | 'boolean'; short?: string };

const COMMON: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h' } };
const RUN_OPTIONS: Record<string, OptionSpec> = {
  ...COMMON,
  lr: { type: 'string' },
  momentum: { type: 'string' },
  steps: { type: 'string' },
  tolerance: { type: 'string' },
  'report-every': { type: 'string' },
  dtype: { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  plot: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
};
const OPTIONS: Record<string, Record<string, OptionSpec>> = {
  solve: { ...RUN_OPTIONS, optimizer: { type: 'string' } },
  compare: { ...RUN_OPTIONS, optimizers: { type: 'string' }, report: { type: 'string' } },
  schema: { ...COMMON, out: { type: 'string' } },
  start: { ...COMMON, quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, 'no-png': { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
};

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}
const closest = (word: string, choices: readonly string[]) => {
  const best = choices.map((c) => [c, editDistance(word, c)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? best[0] : undefined;
};

/** `--momentum` may come without a value (0.9): give parseArgs one. */
function defaultMomentum(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    out.push(args[i]);
    if (args[i] === '--momentum' && (i + 1 >= args.length || (args[i + 1].startsWith('-') && !Number.isFinite(Number(args[i + 1]))))) out.push('0.9');
  }
  return out;
}

function parse(command: string, args: string[]) {
  const options = OPTIONS[command];
  try {
    return parseArgs({ args: defaultMomentum(args), options, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (!err.code?.startsWith('ERR_PARSE_ARGS')) throw e;
    const hint = `Run 'matgrad ${command} --help' for the options.`;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(err.message)?.[1];
    if (unknown) {
      const guess = closest(unknown.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`unknown option '${unknown}' for '${command}'${guess ? ` (did you mean --${guess}?)` : ''}`, hint);
    }
    throw new UsageError(err.message, hint);
  }
}

function numberOption(values: Record<string, unknown>, name: string, kind: 'int' | 'positive' | 'nonneg' | 'any'): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const x = Number(raw);
  const ok = Number.isFinite(x) && (kind === 'int' ? Number.isInteger(x) && x > 0 : kind === 'positive' ? x > 0 : kind === 'nonneg' ? x >= 0 : true);
  if (!ok) {
    const what = kind === 'int' ? 'a positive integer' : kind === 'positive' ? 'a positive number' : kind === 'nonneg' ? 'a non-negative number' : 'a number';
    throw new UsageError(`--${name} expects ${what}, got '${String(raw)}'`);
  }
  return x;
}

// ─── interruption ────────────────────────────────────────────────────────────────────────────────────

/**
 * Ctrl-C: the first SIGINT aborts the runs (they end with status 'cancelled' within a slice, ~10 ms,
 * and the command prints/writes what it has); no end within 3 s unsubscribes at once. A second one
 * gets the default action, ending the process at once even inside a long step or compile, where no
 * JavaScript handler could run.
 */
class Interrupt {
  readonly controller = new AbortController();
  private readonly forceHandlers = new Set<() => void>();
  onInterrupt: (message: string) => void = (m) => process.stderr.write(`${m}\n`);
  private count = 0;
  private readonly handler = () => {
    this.count++;
    process.off('SIGINT', this.handler);
    this.onInterrupt('interrupted: cancelling (Ctrl-C again to stop at once)…');
    this.controller.abort();
    setTimeout(() => this.force(), 3000).unref();
  };
  constructor() {
    process.on('SIGINT', this.handler);
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get interrupted(): boolean {
    return this.count > 0;
  }
  onForce(f: () => void): () => void {
    this.forceHandlers.add(f);
    return () => this.forceHandlers.delete(f);
  }
  private force(): void {
    for (const f of [...this.forceHandlers]) f();
  }
  dispose(): void {
    process.off('SIGINT', this.handler);
  }
}

/** Subscribes; resolves when the observable completes ('done') or is cut off by a forced interrupt. */
function drive<E>(source: Observable<E>, onEvent: (e: E) => void, interrupt: Interrupt): Promise<'done' | 'forced'> {
  return new Promise((resolve, reject) => {
    let off = () => {};
    const sub = source.subscribe({
      next: onEvent,
      error: (e) => {
        off();
        reject(e);
      },
      complete: () => {
        off();
        resolve('done');
      },
    });
    off = interrupt.onForce(() => {
      off();
      sub.unsubscribe();
      resolve('forced');
    });
  });
}

// ─── shared pieces of solve and compare ──────────────────────────────────────────────────────────────

interface Loaded {
  problem: Objective;
  spec: Record<string, unknown>;
  file: string;
}

function loadSpec(file: string, dtype: string | undefined): Loaded {
  // bounded like file sources: a regular file (or stdin) of at most LIMITS.maxTextFileBytes; a BOM is dropped
  const fail = (message: string): never => {
    throw new UsageError(`spec file ${file === '-' ? '(stdin)' : `'${file}'`} ${message}`);
  };
  const text = file === '-' ? readTextFd(0, fail) : readTextFile(file, fail);
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new UsageError(`${file}: a spec is a JSON object with a "kind" (see 'matgrad schema')`);
  const s = { ...(spec as Record<string, unknown>) };
  if (dtype !== undefined) s.dtype = dtype;
  const baseDir = file === '-' ? process.cwd() : path.dirname(path.resolve(file));
  try {
    return { problem: mg.problem(s, { baseDir }), spec: s, file };
  } catch (e) {
    if (e instanceof MatgradSpecError) throw new SpecFileError(file, e);
    throw e;
  }
}

class SpecFileError extends Error {
  constructor(
    readonly file: string,
    readonly specError: MatgradSpecError,
  ) {
    super(`${file}: invalid problem spec`);
  }
}

async function resolveBackend(name: string | undefined): Promise<Backend | 'cpu'> {
  if (name === undefined || name === 'cpu') return 'cpu';
  if (name !== 'webgpu' && name !== 'auto') throw new UsageError(`--backend expects cpu, webgpu or auto, got '${name}'`);
  const gpu = await mg.webgpu();
  if (name === 'auto') return gpu && !gpu.cpuAdapter ? gpu : 'cpu';
  if (!gpu) throw new MatgradError('no WebGPU adapter found (use --backend cpu)');
  return gpu;
}

function checkDtype(d: string | undefined): DType | undefined {
  if (d !== undefined && d !== 'float64' && d !== 'float32') throw new UsageError(`--dtype expects float64 or float32, got '${d}'`);
  return d as DType | undefined;
}

function runOptions(values: Record<string, unknown>, problem: Objective) {
  const steps = numberOption(values, 'steps', 'int') ?? problem.defaults?.steps ?? 1000;
  return {
    steps,
    tolerance: numberOption(values, 'tolerance', 'any') ?? problem.defaults?.tolerance,
    reportEvery: numberOption(values, 'report-every', 'int') ?? Math.max(1, Math.min(1000, Math.round(steps / 200))),
    seed: values.seed === undefined ? undefined : (numberOption(values, 'seed', 'any') ?? 0),
    lr: numberOption(values, 'lr', 'positive'),
    momentum: numberOption(values, 'momentum', 'nonneg'),
  };
}

/** JSON for an event: tensors as nested arrays; NaN/±Infinity become null (JSON has none). */
function eventJson(e: object): string {
  const out: Record<string, unknown> = { ...e };
  if ('params' in e && e.params && typeof e.params === 'object') {
    out.params = Object.fromEntries(Object.entries(e.params as Record<string, mg.Tensor>).map(([k, t]) => [k, t.arraySync()]));
  }
  return JSON.stringify(out);
}

/** --plot's file: .svg or .png, in a writable directory (checked before the run, not after it). */
function chartFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  if (!/\.(svg|png)$/i.test(file)) throw new UsageError(`--plot writes .svg or .png files, got '${file}'`, `Example: --plot loss.svg (or loss.png).`);
  checkWritable(file);
  return file;
}

/** Writes a chart: PNG for .png, SVG for .svg. */
async function writeChart(file: string, svg: string): Promise<void> {
  writeOutput(file, /\.png$/i.test(file) ? await svgToPng(svg) : svg);
}

function formatMatrix(t: mg.Tensor): string {
  const v = t.arraySync();
  const fmt = (x: number) => num(x, 6).padStart(12);
  if (typeof v === 'number') return fmt(v);
  if (t.shape.length === 1) return `[${(v as number[]).map(fmt).join(' ')} ]`;
  if (t.shape.length === 2) return (v as number[][]).map((row) => `[${row.map(fmt).join(' ')} ]`).join('\n');
  return `(${t.shape.join('×')}: use --json for the values)`;
}

const timestamp = () => new Date().toISOString();

// ─── solve ───────────────────────────────────────────────────────────────────────────────────────────

async function cmdSolve(args: string[]): Promise<number> {
  const { values, positionals } = parse('solve', args);
  if (values.help) return help('solve');
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `solve takes one spec file, got ${positionals.length}` : 'solve needs a spec file', `Usage: matgrad solve <spec.json> [options]; see 'matgrad solve --help'.`);
  const backend = await resolveBackend(values.backend as string | undefined);
  // WebGPU computes in float32 (WGSL has no f64): the spec's constants follow unless --dtype says otherwise
  const dtype = checkDtype(values.dtype as string | undefined) ?? (backend === 'cpu' ? undefined : 'float32');
  const plot = chartFile(values.plot as string | undefined);
  const { problem } = loadSpec(positionals[0], dtype);
  const o = runOptions(values, problem);
  const name = (values.optimizer as string | undefined) ?? 'default';
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    const guess = closest(name, OPTIMIZER_NAMES);
    throw new UsageError(`unknown optimizer '${name}'${guess ? ` (did you mean ${guess}?)` : ''}`, `Optimizers: ${OPTIMIZER_NAMES.join(', ')}.`);
  }
  const choice = optimizerOrUsage(name, problem, o);
  if (!choice.optimizer) throw new UsageError(`${name} cannot solve this problem: ${choice.note}`);
  if (backend !== 'cpu' && 'kind' in choice.optimizer) throw new UsageError('L-BFGS runs on the CPU backend (use --backend cpu)');
  const json = !!values.json;
  const out = json ? process.stderr : process.stdout;
  const say = (s: string) => {
    if (!json) process.stdout.write(`${s}\n`);
  };
  const view: ProgressView = json || values.quiet ? silentProgress(out) : progressView(process.stdout);
  const interrupt = new Interrupt();
  interrupt.onInterrupt = (m) => view.note(m);
  const label = choice.label ?? name;
  const options: SolveOptions = { optimizer: choice.optimizer, steps: o.steps, tolerance: o.tolerance, reportEvery: o.reportEvery, dtype, seed: o.seed, backend, signal: interrupt.signal };
  const recorder = new Recorder(
    { id: 'solve', title: problem.name, problem: problem.name, steps: o.steps, tolerance: o.tolerance, optimum: problem.optimum },
    [{ name: label, description: choice.description, note: choice.note }],
    { initialLoss: plot ? initialLoss(problem, { dtype, seed: o.seed }) : undefined },
  );
  view.begin(`solve: ${problem.name} with ${choice.description} — at most ${o.steps} steps${o.tolerance !== undefined ? `, tolerance ${num(o.tolerance)}` : ''} (${backend === 'cpu' ? 'cpu' : 'webgpu'}, ${dtype ?? 'float64'})`, [{ name: label, total: o.steps }]);
  let last: SolveEvent | null = null;
  recorder.start();
  let how: 'done' | 'forced';
  try {
    how = await drive(
      mg.solve(problem, options),
      (e) => {
        last = e;
        recorder.add({ ...e, run: label });
        view.update({ run: label, step: e.step, loss: e.loss, elapsedMs: e.elapsedMs, status: e.done ? e.status : undefined });
        if (json) process.stdout.write(`${eventJson(e)}\n`);
      },
      interrupt,
    );
  } finally {
    interrupt.dispose();
  }
  view.end();
  const final = last as SolveEvent | null;
  let result: SolveResult | null = final?.done ? final : null;
  if (how === 'forced' || !result) {
    // cut off before the run could report: the last progress is all there is
    const p = final;
    if (json) process.stdout.write(`${JSON.stringify({ done: true, status: 'cancelled', step: p?.step ?? 0, loss: p?.loss ?? null, gradNorm: p?.gradNorm ?? null, elapsedMs: p?.elapsedMs ?? 0, metrics: p?.metrics ?? {}, params: null })}\n`);
    say(`cancelled at step ${p?.step ?? 0}: loss ${num(p?.loss)} (parameters not read back)`);
    result = null;
  }
  const rec = recorder.finish({ cancelled: interrupt.interrupted });
  if (result && !json) {
    say('');
    const tol = result.stepsToTolerance !== undefined ? ` (tolerance reached at step ${result.stepsToTolerance}, ${ms(result.timeToToleranceMs)})` : '';
    say(`${result.status} after ${result.step} steps in ${ms(result.elapsedMs)}: loss ${num(result.loss)}, ‖∇‖ ${num(result.gradNorm)}${tol}${result.divergedAt !== undefined ? `; diverged at step ${result.divergedAt}` : ''}`);
    const metrics = Object.entries(result.metrics);
    if (metrics.length) say(`metrics: ${metrics.map(([k, v]) => `${k} ${num(v)}`).join(' · ')}`);
    for (const [k, t] of Object.entries(result.params)) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      say(size <= 64 ? `${k} (${t.shape.join('×') || 'scalar'}) =\n${formatMatrix(t)}` : `${k}: ${t.shape.join('×')} (use --json for the values)`);
    }
  }
  if (plot) {
    await writeChart(plot, await problemChartSvg({ ...rec, title: `${problem.name} — ${choice.description}` }));
    out.write(`wrote ${plot}\n`);
  }
  if (result && !json) say(`status: ${result.status}  step: ${result.step}  loss: ${num(result.loss, 4)}  time: ${ms(result.elapsedMs)}`);
  return interrupt.interrupted ? 130 : 0;
}

function optimizerOrUsage(name: string, problem: Objective, o: { lr?: number; momentum?: number }) {
  try {
    return pickOptimizer(name, problem, { lr: o.lr, momentum: o.momentum });
  } catch (e) {
    if (e instanceof MatgradError || (e instanceof Error && /^(sgd|adam|adamw|rmsprop|adagrad|lbfgs):/.test(e.message))) throw new UsageError(e.message);
    throw e;
  }
}

// ─── compare ─────────────────────────────────────────────────────────────────────────────────────────

interface Entry {
  plan: RunPlan;
  optimizer: Transform | Lbfgs | null;
}

function compareEntries(list: string, problem: Objective, o: { lr?: number; momentum?: number }): Entry[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new UsageError('--optimizers needs at least one name');
  const parsed = items.map((item) => {
    const [name, lrText, ...rest] = item.split(':');
    if (rest.length || !(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
      const guess = closest(name, OPTIMIZER_NAMES);
      throw new UsageError(`unknown optimizer '${item}'${guess ? ` (did you mean ${guess}?)` : ''}`, `Optimizers: ${OPTIMIZER_NAMES.join(', ')}, each optionally with its lr (adam:0.01).`);
    }
    const lr = lrText === undefined ? o.lr : Number(lrText);
    if (lr !== undefined && !(Number.isFinite(lr) && lr > 0)) throw new UsageError(`'${item}': the learning rate must be a positive number`);
    return { name, lr, item };
  });
  return parsed.map(({ name, lr, item }) => {
    const c = optimizerOrUsage(name, problem, { lr, momentum: o.momentum });
    const label = parsed.filter((p) => p.name === name).length > 1 ? item : name;
    if (parsed.filter((p) => p.item === item).length > 1) throw new UsageError(`'${item}' is listed twice`);
    return { plan: { name: label, description: c.description, note: c.note, skipped: !c.optimizer }, optimizer: c.optimizer };
  });
}

/** Runs one comparison with progress; returns its record and whether it was cut off. */
async function runComparison(
  problem: Objective,
  entries: readonly Entry[],
  meta: { id: string; title: string; spec?: unknown; steps: number; tolerance?: number; keyMetric?: string; gapTolerance?: boolean },
  options: SolveOptions,
  view: ProgressView,
  interrupt: Interrupt,
  onEvent?: (e: CompareEvent) => void,
): Promise<ProblemRecord> {
  const recorder = new Recorder(
    { id: meta.id, title: meta.title, problem: problem.name, spec: meta.spec, steps: meta.steps, tolerance: meta.tolerance, optimum: problem.optimum, keyMetric: meta.keyMetric },
    entries.map((e) => e.plan),
    { checkTolerance: meta.gapTolerance, initialLoss: initialLoss(problem, { dtype: options.dtype, seed: options.seed }) },
  );
  const runnable = entries.filter((e) => e.optimizer);
  view.begin(
    `${meta.title} — at most ${meta.steps} steps${meta.tolerance !== undefined ? `, tolerance ${num(meta.tolerance)}` : ''}`,
    entries.map((e) => ({ name: e.plan.name, total: meta.steps, note: e.optimizer ? undefined : e.plan.note })),
  );
  if (runnable.length) {
    recorder.start();
    // L-BFGS often converges within one report interval: it reports more often, so its curve shows
    const runs = Object.fromEntries(
      runnable.map((e) => [e.plan.name, 'kind' in e.optimizer! && e.optimizer.kind === 'lbfgs' ? { optimizer: e.optimizer, reportEvery: Math.max(1, Math.round((options.reportEvery ?? 100) / 20)) } : e.optimizer!]),
    );
    await drive(
      mg.compare(runs, problem, options),
      (e) => {
        recorder.add(e);
        if (e.run !== null) view.update({ run: e.run, step: e.step, loss: e.loss, elapsedMs: recorder.run(e.run)?.timeMs ?? e.elapsedMs, status: e.done ? e.status : undefined });
        onEvent?.(e);
      },
      interrupt,
    );
  }
  view.end();
  return recorder.finish({ cancelled: interrupt.interrupted });
}

/** The runs' notes (skipped runs, L-BFGS steps), which a narrow terminal's table leaves out. */
function printNotes(records: readonly ProblemRecord[], print: (s: string) => void): void {
  const notes = [...new Set(records.flatMap((r) => r.runs.flatMap((x) => (x.note ? [`${x.name}: ${x.note}`] : []))))];
  if (notes.length) print(`\nnotes: ${notes.join('; ')}`);
}

function printComparison(rec: ProblemRecord, print: (s: string) => void): void {
  print('');
  print(textTable(summaryTable([rec], { problemColumn: false }), { width: process.stdout.columns }));
  print('');
  print(rec.winner ? `winner: ${rec.winner} — ${rec.winnerReason}${rec.cancelled ? ' (partial: cancelled)' : ''}` : rec.winnerReason);
  printNotes([rec], print);
}

async function cmdCompare(args: string[]): Promise<number> {
  const { values, positionals } = parse('compare', args);
  if (values.help) return help('compare');
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `compare takes one spec file, got ${positionals.length}` : 'compare needs a spec file', `Usage: matgrad compare <spec.json> --optimizers sgd,adam; see 'matgrad compare --help'.`);
  const backend = await resolveBackend(values.backend as string | undefined);
  const dtype = checkDtype(values.dtype as string | undefined) ?? (backend === 'cpu' ? undefined : 'float32');
  const plot = chartFile(values.plot as string | undefined);
  if (values.report) checkWritable(values.report as string, { dir: true });
  const { problem, spec } = loadSpec(positionals[0], dtype);
  const o = runOptions(values, problem);
  const entries = compareEntries((values.optimizers as string | undefined) ?? START_OPTIMIZERS.join(','), problem, o).map((e) =>
    backend !== 'cpu' && e.optimizer && 'kind' in e.optimizer ? { plan: { ...e.plan, skipped: true, note: 'skipped: L-BFGS runs on the CPU backend' }, optimizer: null } : e,
  );
  const json = !!values.json;
  const out = json ? process.stderr : process.stdout;
  const view = json || values.quiet ? silentProgress(out) : progressView(process.stdout);
  const interrupt = new Interrupt();
  interrupt.onInterrupt = (m) => view.note(m);
  if (json) for (const e of entries) if (!e.optimizer) process.stdout.write(`${JSON.stringify({ done: true, run: e.plan.name, status: 'skipped', note: e.plan.note })}\n`);
  let sawSummary = false;
  let rec: ProblemRecord;
  try {
    rec = await runComparison(
      problem,
      entries,
      { id: 'compare', title: problem.name, spec, steps: o.steps, tolerance: o.tolerance, keyMetric: KEY_METRICS[String(spec.kind)] },
      { steps: o.steps, tolerance: o.tolerance, reportEvery: o.reportEvery, dtype, seed: o.seed, backend, signal: interrupt.signal },
      view,
      interrupt,
      (e) => {
        if (e.run === null) sawSummary = true;
        if (json) process.stdout.write(`${eventJson(e)}\n`);
      },
    );
  } finally {
    interrupt.dispose();
  }
  if (json && !sawSummary) {
    const summary = rec.runs.filter((r) => r.status !== 'skipped').map((r) => ({ run: r.name, status: r.status, finalLoss: r.finalLoss, steps: r.steps, elapsedMs: r.timeMs }));
    process.stdout.write(`${JSON.stringify({ done: true, run: null, summary })}\n`);
  }
  if (!json) printComparison(rec, (s) => process.stdout.write(`${s}\n`));
  if (plot) {
    await writeChart(plot, await problemChartSvg(rec));
    out.write(`wrote ${plot}\n`);
  }
  if (values.report) {
    const files = await writeReport(values.report as string, [{ ...rec, id: 'loss-curves' }], { title: `matgrad compare: ${problem.name}`, subtitle: `${positionals[0]} · ${timestamp()}` });
    out.write(`wrote ${files.length} files to ${values.report}/ (open ${path.join(values.report as string, 'index.html')})\n`);
  }
  return interrupt.interrupted ? 130 : 0;
}

// ─── start (npm start) ───────────────────────────────────────────────────────────────────────────────

async function cmdStart(args: string[]): Promise<number> {
  const { values, positionals } = parse('start', args);
  if (values.help) return help('start');
  if (positionals.length) throw new UsageError(`start takes no arguments, got '${positionals[0]}'`, `Run 'matgrad start --help'.`);
  const quick = !!values.quick || ['1', 'true', 'yes'].includes(process.env.MATGRAD_QUICK ?? '');
  const only = (values.only as string | undefined)?.split(',').map((s) => s.trim());
  if (only) {
    const unknown = only.filter((id) => !SEED_WORKLOADS.some((w) => w.id === id));
    if (unknown.length) throw new UsageError(`unknown workload '${unknown[0]}'`, `Workloads: ${SEED_WORKLOADS.map((w) => w.id).join(', ')}.`);
  }
  const outDir = (values.out as string | undefined) ?? 'report';
  checkWritable(outDir, { dir: true });
  const workloads = SEED_WORKLOADS.filter((w) => !only || only.includes(w.id));
  const print = (s: string) => process.stdout.write(`${s}\n`);
  const view = values.quiet ? silentProgress(process.stdout) : progressView(process.stdout);
  const interrupt = new Interrupt();
  interrupt.onInterrupt = (m) => view.note(m);
  const t0 = performance.now();
  print(`matgrad start: ${START_OPTIMIZERS.join(', ')} on ${workloads.length} seed problem${workloads.length > 1 ? 's' : ''}${quick ? ' (quick)' : ''}\n`);
  const records: ProblemRecord[] = [];
  try {
    for (const [i, w] of workloads.entries()) {
      if (interrupt.interrupted) break;
      const problem = mg.problem(w.spec);
      const steps = quick ? w.quickSteps : w.steps;
      const optimum = problem.optimum ?? 0;
      const entries: Entry[] = START_OPTIMIZERS.map((name) => {
        const c = pickOptimizer(name, problem, w.settings?.[name]);
        return { plan: { name, description: c.description, note: c.note, skipped: !c.optimizer }, optimizer: c.optimizer };
      });
      const rec = await runComparison(
        problem,
        entries,
        { id: w.id, title: `[${i + 1}/${workloads.length}] ${w.title}`, spec: w.spec, steps, tolerance: w.tolerance, keyMetric: w.keyMetric, gapTolerance: optimum !== 0 },
        {
          steps,
          // the run stops at the tolerance when the optimum is 0; otherwise the recorder checks loss − optimum
          tolerance: optimum === 0 ? w.tolerance : undefined,
          reportEvery: w.reportEvery ?? Math.max(1, Math.round(steps / 1000)),
          signal: interrupt.signal,
        },
        view,
        interrupt,
      );
      records.push({ ...rec, title: w.title });
      print('');
    }
  } finally {
    interrupt.dispose();
  }
  const totalMs = performance.now() - t0;
  print(textTable(summaryTable(records), { width: process.stdout.columns }));
  print('');
  for (const rec of records) print(`${rec.problem}: ${rec.winner ? `${rec.winner} wins — ${rec.winnerReason}` : rec.winnerReason}${rec.cancelled ? ' (cancelled: partial)' : ''}`);
  printNotes(records, print);
  if (records.length) {
    const files = await writeReport(outDir, records, {
      title: 'matgrad: sgd vs momentum vs adam vs L-BFGS on the seed problems',
      subtitle: `npm start${quick ? ' (quick)' : ''}${interrupt.interrupted ? ' — interrupted: partial results' : ''}`,
      totalMs,
      png: !values['no-png'],
      extra: { quick, interrupted: interrupt.interrupted, optimizers: START_OPTIMIZERS },
    });
    print(`\nwrote ${outDir}/: ${files.length} files — open ${path.join(outDir, 'index.html')}`);
  }
  print(`total ${ms(performance.now() - t0)}`);
  return interrupt.interrupted ? 130 : 0;
}

// ─── schema, bench, dispatch ─────────────────────────────────────────────────────────────────────────

function cmdSchema(args: string[]): number {
  const { values, positionals } = parse('schema', args);
  if (values.help) return help('schema');
  if (positionals.length) throw new UsageError(`schema takes no arguments, got '${positionals[0]}'`, `Run 'matgrad schema --help'.`);
  const text = `${JSON.stringify(mg.specSchema(), null, 2)}\n`;
  if (values.out) {
    writeOutput(values.out as string, text);
    process.stderr.write(`wrote ${values.out}\n`);
  } else process.stdout.write(text);
  return 0;
}

function cmdBench(args: string[]): Promise<number> | number {
  const script = path.join(ROOT, 'bench', 'run.ts');
  // bench/run.ts parses its own options (and --help); without a checkout only this help remains
  if (!existsSync(script)) {
    if (args.includes('--help') || args.includes('-h')) return help('bench');
    throw new MatgradError(`bench needs a source checkout of matgrad (${script} not found)`);
  }
  let loader: string;
  try {
    loader = import.meta.resolve('tsx');
  } catch {
    throw new MatgradError('bench needs tsx (npm install, from a source checkout)');
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', loader, script, ...args], { stdio: 'inherit' });
    // Ctrl-C reaches the child through the terminal; wait for it
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(signal === 'SIGINT' ? 130 : signal ? 1 : (code ?? 1));
    });
    child.on('error', (e) => {
      process.stderr.write(`matgrad bench: ${e.message}\n`);
      resolve(1);
    });
  });
}

function help(topic: string): number {
  process.stdout.write(`${HELP[topic] ?? HELP.main}\n`);
  return 0;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const COMMANDS: Record<string, (args: string[]) => Promise<number> | number> = {
  solve: cmdSolve,
  compare: cmdCompare,
  bench: cmdBench,
  schema: cmdSchema,
  start: cmdStart,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h') return help('main');
    if (command === 'help') {
      if (rest[0] !== undefined && !(rest[0] in COMMANDS)) throw new UsageError(`no help for '${rest[0]}'`, `Commands: ${Object.keys(COMMANDS).join(', ')}.`);
      return help(rest[0] ?? 'main');
    }
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    const run = COMMANDS[command];
    if (!run) {
      const guess = closest(command.replace(/^-+/, ''), Object.keys(COMMANDS));
      throw new UsageError(
        command.startsWith('-') ? `unknown option '${command}' (a command comes first)` : `unknown command '${command}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
        `Run 'matgrad --help' for the commands.`,
      );
    }
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`matgrad: ${e.message}\n${e.hint ? `${e.hint}\n` : ''}`);
      return 2;
    }
    if (e instanceof SpecFileError) {
      process.stderr.write(`matgrad: ${e.file}: invalid problem spec (${e.specError.issues.length} issue${e.specError.issues.length > 1 ? 's' : ''})\n`);
      for (const i of e.specError.issues) process.stderr.write(`  ${i.path || '(root)'}: ${i.message}\n`);
      process.stderr.write(`The spec format: 'matgrad schema' (JSON Schema).\n`);
      return 2;
    }
    if (e instanceof MatgradSpecError) {
      process.stderr.write(`matgrad: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`matgrad: ${e instanceof MatgradError ? e.message : ((e as Error)?.stack ?? String(e))}\n`);
    return 1;
  }
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0); // `matgrad solve ... --json | head -1`
  throw e;
});
const code = await main(process.argv.slice(2));
process.exitCode = code;
// a WebGPU device (or anything else) must not keep a finished command alive
setTimeout(() => process.exit(code), 1000).unref();
