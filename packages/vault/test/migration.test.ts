import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { hashAgentToken, openVault } from '../src/index.js'
import { expectVaultError, MASTER_KEY, snapshotFiles, tempDataDir, track } from './helpers.js'

/**
 * A data dir written by the vault as it was before agents existed (schema 0000_init only):
 * vault "default", MASTER_KEY, credentials slack-bot (slack, 100/min) and gh (github, read).
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/vault-0000', import.meta.url))

function copyFixture(): string {
  const dataDir = tempDataDir()
  cpSync(FIXTURE, dataDir, { recursive: true })
  return dataDir
}

function schemaOf(file: string): { tables: string[]; migrations: number } {
  const db = new Database(file, { readonly: true })
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[]
    const migrations = db.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get() as number
    return { tables, migrations }
  } finally {
    db.close()
  }
}

describe('upgrading a vault created before agents', () => {
  it('the fixture really is the old schema', () => {
    // Read a copy: even a read-only open of a WAL database creates -wal/-shm beside it.
    expect(schemaOf(join(copyFixture(), 'vaults/default.db'))).toEqual({
      tables: ['__drizzle_migrations', 'credentials', 'meta'],
      migrations: 1,
    })
  })

  it('openVault applies the agents migration, keeps every credential, and agents work', () => {
    const dataDir = copyFixture()
    const file = join(dataDir, 'vaults/default.db')
    const v = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(schemaOf(file)).toEqual({
      tables: ['__drizzle_migrations', 'agents', 'credentials', 'grants', 'meta'],
      migrations: 4,
    })
    expect(v.loadAll().map((c) => [c.name, c.service, c.secret.reveal(), c.rateLimit])).toEqual([
      ['gh', 'github', 'ghp_fixture-secret-0000', null],
      ['slack-bot', 'slack', 'xoxb-fixture-secret-0000', '100/min'],
    ])
    expect(v.listAgents()).toEqual([])
    const { token } = v.addAgent({ name: 'bot' })
    v.grant('bot', 'gh')
    v.remove('gh')
    expect(v.getAgent('bot')?.grants).toEqual([])
    v.grant('bot', 'slack-bot')
    v.close()

    // Reopening migrates nothing further and sees the same state.
    const again = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(schemaOf(file).migrations).toBe(4)
    expect(again.loadAgents()).toEqual([
      expect.objectContaining({
        name: 'bot',
        tokenHash: hashAgentToken(token),
        grants: [again.get('slack-bot')?.id],
      }),
    ])
  })

  it('a wrong master key leaves the old vault un-migrated and byte-for-byte unchanged', () => {
    const dataDir = copyFixture()
    const before = snapshotFiles(dataDir)
    expect([...before.keys()].sort()).toEqual(['vaults.json', 'vaults/default.db'])
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: 'wrong-key' }),
      'invalid_master_key',
      'Invalid master key',
    )
    // SQLite may leave an empty -wal and a -shm index behind (no data); the rest is untouched.
    const after = snapshotFiles(dataDir)
    expect(after.get('vaults/default.db-wal') ?? Buffer.alloc(0)).toHaveLength(0)
    after.delete('vaults/default.db-wal')
    after.delete('vaults/default.db-shm')
    expect(after).toEqual(before)
    expect(schemaOf(join(dataDir, 'vaults/default.db')).migrations).toBe(1)
  })
})
