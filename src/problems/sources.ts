import { z } from 'zod';
import * as F from '../autograd/api.js';
import { allocArray, type DType, type FloatArray } from '../autograd/dtype.js';
import { eye, fromArray, random, type Tensor, tensor } from '../autograd/tensor.js';
import { MatgradSpecError } from '../errors.js';
import { LIMITS, shapeLimitIssue } from '../limits.js';
import { Seed, zodIssues, zodMessage } from './common.js';

const positiveInt = z
  .number({ error: 'expected a positive integer' })
  .int({ error: 'expected a positive integer' })
  .positive({ error: 'expected a positive integer' });
export const PositiveInt = positiveInt;
/** The largest n of an n×n matrix within LIMITS.maxElements (a bound editors see in the JSON Schema). */
export const MAX_SIDE = Math.floor(Math.sqrt(LIMITS.maxElements));
/** A matrix size n (n×n within LIMITS.maxElements). */
export const Side = positiveInt.max(MAX_SIDE, { error: `expected at most ${MAX_SIDE} (an n×n matrix has at most LIMITS.maxElements = ${LIMITS.maxElements} elements)` });
/** Leading batch dims of a source or problem. */
export const BatchDims = z
  .array(positiveInt.max(LIMITS.maxElements, { error: `expected at most LIMITS.maxElements = ${LIMITS.maxElements}` }), { error: 'expected a list of positive integers' })
  .max(LIMITS.maxRank - 2, { error: `expected at most ${LIMITS.maxRank - 2} batch dims (LIMITS.maxRank = ${LIMITS.maxRank})` });

type Ctx = z.core.$RefinementCtx;
/** Adds an issue at `path` when a shape breaks LIMITS (checked in the schema, before anything is allocated). */
function limitShape(ctx: Ctx, shape: readonly number[], path: PropertyKey[] = []): void {
  const issue = shapeLimitIssue(shape);
  if (issue) ctx.addIssue({ code: 'custom', path, message: issue, input: shape });
}
/** [rows, cols] of a well-formed matrix of rows, else null (refinements also run on input that failed). */
const dims2 = (m: unknown): [number, number] | null => (Array.isArray(m) && Array.isArray(m[0]) ? [m.length, m[0].length] : null);

// zod's number() refuses NaN and ±Infinity (a JSON 1e999 parses to Infinity)
const finite = z.number({ error: 'expected a finite number' });
const Row = z.array(finite, { error: 'expected an array of numbers' }).min(1, { error: 'expected at least one number' });
const Matrix = z
  .array(Row, { error: 'expected an array of rows' })
  .min(1, { error: 'expected at least one row' })
  .superRefine((rows, ctx) => {
    const cols = dims2(rows)?.[1];
    rows.forEach((r, i) => {
      if (Array.isArray(r) && cols !== undefined && r.length !== cols) ctx.addIssue({ code: 'custom', path: [i], message: `row ${i} has ${r.length} values, row 0 has ${cols}`, input: r });
    });
    if (cols !== undefined) limitShape(ctx, [rows.length, cols]);
  });
const Batch = z
  .array(Matrix, { error: 'expected an array of matrices' })
  .min(1, { error: 'expected at least one matrix' })
  .superRefine((ms, ctx) => {
    const first = dims2(ms[0]);
    if (!first) return;
    ms.forEach((m, i) => {
      const d = dims2(m);
      if (d && (d[0] !== first[0] || d[1] !== first[1])) ctx.addIssue({ code: 'custom', path: [i], message: `matrix ${i} is ${d[0]}×${d[1]}, matrix 0 is ${first[0]}×${first[1]}`, input: m });
    });
    limitShape(ctx, [ms.length, ...first]);
  });
