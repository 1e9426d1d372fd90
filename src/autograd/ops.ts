import { MatgradShapeError } from '../errors.js';
import { contiguousStrides, loopNest } from '../backends/cpu/loops.js';
import { matmulDims, matmulKernel } from '../backends/cpu/matmul.js';
import { LINALG_OPS, type LinalgOpName } from '../linalg/ops.js';
import * as F from './api.js';
import { IMPLICIT_OPS } from './implicit.js';
import { commonDType, type DType } from './dtype.js';
import type { Attrs, TensorInfo } from './node.js';
import { broadcastShapes, fmt, normalizeAxes, type Shape, sameShape, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';

/** What a VJP sees: the op's inputs and outputs (as graph tensors) and its attributes. */
export interface VjpContext {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}
/** Cotangents of the outputs (null: no gradient flows) -> cotangents of the inputs (null: none). */
export type Vjp = (gs: readonly (Tensor | null)[], ctx: VjpContext) => (Tensor | null)[];

/** A CPU kernel emits JS source working on named typed arrays with baked-in shapes. */
export interface CpuKernelArgs {
  readonly ins: readonly { name: string; shape: Shape }[];
  readonly outs: readonly { name: string; shape: Shape }[];
  readonly attrs: Attrs;
  readonly id: string;
  /** Makes a host function callable from the generated code; returns its name there. */
  bind(fn: (...args: never[]) => unknown): string;
}

interface Common {
  /** Shape/dtype rule: throws MatgradShapeError / MatgradDTypeError naming the op and shapes. */
  infer(inputs: readonly TensorInfo[], attrs: Attrs, op: string): TensorInfo[];
  vjp: Vjp;
}
/** Pointwise with NumPy broadcasting; chains of these fuse into one loop. `js` gets operand expressions. */
export interface ElementwiseOp extends Common {
  kind: 'elementwise';
  arity: number;
  js(args: readonly string[], attrs: Attrs): string;
  /** False: never evaluated eagerly on constants (keeps broadcasts of scalars cheap to fuse). */
  fold?: false;
}
/** Reductions: full reductions fuse into the producing elementwise loop. */
export interface ReduceOp extends Common {
  kind: 'reduce';
  reducer: 'sum' | 'max';
  /** The result is divided by this (mean: the count; torch divides, so rounding matches). */
  divisor(input: Shape, attrs: Attrs): number;
}
/** Everything else: its own kernel. 'alias' ops (reshape) share their input's buffer. */
export interface KernelOp extends Common {
  kind: 'kernel' | 'alias';
  cpu(k: CpuKernelArgs): string;
}
/** Written with other ops; never appears in a graph, gradients come from its parts. */
export interface CompositeOp {
  kind: 'composite';
  expand(inputs: readonly Tensor[], attrs: Attrs): Tensor;
}
export interface SourceOp {
  kind: 'source';
}
export type OpDef = ElementwiseOp | ReduceOp | KernelOp | CompositeOp | SourceOp;

// ---- shape rules -------------------------------------------------------------------------------

const pointwise: Common['infer'] = (inputs, _a, op) => [
  {
    shape: broadcastShapes(
      op,
      inputs.map((i) => i.shape),
    ),
    dtype: commonDType(
      op,
      inputs.map((i) => i.dtype),
    ),
  },
];
const dtypeOf = (inputs: readonly TensorInfo[], op: string): DType =>
  commonDType(
    op,
    inputs.map((i) => i.dtype),
  );

function reduceInfer(inputs: readonly TensorInfo[], attrs: Attrs, op: string): TensorInfo[] {
  const [x] = inputs;
  const axes = normalizeAxes(op, attrs.axes as number[] | undefined, x.shape.length);
  const shape = attrs.keepdims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  return [{ shape, dtype: x.dtype }];
}

function needMatrix(op: string, x: TensorInfo, what = 'input'): void {
  if (x.shape.length < 2)
    throw new MatgradShapeError(`${op}: ${what} must have at least 2 dims, got ${fmt(x.shape)}`);
}

// ---- gradient helpers --------------------------------------------------------------------------

/** Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting). */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? F.sum(g, axes, true) : g;
  return F.reshape(summed, shape);
}

