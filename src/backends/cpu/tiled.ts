import type { CopyKernel, FusedKernel, OpKernel, Plan } from '../../autograd/plan.js';
import { broadcastStrides, sizeOf } from '../../autograd/shape.js';
import type { BatchInfo } from './batch.js';
import { fusedParts, literal } from './codegen.js';
import { contiguousStrides, loopNest } from './loops.js';
import { matmulBody, matmulDims } from './matmul.js';

/**
 * Batch-tiled code for a batch-separable plan. Every tiled kernel becomes `k{i}(t0, n, prow)`: it runs
 * on batch indices [t0, t0 + n) only and writes its full reductions' partials to `PT[prow + slot]`.
 * Buffers are `b{j}`: batched ones are whole arrays indexed from `t0`, temps hold one tile (indexed
 * from 0), shared ones are broadcast over the batch. A kernel listed in `replaced` gets the given body
 * instead (a call into a WebAssembly kernel).
 *
 * The source is a function body of (V, X, PT, TMP, PTB, TB) — the buffer views, the wasm exports,
 * the partials table, this thread's scratch address, the partials table's address in wasm memory and
 * the table of step scalars — that returns `{ tile, steps }`: `tile(t)` runs every kernel on tile t;
 * `steps(t, S)` runs S steps on tile t, step s with this thread's step scalars set from row s of TB.
 */
export function tiledSource(
  plan: Plan,
  info: BatchInfo,
  tile: number,
  replaced: ReadonlyMap<number, string> = new Map(),
): string {
  const slots = new Map(info.reductions.map((r, j) => [`${r.kernel}:${r.index}`, j]));
  const used = new Set<number>();
  const fns = info.tiled.map((i) => {
    const k = plan.kernels[i];
    let body = replaced.get(i);
    if (body === undefined) {
      const gen = new TileGen(info, used, i);
      body =
        k.kind === 'fused'
          ? gen.fused(k, (index) => slots.get(`${i}:${index}`)!)
          : k.kind === 'op'
            ? gen.matmul(k)
            : gen.copy(k);
    }
    return `function k${i}(t0, n, prow) { // ${describe(k)}\n${body}\n}`;
  });
  const R = info.reductions.length;
  const unpack = [...used].sort((a, b) => a - b).map((b) => `const b${b} = V[${b}];`);
  const calls = info.tiled.map((i) => `k${i}(t0, n, prow);`).join(' ');
  const S = plan.stepScalars.length;
  const setScalars = plan.stepScalars.map((b, j) => `V[${b}][0] = TB[r + ${j}];`).join(' ');
  return `${unpack.join('\n')}
${fns.join('\n')}
function tile(t) {
  const t0 = t * ${tile};
  const n = t0 + ${tile} <= ${info.batch} ? ${tile} : ${info.batch} - t0;
  const prow = t * ${R};
  ${calls}
}
function steps(t, count) {
  for (let s = 0, r = 0; s < count; s++, r += ${S}) {
    ${setScalars}
    tile(t);
  }
}
return { tile, steps };`;
}

function describe(k: FusedKernel | OpKernel | CopyKernel): string {
  if (k.kind === 'fused') return `fused ${k.exprs.map((e) => e.op).join(',')} over [${k.shape}]`;
  return k.kind === 'op' ? `${k.op} [${k.outs[0].shape}]` : 'copy';
}

class TileGen {
  constructor(
    private readonly info: BatchInfo,
    private readonly used: Set<number>,
    private readonly id: number,
  ) {}

  /** Index of element 0 of batch index t0 + q of a buffer whose batch stride is `stride`. */
  private base(buffer: number, stride: number, q: string): string {
    this.used.add(buffer);
    const role = this.info.roles[buffer];
    if (stride === 0 || role === 'shared') return '0';
    return role === 'temp' ? `${q} * ${stride}` : `(t0 + ${q}) * ${stride}`;
  }

