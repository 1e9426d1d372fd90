// Number formatting and tables (terminal text, Markdown, HTML) for the CLI and the report.
import CliTable from 'cli-table3';

/** A loss or metric: `1.23e-5`, `0.0123`, `-0.25`; '—' for null/undefined, 'NaN'/'∞' as such. */
export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1);
}

/** A duration: `850 µs`, `12.3 ms`, `4.56 s`. */
export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x < 1) return `${Math.round(x * 1000)} µs`;
  if (x < 1000) return `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`;
  return `${(x / 1000).toFixed(2)} s`;
}

export type Align = 'left' | 'right';

export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Per column; default left for the first column, right for the others. */
  readonly align?: readonly Align[];
  /** Headers of columns a narrow terminal may go without, the first to go first. */
  readonly optional?: readonly string[];
}

const alignOf = (t: Table, i: number): Align => t.align?.[i] ?? (i === 0 ? 'left' : 'right');
/** Display width: code points (the tables hold no wide characters). */
const width = (s: string) => [...s].length;

/** Borderless: columns two spaces apart, a rule under the header. */
const CHARS = { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '─', 'mid-mid': '', right: '', 'right-mid': '', middle: '' };
const GAP = 2;

/**
 * Column widths (gap included) within `total`: the widest columns give way first, down to the width of
 * the next widest and never below their own minimum (what a column cannot do without truncating).
 */
export function fitColumns(natural: readonly number[], minimum: readonly number[], total: number): number[] {
  const w = natural.map((x) => x + GAP);
  const floor = minimum.map((x) => x + GAP);
  let excess = w.reduce((a, b) => a + b, 0) - total;
  while (excess > 0) {
    const open = w.flatMap((x, i) => (x > floor[i] ? [i] : []));
    if (!open.length) break;
    const widest = Math.max(...open.map((i) => w[i]));
    const at = open.filter((i) => w[i] === widest);
    const next = Math.max(...at.map((i) => floor[i]), ...w.filter((x) => x < widest));
    const cut = Math.min(widest - next, Math.ceil(excess / at.length));
    for (const i of at) w[i] -= cut;
    excess -= cut * at.length;
  }
  return w;
}

/**
 * An aligned plain-text table (cli-table3): a header, a rule, the rows. With `width` (a terminal's
 * columns) it fits that width: text columns wrap at spaces, numbers and headers never get cut, and
 * when that is not enough the table's `optional` columns are left out, first listed first.
 */
export function textTable(t: Table, opts: { width?: number } = {}): string {
  const total = opts.width ? opts.width - 1 : Infinity;
  const cells = (i: number) => [...t.rows.map((r) => r[i] ?? '')];
  const longestWord = (s: string) => Math.max(0, ...s.split(/\s+/).map(width));
  const natural = (i: number) => Math.max(width(t.headers[i]), ...cells(i).map(width));
  // text wraps at spaces; a right-aligned (numeric) cell stays whole; a header wraps at spaces
  const minimum = (i: number) => Math.max(longestWord(t.headers[i]), ...cells(i).map(alignOf(t, i) === 'left' ? longestWord : width));
  let shown = t.headers.map((_, i) => i);
  const room = (cols: number[], min: (i: number) => number) => cols.reduce((a, i) => a + min(i) + GAP, 0) <= total;
  for (const name of t.optional ?? []) {
    if (room(shown, minimum)) break;
    shown = shown.filter((i) => t.headers[i] !== name);
  }
  // still too wide (a very narrow terminal): text columns break inside words too
  const hard = !room(shown, minimum);
  const floor = hard ? (i: number) => (alignOf(t, i) === 'left' ? Math.min(natural(i), 4) : minimum(i)) : minimum;
  const table = new CliTable({
    head: shown.map((i) => t.headers[i]),
    colWidths: fitColumns(shown.map(natural), shown.map(floor), total),
    colAligns: shown.map((i) => alignOf(t, i)),
    wordWrap: true,
    wrapOnWordBoundary: !hard,
    chars: CHARS,
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': GAP },
  });
  table.push(...t.rows.map((r) => shown.map((i) => r[i] ?? '')));
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rule = t.headers.map((_, i) => (alignOf(t, i) === 'right' ? '---:' : '---'));
  return [t.headers, rule, ...t.rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** An HTML table; `rowClass` marks rows (the winner). */
export function htmlTable(t: Table, rowClass?: (row: number) => string | undefined): string {
  const cell = (tag: 'th' | 'td', s: string, i: number) => `<${tag}${alignOf(t, i) === 'right' ? ' class="num"' : ''}>${escapeHtml(s)}</${tag}>`;
  const head = `<tr>${t.headers.map((h, i) => cell('th', h, i)).join('')}</tr>`;
  const body = t.rows
    .map((r, j) => {
      const cls = rowClass?.(j);
      return `<tr${cls ? ` class="${cls}"` : ''}>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`;
    })
    .join('\n');
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}
