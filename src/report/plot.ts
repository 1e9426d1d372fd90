import * as Plot from '@observablehq/plot';

/** One optimizer's loss curve. */
export interface Series {
  readonly name: string;
  readonly points: readonly { readonly step: number; readonly loss: number }[];
}

export interface LossCurveOptions {
  title?: string;
  /** Log-scale loss axis (default true); points with loss ≤ 0 cannot be drawn there and are left out. */
  log?: boolean;
  /**
   * Step axis: 'linear', 'log', or 'auto' (default): log when the curves end at very different steps
   * (one run converged 20× sooner than another), so the short curve is not squeezed against the axis.
   */
  stepScale?: 'linear' | 'log' | 'auto';
  width?: number;
  height?: number;
  yLabel?: string;
  /** A DOM document; in browsers the global one is used, in Node a linkedom document is created. */
  document?: Document;
}

async function nodeDocument(): Promise<Document> {
  const { parseHTML } = await import('linkedom');
  return parseHTML('<!doctype html><html><head></head><body></body></html>').document as unknown as Document;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const FONT = 'DejaVu Sans, Verdana, sans-serif';
/** Line gap of the 13 px curve labels. */
const LABEL_GAP = 15;
/**
 * An upper bound on the width of `text` in 13 px DejaVu Sans Bold (the widest glyphs: m, w, M, W,
 * @ and % about 1.04 em; other capitals ≤ 0.87 em; the rest ≤ 0.72 em), so label boxes never
 * understate a label.
 */
export const labelWidth = (text: string, px = 13): number =>
  [...text].reduce((w, c) => w + px * (/[mwMW@%]/.test(c) ? 1.05 : /[A-Z]/.test(c) ? 0.88 : 0.73), 0);
/** Plot's tableau10, so the legend, the labels and the lines agree. */
const COLORS = ['#4e79a7', '#f28e2c', '#e15759', '#76b7b2', '#59a14f', '#edc949', '#af7aa1', '#ff9da7', '#9c755f', '#bab0ab'];

const decades = (lo: number, hi: number): number[] => {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) out.push(10 ** e);
  return out;
};
/** At most ~`max` decade ticks: every k-th decade. */
const thin = (ticks: number[], max: number) => {
  const k = Math.ceil(ticks.length / max);
  return ticks.filter((t) => Math.round(Math.log10(t)) % k === 0);
};
/** [min, max] by a loop: Math.min(...xs) overflows the call stack for long series. */
function extent(xs: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}
const expLabel = (d: number) => `1e${Math.round(Math.log10(d))}`;

/** A label's box: left edge, width, and vertical centre (all in pixels); height is the line gap. */
export interface LabelBox {
  x: number;
  w: number;
  y: number;
}

/**
 * Places labels so no two boxes intersect: each label (left to right) takes the position nearest its
 * wanted `y` that clears every label already placed that it overlaps in x — inside [lo, hi] when there
 * is such a position, else the nearest clear one outside. The candidates are the wanted y and the
 * edges of placed boxes ± `gap`; the one above the highest overlapping box is always clear, so every
 * label gets a place, and every placement is checked against all earlier ones: no overlap, by
 * construction.
 */
export function placeLabels(wanted: readonly LabelBox[], gap: number, lo: number, hi: number): number[] {
  const order = wanted.map((_, i) => i).sort((a, b) => wanted[a].x - wanted[b].x || wanted[a].y - wanted[b].y);
  const placed: { x: number; w: number; y: number }[] = [];
  const ys = new Array<number>(wanted.length);
  for (const i of order) {
    const { x, w, y } = wanted[i];
    const near = placed.filter((p) => p.x < x + w && x < p.x + p.w);
    const clear = (c: number) => near.every((p) => Math.abs(p.y - c) >= gap - 1e-9);
    const candidates = [Math.min(Math.max(y, lo), hi), y, ...near.flatMap((p) => [p.y - gap, p.y + gap])];
    const byDistance = (a: number, b: number) => Math.abs(a - y) - Math.abs(b - y);
    const inside = candidates.filter((c) => c >= lo && c <= hi && clear(c)).sort(byDistance);
    const best = inside[0] ?? candidates.filter(clear).sort(byDistance)[0];
    ys[i] = best;
    placed.push({ x, w, y: best });
  }
  return ys;
}

