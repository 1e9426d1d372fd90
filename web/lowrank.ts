// The low-rank SVD widget (seed 000, "SVD Low-Rank Approximation"): a grayscale image as a matrix A,
// its SVD A = U·diag(S)·Vᵀ computed once by matgrad, and the rank-k reconstruction
// A_k = U_k·diag(S_k)·V_kᵀ redrawn whenever the rank slider moves.
import * as Plot from '@observablehq/plot';
import * as mg from '../src/index.js';

export const ROWS = 64;
export const COLS = 96;

/**
 * A procedural 64×96 grayscale picture in [0, 1]: a smooth shaded background, a bright disc, a
 * checkerboard patch, the word "matgrad", a few lines of text-like stripes and a faint grain. Smooth
 * parts are nearly low-rank; edges and text need many singular values.
 */
export function makeImage(doc: Document): Float64Array {
  const a = new Float64Array(ROWS * COLS);
  for (let i = 0; i < ROWS; i++) {
    for (let j = 0; j < COLS; j++) {
      const x = j / (COLS - 1);
      const y = i / (ROWS - 1);
      let v = 0.35 + 0.3 * x + 0.12 * Math.sin(2 * Math.PI * (1.3 * x + 0.4 * y)) * Math.cos(Math.PI * y);
      const r2 = (x - 0.8) ** 2 * 2.25 + (y - 0.28) ** 2; // a disc, aspect-corrected
      if (r2 < 0.028) v = 0.95 - 2 * r2;
      if (x < 0.2 && y > 0.62) v = (Math.floor(j / 4) + Math.floor(i / 4)) % 2 ? 0.85 : 0.25;
      a[i * COLS + j] = v;
    }
  }
  // a faint film grain (deterministic): real pictures have full rank with a small tail of singular values
  let grain = 12345;
  for (let p = 0; p < a.length; p++) {
    grain = (grain * 16807) % 2147483647;
    a[p] += 0.03 * (grain / 2147483647 - 0.5);
  }
  // "text": rasterized by the browser, used as a mask (dark ink on the picture)
  const canvas = doc.createElement('canvas');
  canvas.width = COLS;
  canvas.height = ROWS;
  const ctx = canvas.getContext('2d');
  if (ctx) {
    ctx.fillStyle = '#fff';
    ctx.font = 'bold 19px "DejaVu Sans", Verdana, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText('matgrad', 4, 4);
    // text-like stripes: lines of "words" of varying length
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const y of [34, 41, 48, 55]) {
      let x = y === 34 ? 24 : 22;
      while (x < COLS - 6) {
        const w = 3 + Math.floor(rand() * 9);
        ctx.fillRect(x, y, Math.min(w, COLS - 4 - x), 3);
        x += w + 3;
      }
    }
    const ink = ctx.getImageData(0, 0, COLS, ROWS).data;
    for (let p = 0; p < ROWS * COLS; p++) {
      const m = ink[4 * p + 3] / 255;
      a[p] = a[p] * (1 - m) + 0.04 * m;
    }
  }
  return a;
}

