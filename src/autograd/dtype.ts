import { MatgradDTypeError } from '../errors.js';

/** Real dtypes today; complex dtypes (interleaved re/im) extend this table with `components: 2`. */
export const DTYPES = {
  float64: { array: Float64Array, bytes: 8, components: 1 },
  float32: { array: Float32Array, bytes: 4, components: 1 },
} as const;

export type DType = keyof typeof DTYPES;
export type FloatArray = Float64Array | Float32Array;
export const DEFAULT_DTYPE: DType = 'float64';

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && x in DTYPES;
}

export function allocArray(dtype: DType, size: number): FloatArray {
  return new DTYPES[dtype].array(size);
}

export function dtypeOfArray(a: FloatArray): DType {
  return a instanceof Float32Array ? 'float32' : 'float64';
}

/** All inputs of an op must share one dtype: matgrad never promotes silently. */
export function commonDType(op: string, dtypes: DType[]): DType {
  const first = dtypes[0] ?? DEFAULT_DTYPE;
  for (const d of dtypes) {
    if (d !== first) {
      throw new MatgradDTypeError(
        `${op}: inputs have different dtypes (${dtypes.join(', ')}); cast one with .cast('${first}') or .cast('${d}')`,
      );
    }
  }
  return first;
}
