import type { FusedArg, FusedKernel } from '../../autograd/plan.js';
import { broadcastStrides, normalizeAxes, type Shape, sizeOf } from '../../autograd/shape.js';
import { matmulDims } from '../cpu/matmul.js';
import { COMPLEX_LINALG_WGSL } from './complex-linalg.js';
import { LINALG_WGSL } from './linalg.js';
import {
  type ArenaRef,
  at,
  contiguous,
  type ElementwiseOpName,
  f32,
  indexMaps,
  type NonElementwiseOpName,
  specials,
  WGSL_ELEMENTWISE,
  type WgslKernel,
  type WgslKernelArgs,
  type WgslOpEntry,
} from './wgsl.js';

/** One compute shader and its dispatch size (workgroups in x and y). */
export interface ShaderDispatch {
  readonly code: string;
  readonly x: number;
  readonly y: number;
  /** Human-readable origin, for error messages. */
  readonly label: string;
}

export const WG = 64;
/** Workgroup size and maximum workgroup count of the first stage of a full reduction. */
export const RED_WG = 256;
export const RED_GROUPS = 256;
const MAX_GROUPS_X = 65535;

// ---- op kernels -------------------------------------------------------------------------------

/** Columns of C per invocation: the largest divisor of n up to 8 (register tile along the row). */
const columnsPerThread = (n: number): number => {
  for (let t = Math.min(8, n); t > 1; t--) if (n % t === 0) return t;
  return 1;
};

/**
 * Batched matmul with shapes baked in: one invocation computes `tn` adjacent outputs of a row of C
 * (op(A)'s row is read once for all of them), so many small matrices share a workgroup; inner
 * dimensions up to 32 are unrolled. Batch dims broadcast through baked index maps.
 */
function matmulWgsl({ ins: [a, b], outs: [c], attrs }: WgslKernelArgs): WgslKernel {
  const transA = !!attrs.transA;
  const transB = !!attrs.transB;
  const { m, k, n } = matmulDims(a.shape, b.shape, transA, transB);
  const batch = c.shape.slice(0, -2);
  const aStr = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * k);
  const bStr = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * k * n);
  if (k === 0) return { threads: sizeOf(c.shape), body: `  A[${at(c.offset, 'i')}] = 0.0f;\n` };
  const tn = columnsPerThread(n);
  const segs = n / tn;
  const threads = sizeOf(batch) * m * segs;
  let s = '';
  s += segs === 1 ? '  let col = 0u;\n' : `  let col = (i % ${segs}u) * ${tn}u;\n`;
  s += m === 1 ? '  let row = 0u;\n' : `  let row = (i / ${segs}u) % ${m}u;\n`;
  s += `  let bi = i / ${m * segs}u;\n`;
  const { lets, exprs } = indexMaps(batch, [aStr, bStr], 'bi', 'q');
  s += lets;
  // op(A)[row, p] = A[pa + p·aStep]; op(B)[p, col + j] = A[pb + p·bStep + j·bCol]
  const aStep = transA ? m : 1;
  const bStep = transB ? 1 : n;
  const bCol = transB ? k : 1;
  s += `  let pa = ${a.offset}u + ${exprs[0]} + ${transA ? 'row' : `row * ${k}u`};\n`;
  s += `  let pb = ${b.offset}u + ${exprs[1]} + ${transB ? `col * ${k}u` : 'col'};\n`;
  s += `  let pc = ${c.offset}u + (i / ${segs}u) * ${n}u + col;\n`;
  const off = (base: string, v: number) => (v === 0 ? base : `${base} + ${v}u`);
  for (let j = 0; j < tn; j++) s += `  var c${j} = 0.0f;\n`;
  if (k <= 32) {
    for (let p = 0; p < k; p++) {
      s += `  let a${p} = A[${off('pa', p * aStep)}];\n`;
      for (let j = 0; j < tn; j++) s += `  c${j} = fma(a${p}, A[${off('pb', p * bStep + j * bCol)}], c${j});\n`;
    }
  } else {
    s += `  for (var p = 0u; p < ${k}u; p = p + 1u) {\n    let ap = A[pa + p * ${aStep}u];\n    let bp = pb + p * ${bStep}u;\n`;
    for (let j = 0; j < tn; j++) s += `    c${j} = fma(ap, A[${off('bp', j * bCol)}], c${j});\n`;
    s += '  }\n';
  }
  for (let j = 0; j < tn; j++) s += `  A[${off('pc', j)}] = c${j};\n`;
  return { threads, body: s, work: threads * tn * k };
}

