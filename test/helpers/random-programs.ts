// Seeded random programs (DAGs with shared intermediates, broadcasting, partial and full reductions,
// matmul, layout ops), a plain-JS evaluator for them (no matgrad code), and the same program in matgrad.
import * as mg from '../../src/index.js';
import { signedRng } from './arrays.js';

type Shape = readonly number[];
/** A reference value: row-major data and its shape. */
export interface Arr {
  shape: Shape;
  data: number[];
}

type Op =
  | { kind: 'unary'; op: 'sin' | 'cos' | 'neg' | 'square' | 'exp'; a: number }
  | { kind: 'binary'; op: 'add' | 'sub' | 'mul' | 'maximum'; a: number; b: number }
  | { kind: 'reduce'; op: 'sum' | 'mean' | 'max'; a: number; axes?: number[]; keepdims: boolean }
  | { kind: 'matmul'; a: number; b: number }
  | { kind: 'transpose'; a: number }
  | { kind: 'reshape'; a: number; shape: Shape }
  | { kind: 'broadcast'; a: number; shape: Shape }
  | { kind: 'where'; c: number; d: number; a: number; b: number };

export interface Program {
  inputs: Shape[];
  ops: Op[];
  outputs: number[];
  /** Weights of the scalar loss Σₖ sum(wₖ · outₖ) that is differentiated. */
  weights: number[][];
}

export const size = (s: Shape) => s.reduce((a, b) => a * b, 1);
const same = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** NumPy broadcasting of two shapes, or null. */
function broadcast(a: Shape, b: Shape): Shape | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

// ---------------------------------------------------------------- reference evaluator (plain JS)

/** Multi-index of flat position `i` in `shape`. */
function unravel(i: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}
function ravel(idx: readonly number[], shape: Shape): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d];
  return i;
}
/** x's data broadcast to `shape` (trailing-aligned; size-1 dims repeat). */
function expand(x: Arr, shape: Shape): number[] {
  const off = shape.length - x.shape.length;
  return Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return x.data[ravel(x.shape.map((d, k) => (d === 1 ? 0 : idx[off + k])), x.shape)];
  });
}
function zipWith(xs: Arr[], f: (...v: number[]) => number): Arr {
  const shape = xs.map((x) => x.shape).reduce((a, b) => broadcast(a, b)!);
  const ds = xs.map((x) => expand(x, shape));
  return { shape, data: ds[0].map((_, i) => f(...ds.map((d) => d[i]))) };
}
function reduceRef(x: Arr, op: 'sum' | 'mean' | 'max', axes: number[] | undefined, keepdims: boolean): Arr {
  const ax = axes ?? x.shape.map((_, i) => i);
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const acc = new Array<number>(size(kept)).fill(op === 'max' ? -Infinity : 0);
  x.data.forEach((v, i) => {
    const j = ravel(unravel(i, x.shape).map((k, d) => (ax.includes(d) ? 0 : k)), kept);
    acc[j] = op === 'max' ? Math.max(acc[j], v) : acc[j] + v;
  });
  const count = size(x.shape) / size(kept);
  const data = op === 'mean' ? acc.map((v) => v / count) : acc;
  return { shape: keepdims ? kept : x.shape.filter((_, i) => !ax.includes(i)), data };
}
function matmulRef(a: Arr, b: Arr): Arr {
  const [p, q] = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const r = b.shape.length === 1 ? 1 : b.shape[1];
  const data: number[] = [];
  for (let i = 0; i < p; i++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let k = 0; k < q; k++) s += a.data[i * q + k] * b.data[k * r + j];
      data.push(s);
    }
  const shape = [...(a.shape.length === 1 ? [] : [p]), ...(b.shape.length === 1 ? [] : [r])];
  return { shape, data };
}
const UNARY = { sin: Math.sin, cos: Math.cos, neg: (v: number) => -v, square: (v: number) => v * v, exp: Math.exp };
const BINARY = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  maximum: Math.max,
};

