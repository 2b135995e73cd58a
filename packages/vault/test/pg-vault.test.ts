import { type ChangeEvent, ChangeFeed, openPool } from '@aegis/pg'
import { scratchDatabase } from '@aegis/pg/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { LiveCredentialSource, VaultError, type VaultErrorCode, type VaultStore } from '../src/index.js'
import { createPgVault, destroyPgVault, listPgVaults, openPgVault, PG_VAULT_LOCATION } from '../src/pg.js'
import { KEY, vaultName } from './contract/vault-store.js'
import { type PgScratch, pgScratch } from './pg/engine.js'

const adminUrl = pgTestUrl('@aegis/vault PostgreSQL engine')

async function code(promise: Promise<unknown>): Promise<VaultErrorCode | 'resolved'> {
  return promise.then(
    () => 'resolved' as const,
    (e: unknown) => (e instanceof VaultError ? e.code : (String(e) as VaultErrorCode)),
  )
}

function cred(name: string, secret: string) {
  return { name, service: name, secret, domains: ['api.example.com'] }
}

/** Resolves once `check()` is true (polled every 10 ms), with the time it took; rejects after `limitMs`. */
async function within(limitMs: number, check: () => boolean): Promise<number> {
  const start = performance.now()
  while (!check()) {
    if (performance.now() - start > limitMs) throw new Error(`not within ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return performance.now() - start
}

describe.skipIf(adminUrl === undefined)('PostgreSQL vaults', () => {
  let db: PgScratch
  beforeAll(async () => {
    db = await pgScratch(adminUrl as string)
  })
  afterAll(async () => {
    await db?.close()
  })

  it('creates with a given salt; opening with another salt is invalid_input, with its own salt works', async () => {
    const name = vaultName()
    const salt = Buffer.alloc(32, 3)
    await (await createPgVault({ pool: db.pool, name, masterKey: KEY, salt })).close()
    const stored = await db.pool.query('SELECT salt FROM aegis.vaults WHERE name = $1', [name])
    expect(Buffer.from(stored.rows[0].salt).equals(salt)).toBe(true)
    await (await openPgVault({ pool: db.pool, name, masterKey: KEY, salt })).close()
    expect(await code(openPgVault({ pool: db.pool, name, masterKey: KEY, salt: Buffer.alloc(32, 4) }))).toBe(
      'invalid_input',
    )
    expect(
      await code(createPgVault({ pool: db.pool, name: vaultName(), masterKey: KEY, salt: Buffer.alloc(8) })),
    ).toBe('invalid_input')
  })

  it('create / list / open / destroy; one database holds several vaults, each its own rows', async () => {
    const a = vaultName()
    const b = vaultName()
    const va = await createPgVault({ pool: db.pool, name: a, masterKey: KEY })
    const vb = await createPgVault({ pool: db.pool, name: b, masterKey: `${KEY}-b` })
    expect(await code(createPgVault({ pool: db.pool, name: a, masterKey: KEY }))).toBe('exists')
    await va.add(cred('same', 'sk-vault-a-secret-000000001'))
    await vb.add(cred('same', 'sk-vault-b-secret-000000002'))
    await va.addAgent({ name: 'bot' })
    await vb.addAgent({ name: 'bot' })
    await va.grant('bot', 'same')
    expect((await vb.getAgent('bot'))?.grants).toEqual([])
    expect((await vb.get('same'))?.secret.reveal()).toBe('sk-vault-b-secret-000000002')
    const listed = (await listPgVaults(db.pool)).filter((v) => v.name === a || v.name === b)
    expect(listed.map((v) => [v.name, v.file, v.credentials])).toEqual([
      [a, PG_VAULT_LOCATION, 1],
      [b, PG_VAULT_LOCATION, 1],
    ])
    expect(await code(openPgVault({ pool: db.pool, name: 'nope', masterKey: KEY }))).toBe('no_vault')
    expect(await code(openPgVault({ pool: db.pool, name: 'Bad Name', masterKey: KEY }))).toBe('invalid_input')
    expect(await code(openPgVault({ pool: db.pool, name: a, masterKey: '' }))).toBe('invalid_input')

    await destroyPgVault(db.pool, a)
    expect(await code(destroyPgVault(db.pool, a))).toBe('no_vault')
    expect(await code(openPgVault({ pool: db.pool, name: a, masterKey: KEY }))).toBe('no_vault')
    // Its rows went with it (cascade); the other vault is untouched.
    const left = await db.pool.query<{ vault: string }>(
      'SELECT vault FROM aegis.credentials UNION ALL SELECT vault FROM aegis.agents UNION ALL SELECT vault FROM aegis.grants',
    )
    expect(left.rows.map((r) => r.vault)).not.toContain(a)
    expect((await vb.list()).map((c) => c.name)).toEqual(['same'])
    // A handle on a destroyed vault refuses to write rather than recreate anything.
    expect(await code(va.add(cred('again', 'sk-vault-a-secret-000000003')))).toBe('no_vault')
    await Promise.all([va.close(), vb.close()])
  })

  it('a vault destroyed and re-created under the same name: an open store says so, not "modified"', async () => {
    const name = vaultName()
    const running = await createPgVault({ pool: db.pool, name, masterKey: KEY })
    await running.add(cred('svc', 'sk-first-vault-secret-00000001'))
    expect((await running.loadCredentials()).credentials.map((c) => c.name)).toEqual(['svc'])
    await destroyPgVault(db.pool, name)
    const again = await createPgVault({ pool: db.pool, name, masterKey: KEY })
    await again.add(cred('svc', 'sk-second-vault-secret-0000002'))
    const load = await running.loadCredentials()
    expect(load.credentials).toEqual([])
    expect(load.unavailable.map((u) => u.name)).toEqual(['svc'])
    expect(load.unavailable[0]?.reason).toContain('was destroyed and re-created since this process opened it')
    expect(load.unavailable[0]?.reason).not.toMatch(/modified or copied/)
    // A store opened now serves it.
    const fresh = await openPgVault({ pool: db.pool, name, masterKey: KEY })
    expect((await fresh.loadCredentials()).credentials.map((c) => c.name)).toEqual(['svc'])
    await Promise.all([running.close(), again.close(), fresh.close()])
  })

  it('a ciphertext copied from another vault does not open (bound to vault and row)', async () => {
    const a = await createPgVault({ pool: db.pool, name: vaultName(), masterKey: KEY })
    const b = await createPgVault({ pool: db.pool, name: vaultName(), masterKey: KEY })
    await a.add(cred('x', 'sk-copied-secret-00000000000001'))
    await b.add(cred('x', 'sk-original-secret-000000000002'))
    await db.pool.query(
      `UPDATE aegis.credentials SET secret = (SELECT secret FROM aegis.credentials WHERE vault = $1) WHERE vault = $2`,
      [a.name, b.name],
    )
    const load = await b.loadCredentials()
    expect(load.credentials).toEqual([])
    expect(load.unavailable.map((u) => u.name)).toEqual(['x'])
    await Promise.all([a.close(), b.close()])
  })

  it('rows edited behind the store (unreadable settings, impossible agent limits) are reported, not served', async () => {
    const store = await createPgVault({ pool: db.pool, name: vaultName(), masterKey: KEY })
    await store.add(cred('broken', 'sk-broken-settings-secret-0001'))
    await store.add(cred('fine', 'sk-fine-settings-secret-000002'))
    await store.addAgent({ name: 'odd' })
    await store.addAgent({ name: 'ok' })
    await db.pool.query(
      `UPDATE aegis.credentials SET domains = 'not json' WHERE vault = $1 AND name = 'broken'`,
      [store.name],
    )
    await db.pool.query(`UPDATE aegis.agents SET rate_limit = 'lots' WHERE vault = $1 AND name = 'odd'`, [
      store.name,
    ])
    const load = await store.loadCredentials()
    expect(load.credentials.map((c) => c.name)).toEqual(['fine'])
    expect(load.unavailable).toMatchObject([
      { name: 'broken', reason: expect.stringMatching(/^has settings that do not match their seal/) },
    ])
    // The secret still decrypts, so the gate can keep redacting it.
    expect(load.unavailable[0]?.secret?.reveal()).toBe('sk-broken-settings-secret-0001')
    const agents = await store.loadAgents()
    expect(agents.map((a) => [a.name, a.damaged ?? null, a.tokenHash.length])).toEqual([
      // The edit fails the row's seal; the stored hash is kept only to refuse that token by name.
      [
        'odd',
        'has a stored identity or limits that do not match their seal: the row was added or changed outside Aegis (or copied from another vault)',
        32,
      ],
      ['ok', null, 32],
    ])
    expect(await code(store.listAgents())).toBe('corrupt')
    await store.close()
  })

  it('an unmigrated database: a clear io error pointing at `aegis storage migrate`', async () => {
    const empty = await scratchDatabase(adminUrl as string)
    const pool = openPool({ url: empty.url, max: 1 })
    try {
      const err = await openPgVault({ pool, name: 'default', masterKey: KEY }).catch((e: VaultError) => e)
      expect(err).toBeInstanceOf(VaultError)
      expect((err as VaultError).code).toBe('io')
      expect((err as VaultError).message).toMatch(/aegis storage migrate/)
      // drizzle's wrapper quotes the SQL and its parameters; never passed on.
      expect((err as VaultError).message).not.toMatch(/Failed query|params|select/i)
    } finally {
      await pool.end()
      await empty.drop()
    }
  })

  it('after a scripted run no table in schema aegis, and no notification, holds a secret in any encoding', async () => {
    const listener = new pg.Client({ connectionString: db.url })
    await listener.connect()
    const payloads: string[] = []
    listener.on('notification', (m) => payloads.push(m.payload ?? ''))
    await listener.query('LISTEN aegis_changes')

    const secrets = [
      'sk-scan-first-secret-9f8e7d6c5b4a',
      'sk-scan-rotated-secret-0a1b2c3d4e5f',
      'whsec-scan-sealed-7a7a7a7a7a',
    ]
    const store = await createPgVault({ pool: db.pool, name: vaultName(), masterKey: KEY })
    await store.add({ ...cred('scan', secrets[0] as string), rateLimit: '10/min' })
    await store.rotate('scan', secrets[1] as string)
    await store.update('scan', { domains: ['b.example.com'] })
    const { token } = await store.addAgent({ name: 'scanner' })
    const regenerated = await store.regenerateAgentToken('scanner')
    await store.grant('scanner', 'scan')
    const sealed = store.sealSecret('webhook:1', secrets[2] as string)
    await db.pool.query('CREATE TABLE aegis.scan_probe (v bytea)')
    await db.pool.query('INSERT INTO aegis.scan_probe VALUES ($1)', [sealed]) // what a caller stores
    await new Promise((r) => setTimeout(r, 200))
    await listener.end()

    const needles = [...secrets, token, regenerated.token, KEY].flatMap((s) => {
      const b = Buffer.from(s, 'utf8')
      return [s, b.toString('base64'), b.toString('base64url'), b.toString('hex')]
    })
    const tables = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'aegis'`,
    )
    expect(tables.rows.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['vaults', 'credentials', 'agents', 'grants', 'aegis_versions']),
    )
    let cells = 0
    for (const { table_name } of tables.rows) {
      const { rows } = await db.pool.query(`SELECT * FROM aegis."${table_name}"`)
      for (const row of rows as Record<string, unknown>[]) {
        for (const value of Object.values(row)) {
          cells++
          const text = Buffer.isBuffer(value)
            ? [value.toString('latin1'), value.toString('base64'), value.toString('hex')].join('\n')
            : String(value)
          for (const needle of needles)
            expect(text.includes(needle), `${table_name} holds a secret`).toBe(false)
        }
      }
    }
    expect(cells).toBeGreaterThan(20)
    expect(payloads.length).toBeGreaterThan(0)
    for (const p of payloads) expect(Object.keys(JSON.parse(p)).sort()).toEqual(['topic', 'version'])
    await store.close()
  })

  describe('LiveCredentialSource fed by a ChangeFeed', () => {
    let writer: VaultStore
    let reader: VaultStore
    let source: LiveCredentialSource
    let feed: ChangeFeed
    const events: ChangeEvent[] = []
    const errors: Error[] = []

    beforeAll(async () => {
      const name = vaultName()
      writer = await createPgVault({ pool: db.pool, name, masterKey: KEY })
      reader = await openPgVault({ pool: db.other, name, masterKey: KEY })
      source = await LiveCredentialSource.open(reader, { onError: (e) => errors.push(e) })
      // A long poll interval: what these tests see comes from notifications and reconnects.
      feed = new ChangeFeed(db.other, {
        url: db.url,
        pollIntervalMs: 60_000,
        minBackoffMs: 300,
        onEvent: (event) => {
          events.push(event)
          void source.reload()
        },
        onError: () => {},
      })
      await feed.start()
    })
    afterAll(async () => {
      await feed?.close()
      await Promise.all([writer?.close(), reader?.close()])
    })

    it('a credential added, an agent granted and revoked through another store is visible within 1 s', async () => {
      await writer.add(cred('live', 'sk-live-secret-000000000000001'))
      const added = await within(1000, () => source.loadAll().some((c) => c.name === 'live'))
      expect(added).toBeLessThan(1000)
      await writer.addAgent({ name: 'bot' })
      await writer.grant('bot', 'live')
      await within(1000, () => (source.loadAgents().find((a) => a.name === 'bot')?.grants.length ?? 0) === 1)
      await writer.revoke('bot', 'live')
      await within(1000, () => source.loadAgents().find((a) => a.name === 'bot')?.grants.length === 0)
      expect(errors).toEqual([])
    })

    it('after its connection is terminated, a change made while it was down is picked up on reconnect', async () => {
      const killed = await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'aegis-changes'`,
      )
      expect(killed.rowCount).toBe(1)
      await within(2000, () => !feed.connected)
      await writer.add(cred('while-down', 'sk-while-down-secret-0000000001'))
      // No notification reached the feed for that change; the reconnect's reload brings it.
      await within(5000, () => source.loadAll().some((c) => c.name === 'while-down'))
      expect(feed.connected).toBe(true)
      expect(events.some((e) => e.kind === 'reload' && e.reason === 'reconnect')).toBe(true)
    })
  })

  it('a revocation whose reload failed (the gate pool was busy) still arrives, with no later change', async () => {
    // A gate's pool of one connection, held by a ledger write stuck behind a lock: the reload the
    // notification started times out waiting for it. The feed stays connected and its poll finds
    // nothing new (the version was announced), so only the source's own retry brings the change.
    const name = vaultName()
    const writer = await createPgVault({ pool: db.pool, name, masterKey: KEY })
    const busy = openPool({ url: db.url, max: 1, connectTimeoutMs: 200, applicationName: 'vault-test-busy' })
    const reader = await openPgVault({ pool: busy, name, masterKey: KEY })
    const errors: Error[] = []
    await writer.add(cred('live', 'sk-live-secret-000000000000002'))
    await writer.addAgent({ name: 'bot' })
    await writer.grant('bot', 'live')
    const source = await LiveCredentialSource.open(reader, { onError: (e) => errors.push(e) })
    const feed = new ChangeFeed(db.pool, {
      url: db.url,
      pollIntervalMs: 60_000,
      onEvent: () => void source.reload(),
      onError: () => {},
    })
    await feed.start()
    try {
      expect(source.loadAgents().find((a) => a.name === 'bot')?.grants).toHaveLength(1)
      const held = await busy.connect()
      try {
        await writer.revoke('bot', 'live')
        await within(3000, () => errors.length > 0)
        // A reload queued behind the failed one (one per notification) fails the same way.
        await new Promise((r) => setTimeout(r, 500))
      } finally {
        held.release()
      }
      await within(1500, () => source.loadAgents().find((a) => a.name === 'bot')?.grants.length === 0)
      expect(feed.connected).toBe(true)
    } finally {
      source.close()
      await feed.close()
      await Promise.all([writer.close(), reader.close()])
      await busy.end()
    }
  })
})
