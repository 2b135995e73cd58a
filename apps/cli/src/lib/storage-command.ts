/** What `aegis storage migrate` and `aegis storage status` share. */
import type { AegisConfig } from '@aegis/config'
import type { SchemaStatus } from '@aegis/pg'
import type { Pool } from 'pg'
import { CliError } from './errors.js'
import { openStorage } from './storage.js'

/**
 * Runs `fn` on a pool to `storage.postgres.url` (no schema check: these commands report or fix
 * it) and closes it. Without a URL there is nothing to migrate: a one-line error saying so.
 */
export async function withPostgres<R>(
  config: AegisConfig,
  command: string,
  fn: (pool: Pool, url: string) => Promise<R>,
): Promise<R> {
  const url = config.storage.postgres.url
  if (url === undefined) {
    throw new CliError(
      `aegis ${command} works on PostgreSQL: set storage.postgres.url or AEGIS_PG_URL (the SQLite files in the data directory migrate themselves when opened)`,
    )
  }
  const storage = await openStorage(config, config.vault.data_dir, { checkSchema: false })
  try {
    return await fn(storage.pool as Pool, url)
  } finally {
    await storage.close()
  }
}

const STATE_WORDS: Record<SchemaStatus['state'], string> = {
  current: 'current',
  behind: 'behind: run aegis storage migrate',
  empty: 'empty: run aegis storage migrate',
  ahead: 'AHEAD of this aegis: upgrade aegis',
}

/** One aligned line per set: `vault     2/2 applied  current`. */
export function schemaLines(sets: readonly SchemaStatus[]): string[] {
  const width = Math.max(...sets.map((s) => s.set.length))
  return sets.map((s) => `${s.set.padEnd(width)}  ${s.applied}/${s.known} applied  ${STATE_WORDS[s.state]}`)
}