/**
 * Loss curves, one labelled line per series (a label at each curve's end, a dot where it stopped, and a
 * legend under the title), as an SVG element — use `lossCurvesSvg` for a standalone SVG string.
 */
export function lossCurvesElement(series: readonly Series[], opts: LossCurveOptions & { document: Document }): SVGSVGElement {
  const doc = opts.document;
  const log = opts.log ?? true;
  const finite = series.map((s) => ({
    name: s.name,
    points: s.points.filter((p) => Number.isFinite(p.loss) && Number.isFinite(p.step) && (!log || p.loss > 0)),
  }));
  const endSteps = finite.filter((s) => s.points.length).map((s) => s.points[s.points.length - 1].step);
  const logX =
    opts.stepScale === 'log' || (opts.stepScale !== 'linear' && endSteps.length > 1 && Math.min(...endSteps) >= 1 && Math.max(...endSteps) / Math.max(1, Math.min(...endSteps)) >= 20);
  // a log step axis has no 0: the starting point is drawn at step 1, where a gradient step reports the
  // loss it started from anyway
  const clean = logX ? finite.map((s) => ({ name: s.name, points: s.points.map((p) => (p.step < 1 ? { ...p, step: 1 } : p)) })) : finite;
  const data = clean.flatMap((s) => s.points.map((p) => ({ run: s.name, step: p.step, loss: p.loss })));
  const width = opts.width ?? 760;
  const height = opts.height ?? 460;
  const longest = Math.max(4 * 8.5, ...series.map((s) => labelWidth(s.name)));
  const marginTop = opts.title ? 84 : 58;
  const marginLeft = 74;
  const marginBottom = 46;
  const marginRight = 26 + longest;
  const plotTop = marginTop;
  const plotBottom = height - marginBottom;
  const plotLeft = marginLeft;
  const plotRight = width - marginRight;

  // domains are set here (not by Plot) so label positions can be computed in pixels
  const steps = data.map((d) => d.step);
  const losses = data.map((d) => d.loss);
  const [xMinData, xMax] = steps.length ? extent(steps) : [1, 1];
  const xDomain: [number, number] = logX ? [10 ** Math.floor(Math.log10(Math.max(1, xMinData))), Math.max(xMax, 10)] : [0, Math.max(xMax, 1)];
  let yDomain: [number, number];
  if (!losses.length) yDomain = log ? [1e-3, 1] : [0, 1];
  else if (log) {
    const [min, max] = extent(losses);
    const lo = 10 ** Math.floor(Math.log10(min));
    const hi = 10 ** Math.ceil(Math.log10(max));
    yDomain = [lo, hi > lo ? hi : lo * 10];
  } else {
    const [lo, hi] = extent(losses);
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    yDomain = [lo - pad, hi + pad];
  }
  const tx = (v: number) => {
    const [a, b] = xDomain;
    const f = logX ? (Math.log(v) - Math.log(a)) / (Math.log(b) - Math.log(a)) : (v - a) / (b - a);
    return plotLeft + f * (plotRight - plotLeft);
  };
  const ty = (v: number) => {
    const [a, b] = yDomain;
    const f = log ? (Math.log(v) - Math.log(a)) / (Math.log(b) - Math.log(a)) : (v - a) / (b - a);
    return plotBottom - f * (plotBottom - plotTop);
  };
  const colorOf = (i: number) => COLORS[i % COLORS.length];
  const yTicks = log ? thin(decades(yDomain[0], yDomain[1]), 10) : undefined;
  const xTicks = logX ? decades(xDomain[0], xDomain[1]) : undefined;

  const lasts = clean.flatMap((s) => (s.points.length ? [{ run: s.name, ...s.points[s.points.length - 1] }] : []));
  const chart = Plot.plot({
    document: doc,
    width,
    height,
    marginTop,
    marginLeft,
    marginBottom,
    marginRight,
    style: { fontFamily: FONT, fontSize: '13px', background: 'white', color: '#222' },
    x: {
      type: logX ? 'log' : 'linear',
      domain: xDomain,
      label: logX ? 'step (log scale) →' : 'step →',
      labelAnchor: 'right',
      labelOffset: 38,
      grid: true,
      ticks: xTicks,
      tickFormat: logX ? (d: number) => d.toLocaleString('en-US') : undefined,
    },
    y: {
      type: log ? 'log' : 'linear',
      domain: yDomain,
      label: null,
      grid: true,
      ticks: yTicks,
      tickFormat: log ? expLabel : undefined,
    },
    color: { type: 'categorical', range: COLORS, domain: series.map((s) => s.name) },
    marks: [
      Plot.frame({ stroke: '#888' }),
      Plot.line(data, { x: 'step', y: 'loss', z: 'run', stroke: 'run', strokeWidth: 2.2 }),
      Plot.dot(lasts, { x: 'step', y: 'loss', fill: 'run', r: 3.5 }),
    ],
  }) as unknown as SVGSVGElement;

  const add = (parent: Element, tag: string, attrs: Record<string, string | number>, text?: string) => {
    const el = doc.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    parent.appendChild(el);
    return el;
  };
  const g = add(chart, 'g', { 'font-family': FONT, fill: '#222', 'text-anchor': 'start' });
  if (opts.title) add(g, 'text', { x: 12, y: 26, 'font-size': 16, 'font-weight': 'bold' }, opts.title);
  // legend: a swatch and the name of each series, in one row under the title
  let lx = plotLeft;
  const ly = marginTop - 34;
  series.forEach((s, i) => {
    add(g, 'line', { x1: lx, x2: lx + 22, y1: ly - 4.5, y2: ly - 4.5, stroke: colorOf(i), 'stroke-width': 3.5 });
    add(g, 'text', { x: lx + 28, y: ly, 'font-size': 13 }, s.name);
    lx += 28 + s.name.length * 8.5 + 20;
  });
  add(g, 'text', { x: 10, y: marginTop - 10, 'font-size': 13 }, `↑ ${opts.yLabel ?? 'loss'}${log ? ', log scale' : ''}`);
  // direct labels at the curves' ends, pushed apart so none overlap
  const labelled = clean.map((s, i) => ({ s, i })).filter(({ s }) => s.points.length);
  const ends = labelled.map(({ s }) => ({ x: tx(s.points[s.points.length - 1].step) + 8, y: ty(s.points[s.points.length - 1].loss), w: labelWidth(s.name) + 4 }));
  const ys = placeLabels(ends, LABEL_GAP, plotTop + 8, plotBottom - 8);
  labelled.forEach(({ s, i }, k) => {
    const last = s.points[s.points.length - 1];
    const [x0, y0] = [tx(last.step), ty(last.loss)];
    if (Math.abs(ys[k] - y0) > 4) add(g, 'line', { x1: x0 + 4, y1: y0, x2: x0 + 7, y2: ys[k], stroke: colorOf(i), 'stroke-width': 1.2 });
    add(g, 'text', { x: tx(last.step) + 8, y: ys[k] + 4.5, 'font-size': 13, 'font-weight': 'bold', fill: colorOf(i), stroke: 'white', 'stroke-width': 3, 'paint-order': 'stroke' }, s.name);
  });
  if (!data.length) add(g, 'text', { x: (plotLeft + plotRight) / 2, y: (plotTop + plotBottom) / 2, 'text-anchor': 'middle', 'font-size': 14, fill: '#888' }, 'no data to plot');
  return chart;
}

/** Loss curves as a standalone SVG document string. */
export async function lossCurvesSvg(series: readonly Series[], opts: LossCurveOptions = {}): Promise<string> {
  const document = opts.document ?? (typeof globalThis.document !== 'undefined' ? globalThis.document : await nodeDocument());
  const el = lossCurvesElement(series, { ...opts, document });
  let svg = el.outerHTML;
  if (!svg.includes('xmlns=')) svg = svg.replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"');
  return svg;
}

/** Renders an SVG string to PNG bytes (Node, through @resvg/resvg-js; uses the system's fonts). */
export async function svgToPng(svg: string, opts: { scale?: number } = {}): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: opts.scale ?? 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/**
 * `mg.plot.lossCurves(series, opts)`: in a browser (a global `document`) the chart element, in Node a
 * standalone SVG string (drawn into a linkedom document).
 */
export async function lossCurves(series: readonly Series[], opts: LossCurveOptions = {}): Promise<SVGSVGElement | string> {
  const document = opts.document ?? (typeof globalThis.document !== 'undefined' ? globalThis.document : undefined);
  return document ? lossCurvesElement(series, { ...opts, document }) : lossCurvesSvg(series, opts);
}
