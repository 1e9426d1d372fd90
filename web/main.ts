// matgrad's browser demo: compare optimizers on the seed problems with live loss curves (CPU or
// WebGPU), and the low-rank SVD widget. Served by Vite: `npm run web`.
import type { Subscription } from 'rxjs';
import * as mg from '../src/index.js';
import { pickOptimizer } from '../src/report/optimizers.js';
import { SEED_WORKLOADS, START_OPTIMIZERS, type SeedWorkload } from '../src/report/seeds.js';
import { setupLowRank } from './lowrank.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} is missing from index.html`);
  return el as T;
};

/** The problems offered, by seed-workload id (the same definitions `npm start` runs). */
const PROBLEM_IDS = ['inverse-random-4x4', 'svd-16x12', 'lambda-min-4', 'eigenvector-4x4'];
const WORKLOADS = PROBLEM_IDS.map((id) => {
  const w = SEED_WORKLOADS.find((x) => x.id === id);
  if (!w) throw new Error(`demo: no seed workload '${id}'`);
  return w;
});
/** The chart's colors (Plot's tableau10, as in src/report/plot.ts), in series order. */
const COLORS = ['#4e79a7', '#f28e2c', '#e15759', '#76b7b2', '#59a14f', '#edc949', '#af7aa1', '#ff9da7'];
const CHECKED_BY_DEFAULT = new Set<string>(START_OPTIMIZERS);

type RunState = {
  readonly name: string;
  readonly description: string;
  note?: string;
  readonly color: string;
  readonly points: { step: number; loss: number }[];
  status: 'waiting' | 'running' | 'skipped' | 'error' | mg.RunStatus;
  step: number;
  loss: number;
  backend: string;
  metrics: Record<string, number>;
  elapsedMs: number;
  stepsToTolerance?: number;
};

