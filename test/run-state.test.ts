import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';

// An optimizer value is a description: the state of its schedules (and of L-BFGS) belongs to each
// run. The same object shared by concurrent or sequential runs gives every run the solo result.

const { optimizers: O, schedules: S } = mg;
const objective = () =>
  mg.objective({ X: mg.param([3, 3], { init: 'normal', seed: 3 }) }, ({ X }) =>
    mg.add(mg.mse(X.matmul(mg.tensor([[4, 1, 0], [2, 3, 1], [0, 1, 5]])), mg.eye(3)), mg.mul(mg.sum(mg.pow(X, 4)), 1e-3)),
  );
// threshold 0.5: most steps count as "no improvement", so the plateau schedule cuts lr within the run
const plateau = (lr: number) => S.reduceOnPlateau({ lr, factor: 0.5, patience: 2, threshold: 0.5, cooldown: 1 });

const CASES: { name: string; make: () => mg.optimizers.Transform | mg.optimizers.Lbfgs; lrFalls?: boolean }[] = [
  { name: 'adam + reduceOnPlateau', make: () => O.adam({ lr: plateau(0.05) }), lrFalls: true },
  {
    name: 'chain(clipByGlobalNorm, sgd + warmup → plateau)',
    make: () => O.chain(O.clipByGlobalNorm(0.5), O.sgd({ lr: S.warmup({ lr: 0.05, warmupSteps: 4, after: plateau(0.05) }), momentum: 0.9 })),
    lrFalls: true,
  },
  { name: 'chain(clipByValue, rmsprop + plateau)', make: () => O.chain(O.clipByValue(0.1), O.rmsprop({ lr: plateau(0.01) })), lrFalls: true },
  { name: 'adagrad + cosine', make: () => O.adagrad({ lr: S.cosine({ lr: 0.1, tMax: 40 }) }) },
  { name: 'lbfgs', make: () => O.lbfgs({ historySize: 3, maxIter: 4 }) },
];

type Optimizer = ReturnType<(typeof CASES)[number]['make']>;

async function runOnce(optimizer: Optimizer) {
  const events = await lastValueFrom(mg.solve(objective(), { optimizer, steps: 40, reportEvery: 3 }).pipe(toArray()));
  const last = events[events.length - 1];
  if (!last.done) throw new Error('no result');
  const lrs = events.flatMap((e) => (e.done ? [] : [e.lr]));
  return { status: last.status, step: last.step, loss: last.loss, X: Array.from(last.params.X.dataSync()), lrs };
}

describe('optimizer state belongs to the run', () => {
  for (const c of CASES) {
    it(`${c.name}: 4 concurrent and 4 sequential runs sharing one object match a solo run`, async () => {
      const solo = await runOnce(c.make());
      if (c.lrFalls) expect(Math.min(...solo.lrs)).toBeLessThan(solo.lrs[0]); // the schedule acted
      const shared = c.make();
      const concurrent = await Promise.all([0, 1, 2, 3].map(() => runOnce(shared)));
      const sequential = [];
      for (let i = 0; i < 4; i++) sequential.push(await runOnce(shared));
      for (const r of [...concurrent, ...sequential]) expect(r).toEqual(solo);
    });
  }

  it('compare() runs sharing one optimizer object match each other', async () => {
    const shared = CASES[0].make();
    const events = await lastValueFrom(mg.compare({ a: shared, b: shared }, objective(), { steps: 40, reportEvery: 3 }).pipe(toArray()));
    const finals = events.filter((e) => e.done && e.run !== null) as { run: string; params: { X: mg.Tensor } }[];
    expect(finals.map((f) => f.run).sort()).toEqual(['a', 'b']);
    expect(Array.from(finals[0].params.X.dataSync())).toEqual(Array.from(finals[1].params.X.dataSync()));
  });
});
