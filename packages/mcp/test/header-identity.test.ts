import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../../proxy/test/fixtures/client.js'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

/**
 * The headers the HTTP gate reads who is calling (`X-Aegis-Agent`, an agent-token-shaped
 * `Authorization: Bearer` or `x-api-key`) and where to (`X-Target-Host`) mean the same in a tool
 * call's `headers`: a second identity is refused as at the gate (`agent_auth_invalid`), never
 * silently dropped for the server's, and a target named there meets the allowlist.
 */
let w: World
let alice: string
let mallory: string
beforeAll(async () => {
  w = await startWorld()
  w.add({
    name: 'slack-bot',
    service: 'slack',
    secret: 'xoxb-header-identity-1',
    domains: ['api.example.test', 'alt.example.test'],
  })
  alice = w.vault.addAgent({ name: 'alice' }).token
  mallory = w.vault.addAgent({ name: 'mallory' }).token
  w.vault.grant('alice', 'slack-bot')
  w.vault.grant('mallory', 'slack-bot')
  w.gate.refresh()
  w.pipeline.refresh()
})
afterAll(() => w.close())

/** Both sets of headers; a name in both (any case) is sent twice, as two header lines. */
function mergeHeaders(
  a: Record<string, string>,
  b: Record<string, string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...a }
  for (const [name, value] of Object.entries(b)) {
    const key = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name
    const had = out[key]
    out[key] = had === undefined ? value : [had, value].flat()
  }
  return out
}

async function rowOf(requestId: unknown) {
  await w.ledger.flush()
  return w.ledger.query({ limit: 200 }).find((e) => e.requestId === requestId)
}

describe('identity headers in a tool call', () => {
  const second = [
    { name: 'X-Aegis-Agent of another agent', headers: () => ({ 'X-Aegis-Agent': mallory }) },
    {
      name: 'Authorization: Bearer of another agent',
      headers: () => ({ Authorization: `Bearer ${mallory}` }),
    },
    { name: 'x-api-key of another agent', headers: () => ({ 'x-api-key': mallory }) },
    { name: 'a malformed X-Aegis-Agent', headers: () => ({ 'x-aegis-agent': 'not-a-token' }) },
  ]
  for (const c of second) {
    it(`${c.name}: agent_auth_invalid on both channels, recorded, nothing forwarded`, async () => {
      const before = w.upstream.received.length
      const gateReply = await send(w.gatePort, '/slack/who', {
        headers: mergeHeaders({ 'X-Aegis-Agent': alice }, c.headers()),
      })
      expect(gateReply.json().code).toBe('agent_auth_invalid')
      const client = await w.connect({ agentToken: alice })
      const problem = problemOf(
        await call(client, 'aegis_proxy_request', { service: 'slack', path: '/who', headers: c.headers() }),
      )
      expect(problem).toMatchObject({ code: 'agent_auth_invalid', status: gateReply.status })
      expect(w.upstream.received.length).toBe(before)
      expect(await rowOf(problem.instance)).toMatchObject({
        channel: 'mcp',
        decision: 'blocked',
        code: 'agent_auth_invalid',
      })
    })
  }

  it("the server's own token in the headers is the same identity: forwarded, never sent upstream", async () => {
    const client = await w.connect({ agentToken: alice })
    const result = await call(client, 'aegis_proxy_request', {
      service: 'slack',
      path: '/own',
      headers: { 'X-Aegis-Agent': alice, Authorization: `Bearer ${alice}` },
    })
    expect(result.isError).toBeFalsy()
    const got = w.upstream.received.at(-1)
    expect(got?.url).toBe('/own')
    expect(got?.headers.authorization).toBe('Bearer xoxb-header-identity-1')
    expect(JSON.stringify(got?.rawHeaders)).not.toContain(alice)
  })
})

describe('X-Target-Host in a tool call', () => {
  it('outside the allowlist: domain_denied on both channels', async () => {
    const before = w.upstream.received.length
    const gateReply = await send(w.gatePort, '/slack/x', { headers: { 'X-Target-Host': 'evil.test' } })
    expect(gateReply.json().code).toBe('domain_denied')
    const client = await w.connect({ agentToken: alice })
    const problem = problemOf(
      await call(client, 'aegis_proxy_request', {
        service: 'slack',
        path: '/x',
        headers: { 'X-Target-Host': 'evil.test' },
      }),
    )
    expect(problem.code).toBe('domain_denied')
    expect(w.upstream.received.length).toBe(before)
    expect(await rowOf(problem.instance)).toMatchObject({ channel: 'mcp', code: 'domain_denied' })
  })

  it('inside the allowlist: the request goes there, as at the gate', async () => {
    const client = await w.connect({ agentToken: alice })
    const result = await call(client, 'aegis_proxy_request', {
      service: 'slack',
      path: '/alt',
      headers: { 'x-target-host': 'alt.example.test' },
    })
    expect(result.isError).toBeFalsy()
    const got = w.upstream.received.at(-1)
    expect(got?.url).toBe('/alt')
    expect(got?.headers.host).toBe('alt.example.test')
    expect(got?.headers['x-target-host']).toBeUndefined()
  })

  it('differing from the targetHost argument: bad_request, never one of the two', async () => {
    const before = w.upstream.received.length
    const client = await w.connect({ agentToken: alice })
    const problem = problemOf(
      await call(client, 'aegis_proxy_request', {
        service: 'slack',
        path: '/x',
        targetHost: 'api.example.test',
        headers: { 'X-Target-Host': 'alt.example.test' },
      }),
    )
    expect(problem.code).toBe('bad_request')
    expect(w.upstream.received.length).toBe(before)
  })
})
