import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, sendRaw } from '../../proxy/test/fixtures/client.js'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

const SECRET = 'xoxb-never-forwarded-secret-41c9'

let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld()
  // Scope `*`: every method the scopes can allow is allowed, so only the method rule stands between
  // a TRACE and the upstream.
  w.add({ name: 'slack-bot', service: 'slack', secret: SECRET, scopes: ['*'] })
  client = await w.connect()
})
afterAll(() => w.close())

async function rowOf(requestId: unknown) {
  await w.ledger.flush()
  return w.ledger.query({ limit: 1000 }).find((e) => e.requestId === requestId)
}

// TRACE makes the upstream echo the request — the injected credential with it. The answer would be
// redacted, but the credential had gone out for nothing; CONNECT and TRACK likewise never go.
describe('methods that are never forwarded, whatever the scopes', () => {
  it('TRACE through the gate: 405 method_not_allowed, nothing sent upstream, recorded', async () => {
    const before = w.upstream.received.length
    const reply = await send(w.gatePort, '/slack/echo', { method: 'TRACE' })
    expect(reply.status).toBe(405)
    expect(reply.headers['x-aegis-block']).toBe('method_not_allowed')
    const problem = reply.json()
    expect(problem).toMatchObject({ code: 'method_not_allowed', status: 405 })
    expect(w.upstream.received.length).toBe(before)
    expect(await rowOf(problem.instance)).toMatchObject({
      channel: 'gate',
      decision: 'blocked',
      code: 'method_not_allowed',
      method: 'TRACE',
      service: 'slack',
    })
  })

  for (const method of ['TRACE', 'TRACK', 'CONNECT', 'trace']) {
    it(`${method} through aegis_proxy_request: refused, nothing sent upstream, recorded`, async () => {
      const before = w.upstream.received.length
      const result = await call(client, 'aegis_proxy_request', { service: 'slack', path: '/echo', method })
      const problem = problemOf(result)
      expect(w.upstream.received.length).toBe(before)
      expect(JSON.stringify(result)).not.toContain(SECRET)
      // TRACE is an HTTP method the gate's parser reads: the pipeline refuses it. The others are
      // refused as the gate's parser refuses them (not HTTP methods it reads, or no forward proxy).
      const code = method === 'TRACE' ? 'method_not_allowed' : 'bad_request'
      expect(problem).toMatchObject({ code })
      expect(await rowOf(problem.instance)).toMatchObject({ channel: 'mcp', decision: 'blocked', code })
    })
  }

  it('the pipeline itself refuses them for any channel, in any case', async () => {
    for (const method of ['TRACE', 'TRACK', 'CONNECT', 'trace', 'Track']) {
      const before = w.upstream.received.length
      const outcome = await w.pipeline.engine.process({
        id: `never-${method}`,
        channel: 'gate',
        receivedAt: Date.now(),
        method,
        target: '/slack/echo',
        rawHeaders: [],
        agentToken: null,
        targetHost: null,
        contentLength: null,
        body: null,
        clientAddress: '127.0.0.1',
      })
      expect(outcome.kind).toBe('refused')
      if (outcome.kind === 'refused') expect(outcome.refusal.code).toBe('method_not_allowed')
      expect(w.upstream.received.length).toBe(before)
      expect(await rowOf(`never-${method}`)).toMatchObject({
        decision: 'blocked',
        code: 'method_not_allowed',
      })
    }
  })

  it('a raw TRACE request line at the gate is refused the same way', async () => {
    const before = w.upstream.received.length
    const raw = await sendRaw(
      w.gatePort,
      'TRACE /slack/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    )
    expect(raw).toMatch(/^HTTP\/1\.1 405 /)
    expect(w.upstream.received.length).toBe(before)
  })
})

describe('the methods that are forwarded', () => {
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']) {
    it(`${method} still reaches the upstream with the credential on both channels`, async () => {
      const before = w.upstream.received.length
      const reply = await send(w.gatePort, '/slack/echo', { method })
      expect(reply.status).toBe(200)
      const result = await call(client, 'aegis_proxy_request', { service: 'slack', path: '/echo', method })
      expect(result.isError).toBeFalsy()
      const received = w.upstream.received.slice(before)
      expect(received.map((r) => r.method)).toEqual([method, method])
      for (const r of received) expect(r.headers.authorization).toBe(`Bearer ${SECRET}`)
    })
  }
})
