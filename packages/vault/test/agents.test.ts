import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import {
  AGENT_TOKEN_PREFIX,
  agentTokenPrefix,
  hashAgentToken,
  isAgentTokenShape,
  openVault,
  type Vault,
} from '../src/index.js'
import { expectVaultError, MASTER_KEY, newVault, sampleCredential, tempDataDir, track } from './helpers.js'

const TOKEN_SHAPE = /^aegis_[A-Za-z0-9_-]{43}$/

/** A vault with two credentials: slack-bot (slack) and gh (github). */
function vaultWithCredentials(dataDir = tempDataDir()): Vault {
  const v = newVault(dataDir)
  v.add(sampleCredential())
  v.add(
    sampleCredential({ name: 'gh', service: 'github', secret: 'ghp_abcdef', domains: ['api.github.com'] }),
  )
  return v
}

/** Raw row count of a table, read with a separate connection. */
function countRows(file: string, table: 'agents' | 'grants'): number {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe('agent tokens', () => {
  it('are aegis_ + base64url of 32 random bytes, distinct, with no visible bias', () => {
    const v = newVault()
    const tokens: string[] = []
    for (let i = 0; i < 200; i++) tokens.push(v.addAgent({ name: `a${i}` }).token)
    expect(new Set(tokens).size).toBe(200)
    const ones = new Array<number>(256).fill(0)
    for (const token of tokens) {
      expect(token).toMatch(TOKEN_SHAPE)
      expect(isAgentTokenShape(token)).toBe(true)
      const raw = Buffer.from(token.slice(AGENT_TOKEN_PREFIX.length), 'base64url')
      expect(raw).toHaveLength(32)
      expect(raw.toString('base64url')).toBe(token.slice(6))
      for (let bit = 0; bit < 256; bit++)
        ones[bit] = (ones[bit] ?? 0) + (((raw[bit >> 3] ?? 0) >> (bit & 7)) & 1)
    }
    // Every one of the 256 bits varies (a constant or truncated source would leave some fixed).
    // For a fair bit, falling outside 40..160 of 200 has probability < 1e-17.
    for (const n of ones) {
      expect(n).toBeGreaterThan(40)
      expect(n).toBeLessThan(160)
    }
  })

  it('hashAgentToken is SHA-256 of the UTF-8 token; prefix and shape helpers', () => {
    const token = `aegis_${'A'.repeat(43)}`
    expect(hashAgentToken(token)).toEqual(createHash('sha256').update(token).digest())
    expect(hashAgentToken(token)).toHaveLength(32)
    expect(agentTokenPrefix(token)).toBe('aegis_AAAAAA')
    expect(isAgentTokenShape(token)).toBe(true)
    for (const bad of [
      '',
      'aegis_',
      `aegis_${'A'.repeat(42)}`,
      `aegis_${'A'.repeat(44)}`,
      `Aegis_${'A'.repeat(43)}`,
      `aegis-${'A'.repeat(43)}`,
      `aegis_${'A'.repeat(42)}=`,
      `aegis_${'A'.repeat(42)}+`,
      ` aegis_${'A'.repeat(43)}`,
      `aegis_${'A'.repeat(43)}\n`,
      42,
      null,
    ]) {
      expect(isAgentTokenShape(bad), JSON.stringify(bad)).toBe(false)
    }
  })
})

describe('agents', () => {
  it('addAgent returns the token once; list/get show metadata, never the token or its hash', () => {
    const v = vaultWithCredentials()
    const { agent, token } = v.addAgent({ name: 'research-bot', rateLimit: '50/minute', maxInFlight: 4 })
    expect(agent).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'research-bot',
      prefix: token.slice(0, 12),
      rateLimit: '50/min',
      maxInFlight: 4,
      grants: [],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updatedAt: agent.createdAt,
      tokenRotatedAt: null,
    })
    v.addAgent({ name: 'Alpha.bot_2' })
    expect(v.listAgents().map((a) => a.name)).toEqual(['Alpha.bot_2', 'research-bot'])
    expect(v.getAgent('research-bot')).toEqual(agent)
    expect(v.getAgent('nobody')).toBeUndefined()
    const shown = JSON.stringify([v.listAgents(), v.getAgent('research-bot')])
    expect(shown).not.toContain(token.slice(12))
    expect(shown).not.toContain(hashAgentToken(token).toString('hex'))
    expect(shown).not.toContain(hashAgentToken(token).toString('base64'))
  })

  it('loadAgents gives token hashes and granted credential ids', () => {
    const v = vaultWithCredentials()
    const { agent, token } = v.addAgent({ name: 'bot', rateLimit: '5/sec' })
    v.grant('bot', 'gh')
    v.grant('bot', 'slack-bot')
    const ids = new Map(v.list().map((c) => [c.name, c.id]))
    const [record, ...rest] = v.loadAgents()
    expect(rest).toEqual([])
    expect(record).toEqual({
      id: agent.id,
      name: 'bot',
      prefix: agent.prefix,
      tokenHash: hashAgentToken(token),
      rateLimit: '5/sec',
      maxInFlight: null,
      grants: expect.any(Array),
    })
    expect(record?.tokenHash).toBeInstanceOf(Buffer)
    expect(new Set(record?.grants)).toEqual(new Set([ids.get('gh'), ids.get('slack-bot')]))
  })

  it('removeAgent deletes the agent and its grants; unknown names are not_found', () => {
    const v = vaultWithCredentials()
    v.addAgent({ name: 'bot' })
    v.addAgent({ name: 'other' })
    v.grant('bot', 'gh')
    v.grant('other', 'gh')
    v.removeAgent('bot')
    expect(v.listAgents().map((a) => a.name)).toEqual(['other'])
    expect(countRows(v.file, 'grants')).toBe(1)
    expectVaultError(() => v.removeAgent('bot'), 'not_found', 'No agent named "bot"')
    // The same name registered again is a new identity: new token, no grants.
    const again = v.addAgent({ name: 'bot' })
    expect(again.agent.grants).toEqual([])
    expect(v.loadAgents().find((a) => a.name === 'bot')?.grants).toEqual([])
    expect(v.list().map((c) => c.name)).toEqual(['gh', 'slack-bot'])
  })

  it('regenerateAgentToken invalidates the old hash at once and keeps grants and limits', () => {
    const v = vaultWithCredentials()
    const first = v.addAgent({ name: 'bot', rateLimit: '10/min', maxInFlight: 2 })
    v.grant('bot', 'gh')
    const second = v.regenerateAgentToken('bot')
    expect(second.token).toMatch(TOKEN_SHAPE)
    expect(second.token).not.toBe(first.token)
    expect(second.agent).toEqual({
      ...first.agent,
      prefix: second.token.slice(0, 12),
      grants: ['gh'],
      updatedAt: expect.any(String),
      tokenRotatedAt: second.agent.updatedAt,
    })
    const hashes = v.loadAgents().map((a) => a.tokenHash.toString('hex'))
    expect(hashes).toEqual([hashAgentToken(second.token).toString('hex')])
    expect(hashes).not.toContain(hashAgentToken(first.token).toString('hex'))
    const db = new Database(v.file, { readonly: true })
    const stored = db
      .prepare('SELECT token_hash FROM agents WHERE token_hash = ?')
      .all(hashAgentToken(first.token))
    db.close()
    expect(stored).toEqual([])
    expectVaultError(() => v.regenerateAgentToken('ghost'), 'not_found', 'No agent named "ghost"')
  })

  it('setAgentLimits sets, keeps (absent) and clears (null) each limit', () => {
    const v = newVault()
    v.addAgent({ name: 'bot' })
    expect(v.setAgentLimits('bot', { rateLimit: ' 100 / Hour ' })).toMatchObject({
      rateLimit: '100/hour',
      maxInFlight: null,
    })
    expect(v.setAgentLimits('bot', { maxInFlight: 8 })).toMatchObject({
      rateLimit: '100/hour',
      maxInFlight: 8,
    })
    expect(v.setAgentLimits('bot', { rateLimit: null })).toMatchObject({ rateLimit: null, maxInFlight: 8 })
    expect(v.setAgentLimits('bot', { maxInFlight: null })).toMatchObject({
      rateLimit: null,
      maxInFlight: null,
    })
    expect(v.loadAgents()[0]).toMatchObject({ rateLimit: null, maxInFlight: null })
    expectVaultError(
      () => v.setAgentLimits('ghost', { rateLimit: '1/sec' }),
      'not_found',
      'No agent named "ghost"',
    )
  })
})

