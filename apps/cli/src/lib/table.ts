import { escapeUnprintable } from '@aegis/guard'

/**
 * Renders rows as left-aligned columns separated by two spaces, with a header row. Every cell is
 * shown through `escapeUnprintable`: a table is read in a terminal, and a value (a ledger row an
 * older gate stored, a name) must neither drive it (ANSI/OSC sequences, CR overwrites) nor reorder
 * or hide text (bidi controls, zero-width characters).
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const shown = rows.map((row) => row.map(escapeUnprintable))
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...shown.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    headers
      .map((_, column) => (cells[column] ?? '').padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(headers), ...shown.map(line)].join('\n')
}
