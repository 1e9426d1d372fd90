import { MatgradError } from '../errors.js';
import type { FloatArray } from './dtype.js';
import { type Node, type TensorRef, topoSort } from './node.js';
import { OPS } from './ops.js';
import type { BufferSpec, FusedArg, FusedKernel, Kernel, Plan } from './plan.js';
import { fmt, sameShape, type Shape, sizeOf } from './shape.js';

export interface CompileOptions {
  /** [output, input] pairs: the output is the input's next value and is written into its buffer. */
  readonly donate?: readonly (readonly [number, number])[];
  /** Indices of one-element inputs that the host sets before every step. */
  readonly stepScalars?: readonly number[];
}

/** A group of fused nodes: elementwise members over one loop shape, plus full reductions of them. */
interface Group {
  shape: Shape;
  members: Node[];
  reductions: Node[];
}

type Unit = { group: Group } | { node: Node };

const key = (t: TensorRef) => `${t.node.id}:${t.index}`;
const isElementwise = (n: Node) => OPS[n.op].kind === 'elementwise';
const isFullReduction = (n: Node) => OPS[n.op].kind === 'reduce' && sizeOf(n.outputs[0].shape) === 1;
const isScalarConst = (t: TensorRef) => t.node.op === 'const' && sizeOf(t.shape) === 1;

/**
 * Turns a traced graph into a Plan: topological schedule, fusion of elementwise chains (and the full
 * reductions that consume them) into single loops, constants bound once, buffers reused by liveness,
 * and donated inputs updated in place where the schedule allows.
 */
export function compile(inputs: readonly TensorRef[], outputs: readonly TensorRef[], opts: CompileOptions = {}): Plan {
  const key = graphKey(inputs, outputs, opts);
  let plan = planCache.get(key);
  if (plan) planCache.delete(key);
  else {
    plan = compileGraph(inputs, outputs, opts);
    const bytes = constantBytes(plan);
    // a plan with large constants is cheap to rebuild next to its data: it is not kept
    if (bytes > PLAN_CACHE_BYTES / 4) return plan;
    while (planCache.size && (planCache.size >= PLAN_CACHE_LIMIT || cachedBytes + bytes > PLAN_CACHE_BYTES)) {
      const oldest = planCache.keys().next().value!;
      cachedBytes -= constantBytes(planCache.get(oldest)!);
      planCache.delete(oldest);
    }
    cachedBytes += bytes;
  }
  planCache.set(key, plan);
  return plan;
}

const constantBytes = (plan: Plan): number => plan.constants.reduce((s, c) => s + c.data.byteLength, 0);

/**
 * Plans by graph structure: tracing the same computation again (another run of a problem, a repeated
 * solve) reuses its plan, and backends reuse what they derived from it (generated code, wasm modules).
 */
const planCache = new Map<string, Plan>();
const PLAN_CACHE_LIMIT = 256;
/** The cache also holds the plans' constants: at most this many bytes of them (each plan ≤ a quarter). */
const PLAN_CACHE_BYTES = 64 * 2 ** 20;
let cachedBytes = 0;
const dataIds = new WeakMap<object, number>();
let nextDataId = 0;

/** A string identifying the graph: ops, attributes, wiring, shapes, and constants (by value when small). */
function graphKey(inputs: readonly TensorRef[], outputs: readonly TensorRef[], opts: CompileOptions): string {
  const nodes = topoSort(outputs);
  const index = new Map(nodes.map((n, i) => [n, i]));
  const inputPos = new Map(inputs.map((t, i) => [t.node, i]));
  const parts = nodes.map((n) => {
    const shapes = n.outputs.map((o) => `${o.shape.join('x')}${o.dtype}`).join(',');
    if (n.op === 'input') return `in${inputPos.get(n) ?? '?'}:${shapes}`;
    if (n.op === 'const') {
      const d = n.data!;
      if (d.length <= 64) return `c:${shapes}:${Array.from(d).join(',')}`;
      let id = dataIds.get(d);
      if (id === undefined) dataIds.set(d, (id = nextDataId++));
      return `c:${shapes}:#${id}`;
    }
    return `${n.op}(${n.inputs.map((t) => `${index.get(t.node)}.${t.index}`).join(' ')})${JSON.stringify(n.attrs)}:${shapes}`;
  });
  const outs = outputs.map((t) => `${index.get(t.node)}.${t.index}`).join(' ');
  return `${parts.join('\n')}\n=> ${outs} | ${inputs.length} | ${JSON.stringify(opts)}`;
}