/** Output element i copies input element map(i) (transpose, slice, diag). */
function gather(x: ArenaRef, y: ArenaRef, walk: readonly number[], offset: number): WgslKernel {
  const { lets, exprs } = indexMaps(y.shape, [walk], 'i', 'q');
  return {
    threads: sizeOf(y.shape),
    body: `${lets}  A[${at(y.offset, 'i')}] = A[${at(x.offset + offset, exprs[0])}];\n`,
  };
}

/** Per-dimension coordinates of the flat index `i` over `shape` (only dims listed in `need`). */
function coords(shape: Shape, need: readonly number[]): string {
  const cont = contiguous(shape);
  return need
    .map((d) => {
      const div = cont[d] === 1 ? 'i' : `(i / ${cont[d]}u)`;
      return `  let c${d} = ${d === 0 ? div : `${div} % ${shape[d]}u`};\n`;
    })
    .join('');
}

/** Output element i is the input element at i − begin inside the block, else 0. */
function padWgsl({ ins: [x], outs: [y], attrs }: WgslKernelArgs): WgslKernel {
  const begin = attrs.begin as number[];
  const xs = contiguous(x.shape);
  const dims = y.shape.map((_, d) => d).filter((d) => y.shape[d] !== 1);
  const conds: string[] = [];
  const terms: string[] = [];
  for (const d of dims) {
    const b = begin[d];
    if (b > 0) conds.push(`c${d} >= ${b}u`);
    if (b + x.shape[d] < y.shape[d]) conds.push(`c${d} < ${b + x.shape[d]}u`);
    if (x.shape[d] > 1) terms.push(`(c${d} - ${b}u) * ${xs[d]}u`);
  }
  const src = `A[${at(x.offset, terms.length ? terms.join(' + ') : '0u')}]`;
  // outside the block the output is 0; the input is read only inside it
  const body = conds.length
    ? `${coords(y.shape, dims)}  var v = 0.0f;\n  if (${conds.join(' && ')}) { v = ${src}; }\n  A[${at(y.offset, 'i')}] = v;\n`
    : `${coords(y.shape, dims)}  A[${at(y.offset, 'i')}] = ${src};\n`;
  return { threads: sizeOf(y.shape), body };
}

function concatWgsl({ ins, outs: [y], attrs }: WgslKernelArgs): WgslKernel {
  const ax = normalizeAxes('concat', attrs.axis as number, y.shape.length)[0];
  const inner = contiguous(y.shape)[ax];
  const total = y.shape[ax];
  let s = `  let ca = (i / ${inner}u) % ${total}u;\n  let outer = i / ${inner * total}u;\n  let inner = i % ${inner}u;\n`;
  let start = 0;
  const branches: string[] = [];
  for (const x of ins) {
    const len = x.shape[ax];
    if (len > 0) {
      const src = `A[${x.offset}u + outer * ${len * inner}u + (ca - ${start}u) * ${inner}u + inner]`;
      branches.push(`if (ca < ${start + len}u) { A[${at(y.offset, 'i')}] = ${src}; }`);
    }
    start += len;
  }
  s += `  ${branches.join(' else ')}\n`;
  return { threads: sizeOf(y.shape), body: s };
}

function diagEmbedWgsl({ ins: [v], outs: [y] }: WgslKernelArgs): WgslKernel {
  const [m, n] = y.shape.slice(-2);
  const k = v.shape[v.shape.length - 1];
  const body = `  let r = (i / ${n}u) % ${m}u;\n  let c = i % ${n}u;\n  var x = 0.0f;\n  if (r == c) { x = A[${v.offset}u + (i / ${m * n}u) * ${k}u + r]; }\n  A[${at(y.offset, 'i')}] = x;\n`;
  return { threads: sizeOf(y.shape), body };
}

const none: WgslOpEntry = { kind: 'none' };
const hostSolver: WgslOpEntry = {
  kind: 'unsupported',
  reason: 'customRoot runs a host-side (JavaScript) solver inside the step; run this program on the CPU backend',
};

