import { hashAgentToken } from '@aegis/guard'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { editVaultFile, readVaultFile } from '../../vault/test/fixtures/corrupt-rows.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memoryLogger } from './fixtures/log.js'

// What an agent with write access to the vault file but no master key tries: give itself a
// credential (a grant row), an identity (an agents row holding the hash of a token it chose) or
// higher limits (an edited agents row). The gate forwards none of it, answers with why, and the
// ledger holds a row naming the agent.

const SECRET = 'seal-test-upstream-secret-7777'
const CHOSEN = `aegis_${'Q'.repeat(43)}`

let h: Harness
const log = memoryLogger()
const tokens: Record<string, string> = {}

beforeAll(async () => {
  h = await startHarness({
    gate: { logger: log.logger, requireAgentAuth: true },
    prepare: (vault) => {
      const svc = vault.add({ name: 'svc', service: 'svc', secret: SECRET, domains: ['api.example.test'] })
      for (const name of ['granted', 'ungranted', 'limited']) tokens[name] = vault.addAgent({ name }).token
      vault.grant('granted', 'svc')
      vault.grant('limited', 'svc')
      vault.setAgentLimits('limited', { maxInFlight: 1 })
      const ungranted = vault.getAgent('ungranted')?.id
      const edit = (sql: string, ...params: unknown[]) => editVaultFile(vault.file, sql, ...params)
      edit("INSERT INTO grants VALUES (?, ?, 'x', NULL)", ungranted, svc.id)
      edit(
        "INSERT INTO agents (id, name, token_hash, prefix, created_at, updated_at) VALUES ('forged', 'intruder', ?, 'aegis_QQQQQQ', 'x', 'x')",
        hashAgentToken(CHOSEN),
      )
      edit("INSERT INTO grants (agent_id, credential_id, created_at) VALUES ('forged', ?, 'x')", svc.id)
      edit("UPDATE agents SET max_in_flight = 1000 WHERE name = 'limited'")
      // Rows added outside Aegis change the set of rows (the whole vault is refused, see the vault's
      // row-set tests): accepted as they are now (vault reseal), each row's own seal still decides.
      vault.reseal()
    },
  })
})
afterAll(() => h.close())

async function ledgerRow(requestId: unknown) {
  await h.ledger.flush()
  return h.ledger.query({ limit: 100 }).find((e) => e.requestId === requestId)
}

describe('agent and grant rows added or edited outside the vault', () => {
  it('a genuine grant is served', async () => {
    const reply = await send(h.port, '/svc/x', { headers: { 'x-aegis-agent': tokens.granted ?? '' } })
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)
  })

  it('a grant row inserted with SQLite grants nothing: 403 grant_denied and a ledger row', async () => {
    const before = h.upstream.received.length
    const reply = await send(h.port, '/svc/x', { headers: { 'x-aegis-agent': tokens.ungranted ?? '' } })
    expect(reply.status).toBe(403)
    expect(reply.headers['x-aegis-block']).toBe('grant_denied')
    expect(h.upstream.received.length).toBe(before)
    expect(await ledgerRow(reply.json().instance)).toMatchObject({
      agent: 'ungranted',
      decision: 'blocked',
      code: 'grant_denied',
    })
    const line = log.entries().find((l) => /^grant refused/.test(String(l.msg)))
    expect(line).toMatchObject({ agent: 'ungranted', level: 50 })
  })

  it.each([
    ['an agents row holding the hash of a chosen token', 'intruder', () => CHOSEN],
    ['an agents row whose in-flight cap was raised', 'limited', () => tokens.limited ?? ''],
  ])('%s is refused (401, naming it) with a ledger row, never forwarded', async (_label, name, token) => {
    const before = h.upstream.received.length
    const reply = await send(h.port, '/svc/x', { headers: { 'x-aegis-agent': token() } })
    expect(reply.status).toBe(401)
    expect(reply.headers['x-aegis-block']).toBe('agent_auth_invalid')
    const problem = reply.json()
    expect(problem.detail).toMatch(
      new RegExp(
        `^The agent token belongs to agent "${name}", whose stored record the gate refuses: it has a stored identity or limits that do not match their seal`,
      ),
    )
    expect(reply.text).not.toContain(token())
    expect(reply.text).not.toContain(SECRET)
    expect(h.upstream.received.length).toBe(before)
    expect(await ledgerRow(problem.instance)).toMatchObject({
      agent: name,
      decision: 'blocked',
      code: 'agent_auth_invalid',
    })
    const named = log
      .entries()
      .filter((l) => /^agent unavailable/.test(String(l.msg)))
      .map((l) => l.agent)
    expect(named).toContain(name)
    expect(log.text()).not.toContain(token())
  })
})

describe('a grant saved and put back after revoke (a sealed row replayed)', () => {
  let r: Harness
  let token = ''
  beforeAll(async () => {
    r = await startHarness({
      gate: { requireAgentAuth: true },
      prepare: (vault) => {
        vault.add({ name: 'svc', service: 'svc', secret: SECRET, domains: ['api.example.test'] })
        token = vault.addAgent({ name: 'bot' }).token
        vault.grant('bot', 'svc')
        const saved = readVaultFile(
          vault.file,
          'SELECT agent_id, credential_id, created_at, seal FROM grants',
        )
        vault.revoke('bot', 'svc')
        for (const g of saved) {
          editVaultFile(
            vault.file,
            'INSERT INTO grants (agent_id, credential_id, created_at, seal) VALUES (?, ?, ?, ?)',
            g.agent_id,
            g.credential_id,
            g.created_at,
            g.seal,
          )
        }
      },
    })
  })
  afterAll(() => r.close())

  it('is not honoured: nothing is forwarded, the agent is refused and the ledger says so', async () => {
    const reply = await send(r.port, '/svc/x', { headers: { 'x-aegis-agent': token } })
    // Which rows changed cannot be known: every agent of the vault is refused, naming the table.
    expect(reply.status).toBe(401)
    expect(reply.headers['x-aegis-block']).toBe('agent_auth_invalid')
    expect(reply.json().detail).toMatch(/its grants table does not match the set of rows Aegis last wrote/)
    expect(r.upstream.received).toHaveLength(0)
    await r.ledger.flush()
    expect(r.ledger.query({ limit: 10 }).find((e) => e.path === '/x')).toMatchObject({
      agent: 'bot',
      decision: 'blocked',
      code: 'agent_auth_invalid',
    })
  })
})
