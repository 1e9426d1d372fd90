import type { DType, FloatArray } from './dtype.js';
import type { OpName } from './ops.js';
import type { Shape } from './shape.js';

export interface TensorInfo {
  readonly shape: Shape;
  readonly dtype: DType;
}

export type Attrs = Readonly<Record<string, unknown>>;

/** One node of the traced graph. Sources: 'const' (holds data) and 'input' (a traced argument). */
export interface Node {
  readonly id: number;
  readonly op: OpName;
  readonly inputs: readonly TensorRef[];
  readonly attrs: Attrs;
  readonly outputs: readonly TensorInfo[];
  readonly data?: FloatArray;
}

/** What a graph edge needs to know about a tensor; the Tensor class implements it. */
export interface TensorRef extends TensorInfo {
  readonly node: Node;
  readonly index: number;
}

let nextId = 0;
export function makeNode(
  op: OpName,
  inputs: readonly TensorRef[],
  attrs: Attrs,
  outputs: readonly TensorInfo[],
  data?: FloatArray,
): Node {
  return { id: nextId++, op, inputs, attrs, outputs, data };
}

export const isConst = (t: TensorRef): boolean => t.node.op === 'const';

/** Post-order (inputs first) of every node reachable from `roots`. */
export function topoSort(roots: readonly TensorRef[]): Node[] {
  const seen = new Set<Node>();
  const order: Node[] = [];
  const stack: [Node, number][] = [];
  for (const r of roots) {
    if (seen.has(r.node)) continue;
    seen.add(r.node);
    stack.push([r.node, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1]++;
        const child = node.inputs[i].node;
        if (!seen.has(child)) {
          seen.add(child);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  return order;
}
