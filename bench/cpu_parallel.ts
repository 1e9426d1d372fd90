// `npx tsx bench/cpu_parallel.ts [--steps N] [--runs N] [--no-torch] [--json]`: ms per step of the batched
// inverse workload (inverse8-batch10k-adam: 10,000 independent 8×8 problems, Adam, float32) on each CPU
// execution path — the plain generated-JS step, the batch-tiled step on one thread (JS kernels, then
// WebAssembly SIMD kernels), and on every core — and PyTorch's eager step in the same run.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// (src/index.js first: importing the CPU backend module first would enter the autograd ↔ backend cycle
// at the wrong end)
import * as mg from '../src/index.js';
import { CpuBackend, type CpuBackendOptions } from '../src/backends/cpu/index.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const steps = Number(flag('--steps') ?? 200);
const runs = Number(flag('--runs') ?? 3);
const json = args.includes('--json');
const cores = os.availableParallelism();

function program(backend: CpuBackend) {
  // the same data as bench/workloads.ts batchInverse8
  const B = 10_000;
  const n = 8;
  const M = mg.add(mg.random([B, n, n], { seed: 7, dtype: 'float32' }), mg.mul(mg.eye(n, { dtype: 'float32' }), 8));
  const I = mg.eye(n, { dtype: 'float32' });
  return new mg.optimizers.StepProgram(
    [mg.zeros([B, n, n], { dtype: 'float32' })],
    (x) => x.matmul(M).sub(I).square().mean(),
    mg.optimizers.adam({ lr: 0.01 }),
    { gradNorm: false, backend },
  );
}

const configs: [string, CpuBackendOptions][] = [
  ['plain JS step, 1 thread', { batchWork: Infinity }],
  ['batch-tiled JS, 1 thread', { threads: 1, simd: false }],
  ['batch-tiled SIMD, 1 thread', { threads: 1 }],
  [`batch-tiled SIMD, ${cores} threads`, { threads: cores }],
];

const rows: { impl: string; msPerStep: number; loss: number }[] = [];
for (const [impl, opts] of configs) {
  const backend = new CpuBackend(opts);
  const prog = program(backend);
  prog.run(Math.min(steps, 50)); // warm up: JIT and wasm tier-up, worker start
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    prog.run(steps);
    best = Math.min(best, (performance.now() - t) / steps);
  }
  rows.push({ impl, msPerStep: best, loss: prog.loss() });
  prog.dispose();
  backend.stopWorkers();
  if (!json) process.stderr.write(`${impl}: ${best.toFixed(3)} ms/step\n`);
}

if (!args.includes('--no-torch')) {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const torchSteps = Math.max(20, Math.min(steps, 100));
  const res = spawnSync(
    '/usr/bin/python3',
    [path.join(here, 'torch_bench.py'), 'inverse8-batch10k-adam-1000', '--runs', '1', '--steps', `${torchSteps}`],
    { encoding: 'utf8', env },
  );
  if (res.status === 0) {
    const r = JSON.parse(res.stdout.trim().split('\n').pop()!);
    rows.push({ impl: `pytorch ${r.torch} eager, ${r.threads} threads`, msPerStep: r.ms / torchSteps, loss: r.result });
  } else if (!json) process.stderr.write(`pytorch unavailable: ${res.stderr.split('\n').slice(-2).join(' ')}\n`);
}

if (json) for (const r of rows) console.log(JSON.stringify({ name: 'inverse8-batch10k-adam', ...r }));
else {
  const torch = rows.find((r) => r.impl.startsWith('pytorch'));
  console.log(`\ninverse8-batch10k-adam, ms per step — ${cores} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}\n`);
  console.log('| impl | ms/step | vs PyTorch |');
  console.log('|---|---:|---:|');
  for (const r of rows)
    console.log(`| ${r.impl} | ${r.msPerStep.toFixed(3)} | ${torch ? `${(torch.msPerStep / r.msPerStep).toFixed(2)}×` : ''} |`);
}
