import { createHash } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { deriveKeySync, seal, settingsSealKey, vaultStateContext } from '../src/crypto.js'
import { hashAgentToken, openVault, type Vault } from '../src/index.js'
import { sealSettings } from '../src/settings-seal.js'
import {
  expectVaultError,
  MASTER_KEY,
  newVault,
  sampleCredential,
  TEST_SALT,
  tempDataDir,
  track,
} from './helpers.js'

// Agent and grant rows are sealed like credential settings: an agent with write access to the data
// directory but no master key cannot give itself a credential (a grant row), an identity (an agents
// row holding the hash of a token it chose) or higher limits (an edited agents row).

const AGENT_SEAL_MISMATCH = /has a stored identity or limits that do not match their seal/
const CHOSEN_TOKEN = `aegis_${'A'.repeat(43)}`

function edit(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file)
  try {
    db.prepare(sql).run(...params)
  } finally {
    db.close()
  }
}

function ids(v: Vault): { agent: string; other: string; credential: string } {
  const agents = v.listAgents()
  return {
    agent: agents.find((a) => a.name === 'bot')?.id ?? '',
    other: agents.find((a) => a.name === 'other')?.id ?? '',
    credential: v.list()[0]?.id ?? '',
  }
}

/** A vault with credential slack-bot, agent `bot` (no grant) and agent `other` granted slack-bot. */
function vaultWithAgents(dataDir?: string): Vault {
  const v = newVault(dataDir)
  v.add(sampleCredential())
  v.addAgent({ name: 'bot', rateLimit: '5/min', maxInFlight: 2 })
  v.addAgent({ name: 'other' })
  v.grant('other', 'slack-bot')
  return v
}

describe('a grant row added outside the vault', () => {
  it('grants nothing: the gate load leaves it out and names it; list refuses it by name', () => {
    const v = vaultWithAgents()
    const { agent, credential } = ids(v)
    edit(v.file, "INSERT INTO grants VALUES (?, ?, 'x', NULL)", agent, credential)
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    v.reseal()

    const bot = v.loadAgents().find((a) => a.name === 'bot')
    expect(bot?.grants).toEqual([])
    expect(bot?.refusedGrants).toEqual([credential])
    expect(bot?.damaged).toBeUndefined()
    // The genuine grant of the other agent still holds.
    expect(v.loadAgents().find((a) => a.name === 'other')?.grants).toEqual([credential])

    const refused = /^The grant of credential "slack-bot" to agent "bot" does not match its seal/
    expectVaultError(() => v.listAgents(), 'corrupt', refused)
    expectVaultError(() => v.getAgent('bot'), 'corrupt', refused)
  })

  it('a sealed grant copied to another agent is refused (the seal binds both ids)', () => {
    const v = vaultWithAgents()
    const { agent, other, credential } = ids(v)
    const db = new Database(v.file)
    const sealed = db
      .prepare('SELECT seal FROM grants WHERE agent_id = ? AND credential_id = ?')
      .pluck()
      .get(other, credential)
    db.prepare("INSERT INTO grants VALUES (?, ?, 'x', ?)").run(agent, credential, sealed)
    db.close()
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    v.reseal()
    expect(v.loadAgents().find((a) => a.name === 'bot')).toMatchObject({
      grants: [],
      refusedGrants: [credential],
    })
  })

  it('an operator grant of the same pair replaces the forged row, and revoke removes it', () => {
    const v = vaultWithAgents()
    const { agent, credential } = ids(v)
    edit(v.file, "INSERT INTO grants VALUES (?, ?, 'x', randomblob(32))", agent, credential)
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    v.reseal()
    expect(v.grant('bot', 'slack-bot')).toBe(true)
    expect(v.loadAgents().find((a) => a.name === 'bot')).toMatchObject({ grants: [credential] })
    expect(v.loadAgents().find((a) => a.name === 'bot')?.refusedGrants).toBeUndefined()
    expect(v.getAgent('bot')?.grants).toEqual(['slack-bot'])
    expect(v.grant('bot', 'slack-bot')).toBe(false)
  })
})

