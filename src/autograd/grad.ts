import { MatgradError, MatgradShapeError } from '../errors.js';
import * as F from './api.js';
import { type AnyTensor, ComplexTensor, like, toReal } from './complex.js';
import { checkTensorArgs, fromProgramArgs, outputsOf, programCache, toProgramArgs } from './jit.js';
import { type Node, topoSort } from './node.js';
import { OPS } from './ops.js';
import { fmt } from './shape.js';
import { ones, Tensor, zeros } from './tensor.js';

const key = (t: { node: Node; index: number }) => `${t.node.id}:${t.index}`;

/**
 * Reverse mode: cotangents of `outputs` (seeded with `seeds`) pulled back to `wrt`, as new graph
 * tensors built from the ops' VJPs — so gradients can be differentiated again. null: no dependence.
 */
export function backward(
  outputs: readonly Tensor[],
  seeds: readonly Tensor[],
  wrt: readonly Tensor[],
): (Tensor | null)[] {
  const order = topoSort(outputs);
  const targets = new Set(wrt.map((t) => t.node));
  // only nodes that depend on a target carry gradients
  const live = new Set<Node>();
  for (const n of order) if (targets.has(n) || n.inputs.some((t) => live.has(t.node))) live.add(n);
  const cot = new Map<string, Tensor>();
  const accumulate = (k: string, g: Tensor) => {
    const prev = cot.get(k);
    cot.set(k, prev ? F.add(prev, g) : g);
  };
  outputs.forEach((o, i) => accumulate(key(o), seeds[i]));
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    if (!live.has(node)) continue;
    const def = OPS[node.op];
    if (def.kind === 'source' || def.kind === 'composite') continue;
    const gs = node.outputs.map((_, j) => cot.get(`${node.id}:${j}`) ?? null);
    if (gs.every((g) => g === null)) continue;
    const outs = node.outputs.map((info, j) => new Tensor(node, j, info.shape, info.dtype));
    const inputs = node.inputs as readonly Tensor[];
    const igs = def.vjp(gs, { inputs, outputs: outs, attrs: node.attrs });
    igs.forEach((g, j) => {
      if (g && live.has(inputs[j].node)) accumulate(key(inputs[j]), g);
    });
  }
  return wrt.map((t) => cot.get(key(t)) ?? null);
}

function scalarOutput(what: string, result: unknown): Tensor {
  const [y, ...rest] = outputsOf(what, result);
  if (rest.length || y.size !== 1) {
    throw new MatgradShapeError(
      `${what}: the function must return one scalar (1 element), got ${rest.length ? `${rest.length + 1} outputs` : fmt(y.shape)}`,
    );
  }
  return y;
}

/** Value and gradients of a scalar function, symbolically (for use inside another trace). */
function symbolic(what: string, fn: (...args: AnyTensor[]) => Tensor, args: readonly AnyTensor[]) {
  // a fresh node per argument: this grad's own inputs (complex ones: a fresh real view)
  const proxies = args.map((a) => like(F.identity(toReal(a)), a instanceof ComplexTensor));
  const value = scalarOutput(what, fn(...proxies));
  const reals = proxies.map(toReal);
  const grads = backward([value], [ones(value.shape, { dtype: value.dtype })], reals).map((g, i) =>
    like(g ?? zeros(reals[i].shape, { dtype: reals[i].dtype }), args[i] instanceof ComplexTensor),
  );
  return { value, grads };
}

/** A scalar's value and its gradient for each argument (a complex argument's gradient is complex). */
export interface ValueAndGrad<G extends readonly AnyTensor[] = Tensor[]> {
  value: Tensor;
  grads: G;
}

/**
 * `mg.valueAndGrad(f)(...xs)`: f's scalar value and its gradient with respect to every argument.
 * Concrete arguments run a program compiled once per argument signature; traced arguments (inside
 * another trace, e.g. grad of grad) build the gradient graph instead. For complex arguments the
 * gradient follows PyTorch: ∂L/∂Re z + i·∂L/∂Im z.
 */
export function valueAndGrad<A extends AnyTensor[] = Tensor[]>(fn: (...args: A) => Tensor): (...args: A) => ValueAndGrad<A> {
  if (typeof fn !== 'function') throw new MatgradError('valueAndGrad: expected a function');
  const f = fn as unknown as (...args: AnyTensor[]) => Tensor;
  const run = programCache((inputs, tag) => {
    const { value, grads } = symbolic('valueAndGrad', f, fromProgramArgs(inputs, tag));
    return { outputs: [value, ...grads.map(toReal)], meta: null };
  });
  return ((...args: AnyTensor[]) => {
    const xs = checkTensorArgs('valueAndGrad', args);
    if (!xs.every((x) => x.isConcrete)) return symbolic('valueAndGrad', f, xs);
    const { reals, tag } = toProgramArgs(xs);
    const { outs } = run(reals, tag);
    return { value: outs[0], grads: outs.slice(1).map((g, i) => like(g, tag[i] === 'c')) };
  }) as unknown as (...args: A) => ValueAndGrad<A>;
}

/** `mg.grad(f)(...xs)`: the gradient (one argument) or gradients (several) of a scalar function. */
export function grad<A extends AnyTensor[]>(fn: (...args: A) => Tensor): (...args: A) => A extends [infer X] ? X : A {
  const vg = valueAndGrad(fn);
  return ((...args: A) => {
    const { grads } = vg(...args);
    return args.length === 1 ? grads[0] : grads;
  }) as unknown as (...args: A) => A extends [infer X] ? X : A;
}
