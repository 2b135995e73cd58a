import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpHttpServer, type McpHttpServer } from '../src/index.js'
import { postMcp, type RawReply } from './fixtures/raw-post.js'
import { silentLogger, startWorld, type World } from './fixtures/world.js'

let w: World
let server: McpHttpServer
let port: number
let alice: string
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-messages-1' })
  alice = w.vault.addAgent({ name: 'alice' }).token
  w.vault.grant('alice', 'slack-bot')
  w.pipeline.refresh()
  server = createMcpHttpServer({ engine: w.pipeline.engine, logger: silentLogger(), port: 0 })
  ;({ port } = await server.listen())
})
afterAll(async () => {
  await server.close()
  await w.close()
})

function post(body: string, headers: Record<string, string> = {}): Promise<RawReply> {
  return postMcp(port, body, { authorization: `Bearer ${alice}`, ...headers })
}

const call = (id: unknown, path: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'aegis_proxy_request', arguments: { service: 'slack', path } },
})
const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
}

describe('MCP HTTP: a POST the transport cannot take is refused before anything runs, and recorded', () => {
  const cases: Array<{ name: string; body: unknown; headers?: Record<string, string>; path: string }> = [
    { name: 'two requests with one id', body: [call(1, '/dup-a'), call(1, '/dup-b')], path: '/dup-a' },
    { name: 'an object as an id', body: call({ a: 1 }, '/object-id'), path: '/object-id' },
    { name: 'initialize in a batch', body: [initialize, call(2, '/with-init')], path: '/with-init' },
    {
      name: 'an unsupported MCP-Protocol-Version',
      body: call(3, '/bad-version'),
      headers: { 'mcp-protocol-version': '1999-01-01' },
      path: '/bad-version',
    },
    {
      name: 'a Content-Type other than JSON',
      body: call(4, '/text-plain'),
      headers: { 'content-type': 'text/plain' },
      path: '/text-plain',
    },
    {
      name: 'an Accept without event streams',
      body: call(5, '/accept-json'),
      headers: { accept: 'application/json' },
      path: '/accept-json',
    },
  ]
  for (const c of cases) {
    it(`${c.name}: 400 bad_request as a JSON-RPC error, a ledger row, nothing forwarded`, async () => {
      const before = w.upstream.received.length
      const reply = await post(JSON.stringify(c.body), c.headers)
      expect(reply.status).toBe(400)
      expect(reply.headers['x-aegis-block']).toBe('bad_request')
      expect(JSON.parse(reply.body)).toMatchObject({
        jsonrpc: '2.0',
        error: { code: expect.any(Number) },
        id: null,
      })
      expect(w.upstream.received.slice(before).map((r) => r.url)).toEqual([])
      await w.ledger.flush()
      const row = w.ledger.query({ limit: 500 }).find((e) => e.requestId === reply.headers['x-request-id'])
      expect(row).toMatchObject({ channel: 'mcp', decision: 'blocked', code: 'bad_request', status: 400 })
      expect(w.ledger.query({ limit: 500 }).some((e) => e.path === c.path)).toBe(false)
    })
  }

  it('a batch with distinct ids is answered with an answer for each', async () => {
    const reply = await post(JSON.stringify([call(1, '/batch-a'), call('1', '/batch-b')]))
    expect(reply.status).toBe(200)
    const answers = JSON.parse(reply.body) as Array<{ id: unknown }>
    expect(answers.map((a) => a.id).sort()).toEqual([1, '1'])
  })

  // JSON-RPC 2.0 §6: a batch is answered with an array, whatever its size; the SDK answered a batch
  // of one request with that answer alone.
  it('a batch of one request is answered with an array of one', async () => {
    const reply = await post(JSON.stringify([call(5, '/batch-one')]))
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toEqual([
      expect.objectContaining({ jsonrpc: '2.0', id: 5, result: expect.anything() }),
    ])
  })

  it('a batch of one request and a notification, or of one refused request, is an array too', async () => {
    const notified = await post(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 6, method: 'ping' },
      ]),
    )
    expect(JSON.parse(notified.body)).toEqual([{ jsonrpc: '2.0', id: 6, result: {} }])
    const unknown = await post(
      JSON.stringify([{ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'nope' } }]),
    )
    expect(JSON.parse(unknown.body)).toEqual([
      { jsonrpc: '2.0', id: 7, error: expect.objectContaining({ code: -32602 }) },
    ])
  })

  it('answers a batch in the order of its requests, whichever finishes first', async () => {
    const reply = await post(
      JSON.stringify([call('slow', '/slow/200'), { jsonrpc: '2.0', id: 'fast', method: 'ping' }]),
    )
    expect((JSON.parse(reply.body) as Array<{ id: unknown }>).map((a) => a.id)).toEqual(['slow', 'fast'])
  })

  it('a lone request is still answered with a lone object', async () => {
    const reply = await post(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ping' }))
    expect(JSON.parse(reply.body)).toEqual({ jsonrpc: '2.0', id: 8, result: {} })
  })
})
