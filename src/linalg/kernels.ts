// Pure numerical CPU kernels for matgrad's batched dense linear algebra.
//
// Conventions shared by every routine:
// - Matrices are row-major and contiguous, `batch` of them back to back; outputs are preallocated by
//   the caller and may be Float64Array or Float32Array (inputs likewise).
// - All arithmetic is float64 (float32 inputs are widened, results rounded on the final write).
// - Return value: -1 on success, else the index of the FIRST batch item that failed (singular, not
//   positive definite, complex spectrum, non-finite input or no convergence). A failed item's outputs
//   are filled with NaN; the other items are still computed. det/slogdet never fail.
// - No allocation on repeated calls with the same sizes (grow-only module-level scratch), and results
//   are deterministic (same input -> bit-identical output).
//
// See each routine for its triangle and sign conventions:
// - eigh reads the LOWER triangle (torch UPLO='L'); eigenvalues ascending; eigenvectors in columns.
// - eigh and eig make the largest-magnitude component of each eigenvector positive (first on ties).
// - qr makes diag(R) >= 0.
// - svd's singular vectors have no canonical sign.
export type { FloatArray } from './kernels/common.js';
export { cholesky } from './kernels/cholesky.js';
export { EIG_IMAG_TOL, eig } from './kernels/eig.js';
export { EIGH_JACOBI_MAX_N, eigh } from './kernels/eigh.js';
export { det, inv, slogdet, solve } from './kernels/lu.js';
export { qr } from './kernels/qr.js';
export { svd } from './kernels/svd.js';
