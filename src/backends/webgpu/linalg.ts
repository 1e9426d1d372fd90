/**
 * WGSL forward kernels of the linear-algebra ops (float32), batched: ONE invocation per matrix, the
 * working copies in private (function-scope) arrays whose sizes are baked in. That is fine for the
 * small matrices matgrad batches (n ≤ 32); larger matrices are refused at compile time with a clear
 * error (run them on the CPU backend). Conventions follow the CPU kernels (src/linalg/kernels):
 *
 * - eigh: cyclic Jacobi on the symmetric matrix read from the LOWER triangle; eigenvalues ascending,
 *   eigenvectors in columns, largest-|.| component of each positive (the first one on ties).
 * - svd: one-sided (Hestenes) Jacobi, reduced, singular values descending; columns whose singular
 *   value is zero are completed to an orthonormal basis (Gram–Schmidt on the best unit vector).
 * - solve / inv / det / slogdet: LU with partial pivoting (an exact zero pivot: solve and inv fail,
 *   det is 0, slogdet is (0, −∞)).
 * - cholesky: lower factor from the lower triangle (a pivot ≤ 0 fails).
 * - qr: Householder, reduced, diag(R) ≥ 0.
 * - eig (real spectra): Householder Hessenberg reduction, Francis double-shift QR to real Schur form,
 *   back-substitution; values ascending, vectors as eigh's. A complex pair (|imag| above
 *   WEBGPU_EIG_IMAG_TOL·‖A‖_F, looser than the CPU's float64 tolerance) fails.
 * - Failures (non-finite input, singular, not positive definite, complex spectrum, QR not converging;
 *   Jacobi's sweep limit is not a failure) fill the item's outputs with NaN, like the CPU kernels.
 *
 * Bodies never `return` (in the single-workgroup form they run inside a loop over invocations), and
 * never rely on the zero-initialization of private arrays: in that form they are declared inside the
 * loops over steps and invocations, and SwiftShader keeps their values from the previous iteration
 * (every array is written in full before it is read).
 */
import { sizeOf } from '../../autograd/shape.js';
import { MatgradError } from '../../errors.js';
import type { ArenaRef, WgslKernel, WgslKernelArgs } from './wgsl.js';

/** Largest matrix dimension the WGSL decompositions accept (one invocation per matrix). */
export const WEBGPU_LINALG_MAX_N = 32;
/** Jacobi sweeps before eigh/svd stop (converged long before for n ≤ 32 in float32). */
export const MAX_SWEEPS = 40;
/** float32 machine epsilon (2^-23). */
export const EPS = '1.1920929e-7f';

export const U = (v: number) => `${v}u`;
/** Size of a private array: WGSL has no zero-length arrays. */
export const len = (v: number) => Math.max(1, v);
export const finite = (x: string) => `((bitcast<u32>(${x}) & 0x7f800000u) != 0x7f800000u)`;
export const isNan = (x: string) => `((bitcast<u32>(${x}) & 0x7fffffffu) > 0x7f800000u)`;

function matrix(op: string, x: ArenaRef, square: boolean): { batch: number; m: number; n: number } {
  const [m, n] = x.shape.slice(-2);
  if ((square && m !== n) || m > WEBGPU_LINALG_MAX_N || n > WEBGPU_LINALG_MAX_N) {
    throw new MatgradError(
      `WebGPU: linalg.${op} runs matrices up to ${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N} (one invocation per matrix), got [${x.shape.join(', ')}]; run this program on the CPU backend`,
    );
  }
  return { batch: sizeOf(x.shape.slice(0, -2)), m, n };
}

/** Loop `for (var v = from; v < to; v++)` with baked bounds (strings allowed for `from`). */
export const loop = (v: string, from: string | number, to: string | number, body: string) =>
  `for (var ${v} = ${typeof from === 'number' ? U(from) : from}; ${v} < ${typeof to === 'number' ? U(to) : to}; ${v}++) {\n${body}}\n`;

/** Fills `count` arena elements from `base` with NaN. */
export const fillNan = (base: string, count: number) => (count > 0 ? loop('z', 0, count, `A[${base} + z] = NAN_F;\n`) : '');

/**
 * Loads the `rows`×`cols` matrix at arena index `base` into private `w` (row-major), noting non-finite
 * entries in `bad` and the largest magnitude in `mx`; then `sc` is a power of two bringing `mx` into
 * [0.5, 1) (exact scaling: no overflow or underflow in the squares that follow) and w is scaled.
 */
function loadScaled(base: string, rows: number, cols: number, lowerSym = false): string {
  let s = `var mx = 0.0f;\nvar bad = false;\n`;
    const read = lowerSym
    ? `let x = A[${base} + r * ${U(cols)} + c];\nw[r * ${U(cols)} + c] = x;\nw[c * ${U(cols)} + r] = x;\n`
    : `let x = A[${base} + r * ${U(cols)} + c];\nw[r * ${U(cols)} + c] = x;\n`;
  s += loop(
    'r',
    0,
    rows,
    loop('c', 0, lowerSym ? 'r + 1u' : cols, `${read}if (!${finite('x')}) { bad = true; }\nmx = max(mx, abs(x));\n`),
  );
  s += `var sc = 1.0f;\nif (!bad && mx > 0.0f) { sc = ldexp(1.0f, -frexp(mx).exp); }\n`;
  s += loop('z', 0, rows * cols, 'w[z] = w[z] * sc;\n');
  return s;
}

