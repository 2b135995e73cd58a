import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, sendRaw } from '../../proxy/test/fixtures/client.js'
import { call, problemOf, startWorld, textOf, type World } from './fixtures/world.js'

const SLACK_SECRET = 'xoxb-mcp-test-secret-5b1e'
const READER_SECRET = 'reader-secret-77f0'

let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld({ pipeline: { limits: { maxBodySize: 1024 } } })
  w.add({
    name: 'slack-bot',
    service: 'slack',
    secret: SLACK_SECRET,
    domains: ['api.example.test', '*.example.test'],
  })
  w.add({ name: 'reader', service: 'reader', secret: READER_SECRET, scopes: ['read'] })
  w.add({
    name: 'keyed',
    service: 'keyed',
    secret: 'hdr-secret-1',
    authType: 'header',
    headerName: 'X-Api-Key',
  })
  client = await w.connect()
})
afterAll(() => w.close())

/** Polls `check` until it returns something truthy (at most 5 s). */
async function until<T>(check: () => T | Promise<T>): Promise<NonNullable<T>> {
  for (let i = 0; i < 100; i++) {
    const value = await check()
    if (value) return value as NonNullable<T>
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('condition not met within 5 s')
}

interface Echo {
  method: string
  url: string
  headers: Record<string, string>
  body: string
}

describe('tools', () => {
  it('lists the three tools with their input schemas', async () => {
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([
      'aegis_health',
      'aegis_list_services',
      'aegis_proxy_request',
    ])
    const proxy = tools.find((t) => t.name === 'aegis_proxy_request')
    expect(Object.keys(proxy?.inputSchema.properties ?? {}).sort()).toEqual(
      ['body', 'headers', 'method', 'path', 'service', 'targetHost'].sort(),
    )
    expect(proxy?.inputSchema.required?.sort()).toEqual(['path', 'service'])
  })

  it('reports health', async () => {
    const result = await call(client, 'aegis_health')
    expect(result.isError).toBeFalsy()
    expect(result.structuredContent).toEqual({ status: 'ok', services: 3, version: expect.any(String) })
  })
})

describe('aegis_proxy_request', () => {
  it('forwards with the injected credential and returns status, headers and body', async () => {
    const result = await call(client, 'aegis_proxy_request', {
      service: 'slack',
      path: '/api/auth.test?x=1&y=%20',
    })
    expect(result.isError).toBeFalsy()
    const response = result.structuredContent as {
      status: number
      headers: Record<string, string>
      body: string
      bodyEncoding: string
    }
    expect(response.status).toBe(200)
    expect(response.bodyEncoding).toBe('utf8')
    expect(response.headers['content-type']).toBe('application/json')
    expect(JSON.parse(textOf(result))).toEqual(response)
    const echo = JSON.parse(response.body) as Echo
    expect(echo.url).toBe('/api/auth.test?x=1&y=%20')
    const got = w.upstream.received.at(-1)
    expect(got?.headers.authorization).toBe(`Bearer ${SLACK_SECRET}`)
    expect(got?.headers.host).toBe('api.example.test')
    // The upstream echoed the injected credential; the agent gets it redacted, as on the gate.
    expect(JSON.stringify(result)).not.toContain(SLACK_SECRET)
    expect(echo.headers.authorization).toBe('Bearer [REDACTED]')
  })

  it('never lets an agent-supplied Host or Authorization reach the upstream', async () => {
    const before = w.upstream.received.length
    const result = await call(client, 'aegis_proxy_request', {
      service: 'slack',
      path: '/headers',
      headers: {
        Host: 'evil.test',
        Authorization: 'Bearer agent-forged',
        'X-Custom': 'kept',
      },
    })
    expect(result.isError).toBeFalsy()
    expect(w.upstream.received.length).toBe(before + 1)
    const got = w.upstream.received.at(-1)
    expect(got?.headers.host).toBe('api.example.test')
    expect(got?.headers.authorization).toBe(`Bearer ${SLACK_SECRET}`)
    expect(got?.headers['x-custom']).toBe('kept')
    expect(got?.rawHeaders.join('\n')).not.toContain('forged')
    expect(got?.rawHeaders.join('\n')).not.toContain('evil.test')
  })

  it('replaces an agent-supplied copy of a custom credential header', async () => {
    await call(client, 'aegis_proxy_request', {
      service: 'keyed',
      path: '/k',
      headers: { 'x-api-key': 'agent-value' },
    })
    const got = w.upstream.received.at(-1)
    expect(got?.headers['x-api-key']).toBe('hdr-secret-1')
    expect(got?.rawHeaders.join('\n')).not.toContain('agent-value')
  })

  it('sends a body with its length', async () => {
    const result = await call(client, 'aegis_proxy_request', {
      service: 'slack',
      path: '/api/chat.postMessage',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"héllo"}',
    })
    const echo = JSON.parse((result.structuredContent as { body: string }).body) as Echo
    expect(echo).toMatchObject({ method: 'POST', body: '{"text":"héllo"}' })
    expect(echo.headers['content-length']).toBe(String(Buffer.byteLength('{"text":"héllo"}')))
  })

  it('honours targetHost inside the allowlist', async () => {
    await call(client, 'aegis_proxy_request', {
      service: 'slack',
      path: '/alt',
      targetHost: 'alt.example.test',
    })
    expect(w.upstream.received.at(-1)?.headers.host).toBe('alt.example.test')
  })

  it('returns non-text bodies as base64', async () => {
    const result = await call(client, 'aegis_proxy_request', { service: 'slack', path: '/big/5' })
    expect(result.structuredContent).toMatchObject({
      status: 200,
      body: Buffer.from('aaaaa').toString('base64'),
      bodyEncoding: 'base64',
    })
  })

  it('refuses a response over maxResponseBytes and drops it', async () => {
    const small = await w.connect({ maxResponseBytes: 1000 })
    const result = await call(small, 'aegis_proxy_request', { service: 'slack', path: '/big/200000' })
    const problem = problemOf(result)
    expect(problem).toMatchObject({
      code: 'response_too_large',
      limit: 1000,
      error: { code: 'response_too_large' },
    })
    expect(textOf(result)).not.toContain('aaaa')
    await w.ledger.flush()
    const entry = w.ledger.query({ limit: 50 }).find((e) => e.requestId === problem.instance)
    expect(entry).toMatchObject({ channel: 'mcp', decision: 'failed' })
  })

  it('drops the upstream response when the client cancels the call', async () => {
    const controller = new AbortController()
    const pending = client.callTool(
      { name: 'aegis_proxy_request', arguments: { service: 'slack', path: '/sse' } },
      undefined,
      { signal: controller.signal },
    )
    await until(() => w.upstream.received.some((r) => r.url === '/sse'))
    controller.abort()
    await expect(pending).rejects.toThrow()
    const entry = await until(async () => {
      await w.ledger.flush()
      const found = w.ledger.query({ limit: 50 }).find((e) => e.path === '/sse')
      return found?.decision === 'failed' ? found : undefined
    })
    expect(entry).toMatchObject({ channel: 'mcp', decision: 'failed' })
  })

  it('advertises the methods and the leading "/" in its input schema', async () => {
    const { tools } = await client.listTools()
    const schema = tools.find((t) => t.name === 'aegis_proxy_request')?.inputSchema
    const props = schema?.properties as Record<string, Record<string, unknown>>
    expect(props.method?.enum).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
    expect(props.path?.pattern).toBe('^/')
  })

  it('refuses header names and values HTTP does not allow, as the gate parser would', async () => {
    for (const headers of [{ 'x-a': 'v\r\nInjected: 1' }, { 'bad name': 'v' }, { 'x-a': 'nul\u0000' }]) {
      const before = w.upstream.received.length
      const problem = problemOf(
        await call(client, 'aegis_proxy_request', { service: 'slack', path: '/h', headers }),
      )
      expect(problem.code).toBe('bad_request')
      expect(w.upstream.received.length).toBe(before)
    }
    const huge = problemOf(
      await call(client, 'aegis_proxy_request', {
        service: 'slack',
        path: '/h',
        headers: { 'x-big': 'a'.repeat(20_000) },
      }),
    )
    expect(huge).toMatchObject({ code: 'headers_too_large', status: 431 })
  })
})

