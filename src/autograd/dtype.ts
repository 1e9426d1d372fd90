import { MatgradDTypeError } from '../errors.js';

/** The real dtypes: every graph tensor has one (complex tensors travel as real views, see below). */
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

/**
 * Complex dtypes: interleaved (re, im) storage, i.e. a complex tensor of shape S is held as a real
 * tensor of shape [...S, 2] of its `real` dtype (torch.view_as_real). Graphs, compilers and backends
 * only ever see that real view (src/autograd/complex.ts).
 */
export const COMPLEX_DTYPES = {
  complex64: { real: 'float32', components: 2 },
  complex128: { real: 'float64', components: 2 },
} as const satisfies Record<string, { real: DType; components: 2 }>;

export type ComplexDType = keyof typeof COMPLEX_DTYPES;
export const complexDTypeOf = (real: DType): ComplexDType => (real === 'float32' ? 'complex64' : 'complex128');
export const isComplexDType = (x: unknown): x is ComplexDType => typeof x === 'string' && x in COMPLEX_DTYPES;
