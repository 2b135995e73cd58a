import type { Pool, PoolClient } from 'pg'
import type { BatchResult } from '../group-commit.js'
import type { StoredRow } from '../queries.js'
import { type CompleteParams, type EntryRow, toEntry } from '../rows.js'
import type { LedgerEntry } from '../types.js'
import type { PgLedgerExtension } from './extension.js'
import { INT8_AS_NUMBER } from './sql.js'
import { complete, insert, insertAndComplete, merged } from './statements.js'

/**
 * Writes one batch atomically: the new rows (ids in input order) and the completions. Without
 * extensions that is ONE statement in its own transaction; with them, a transaction around the
 * statements and the extensions' writes. Throws when nothing was committed; resolves only after
 * the commit.
 */
export async function writeBatch(
  pool: Pool,
  extensions: readonly PgLedgerExtension[],
  rows: EntryRow[],
  completions: CompleteParams[],
): Promise<BatchResult> {
  const distinct = [...merged(completions).values()]
  if (!concernsAnExtension(extensions, rows, distinct)) return alone(pool, rows, completions, distinct)
  const client = await pool.connect()
  // The pool listens for errors of idle connections only. A connection that dies while checked
  // out (the server restarted, an admin terminated it) emits 'error' on the client: unheard, Node
  // turns it into an exception that would end the gate. Here it only marks the connection broken;
  // the statement in flight (or the next) rejects and fails the batch.
  let broken: Error | undefined
  const onError = (error: Error): void => {
    broken ??= error
  }
  client.on('error', onError)
  try {
    try {
      await client.query('BEGIN')
    } catch (error) {
      broken ??= error as Error // nothing works on this connection
      throw error
    }
    try {
      const result = await inTransaction(client, extensions, rows, completions, distinct)
      // An extension that swallowed a failed statement leaves the transaction aborted, and COMMIT
      // then rolls back without an error: only the command tag tells.
      const commit = await client.query('COMMIT')
      if (commit.command !== 'COMMIT') throw new Error(`COMMIT answered ${commit.command}`)
      return result
    } catch (error) {
      // An error the server did not send (no SQLSTATE: the answer never came in time, the socket
      // failed) leaves the connection in an unknown state, a query possibly still pending on it: a
      // ROLLBACK would only queue behind that. The connection is dropped instead.
      if (broken === undefined && !fromServer(error)) broken = error as Error
      if (broken === undefined) {
        await client.query('ROLLBACK').catch((rollback: Error) => {
          broken ??= rollback
        })
      }
      throw error
    }
  } finally {
    client.off('error', onError)
    // A broken connection is closed instead of going back to the pool.
    client.release(broken)
  }
}

/** An error response of the server (it carries a SQLSTATE), as opposed to one of the client or socket. */
function fromServer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
}

/**
 * Whether any extension could be handed an entry of this batch: a new row with a decision it
 * wants, or a completion that decides anew (rare; its row is only known after the update). The
 * gate always runs with the webhook outbox, which wants blocked entries only, so a batch of
 * allowed requests takes the one-statement path instead of BEGIN, statements, COMMIT.
 */
function concernsAnExtension(
  extensions: readonly PgLedgerExtension[],
  rows: readonly EntryRow[],
  distinct: readonly CompleteParams[],
): boolean {
  if (extensions.length === 0) return false
  if (distinct.some((c) => c.decision !== null)) return true
  return extensions.some(
    (extension) =>
      extension.decisions === undefined || rows.some((row) => extension.decisions?.includes(row.decision)),
  )
}

/** Identity values are drawn in insertion order, so ascending ids are the rows' order. */
function inOrder(ids: number[], expected: number): number[] {
  if (ids.length !== expected) throw new Error(`inserted ${ids.length} of ${expected} rows`)
  return ids.sort((a, b) => a - b)
}

function completedCount(completions: readonly CompleteParams[], updated: Iterable<number>): number {
  const hit = new Set(updated)
  return completions.filter((c) => hit.has(c.id)).length
}

async function alone(
  pool: Pool,
  rows: EntryRow[],
  completions: CompleteParams[],
  distinct: CompleteParams[],
): Promise<BatchResult> {
  if (distinct.length === 0) {
    const result = await pool.query<{ id: number }>({ ...insert(rows), types: INT8_AS_NUMBER })
    return {
      ids: inOrder(
        result.rows.map((r) => r.id),
        rows.length,
      ),
      completed: 0,
    }
  }
  if (rows.length === 0) {
    const result = await pool.query<{ id: number }>({ ...complete(distinct, false), types: INT8_AS_NUMBER })
    return {
      ids: [],
      completed: completedCount(
        completions,
        result.rows.map((r) => r.id),
      ),
    }
  }
  const result = await pool.query<{ id: number; inserted: boolean }>({
    ...insertAndComplete(rows, distinct),
    types: INT8_AS_NUMBER,
  })
  const ids: number[] = []
  const updated: number[] = []
  for (const r of result.rows) (r.inserted ? ids : updated).push(r.id)
  return { ids: inOrder(ids, rows.length), completed: completedCount(completions, updated) }
}

async function inTransaction(
  client: PoolClient,
  extensions: readonly PgLedgerExtension[],
  rows: EntryRow[],
  completions: CompleteParams[],
  distinct: CompleteParams[],
): Promise<BatchResult> {
  let ids: number[] = []
  if (rows.length > 0) {
    const inserted = await client.query<{ id: number }>({ ...insert(rows), types: INT8_AS_NUMBER })
    ids = inOrder(
      inserted.rows.map((r) => r.id),
      rows.length,
    )
  }
  let completed = 0
  // Entries a completion decided anew (a streamed body found too large: blocked), in completion
  // order, as SQLite passes them: rare, so only then are whole rows read back.
  const decided: LedgerEntry[] = []
  if (distinct.length > 0) {
    const wholeRows = distinct.some((c) => c.decision !== null)
    const updated = await client.query<StoredRow>({ ...complete(distinct, wholeRows), types: INT8_AS_NUMBER })
    completed = completedCount(
      completions,
      updated.rows.map((r) => r.id),
    )
    if (wholeRows) {
      const rowOf = new Map(updated.rows.map((r) => [r.id, r]))
      for (const c of distinct) {
        const row = c.decision === null ? undefined : rowOf.get(c.id)
        if (row !== undefined) decided.push(toEntry(row))
      }
    }
  }
  for (const extension of extensions) {
    const wanted = extension.decisions
    const written: LedgerEntry[] = []
    rows.forEach((row, i) => {
      if (wanted === undefined || wanted.includes(row.decision))
        written.push(toEntry({ ...row, id: ids[i] ?? 0 }))
    })
    for (const entry of decided)
      if (wanted === undefined || wanted.includes(entry.decision)) written.push(entry)
    if (written.length > 0) await extension.written(client, written)
  }
  return { ids, completed }
}
