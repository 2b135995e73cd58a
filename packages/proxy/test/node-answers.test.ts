import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendRaw } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

// Requests Node's HTTP server used to answer by itself — an `Expect` other than `100-continue`
// (a bare 417), an HTTP/1.1 request without Host (a bare 400) — got no problem document, no request
// id and no ledger row: refusals the audit never saw. The gate now refuses them like any other.

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-expectation-secret-1' })
  token = h.vault.addAgent({ name: 'expecter' }).token
  h.vault.grant('expecter', 'slack-bot')
  h.gate.refresh()
})
afterAll(() => h.close())

/**
 * Sends `request` raw and checks it was refused as bad_request: a 400 naming its request id, one
 * ledger row under that id (matching `row`), nothing forwarded. Returns the raw reply.
 */
async function refusedWithOneRow(
  request: string,
  row: Record<string, unknown>,
  wait?: number,
): Promise<string> {
  const before = h.upstream.received.length
  const reply = await sendRaw(h.port, request, wait)
  expect(reply).toMatch(/^HTTP\/1\.1 400 /)
  expect(reply).toMatch(/x-aegis-block: bad_request/i)
  const requestId = /x-request-id: (\S+)/i.exec(reply)?.[1]
  expect(requestId).toBeDefined()
  await h.ledger.flush()
  const rows = h.ledger.query({ limit: 500 }).filter((e) => e.requestId === requestId)
  expect(rows).toHaveLength(1)
  expect(rows[0]).toMatchObject({ decision: 'blocked', code: 'bad_request', ...row })
  expect(h.upstream.received.length).toBe(before)
  return reply
}

const head = (expectValue: string, extra = '') =>
  `POST /slack/api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
  `X-Aegis-Agent: ${token}\r\nExpect: ${expectValue}\r\n${extra}`

describe('an expectation the gate cannot meet', () => {
  for (const [name, request] of [
    ['without a body', `${head('foo')}\r\n`],
    ['with a body', `${head('x-smuggle', 'Content-Length: 5\r\n')}\r\nhello`],
  ] as const) {
    it(`${name}: a problem answer with its request id, one ledger row, nothing forwarded`, async () => {
      const reply = await refusedWithOneRow(request, { path: '/api/x' }, 1500)
      expect(reply).not.toMatch(/ 417 /)
    })
  }

  it('100-continue still works and is not forwarded', async () => {
    const reply = await sendRaw(
      h.port,
      `${head('100-continue', 'Content-Length: 5\r\nConnection: close\r\n')}\r\nhello`,
    )
    expect(reply).toMatch(/HTTP\/1\.1 200 /)
    const got = h.upstream.received.at(-1)
    expect(got?.headers.expect).toBeUndefined()
  })
})

describe('the Host header', () => {
  const target = `X-Target-Host: api.example.test\r\nConnection: close\r\n`
  for (const [name, request] of [
    ['missing in HTTP/1.1', `GET /slack/api/h HTTP/1.1\r\n${target}\r\n`],
    [
      'repeated (the second one would have been dropped)',
      `GET /slack/api/h HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.test\r\n${target}\r\n`,
    ],
  ] as const) {
    it(`${name}: refused as bad_request with its ledger row, nothing forwarded`, async () => {
      await refusedWithOneRow(request, { service: 'slack', path: '/api/h' })
    })
  }

  it('HTTP/1.0 without Host is still served', async () => {
    const reply = await sendRaw(
      h.port,
      `GET /slack/api/h10 HTTP/1.0\r\nX-Target-Host: api.example.test\r\nX-Aegis-Agent: ${token}\r\n\r\n`,
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
  })
})

describe('Transfer-Encoding on HTTP/1.0 (RFC 9112 §6.1: faulty framing)', () => {
  for (const [name, framing] of [
    ['chunked', 'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['chunked beside a Content-Length', 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello'],
  ] as const) {
    it(`${name}: refused as bad_request with its ledger row, nothing forwarded, the connection closed`, async () => {
      const reply = await refusedWithOneRow(
        `POST /slack/api/te10 HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n` +
          `X-Target-Host: api.example.test\r\nX-Aegis-Agent: ${token}\r\n${framing}`,
        { service: 'slack', path: '/api/te10' },
        1500,
      )
      // (With a Content-Length beside it, Node's parser refuses first, in its own words.)
      if (!framing.includes('Content-Length'))
        expect(reply).toContain('HTTP/1.0 request cannot use Transfer-Encoding')
      expect(reply).not.toMatch(/\r\nconnection: keep-alive\r\n/i)
    })
  }

  it('HTTP/1.0 with a Content-Length is still served', async () => {
    const reply = await sendRaw(
      h.port,
      `POST /slack/api/cl10 HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
        `X-Aegis-Agent: ${token}\r\nContent-Length: 5\r\n\r\nhello`,
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(h.upstream.received.at(-1)?.body.toString()).toBe('hello')
  })
})

describe('a request line of a version the gate does not speak', () => {
  // (HTTP/1.2 and HTTP/3.0 never get this far: Node's parser refuses them, with their row.)
  for (const version of ['2.0', '0.9']) {
    it(`HTTP/${version}: refused as bad_request with its ledger row, nothing forwarded`, async () => {
      const reply = await refusedWithOneRow(
        `GET /slack/api/v${version} HTTP/${version}\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
          `X-Aegis-Agent: ${token}\r\nConnection: close\r\n\r\n`,
        { service: 'slack' },
      )
      expect(reply).toContain('Only HTTP/1.1 and HTTP/1.0 are spoken here')
    })
  }
})

describe('more header lines than Node keeps by default (2000)', () => {
  it('the gate sees every header the parser framed the request by: a Content-Length after the 2000th', async () => {
    const junk = 'x-pad: 1\r\n'.repeat(1999)
    const reply = await sendRaw(
      h.port,
      `POST /slack/api/many HTTP/1.1\r\nHost: 127.0.0.1\r\n${junk}X-Target-Host: api.example.test\r\n` +
        `X-Aegis-Agent: ${token}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`,
      1500,
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    const got = h.upstream.received.at(-1)
    expect(got?.url).toBe('/api/many')
    expect(got?.body.toString()).toBe('hello')
  })
})

describe('an Upgrade request', () => {
  it('is served without switching protocols, and its connection closes after the answer', async () => {
    const before = h.upstream.received.length
    const head = `Host: 127.0.0.1\r\nX-Target-Host: api.example.test\r\nX-Aegis-Agent: ${token}\r\n`
    // The second request rides in the same packet, after the Upgrade one: Node's parser drops it.
    const reply = await sendRaw(
      h.port,
      `GET /slack/api/up HTTP/1.1\r\n${head}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n` +
        `GET /slack/api/after HTTP/1.1\r\n${head}\r\n`,
      1500,
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).not.toMatch(/ 101 /)
    // Left open, the client would wait forever for the second answer.
    expect(reply).toMatch(/\r\nconnection: close\r\n/i)
    const forwarded = h.upstream.received.slice(before)
    expect(forwarded.map((r) => r.url)).toEqual(['/api/up'])
    expect(forwarded[0]?.headers.upgrade).toBeUndefined()
  })
})
