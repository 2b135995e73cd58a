import { request } from 'node:http'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendRaw } from '../../proxy/test/fixtures/client.js'
import { createMcpHttpServer, type McpHttpServer } from '../src/index.js'
import { postMcp, type RawReply } from './fixtures/raw-post.js'
import { silentLogger, startWorld, type World } from './fixtures/world.js'

let w: World
let server: McpHttpServer
let url: string
let port: number
let alice: string
let bob: string
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-http-1' })
  w.add({ name: 'github-bot', service: 'github', secret: 'ghp-http-1' })
  alice = w.vault.addAgent({ name: 'alice' }).token
  bob = w.vault.addAgent({ name: 'bob' }).token
  w.vault.grant('alice', 'slack-bot')
  w.vault.grant('bob', 'github-bot')
  w.pipeline.refresh()
  server = createMcpHttpServer({
    engine: w.pipeline.engine,
    logger: silentLogger(),
    port: 0,
    allowedOrigins: ['https://trusted.example'],
  })
  ;({ url, port } = await server.listen())
})
afterAll(async () => {
  await server.close()
  await w.close()
})

async function connect(token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  })
  const client = new Client({ name: 'http-agent', version: '1.0.0' })
  await client.connect(transport)
  return client
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
})

function post(
  headers: Record<string, string>,
  body = INITIALIZE,
  path = '/mcp',
  method = 'POST',
): Promise<RawReply> {
  return postMcp(port, body, headers, { path, method })
}