/**
 * Cyclic Jacobi rotation (p, q) of the symmetric 2×2 [[app, apq], [apq, aqq]]: `t` = tan φ (the smaller
 * root), `cs`, `sn`; skipped (`continue`) when apq is negligible (relative to the diagonal or `tol`).
 */
const rotation = (app: string, aqq: string, apq: string) => `let aa = abs(${apq});
if (aa <= tol || aa <= ${EPS} * sqrt(abs(${app})) * sqrt(abs(${aqq}))) { continue; }
rotated = true;
let x = ${aqq} - ${app};
let y = 2.0f * ${apq};
let rr = sqrt(x * x + y * y);
let uu = abs(x) + rr;
let t = select(y, -y, x < 0.0f) / uu;
let cs = sqrt(uu / (2.0f * rr));
let sn = t * cs;
`;

/** Stable insertion sort of `perm` (0..n-1) by `key(k)` (ascending, or descending). */
export function sortPerm(n: number, key: (k: string) => string, descending: boolean): string {
  const before = descending ? '<' : '>';
  return `var perm: array<u32, ${len(n)}>;
${loop('k', 0, n, 'perm[k] = k;\n')}${loop(
    'k',
    1,
    n,
    `let pk = perm[k];
let kv = ${key('pk')};
var j = i32(k) - 1;
loop {
  if (j < 0) { break; }
  if (!(${key('perm[u32(j)]')} ${before} kv)) { break; }
  perm[u32(j + 1)] = perm[u32(j)];
  j--;
}
perm[u32(j + 1)] = pk;
`,
  )}`;
}

// ---- eigh ------------------------------------------------------------------------------------------

function eighWgsl({ ins: [a], outs: [vals, vecs] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = matrix('eigh', a, true);
  const nn = n * n;
  let s = `let ia = ${U(a.offset)} + i * ${U(nn)};
let il = ${U(vals.offset)} + i * ${U(n)};
let iv = ${U(vecs.offset)} + i * ${U(nn)};
var w: array<f32, ${len(nn)}>;
var v: array<f32, ${len(nn)}>;
`;
  s += loadScaled('ia', n, n, true);
  s += `if (bad) {\n${fillNan('il', n)}${fillNan('iv', nn)}} else {\n`;
  s += `var fro = 0.0f;\n${loop('z', 0, nn, 'fro += w[z] * w[z];\n')}`;
  s += loop('z', 0, nn, `v[z] = select(0.0f, 1.0f, z % ${U(n + 1)} == 0u);\n`);
  s += `let tol = ${EPS} * sqrt(fro) / ${n}.0f;\n`;
  const rot = `${rotation(`w[p * ${U(n + 1)}]`, `w[q * ${U(n + 1)}]`, `w[p * ${U(n)} + q]`)}let apq = w[p * ${U(n)} + q];
w[p * ${U(n + 1)}] -= t * apq;
w[q * ${U(n + 1)}] += t * apq;
w[p * ${U(n)} + q] = 0.0f;
w[q * ${U(n)} + p] = 0.0f;
${loop(
  'r',
  0,
  n,
  `if (r != p && r != q) {
  let arp = w[r * ${U(n)} + p];
  let arq = w[r * ${U(n)} + q];
  let np = cs * arp - sn * arq;
  let nq = sn * arp + cs * arq;
  w[r * ${U(n)} + p] = np;
  w[p * ${U(n)} + r] = np;
  w[r * ${U(n)} + q] = nq;
  w[q * ${U(n)} + r] = nq;
}
let vp = v[r * ${U(n)} + p];
let vq = v[r * ${U(n)} + q];
v[r * ${U(n)} + p] = cs * vp - sn * vq;
v[r * ${U(n)} + q] = sn * vp + cs * vq;
`,
)}`;
  s += loop(
    'sweep',
    0,
    MAX_SWEEPS,
    `var rotated = false;\n${loop('p', 0, Math.max(0, n - 1), loop('q', 'p + 1u', n, rot))}if (!rotated) { break; }\n`,
  );
  s += sortPerm(n, (k) => `w[${k} * ${U(n + 1)}]`, false);
  s += loop(
    'k',
    0,
    n,
    `let src = perm[k];
A[il + k] = w[src * ${U(n + 1)}] / sc;
var best = 0.0f;
var neg = false;
${loop('r', 0, n, `let x = v[r * ${U(n)} + src];\nif (abs(x) > best) { best = abs(x); neg = x < 0.0f; }\n`)}let f = select(1.0f, -1.0f, neg);
${loop('r', 0, n, `A[iv + r * ${U(n)} + k] = f * v[r * ${U(n)} + src];\n`)}`,
  );
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 8 };
}

