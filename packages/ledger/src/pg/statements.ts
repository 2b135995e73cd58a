/** The PostgreSQL ledger's write statements. Rows travel as one array per column (`unnest`). */
import type { CompleteParams, EntryRow } from '../rows.js'

export const TABLE = 'aegis.ledger_entries'

/** The request columns in insert order, each with the array type its `unnest` parameter has. */
const INSERT_COLUMNS: readonly [keyof EntryRow, string][] = [
  ['time', 'text'],
  ['ts', 'bigint'],
  ['request_id', 'text'],
  ['channel', 'text'],
  ['agent', 'text'],
  ['credential', 'text'],
  ['service', 'text'],
  ['target_host', 'text'],
  ['method', 'text'],
  ['path', 'text'],
  ['decision', 'text'],
  ['code', 'text'],
  ['status', 'integer'],
  ['duration_ms', 'bigint'],
  ['bytes_in', 'bigint'],
  ['bytes_out', 'bigint'],
  ['dry_run', 'text'],
  ['redactions', 'bigint'],
  ['inspection', 'text'],
  ['event', 'text'],
  ['detail', 'text'],
]

const COMPLETE_COLUMNS: readonly [keyof CompleteParams, string][] = [
  ['id', 'bigint'],
  ['decision', 'text'],
  ['code', 'text'],
  ['status', 'integer'],
  ['duration_ms', 'bigint'],
  ['bytes_in', 'bigint'],
  ['bytes_out', 'bigint'],
  ['redactions', 'bigint'],
  ['inspection', 'text'],
]

function unnest(types: readonly (readonly [unknown, string])[], first: number): string {
  return `unnest(${types.map(([, type], i) => `$${first + i}::${type}[]`).join(', ')})`
}

// One statement text for every batch size, so it is prepared once per connection (a VALUES list
// would be a new statement for every size).
function insertSql(first: number): string {
  return `INSERT INTO ${TABLE} (${INSERT_COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM ${unnest(INSERT_COLUMNS, first)} RETURNING id`
}

/** SQLite's completion UPDATE (src/ledger.ts) for a whole batch of completions of distinct ids. */
function completeSql(first: number, returning: string): string {
  return `UPDATE ${TABLE} AS e SET
  decision = coalesce(c.decision, e.decision), code = coalesce(c.code, e.code),
  status = coalesce(c.status, e.status), duration_ms = c.duration_ms, bytes_in = c.bytes_in,
  bytes_out = c.bytes_out, redactions = coalesce(c.redactions, e.redactions),
  inspection = coalesce(c.inspection, e.inspection)
  FROM ${unnest(COMPLETE_COLUMNS, first)} AS c(${COMPLETE_COLUMNS.map(([c]) => c).join(', ')})
  WHERE e.id = c.id AND e.channel <> 'system'
  RETURNING ${returning}`
}

/**
 * `name` makes node-postgres prepare the statement once per connection. Only the INSERT has one:
 * after five executions PostgreSQL may switch a prepared statement to a generic plan and keep it
 * for the connection's life, and the generic plan of the completion UPDATE, made while the
 * table was small, joins by hashing the whole table — 80 ms per batch at 200 000 rows, which took
 * a gate from 5 000 to 300 requests/s as its ledger grew. Unnamed, the UPDATE is planned for each
 * batch with the table as it is (an index lookup per id).
 */
interface Statement {
  name?: string
  text: string
  values: unknown[]
}

function columns<T>(items: readonly T[], names: readonly (readonly [keyof T, string])[]): unknown[][] {
  return names.map(([name]) => items.map((item) => item[name]))
}

const INSERT = insertSql(1)
const COMPLETE = completeSql(1, 'e.id')
const COMPLETE_ROWS = completeSql(1, 'e.*')
// Both in one statement (an autocommit statement is a transaction of its own): one round trip
// instead of BEGIN, INSERT, UPDATE, COMMIT. The UPDATE never needs the new rows: a completion
// names an id an earlier, committed batch returned.
const INSERT_COMPLETE = `WITH inserted AS (${insertSql(1)}),
  completed AS (${completeSql(INSERT_COLUMNS.length + 1, 'e.id')})
  SELECT id, true AS inserted FROM inserted UNION ALL SELECT id, false AS inserted FROM completed`

/** Inserts the rows; returns `id`s. */
export function insert(rows: readonly EntryRow[]): Statement {
  return { name: 'aegis_ledger_insert', text: INSERT, values: columns(rows, INSERT_COLUMNS) }
}

/** Applies completions of distinct ids; returns the updated rows' `id` (or whole rows). */
export function complete(completions: readonly CompleteParams[], wholeRows: boolean): Statement {
  return wholeRows
    ? { text: COMPLETE_ROWS, values: columns(completions, COMPLETE_COLUMNS) }
    : { text: COMPLETE, values: columns(completions, COMPLETE_COLUMNS) }
}

/** Both at once; returns `(id, inserted)` for each inserted and each updated row. */
export function insertAndComplete(
  rows: readonly EntryRow[],
  completions: readonly CompleteParams[],
): Statement {
  return {
    text: INSERT_COMPLETE,
    values: [...columns(rows, INSERT_COLUMNS), ...columns(completions, COMPLETE_COLUMNS)],
  }
}

/**
 * Two completions of one id in one batch, as SQLite applies them one after the other: the later
 * one's figures, and its optional fields where it has them.
 */
export function merged(completions: readonly CompleteParams[]): Map<number, CompleteParams> {
  const byId = new Map<number, CompleteParams>()
  for (const next of completions) {
    const prev = byId.get(next.id)
    byId.set(
      next.id,
      prev === undefined
        ? next
        : {
            ...next,
            decision: next.decision ?? prev.decision,
            code: next.code ?? prev.code,
            status: next.status ?? prev.status,
            redactions: next.redactions ?? prev.redactions,
            inspection: next.inspection ?? prev.inspection,
          },
    )
  }
  return byId
}
