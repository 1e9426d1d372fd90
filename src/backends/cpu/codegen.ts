import { normalizeAxes, type Shape } from '../../autograd/shape.js';
import { OPS } from '../../autograd/ops.js';
import type { FusedArg, FusedKernel, Kernel, OpKernel, Plan } from '../../autograd/plan.js';
import { broadcastStrides, sizeOf } from '../../autograd/shape.js';
import { contiguousStrides, loopNest } from './loops.js';

/** JS source for one step of a plan, plus host functions the source calls (bound as f0, f1, ...). */
export interface StepSource {
  /** Functions for large kernels, defined once beside the step. */
  readonly prelude: string;
  /** One step: small kernels inline, calls to the large ones. */
  readonly body: string;
  readonly hostFunctions: ((...args: never[]) => unknown)[];
}

const buf = (b: number) => `b${b}`;
const INLINE_LIMIT = 4000; // characters of kernel source kept inline in the step function
const INLINE_KERNELS = 8; // plans with more kernels call one function per kernel
export const literal = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : `(${v})`;

/**
 * `replaced`: kernels computed elsewhere: a function the step calls in the kernel's place, or null for
 * a kernel that an earlier kernel's function covers.
 */
export function generateStep(
  plan: Plan,
  replaced: ReadonlyMap<number, (() => void) | null> = new Map(),
): StepSource {
  const hostFunctions: StepSource['hostFunctions'] = [];
  const bind = (fn: (...args: never[]) => unknown) => `f${hostFunctions.push(fn) - 1}`;
  const prelude: string[] = [];
  const inline = plan.kernels.length - replaced.size <= INLINE_KERNELS;
  const parts = plan.kernels.map((k, i) => {
    const r = replaced.get(i);
    if (r !== undefined) return r === null ? '' : `${bind(r)}(); // ${describe(k)}`;
    const src = kernelSource(k, `${i}`, bind);
    if (inline && src.length <= INLINE_LIMIT) return `{ // ${describe(k)}\n${src}\n}`;
    // big kernels, and every kernel of a big plan, get their own function: small functions are
    // optimized by V8 within a few calls, one huge step function only after a long, slow compile
    prelude.push(`function k${i}() { // ${describe(k)}\n${src}\n}`);
    return `k${i}();`;
  });
  return { prelude: prelude.join('\n'), body: parts.join('\n'), hostFunctions };
}

function describe(k: Kernel): string {
  if (k.kind === 'fused') return `fused ${k.exprs.map((e) => e.op).join(',')} over [${k.shape}]`;
  if (k.kind === 'op') return k.op;
  return 'copy';
}

function kernelSource(k: Kernel, id: string, bind: (fn: (...args: never[]) => unknown) => string): string {
  switch (k.kind) {
    case 'copy':
      return `${buf(k.to)}.set(${buf(k.from)});`;
    case 'fused':
      return fusedSource(k, id);
    case 'op':
      return opSource(k, id, bind);
  }
}

function fusedSource(k: FusedKernel, id: string): string {
  const parts = fusedParts(k);
  const done = k.reductions.map(
    (r, j) => `${buf(r.buffer)}[0] = ${r.divisor === 1 ? `r${j}` : `r${j} / ${literal(r.divisor)}`};`,
  );
  const walks = parts.walks.map((strides) => ({ strides }));
  return [...parts.hoisted, ...parts.init, loopNest(k.shape, walks, parts.body, id), ...done].join('\n');
}

/** The pieces of a fused kernel's loop, shared by the whole-step and the batch-tiled generators. */
export interface FusedParts {
  /** One-element loads read once before the loop (`const h{j} = ...`). */
  readonly hoisted: string[];
  /** Reduction accumulators (`let r{j} = ...`), unscaled. */
  readonly init: string[];
  /** Strides over the kernel's shape of every walk: streamed loads (in load order), then stores. */
  readonly walks: number[][];
  /** Buffer of each walk. */
  readonly walkBuffers: number[];
  /** The loop body, given one index expression per walk. */
  body(index: string[]): string;
}