describe('grants', () => {
  it('grant is idempotent, revoke of a missing grant is a no-op; both report what they did', () => {
    const v = vaultWithCredentials()
    v.addAgent({ name: 'bot' })
    expect(v.grant('bot', 'slack-bot')).toBe(true)
    expect(v.grant('bot', 'slack-bot')).toBe(false)
    expect(v.grant('bot', 'gh')).toBe(true)
    expect(v.getAgent('bot')?.grants).toEqual(['gh', 'slack-bot'])
    expect(countRows(v.file, 'grants')).toBe(2)
    expect(v.revoke('bot', 'gh')).toBe(true)
    expect(v.revoke('bot', 'gh')).toBe(false)
    expect(v.getAgent('bot')?.grants).toEqual(['slack-bot'])
  })

  it('unknown agent or credential is not_found naming which, and changes nothing', () => {
    const v = vaultWithCredentials()
    v.addAgent({ name: 'bot' })
    v.grant('bot', 'gh')
    const before = v.changeToken()
    expectVaultError(() => v.grant('ghost', 'gh'), 'not_found', 'No agent named "ghost"')
    expectVaultError(() => v.grant('bot', 'nope'), 'not_found', 'No credential named "nope"')
    expectVaultError(() => v.revoke('ghost', 'gh'), 'not_found', 'No agent named "ghost"')
    expectVaultError(() => v.revoke('bot', 'nope'), 'not_found', 'No credential named "nope"')
    expectVaultError(() => v.grant('bot', 'bad name'), 'invalid_input', /^name must be/)
    expect(v.changeToken()).toBe(before)
    expect(v.getAgent('bot')?.grants).toEqual(['gh'])
  })

  it('removing a credential removes its grants; re-adding it (new id) brings none back', () => {
    const v = vaultWithCredentials()
    v.addAgent({ name: 'bot' })
    v.addAgent({ name: 'other' })
    v.grant('bot', 'slack-bot')
    v.grant('bot', 'gh')
    v.grant('other', 'slack-bot')
    const oldId = v.get('slack-bot')?.id
    v.remove('slack-bot')
    expect(v.getAgent('bot')?.grants).toEqual(['gh'])
    expect(v.getAgent('other')?.grants).toEqual([])
    expect(countRows(v.file, 'grants')).toBe(1)
    v.add(sampleCredential())
    expect(v.get('slack-bot')?.id).not.toBe(oldId)
    expect(v.listAgents().map((a) => [a.name, a.grants])).toEqual([
      ['bot', ['gh']],
      ['other', []],
    ])
    const all = v.loadAgents().flatMap((a) => a.grants)
    expect(all).toEqual([v.get('gh')?.id])
  })

  it('the foreign keys hold even for writes that bypass the vault', () => {
    const v = vaultWithCredentials()
    v.addAgent({ name: 'bot' })
    const db = new Database(v.file)
    db.pragma('foreign_keys = ON')
    expect(() =>
      db
        .prepare("INSERT INTO grants (agent_id, credential_id, created_at) VALUES ('nope', 'nope', 'x')")
        .run(),
    ).toThrow(/FOREIGN KEY/)
    db.close()
  })
})