const Random = z
  .object({
    shape: z
      .array(positiveInt.max(LIMITS.maxElements, { error: `expected at most LIMITS.maxElements = ${LIMITS.maxElements}` }), { error: 'expected a list of positive integers' })
      .min(2, { error: 'expected at least 2 dims [..., rows, cols]' })
      .max(LIMITS.maxRank, { error: `expected at most LIMITS.maxRank = ${LIMITS.maxRank} dims` }),
    seed: Seed.default(0),
    dist: z.enum(['uniform', 'normal']).default('uniform'),
    /** Added to the diagonal (conditioning), default 0. */
    shift: finite.default(0),
  })
  .strict()
  .superRefine((r, ctx) => limitShape(ctx, r.shape, ['shape']));

/** Where a matrix comes from: inline rows (or a batch of matrices), a generator, or a file (CLI). */
export const MatrixSource = z
  .union([
    // Batch first: a union stops at the first branch that matches, so a large batch is not first tried
    // (and refused element by element) as a matrix
    Batch,
    Matrix,
    z
      .object({ eye: Side, batch: BatchDims.optional() })
      .strict()
      .superRefine((s, ctx) => limitShape(ctx, [...(s.batch ?? []), s.eye, s.eye])),
    z
      .object({ diagonal: Row.max(MAX_SIDE, { error: `expected at most ${MAX_SIDE} values (LIMITS.maxElements)` }), batch: BatchDims.optional() })
      .strict()
      .superRefine((s, ctx) => limitShape(ctx, [...(s.batch ?? []), s.diagonal.length, s.diagonal.length])),
    z.object({ random: Random }).strict(),
    z.object({ file: z.string().min(1, { error: 'expected a file path' }) }).strict(),
  ])
  .describe('A matrix: nested rows, a batch of them, {eye: n}, {diagonal: [...]}, {random: {shape, seed, dist}}, or {file} (.json, .csv, .npy)');
export type MatrixSource = z.infer<typeof MatrixSource>;

/**
 * What a .json file source holds: the inline forms (nested rows, a batch of them) or {shape, data} with
 * the values in row-major order. Inline data and files pass the same schemas.
 */
const FileContent = z.union([
  Batch,
  Matrix,
  z
    .object({
      shape: Random.shape.shape,
      data: z.array(finite, { error: 'expected an array of numbers' }),
    })
    .strict()
    .superRefine((c, ctx) => {
      const count = c.shape.reduce((a, b) => a * b, 1);
      if (!shapeLimitIssue(c.shape) && c.data.length !== count)
        ctx.addIssue({ code: 'custom', path: ['data'], message: `${c.data.length} values do not fill shape [${c.shape.join(', ')}] (${count} elements)`, input: c.data });
      limitShape(ctx, c.shape, ['shape']);
    }),
]);

/** The shape a source will have, when known without reading a file. */
export function sourceShape(src: MatrixSource): number[] | null {
  if (Array.isArray(src)) {
    const isBatch = Array.isArray((src as unknown[][])[0]?.[0]);
    return isBatch ? [src.length, (src as number[][][])[0].length, (src as number[][][])[0][0].length] : [src.length, (src as number[][])[0].length];
  }
  if ('eye' in src) return [...(src.batch ?? []), src.eye, src.eye];
  if ('diagonal' in src) return [...(src.batch ?? []), src.diagonal.length, src.diagonal.length];
  if ('random' in src) return [...src.random.shape];
  return null;
}

export interface SourceContext {
  dtype: DType;
  /** Directory that relative file paths are resolved against. */
  baseDir?: string;
}

/** Builds the tensor a source describes; `path` names the source in errors (`matrix`, `imag`, `target`). */
export function materialize(src: MatrixSource, path: string, ctx: SourceContext): Tensor {
  const { dtype } = ctx;
  if (Array.isArray(src)) return tensor(src as number[][], { dtype });
  if ('eye' in src) return eye(src.eye, { batch: src.batch, dtype });
  if ('diagonal' in src) {
    const d = F.diagEmbed(tensor(src.diagonal, { dtype }));
    return src.batch ? F.add(F.mul(eye(src.diagonal.length, { batch: src.batch, dtype }), 0), d) : d;
  }
  if ('random' in src) {
    const { shape, seed, dist, shift } = src.random;
    const r = random(shape, { seed, dist, dtype });
    if (!shift) return r;
    const [m, n] = shape.slice(-2);
    return F.add(r, F.mul(eye(m, { cols: n, dtype }), shift));
  }
  return readMatrixFile(src.file, `${path}.file`, ctx);
}