describe('an agent row added or edited outside the vault', () => {
  it('a row holding the hash of a chosen token is not an identity; list and get name it', () => {
    const v = vaultWithAgents()
    const hash = hashAgentToken(CHOSEN_TOKEN)
    expect(hash).toEqual(createHash('sha256').update(CHOSEN_TOKEN).digest())
    edit(
      v.file,
      "INSERT INTO agents (id, name, token_hash, prefix, created_at, updated_at) VALUES ('forged-id', 'intruder', ?, 'aegis_AAAAAA', 'x', 'x')",
      hash,
    )
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    v.reseal()
    const intruder = v.loadAgents().find((a) => a.name === 'intruder')
    expect(intruder?.damaged).toMatch(AGENT_SEAL_MISMATCH)
    expect(intruder).toMatchObject({ grants: [], rateLimit: null, maxInFlight: null })
    const err = expectVaultError(() => v.listAgents(), 'corrupt', /^Agent "intruder" has a stored identity/)
    expect(err.message).not.toContain(hash.toString('hex'))
    expect(err.message).toContain('aegis agent remove --name intruder')
    expectVaultError(() => v.getAgent('intruder'), 'corrupt', AGENT_SEAL_MISMATCH)
    // The others are untouched.
    expect(v.loadAgents().find((a) => a.name === 'other')?.damaged).toBeUndefined()
  })

  it.each([
    ['its rate limit', "UPDATE agents SET rate_limit = '100000/s' WHERE name = 'bot'"],
    ['its rate limit (cleared)', "UPDATE agents SET rate_limit = NULL WHERE name = 'bot'"],
    ['its in-flight cap', "UPDATE agents SET max_in_flight = 1000 WHERE name = 'bot'"],
    ['its token hash', "UPDATE agents SET token_hash = randomblob(32) WHERE name = 'bot'"],
    ['its name', "UPDATE agents SET name = 'renamed' WHERE name = 'bot'"],
    ['its seal (NULL)', "UPDATE agents SET seal = NULL WHERE name = 'bot'"],
  ])('an edit of %s is refused: no limits served, and no write seals it', (_label, sql) => {
    const v = vaultWithAgents()
    edit(v.file, sql)
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    v.reseal()
    const bot = v.loadAgents().find((a) => a.name !== 'other')
    expect(bot?.damaged).toMatch(AGENT_SEAL_MISMATCH)
    expect(bot).toMatchObject({ rateLimit: null, maxInFlight: null, grants: [] })
    const name = bot?.name ?? ''
    expectVaultError(() => v.setAgentLimits(name, { maxInFlight: 3 }), 'corrupt', AGENT_SEAL_MISMATCH)
    expectVaultError(() => v.regenerateAgentToken(name), 'corrupt', AGENT_SEAL_MISMATCH)
    expect(v.loadAgents().find((a) => a.name === name)?.damaged).toMatch(AGENT_SEAL_MISMATCH)
    v.removeAgent(name)
    expect(v.loadAgents().map((a) => a.name)).toEqual(['other'])
  })

  it('writes through the vault keep the seal: set limits, regenerate, grant', () => {
    const v = vaultWithAgents()
    v.setAgentLimits('bot', { rateLimit: '9/min', maxInFlight: null })
    v.regenerateAgentToken('bot')
    v.grant('bot', 'slack-bot')
    const bot = v.loadAgents().find((a) => a.name === 'bot')
    expect(bot?.damaged).toBeUndefined()
    expect(bot).toMatchObject({ rateLimit: '9/min', maxInFlight: null })
    expect(bot?.grants).toHaveLength(1)
  })

  it('a row copied from another vault (same key) is refused: the seal names its vault', () => {
    const dataDir = tempDataDir()
    const a = vaultWithAgents(dataDir)
    const b = newVault(dataDir, 'second')
    b.addAgent({ name: 'copied' })
    const src = new Database(b.file, { readonly: true })
    const row = src.prepare("SELECT * FROM agents WHERE name = 'copied'").get() as Record<string, unknown>
    src.close()
    const cols = Object.keys(row)
    edit(
      a.file,
      `INSERT INTO agents (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`,
      ...cols.map((c) => row[c]),
    )
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    a.reseal()
    expect(a.loadAgents().find((x) => x.name === 'copied')?.damaged).toMatch(AGENT_SEAL_MISMATCH)
  })
})