export function runRef(p: Program, xs: Arr[]): Arr[] {
  const v = [...xs];
  for (const o of p.ops) {
    switch (o.kind) {
      case 'unary': v.push(zipWith([v[o.a]], UNARY[o.op])); break;
      case 'binary': v.push(zipWith([v[o.a], v[o.b]], BINARY[o.op])); break;
      case 'reduce': v.push(reduceRef(v[o.a], o.op, o.axes, o.keepdims)); break;
      case 'matmul': v.push(matmulRef(v[o.a], v[o.b])); break;
      case 'transpose': {
        const [r, c] = v[o.a].shape;
        v.push({ shape: [c, r], data: Array.from({ length: r * c }, (_, i) => v[o.a].data[(i % r) * c + Math.floor(i / r)]) });
        break;
      }
      case 'reshape': v.push({ shape: o.shape, data: v[o.a].data }); break;
      case 'broadcast': v.push({ shape: o.shape, data: expand(v[o.a], o.shape) }); break;
      case 'where': v.push(zipWith([v[o.c], v[o.d], v[o.a], v[o.b]], (c, d, a, b) => (c > d ? a : b))); break;
    }
  }
  return p.outputs.map((i) => v[i]);
}
export const lossRef = (p: Program, xs: Arr[]) =>
  runRef(p, xs).reduce((s, y, k) => s + y.data.reduce((t, e, i) => t + e * p.weights[k][i], 0), 0);

// ---------------------------------------------------------------- the same program in matgrad

export function runMg(p: Program, xs: mg.Tensor[]): mg.Tensor[] {
  const v = [...xs];
  for (const o of p.ops) {
    switch (o.kind) {
      case 'unary': v.push(mg[o.op](v[o.a])); break;
      case 'binary': v.push(mg[o.op](v[o.a], v[o.b])); break;
      case 'reduce': v.push(mg[o.op](v[o.a], o.axes, o.keepdims)); break;
      case 'matmul': v.push(mg.matmul(v[o.a], v[o.b])); break;
      case 'transpose': v.push(mg.transpose(v[o.a])); break;
      case 'reshape': v.push(mg.reshape(v[o.a], o.shape)); break;
      case 'broadcast': v.push(mg.broadcastTo(v[o.a], o.shape)); break;
      case 'where': v.push(mg.where(mg.gt(v[o.c], v[o.d]), v[o.a], v[o.b])); break;
    }
  }
  return p.outputs.map((i) => v[i]);
}
export const lossMg = (p: Program, xs: mg.Tensor[]) =>
  runMg(p, xs)
    .map((y, k) => mg.sum(mg.mul(y, toTensor({ shape: y.shape, data: p.weights[k] }, y.dtype === 'float32' ? 'float32' : 'float64'))))
    .reduce((a, b) => mg.add(a, b));

// ---------------------------------------------------------------- generator

/**
 * A random program over 1–3 inputs and 3–10 ops. Each value carries a bound on its magnitude so that
 * chains of squares and exponentials stay finite (an op that would pass the bound becomes a sine).
 */
