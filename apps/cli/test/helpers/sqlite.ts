import { createRequire } from 'node:module'
import { join } from 'node:path'
import { CLI_ROOT } from './run-cli.js'

/** SQLite as an editor of the data files would use it (the CLI has no better-sqlite3 of its own). */
export interface SqliteDb {
  exec(sql: string): void
  prepare(sql: string): { all(...params: unknown[]): unknown[]; run(...params: unknown[]): unknown }
  close(): void
}

export const Database = createRequire(join(CLI_ROOT, '../../packages/access/package.json'))(
  'better-sqlite3',
) as new (
  file: string,
) => SqliteDb