describe('streamable HTTP transport', () => {
  it('makes a real proxied call with a bearer token', async () => {
    const client = await connect(alice)
    const result = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/over-http' },
    })) as CallToolResult
    expect(result.isError).toBeFalsy()
    expect(result.structuredContent).toMatchObject({ status: 200 })
    expect(w.upstream.received.at(-1)?.headers.authorization).toBe('Bearer xoxb-http-1')
    await w.ledger.flush()
    const entry = w.ledger.query({ limit: 20 }).find((e) => e.path === '/over-http')
    expect(entry).toMatchObject({ channel: 'mcp', agent: 'alice', decision: 'allowed' })
    await client.close()
  })

  it('binds each request to its own bearer token', async () => {
    const [a, b] = await Promise.all([connect(alice), connect(bob)])
    const [la, lb] = await Promise.all([
      a.callTool({ name: 'aegis_list_services', arguments: {} }),
      b.callTool({ name: 'aegis_list_services', arguments: {} }),
    ])
    const names = (r: unknown) =>
      ((r as CallToolResult).structuredContent as { services: Array<{ service: string }> }).services.map(
        (s) => s.service,
      )
    expect(names(la)).toEqual(['slack'])
    expect(names(lb)).toEqual(['github'])
    const denied = (await b.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/x' },
    })) as CallToolResult
    expect(denied.isError).toBe(true)
    await Promise.all([a.close(), b.close()])
  })

  it('answers 401 agent_auth_required without a bearer token', async () => {
    for (const headers of [{}, { authorization: 'Basic YTpi' }, { authorization: 'Bearer' }] as Record<
      string,
      string
    >[]) {
      const reply = await post({ host: `127.0.0.1:${port}`, ...headers })
      expect(reply.status).toBe(401)
      expect(reply.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(reply.headers['www-authenticate']).toMatch(/^Bearer/)
      expect(JSON.parse(reply.body)).toMatchObject({ code: 'agent_auth_required', status: 401 })
    }
  })

  it('answers 401 agent_auth_invalid for an unknown token, before any MCP message is handled', async () => {
    const reply = await post({
      host: `127.0.0.1:${port}`,
      authorization: 'Bearer aegis_unknownunknownunknownunknownunknownunknow',
    })
    expect(reply.status).toBe(401)
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'agent_auth_invalid' })
    expect(reply.body).not.toContain('unknownunknown')
  })

  it('refuses a foreign Host (DNS rebinding) with 403, even with a valid token', async () => {
    for (const host of [
      'evil.test',
      `evil.test:${port}`,
      `127.0.0.1.evil.test:${port}`,
      `localhost.evil.test`,
    ]) {
      const reply = await post({ host, authorization: `Bearer ${alice}` })
      expect(reply.status, host).toBe(403)
      expect(JSON.parse(reply.body)).toMatchObject({ code: 'host_denied', error: { code: 'host_denied' } })
    }
  })

  it('refuses a foreign Origin with 403 and accepts local and configured ones', async () => {
    for (const origin of [
      'https://evil.test',
      'null',
      `http://localhost:${port + 1}`,
      `https://localhost:${port}`,
    ]) {
      const reply = await post({ host: `localhost:${port}`, origin, authorization: `Bearer ${alice}` })
      expect(reply.status, origin).toBe(403)
      expect(JSON.parse(reply.body)).toMatchObject({
        code: 'origin_denied',
        error: { code: 'origin_denied' },
      })
    }
    for (const origin of [
      `http://localhost:${port}`,
      `http://127.0.0.1:${port}`,
      'https://trusted.example',
    ]) {
      const reply = await post({ host: `localhost:${port}`, origin, authorization: `Bearer ${alice}` })
      expect(reply.status, origin).toBe(200)
    }
  })

  it('records a refused Host or Origin in the ledger (channel mcp), as the gate does', async () => {
    const before = w.upstream.received.length
    const refused: Array<{ headers: Record<string, string>; code: string }> = [
      { headers: { host: 'evil.test', authorization: `Bearer ${alice}` }, code: 'host_denied' },
      {
        headers: { host: `localhost:${port}`, origin: 'https://evil.test', authorization: `Bearer ${alice}` },
        code: 'origin_denied',
      },
    ]
    for (const { headers, code } of refused) {
      const reply = await post(headers, INITIALIZE, '/mcp?probe=rebinding')
      expect(reply.status, code).toBe(403)
      expect(reply.headers['x-aegis-block'], code).toBe(code)
      const requestId = reply.headers['x-request-id']
      expect(typeof requestId, code).toBe('string')
      expect(JSON.parse(reply.body)).toMatchObject({ code, error: { code }, instance: requestId })
      await w.ledger.flush()
      const entry = w.ledger.query({ limit: 500 }).find((e) => e.requestId === requestId)
      expect(entry, code).toMatchObject({
        channel: 'mcp',
        decision: 'blocked',
        code,
        status: 403,
        method: 'POST',
        path: '/mcp',
      })
    }
    expect(w.upstream.received.length).toBe(before)
  })

  it('answers a foreign Host or Origin with the same headers as the gate does (one writer)', async () => {
    const toGate = (headers: Record<string, string>) =>
      new Promise<RawReply>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: w.gatePort, path: '/slack/x', method: 'POST', agent: false, headers },
          (res) => {
            let text = ''
            res.setEncoding('utf8').on('data', (d: string) => {
              text += d
            })
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
          },
        )
        req.on('error', reject)
        req.end(INITIALIZE)
      })
    const shape = (reply: RawReply) => {
      const {
        date: _date,
        'x-request-id': id,
        'request-id': sameId,
        'content-length': length,
        ...rest
      } = reply.headers
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      expect(sameId).toBe(id)
      expect(Number(length)).toBe(Buffer.byteLength(reply.body))
      return { status: reply.status, headers: rest }
    }
    const foreign: Record<string, string>[] = [
      { host: 'evil.test', 'content-type': 'application/json' },
      { host: 'localhost', origin: 'https://evil.test', 'content-type': 'application/json' },
    ]
    for (const headers of foreign) {
      const gate = shape(await toGate({ ...headers, authorization: `Bearer ${alice}` }))
      const mcp = shape(
        await post({
          ...headers,
          host: headers.host === 'localhost' ? `localhost:${port}` : (headers.host ?? ''),
          authorization: `Bearer ${alice}`,
        }),
      )
      expect(mcp).toEqual(gate)
      expect(gate.headers).toMatchObject({
        'content-type': 'application/problem+json; charset=utf-8',
        'cache-control': 'no-store',
      })
      expect(Object.keys(gate.headers).sort()).toEqual([
        'cache-control',
        'connection',
        'content-type',
        'stripe-should-retry',
        'x-aegis-block',
        'x-should-retry',
      ])
      expect(gate.headers['x-should-retry']).toBe('false')
    }
  })

  it('answers 401 with the shared problem headers (request id, no-store), recorded under that id', async () => {
    const reply = await post({ host: `127.0.0.1:${port}` })
    expect(reply.status).toBe(401)
    expect(reply.headers).toMatchObject({
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
      'x-aegis-block': 'agent_auth_required',
    })
    const requestId = reply.headers['x-request-id']
    expect(JSON.parse(reply.body)).toMatchObject({ instance: requestId })
    await w.ledger.flush()
    const entry = w.ledger.query({ limit: 500 }).find((e) => e.requestId === requestId)
    expect(entry).toMatchObject({ channel: 'mcp', code: 'agent_auth_required', status: 401 })
  })

  it('serves only POST /mcp, and records every other request it refuses (channel mcp), as the gate does', async () => {
    const auth = { host: `127.0.0.1:${port}`, authorization: `Bearer ${alice}` }
    const cases: Array<{ reply: RawReply; code: string; status: number; method: string; path: string }> = [
      {
        reply: await post(auth, INITIALIZE, '/other?x=1'),
        code: 'not_found',
        status: 404,
        method: 'POST',
        path: '/other',
      },
      {
        reply: await post(auth, '', '/mcp', 'GET'),
        code: 'method_not_allowed',
        status: 405,
        method: 'GET',
        path: '/mcp',
      },
      {
        reply: await post(auth, '{not json'),
        code: 'bad_request',
        status: 400,
        method: 'POST',
        path: '/mcp',
      },
    ]
    expect(cases[1]?.reply.headers.allow).toBe('POST')
    // The JSON-RPC parse error stays what an MCP client reads.
    expect(JSON.parse(cases[2]?.reply.body ?? '')).toMatchObject({ error: { code: -32700 } })
    await w.ledger.flush()
    for (const { reply, code, status, method, path } of cases) {
      expect(reply.status, code).toBe(status)
      expect(reply.headers['x-aegis-block'], code).toBe(code)
      const requestId = reply.headers['x-request-id']
      const entry = w.ledger.query({ limit: 500 }).find((e) => e.requestId === requestId)
      expect(entry, code).toMatchObject({ channel: 'mcp', decision: 'blocked', code, status, method, path })
    }
  })

  it('records a message over the limit (413 body_too_large), answered as a JSON-RPC error', async () => {
    const small = createMcpHttpServer({
      engine: w.pipeline.engine,
      logger: silentLogger(),
      port: 0,
      maxMessageBytes: 64,
    })
    const { port: smallPort } = await small.listen()
    const send = (path: string, body: string, headers: Record<string, string> = {}) =>
      new Promise<RawReply>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: smallPort,
            path,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}`, ...headers },
          },
          (res) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (c: string) => {
              text += c
            })
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
          },
        )
        req.on('error', reject)
        req.end(body)
      })
    try {
      const tooLarge = await send('/mcp', INITIALIZE)
      expect(tooLarge.status).toBe(413)
      expect(tooLarge.headers['x-aegis-block']).toBe('body_too_large')
      expect(JSON.parse(tooLarge.body)).toMatchObject({ error: { code: -32600 } })
      await w.ledger.flush()
      const entry = w.ledger
        .query({ limit: 500 })
        .find((e) => e.requestId === tooLarge.headers['x-request-id'])
      expect(entry).toMatchObject({ channel: 'mcp', code: 'body_too_large', status: 413 })
    } finally {
      await small.close()
    }
  })

  it('answers and records a CONNECT (no forward proxy) instead of hanging up', async () => {
    const before = w.upstream.received.length
    const raw = await sendRaw(port, 'CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n', 1000)
    expect(raw).toMatch(/^HTTP\/1\.1 400/)
    expect(raw).toContain('application/problem+json; charset=utf-8')
    expect(raw).toContain('x-aegis-block: bad_request')
    expect(raw).toContain('not a forward proxy')
    const requestId = /x-request-id: ([\w-]+)/.exec(raw)?.[1]
    await new Promise((r) => setTimeout(r, 50))
    await w.ledger.flush()
    const entry = w.ledger.query({ limit: 500 }).find((e) => e.requestId === requestId)
    expect(entry).toMatchObject({
      channel: 'mcp',
      decision: 'blocked',
      code: 'bad_request',
      method: 'CONNECT',
    })
    expect(w.upstream.received.length).toBe(before)
  })
})
