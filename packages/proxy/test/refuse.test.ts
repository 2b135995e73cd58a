import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, sendRaw } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ gate: { limits: { maxBodySize: 1024 } } })
  h.add({
    name: 'slack-bot',
    service: 'slack',
    secret: 'xoxb-test-secret-1',
    domains: ['api.example.test', '*.example.test'],
  })
  h.add({ name: 'reader', service: 'reader', secret: 'reader-secret-1', scopes: ['read'] })
  h.add({ name: 'old', service: 'old', secret: 'old-secret-1', expiresAt: new Date(Date.now() - 60_000) })
  h.add({ name: 'limited', service: 'limited', secret: 'limited-secret-1', rateLimit: '2/min' })
  h.add({ name: 'wild', service: 'wild', secret: 'wild-secret-1', domains: ['*.example.test'] })
})
afterAll(() => h.close())

/** Sends, and asserts the refusal shape and that the upstream saw nothing. */
async function expectRefused(
  path: string,
  status: number,
  code: string,
  init: Parameters<typeof send>[2] = {},
): Promise<Record<string, unknown>> {
  const before = h.upstream.received.length
  const reply = await send(h.port, path, init)
  expect(reply.status, `${path} status`).toBe(status)
  expect(reply.headers['content-type']).toBe('application/problem+json; charset=utf-8')
  expect(reply.headers['x-aegis-block']).toBe(code)
  const problem = reply.json()
  expect(problem).toMatchObject({ status, code, type: `urn:aegis:problem:${code}` })
  expect(typeof problem.title).toBe('string')
  expect(typeof problem.detail).toBe('string')
  expect(h.upstream.received.length, `${path} reached upstream`).toBe(before)
  // The SDK-facing member (guard ProblemErrorMember): detail and code in the one message SDKs print.
  expect(problem.error).toEqual({ message: `${problem.detail} (aegis: ${code})`, type: code, code })
  return problem
}

describe('path syntax', () => {
  const bad = [
    '/',
    '/slack/../admin',
    '/slack/a/../../etc',
    '/slack/%2e%2e/admin',
    '/slack/%2E%2e/admin',
    '/slack/.%2e/admin',
    '/slack/%2e./admin',
    '/slack/./x',
    '/slack/%2e/x',
    '/slack/a%2fb',
    '/slack/a%2F..%2Fb',
    '/slack/a%5cb',
    '/slack/a\\..\\b',
    '/slack/a%00b',
    '/slack/%252e%252e/x',
    '/slack/%zz',
    '/slack/%4',
    '/Slack/x',
    '/slack/x?a=%00',
  ]
  for (const path of bad) {
    it(`refuses ${JSON.stringify(path)} with 400`, async () => {
      await expectRefused(path, 400, 'bad_request')
    })
  }

  it('refuses absolute-form targets', async () => {
    const raw = await sendRaw(
      h.port,
      'GET http://evil.test/slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      1000,
    )
    expect(raw).toMatch(/^HTTP\/1\.1 400/)
    expect(raw).toContain('bad_request')
  })

  it('answers and records a CONNECT (the gate is no forward proxy) instead of hanging up', async () => {
    const before = h.upstream.received.length
    const raw = await sendRaw(h.port, 'CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n', 1000)
    expect(raw).toMatch(/^HTTP\/1\.1 400/)
    expect(raw).toContain('application/problem+json; charset=utf-8')
    expect(raw).toContain('x-aegis-block: bad_request')
    expect(raw).toContain('cache-control: no-store')
    expect(raw).toContain('not a forward proxy')
    const requestId = /x-request-id: ([\w-]+)/.exec(raw)?.[1]
    await new Promise((r) => setTimeout(r, 50))
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 500 }).find((e) => e.requestId === requestId)
    expect(entry).toMatchObject({ decision: 'blocked', code: 'bad_request', status: 400, method: 'CONNECT' })
    expect(h.upstream.received.length).toBe(before)
  })
})

describe('invisible characters an upstream may strip', () => {
  // A framework that drops default-ignorable code points reads these as "..": the gate must not
  // forward them, and the ledger must hold the refusal.
  const hidden = [
    '/slack/.%E2%80%8B./admin',
    '/slack/%EF%BB%BF../x',
    '/slack/.%C2%AD./x',
    '/slack/ad%E2%81%A0min',
  ]
  for (const path of hidden) {
    it(`refuses ${JSON.stringify(path)} before the upstream and records it`, async () => {
      const before = h.upstream.received.length
      const reply = await send(h.port, path)
      expect(reply.status).toBe(400)
      expect(reply.headers['x-aegis-block']).toBe('bad_request')
      expect(reply.json().detail).toMatch(/invisible/)
      expect(h.upstream.received.length).toBe(before)
      await h.ledger.flush()
      const entry = h.ledger.query({ limit: 500 }).find((e) => e.requestId === reply.headers['x-request-id'])
      expect(entry).toMatchObject({ decision: 'blocked', code: 'bad_request', status: 400, method: 'GET' })
    })
  }

  it('still forwards an emoji with its selector (Discord-style reaction path)', async () => {
    const reply = await send(h.port, '/slack/reactions/%E2%9D%A4%EF%B8%8F/%40me')
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.url).toBe('/reactions/%E2%9D%A4%EF%B8%8F/%40me')
  })
})

