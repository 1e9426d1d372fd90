/**
 * WGSL forward kernels of the COMPLEX linear-algebra ops (float32) on interleaved real views: a complex
 * matrix batch [..., m, n] is the float32 arena region [..., m, n, 2] of (re, im) pairs, row-major.
 * Same shape as linalg.ts (read its header): ONE invocation per matrix, working copies in private
 * arrays (real and imaginary parts in separate arrays) with baked sizes, n ≤ WEBGPU_LINALG_MAX_N, bodies
 * never `return` (nor `break`/`continue` outside their own loops), every private array written in full
 * before it is read, failures fill the item's outputs with NaN. Conventions follow the CPU kernels
 * (src/linalg/kernels/complex.ts):
 *
 * - complexEigh: cyclic complex Jacobi on the Hermitian matrix read from the LOWER triangle (the
 *   diagonal's imaginary part ignored); real eigenvalues ascending, eigenvectors in columns; gauge: the
 *   largest-|.| component of each eigenvector (the first on ties) is real and positive. A rotation
 *   (p, q) with a_pq = |a_pq|·e^{iφ} is the real Jacobi rotation on |a_pq| conjugated by the phase:
 *   columns p' = c·e_p − P·e_q, q' = conj(P)·e_p + c·e_q with P = s·e^{-iφ}.
 * - complexSvd: one-sided Jacobi with complex rotations on the columns of A (m ≥ n) or of Aᴴ (m < n):
 *   for γ = g_pᴴ·g_q = |γ|·e^{iφ}, the phase e^{-iφ} on column q turns γ real, then a real rotation
 *   (same P form as eigh). Reduced, singular values descending; columns whose singular value is
 *   negligible are completed to an orthonormal basis (complex Gram–Schmidt on the best unit vector).
 *   Singular vectors carry no canonical phase (the CPU's need not agree; U·diag(S)·Vh does).
 * - complexSolve / complexInv / complexDet: complex LU with partial pivoting on the largest modulus,
 *   on the matrix scaled by an exact power of two (max |re|, |im| in [0.5, 1): squared moduli neither
 *   overflow nor underflow); an exact zero pivot: solve and inv fail, det is 0. A non-finite entry
 *   fails every one of them (det NaN), like the CPU.
 * - complexSlogdet: the same LU; sign = det/|det| (complex, renormalized), logabsdet = Σ log|u_kk| with
 *   the scale undone (+ n·e·ln 2 for sc = 2^−e); an exact zero pivot gives (0 + 0i, −∞), not a failure.
 * - complexCholesky: the lower triangle only (diagonal's imaginary part ignored), scaled by 4^−t so the
 *   factor unscales exactly by 2^t; L's diagonal real > 0, strict upper part 0; a pivot ≤ 0 fails.
 * - complexQr: LAPACK-style Householder (zlarfg: β real, τ complex, Hᴴ applied), reduced; then column j
 *   of Q times the phase of R_jj and row j of R times its conjugate (diag(R) real ≥ 0, imaginary part
 *   exactly 0). A column with nothing below the diagonal gets no reflector, so a zero column still
 *   gets a unit Q column orthogonal to the others. Only non-finite input fails.
 * - complexEig: Householder reduction to upper Hessenberg form (Z accumulated), complex single-shift QR
 *   to the Schur form T (Wilkinson shifts, exceptional shifts after 10 and 20 iterations without
 *   deflation, at most 30·n iterations: more fails), eigenvectors of T by back-substitution mapped
 *   through Z; values ascending by real part (then imaginary part), vectors as eigh's gauge (unit
 *   columns, first largest-|.| component real > 0). Like the CPU's ceig.
 * - Jacobi's sweep limit is not a failure (as in linalg.ts).
 */
import { sizeOf } from '../../autograd/shape.js';
import { MatgradError } from '../../errors.js';
import { EPS, fillNan, finite, len, loop, MAX_SWEEPS, sortPerm, U, WEBGPU_LINALG_MAX_N } from './linalg.js';
import type { ArenaRef, WgslKernel, WgslKernelArgs } from './wgsl.js';

/** Batch count and complex matrix dims of a real view [..., m, n, 2]. */
function cmatrix(op: string, x: ArenaRef, square: boolean): { batch: number; m: number; n: number } {
  const [m, n] = x.shape.slice(-3, -1);
  if ((square && m !== n) || m > WEBGPU_LINALG_MAX_N || n > WEBGPU_LINALG_MAX_N) {
    throw new MatgradError(
      `WebGPU: linalg.${op} runs complex matrices up to ${WEBGPU_LINALG_MAX_N}×${WEBGPU_LINALG_MAX_N} (one invocation per matrix), got [${x.shape.slice(0, -1).join(', ')}]; run this program on the CPU backend`,
    );
  }
  return { batch: sizeOf(x.shape.slice(0, -3)), m, n };
}

/** `var sc`: the power of two bringing `mx` into [0.5, 1) (1 when `bad` or mx is 0). */
const scaleFor = 'var sc = 1.0f;\nif (!bad && mx > 0.0f) { sc = ldexp(1.0f, -frexp(mx).exp); }\n';

/** Notes a loaded pair (x, y) in `bad` / `mx`. */
const note = (x: string, y: string) => `if (!${finite(x)} || !${finite(y)}) { bad = true; }\nmx = max(mx, max(abs(${x}), abs(${y})));\n`;

/**
 * Applies the unitary [[c, conj(P)], [−P, c]] to the complex pair (x, y) held in `xr`, `xi`, `yr`, `yi`
 * (P = pr + i·pim): x' = c·x − P·y, y' = c·y + conj(P)·x. Declares `nxr nxi nyr nyi`.
 */
const rotatePair = `let nxr = cs * xr - (pr * yr - pim * yi);
let nxi = cs * xi - (pr * yi + pim * yr);
let nyr = cs * yr + (pr * xr + pim * xi);
let nyi = cs * yi + (pr * xi - pim * xr);
`;

/**
 * The rotation of a pair with diagonal entries (or squared norms) `app`, `aqq` and off-diagonal entry
 * γ = `re` + i·`im` of modulus `aa` > 0: the real Jacobi rotation on |γ| (x = aqq − app, y = 2|γ|,
 * u = |x| + hypot(x, y), c = sqrt(u / (2·hypot)), f = sign(x)·2/u, tan = f·|γ|), phase-factored:
 * P = s·e^{-iφ} = f·c·conj(γ). Declares `cs`, `f`, `pr`, `pim`. hypot is scaled (no underflow).
 */
const phaseRotation = (app: string, aqq: string, re: string, im: string, aa: string) => `let x = ${aqq} - ${app};
let y = 2.0f * ${aa};
let mxy = max(abs(x), y);
let hx = x / mxy;
let hy = y / mxy;
let rr = mxy * sqrt(hx * hx + hy * hy);
let uu = abs(x) + rr;
let cs = sqrt(uu / (2.0f * rr));
let f = select(2.0f, -2.0f, x < 0.0f) / uu;
let pr = f * cs * ${re};
let pim = -f * cs * ${im};
`;

// ---- eigh ------------------------------------------------------------------------------------------

function complexEighWgsl({ ins: [a], outs: [vals, vecs] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = cmatrix('eigh', a, true);
  const nn = n * n;
  const N = U(n);
  const D = U(n + 1);
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * nn)};
let il = ${U(vals.offset)} + i * ${N};
let iv = ${U(vecs.offset)} + i * ${U(2 * nn)};
var wr: array<f32, ${len(nn)}>;
var wi: array<f32, ${len(nn)}>;
var mx = 0.0f;
var bad = false;
`;
  // the lower triangle into both triangles (conjugated above the diagonal); the diagonal real
  s += loop(
    'r',
    0,
    n,
    `${loop(
      'c',
      0,
      'r',
      `let x = A[ia + (r * ${N} + c) * 2u];
let y = A[ia + (r * ${N} + c) * 2u + 1u];
wr[r * ${N} + c] = x;
wi[r * ${N} + c] = y;
wr[c * ${N} + r] = x;
wi[c * ${N} + r] = -y;
${note('x', 'y')}`,
    )}let d = A[ia + r * ${U(2 * (n + 1))}];
