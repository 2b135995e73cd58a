import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { deriveKeySync, KEY_CHECK_PLAINTEXT, keyCheckContext, seal } from '../src/crypto.js'
import { VaultError } from '../src/index.js'
import { createPgVault, openPgVault } from '../src/pg.js'
import { KEY, vaultName } from './contract/vault-store.js'
import { type PgScratch, pgScratch } from './pg/engine.js'

// The PostgreSQL engine seals credential settings as SQLite does: rows edited with SQL behind the
// store's back (what someone with write access to the database but no master key does) are refused.

const adminUrl = pgTestUrl('@aegis/vault PostgreSQL settings seal')
const SECRET = 'sk-pg-seal-secret-6f3b9e1d2c4a8b7e5f0a'

async function vaultError(promise: Promise<unknown>): Promise<VaultError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(VaultError)
  return err as VaultError
}

describe.skipIf(adminUrl === undefined)('PostgreSQL: sealed credential settings', () => {
  let db: PgScratch
  beforeAll(async () => {
    db = await pgScratch(adminUrl as string)
  })
  afterAll(async () => {
    await db?.close()
  })

  async function vaultWithRow(): Promise<string> {
    const name = vaultName()
    const store = await createPgVault({ pool: db.pool, name, masterKey: KEY })
    await store.add({
      name: 'api',
      service: 'api',
      secret: SECRET,
      domains: ['api.example.com'],
      rateLimit: '5/min',
    })
    await store.add({
      name: 'other',
      service: 'other',
      secret: `${SECRET}-2`,
      domains: ['other.example.com'],
    })
    await store.close()
    return name
  }

  it.each([
    ['the domains', `domains = '["evil.example"]'`],
    ['the header', `auth_type = 'header', header_name = 'x-leak'`],
    ['the rate limit', 'rate_limit = NULL'],
    ['the expiry', `expires_at = '2999-01-01T00:00:00.000Z'`],
    ['the seal', 'seal = NULL'],
  ])(
    '%s edited with SQL: get, list and update refuse it; loadCredentials lists it unavailable',
    async (_l, set) => {
      const name = await vaultWithRow()
      await db.pool.query(`UPDATE aegis.credentials SET ${set} WHERE vault = $1 AND name = 'api'`, [name])
      const store = await openPgVault({ pool: db.other, name, masterKey: KEY })
      try {
        // The set of rows accepted as it is now (vault reseal; the seal edit changed the set): the
        // row's own seal still fails.
        await store.reseal()
        for (const call of [
          () => store.get('api'),
          () => store.list(),
          () => store.update('api', { rateLimit: '1/min' }),
        ]) {
          const err = await vaultError(call())
          expect(err.code).toBe('corrupt')
          expect(err.message).toMatch(/^Credential "api" has settings that do not match their seal/)
          expect(err.message).not.toContain(SECRET)
        }
        const load = await store.loadCredentials()
        expect(load.credentials.map((c) => c.name)).toEqual(['other'])
        expect(load.unavailable.map((u) => [u.name, u.reason.split(':')[0]])).toEqual([
          ['api', 'has settings that do not match their seal'],
        ])
      } finally {
        await store.close()
      }
    },
  )

  it('a format-1 vault is sealed on open; afterwards an unsealed row is refused', async () => {
    const name = await vaultWithRow()
    // Turn it back into what a format-1 vault is: no seals, the v1 key check.
    const { rows } = await db.pool.query<{ salt: Buffer; kdf_iterations: number }>(
      'SELECT salt, kdf_iterations FROM aegis.vaults WHERE name = $1',
      [name],
    )
    const key = deriveKeySync(KEY, rows[0]?.salt as Buffer, rows[0]?.kdf_iterations)
    await db.pool.query("UPDATE aegis.vaults SET format_version = '1', key_check = $2 WHERE name = $1", [
      name,
      seal(key, KEY_CHECK_PLAINTEXT, keyCheckContext(name)),
    ])
    await db.pool.query('UPDATE aegis.credentials SET seal = NULL WHERE vault = $1', [name])

    const store = await openPgVault({ pool: db.other, name, masterKey: KEY })
    try {
      const format = await db.pool.query('SELECT format_version FROM aegis.vaults WHERE name = $1', [name])
      expect(format.rows[0].format_version).toBe('5')
      expect((await store.loadCredentials()).credentials.map((c) => c.name)).toEqual(['api', 'other'])
      await db.pool.query("UPDATE aegis.credentials SET seal = NULL WHERE vault = $1 AND name = 'api'", [
        name,
      ])
      // The set of rows changed: nothing is served until it is accepted, then the row still fails.
      expect((await store.loadCredentials()).unavailable.map((u) => u.name)).toEqual(['api', 'other'])
      await store.reseal()
      expect((await store.loadCredentials()).unavailable.map((u) => u.name)).toEqual(['api'])
    } finally {
      await store.close()
    }
  })

  it('a format-2 vault marked as format 1 is refused on open, and nothing is sealed', async () => {
    const name = await vaultWithRow()
    await db.pool.query(
      `UPDATE aegis.credentials SET domains = '["evil.example"]', seal = NULL WHERE vault = $1 AND name = 'api'`,
      [name],
    )
    await db.pool.query("UPDATE aegis.vaults SET format_version = '1' WHERE name = $1", [name])
    const err = await vaultError(openPgVault({ pool: db.other, name, masterKey: KEY }))
    expect(err.code).toBe('corrupt')
    expect(err.message).toMatch(/its stored format does not match its key check/)
    const { rows } = await db.pool.query(
      "SELECT seal FROM aegis.credentials WHERE vault = $1 AND name = 'api'",
      [name],
    )
    expect(rows[0].seal).toBeNull()
  })
})
