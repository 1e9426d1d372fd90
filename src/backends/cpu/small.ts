import type { FusedArg, FusedKernel, Kernel, OpKernel, Plan } from '../../autograd/plan.js';
import { OPS } from '../../autograd/ops.js';
import { broadcastStrides, normalizeAxes, sizeOf, type Shape } from '../../autograd/shape.js';
import { matmulDims } from './matmul.js';
import { compileCached, encodeModule, FunctionBuilder, I32, SIMD, V128 } from './wasm.js';

/**
 * WebAssembly SIMD (f64x2) kernels for small, non-batched float64 plans: one plan's buffers live in
 * one WebAssembly.Memory at fixed addresses, and every kernel of a supported form (matmuls, fused
 * elementwise loops with broadcasts and full reductions, partial sums) becomes wasm with those
 * addresses baked in: loops over rows (of C, or of a fused loop's shape), each row unrolled. Consecutive such kernels form one exported function (a segment), which the
 * generated JS step calls in place of the kernels' JS code; the other kernels stay JS over views of the
 * same memory.
 *
 * Results: matmuls and elementwise ops compute exactly what the JS kernels compute (same operations in
 * the same order; wasm has no implicit FMA). Full reductions sum even and odd elements separately and
 * add the two at the end, a different order from the JS loop's.
 */
export interface SmallProgram {
  readonly memory: WebAssembly.Memory;
  /** Byte offset of every plan buffer in `memory`. */
  readonly offsets: readonly number[];
  /** Per kernel: the segment export it starts (a function to call), `null` when covered by an earlier
   * kernel's segment, absent when the kernel stays JS. */
  readonly replaced: ReadonlyMap<number, (() => void) | null>;
}

/** Total buffer bytes up to which a plan is a candidate. */
const SMALL_BYTES = 1 << 20;
/** Vector operations a kernel may unroll into. */
const UNROLL = 6144;