export function fusedParts(k: FusedKernel): FusedParts {
  const hoisted: string[] = [];
  const walks: number[][] = [];
  const walkBuffers: number[] = [];
  const loadName = k.loads.map((l, j) => {
    if (sizeOf(l.shape) === 1) {
      hoisted.push(`const h${j} = ${buf(l.buffer)}[0];`);
      return `h${j}`;
    }
    walks.push(broadcastStrides(l.shape, k.shape));
    walkBuffers.push(l.buffer);
    return `l${j}`;
  });
  const streamed = k.loads.map((l, j) => ({ l, j })).filter(({ l }) => sizeOf(l.shape) !== 1);
  for (const s of k.stores) {
    walks.push(contiguousStrides(k.shape));
    walkBuffers.push(s.buffer);
  }
  const argName = (a: FusedArg) =>
    'load' in a ? loadName[a.load] : 'expr' in a ? `e${a.expr}` : literal(a.literal);
  const init = k.reductions.map((r, j) => `let r${j} = ${r.reducer === 'sum' ? 0 : '-Infinity'};`);
  const body = (index: string[]) => {
    const lines = streamed.map(({ l, j }, w) => `const l${j} = ${buf(l.buffer)}[${index[w]}];`);
    k.exprs.forEach((e, j) => {
      const def = OPS[e.op];
      if (def.kind !== 'elementwise') throw new Error(`fused kernel holds non-elementwise op ${e.op}`);
      lines.push(`const e${j} = ${def.js(e.args.map(argName), e.attrs)};`);
    });
    k.stores.forEach((s, j) => lines.push(`${buf(s.buffer)}[${index[streamed.length + j]}] = e${s.expr};`));
    k.reductions.forEach((r, j) =>
      lines.push(
        r.reducer === 'sum'
          ? `r${j} += e${r.expr};`
          : `if (e${r.expr} > r${j} || e${r.expr} !== e${r.expr}) r${j} = e${r.expr};`,
      ),
    );
    return lines.join('\n');
  };
  return { hoisted, init, walks, walkBuffers, body };
}

function opSource(k: OpKernel, id: string, bind: (fn: (...args: never[]) => unknown) => string): string {
  const def = OPS[k.op];
  const ins = k.ins.map((r) => ({ name: buf(r.buffer), shape: r.shape }));
  const outs = k.outs.map((r) => ({ name: buf(r.buffer), shape: r.shape }));
  if (def.kind === 'reduce')
    return reduceSource(ins[0], outs[0], k, def.reducer, def.divisor(ins[0].shape, k.attrs), id);
  if (def.kind === 'kernel' || def.kind === 'alias') return def.cpu({ ins, outs, attrs: k.attrs, id, bind });
  throw new Error(`op ${k.op} (${def.kind}) has no standalone CPU kernel`);
}

/** Partial reduction: walk the input once, accumulating into the output (stride 0 on reduced axes). */
function reduceSource(
  x: { name: string; shape: Shape },
  y: { name: string },
  k: OpKernel,
  reducer: 'sum' | 'max',
  divisor: number,
  id: string,
): string {
  const axes = normalizeAxes(k.op, k.attrs.axes as number[] | undefined, x.shape.length);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = broadcastStrides(kept, x.shape);
  const step =
    reducer === 'sum'
      ? (i: string, o: string) => `${y.name}[${o}] += ${x.name}[${i}];`
      : (i: string, o: string) =>
          `{ const v = ${x.name}[${i}]; if (v > ${y.name}[${o}] || v !== v) ${y.name}[${o}] = v; }`;
  const init = `${y.name}.fill(${reducer === 'sum' ? 0 : '-Infinity'});`;
  const walk = loopNest(
    x.shape,
    [{ strides: contiguousStrides(x.shape) }, { strides: outStrides }],
    ([i, o]) => step(i, o),
    id,
  );
  const scaled =
    divisor === 1 ? '' : `for (let q = 0; q < ${y.name}.length; q++) ${y.name}[q] /= ${literal(divisor)};`;
  return `${init}\n${walk}\n${scaled}`;
}