describe('agent validation', () => {
  it('refuses bad names without echoing them, including a pasted token', () => {
    const v = newVault()
    const { token } = v.addAgent({ name: 'bot' })
    const bad: unknown[] = [
      '',
      ' bot',
      'bot ',
      '.bot',
      '-bot',
      'bo t',
      'b/ot',
      'bøt',
      'a'.repeat(65),
      42,
      null,
    ]
    for (const name of bad) {
      const err = expectVaultError(() => v.addAgent({ name } as { name: string }), 'invalid_input')
      expect(err.message).toBe(
        'agent name must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit',
      )
    }
    expect(v.addAgent({ name: 'a'.repeat(64) }).agent.name).toHaveLength(64)
    // A token pasted where a name goes is never repeated back.
    const messages = [
      expectVaultError(() => v.addAgent({ name: token }), 'invalid_input').message,
      expectVaultError(() => v.removeAgent(token), 'invalid_input').message,
      expectVaultError(() => v.grant(token, 'x'), 'invalid_input').message,
      expectVaultError(() => v.getAgent(token), 'invalid_input').message,
    ]
    for (const m of messages) expect(m).not.toContain(token.slice(6, 20))
    expect(messages[0]).toBe('agent name must not look like an agent token')
  })

  it('a credential name shaped like a token is not echoed in not_found', () => {
    const v = newVault()
    const { token } = v.addAgent({ name: 'bot' })
    const err = expectVaultError(() => v.grant('bot', token), 'not_found')
    expect(err.message).not.toContain(token.slice(6, 20))
    expect(err.message).toMatch(/^No credential named \(/)
  })

  it('refuses bad rates, bad in-flight caps and unknown fields; a taken name is duplicate', () => {
    const v = newVault()
    v.addAgent({ name: 'bot' })
    const before = v.changeToken()
    expectVaultError(
      () => v.addAgent({ name: 'x', rateLimit: 'fast' }),
      'invalid_input',
      /^rateLimit: Invalid rate/,
    )
    expectVaultError(() => v.addAgent({ name: 'x', rateLimit: '0/min' }), 'invalid_input', /^rateLimit:/)
    expectVaultError(() => v.addAgent({ name: 'x', rateLimit: 5 as unknown as string }), 'invalid_input')
    for (const maxInFlight of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 100_001, '3']) {
      expectVaultError(
        () => v.addAgent({ name: 'x', maxInFlight } as { name: string; maxInFlight: number }),
        'invalid_input',
        'maxInFlight must be a positive integer (at most 100000)',
      )
    }
    expectVaultError(
      () => v.addAgent({ name: 'x', token: 'mine' } as { name: string }),
      'invalid_input',
      'agent: unknown field "token"',
    )
    expectVaultError(() => v.addAgent({ name: 'bot' }), 'duplicate', 'An agent named "bot" already exists')
    expectVaultError(() => v.setAgentLimits('bot', { rateLimit: 'soon' }), 'invalid_input', /^rateLimit:/)
    expectVaultError(() => v.setAgentLimits('bot', { maxInFlight: 0 }), 'invalid_input', /^maxInFlight/)
    expectVaultError(
      () => v.setAgentLimits('bot', { name: 'x' } as unknown as { rateLimit: string }),
      'invalid_input',
      'limits: unknown field "name"',
    )
    expect(v.changeToken()).toBe(before)
    expect(v.listAgents()).toEqual([
      expect.objectContaining({ name: 'bot', rateLimit: null, maxInFlight: null }),
    ])
  })

  it('rows edited behind the vault with impossible settings fail closed', () => {
    const v = newVault()
    v.addAgent({ name: 'bot' })
    const db = new Database(v.file)
    expect(() => db.prepare('UPDATE agents SET token_hash = ?').run(Buffer.alloc(31))).toThrow(/CHECK/)
    expect(() => db.prepare('UPDATE agents SET max_in_flight = 0').run()).toThrow(/CHECK/)
    db.prepare("UPDATE agents SET rate_limit = 'lots'").run()
    db.close()
    // The edit no longer matches the row's seal: refused before its value is even read.
    expectVaultError(
      () => v.listAgents(),
      'corrupt',
      /^Agent "bot" has a stored identity or limits that do not match their seal/,
    )
  })

  it('loadAgents hands a damaged row back marked, with nothing usable, and keeps the others', () => {
    const v = newVault()
    v.addAgent({ name: 'bot' })
    const good = v.addAgent({ name: 'good', rateLimit: '5/min' })
    const db = new Database(v.file)
    db.prepare("UPDATE agents SET rate_limit = 'lots' WHERE name = 'bot'").run()
    db.close()
    const agents = v.loadAgents()
    expect(agents.find((a) => a.name === 'good')).toMatchObject({ rateLimit: '5/min' })
    expect(agents.find((a) => a.name === 'good')?.damaged).toBeUndefined()
    expect(agents.find((a) => a.name === 'good')?.tokenHash.length).toBe(32)
    const bot = agents.find((a) => a.name === 'bot')
    expect(bot).toMatchObject({
      damaged: expect.stringMatching(/^has a stored identity or limits that do not match their seal/),
      rateLimit: null,
      maxInFlight: null,
      grants: [],
    })
    // Kept only so that the gate can tell that token why it is refused.
    expect(bot?.tokenHash.length).toBe(32)
    expect(good.token).not.toBe('')
  })
})

