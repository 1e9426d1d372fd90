/**
 * A minimal WebAssembly binary encoder: just what the batched CPU kernels need (i32 address arithmetic,
 * f32/f64 scalar loads and stores, 128-bit SIMD, blocks and loops), emitting one module that imports a
 * shared memory and exports its functions.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** SIMD opcodes (after the 0xfd prefix) by name. */
export const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  load64Splat: 0x0a,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  f32x4Splat: 0x13,
  f64x2Splat: 0x14,
  f32x4ExtractLane: 0x1f,
  f64x2ExtractLane: 0x21,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  f64x2Eq: 0x47,
  f64x2Ne: 0x48,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f64x2Le: 0x4b,
  f64x2Ge: 0x4c,
  and: 0x4e,
  bitselect: 0x52,
  f64x2PromoteLowF32x4: 0x5f,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Min: 0xf4,
  f64x2Max: 0xf5,
} as const;

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  // i32 values only
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const scratch = new DataView(new ArrayBuffer(16));

/** The body of one function: locals, then instructions appended by the methods below. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(op: number): this {
    this.code.push(0xfd);
    uleb(this.code, op);
    return this;
  }
  private memarg(align: number, offset: number): this {
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  get(i: number): this {
    this.op(0x20);
    uleb(this.code, i);
    return this;
  }
  set(i: number): this {
    this.op(0x21);
    uleb(this.code, i);
    return this;
  }
  tee(i: number): this {
    this.op(0x22);
    uleb(this.code, i);
    return this;
  }
  i32(v: number): this {
    this.op(0x41);
    sleb(this.code, v);
    return this;
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  f32Load(offset: number): this {
    return this.op(0x2a).memarg(2, offset);
  }
  f32Store(offset: number): this {
    return this.op(0x38).memarg(2, offset);
  }
  f64Load(offset: number): this {
    return this.op(0x2b).memarg(3, offset);
  }
  f64Store(offset: number): this {
    return this.op(0x39).memarg(3, offset);
  }
  f64Add(): this {
    return this.op(0xa0);
  }
  f64Max(): this {
    return this.op(0xa5);
  }
  f64Div(): this {
    return this.op(0xa3);
  }
  f64Const(v: number): this {
    this.op(0x44);
    scratch.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.code.push(scratch.getUint8(i));
    return this;
  }
  f32Max(): this {
    return this.op(0x97);
  }
  f64PromoteF32(): this {
    return this.op(0xbb);
  }
  /** A v128 of `lanes` copies of v, as f32 (lanes 4) or f64 (lanes 2). */
  splatConst(v: number, lanes: 2 | 4): this {
    this.simd(SIMD.const);
    for (let l = 0; l < lanes; l++) {
      if (lanes === 4) scratch.setFloat32(l * 4, v, true);
      else scratch.setFloat64(l * 8, v, true);
    }
    for (let i = 0; i < 16; i++) this.code.push(scratch.getUint8(i));
    return this;
  }
  v128Load(offset: number): this {
    return this.simd(SIMD.load).memarg(4, offset);
  }
  v128Store(offset: number): this {
    return this.simd(SIMD.store).memarg(4, offset);
  }
  loadSplat(offset: number, lanes: 2 | 4): this {
    return lanes === 4
      ? this.simd(SIMD.load32Splat).memarg(2, offset)
      : this.simd(SIMD.load64Splat).memarg(3, offset);
  }
  shuffle(lanes: readonly number[]): this {
    this.simd(SIMD.shuffle);
    for (const l of lanes) this.code.push(l);
    return this;
  }
  extractLane(op: number, lane: number): this {
    return this.simd(op).op(lane);
  }
  v(op: number): this {
    return this.simd(op);
  }
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  brIf(depth: number): this {
    this.op(0x0d);
    uleb(this.code, depth);
    return this;
  }
  end(): this {
    return this.op(0x0b);
  }

  /** The encoded body (locals + code + end). */
  encode(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [count, t] of groups) {
      uleb(out, count);
      out.push(t);
    }
    for (const b of this.code) out.push(b);
    out.push(0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    for (const b of out) sized.push(b);
    return sized;
  }
}

function section(out: number[], id: number, body: readonly number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  out.push(...bytes);
}

/**
 * A module importing `env.mem` (any shared memory up to 4 GiB; with `shared: false`, any unshared
 * memory) and exporting `functions` (all with no results).
 */
export function encodeModule(
  functions: readonly { name: string; fn: FunctionBuilder }[],
  opts: { shared?: boolean } = {},
): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // one type per distinct parameter list
  const types: string[] = [];
  const typeOf = functions.map(({ fn }) => {
    const key = fn.params.join(',');
    let i = types.indexOf(key);
    if (i < 0) i = types.push(key) - 1;
    return i;
  });
  const typeSec: number[] = [];
  uleb(typeSec, types.length);
  for (const key of types) {
    const params = key === '' ? [] : key.split(',').map(Number);
    typeSec.push(0x60);
    uleb(typeSec, params.length);
    typeSec.push(...params);
    uleb(typeSec, 0);
  }
  section(out, 1, typeSec);
  const importSec: number[] = [];
  uleb(importSec, 1);
  name(importSec, 'env');
  name(importSec, 'mem');
  if (opts.shared === false) {
    importSec.push(0x02, 0x00); // memory, limits: min only
    uleb(importSec, 0);
  } else {
    importSec.push(0x02, 0x03); // memory, limits: min + max, shared
    uleb(importSec, 0);
    uleb(importSec, 65536);
  }
  section(out, 2, importSec);
  const funcSec: number[] = [];
  uleb(funcSec, functions.length);
  for (const t of typeOf) uleb(funcSec, t);
  section(out, 3, funcSec);
  const exportSec: number[] = [];
  uleb(exportSec, functions.length);
  functions.forEach((f, i) => {
    name(exportSec, f.name);
    exportSec.push(0x00);
    uleb(exportSec, i);
  });
  section(out, 7, exportSec);
  const codeSec: number[] = [];
  uleb(codeSec, functions.length);
  for (const f of functions) for (const b of f.fn.encode()) codeSec.push(b);
  section(out, 10, codeSec);
  return new Uint8Array(out);
}

// Compiled modules by their bytes: a program compiled again (a new run of the same problem) reuses
// the machine code V8 has already optimized.
const MODULE_CACHE_LIMIT = 64;
const modules = new Map<string, WebAssembly.Module>();
export function compileCached(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  let key = '';
  for (let i = 0; i < bytes.length; i += 4096)
    key += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  let module = modules.get(key);
  if (module) {
    modules.delete(key);
  } else {
    if (!WebAssembly.validate(bytes)) throw new Error('matgrad: internal error: invalid SIMD kernel module');
    module = new WebAssembly.Module(bytes);
    if (modules.size >= MODULE_CACHE_LIMIT) modules.delete(modules.keys().next().value!);
  }
  modules.set(key, module);
  return module;
}
