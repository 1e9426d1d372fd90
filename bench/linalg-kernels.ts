// `npx tsx bench/linalg-kernels.ts [--batch N] [--n N] [--runs N]`: best-of-N timings of the dense
// linear-algebra kernels (eigh and svd, float64, batch of small matrices) and, when PyTorch imports, of
// torch.linalg.eigh / torch.linalg.svd on the same data in the same run.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { eigh, svd } from '../src/linalg/kernels.js';
import { signedRng } from '../test/helpers/arrays.js';

const args = process.argv.slice(2);
const flag = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const batch = flag('--batch', 1000);
const n = flag('--n', 8);
const runs = flag('--runs', 5);
const warmup = 5;

const r = signedRng(2024);
const nn = n * n;
const general = new Float64Array(batch * nn);
for (let i = 0; i < general.length; i++) general[i] = r();
const symmetric = new Float64Array(batch * nn);
for (let t = 0; t < batch; t++) {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = r();
      symmetric[t * nn + i * n + j] = v;
      symmetric[t * nn + j * n + i] = v;
    }
  }
}

function bestOf(fn: () => void): number {
  for (let i = 0; i < warmup; i++) fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const values = new Float64Array(batch * n);
const vectors = new Float64Array(batch * nn);
const U = new Float64Array(batch * nn);
const S = new Float64Array(batch * n);
const Vh = new Float64Array(batch * nn);

const ours = {
  eigh: bestOf(() => {
    if (eigh(symmetric, batch, n, values, vectors) !== -1) throw new Error('eigh failed');
  }),
  svd: bestOf(() => {
    if (svd(general, batch, n, n, U, S, Vh) !== -1) throw new Error('svd failed');
  }),
};

// PyTorch on the same matrices (sent as raw float64 bytes), same process tree, same best-of-N
const torchScript = `
import sys, time, json, torch
b, n, runs, warmup = ${batch}, ${n}, ${runs}, ${warmup}
raw = sys.stdin.buffer.read()
half = len(raw) // 2
sym = torch.frombuffer(bytearray(raw[:half]), dtype=torch.float64).reshape(b, n, n)
gen = torch.frombuffer(bytearray(raw[half:]), dtype=torch.float64).reshape(b, n, n)
def best(f):
    for _ in range(warmup): f()
    m = float('inf')
    for _ in range(runs):
        t = time.perf_counter(); f(); m = min(m, time.perf_counter() - t)
    return m * 1e3
print(json.dumps({
    'eigh': best(lambda: torch.linalg.eigh(sym)),
    'svd': best(lambda: torch.linalg.svd(gen, full_matrices=False)),
    'torch': torch.__version__, 'threads': torch.get_num_threads()}))
`;
let torch: { eigh: number; svd: number; torch: string; threads: number } | null = null;
if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const input = Buffer.concat([
    Buffer.from(symmetric.buffer, symmetric.byteOffset, symmetric.byteLength),
    Buffer.from(general.buffer, general.byteOffset, general.byteLength),
  ]);
  const res = spawnSync('/usr/bin/python3', ['-c', torchScript], { input, encoding: 'utf8', env });
  if (res.status === 0) torch = JSON.parse(res.stdout.trim().split('\n').pop()!);
  else process.stderr.write(`pytorch run failed:\n${res.stderr}\n`);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `linalg kernels: batch ${batch} of ${n}×${n} float64, best of ${runs} (after ${warmup} warm-up runs)`,
);
console.log(`${os.cpus().length} × ${cpu}, Node ${process.version}`);
for (const op of ['eigh', 'svd'] as const) {
  const line = `${op.padEnd(5)} matgrad ${ours[op].toFixed(3)} ms`;
  if (torch) {
    const ratio = ours[op] / torch[op];
    const theirs = `torch ${torch.torch} (${torch.threads} threads) ${torch[op].toFixed(3)} ms`;
    console.log(`${line} | ${theirs} | matgrad/torch ${ratio.toFixed(2)}×`);
  } else {
    console.log(`${line} | PyTorch not importable`);
  }
}
