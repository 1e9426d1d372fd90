import type { Attrs } from '../../autograd/node.js';
import type { OpName } from '../../autograd/ops.js';
import type { Shape } from '../../autograd/shape.js';
import type { LinalgOpName } from '../../linalg/ops.js';

/**
 * WGSL for every op of the op table, in two typed tables that together cover `OpName`: a new op is
 * a compile error here until it gets WGSL (or an explicit 'unsupported' entry with a reason).
 */

/** Ops that are not elementwise; every other op name must have an elementwise WGSL template. */
type KernelOpName =
  | 'matmul'
  | 'transpose'
  | 'slice'
  | 'pad'
  | 'concat'
  | 'diag'
  | 'diagEmbed'
  | 'customRoot'
  | 'customRootVjp';
type ReduceOpName = 'sum' | 'mean' | 'max';
type NoKernelOpName = 'const' | 'input' | 'reshape' | 'trace' | 'outer' | 'mse';
export type NonElementwiseOpName = KernelOpName | ReduceOpName | NoKernelOpName | LinalgOpName;
export type ElementwiseOpName = Exclude<OpName, NonElementwiseOpName>;

// ---- literals --------------------------------------------------------------------------------

/** A WGSL f32 literal for `v` (rounded to f32); infinities and NaN use runtime names (see SPECIALS). */
export function f32(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 'NAN_F';
  if (f === Infinity) return 'INF_F';
  if (f === -Infinity) return '(-INF_F)';
  if (Object.is(f, -0)) return '(-0.0f)';
  const s = String(f);
  const lit = `${/[.eE]/.test(s) ? s : `${s}.0`}f`;
  return f < 0 ? `(${lit})` : lit;
}

/**
 * WGSL forbids infinite or NaN constant expressions, so these are built at run time from bit patterns
 * (`zero` is a runtime 0u). Emitted only in shaders that use them.
 */
export function specials(body: string, zero: string): string {
  let s = '';
  if (body.includes('INF_F')) s += `  let INF_F = bitcast<f32>(0x7f800000u | (${zero}));\n`;
  if (body.includes('NAN_F')) s += `  let NAN_F = bitcast<f32>(0x7fc00000u | (${zero}));\n`;
  return s;
}

// ---- elementwise -----------------------------------------------------------------------------

/** An elementwise template: operand expressions (plain names or literals) -> a WGSL f32 expression. */
export type WgslElementwise = (args: readonly string[], attrs: Attrs) => string;

const cmp =
  (op: string): WgslElementwise =>
  ([a, b]) =>
    `select(0.0f, 1.0f, ${a} ${op} ${b})`;

function powTemplate(a: string, p: number): string {
  if (p === 0) return '1.0f';
  if (p === 0.5) return `sqrt(${a})`;
  if (Number.isInteger(p) && Math.abs(p) <= 8) {
    const prod = `(${Array.from({ length: Math.abs(p) }, () => a).join(' * ')})`;
    return p > 0 ? prod : `(1.0f / ${prod})`;
  }
  // WGSL pow is exp2(y·log2(x)): undefined for x < 0, so integer powers carry the sign explicitly
  if (Number.isInteger(p)) {
    const mag = `pow(abs(${a}), ${f32(p)})`;
    return p % 2 === 0 ? mag : `(select(1.0f, -1.0f, ${a} < 0.0f) * ${mag})`;
  }
  return `pow(${a}, ${f32(p)})`;
}

export const WGSL_ELEMENTWISE: { readonly [K in ElementwiseOpName]: WgslElementwise } = {
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b]) => `(${a} / ${b})`,
  maximum: ([a, b]) => `max(${a}, ${b})`,
  minimum: ([a, b]) => `min(${a}, ${b})`,
  atan2: ([y, x]) => `mg_atan2(${y}, ${x})`,
  gt: cmp('>'),
  ge: cmp('>='),
  lt: cmp('<'),
  le: cmp('<='),
  eq: cmp('=='),
  where: ([c, a, b]) => `select(${b}, ${a}, ${c} != 0.0f)`,
  neg: ([a]) => `(-(${a}))`,
  identity: ([a]) => a,
  exp: ([a]) => `exp(${a})`,
  sin: ([a]) => `mg_sincos(${a}, 0)`,
  cos: ([a]) => `mg_sincos(${a}, 1)`,
  log: ([a]) => `log(${a})`,
  sqrt: ([a]) => `sqrt(${a})`,
  abs: ([a]) => `abs(${a})`,
  sign: ([a]) => `sign(${a})`,
  square: ([a]) => `(${a} * ${a})`,
  pow: ([a], { exponent }) => powTemplate(a, exponent as number),
  // float32 plans only: a cast that survives is float32 -> float32
  cast: ([a]) => a,
  broadcastTo: ([a]) => a,
};

