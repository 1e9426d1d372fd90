import type { Shape } from '../../autograd/shape.js';
import { broadcastStrides } from '../../autograd/shape.js';
import { loopNest } from './loops.js';

/** Logical sizes of C = op(A) op(B) for stored shapes [..., r, c] and transpose flags. */
export function matmulDims(a: Shape, b: Shape, transA: boolean, transB: boolean) {
  const [ar, ac] = a.slice(-2);
  const [br, bc] = b.slice(-2);
  return { m: transA ? ac : ar, k: transA ? ar : ac, kb: transB ? bc : br, n: transB ? br : bc };
}

const UNROLL_LIMIT = 1024; // m*n*k up to this is fully unrolled: the common small-matrix case
const ROW_UNROLL_LIMIT = 400; // k*n up to this: rows looped, each row unrolled

/**
 * Batched matmul with batch dims broadcast and shapes baked in. Small products are fully unrolled with
 * the row of op(A) held in locals; larger ones use an i-p-j loop order that streams rows of B.
 */
export function matmulKernel(
  A: string,
  B: string,
  C: string,
  aShape: Shape,
  bShape: Shape,
  cShape: Shape,
  transA: boolean,
  transB: boolean,
  id: string,
): string {
  const { m, k, n } = matmulDims(aShape, bShape, transA, transB);
  const batch = cShape.slice(0, -2);
  const aStr = broadcastStrides(aShape.slice(0, -2), batch).map((s) => s * m * k);
  const bStr = broadcastStrides(bShape.slice(0, -2), batch).map((s) => s * k * n);
  const cStr = broadcastStrides(batch, batch).map((s) => s * m * n);
  const body = matmulBody(A, B, C, m, k, n, transA, transB, id);
  return loopNest(batch, [{ strides: aStr }, { strides: bStr }, { strides: cStr }], body, id);
}

/**
 * The code of one product C = op(A) op(B) of m×k and k×n matrices, given the index expressions of the
 * three matrices' first elements.
 */
export function matmulBody(
  A: string,
  B: string,
  C: string,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  id: string,
): (offsets: string[]) => string {
  const aAt = (i: number | string, p: number | string) =>
    transA ? `${p} * ${m} + ${i}` : `${i} * ${k} + ${p}`;
  const bAt = (p: number | string, j: number | string) =>
    transB ? `${j} * ${k} + ${p}` : `${p} * ${n} + ${j}`;
  const body = ([ao, bo, co]: string[]) => {
    const pre = `const pa${id} = ${ao}, pb${id} = ${bo}, pc${id} = ${co};\n`;
    if (k === 0) return `${pre}for (let q = 0; q < ${m * n}; q++) ${C}[pc${id} + q] = 0;`;
    if (m * n * k <= UNROLL_LIMIT) {
      let s = pre;
      for (let i = 0; i < m; i++) {
        s += '{\n';
        for (let p = 0; p < k; p++) s += `const x${p} = ${A}[pa${id} + ${aAt(i, p)}];\n`;
        for (let j = 0; j < n; j++) {
          const terms = Array.from({ length: k }, (_, p) => `x${p} * ${B}[pb${id} + ${bAt(p, j)}]`);
          s += `${C}[pc${id} + ${i * n + j}] = ${terms.join(' + ')};\n`;
        }
        s += '}\n';
      }
      return s;
    }
    if (n * k <= ROW_UNROLL_LIMIT) {
      // loop over rows; each row's k×n products unrolled with the row of op(A) in locals
      let s = `${pre}for (let i = 0; i < ${m}; i++) {\n`;
      for (let p = 0; p < k; p++) s += `const x${p} = ${A}[pa${id} + ${aAt('i', p)}];\n`;
      s += `const ci = pc${id} + i * ${n};\n`;
      for (let j = 0; j < n; j++) {
        const terms = Array.from({ length: k }, (_, p) => `x${p} * ${B}[pb${id} + ${bAt(p, j)}]`);
        s += `${C}[ci + ${j}] = ${terms.join(' + ')};\n`;
      }
      return `${s}}`;
    }
    return `${pre}for (let i = 0; i < ${m}; i++) {
  const ci = pc${id} + i * ${n};
  for (let j = 0; j < ${n}; j++) ${C}[ci + j] = 0;
  for (let p = 0; p < ${k}; p++) {
    const av = ${A}[pa${id} + ${aAt('i', 'p')}];
    for (let j = 0; j < ${n}; j++) ${C}[ci + j] += av * ${B}[pb${id} + ${bAt('p', 'j')}];
  }
}`;
  };
  return body;
}
