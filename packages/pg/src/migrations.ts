import { fileURLToPath } from 'node:url'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator'
import type { Pool, PoolClient } from 'pg'
import { SchemaError } from './errors.js'
import { liftReadTimeout } from './pool.js'

/** The PostgreSQL schema every Aegis table (and every migrations table) lives in. */
export const AEGIS_SCHEMA = 'aegis'

/**
 * One package's migrations: a drizzle-kit folder (`meta/_journal.json` + SQL files) and the table,
 * in schema `aegis`, that records which of them ran. Each package has its own table, so a gate
 * built with a newer vault and an older ledger is judged per package.
 */
export interface MigrationSet {
  name: string
  folder: string
  table: string
}

/** The `aegis` schema, `aegis_versions` and the `bump_version()` trigger function. */
export const CORE_MIGRATIONS: MigrationSet = {
  name: 'core',
  folder: fileURLToPath(new URL('../drizzle-core', import.meta.url)),
  table: '__migrations_core',
}

/**
 * `empty`: nothing applied yet. `behind`: this build knows migrations the database lacks.
 * `ahead`: the database holds a migration this build does not know (a newer Aegis migrated it).
 */
export type SchemaState = 'empty' | 'behind' | 'current' | 'ahead'

export interface SchemaStatus {
  set: string
  state: SchemaState
  applied: number
  known: number
}

// Any constant works as long as every Aegis process uses the same one: it serialises migrations
// across gates and CLIs that start at once ("CREATE SCHEMA IF NOT EXISTS" alone races).
const MIGRATION_LOCK = 0x4145_4749_53 // "AEGIS"

function knownMillis(set: MigrationSet): number[] {
  return readMigrationFiles({ migrationsFolder: set.folder }).map((m) => m.folderMillis)
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

async function appliedMillis(db: Pool | PoolClient, set: MigrationSet): Promise<number[]> {
  const exists = await db.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
    `${quoted(AEGIS_SCHEMA)}.${quoted(set.table)}`,
  ])
  if (exists.rows[0]?.t == null) return []
  const rows = await db.query<{ created_at: string }>(
    `SELECT created_at FROM ${quoted(AEGIS_SCHEMA)}.${quoted(set.table)} ORDER BY created_at`,
  )
  return rows.rows.map((r) => Number(r.created_at))
}

function judge(set: MigrationSet, applied: number[], known: number[]): SchemaStatus {
  const knownSet = new Set(known)
  const last = applied.length === 0 ? -Infinity : Math.max(...applied)
  let state: SchemaState
  if (applied.some((millis) => !knownSet.has(millis))) state = 'ahead'
  else if (applied.length === 0) state = known.length === 0 ? 'current' : 'empty'
  else if (known.some((millis) => millis > last)) state = 'behind'
  else state = 'current'
  return { set: set.name, state, applied: applied.length, known: known.length }
}

/** Where one package's schema stands in this database. */
export async function schemaStatus(db: Pool | PoolClient, set: MigrationSet): Promise<SchemaStatus> {
  return judge(set, await appliedMillis(db, set), knownMillis(set))
}

function withCore(sets: readonly MigrationSet[]): MigrationSet[] {
  return [CORE_MIGRATIONS, ...sets.filter((s) => s.name !== CORE_MIGRATIONS.name)]
}

function aheadError(status: SchemaStatus): SchemaError {
  return new SchemaError(
    'schema_ahead',
    `The PostgreSQL schema of "${status.set}" is newer than this aegis (${status.applied} migrations applied, ` +
      `${status.known} known): upgrade aegis; refusing to run against it`,
  )
}

/**
 * Applies the core migrations and then each set's, in order, under one advisory lock, and returns
 * every set's status afterwards. Refuses, changing nothing, when any set is ahead of this build.
 */
export async function migrate(pool: Pool, sets: readonly MigrationSet[]): Promise<SchemaStatus[]> {
  const all = withCore(sets)
  const client = await pool.connect()
  let restoreReadTimeout = () => {}
  try {
    // A migration may rewrite a large table, or wait for another host's: no statement timeout for
    // this session, on the server nor on the client.
    await client.query('SET statement_timeout = 0')
    restoreReadTimeout = liftReadTimeout(client)
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    try {
      for (const set of all) {
        const status = await schemaStatus(client, set)
        if (status.state === 'ahead') throw aheadError(status)
      }
      const db = drizzle(client)
      for (const set of all) {
        await drizzleMigrate(db, {
          migrationsFolder: set.folder,
          migrationsTable: set.table,
          migrationsSchema: AEGIS_SCHEMA,
        })
      }
      const after: SchemaStatus[] = []
      for (const set of all) after.push(await schemaStatus(client, set))
      return after
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
      await client.query('RESET statement_timeout')
    }
  } finally {
    restoreReadTimeout()
    client.release()
  }
}

const knownBySet = new Map<string, ReadonlySet<number>>()

/**
 * The first set (the core included) holding a migration this build does not know — a newer Aegis
 * migrated the database since this process checked it — or null. One query over the migrations
 * tables (each known set's migrations read from disk once per process): cheap enough for a running
 * gate to ask every second. Every set's table must exist (the schema was current at start).
 */
export async function newerSchema(
  db: Pool | PoolClient,
  sets: readonly MigrationSet[],
): Promise<SchemaStatus | null> {
  const all = withCore(sets)
  const sql = all
    .map((set, i) => `SELECT ${i} AS i, created_at FROM ${quoted(AEGIS_SCHEMA)}.${quoted(set.table)}`)
    .join(' UNION ALL ')
  const rows = await db.query<{ i: number; created_at: string }>(sql)
  for (const [i, set] of all.entries()) {
    let known = knownBySet.get(set.folder)
    if (known === undefined) {
      known = new Set(knownMillis(set))
      knownBySet.set(set.folder, known)
    }
    const applied = rows.rows.filter((r) => r.i === i).map((r) => Number(r.created_at))
    if (applied.some((millis) => !known.has(millis))) return judge(set, applied, [...known])
  }
  return null
}

/**
 * Throws a `SchemaError` unless every set (and the core) is current: `schema_ahead` when a newer
 * Aegis migrated the database (a gate must not write rows it does not understand), and
 * `schema_empty` / `schema_behind` when `aegis storage migrate` has not run for this build.
 */
export async function assertSchemaCurrent(pool: Pool, sets: readonly MigrationSet[]): Promise<void> {
  const statuses: SchemaStatus[] = []
  for (const set of withCore(sets)) statuses.push(await schemaStatus(pool, set))
  const ahead = statuses.find((s) => s.state === 'ahead')
  if (ahead) throw aheadError(ahead)
  const lagging = statuses.filter((s) => s.state !== 'current')
  if (lagging.length === 0) return
  const empty = lagging.every((s) => s.state === 'empty')
  const which = lagging.map((s) => `${s.set} ${s.applied}/${s.known}`).join(', ')
  throw new SchemaError(
    empty ? 'schema_empty' : 'schema_behind',
    empty
      ? `The PostgreSQL database has no Aegis tables yet: run \`aegis storage migrate\``
      : `The PostgreSQL schema is behind this aegis (${which} migrations applied): run \`aegis storage migrate\``,
  )
}