// ---- svd -------------------------------------------------------------------------------------------

function svdWgsl({ ins: [a], outs: [u, sv, vh] }: WgslKernelArgs): WgslKernel {
  const { batch, m, n } = matrix('svd', a, false);
  const tall = m >= n;
  // columns of G (R long, C of them): A's columns (tall) or Aᵀ's (wide); V is C×C, columns contiguous
  const R = tall ? m : n;
  const C = tall ? n : m;
  const k = C;
  let s = `let ia = ${U(a.offset)} + i * ${U(m * n)};
let iu = ${U(u.offset)} + i * ${U(m * k)};
let isg = ${U(sv.offset)} + i * ${U(k)};
let ivh = ${U(vh.offset)} + i * ${U(k * n)};
var w: array<f32, ${len(m * n)}>;
`;
  s += loadScaled('ia', m, n);
  s += `if (bad) {\n${fillNan('iu', m * k)}${fillNan('isg', k)}${fillNan('ivh', k * n)}} else {\n`;
  s += `var g: array<f32, ${len(R * C)}>;\nvar v: array<f32, ${len(C * C)}>;\n`;
  s += loop('r', 0, m, loop('c', 0, n, `g[${tall ? `c * ${U(R)} + r` : `r * ${U(R)} + c`}] = w[r * ${U(n)} + c];\n`));
  s += loop('z', 0, C * C, `v[z] = select(0.0f, 1.0f, z % ${U(C + 1)} == 0u);\n`);
  s += 'let tol = 0.0f;\n';
  const dot = (x: string, y: string, name: string) =>
    `var ${name} = 0.0f;\n${loop('r', 0, R, `${name} += g[${x} * ${U(R)} + r] * g[${y} * ${U(R)} + r];\n`)}`;
  const rot = `${dot('p', 'p', 'al')}${dot('q', 'q', 'be')}${dot('p', 'q', 'ga')}if (ga == 0.0f) { continue; }
${rotation('al', 'be', 'ga')}${loop(
    'r',
    0,
    R,
    `let gp = g[p * ${U(R)} + r];\nlet gq = g[q * ${U(R)} + r];\ng[p * ${U(R)} + r] = cs * gp - sn * gq;\ng[q * ${U(R)} + r] = sn * gp + cs * gq;\n`,
  )}${loop(
    'r',
    0,
    C,
    `let vp = v[p * ${U(C)} + r];\nlet vq = v[q * ${U(C)} + r];\nv[p * ${U(C)} + r] = cs * vp - sn * vq;\nv[q * ${U(C)} + r] = sn * vp + cs * vq;\n`,
  )}`;
  s += loop(
    'sweep',
    0,
    MAX_SWEEPS,
    `var rotated = false;\n${loop('p', 0, Math.max(0, C - 1), loop('q', 'p + 1u', C, rot))}if (!rotated) { break; }\n`,
  );
  // singular values, then the order, then unit columns (zero ones completed to an orthonormal basis)
  s += `var sig: array<f32, ${len(C)}>;\nvar smax = 0.0f;\n`;
  s += loop('c', 0, C, `${dot('c', 'c', 'nc')}sig[c] = sqrt(nc);\nsmax = max(smax, sig[c]);\n`);
  s += sortPerm(C, (kk) => `sig[${kk}]`, true);
  s += `let tiny = smax * 1e-20f;\n`;
  const proj = (e: string) => `var res = 1.0f;\n${loop('k2', 0, 'k', `let x = g[perm[k2] * ${U(R)} + ${e}];\nres -= x * x;\n`)}`;
  s += loop(
    'k',
    0,
    C,
    `let j = perm[k];
if (sig[j] > tiny) {
  let inv = 1.0f / sig[j];
${loop('r', 0, R, `g[j * ${U(R)} + r] *= inv;\n`)}} else {
  sig[j] = 0.0f;
  // the unit vector least inside the span of the columns before: 1 − Σ u[e]² is its residual²
  var be = 0u;
  var br = -1.0f;
${loop('e', 0, R, `${proj('e')}if (res > br) { br = res; be = e; }\n`)}${loop('r', 0, R, `g[j * ${U(R)} + r] = select(0.0f, 1.0f, r == be);\n`)}${loop(
      'gs',
      0,
      2,
      loop('k2', 0, 'k', `let j2 = perm[k2];\n${dot('j2', 'j', 'd')}${loop('r', 0, R, `g[j * ${U(R)} + r] -= d * g[j2 * ${U(R)} + r];\n`)}`),
    )}${dot('j', 'j', 'nn')}let inv = 1.0f / sqrt(nn);
${loop('r', 0, R, `g[j * ${U(R)} + r] *= inv;\n`)}}
`,
  );
  s += loop('k', 0, k, `let j = perm[k];\nA[isg + k] = sig[j] / sc;\n`);
  if (tall) {
    // U[r, k] = g[j, r]; Vh[k, c] = v[j, c]
    s += loop('k', 0, k, `let j = perm[k];\n${loop('r', 0, m, `A[iu + r * ${U(k)} + k] = g[j * ${U(R)} + r];\n`)}${loop('c', 0, n, `A[ivh + k * ${U(n)} + c] = v[j * ${U(C)} + c];\n`)}`);
  } else {
    // A = V′ Σ U′ᵀ with Aᵀ = U′ Σ V′ᵀ: U[r, k] = v[j, r]; Vh[k, c] = g[j, c]
    s += loop('k', 0, k, `let j = perm[k];\n${loop('r', 0, m, `A[iu + r * ${U(k)} + k] = v[j * ${U(C)} + r];\n`)}${loop('c', 0, n, `A[ivh + k * ${U(n)} + c] = g[j * ${U(R)} + c];\n`)}`);
  }
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, R) * Math.max(1, C) ** 2 * 8 };
}

