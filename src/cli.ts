#!/usr/bin/env node
// The matgrad command line. `matgrad start` (npm start) compares optimizers on the seed workloads.
import * as mg from './index.js';

interface Row {
  problem: string;
  optimizer: string;
  finalLoss: number;
  stepsToTol: number | null;
  ms: number;
}

/** Seed 002: learn M⁻¹ by minimizing mean((XM − I)²), for a random and a diagonal 4×4 M. */
function seedInverseProblems(): { name: string; M: mg.Tensor }[] {
  return [
    { name: 'inverse 4×4 random', M: mg.random([4, 4], { seed: 1 }) },
    { name: 'inverse 4×4 diagonal', M: mg.diagEmbed(mg.tensor([1, 2, 3, 4])) },
  ];
}

const OPTIMIZERS: Record<string, () => mg.optimizers.Transform> = {
  sgd: () => mg.optimizers.sgd({ lr: 0.1 }),
  momentum: () => mg.optimizers.sgd({ lr: 0.9, momentum: 0.9 }),
  adam: () => mg.optimizers.adam({ lr: 0.01 }),
};

function start(): void {
  const steps = 10_000;
  const tolerance = 1e-12;
  const chunk = 100;
  const rows: Row[] = [];
  for (const { name, M } of seedInverseProblems()) {
    const n = M.shape[0];
    const I = mg.eye(n);
    for (const [opt, make] of Object.entries(OPTIMIZERS)) {
      const prog = new mg.optimizers.StepProgram(
        [mg.random([n, n], { seed: 2 })],
        (X) => mg.mse(X.matmul(M), I),
        make(),
      );
      let stepsToTol: number | null = null;
      const t0 = performance.now();
      while (prog.t < steps) {
        prog.run(chunk);
        if (stepsToTol === null && prog.loss() < tolerance) stepsToTol = prog.t;
        if (!Number.isFinite(prog.loss())) break;
      }
      rows.push({
        problem: name,
        optimizer: opt,
        finalLoss: prog.loss(),
        stepsToTol,
        ms: performance.now() - t0,
      });
      prog.dispose();
    }
  }
  console.log(
    `matgrad: optimizers compared on the seed-002 inverse problems (${steps} steps, tolerance ${tolerance})\n`,
  );
  console.log('| problem | optimizer | final loss | steps to tol | time (ms) |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.problem} | ${r.optimizer} | ${r.finalLoss.toExponential(3)} | ${r.stepsToTol ?? '—'} | ${r.ms.toFixed(1)} |`,
    );
  }
  for (const problem of new Set(rows.map((r) => r.problem))) {
    const mine = rows.filter((r) => r.problem === problem);
    const winner = mine.reduce((a, b) =>
      (a.stepsToTol ?? Infinity) <= (b.stepsToTol ?? Infinity) && a.finalLoss <= b.finalLoss ? a : b,
    );
    console.log(`\n${problem}: fastest to tolerance: ${winner.optimizer}`);
  }
}

const [command = 'help'] = process.argv.slice(2);
if (command === 'start') start();
else {
  console.log('usage: matgrad start   compare optimizers on the seed problems');
  process.exit(command === 'help' || command === '--help' ? 0 : 2);
}
