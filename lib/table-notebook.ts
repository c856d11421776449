/**
 * Tables inside a tslab notebook, as HTML: they keep their columns in a narrow notebook, where a
 * text table wraps and garbles. Takes anything with `columns` and row `values`, such as a
 * danfojs DataFrame, without depending on danfojs.
 */
import * as tslab from 'tslab';
import * as tslabJupyter from 'tslab/dist/jupyter';

export interface TableLike {
  columns: readonly string[];
  /** One array per row (a one-column frame may give plain values: each is then a row of one). */
  values: ReadonlyArray<unknown>;
}

function rowsOf(table: TableLike): ReadonlyArray<ReadonlyArray<unknown>> {
  return table.values.map((row) => (Array.isArray(row) ? row : [row]));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function cell(value: unknown): string {
  return escapeHtml(value === null || value === undefined ? '' : String(value));
}

/** An HTML table of `table`, numbers right-aligned, with an optional caption. */
export function tableHtml(table: TableLike, caption?: string): string {
  const rows = rowsOf(table);
  const numeric = table.columns.map((_, c) => rows.every((row) => typeof row[c] === 'number'));
  const align = (c: number): string => (numeric[c] ? ' style="text-align:right"' : ' style="text-align:left"');
  const head = table.columns.map((name, c) => `<th${align(c)}>${cell(name)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((value, c) => `<td${align(c)}>${cell(value)}</td>`).join('')}</tr>`).join('\n');
  const title = caption === undefined ? '' : `<caption style="text-align:left;font-weight:bold">${cell(caption)}</caption>`;
  return `<table>${title}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Shows `table` in the notebook as an HTML table. */
export function showTable(table: TableLike, caption?: string): void {
  tslab.display.html(tableHtml(table, caption));
}

/** True inside a running tslab kernel (where `display` reaches the notebook); false in plain Node. */
export function isNotebookKernel(): boolean {
  // tslab sets its display writer when the kernel starts; outside a kernel, display throws "Not ready"
  return tslabJupyter.lastWriteDisplayData != null;
}