/** WGSL for the ops that are not elementwise (see WGSL_ELEMENTWISE for the rest). */
export const WGSL_OPS: { readonly [K in NonElementwiseOpName]: WgslOpEntry } = {
  const: none,
  input: none,
  reshape: none,
  trace: none,
  outer: none,
  mse: none,
  sum: { kind: 'reduce' },
  mean: { kind: 'reduce' },
  max: { kind: 'reduce' },
  matmul: { kind: 'kernel', wgsl: matmulWgsl },
  transpose: {
    kind: 'kernel',
    wgsl: ({ ins: [x], outs: [y] }) => {
      const st = contiguous(x.shape);
      const r = st.length;
      return gather(x, y, [...st.slice(0, -2), st[r - 1], st[r - 2]], 0);
    },
  },
  slice: {
    kind: 'kernel',
    wgsl: ({ ins: [x], outs: [y], attrs }) => {
      const st = contiguous(x.shape);
      const offset = (attrs.begin as number[]).reduce((o, b, i) => o + b * st[i], 0);
      return gather(x, y, st, offset);
    },
  },
  pad: { kind: 'kernel', wgsl: padWgsl },
  concat: { kind: 'kernel', wgsl: concatWgsl },
  diag: {
    kind: 'kernel',
    wgsl: ({ ins: [x], outs: [y] }) => {
      const [m, n] = x.shape.slice(-2);
      return gather(x, y, [...contiguous(y.shape.slice(0, -1)).map((s) => s * m * n), n + 1], 0);
    },
  },
  diagEmbed: { kind: 'kernel', wgsl: diagEmbedWgsl },
  // decompositions: one invocation per matrix, n ≤ 32 (see linalg.ts)
  eigh: { kind: 'kernel', wgsl: LINALG_WGSL.eigh },
  svd: { kind: 'kernel', wgsl: LINALG_WGSL.svd },
  solve: { kind: 'kernel', wgsl: LINALG_WGSL.solve },
  inv: { kind: 'kernel', wgsl: LINALG_WGSL.inv },
  cholesky: { kind: 'kernel', wgsl: LINALG_WGSL.cholesky },
  qr: { kind: 'kernel', wgsl: LINALG_WGSL.qr },
  det: { kind: 'kernel', wgsl: LINALG_WGSL.det },
  slogdet: { kind: 'kernel', wgsl: LINALG_WGSL.slogdet },
  eig: { kind: 'kernel', wgsl: LINALG_WGSL.eig },
  // complex decompositions on interleaved real views (see complex-linalg.ts)
  complexEigh: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexEigh },
  complexSvd: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexSvd },
  complexSolve: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexSolve },
  complexInv: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexInv },
  complexDet: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexDet },
  complexCholesky: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexCholesky },
  complexQr: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexQr },
  complexSlogdet: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexSlogdet },
  complexEig: { kind: 'kernel', wgsl: COMPLEX_LINALG_WGSL.complexEig },
  eigvalsh: none,
  svdvals: none,
  // implicit differentiation calls a host-side solver (JS functions) inside the step
  customRoot: hostSolver,
  customRootVjp: hostSolver,
};

/** `v / divisor` (mean); a zero divisor gives what v / 0 gives on the CPU (NaN or ±Infinity). */
const divided = (v: string, divisor: number): string =>
  divisor === 1 ? v : divisor === 0 ? `(${v} * INF_F)` : `(${v} / ${f32(divisor)})`;

/** Partial reduction over `axes`: one invocation per output element loops over the reduced ones. */
export function partialReduceWgsl(
  x: ArenaRef,
  y: ArenaRef,
  axes: readonly number[],
  reducer: 'sum' | 'max',
  divisor: number,
): WgslKernel {
  const st = contiguous(x.shape);
  const keptShape = x.shape.filter((_, d) => !axes.includes(d));
  const keptStr = st.filter((_, d) => !axes.includes(d));
  const redShape = x.shape.filter((_, d) => axes.includes(d));
  const redStr = st.filter((_, d) => axes.includes(d));
  const count = sizeOf(redShape);
  const outer = indexMaps(keptShape, [keptStr], 'i', 'q');
  const inner = indexMaps(redShape, [redStr], 'r', 'w');
  const combine = reducer === 'sum' ? 'acc + v' : 'rmax(acc, v)';
  let s = outer.lets;
  s += `  let base = ${at(x.offset, outer.exprs[0])};\n`;
  s += `  var acc = ${reducer === 'sum' ? '0.0f' : '(-INF_F)'};\n`;
  s += `  for (var r = 0u; r < ${count}u; r = r + 1u) {\n${inner.lets.replace(/^ {2}/gm, '    ')}`;
  s += `    let v = A[base + ${inner.exprs[0]}];\n    acc = ${combine};\n  }\n`;
  s += `  A[${at(y.offset, 'i')}] = ${divided('acc', divisor)};\n`;
  return { threads: sizeOf(y.shape), body: s, work: sizeOf(y.shape) * count };
}