export function randomProgram(seed: number): Program {
  const rnd = signedRng(seed * 7919 + 13);
  const u = () => (rnd() + 1) / 2;
  const int = (n: number) => Math.min(n - 1, Math.floor(u() * n));
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const m = 2 + int(2);
  const n = 2 + int(3);
  const inputChoices: Shape[] = [[m, n], [n], [m], [], [n, m], [m, 1], [1, n]];
  const inputs = Array.from({ length: 1 + int(3) }, () => pick(inputChoices));
  const shapes: Shape[] = [...inputs];
  const bounds: number[] = inputs.map(() => 1);
  const ops: Op[] = [];
  const used = new Set<number>();
  const BOUND = 30;
  // operands favour recent values (chains) but reuse older ones too (shared intermediates)
  const operand = () => (u() < 0.6 ? shapes.length - 1 - int(Math.min(3, shapes.length)) : int(shapes.length));
  const add = (op: Op, shape: Shape, bound: number, reads: number[]) => {
    if (bound > BOUND) {
      op = { kind: 'unary', op: 'sin', a: reads[0] };
      shape = shapes[reads[0]];
      bound = 1;
      reads = [reads[0]];
    }
    reads.forEach((r) => used.add(r));
    ops.push(op);
    shapes.push(shape);
    bounds.push(bound);
  };
  const compatible = (s: Shape) => shapes.map((t, i) => i).filter((i) => broadcast(s, shapes[i]));
  const count = 3 + int(8);
  while (ops.length < count) {
    const a = operand();
    const sa = shapes[a];
    const ba = bounds[a];
    const r = u();
    if (r < 0.2) {
      const op = pick(['sin', 'cos', 'neg', 'square', 'exp'] as const);
      const bound = { sin: 1, cos: 1, neg: ba, square: ba * ba, exp: Math.exp(ba) }[op];
      add({ kind: 'unary', op, a }, sa, bound, [a]);
    } else if (r < 0.45) {
      // mostly an operand of another shape: broadcasting both ways
      const others = compatible(sa).filter((i) => !same(shapes[i], sa));
      const b = others.length && u() < 0.7 ? pick(others) : pick(compatible(sa));
      const op = pick(['add', 'sub', 'mul', 'maximum'] as const);
      const bound = op === 'mul' ? ba * bounds[b] : op === 'maximum' ? Math.max(ba, bounds[b]) : ba + bounds[b];
      add({ kind: 'binary', op, a, b }, broadcast(sa, shapes[b])!, bound, [a, b]);
    } else if (r < 0.75 && sa.length > 0) {
      const op = pick(['sum', 'mean', 'max'] as const);
      const axes = u() < 0.3 ? undefined : sa.length === 1 ? [0] : pick([[0], [1], [0, 1], [1, 0]]);
      const keepdims = u() < 0.5;
      const ax = axes ?? sa.map((_, i) => i);
      const shape = keepdims ? sa.map((d, i) => (ax.includes(i) ? 1 : d)) : sa.filter((_, i) => !ax.includes(i));
      add({ kind: 'reduce', op, a, axes, keepdims }, shape, op === 'max' ? ba : ba * size(sa), [a]);
    } else if (r < 0.8 && sa.length >= 1 && sa.length <= 2) {
      const inner = sa[sa.length - 1];
      const bs = shapes.map((_, i) => i).filter((i) => shapes[i].length >= 1 && shapes[i].length <= 2 && shapes[i][0] === inner);
      if (!bs.length) continue;
      const b = pick(bs);
      const shape = [...(sa.length === 2 ? [sa[0]] : []), ...(shapes[b].length === 2 ? [shapes[b][1]] : [])];
      add({ kind: 'matmul', a, b }, shape, ba * bounds[b] * inner, [a, b]);
    } else if (r < 0.85 && sa.length === 2) {
      add({ kind: 'transpose', a }, [sa[1], sa[0]], ba, [a]);
    } else if (r < 0.92) {
      const k = size(sa);
      const targets: Shape[] = [[k], [1, k], [k, 1], ...(sa.length === 2 ? [[sa[1], sa[0]]] : []), ...(k === 1 ? [[]] : [])];
      const shape = pick(targets);
      add({ kind: 'reshape', a, shape }, shape, ba, [a]);
    } else if (r < 0.96) {
      const target = pick([[m, n], [n, m], [m, 1], [n]].filter((s) => same(broadcast(sa, s) ?? [], s)));
      if (!target) continue;
      add({ kind: 'broadcast', a, shape: target }, target, ba, [a]);
    } else {
      const [b, c, d] = [0, 0, 0].map(() => pick(compatible(sa)));
      const shape = [sa, shapes[b], shapes[c], shapes[d]].reduce((x, y) => broadcast(x, y) ?? x);
      if (![shapes[b], shapes[c], shapes[d]].every((s) => same(broadcast(shape, s) ?? [], shape))) continue;
      add({ kind: 'where', c, d, a, b }, shape, Math.max(ba, bounds[b]), [a, b]);
      for (const i of [c, d]) used.add(i);
    }
  }
  // outputs: every unused value (a sink) and one shared intermediate
  const first = inputs.length;
  const sinks = shapes.map((_, i) => i).filter((i) => i >= first && !used.has(i));
  const shared = first + int(ops.length);
  const outputs = [...new Set([...sinks.slice(-2), shared])];
  const weights = outputs.map((i) => Array.from({ length: size(shapes[i]) }, () => rnd()));
  return { inputs, ops, outputs, weights };
}

/** Inputs in [-1, 1) for program `seed`. */
export const inputsOf = (p: Program, seed: number): Arr[] => {
  const rnd = signedRng(seed + 1_000_003);
  return p.inputs.map((shape) => ({ shape, data: Array.from({ length: size(shape) }, () => rnd()) }));
};
/** The reference value as a tensor of `dtype`. */
export const toTensor = (x: Arr, dtype: 'float32' | 'float64' = 'float64') =>
  mg.fromArray(dtype === 'float32' ? Float32Array.from(x.data) : Float64Array.from(x.data), x.shape);

/** Central differences of the reference loss, element by element. */
export function numericalGrads(p: Program, xs: Arr[], eps = 1e-6): number[][] {
  return xs.map((x, k) =>
    x.data.map((_, i) => {
      const at = (h: number) => lossRef(p, xs.map((y, j) => (j === k ? { shape: y.shape, data: y.data.map((v, l) => (l === i ? v + h : v)) } : y)));
      return (at(eps) - at(-eps)) / (2 * eps);
    }),
  );
}

/** Throws, naming the element, unless |actual − expected| ≤ tol(expected) everywhere. */
export function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: (e: number) => number, what: string) {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} elements, expected ${expected.length}`);
  expected.forEach((e, i) => {
    if (!(Math.abs(actual[i] - e) <= tol(e))) throw new Error(`${what}[${i}]: got ${actual[i]}, expected ${e}`);
  });
}
