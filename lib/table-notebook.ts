/**
 * Tables inside a tslab notebook, as HTML: they keep their columns in a narrow notebook, where a
 * text table wraps and garbles. Outside the kernel (plain Node, the CLI, a test) the same table is
 * printed as aligned text. Takes anything with `columns` and row `values`, such as a danfojs
 * DataFrame, without depending on danfojs.
 */
import * as tslab from 'tslab';
import * as tslabJupyter from 'tslab/dist/jupyter';
import { markdownHtml } from './markdown-html';
import { isNumericColumn, plain, rowsOf, textTable, type TableLike } from './text-table';

export { textTable, type TableLike };

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function cell(value: unknown): string {
  return escapeHtml(plain(value));
}

/** An HTML table of `table`, numbers right-aligned, with an optional caption. */
export function tableHtml(table: TableLike, caption?: string): string {
  const rows = rowsOf(table);
  const numeric = table.columns.map((_, c) => isNumericColumn(rows, c));
  const align = (c: number): string => (numeric[c] ? ' style="text-align:right"' : ' style="text-align:left"');
  const head = table.columns.map((name, c) => `<th${align(c)}>${cell(name)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((value, c) => `<td${align(c)}>${cell(value)}</td>`).join('')}</tr>`).join('\n');
  const title = caption === undefined ? '' : `<caption style="text-align:left;font-weight:bold">${cell(caption)}</caption>`;
  return `<table>${title}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * True inside a running tslab kernel cell. tslab's display functions work only there: the kernel
 * sets `lastWriteDisplayData` when it executes a cell, and it stays null in plain Node (the CLI,
 * scripts, tests), where `tslab.display` would throw 'Not ready'.
 */
export function isNotebookKernel(): boolean {
  // compiled to CommonJS (dist/, what the kernel loads) the namespace is tslab's live exports object;
  // loaded as an ES module (tsx) the live object is its default export, the named ones a snapshot
  const live = (tslabJupyter as { default?: typeof tslabJupyter }).default ?? tslabJupyter;
  return live.lastWriteDisplayData !== null && live.lastWriteDisplayData !== undefined;
}

/** Shows `table` in the notebook as an HTML table (always; it throws outside a kernel). */
export function showTable(table: TableLike, caption?: string): void {
  tslab.display.html(tableHtml(table, caption));
}

/** Shows `table` as HTML inside a tslab kernel, and prints it as aligned text anywhere else. */
export function show(table: TableLike, caption?: string): void {
  if (isNotebookKernel()) showTable(table, caption);
  else console.log(textTable(table, caption));
}

/**
 * Shows markdown inside a tslab kernel, as one output holding it both as markdown and as HTML (the
 * classic Notebook shows no markdown output of an untrusted notebook, only sanitised HTML), and
 * prints it as it is anywhere else.
 */
export function showMarkdown(markdown: string): void {
  if (!isNotebookKernel()) {
    console.log(markdown);
    return;
  }
  const live = (tslabJupyter as { default?: typeof tslabJupyter }).default ?? tslabJupyter;
  live.lastWriteDisplayData({ data: { 'text/markdown': markdown, 'text/html': markdownHtml(markdown) }, metadata: {}, transient: {} }, false);
}