wr[r * ${D}] = d;
wi[r * ${D}] = 0.0f;
${note('d', '0.0f')}`,
  );
  s += scaleFor;
  s += `if (bad) {\n${fillNan('il', n)}${fillNan('iv', 2 * nn)}} else {\n`;
  s += `var vr: array<f32, ${len(nn)}>;\nvar vi: array<f32, ${len(nn)}>;\nvar fro = 0.0f;\n`;
  s += loop(
    'z',
    0,
    nn,
    `wr[z] = wr[z] * sc;\nwi[z] = wi[z] * sc;\nfro += wr[z] * wr[z] + wi[z] * wi[z];\nvr[z] = select(0.0f, 1.0f, z % ${D} == 0u);\nvi[z] = 0.0f;\n`,
  );
  s += `let tol = ${EPS} * sqrt(fro) / ${n}.0f;\n`;
  const rot = `let pq = p * ${N} + q;
let re = wr[pq];
let im = wi[pq];
let app = wr[p * ${D}];
let aqq = wr[q * ${D}];
let aa = sqrt(re * re + im * im);
if (aa <= tol || aa <= ${EPS} * sqrt(abs(app)) * sqrt(abs(aqq))) { continue; }
rotated = true;
${phaseRotation('app', 'aqq', 're', 'im', 'aa')}let sh = f * aa * aa;
wr[p * ${D}] = app - sh;
wr[q * ${D}] = aqq + sh;
wr[pq] = 0.0f;
wi[pq] = 0.0f;
wr[q * ${N} + p] = 0.0f;
wi[q * ${N} + p] = 0.0f;
${loop(
  'k',
  0,
  n,
  `if (k != p && k != q) {
  let xr = wr[k * ${N} + p];
  let xi = wi[k * ${N} + p];
  let yr = wr[k * ${N} + q];
  let yi = wi[k * ${N} + q];
${rotatePair}  wr[k * ${N} + p] = nxr;
  wi[k * ${N} + p] = nxi;
  wr[k * ${N} + q] = nyr;
  wi[k * ${N} + q] = nyi;
  wr[p * ${N} + k] = nxr;
  wi[p * ${N} + k] = -nxi;
  wr[q * ${N} + k] = nyr;
  wi[q * ${N} + k] = -nyi;
}
{
  let xr = vr[k * ${N} + p];
  let xi = vi[k * ${N} + p];
  let yr = vr[k * ${N} + q];
  let yi = vi[k * ${N} + q];
${rotatePair}  vr[k * ${N} + p] = nxr;
  vi[k * ${N} + p] = nxi;
  vr[k * ${N} + q] = nyr;
  vi[k * ${N} + q] = nyi;
}
`,
)}`;
  s += loop(
    'sweep',
    0,
    MAX_SWEEPS,
    `var rotated = false;\n${loop('p', 0, Math.max(0, n - 1), loop('q', 'p + 1u', n, rot))}if (!rotated) { break; }\n`,
  );
  s += sortPerm(n, (k) => `wr[${k} * ${D}]`, false);
  // gauge: multiply column src by conj(v_b)/|v_b| for its first largest-modulus component v_b
  s += loop(
    'k',
    0,
    n,
    `let src = perm[k];
A[il + k] = wr[src * ${D}] / sc;
var best = -1.0f;
var bi = 0u;
${loop('r', 0, n, `let xr = vr[r * ${N} + src];\nlet xi = vi[r * ${N} + src];\nlet m2 = xr * xr + xi * xi;\nif (m2 > best) { best = m2; bi = r; }\n`)}let br = vr[bi * ${N} + src];
let bim = vi[bi * ${N} + src];
let bmag = sqrt(br * br + bim * bim);
let fr = br / bmag;
let fi = -bim / bmag;
${loop(
  'r',
  0,
  n,
  `let xr = vr[r * ${N} + src];
let xi = vi[r * ${N} + src];
let o = iv + (r * ${N} + k) * 2u;
A[o] = select(xr * fr - xi * fi, bmag, r == bi);
A[o + 1u] = select(xr * fi + xi * fr, 0.0f, r == bi);
`,
)}`,
  );
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 32 };
}

// ---- svd -------------------------------------------------------------------------------------------

function complexSvdWgsl({ ins: [a], outs: [u, sv, vh] }: WgslKernelArgs): WgslKernel {
  const { batch, m, n } = cmatrix('svd', a, false);
  const tall = m >= n;
  // columns of G (R long, C of them): A's columns (tall) or Aᴴ's (wide); V is C×C, columns contiguous
  const R = tall ? m : n;
  const C = tall ? n : m;
  const k = C;
  const RU = U(R);
  const CU = U(C);
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * m * n)};
let iu = ${U(u.offset)} + i * ${U(2 * m * k)};
let isg = ${U(sv.offset)} + i * ${U(k)};
let ivh = ${U(vh.offset)} + i * ${U(2 * k * n)};
var gr: array<f32, ${len(R * C)}>;
var gi: array<f32, ${len(R * C)}>;
var mx = 0.0f;
var bad = false;
`;
  s += loop(
    'r',
    0,
    m,
    loop(
      'c',
      0,
      n,
      `let x = A[ia + (r * ${U(n)} + c) * 2u];
let y = A[ia + (r * ${U(n)} + c) * 2u + 1u];
${tall ? `gr[c * ${RU} + r] = x;\ngi[c * ${RU} + r] = y;\n` : `gr[r * ${RU} + c] = x;\ngi[r * ${RU} + c] = -y;\n`}${note('x', 'y')}`,
    ),
  );
  s += scaleFor;
  s += `if (bad) {\n${fillNan('iu', 2 * m * k)}${fillNan('isg', k)}${fillNan('ivh', 2 * k * n)}} else {\n`;
  s += `var vr: array<f32, ${len(C * C)}>;\nvar vi: array<f32, ${len(C * C)}>;\nvar fro = 0.0f;\n`;
  s += loop('z', 0, R * C, `gr[z] = gr[z] * sc;\ngi[z] = gi[z] * sc;\nfro += gr[z] * gr[z] + gi[z] * gi[z];\n`);
  s += loop('z', 0, C * C, `vr[z] = select(0.0f, 1.0f, z % ${U(C + 1)} == 0u);\nvi[z] = 0.0f;\n`);
  // columns this small (relative to ‖A‖) are never rotated: they are completed below instead
  s += `let tiny = fro * 1e-24f;\nlet thr = ${EPS} * ${Math.sqrt(Math.max(1, R)).toFixed(6)}f;\n`;
  const cols = (arrR: string, arrI: string, len_: number, stride: string, body: string) =>
    loop(
      'r',
      0,
      len_,
      `let xr = ${arrR}[p * ${stride} + r];
let xi = ${arrI}[p * ${stride} + r];
let yr = ${arrR}[q * ${stride} + r];
let yi = ${arrI}[q * ${stride} + r];
${body}`,
    );
  const store = (arrR: string, arrI: string, stride: string) => `${arrR}[p * ${stride} + r] = nxr;
${arrI}[p * ${stride} + r] = nxi;
${arrR}[q * ${stride} + r] = nyr;
${arrI}[q * ${stride} + r] = nyi;
`;
  const rot = `var al = 0.0f;
var be = 0.0f;
var gre = 0.0f;
var gim = 0.0f;
${cols('gr', 'gi', R, RU, 'al += xr * xr + xi * xi;\nbe += yr * yr + yi * yi;\ngre += xr * yr + xi * yi;\ngim += xr * yi - xi * yr;\n')}if (al <= tiny || be <= tiny) { continue; }
let aa = sqrt(gre * gre + gim * gim);
if (aa <= thr * sqrt(al) * sqrt(be)) { continue; }
rotated = true;
${phaseRotation('al', 'be', 'gre', 'gim', 'aa')}${cols('gr', 'gi', R, RU, rotatePair + store('gr', 'gi', RU))}${cols('vr', 'vi', C, CU, rotatePair + store('vr', 'vi', CU))}`;
  s += loop(
    'sweep',
    0,
    MAX_SWEEPS,
    `var rotated = false;\n${loop('p', 0, Math.max(0, C - 1), loop('q', 'p + 1u', C, rot))}if (!rotated) { break; }\n`,
  );
  // singular values, then the order, then unit columns (negligible ones completed to an orthonormal basis)
  const sqNorm = (col: string, name: string) =>
    `var ${name} = 0.0f;\n${loop('r', 0, R, `let xr = gr[${col} * ${RU} + r];\nlet xi = gi[${col} * ${RU} + r];\n${name} += xr * xr + xi * xi;\n`)}`;
  s += `var sig: array<f32, ${len(C)}>;\nvar smax = 0.0f;\n`;
  s += loop('c', 0, C, `${sqNorm('c', 'nc')}sig[c] = sqrt(nc);\nsmax = max(smax, sig[c]);\n`);
  s += sortPerm(C, (kk) => `sig[${kk}]`, true);
  s += `let small = smax * 1e-10f;\n`;
  // 1 − Σ |u[e]|² over the columns before: the residual² of unit vector e
  const residual = `var res = 1.0f;\n${loop('k2', 0, 'k', `let xr = gr[perm[k2] * ${RU} + e];\nlet xi = gi[perm[k2] * ${RU} + e];\nres -= xr * xr + xi * xi;\n`)}`;
  // g_j −= (g_j2ᴴ·g_j)·g_j2 over the columns before
  const gs = loop(
    'k2',
    0,
    'k',
    `let j2 = perm[k2];
var dr = 0.0f;
var di = 0.0f;
${loop('r', 0, R, `let xr = gr[j2 * ${RU} + r];\nlet xi = gi[j2 * ${RU} + r];\nlet yr = gr[j * ${RU} + r];\nlet yi = gi[j * ${RU} + r];\ndr += xr * yr + xi * yi;\ndi += xr * yi - xi * yr;\n`)}${loop(
      'r',
      0,
      R,
      `let xr = gr[j2 * ${RU} + r];\nlet xi = gi[j2 * ${RU} + r];\ngr[j * ${RU} + r] -= dr * xr - di * xi;\ngi[j * ${RU} + r] -= dr * xi + di * xr;\n`,
    )}`,
  );
  s += loop(
    'k',
    0,
    C,
    `let j = perm[k];
if (sig[j] > small) {
  let inv = 1.0f / sig[j];
${loop('r', 0, R, `gr[j * ${RU} + r] *= inv;\ngi[j * ${RU} + r] *= inv;\n`)}} else {
  sig[j] = 0.0f;
  var be = 0u;
  var br = -1.0f;
${loop('e', 0, R, `${residual}if (res > br) { br = res; be = e; }\n`)}${loop('r', 0, R, `gr[j * ${RU} + r] = select(0.0f, 1.0f, r == be);\ngi[j * ${RU} + r] = 0.0f;\n`)}${loop('gsp', 0, 2, gs)}${sqNorm('j', 'nj')}let inv = 1.0f / sqrt(nj);
${loop('r', 0, R, `gr[j * ${RU} + r] *= inv;\ngi[j * ${RU} + r] *= inv;\n`)}}
`,
  );
  s += loop('k', 0, k, `A[isg + k] = sig[perm[k]] / sc;\n`);
  const put = (base: string, idx: string, re: string, im: string) => `A[${base} + (${idx}) * 2u] = ${re};\nA[${base} + (${idx}) * 2u + 1u] = ${im};\n`;
  if (tall) {
    // A·V = G: U[r, k] = g_j[r]; Vh[k, c] = conj(V[c, j])
    s += loop(
      'k',
      0,
      k,
      `let j = perm[k];\n${loop('r', 0, m, put('iu', `r * ${U(k)} + k`, `gr[j * ${RU} + r]`, `gi[j * ${RU} + r]`))}${loop(
        'c',
        0,
        n,
        put('ivh', `k * ${U(n)} + c`, `vr[j * ${CU} + c]`, `-vi[j * ${CU} + c]`),
      )}`,
    );
  } else {
    // Aᴴ·V = G = Ũ·Σ, so A = V·Σ·Ũᴴ: U[r, k] = V[r, j]; Vh[k, c] = conj(ũ_j[c])
    s += loop(
      'k',
      0,
      k,
      `let j = perm[k];\n${loop('r', 0, m, put('iu', `r * ${U(k)} + k`, `vr[j * ${CU} + r]`, `vi[j * ${CU} + r]`))}${loop(
        'c',
        0,
        n,
        put('ivh', `k * ${U(n)} + c`, `gr[j * ${RU} + c]`, `-gi[j * ${RU} + c]`),
      )}`,
    );
  }
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, R) * Math.max(1, C) ** 2 * 32 };
}

