import pg from 'pg'
import type { Read } from '../plan.js'

/** node-postgres `QueryConfig` without the driver's generics, as the ledger builds it. */
export interface Query {
  name?: string
  text: string
  values: unknown[]
  types: typeof INT8_AS_NUMBER
}

const INT8 = 20

/**
 * Type parsers for the ledger's own queries: bigint (ids, epoch ms, counts, `count(*)`) read as a
 * number, as SQLite returns them — every value the ledger stores is below 2^53. Passed per query,
 * so the host's pool and other stores keep the driver's defaults.
 */
export const INT8_AS_NUMBER = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
}

const compiled = new Map<string, { text: string; names: string[] }>()

/**
 * A shared read (`@name` parameters, see plan.ts) as a PostgreSQL query (`$n`; a name used twice
 * is one parameter). The plans' SQL has no `@` anywhere else.
 */
export function toQuery(read: Read): Query {
  let entry = compiled.get(read.sql)
  if (entry === undefined) {
    const names: string[] = []
    const text = read.sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      let index = names.indexOf(name)
      if (index === -1) index = names.push(name) - 1
      return `$${index + 1}`
    })
    entry = { text, names }
    // Bounded: one entry per filter shape, order and aggregate.
    compiled.set(read.sql, entry)
  }
  return { text: entry.text, values: entry.names.map((name) => read.params[name]), types: INT8_AS_NUMBER }
}