function compileGraph(inputs: readonly TensorRef[], outputs: readonly TensorRef[], opts: CompileOptions): Plan {
  const inputNodes = new Set(inputs.map((t) => t.node));
  const nodes = topoSort(outputs);
  for (const n of nodes) {
    if (n.op === 'input' && !inputNodes.has(n)) {
      throw new MatgradError(
        'compile: the function uses a traced tensor that is not one of its inputs (a tensor leaked from another trace?)',
      );
    }
  }
  const compute = nodes.filter((n) => OPS[n.op].kind !== 'source');
  const groupOf = fuse(compute);

  // consumers of each tensor, to decide what must be materialized
  const consumers = new Map<string, Node[]>();
  for (const n of compute)
    for (const t of n.inputs) (consumers.get(key(t)) ?? consumers.set(key(t), []).get(key(t))!).push(n);

  // one unit per group and per non-fused node
  const units: Unit[] = [];
  const unitOf = new Map<Node, Unit>();
  for (const n of compute) {
    const g = groupOf.get(n);
    if (g) {
      if (!unitOf.has(g.members[0] ?? g.reductions[0])) {
        const u = { group: g };
        units.push(u);
        for (const m of [...g.members, ...g.reductions]) unitOf.set(m, u);
      }
    } else {
      const u = { node: n };
      units.push(u);
      unitOf.set(n, u);
    }
  }
  const unitNodes = (u: Unit) => ('group' in u ? [...u.group.members, ...u.group.reductions] : [u.node]);
  const unitInputs = (u: Unit) => {
    const own = new Set(unitNodes(u));
    return unitNodes(u).flatMap((n) => n.inputs.filter((t) => !own.has(t.node)));
  };

  // alias ops (reshape) share their input's buffer: resolve each tensor to its root
  const root = (t: TensorRef): TensorRef => (OPS[t.node.op].kind === 'alias' ? root(t.node.inputs[0]) : t);
  const outputKeys = new Set(outputs.map((t) => key(root(t))));

  // ---- schedule: Kahn over units; writers of donated inputs wait until nothing else is ready
  const donate = opts.donate ?? [];
  const donatedInputOf = new Map<string, number>(); // output tensor key -> input index
  for (const [o, i] of donate) {
    const out = outputs[o];
    const inp = inputs[i];
    if (!out || !inp)
      throw new MatgradError(`compile: donation [${o}, ${i}] names a missing output or input`);
    if (!sameShape(out.shape, inp.shape) || out.dtype !== inp.dtype) {
      throw new MatgradError(
        `compile: output ${o} ${fmt(out.shape)} ${out.dtype} cannot update input ${i} ${fmt(inp.shape)} ${inp.dtype}`,
      );
    }
    donatedInputOf.set(key(out), i);
  }
  const writesDonated = (u: Unit) =>
    'group' in u && u.group.members.some((m) => donatedInputOf.has(`${m.id}:0`));
  const deps = new Map<Unit, Set<Unit>>();
  const dependents = new Map<Unit, Unit[]>();
  for (const u of units) {
    const d = new Set<Unit>();
    for (const t of unitInputs(u)) {
      const p = unitOf.get(root(t).node) ?? unitOf.get(t.node);
      if (p && p !== u) d.add(p);
      // an alias chain's own nodes have no unit: depend on whatever produced the root
    }
    deps.set(u, d);
    for (const p of d) (dependents.get(p) ?? dependents.set(p, []).get(p)!).push(u);
  }
  const order: Unit[] = [];
  const waiting = new Map(units.map((u) => [u, deps.get(u)!.size]));
  const ready = units.filter((u) => waiting.get(u) === 0);
  while (ready.length) {
    let pick = ready.findIndex((u) => !writesDonated(u));
    if (pick < 0) pick = 0;
    const [u] = ready.splice(pick, 1);
    order.push(u);
    for (const v of dependents.get(u) ?? []) {
      waiting.set(v, waiting.get(v)! - 1);
      if (waiting.get(v) === 0) ready.push(v);
    }
  }
  if (order.length !== units.length) throw new MatgradError('compile: internal error: cyclic schedule');
  const position = new Map(order.map((u, i) => [u, i]));

  // ---- buffers
  const buffers: BufferSpec[] = [];
  const constants: { buffer: number; data: FloatArray }[] = [];
  const bufferOf = new Map<string, number>();
  const newBuffer = (t: TensorRef) => buffers.push({ size: sizeOf(t.shape), dtype: t.dtype }) - 1;
  inputs.forEach((t) => {
    if (t.node.op !== 'input') throw new MatgradError('compile: program inputs must be traced input tensors');
    bufferOf.set(key(t), newBuffer(t));
  });
  const pinned = new Set<number>(bufferOf.values());
  const constBuffer = (t: TensorRef): number => {
    const k = key(t);
    if (!bufferOf.has(k)) {
      const b = newBuffer(t);
      constants.push({ buffer: b, data: t.node.data! });
      bufferOf.set(k, b);
      pinned.add(b);
    }
    return bufferOf.get(k)!;
  };

  // last reader position of each root tensor (for reuse) and readers (for donation safety)
  const lastUse = new Map<string, number>();
  const readers = new Map<string, Unit[]>();
  for (const u of order) {
    for (const t of unitInputs(u)) {
      const k = key(root(t));
      lastUse.set(k, Math.max(lastUse.get(k) ?? -1, position.get(u)!));
      (readers.get(k) ?? readers.set(k, []).get(k)!).push(u);
    }
  }

  // donation in place: the writer is a fused loop and every other reader of the input runs before it
  const inPlace = new Map<string, number>(); // output key -> input buffer
  const copies: Kernel[] = [];
  const outputBuffers: number[] = [];
  for (const [o, i] of donate) {
    const out = root(outputs[o]);
    const inp = inputs[i];
    const writer = unitOf.get(out.node);
    const inKey = key(inp);
    const othersBefore = (readers.get(inKey) ?? []).every(
      (r) => r === writer || position.get(r)! < position.get(writer!)!,
    );
    const aliasedElsewhere = outputs.some((t, j) => j !== o && key(root(t)) === inKey);
    if (
      writer &&
      'group' in writer &&
      out === outputs[o] &&
      othersBefore &&
      !aliasedElsewhere &&
      !inPlace.has(key(out))
    ) {
      inPlace.set(key(out), bufferOf.get(inKey)!);
    }
  }

  const free = new Map<string, number[]>(); // `${dtype}:${size}` -> free buffers
  const takeBuffer = (t: TensorRef): number => {
    const k = key(t);
    if (inPlace.has(k)) return inPlace.get(k)!;
    const pool = free.get(`${t.dtype}:${sizeOf(t.shape)}`);
    return pool?.length ? pool.pop()! : newBuffer(t);
  };
  const release = (k: string, pos: number) => {
    const b = bufferOf.get(k);
    if (b === undefined || pinned.has(b) || outputKeys.has(k) || (lastUse.get(k) ?? -1) > pos) return;
    if ([...outputKeys].some((ok) => bufferOf.get(ok) === b)) return;
    const spec = buffers[b];
    (
      free.get(`${spec.dtype}:${spec.size}`) ??
      free.set(`${spec.dtype}:${spec.size}`, []).get(`${spec.dtype}:${spec.size}`)!
    ).push(b);
  };
  const bufferFor = (t: TensorRef): number => {
    const r = root(t);
    if (r.node.op === 'const') return constBuffer(r);
    const b = bufferOf.get(key(r));
    if (b === undefined)
      throw new MatgradError(`compile: internal error: ${r.node.op} read before it was computed`);
    return b;
  };

  const kernels: Kernel[] = [];
  order.forEach((u, pos) => {
    const ins = unitInputs(u);
    if ('group' in u) {
      const g = u.group;
      const members = new Map(g.members.map((m, i) => [m, i]));
      const loads: { buffer: number; shape: Shape }[] = [];
      const loadIndex = new Map<string, number>();
      const arg = (t: TensorRef): FusedArg => {
        if (members.has(t.node)) return { expr: members.get(t.node)! };
        if (isScalarConst(t)) return { literal: t.node.data![0] };
        const k = key(t);
        if (!loadIndex.has(k)) loadIndex.set(k, loads.push({ buffer: bufferFor(t), shape: t.shape }) - 1);
        return { load: loadIndex.get(k)! };
      };
      const exprs = g.members.map((m) => ({ op: m.op, args: m.inputs.map(arg), attrs: m.attrs }));
      const reductionExprs = g.reductions.map((r) => {
        const t = r.inputs[0];
        if (members.has(t.node)) return members.get(t.node)!;
        exprs.push({ op: 'identity', args: [arg(t)], attrs: {} });
        return exprs.length - 1;
      });
      const stores: FusedKernel['stores'][number][] = [];
      g.members.forEach((m, i) => {
        const k = `${m.id}:0`;
        const external =
          (consumers.get(k) ?? []).some((c) => !members.has(c) && !g.reductions.includes(c)) ||
          outputKeys.has(k);
        if (external) {
          const b = takeBuffer({ ...m.outputs[0], node: m, index: 0 });
          bufferOf.set(k, b);
          stores.push({ expr: i, buffer: b });
        }
      });
      const reductions = g.reductions.map((r, i) => {
        const b = takeBuffer({ ...r.outputs[0], node: r, index: 0 });
        bufferOf.set(`${r.id}:0`, b);
        const def = OPS[r.op];
        if (def.kind !== 'reduce') throw new MatgradError('compile: internal error');
        return {
          expr: reductionExprs[i],
          reducer: def.reducer,
          divisor: def.divisor(r.inputs[0].shape, r.attrs),
          buffer: b,
        };
      });
      kernels.push({ kind: 'fused', shape: g.shape, loads, exprs, stores, reductions });
    } else {
      const n = u.node;
      const inRefs = n.inputs.map((t) => ({ buffer: bufferFor(t), shape: t.shape }));
      const outRefs = n.outputs.map((info, i) => {
        const t = { ...info, node: n, index: i };
        const b = OPS[n.op].kind === 'alias' ? bufferFor(n.inputs[0]) : takeBuffer(t);
        bufferOf.set(key(t), b);
        return { buffer: b, shape: info.shape };
      });
      if (OPS[n.op].kind !== 'alias')
        kernels.push({ kind: 'op', op: n.op, attrs: n.attrs, ins: inRefs, outs: outRefs });
    }
    for (const k of new Set(ins.map((t) => key(root(t))))) release(k, pos);
  });

  outputs.forEach((t, o) => {
    const r = root(t);
    const b = r.node.op === 'const' ? constBuffer(r) : bufferOf.get(key(r))!;
    const donatedTo = donate.find(([oo]) => oo === o)?.[1];
    if (donatedTo === undefined) {
      outputBuffers.push(b);
      return;
    }
    const target = bufferOf.get(key(inputs[donatedTo]))!;
    if (b !== target) copies.push({ kind: 'copy', from: b, to: target });
    outputBuffers.push(target);
  });
  const inputBuffers = inputs.map((t) => bufferOf.get(key(t))!);
  const stepScalars = (opts.stepScalars ?? []).map((i) => {
    if (!inputs[i] || sizeOf(inputs[i].shape) !== 1) {
      throw new MatgradError(`compile: step scalar ${i} is not a one-element input`);
    }
    return inputBuffers[i];
  });
  return {
    buffers,
    inputs: inputBuffers,
    outputs: outputBuffers,
    stepScalars,
    constants,
    kernels: [...kernels, ...copies],
  };
}

