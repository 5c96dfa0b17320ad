// Pieces of the page shared by its sections: escaping, number formats, tables and figures.
import type { Chart } from './charts.js';

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export const int = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
export const dec = (n: number | null, digits = 2) =>
  n === null
    ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const pct = (n: number | null, digits = 1) =>
  n === null ? '—' : `${dec(n * 100, digits)} %`;

/** A table of pre-escaped cells; columns from `numericFrom` on align right, except those in `textCols`. */
export function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  numericFrom = 1,
  textCols: readonly number[] = [],
): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const num = (i: number) => i >= numericFrom && !textCols.includes(i);
  const tr = rows
    .map(
      (r) => `<tr>${r.map((c, i) => `<td${num(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

export function figure(charts: readonly Chart[], id: string): string {
  const chart = charts.find((c) => c.id === id);
  return chart === undefined
    ? ''
    : `<figure class="chart" data-chart="${id}">${chart.svg}</figure>`;
}
