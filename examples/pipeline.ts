// Embedding matgrad in a reactive pipeline: a stream of matrices flows through switchMap into solve();
// a new matrix cancels the run for the previous one (its buffers are freed at once).
// Run: npx tsx examples/pipeline.ts
import { filter, interval, lastValueFrom, map, switchMap, take, toArray } from 'rxjs';
import * as mg from '../src/index.js';

export async function main({ count = 5, periodMs = 5, steps = 20_000 } = {}) {
  const matrices = interval(periodMs).pipe(
    take(count),
    map((i) => mg.problem({ kind: 'inverse', matrix: { random: { shape: [4, 4], seed: i, shift: 2 } } })),
  );
  const finished = await lastValueFrom(
    matrices.pipe(
      // only the last matrix's run survives long enough to finish
      switchMap((problem) => mg.solve(problem, { steps, tolerance: 1e-26, reportEvery: 50 })),
      filter((e): e is mg.SolveResult => e.done),
      toArray(),
    ),
  );
  for (const r of finished) console.log(`solved: ${r.status} in ${r.step} steps, relative error ${r.metrics.relativeError?.toExponential(2)}`);
  return finished;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
