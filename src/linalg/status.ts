// Failures of linear-algebra kernels (singular, not positive definite, complex spectrum). Inside a
// running program they show as NaN outputs; a concrete (eager) call turns the first one into an error.

export type LinalgFailure = { readonly op: string; readonly index: number };
let pending: LinalgFailure | null = null;

/** Records a kernel's return value: -1 is success, otherwise the first failing batch index. */
export function noteFailure(op: string, index: number): void {
  if (index >= 0 && pending === null) pending = { op, index };
}

/** The first failure since the last call (and clears it). */
export function takeFailure(): LinalgFailure | null {
  const f = pending;
  pending = null;
  return f;
}

export const FAILURE_REASONS: Record<string, string> = {
  solve: 'the matrix is singular',
  inv: 'the matrix is singular',
  cholesky: 'the matrix is not positive definite',
  eig: 'the matrix has complex eigenvalues (only real spectra are supported)',
  eigh: 'the input is not finite or the iteration did not converge',
  svd: 'the input is not finite or the iteration did not converge',
  qr: 'the input is not finite',
};