// ---- LU: solve, inv, det ---------------------------------------------------------------------------

/** `var or, oi` = 1 / (re + i·im) by Smith's method (no overflow in re² + im²). */
const recip = (re: string, im: string, or: string, oi: string) => `var ${or} = 0.0f;
var ${oi} = 0.0f;
if (abs(${re}) >= abs(${im})) {
  let t = ${im} / ${re};
  let dd = ${re} + ${im} * t;
  ${or} = 1.0f / dd;
  ${oi} = -t / dd;
} else {
  let t = ${re} / ${im};
  let dd = ${re} * t + ${im};
  ${or} = t / dd;
  ${oi} = -1.0f / dd;
}
`;

/**
 * Loads the complex n×n matrix at `base` into `wr`, `wi` scaled by `sc` (see the header) and factors
 * P·(sc·A) = L·U in place (`piv`, `sgn`, `sing`, `bad`).
 */
function cluFactor(base: string, n: number): string {
  const N = U(n);
  return `var wr: array<f32, ${len(n * n)}>;
var wi: array<f32, ${len(n * n)}>;
var piv: array<u32, ${len(n)}>;
var mx = 0.0f;
var bad = false;
${loop('z', 0, n * n, `let x = A[${base} + z * 2u];\nlet y = A[${base} + z * 2u + 1u];\nwr[z] = x;\nwi[z] = y;\n${note('x', 'y')}`)}${scaleFor}${loop(
    'z',
    0,
    n * n,
    'wr[z] = wr[z] * sc;\nwi[z] = wi[z] * sc;\n',
  )}var sgn = 1.0f;
var sing = false;
${loop(
  'k',
  0,
  n,
  `var p = k;
var best = wr[k * ${U(n + 1)}] * wr[k * ${U(n + 1)}] + wi[k * ${U(n + 1)}] * wi[k * ${U(n + 1)}];
${loop('r', 'k + 1u', n, `let xr = wr[r * ${N} + k];\nlet xi = wi[r * ${N} + k];\nlet m2 = xr * xr + xi * xi;\nif (m2 > best) { best = m2; p = r; }\n`)}piv[k] = p;
if (p != k) {
  sgn = -sgn;
${loop('c', 0, n, `  let tr = wr[k * ${N} + c];\n  let ti = wi[k * ${N} + c];\n  wr[k * ${N} + c] = wr[p * ${N} + c];\n  wi[k * ${N} + c] = wi[p * ${N} + c];\n  wr[p * ${N} + c] = tr;\n  wi[p * ${N} + c] = ti;\n`)}}
let ur = wr[k * ${U(n + 1)}];
let ui = wi[k * ${U(n + 1)}];
if (ur == 0.0f && ui == 0.0f) { sing = true; continue; }
${recip('ur', 'ui', 'ir', 'ii')}${loop(
  'r',
  'k + 1u',
  n,
  `let xr = wr[r * ${N} + k];
let xi = wi[r * ${N} + k];
let lr = xr * ir - xi * ii;
let li = xr * ii + xi * ir;
wr[r * ${N} + k] = lr;
wi[r * ${N} + k] = li;
${loop('c', 'k + 1u', n, `let yr = wr[k * ${N} + c];\nlet yi = wi[k * ${N} + c];\nwr[r * ${N} + c] -= lr * yr - li * yi;\nwi[r * ${N} + c] -= lr * yi + li * yr;\n`)}`,
)}`,
)}`;
}