/** A kernel-to-be while fusing (a group, or one non-fused node); edges follow the data flow. */
interface Cell {
  /** Position in a topological order of the units, kept valid across merges. */
  ord: number;
  preds: Set<Cell>;
  succs: Set<Cell>;
  /** Units that read this group's full reductions, which exist only once its loop has finished. */
  reductionReaders: Set<Cell>;
}

const newCell = (ord: number): Cell => ({ ord, preds: new Set(), succs: new Set(), reductionReaders: new Set() });

/**
 * Greedy fusion in topological order. A merge must never create a cycle between kernels, and kernels
 * are groups, not nodes: a path that leaves a group through one member and comes back through another
 * group (or a non-fused op, or a reduction) is a cycle even when no single node lies on it. So the
 * check runs on the graph of units, which is kept with a topological order (Pearce–Kelly style
 * reordering) so that each search only visits the units between the groups being merged.
 */
function fuse(nodes: readonly Node[]): Map<Node, Group> {
  const groupOf = new Map<Node, Group & Cell>();
  const unitOf = new Map<Node, Cell>();
  const reductionNodes = new Set<Node>();
  let nextOrd = 0;

  const link = (from: Cell, to: Cell, viaReduction: boolean) => {
    if (from === to) return;
    from.succs.add(to);
    to.preds.add(from);
    if (viaReduction) from.reductionReaders.add(to);
  };
  const memberGroup = (t: TensorRef, shape: Shape) => {
    const g = groupOf.get(t.node);
    return g && !reductionNodes.has(t.node) && sameShape(g.shape, shape) ? g : undefined;
  };

  /**
   * The units that must move after the merged group when `groups` and the new node `n` become one
   * kernel, or null when that would close a cycle: some unit outside reached from the groups that
   * leads back to them or to one of n's producers, or a reduction read inside the merged loop.
   */
  const blocked = (groups: readonly (Group & Cell)[], n: Node): Cell[] | null => {
    const inside = new Set<Cell>(groups);
    if (n.inputs.some((t) => reductionNodes.has(t.node) && inside.has(groupOf.get(t.node)!))) return null;
    if (groups.some((g) => [...g.reductionReaders].some((r) => inside.has(r)))) return null;
    const targets = new Set<Cell>(groups);
    for (const t of n.inputs) {
      const u = unitOf.get(t.node);
      if (u) targets.add(u);
    }
    let hi = -Infinity;
    for (const u of targets) hi = Math.max(hi, u.ord);
    // a unit ordered after every target cannot lead back to one
    const seen = new Set<Cell>();
    const stack = groups.flatMap((g) => [...g.succs].filter((u) => !inside.has(u)));
    while (stack.length) {
      const u = stack.pop()!;
      if (seen.has(u)) continue;
      if (targets.has(u)) return null;
      seen.add(u);
      if (u.ord < hi) stack.push(...u.succs);
    }
    return [...seen].filter((u) => u.ord < hi);
  };

  /** Merges `groups` into one (the largest) and renumbers the affected units to keep `ord` valid. */
  const absorb = (groups: readonly (Group & Cell)[], n: Node, after: Cell[]): Group & Cell => {
    const inside = new Set<Cell>(groups);
    let lo = Infinity;
    for (const g of groups) lo = Math.min(lo, g.ord);
    // units ordered after the earliest group that lead to the merged one must stay before it
    const before = new Set<Cell>();
    const stack: Cell[] = [...groups.flatMap((g) => [...g.preds]), ...n.inputs.flatMap((t) => unitOf.get(t.node) ?? [])];
    while (stack.length) {
      const u = stack.pop()!;
      if (inside.has(u) || before.has(u) || u.ord <= lo) continue;
      before.add(u);
      stack.push(...u.preds);
    }
    const byOrd = (a: Cell, b: Cell) => a.ord - b.ord;
    const slots = [...before, ...groups, ...after].map((u) => u.ord).sort((a, b) => a - b);
    const target = groups.reduce((a, b) => (a.members.length + a.reductions.length >= b.members.length + b.reductions.length ? a : b));
    [...before].sort(byOrd).forEach((u, i) => (u.ord = slots[i]));
    target.ord = slots[before.size];
    const sortedAfter = after.sort(byOrd);
    sortedAfter.forEach((u, i) => (u.ord = slots[slots.length - after.length + i]));

    for (const g of groups) {
      if (g === target) continue;
      for (const m of [...g.members, ...g.reductions]) {
        groupOf.set(m, target);
        unitOf.set(m, target);
      }
      target.members.push(...g.members);
      target.reductions.push(...g.reductions);
      for (const p of g.preds) {
        p.succs.delete(g);
        const viaReduction = p.reductionReaders.delete(g);
        link(p, target, viaReduction);
      }
      for (const s of g.succs) {
        s.preds.delete(g);
        link(target, s, g.reductionReaders.has(s));
      }
    }
    // edges between the merged groups are now inside one loop
    target.preds.delete(target);
    target.succs.delete(target);
    return target;
  };

  for (const n of nodes) {
    let unit: Cell;
    if (isElementwise(n)) {
      const shape = n.outputs[0].shape;
      const candidates = [...new Set(n.inputs.map((t) => memberGroup(t, shape)).filter((g) => !!g))];
      // all the groups n reads at once, else the first one that can take n
      const tries = [...(candidates.length > 1 ? [candidates] : []), ...candidates.map((g) => [g])];
      let merged: (Group & Cell) | undefined;
      for (const groups of tries) {
        const after = blocked(groups, n);
        if (after) {
          merged = absorb(groups, n, after);
          break;
        }
      }
      const g = merged ?? { ...newCell(nextOrd++), shape, members: [], reductions: [] };
      g.members.push(n);
      groupOf.set(n, g);
      unit = g;
    } else if (isFullReduction(n)) {
      // joining the loop of its only input adds no edge, so it cannot close a cycle
      const t = n.inputs[0];
      const g = memberGroup(t, t.shape) ?? { ...newCell(nextOrd++), shape: t.shape, members: [], reductions: [] };
      g.reductions.push(n);
      groupOf.set(n, g);
      reductionNodes.add(n);
      unit = g;
    } else unit = newCell(nextOrd++);
    unitOf.set(n, unit);
    // producers looked up after the merge: a group merged away is no longer a unit
    for (const t of n.inputs) {
      const u = unitOf.get(t.node);
      if (u) link(u, unit, reductionNodes.has(t.node));
    }
  }

  // members in topological order (the plan evaluates them in this order)
  const rank = new Map(nodes.map((n, i) => [n, i]));
  for (const g of new Set(groupOf.values())) {
    g.members.sort((a, b) => rank.get(a)! - rank.get(b)!);
    g.reductions.sort((a, b) => rank.get(a)! - rank.get(b)!);
  }
  return groupOf;
}