type Fd = number;
interface NodeFs {
  openSync(p: string, flags: number): Fd;
  constants: { O_RDONLY: number; O_NONBLOCK?: number };
  fstatSync(fd: Fd): { isFile(): boolean; size: number };
  readSync(fd: Fd, buf: Uint8Array, offset: number, length: number, position: number | null): number;
  closeSync(fd: Fd): void;
}
type PathMod = { resolve(...p: string[]): string };
type Fail = (message: string) => never;

/** Node's fs and path, or a failure saying that files need Node.js (the browser has inline data only). */
function node(fail: Fail): { fs: NodeFs; path: PathMod } {
  const get = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process?.getBuiltinModule;
  if (!get) return fail('file sources need Node.js (use inline data in the browser)');
  return { fs: get('node:fs') as NodeFs, path: get('node:path') as PathMod };
}

/**
 * An open regular file: devices, pipes and directories are refused before anything is read (reading
 * /dev/zero never ends). `read` reads `length` bytes at `position`, failing if the file is shorter.
 */
function openRegular(file: string, baseDir: string | undefined, fail: Fail): { fd: Fd; size: number; read(position: number, length: number): Uint8Array; close(): void } {
  const { fs, path } = node(fail);
  let fd: Fd;
  try {
    // non-blocking: opening a FIFO for reading would otherwise wait for a writer (regular files are unaffected)
    fd = fs.openSync(path.resolve(baseDir ?? '.', file), fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    return fail(`cannot be read (${(e as Error).message})`);
  }
  const close = () => fs.closeSync(fd);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) fail('is not a regular file');
    return {
      fd,
      size: stat.size,
      read(position, length) {
        const buf = new Uint8Array(length);
        for (let got = 0; got < length; ) {
          const n = fs.readSync(fd, buf, got, length - got, position + got);
          if (n === 0) fail(`ends after ${position + got} bytes, expected ${position + length}`);
          got += n;
        }
        return buf;
      },
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/**
 * Everything readable from `fd`, failing once it passes `maxBytes` (at most maxBytes + 1 bytes are read,
 * so a file that grows, a pipe or a device cannot exhaust memory). Pipes that are not ready are waited on.
 */
function readAllBounded(fd: Fd, maxBytes: number, fail: Fail): Uint8Array {
  const { fs } = node(fail);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(Math.min(1 << 20, maxBytes + 1 - total));
    let n: number;
    try {
      n = fs.readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EAGAIN') return fail(`cannot be read (${(e as Error).message})`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a non-blocking pipe with no data yet
      continue;
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) fail(`is more than ${maxBytes} bytes`);
    chunks.push(chunk.subarray(0, n));
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const MAX_TEXT = `LIMITS.maxTextFileBytes = ${LIMITS.maxTextFileBytes}`;

/**
 * The text of a regular file of at most LIMITS.maxTextFileBytes (Node only; its size is checked before
 * anything is read). Shared by .json/.csv sources and the CLI's spec files.
 */
export function readTextFile(file: string, fail: Fail, baseDir?: string): string {
  const f = openRegular(file, baseDir, fail);
  try {
    if (f.size > LIMITS.maxTextFileBytes) fail(`is ${f.size} bytes, more than ${MAX_TEXT}`);
    return decodeText(readAllBounded(f.fd, LIMITS.maxTextFileBytes, fail), fail);
  } finally {
    f.close();
  }
}

/** The text readable from a descriptor (the CLI's stdin), at most LIMITS.maxTextFileBytes. */
export const readTextFd = (fd: number, fail: Fail): string => decodeText(readAllBounded(fd, LIMITS.maxTextFileBytes, fail), fail);

/** UTF-8 text of a file's bytes; a byte-order mark is dropped (TextDecoder's default), invalid UTF-8 is an error. */
function decodeText(bytes: Uint8Array, fail: Fail): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('is not valid UTF-8 text');
  }
}

/**
 * .json (nested rows, a batch, or {shape, data}), .csv (one row per line), .npy (float64/float32/int32/int64,
 * C order). The values pass the same checks as inline data; errors name the spec path and the file.
 */
export function readMatrixFile(file: string, path: string, ctx: SourceContext): Tensor {
  const fail: Fail = (message) => {
    throw new MatgradSpecError([{ path, message: `${file}: ${message}` }]);
  };
  const ext = (file.match(/\.[^./\\]*$/)?.[0] ?? '').toLowerCase();
  if (ext === '.npy') return readNpy(file, fail, ctx);
  if (ext !== '.json' && ext !== '.csv') return fail(`unknown file type '${ext}' (use .json, .csv or .npy)`);
  const text = readTextFile(file, fail, ctx.baseDir);
  let content: unknown;
  if (ext === '.json') {
    try {
      content = JSON.parse(text);
    } catch (e) {
      return fail(`invalid JSON (${(e as Error).message})`);
    }
  } else content = parseCsv(text, fail);
  const parsed = FileContent.safeParse(content);
  if (!parsed.success) {
    const message = (i: z.core.$ZodIssue) => (i.code === 'invalid_union' ? 'expected nested rows of numbers, a batch of them, or {"shape": [...], "data": [...]}' : zodMessage(i));
    throw new MatgradSpecError(zodIssues(parsed.error, message).map((i) => ({ path, message: `${file}: ${i.path ? `${i.path}: ` : ''}${i.message}` })));
  }
  const c = parsed.data;
  if (Array.isArray(c)) return tensor(c as number[][], { dtype: ctx.dtype });
  const data = allocArray(ctx.dtype, c.data.length);
  data.set(c.data);
  return fromArray(data, c.shape);
}

const CSV_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Rows of numbers; blank lines and lines starting with '#' are skipped; cells split on , ; or tab. */
function parseCsv(text: string, fail: Fail): number[][] {
  const rows: number[][] = [];
  let count = 0;
  let firstLine = 0;
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    const cells = line.split(/[,;\t]/).map((v) => v.trim());
    if (!rows.length) firstLine = i + 1;
    else if (cells.length !== rows[0].length) fail(`line ${i + 1} has ${cells.length} values, line ${firstLine} has ${rows[0].length}`);
    count += cells.length;
    if (count > LIMITS.maxElements) fail(`more than LIMITS.maxElements = ${LIMITS.maxElements} values`);
    rows.push(
      cells.map((v, j) => {
        // Number('') is 0 and Number('0x1f') is 31: only decimal literals are numbers here
        if (!CSV_NUMBER.test(v)) fail(`line ${i + 1}, column ${j + 1}: '${v.slice(0, 40)}' is not a number`);
        return Number(v);
      }),
    );
  });
  if (!rows.length) fail('no rows');
  return rows;
}

