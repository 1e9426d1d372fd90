// The run loop's contract (issue 13, classes 4, 7, 11): a run's outcome does not depend on
// `reportEvery`, every failure inside a run is a final status with its step and cause (never an
// Observable error), and a cancel or a time limit lands promptly whatever `reportEvery` is.
import { lastValueFrom, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { noteSkip, webgpuForTests } from './helpers/webgpu.js';

const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('runloop.test.ts', reason);

const REPORT_EVERY = [1, 3, 100, 1e6];

/** x* = θ found by a host-side solver that throws once θ₀ < 0.5 (as x* = θ falls under sgd). */
const fragileRoot = () =>
  mg.customRoot(
    (x: Tensor, t: Tensor) => mg.sub(x, t),
    (t: Tensor) => {
      if (t.dataSync()[0] < 0.5) throw new mg.MatgradError('fragile solver: θ fell under 0.5');
      return t;
    },
  );

/** x ↦ Σx² through the fragile root: sgd lr 0.1 scales θ by 0.8 a step, so step k solves at 0.8^(k−1). */
const throwingStep = () => {
  const root = fragileRoot();
  return mg.objective({ x: mg.param([1], { init: 'ones' }) }, ({ x }) => mg.sum(mg.square(root(x))));
};
/** The first step whose solve sees θ < 0.5, and the loss of the step before it. */
const firstFailingStep = () => {
  let k = 1;
  while (0.8 ** (k - 1) >= 0.5) k++;
  return { step: k, lossBefore: (0.8 ** (k - 2)) ** 2 };
};

interface Hostile {
  name: string;
  objective: () => mg.Objective;
  options: mg.SolveOptions;
}
const hostile: Hostile[] = [
  { name: 'svd of I (default optimizer)', objective: () => mg.problem({ kind: 'svd', matrix: { eye: 4 } }), options: { steps: 300 } },
  {
    name: 'lambda-min from zeros',
    objective: () => mg.problem({ kind: 'lambda-min', n: 4, init: { init: 'zeros', seed: 1, scale: 1 } }),
    options: { steps: 50 },
  },
  {
    name: 'implicit eigenvector at a repeated eigenvalue',
    objective: () => mg.problem({ kind: 'eigenvector', matrix: { eye: 4 } }),
    options: { steps: 50 },
  },
  {
    // the first update overflows to ∞ while that step's loss (before the update) is finite
    name: 'parameters blow up under a finite loss',
    objective: () => mg.objective({ x: mg.param([3], { init: 'ones' }) }, ({ x }) => mg.mul(mg.sum(x), 1e300)),
    options: { optimizer: mg.optimizers.sgd({ lr: 1e10 }), steps: 20 },
  },
  { name: 'a host-side solver throws inside a step', objective: throwingStep, options: { optimizer: mg.optimizers.sgd({ lr: 0.1 }), steps: 20 } },
  {
    name: 'a schedule throws inside a step',
    objective: () => mg.objective({ x: mg.param([2], { init: 'ones' }) }, ({ x }) => mg.sum(mg.square(x))),
    options: {
      optimizer: mg.optimizers.sgd({
        lr: (t: number) => {
          if (t >= 4) throw new mg.MatgradError('schedule: no rate past step 4');
          return 0.1;
        },
      }),
      steps: 20,
    },
  },
  { name: 'L-BFGS through a throwing solver', objective: throwingStep, options: { optimizer: mg.optimizers.lbfgs({ lr: 0.1, maxIter: 1 }), steps: 20 } },
  {
    name: 'metrics that throw do not end the run',
    objective: () => {
      const root = fragileRoot();
      return mg.objective({ x: mg.param([1], { init: 'ones' }) }, ({ x }) => mg.sum(mg.square(x)), {
        metrics: ({ x }) => ({ x: x, root: root(mg.sub(x, 1)) }),
      });
    },
    options: { optimizer: mg.optimizers.sgd({ lr: 0.1 }), steps: 10 },
  },
];

const finalOf = async (objective: mg.Objective, options: mg.SolveOptions) => {
  const events = await lastValueFrom(mg.solve(objective, options).pipe(toArray()));
  const last = events[events.length - 1];
  if (!last.done) throw new Error('no final event');
  return { last, events };
};
const outcome = (r: mg.SolveResult) => ({ status: r.status, step: r.step, divergedAt: r.divergedAt, cause: r.cause, loss: r.loss });

describe('a run ends with a status, never an Observable error, whatever reportEvery is', () => {
  for (const h of hostile) {
    it(h.name, async () => {
      const outcomes = [];
      for (const reportEvery of REPORT_EVERY) {
        const { last, events } = await finalOf(h.objective(), { ...h.options, reportEvery });
        // progress events come at reportEvery boundaries only
        events.slice(0, -1).forEach((e, i) => expect(e.step).toBe((i + 1) * reportEvery));
        outcomes.push(outcome(last));
      }
      for (const o of outcomes) expect(o).toEqual(outcomes[0]);
      const o = outcomes[0];
      if (o.status === 'diverged') {
        expect(o.step).toBe(o.divergedAt);
        expect(o.cause).toMatch(/^(the loss is (NaN|-?Infinity)|a parameter is not finite after the update|MatgradError: .+)$/);
      } else expect([o.divergedAt, o.cause]).toEqual([undefined, undefined]);
    });
  }

  it('a blow-up of the parameters is caught at the step it happens', async () => {
    const h = hostile.find((x) => x.name.startsWith('parameters blow up'))!;
    const { last } = await finalOf(h.objective(), { ...h.options, reportEvery: 100 });
    expect([last.status, last.divergedAt, last.cause]).toEqual(['diverged', 1, 'a parameter is not finite after the update']);
    expect(Number.isFinite(last.loss)).toBe(true); // step 1's loss was finite; its update was not
  });

  it('a step that throws ends the run as diverged at that step, with the error as its cause', async () => {
    const { step, lossBefore } = firstFailingStep();
    for (const name of ['a host-side solver throws inside a step', 'L-BFGS through a throwing solver']) {
      const h = hostile.find((x) => x.name === name)!;
      const { last } = await finalOf(h.objective(), { ...h.options, reportEvery: 7 });
      expect(last.status).toBe('diverged');
      expect(last.cause).toBe('MatgradError: fragile solver: θ fell under 0.5');
      if (name.startsWith('a host')) {
        expect([last.divergedAt, last.step]).toEqual([step, step]);
        expect(last.loss).toBeCloseTo(lossBefore, 12); // the last real loss, not the failed step's
      }
    }
    const h = hostile.find((x) => x.name === 'a schedule throws inside a step')!;
    const { last } = await finalOf(h.objective(), { ...h.options, reportEvery: 2 });
    // the rate of step t is lr(t − 1): step 5 asks for lr(4)
    expect([last.status, last.divergedAt, last.cause]).toEqual(['diverged', 5, 'MatgradError: schedule: no rate past step 4']);
  });

  it('a metric that cannot be computed is NaN in that event; the others keep their values', async () => {
    const h = hostile.find((x) => x.name.startsWith('metrics that throw'))!;
    const { last, events } = await finalOf(h.objective(), { ...h.options, reportEvery: 1 });
    expect(last.status).toBe('max-steps');
    // the root's solver sees x − 1 < 0.5 and throws at every event; x is 0.8^step (sgd on x²)
    expect(events).toHaveLength(10);
    for (const e of events) {
      expect(e.metrics.root).toBeNaN();
      expect(e.metrics.x).toBeCloseTo(0.8 ** e.step, 12);
    }
  });

  it('stops decided by the loss, ‖∇‖ or patience do not depend on reportEvery', async () => {
    const M = mg.tensor([
      [4, 1],
      [2, 3],
    ]);
    const inverse = () => mg.objective({ X: mg.param([2, 2], { init: 'uniform', seed: 1 }) }, ({ X }) => mg.mse(X.matmul(M), mg.eye(2)));
    const cases: mg.SolveOptions[] = [
      { optimizer: mg.optimizers.sgd({ lr: 0.1, momentum: 0.9 }), tolerance: 1e-12, steps: 5000 },
      { optimizer: mg.optimizers.adam({ lr: 0.01 }), gradTolerance: 1e-3, steps: 5000 },
      { optimizer: mg.optimizers.sgd({ lr: 0 }), patience: 7, steps: 5000 },
      { optimizer: mg.optimizers.adam({ lr: mg.schedules.reduceOnPlateau({ lr: 0.05, patience: 3, factor: 0.5 }) }), steps: 333 },
    ];
    for (const options of cases) {
      const results = [];
      for (const reportEvery of REPORT_EVERY) results.push((await finalOf(inverse(), { ...options, reportEvery })).last);
      for (const r of results) {
        expect(outcome(r)).toEqual(outcome(results[0]));
        expect(r.gradNorm).toBe(results[0].gradNorm);
        expect(r.params.X.dataSync()).toEqual(results[0].params.X.dataSync());
      }
      expect(results[0].status).toBe(options.tolerance || options.gradTolerance ? 'converged' : options.patience ? 'stalled' : 'max-steps');
      if (options.gradTolerance) expect(results[0].gradNorm).toBeLessThanOrEqual(options.gradTolerance);
    }
  });
});

describe('cancellation lands within a slice, whatever reportEvery is', () => {
  const M = mg.tensor([
    [4, 1],
    [2, 3],
  ]);
  const small = () =>
    mg.objective({ X: mg.param([2, 2], { init: 'uniform', seed: 1 }) }, ({ X }) => mg.mse(X.matmul(M), mg.eye(2)), {
      metrics: ({ X }) => ({ residual: mg.sum(mg.square(X.matmul(M).sub(mg.eye(2)))) }),
    });
  const endless: mg.SolveOptions = { optimizer: mg.optimizers.sgd({ lr: 1e-6 }), steps: 1e9, reportEvery: 1e7 };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const CANCELS = 5;

  // measured from when the abort was due (its timer's deadline), so time the event loop spent blocked
  // by a chunk counts too
  it('an aborted signal ends the run as cancelled within 50 ms (median)', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < CANCELS; i++) {
      const controller = new AbortController();
      const events: mg.SolveEvent[] = [];
      let ended = 0;
      const done = new Promise<void>((resolve) =>
        mg.solve(small(), { ...endless, signal: controller.signal }).subscribe({
          next: (e) => {
            events.push(e);
            if (e.done) ended = performance.now();
          },
          complete: resolve,
        }),
      );
      const due = performance.now() + 60 + 15 * i;
      await sleep(due - performance.now());
      controller.abort();
      await done;
      latencies.push(ended - due);
      expect(events).toHaveLength(1); // no progress event: the chunk of 1e7 steps never completed
      const last = events[0];
      expect(last.done && last.status).toBe('cancelled');
      expect(last.step).toBeGreaterThan(0);
      expect(Number.isFinite(last.loss)).toBe(true);
    }
    expect(median(latencies)).toBeLessThanOrEqual(50);
  });

  it('an unsubscribe stops stepping and frees the buffers within 50 ms (median)', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < CANCELS; i++) {
      const baseline = mg.cpu.stats().liveBuffers;
      const sub = mg.solve(small(), endless).subscribe();
      const due = performance.now() + 60 + 15 * i;
      await sleep(due - performance.now());
      sub.unsubscribe();
      while (mg.cpu.stats().liveBuffers > baseline) await new Promise((r) => setImmediate(r));
      latencies.push(performance.now() - due);
    }
    expect(median(latencies)).toBeLessThanOrEqual(50);
  });

  it('timeLimitMs is checked inside a chunk', async () => {
    for (const reportEvery of [1000, 5e6]) {
      const r = await lastValueFrom(mg.solve(small(), { ...endless, reportEvery, timeLimitMs: 100 }));
      expect(r.done && r.status).toBe('time-limit');
      expect(r.elapsedMs).toBeGreaterThanOrEqual(100);
      expect(r.elapsedMs).toBeLessThanOrEqual(150);
    }
  });

  it('a run cancelled before its first step reports loss NaN, not 0; later, the last real loss', async () => {
    const controller = new AbortController();
    controller.abort();
    const first = await lastValueFrom(mg.solve(small(), { ...endless, signal: controller.signal }));
    expect(first.done && first.status).toBe('cancelled');
    expect([first.step, first.loss, first.gradNorm]).toEqual([0, Number.NaN, Number.NaN]);
    expect(Number.isFinite(first.metrics.residual)).toBe(true); // at the initial parameters

    const later = new AbortController();
    const events = await lastValueFrom(
      mg
        .solve(small(), { optimizer: mg.optimizers.sgd({ lr: 0.01 }), steps: 1e9, reportEvery: 10, signal: later.signal })
        .pipe(
          tap((e) => e.step === 30 && later.abort()),
          toArray(),
        ),
    );
    const [third, cancelled] = events.slice(-2);
    expect(cancelled.done && cancelled.status).toBe('cancelled');
    expect([cancelled.step, cancelled.loss, cancelled.gradNorm]).toEqual([third.step, third.loss, third.gradNorm]);
  });

  it('compare: an abort cancels every run promptly; a run that never stepped has finalLoss NaN', async () => {
    const controller = new AbortController();
    const due = performance.now() + 250;
    setTimeout(() => controller.abort(), 250);
    const events = await lastValueFrom(
      mg.compare({ a: mg.optimizers.sgd({ lr: 1e-6 }), b: mg.optimizers.adam({ lr: 1e-6 }) }, small(), { ...endless, signal: controller.signal }).pipe(toArray()),
    );
    expect(performance.now() - due).toBeLessThanOrEqual(100);
    const summary = events[events.length - 1];
    if (summary.run !== null) throw new Error('no summary');
    expect(summary.summary.map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
    const [a, b] = summary.summary;
    // a was mid-chunk (or still being built); b's turn never came
    expect(Number.isFinite(a.finalLoss)).toBe(a.steps > 0);
    expect([b.steps, b.finalLoss]).toEqual([0, Number.NaN]);
  });
});

