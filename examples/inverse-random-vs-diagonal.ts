// Seed 002: learn the inverse of a random and of a diagonal 4×4 matrix with heavy-ball momentum
// (lr 0.9, momentum 0.9, 10,000 steps) and plot both loss curves on a log axis.
// Run: npx tsx examples/inverse-random-vs-diagonal.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import * as mg from '../src/index.js';

export async function main({ steps = 10_000, out = 'report/examples' } = {}) {
  const problems = {
    random: mg.problem({ kind: 'inverse', matrix: { random: { shape: [4, 4], seed: 1 } } }),
    diagonal: mg.problem({ kind: 'inverse', matrix: { diagonal: [1, 2, 3, 4] } }),
  };
  const series: mg.report.Series[] = [];
  const results: Record<string, mg.SolveResult> = {};
  for (const [name, problem] of Object.entries(problems)) {
    const events = await lastValueFrom(
      mg.solve(problem, { optimizer: mg.optimizers.sgd({ lr: 0.9, momentum: 0.9 }), steps, reportEvery: Math.max(1, steps / 200) }).pipe(toArray()),
    );
    series.push({ name, points: events.map((e) => ({ step: e.step, loss: e.loss })) });
    results[name] = events[events.length - 1] as mg.SolveResult;
    const r = results[name];
    console.log(`${name}: ${r.status} after ${r.step} steps, loss ${r.loss.toExponential(3)}, relative error ${r.metrics.relativeError?.toExponential(2)}`);
  }
  const svg = await mg.report.lossCurvesSvg(series, { title: 'seed 002: inverse by gradient descent (momentum 0.9, lr 0.9)' });
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/inverse-random-vs-diagonal.svg`, svg);
  writeFileSync(`${out}/inverse-random-vs-diagonal.png`, await mg.report.svgToPng(svg));
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