// ---- other ops ---------------------------------------------------------------------------------

/** A region of the device arena: element offset and logical shape. */
export interface ArenaRef {
  readonly offset: number;
  readonly shape: Shape;
}

/** What an op kernel generator gets: arena regions (array `A`) and the op's attributes. */
export interface WgslKernelArgs {
  readonly ins: readonly ArenaRef[];
  readonly outs: readonly ArenaRef[];
  readonly attrs: Attrs;
}

/**
 * A generated op kernel: `threads` invocations; `body` runs with `i: u32` (the invocation index,
 * already < threads) and reads/writes the arena `A: array<f32>`.
 */
export interface WgslKernel {
  readonly threads: number;
  readonly body: string;
  /** Element operations in all (default: threads), e.g. matmul outputs × k. */
  readonly work?: number;
}

export type WgslOpEntry =
  | { readonly kind: 'kernel'; readonly wgsl: (k: WgslKernelArgs) => WgslKernel }
  /** Partial reductions: a generated shader from the op table's reducer and scale. */
  | { readonly kind: 'reduce' }
  /** Never a kernel of its own: graph sources, composites (expanded at trace time), aliases (reshape). */
  | { readonly kind: 'none' }
  /** Not available on WebGPU yet: compiling a plan that holds it throws with this reason. */
  | { readonly kind: 'unsupported'; readonly reason: string };

// ---- index helpers -----------------------------------------------------------------------------

export function contiguous(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * Drops size-1 dims and merges neighbours that every walk traverses contiguously, so most index maps
 * become `i` itself or one div/mod pair.
 */
export function mergeDims(
  shape: Shape,
  walks: readonly (readonly number[])[],
): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const strides: number[][] = walks.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && walks.every((w, j) => strides[j][last] === w[d] * shape[d])) {
      dims[last] *= shape[d];
      walks.forEach((w, j) => {
        strides[j][last] = w[d];
      });
    } else {
      dims.push(shape[d]);
      walks.forEach((w, j) => {
        strides[j].push(w[d]);
      });
    }
  }
  return { dims, strides };
}

/**
 * WGSL index expressions (u32) for walks over `shape` driven by the flat row-major index `i`.
 * Returns one expression per walk, plus `let` lines for the coordinates they share.
 */
export function indexMaps(
  shape: Shape,
  walks: readonly (readonly number[])[],
  i: string,
  prefix: string,
): { lets: string; exprs: string[] } {
  const { dims, strides } = mergeDims(shape, walks);
  const cont = contiguous(dims);
  const used = new Set<number>();
  const exprs = strides.map((st) => {
    if (st.every((s) => s === 0)) return '0u';
    if (st.every((s, d) => s === cont[d])) return i;
    const terms: string[] = [];
    st.forEach((s, d) => {
      if (s === 0) return;
      used.add(d);
      terms.push(s === 1 ? `${prefix}${d}` : `${prefix}${d} * ${s}u`);
    });
    return `(${terms.join(' + ')})`;
  });
  let lets = '';
  for (const d of [...used].sort((a, b) => a - b)) {
    const div = cont[d] === 1 ? i : `(${i} / ${cont[d]}u)`;
    lets += `  let ${prefix}${d} = ${d === 0 ? div : `${div} % ${dims[d]}u`};\n`;
  }
  return { lets, exprs };
}

/** `base + idx` for an arena region, without a `+ 0u`. */
export const at = (offset: number, idx: string): string =>
  offset === 0 ? idx : idx === '0u' ? `${offset}u` : `${offset}u + ${idx}`;
