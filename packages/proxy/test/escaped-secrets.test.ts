import { buildMatcher, scan } from '@aegis/inspect'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fixtures/client.js'
import {
  ESCAPING_HOST,
  type EscapingUpstream,
  partlyEscaped,
  startEscapingUpstream,
} from './fixtures/escaping-upstream.js'
import { type Harness, startHarness } from './fixtures/harness.js'

// A credential with the characters ASP.NET Core (`+`) and Go (`<`, `&`) escape in JSON.
const SECRET = 'sk+live/9fK2=mQ7<xV4&bT1nR8-A'
const OTHER = 'xoxb-1111-2222-slacksecretvalue'

let h: Harness
let upstream: EscapingUpstream
beforeAll(async () => {
  upstream = await startEscapingUpstream()
  h = await startHarness({
    extraResolve: [{ host: ESCAPING_HOST, port: 443, address: '127.0.0.1', addressPort: upstream.port }],
  })
  h.add({ name: 'escaped', service: 'esc', secret: SECRET, domains: [ESCAPING_HOST] })
  h.add({ name: 'slack-bot', service: 'slack', secret: OTHER })
})
afterAll(async () => {
  await h.close()
  await upstream.close()
})

describe('an upstream that echoes the credential partly \\u-escaped', () => {
  it('is a test of something: the echo decodes to the secret, and a plain scan misses it', () => {
    const echoed = partlyEscaped(SECRET)
    expect(echoed).toContain('\\u002B')
    expect(JSON.parse(`"${echoed}"`)).toBe(SECRET)
    expect(scan(buildMatcher([{ value: SECRET, kind: 'x' }]), echoed)).toEqual([])
  })

  for (const [route, what] of [
    ['/esc/small', 'small body, exact length'],
    ['/esc/big', 'streamed body over 64 KiB, secret split across chunks'],
    ['/esc/gzip', 'gzip body'],
  ] as const) {
    it(`reaches the agent redacted: ${what}`, async () => {
      const reply = await send(h.port, route)
      expect(reply.status).toBe(401)
      expect(reply.text).toContain('key [REDACTED] is not valid here')
      expect(reply.text).not.toContain(partlyEscaped(SECRET))
      // What the agent reads after JSON.parse holds no secret either.
      const parsed = reply.json<{ detail: string }>()
      expect(parsed.detail).toBe('key [REDACTED] is not valid here')
      expect(JSON.stringify(parsed)).not.toContain(SECRET)
      expect(reply.headers['x-echo']).toBe('[REDACTED]')
      if (route === '/esc/small')
        expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(reply.text)))
    })
  }
})

describe('outbound: a secret with one character escaped is refused', () => {
  const cases: Record<string, { headers: Record<string, string>; body: string }> = {
    'form body, one character %-escaped': {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `channel=C1&text=${SECRET.replace('/', '%2F')}`,
    },
    'JSON body, one \\u escape': {
      headers: { 'content-type': 'application/json' },
      body: `{"text":"${SECRET.replace('+', '\\u002B')}"}`,
    },
    'HTML body, one character reference': {
      headers: { 'content-type': 'text/html' },
      body: `<p>${SECRET.replace('&', '&amp;').replace('<', '&lt;')}</p>`,
    },
  }
  for (const [name, { headers, body }] of Object.entries(cases)) {
    it(name, async () => {
      expect(scan(buildMatcher([{ value: SECRET, kind: 'x' }]), body)).toEqual([])
      const before = h.upstream.received.length
      const reply = await send(h.port, '/slack/api/chat.postMessage', { method: 'POST', headers, body })
      expect(reply.status).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('body_inspection')
      expect(reply.json().detail).toContain('credential:escaped')
      expect(h.upstream.received.length).toBe(before)
      await h.ledger.flush()
      const entry = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.headers['x-request-id'])
      expect(entry).toMatchObject({ decision: 'blocked', code: 'body_inspection' })
    })
  }

  it('in the query and a header too', async () => {
    const cases: { path: string; headers: Record<string, string> }[] = [
      // Percent-encoded as a query is, but the `+` as a named HTML reference (a `#` would be a fragment).
      { path: `/slack/api/search?q=${encodeURIComponent(SECRET).replace('%2B', '&plus;')}`, headers: {} },
      { path: '/slack/api/x', headers: { 'X-Note': SECRET.replace('=', '&#61;') } },
    ]
    for (const init of cases) {
      const reply = await send(h.port, init.path, { headers: init.headers })
      expect(reply.status, init.path).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('body_inspection')
    }
  })
})
