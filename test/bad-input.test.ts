// Hostile input at every public entry: each case must end in a MatgradError (a subclass where it says)
// whose message names the function and the field, never a TypeError, RangeError or a huge allocation.
import { spawnSync } from 'node:child_process';
import { symlinkSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { MatgradError, MatgradShapeError, MatgradSpecError } from '../src/index.js';
import { npyBytes, tempFiles } from './helpers/files.js';

/** The error `f` throws (a test failure if it returns). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, but the call returned');
}

const ok = () => mg.problem({ kind: 'inverse', matrix: { eye: 2 } });
const adam = mg.optimizers.adam({ lr: 0.01 });
const loss = ({ X }: mg.Params) => mg.sum(mg.square(X));
const deep = (depth: number): unknown => (depth === 0 ? 1 : [deep(depth - 1)]);
mg.registerObjective('returns-garbage', () => ({ kind: 'not an objective' }) as unknown as mg.Objective);
mg.registerObjective('no-params', () => ({ kind: 'objective', name: 'x', params: {}, loss }) as unknown as mg.Objective);

// [what, call, message pattern]: `call` is untyped on purpose (these are the mistakes types would catch)
/* eslint-disable @typescript-eslint/no-explicit-any */
const A = (x: unknown) => x as any;
const API_CASES: [string, () => unknown, RegExp][] = [
  ['tensor(null)', () => mg.tensor(A(null)), /tensor: values is null/],
  ['tensor(undefined)', () => mg.tensor(A(undefined)), /tensor: values is undefined/],
  ['tensor(string)', () => mg.tensor(A('abc')), /tensor: values is "abc"/],
  ['tensor ragged', () => mg.tensor([[1], [2, 3]]), /tensor: ragged nested array: values\[1\]/],
  ['tensor string element', () => mg.tensor(A([1, 'a'])), /tensor: values\[1\] is "a"/],
  ['tensor hole', () => mg.tensor(A(new Array(3))), /tensor: values\[0\] is undefined/],
  ['tensor nested 40 deep', () => mg.tensor(A(deep(40))), /LIMITS\.maxRank/],
  ['tensor dtype', () => mg.tensor([1], A({ dtype: 'float16' })), /tensor: unknown dtype "float16"/],
  ['tensor options null', () => mg.tensor([1], A(null)), /tensor: options must be an object/],
  ['tensor unknown option', () => mg.tensor([1], A({ shpe: [1] })), /tensor: unknown option 'shpe'/],
  ['tensor typed array shape', () => mg.tensor(new Float64Array(4), { shape: [3] }), /tensor: 4 values do not fill shape \[3\]/],
  ['tensor BigInt64Array', () => mg.tensor(A(new BigInt64Array(2))), /tensor: expected numbers or a numeric typed array/],
  ['tensor DataView', () => mg.tensor(A(new DataView(new ArrayBuffer(8)))), /tensor: expected numbers/],
  ['tensor negative shape', () => mg.tensor([1, 2], { shape: [-2] }), /tensor: shape must be a list of non-negative integers, got \[-2\]/],
  ['fromArray plain array', () => mg.fromArray(A([1, 2]), [2]), /fromArray: expected a Float64Array or Float32Array/],
  ['eye 1e6', () => mg.eye(1e6), /eye: shape \[1000000, 1000000\] has 1\.000e\+12 elements, more than LIMITS\.maxElements/],
  ['eye -1', () => mg.eye(-1), /eye: n must be an integer ≥ 0, got -1/],
  ['eye 2.5', () => mg.eye(2.5), /eye: n must be an integer/],
  ['eye NaN', () => mg.eye(NaN), /eye: n must be an integer ≥ 0, got NaN/],
  ['eye string', () => mg.eye(A('3')), /eye: n must be an integer ≥ 0, got "3"/],
  ['eye undefined', () => mg.eye(A(undefined)), /eye: n must be/],
  ['eye batch negative', () => mg.eye(3, { batch: [-1] }), /eye \(batch\): shape must be a list of non-negative integers/],
  ['eye batch string', () => mg.eye(3, { batch: A('x') }), /eye \(batch\): shape must be a list/],
  ['eye cols fraction', () => mg.eye(3, { cols: 1.5 }), /eye: cols must be an integer/],
  ['zeros 1e9', () => mg.zeros([1e9]), /full: shape \[1000000000\] has .* more than LIMITS\.maxElements/],
  ['zeros just over the limit', () => mg.zeros([mg.LIMITS.maxElements + 1]), /LIMITS\.maxElements/],
  ['zeros null', () => mg.zeros(A(null)), /full: shape must be a list of non-negative integers, got null/],
  ['zeros NaN dim', () => mg.zeros([2, NaN]), /full: shape must be a list of non-negative integers, got \[2, NaN\]/],
  ['zeros rank 40', () => mg.zeros(new Array(40).fill(1)), /full: 40 dimensions exceed LIMITS\.maxRank = 32/],
  ['ones string', () => mg.ones(A('3')), /full: shape must be a list/],
  ['full string value', () => mg.full([2], A('a')), /full: the fill value must be a number, got "a"/],
  ['full dtype', () => mg.full([2], 1, A({ dtype: 'int32' })), /full: unknown dtype "int32"/],
  ['random huge', () => mg.random([1e5, 1e5]), /random: shape \[100000, 100000\] .* LIMITS\.maxElements/],
  ['random seed string', () => mg.random([2], A({ seed: 'x' })), /random: seed must be an integer, got "x"/],
  ['random seed fraction', () => mg.random([2], { seed: 1.5 }), /random: seed must be an integer/],
  ['random seed NaN', () => mg.random([2], { seed: NaN }), /random: seed must be an integer/],
  ['random dist', () => mg.random([2], A({ dist: 'cauchy' })), /random: dist must be one of 'uniform', 'normal', got "cauchy"/],
  ['random low > high', () => mg.random([2], { low: 1, high: 0 }), /random: high must be a number ≥ 1, got 0/],
  ['random std negative', () => mg.random([2], { dist: 'normal', std: -1 }), /random: std must be a number ≥ 0/],
  ['random low with normal', () => mg.random([2], { dist: 'normal', low: 0 }), /random: low does not apply to dist 'normal'/],
  ['random mean Infinity', () => mg.random([2], { dist: 'normal', mean: Infinity }), /random: mean must be a number/],
  ['randomComplex shape', () => mg.randomComplex([-1]), /randomComplex: shape must be a list of non-negative integers/],
  ['randomComplex null', () => mg.randomComplex(A(null)), /randomComplex: shape must be a list/],
  ['randomComplex dtype', () => mg.randomComplex([2], A({ dtype: 'complex32' })), /randomComplex: unknown complex dtype "complex32"/],
  ['randomComplex std', () => mg.randomComplex([2], { std: NaN }), /randomComplex: std must be a number ≥ 0/],
  ['complexTensor null', () => mg.complexTensor(A(null)), /complexTensor: expected \{ re, im \}/],
  ['complexTensor array', () => mg.complexTensor(A([1, 2])), /complexTensor: expected \{ re, im \}/],
  ['complexTensor odd interleaved', () => mg.complexTensor(new Float64Array(3)), /complexTensor: interleaved \(re, im\) values need an even length, got 3/],
  ['complexTensor re/im shapes', () => mg.complexTensor({ re: [1], im: [1, 2] }), /complexTensor: re has shape \[1\], im has \[2\]/],
  ['complexTensor unknown part', () => mg.complexTensor(A({ re: [1], img: [1] })), /complexTensor \(values\): unknown option 'img'/],
  ['complexTensor re string', () => mg.complexTensor(A({ re: 'x' })), /tensor: values is "x"/],
  ['param init foo', () => mg.param([2, 2], A({ init: 'foo' })), /param: init must be one of 'zeros', 'ones', 'eye', 'uniform', 'normal', got "foo"/],
  ['param negative shape', () => mg.param([-1]), /param \(shape\): shape must be a list of non-negative integers/],
  ['param shape over the limit', () => mg.param([1e5, 1e5]), /param \(shape\): .*LIMITS\.maxElements/],
  ['param seed fraction', () => mg.param([2], { seed: 1.5 }), /param: seed must be an integer/],
  ['param scale zero', () => mg.param([2], { scale: 0 }), /param: scale must be a positive number, got 0/],
  ['param scale NaN', () => mg.param([2], { scale: NaN }), /param: scale must be a number/],
  ['param dtype', () => mg.param([2], A({ dtype: 'int8' })), /param: dtype must be one of 'float64', 'float32', 'complex64', 'complex128', got "int8"/],
  ['param constraint', () => mg.param([2], A({ constraint: {} })), /param: constraint must be a Constraint/],
  ['param eye on a vector', () => mg.param([2], { init: 'eye' }), /param: init 'eye' needs at least 2 dims/],
  ['param shape string', () => mg.param(A('x')), /param: expected a shape \(a list of integers\) or a tensor, got "x"/],
  ['param null', () => mg.param(A(null)), /param: expected a shape/],
  ['param tensor and init', () => mg.param(mg.zeros([2]), { init: 'ones' }), /param: option 'init' does not apply when the initial value is a tensor/],
  ['param tensor and dtype', () => mg.param(mg.zeros([2]), { dtype: 'float32' }), /param: dtype 'float32' differs from the tensor's float64/],
  ['param unknown option', () => mg.param([2], A({ initt: 'zeros' })), /param: unknown option 'initt'/],
  ['objective no params', () => mg.objective({}, loss), /objective: needs at least one parameter to learn/],
  ['objective null params', () => mg.objective(A(null), loss), /objective: params must be an object/],
  ['objective hand-made param', () => mg.objective(A({ X: {} }), loss), /objective: parameter 'X': must be made with mg\.param/],
  ['objective hand-made bad shape', () => mg.objective(A({ X: { kind: 'param', shape: [2, -1], init: 'zeros', seed: 0, scale: 1 } }), loss), /objective: parameter 'X' \(shape\)/],
  ['objective loss not a function', () => mg.objective({ X: mg.param([2]) }, A('f')), /objective: the loss must be a function/],
  ['objective name', () => mg.objective({ X: mg.param([2]) }, loss, A({ name: 3 })), /objective: name must be a string/],
  ['objective unknown option', () => mg.objective({ X: mg.param([2]) }, loss, A({ metric: loss })), /objective: unknown option 'metric'/],
  ['objective defaults.steps', () => mg.objective({ X: mg.param([2]) }, loss, { defaults: { steps: 0 } }), /objective: defaults: steps must be an integer ≥ 1/],
  ['objective optimum NaN', () => mg.objective({ X: mg.param([2]) }, loss, { optimum: NaN }), /objective: optimum must be a number/],
  ['registerObjective name', () => mg.registerObjective(A(5), () => ok()), /registerObjective: the name must be a non-empty string, got 5/],
  ['registerObjective empty name', () => mg.registerObjective('', () => ok()), /registerObjective: the name must be a non-empty string/],
  ['registerObjective factory', () => mg.registerObjective('x', A(null)), /registerObjective: 'x' needs a factory function/],
  ['custom factory returns garbage', () => mg.problem({ kind: 'custom', objective: 'returns-garbage' }), /custom objective 'returns-garbage': expected a problem/],
  ['custom factory: no params', () => mg.problem({ kind: 'custom', objective: 'no-params' }), /custom objective 'no-params': needs at least one parameter/],
  ['solve(null)', () => mg.solve(A(null)), /solve: expected a problem \(mg\.problem\(spec\)\) or an objective/],
  ['solve hand-made objective without params', () => mg.solve(A({ kind: 'objective', name: 'x', params: {}, loss })), /solve: needs at least one parameter/],
  ['solve options null', () => mg.solve(ok(), A(null)), /solve: options must be an object, got null/],
  ['solve optimizer {}', () => mg.solve(ok(), A({ optimizer: {} })), /solve: optimizer must be a gradient transform .* or mg\.optimizers\.lbfgs\(\.\.\.\), got an object/],
  ['solve optimizer string', () => mg.solve(ok(), A({ optimizer: 'adam' })), /solve: optimizer must be .*, got "adam"/],
  ['solve optimizer factory', () => mg.solve(ok(), A({ optimizer: mg.optimizers.adam })), /solve: optimizer must be .*, got a function/],
  ['solve steps 0', () => mg.solve(ok(), { steps: 0 }), /solve: steps must be a positive integer, got 0/],
  ['solve steps fraction', () => mg.solve(ok(), { steps: 1.5 }), /solve: steps must be a positive integer/],
  ['solve steps string', () => mg.solve(ok(), A({ steps: '10' })), /solve: steps must be a positive integer, got "10"/],
  ['solve reportEvery NaN', () => mg.solve(ok(), { reportEvery: NaN }), /solve: reportEvery must be a positive integer, got NaN/],
  // optimizer and schedule factories: options are an object of known keys
  ...(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'lbfgs'] as const).flatMap((name): [string, () => unknown, RegExp][] => [
    [`${name}(null)`, () => mg.optimizers[name](A(null)), new RegExp(`^${name}: options must be an object, got null`)],
    [`${name}('x')`, () => mg.optimizers[name](A('x')), new RegExp(`^${name}: options must be an object, got "x"`)],
    [`${name} misspelled option`, () => mg.optimizers[name](A({ learningRate: 1 })), new RegExp(`^${name}: unknown option 'learningRate'`)],
  ]),
  ['sgd nesterov without momentum', () => mg.optimizers.sgd({ nesterov: true }), /^sgd: nesterov momentum requires a momentum/],
  ...(['step', 'exponential', 'cosine', 'linear', 'warmup', 'reduceOnPlateau'] as const).map((name): [string, () => unknown, RegExp] => [
    `schedules.${name}(null)`,
    () => A(mg.schedules)[name](null),
    new RegExp(`^schedules\\.${name}: options must be an object, got null`),
  ]),
  ['schedules.exponential lr NaN', () => mg.schedules.exponential({ lr: NaN, gamma: 0.9 }), /^schedules\.exponential: lr must be a number ≥ 0, got NaN/],
  ['schedules.exponential gamma string', () => mg.schedules.exponential(A({ lr: 1, gamma: 'x' })), /^schedules\.exponential: gamma must be a number ≥ 0, got "x"/],
  ['solve tolerance NaN', () => mg.solve(ok(), { tolerance: NaN }), /solve: tolerance must be a number, got NaN/],
  ['solve backend', () => mg.solve(ok(), A({ backend: 'gpu' })), /solve: unknown backend "gpu"; use 'cpu', 'webgpu', 'auto' or a Backend/],
  ['solve dtype', () => mg.solve(ok(), A({ dtype: 'float16' })), /solve: dtype must be one of 'float64', 'float32'/],
  ['solve seed fraction', () => mg.solve(ok(), { seed: 0.5 }), /solve: seed must be an integer/],
  ['solve signal', () => mg.solve(ok(), A({ signal: {} })), /solve: signal must be an AbortSignal/],
  ['solve misspelled option', () => mg.solve(ok(), A({ stepz: 10 })), /solve: unknown option 'stepz'/],
  ['compare runs null', () => mg.compare(A(null), ok()), /compare: runs must be an object/],
  ['compare no runs', () => mg.compare({}, ok()), /compare: give at least one run/],
  ['compare run null', () => mg.compare(A({ a: null }), ok()), /compare: run 'a' must be an optimizer or solve options, got null/],
  ['compare run number', () => mg.compare(A({ a: 5 }), ok()), /compare: run 'a' must be an optimizer or solve options, got 5/],
  ['compare run bad optimizer', () => mg.compare(A({ a: { optimizer: {} } }), ok()), /compare: run 'a': optimizer must be/],
  ['compare run bad option', () => mg.compare({ a: { steps: -1 } }, ok()), /compare: run 'a': steps must be a positive integer/],
  ['compare objective', () => mg.compare({ a: adam }, A(null)), /compare: expected a problem/],
  ['compare options', () => mg.compare({ a: adam }, ok(), { steps: -1 }), /compare: steps must be a positive integer/],
  ['initialValues(null)', () => mg.initialValues(A(null)), /initialValues: expected a problem/],
  ['initialValues dtype', () => mg.initialValues(ok(), A({ dtype: 'float16' })), /initialValues: dtype must be one of 'float64', 'float32'/],
  ['problem context null', () => mg.problem({ kind: 'inverse', matrix: { eye: 2 } }, A(null)), /problem: options must be an object, got null/],
  ['problem baseDir a number', () => mg.problem({ kind: 'inverse', matrix: { eye: 2 } }, A({ baseDir: 5 })), /problem: baseDir must be a directory path, got 5/],
  ['reshape to null', () => mg.reshape(mg.ones([2, 3]), A(null)), /reshape: shape must be a list of integers, got null/],
  ['reshape to NaN', () => mg.reshape(mg.ones([2, 3]), [NaN, 6]), /reshape: shape must be a list of integers, got \[NaN, 6\]/],
  ['slice of null', () => mg.slice(A(null), [0], [1]), /slice: expected a Tensor, got null/],
  ['slice with a string begin', () => mg.slice(mg.ones([2]), A('0'), [1]), /slice: begin must be a list of integers, got "0"/],
  ['broadcastTo null', () => mg.broadcastTo(mg.ones([2]), A(null)), /broadcastTo: shape must be a list of integers/],
  ['pad null', () => mg.pad(mg.ones([2]), A(null), [3]), /pad: begin must be a list of integers/],
  ['concat null', () => mg.concat(A(null)), /concat: expected a list of tensors, got null/],
  ['cast to int', () => mg.cast(mg.ones([2]), A('int')), /cast: unknown dtype "int"/],
  ['add a string', () => mg.add(mg.ones([2]), A('a')), /add: expected a Tensor or a number, got "a"/],
  ['where with a string', () => mg.where(A('a'), mg.ones([2]), 0), /where: expected a Tensor or a number, got "a"/],
  ['op output over the limit (outer)', () => mg.outer(mg.ones([20000]), mg.ones([20000])), /: shape \[20000, 20000\] .* LIMITS\.maxElements/],
  ['op output over the limit (matmul)', () => mg.matmul(mg.ones([20000, 1]), mg.ones([1, 20000])), /matmul: .*LIMITS\.maxElements/],
];
/* eslint-enable @typescript-eslint/no-explicit-any */

describe(`hostile arguments to creators and entries (${API_CASES.length}) give MatgradErrors naming the field`, () => {
  for (const [what, call, message] of API_CASES) {
    it(what, () => {
      const e = thrown(call);
      expect(e).toBeInstanceOf(MatgradError);
      expect(e.message).toMatch(message);
    });
  }
  it('size limits are MatgradShapeErrors', () => {
    expect(thrown(() => mg.eye(1e6))).toBeInstanceOf(MatgradShapeError);
    expect(thrown(() => mg.outer(mg.ones([20000]), mg.ones([20000])))).toBeInstanceOf(MatgradShapeError);
  });
  it('mg.LIMITS is frozen and documents the bounds', () => {
    expect(Object.isFrozen(mg.LIMITS)).toBe(true);
    expect(mg.LIMITS).toEqual({ maxElements: 2 ** 27, maxRank: 32, maxTextFileBytes: 2 ** 28 });
    // exactly at the limit is allowed (an op output of 2^27 elements)
    expect(mg.outer(mg.zeros([2 ** 14]), mg.zeros([2 ** 13])).size).toBe(mg.LIMITS.maxElements);
  });
  it('an inverse batch of 200,000 matrices builds and runs (no argument spread over the batch)', async () => {
    const p = mg.problem({ kind: 'inverse', matrix: { random: { shape: [200_000, 2, 2], seed: 1, shift: 1 } } });
    const r = await lastValueFrom(mg.solve(p, { steps: 2, reportEvery: 1 }));
    expect(r.done && r.step).toBe(2);
  });
  it('a custom objective without parameters fails at mg.objective, not in the run', () => {
    expect(() => mg.objective({}, () => mg.scalar(0))).toThrow(MatgradError);
  });
});

/** The issues of the MatgradSpecError that `spec` raises (test failure if it is another error). */
function specIssues(spec: unknown, ctx?: { baseDir?: string }): { path: string; message: string }[] {
  const e = thrown(() => mg.problem(spec, ctx));
  expect(e).toBeInstanceOf(MatgradSpecError);
  return (e as MatgradSpecError).issues;
}

// [what, spec, path]: malformed specs that used to crash inside the checks (TypeError) or slip through
const SPEC_CASES: [string, unknown, string][] = [
  ['spec null', null, ''],
  ['spec an array', [], ''],
  ['empty row', { kind: 'inverse', matrix: [[]] }, 'matrix[0]'],
  ['batch of an empty row', { kind: 'inverse', matrix: [[[]]] }, 'matrix[0][0]'],
  ['batch with an empty matrix', { kind: 'inverse', matrix: [[[1]], []] }, 'matrix[1]'],
  ['batch of different sizes', { kind: 'inverse', matrix: [[[1, 2]], [[1]]] }, 'matrix[1]'],
  ['row and matrix mixed', { kind: 'inverse', matrix: [[1], [[2]]] }, 'matrix[1][0]'],
  ['NaN on a diagonal', { kind: 'inverse', matrix: { diagonal: [NaN] } }, 'matrix.diagonal[0]'],
  ['Infinity inline', { kind: 'inverse', matrix: [[1, Infinity], [0, 1]] }, 'matrix[0][1]'],
  ['fractional batch dim', { kind: 'inverse', matrix: { eye: 2, batch: [1.5] } }, 'matrix.batch[0]'],
  ['negative seed', { kind: 'inverse', matrix: { random: { shape: [2, 2], seed: -1 } } }, 'matrix.random.seed'],
  ['seed past 2^32', { kind: 'svd', matrix: { eye: 2 }, init: { seed: 2 ** 53 } }, 'init.seed'],
  ['batch a string', { kind: 'lambda-min', n: 3, batch: 'x' }, 'batch'],
  ['target of the wrong size', { kind: 'eigenvector', matrix: { eye: 3 }, target: { eye: 3 } }, 'target'],
  ['custom options null', { kind: 'custom', objective: 'no-params', options: null }, 'options'],
];

describe(`malformed specs (${SPEC_CASES.length}) are MatgradSpecErrors at their path`, () => {
  for (const [what, spec, path] of SPEC_CASES) {
    it(what, () => expect(specIssues(spec).map((i) => i.path)).toContain(path));
  }
});

// [what, spec, path, message]: all refused by validation alone (mg.parseSpec allocates nothing)
const LIMIT_CASES: [string, unknown, string, RegExp][] = [
  ['eye 1e6', { kind: 'inverse', matrix: { eye: 1e6 } }, 'matrix.eye', /expected at most 11585 .*LIMITS\.maxElements/],
  ['lambda-min n 1e9', { kind: 'lambda-min', n: 1e9 }, 'n', /expected at most 11585/],
  ['lambda-min batch × n²', { kind: 'lambda-min', n: 5000, batch: [10] }, 'batch', /5000×5000 matrices: shape \[10, 5000, 5000\] .* LIMITS\.maxElements/],
  ['svd random 30000²', { kind: 'svd', matrix: { random: { shape: [30000, 30000] } } }, 'matrix.random.shape', /shape \[30000, 30000\] has 9\.000e\+8 elements, more than LIMITS\.maxElements/],
  ['random dim over the limit', { kind: 'svd', matrix: { random: { shape: [2 ** 28, 1] } } }, 'matrix.random.shape[0]', /LIMITS\.maxElements/],
  ['random rank 33', { kind: 'svd', matrix: { random: { shape: new Array(33).fill(1) } } }, 'matrix.random.shape', /LIMITS\.maxRank/],
  ['eye batch', { kind: 'inverse', matrix: { eye: 100, batch: [100000] } }, 'matrix', /shape \[100000, 100, 100\] .* LIMITS\.maxElements/],
  ['eye batch rank', { kind: 'inverse', matrix: { eye: 2, batch: new Array(31).fill(1) } }, 'matrix.batch', /LIMITS\.maxRank/],
  ['diagonal too long', { kind: 'inverse', matrix: { diagonal: new Array(20000).fill(1) } }, 'matrix.diagonal', /expected at most 11585 values/],
  ['inverse: X·M of a wide matrix', { kind: 'inverse', matrix: { random: { shape: [1, 100000] } } }, 'matrix', /X·M \(100000×100000 per matrix\)/],
  ['inverse: M·X of a tall matrix', { kind: 'inverse', matrix: { random: { shape: [100000, 1] } }, side: 'right' }, 'matrix', /M·X \(100000×100000 per matrix\)/],
  ['complex inverse doubles the size', { kind: 'inverse', matrix: { random: { shape: [2, 8192, 8192] } }, imag: { random: { shape: [2, 8192, 8192] } } }, 'matrix', /LIMITS\.maxElements/],
  ['eigenvector bordered system', { kind: 'eigenvector', matrix: { random: { shape: [11585, 11585] } } }, 'matrix', /bordered 11586×11586 systems/],
];

describe(`size limits in specs (${LIMIT_CASES.length}) are checked before anything is allocated`, () => {
  for (const [what, spec, path, message] of LIMIT_CASES) {
    it(what, () => {
      const e = thrown(() => mg.parseSpec(spec));
      expect(e).toBeInstanceOf(MatgradSpecError);
      const issue = (e as MatgradSpecError).issues.find((i) => i.path === path);
      expect(issue, JSON.stringify((e as MatgradSpecError).issues)).toBeDefined();
      expect(issue!.message).toMatch(message);
    });
  }
});

const files = tempFiles('matgrad-bad-input-');
const f64 = (...xs: number[]) => new Float64Array(xs);
const m22 = f64(2, 1, 1, 3);
const npy = (name: string, ...args: Parameters<typeof npyBytes>) => files.write(name, npyBytes(...args));
const BAD_NPY = (() => {
  const v9 = npyBytes('<f8', [2, 2], m22);
  v9[6] = 9;
  const longHeader = npyBytes('<f8', [2, 2], m22, { version: 2 });
  new DataView(longHeader.buffer).setUint32(8, 1 << 20, true);
  return { v9, longHeader };
})();

// [what, file name, content, message after "matrix.file: <file>: "]
const FILE_CASES: [string, string, string | Uint8Array, RegExp][] = [
  ['json data is a number', 'data4.json', '{"shape": [2, 2], "data": 4}', /data: expected an array of numbers/],
  ['json data holds a string', 'str.json', '{"shape": [2, 2], "data": [1, "a", 3, 4]}', /data\[1\]: expected a finite number/],
  ['json data holds null', 'null.json', '{"shape": [2, 2], "data": [1, 2, null, 4]}', /data\[2\]: expected a finite number/],
  ['json data overflows to Infinity', 'inf.json', '{"shape": [1, 2], "data": [1, 1e999]}', /data\[1\]: expected a finite number/],
  ['json shape and data differ', 'mismatch.json', '{"shape": [2, 2], "data": [1, 2, 3]}', /data: 3 values do not fill shape \[2, 2\] \(4 elements\)/],
  ['json shape of a vector', 'vector.json', '{"shape": [4], "data": [1, 2, 3, 4]}', /shape: expected at least 2 dims/],
  ['json negative dim', 'neg.json', '{"shape": [2, -1], "data": []}', /shape\[1\]: expected a positive integer/],
  ['json shape over the limit', 'huge.json', '{"shape": [100000, 100000], "data": []}', /shape: shape \[100000, 100000\] .* LIMITS\.maxElements/],
  ['json extra field', 'extra.json', '{"shape": [1, 1], "data": [1], "dtype": "f8"}', /unknown field 'dtype'/],
  ['json ragged rows', 'ragged.json', '[[1, 2], [3]]', /\[1\]: row 1 has 1 values, row 0 has 2/],
  ['json string cell', 'cell.json', '[[1, "2"], [3, 4]]', /\[0\]\[1\]: expected a finite number/],
  ['json empty rows', 'empty.json', '[[]]', /\[0\]: expected at least one number/],
  ['json a string', 'string.json', '"M"', /expected nested rows of numbers, a batch of them, or \{"shape": \[\.\.\.\], "data": \[\.\.\.\]\}/],
  ['json not JSON', 'broken.json', '[[1, 2]', /invalid JSON/],
  ['json not UTF-8', 'latin1.json', new Uint8Array([0x5b, 0x5b, 0xff, 0x5d, 0x5d]), /is not valid UTF-8 text/],
  ['csv empty cell', 'empty-cell.csv', '1,,2\n3,4,5\n', /line 1, column 2: '' is not a number/],
  ['csv word', 'word.csv', '1,2\nabc,4\n', /line 2, column 1: 'abc' is not a number/],
  ['csv NaN', 'nan.csv', '1,NaN\n3,4\n', /line 1, column 2: 'NaN' is not a number/],
  ['csv Infinity', 'inf.csv', '1,Infinity\n3,4\n', /'Infinity' is not a number/],
  ['csv hex', 'hex.csv', '0x10,1\n1,1\n', /'0x10' is not a number/],
  ['csv ragged', 'ragged.csv', '# header comment\n1,2\n\n3\n', /line 4 has 1 values, line 2 has 2/],
  ['csv no rows', 'blank.csv', '\n# only a comment\n', /no rows/],
  ['npy NaN', 'nan.npy', npyBytes('<f8', [2, 2], f64(2, NaN, 1, 3)), /element \[0, 1\]: expected a finite number, got NaN/],
  ['npy Infinity (float32)', 'inf.npy', npyBytes('<f4', [2, 2], new Float32Array([2, 1, 1, -Infinity])), /element \[1, 1\]: expected a finite number, got -Infinity/],
  ['npy truncated', 'short.npy', npyBytes('<f8', [2, 2], f64(2, 1, 1)), /has 152 bytes, its header .* says 160/],
  ['npy trailing bytes', 'long.npy', npyBytes('<f8', [2, 2], f64(2, 1, 1, 3, 4)), /has 168 bytes, its header .* says 160/],
  ['npy Fortran order', 'fortran.npy', npyBytes('<f8', [2, 2], m22, { fortran: true }), /Fortran-order arrays are not supported/],
  ['npy uint16', 'u2.npy', npyBytes('<u2', [2, 2], new Uint16Array([2, 1, 1, 3])), /unsupported dtype '<u2'/],
  ['npy complex', 'c16.npy', npyBytes('<c16', [1, 1], f64(1, 0)), /unsupported dtype '<c16'/],
  ['npy vector', 'vector.npy', npyBytes('<f8', [4], m22), /shape \(4\) has 1 dims; a matrix source needs at least 2/],
  ['npy empty dim', 'zero.npy', npyBytes('<f8', [0, 2], f64()), /has an empty dim 0/],
  ['npy shape over the limit', 'huge.npy', npyBytes('<f8', [100000, 100000], f64()), /shape \[100000, 100000\] .* LIMITS\.maxElements/],
  ['npy bad magic', 'text.npy', 'hello, not an array', /is not a \.npy file \(no \\x93NUMPY magic\)/],
  ['npy too short', 'tiny.npy', 'x', /is not a \.npy file \(too short\)/],
  ['npy version 9', 'v9.npy', BAD_NPY.v9, /unsupported \.npy format version 9\.0/],
  ['npy header too long', 'hdr.npy', BAD_NPY.longHeader, /header of 1048576 bytes is longer than 65536/],
  ['npy malformed header', 'dict.npy', npyBytes('<f8', [2, 2], m22).map((b, i) => (i === 10 ? 0x28 : b)), /malformed \.npy header/],
  ['unknown extension', 'matrix.txt', '1 2\n3 4\n', /unknown file type '\.txt'/],
];

describe(`file sources (${FILE_CASES.length}) pass the inline checks and name the file and the field`, () => {
  for (const [what, name, content, message] of FILE_CASES) {
    it(what, () => {
      const file = files.write(name, content);
      const issues = specIssues({ kind: 'inverse', matrix: { file } });
      expect(issues[0].path).toBe('matrix.file');
      expect(issues[0].message.startsWith(`${file}: `), issues[0].message).toBe(true);
      expect(issues[0].message).toMatch(message);
    });
  }
  it('a .npy is read in float64, float32, int32 and int64, either byte order, format 1 to 3', () => {
    const want = [2, 1, 1, 3];
    const cases: [string, ArrayBufferView, number?][] = [
      ['<f8', m22],
      ['<f4', new Float32Array(want), 2],
      ['<i4', new Int32Array(want), 3],
      ['<i8', new BigInt64Array(want.map(BigInt))],
    ];
    for (const [descr, data, version] of cases) {
      const file = npy(`ok${descr.slice(1)}.npy`, descr, [2, 2], data, { version });
      expect(mg.problem({ kind: 'eigenvector', matrix: { file } }).params.P.shape, descr).toEqual([2, 2]);
    }
    const big = new Uint8Array(m22.buffer.slice(0)).reverse(); // big-endian bytes, values in reverse order
    const file = npy('be.npy', '>f8', [2, 2], big);
    const p = mg.problem({ kind: 'inverse', matrix: { file }, init: { init: 'zeros' } });
    expect(p.name).toContain('2×2');
  });
  it('a UTF-8 byte-order mark is accepted in .json and .csv', () => {
    for (const [name, text] of [['bom.json', '\ufeff[[2, 1], [1, 3]]'], ['bom.csv', '\ufeff2,1\r\n1,3\r\n']]) {
      const file = files.write(name, text);
      expect(mg.problem({ kind: 'inverse', matrix: { file } }).params.X.shape, name).toEqual([2, 2]);
    }
  });
  it('devices, FIFOs, directories and oversized files are refused without being read', () => {
    const zero = path.join(files.dir, 'zero.json');
    symlinkSync('/dev/zero', zero);
    const fifo = path.join(files.dir, 'fifo.csv');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const dir = path.join(files.dir, 'dir.json');
    spawnSync('mkdir', [dir]);
    const huge = files.write('huge.csv', '');
    truncateSync(huge, mg.LIMITS.maxTextFileBytes + 1); // sparse: no disk used
    for (const [file, message] of [
      [zero, /is not a regular file/],
      [fifo, /is not a regular file/],
      [dir, /is not a regular file/],
      [huge, /is 268435457 bytes, more than LIMITS\.maxTextFileBytes = 268435456/],
      [path.join(files.dir, 'missing.npy'), /cannot be read \(ENOENT/],
    ] as const) {
      const [issue] = specIssues({ kind: 'inverse', matrix: { file } });
      expect(issue.path).toBe('matrix.file');
      expect(issue.message).toMatch(message);
    }
  });
  it('kind checks run on the shapes read from files (path of the field, not a shape error)', () => {
    const wide = files.write('wide.csv', '1,2,3\n4,5,6\n');
    const three = files.write('three.json', '[[1], [0], [0]]');
    const cases: [unknown, string, RegExp][] = [
      [{ kind: 'eigenvector', matrix: { file: wide } }, 'matrix', /eigenvectors need a square matrix, got 2×3/],
      [{ kind: 'eigenvector', matrix: { eye: 2 }, target: { file: three } }, 'target', /shape 3×1 does not hold one vector of the matrix's 2 entries/],
      [{ kind: 'eigenvector', matrix: { eye: 2 }, which: 2 }, 'which', /index 2 is out of range/],
      [{ kind: 'svd', matrix: { file: wide }, rank: 3 }, 'rank', /rank 3 exceeds min\(m, n\) = 2/],
      [{ kind: 'inverse', matrix: { file: wide }, side: 'both' }, 'matrix', /side 'both' needs a square matrix, got 2×3/],
      [{ kind: 'inverse', matrix: { file: wide }, imag: { eye: 2 } }, 'imag', /shape 2×2 differs from matrix's 2×3/],
      [{ kind: 'eigenvector', matrix: { eye: 3 }, target: [[0], [0], [0]] }, 'target', /the target vector is zero/],
    ];
    for (const [spec, path, message] of cases) {
      const issues = specIssues(spec);
      expect(issues.map((i) => i.path), JSON.stringify(spec)).toContain(path);
      expect(issues.find((i) => i.path === path)!.message).toMatch(message);
    }
  });
  it('a large batch with every entry wrong lists the first issues and a count, not a million lines', () => {
    const bad = Array.from({ length: 50_000 }, () => [['a', 'b']]);
    const issues = specIssues({ kind: 'inverse', matrix: bad });
    expect(issues.length).toBe(21);
    expect(issues[0].path).toBe('matrix[0][0][0]');
    expect(issues[20].message).toMatch(/… and \d+ more issues/);
  });
});

describe('the CLI reads spec files with the same bounds', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const matgrad = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), ...args], { cwd: root, input, encoding: 'utf8', timeout: 60_000 });
  it('refuses /dev/zero as a spec file (exit 2, no hang)', () => {
    const r = matgrad(['solve', '/dev/zero']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/spec file '\/dev\/zero' is not a regular file/);
  });
  it('accepts a spec with a UTF-8 byte-order mark on stdin', () => {
    const r = matgrad(['solve', '-', '--steps', '2', '--quiet'], '\ufeff{"kind": "inverse", "matrix": {"eye": 2}}');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
