import { chmodSync, closeSync, existsSync, openSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { AccessError } from './errors.js'
import * as schema from './schema.js'

/** Folder holding the generated drizzle migrations (`drizzle/` beside `src/` and `dist/`). */
const MIGRATIONS_DIR = fileURLToPath(new URL('../drizzle', import.meta.url))

export type AccessDb = BetterSQLite3Database<typeof schema>

export interface Connection {
  client: Database.Database
  db: AccessDb
}

/**
 * Opens (and with `create`, first creates with mode 0600) the access database and migrates it;
 * null when the file is missing and `create` is false. The journal stays in SQLite's default
 * rollback mode, not WAL: every command reads this file to authenticate, and a WAL reader leaves
 * `-wal`/`-shm` files behind, so a refused command would change the data directory.
 */
export function connect(file: string, create: boolean): Connection | null {
  if (!existsSync(file)) {
    if (!create) return null
    // Created 0600 before SQLite opens it: its journal files take the database file's mode.
    closeSync(openSync(file, 'a', 0o600))
    chmodSync(file, 0o600)
  }
  const client = new Database(file, { fileMustExist: true })
  try {
    client.pragma('busy_timeout = 5000')
    const db = drizzle({ client, schema })
    migrate(db, { migrationsFolder: MIGRATIONS_DIR })
    return { client, db }
  } catch (error) {
    client.close()
    throw new AccessError('corrupt', unreadableStore(file, error), { cause: error })
  }
}

/**
 * Why the store could not be read, in one line: the driver's error under drizzle's wrapper (whose
 * message is the SQL it ran), and for a damaged file what to do about it.
 */
function unreadableStore(file: string, error: unknown): string {
  const driver = (error as { cause?: unknown }).cause ?? error
  const code = String((driver as { code?: unknown }).code ?? '')
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return `User store is corrupted: ${file} is not a valid database: restore it from a backup, or move it aside: where RBAC was on, the holder of the master key then adds a new first admin (aegis user recover --name <name>); where it never was, that is bootstrap (aegis user add --name <name> --role admin)`
  }
  const message = driver instanceof Error ? driver.message : String(driver)
  return `Cannot read the user store ${file}: ${message.split('\n')[0]}`
}
