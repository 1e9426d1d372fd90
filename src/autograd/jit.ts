import { CpuBackend, cpu } from '../backends/cpu/index.js';
import type { Executable } from '../backends/backend.js';
import { MatgradError, MatgradLinalgError } from '../errors.js';
import { FAILURE_REASONS, takeFailure } from '../linalg/status.js';
import { type AnyTensor, ComplexTensor, complexMask, like, toReal } from './complex.js';
import { compile } from './compile.js';
import type { DType } from './dtype.js';
import { isConst, makeNode, type Node } from './node.js';
import { fmt, type Shape } from './shape.js';
import { fromArray, Tensor } from './tensor.js';

/** A symbolic argument of a function being traced. */
export function inputTensor(shape: Shape, dtype: DType): Tensor {
  return new Tensor(makeNode('input', [], {}, [{ shape, dtype }]), 0, shape, dtype);
}

export const signature = (ts: readonly { shape: Shape; dtype: DType }[]): string =>
  ts.map((t) => `${fmt(t.shape)}${t.dtype}`).join(';');

const EAGER_CACHE_LIMIT = 512;
/** Cached eager programs hold their buffers: at most this many bytes of them in all. */
const EAGER_CACHE_BYTES = 64 * 2 ** 20;
const eagerCache = new Map<string, { exe: Executable; bytes: number }>();
let eagerBytes = 0;
/** Eager ops run on a backend of their own, so `mg.cpu.stats()` counts only user-visible programs. */
const eagerBackend = new CpuBackend();

/**
 * Evaluates tensors whose graph holds only constants. A single op (the eager case) runs through a
 * compiled program cached by op, attributes and input signature; other graphs compile once and run.
 */
export function evaluate(outs: readonly Tensor[]): Tensor[] {
  const node = outs[0].node;
  const single = outs.every((o) => o.node === node) && node.inputs.every(isConst);
  const { exe, cached } = single ? eagerProgram(node) : { exe: eagerBackend.compile(compile([], outs)), cached: false };
  try {
    if (single) node.inputs.forEach((t, i) => exe.write(i, t.node.data!));
    runChecked(exe);
    return outs.map((o, i) => fromArray(exe.readSync(single ? o.index : i), o.shape));
  } finally {
    if (!cached) exe.dispose();
  }
}

/**
 * The program of one op on placeholders of its inputs' signature: cached (most recently used last),
 * unless its buffers alone would take more than a quarter of the cache's bytes.
 */
function eagerProgram(node: Node): { exe: Executable; cached: boolean } {
  const key = `${node.op}|${JSON.stringify(node.attrs)}|${signature(node.inputs)}`;
  const hit = eagerCache.get(key);
  if (hit) {
    eagerCache.delete(key);
    eagerCache.set(key, hit);
    return { exe: hit.exe, cached: true };
  }
  const placeholders = node.inputs.map((t) => inputTensor(t.shape, t.dtype));
  const twin = makeNode(node.op, placeholders, node.attrs, node.outputs);
  const plan = compile(
    placeholders,
    twin.outputs.map((info, i) => ({ ...info, node: twin, index: i })),
  );
  const bytes = plan.buffers.reduce((s, b) => s + b.size * (b.dtype === 'float64' ? 8 : 4), 0);
  if (bytes > EAGER_CACHE_BYTES / 4) return { exe: eagerBackend.compile(plan), cached: false };
  while (eagerCache.size && (eagerCache.size >= EAGER_CACHE_LIMIT || eagerBytes + bytes > EAGER_CACHE_BYTES)) {
    const [oldest, old] = eagerCache.entries().next().value!;
    old.exe.dispose();
    eagerBytes -= old.bytes;
    eagerCache.delete(oldest);
  }
  const exe = cpu.compile(plan);
  eagerCache.set(key, { exe, bytes });
  eagerBytes += bytes;
  return { exe, cached: true };
}

/** Runs one step of a program on concrete data; a linear-algebra failure becomes an error. */
function runChecked(exe: Executable): void {
  takeFailure();
  exe.run(1);
  const f = takeFailure();
  if (f) throw new MatgradLinalgError(`linalg.${f.op}`, f.index, FAILURE_REASONS[f.op] ?? 'failed');
}

