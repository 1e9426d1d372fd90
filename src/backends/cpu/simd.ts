import type { DType } from '../../autograd/dtype.js';
import type { FusedArg, FusedKernel, OpKernel, Plan } from '../../autograd/plan.js';
import { broadcastStrides, sizeOf } from '../../autograd/shape.js';
import type { BatchInfo } from './batch.js';
import { contiguousStrides } from './loops.js';
import { matmulDims } from './matmul.js';
import type { Layout, SimdKernels } from './parallel.js';
import { compileCached, encodeModule, FunctionBuilder, I32, SIMD, V128 } from './wasm.js';

/**
 * WebAssembly SIMD versions (f32x4 / f64x2) of the kernels of a batch-tiled plan that fit the simple
 * shapes below; the rest stay generated JS. Each export k{i}(t0, n, tmp, pt) runs kernel i on batch
 * indices [t0, t0 + n): `tmp` is the calling thread's scratch address (its temps live there), `pt`
 * the address of the tile's row of reduction partials (f64).
 *
 * - fused loops over [B, ...inner] with inner a multiple of the lane count, every streamed load either
 *   batched and contiguous or broadcast over the batch only, and ops in the table below. f32 kernels
 *   compute in f32 (as PyTorch does; the JS path computes in f64 and rounds on store); full sums
 *   accumulate in f64.
 * - matmuls [B, m, k] @ [B, k, n] (either side may be broadcast over the batch, either transposed) with
 *   n a multiple of the lane count: fully unrolled per matrix, rows of C in registers. f64 products
 *   sum in the same order as the JS kernel, so they agree exactly.
 */
export function simdKernels(plan: Plan, info: BatchInfo, layout: Layout): SimdKernels | null {
  if (!simdAvailable()) return null;
  const functions: { name: string; fn: FunctionBuilder }[] = [];
  const bodies = new Map<number, string>();
  let scratchBytes = 0;
  const slots = new Map(info.reductions.map((r, j) => [`${r.kernel}:${r.index}`, j]));
  info.tiled.forEach((i) => {
    const k = plan.kernels[i];
    let made: { fn: FunctionBuilder; scratch: number } | null = null;
    if (k.kind === 'fused') made = fusedKernel(plan, info, layout, k, (r) => slots.get(`${i}:${r}`)!);
    else if (k.kind === 'op' && k.op === 'matmul') made = matmulKernel(plan, info, layout, k);
    if (!made) return;
    functions.push({ name: `k${i}`, fn: made.fn });
    bodies.set(i, `X.k${i}(t0, n, TMP, PTB + prow * 8);`);
    scratchBytes = Math.max(scratchBytes, made.scratch);
  });
  if (!functions.length) return null;
  return { module: compileCached(encodeModule(functions)), bodies, scratchBytes };
}

let available: boolean | undefined;
/** Whether this engine has WebAssembly SIMD and shared memories. */
export function simdAvailable(): boolean {
  if (available === undefined) {
    try {
      const f = new FunctionBuilder([]);
      f.i32(0).splatConst(1, 4).v(SIMD.f32x4Sqrt).v128Store(0);
      available = typeof SharedArrayBuffer !== 'undefined' && WebAssembly.validate(encodeModule([{ name: 'f', fn: f }]));
    } catch {
      available = false;
    }
  }
  return available;
}

const T0 = 0;
const N = 1;
const TMP = 2;
const PT = 3;
const PARAMS = [I32, I32, I32, I32] as const;

/** One operand's base: a pointer local advanced per batch index, or a fixed address. */
interface Base {
  readonly ptr: number | null;
  /** Fixed byte offset added through the memarg (the whole address when ptr is null). */
  readonly at: number;
}

class Kernel {
  readonly fn = new FunctionBuilder(PARAMS);
  private readonly ptrs = new Map<number, { local: number; step: number }>();

  constructor(
    private readonly plan: Plan,
    private readonly info: BatchInfo,
    private readonly layout: Layout,
  ) {}

  bytes(b: number): number {
    return this.plan.buffers[b].dtype === 'float64' ? 8 : 4;
  }