/** Draws a ROWS×COLS matrix with values in [0, 1] (clamped for display) as gray pixels. */
function paint(canvas: HTMLCanvasElement, values: ArrayLike<number>): void {
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(COLS, ROWS);
  for (let p = 0; p < ROWS * COLS; p++) {
    const g = Math.round(255 * Math.min(1, Math.max(0, values[p])));
    img.data[4 * p] = g;
    img.data[4 * p + 1] = g;
    img.data[4 * p + 2] = g;
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

export interface LowRankElements {
  readonly slider: HTMLInputElement;
  readonly rankValue: HTMLOutputElement;
  readonly original: HTMLCanvasElement;
  readonly reconstruction: HTMLCanvasElement;
  readonly caption: HTMLElement;
  /** The original's caption (it names the numerical rank). */
  readonly rank: HTMLElement;
  readonly spectrum: HTMLElement;
  readonly error: HTMLElement;
}

/** Computes the SVD once and wires the slider; returns the SVD's time in ms. */
export function setupLowRank(doc: Document, el: LowRankElements): number {
  const a = makeImage(doc);
  paint(el.original, a);
  const t0 = performance.now();
  const { U, S, Vh } = mg.linalg.svd(mg.fromArray(a, [ROWS, COLS]));
  const svdMs = performance.now() - t0;
  const u = U.dataSync(); // ROWS × r
  const s = S.dataSync(); // r, descending
  const vh = Vh.dataSync(); // r × COLS
  const r = s.length;
  let norm2 = 0;
  for (let p = 0; p < a.length; p++) norm2 += a[p] * a[p];
  // numerical rank: singular values above float64 round-off of the largest one
  const cutoff = s[0] * Math.max(ROWS, COLS) * 2.2e-16;
  let rank = 0;
  while (rank < r && s[rank] > cutoff) rank++;
  el.slider.max = String(rank);
  el.rank.textContent = `original A (rank ${rank})`;

  const approx = new Float64Array(ROWS * COLS);
  const update = () => {
    const k = Math.max(1, Math.min(rank, Math.round(Number(el.slider.value) || 1)));
    approx.fill(0);
    for (let q = 0; q < k; q++) {
      const sq = s[q];
      for (let i = 0; i < ROWS; i++) {
        const ui = u[i * r + q] * sq;
        const row = i * COLS;
        const vrow = q * COLS;
        for (let j = 0; j < COLS; j++) approx[row + j] += ui * vh[vrow + j];
      }
    }
    let err2 = 0;
    for (let p = 0; p < a.length; p++) err2 += (a[p] - approx[p]) ** 2;
    const rel = Math.sqrt(err2 / norm2);
    paint(el.reconstruction, approx);
    el.rankValue.value = String(k);
    el.caption.textContent = `rank-${k} reconstruction`;
    const stored = k * (ROWS + COLS + 1);
    el.error.dataset.k = String(k);
    el.error.dataset.error = String(rel);
    el.error.innerHTML =
      `rank <b>${k}</b> of ${rank}: relative Frobenius error ‖A − A<sub>k</sub>‖<sub>F</sub> / ‖A‖<sub>F</sub> = ` +
      `<b>${rel < 1e-3 ? rel.toExponential(2) : rel.toFixed(4)}</b> · ` +
      `${stored.toLocaleString('en-US')} numbers stored instead of ${(ROWS * COLS).toLocaleString('en-US')} ` +
      `(${Math.round((100 * stored) / (ROWS * COLS))}%)`;
    drawSpectrum(doc, el.spectrum, Array.from(s).slice(0, rank), k);
  };
  el.slider.addEventListener('input', update);
  update();
  return svdMs;
}

function drawSpectrum(doc: Document, host: HTMLElement, s: readonly number[], k: number): void {
  const data = s.map((value, i) => ({ i: i + 1, value, kept: i < k }));
  const lo = Math.min(...s);
  const hi = Math.max(...s);
  const chart = Plot.plot({
    document: doc,
    width: 340,
    height: 200,
    marginLeft: 48,
    marginRight: 12,
    marginBottom: 34,
    style: { fontFamily: 'DejaVu Sans, Verdana, sans-serif', fontSize: '11px', background: 'white' },
    x: { label: 'index i →', domain: [0, s.length + 1], grid: true },
    y: {
      type: 'log',
      label: '↑ σᵢ (log scale)',
      domain: [lo / 1.6, hi * 1.6],
      ticks: decades(lo / 1.6, hi * 1.6),
      tickFormat: (d: number) => `1e${Math.round(Math.log10(d))}`,
      grid: true,
    },
    color: { domain: [true, false], range: ['#4e79a7', '#c8c8c8'] },
    marks: [
      Plot.frame({ stroke: '#bbb' }),
      Plot.ruleX([k + 0.5], { stroke: '#e15759', strokeDasharray: '4,3' }),
      Plot.dot(data, { x: 'i', y: 'value', fill: 'kept', r: 2.6 }),
    ],
  });
  host.replaceChildren(chart);
}

/** The powers of ten in [lo, hi]. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}
