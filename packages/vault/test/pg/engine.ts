import { migrate, openPool } from '@aegis/pg'
import { scratchDatabase } from '@aegis/pg/testing'
import type { Pool } from 'pg'
import { deriveKeySync } from '../../src/crypto.js'
import { VAULT_PG_MIGRATIONS } from '../../src/index.js'
import { createPgVault, openPgVault } from '../../src/pg.js'
import type { VaultStoreEngine } from '../contract/vault-store.js'
import { format4Of, type RawRows } from '../fixtures/format4.js'

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
    async storedState(vault) {
      const { rows } = await pool.query<{ format_version: string; key_check: Buffer }>(
        'SELECT format_version, key_check FROM aegis.vaults WHERE name = $1',
        [vault],
      )
      if (!rows[0]) throw new Error(`no vault ${vault}`)
      return { format: rows[0].format_version, keyCheck: rows[0].key_check }
    },
    async setStoredState(vault, state) {
      await pool.query('UPDATE aegis.vaults SET format_version = $2, key_check = $3 WHERE name = $1', [
        vault,
        state.format,
        state.keyCheck,
      ])
    },
    async makeFormat4(vault, masterKey) {
      const { rows } = await pool.query<{ salt: Buffer; kdf_iterations: number; key_check: Buffer }>(
        'SELECT salt, kdf_iterations, key_check FROM aegis.vaults WHERE name = $1',
        [vault],
      )
      const stored = rows[0]
      if (!stored) throw new Error(`no vault ${vault}`)
      const key = deriveKeySync(masterKey, stored.salt, stored.kdf_iterations)
      const select = async (sql: string) => (await pool.query(sql, [vault])).rows as Record<string, unknown>[]
      const raw: RawRows = {
        credentials: await select('SELECT * FROM aegis.credentials WHERE vault = $1 ORDER BY id'),
        agents: await select('SELECT * FROM aegis.agents WHERE vault = $1 ORDER BY id'),
        grants: await select('SELECT * FROM aegis.grants WHERE vault = $1 ORDER BY agent_id, credential_id'),
      }
      const f4 = format4Of(key, vault, stored.key_check, raw)
      for (const [i, r] of raw.credentials.entries())
        await pool.query('UPDATE aegis.credentials SET seal = $3 WHERE vault = $1 AND id = $2', [
          vault,
          r.id,
          f4.credentialSeals[i],
        ])
      for (const [i, r] of raw.agents.entries())
        await pool.query('UPDATE aegis.agents SET seal = $3 WHERE vault = $1 AND id = $2', [
          vault,
          r.id,
          f4.agentSeals[i],
        ])
      for (const [i, r] of raw.grants.entries())
        await pool.query(
          'UPDATE aegis.grants SET seal = $4 WHERE vault = $1 AND agent_id = $2 AND credential_id = $3',
          [vault, r.agent_id, r.credential_id, f4.grantSeals[i]],
        )
      await pool.query("UPDATE aegis.vaults SET format_version = '4', key_check = $2 WHERE name = $1", [
        vault,
        f4.keyCheck,
      ])
    },
    close,
  }
  return { url: scratch.url, pool, other, engine, close }
}