const unary = (fn: (g: Tensor, x: Tensor, y: Tensor, attrs: Attrs) => Tensor): Vjp => {
  return ([g], { inputs: [x], outputs: [y], attrs }) => [fn(g!, x, y, attrs)];
};
const noGrad: Vjp = (_g, { inputs }) => inputs.map(() => null);

/** Integer and half powers the way ATen computes them (so float64 results match torch bit for bit). */
function powJs(a: string, p: number): string {
  if (p === 2) return `(${a} * ${a})`;
  if (p === 3) return `(${a} * ${a} * ${a})`;
  if (p === 0.5) return `Math.sqrt(${a})`;
  if (p === -0.5) return `(1 / Math.sqrt(${a}))`;
  if (p === -1) return `(1 / ${a})`;
  if (p === -2) return `(1 / (${a} * ${a}))`;
  return `Math.pow(${a}, ${p})`;
}

// ---- the table ---------------------------------------------------------------------------------

const elementwise = (arity: number, js: ElementwiseOp['js'], vjp: Vjp, extra: Partial<ElementwiseOp> = {}) =>
  ({ kind: 'elementwise', arity, js, vjp, infer: pointwise, ...extra }) as ElementwiseOp;
const compare = (js: (a: string, b: string) => string) =>
  elementwise(2, ([a, b]) => `(${js(a, b)} ? 1 : 0)`, noGrad);

/** Every op matgrad knows. The table below must have exactly one entry for each (a compile error otherwise). */
export type OpName =
  | 'const'
  | 'input'
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'maximum'
  | 'minimum'
  | 'atan2'
  | 'gt'
  | 'ge'
  | 'lt'
  | 'le'
  | 'eq'
  | 'where'
  | 'neg'
  | 'identity'
  | 'exp'
  | 'sin'
  | 'cos'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'square'
  | 'pow'
  | 'cast'
  | 'broadcastTo'
  | 'sum'
  | 'mean'
  | 'max'
  | 'matmul'
  | 'transpose'
  | 'reshape'
  | 'slice'
  | 'pad'
  | 'concat'
  | 'diag'
  | 'diagEmbed'
  | 'trace'
  | 'outer'
  | 'mse'
  | LinalgOpName
  | 'customRoot'
  | 'customRootVjp';