  fused(k: FusedKernel, slot: (reduction: number) => number): string {
    const parts = fusedParts(k);
    for (const l of k.loads) this.used.add(l.buffer);
    const innerShape = k.shape.slice(1);
    const inner = sizeOf(innerShape);
    const full = contiguousStrides(k.shape);
    const flat = parts.walks.every((w) => w.every((s, d) => s === full[d]));
    const lines = [...parts.hoisted, ...parts.init];
    if (flat) {
      // every walk is the whole contiguous loop: one flat loop over the tile
      const offsets = parts.walkBuffers.map((b, w) => {
        const o = `w${this.id}_${w}`;
        lines.push(`const ${o} = ${this.base(b, inner, '0')};`);
        return o;
      });
      const c = `c${this.id}`;
      lines.push(`for (let ${c} = 0, e${this.id} = n * ${inner}; ${c} < e${this.id}; ${c}++) {`);
      lines.push(parts.body(offsets.map((o) => `${c} + ${o}`)));
      lines.push('}');
    } else {
      const q = `q${this.id}`;
      lines.push(`for (let ${q} = 0; ${q} < n; ${q}++) {`);
      const walks = parts.walks.map((w, j) => {
        const o = `w${this.id}_${j}`;
        lines.push(`const ${o} = ${this.base(parts.walkBuffers[j], w[0], q)};`);
        return { strides: w.slice(1), offset: o };
      });
      lines.push(loopNest(innerShape, walks, parts.body, `${this.id}`));
      lines.push('}');
    }
    k.reductions.forEach((_, j) => lines.push(`PT[prow + ${slot(j)}] = r${j};`));
    return lines.join('\n');
  }

  matmul(k: OpKernel): string {
    const [a, b] = k.ins;
    const c = k.outs[0];
    const transA = !!k.attrs.transA;
    const transB = !!k.attrs.transB;
    const { m, k: kk, n } = matmulDims(a.shape, b.shape, transA, transB);
    const batch = c.shape.slice(0, -2);
    const aStr = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * kk);
    const bStr = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * kk * n);
    const cStr = contiguousStrides(batch).map((s) => s * m * n);
    const id = `${this.id}`;
    const q = `q${id}`;
    const name = (x: number) => `b${x}`;
    const body = matmulBody(name(a.buffer), name(b.buffer), name(c.buffer), m, kk, n, transA, transB, id);
    const offs = [
      this.base(a.buffer, aStr[0], q),
      this.base(b.buffer, bStr[0], q),
      this.base(c.buffer, cStr[0], q),
    ];
    const walks = [aStr, bStr, cStr].map((s, j) => ({ strides: s.slice(1), offset: `m${id}_${j}` }));
    return `for (let ${q} = 0; ${q} < n; ${q}++) {
${offs.map((o, j) => `const m${id}_${j} = ${o};`).join('\n')}
${loopNest(batch.slice(1), walks, body, id)}
}`;
  }

  copy(k: CopyKernel): string {
    const per = this.info.inner[k.to];
    const from = this.base(k.from, per, '0');
    const to = this.base(k.to, per, '0');
    const c = `c${this.id}`;
    return `for (let ${c} = 0, e = n * ${per}; ${c} < e; ${c}++) b${k.to}[${c} + ${to}] = b${k.from}[${c} + ${from}];`;
  }
}

/** Combines the per-tile partials of every reduction into its buffer (host side, after a step). */
export function combineSource(info: BatchInfo, tiles: number): string {
  const R = info.reductions.length;
  return info.reductions
    .map((r, j) => {
      const acc = `a${j}`;
      const step =
        r.reducer === 'sum'
          ? `${acc} += PT[t * ${R} + ${j}];`
          : `{ const v = PT[t * ${R} + ${j}]; if (v > ${acc} || v !== v) ${acc} = v; }`;
      const value = r.divisor === 1 ? acc : `${acc} / ${literal(r.divisor)}`;
      return `{ let ${acc} = ${r.reducer === 'sum' ? 0 : '-Infinity'};
for (let t = 0; t < ${tiles}; t++) ${step}
V[${r.buffer}][0] = ${value}; }`;
    })
    .join('\n');
}