// ---- LU: solve, inv, det, slogdet ------------------------------------------------------------------

/** Loads the n×n matrix at `base` into `w` and factors P·A = L·U in place (`piv`, `sgn`, `sing`, `bad`, `nan`). */
function luFactor(base: string, n: number): string {
  return `var w: array<f32, ${len(n * n)}>;
var piv: array<u32, ${len(n)}>;
var bad = false;
var hasnan = false;
${loop('z', 0, n * n, `let x = A[${base} + z];\nw[z] = x;\nif (!${finite('x')}) { bad = true; }\nif (${isNan('x')}) { hasnan = true; }\n`)}var sgn = 1.0f;
var sing = false;
${loop(
  'k',
  0,
  n,
  `var p = k;
var mx = abs(w[k * ${U(n + 1)}]);
${loop('r', 'k + 1u', n, `let x = abs(w[r * ${U(n)} + k]);\nif (x > mx) { mx = x; p = r; }\n`)}piv[k] = p;
if (p != k) {
  sgn = -sgn;
${loop('c', 0, n, `  let tmp = w[k * ${U(n)} + c];\n  w[k * ${U(n)} + c] = w[p * ${U(n)} + c];\n  w[p * ${U(n)} + c] = tmp;\n`)}}
let pv = w[k * ${U(n + 1)}];
if (pv == 0.0f) { sing = true; continue; }
${loop('r', 'k + 1u', n, `let l = w[r * ${U(n)} + k] / pv;\nw[r * ${U(n)} + k] = l;\n${loop('c', 'k + 1u', n, `w[r * ${U(n)} + c] -= l * w[k * ${U(n)} + c];\n`)}`)}`,
)}`;
}

/**
 * Solves L·U·x = P·b for one right-hand side held in `y` (n long), in place: apply the interchanges,
 * forward substitution with unit L, back substitution with U.
 */
const luSolveColumn = (n: number) => `${loop('k', 0, n, `let p = piv[k];\nif (p != k) { let tmp = y[k]; y[k] = y[p]; y[p] = tmp; }\n`)}${loop(
  'r',
  1,
  n,
  loop('c', 0, 'r', `y[r] -= w[r * ${U(n)} + c] * y[c];\n`),
)}for (var r = ${n - 1}i; r >= 0; r--) {
  let ru = u32(r);
${loop('c', 'ru + 1u', n, `  y[ru] -= w[ru * ${U(n)} + c] * y[c];\n`)}  y[ru] = y[ru] / w[ru * ${U(n + 1)}];
}
`;

function solveWgsl({ ins: [a, b], outs: [x] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = matrix('solve', a, true);
  const r = b.shape[b.shape.length - 1];
  let s = `let ia = ${U(a.offset)} + i * ${U(n * n)};\nlet ib = ${U(b.offset)} + i * ${U(n * r)};\nlet ix = ${U(x.offset)} + i * ${U(n * r)};\n`;
  s += luFactor('ia', n);
  s += `if (bad || sing) {\n${fillNan('ix', n * r)}} else {\nvar y: array<f32, ${len(n)}>;\n`;
  s += loop(
    'col',
    0,
    r,
    `${loop('k', 0, n, `y[k] = A[ib + k * ${U(r)} + col];\n`)}${luSolveColumn(n)}${loop('k', 0, n, `A[ix + k * ${U(r)} + col] = y[k];\n`)}`,
  );
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 2 * (n + r) };
}

function invWgsl({ ins: [a], outs: [x] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = matrix('inv', a, true);
  let s = `let ia = ${U(a.offset)} + i * ${U(n * n)};\nlet ix = ${U(x.offset)} + i * ${U(n * n)};\n`;
  s += luFactor('ia', n);
  s += `var over = bad || sing;\nif (!over) {\nvar y: array<f32, ${len(n)}>;\n`;
  s += loop(
    'col',
    0,
    n,
    `${loop('k', 0, n, 'y[k] = select(0.0f, 1.0f, k == col);\n')}${luSolveColumn(n)}${loop('k', 0, n, `if (!${finite('y[k]')}) { over = true; }\nA[ix + k * ${U(n)} + col] = y[k];\n`)}`,
  );
  s += `}\nif (over) {\n${fillNan('ix', n * n)}}\n`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 2 };
}

