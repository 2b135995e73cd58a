import { migrate, openPool } from '@aegis/pg'
import { scratchDatabase } from '@aegis/pg/testing'
import type { Pool } from 'pg'
import { VAULT_PG_MIGRATIONS } from '../../src/index.js'
import { createPgVault, openPgVault } from '../../src/pg.js'
import type { VaultStoreEngine } from '../contract/vault-store.js'

/** A migrated scratch database with two pools: `pool` (the first process) and `other` (a second). */
export interface PgScratch {
  url: string
  pool: Pool
  other: Pool
  engine: VaultStoreEngine
  close(): Promise<void>
}

export async function pgScratch(adminUrl: string): Promise<PgScratch> {
  const scratch = await scratchDatabase(adminUrl)
  const pool = openPool({ url: scratch.url, max: 4, applicationName: 'vault-test-a' })
  const other = openPool({ url: scratch.url, max: 4, applicationName: 'vault-test-b' })
  await migrate(pool, [VAULT_PG_MIGRATIONS])
  const close = async () => {
    await Promise.all([pool.end(), other.end()])
    await scratch.drop()
  }
  const engine: VaultStoreEngine = {
    create: (name, masterKey) => createPgVault({ pool, name, masterKey }),
    open: (name, masterKey) => openPgVault({ pool: other, name, masterKey }),
    async storedSecret(vault, credential) {
      const { rows } = await pool.query<{ secret: Buffer }>(
        'SELECT secret FROM aegis.credentials WHERE vault = $1 AND name = $2',
        [vault, credential],
      )
      if (!rows[0]) throw new Error(`no credential ${credential}`)
      return rows[0].secret
    },
    async setStoredSecret(vault, credential, envelope) {
      await pool.query('UPDATE aegis.credentials SET secret = $1 WHERE vault = $2 AND name = $3', [
        envelope,
        vault,
        credential,
      ])
    },
    close,
  }
  return { url: scratch.url, pool, other, engine, close }
}