// ---- pieces: kernels before they become shaders ---------------------------------------------------

/** Token for step scalar j in generated bodies; each shader form substitutes its own read. */
export const scalarToken = (j: number): string => `SCALAR[${j}]`;

/** `threads` independent invocations of `body` (which sees `i`); `pre` runs once before. */
export interface MapPiece {
  readonly kind: 'map';
  readonly threads: number;
  /** Rough cost in element operations (matmul: outputs × k), to pick the single-workgroup form. */
  readonly work: number;
  readonly pre: string;
  readonly body: string;
  readonly label: string;
}

/** A loop over `n` elements whose expressions are also reduced to one-element buffers. */
export interface ReducePiece {
  readonly kind: 'reduce';
  readonly n: number;
  readonly work: number;
  readonly pre: string;
  readonly body: string;
  readonly reductions: readonly {
    readonly expr: number;
    readonly reducer: 'sum' | 'max';
    readonly divisor: number;
    /** Arena offset of the one-element result. */
    readonly dest: number;
  }[];
  readonly label: string;
}

export type Piece = MapPiece | ReducePiece;

export const mapPiece = (k: WgslKernel, label: string, pre = ''): MapPiece => ({
  kind: 'map',
  threads: k.threads,
  work: k.work ?? k.threads,
  pre,
  body: k.body,
  label,
});

/** Where a fused kernel's buffers live: arena offsets, or a slot of the step scalars. */
export interface FusedContext {
  offset(buffer: number): number;
  /** Index of the buffer among the plan's step scalars, or -1. */
  scalarSlot(buffer: number): number;
}

/** A fused elementwise kernel as a piece: broadcast index maps baked in, one-element loads hoisted. */
export function fusedPiece(k: FusedKernel, ctx: FusedContext, label: string): Piece | null {
  const n = sizeOf(k.shape);
  if (n === 0 && k.reductions.length === 0) return null;
  const cont = contiguous(k.shape);
  const streamed = k.loads.map((l, j) => ({ l, j })).filter(({ l }) => sizeOf(l.shape) !== 1);
  const walks = streamed.map(({ l }) => broadcastStrides(l.shape, k.shape));
  const maps = indexMaps(k.shape, [...walks, cont], 'i', 'q');
  const pre = k.loads
    .map((l, j) => {
      if (sizeOf(l.shape) !== 1) return '';
      const slot = ctx.scalarSlot(l.buffer);
      return `  let l${j} = ${slot >= 0 ? scalarToken(slot) : `A[${ctx.offset(l.buffer)}u]`};\n`;
    })
    .join('');
  const argName = (a: FusedArg) => ('load' in a ? `l${a.load}` : 'expr' in a ? `e${a.expr}` : f32(a.literal));
  let body = maps.lets;
  streamed.forEach(({ l, j }, w) => {
    body += `  let l${j} = A[${at(ctx.offset(l.buffer), maps.exprs[w])}];\n`;
  });
  k.exprs.forEach((e, j) => {
    const template = WGSL_ELEMENTWISE[e.op as ElementwiseOpName];
    if (!template) throw new Error(`fused kernel holds non-elementwise op ${e.op}`);
    body += `  let e${j}: f32 = ${template(e.args.map(argName), e.attrs)};\n`;
  });
  for (const s of k.stores) body += `  A[${at(ctx.offset(s.buffer), 'i')}] = e${s.expr};\n`;
  if (!k.reductions.length) return { kind: 'map', threads: n, work: n, pre, body, label };
  const reductions = k.reductions.map((r) => ({
    expr: r.expr,
    reducer: r.reducer,
    divisor: r.divisor,
    dest: ctx.offset(r.buffer),
  }));
  return { kind: 'reduce', n, work: n, pre, body, reductions, label };
}

