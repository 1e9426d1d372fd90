// What a comparison leaves behind: per run its curve, final values and timings; per problem the winner.
// A Recorder turns the events of mg.compare (or mg.solve) into these records as they arrive.
import type { DType } from '../autograd/dtype.js';
import { MatgradError } from '../errors.js';
import { type AnyParams, initialValues, type Objective } from '../problems/objective.js';
import type { CompareEvent, RunStatus, SolveEvent } from '../solve.js';
import { ms, num, type Table } from './format.js';

export interface CurvePoint {
  readonly step: number;
  readonly loss: number;
}

export interface RunRecord {
  /** The optimizer's label (the legend's line label): `sgd`, `momentum`, `adam`, `lbfgs`. */
  readonly name: string;
  /** Its settings: `sgd lr=0.05 momentum=0.9`. */
  readonly description: string;
  /** A remark, or why it was skipped. */
  note?: string;
  status: RunStatus | 'skipped' | 'running';
  steps: number;
  finalLoss: number | null;
  gradNorm: number | null;
  /** First step with loss − optimum ≤ tolerance (exact when the run stopped there, else at report granularity). */
  stepsToTolerance: number | null;
  /** Compute time this run had spent when it reached the tolerance. */
  timeToToleranceMs: number | null;
  /**
   * Compute time of this run alone: compare interleaves runs, so their wall-clock times overlap; this
   * sums the time up to each of the run's events since the previous event (building the programs, before
   * the first event, is shared evenly).
   */
  timeMs: number;
  divergedAt: number | null;
  metrics: Record<string, number>;
  readonly points: CurvePoint[];
}

export interface ProblemRecord {
  /** File-name slug. */
  readonly id: string;
  readonly title: string;
  /** The problem's own name (`inverse 4×4`). */
  readonly problem: string;
  readonly spec?: unknown;
  readonly steps: number;
  /** Converged when loss − optimum ≤ tolerance. */
  readonly tolerance?: number;
  /** The known optimal loss; curves plot loss − optimum when it is not 0. */
  readonly optimum?: number;
  readonly keyMetric?: string;
  readonly runs: RunRecord[];
  winner: string | null;
  /** How the winner was picked. */
  winnerReason: string;
  cancelled: boolean;
}

export interface RunPlan {
  readonly name: string;
  readonly description: string;
  readonly note?: string;
  /** Skipped runs are listed but never run. */
  readonly skipped?: boolean;
}

export type RecordableEvent = CompareEvent | (SolveEvent & { readonly run?: string });

/** Collects events into a ProblemRecord; attributes the time between events to the run that emitted. */
export class Recorder {
  readonly record: ProblemRecord;
  private last = performance.now();
  /** loss − optimum ≤ tolerance is checked here for runs whose solve() had no usable tolerance. */
  private readonly gapTolerance?: number;
  private readonly minGap: number;
  private first = true;
  /** The loss at the starting point, step 0 of every curve (the runs report only after a chunk). */
  private readonly initialLoss?: number;

  constructor(
    meta: Omit<ProblemRecord, 'runs' | 'winner' | 'winnerReason' | 'cancelled'>,
    plans: readonly RunPlan[],
    opts: { checkTolerance?: boolean; initialLoss?: number } = {},
  ) {
    this.initialLoss = opts.initialLoss;
    this.record = {
      ...meta,
      runs: plans.map((p) => ({
        name: p.name,
        description: p.description,
        note: p.note,
        status: p.skipped ? 'skipped' : 'running',
        steps: 0,
        finalLoss: null,
        gradNorm: null,
        stepsToTolerance: null,
        timeToToleranceMs: null,
        timeMs: 0,
        divergedAt: null,
        metrics: {},
        points: [],
      })),
      winner: null,
      winnerReason: '',
      cancelled: false,
    };
    if (opts.checkTolerance) this.gapTolerance = meta.tolerance;
    this.minGap = Math.max(1, meta.steps / 400);
  }

  /** Restarts the clock (call right before subscribing). */
  start(): void {
    this.first = true;
    this.last = performance.now();
  }

  run(name: string): RunRecord | undefined {
    return this.record.runs.find((r) => r.name === name);
  }

  /** Takes one event (a compare event, or a solve event with `run` set or a single planned run). */
  add(event: RecordableEvent): void {
    const t = performance.now();
    const dt = t - this.last;
    this.last = t;
    if (event.done && event.run === null) return; // compare's summary: the runs' own final events came first
    const name = event.run ?? this.record.runs.find((r) => r.status !== 'skipped')?.name;
    const r = name === undefined ? undefined : this.run(name);
    if (!r) return;
    if (this.first) {
      // the first event also paid for building (tracing, compiling) every run: share it out evenly
      this.first = false;
      const running = this.record.runs.filter((x) => x.status !== 'skipped');
      for (const x of running) x.timeMs += dt / running.length;
    } else r.timeMs += dt;
    r.steps = event.step;
    r.finalLoss = event.loss;
    r.gradNorm = event.gradNorm;
    r.metrics = { ...event.metrics };
    // the curve keeps the first points densely (for a log step axis), then about 400 evenly spaced, and the end
    if (!r.points.length && event.step > 0 && this.initialLoss !== undefined && Number.isFinite(this.initialLoss)) r.points.push({ step: 0, loss: this.initialLoss });
    const prev = r.points[r.points.length - 1];
    if (Number.isFinite(event.loss) && (!prev || event.done || event.step >= prev.step * 1.06 || event.step - prev.step >= this.minGap)) {
      r.points.push({ step: event.step, loss: event.loss });
    }
    const gap = event.loss - (this.record.optimum ?? 0);
    if (this.gapTolerance !== undefined && r.stepsToTolerance === null && gap <= this.gapTolerance) {
      r.stepsToTolerance = event.step;
      r.timeToToleranceMs = r.timeMs;
    }
    if (event.done) {
      r.status = event.status;
      r.divergedAt = event.divergedAt ?? null;
      if (event.stepsToTolerance !== undefined && r.stepsToTolerance === null) {
        r.stepsToTolerance = event.stepsToTolerance;
        r.timeToToleranceMs = r.timeMs;
      }
    }
  }