describe('refusals match the HTTP gate', () => {
  interface Case {
    name: string
    args: Record<string, unknown>
    http: { path: string; method?: string; headers?: Record<string, string>; body?: string }
    code: string
  }
  const cases: Case[] = [
    {
      name: 'raw traversal',
      args: { service: 'slack', path: '/../x' },
      http: { path: '/slack/../x' },
      code: 'bad_request',
    },
    {
      name: 'encoded traversal',
      args: { service: 'slack', path: '/%2e%2e/admin' },
      http: { path: '/slack/%2e%2e/admin' },
      code: 'bad_request',
    },
    {
      name: 'overlong UTF-8 traversal',
      args: { service: 'slack', path: '/repos/myorg/%c0%ae%c0%ae/admin' },
      http: { path: '/slack/repos/myorg/%c0%ae%c0%ae/admin' },
      code: 'bad_request',
    },
    {
      name: 'fullwidth-dot traversal',
      args: { service: 'slack', path: '/%EF%BC%8E%EF%BC%8E/admin' },
      http: { path: '/slack/%EF%BC%8E%EF%BC%8E/admin' },
      code: 'bad_request',
    },
    {
      name: 'encoded slash',
      args: { service: 'slack', path: '/a%2F..%2Fb' },
      http: { path: '/slack/a%2F..%2Fb' },
      code: 'bad_request',
    },
    {
      name: 'NUL in query',
      args: { service: 'slack', path: '/x?a=%00' },
      http: { path: '/slack/x?a=%00' },
      code: 'bad_request',
    },
    {
      name: 'traversal service',
      args: { service: '..', path: '/x' },
      http: { path: '/../x' },
      code: 'bad_request',
    },
    {
      name: 'target outside the allowlist',
      args: { service: 'slack', path: '/x', targetHost: 'evil.test' },
      http: { path: '/slack/x', headers: { 'X-Target-Host': 'evil.test' } },
      code: 'domain_denied',
    },
    {
      name: 'target with a port',
      args: { service: 'slack', path: '/x', targetHost: 'api.example.test:8443' },
      http: { path: '/slack/x', headers: { 'X-Target-Host': 'api.example.test:8443' } },
      code: 'bad_request',
    },
    {
      name: 'method outside scopes',
      args: { service: 'reader', path: '/x', method: 'POST', body: '{}' },
      http: { path: '/reader/x', method: 'POST', body: '{}' },
      code: 'scope_denied',
    },
    {
      name: 'unknown service',
      args: { service: 'nope', path: '/x' },
      http: { path: '/nope/x' },
      code: 'service_not_found',
    },
    {
      name: 'body over the limit',
      args: { service: 'slack', path: '/x', method: 'POST', body: 'z'.repeat(2000) },
      http: { path: '/slack/x', method: 'POST', body: 'z'.repeat(2000) },
      code: 'body_too_large',
    },
  ]

  // Argument values outside what the tool advertises: the gate's parser or pipeline refuses the
  // same request, so the tool call is refused with the same code and recorded (not an unrecorded
  // schema error).
  const rawCases: { name: string; args: Record<string, unknown>; raw: string; code: string }[] = [
    {
      name: 'lower-case method',
      args: { service: 'slack', path: '/x', method: 'get' },
      raw: 'get /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      code: 'bad_request',
    },
    {
      name: 'unknown method',
      args: { service: 'slack', path: '/x', method: 'FOO' },
      raw: 'FOO /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      code: 'bad_request',
    },
    {
      name: 'CONNECT',
      args: { service: 'slack', path: '/x', method: 'CONNECT' },
      raw: 'CONNECT /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      code: 'bad_request',
    },
    {
      name: 'PROPFIND outside the read scope',
      args: { service: 'reader', path: '/x', method: 'PROPFIND' },
      raw: 'PROPFIND /reader/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      code: 'scope_denied',
    },
    {
      name: 'TRACE, whatever the scopes',
      args: { service: 'slack', path: '/x', method: 'TRACE' },
      raw: 'TRACE /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      code: 'method_not_allowed',
    },
    {
      name: 'path without a leading slash',
      args: { service: 'slack', path: '@evil.test/x' },
      raw: 'GET /slack@evil.test/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      code: 'bad_request',
    },
    {
      name: 'service of two segments',
      args: { service: 'slack/..', path: '/x' },
      raw: 'GET /slack/../x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      code: 'bad_request',
    },
    {
      name: 'Content-Length contradicting the body',
      args: {
        service: 'slack',
        path: '/x',
        method: 'POST',
        headers: { 'Content-Length': '2' },
        body: 'hello',
      },
      raw: 'POST /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello',
      code: 'bad_request',
    },
    {
      name: 'Content-Length beside Transfer-Encoding',
      args: {
        service: 'slack',
        path: '/x',
        method: 'POST',
        headers: { 'Content-Length': '5', 'Transfer-Encoding': 'chunked' },
        body: 'hello',
      },
      raw: 'POST /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      code: 'bad_request',
    },
    {
      name: 'request line over the header limit',
      args: { service: 'slack', path: `/${'a'.repeat(17_000)}` },
      raw: `GET /slack/${'a'.repeat(17_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      code: 'headers_too_large',
    },
  ]

  for (const c of rawCases) {
    it(`${c.name}: ${c.code} on both channels, recorded on both`, async () => {
      const before = w.upstream.received.length
      const gateReply = await sendRaw(w.gatePort, c.raw)
      expect(/x-aegis-block: (\S+)/i.exec(gateReply)?.[1]).toBe(c.code)
      const result = await call(client, 'aegis_proxy_request', c.args)
      const problem = problemOf(result)
      expect(problem.code).toBe(c.code)
      expect(w.upstream.received.length).toBe(before)
      await w.ledger.flush()
      const entry = w.ledger.query({ limit: 100 }).find((e) => e.requestId === problem.instance)
      expect(entry).toMatchObject({ channel: 'mcp', decision: 'blocked', code: c.code })
    })
  }

  for (const c of cases) {
    it(`${c.name}: ${c.code}, as isError with the gate's problem document`, async () => {
      const before = w.upstream.received.length
      const gateReply = await send(w.gatePort, c.http.path, {
        method: c.http.method,
        headers: c.http.headers,
        body: c.http.body,
      })
      const gateProblem = gateReply.json()
      const result = await call(client, 'aegis_proxy_request', c.args)
      const problem = problemOf(result)
      expect(gateProblem.code).toBe(c.code)
      expect(problem.code).toBe(gateProblem.code)
      expect(problem.status).toBe(gateReply.status)
      expect(problem.type).toBe(gateProblem.type)
      expect(problem.title).toBe(gateProblem.title)
      expect(result.structuredContent).toBeUndefined()
      expect(w.upstream.received.length).toBe(before)
      await w.ledger.flush()
      const entry = w.ledger.query({ limit: 100 }).find((e) => e.requestId === problem.instance)
      expect(entry).toMatchObject({ channel: 'mcp', decision: 'blocked', code: c.code })
    })
  }
})

