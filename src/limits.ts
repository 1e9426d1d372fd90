import { MatgradShapeError } from './errors.js';

/**
 * Sizes matgrad refuses, checked where input arrives (specs, file sources, tensor creators, ops) before
 * anything is allocated, so a typo like `{ eye: 1e6 }` is an error naming the limit, not a RangeError or
 * an out-of-memory crash. Chosen so one problem (its matrices, parameters, gradients and optimizer state,
 * about ten tensors of the largest size) fits a 24 GB machine.
 */
export const LIMITS = Object.freeze({
  /** Elements in one tensor: 2^27 = 134,217,728 (1 GiB of float64). */
  maxElements: 2 ** 27,
  /** Dimensions of one tensor (NumPy's limit). */
  maxRank: 32,
  /** Bytes of a .json or .csv file source (a .npy file is bounded by maxElements through its header). */
  maxTextFileBytes: 2 ** 28,
});

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Why a shape (of non-negative integers) breaks a limit, or null when it fits. */
export function shapeLimitIssue(shape: readonly number[]): string | null {
  if (shape.length > LIMITS.maxRank) return `${shape.length} dimensions exceed LIMITS.maxRank = ${LIMITS.maxRank}`;
  const n = count(shape);
  if (n > LIMITS.maxElements) return `shape [${shape.join(', ')}] has ${n.toExponential(3)} elements, more than LIMITS.maxElements = ${LIMITS.maxElements}`;
  return null;
}

/** Throws a MatgradShapeError naming `what` when a shape breaks a limit. */
export function checkShapeLimits(what: string, shape: readonly number[]): void {
  const issue = shapeLimitIssue(shape);
  if (issue) throw new MatgradShapeError(`${what}: ${issue}`);
}
