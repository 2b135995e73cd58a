import { createHash, randomBytes } from 'node:crypto'
import type { Vault } from '@aegis/vault'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentRecord, CredentialSource } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * A request is searched for every vault secret and for its caller's own token. With a few secrets
 * both share one matcher (built per agent and snapshot); with many they stay two. Either way the
 * verdict is the same, a credential added later is searched for at once, and the credential
 * formats are reported once.
 */
const token = `aegis_${randomBytes(32).toString('base64url')}`
const GH_FORMAT = `ghp_${'A1b2C3d4E5'.repeat(3)}123456`

function agentSource(vault: Vault, agents: AgentRecord[]): CredentialSource {
  return {
    loadAll: () => vault.loadAll(),
    loadAgents: () => agents,
    changeToken: () => `${vault.changeToken()}/${agents.length}`,
  }
}

describe.each([
  { vault: 'a few secrets (one joined matcher)', extra: 0 },
  { vault: 'many secrets (two matchers)', extra: 30 },
])('with $vault', ({ extra }) => {
  const agents: AgentRecord[] = []
  let h: Harness
  const post = (service: string, body: string) =>
    send(h.port, `/${service}/x`, { method: 'POST', body, headers: { 'X-Aegis-Agent': token } })
  const entryOf = async (requestId: unknown) => {
    await h.ledger.flush()
    return h.ledger.query({ limit: 20 }).find((e) => e.requestId === requestId)
  }

  beforeAll(async () => {
    h = await startHarness({
      gate: { requireAgentAuth: true },
      source: (vault) => agentSource(vault, agents),
    })
    h.add({ name: 'strict', service: 'strict', secret: 'strict-secret-0123456789' })
    h.add({
      name: 'lenient',
      service: 'lenient',
      secret: 'lenient-secret-0123456789',
      bodyInspection: 'warn',
    })
    for (let i = 0; i < extra; i++) {
      h.add({
        name: `other-${i}`,
        service: `other-${i}`,
        secret: `other-secret-${i}-${randomBytes(12).toString('hex')}`,
      })
    }
    agents.push({
      id: 'a1',
      name: 'alice',
      prefix: token.slice(0, 12),
      tokenHash: createHash('sha256').update(token).digest(),
      rateLimit: null,
      maxInFlight: null,
      grants: [h.vault.get('strict')?.id ?? '', h.vault.get('lenient')?.id ?? ''],
    })
    h.gate.refresh()
  })
  afterAll(() => h.close())

  it('forwards a clean body', async () => {
    expect((await post('strict', '{"text":"hello"}')).status).toBe(200)
  })

  it.each([
    ['its own token, base64', () => Buffer.from(token).toString('base64')],
    ['its own token without the prefix', () => token.slice('aegis_'.length)],
    ['a vault secret of another service', () => 'lenient-secret-0123456789'],
  ])('refuses a body holding %s', async (_, value) => {
    const reply = await post('strict', `{"note":"${value()}"}`)
    expect(reply.status).toBe(403)
    expect(reply.headers['x-aegis-block']).toBe('body_inspection')
    expect(h.upstream.received.some((r) => r.body.toString().includes(value()))).toBe(false)
  })

  it('reports each finding once in warn mode: the token, a vault secret and a key format', async () => {
    const body = `${Buffer.from(token).toString('base64')} strict-secret-0123456789 ${GH_FORMAT}`
    const reply = await post('lenient', body)
    expect(reply.status).toBe(200)
    const parts = (await entryOf(reply.headers['x-request-id']))?.inspection?.replace(/^warn:/, '').split(',')
    expect(parts?.sort()).toEqual(['agent-token:body', 'credential:strict:body', 'format:github-token:body'])
  })

  it('searches for a credential added after the agent was served', async () => {
    expect((await post('strict', '{"note":"added-later-secret-0123"}')).status).toBe(200)
    h.add({ name: 'later', service: 'later', secret: 'added-later-secret-0123' })
    const reply = await post('strict', '{"note":"added-later-secret-0123"}')
    expect(reply.status).toBe(403)
    expect(reply.headers['x-aegis-block']).toBe('body_inspection')
  })
})
