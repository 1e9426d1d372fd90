/** Base class: every error matgrad throws on purpose is one of these. */
export class MatgradError extends Error {
  override name = 'MatgradError';
}
/** Shapes that do not fit an op; the message names the op and the shapes. */
export class MatgradShapeError extends MatgradError {
  override name = 'MatgradShapeError';
}
/** Mixed or unsupported dtypes; the message names the op and the dtypes. */
export class MatgradDTypeError extends MatgradError {
  override name = 'MatgradDTypeError';
}
/** A concrete linear-algebra call on a singular / non-positive-definite input. */
export class MatgradLinalgError extends MatgradError {
  override name = 'MatgradLinalgError';
  constructor(
    readonly op: string,
    readonly batchIndex: number,
    reason: string,
  ) {
    super(`${op}: ${reason} (batch index ${batchIndex})`);
  }
}
/** A problem spec that failed validation; `issues` lists every problem with its path. */
export class MatgradSpecError extends MatgradError {
  override name = 'MatgradSpecError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid problem spec:\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}
