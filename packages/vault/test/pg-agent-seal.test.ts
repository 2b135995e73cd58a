import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { deriveKeySync, seal, vaultStateContext } from '../src/crypto.js'
import { hashAgentToken, VaultError } from '../src/index.js'
import { createPgVault, openPgVault } from '../src/pg.js'
import { KEY, vaultName } from './contract/vault-store.js'
import { type PgScratch, pgScratch } from './pg/engine.js'

// The PostgreSQL engine seals agent and grant rows as SQLite does: a grant or an agent added with
// SQL behind the store's back (write access to the database, no master key) gives nothing.

const adminUrl = pgTestUrl('@aegis/vault PostgreSQL agent and grant seals')
const AGENT_SEAL_MISMATCH = /has a stored identity or limits that do not match their seal/

async function vaultError(promise: Promise<unknown>): Promise<VaultError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(VaultError)
  return err as VaultError
}

describe.skipIf(adminUrl === undefined)('PostgreSQL: sealed agents and grants', () => {
  let db: PgScratch
  beforeAll(async () => {
    db = await pgScratch(adminUrl as string)
  })
  afterAll(async () => {
    await db?.close()
  })

  /** A vault with credential api, agent bot (5/min, no grant) and agent other granted api. */
  async function vaultWithAgents(): Promise<{ name: string; bot: string; other: string; api: string }> {
    const name = vaultName()
    const store = await createPgVault({ pool: db.pool, name, masterKey: KEY })
    const api = await store.add({
      name: 'api',
      service: 'api',
      secret: 'sk-pg-agent-seal-1b2c3d4e5f',
      domains: ['api.example.com'],
    })
    const bot = await store.addAgent({ name: 'bot', rateLimit: '5/min' })
    const other = await store.addAgent({ name: 'other' })
    await store.grant('other', 'api')
    await store.close()
    return { name, bot: bot.agent.id, other: other.agent.id, api: api.id }
  }

  it('a grant inserted with SQL grants nothing; a sealed one copied to another agent neither', async () => {
    const { name, bot, other, api } = await vaultWithAgents()
    await db.pool.query(
      `INSERT INTO aegis.grants (vault, agent_id, credential_id, created_at, seal)
       SELECT vault, $2, credential_id, created_at, seal FROM aegis.grants WHERE vault = $1 AND agent_id = $3`,
      [name, bot, other],
    )
    const store = await openPgVault({ pool: db.other, name, masterKey: KEY })
    try {
      // The set accepted as it is now (vault reseal): the row's own seal still fails.
      await store.reseal()
      const agents = await store.loadAgents()
      expect(agents.find((a) => a.name === 'bot')).toMatchObject({ grants: [], refusedGrants: [api] })
      expect(agents.find((a) => a.name === 'other')?.grants).toEqual([api])
      const err = await vaultError(store.listAgents())
      expect(err.message).toMatch(/^The grant of credential "api" to agent "bot" does not match its seal/)
      // An operator's grant replaces the forged row.
      expect(await store.grant('bot', 'api')).toBe(true)
      expect((await store.getAgent('bot'))?.grants).toEqual(['api'])
    } finally {
      await store.close()
    }
  })

  it('an agent inserted with the hash of a chosen token, or edited limits, are refused', async () => {
    const { name } = await vaultWithAgents()
    await db.pool.query(
      `INSERT INTO aegis.agents (vault, id, name, token_hash, prefix, created_at, updated_at)
       VALUES ($1, 'forged-id', 'intruder', $2, 'aegis_AAAAAA', 'x', 'x')`,
      [name, hashAgentToken(`aegis_${'A'.repeat(43)}`)],
    )
    await db.pool.query("UPDATE aegis.agents SET max_in_flight = 1000 WHERE vault = $1 AND name = 'bot'", [
      name,
    ])
    const store = await openPgVault({ pool: db.other, name, masterKey: KEY })
    try {
      await store.reseal()
      const agents = await store.loadAgents()
      for (const n of ['intruder', 'bot']) {
        expect(agents.find((a) => a.name === n)).toMatchObject({
          damaged: expect.stringMatching(AGENT_SEAL_MISMATCH),
          maxInFlight: null,
          rateLimit: null,
        })
      }
      expect((await vaultError(store.listAgents())).message).toMatch(AGENT_SEAL_MISMATCH)
      expect((await vaultError(store.setAgentLimits('bot', { maxInFlight: 2 }))).code).toBe('corrupt')
      expect((await vaultError(store.regenerateAgentToken('bot'))).code).toBe('corrupt')
    } finally {
      await store.close()
    }
  })

  it('a sealed grant saved and put back after revoke is not honoured: the grants table is not the set last written', async () => {
    const { name } = await vaultWithAgents()
    const saved = await db.pool.query('SELECT * FROM aegis.grants WHERE vault = $1', [name])
    const writer = await openPgVault({ pool: db.other, name, masterKey: KEY })
    expect(await writer.revoke('other', 'api')).toBe(true)
    await writer.close()
    for (const row of saved.rows as Record<string, unknown>[]) {
      const columns = Object.keys(row)
      await db.pool.query(
        `INSERT INTO aegis.grants (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => row[c]),
      )
    }
    const store = await openPgVault({ pool: db.other, name, masterKey: KEY })
    try {
      expect((await vaultError(store.listAgents())).message).toMatch(/its grants table does not match/)
      expect((await store.loadAgents()).find((a) => a.name === 'other')?.grants ?? []).toEqual([])
      expect((await vaultError(store.grant('bot', 'api'))).message).toMatch(/aegis vault reseal/)
    } finally {
      await store.close()
    }
  })

  it('a format-2 vault is upgraded on open; marked back to 2 afterwards, it is refused', async () => {
    const { name } = await vaultWithAgents()
    const { rows } = await db.pool.query<{ salt: Buffer; kdf_iterations: number }>(
      'SELECT salt, kdf_iterations FROM aegis.vaults WHERE name = $1',
      [name],
    )
    const key = deriveKeySync(KEY, rows[0]?.salt as Buffer, rows[0]?.kdf_iterations)
    const state = JSON.stringify({
      label: 'aegis-vault-state',
      format: 2,
      rbacSince: '2026-02-03T04:05:06.000Z',
    })
    await db.pool.query("UPDATE aegis.vaults SET format_version = '2', key_check = $2 WHERE name = $1", [
      name,
      seal(key, state, vaultStateContext(name)),
    ])
    await db.pool.query('UPDATE aegis.agents SET seal = NULL WHERE vault = $1', [name])
    await db.pool.query('UPDATE aegis.grants SET seal = NULL WHERE vault = $1', [name])

    const store = await openPgVault({ pool: db.other, name, masterKey: KEY })
    try {
      const format = await db.pool.query('SELECT format_version FROM aegis.vaults WHERE name = $1', [name])
      expect(format.rows[0].format_version).toBe('5')
      expect((await store.listAgents()).map((a) => [a.name, a.grants])).toEqual([
        ['bot', []],
        ['other', ['api']],
      ])
    } finally {
      await store.close()
    }
    await db.pool.query("UPDATE aegis.vaults SET format_version = '2' WHERE name = $1", [name])
    const err = await vaultError(openPgVault({ pool: db.other, name, masterKey: KEY }))
    expect(err.message).toMatch(/its stored format does not match its key check/)
  })

  it('a vault a newer release wrote says so, and is left as it is', async () => {
    const { name } = await vaultWithAgents()
    await db.pool.query("UPDATE aegis.vaults SET format_version = '6' WHERE name = $1", [name])
    const err = await vaultError(openPgVault({ pool: db.other, name, masterKey: KEY }))
    expect(err.message).toBe(
      `Vault "${name}" (PostgreSQL) was written by a newer release of Aegis (vault format 6; this one reads up to 5): run that release or a later one; nothing was changed`,
    )
    const row = await db.pool.query('SELECT format_version FROM aegis.vaults WHERE name = $1', [name])
    expect(row.rows[0]?.format_version).toBe('6')
  })
})
