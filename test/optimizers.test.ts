import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import type { Tensor } from '../src/index.js';

// Reference trajectories recorded from torch.optim (scripts/fixtures/optimizers.py, float64).
interface Param {
  shape: number[];
  init: number[];
}
interface Fixture {
  torchVersion: string;
  problems: Record<string, { params: Record<string, Param>; data: Record<string, { shape: number[]; values: number[] }> }>;
  cases: Case[];
}
interface Case {
  name: string;
  kind: 'optimizer' | 'lbfgs' | 'schedule' | 'clip';
  problem: string;
  optimizer: string;
  resolvedOptions: Record<string, unknown>;
  objective: 'loss' | '-loss';
  steps: number;
  losses: number[];
  params: Record<string, number[]>[];
  lrs?: number[];
  gradNorms?: number[];
  funcEvals?: number[];
  schedule?: { name: string; options: Record<string, number | string> };
  clip?: { kind: 'norm' | 'value'; options: { maxNorm?: number; clipValue?: number } };
}

const fixture: Fixture = JSON.parse(readFileSync(new URL('./fixtures/optimizers.json', import.meta.url), 'utf8'));

function problemLoss(name: string): { names: string[]; initial: Tensor[]; loss: (...ps: Tensor[]) => Tensor } {
  const p = fixture.problems[name];
  const names = Object.keys(p.params);
  const initial = names.map((n) => mg.tensor(new Float64Array(p.params[n].init), { shape: p.params[n].shape }));
  const data = Object.fromEntries(Object.entries(p.data).map(([k, v]) => [k, mg.tensor(new Float64Array(v.values), { shape: v.shape })]));
  const losses: Record<string, (...ps: Tensor[]) => Tensor> = {
    inverse: (X) => mg.mean(mg.square(mg.sub(mg.matmul(X, data.M), mg.eye(4)))),
    quartic: (X, y) => mg.add(mg.mean(mg.square(mg.sub(mg.matmul(mg.matmul(data.A, X), y), data.b))), mg.mul(mg.sum(mg.pow(X, 4)), 0.1)),
    rosenbrock: (x) => {
      const x0 = mg.slice(x, [0, 0], [1, 1]);
      const x1 = mg.slice(x, [1, 0], [1, 1]);
      return mg.sum(mg.add(mg.mul(mg.square(mg.sub(x1, mg.square(x0))), 100), mg.square(mg.sub(1, x0))));
    },
  };
  return { names, initial, loss: losses[name] };
}

function schedule(c: Case, lr: number): mg.optimizers.ScalarOrSchedule {
  if (!c.schedule) return lr;
  const o = c.schedule.options as Record<string, number>;
  switch (c.schedule.name) {
    case 'stepLR':
      return mg.schedules.step({ lr, stepSize: o.stepSize, gamma: o.gamma });
    case 'exponentialLR':
      return mg.schedules.exponential({ lr, gamma: o.gamma });
    case 'cosineAnnealingLR':
      return mg.schedules.cosine({ lr, tMax: o.tMax, etaMin: o.etaMin });
    case 'linearLR':
      return mg.schedules.linear({ lr, startFactor: o.startFactor, endFactor: o.endFactor, totalIters: o.totalIters });
    case 'reduceLROnPlateau':
      return mg.schedules.reduceOnPlateau({ lr, ...(c.schedule.options as object) });
    default:
      throw new Error(`unknown schedule ${c.schedule.name}`);
  }
}

function transform(c: Case): mg.optimizers.Transform {
  const o = { ...c.resolvedOptions } as Record<string, unknown>;
  const lr = schedule(c, (c.schedule ? (c as unknown as { options: { lr: number } }).options.lr : o.lr) as number);
  const opts = { ...o, lr } as never;
  const base = { sgd: mg.optimizers.sgd, adam: mg.optimizers.adam, adamw: mg.optimizers.adamw, rmsprop: mg.optimizers.rmsprop, adagrad: mg.optimizers.adagrad }[
    c.optimizer as 'sgd'
  ](opts);
  if (!c.clip) return base;
  const clip = c.clip.kind === 'norm' ? mg.optimizers.clipByGlobalNorm(c.clip.options.maxNorm!) : mg.optimizers.clipByValue(c.clip.options.clipValue!);
  return mg.optimizers.chain(clip, base);
}

/** |a − b| ≤ 1e-10·(|b| + the reference vector's scale). */
function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string) {
  const scale = Math.max(...expected.map(Math.abs), 1e-300);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= 1e-10 * (Math.abs(expected[i]) + scale))) {
      throw new Error(`${what}[${i}]: ${actual[i]} vs torch ${expected[i]} (error ${err.toExponential(2)})`);
    }
  }
}

describe(`optimizers match torch.optim ${fixture.torchVersion} trajectories (float64, 1e-10 relative)`, () => {
  for (const c of fixture.cases.filter((k) => k.kind !== 'lbfgs')) {
    it(c.name, () => {
      const { names, initial, loss } = problemLoss(c.problem);
      const objective = c.objective === '-loss' ? (...ps: Tensor[]) => mg.neg(loss(...ps)) : loss;
      const tx = transform(c);
      const prog = new mg.optimizers.StepProgram(initial, objective, tx);
      for (let s = 0; s < c.steps; s++) {
        if (c.lrs) expectClose([prog.lr()], [c.lrs[s]], `lr at step ${s + 1}`);
        prog.run(1); // the program feeds each loss to its own copy of the schedule
        expectClose([prog.loss()], [c.losses[s]], `loss at step ${s + 1}`);
        if (c.gradNorms) expectClose([prog.gradNorm()], [c.gradNorms[s]], `grad norm at step ${s + 1}`);
        const ps = prog.params();
        names.forEach((n, i) => expectClose(ps[i].dataSync(), c.params[s][n], `${n} after step ${s + 1}`));
      }
      prog.dispose();
    });
  }
});

describe('L-BFGS matches torch.optim.LBFGS (same iterates, same evaluation counts)', () => {
  for (const c of fixture.cases.filter((k) => k.kind === 'lbfgs')) {
    it(c.name, () => {
      const { names, initial, loss } = problemLoss(c.problem);
      const prog = new mg.optimizers.LbfgsProgram(initial, loss, mg.optimizers.lbfgs(c.resolvedOptions as mg.optimizers.LbfgsOptions));
      for (let s = 0; s < c.steps; s++) {
        prog.run(1);
        const ps = prog.params();
        names.forEach((n, i) => expectClose(ps[i].dataSync(), c.params[s][n], `${n} after step ${s + 1}`));
        expect(prog.evaluations).toBeLessThanOrEqual(c.funcEvals![s]);
      }
      prog.dispose();
    });
  }
});