describe('agents and changeToken', () => {
  it('changes after every agent and grant write, and not after reads or failed writes', () => {
    const v = vaultWithCredentials()
    const seen = new Set([v.changeToken()])
    const step = (fn: () => unknown) => {
      fn()
      const t = v.changeToken()
      expect(seen.has(t)).toBe(false)
      seen.add(t)
    }
    step(() => v.addAgent({ name: 'bot' }))
    step(() => v.grant('bot', 'gh'))
    step(() => v.setAgentLimits('bot', { rateLimit: '1/sec' }))
    step(() => v.regenerateAgentToken('bot'))
    step(() => v.revoke('bot', 'gh'))
    step(() => v.removeAgent('bot'))
    const t = v.changeToken()
    v.listAgents()
    v.loadAgents()
    expect(() => v.removeAgent('bot')).toThrow()
    expect(v.changeToken()).toBe(t)
  })

  it('a grant written by another connection is visible to a polling reader', () => {
    const dataDir = tempDataDir()
    const gate = vaultWithCredentials(dataDir)
    const cli = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    const { token } = cli.addAgent({ name: 'bot' })
    const t0 = gate.changeToken()
    cli.grant('bot', 'gh')
    expect(gate.changeToken()).not.toBe(t0)
    expect(gate.loadAgents()).toEqual([
      expect.objectContaining({ tokenHash: hashAgentToken(token), grants: [gate.get('gh')?.id] }),
    ])
    const t1 = gate.changeToken()
    const next = cli.regenerateAgentToken('bot')
    expect(gate.changeToken()).not.toBe(t1)
    expect(gate.loadAgents()[0]?.tokenHash).toEqual(hashAgentToken(next.token))
  })
})
