import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpHttpServer, type McpHttpServer } from '../src/index.js'
import { postMcp } from './fixtures/raw-post.js'
import { silentLogger, startWorld, type World } from './fixtures/world.js'

let w: World
let server: McpHttpServer
let port: number
let alice: string
let bob: string
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-identity-headers-1' })
  alice = w.vault.addAgent({ name: 'alice' }).token
  bob = w.vault.addAgent({ name: 'bob' }).token
  w.vault.grant('alice', 'slack-bot')
  w.vault.grant('bob', 'slack-bot')
  w.pipeline.refresh()
  server = createMcpHttpServer({ engine: w.pipeline.engine, logger: silentLogger(), port: 0 })
  ;({ port } = await server.listen())
})
afterAll(async () => {
  await server.close()
  await w.close()
})

function callOver(path: string, headers: Record<string, string>) {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'aegis_proxy_request', arguments: { service: 'slack', path } },
  })
  return postMcp(port, body, headers)
}

describe('MCP HTTP: a POST naming two agents', () => {
  const cases: Array<{ name: string; extra: () => Record<string, string> }> = [
    { name: "another agent's X-Aegis-Agent", extra: () => ({ 'x-aegis-agent': bob }) },
    { name: "another agent's token in x-api-key", extra: () => ({ 'x-api-key': bob }) },
  ]
  for (const c of cases) {
    it(`${c.name} beside the bearer token: 401 agent_auth_invalid, recorded, nothing forwarded`, async () => {
      const path = `/two-agents-${c.name.length}`
      const before = w.upstream.received.length
      const reply = await callOver(path, { authorization: `Bearer ${alice}`, ...c.extra() })
      expect(reply.status).toBe(401)
      expect(reply.headers['x-aegis-block']).toBe('agent_auth_invalid')
      expect(reply.body).not.toContain(alice)
      expect(reply.body).not.toContain(bob)
      expect(w.upstream.received.length).toBe(before)
      await w.ledger.flush()
      const rows = w.ledger.query({ limit: 500 })
      expect(rows.find((e) => e.requestId === reply.headers['x-request-id'])).toMatchObject({
        channel: 'mcp',
        decision: 'blocked',
        code: 'agent_auth_invalid',
      })
      expect(rows.some((e) => e.path === path)).toBe(false)
      expect(JSON.stringify(rows)).not.toContain(bob)
    })
  }

  it('the same token in X-Aegis-Agent is one identity: served as that agent', async () => {
    const reply = await callOver('/same-agent', { authorization: `Bearer ${alice}`, 'x-aegis-agent': alice })
    expect(reply.status).toBe(200)
    await w.ledger.flush()
    expect(w.ledger.query({ limit: 500 }).find((e) => e.path === '/same-agent')).toMatchObject({
      agent: 'alice',
      decision: 'allowed',
    })
  })
})