  /** The base of buffer b at batch index t0 (+ q as the loop advances), for a batch stride in elements. */
  base(b: number, batchStride: number): Base {
    const role = this.info.roles[b];
    if (role === 'scalar') {
      // one copy per thread, in its scratch
      const key = -1 - b;
      let p = this.ptrs.get(key);
      if (!p) {
        p = { local: this.fn.local(I32), step: 0 };
        this.ptrs.set(key, p);
        this.fn.get(TMP).i32(this.layout.offsets[b]).i32Add().set(p.local);
      }
      return { ptr: p.local, at: 0 };
    }
    if (role === 'shared' || batchStride === 0) {
      if (role === 'temp') throw new Error('matgrad: internal error: temp broadcast over the batch');
      return { ptr: null, at: this.layout.offsets[b] };
    }
    const step = batchStride * this.bytes(b);
    const key = b * 2 ** 20 + step;
    let p = this.ptrs.get(key);
    if (!p) {
      p = { local: this.fn.local(I32), step };
      this.ptrs.set(key, p);
      const f = this.fn;
      if (role === 'temp') f.get(TMP).i32(this.layout.offsets[b]).i32Add().set(p.local);
      else f.get(T0).i32(step).i32Mul().i32(this.layout.offsets[b]).i32Add().set(p.local);
    }
    return { ptr: p.local, at: 0 };
  }

  /** Pushes the address part of an access at byte `offset` from `base`; returns the memarg offset. */
  address(base: Base, offset: number): number {
    if (base.ptr === null) this.fn.i32(0);
    else this.fn.get(base.ptr);
    return base.at + offset;
  }

  /** Opens `for (q = 0; q < n; q++)`; the body follows, then `closeBatchLoop()`. */
  openBatchLoop(): number {
    const q = this.fn.local(I32);
    this.fn.block().get(N).i32Eqz().brIf(0).loop();
    return q;
  }

  closeBatchLoop(q: number): void {
    const f = this.fn;
    for (const p of this.ptrs.values()) if (p.step !== 0) f.get(p.local).i32(p.step).i32Add().set(p.local);
    f.get(q).i32(1).i32Add().tee(q).get(N).i32LtU().brIf(0).end().end();
  }
}

const dtypeOfKernel = (plan: Plan, buffers: readonly number[]): DType | null => {
  const d = plan.buffers[buffers[0]]?.dtype;
  return d && buffers.every((b) => plan.buffers[b].dtype === d) ? d : null;
};

// ---- fused elementwise loops -------------------------------------------------------------------

type Ops = {
  add: number;
  sub: number;
  mul: number;
  div: number;
  min: number;
  max: number;
  neg: number;
  abs: number;
  sqrt: number;
  eq: number;
  ne: number;
  lt: number;
  le: number;
  gt: number;
  ge: number;
};
const F32X4: Ops = {
  add: SIMD.f32x4Add,
  sub: SIMD.f32x4Sub,
  mul: SIMD.f32x4Mul,
  div: SIMD.f32x4Div,
  min: SIMD.f32x4Min,
  max: SIMD.f32x4Max,
  neg: SIMD.f32x4Neg,
  abs: SIMD.f32x4Abs,
  sqrt: SIMD.f32x4Sqrt,
  eq: SIMD.f32x4Eq,
  ne: SIMD.f32x4Ne,
  lt: SIMD.f32x4Lt,
  le: SIMD.f32x4Le,
  gt: SIMD.f32x4Gt,
  ge: SIMD.f32x4Ge,
};
const F64X2: Ops = {
  add: SIMD.f64x2Add,
  sub: SIMD.f64x2Sub,
  mul: SIMD.f64x2Mul,
  div: SIMD.f64x2Div,
  min: SIMD.f64x2Min,
  max: SIMD.f64x2Max,
  neg: SIMD.f64x2Neg,
  abs: SIMD.f64x2Abs,
  sqrt: SIMD.f64x2Sqrt,
  eq: SIMD.f64x2Eq,
  ne: SIMD.f64x2Ne,
  lt: SIMD.f64x2Lt,
  le: SIMD.f64x2Le,
  gt: SIMD.f64x2Gt,
  ge: SIMD.f64x2Ge,
};

const BINARY = { add: 'add', sub: 'sub', mul: 'mul', div: 'div', maximum: 'max', minimum: 'min' } as const;
const UNARY = { neg: 'neg', abs: 'abs', sqrt: 'sqrt' } as const;
const COMPARE = { gt: 'gt', ge: 'ge', lt: 'lt', le: 'le', eq: 'eq' } as const;
const ALIAS = new Set(['identity', 'broadcastTo']);

/** Whether an expression can be written with the SIMD ops above. */
function supported(e: FusedKernel['exprs'][number], dtype: DType): boolean {
  if (e.op in BINARY || e.op in UNARY || e.op in COMPARE || ALIAS.has(e.op)) return true;
  if (e.op === 'square' || e.op === 'where') return true;
  if (e.op === 'pow') return e.attrs.exponent === 2 || e.attrs.exponent === 1;
  if (e.op === 'cast') return e.attrs.dtype === dtype;
  return false;
}