/** `dr`, `di`: the reciprocals of U's diagonal (after cluFactor, when not singular). */
const diagRecips = (n: number) => `var dr: array<f32, ${len(n)}>;
var di: array<f32, ${len(n)}>;
${loop('k', 0, n, `let ur = wr[k * ${U(n + 1)}];\nlet ui = wi[k * ${U(n + 1)}];\n${recip('ur', 'ui', 'ir', 'ii')}dr[k] = ir;\ndi[k] = ii;\n`)}`;

/**
 * Solves L·U·y = P·b for one complex right-hand side held in `yr`, `yi` (n long), in place: the
 * interchanges, forward substitution with unit L, back substitution with U.
 */
function cluSolveColumn(n: number): string {
  const N = U(n);
  return `${loop('k', 0, n, `let p = piv[k];\nif (p != k) {\n  let tr = yr[k];\n  let ti = yi[k];\n  yr[k] = yr[p];\n  yi[k] = yi[p];\n  yr[p] = tr;\n  yi[p] = ti;\n}\n`)}${loop(
    'r',
    1,
    n,
    loop('c', 0, 'r', `let lr = wr[r * ${N} + c];\nlet li = wi[r * ${N} + c];\nyr[r] -= lr * yr[c] - li * yi[c];\nyi[r] -= lr * yi[c] + li * yr[c];\n`),
  )}for (var rs = ${n - 1}i; rs >= 0; rs--) {
  let r = u32(rs);
${loop('c', 'r + 1u', n, `  let ur = wr[r * ${N} + c];\n  let ui = wi[r * ${N} + c];\n  yr[r] -= ur * yr[c] - ui * yi[c];\n  yi[r] -= ur * yi[c] + ui * yr[c];\n`)}  let xr = yr[r];
  let xi = yi[r];
  yr[r] = xr * dr[r] - xi * di[r];
  yi[r] = xr * di[r] + xi * dr[r];
}
`;
}

function complexSolveWgsl({ ins: [a, b], outs: [x] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = cmatrix('solve', a, true);
  const r = b.shape[b.shape.length - 2];
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * n * n)};\nlet ib = ${U(b.offset)} + i * ${U(2 * n * r)};\nlet ix = ${U(x.offset)} + i * ${U(2 * n * r)};\n`;
  s += cluFactor('ia', n);
  s += `if (bad || sing) {\n${fillNan('ix', 2 * n * r)}} else {\n${diagRecips(n)}var yr: array<f32, ${len(n)}>;\nvar yi: array<f32, ${len(n)}>;\n`;
  // (sc·A)·Y = B, so X = sc·Y
  s += loop(
    'col',
    0,
    r,
    `${loop('k', 0, n, `let o = ib + (k * ${U(r)} + col) * 2u;\nyr[k] = A[o];\nyi[k] = A[o + 1u];\n`)}${cluSolveColumn(n)}${loop(
      'k',
      0,
      n,
      `let o = ix + (k * ${U(r)} + col) * 2u;\nA[o] = yr[k] * sc;\nA[o + 1u] = yi[k] * sc;\n`,
    )}`,
  );
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 2 * (n + r) * 4 };
}

function complexInvWgsl({ ins: [a], outs: [x] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = cmatrix('inv', a, true);
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * n * n)};\nlet ix = ${U(x.offset)} + i * ${U(2 * n * n)};\n`;
  s += cluFactor('ia', n);
  s += `var over = bad || sing;\nif (!over) {\n${diagRecips(n)}var yr: array<f32, ${len(n)}>;\nvar yi: array<f32, ${len(n)}>;\n`;
  // inv(A) = sc·inv(sc·A)
  s += loop(
    'col',
    0,
    n,
    `${loop('k', 0, n, 'yr[k] = select(0.0f, 1.0f, k == col);\nyi[k] = 0.0f;\n')}${cluSolveColumn(n)}${loop(
      'k',
      0,
      n,
      `let o = ix + (k * ${U(n)} + col) * 2u;
let xr = yr[k] * sc;
let xi = yi[k] * sc;
if (!${finite('xr')} || !${finite('xi')}) { over = true; }
A[o] = xr;
A[o + 1u] = xi;
`,
    )}`,
  );
  s += `}\nif (over) {\n${fillNan('ix', 2 * n * n)}}\n`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 8 };
}

function complexDetWgsl({ ins: [a], outs: [d] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = cmatrix('det', a, true);
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * n * n)};\n`;
  s += cluFactor('ia', n);
  // det(A) = sgn·Π pivots of sc·A, one factor 1/sc per pivot
  s += `let unscale = 1.0f / sc;\nvar dre = sgn;\nvar dei = 0.0f;\n${loop(
    'k',
    0,
    n,
    `let ur = wr[k * ${U(n + 1)}] * unscale;\nlet ui = wi[k * ${U(n + 1)}] * unscale;\nlet nr = dre * ur - dei * ui;\ndei = dre * ui + dei * ur;\ndre = nr;\n`,
  )}if (sing) { dre = 0.0f; dei = 0.0f; }
if (bad) { dre = NAN_F; dei = NAN_F; }
let od = ${U(d.offset)} + i * 2u;
A[od] = select(dre, 0.0f, dre == 0.0f);
A[od + 1u] = select(dei, 0.0f, dei == 0.0f);
`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 4 };
}

function complexSlogdetWgsl({ ins: [a], outs: [sg, la] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = cmatrix('slogdet', a, true);
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * n * n)};\n`;
  s += cluFactor('ia', n);
  // sign = sgn·Π u_k/|u_k|; log|det A| = Σ log|u_k| − n·log(sc), sc = 2^−e (|u_k| by a scaled hypot)
  s += `var pre = sgn;
var pim = 0.0f;
var lv = 0.0f;
${loop(
  'k',
  0,
  n,
  `let ur = wr[k * ${U(n + 1)}];
let ui = wi[k * ${U(n + 1)}];
let um = max(abs(ur), abs(ui));
if (um > 0.0f) {
  let hr = ur / um;
  let hi = ui / um;
  let hn = sqrt(hr * hr + hi * hi);
  let fr = hr / hn;
  let fi = hi / hn;
  let nr = pre * fr - pim * fi;
  pim = pre * fi + pim * fr;
  pre = nr;
  lv += log(um) + log(hn);
}
`,
)}var ex = 0i;
if (!bad && mx > 0.0f) { ex = frexp(mx).exp; }
lv += f32(${n}i * ex) * 0.6931471805599453f;
let pn = sqrt(pre * pre + pim * pim);
pre = pre / pn;
pim = pim / pn;
if (sing) { pre = 0.0f; pim = 0.0f; lv = -INF_F; }
if (bad) { pre = NAN_F; pim = NAN_F; lv = NAN_F; }
let os = ${U(sg.offset)} + i * 2u;
A[os] = select(pre, 0.0f, pre == 0.0f);
A[os + 1u] = select(pim, 0.0f, pim == 0.0f);
A[${U(la.offset)} + i] = lv;
`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 4 };
}

