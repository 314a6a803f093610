/**
 * Lays out rows as a plain-text table: a header row, a rule, then the rows,
 * columns padded to their widest cell; columns listed in `rightAligned`
 * (numbers) are right-aligned. Lines end with `\n`.
 * @example
 * renderTable(['name', 'count'], [['alloc', '3']], [1]);
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (rightAligned.includes(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].map((l) => `${l}\n`).join('');
}
