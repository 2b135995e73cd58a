import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { send, sendRaw, streamInTwo } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

const SECRET = 'xoxb-real-secret-123'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'slack-bot', service: 'slack', secret: SECRET })
  h.add({ name: 'uninspected', service: 'uninspected', secret: 'uninspected-secret', bodyInspection: 'off' })
  h.add({ name: 'keyed', service: 'keyed', secret: 'k-secret', authType: 'header', headerName: 'X-Api-Key' })
  h.add({ name: 'basic', service: 'basic', secret: 'user:pa ss' })
  h.vault.update('basic', { authType: 'basic' })
  h.add({ name: 'query', service: 'query', secret: 'q&secret=1', authType: 'query', queryParam: 'api_key' })
  h.gate.refresh()
})
afterAll(() => h.close())

const last = () => h.upstream.received.at(-1)

describe('credential injection', () => {
  it('injects a bearer token and forwards to the credential domain', async () => {
    const reply = await send(h.port, '/slack/api/auth.test')
    expect(reply.status).toBe(200)
    const got = last()
    expect(got?.url).toBe('/api/auth.test')
    expect(got?.headers.host).toBe('api.example.test')
    expect(got?.headers.authorization).toBe(`Bearer ${SECRET}`)
    expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('replaces an agent-supplied Authorization instead of adding to it', async () => {
    await send(h.port, '/slack/x', {
      headers: { Authorization: 'Bearer agent-fake', 'proxy-authorization': 'x' },
    })
    const auth = last()?.rawHeaders.filter(
      (_, i, a) => i % 2 === 0 && a[i]?.toLowerCase() === 'authorization',
    )
    expect(auth).toHaveLength(1)
    expect(last()?.headers.authorization).toBe(`Bearer ${SECRET}`)
    expect(last()?.headers['proxy-authorization']).toBeUndefined()
  })

  it('injects a custom header and drops the agent copy in any case', async () => {
    await send(h.port, '/keyed/v1', { headers: { 'x-api-key': 'agent-value', 'X-API-KEY': 'agent-2' } })
    expect(last()?.headers['x-api-key']).toBe('k-secret')
    expect(last()?.headers.authorization).toBeUndefined()
  })

  it('injects basic auth as base64 of the secret', async () => {
    await send(h.port, '/basic/v1')
    expect(last()?.headers.authorization).toBe(`Basic ${Buffer.from('user:pa ss').toString('base64')}`)
  })

  it('appends the query credential once, encoded, dropping the agent copies', async () => {
    await send(h.port, '/query/v1/items?api_key=evil&a=1&API_KEY=2&api%5Fkey=3')
    expect(last()?.url).toBe(`/v1/items?a=1&api_key=${encodeURIComponent('q&secret=1')}`)
  })
})

describe('forwarding', () => {
  it('keeps path and query byte for byte, trailing slash included', async () => {
    await send(h.port, '/slack/a/b%20c/%3A/?x=%2F&y=1+2&z')
    expect(last()?.url).toBe('/a/b%20c/%3A/?x=%2F&y=1+2&z')
  })

  it('forwards a service root as /', async () => {
    await send(h.port, '/slack')
    expect(last()?.url).toBe('/')
  })

  it('forwards request bodies exactly', async () => {
    const body = JSON.stringify({ text: 'héllo', n: [1, 2, 3] })
    const reply = await send(h.port, '/slack/api/chat.postMessage', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(reply.status).toBe(200)
    expect(last()?.body.toString('utf8')).toBe(body)
    expect(last()?.headers['content-length']).toBe(String(Buffer.byteLength(body)))
  })

  it('forwards a chunked request body (no declared length) exactly', async () => {
    const raw = await sendRaw(
      h.port,
      'POST /slack/api/chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    )
    expect(raw).toMatch(/^HTTP\/1\.1 200/)
    expect(last()?.url).toBe('/api/chunked')
    expect(last()?.body.toString('utf8')).toBe('hello world')
  })

  it.each([
    // inspection on: the inspection stage reads the body and refuses it
    { service: 'slack', expected: { decision: 'blocked', code: 'bad_request' } },
    // inspection off: forwarding reads the (small, declared) body; the client went away first
    { service: 'uninspected', expected: { decision: 'failed', code: 'client_closed' } },
  ])(
    'forwards nothing for a client that hangs up mid-body ($service), records it once and keeps serving',
    async ({ service, expected }) => {
      const before = h.upstream.received.length
      // Not ending in the service name: 'uninspected' is the start of that credential's secret, and
      // a recorded path ending in 8 or more bytes of a secret's start has them redacted.
      const path = `/api/half-sent-${service}/body`
      const socket = connect(h.port, '127.0.0.1')
      await new Promise<void>((resolve) => socket.once('connect', resolve))
      socket.write(
        `POST /${service}${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789`,
      )
      await new Promise((resolve) => setTimeout(resolve, 100))
      socket.destroy()
      await vi.waitFor(
        async () => {
          await h.ledger.flush()
          const entries = h.ledger.query({ limit: 50 }).filter((e) => e.path === path)
          expect(entries).toHaveLength(1)
          expect(entries[0]).toMatchObject({ ...expected, method: 'POST', service })
        },
        { timeout: 3000 },
      )
      // no stray row for the hang-up itself
      await h.ledger.flush()
      expect(h.ledger.query({ limit: 50 }).filter((e) => e.method === 'UNKNOWN')).toEqual([])
      expect(h.upstream.received.slice(before).map((r) => r.url)).not.toContain(path)
      expect((await send(h.port, `/${service}/api/after`)).status).toBe(200)
    },
  )

  it('strips hop-by-hop, override, forwarding and Aegis headers', async () => {
    await send(h.port, '/slack/h', {
      headers: {
        Connection: 'keep-alive, X-Smuggle',
        'X-Smuggle': 'yes',
        'Keep-Alive': 'timeout=1',
        TE: 'trailers',
        Upgrade: 'h2c',
        'X-Aegis-Trace': 'trace-1',
        'X-Aegis-Anything': '1',
        'X-HTTP-Method-Override': 'DELETE',
        'X-HTTP-Method': 'DELETE',
        'X-Method-Override': 'DELETE',
        'X-Original-URL': '/admin',
        'X-Rewrite-URL': '/admin',
        Forwarded: 'for=1.2.3.4',
        'X-Forwarded-For': '1.2.3.4',
        'X-Forwarded-Host': 'evil.test',
        'X-Target-Host': 'api.example.test',
        'X-Custom': 'kept',
      },
    })
    const headers = last()?.headers ?? {}
    for (const name of [
      'x-smuggle',
      'keep-alive',
      'te',
      'upgrade',
      'x-aegis-trace',
      'x-aegis-anything',
      'x-http-method-override',
      'x-http-method',
      'x-method-override',
      'x-original-url',
      'x-rewrite-url',
      'forwarded',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-target-host',
    ]) {
      expect(headers[name], name).toBeUndefined()
    }
    expect(headers['x-custom']).toBe('kept')
    expect(last()?.method).toBe('GET')
  })

  it('strips hop-by-hop headers from the response', async () => {
    const reply = await send(h.port, '/slack/h')
    expect(reply.headers['x-upstream-private']).toBeUndefined()
    expect(reply.headers['keep-alive']).not.toBe('timeout=5')
    expect(reply.headers['content-type']).toBe('application/json')
  })

  it('returns redirects to the agent without following them', async () => {
    const before = h.upstream.received.length
    const reply = await send(h.port, '/slack/redirect')
    expect(reply.status).toBe(302)
    expect(reply.headers.location).toBe('https://evil.test/steal')
    expect(h.upstream.received.length).toBe(before + 1)
  })

  it('streams server-sent events as they arrive', async () => {
    // The upstream sends the second event only once the first reached us.
    const { first, rest } = await streamInTwo(h.port, '/slack/sse', () => h.upstream.release())
    expect(first.length).toBeGreaterThan(0)
    expect(`${first}${await rest}`).toBe('data: one\n\ndata: two\n\n')
  })

  it('streams large responses through', async () => {
    const reply = await send(h.port, '/slack/big/3000000')
    expect(reply.status).toBe(200)
    expect(reply.text.length).toBe(3_000_000)
  })

  it('records allowed requests in the ledger without the query', async () => {
    const reply = await send(h.port, '/slack/ledgered/path?token=abc')
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(entry).toMatchObject({
      decision: 'allowed',
      service: 'slack',
      credential: 'slack-bot',
      targetHost: 'api.example.test',
      method: 'GET',
      path: '/ledgered/path',
      status: 200,
      channel: 'gate',
    })
    expect(JSON.stringify(entry)).not.toContain('abc')
  })
})