// ---- cholesky --------------------------------------------------------------------------------------

function complexCholeskyWgsl({ ins: [a], outs: [l] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = cmatrix('cholesky', a, true);
  const nn = n * n;
  const N = U(n);
  const D = U(n + 1);
  // the lower triangle (the diagonal's imaginary part dropped), zeros above; scaled by sc = 4^−t so that
  // L = (the factor of sc·A)·2^t exactly
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * nn)};
let il = ${U(l.offset)} + i * ${U(2 * nn)};
var wr: array<f32, ${len(nn)}>;
var wi: array<f32, ${len(nn)}>;
var mx = 0.0f;
var bad = false;
${loop(
  'r',
  0,
  n,
  loop(
    'c',
    0,
    n,
    `wr[r * ${N} + c] = 0.0f;
wi[r * ${N} + c] = 0.0f;
if (c <= r) {
  let x = A[ia + (r * ${N} + c) * 2u];
  let y = select(A[ia + (r * ${N} + c) * 2u + 1u], 0.0f, c == r);
  wr[r * ${N} + c] = x;
  wi[r * ${N} + c] = y;
${note('x', 'y')}}
`,
  ),
)}var te = 0i;
if (!bad && mx > 0.0f) { te = (frexp(mx).exp + 1i) >> 1u; }
let sc = ldexp(1.0f, -2i * te);
let us = ldexp(1.0f, te);
${loop('z', 0, nn, 'wr[z] = wr[z] * sc;\nwi[z] = wi[z] * sc;\n')}var ok = !bad;
`;
  s += loop(
    'j',
    0,
    n,
    `if (!ok) { break; }
var d = wr[j * ${D}];
${loop('k', 0, 'j', `let xr = wr[j * ${N} + k];\nlet xi = wi[j * ${N} + k];\nd -= xr * xr + xi * xi;\n`)}if (!(d > 0.0f) || !${finite('d')}) { ok = false; break; }
let ljj = sqrt(d);
let inv = 1.0f / ljj;
wr[j * ${D}] = ljj;
wi[j * ${D}] = 0.0f;
${loop(
  'r',
  'j + 1u',
  n,
  `var xr = wr[r * ${N} + j];
var xi = wi[r * ${N} + j];
${loop(
  'k',
  0,
  'j',
  `let ar = wr[r * ${N} + k];
let ai = wi[r * ${N} + k];
let br = wr[j * ${N} + k];
let bi = wi[j * ${N} + k];
xr -= ar * br + ai * bi;
xi -= ai * br - ar * bi;
`,
)}wr[r * ${N} + j] = xr * inv;
wi[r * ${N} + j] = xi * inv;
`,
)}`,
  );
  s += `if (ok) {\n${loop(
    'z',
    0,
    nn,
    `A[il + z * 2u] = wr[z] * us;\nA[il + z * 2u + 1u] = wi[z] * us;\n`,
  )}} else {\n${fillNan('il', 2 * nn)}}\n`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 4 };
}

// ---- qr --------------------------------------------------------------------------------------------

function complexQrWgsl({ ins: [a], outs: [q, r] }: WgslKernelArgs): WgslKernel {
  const { batch, m, n } = cmatrix('qr', a, false);
  const k = Math.min(m, n);
  const NU = U(n);
  const KU = U(k);
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * m * n)};
let iq = ${U(q.offset)} + i * ${U(2 * m * k)};
let ir = ${U(r.offset)} + i * ${U(2 * k * n)};
var wr: array<f32, ${len(m * n)}>;
var wi: array<f32, ${len(m * n)}>;
var mx = 0.0f;
var bad = false;
${loop('z', 0, m * n, `let x = A[ia + z * 2u];\nlet y = A[ia + z * 2u + 1u];\nwr[z] = x;\nwi[z] = y;\n${note('x', 'y')}`)}${scaleFor}`;
  s += `if (bad) {\n${fillNan('iq', 2 * m * k)}${fillNan('ir', 2 * k * n)}} else {\n`;
  s += loop('z', 0, m * n, 'wr[z] = wr[z] * sc;\nwi[z] = wi[z] * sc;\n');
  const sl = len(Math.max(n, k));
  s += `var tr: array<f32, ${len(k)}>;
var ti: array<f32, ${len(k)}>;
var sr: array<f32, ${sl}>;
var si: array<f32, ${sl}>;
var qr: array<f32, ${len(m * k)}>;
var qi: array<f32, ${len(m * k)}>;
`;
  const Wr = (row: string, col: string) => `wr[${row} * ${NU} + ${col}]`;
  const Wi = (row: string, col: string) => `wi[${row} * ${NU} + ${col}]`;
  // Householder (LAPACK's zlarfg): Hᴴ·x = β·e₀ with β real, H = I − τ·v·vᴴ, v = (1, x₁.. / (α − β)),
  // τ = (β − α)/β; Hᴴ = I − conj(τ)·v·vᴴ applied to the columns on the right. R on and above the
  // diagonal of w, the reflectors (implicit leading 1) below it. σ = 0: no reflector (R_jj = α, complex)
  s += loop(
    'j',
    0,
    k,
    `let ar = ${Wr('j', 'j')};
let ai = ${Wi('j', 'j')};
var sigma = 0.0f;
${loop('rr', 'j + 1u', m, `let x = ${Wr('rr', 'j')};\nlet y = ${Wi('rr', 'j')};\nsigma += x * x + y * y;\n`)}tr[j] = 0.0f;
ti[j] = 0.0f;
if (sigma == 0.0f) { continue; }
let nrm = sqrt(ar * ar + ai * ai + sigma);
let beta = select(nrm, -nrm, ar > 0.0f);
let dre = ar - beta;
${recip('dre', 'ai', 'vr', 'vim')}${loop(
      'rr',
      'j + 1u',
      m,
      `let x = ${Wr('rr', 'j')};\nlet y = ${Wi('rr', 'j')};\n${Wr('rr', 'j')} = x * vr - y * vim;\n${Wi('rr', 'j')} = x * vim + y * vr;\n`,
    )}let tjr = (beta - ar) / beta;
let tji = -ai / beta;
tr[j] = tjr;
ti[j] = tji;
${Wr('j', 'j')} = beta;
${Wi('j', 'j')} = 0.0f;
${loop('c', 'j + 1u', n, `sr[c] = ${Wr('j', 'c')};\nsi[c] = ${Wi('j', 'c')};\n`)}${loop(
      'rr',
      'j + 1u',
      m,
      `let er = ${Wr('rr', 'j')};\nlet ei = ${Wi('rr', 'j')};\n${loop(
        'c',
        'j + 1u',
        n,
        `let x = ${Wr('rr', 'c')};\nlet y = ${Wi('rr', 'c')};\nsr[c] += er * x + ei * y;\nsi[c] += er * y - ei * x;\n`,
      )}`,
    )}${loop(
      'c',
      'j + 1u',
      n,
      `let x = sr[c];\nlet y = si[c];\nsr[c] = tjr * x + tji * y;\nsi[c] = tjr * y - tji * x;\n${Wr('j', 'c')} -= sr[c];\n${Wi('j', 'c')} -= si[c];\n`,
    )}${loop(
      'rr',
      'j + 1u',
      m,
      `let er = ${Wr('rr', 'j')};\nlet ei = ${Wi('rr', 'j')};\n${loop(
        'c',
        'j + 1u',
        n,
        `${Wr('rr', 'c')} -= er * sr[c] - ei * si[c];\n${Wi('rr', 'c')} -= er * si[c] + ei * sr[c];\n`,
      )}`,
    )}`,
  );
  // Q = H_0 ⋯ H_{k−1} applied to the first k columns of the identity (backward accumulation)
  const Qr = (row: string, col: string) => `qr[${row} * ${KU} + ${col}]`;
  const Qi = (row: string, col: string) => `qi[${row} * ${KU} + ${col}]`;
  s += loop('z', 0, m * k, `qr[z] = select(0.0f, 1.0f, z % ${U(k + 1)} == 0u && z < ${U(k * k)});\nqi[z] = 0.0f;\n`);
  s += `for (var jj = ${k - 1}i; jj >= 0; jj--) {
let j = u32(jj);
let tjr = tr[j];
let tji = ti[j];
if (tjr == 0.0f && tji == 0.0f) { continue; }
${loop('c', 'j', k, `sr[c] = ${Qr('j', 'c')};\nsi[c] = ${Qi('j', 'c')};\n`)}${loop(
    'rr',
    'j + 1u',
    m,
    `let er = ${Wr('rr', 'j')};\nlet ei = ${Wi('rr', 'j')};\n${loop(
      'c',
      'j',
      k,
      `let x = ${Qr('rr', 'c')};\nlet y = ${Qi('rr', 'c')};\nsr[c] += er * x + ei * y;\nsi[c] += er * y - ei * x;\n`,
    )}`,
  )}${loop(
    'c',
    'j',
    k,
    `let x = sr[c];\nlet y = si[c];\nsr[c] = tjr * x - tji * y;\nsi[c] = tjr * y + tji * x;\n${Qr('j', 'c')} -= sr[c];\n${Qi('j', 'c')} -= si[c];\n`,
  )}${loop(
    'rr',
    'j + 1u',
    m,
    `let er = ${Wr('rr', 'j')};\nlet ei = ${Wi('rr', 'j')};\n${loop(
      'c',
      'j',
      k,
      `${Qr('rr', 'c')} -= er * sr[c] - ei * si[c];\n${Qi('rr', 'c')} -= er * si[c] + ei * sr[c];\n`,
    )}`,
  )}}
`;
  // diag(R) real ≥ 0: column j of Q times the phase φ of R_jj, row j of R times conj(φ)
  s += loop(
    'j',
    0,
    k,
    `let dr = ${Wr('j', 'j')};
let di = ${Wi('j', 'j')};
let dm = max(abs(dr), abs(di));
var fr = 1.0f;
var fi = 0.0f;
var dabs = 0.0f;
if (dm > 0.0f) {
  let hr = dr / dm;
  let hi = di / dm;
  let hn = sqrt(hr * hr + hi * hi);
  fr = hr / hn;
  fi = hi / hn;
  dabs = dm * hn;
}
${loop(
  'c',
  0,
  n,
  `let x = ${Wr('j', 'c')};
let y = ${Wi('j', 'c')};
let o = ir + (j * ${NU} + c) * 2u;
A[o] = select(select(0.0f, (fr * x + fi * y) / sc, c > j), dabs / sc, c == j);
A[o + 1u] = select(0.0f, (fr * y - fi * x) / sc, c > j);
`,
)}${loop(
  'rr',
  0,
  m,
  `let x = ${Qr('rr', 'j')};
let y = ${Qi('rr', 'j')};
let o = iq + (rr * ${KU} + j) * 2u;
A[o] = x * fr - y * fi;
A[o + 1u] = x * fi + y * fr;
`,
)}`,
  );
  s += '}\n';
  return { threads: batch, body: s, work: batch * Math.max(1, m) * Math.max(1, n) * Math.max(1, k) * 8 };
}