function detWgsl({ ins: [a], outs: [d] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = matrix('det', a, true);
  let s = `let ia = ${U(a.offset)} + i * ${U(n * n)};\n`;
  s += luFactor('ia', n);
  s += `var dv = sgn;\n${loop('k', 0, n, `dv *= w[k * ${U(n + 1)}];\n`)}if (sing) { dv = 0.0f; }\nif (hasnan) { dv = NAN_F; }\n`;
  s += `A[${U(d.offset)} + i] = dv;\n`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 };
}

function slogdetWgsl({ ins: [a], outs: [sg, la] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = matrix('slogdet', a, true);
  let s = `let ia = ${U(a.offset)} + i * ${U(n * n)};\n`;
  s += luFactor('ia', n);
  s += `var sv = sgn;\nvar lv = 0.0f;\n${loop('k', 0, n, `let x = w[k * ${U(n + 1)}];\nif (x < 0.0f) { sv = -sv; }\nlv += log(abs(x));\n`)}`;
  s += `if (sing) { sv = 0.0f; lv = -INF_F; }\nif (hasnan) { sv = NAN_F; lv = NAN_F; }\n`;
  s += `A[${U(sg.offset)} + i] = sv;\nA[${U(la.offset)} + i] = lv;\n`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 };
}

// ---- cholesky --------------------------------------------------------------------------------------

function choleskyWgsl({ ins: [a], outs: [l] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = matrix('cholesky', a, true);
  const nn = n * n;
  let s = `let ia = ${U(a.offset)} + i * ${U(nn)};\nlet il = ${U(l.offset)} + i * ${U(nn)};\nvar w: array<f32, ${len(nn)}>;\nvar ok = true;\n`;
  s += loop(
    'j',
    0,
    n,
    `if (!ok) { break; }
var d = A[ia + j * ${U(n + 1)}];
${loop('k', 0, 'j', `d -= w[j * ${U(n)} + k] * w[j * ${U(n)} + k];\n`)}if (!(d > 0.0f) || !${finite('d')}) { ok = false; break; }
let ljj = sqrt(d);
w[j * ${U(n + 1)}] = ljj;
${loop('r', 'j + 1u', n, `var x = A[ia + r * ${U(n)} + j];\n${loop('k', 0, 'j', `x -= w[r * ${U(n)} + k] * w[j * ${U(n)} + k];\n`)}w[r * ${U(n)} + j] = x / ljj;\n`)}`,
  );
  s += `if (ok) {\n${loop('r', 0, n, loop('c', 0, n, `A[il + r * ${U(n)} + c] = select(0.0f, w[r * ${U(n)} + c], c <= r);\n`))}} else {\n${fillNan('il', nn)}}\n`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 };
}

// ---- qr --------------------------------------------------------------------------------------------

function qrWgsl({ ins: [a], outs: [q, r] }: WgslKernelArgs): WgslKernel {
  const { batch, m, n } = matrix('qr', a, false);
  const k = Math.min(m, n);
  let s = `let ia = ${U(a.offset)} + i * ${U(m * n)};\nlet iq = ${U(q.offset)} + i * ${U(m * k)};\nlet ir = ${U(r.offset)} + i * ${U(k * n)};\nvar w: array<f32, ${len(m * n)}>;\n`;
  s += loadScaled('ia', m, n);
  s += `if (bad) {\n${fillNan('iq', m * k)}${fillNan('ir', k * n)}} else {\n`;
  s += `var tau: array<f32, ${len(k)}>;\nvar sv: array<f32, ${len(Math.max(n, k))}>;\nvar qq: array<f32, ${len(m * k)}>;\n`;
  const W = (row: string, col: string) => `w[${row} * ${U(n)} + ${col}]`;
  // Householder: R on and above the diagonal of w, reflectors (implicit leading 1) below it
  s += loop(
    'j',
    0,
    k,
    `let x0 = ${W('j', 'j')};
var sigma = 0.0f;
${loop('rr', 'j + 1u', m, `let x = ${W('rr', 'j')};\nsigma += x * x;\n`)}if (sigma == 0.0f) { tau[j] = 0.0f; continue; }
let nrm = sqrt(x0 * x0 + sigma);
let beta = select(nrm, -nrm, x0 > 0.0f);
let inv = 1.0f / (x0 - beta);
${loop('rr', 'j + 1u', m, `${W('rr', 'j')} *= inv;\n`)}let tj = (beta - x0) / beta;
tau[j] = tj;
${W('j', 'j')} = beta;
${loop('c', 'j + 1u', n, `sv[c] = ${W('j', 'c')};\n`)}${loop('rr', 'j + 1u', m, `let vi = ${W('rr', 'j')};\n${loop('c', 'j + 1u', n, `sv[c] += vi * ${W('rr', 'c')};\n`)}`)}${loop(
      'c',
      'j + 1u',
      n,
      `sv[c] *= tj;\n${W('j', 'c')} -= sv[c];\n`,
    )}${loop('rr', 'j + 1u', m, `let vi = ${W('rr', 'j')};\n${loop('c', 'j + 1u', n, `${W('rr', 'c')} -= vi * sv[c];\n`)}`)}`,
  );
  // Q = H_0 ⋯ H_{k−1} applied to the first k columns of the identity (backward accumulation)
  const Q = (row: string, col: string) => `qq[${row} * ${U(k)} + ${col}]`;
  s += loop('z', 0, m * k, `qq[z] = select(0.0f, 1.0f, z % ${U(k + 1)} == 0u && z < ${U(k * k)});\n`);
  s += `for (var jj = ${k - 1}i; jj >= 0; jj--) {
let j = u32(jj);
let tj = tau[j];
if (tj == 0.0f) { continue; }
${loop('c', 'j', k, `sv[c] = ${Q('j', 'c')};\n`)}${loop('rr', 'j + 1u', m, `let vi = ${W('rr', 'j')};\n${loop('c', 'j', k, `sv[c] += vi * ${Q('rr', 'c')};\n`)}`)}${loop(
    'c',
    'j',
    k,
    `sv[c] *= tj;\n${Q('j', 'c')} -= sv[c];\n`,
  )}${loop('rr', 'j + 1u', m, `let vi = ${W('rr', 'j')};\n${loop('c', 'j', k, `${Q('rr', 'c')} -= vi * sv[c];\n`)}`)}}
`;
  // diag(R) ≥ 0: negate a row of R and the column of Q where needed
  s += loop(
    'j',
    0,
    k,
    `let f = select(1.0f, -1.0f, ${W('j', 'j')} < 0.0f);
${loop('c', 0, n, `A[ir + j * ${U(n)} + c] = select(0.0f, f * ${W('j', 'c')} / sc, c >= j);\n`)}${loop('rr', 0, m, `A[iq + rr * ${U(k)} + j] = f * ${Q('rr', 'j')};\n`)}`,
  );
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, m) * Math.max(1, n) * Math.max(1, k) * 2 };
}


