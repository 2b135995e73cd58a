import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * The agent token in the SDK's own key slot (`Authorization: Bearer` / `x-api-key`): SDKs cannot
 * send X-Aegis-Agent from the environment, so `OPENAI_API_KEY=<agent token>` must identify the agent.
 */
describe('agent token in the key slot', () => {
  let h: Harness
  let alice: string
  let bob: string

  beforeAll(async () => {
    h = await startHarness({ gate: { requireAgentAuth: true } })
    h.add({ name: 'openai-key', service: 'openai', secret: 'sk-vault-openai-0123456789' })
    h.add({
      name: 'anthropic-key',
      service: 'anthropic',
      secret: 'sk-ant-vault-0123456789',
      authType: 'header',
      headerName: 'x-api-key',
    })
    alice = h.vault.addAgent({ name: 'alice' }).token
    bob = h.vault.addAgent({ name: 'bob' }).token
    for (const agent of ['alice', 'bob']) {
      h.vault.grant(agent, 'openai-key')
      h.vault.grant(agent, 'anthropic-key')
    }
    h.gate.refresh()
  })
  afterAll(() => h.close())

  const lastEntry = async (requestId: unknown) => {
    await h.ledger.flush()
    return h.ledger.query({ limit: 50 }).find((e) => e.requestId === requestId)
  }

  // One row per way an SDK puts its key: the upstream must get the vault secret and never the token.
  it.each([
    [
      'openai: Authorization: Bearer',
      'openai',
      (t: string) => ({ Authorization: `Bearer ${t}` }),
      'authorization',
      'Bearer sk-vault-openai-0123456789',
    ],
    [
      'lower-case scheme, extra spaces',
      'openai',
      (t: string) => ({ authorization: `bearer   ${t} ` }),
      'authorization',
      'Bearer sk-vault-openai-0123456789',
    ],
    [
      'octokit: Authorization: token',
      'openai',
      (t: string) => ({ Authorization: `token ${t}` }),
      'authorization',
      'Bearer sk-vault-openai-0123456789',
    ],
    [
      'anthropic: x-api-key',
      'anthropic',
      (t: string) => ({ 'x-api-key': t }),
      'x-api-key',
      'sk-ant-vault-0123456789',
    ],
    [
      'gemini: x-goog-api-key',
      'openai',
      (t: string) => ({ 'x-goog-api-key': t }),
      'authorization',
      'Bearer sk-vault-openai-0123456789',
    ],
    [
      'x-api-key on a Bearer credential',
      'openai',
      (t: string) => ({ 'X-Api-Key': t }),
      'authorization',
      'Bearer sk-vault-openai-0123456789',
    ],
    [
      'Bearer on an x-api-key credential',
      'anthropic',
      (t: string) => ({ Authorization: `Bearer ${t}` }),
      'x-api-key',
      'sk-ant-vault-0123456789',
    ],
    [
      'the same token in X-Aegis-Agent and the slot',
      'openai',
      (t: string) => ({ 'X-Aegis-Agent': t, Authorization: `Bearer ${t}` }),
      'authorization',
      'Bearer sk-vault-openai-0123456789',
    ],
  ])(
    '%s identifies the agent and injects the real credential',
    async (_, service, headers, injected, value) => {
      const reply = await send(h.port, `/${service}/v1/x`, { headers: headers(alice) })
      expect(reply.status, reply.text).toBe(200)
      const got = h.upstream.received.at(-1)
      expect(got?.headers[injected]).toBe(value)
      expect(JSON.stringify(got?.rawHeaders)).not.toContain(alice)
      expect((await lastEntry(reply.headers['x-request-id']))?.agent).toBe('alice')
    },
  )

  it('drops a Bearer value that is not an agent token (the upstream never sees it)', async () => {
    const reply = await send(h.port, '/openai/v1/x', {
      headers: { 'X-Aegis-Agent': alice, Authorization: 'Bearer sk-agent-own-key' },
    })
    expect(reply.status).toBe(200)
    const got = h.upstream.received.at(-1)
    expect(JSON.stringify(got?.rawHeaders)).not.toContain('sk-agent-own-key')
    expect(got?.headers.authorization).toBe('Bearer sk-vault-openai-0123456789')
  })

  it('a non-token key slot is no identity: agent auth is still required', async () => {
    const before = h.upstream.received.length
    const slots: Record<string, string>[] = [
      { Authorization: 'Bearer sk-agent-own-key' },
      { 'x-api-key': 'sk-ant-agent-own' },
      { Authorization: `Basic ${alice}` },
      { Authorization: `Bearer ${alice} extra` },
    ]
    for (const headers of slots) {
      const reply = await send(h.port, '/openai/v1/x', { headers })
      expect(reply.headers['x-aegis-block'], JSON.stringify(headers).slice(0, 40)).toBe('agent_auth_required')
    }
    expect(h.upstream.received.length).toBe(before)
  })

  it.each([
    ['unknown token', () => `aegis_${randomBytes(32).toString('base64url')}`],
    ['one character changed', () => `${alice.slice(0, -1)}${alice.endsWith('A') ? 'B' : 'A'}`],
    ['a revoked-looking case change', () => `aegis_${alice.slice(6).toUpperCase()}`],
  ])('refuses a key-slot token that is agent-shaped but not an agent (%s)', async (_, make) => {
    const before = h.upstream.received.length
    const slots: Record<string, string>[] = [{ Authorization: `Bearer ${make()}` }, { 'x-api-key': make() }]
    for (const headers of slots) {
      const reply = await send(h.port, '/openai/v1/x', { headers })
      expect(reply.status).toBe(401)
      expect(reply.headers['x-aegis-block']).toBe('agent_auth_invalid')
    }
    expect(h.upstream.received.length).toBe(before)
  })

  it.each([
    ['X-Aegis-Agent and Bearer differ', () => ({ 'X-Aegis-Agent': alice, Authorization: `Bearer ${bob}` })],
    ['X-Aegis-Agent and x-api-key differ', () => ({ 'X-Aegis-Agent': bob, 'x-api-key': alice })],
    ['Bearer and x-api-key differ', () => ({ Authorization: `Bearer ${alice}`, 'x-api-key': bob })],
  ])(
    'refuses two different identities (%s) instead of picking one',
    async (_, headers: () => Record<string, string>) => {
      const before = h.upstream.received.length
      const reply = await send(h.port, '/openai/v1/x', { headers: headers() })
      expect(reply.status).toBe(401)
      expect(reply.headers['x-aegis-block']).toBe('agent_auth_invalid')
      expect(reply.text).not.toContain(alice)
      expect(reply.text).not.toContain(bob)
      expect(h.upstream.received.length).toBe(before)
    },
  )

  it('never stores a key-slot token in the ledger', async () => {
    await send(h.port, '/openai/v1/x', { headers: { Authorization: `Bearer ${alice}` } })
    await h.ledger.flush()
    const all = JSON.stringify(h.ledger.query({ limit: 500 }))
    expect(all).not.toContain(alice)
    expect(all).not.toContain(bob)
  })
})
