// The tfjs side of `npm run bench`: one workload with @tensorflow/tfjs (CPU backend, plain JS), one JSON line.
// Usage: npx tsx bench/tfjs.ts WORKLOAD [--runs N]. Same data as bench/workloads.ts (Lehmer generator).
// tfjs has no eigh/svd, so only the inverse and factor-loss workloads are expressible.
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import { lehmer, lehmerInverse4 } from './workloads.js';

// the CommonJS bundles register every kernel and gradient (the ESM build's directory imports fail in Node)
const require = createRequire(import.meta.url);
const tf: typeof TF = require('@tensorflow/tfjs');


const [name, ...args] = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;

function inverse4(optimizer: TF.Optimizer, dtype: 'float32'): () => number {
  const { M, X } = lehmerInverse4();
  const m = tf.tensor2d(Float32Array.from(M), [4, 4], dtype);
  const x = tf.variable(tf.tensor2d(Float32Array.from(X), [4, 4], dtype));
  const I = tf.eye(4);
  return () => {
    let loss = 0;
    for (let t = 0; t < 10_000; t++) {
      const l = optimizer.minimize(() => tf.mean(tf.square(tf.sub(tf.matMul(x, m), I))) as TF.Scalar, t === 9_999);
      if (l) loss = l.dataSync()[0];
      l?.dispose();
    }
    return loss;
  };
}

function batch(steps: number): () => number {
  const B = 10_000;
  const r = lehmer(B * 64, 7);
  const mData = Float32Array.from(r, (v, i) => v + ((i % 64) % 9 === 0 ? 8 : 0));
  const m = tf.tensor3d(mData, [B, 8, 8]);
  const x = tf.variable(tf.zeros([B, 8, 8]));
  const I = tf.eye(8);
  const opt = tf.train.adam(0.01);
  return () => {
    let loss = 0;
    for (let t = 0; t < steps; t++) {
      const l = opt.minimize(() => tf.mean(tf.square(tf.sub(tf.matMul(x, m), I))) as TF.Scalar, t === steps - 1);
      if (l) loss = l.dataSync()[0];
      l?.dispose();
    }
    return loss;
  };
}

function svdGd(): () => number {
  const r = lehmer(192 + 192 + 144);
  const A = tf.tensor2d(Float32Array.from(r.slice(0, 192)), [16, 12]);
  const U = tf.variable(tf.tensor2d(Float32Array.from(r.slice(192, 384), (v) => 0.1 * v), [16, 12]));
  const s = tf.variable(tf.ones([12]));
  const V = tf.variable(tf.tensor2d(Float32Array.from(r.slice(384), (v) => 0.1 * v), [12, 12]));
  const I = tf.eye(12);
  const opt = tf.train.adam(0.01);
  return () => {
    let loss = 0;
    for (let t = 0; t < 5000; t++) {
      const l = opt.minimize(() => {
        const fit = tf.mean(tf.square(tf.sub(A, tf.matMul(tf.mul(U, s), V, false, true))));
        const ou = tf.mean(tf.square(tf.sub(tf.matMul(U, U, true, false), I)));
        const ov = tf.mean(tf.square(tf.sub(tf.matMul(V, V, true, false), I)));
        return tf.add(fit, tf.add(ou, ov)) as TF.Scalar;
      }, t === 4999);
      if (l) loss = l.dataSync()[0];
      l?.dispose();
    }
    return loss;
  };
}

// tfjs computes in float32 only; the batched workload runs `measured` steps and is scaled to 1000
const measured = 20;
const WORKLOADS: Record<string, { make: () => () => number; scale: number; note: string }> = {
  'inverse4-momentum-10k': { make: () => inverse4(tf.train.momentum(0.9, 0.9), 'float32'), scale: 1, note: 'tf.train.momentum' },
  'inverse4-adam-10k': { make: () => inverse4(tf.train.adam(0.01), 'float32'), scale: 1, note: 'tf.train.adam' },
  'inverse8-batch10k-adam-1000': { make: () => batch(measured), scale: 1000 / measured, note: `${measured} steps measured, ×${1000 / measured}` },
  'svd-gd-16x12-adam-5k': { make: svdGd, scale: 1, note: 'tf.train.adam' },
};

const w = WORKLOADS[name];
if (!w) {
  console.log(JSON.stringify({ name, impl: 'tfjs', unsupported: true }));
} else {
  await tf.setBackend('cpu');
  let best = Infinity;
  let result = Number.NaN;
  for (let r = 0; r < runs; r++) {
    const go = w.make();
    const t = performance.now();
    result = go();
    best = Math.min(best, performance.now() - t);
  }
  console.log(JSON.stringify({ name, impl: 'tfjs', dtype: 'float32', ms: best * w.scale, result, note: `tfjs ${tf.version_core} cpu, ${w.note}` }));
}
