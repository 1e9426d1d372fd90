import type { BufferRef, Kernel, Plan } from '../../autograd/plan.js';
import { sizeOf } from '../../autograd/shape.js';

/**
 * How each buffer of a batch-separable plan is stored:
 * - 'batched': carries the batch axis and outlives a step (input, output or constant): one shared array;
 * - 'temp': carries the batch axis but lives within a step: a small per-thread array of one batch tile;
 * - 'shared': no batch axis (constants broadcast over the batch, the outputs of full reductions, host
 *   kernels' values): one shared array, only read by tiled kernels (reductions are combined by the host);
 * - 'scalar': a step scalar: one copy per thread, so that threads may run different steps at once.
 */
export type BufferRole = 'batched' | 'temp' | 'shared' | 'scalar';

/** One full reduction of a fused kernel: its per-tile partials are combined after every step. */
export interface BatchReduction {
  readonly kernel: number;
  /** Index in the kernel's `reductions`. */
  readonly index: number;
  readonly buffer: number;
  readonly reducer: 'sum' | 'max';
  readonly divisor: number;
}

export interface BatchInfo {
  /** Size of the leading batch axis shared by every tiled kernel. */
  readonly batch: number;
  readonly roles: readonly BufferRole[];
  /** Elements per batch index (batched and temp buffers); the whole size for shared ones. */
  readonly inner: readonly number[];
  /** Kernels run per batch tile, in plan order. */
  readonly tiled: readonly number[];
  /** Kernels without the batch axis run once a step on the calling thread, before the tiles... */
  readonly pre: readonly number[];
  /** ...or after them (those reading a full reduction's result), in plan order. */
  readonly post: readonly number[];
  /** Every full reduction of a tiled kernel, in kernel order: slot j of a tile's partials row. */
  readonly reductions: readonly BatchReduction[];
  /** Estimated scalar operations per step in tiled kernels. */
  readonly work: number;
  /**
   * Whether a tile may run many steps in a row on its own (given every step's scalars): no host kernel
   * runs before the tiles, and no tiled kernel reads what a host kernel after them writes.
   */
  readonly free: boolean;
}

/** The batch axis candidate of a kernel: its loop's or output's leading dim, if it can be tiled. */
function leadingDim(k: Kernel): number {
  if (k.kind === 'fused') return k.shape.length >= 1 ? k.shape[0] : 0;
  if (k.kind === 'op' && k.op === 'matmul') return k.outs[0].shape.length >= 3 ? k.outs[0].shape[0] : 0;
  return 0;
}

function kernelWork(k: Kernel, plan: Plan): number {
  if (k.kind === 'fused') return sizeOf(k.shape) * Math.max(1, k.exprs.length);
  if (k.kind === 'op') {
    const a = k.ins[0];
    const kDim = k.op === 'matmul' ? a.shape[a.shape.length - (k.attrs.transA ? 2 : 1)] : 1;
    return sizeOf(k.outs[0].shape) * kDim * 2;
  }
  return plan.buffers[k.to].size;
}

/** Buffers a kernel reads and writes. */
function access(k: Kernel): { reads: number[]; writes: number[] } {
  if (k.kind === 'fused')
    return {
      reads: k.loads.map((l) => l.buffer),
      writes: [...k.stores.map((s) => s.buffer), ...k.reductions.map((r) => r.buffer)],
    };
  if (k.kind === 'op') return { reads: k.ins.map((r) => r.buffer), writes: k.outs.map((r) => r.buffer) };
  return { reads: [k.from], writes: [k.to] };
}

/**
 * Decides whether a plan is batch-separable: its tiled kernels work independently per index of one
 * common leading axis of size B ≥ 2 (fused loops whose loads carry that axis or broadcast it, batched
 * matmuls, copies of batched buffers); buffers without that axis are only read by them; their full
 * reductions are read by no tiled kernel; and every other kernel touches no batched buffer (it runs
 * on the host, before the tiles or after the reductions are combined). Such a plan can run as tiles
 * of batch indices, in any order and on any thread, with the same result. Returns null when it is not.
 */
