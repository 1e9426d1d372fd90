// Number formatting and tables (terminal text, Markdown, HTML) for the CLI and the report.

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
}

const alignOf = (t: Table, i: number): Align => t.align?.[i] ?? (i === 0 ? 'left' : 'right');
/** Display width: code points (the tables hold no wide characters). */
const width = (s: string) => [...s].length;
const pad = (s: string, w: number, a: Align) => (a === 'left' ? s + ' '.repeat(w - width(s)) : ' '.repeat(w - width(s)) + s);

/** An aligned plain-text table: a header, a rule, the rows. */
export function textTable(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(width(h), ...t.rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c ?? '', widths[i], alignOf(t, i)))
      .join('  ')
      .trimEnd();
  return [line(t.headers), widths.map((w) => '─'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
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