// ---- eig (general complex) -------------------------------------------------------------------------

/** Total complex QR iterations per matrix, times n, before an item fails (as the CPU's ceig). */
const CEIG_MAX_ITER_PER_EIGENVALUE = 30;

/**
 * `cs` (real), `gsr` + i·`gsi` (s): the complex Givens rotation G = [[c, s], [−conj(s), c]] with
 * G·(x, y) = (r, 0), computed on (x, y) scaled by their largest part (no underflow or overflow in the
 * squares); the identity when both are 0.
 */
const givens = (xr: string, xi: string, yr: string, yi: string) => `let gm = max(max(abs(${xr}), abs(${xi})), max(abs(${yr}), abs(${yi})));
var cs = 1.0f;
var gsr = 0.0f;
var gsi = 0.0f;
if (gm > 0.0f) {
  let axr = ${xr} / gm;
  let axi = ${xi} / gm;
  let ayr = ${yr} / gm;
  let ayi = ${yi} / gm;
  let ax = sqrt(axr * axr + axi * axi);
  let gn = sqrt(ax * ax + ayr * ayr + ayi * ayi);
  if (ax == 0.0f) {
    cs = 0.0f;
    gsr = ayr / gn;
    gsi = -ayi / gn;
  } else {
    cs = ax / gn;
    let phr = axr / ax;
    let phi = axi / ax;
    gsr = (phr * ayr + phi * ayi) / gn;
    gsi = (phi * ayr - phr * ayi) / gn;
  }
}
`;

/** x' = c·x + s·y, y' = −conj(s)·x + c·y on the pair (xr + i·xi, yr + i·yi); declares `nxr nxi nyr nyi`. */
const givensLeft = `let nxr = cs * xr + (gsr * yr - gsi * yi);
let nxi = cs * xi + (gsr * yi + gsi * yr);
let nyr = cs * yr - (gsr * xr + gsi * xi);
let nyi = cs * yi - (gsr * xi - gsi * xr);
`;
/** (x, y)·Gᴴ: x' = c·x + conj(s)·y, y' = −s·x + c·y; declares `nxr nxi nyr nyi`. */
const givensRight = `let nxr = cs * xr + (gsr * yr + gsi * yi);
let nxi = cs * xi + (gsr * yi - gsi * yr);
let nyr = cs * yr - (gsr * xr - gsi * xi);
let nyi = cs * yi - (gsr * xi + gsi * xr);
`;

/**
 * complexEig: A = Z·T·Zᴴ (complex Schur form) by Householder reduction to upper Hessenberg form then
 * complex single-shift QR, exactly the CPU's ceig steps (src/linalg/kernels/complex.ts: cschur,
 * cqrStep, cschurVectors) in float32: deflation when cabs1(h_{l,l−1}) ≤ EPS·(cabs1(h_{l−1,l−1}) +
 * cabs1(h_ll)) (cabs1 = |re| + |im|; the sum 0 → ‖H‖_F); Wilkinson shift (the eigenvalue of the trailing
 * 2×2 closer to its last diagonal entry); exceptional shifts on the 10th and 20th step without
 * deflation (h_ll + 0.75·cabs1(h_{l+1,l}), h_mm + 0.75·cabs1(h_{m,m−1})); at most 30·n steps, more
 * fails. Eigenvectors of T by back-substitution (y_j = 1, (T_ii − T_jj)·y_i = −Σ T_ik·y_k, a
 * denominator with cabs1 < EPS·‖T‖_F replaced by EPS·‖T‖_F), V = Z·Y. Columns unit, their first
 * largest-|.| component real and positive; eigenvalues ascending by real part, then imaginary part;
 * all on the matrix scaled by a power of two (the values unscaled at the end).
 */