describe('service and credential checks', () => {
  it('404s an unknown service', async () => {
    await expectRefused('/nope/x', 404, 'service_not_found')
  })

  it('refuses a method outside the scopes', async () => {
    await expectRefused('/reader/x', 403, 'scope_denied', { method: 'POST', body: '{}' })
    const ok = await send(h.port, '/reader/x')
    expect(ok.status).toBe(200)
  })

  it('refuses an expired credential', async () => {
    await expectRefused('/old/x', 403, 'credential_expired')
  })
})

describe('destination', () => {
  it('forwards to an allowlisted X-Target-Host', async () => {
    const reply = await send(h.port, '/slack/x', { headers: { 'X-Target-Host': 'ALT.Example.Test.' } })
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.host).toBe('alt.example.test')
  })

  const denied = [
    'evil.test',
    'api.example.test.evil.test',
    'evilexample.test',
    'a.b.example.test',
    'example.test',
  ]
  for (const host of denied) {
    it(`refuses X-Target-Host ${host}`, async () => {
      const problem = await expectRefused('/slack/x', 403, 'domain_denied', {
        headers: { 'X-Target-Host': host },
      })
      expect(problem.allowed).toEqual(['api.example.test', '*.example.test'])
    })
  }

  const malformed = [
    'api.example.test@evil.test',
    'evil.test#@api.example.test',
    'api.example.test/path',
    'api.example.test:8443',
    '127.0.0.1',
    '[::1]',
    'api.example.test, evil.test',
  ]
  for (const host of malformed) {
    it(`refuses malformed X-Target-Host ${JSON.stringify(host)}`, async () => {
      await expectRefused('/slack/x', 400, 'bad_request', { headers: { 'X-Target-Host': host } })
    })
  }

  it('refuses repeated X-Target-Host headers', async () => {
    await expectRefused('/slack/x', 400, 'bad_request', {
      headers: { 'X-Target-Host': ['api.example.test', 'evil.test'] },
    })
  })

  it('requires X-Target-Host when every domain is a wildcard', async () => {
    await expectRefused('/wild/x', 400, 'bad_request')
    const ok = await send(h.port, '/wild/x', { headers: { 'X-Target-Host': 'alt.example.test' } })
    expect(ok.status).toBe(200)
  })
})

describe('body limits and framing', () => {
  it('refuses a declared body over the limit without forwarding', async () => {
    await expectRefused('/slack/x', 413, 'body_too_large', { method: 'POST', body: 'a'.repeat(2000) })
  })

  it('cuts off a chunked body that grows over the limit', async () => {
    const raw = await sendRaw(
      h.port,
      `POST /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${'400\r\n'}${'a'.repeat(1024)}\r\n400\r\n${'a'.repeat(1024)}\r\n0\r\n\r\n`,
    )
    expect(raw).toMatch(/^HTTP\/1\.1 413/)
    expect(raw).toContain('body_too_large')
  })

  it('refuses conflicting Content-Length and Transfer-Encoding', async () => {
    const before = h.upstream.received.length
    const raw = await sendRaw(
      h.port,
      'POST /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /slack/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    )
    expect(raw).toMatch(/^HTTP\/1\.1 400/)
    expect(raw).toContain('application/problem+json; charset=utf-8')
    expect(h.upstream.received.slice(before).map((r) => r.url)).not.toContain('/smuggled')
  })

  it('refuses two different Content-Length values', async () => {
    const raw = await sendRaw(
      h.port,
      'POST /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    )
    expect(raw).toMatch(/^HTTP\/1\.1 400/)
  })

  it('answers 431 to oversized headers', async () => {
    const raw = await sendRaw(
      h.port,
      `GET /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expect(raw).toMatch(/^HTTP\/1\.1 431/)
  })
})

describe('rate limits', () => {
  it('limits a credential and says when to retry', async () => {
    // Refused requests must not spend budget: these two are refused before the limiter.
    await expectRefused('/limited/x', 403, 'domain_denied', { headers: { 'X-Target-Host': 'evil.test' } })
    await expectRefused('/limited/x', 413, 'body_too_large', { method: 'POST', body: 'a'.repeat(2000) })
    expect((await send(h.port, '/limited/x')).status).toBe(200)
    expect((await send(h.port, '/limited/x')).status).toBe(200)
    const reply = await send(h.port, '/limited/x')
    expect(reply.status).toBe(429)
    expect(reply.headers['x-aegis-block']).toBe('rate_limited')
    const retryAfter = Number(reply.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(30)
    expect(reply.json().retryAfter).toBe(retryAfter)
  })
})

describe('ledger', () => {
  it('records every refusal with its code, including 400s', async () => {
    const reply = await send(h.port, '/slack/%2e%2e/x?secret=1')
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 500 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(entry).toMatchObject({ decision: 'blocked', code: 'bad_request', status: 400, method: 'GET' })
    expect(entry?.path).not.toContain('secret')
  })

  it('records parser-level refusals too', async () => {
    const before = h.ledger.stats({}).blocked
    await sendRaw(
      h.port,
      'POST /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    )
    await new Promise((r) => setTimeout(r, 50))
    await h.ledger.flush()
    expect(h.ledger.stats({}).blocked).toBe(before + 1)
  })

  it('does not record a client hanging up an idle keep-alive connection', async () => {
    const { connect } = await import('node:net')
    await h.ledger.flush()
    const before = h.ledger.stats({}).total
    const socket = connect(h.port, '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    socket.write('GET /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await new Promise((r) => socket.once('data', r))
    socket.resetAndDestroy()
    await new Promise((r) => setTimeout(r, 100))
    await h.ledger.flush()
    expect(h.ledger.stats({}).total).toBe(before + 1)
  })
})
