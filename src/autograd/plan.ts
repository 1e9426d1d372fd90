import type { DType, FloatArray } from './dtype.js';
import type { Attrs } from './node.js';
import type { OpName } from './ops.js';
import type { Shape } from './shape.js';

/**
 * The backend-neutral compiled step: preallocated buffers and a flat list of kernels over them.
 * Backends turn it into code (generated JS on CPU, WGSL on WebGPU); they know nothing else.
 */
export interface Plan {
  readonly buffers: readonly BufferSpec[];
  /** Buffer of each program input, in argument order. */
  readonly inputs: readonly number[];
  /** Buffer of each program output (a donated output lives in its input's buffer). */
  readonly outputs: readonly number[];
  /** Buffers of one-element inputs refilled before every step (learning rates, bias corrections). */
  readonly stepScalars: readonly number[];
  readonly constants: readonly { buffer: number; data: FloatArray }[];
  readonly kernels: readonly Kernel[];
}

export interface BufferSpec {
  readonly size: number;
  readonly dtype: DType;
}

export interface BufferRef {
  readonly buffer: number;
  readonly shape: Shape;
}

/** An operand of a fused expression: a load (index into `loads`), an earlier expression, or a number. */
export type FusedArg = { readonly load: number } | { readonly expr: number } | { readonly literal: number };

/** Elementwise chains (and full reductions of them) over one loop shape: one loop, one dispatch. */
export interface FusedKernel {
  readonly kind: 'fused';
  readonly shape: Shape;
  /** Inputs read in the loop, broadcast to `shape`. */
  readonly loads: readonly BufferRef[];
  readonly exprs: readonly {
    readonly op: OpName;
    readonly args: readonly FusedArg[];
    readonly attrs: Attrs;
  }[];
  /** Expressions written out at every loop index (buffers of size(shape)). */
  readonly stores: readonly { readonly expr: number; readonly buffer: number }[];
  /** Expressions reduced over the whole loop into one-element buffers. */
  readonly reductions: readonly {
    readonly expr: number;
    readonly reducer: 'sum' | 'max';
    readonly divisor: number;
    readonly buffer: number;
  }[];
}

/** One op as its own kernel (matmul, layout ops, partial reductions, decompositions). */
export interface OpKernel {
  readonly kind: 'op';
  readonly op: OpName;
  readonly attrs: Attrs;
  readonly ins: readonly BufferRef[];
  readonly outs: readonly BufferRef[];
}

/** Whole-buffer copy (a donated output that could not be computed in place). */
export interface CopyKernel {
  readonly kind: 'copy';
  readonly from: number;
  readonly to: number;
}

export type Kernel = FusedKernel | OpKernel | CopyKernel;