// ---- shader assembly ----------------------------------------------------------------------------

const RMAX = 'fn rmax(a: f32, b: f32) -> f32 {\n  if (b > a || b != b) { return b; }\n  return a;\n}\n';
/**
 * sin/cos to about 1 ulp: WGSL's builtins only promise 2^-11 absolute error (SwiftShader is that
 * coarse). Cody–Waite reduction by π/2 (exact for |x| below ~1e4), Taylor polynomials on [−π/4, π/4].
 */
const SINCOS = `fn mg_sincos(x: f32, shift: i32) -> f32 {
  let k = round(x * 0.63661975f);
  let r = ((x - k * 1.5703125f) - k * 4.8375129699707031e-4f) - k * 7.5497899548918821e-8f;
  let q = (i32(k) + shift) & 3;
  let z = r * r;
  let s = r + r * z * (-0.16666667f + z * (0.0083333333f + z * (-1.9841270e-4f + z * 2.7557319e-6f)));
  let c = 1.0f - 0.5f * z + z * z * (0.041666667f + z * (-0.0013888889f + z * 2.4801587e-5f));
  if (q == 0) { return s; }
  if (q == 1) { return c; }
  if (q == 2) { return -s; }
  return -c;
}
`;
/**
 * atan2 to a few ulp (WGSL's builtin promises only 4096 ulp): octant reduction to |t| ≤ tan(π/8), then
 * the Taylor series of atan through t¹⁵ (remainder below t¹⁷/17 ≈ 2e-8).
 */
const ATAN2 = `fn mg_atan2(y: f32, x: f32) -> f32 {
  let ax = abs(x);
  let ay = abs(y);
  let hi = max(ax, ay);
  let a = select(min(ax, ay) / hi, 0.0f, hi == 0.0f);
  let big = a > 0.41421356f;
  let t = select(a, (a - 1.0f) / (a + 1.0f), big);
  let z = t * t;
  var r = t + t * z * (-0.33333333f + z * (0.2f + z * (-0.14285714f + z * (0.11111111f + z * (-0.090909091f + z * (0.076923077f + z * -0.066666667f))))));
  r = select(r, 0.78539816f + r, big);
  r = select(r, 1.5707963f - r, ay > ax);
  r = select(r, 3.1415927f - r, x < 0.0f);
  return select(r, -r, y < 0.0f);
}
`;
/** Helper functions a shader body may call, added when it does. */
const helpers = (body: string) =>
  (body.includes('rmax(') ? RMAX : '') + (body.includes('mg_sincos(') ? SINCOS : '') + (body.includes('mg_atan2(') ? ATAN2 : '');
const indent = (s: string) => s.replace(/^(?=.)/gm, '  ');

type Red = ReducePiece['reductions'][number];
const init = (r: Red) => (r.reducer === 'sum' ? '0.0f' : '(-INF_F)');
const comb = (r: Red, a: string, b: string) => (r.reducer === 'sum' ? `${a} + ${b}` : `rmax(${a}, ${b})`);

/** Scalar uniforms of the multi-dispatch form: `count` f32 values as vec4s. */
export const scalarVec4s = (count: number): number => Math.max(1, Math.ceil(count / 4));
const uniformScalars = (code: string) =>
  code.replace(/SCALAR\[(\d+)\]/g, (_, j) => `S.v[${Number(j) >> 2}].${'xyzw'[Number(j) & 3]}`);

function header(body: string, scalars: number): string {
  let h = '@group(0) @binding(0) var<storage, read_write> A: array<f32>;\n';
  if (body.includes('S.v['))
    h += `struct Scalars { v: array<vec4<f32>, ${scalarVec4s(scalars)}> }\n@group(0) @binding(1) var<uniform> S: Scalars;\n`;
  return h + helpers(body);
}

const SIG = (wg: number) => `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
`;

function shader(main: string, wg: number, scalars: number, shared = ''): string {
  const m = uniformScalars(main);
  return `${header(m, scalars)}${shared}${SIG(wg)}${specials(m, 'lid & 0u')}${m}}\n`;
}

/** Splits a workgroup count over x and y (x ≤ 65535). */
export function grid(groups: number): { x: number; y: number } {
  const g = Math.max(1, groups);
  const x = Math.min(g, MAX_GROUPS_X);
  return { x, y: Math.ceil(g / x) };
}