const MAX_UNROLL = 32; // vectors per batch index written out in full; beyond, a loop

function fusedKernel(
  plan: Plan,
  info: BatchInfo,
  layout: Layout,
  k: FusedKernel,
  slot: (reduction: number) => number,
): { fn: FunctionBuilder; scratch: number } | null {
  const dtype = dtypeOfKernel(plan, [
    ...k.loads.map((l) => l.buffer),
    ...k.stores.map((s) => s.buffer),
    ...k.reductions.map((r) => r.buffer),
  ]);
  if (!dtype || !k.exprs.every((e) => supported(e, dtype))) return null;
  const lanes = dtype === 'float32' ? 4 : 2;
  const ops = dtype === 'float32' ? F32X4 : F64X2;
  const innerShape = k.shape.slice(1);
  const inner = sizeOf(innerShape);
  if (inner === 0 || inner % lanes !== 0) return null;
  const innerContig = contiguousStrides(innerShape);
  // streamed loads: batched & contiguous, or broadcast over the batch only
  for (const l of k.loads) {
    if (sizeOf(l.shape) === 1) continue;
    const s = broadcastStrides(l.shape, k.shape);
    if (!s.slice(1).every((v, d) => v === innerContig[d] || innerShape[d] === 1)) return null;
    if (s[0] !== 0 && s[0] !== inner) return null;
    if (s[0] === 0 && info.roles[l.buffer] === 'temp') return null;
  }

  const g = new Kernel(plan, info, layout);
  const f = g.fn;
  const vectors = inner / lanes;
  const unrolled = vectors <= MAX_UNROLL;
  // hoisted: one-element loads (splat once) and literals
  const hoisted = new Map<number, number>();
  k.loads.forEach((l, j) => {
    if (sizeOf(l.shape) !== 1) return;
    const local = f.local(V128);
    const at = g.address(g.base(l.buffer, 0), 0);
    f.loadSplat(at, lanes).set(local);
    hoisted.set(j, local);
  });
  const literals = new Map<number, number>();
  const literal = (v: number): number => {
    const key = Object.is(v, -0) ? -0 : v;
    let local = [...literals].find(([x]) => Object.is(x, key))?.[1];
    if (local === undefined) {
      local = f.local(V128);
      f.splatConst(v, lanes).set(local);
      literals.set(key, local);
    }
    return local;
  };
  const zero = literal(0);
  const one = k.exprs.some((e) => e.op in COMPARE) ? literal(1) : -1;
  for (const e of k.exprs) for (const a of e.args) if ('literal' in a) literal(a.literal);
  // batch bases of streamed loads and stores
  const loadBase = new Map<number, Base>();
  k.loads.forEach((l, j) => {
    if (sizeOf(l.shape) === 1) return;
    const s0 = broadcastStrides(l.shape, k.shape)[0];
    loadBase.set(j, g.base(l.buffer, s0 === 0 ? 0 : inner));
  });
  const storeBase = k.stores.map((s) => g.base(s.buffer, inner));
  // reduction accumulators
  const accs = k.reductions.map((r) => {
    if (r.reducer === 'sum') {
      const lo = f.local(V128);
      f.splatConst(0, 2).set(lo);
      const hi = lanes === 4 ? f.local(V128) : -1;
      if (hi >= 0) f.splatConst(0, 2).set(hi);
      return { lo, hi };
    }
    const m = f.local(V128);
    f.splatConst(-Infinity, lanes).set(m);
    return { lo: m, hi: -1 };
  });
  const loadLocal = new Map<number, number>();
  for (const j of loadBase.keys()) loadLocal.set(j, f.local(V128));
  const exprLocal: number[] = [];

  const q = g.openBatchLoop();
  let ib = -1;
  if (!unrolled) {
    ib = f.local(I32);
    f.i32(0).set(ib).loop();
  }
  const chunks = unrolled ? vectors : 1;
  // in the loop form, addresses are base + ib (the vector's byte offset in the batch index)
  const addr = (base: Base, offset: number): number => {
    if (unrolled) return g.address(base, offset);
    f.get(ib);
    if (base.ptr !== null) f.get(base.ptr).i32Add();
    return base.at + offset;
  };
  const argLocal = (a: FusedArg): number =>
    'load' in a
      ? (hoisted.get(a.load) ?? loadLocal.get(a.load)!)
      : 'expr' in a
        ? exprLocal[a.expr]
        : literal(a.literal);
  const bytes = lanes === 4 ? 4 : 8;
  for (let c = 0; c < chunks; c++) {
    const off = c * 16;
    for (const [j, base] of loadBase) {
      const at = addr(base, off);
      f.v128Load(at).set(loadLocal.get(j)!);
    }
    k.exprs.forEach((e, j) => {
      const args = e.args.map(argLocal);
      if (ALIAS.has(e.op) || e.op === 'cast' || (e.op === 'pow' && e.attrs.exponent === 1)) {
        exprLocal[j] = args[0];
        return;
      }
      if (exprLocal[j] === undefined || args.includes(exprLocal[j])) exprLocal[j] = f.local(V128);
      if (e.op in BINARY) f.get(args[0]).get(args[1]).v(ops[BINARY[e.op as keyof typeof BINARY]]);
      else if (e.op in UNARY) f.get(args[0]).v(ops[UNARY[e.op as keyof typeof UNARY]]);
      else if (e.op === 'square' || e.op === 'pow') f.get(args[0]).get(args[0]).v(ops.mul);
      else if (e.op in COMPARE)
        f.get(args[0]).get(args[1]).v(ops[COMPARE[e.op as keyof typeof COMPARE]]).get(one).v(SIMD.and);
      else if (e.op === 'where') f.get(args[1]).get(args[2]).get(args[0]).get(zero).v(ops.ne).v(SIMD.bitselect);
      else throw new Error(`matgrad: internal error: no SIMD form of ${e.op}`);
      f.set(exprLocal[j]);
    });
    k.stores.forEach((s, j) => {
      const at = addr(storeBase[j], off);
      f.get(exprLocal[s.expr]).v128Store(at);
    });
    k.reductions.forEach((r, j) => {
      const v = exprLocal[r.expr];
      const { lo, hi } = accs[j];
      if (r.reducer === 'max') f.get(lo).get(v).v(ops.max).set(lo);
      else if (lanes === 2) f.get(lo).get(v).v(SIMD.f64x2Add).set(lo);
      else {
        f.get(lo).get(v).v(SIMD.f64x2PromoteLowF32x4).v(SIMD.f64x2Add).set(lo);
        f.get(hi)
          .get(v)
          .get(v)
          .shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7])
          .v(SIMD.f64x2PromoteLowF32x4)
          .v(SIMD.f64x2Add)
          .set(hi);
      }
    });
  }
  if (!unrolled) f.get(ib).i32(16).i32Add().tee(ib).i32(inner * bytes).i32LtU().brIf(0).end();
  g.closeBatchLoop(q);
  // partials: f64 at pt + slot * 8
  k.reductions.forEach((r, j) => {
    const { lo, hi } = accs[j];
    f.get(PT);
    if (r.reducer === 'sum') {
      if (hi >= 0) f.get(lo).get(hi).v(SIMD.f64x2Add).set(lo);
      f.get(lo).extractLane(SIMD.f64x2ExtractLane, 0).get(lo).extractLane(SIMD.f64x2ExtractLane, 1).f64Add();
    } else if (lanes === 2) {
      f.get(lo).extractLane(SIMD.f64x2ExtractLane, 0).get(lo).extractLane(SIMD.f64x2ExtractLane, 1).f64Max();
    } else {
      f.get(lo).extractLane(SIMD.f32x4ExtractLane, 0);
      for (let l = 1; l < 4; l++) f.get(lo).extractLane(SIMD.f32x4ExtractLane, l).f32Max();
      f.f64PromoteF32();
    }
    f.f64Store(slot(j) * 8);
  });
  return { fn: f, scratch: 0 };
}

