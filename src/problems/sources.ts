import { z } from 'zod';
import * as F from '../autograd/api.js';
import type { DType } from '../autograd/dtype.js';
import { eye, random, type Tensor, tensor } from '../autograd/tensor.js';
import { MatgradSpecError } from '../errors.js';

const positiveInt = z
  .number({ error: 'expected a positive integer' })
  .int({ error: 'expected a positive integer' })
  .positive({ error: 'expected a positive integer' });
export const PositiveInt = positiveInt;

const finite = z.number({ error: 'expected a number' }).refine(Number.isFinite, { error: 'expected a finite number' });
const Row = z.array(finite, { error: 'expected an array of numbers' }).min(1, { error: 'expected at least one number' });
const Matrix = z
  .array(Row, { error: 'expected an array of rows' })
  .min(1, { error: 'expected at least one row' })
  .superRefine((rows, ctx) => {
    rows.forEach((r, i) => {
      if (r.length !== rows[0].length) {
        ctx.addIssue({ code: 'custom', path: [i], message: `row ${i} has ${r.length} values, row 0 has ${rows[0].length}` });
      }
    });
  });
const Batch = z
  .array(Matrix)
  .min(1, { error: 'expected at least one matrix' })
  .superRefine((ms, ctx) => {
    ms.forEach((m, i) => {
      if (m.length !== ms[0].length || m[0].length !== ms[0][0].length) {
        ctx.addIssue({ code: 'custom', path: [i], message: `matrix ${i} is ${m.length}×${m[0].length}, matrix 0 is ${ms[0].length}×${ms[0][0].length}` });
      }
    });
  });

/** Where a matrix comes from: inline rows (or a batch of matrices), a generator, or a file (CLI). */
export const MatrixSource = z
  .union([
    Matrix,
    Batch,
    z.object({ eye: positiveInt, batch: z.array(positiveInt).optional() }).strict(),
    z.object({ diagonal: Row, batch: z.array(positiveInt).optional() }).strict(),
    z
      .object({
        random: z
          .object({
            shape: z.array(positiveInt, { error: 'expected a list of positive integers' }).min(2, { error: 'expected at least 2 dims [..., rows, cols]' }),
            seed: z.number().int({ error: 'expected an integer' }).default(0),
            dist: z.enum(['uniform', 'normal']).default('uniform'),
            /** Added to the diagonal (conditioning), default 0. */
            shift: finite.default(0),
          })
          .strict(),
      })
      .strict(),
    z.object({ file: z.string().min(1, { error: 'expected a file path' }) }).strict(),
  ])
  .describe('A matrix: nested rows, a batch of them, {eye: n}, {diagonal: [...]}, {random: {shape, seed, dist}}, or {file} (.json, .csv, .npy)');
export type MatrixSource = z.infer<typeof MatrixSource>;

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

/** Builds the tensor a source describes. */
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
  return readMatrixFile(src.file, path, ctx);
}

type Fs = { readFileSync(p: string): Uint8Array & { toString(enc?: string): string } };
type PathMod = { resolve(...p: string[]): string; extname(p: string): string };

/** .json (nested rows or {shape, data}), .csv (one row per line), .npy (float64/float32, C order). */
export function readMatrixFile(file: string, path: string, ctx: SourceContext): Tensor {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process?.getBuiltinModule;
  if (!getBuiltin) throw new MatgradSpecError([{ path, message: 'file sources need Node.js (use inline data in the browser)' }]);
  const fs = getBuiltin('node:fs') as Fs;
  const pathMod = getBuiltin('node:path') as PathMod;
  const full = pathMod.resolve(ctx.baseDir ?? '.', file);
  const fail = (message: string): never => {
    throw new MatgradSpecError([{ path, message: `${file}: ${message}` }]);
  };
  let bytes: Uint8Array & { toString(enc?: string): string };
  try {
    bytes = fs.readFileSync(full);
  } catch (e) {
    return fail(`cannot read (${(e as Error).message})`);
  }
  const ext = pathMod.extname(file).toLowerCase();
  if (ext === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      return fail(`invalid JSON (${(e as Error).message})`);
    }
    if (data && typeof data === 'object' && !Array.isArray(data) && 'data' in data && 'shape' in data) {
      const { shape, data: flat } = data as { shape: number[]; data: number[] };
      return tensor(new Float64Array(flat), { shape, dtype: ctx.dtype });
    }
    const parsed = MatrixSource.safeParse(data);
    if (!parsed.success || !Array.isArray(parsed.data)) return fail('expected nested rows of numbers or {"shape", "data"}');
    return tensor(parsed.data as number[][], { dtype: ctx.dtype });
  }
  if (ext === '.csv') {
    const rows = bytes
      .toString('utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l, i) =>
        l.split(/[,;\t]/).map((v, j) => {
          const x = Number(v.trim());
          if (!Number.isFinite(x)) fail(`row ${i + 1}, column ${j + 1}: '${v.trim()}' is not a number`);
          return x;
        }),
      );
    if (!rows.length) fail('no rows');
    if (rows.some((r) => r.length !== rows[0].length)) fail('rows have different lengths');
    return tensor(rows, { dtype: ctx.dtype });
  }
  if (ext === '.npy') return parseNpy(bytes, fail, ctx.dtype);
  return fail(`unknown file type '${ext}' (use .json, .csv or .npy)`);
}

function parseNpy(bytes: Uint8Array, fail: (m: string) => never, dtype: DType): Tensor {
  const magic = String.fromCharCode(...bytes.slice(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') fail('not a .npy file');
  const major = bytes[6];
  const headerLen = major === 1 ? bytes[8] | (bytes[9] << 8) : bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.slice(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (fortran) fail('Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  const offset = start + headerLen;
  const body = bytes.slice(offset);
  let values: Float64Array | Float32Array;
  if (descr === '<f8') values = new Float64Array(body.buffer, body.byteOffset, body.byteLength / 8);
  else if (descr === '<f4') values = new Float32Array(body.buffer, body.byteOffset, body.byteLength / 4);
  else return fail(`unsupported dtype '${descr}' (use float64 '<f8' or float32 '<f4')`);
  const out = dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
  return tensor(out, { shape, dtype });
}
