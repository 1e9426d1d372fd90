// `npx tsx bench/webgpu.ts [--json] [--runs N] [--only a,b]`: the seed workloads on the WebGPU backend (float32),
// best of N (default 3), with the CPU float32 figure of the same workload in the same run for scale.
// One JSON object per line with --json ({name, impl, dtype, adapter, ms, perStepUs, result}).
import * as mg from '../src/index.js';
import type { Backend } from '../src/backends/backend.js';
import { webgpuBackend } from '../src/backends/webgpu/index.js';
import { GPU_JOBS as JOBS, type GpuJob as Job } from './gpu-jobs.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1].split(',') : null;

/** Best of `runs`: a fresh program each time; timed = run(steps) + reading the loss back. */
async function best(job: Job, backend: Backend): Promise<{ ms: number; result: number }> {
  let ms = Infinity;
  let result = Number.NaN;
  for (let r = 0; r < runs; r++) {
    const prog = job.build(backend);
    if (backend.name === 'webgpu') {
      prog.run(1); // warm-up: first submit, pipelines already built at compile
      await prog.read();
    }
    const t = performance.now();
    prog.run(job.steps);
    result = (await prog.read()).loss;
    ms = Math.min(ms, performance.now() - t);
    prog.dispose();
  }
  return { ms, result };
}

const gpu = await webgpuBackend();
if (!gpu) {
  console.error('no WebGPU adapter: nothing to measure');
  process.exit(1);
}
const adapter = gpu.describeAdapter();
if (!json) console.log(`adapter: ${adapter}\n`);
if (!json) console.log('| workload | impl | ms | µs/step | final loss |\n|---|---|---:|---:|---:|');
for (const job of JOBS.filter((j) => !only || only.includes(j.name))) {
  for (const backend of [gpu, mg.cpu] as Backend[]) {
    const { ms, result } = await best(job, backend);
    const row = {
      name: job.name,
      impl: `matgrad-${backend.name}`,
      dtype: 'float32',
      adapter: backend.name === 'webgpu' ? adapter : 'cpu',
      ms: Number(ms.toFixed(3)),
      perStepUs: Number(((ms * 1000) / job.steps).toFixed(2)),
      result,
    };
    if (json) console.log(JSON.stringify(row));
    else
      console.log(
        `| ${row.name} | ${row.impl} | ${row.ms.toFixed(1)} | ${row.perStepUs.toFixed(2)} | ${result.toExponential(4)} |`,
      );
  }
}
gpu.destroy();