describe('the format that seals agents and grants', () => {
  /**
   * Turns a current vault back into format 2 (agents and grants unsealed, credentials sealed under
   * the subkey of formats 2 and 3), as only the key can. `keepNewSeals`: the credentials keep the
   * seals format 4 gave them (an old key check put back over rows written since).
   */
  function makeFormat2(file: string, keepNewSeals = false): void {
    const key = deriveKeySync(MASTER_KEY, TEST_SALT)
    if (!keepNewSeals) {
      const db = new Database(file)
      for (const r of db.prepare('SELECT * FROM credentials').all() as Record<string, unknown>[]) {
        const former = sealSettings(settingsSealKey(key), 'default', {
          id: String(r.id),
          name: String(r.name),
          service: String(r.service),
          domains: String(r.domains),
          authType: String(r.auth_type),
          headerName: r.header_name as string | null,
          queryParam: r.query_param as string | null,
          scopes: String(r.scopes),
          expiresAt: r.expires_at as string | null,
          rateLimit: r.rate_limit as string | null,
          bodyInspection: String(r.body_inspection),
        })
        db.prepare('UPDATE credentials SET seal = ? WHERE id = ?').run(former, r.id)
      }
      db.close()
    }
    const state = JSON.stringify({
      label: 'aegis-vault-state',
      format: 2,
      rbacSince: '2026-01-02T03:04:05.000Z',
    })
    const check = seal(key, state, vaultStateContext('default')).toString('base64')
    edit(file, "UPDATE meta SET value = ? WHERE key = 'key_check'", check)
    edit(file, "UPDATE meta SET value = '2' WHERE key = 'format_version'")
    edit(file, 'UPDATE agents SET seal = NULL')
    edit(file, 'UPDATE grants SET seal = NULL')
  }

  function meta(file: string, key: string): string | undefined {
    const db = new Database(file, { readonly: true })
    try {
      return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined
    } finally {
      db.close()
    }
  }

  it('a format-2 vault is upgraded on open: its agents and grants sealed as they are, its state kept', () => {
    const dataDir = tempDataDir()
    vaultWithAgents(dataDir).close()
    const file = join(dataDir, 'vaults/default.db')
    makeFormat2(file)
    const v = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(meta(file, 'format_version')).toBe('5')
    expect(v.rbacSince()).toBe('2026-01-02T03:04:05.000Z')
    expect(v.loadAgents().every((a) => a.damaged === undefined && a.refusedGrants === undefined)).toBe(true)
    expect(v.getAgent('other')?.grants).toEqual(['slack-bot'])
    // From now on an unsealed grant grants nothing.
    const { agent, credential } = ids(v)
    edit(file, "INSERT INTO grants VALUES (?, ?, 'x', NULL)", agent, credential)
    expect(v.loadAgents().find((a) => a.name === 'bot')?.damaged).toMatch(/its grants table does not match/)
    v.reseal()
    expect(v.loadAgents().find((a) => a.name === 'bot')?.refusedGrants).toEqual([credential])
  })

  it('a format-3 vault marked as format 2 (so a forged grant would be sealed) is refused on open', () => {
    const dataDir = tempDataDir()
    const v = vaultWithAgents(dataDir)
    const { agent, credential } = ids(v)
    v.close()
    const file = join(dataDir, 'vaults/default.db')
    edit(file, "INSERT INTO grants VALUES (?, ?, 'x', NULL)", agent, credential)
    edit(file, "UPDATE meta SET value = '2' WHERE key = 'format_version'")
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
      'corrupt',
      /^Vault "default": its stored format does not match its key check/,
    )
    const db = new Database(file, { readonly: true })
    expect(db.prepare('SELECT seal FROM grants WHERE agent_id = ?').pluck().get(agent)).toBeNull()
    db.close()
  })
})
