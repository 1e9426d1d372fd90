import { lastValueFrom, Subject, switchMap, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';

const M = mg.tensor([
  [4, 1],
  [2, 3],
]);
const inverse = (matrix = M) =>
  mg.objective(
    { X: mg.param([2, 2], { init: 'uniform', seed: 1 }) },
    ({ X }) => mg.mse(X.matmul(matrix), mg.eye(matrix.shape[0])),
    {
      metrics: ({ X }) => ({
        residual: mg.sqrt(mg.sum(mg.square(X.matmul(matrix).sub(mg.eye(matrix.shape[0]))))),
      }),
    },
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('solve()', () => {
  it('converges, reports progress every chunk, and ends with params and metrics', async () => {
    const events = await lastValueFrom(
      mg
        .solve(inverse(), {
          optimizer: mg.optimizers.sgd({ lr: 0.1, momentum: 0.9 }),
          steps: 5000,
          tolerance: 1e-20,
          reportEvery: 50,
        })
        .pipe(toArray()),
    );
    const last = events[events.length - 1];
    expect(last.done).toBe(true);
    if (!last.done) return;
    expect(last.status).toBe('converged');
    expect(last.loss).toBeLessThanOrEqual(1e-20);
    expect(last.stepsToTolerance).toBe(last.step);
    const X = last.params.X;
    const inv = [
      [0.3, -0.1],
      [-0.2, 0.4],
    ];
    (X.arraySync() as number[][]).forEach((row, i) =>
      row.forEach((v, j) => expect(v).toBeCloseTo(inv[i][j], 9)),
    );
    expect(last.metrics.residual).toBeLessThan(1e-9);
    const progress = events.filter((e) => !e.done);
    expect(progress.length).toBeGreaterThan(2);
    progress.forEach((e, i) => {
      if (e.done) return;
      expect(e.step).toBe((i + 1) * 50);
      expect(e.lr).toBe(0.1);
      expect(Number.isFinite(e.gradNorm)).toBe(true);
    });
  });
  it('is cold: each subscription is a fresh run from the same start', async () => {
    const obs = mg.solve(inverse(), { steps: 10, reportEvery: 10 });
    const a = await lastValueFrom(obs);
    const b = await lastValueFrom(obs);
    expect(a.loss).toBe(b.loss);
  });
  it('stops at max-steps', async () => {
    const r = await lastValueFrom(mg.solve(inverse(), { steps: 30, reportEvery: 7 }));
    expect(r.done && r.status).toBe('max-steps');
    expect(r.done && r.step).toBe(30);
  });
  it('reports divergence as a status with the step, never an exception', async () => {
    const r = await lastValueFrom(
      mg.solve(inverse(), { optimizer: mg.optimizers.sgd({ lr: 1e6 }), steps: 1000 }),
    );
    expect(r.done).toBe(true);
    if (!r.done) return;
    expect(r.status).toBe('diverged');
    expect(r.divergedAt).toBeGreaterThan(0);
    expect(r.divergedAt).toBeLessThan(100);
    expect(r.step).toBe(r.divergedAt);
  });
  it('stalls after `patience` steps without improvement', async () => {
    const flat = mg.objective({ x: mg.param([2]) }, ({ x }) => mg.mul(mg.sum(x), 0));
    const r = await lastValueFrom(mg.solve(flat, { patience: 25, steps: 1000, reportEvery: 10 }));
    expect(r.done && r.status).toBe('stalled');
  });
  it('unsubscribe after 3 events stops stepping and frees every buffer', async () => {
    const baseline = mg.cpu.stats().liveBuffers;
    const steps: number[] = [];
    const sub = mg.solve(inverse(), { steps: 1_000_000, reportEvery: 10 }).subscribe((e) => {
      steps.push(e.step);
      if (steps.length === 3) sub.unsubscribe();
    });
    await sleep(50);
    expect(steps).toEqual([10, 20, 30]);
    expect(mg.cpu.stats().liveBuffers).toBe(baseline);
  });
  it('an aborted signal cancels the run and frees its buffers', async () => {
    const baseline = mg.cpu.stats().liveBuffers;
    const controller = new AbortController();
    const events: mg.SolveEvent[] = [];
    const done = new Promise<void>((resolve) =>
      mg.solve(inverse(), { steps: 1_000_000, reportEvery: 10, signal: controller.signal }).subscribe({
        next: (e) => {
          events.push(e);
          if (events.length === 3) controller.abort();
        },
        complete: resolve,
      }),
    );
    await done;
    const last = events[events.length - 1];
    expect(last.done && last.status).toBe('cancelled');
    expect(last.step).toBe(30);
    expect(mg.cpu.stats().liveBuffers).toBe(baseline);
  });
  it('validates options with clear errors', () => {
    expect(() => mg.solve(inverse(), { steps: -1 })).toThrow(
      'solve: steps must be a positive integer, got -1',
    );
    expect(() => mg.solve({} as mg.Objective)).toThrow(/expected a problem/);
  });
  it('keeps memory flat over 1,000,000 small steps', async () => {
    const obs = mg.solve(inverse(), {
      optimizer: mg.optimizers.sgd({ lr: 1e-3 }),
      steps: 1_000_000,
      reportEvery: 100_000,
    });
    await lastValueFrom(obs.pipe(take(1))); // warm up
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const r = await lastValueFrom(obs);
    global.gc?.();
    const after = process.memoryUsage().heapUsed;
    expect(r.done && r.step).toBe(1_000_000);
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('compare()', () => {
  it('interleaves runs from the same start and ends with a summary', async () => {
    const events = await lastValueFrom(
      mg
        .compare(
          {
            sgd: mg.optimizers.sgd({ lr: 0.1 }),
            momentum: mg.optimizers.sgd({ lr: 0.1, momentum: 0.9 }),
            adam: { optimizer: mg.optimizers.adam({ lr: 0.05 }), steps: 200 },
          },
          inverse(),
          { steps: 400, reportEvery: 100, tolerance: 1e-12 },
        )
        .pipe(toArray()),
    );
    const order = events.slice(0, 3).map((e) => e.run);
    expect(order).toEqual(['sgd', 'momentum', 'adam']);
    const last = events[events.length - 1];
    expect(last.run).toBeNull();
    if (!('summary' in last)) throw new Error('no summary');
    expect(last.summary.map((s) => s.run)).toEqual(['sgd', 'momentum', 'adam']);
    expect(last.summary.find((s) => s.run === 'adam')!.steps).toBeLessThanOrEqual(200);
    const momentum = last.summary.find((s) => s.run === 'momentum')!;
    expect(momentum.status).toBe('converged');
    expect(momentum.stepsToTolerance).toBeGreaterThan(0);
  });
});

describe('pipelines', () => {
  it('a new matrix cancels the old run (switchMap)', async () => {
    const matrices = new Subject<mg.Tensor>();
    const baseline = mg.cpu.stats().liveBuffers;
    const results = lastValueFrom(
      matrices.pipe(
        switchMap((m) =>
          mg.solve(inverse(m), {
            optimizer: mg.optimizers.sgd({ lr: 0.1, momentum: 0.9 }),
            steps: 2000,
            tolerance: 1e-24,
            reportEvery: 10,
          }),
        ),
        toArray(),
      ),
    );
    matrices.next(
      mg.tensor([
        [2, 0],
        [0, 2],
      ]),
    );
    matrices.next(
      mg.tensor([
        [4, 1],
        [2, 3],
      ]),
    ); // replaces the first before it finishes
    matrices.complete();
    const events = await results;
    const finals = events.filter((e) => e.done);
    expect(finals.length).toBe(1);
    expect(finals[0].done && finals[0].status).toBe('converged');
    expect(mg.cpu.stats().liveBuffers).toBe(baseline);
  });
});
