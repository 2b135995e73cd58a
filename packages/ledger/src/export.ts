import { stringify } from 'csv-stringify/sync'
import { LedgerError } from './errors.js'
import { BackpressureWriter } from './output.js'
import type { ExportFormat, LedgerEntry, LedgerFilter } from './types.js'

/** CSV columns, in order; the header row uses these (camelCase, as in the JSON shape). */
export const CSV_COLUMNS: readonly (keyof LedgerEntry)[] = [
  'id',
  'time',
  'requestId',
  'channel',
  'agent',
  'credential',
  'service',
  'targetHost',
  'method',
  'path',
  'decision',
  'code',
  'status',
  'durationMs',
  'bytesIn',
  'bytesOut',
  'dryRun',
  'redactions',
  'inspection',
  'event',
  'detail',
]

/**
 * Leading characters that make a spreadsheet treat a cell as a formula (OWASP's CSV injection list
 * and ASVS 1.2.10): `= + - @`, their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20, which
 * spreadsheets in CJK locales read as the ASCII ones), tab, CR, LF and NUL.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters looked for
const FORMULA_START = /^[=+\-@\uff1d\uff0b\uff0d\uff20\t\r\n\u0000]/

/** Prefixes `'` to a text cell a spreadsheet would evaluate. Numbers are left alone. */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value
}

/**
 * RFC 4180 records (CRLF, quoting as needed) with formula neutralisation of text cells.
 * `quoted_match`: with a CRLF record delimiter, csv-stringify quotes a field only when it holds the
 * whole `\r\n`, so a lone CR or LF would otherwise end up bare in the output.
 */
function csvRecords(records: unknown[][]): string {
  return stringify(records, {
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
    cast: { string: neutraliseFormula },
  })
}

/** Flush to the output once this many characters are buffered. */
const CHUNK = 64 * 1024

const FORMATS: ReadonlySet<string> = new Set<ExportFormat>(['csv', 'json', 'jsonl'])

/** Throws `invalid_filter` unless `format` is csv, json or jsonl. */
export function assertFormat(format: ExportFormat): void {
  if (!FORMATS.has(format)) {
    throw new LedgerError('invalid_filter', 'Invalid export format: expected csv, json or jsonl')
  }
}

/**
 * Streams the matching entries of either engine (oldest first, `store.iterate`) to `out` as csv,
 * json or jsonl, waiting for 'drain' whenever `out` asks for it. Does not end `out`. Resolves with
 * the number of rows written.
 */
export async function exportLedger(
  store: { iterate(filter?: LedgerFilter): AsyncIterable<LedgerEntry> | Iterable<LedgerEntry> },
  format: ExportFormat,
  filter: LedgerFilter,
  out: NodeJS.WritableStream,
): Promise<{ rows: number }> {
  assertFormat(format)
  return writeExport(format, store.iterate(filter), out)
}

/**
 * Streams entries to `out` in the given format. json is one array written incrementally, jsonl
 * one entry per line, csv a header row plus one record per entry. Resolves with the row count.
 * One writer for both engines: the SQLite ledger's sync iterator and PostgreSQL's async one.
 */
export async function writeExport(
  format: ExportFormat,
  entries: AsyncIterable<LedgerEntry> | Iterable<LedgerEntry>,
  out: NodeJS.WritableStream,
): Promise<{ rows: number }> {
  const writer = new BackpressureWriter(out)
  let rows = 0
  let buffer = ''
  const push = async (text: string): Promise<void> => {
    buffer += text
    if (buffer.length >= CHUNK) {
      const chunk = buffer
      buffer = ''
      await writer.write(chunk)
    }
  }
  try {
    if (format === 'csv') await push(csvRecords([[...CSV_COLUMNS]]))
    if (format === 'json') await push('[')
    for await (const entry of entries) {
      if (format === 'csv') await push(csvRecords([CSV_COLUMNS.map((key) => entry[key] ?? null)]))
      else if (format === 'json') await push(`${rows === 0 ? '\n' : ',\n'}${JSON.stringify(entry)}`)
      else await push(`${JSON.stringify(entry)}\n`)
      rows++
    }
    if (format === 'json') buffer += rows === 0 ? ']\n' : '\n]\n'
    if (buffer !== '') await writer.write(buffer)
    return { rows }
  } finally {
    writer.release()
  }
}
