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

/**
 * Loss curves, one labelled line per series, as an SVG element (browser) — use `lossCurvesSvg` for a
 * standalone SVG string (Node or browser).
 */
export function lossCurvesElement(series: readonly Series[], opts: LossCurveOptions & { document: Document }): SVGSVGElement {
  const log = opts.log ?? true;
  const data = series.flatMap((s) =>
    s.points.filter((p) => Number.isFinite(p.loss) && (!log || p.loss > 0)).map((p) => ({ run: s.name, step: p.step, loss: p.loss })),
  );
  const width = opts.width ?? 720;
  const longest = Math.max(0, ...series.map((s) => s.name.length));
  const chart = Plot.plot({
    document: opts.document,
    width,
    height: opts.height ?? 420,
    marginLeft: 70,
    marginTop: opts.title ? 40 : 20,
    marginRight: 30 + longest * 9,
    style: { fontFamily: 'DejaVu Sans, sans-serif', fontSize: '12px', background: 'white' },
    x: { label: 'step', grid: true },
    y: { type: log ? 'log' : 'linear', label: opts.yLabel ?? 'loss', grid: true, tickFormat: log ? '.0e' : undefined },
    color: { type: 'categorical', scheme: 'tableau10', domain: series.map((s) => s.name) },
    marks: [
      Plot.frame({ stroke: '#999' }),
      Plot.line(data, { x: 'step', y: 'loss', stroke: 'run', strokeWidth: 2 }),
      Plot.text(data, Plot.selectLast({ x: 'step', y: 'loss', z: 'run', text: 'run', fill: 'run', textAnchor: 'start', dx: 6, fontWeight: 'bold' })),
      ...(opts.title ? [Plot.text([opts.title], { frameAnchor: 'top-left', dy: -28, fontSize: 15, fontWeight: 'bold', textAnchor: 'start' })] : []),
    ],
  });
  return chart as unknown as SVGSVGElement;
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
