import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { Vault } from '../src/index.js'
import { expectVaultError, newVault, sampleCredential } from './helpers.js'

// A seal proves a row was written by Aegis, not that it is still current: a row saved before a
// change and put back afterwards (or after its removal) must not be honoured again.

type Saved = { table: string; row: Record<string, unknown> }

function save(v: Vault, table: string, where: string): Saved[] {
  const db = new Database(v.file, { readonly: true })
  const rows = db.prepare(`SELECT * FROM ${table} WHERE ${where}`).all() as Record<string, unknown>[]
  db.close()
  return rows.map((row) => ({ table, row }))
}

/** Puts saved rows back as they were (replacing any row of the same key). */
function replay(v: Vault, saved: Saved[]): void {
  const db = new Database(v.file)
  for (const { table, row } of saved) {
    const cols = Object.keys(row)
    db.prepare(
      `INSERT OR REPLACE INTO ${table} (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`,
    ).run(...cols.map((c) => row[c]))
  }
  db.close()
}

function setUp(): Vault {
  const v = newVault()
  v.add(sampleCredential({ domains: ['slack.com'] }))
  v.addAgent({ name: 'bot' })
  v.grant('bot', 'slack-bot')
  return v
}

function refusedEverywhere(v: Vault, table: string): void {
  const named = new RegExp(`[Vv]ault "default": its ${table} table does not match`)
  const load = v.loadCredentials()
  expect(load.credentials).toEqual([])
  for (const u of load.unavailable) expect(u.reason).toMatch(named)
  for (const a of v.loadAgents())
    expect(a).toMatchObject({ grants: [], damaged: expect.stringMatching(named) })
  expectVaultError(() => v.list(), 'corrupt', named)
  expectVaultError(() => v.listAgents(), 'corrupt', named)
  const err = expectVaultError(() => v.grant('bot', 'slack-bot'), 'corrupt', named)
  expect(err.message).toContain('aegis vault reseal --name default --confirm')
}

describe('a row saved and put back outside Aegis', () => {
  it('a grant replayed after revoke grants nothing; the vault is refused naming grants', () => {
    const v = setUp()
    const grant = save(v, 'grants', '1')
    v.revoke('bot', 'slack-bot')
    replay(v, grant)
    refusedEverywhere(v, 'grants')
  })

  it('an agent row replayed after regenerate: the old token is no identity', () => {
    const v = setUp()
    const old = save(v, 'agents', "name = 'bot'")
    v.regenerateAgentToken('bot')
    replay(v, old)
    refusedEverywhere(v, 'agents')
    const bot = v.loadAgents().find((a) => a.name === 'bot')
    expect(bot?.tokenHash).toEqual(old[0]?.row.token_hash)
  })

  it('a credential row replayed after update brings no old domains back', () => {
    const v = setUp()
    const old = save(v, 'credentials', "name = 'slack-bot'")
    v.update('slack-bot', { domains: ['api.slack.com'] })
    replay(v, old)
    refusedEverywhere(v, 'credentials')
  })

  it('rows re-inserted after agent remove and vault remove', () => {
    const v = setUp()
    const rows = [...save(v, 'agents', '1'), ...save(v, 'grants', '1')]
    v.removeAgent('bot')
    replay(v, rows)
    refusedEverywhere(v, 'agents')

    const w = setUp()
    const cred = [...save(w, 'credentials', '1'), ...save(w, 'grants', '1')]
    w.remove('slack-bot')
    replay(w, cred)
    refusedEverywhere(w, 'credentials')
  })

  it('reseal accepts the rows as they are now; the writes after it are checked again', () => {
    const v = setUp()
    const grant = save(v, 'grants', '1')
    v.revoke('bot', 'slack-bot')
    replay(v, grant)
    const stored = v.storedRows()
    expect(stored.changed).toBe('grants')
    expect(stored.grants).toEqual([{ agent: 'bot', credential: 'slack-bot', sealHolds: true }])
    expect(JSON.stringify(stored)).not.toContain('xoxb')
    v.reseal()
    expect(v.storedRows().changed).toBeNull()
    expect(v.getAgent('bot')?.grants).toEqual(['slack-bot'])
    expect(v.loadCredentials().credentials.map((c) => c.name)).toEqual(['slack-bot'])
  })

  it('writes through the vault keep the set current', () => {
    const v = setUp()
    v.update('slack-bot', { domains: ['api.slack.com'] })
    v.rotate('slack-bot', 'rotated-secret-value-1234')
    v.regenerateAgentToken('bot')
    v.setAgentLimits('bot', { rateLimit: '5/min' })
    v.revoke('bot', 'slack-bot')
    v.grant('bot', 'slack-bot')
    v.recordRbacOn('2026-01-01T00:00:00.000Z')
    expect(v.storedRows().changed).toBeNull()
    expect(v.loadAgents()[0]?.grants).toHaveLength(1)
    expect(v.rbacSince()).toBe('2026-01-01T00:00:00.000Z')
  })
})
