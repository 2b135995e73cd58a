/**
 * Reads written once for both engines. A plan is a generator: it validates its input, yields the
 * reads it needs (SQL with `@name` parameters) one at a time, receives each read's rows, and
 * returns the result. The SQLite ledger runs plans synchronously on its connection, the PostgreSQL
 * ledger asynchronously on its pool; the SQL, the checks and the mapping of rows are the same.
 */

/** One statement. `key` names its SQL text (same key, same text) for statement caching. */
export interface Read {
  key: string
  sql: string
  params: Record<string, unknown>
}

export type Plan<T> = Generator<Read, T, unknown[]>

/** What differs between the engines in otherwise shared SQL. */
export interface Dialect {
  /** The entries table, qualified as needed. */
  readonly entries: string
  /**
   * Appended to a text sort key so both engines sort by code point: SQLite's default collation is
   * bytewise, PostgreSQL's is the database's locale (which puts `B` between `a` and `c`).
   */
  readonly byteOrder: string
  /** A condition true for the rows whose id is in the parameter `@ids`, and that parameter's value. */
  idsIn(ids: readonly number[]): { sql: string; value: unknown }
}

export function runSync<T>(plan: Plan<T>, all: (read: Read) => unknown[]): T {
  let step = plan.next()
  while (!step.done) step = plan.next(all(step.value))
  return step.value
}

export async function runAsync<T>(plan: Plan<T>, all: (read: Read) => Promise<unknown[]>): Promise<T> {
  let step = plan.next()
  while (!step.done) step = plan.next(await all(step.value))
  return step.value
}

/** `WHERE a` + `b` → `WHERE a AND b`; `''` + `b` → `WHERE b`. */
export function and(where: string, term: string): string {
  return where === '' ? `WHERE ${term}` : `${where} AND ${term}`
}