export function analyzeBatch(plan: Plan): BatchInfo | null {
  // the batch axis: the leading dim doing the most work
  const workByDim = new Map<number, number>();
  for (const k of plan.kernels) {
    const d = leadingDim(k);
    if (d >= 2) workByDim.set(d, (workByDim.get(d) ?? 0) + kernelWork(k, plan));
  }
  let B = 0;
  for (const [d, w] of workByDim) if (B === 0 || w > workByDim.get(B)!) B = d;
  if (B < 2) return null;

  const n = plan.buffers.length;
  const kind: ('batched' | 'shared' | undefined)[] = new Array(n).fill(undefined);
  const inner = plan.buffers.map((b) => b.size);
  const mark = (buffer: number, k: 'batched' | 'shared', per: number): boolean => {
    if (kind[buffer] !== undefined && kind[buffer] !== k) return false;
    if (k === 'batched') {
      if (plan.buffers[buffer].size !== B * per) return false;
      if (kind[buffer] === 'batched' && inner[buffer] !== per) return false;
      inner[buffer] = per;
    }
    kind[buffer] = k;
    return true;
  };
  /** A reference inside a loop of rank `rank` whose leading axis is the batch axis. */
  const ref = (r: BufferRef, rank: number): boolean => {
    if (r.shape.length === rank && r.shape[0] === B) return mark(r.buffer, 'batched', sizeOf(r.shape) / B);
    if (r.shape.length < rank || r.shape[0] === 1) return mark(r.buffer, 'shared', 0);
    return false;
  };

  // tiled kernels: classify their buffers
  const tiled: number[] = [];
  const host: number[] = [];
  const reductions: BatchReduction[] = [];
  let work = 0;
  for (let ki = 0; ki < plan.kernels.length; ki++) {
    const k: Kernel = plan.kernels[ki];
    if (k.kind === 'copy') {
      // copies come last in a plan: the kernels before have classified their buffers
      const batched = kind[k.from] === 'batched' ? k.from : kind[k.to] === 'batched' ? k.to : -1;
      if (batched < 0) {
        host.push(ki);
        continue;
      }
      if (!mark(k.from, 'batched', inner[batched]) || !mark(k.to, 'batched', inner[batched])) return null;
    } else if (leadingDim(k) !== B) {
      host.push(ki);
      continue;
    } else if (k.kind === 'fused') {
      const rank = k.shape.length;
      for (const l of k.loads) if (!ref(l, rank)) return null;
      for (const s of k.stores) if (!mark(s.buffer, 'batched', sizeOf(k.shape) / B)) return null;
      k.reductions.forEach((r, index) => {
        reductions.push({ kernel: ki, index, buffer: r.buffer, reducer: r.reducer, divisor: r.divisor });
      });
    } else {
      const op = k as Extract<Kernel, { kind: 'op' }>;
      const rank = op.outs[0].shape.length;
      if (!ref(op.ins[0], rank) || !ref(op.ins[1], rank)) return null;
      if (!mark(op.outs[0].buffer, 'batched', sizeOf(op.outs[0].shape) / B)) return null;
    }
    tiled.push(ki);
    work += kernelWork(k, plan);
  }
  const reduced = new Set(reductions.map((r) => r.buffer));
  if (reduced.size !== reductions.length) return null;
  for (const b of reduced) {
    if (kind[b] !== undefined) return null; // read or written elsewhere by a tiled kernel
    if (plan.inputs.includes(b) || plan.constants.some((c) => c.buffer === b)) return null;
    kind[b] = 'shared';
  }

  // host kernels: no batched buffer; before the tiles unless they need a reduction's result
  const late = new Set<number>(reduced); // buffers holding values only known after the tiles
  const pre: number[] = [];
  const post: number[] = [];
  const readers = new Map<number, number[]>(); // buffer -> kernels reading it
  plan.kernels.forEach((k, ki) => {
    for (const b of access(k).reads) (readers.get(b) ?? readers.set(b, []).get(b)!).push(ki);
  });
  const tiledSet = new Set(tiled);
  const writers = new Set<number>();
  const postSet = new Set<number>();
  for (const ki of host) {
    const { reads, writes } = access(plan.kernels[ki]);
    if ([...reads, ...writes].some((b) => kind[b] === 'batched')) return null;
    for (const b of [...reads, ...writes]) kind[b] = 'shared';
    for (const b of writes) {
      if (reduced.has(b) || writers.has(b)) return null;
      writers.add(b);
    }
    const readBy = writes.flatMap((b) => readers.get(b) ?? []);
    if (reads.some((b) => late.has(b))) {
      // runs after every tile: a tiled kernel after it in the plan must not need what it writes
      if (readBy.some((r) => tiledSet.has(r) && r > ki)) return null;
      for (const b of writes) late.add(b);
      post.push(ki);
      postSet.add(ki);
    } else {
      // runs before every tile and every post kernel: none of those before it may read what it writes
      if (readBy.some((r) => r < ki && (tiledSet.has(r) || postSet.has(r)))) return null;
      pre.push(ki);
    }
  }
  if (!tiled.length) return null;

  const persistent = new Set<number>([
    ...plan.inputs,
    ...plan.outputs,
    ...plan.constants.map((c) => c.buffer),
  ]);
  const scalars = new Set(plan.stepScalars);
  for (const k of plan.kernels) if (access(k).writes.some((b) => scalars.has(b))) return null;
  const roles = kind.map((k, b): BufferRole => {
    if (k === 'batched') return persistent.has(b) ? 'batched' : 'temp';
    return scalars.has(b) ? 'scalar' : 'shared';
  });
  roles.forEach((r, b) => {
    if (r === 'shared' || r === 'scalar') inner[b] = plan.buffers[b].size;
  });
  const postWrites = post.flatMap((ki) => access(plan.kernels[ki]).writes);
  const free = pre.length === 0 && !postWrites.some((b) => (readers.get(b) ?? []).some((r) => tiledSet.has(r)));
  return { batch: B, roles, inner, tiled, pre, post, reductions, work, free };
}