const el = {
  adapter: $<HTMLParagraphElement>('adapter'),
  form: $<HTMLFormElement>('controls'),
  problem: $<HTMLSelectElement>('problem'),
  optimizers: $<HTMLFieldSetElement>('optimizers'),
  backend: $<HTMLSelectElement>('backend'),
  steps: $<HTMLInputElement>('steps'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  problemNote: $<HTMLParagraphElement>('problem-note'),
  chart: $<HTMLDivElement>('chart'),
  runs: $<HTMLUListElement>('runs'),
  summary: $<HTMLParagraphElement>('summary'),
};

const fmt = (x: number): string =>
  !Number.isFinite(x) ? String(x) : x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5 ? String(Number(x.toPrecision(4))) : x.toExponential(2);
const ms = (x: number): string => (x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(2)} s`);

// ─── controls ─────────────────────────────────────────────────────────────────────────────────────

for (const w of WORKLOADS) el.problem.add(new Option(w.spec.name ?? w.title, w.id));
for (const name of START_OPTIMIZERS) {
  const label = document.createElement('label');
  label.className = 'check';
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.name = 'optimizer';
  box.value = name;
  box.checked = CHECKED_BY_DEFAULT.has(name);
  label.append(box, ` ${name}`);
  el.optimizers.append(label);
}

const workload = (): SeedWorkload => WORKLOADS.find((w) => w.id === el.problem.value) ?? WORKLOADS[0];

function describeProblem(): void {
  const w = workload();
  el.steps.value = String(w.quickSteps);
  const notes: Record<string, string> = {
    inverse: 'Learn X with X·M ≈ I (mean squared residual).',
    svd: 'Learn U, V with orthonormal columns (a Stiefel retraction after each step) so that UᵀMV is diagonal.',
    'lambda-min': 'Maximize the smallest eigenvalue of a trace-1 PSD matrix: non-smooth at the optimum. The curves show loss − optimum.',
    eigenvector: 'Steer the smallest eigenvector of a matrix toward a target, through an implicit (custom-root) gradient.',
  };
  el.problemNote.textContent = `${w.title}. ${notes[String(w.spec.kind)] ?? ''}`;
}
el.problem.addEventListener('change', describeProblem);
describeProblem();

// ─── WebGPU ───────────────────────────────────────────────────────────────────────────────────────

async function detectWebGpu(): Promise<void> {
  const hasApi = typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
  let gpu: mg.WebGpuBackend | null = null;
  let why = '';
  try {
    gpu = await mg.webgpu();
  } catch (e) {
    why = (e as Error).message;
  }
  const option = el.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
  if (gpu) {
    option.disabled = false;
    option.textContent = 'WebGPU (float32)';
    el.adapter.dataset.webgpu = 'yes';
    el.adapter.dataset.adapterName = gpu.describeAdapter();
    el.adapter.innerHTML = `<span class="dot ok"></span>WebGPU adapter: <b></b>`;
    el.adapter.querySelector('b')!.textContent = gpu.describeAdapter();
  } else {
    option.disabled = true;
    option.textContent = 'WebGPU (no adapter)';
    el.adapter.dataset.webgpu = 'no';
    el.adapter.innerHTML = `<span class="dot off"></span>`;
    el.adapter.append(
      why
        ? `WebGPU failed: ${why} — running on the CPU only.`
        : hasApi
          ? 'WebGPU: this browser has navigator.gpu but found no adapter — running on the CPU only.'
          : 'WebGPU is not available in this browser — running on the CPU only.',
    );
  }
}

// ─── the comparison ───────────────────────────────────────────────────────────────────────────────

let runs: RunState[] = [];
let subscription: Subscription | null = null;
let abort: AbortController | null = null;
let chartTitle = '';
let yLabel = 'loss';
let lastDraw = 0;
let drawTimer: ReturnType<typeof setTimeout> | null = null;
let draws = 0;

function drawChart(): void {
  drawTimer = null;
  lastDraw = performance.now();
  const plotted = runs.filter((r) => r.status !== 'skipped');
  const width = Math.max(480, Math.min(900, el.chart.clientWidth || 760));
  const chart = mg.report.lossCurvesElement(
    plotted.map((r) => ({ name: r.name, points: r.points })),
    // a linear step axis while the curves grow; at the end, a log one when a run ended far sooner
    { document, title: chartTitle, width, height: 420, yLabel, stepScale: subscription ? 'linear' : 'auto' },
  );
  el.chart.replaceChildren(chart);
  draws++;
  el.chart.dataset.draws = String(draws);
  el.chart.dataset.points = String(plotted.reduce((n, r) => n + r.points.length, 0));
  el.chart.dataset.maxStep = String(Math.max(0, ...plotted.map((r) => r.step)));
}

/** Redraws at most every 120 ms (the last event of a burst is always drawn). */
function scheduleDraw(now = false): void {
  if (now) {
    if (drawTimer) clearTimeout(drawTimer);
    drawChart();
    return;
  }
  if (drawTimer) return;
  drawTimer = setTimeout(drawChart, Math.max(0, 120 - (performance.now() - lastDraw)));
}

function renderRun(r: RunState): void {
  let li = el.runs.querySelector<HTMLLIElement>(`li[data-run="${r.name}"]`);
  if (!li) {
    li = document.createElement('li');
    li.dataset.run = r.name;
    li.innerHTML = '<span class="swatch"></span><span class="name"></span><span class="desc"></span><span class="state"></span><span class="detail"></span>';
    el.runs.append(li);
  }
  li.dataset.status = r.status;
  li.dataset.step = String(r.step);
  li.dataset.loss = String(r.loss);
  li.dataset.backend = r.backend;
  li.dataset.metrics = JSON.stringify(r.metrics);
  li.className = `run ${r.status}`;
  (li.querySelector('.swatch') as HTMLElement).style.background = r.status === 'skipped' ? '#ccc' : r.color;
  li.querySelector('.name')!.textContent = r.name;
  li.querySelector('.desc')!.textContent = r.description;
  li.querySelector('.state')!.textContent = r.status;
  const parts: string[] = [];
  if (r.status === 'skipped' || r.status === 'waiting') parts.push(r.note ?? '');
  else {
    parts.push(`step ${r.step.toLocaleString('en-US')}`, `loss ${fmt(r.loss)}`);
    for (const [k, v] of Object.entries(r.metrics)) parts.push(`${k} ${fmt(v)}`);
    if (r.stepsToTolerance !== undefined) parts.push(`tolerance at step ${r.stepsToTolerance}`);
    parts.push(ms(r.elapsedMs));
    if (r.backend) parts.push(`on ${r.backend}`);
  }
  li.querySelector('.detail')!.textContent = parts.filter(Boolean).join(' · ');
}

function setRunning(running: boolean): void {
  el.start.disabled = running;
  el.stop.disabled = !running;
  for (const c of Array.from(el.form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('select, input'))) c.disabled = running;
  if (!running) {
    const gpuOption = el.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
    gpuOption.disabled = el.adapter.dataset.webgpu !== 'yes';
  }
  document.body.dataset.running = running ? 'yes' : 'no';
}

function finish(message?: string): void {
  subscription = null;
  abort = null;
  for (const r of runs) if (r.status === 'running' || r.status === 'waiting') r.status = 'cancelled';
  runs.forEach(renderRun);
  scheduleDraw(true);
  if (message !== undefined) el.summary.textContent = message;
  setRunning(false);
  el.summary.dataset.state = 'done';
}

function start(): void {
  if (subscription) return;
  const w = workload();
  const problem = mg.problem(w.spec);
  const optimum = problem.optimum ?? 0;
  const steps = Math.max(1, Math.min(200_000, Math.round(Number(el.steps.value) || w.quickSteps)));
  el.steps.value = String(steps);
  const reportEvery = Math.max(1, Math.round(steps / 200));
  const onGpu = el.backend.value === 'webgpu';
  const chosen = Array.from(el.optimizers.querySelectorAll<HTMLInputElement>('input:checked'), (b) => b.value);
  if (!chosen.length) {
    el.summary.textContent = 'Pick at least one optimizer.';
    return;
  }
  const options: Record<string, mg.SolveOptions> = {};
  runs = [];
  let colorIndex = 0;
  for (const name of chosen) {
    const c = pickOptimizer(name, problem, w.settings?.[name]);
    const isLbfgs = !!c.optimizer && 'kind' in c.optimizer && c.optimizer.kind === 'lbfgs';
    const run: RunState = {
      name,
      description: c.description,
      note: c.note,
      color: c.optimizer ? COLORS[colorIndex++ % COLORS.length] : '#ccc',
      points: [],
      status: c.optimizer ? 'waiting' : 'skipped',
      step: 0,
      loss: Number.NaN,
      backend: '',
      metrics: {},
      elapsedMs: 0,
    };
    runs.push(run);
    if (!c.optimizer) continue;
    options[name] = {
      optimizer: c.optimizer,
      // WebGPU runs the problems whose ops have WGSL kernels; 'auto' falls back to the CPU for the rest
      // (the run line says where each run went). L-BFGS is a CPU program.
      backend: onGpu && !isLbfgs ? 'auto' : 'cpu',
      // L-BFGS takes one iteration (with a line search) per step and ends far sooner: report it more often
      ...(isLbfgs ? { reportEvery: Math.max(1, Math.round(reportEvery / 20)) } : {}),
    };
    if (onGpu && isLbfgs) run.note = `${c.note ?? ''}; L-BFGS runs on the CPU`;
  }
  el.runs.replaceChildren();
  runs.forEach(renderRun);
  chartTitle = `${w.title} — ${onGpu ? 'WebGPU' : 'CPU'}`;
  yLabel = optimum === 0 ? 'loss' : 'loss − optimum';
  el.summary.dataset.state = 'running';
  if (!Object.keys(options).length) {
    finish('Nothing to run: every chosen optimizer was skipped.');
    return;
  }
  scheduleDraw(true);
  setRunning(true);
  el.summary.textContent = `Running ${Object.keys(options).join(', ')} for at most ${steps.toLocaleString('en-US')} steps…`;
  abort = new AbortController();
  const byName = new Map(runs.map((r) => [r.name, r]));
  const t0 = performance.now();
  subscription = mg
    .compare(options, problem, {
      steps,
      reportEvery,
      tolerance: optimum === 0 ? w.tolerance : undefined,
      signal: abort.signal,
    })
    .subscribe({
      next: (e) => {
        if (e.run === null) {
          // a run that diverged or never stepped (final loss NaN) cannot be the lowest
          const best = e.summary.filter((s) => s.status !== 'diverged' && Number.isFinite(s.finalLoss)).sort((a, b) => a.finalLoss - b.finalLoss)[0];
          const stopped = abort?.signal.aborted ?? false;
          finish(
            `${stopped ? 'Stopped after' : 'Done in'} ${ms(performance.now() - t0)}. ` +
              (best ? `Lowest final loss: ${best.run} (${fmt(best.finalLoss - optimum)}${optimum === 0 ? '' : ' above the optimum'}).` : ''),
          );
          return;
        }
        const r = byName.get(e.run);
        if (!r) return;
        r.step = e.step;
        r.loss = e.loss;
        r.metrics = e.metrics;
        r.elapsedMs = e.elapsedMs;
        const gap = e.loss - optimum;
        const last = r.points[r.points.length - 1];
        if (Number.isFinite(gap) && (!last || last.step !== e.step)) r.points.push({ step: e.step, loss: gap });
        if (e.done) {
          r.status = e.status;
          r.backend = e.backend;
          r.stepsToTolerance = e.stepsToTolerance;
        } else {
          r.status = 'running';
          if (!r.backend) r.backend = options[r.name].backend === 'cpu' ? 'cpu' : 'webgpu…';
        }
        renderRun(r);
        scheduleDraw(e.done);
      },
      error: (err: unknown) => {
        for (const r of runs) if (r.status === 'running' || r.status === 'waiting') r.status = 'error';
        finish(`Error: ${(err as Error).message ?? String(err)}`);
      },
    });
}

el.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  try {
    start();
  } catch (err) {
    finish(`Error: ${(err as Error).message}`);
  }
});
el.stop.addEventListener('click', () => {
  // the runs end with status 'cancelled' within a slice (~10 ms of steps); the summary event follows
  abort?.abort();
  el.summary.textContent = 'Stopping…';
});

// ─── start-up ─────────────────────────────────────────────────────────────────────────────────────

const svdMs = setupLowRank(document, {
  slider: $('rank'),
  rankValue: $('rank-value'),
  original: $('original'),
  reconstruction: $('reconstruction'),
  caption: $('recon-caption'),
  rank: $('original-caption'),
  spectrum: $('spectrum'),
  error: $('svd-error'),
});
$('svd-time').textContent = `SVD computed by matgrad (mg.linalg.svd, float64, CPU) in ${ms(svdMs)}.`;
scheduleDraw(true);
setRunning(false);
await detectWebGpu();
document.body.dataset.ready = 'yes';

// For tests and the console: the library this page runs.
(globalThis as { matgrad?: typeof mg }).matgrad = mg;