// ---- eig (real spectra) ----------------------------------------------------------------------------

/**
 * An imaginary part up to this times ‖A‖_F counts as rounding (a double real eigenvalue); beyond it the
 * item has a complex pair and fails. float32 splits a double eigenvalue by about sqrt(eps)·‖A‖ (3.5e-4).
 */
export const WEBGPU_EIG_IMAG_TOL = 1e-3;
const EIG_MAX_ITER_PER_EIGENVALUE = 40;

/**
 * Householder reflector I − τ·w·wᵀ, w = (1, v1[, v2]), on indices k..k+1 (or k+2): from the left on
 * columns c0..n−1 of h, from the right on rows 0..r1 of h and on every row of z.
 */
function reflector(n: number, three: boolean, k: string, tau: string, v1: string, v2: string, c0: string, r1: string) {
  const N = U(n);
  const rows = (arr: string, idx: (o: number) => string) => {
    const terms = three ? `${arr}[${idx(0)}] + ${v1} * ${arr}[${idx(1)}] + ${v2} * ${arr}[${idx(2)}]` : `${arr}[${idx(0)}] + ${v1} * ${arr}[${idx(1)}]`;
    let s = `let sr = ${tau} * (${terms});\n${arr}[${idx(0)}] -= sr;\n${arr}[${idx(1)}] -= sr * ${v1};\n`;
    if (three) s += `${arr}[${idx(2)}] -= sr * ${v2};\n`;
    return s;
  };
  return `${loop('c', c0, N, rows('h', (o) => `(${k} + ${o}u) * ${N} + c`))}for (var r = 0u; r <= ${r1}; r++) {\n${rows('h', (o) => `r * ${N} + ${k} + ${o}u`)}}\n${loop(
    'r',
    0,
    n,
    rows('z', (o) => `r * ${N} + ${k} + ${o}u`),
  )}`;
}