/** The dtypes a .npy source may hold (either byte order), by the letter and size in its descr. */
const NPY_TYPES: Record<string, { bytes: number; get(v: DataView, at: number, little: boolean): number }> = {
  f8: { bytes: 8, get: (v, at, le) => v.getFloat64(at, le) },
  f4: { bytes: 4, get: (v, at, le) => v.getFloat32(at, le) },
  i8: { bytes: 8, get: (v, at, le) => Number(v.getBigInt64(at, le)) },
  i4: { bytes: 4, get: (v, at, le) => v.getInt32(at, le) },
};
const NPY_MAX_HEADER = 65536;

/**
 * A .npy file (format versions 1–3): magic, version, header dict (descr, fortran_order, shape) and the
 * byte count are checked, and the element count against LIMITS, before the data is read.
 */
function readNpy(file: string, fail: Fail, ctx: SourceContext): Tensor {
  const f = openRegular(file, ctx.baseDir, fail);
  try {
    if (f.size < 10) fail('is not a .npy file (too short)');
    const pre = f.read(0, Math.min(12, f.size));
    if (pre[0] !== 0x93 || new TextDecoder().decode(pre.subarray(1, 6)) !== 'NUMPY') fail('is not a .npy file (no \\x93NUMPY magic)');
    const major = pre[6];
    if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${pre[7]} (1.0–3.0 are read)`);
    const lenBytes = major === 1 ? 2 : 4;
    const start = 8 + lenBytes;
    if (f.size < start) fail('is not a .npy file (too short)');
    const headerLen = new DataView(pre.buffer, 8, lenBytes)[major === 1 ? 'getUint16' : 'getUint32'](0, true);
    if (headerLen > NPY_MAX_HEADER) fail(`header of ${headerLen} bytes is longer than ${NPY_MAX_HEADER}`);
    if (start + headerLen > f.size) fail(`header of ${headerLen} bytes runs past the end of the file (${f.size} bytes)`);
    const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(f.read(start, headerLen));
    const { type, little, shape } = parseNpyHeader(header, fail);
    const limit = shapeLimitIssue(shape);
    if (limit) fail(limit);
    const count = shape.reduce((a, b) => a * b, 1);
    const expected = start + headerLen + count * type.bytes;
    if (f.size !== expected) fail(`has ${f.size} bytes, its header (shape (${shape.join(', ')}), ${count * type.bytes} data bytes) says ${expected}`);
    const body = f.read(start + headerLen, count * type.bytes);
    const view = new DataView(body.buffer);
    const values: FloatArray = allocArray(ctx.dtype, count);
    for (let i = 0; i < count; i++) {
      const x = type.get(view, i * type.bytes, little);
      // the same rule as inline data: every value finite
      if (!Number.isFinite(x)) fail(`element [${unravel(i, shape).join(', ')}]: expected a finite number, got ${x}`);
      values[i] = x;
    }
    return fromArray(values, shape);
  } finally {
    f.close();
  }
}

/** Parses the header dict `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` strictly. */
function parseNpyHeader(header: string, fail: Fail): { type: (typeof NPY_TYPES)[string]; little: boolean; shape: number[] } {
  const text = header.trim();
  const entry = (key: string, value: string) => new RegExp(`['"]${key}['"]\\s*:\\s*(${value})`).exec(text)?.[1];
  const descr = entry('descr', `'[^']*'|"[^"]*"`)?.slice(1, -1);
  const fortran = entry('fortran_order', 'True|False');
  const shapeText = entry('shape', '\\([^)]*\\)');
  if (!text.startsWith('{') || !text.endsWith('}') || descr === undefined || fortran === undefined || shapeText === undefined)
    fail(`malformed .npy header ${JSON.stringify(text.slice(0, 120))} (expected 'descr', 'fortran_order' and 'shape')`);
  const m = /^([<>|=])([fi])(\d+)$/.exec(descr!);
  const type = m && NPY_TYPES[`${m[2]}${m[3]}`];
  if (!m || !type) return fail(`unsupported dtype '${descr}' (use float64 '<f8', float32 '<f4', int32 '<i4' or int64 '<i8')`);
  if (fortran === 'True') fail('Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  const dims = shapeText!.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean);
  if (!dims.every((d) => /^\d+L?$/.test(d))) fail(`malformed shape ${shapeText}`);
  const shape = dims.map((d) => Number.parseInt(d, 10));
  if (shape.length < 2) fail(`shape (${shape.join(', ')}) has ${shape.length} dims; a matrix source needs at least 2 [..., rows, cols]`);
  if (shape.length > LIMITS.maxRank) fail(`shape has ${shape.length} dims, more than LIMITS.maxRank = ${LIMITS.maxRank}`);
  const zero = shape.indexOf(0);
  if (zero >= 0) fail(`shape (${shape.join(', ')}) has an empty dim ${zero}; a matrix source needs at least one row and column`);
  return { type, little: m[1] !== '>', shape };
}

/** The multi-index of flat position i in a row-major array of `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return out;
}
