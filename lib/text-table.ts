/**
 * A table as aligned plain text, for a terminal or a plain Node script: the text twin of the HTML
 * tables notebooks show (lib/table-notebook.ts). No dependency on the notebook kernel.
 */

export interface TableLike {
  columns: readonly string[];
  /** One array per row (a one-column frame may give plain values: each is then a row of one). */
  values: ReadonlyArray<unknown>;
}

export function rowsOf(table: TableLike): ReadonlyArray<ReadonlyArray<unknown>> {
  return table.values.map((row) => (Array.isArray(row) ? row : [row]));
}

export function plain(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

export function isNumericColumn(rows: ReadonlyArray<ReadonlyArray<unknown>>, c: number): boolean {
  return rows.length > 0 && rows.every((row) => typeof row[c] === 'number');
}

/**
 * The same table as aligned plain text (numbers right-aligned), caption on the first line: what a
 * terminal or a plain Node script shows.
 */
export function textTable(table: TableLike, caption?: string): string {
  const rows = rowsOf(table);
  const cells = [table.columns.map(plain), ...rows.map((row) => table.columns.map((_, c) => plain(row[c])))];
  const widths = table.columns.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const numeric = table.columns.map((_, c) => isNumericColumn(rows, c));
  const line = (row: readonly string[]): string =>
    row.map((text, c) => (numeric[c] ? text.padStart(widths[c]!) : text.padEnd(widths[c]!))).join('  ').trimEnd();
  const lines = [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  return (caption === undefined ? lines : [caption, ...lines]).join('\n');
}
