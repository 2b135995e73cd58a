import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../../proxy/test/fixtures/client.js'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

const unknownToken = () => `aegis_${randomBytes(32).toString('base64url')}`

let w: World
let alice: string
beforeAll(async () => {
  w = await startWorld({ pipeline: { requireAgentAuth: true } })
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-identity-1' })
  w.add({ name: 'github-bot', service: 'github', secret: 'ghp-identity-1' })
  alice = w.vault.addAgent({ name: 'alice' }).token
  w.vault.grant('alice', 'slack-bot')
  w.gate.refresh()
  w.pipeline.refresh()
})
afterAll(() => w.close())

describe('agent identity comes from the server, never from tool arguments', () => {
  it("forwards a granted call as the server's agent and records the agent", async () => {
    const client = await w.connect({ agentToken: alice })
    const result = await call(client, 'aegis_proxy_request', { service: 'slack', path: '/who' })
    expect(result.isError).toBeFalsy()
    const got = w.upstream.received.at(-1)
    expect(JSON.stringify(got?.rawHeaders)).not.toContain(alice)
    await w.ledger.flush()
    const entries = w.ledger.query({ limit: 50 })
    expect(entries.find((e) => e.path === '/who')).toMatchObject({
      channel: 'mcp',
      agent: 'alice',
      decision: 'allowed',
    })
    expect(JSON.stringify(entries)).not.toContain(alice)
  })

  it('lists only the services the agent is granted', async () => {
    const client = await w.connect({ agentToken: alice })
    const result = await call(client, 'aegis_list_services')
    const { services } = result.structuredContent as { services: Array<{ service: string }> }
    expect(services.map((s) => s.service)).toEqual(['slack'])
  })

  const refusals: Array<{
    name: string
    token: () => string | null
    args: Record<string, unknown>
    http: () => { path: string; headers?: Record<string, string> }
    code: string
  }> = [
    {
      name: 'no token while agent auth is required',
      token: () => null,
      args: { service: 'slack', path: '/x' },
      http: () => ({ path: '/slack/x' }),
      code: 'agent_auth_required',
    },
    {
      name: 'an unknown token',
      token: unknownToken,
      args: { service: 'slack', path: '/x' },
      http: () => ({ path: '/slack/x', headers: { 'X-Aegis-Agent': unknownToken() } }),
      code: 'agent_auth_invalid',
    },
    {
      name: 'a malformed token',
      token: () => 'not-a-token',
      args: { service: 'slack', path: '/x' },
      http: () => ({ path: '/slack/x', headers: { 'X-Aegis-Agent': 'not-a-token' } }),
      code: 'agent_auth_invalid',
    },
    {
      name: 'a credential the agent is not granted',
      token: () => alice,
      args: { service: 'github', path: '/x' },
      http: () => ({ path: '/github/x', headers: { 'X-Aegis-Agent': alice } }),
      code: 'grant_denied',
    },
  ]
  for (const r of refusals) {
    it(`refuses ${r.name} (${r.code}) as the gate does`, async () => {
      const before = w.upstream.received.length
      const http = r.http()
      const gateReply = await send(w.gatePort, http.path, { headers: http.headers })
      const client = await w.connect({ agentToken: r.token() })
      const problem = problemOf(await call(client, 'aegis_proxy_request', r.args))
      expect(gateReply.json().code).toBe(r.code)
      expect(problem).toMatchObject({ code: r.code, status: gateReply.status })
      expect(w.upstream.received.length).toBe(before)
    })
  }

  it('refuses an agent token in the headers argument of a server without one, as a second identity', async () => {
    const client = await w.connect({ agentToken: null })
    const before = w.upstream.received.length
    const problem = problemOf(
      await call(client, 'aegis_proxy_request', {
        service: 'slack',
        path: '/x',
        headers: { 'X-Aegis-Agent': alice, Authorization: `Bearer ${alice}` },
      }),
    )
    expect(problem.code).toBe('agent_auth_invalid')
    expect(w.upstream.received.length).toBe(before)
  })

  it("records a call refused before the pipeline (its arguments) under the server's agent", async () => {
    const client = await w.connect({ agentToken: alice })
    for (const args of [
      { service: 'slack', path: '/typed', method: 7 },
      { service: 'slack', path: '/valued', method: 'get' },
    ]) {
      const problem = problemOf(await call(client, 'aegis_proxy_request', args))
      expect(problem.code).toBe('bad_request')
      await w.ledger.flush()
      const row = w.ledger.query({ limit: 100 }).find((e) => e.requestId === problem.instance)
      expect(row, JSON.stringify(args)).toMatchObject({ channel: 'mcp', agent: 'alice', service: 'slack' })
    }
    // An unknown token names no one.
    const stranger = await w.connect({ agentToken: unknownToken() })
    const problem = problemOf(
      await call(stranger, 'aegis_proxy_request', { service: 'slack', path: '/x', method: 7 }),
    )
    await w.ledger.flush()
    expect(w.ledger.query({ limit: 100 }).find((e) => e.requestId === problem.instance)).toMatchObject({
      code: 'bad_request',
      agent: null,
    })
  })

  it('refuses discovery and health for an unknown token', async () => {
    const client = await w.connect({ agentToken: unknownToken() })
    expect(problemOf(await call(client, 'aegis_list_services')).code).toBe('agent_auth_invalid')
    expect(problemOf(await call(client, 'aegis_health')).code).toBe('agent_auth_invalid')
  })
})