describe('on WebGPU, the run is watched at the end of every submit', () => {
  const M = mg.tensor([[4, 1], [2, 3]], { dtype: 'float32' });
  const small = () =>
    mg.objective({ X: mg.param([2, 2], { init: 'uniform', seed: 1, dtype: 'float32' }) }, ({ X }) => mg.mse(X.matmul(M), mg.eye(2, { dtype: 'float32' })));

  it.skipIf(!gpu)('tolerance and divergence stop the run inside a chunk of 1e6 steps', async () => {
    const converged = await lastValueFrom(
      mg.solve(small(), { backend: 'webgpu', optimizer: mg.optimizers.sgd({ lr: 0.1 }), tolerance: 1e-10, steps: 1e5, reportEvery: 1e6 }),
    );
    expect(converged.done && converged.status).toBe('converged');
    expect(converged.loss).toBeLessThanOrEqual(1e-10);
    expect(converged.step).toBeLessThan(1e5);
    const diverged = await lastValueFrom(mg.solve(small(), { backend: 'webgpu', optimizer: mg.optimizers.sgd({ lr: 1e9 }), steps: 1e5, reportEvery: 1e6 }));
    expect(diverged.done && diverged.status).toBe('diverged');
    expect(diverged.step).toBe(diverged.done && diverged.divergedAt);
    expect(diverged.step).toBeLessThan(1e5);
  });

  it.skipIf(!gpu)('an abort lands within one submit (median ≤ 50 ms)', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      let ended = 0;
      let last: mg.SolveEvent | null = null;
      const done = new Promise<void>((resolve) =>
        mg
          .solve(small(), { backend: 'webgpu', optimizer: mg.optimizers.sgd({ lr: 1e-6 }), steps: 1e9, reportEvery: 1e7, signal: controller.signal })
          .subscribe({
            next: (e) => {
              last = e;
              ended = performance.now();
            },
            complete: resolve,
          }),
      );
      const due = performance.now() + 300;
      await new Promise((r) => setTimeout(r, 300));
      controller.abort();
      await done;
      latencies.push(ended - due);
      const final = last as mg.SolveEvent | null;
      expect(final?.done && final.status).toBe('cancelled');
    }
    expect(latencies.sort((a, b) => a - b)[1]).toBeLessThanOrEqual(50);
  });
});