function complexEigWgsl({ ins: [a], outs: [vals, vecs] }: WgslKernelArgs): WgslKernel {
  const { batch, n } = cmatrix('eig', a, true);
  const nn = n * n;
  const N = U(n);
  const D = U(n + 1);
  const Tr = (r: string, c: string) => `tr[(${r}) * ${N} + ${c}]`;
  const Ti = (r: string, c: string) => `ti[(${r}) * ${N} + ${c}]`;
  /** |re| + |im| of T(r, c) (LAPACK's cabs1, as the CPU's deflation test). */
  const Tabs = (r: string, c: string) => `(abs(${Tr(r, c)}) + abs(${Ti(r, c)}))`;
  let s = `let ia = ${U(a.offset)} + i * ${U(2 * nn)};
let il = ${U(vals.offset)} + i * ${U(2 * n)};
let iv = ${U(vecs.offset)} + i * ${U(2 * nn)};
var tr: array<f32, ${len(nn)}>;
var ti: array<f32, ${len(nn)}>;
var zr: array<f32, ${len(nn)}>;
var zi: array<f32, ${len(nn)}>;
var ur: array<f32, ${len(n)}>;
var ui: array<f32, ${len(n)}>;
var mx = 0.0f;
var bad = false;
${loop('q', 0, nn, `let x = A[ia + q * 2u];\nlet y = A[ia + q * 2u + 1u];\ntr[q] = x;\nti[q] = y;\n${note('x', 'y')}zr[q] = select(0.0f, 1.0f, q % ${D} == 0u);\nzi[q] = 0.0f;\n`)}${scaleFor}${loop(
    'q',
    0,
    nn,
    'tr[q] = tr[q] * sc;\nti[q] = ti[q] * sc;\n',
  )}var status = select(0u, 3u, bad);
`;
  // Householder reduction to upper Hessenberg form H = Zᴴ·A·Z: P = I − τ·u·uᴴ (Hermitian, unitary),
  // u = x + e^{iθ}·‖x‖·e₀ for x = H[k+1.., k], x₀ = |x₀|·e^{iθ}; P·x = −e^{iθ}·‖x‖·e₀, τ = 1/(‖x‖(‖x‖ + |x₀|))
  s += `if (status == 0u) {
for (var k = 0u; k + 2u < ${N}; k++) {
let x0r = ${Tr('k + 1u', 'k')};
let x0i = ${Ti('k + 1u', 'k')};
var sigma = 0.0f;
${loop('r', 'k + 2u', N, `let xr = ${Tr('r', 'k')};\nlet xi = ${Ti('r', 'k')};\nsigma += xr * xr + xi * xi;\n`)}if (sigma == 0.0f) { continue; }
let a0 = sqrt(x0r * x0r + x0i * x0i);
let xn = sqrt(a0 * a0 + sigma);
var pr = 1.0f;
var pim = 0.0f;
if (a0 > 0.0f) { pr = x0r / a0; pim = x0i / a0; }
ur[k + 1u] = x0r + pr * xn;
ui[k + 1u] = x0i + pim * xn;
${loop('r', 'k + 2u', N, `ur[r] = ${Tr('r', 'k')};\nui[r] = ${Ti('r', 'k')};\n${Tr('r', 'k')} = 0.0f;\n${Ti('r', 'k')} = 0.0f;\n`)}let tau = 1.0f / (xn * (xn + a0));
${Tr('k + 1u', 'k')} = -pr * xn;
${Ti('k + 1u', 'k')} = -pim * xn;
${loop(
  'c',
  'k + 1u',
  N,
  `var sr = 0.0f;
var si = 0.0f;
${loop('r', 'k + 1u', N, `let xr = ${Tr('r', 'c')};\nlet xi = ${Ti('r', 'c')};\nsr += ur[r] * xr + ui[r] * xi;\nsi += ur[r] * xi - ui[r] * xr;\n`)}sr *= tau;
si *= tau;
${loop('r', 'k + 1u', N, `${Tr('r', 'c')} -= ur[r] * sr - ui[r] * si;\n${Ti('r', 'c')} -= ur[r] * si + ui[r] * sr;\n`)}`,
)}${loop(
    'r',
    0,
    n,
    `var sr = 0.0f;
var si = 0.0f;
var qr = 0.0f;
var qi = 0.0f;
${loop(
  'j',
  'k + 1u',
  N,
  `let xr = ${Tr('r', 'j')};
let xi = ${Ti('r', 'j')};
let yr = zr[r * ${N} + j];
let yi = zi[r * ${N} + j];
sr += xr * ur[j] - xi * ui[j];
si += xr * ui[j] + xi * ur[j];
qr += yr * ur[j] - yi * ui[j];
qi += yr * ui[j] + yi * ur[j];
`,
)}sr *= tau;
si *= tau;
qr *= tau;
qi *= tau;
${loop(
  'j',
  'k + 1u',
  N,
  `${Tr('r', 'j')} -= sr * ur[j] + si * ui[j];
${Ti('r', 'j')} -= si * ur[j] - sr * ui[j];
zr[r * ${N} + j] -= qr * ur[j] + qi * ui[j];
zi[r * ${N} + j] -= qi * ur[j] - qr * ui[j];
`,
)}`,
  )}}
`;
  // complex single-shift QR on the active window [l, m], transformations applied to all of T and Z
  s += `var norm = 0.0f;
${loop('q', 0, nn, 'norm += tr[q] * tr[q] + ti[q] * ti[q];\n')}norm = sqrt(norm);
var top = ${n - 1}i;
var iter = 0u;
var total = 0u;
loop {
if (top < 1) { break; }
let m = u32(top);
var l = m;
loop {
  if (l == 0u) { break; }
  var sd = ${Tabs('l - 1u', 'l - 1u')} + ${Tabs('l', 'l')};
  if (sd == 0.0f) { sd = norm; }
  if (${Tabs('l', 'l - 1u')} <= ${EPS} * sd) {
    ${Tr('l', 'l - 1u')} = 0.0f;
    ${Ti('l', 'l - 1u')} = 0.0f;
    break;
  }
  l--;
}
if (l == m) { top -= 1; iter = 0u; continue; }
total++;
if (total > ${CEIG_MAX_ITER_PER_EIGENVALUE * Math.max(1, n)}u) { status = 2u; break; }
iter++;
var mur = 0.0f;
var mui = 0.0f;
if (iter == 10u) {
  mur = ${Tr('l', 'l')} + 0.75f * ${Tabs('l + 1u', 'l')};
  mui = ${Ti('l', 'l')};
} else if (iter == 20u) {
  mur = ${Tr('m', 'm')} + 0.75f * ${Tabs('m', 'm - 1u')};
  mui = ${Ti('m', 'm')};
} else {
  // Wilkinson: d + half ∓ sqrt(half² + b·c), the root closer to d, as d − b·c/(half ± sqrt(...))
  let ar = ${Tr('m - 1u', 'm - 1u')};
  let ai = ${Ti('m - 1u', 'm - 1u')};
  let br = ${Tr('m - 1u', 'm')};
  let bi = ${Ti('m - 1u', 'm')};
  let cr = ${Tr('m', 'm - 1u')};
  let ci = ${Ti('m', 'm - 1u')};
  let dr = ${Tr('m', 'm')};
  let di = ${Ti('m', 'm')};
  let hr = 0.5f * (ar - dr);
  let hm = 0.5f * (ai - di);
  let pr = br * cr - bi * ci;
  let pm = br * ci + bi * cr;
  let qr = hr * hr - hm * hm + pr;
  let qm = 2.0f * hr * hm + pm;
  var sqr = 0.0f;
  var sqi = 0.0f;
  let qa = max(abs(qr), abs(qm));
  if (qa > 0.0f) {
    let rq = qa * sqrt((qr / qa) * (qr / qa) + (qm / qa) * (qm / qa));
    if (qr >= 0.0f) {
      let t = sqrt(0.5f * (rq + qr));
      sqr = t;
      sqi = qm / (2.0f * t);
    } else {
      let t = sqrt(0.5f * (rq - qr));
      sqr = abs(qm) / (2.0f * t);
      sqi = select(t, -t, qm < 0.0f);
    }
  }
  if (hr * sqr + hm * sqi < 0.0f) { sqr = -sqr; sqi = -sqi; }
  let er = hr + sqr;
  let em = hm + sqi;
  mur = dr;
  mui = di;
  if (er != 0.0f || em != 0.0f) {
${recip('er', 'em', 'vr', 'vm')}    mur = dr - (pr * vr - pm * vm);
    mui = di - (pr * vm + pm * vr);
  }
}
for (var k = l; k < m; k++) {
  var fxr = 0.0f;
  var fxi = 0.0f;
  var fyr = 0.0f;
  var fyi = 0.0f;
  if (k == l) {
    fxr = ${Tr('l', 'l')} - mur;
    fxi = ${Ti('l', 'l')} - mui;
    fyr = ${Tr('l + 1u', 'l')};
    fyi = ${Ti('l + 1u', 'l')};
  } else {
    fxr = ${Tr('k', 'k - 1u')};
    fxi = ${Ti('k', 'k - 1u')};
    fyr = ${Tr('k + 1u', 'k - 1u')};
    fyi = ${Ti('k + 1u', 'k - 1u')};
  }
${givens('fxr', 'fxi', 'fyr', 'fyi')}  let c0 = select(l, k - 1u, k > l);
${loop(
  'c',
  'c0',
  N,
  `  let xr = ${Tr('k', 'c')};
  let xi = ${Ti('k', 'c')};
  let yr = ${Tr('k + 1u', 'c')};
  let yi = ${Ti('k + 1u', 'c')};
${givensLeft}  ${Tr('k', 'c')} = nxr;
  ${Ti('k', 'c')} = nxi;
  ${Tr('k + 1u', 'c')} = nyr;
  ${Ti('k + 1u', 'c')} = nyi;
`,
)}  if (k > l) {
    ${Tr('k + 1u', 'k - 1u')} = 0.0f;
    ${Ti('k + 1u', 'k - 1u')} = 0.0f;
  }
  let r1 = min(k + 2u, m);
  for (var r = 0u; r <= r1; r++) {
    let xr = ${Tr('r', 'k')};
    let xi = ${Ti('r', 'k')};
    let yr = ${Tr('r', 'k + 1u')};
    let yi = ${Ti('r', 'k + 1u')};
${givensRight}    ${Tr('r', 'k')} = nxr;
    ${Ti('r', 'k')} = nxi;
    ${Tr('r', 'k + 1u')} = nyr;
    ${Ti('r', 'k + 1u')} = nyi;
  }
${loop(
  'r',
  0,
  n,
  `  let xr = zr[r * ${N} + k];
  let xi = zi[r * ${N} + k];
  let yr = zr[r * ${N} + k + 1u];
  let yi = zi[r * ${N} + k + 1u];
${givensRight}  zr[r * ${N} + k] = nxr;
  zi[r * ${N} + k] = nxi;
  zr[r * ${N} + k + 1u] = nyr;
  zi[r * ${N} + k + 1u] = nyi;
`,
)}}
}
}
`;
  // eigenvalues sorted (real part, then imaginary part; a stable insertion sort of `perm`)
  const after = (p: string, q: string) => `(${Tr(p, p)} > ${Tr(q, q)} || (${Tr(p, p)} == ${Tr(q, q)} && ${Ti(p, p)} > ${Ti(q, q)}))`;
  s += `if (status != 0u) {\n${fillNan('il', 2 * n)}${fillNan('iv', 2 * nn)}} else {
var tn = 0.0f;
${loop('r', 0, n, loop('c', 'r', N, `tn += ${Tr('r', 'c')} * ${Tr('r', 'c')} + ${Ti('r', 'c')} * ${Ti('r', 'c')};\n`))}tn = sqrt(tn);
let smin = select(1.0f, ${EPS} * tn, tn > 0.0f);
var perm: array<u32, ${len(n)}>;
${loop('k', 0, n, 'perm[k] = k;\n')}${loop(
    'k',
    1,
    n,
    `let pk = perm[k];
var j = i32(k) - 1;
loop {
  if (j < 0) { break; }
  let pj = perm[u32(j)];
  if (!${after('pj', 'pk')}) { break; }
  perm[u32(j + 1)] = pj;
  j--;
}
perm[u32(j + 1)] = pk;
`,
  )}`;
  // output column k: y for the eigenvalue src = perm[k] by back-substitution (in ur, ui), v = Z·y (in
  // vr, vi; normalized by its largest part first: no overflow in the squares), unit, gauged, written out
  s += `var vr: array<f32, ${len(n)}>;
var vi: array<f32, ${len(n)}>;
${loop(
  'k',
  0,
  n,
  `let src = perm[k];
let lr = ${Tr('src', 'src')};
let lm = ${Ti('src', 'src')};
A[il + k * 2u] = lr / sc;
A[il + k * 2u + 1u] = lm / sc;
ur[src] = 1.0f;
ui[src] = 0.0f;
for (var ii = i32(src) - 1; ii >= 0; ii--) {
  let u = u32(ii);
  var accr = 0.0f;
  var acci = 0.0f;
  for (var j = u + 1u; j <= src; j++) {
    let xr = ${Tr('u', 'j')};
    let xi = ${Ti('u', 'j')};
    accr += xr * ur[j] - xi * ui[j];
    acci += xr * ui[j] + xi * ur[j];
  }
  var der = ${Tr('u', 'u')} - lr;
  var dei = ${Ti('u', 'u')} - lm;
  if (abs(der) + abs(dei) < smin) {
    der = smin;
    dei = 0.0f;
  }
${recip('der', 'dei', 'qr', 'qm')}  var yr = -(accr * qr - acci * qm);
  var yi = -(accr * qm + acci * qr);
  let ya = abs(yr) + abs(yi);
  if (ya > 1e20f) {
    let f = 1.0f / ya;
    for (var j = u + 1u; j <= src; j++) {
      ur[j] *= f;
      ui[j] *= f;
    }
    yr *= f;
    yi *= f;
  }
  ur[u] = yr;
  ui[u] = yi;
}
var vm = 0.0f;
${loop(
  'r',
  0,
  n,
  `var accr = 0.0f;
var acci = 0.0f;
for (var j = 0u; j <= src; j++) {
  let xr = zr[r * ${N} + j];
  let xi = zi[r * ${N} + j];
  accr += xr * ur[j] - xi * ui[j];
  acci += xr * ui[j] + xi * ur[j];
}
vr[r] = accr;
vi[r] = acci;
vm = max(vm, max(abs(accr), abs(acci)));
`,
)}var nv = 0.0f;
${loop('r', 0, n, `vr[r] = vr[r] / vm;\nvi[r] = vi[r] / vm;\nnv += vr[r] * vr[r] + vi[r] * vi[r];\n`)}let inv = 1.0f / sqrt(nv);
var best = -1.0f;
var bi = 0u;
${loop('r', 0, n, `vr[r] = vr[r] * inv;\nvi[r] = vi[r] * inv;\nlet m2 = vr[r] * vr[r] + vi[r] * vi[r];\nif (m2 > best) { best = m2; bi = r; }\n`)}let br = vr[bi];
let bim = vi[bi];
let bmag = sqrt(br * br + bim * bim);
let fr = br / bmag;
let fi = -bim / bmag;
${loop(
  'r',
  0,
  n,
  `let xr = vr[r];
let xi = vi[r];
let o = iv + (r * ${N} + k) * 2u;
A[o] = select(xr * fr - xi * fi, bmag, r == bi);
A[o + 1u] = select(xr * fi + xi * fr, 0.0f, r == bi);
`,
)}`,
)}}
`;
  return { threads: batch, body: s, work: batch * Math.max(1, n) ** 3 * 40 };
}

/** The WGSL generators of the complex linear-algebra kernels, by op name. */
export const COMPLEX_LINALG_WGSL = {
  complexEigh: complexEighWgsl,
  complexSvd: complexSvdWgsl,
  complexSolve: complexSolveWgsl,
  complexInv: complexInvWgsl,
  complexDet: complexDetWgsl,
  complexSlogdet: complexSlogdetWgsl,
  complexCholesky: complexCholeskyWgsl,
  complexQr: complexQrWgsl,
  complexEig: complexEigWgsl,
} as const;