  /** Marks runs that never finished as cancelled (or skipped runs stay skipped) and picks the winner. */
  finish(opts: { cancelled?: boolean } = {}): ProblemRecord {
    const rec = this.record;
    if (opts.cancelled) rec.cancelled = true;
    for (const r of rec.runs) if (r.status === 'running') r.status = 'cancelled';
    pickWinner(rec);
    return rec;
  }
}

/**
 * The winner: fewest steps to tolerance (ties: less time); when no run reached it, the lowest final
 * loss among runs that did not diverge.
 */
export function pickWinner(rec: ProblemRecord): void {
  const ran = rec.runs.filter((r) => r.status !== 'skipped' && r.status !== 'diverged' && r.finalLoss !== null && Number.isFinite(r.finalLoss));
  const reached = ran.filter((r) => r.stepsToTolerance !== null);
  if (reached.length) {
    const best = reached.reduce((a, b) => (b.stepsToTolerance! < a.stepsToTolerance! || (b.stepsToTolerance === a.stepsToTolerance && (b.timeToToleranceMs ?? Infinity) < (a.timeToToleranceMs ?? Infinity)) ? b : a));
    rec.winner = best.name;
    rec.winnerReason = `fewest steps to tolerance (${best.stepsToTolerance})`;
  } else if (ran.length) {
    const best = ran.reduce((a, b) => (b.finalLoss! < a.finalLoss! ? b : a));
    rec.winner = best.name;
    rec.winnerReason = rec.tolerance !== undefined ? 'lowest final loss (none reached the tolerance)' : 'lowest final loss';
  } else {
    rec.winner = null;
    rec.winnerReason = 'no run finished';
  }
}

/** The key metric of a run: the problem's chosen one, else the first metric. */
export function keyMetricOf(rec: ProblemRecord, run: RunRecord): [string, number] | null {
  const key = rec.keyMetric && rec.keyMetric in run.metrics ? rec.keyMetric : Object.keys(run.metrics)[0];
  return key === undefined ? null : [key, run.metrics[key]];
}

const statusText = (r: RunRecord) => (r.status === 'skipped' ? 'skipped' : r.status === 'diverged' && r.divergedAt !== null ? `diverged@${r.divergedAt}` : r.status);

/** The summary table: one row per problem and optimizer; the winner is starred. */
export function summaryTable(records: readonly ProblemRecord[], opts: { problemColumn?: boolean } = {}): Table & { winnerRows: number[] } {
  const withProblem = opts.problemColumn ?? true;
  const headers = [
    ...(withProblem ? ['problem'] : []),
    'optimizer',
    'status',
    'final loss',
    'steps to tol',
    'time to tol',
    'time',
    'key metric',
    'winner',
    'note',
  ];
  const rows: string[][] = [];
  const winnerRows: number[] = [];
  for (const rec of records) {
    rec.runs.forEach((r, i) => {
      const key = keyMetricOf(rec, r);
      const won = rec.winner === r.name;
      if (won) winnerRows.push(rows.length);
      rows.push([
        ...(withProblem ? [i === 0 ? rec.problem : ''] : []),
        r.name,
        statusText(r),
        r.status === 'skipped' ? '—' : num(r.finalLoss),
        r.stepsToTolerance === null ? '—' : String(r.stepsToTolerance),
        ms(r.timeToToleranceMs),
        r.status === 'skipped' ? '—' : ms(r.timeMs),
        key ? `${key[0]} ${num(key[1], 2)}` : '—',
        won ? '★' : '',
        r.note ?? '',
      ]);
    });
  }
  const align = headers.map((h) => (['optimizer', 'problem', 'status', 'key metric', 'note', 'winner'].includes(h) ? 'left' : 'right') as 'left' | 'right');
  // on a narrow terminal: the winner and the notes are also printed under the table
  const optional = ['time to tol', 'winner', 'note', 'steps to tol', 'time', 'key metric'];
  return { headers, rows, align, optional, winnerRows };
}

/**
 * The loss at the point every run of `problem` starts from (the same initial values solve() uses for
 * this dtype and seed); undefined when it cannot be computed there: the run itself reports why.
 */
export function initialLoss(problem: Objective<AnyParams>, opts: { dtype?: DType; seed?: number } = {}): number | undefined {
  try {
    return problem.loss(initialValues(problem, { dtype: opts.dtype, seedOffset: opts.seed })).item();
  } catch (e) {
    if (!(e instanceof MatgradError)) throw e;
    return undefined; // e.g. a linear-algebra error at the start: the run itself ends with a status
  }
}