/** Tree reduction of `R{j}[lid]` over a workgroup of `wg`, then `write(j, value)` by invocation 0. */
function tree(reds: readonly Red[], wg: number, write: (j: number, v: string) => string, barrier: string): string {
  let t = `${barrier}\n`;
  t += `for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {\n  if (lid < s) {\n`;
  reds.forEach((r, j) => {
    t += `    R${j}[lid] = ${comb(r, `R${j}[lid]`, `R${j}[lid + s]`)};\n`;
  });
  t += `  }\n  ${barrier}\n}\nif (lid == 0u) {\n`;
  reds.forEach((_, j) => {
    t += `  ${write(j, `R${j}[0]`)}\n`;
  });
  return `${t}}\n`;
}

/** Full reductions up to this many elements run in one workgroup, in one dispatch. */
const ONE_GROUP_REDUCE = 4096;
/** Invocations of the first pass of a larger reduction (each loops over ≥ 4 elements). */
const MAX_PARTIALS = 32768;

/**
 * Multi-dispatch form: a piece becomes one dispatch (map), or one or two (reduce: up to 4096
 * elements in one workgroup; beyond, a first pass writes partials and one workgroup folds them).
 */
export function pieceShaders(
  p: Piece,
  scalars: number,
  scratch: (count: number) => number,
  treeFirstPass = true,
): ShaderDispatch[] {
  if (p.kind === 'map') {
    const { x, y } = grid(Math.ceil(p.threads / WG));
    const idx = y === 1 ? `wid.x * ${WG}u + lid` : `(wid.x + wid.y * ${x}u) * ${WG}u + lid`;
    const main = `${p.pre}  let i = ${idx};\n  if (i >= ${p.threads}u) { return; }\n${p.body}`;
    return [{ code: shader(main, WG, scalars), x, y, label: p.label }];
  }
  const reds = p.reductions;
  const shared = reds.map((_, j) => `var<workgroup> R${j}: array<f32, ${RED_WG}>;\n`).join('');
  const accumulate = reds.map((r, j) => `    r${j} = ${comb(r, `r${j}`, `e${r.expr}`)};\n`).join('');
  const inits = reds.map((r, j) => `  var r${j}: f32 = ${init(r)};\n`).join('');
  const final = (j: number, v: string) => `A[${reds[j].dest}u] = ${divided(v, reds[j].divisor)};`;
  if (p.n <= ONE_GROUP_REDUCE) {
    let main = `${p.pre}${inits}  for (var i = lid; i < ${p.n}u; i = i + ${RED_WG}u) {\n${indent(p.body)}${accumulate}  }\n`;
    main += reds.map((_, j) => `  R${j}[lid] = r${j};\n`).join('');
    main += indent(tree(reds, RED_WG, final, 'workgroupBarrier();'));
    return [{ code: shader(main, RED_WG, scalars, shared), x: 1, y: 1, label: p.label }];
  }
  // first pass: on GPUs each workgroup folds its invocations with a tree (≤ 256 partials); on CPU
  // adapters barriers are slow, so every invocation writes its own partial instead
  const wg = treeFirstPass ? RED_WG : WG;
  const threads = treeFirstPass
    ? Math.min(RED_GROUPS, Math.ceil(p.n / 4 / RED_WG)) * RED_WG
    : Math.min(MAX_PARTIALS, Math.ceil(p.n / 4 / WG) * WG);
  const groups = threads / wg;
  const count = treeFirstPass ? groups : threads;
  const partials = scratch(count * reds.length);
  let first = `${p.pre}${inits}  let t = wid.x * ${wg}u + lid;\n`;
  first += `  for (var i = t; i < ${p.n}u; i = i + ${threads}u) {\n${indent(p.body)}${accumulate}  }\n`;
  if (treeFirstPass) {
    first += reds.map((_, j) => `  R${j}[lid] = r${j};\n`).join('');
    first += indent(tree(reds, RED_WG, (j, v) => `A[${partials + j * count}u + wid.x] = ${v};`, 'workgroupBarrier();'));
  } else {
    first += reds.map((_, j) => `  A[${partials + j * count}u + t] = r${j};\n`).join('');
  }
  let second = inits;
  second += `  for (var t = lid; t < ${count}u; t = t + ${RED_WG}u) {\n`;
  second += reds.map((r, j) => `    r${j} = ${comb(r, `r${j}`, `A[${partials + j * count}u + t]`)};\n`).join('');
  second += '  }\n';
  second += reds.map((_, j) => `  R${j}[lid] = r${j};\n`).join('');
  second += indent(tree(reds, RED_WG, final, 'workgroupBarrier();'));
  return [
    { code: shader(first, wg, scalars, treeFirstPass ? shared : ''), x: groups, y: 1, label: p.label },
    { code: shader(second, RED_WG, scalars, shared), x: 1, y: 1, label: `${p.label} (final reduction)` },
  ];
}