/** Arguments checked to be tensors (complex ones included: programs see their real views). */
export function checkTensorArgs(what: string, args: readonly unknown[]): AnyTensor[] {
  args.forEach((a, i) => {
    if (!(a instanceof Tensor || a instanceof ComplexTensor))
      throw new MatgradError(
        `${what}: argument ${i} must be a Tensor, got ${a === null ? 'null' : typeof a}`,
      );
  });
  return args as AnyTensor[];
}

export type TensorFn = (...args: never[]) => AnyTensor | readonly AnyTensor[];

/** The outputs of `fn` as a list, checked to be tensors (complex ones allowed). */
export function anyOutputsOf(what: string, result: unknown): AnyTensor[] {
  const list = Array.isArray(result) ? result : [result];
  list.forEach((t, i) => {
    if (!(t instanceof Tensor || t instanceof ComplexTensor))
      throw new MatgradError(
        `${what}: the function must return a Tensor or a list of Tensors (output ${i} is ${typeof t})`,
      );
  });
  return list as AnyTensor[];
}
/** The outputs of `fn` as a list of real tensors. */
export function outputsOf(what: string, result: unknown): Tensor[] {
  const list = anyOutputsOf(what, result);
  const z = list.find((t): t is ComplexTensor => t instanceof ComplexTensor);
  if (z) throw new MatgradError(`${what}: the function must return real tensors, got a ${z.dtype} one; take mg.real, mg.imag or mg.abs of it`);
  return list as Tensor[];
}

/**
 * A cache of compiled programs for one function, keyed by argument shapes and dtypes (and `tag`,
 * which tells complex arguments from their real views): the function is traced once per signature;
 * later calls only copy inputs in and outputs out.
 */
export function programCache<T>(build: (inputs: Tensor[], tag: string) => { outputs: Tensor[]; meta: T }) {
  const cache = new Map<string, { exe: Executable; meta: T; shapes: Shape[] }>();
  const run = (args: readonly Tensor[], tag = ''): { outs: Tensor[]; meta: T } => {
    const key = `${signature(args)}|${tag}`;
    let entry = cache.get(key);
    if (!entry) {
      const inputs = args.map((a) => inputTensor(a.shape, a.dtype));
      const { outputs, meta } = build(inputs, tag);
      entry = { exe: cpu.compile(compile(inputs, outputs)), meta, shapes: outputs.map((o) => o.shape) };
      cache.set(key, entry);
    }
    const { exe, meta, shapes } = entry;
    args.forEach((a, i) => exe.write(i, a.isConcrete ? a.node.data! : a.dataSync()));
    runChecked(exe);
    return { outs: shapes.map((s, o) => fromArray(exe.readSync(o), s)), meta };
  };
  /** Frees every compiled program of this cache. */
  const dispose = () => {
    for (const e of cache.values()) e.exe.dispose();
    cache.clear();
  };
  return Object.assign(run, { dispose });
}

/** The arguments as a program sees them, and the tag that tells which were complex. */
export function toProgramArgs(xs: readonly AnyTensor[]): { reals: Tensor[]; tag: string } {
  return { reals: xs.map(toReal), tag: complexMask(xs) };
}
/** A program's real inputs, given back to user code in their original (real or complex) form. */
export const fromProgramArgs = (inputs: readonly Tensor[], tag: string): AnyTensor[] => inputs.map((t, i) => like(t, tag[i] === 'c'));

/** A function compiled per input signature; `dispose()` frees its programs. */
export type Jitted<F> = F & { dispose(): void };

/** `mg.jit(f)`: traces f once per input signature and runs the compiled program on later calls. */
export function jit<F extends TensorFn>(fn: F): Jitted<F> {
  const f = fn as unknown as (...args: AnyTensor[]) => AnyTensor | readonly AnyTensor[];
  const run = programCache((inputs, tag) => {
    const result = f(...fromProgramArgs(inputs, tag));
    const outputs = anyOutputsOf('jit', result);
    return { outputs: outputs.map(toReal), meta: { isList: Array.isArray(result), complex: outputs.map((o) => o instanceof ComplexTensor) } };
  });
  const call = (...args: AnyTensor[]) => {
    const xs = checkTensorArgs('jit', args);
    if (!xs.every((x) => x.isConcrete)) return f(...xs); // inside another trace: inline
    const { reals, tag } = toProgramArgs(xs);
    const { outs, meta } = run(reals, tag);
    const results = outs.map((o, i) => like(o, meta.complex[i]));
    return meta.isList ? results : results[0];
  };
  return Object.assign(call, { dispose: run.dispose }) as unknown as Jitted<F>;
}
