// Shape and dtype errors name the op the user called and the full shapes the user passed, whatever
// op inside detects the mistake (trace is sum∘diag, matmul reshapes vectors, complex ops work on views).
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';

type Shape = number[];
const fmt = (s: Shape) => `[${s.join(', ')}]`;
const real = (s: Shape) => mg.zeros(s);
const cplx = (s: Shape) => mg.complex(mg.zeros(s), mg.zeros(s));
type Make = (s: Shape) => mg.AnyTensor;

/** [the op's public name, how to call it on tensors, bad shape lists] */
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'atan2', 'gt', 'ge', 'lt', 'le', 'eq', 'mse'] as const;
const BAD_PAIRS: Shape[][] = [
  [[2, 3], [4]],
  [[2, 3, 4], [5, 3, 4]],
  [[3, 1], [2, 4, 5]],
];
const SQUARE = ['inv', 'det', 'cholesky', 'eigh', 'eig', 'eigvals', 'eigvalsh', 'slogdet'] as const;
const MATRIX = ['svd', 'svdvals', 'qr'] as const;

interface Case {
  op: string;
  call: (...xs: mg.AnyTensor[]) => unknown;
  shapes: Shape[];
  make?: Make;
}
const cases: Case[] = [
  ...BINARY.flatMap((op) => BAD_PAIRS.map((shapes) => ({ op, call: (a: mg.AnyTensor, b: mg.AnyTensor) => (mg[op] as (a: mg.AnyTensor, b: mg.AnyTensor) => unknown)(a, b), shapes }))),
  ...[
    [[2, 3, 4], [5, 4, 3]],
    [[3], [4]],
    [[2, 3], [2, 3]],
    [[], [3]],
    [[4, 2, 3], [2]],
    [[5], [2, 4, 3]],
  ].map((shapes) => ({ op: 'matmul', call: (a: mg.AnyTensor, b: mg.AnyTensor) => mg.matmul(a, b), shapes })),
  ...[[[3]], [[]]].flatMap((shapes) => [
    { op: 'trace', call: (x: mg.AnyTensor) => mg.trace(x), shapes },
    { op: 'diag', call: (x: mg.AnyTensor) => mg.diag(x), shapes },
    { op: 'transpose', call: (x: mg.AnyTensor) => mg.transpose(x), shapes },
    { op: 'adjoint', call: (x: mg.AnyTensor) => mg.adjoint(x), shapes },
  ]),
  ...[[[2, 3]], [[4]], [[2, 5, 3]]].flatMap((shapes) => SQUARE.map((op) => ({ op: `linalg.${op}`, call: (x: mg.AnyTensor) => (mg.linalg[op] as (x: mg.AnyTensor) => unknown)(x), shapes }))),
  ...[[[4]], [[]]].flatMap((shapes) => MATRIX.map((op) => ({ op: `linalg.${op}`, call: (x: mg.AnyTensor) => (mg.linalg[op] as (x: mg.AnyTensor) => unknown)(x), shapes }))),
  ...[
    [[2, 3, 3], [4, 3, 1]],
    [[3, 3], [4]],
    [[3, 3], [2, 4]],
    [[3], [3]],
  ].map((shapes) => ({ op: 'linalg.solve', call: (a: mg.AnyTensor, b: mg.AnyTensor) => mg.linalg.solve(a, b), shapes })),
  { op: 'linalg.eigenvector', call: (x) => mg.linalg.eigenvector(x as mg.Tensor), shapes: [[2, 3]], make: real },
  { op: 'outer', call: (a, b) => mg.outer(a as mg.Tensor, b as mg.Tensor), shapes: [[], [3]], make: real },
  { op: 'outer', call: (a, b) => mg.outer(a as mg.Tensor, b as mg.Tensor), shapes: [[2, 3], [4, 3]], make: real },
  { op: 'concat', call: (a, b) => mg.concat([a, b]), shapes: [[2, 3], [3, 4]] },
  { op: 'concat', call: (a, b) => mg.concat([a, b], 1), shapes: [[2, 3], [3, 3]] },
  { op: 'reshape', call: (x) => mg.reshape(x as mg.Tensor, [4, 2]), shapes: [[2, 3]] },
  { op: 'broadcastTo', call: (x) => mg.broadcastTo(x as mg.Tensor, [4, 3]), shapes: [[2, 3]] },
  { op: 'slice', call: (x) => mg.slice(x as mg.Tensor, [1, 0], [2, 3]), shapes: [[2, 3]] },
  { op: 'sum', call: (x) => mg.sum(x, 2), shapes: [[2, 3]] },
  { op: 'mean', call: (x) => mg.mean(x, -3), shapes: [[2, 3]] },
  { op: 'diagEmbed', call: (x) => mg.diagEmbed(x as mg.Tensor, 5, 6), shapes: [[3]] },
  { op: 'where', call: (c, a, b) => mg.where(c as mg.Tensor, a, b), shapes: [[2], [3], [2]], make: real },
  { op: 'complex', call: (a, b) => mg.complex(a as mg.Tensor, b as mg.Tensor), shapes: [[2, 3], [4]], make: real },
];

describe('shape errors name the op called and the full shapes passed', () => {
  for (const { op, call, shapes, make } of cases) {
    for (const [kind, mk] of make ? [['real', make] as const] : ([['real', real], ['complex', cplx]] as const)) {
      it(`${op}(${shapes.map(fmt).join(', ')}) ${kind}`, () => {
        const inputs = shapes.map((s) => mk(s));
        let err: unknown;
        try {
          call(...inputs);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(mg.MatgradError);
        const message = (err as Error).message;
        expect(message.startsWith(`${op}: `), message).toBe(true);
        for (const s of shapes) expect(message, message).toContain(fmt(s));
        expect(err, message).toSatisfy((e) => e instanceof mg.MatgradShapeError || e instanceof mg.MatgradDTypeError);
      });
    }
  }

  it('dtype errors name the op and the shapes', () => {
    expect(() => mg.matmul(mg.zeros([2, 3]), mg.zeros([3, 4], { dtype: 'float32' }))).toThrow(/^matmul: .*\[2, 3\].*\[3, 4\]/);
    expect(() => mg.trace(mg.zeros([2, 2], { dtype: 'float32' }).add(mg.zeros([2, 2])))).toThrow(/^add: .*\[2, 2\]/);
  });

  it('an op inside a traced function still reports the op the user called', () => {
    const f = mg.jit((x: mg.Tensor) => mg.trace(mg.sum(x, 0)));
    expect(() => f(mg.zeros([2, 3]))).toThrow(/^trace: .*\[3\]/);
  });
});