// ---- batched matmul ----------------------------------------------------------------------------

/** i8x16.shuffle byte lanes picking f32 lanes (0-3: first operand, 4-7: second) or f64 lanes (0-1, 2-3). */
const LANES32 = (lanes: number[]) => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
const LANES64 = (lanes: number[]) => lanes.flatMap((l) => Array.from({ length: 8 }, (_, b) => 8 * l + b));

const MATMUL_UNROLL = 4096; // vector multiply-adds per product written out in full

function matmulKernel(
  plan: Plan,
  info: BatchInfo,
  layout: Layout,
  k: OpKernel,
): { fn: FunctionBuilder; scratch: number } | null {
  const [a, b] = k.ins;
  const c = k.outs[0];
  if (c.shape.length !== 3) return null;
  const dtype = dtypeOfKernel(plan, [a.buffer, b.buffer, c.buffer]);
  if (!dtype) return null;
  const lanes = dtype === 'float32' ? 4 : 2;
  const bytes = dtype === 'float32' ? 4 : 8;
  const ops = dtype === 'float32' ? F32X4 : F64X2;
  const transA = !!k.attrs.transA;
  const transB = !!k.attrs.transB;
  const { m, k: kk, n } = matmulDims(a.shape, b.shape, transA, transB);
  if (kk === 0 || n % lanes !== 0 || m * kk * (n / lanes) > MATMUL_UNROLL) return null;
  const batch = c.shape.slice(0, 1);
  const aStride = broadcastStrides(a.shape.slice(0, -2), batch)[0] * m * kk;
  const bStride = broadcastStrides(b.shape.slice(0, -2), batch)[0] * kk * n;

  const g = new Kernel(plan, info, layout);
  const f = g.fn;
  const A = g.base(a.buffer, aStride);
  let B = g.base(b.buffer, bStride);
  const C = g.base(c.buffer, m * n);
  const s = f.local(V128);
  const acc = Array.from({ length: n / lanes }, () => f.local(V128));
  let scratch = 0;
  // op(B) = Bᵀ: copy B (n×k) transposed into this thread's scratch (k×n), once per matrix: by
  // lanes×lanes blocks transposed in registers when k allows, else element by element
  const rows = Array.from({ length: lanes }, () => f.local(V128));
  const mid = Array.from({ length: lanes }, () => f.local(V128));
  const transpose = (from: Base, to: Base) => {
    if (kk % lanes !== 0) {
      for (let p = 0; p < kk; p++)
        for (let j = 0; j < n; j++) {
          const dst = g.address(to, (p * n + j) * bytes);
          const src = g.address(from, (j * kk + p) * bytes);
          if (bytes === 4) f.f32Load(src).f32Store(dst);
          else f.f64Load(src).f64Store(dst);
        }
      return;
    }
    for (let jb = 0; jb < n; jb += lanes)
      for (let pb = 0; pb < kk; pb += lanes) {
        rows.forEach((r, l) => {
          const at = g.address(from, ((jb + l) * kk + pb) * bytes);
          f.v128Load(at).set(r);
        });
        const out = (l: number, x: number, y: number, pattern: number[]) => {
          const at = g.address(to, ((pb + l) * n + jb) * bytes);
          f.get(x).get(y).shuffle(pattern).v128Store(at);
        };
        if (lanes === 2) {
          out(0, rows[0], rows[1], LANES64([0, 2]));
          out(1, rows[0], rows[1], LANES64([1, 3]));
        } else {
          f.get(rows[0]).get(rows[1]).shuffle(LANES32([0, 4, 1, 5])).set(mid[0]);
          f.get(rows[0]).get(rows[1]).shuffle(LANES32([2, 6, 3, 7])).set(mid[1]);
          f.get(rows[2]).get(rows[3]).shuffle(LANES32([0, 4, 1, 5])).set(mid[2]);
          f.get(rows[2]).get(rows[3]).shuffle(LANES32([2, 6, 3, 7])).set(mid[3]);
          out(0, mid[0], mid[2], LANES32([0, 1, 4, 5]));
          out(1, mid[0], mid[2], LANES32([2, 3, 6, 7]));
          out(2, mid[1], mid[3], LANES32([0, 1, 4, 5]));
          out(3, mid[1], mid[3], LANES32([2, 3, 6, 7]));
        }
      }
  };
  let perMatrixTranspose: { from: Base; to: Base } | null = null;
  if (transB) {
    scratch = kk * n * bytes;
    const local = f.local(I32);
    f.get(TMP).i32(layout.scratch).i32Add().set(local);
    const to: Base = { ptr: local, at: 0 };
    if (B.ptr === null) transpose(B, to);
    else perMatrixTranspose = { from: B, to };
    B = to;
  }
  const q = g.openBatchLoop();
  if (perMatrixTranspose) transpose(perMatrixTranspose.from, perMatrixTranspose.to);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < kk; p++) {
      const at = g.address(A, (transA ? p * m + i : i * kk + p) * bytes);
      f.loadSplat(at, lanes).set(s);
      for (let jc = 0; jc < n / lanes; jc++) {
        if (p > 0) f.get(acc[jc]);
        f.get(s);
        const bat = g.address(B, (p * n + jc * lanes) * bytes);
        f.v128Load(bat).v(ops.mul);
        if (p > 0) f.v(ops.add);
        f.set(acc[jc]);
      }
    }
    for (let jc = 0; jc < n / lanes; jc++) {
      const at = g.address(C, (i * n + jc * lanes) * bytes);
      f.get(acc[jc]).v128Store(at);
    }
  }
  g.closeBatchLoop(q);
  return { fn: f, scratch };
}