let available: boolean | undefined;
function wasmSimd(): boolean {
  if (available === undefined) {
    try {
      const f = new FunctionBuilder([]);
      f.i32(0).splatConst(1, 2).v(SIMD.f64x2Sqrt).v128Store(0);
      available = WebAssembly.validate(encodeModule([{ name: 'f', fn: f }], { shared: false }));
    } catch {
      available = false;
    }
  }
  return available;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** What a small plan's programs share: buffer layout and the compiled module (per plan, cached). */
interface Prepared {
  readonly offsets: number[];
  readonly pages: number;
  readonly module: WebAssembly.Module;
  readonly segments: readonly { readonly first: number; readonly count: number }[];
}
const prepared = new WeakMap<Plan, Prepared | null>();

/** Builds the wasm kernels of a small plan, or null when it is not one (or none of its kernels fit). */
export function compileSmall(plan: Plan): SmallProgram | null {
  if (!wasmSimd()) return null;
  let prep = prepared.get(plan);
  if (prep === undefined) {
    prep = prepare(plan);
    prepared.set(plan, prep);
  }
  if (!prep) return null;
  const memory = new WebAssembly.Memory({ initial: prep.pages, maximum: prep.pages });
  const exports = new WebAssembly.Instance(prep.module, { env: { mem: memory } }).exports as Record<string, () => void>;
  const replaced = new Map<number, (() => void) | null>();
  prep.segments.forEach((s, j) => {
    replaced.set(s.first, exports[`s${j}`]);
    for (let i = s.first + 1; i < s.first + s.count; i++) replaced.set(i, null);
  });
  return { memory, offsets: prep.offsets, replaced };
}

function prepare(plan: Plan): Prepared | null {
  let bytes = 0;
  const offsets = plan.buffers.map((b) => {
    const at = bytes;
    bytes += align16(b.size * (b.dtype === 'float64' ? 8 : 4));
    return at;
  });
  if (bytes > SMALL_BYTES) return null;
  const scratchAt = bytes;
  let scratch = 0;
  // which kernels have a wasm form (generated into throwaway functions), then one function per run
  const ok = plan.kernels.map((k) => {
    const gen = new Gen(plan, offsets, scratchAt, new FunctionBuilder([]));
    const fits = gen.kernel(k);
    if (fits) scratch = Math.max(scratch, gen.scratch);
    return fits;
  });
  // only plans with a matmul in wasm: the rest gain little and keep the JS kernels' summation order
  if (!ok.some((x, i) => x && plan.kernels[i].kind === 'op' && (plan.kernels[i] as OpKernel).op === 'matmul')) return null;
  const segments: { first: number; count: number; fn: FunctionBuilder }[] = [];
  for (let i = 0; i < ok.length; i++) {
    if (!ok[i]) continue;
    const last = segments[segments.length - 1];
    const seg = last && last.first + last.count === i ? last : { first: i, count: 0, fn: new FunctionBuilder([]) };
    if (seg !== last) segments.push(seg);
    new Gen(plan, offsets, scratchAt, seg.fn).kernel(plan.kernels[i]);
    seg.count++;
  }
  const total = scratchAt + align16(scratch);
  const module = compileCached(encodeModule(segments.map((s, j) => ({ name: `s${j}`, fn: s.fn })), { shared: false }));
  return { offsets, pages: Math.max(1, Math.ceil(total / 65536)), module, segments: segments.map(({ first, count }) => ({ first, count })) };
}

const BINARY: Record<string, number> = {
  add: SIMD.f64x2Add,
  sub: SIMD.f64x2Sub,
  mul: SIMD.f64x2Mul,
  div: SIMD.f64x2Div,
};
const UNARY: Record<string, number> = { neg: SIMD.f64x2Neg, abs: SIMD.f64x2Abs, sqrt: SIMD.f64x2Sqrt };
const ALIAS = new Set(['identity', 'broadcastTo']);
const LANES64 = (lanes: number[]) => lanes.flatMap((l) => Array.from({ length: 8 }, (_, b) => 8 * l + b));
const LOW_FROM_FIRST = LANES64([0, 3]); // lane 0 of the first operand, lane 1 of the second

function supported(e: FusedKernel['exprs'][number]): boolean {
  if (e.op in BINARY || e.op in UNARY || ALIAS.has(e.op) || e.op === 'square') return true;
  if (e.op === 'pow') return [1, 2, 0.5, -1].includes(e.attrs.exponent as number);
  if (e.op === 'cast') return e.attrs.dtype === 'float64';
  return false;
}

/** Whether offsets differ from 0, 1, 2, ... */
const notIdentity = (offs: readonly number[]) => offs.some((o, e) => o !== e);

/** Element offsets (in elements) of a walk with `strides` over `shape`, for every flat index. */
function offsetsOf(shape: Shape, strides: readonly number[]): number[] {
  const total = sizeOf(shape);
  const out = new Array<number>(total);
  const idx = shape.map(() => 0);
  let off = 0;
  for (let e = 0; e < total; e++) {
    out[e] = off;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

class Gen {
  scratch = 0;

  constructor(
    private readonly plan: Plan,
    private readonly offsets: readonly number[],
    private readonly scratchAt: number,
    readonly f: FunctionBuilder,
  ) {}

  private f64(buffers: readonly number[]): boolean {
    return buffers.every((b) => this.plan.buffers[b].dtype === 'float64');
  }

  kernel(k: Kernel): boolean {
    if (k.kind === 'fused') return this.fused(k);
    if (k.kind === 'op' && k.op === 'matmul') return this.matmul(k);
    if (k.kind === 'op' && OPS[k.op].kind === 'reduce') return this.partial(k);
    return false;
  }

  /** Loads a vector at byte address `at` (absolute). */
  private load(at: number): void {
    this.f.i32(0).v128Load(at);
  }

  fused(k: FusedKernel): boolean {
    const buffers = [...k.loads.map((l) => l.buffer), ...k.stores.map((s) => s.buffer), ...k.reductions.map((r) => r.buffer)];
    if (!this.f64(buffers) || !k.exprs.every(supported)) return false;
    const total = sizeOf(k.shape);
    if (total === 0) return false;
    // the loop: R rows of W elements, each row unrolled; every streamed load must then read
    // offs[r * W + e] = offs[e] + r * stride (its own stride per row)
    const streamed = k.loads.map((l, j) => ({ l, j })).filter(({ l }) => sizeOf(l.shape) !== 1);
    const offsAll = new Map(streamed.map(({ l, j }) => [j, offsetsOf(k.shape, broadcastStrides(l.shape, k.shape))]));
    // a store into a buffer that is also read must read it element for element (in place), since a
    // vector reads two elements before it stores either
    const stored = new Set(k.stores.map((s) => s.buffer));
    for (const { l, j } of streamed)
      if (stored.has(l.buffer) && notIdentity(offsAll.get(j)!)) return false;
    const rowStride = (offs: number[], W: number): number | null => {
      const st = total > W ? offs[W] - offs[0] : 0;
      for (let e = W; e < total; e++) if (offs[e] !== offs[e % W] + Math.floor(e / W) * st) return null;
      return st;
    };
    let W = total;
    let strides = new Map<number, number>(streamed.map(({ j }) => [j, 0]));
    if (total > 32) {
      for (let w = 16; w < total; w += 2) {
        if (total % w !== 0) continue;
        const st = new Map<number, number>();
        for (const { j } of streamed) {
          const r = rowStride(offsAll.get(j)!, w);
          if (r === null) break;
          st.set(j, r);
        }
        if (st.size === streamed.length) {
          W = w;
          strides = st;
          break;
        }
      }
    }
    const R = total / W;
    const chunks = Math.ceil(W / 2);
    if (chunks * Math.max(1, k.exprs.length + k.loads.length) > UNROLL) return false;
    // per streamed load: how to read each chunk of a row (a vector, or a splat of one element)
    const plans = new Map<number, { at: number; splat: boolean }[]>();
    const hoisted = new Map<number, number>();
    for (const { l, j } of streamed) {
      const offs = offsAll.get(j)!;
      const reads: { at: number; splat: boolean }[] = [];
      for (let c = 0; c < chunks; c++) {
        const e = 2 * c;
        const a = offs[e];
        const at = this.offsets[l.buffer] + a * 8;
        if (e + 1 >= W || offs[e + 1] === a) reads.push({ at, splat: true });
        else if (offs[e + 1] === a + 1) reads.push({ at, splat: false });
        else return false;
      }
      plans.set(j, reads);
    }
    const f = this.f;
    k.loads.forEach((l, j) => {
      if (sizeOf(l.shape) !== 1) return;
      const local = f.local(V128);
      f.i32(0).loadSplat(this.offsets[l.buffer], 2).set(local);
      hoisted.set(j, local);
    });
    const literals = new Map<string, number>();
    const literal = (v: number): number => {
      const key = Object.is(v, -0) ? '-0' : String(v);
      let local = literals.get(key);
      if (local === undefined) {
        local = f.local(V128);
        f.splatConst(v, 2).set(local);
        literals.set(key, local);
      }
      return local;
    };
    for (const e of k.exprs) for (const a of e.args) if ('literal' in a) literal(a.literal);
    const accs = k.reductions.map((r) => {
      const acc = f.local(V128);
      const init = literal(r.reducer === 'sum' ? 0 : -Infinity);
      f.get(init).set(acc);
      return { acc, init };
    });
    const one = k.exprs.some((e) => e.op === 'pow' && e.attrs.exponent === -1) ? literal(1) : -1;
    const loadLocal = new Map<number, number>();
    for (const j of plans.keys()) loadLocal.set(j, f.local(V128));
    const exprLocal: number[] = [];
    const argLocal = (a: FusedArg): number =>
      'load' in a ? (hoisted.get(a.load) ?? loadLocal.get(a.load)!) : 'expr' in a ? exprLocal[a.expr] : literal(a.literal);
    const tmp = f.local(V128);
    // one pointer (byte offset of the row) per distinct row stride
    const ptrs = new Map<number, number>();
    const ptr = (strideElems: number): void => {
      if (R === 1 || strideElems === 0) {
        f.i32(0);
        return;
      }
      f.get(ptrs.get(strideElems)!);
    };
    const row = R > 1 ? f.local(I32) : -1;
    if (R > 1) {
      for (const st of new Set([...strides.values(), W])) if (st !== 0) ptrs.set(st, f.local(I32));
      f.i32(0).set(row);
      for (const local of ptrs.values()) f.i32(0).set(local);
      f.loop();
    }
    for (let c = 0; c < chunks; c++) {
      const full = 2 * c + 1 < W;
      for (const [j, reads] of plans) {
        const r = reads[c];
        ptr(strides.get(j)!);
        if (r.splat) f.loadSplat(r.at, 2);
        else f.v128Load(r.at);
        f.set(loadLocal.get(j)!);
      }
      k.exprs.forEach((e, j) => {
        const args = e.args.map(argLocal);
        if (ALIAS.has(e.op) || e.op === 'cast' || (e.op === 'pow' && e.attrs.exponent === 1)) {
          exprLocal[j] = args[0];
          return;
        }
        if (exprLocal[j] === undefined || args.includes(exprLocal[j])) exprLocal[j] = f.local(V128);
        if (e.op in BINARY) f.get(args[0]).get(args[1]).v(BINARY[e.op]);
        else if (e.op in UNARY) f.get(args[0]).v(UNARY[e.op]);
        else if (e.op === 'square' || (e.op === 'pow' && e.attrs.exponent === 2))
          f.get(args[0]).get(args[0]).v(SIMD.f64x2Mul);
        else if (e.op === 'pow' && e.attrs.exponent === 0.5) f.get(args[0]).v(SIMD.f64x2Sqrt);
        else if (e.op === 'pow' && e.attrs.exponent === -1) f.get(one).get(args[0]).v(SIMD.f64x2Div);
        else throw new Error(`matgrad: internal error: no SIMD form of ${e.op}`);
        f.set(exprLocal[j]);
      });
      k.stores.forEach((s) => {
        const at = this.offsets[s.buffer] + 2 * c * 8;
        ptr(W);
        if (full) f.get(exprLocal[s.expr]).v128Store(at);
        else f.get(exprLocal[s.expr]).extractLane(SIMD.f64x2ExtractLane, 0).f64Store(at);
      });
      k.reductions.forEach((r, j) => {
        const { acc, init } = accs[j];
        let v = exprLocal[r.expr];
        if (!full) {
          f.get(v).get(init).shuffle(LOW_FROM_FIRST).set(tmp);
          v = tmp;
        }
        f.get(acc).get(v).v(r.reducer === 'sum' ? SIMD.f64x2Add : SIMD.f64x2Max).set(acc);
      });
    }
    if (R > 1) {
      for (const [st, local] of ptrs) f.get(local).i32(st * 8).i32Add().set(local);
      f.get(row).i32(1).i32Add().tee(row).i32(R).i32LtU().brIf(0).end();
    }
    k.reductions.forEach((r, j) => {
      const { acc } = accs[j];
      f.i32(0);
      f.get(acc).extractLane(SIMD.f64x2ExtractLane, 0).get(acc).extractLane(SIMD.f64x2ExtractLane, 1);
      if (r.reducer === 'sum') f.f64Add();
      else f.f64Max();
      if (r.divisor !== 1) f.f64Const(r.divisor).f64Div();
      f.f64Store(this.offsets[r.buffer]);
    });
    return true;
  }

  /** Partial sums (sum/mean over some axes) whose output pairs read contiguous input pairs. */
  partial(k: OpKernel): boolean {
    const def = OPS[k.op];
    if (def.kind !== 'reduce' || def.reducer !== 'sum') return false;
    const x = k.ins[0];
    const y = k.outs[0];
    if (!this.f64([x.buffer, y.buffer]) || x.buffer === y.buffer) return false;
    const axes = normalizeAxes(k.op, k.attrs.axes as number[] | undefined, x.shape.length);
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const outSize = sizeOf(kept);
    const inSize = sizeOf(x.shape);
    if (outSize < 2 || outSize % 2 !== 0 || inSize > 2 * UNROLL) return false;
    const divisor = def.divisor(x.shape, k.attrs);
    // for every output element, its input elements in the JS kernel's (row-major) order
    const outOffs = offsetsOf(x.shape, broadcastStrides(kept, x.shape));
    const terms: number[][] = Array.from({ length: outSize }, () => []);
    outOffs.forEach((o, i) => terms[o].push(i));
    for (let o = 0; o < outSize; o += 2)
      for (let t = 0; t < terms[o].length; t++) if (terms[o + 1][t] !== terms[o][t] + 1) return false;
    const f = this.f;
    const acc = f.local(V128);
    const zero = f.local(V128);
    f.splatConst(0, 2).set(zero);
    const div = f.local(V128);
    if (divisor !== 1) f.splatConst(divisor, 2).set(div);
    for (let o = 0; o < outSize; o += 2) {
      f.get(zero).set(acc);
      for (const i of terms[o]) {
        f.get(acc);
        this.load(this.offsets[x.buffer] + i * 8);
        f.v(SIMD.f64x2Add).set(acc);
      }
      f.i32(0).get(acc);
      if (divisor !== 1) f.get(div).v(SIMD.f64x2Div);
      f.v128Store(this.offsets[y.buffer] + o * 8);
    }
    return true;
  }

  matmul(k: OpKernel): boolean {
    const [a, b] = k.ins;
    const c = k.outs[0];
    if (c.shape.length !== 2 || a.shape.length !== 2 || b.shape.length !== 2) return false;
    if (!this.f64([a.buffer, b.buffer, c.buffer])) return false;
    if (c.buffer === a.buffer || c.buffer === b.buffer) return false;
    const transA = !!k.attrs.transA;
    const transB = !!k.attrs.transB;
    const { m, k: kk, n } = matmulDims(a.shape, b.shape, transA, transB);
    if (kk === 0 || m === 0 || n % 2 !== 0 || n === 0 || kk * n > UNROLL) return false;
    const f = this.f;
    const A = this.offsets[a.buffer];
    let B = this.offsets[b.buffer];
    const C = this.offsets[c.buffer];
    if (transB) {
      // op(B) = Bᵀ (B stored n×k): copy it transposed (k×n) into the scratch area
      this.scratch = kk * n * 8;
      const to = this.scratchAt;
      if (kk % 2 === 0) {
        const r0 = f.local(V128);
        const r1 = f.local(V128);
        for (let jb = 0; jb < n; jb += 2)
          for (let pb = 0; pb < kk; pb += 2) {
            this.load(B + (jb * kk + pb) * 8);
            f.set(r0);
            this.load(B + ((jb + 1) * kk + pb) * 8);
            f.set(r1);
            f.i32(0).get(r0).get(r1).shuffle(LANES64([0, 2])).v128Store(to + (pb * n + jb) * 8);
            f.i32(0).get(r0).get(r1).shuffle(LANES64([1, 3])).v128Store(to + ((pb + 1) * n + jb) * 8);
          }
      } else {
        for (let p = 0; p < kk; p++)
          for (let j = 0; j < n; j++) f.i32(0).i32(0).f64Load(B + (j * kk + p) * 8).f64Store(to + (p * n + j) * 8);
      }
      B = to;
    }
    // a loop over blocks of rows of C, each unrolled over k and n with the block's row(s) of C in
    // accumulators and op(A)'s elements splatted. One row per block: two (12 accumulators) measured
    // ~20% slower for 12-wide rows in V8 (register pressure), and full unrolling far slower once a
    // plan's kernels outgrow the instruction cache.
    const vecs = n / 2;
    const rowsAtOnce = 1;
    const acc = Array.from({ length: rowsAtOnce * vecs }, () => f.local(V128));
    const s = Array.from({ length: rowsAtOnce }, () => f.local(V128));
    const bv = f.local(V128);
    const aRow = transA ? 8 : kk * 8; // bytes from one row of op(A) to the next
    const block = (i0: number, rows: number, pa: number, pc: number) => {
      // pa, pc: locals holding byte offsets added to A's and C's addresses (-1: none)
      const base = (local: number) => (local < 0 ? f.i32(0) : f.get(local));
      for (let p = 0; p < kk; p++) {
        for (let r = 0; r < rows; r++) {
          base(pa);
          f.loadSplat(A + (i0 + r) * aRow + (transA ? p * m : p) * 8, 2).set(s[r]);
        }
        for (let jc = 0; jc < vecs; jc++) {
          const bAt = B + (p * n + jc * 2) * 8;
          if (rows > 1) {
            this.load(bAt);
            f.set(bv);
          }
          for (let r = 0; r < rows; r++) {
            const x = acc[r * vecs + jc];
            if (p > 0) f.get(x);
            f.get(s[r]);
            if (rows > 1) f.get(bv);
            else this.load(bAt);
            f.v(SIMD.f64x2Mul);
            if (p > 0) f.v(SIMD.f64x2Add);
            f.set(x);
          }
        }
      }
      for (let r = 0; r < rows; r++)
        for (let jc = 0; jc < vecs; jc++) {
          base(pc);
          f.get(acc[r * vecs + jc]).v128Store(C + ((i0 + r) * n + jc * 2) * 8);
        }
    };
    const blocks = Math.floor(m / rowsAtOnce);
    if (blocks > 1) {
      const pa = f.local(I32);
      const pc = f.local(I32);
      const it = f.local(I32);
      f.i32(0).set(pa).i32(0).set(pc).i32(0).set(it).loop();
      block(0, rowsAtOnce, pa, pc);
      f.get(pa).i32(rowsAtOnce * aRow).i32Add().set(pa);
      f.get(pc).i32(rowsAtOnce * n * 8).i32Add().set(pc);
      f.get(it).i32(1).i32Add().tee(it).i32(blocks).i32LtU().brIf(0).end();
    } else if (blocks === 1) block(0, rowsAtOnce, -1, -1);
    if (blocks * rowsAtOnce < m) block(blocks * rowsAtOnce, m - blocks * rowsAtOnce, -1, -1);
    return true;
  }
}