function eigWgsl({ ins: [a], outs: [vals, vecs] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = matrix('eig', a, true);
  const nn = n * n;
  const N = U(n);
  const H = (r: string, c: string) => `h[(${r}) * ${N} + ${c}]`;
  let s = `let ia = ${U(a.offset)} + i * ${U(nn)};
let il = ${U(vals.offset)} + i * ${N};
let iv = ${U(vecs.offset)} + i * ${U(nn)};
var h: array<f32, ${len(nn)}>;
var z: array<f32, ${len(nn)}>;
var hv: array<f32, ${len(n)}>;
var mx = 0.0f;
var bad = false;
${loop('q', 0, nn, `let x = A[ia + q];\nh[q] = x;\nif (!${finite('x')}) { bad = true; }\nmx = max(mx, abs(x));\nz[q] = select(0.0f, 1.0f, q % ${U(n + 1)} == 0u);\n`)}var sc = 1.0f;
if (!bad && mx > 0.0f) { sc = ldexp(1.0f, -frexp(mx).exp); }
var fro = 0.0f;
${loop('q', 0, nn, 'h[q] = h[q] * sc;\nfro += h[q] * h[q];\n')}let imagTol = ${WEBGPU_EIG_IMAG_TOL}f * sqrt(fro);
var status = select(0u, 3u, bad);
`;
  // Householder reduction to upper Hessenberg form H = Zᵀ·A·Z
  s += `if (status == 0u) {\nfor (var k = 0u; k + 2u < ${N}; k++) {
let x0 = ${H('k + 1u', 'k')};
var sigma = 0.0f;
${loop('r', 'k + 2u', N, `let t = ${H('r', 'k')};\nsigma += t * t;\n`)}if (sigma == 0.0f) { continue; }
let nrm = sqrt(x0 * x0 + sigma);
let alpha = select(nrm, -nrm, x0 > 0.0f);
let inv = 1.0f / (x0 - alpha);
hv[k + 1u] = 1.0f;
${loop('r', 'k + 2u', N, `hv[r] = ${H('r', 'k')} * inv;\n${H('r', 'k')} = 0.0f;\n`)}let tau = (alpha - x0) / alpha;
${H('k + 1u', 'k')} = alpha;
${loop('c', 'k + 1u', N, `var acc = 0.0f;\n${loop('r', 'k + 1u', N, `acc += hv[r] * ${H('r', 'c')};\n`)}acc *= tau;\n${loop('r', 'k + 1u', N, `${H('r', 'c')} -= acc * hv[r];\n`)}`)}${loop(
    'r',
    0,
    n,
    `var acc = 0.0f;\nvar accz = 0.0f;\n${loop('j', 'k + 1u', N, `acc += ${H('r', 'j')} * hv[j];\naccz += z[r * ${N} + j] * hv[j];\n`)}acc *= tau;\naccz *= tau;\n${loop('j', 'k + 1u', N, `${H('r', 'j')} -= acc * hv[j];\nz[r * ${N} + j] -= accz * hv[j];\n`)}`,
  )}}\n`;
  // Francis double-shift QR to real Schur form (every eigenvalue real: upper triangular)
  const split = `let p = uhi - 1u;
let q = uhi;
let a0 = ${H('p', 'p')};
let b0 = ${H('p', 'q')};
let c0 = ${H('q', 'p')};
let d0 = ${H('q', 'q')};
if (c0 != 0.0f) {
  let half = 0.5f * (a0 - d0);
  var disc = half * half + b0 * c0;
  if (disc < 0.0f) {
    if (sqrt(-disc) > imagTol) { status = 1u; break; }
    disc = 0.0f;
  }
  let sq = sqrt(disc);
  let mu = select(half - sq, half + sq, half >= 0.0f);
  let nv = sqrt(mu * mu + c0 * c0);
  let cs = mu / nv;
  let sn = c0 / nv;
${loop('c', 'p', N, `  let u0 = ${H('p', 'c')};\n  let v0 = ${H('q', 'c')};\n  ${H('p', 'c')} = cs * u0 + sn * v0;\n  ${H('q', 'c')} = cs * v0 - sn * u0;\n`)}  for (var r = 0u; r <= q; r++) {
    let u0 = ${H('r', 'p')};
    let v0 = ${H('r', 'q')};
    ${H('r', 'p')} = cs * u0 + sn * v0;
    ${H('r', 'q')} = cs * v0 - sn * u0;
  }
${loop('r', 0, n, `  let u0 = z[r * ${N} + p];\n  let v0 = z[r * ${N} + q];\n  z[r * ${N} + p] = cs * u0 + sn * v0;\n  z[r * ${N} + q] = cs * v0 - sn * u0;\n`)}  ${H('q', 'p')} = 0.0f;
}
`;
  s += `var norm = 0.0f;
${loop('r', 0, n, loop('c', 'select(0u, r - 1u, r > 0u)', N, `norm += ${H('r', 'c')} * ${H('r', 'c')};\n`))}norm = sqrt(norm);
var hi = ${n - 1}i;
var iter = 0u;
var total = 0u;
loop {
if (hi < 1) { break; }
let uhi = u32(hi);
var l = uhi;
loop {
  if (l == 0u) { break; }
  var sd = abs(${H('l - 1u', 'l - 1u')}) + abs(${H('l', 'l')});
  if (sd == 0.0f) { sd = norm; }
  if (abs(${H('l', 'l - 1u')}) <= ${EPS} * sd) { ${H('l', 'l - 1u')} = 0.0f; break; }
  l--;
}
if (l == uhi) { hi -= 1; iter = 0u; continue; }
if (l + 1u == uhi) {
${split}hi -= 2;
iter = 0u;
continue;
}
total++;
if (total > ${EIG_MAX_ITER_PER_EIGENVALUE * Math.max(1, n)}u) { status = 2u; break; }
iter++;
var tr = 0.0f;
var dt = 0.0f;
if (iter % 10u == 0u) {
  let se = abs(${H('uhi', 'uhi - 1u')}) + abs(${H('uhi - 1u', 'uhi - 2u')});
  let e11 = 0.75f * se + ${H('uhi', 'uhi')};
  tr = 2.0f * e11;
  dt = e11 * e11 + 0.4375f * se * se;
} else {
  let m1 = uhi - 1u;
  tr = ${H('m1', 'm1')} + ${H('uhi', 'uhi')};
  dt = ${H('m1', 'm1')} * ${H('uhi', 'uhi')} - ${H('m1', 'uhi')} * ${H('uhi', 'm1')};
}
let h00 = ${H('l', 'l')};
let h01 = ${H('l', 'l + 1u')};
let h10 = ${H('l + 1u', 'l')};
let h11 = ${H('l + 1u', 'l + 1u')};
let h21 = ${H('l + 2u', 'l + 1u')};
var fx = h00 * h00 + h01 * h10 - tr * h00 + dt;
var fy = h10 * (h00 + h11 - tr);
var fw = h10 * h21;
for (var k = l; k + 2u <= uhi; k++) {
  let nrm = sqrt(fx * fx + fy * fy + fw * fw);
  if (nrm != 0.0f) {
    let alpha = select(nrm, -nrm, fx > 0.0f);
    let inv = 1.0f / (fx - alpha);
    let tau = (alpha - fx) / alpha;
    let v1 = fy * inv;
    let v2 = fw * inv;
    let c0 = select(l, k - 1u, k > l);
    let r1 = min(k + 3u, uhi);
${reflector(n, true, 'k', 'tau', 'v1', 'v2', 'c0', 'r1')}    if (k > l) {
      ${H('k', 'k - 1u')} = alpha;
      ${H('k + 1u', 'k - 1u')} = 0.0f;
      ${H('k + 2u', 'k - 1u')} = 0.0f;
    }
  }
  fx = ${H('k + 1u', 'k')};
  fy = ${H('k + 2u', 'k')};
  if (k + 2u < uhi) { fw = ${H('k + 3u', 'k')}; }
}
let kl = uhi - 1u;
let nrm2 = sqrt(fx * fx + fy * fy);
if (nrm2 != 0.0f) {
  let alpha = select(nrm2, -nrm2, fx > 0.0f);
  let tau = (alpha - fx) / alpha;
  let v1 = fy / (fx - alpha);
  let c0 = select(l, kl - 1u, kl - 1u > l);
${reflector(n, false, 'kl', 'tau', 'v1', '0.0f', 'c0', 'uhi')}  if (kl > l) {
    ${H('kl', 'kl - 1u')} = alpha;
    ${H('kl + 1u', 'kl - 1u')} = 0.0f;
  }
}
}
}
`;
  // eigenvectors of the triangular T by back-substitution, mapped through Z (rows of `vec`)
  s += `if (status != 0u) {\n${fillNan('il', n)}${fillNan('iv', nn)}} else {
var tn = 0.0f;
${loop('r', 0, n, loop('c', 'r', N, `tn += ${H('r', 'c')} * ${H('r', 'c')};\n`))}tn = sqrt(tn);
let smin = select(1.0f, ${EPS} * tn, tn > 0.0f);
var vec: array<f32, ${len(nn)}>;
var xs: array<f32, ${len(n)}>;
${loop(
  'k',
  0,
  n,
  `let lam = ${H('k', 'k')};
xs[k] = 1.0f;
for (var ii = i32(k) - 1; ii >= 0; ii--) {
  let ui = u32(ii);
  var acc = 0.0f;
  for (var j = ui + 1u; j <= k; j++) { acc += ${H('ui', 'j')} * xs[j]; }
  var den = ${H('ui', 'ui')} - lam;
  if (abs(den) < smin) { den = select(smin, -smin, den < 0.0f); }
  var xi = -acc / den;
  if (abs(xi) > 1e30f) {
    let f = 1.0f / abs(xi);
    for (var j = ui + 1u; j <= k; j++) { xs[j] *= f; }
    xi *= f;
  }
  xs[ui] = xi;
}
var nv = 0.0f;
${loop('r', 0, n, `var acc = 0.0f;\nfor (var j = 0u; j <= k; j++) { acc += z[r * ${N} + j] * xs[j]; }\nvec[k * ${N} + r] = acc;\nnv += acc * acc;\n`)}let inv = 1.0f / sqrt(nv);
${loop('r', 0, n, `vec[k * ${N} + r] *= inv;\n`)}`,
)}`;
  s += sortPerm(n, (k) => H(k, k), false);
  s += loop(
    'k',
    0,
    n,
    `let src = perm[k];
A[il + k] = ${H('src', 'src')} / sc;
var best = 0.0f;
var neg = false;
${loop('r', 0, n, `let x = vec[src * ${N} + r];\nif (abs(x) > best) { best = abs(x); neg = x < 0.0f; }\n`)}let f = select(1.0f, -1.0f, neg);
${loop('r', 0, n, `A[iv + r * ${N} + k] = f * vec[src * ${N} + r];\n`)}`,
  );
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 10 };
}

/** The WGSL generators of the linear-algebra kernels , by op name. */
export const LINALG_WGSL = {
  eigh: eighWgsl,
  svd: svdWgsl,
  solve: solveWgsl,
  inv: invWgsl,
  cholesky: choleskyWgsl,
  qr: qrWgsl,
  det: detWgsl,
  slogdet: slogdetWgsl,
  eig: eigWgsl,
} as const;
