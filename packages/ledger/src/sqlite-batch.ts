import type Database from 'better-sqlite3'
import type { BatchResult } from './group-commit.js'
import {
  COMPLETION_CODE,
  COMPLETION_DECISION,
  COMPLETION_FIGURES,
  COMPLETION_ID,
  COMPLETION_INSPECTION,
  COMPLETION_WIDTH,
  type EntryRow,
  entryOfValues,
  ROW_COLUMNS,
  ROW_DECISION,
  ROW_WIDTH,
  toEntry,
} from './rows.js'
import type { Decision, LedgerEntry } from './types.js'

/** What the batch transaction needs of an extension (see `LedgerExtension`). */
export interface BatchExtension {
  readonly decisions?: readonly Decision[]
  written(entries: readonly LedgerEntry[]): void
}

// Positional parameters: binding by name costs a property lookup per column per row, which shows
// on the gate's hot path (every request is written before it is forwarded).
const INSERT = `INSERT INTO entries (${ROW_COLUMNS}) VALUES (${ROW_COLUMNS.split(', ')
  .map(() => '?')
  .join(', ')})`
const COMPLETE = `UPDATE entries SET
  decision = coalesce(?, decision), code = coalesce(?, code), status = coalesce(?, status),
  duration_ms = ?, bytes_in = ?, bytes_out = ?,
  redactions = coalesce(?, redactions), inspection = coalesce(?, inspection)
  WHERE id = ? AND channel <> 'system'`
// The usual completion (no new decision, code or inspection: a forwarded request that ended well)
// leaves those columns alone, so the decision index is not touched.
const COMPLETE_PLAIN = `UPDATE entries SET
  status = coalesce(?, status), duration_ms = ?, bytes_in = ?, bytes_out = ?,
  redactions = coalesce(?, redactions)
  WHERE id = ? AND channel <> 'system'`

/** The figures COMPLETE_PLAIN sets, in its parameter order, before the id. */
const PLAIN_FIGURES = 5

/**
 * The group-commit transaction of the SQLite ledger, on flat batches (`pushRow`, `pushCompletion`):
 * every row inserted, every completion applied and every extension told, in ONE transaction that
 * throws (nothing written) when any part fails. The same code runs on the event loop (`writer:
 * 'inline'`) and in the writer thread (`writer: 'worker'`).
 */
export function sqliteBatchWriter(
  db: Database.Database,
  extensions: readonly BatchExtension[],
): (rows: readonly unknown[], completions: readonly unknown[]) => BatchResult {
  const insert = db.prepare(INSERT)
  const update = db.prepare(COMPLETE)
  const updatePlain = db.prepare(COMPLETE_PLAIN)
  const byId = db.prepare('SELECT * FROM entries WHERE id = ?')
  const rowValues = new Array<unknown>(ROW_WIDTH)
  const plainValues = new Array<unknown>(PLAIN_FIGURES + 1)
  const completeValues = new Array<unknown>(COMPLETION_WIDTH)
  return db.transaction((rows: readonly unknown[], completions: readonly unknown[]): BatchResult => {
    const ids: number[] = []
    for (let at = 0; at < rows.length; at += ROW_WIDTH) {
      for (let i = 0; i < ROW_WIDTH; i++) rowValues[i] = rows[at + i]
      ids.push(Number(insert.run(rowValues).lastInsertRowid))
    }
    let completed = 0
    // Entries a completion decided anew (a streamed body found too large: blocked): rare.
    let decided: number[] | null = null
    for (let at = 0; at < completions.length; at += COMPLETION_WIDTH) {
      const decision = completions[at + COMPLETION_DECISION]
      const id = completions[at + COMPLETION_ID] as number
      let changes: number
      // Figures only (no new decision, code or inspection): the plain UPDATE.
      if (
        decision === null &&
        completions[at + COMPLETION_CODE] === null &&
        completions[at + COMPLETION_INSPECTION] === null
      ) {
        for (let i = 0; i < PLAIN_FIGURES; i++) plainValues[i] = completions[at + COMPLETION_FIGURES + i]
        plainValues[PLAIN_FIGURES] = id
        changes = updatePlain.run(plainValues).changes
      } else {
        for (let i = 0; i < COMPLETION_WIDTH; i++) completeValues[i] = completions[at + i]
        changes = update.run(completeValues).changes
      }
      if (changes > 0) {
        completed++
        if (decision !== null && extensions.length > 0) {
          decided = decided ?? []
          decided.push(id)
        }
      }
    }
    // Built only for an extension that wants them: an allowed request costs the gate no object.
    for (const extension of extensions) {
      const wanted = extension.decisions
      const written: LedgerEntry[] = []
      for (let i = 0; i < ids.length; i++) {
        const at = i * ROW_WIDTH
        if (wanted === undefined || wanted.includes(rows[at + ROW_DECISION] as Decision))
          written.push(entryOfValues(rows, at, ids[i] as number))
      }
      for (const id of decided ?? []) {
        const row = byId.get(id) as EntryRow & { id: number }
        if (wanted === undefined || wanted.includes(row.decision)) written.push(toEntry(row))
      }
      if (written.length > 0) extension.written(written)
    }
    return { ids, completed }
  })
}