// ---- single-workgroup form (small plans) ------------------------------------------------------

/** Plans whose every piece is at most this much work run as one workgroup looping over the steps. */
export const MEGA_WORK = 16384;
export const MEGA_MAX_REDUCTIONS = 8;
/** Steps per dispatch of the single-workgroup form (keeps each dispatch short for GPU watchdogs). */
export const MEGA_CHUNK = 1024;

export const megaEligible = (pieces: readonly Piece[], work = MEGA_WORK): boolean =>
  pieces.every((p) => p.work <= work && (p.kind === 'map' || p.reductions.length <= MEGA_MAX_REDUCTIONS));

/** Workgroup size of the single-workgroup form: the widest piece, rounded to a power of two. */
export function megaWorkgroup(pieces: readonly Piece[]): number {
  const widest = Math.max(1, ...pieces.map((p) => (p.kind === 'map' ? p.threads : p.n)));
  let wg = 4;
  while (wg < widest && wg < RED_WG) wg *= 2;
  return wg;
}

/**
 * The whole step as one shader run by a single workgroup: pieces in order with storage barriers
 * between them, inside a loop over `U.count` steps (step scalars read from row `U.first + s` of T).
 * One dispatch runs many steps: no per-kernel dispatch cost, which dominates small problems.
 */
export function megaShader(pieces: readonly Piece[], scalars: number): { code: string; wg: number } {
  const wg = megaWorkgroup(pieces);
  const reds = Math.max(0, ...pieces.map((p) => (p.kind === 'reduce' ? p.reductions.length : 0)));
  let steps = '';
  pieces.forEach((p) => {
    let b = `// ${p.label}\n{\n${p.pre}`;
    if (p.kind === 'map') {
      b += `  for (var i = lid; i < ${p.threads}u; i = i + ${wg}u) {\n${indent(p.body)}  }\n`;
    } else {
      const rs = p.reductions;
      b += rs.map((r, j) => `  var r${j}: f32 = ${init(r)};\n`).join('');
      b += `  for (var i = lid; i < ${p.n}u; i = i + ${wg}u) {\n${indent(p.body)}`;
      b += rs.map((r, j) => `    r${j} = ${comb(r, `r${j}`, `e${r.expr}`)};\n`).join('');
      b += '  }\n';
      b += rs.map((_, j) => `  R${j}[lid] = r${j};\n`).join('');
      b += indent(
        tree(rs, wg, (j, v) => `A[${rs[j].dest}u] = ${divided(v, rs[j].divisor)};`, 'workgroupBarrier();'),
      );
    }
    // the next piece (or the next step's first) reads what this one wrote
    b += '}\nstorageBarrier();\n';
    steps += b;
  });
  const body = `  for (var s = 0u; s < U.count; s = s + 1u) {\n    let row = (U.first + s) * ${scalars}u;\n${indent(indent(steps))}  }\n`;
  const m = body.replace(/SCALAR\[(\d+)\]/g, (_, j) => `T[row + ${j}u]`);
  let h = '@group(0) @binding(0) var<storage, read_write> A: array<f32>;\n';
  if (scalars > 0) h += '@group(0) @binding(1) var<storage, read> T: array<f32>;\n';
  h += 'struct Run { first: u32, count: u32, pad0: u32, pad1: u32 }\n@group(0) @binding(2) var<uniform> U: Run;\n';
  h += helpers(m);
  for (let j = 0; j < reds; j++) h += `var<workgroup> R${j}: array<f32, ${wg}>;\n`;
  const code = `${h}@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_index) lid: u32) {
${specials(m, 'lid & 0u')}${m}}
`;
  return { code, wg };
}