export const OPS: { readonly [K in OpName]: OpDef } = {
  ...LINALG_OPS,
  ...IMPLICIT_OPS,
  const: { kind: 'source' },
  input: { kind: 'source' },

  add: elementwise(
    2,
    ([a, b]) => `(${a} + ${b})`,
    ([g], { inputs: [a, b] }) => [unbroadcast(g!, a.shape), unbroadcast(g!, b.shape)],
  ),
  sub: elementwise(
    2,
    ([a, b]) => `(${a} - ${b})`,
    ([g], { inputs: [a, b] }) => [unbroadcast(g!, a.shape), unbroadcast(F.neg(g!), b.shape)],
  ),
  mul: elementwise(
    2,
    ([a, b]) => `(${a} * ${b})`,
    ([g], { inputs: [a, b] }) => [unbroadcast(F.mul(g!, b), a.shape), unbroadcast(F.mul(g!, a), b.shape)],
  ),
  div: elementwise(
    2,
    ([a, b]) => `(${a} / ${b})`,
    ([g], { inputs: [a, b], outputs: [y] }) => [
      unbroadcast(F.div(g!, b), a.shape),
      unbroadcast(F.neg(F.div(F.mul(g!, y), b)), b.shape),
    ],
  ),
  maximum: elementwise(
    2,
    ([a, b]) => `Math.max(${a}, ${b})`,
    ([g], { inputs: [a, b] }) => {
      // ties split the gradient evenly, like torch.maximum
      const toA = F.add(F.gt(a, b), F.mul(F.eq(a, b), 0.5));
      return [unbroadcast(F.mul(g!, toA), a.shape), unbroadcast(F.mul(g!, F.sub(1, toA)), b.shape)];
    },
  ),
  minimum: elementwise(
    2,
    ([a, b]) => `Math.min(${a}, ${b})`,
    ([g], { inputs: [a, b] }) => {
      const toA = F.add(F.lt(a, b), F.mul(F.eq(a, b), 0.5));
      return [unbroadcast(F.mul(g!, toA), a.shape), unbroadcast(F.mul(g!, F.sub(1, toA)), b.shape)];
    },
  ),
  // atan2(y, x): the angle of (x, y), like Math.atan2 / torch.atan2
  atan2: elementwise(
    2,
    ([y, x]) => `Math.atan2(${y}, ${x})`,
    ([g], { inputs: [y, x] }) => {
      const r2 = F.add(F.square(x), F.square(y));
      return [unbroadcast(F.div(F.mul(g!, x), r2), y.shape), unbroadcast(F.neg(F.div(F.mul(g!, y), r2)), x.shape)];
    },
  ),
  gt: compare((a, b) => `${a} > ${b}`),
  ge: compare((a, b) => `${a} >= ${b}`),
  lt: compare((a, b) => `${a} < ${b}`),
  le: compare((a, b) => `${a} <= ${b}`),
  eq: compare((a, b) => `${a} === ${b}`),
  where: elementwise(
    3,
    ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})`,
    ([g], { inputs: [c, a, b] }) => [
      null,
      unbroadcast(F.where(c, g!, 0), a.shape),
      unbroadcast(F.where(c, 0, g!), b.shape),
    ],
  ),

  neg: elementwise(
    1,
    ([a]) => `(-${a})`,
    unary((g) => F.neg(g)),
  ),
  identity: elementwise(
    1,
    ([a]) => a,
    unary((g) => g),
    { fold: false },
  ),
  exp: elementwise(
    1,
    ([a]) => `Math.exp(${a})`,
    unary((g, _x, y) => F.mul(g, y)),
  ),
  sin: elementwise(
    1,
    ([a]) => `Math.sin(${a})`,
    unary((g, x) => F.mul(g, F.cos(x))),
  ),
  cos: elementwise(
    1,
    ([a]) => `Math.cos(${a})`,
    unary((g, x) => F.neg(F.mul(g, F.sin(x)))),
  ),
  log: elementwise(
    1,
    ([a]) => `Math.log(${a})`,
    unary((g, x) => F.div(g, x)),
  ),
  sqrt: elementwise(
    1,
    ([a]) => `Math.sqrt(${a})`,
    unary((g, _x, y) => F.div(F.mul(g, 0.5), y)),
  ),
  abs: elementwise(
    1,
    ([a]) => `Math.abs(${a})`,
    unary((g, x) => F.mul(g, F.sign(x))),
  ),
  sign: elementwise(1, ([a]) => `Math.sign(${a})`, noGrad),
  square: elementwise(
    1,
    ([a]) => `(${a} * ${a})`,
    unary((g, x) => F.mul(g, F.mul(x, 2))),
  ),
  pow: elementwise(
    1,
    ([a], { exponent }) => powJs(a, exponent as number),
    unary((g, x, _y, { exponent }) => {
      const p = exponent as number;
      return p === 0 ? F.mul(g, 0) : F.mul(g, F.mul(F.pow(x, p - 1), p));
    }),
  ),
  cast: elementwise(
    1,
    ([a], { dtype }) => (dtype === 'float32' ? `Math.fround(${a})` : a),
    unary((g, x) => F.cast(g, x.dtype)),
    {
      infer: ([x], { dtype }) => [{ shape: x.shape, dtype: dtype as DType }],
    },
  ),
  broadcastTo: elementwise(
    1,
    ([a]) => a,
    unary((g, x) => unbroadcast(g, x.shape)),
    {
      fold: false,
      infer: ([x], { shape }, op) => {
        const target = shape as number[];
        const out = broadcastShapes(op, [x.shape, target]);
        if (!sameShape(out, target)) {
          throw new MatgradShapeError(`${op}: cannot broadcast ${fmt(x.shape)} to ${fmt(target)}`);
        }
        return [{ shape: target, dtype: x.dtype }];
      },
    },
  ),

  sum: {
    kind: 'reduce',
    reducer: 'sum',
    divisor: () => 1,
    infer: reduceInfer,
    vjp: ([g], { inputs: [x], outputs: [y] }) => [F.broadcastTo(F.reshape(g!, keptShape(x, y)), x.shape)],
  },
  mean: {
    kind: 'reduce',
    reducer: 'sum',
    divisor: (shape, { axes }) => normalizeAxes('mean', axes as number[], shape.length).reduce((c, a) => c * shape[a], 1),
    infer: reduceInfer,
    vjp: ([g], { inputs: [x], outputs: [y] }) => [
      F.broadcastTo(
        F.div(F.reshape(g!, keptShape(x, y)), sizeOf(x.shape) / Math.max(1, sizeOf(y.shape))),
        x.shape,
      ),
    ],
  },
  max: {
    kind: 'reduce',
    reducer: 'max',
    divisor: () => 1,
    infer: reduceInfer,
    vjp: ([g], { inputs: [x], outputs: [y], attrs }) => {
      // ties share the gradient evenly (torch.amax semantics)
      const kept = keptShape(x, y);
      const mask = F.eq(x, F.reshape(y, kept));
      const count = F.sum(mask, attrs.axes as number[] | undefined, true);
      return [F.mul(F.div(mask, count), F.reshape(g!, kept))];
    },
  },

  matmul: {
    kind: 'kernel',
    infer: ([a, b], { transA, transB }, op) => {
      needMatrix(op, a, 'first input');
      needMatrix(op, b, 'second input');
      const { m, k, kb, n } = matmulDims(a.shape, b.shape, !!transA, !!transB);
      if (k !== kb) {
        throw new MatgradShapeError(
          `${op}: inner dimensions differ: ${fmt(a.shape)}${transA ? 'ᵀ' : ''} @ ${fmt(b.shape)}${transB ? 'ᵀ' : ''}`,
        );
      }
      let batch: number[];
      try {
        batch = broadcastShapes(op, [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
      } catch {
        throw new MatgradShapeError(
          `${op}: batch dimensions ${fmt(a.shape.slice(0, -2))} and ${fmt(b.shape.slice(0, -2))} cannot be broadcast together: ${fmt(a.shape)} @ ${fmt(b.shape)}`,
        );
      }
      return [{ shape: [...batch, m, n], dtype: commonDType(op, [a.dtype, b.dtype]) }];
    },
    vjp: ([g], { inputs: [a, b], attrs: { transA, transB } }) => {
      const mm = (x: Tensor, y: Tensor, tx: boolean, ty: boolean) => F.matmulT(x, y, tx, ty);
      let da: Tensor;
      let db: Tensor;
      if (!transA && !transB) [da, db] = [mm(g!, b, false, true), mm(a, g!, true, false)];
      else if (transA && !transB) [da, db] = [mm(b, g!, false, true), mm(a, g!, false, false)];
      else if (!transA && transB) [da, db] = [mm(g!, b, false, false), mm(g!, a, true, false)];
      else [da, db] = [mm(b, g!, true, true), mm(g!, a, true, true)];
      return [unbroadcast(da, a.shape), unbroadcast(db, b.shape)];
    },
    cpu: ({ ins: [a, b], outs: [c], attrs, id }) =>
      matmulKernel(a.name, b.name, c.name, a.shape, b.shape, c.shape, !!attrs.transA, !!attrs.transB, id),
  },

  transpose: {
    kind: 'kernel',
    infer: ([x], _a, op) => {
      needMatrix(op, x);
      const s = x.shape;
      return [{ shape: [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]], dtype: x.dtype }];
    },
    vjp: unary((g) => F.transpose(g)),
    cpu: ({ ins: [x], outs: [y], id }) => {
      const st = contiguousStrides(x.shape);
      const r = st.length;
      const walk = [...st.slice(0, -2), st[r - 1], st[r - 2]];
      return loopNest(
        y.shape,
        [{ strides: walk }, { strides: contiguousStrides(y.shape) }],
        ([i, o]) => `${y.name}[${o}] = ${x.name}[${i}];`,
        id,
      );
    },
  },
  reshape: {
    kind: 'alias',
    infer: ([x], { shape }, op) => {
      const target = shape as number[];
      if (sizeOf(target) !== sizeOf(x.shape)) {
        throw new MatgradShapeError(
          `${op}: cannot reshape ${fmt(x.shape)} (${sizeOf(x.shape)} elements) to ${fmt(target)}`,
        );
      }
      return [{ shape: target, dtype: x.dtype }];
    },
    vjp: unary((g, x) => F.reshape(g, x.shape)),
    cpu: ({ ins: [x], outs: [y] }) => (x.name === y.name ? '' : `${y.name}.set(${x.name});`),
  },
  slice: {
    kind: 'kernel',
    infer: ([x], { begin, size }, op) => {
      const b = begin as number[];
      const s = size as number[];
      if (b.length !== x.shape.length || s.length !== x.shape.length) {
        throw new MatgradShapeError(
          `${op}: begin ${fmt(b)} and size ${fmt(s)} must both have rank ${x.shape.length} for ${fmt(x.shape)}`,
        );
      }
      x.shape.forEach((d, i) => {
        if (b[i] < 0 || s[i] < 0 || b[i] + s[i] > d) {
          throw new MatgradShapeError(
            `${op}: begin ${fmt(b)} + size ${fmt(s)} exceeds ${fmt(x.shape)} at axis ${i}`,
          );
        }
      });
      return [{ shape: s, dtype: x.dtype }];
    },
    vjp: unary((g, x, _y, { begin }) => F.pad(g, begin as number[], x.shape)),
    cpu: ({ ins: [x], outs: [y], attrs: { begin }, id }) => {
      const st = contiguousStrides(x.shape);
      const offset = (begin as number[]).reduce((o, b, i) => o + b * st[i], 0);
      return loopNest(
        y.shape,
        [{ strides: st, offset }, { strides: contiguousStrides(y.shape) }],
        ([i, o]) => `${y.name}[${o}] = ${x.name}[${i}];`,
        id,
      );
    },
  },
  pad: {
    kind: 'kernel',
    infer: ([x], { begin, shape }, op) => {
      const b = begin as number[];
      const s = shape as number[];
      x.shape.forEach((d, i) => {
        if (b[i] < 0 || b[i] + d > s[i])
          throw new MatgradShapeError(`${op}: ${fmt(x.shape)} at ${fmt(b)} does not fit in ${fmt(s)}`);
      });
      return [{ shape: s, dtype: x.dtype }];
    },
    vjp: unary((g, x, _y, { begin }) => F.slice(g, begin as number[], x.shape)),
    cpu: ({ ins: [x], outs: [y], attrs: { begin }, id }) => {
      const st = contiguousStrides(y.shape);
      const offset = (begin as number[]).reduce((o, b, i) => o + b * st[i], 0);
      return `${y.name}.fill(0);\n${loopNest(x.shape, [{ strides: contiguousStrides(x.shape) }, { strides: st, offset }], ([i, o]) => `${y.name}[${o}] = ${x.name}[${i}];`, id)}`;
    },
  },
  concat: {
    kind: 'kernel',
    infer: (inputs, { axis }, op) => {
      const first = inputs[0];
      if (!first) throw new MatgradShapeError(`${op}: needs at least one tensor`);
      const [ax] = normalizeAxes(op, axis as number, first.shape.length);
      let total = 0;
      for (const t of inputs) {
        if (
          t.shape.length !== first.shape.length ||
          t.shape.some((d, i) => i !== ax && d !== first.shape[i])
        ) {
          throw new MatgradShapeError(
            `${op}: shapes ${inputs.map((i) => fmt(i.shape)).join(', ')} differ outside axis ${ax}`,
          );
        }
        total += t.shape[ax];
      }
      return [{ shape: first.shape.map((d, i) => (i === ax ? total : d)), dtype: dtypeOf(inputs, op) }];
    },
    vjp: ([g], { inputs, attrs: { axis } }) => {
      const ax = normalizeAxes('concat', axis as number, g!.shape.length)[0];
      let at = 0;
      return inputs.map((x) => {
        const begin = g!.shape.map((_, i) => (i === ax ? at : 0));
        at += x.shape[ax];
        return F.slice(g!, begin, x.shape);
      });
    },
    cpu: ({ ins, outs: [y], attrs: { axis }, id }) => {
      const ax = normalizeAxes('concat', axis as number, y.shape.length)[0];
      const st = contiguousStrides(y.shape);
      let at = 0;
      return ins
        .map((x, j) => {
          const offset = at * st[ax];
          at += x.shape[ax];
          return loopNest(
            x.shape,
            [{ strides: contiguousStrides(x.shape) }, { strides: st, offset }],
            ([i, o]) => `${y.name}[${o}] = ${x.name}[${i}];`,
            `${id}_${j}`,
          );
        })
        .join('\n');
    },
  },
  diag: {
    kind: 'kernel',
    infer: ([x], _a, op) => {
      needMatrix(op, x);
      const s = x.shape;
      return [{ shape: [...s.slice(0, -2), Math.min(s[s.length - 2], s[s.length - 1])], dtype: x.dtype }];
    },
    vjp: unary((g, x) => F.diagEmbed(g, x.shape[x.shape.length - 2], x.shape[x.shape.length - 1])),
    cpu: ({ ins: [x], outs: [y], id }) => {
      const [m, n] = x.shape.slice(-2);
      const walk = [...contiguousStrides(y.shape.slice(0, -1)).map((s) => s * m * n), n + 1];
      return loopNest(
        y.shape,
        [{ strides: walk }, { strides: contiguousStrides(y.shape) }],
        ([i, o]) => `${y.name}[${o}] = ${x.name}[${i}];`,
        id,
      );
    },
  },
  diagEmbed: {
    kind: 'kernel',
    infer: ([v], { rows, cols }, op) => {
      if (v.shape.length < 1)
        throw new MatgradShapeError(`${op}: input must have at least 1 dim, got ${fmt(v.shape)}`);
      const k = v.shape[v.shape.length - 1];
      const m = (rows as number | undefined) ?? k;
      const n = (cols as number | undefined) ?? k;
      if (Math.min(m, n) !== k)
        throw new MatgradShapeError(`${op}: a diagonal of length ${k} does not fit a ${m}×${n} matrix`);
      return [{ shape: [...v.shape.slice(0, -1), m, n], dtype: v.dtype }];
    },
    vjp: unary((g) => F.diag(g)),
    cpu: ({ ins: [v], outs: [y], id }) => {
      const [m, n] = y.shape.slice(-2);
      const walk = [...contiguousStrides(v.shape.slice(0, -1)).map((s) => s * m * n), n + 1];
      return `${y.name}.fill(0);\n${loopNest(v.shape, [{ strides: contiguousStrides(v.shape) }, { strides: walk }], ([i, o]) => `${y.name}[${o}] = ${v.name}[${i}];`, id)}`;
    },
  },

  trace: { kind: 'composite', expand: ([x]) => F.sum(F.diag(x), -1) },
  outer: {
    kind: 'composite',
    expand: ([a, b]) =>
      F.mul(
        F.reshape(a, [...a.shape, 1]),
        F.reshape(b, [...b.shape.slice(0, -1), 1, b.shape[b.shape.length - 1]]),
      ),
  },
  mse: { kind: 'composite', expand: ([a, b]) => F.mean(F.square(F.sub(a, b))) },
};

export const opNames = Object.keys(OPS) as OpName[];

/** Shape a reduction's output takes with keepdims, whether or not it was kept. */
function keptShape(x: Tensor, y: Tensor): number[] {
  const axes = normalizeAxes(y.node.op, y.node.attrs.axes as number[] | undefined, x.shape.length);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}