describe('the gate’s own namespace', () => {
  it('is no service over MCP (service_not_found, no service in the row); the HTTP gate answers it itself', async () => {
    const before = w.upstream.received.length
    const gateReply = await send(w.gatePort, '/_aegis/x')
    expect(gateReply.status).toBe(404)
    expect(gateReply.json()).toMatchObject({ code: 'not_found' })
    const result = await call(client, 'aegis_proxy_request', { service: '_aegis', path: '/x' })
    const problem = problemOf(result)
    expect(problem).toMatchObject({ code: 'service_not_found', status: 404 })
    expect(w.upstream.received.length).toBe(before)
    await w.ledger.flush()
    const rows = w.ledger.query({ limit: 200 })
    expect(rows.find((e) => e.requestId === problem.instance)).toMatchObject({
      channel: 'mcp',
      decision: 'blocked',
      code: 'service_not_found',
      service: null,
    })
    expect(rows.some((e) => e.service === '_aegis')).toBe(false)
    // The HTTP request was the gate's own: no row at all.
    expect(rows.some((e) => e.channel === 'gate' && e.path?.startsWith('/_aegis'))).toBe(false)
  })
})

describe('ledger and discovery', () => {
  it('records forwarded calls with channel mcp and without query or secret', async () => {
    const result = await call(client, 'aegis_proxy_request', {
      service: 'slack',
      path: '/ledgered?token=abc',
    })
    expect(result.isError).toBeFalsy()
    await w.ledger.flush()
    const entries = w.ledger.query({ limit: 200 })
    const entry = entries.find((e) => e.path === '/ledgered')
    expect(entry).toMatchObject({
      channel: 'mcp',
      decision: 'allowed',
      service: 'slack',
      credential: 'slack-bot',
      targetHost: 'api.example.test',
      method: 'GET',
      status: 200,
    })
    const all = JSON.stringify(entries)
    expect(all).not.toContain(SLACK_SECRET)
    expect(all).not.toContain('token=abc')
  })

  it('lists services by name, domains and scopes, never secrets', async () => {
    const result = await call(client, 'aegis_list_services')
    expect(result.isError).toBeFalsy()
    const { services } = result.structuredContent as { services: Array<Record<string, unknown>> }
    expect(services.map((s) => s.service).sort()).toEqual(['keyed', 'reader', 'slack'])
    expect(services.find((s) => s.service === 'reader')).toEqual({
      name: 'reader',
      service: 'reader',
      domains: ['api.example.test'],
      scopes: ['read'],
    })
    const text = JSON.stringify(result)
    for (const secret of [SLACK_SECRET, READER_SECRET, 'hdr-secret-1', 'X-Api-Key'])
      expect(text).not.toContain(secret)
  })
})
