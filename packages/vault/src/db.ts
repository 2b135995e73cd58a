import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { corruptDatabase } from './errors.js'
import * as schema from './schema.js'

/** Folder holding the generated drizzle migrations (`drizzle/` beside `src/` and `dist/`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../drizzle', import.meta.url))

export type VaultDb = BetterSQLite3Database<typeof schema>

export interface Connection {
  client: Database.Database
  db: VaultDb
}

/**
 * Opens an existing database file and sets the connection pragmas (WAL, synchronous=NORMAL,
 * foreign keys, 5 s busy timeout). Does not migrate: callers verify the master key first, so a
 * wrong key never writes.
 */
export function connect(file: string): Connection {
  const client = new Database(file, { fileMustExist: true })
  try {
    client.pragma('busy_timeout = 5000')
    client.pragma('journal_mode = WAL')
    client.pragma('synchronous = NORMAL')
    client.pragma('foreign_keys = ON')
  } catch (err) {
    client.close()
    throw err
  }
  return { client, db: drizzle({ client, schema }) }
}

/** Applies pending migrations (synchronous). */
export function migrateDatabase(conn: Connection): void {
  migrate(conn.db, { migrationsFolder: MIGRATIONS_DIR })
}

/** Reads the meta table; a file without one is not a vault database. */
export function readMeta(conn: Connection, file: string): Map<string, string> {
  const hasMeta = conn.client
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    .get()
  if (hasMeta === undefined) throw corruptDatabase(file)
  const rows = conn.db.select().from(schema.meta).all()
  return new Map(rows.map((r) => [r.key, r.value]))
}

let knownMigrations: ReadonlySet<number> | undefined

/**
 * Whether the file holds a migration this build does not know: a newer Aegis migrated it. Reads
 * drizzle's small migrations table (no row of the vault).
 */
export function hasNewerMigrations(conn: Connection): boolean {
  const table = conn.client
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get()
  if (table === undefined) return false
  knownMigrations ??= new Set(
    readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).map((m) => m.folderMillis),
  )
  const known = knownMigrations
  const rows = conn.client.prepare('SELECT created_at FROM __drizzle_migrations').all() as {
    created_at: unknown
  }[]
  return rows.some((r) => !known.has(Number(r.created_at)))
}
