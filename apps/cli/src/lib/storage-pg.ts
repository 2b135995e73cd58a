/**
 * The PostgreSQL engine of `openStorage` (lib/storage.ts), in its own module so that pg, drizzle's
 * pg-core and the packages' PostgreSQL stores load only when `storage.postgres.url` is set.
 */

import { openPgUserStore } from '@aegis/access/pg'
import type { AegisConfig } from '@aegis/config'
import { openPgLedger } from '@aegis/ledger'
import { assertSchemaCurrent } from '@aegis/pg'
import { createPgVault, destroyPgVault, listPgVaults, openPgVault } from '@aegis/vault/pg'
import { PgOutbox } from '@aegis/webhooks/pg'
import type { Pool } from 'pg'
import { openConfiguredPool, PG_MIGRATION_SETS, pgFailure, pgWhere } from './postgres.js'
import { configuredSalt, saltOption } from './salt.js'
import type { OpenStorageOptions, Storage } from './storage.js'

/** Opens the pool for `url` and checks the schema (unless `checkSchema: false`). */
export async function openPgStorage(
  config: AegisConfig,
  url: string,
  options: OpenStorageOptions,
): Promise<Storage> {
  const pool = openConfiguredPool(config, url, {
    ...(options.onPoolError !== undefined && { onError: options.onPoolError }),
  })
  try {
    // The first query also proves the server answers and takes the login.
    if (options.checkSchema === false) await pool.query('SELECT 1')
    else await assertSchemaCurrent(pool, PG_MIGRATION_SETS)
  } catch (error) {
    await pool.end().catch(() => {})
    throw pgFailure(error, url)
  }
  return pgStorage(pool, url, configuredSalt(config))
}

/**
 * PostgreSQL: every vault, the ledger, users and webhooks in one database, shared by every process
 * that names it. The stores borrow this pool; `close` ends it.
 */
function pgStorage(pool: Pool, url: string, salt: Buffer | undefined): Storage {
  // A failure past the first query (the server went away) still gets the one-line wording.
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args)
      } catch (error) {
        throw pgFailure(error, url)
      }
    }
  return {
    engine: 'postgres',
    pool,
    where: pgWhere(url),
    openVault: guarded((name: string, masterKey: string) =>
      openPgVault({ pool, name, masterKey, ...saltOption(salt) }),
    ),
    createVault: guarded((name: string, masterKey: string) =>
      createPgVault({ pool, name, masterKey, ...saltOption(salt) }),
    ),
    listVaults: guarded(() => listPgVaults(pool)),
    destroyVault: guarded((name: string) => destroyPgVault(pool, name)),
    openLedger: async () => openPgLedger({ pool }),
    openOutbox: async () => {
      const outbox = new PgOutbox(pool)
      return { ledger: openPgLedger({ pool, extensions: [outbox] }), outbox }
    },
    // No users table yet (`storage migrate` has not run: only init, doctor and storage commands get
    // here) holds no user, like a missing access.db; an empty table the store answers itself.
    openUsers: guarded(async (o?: { create?: boolean }) => {
      if (o?.create !== true) {
        const found = await pool.query<{ t: string | null }>("SELECT to_regclass('aegis.users') AS t")
        if (found.rows[0]?.t == null) return null
      }
      return openPgUserStore(pool)
    }),
    close: () => pool.end(),
  }
}
