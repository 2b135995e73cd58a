/**
 * Operator (RBAC) user tokens on the HTTP channel: the gate never knows them (they live hashed in a
 * store it does not read), so it recognises them by shape — refused outbound, redacted inbound.
 */
import { generateUserToken } from '@aegis/guard'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

const TOKEN = generateUserToken()
const pct = (s: string) =>
  [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')

let h: Harness
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-1111-2222-slacksecretvalue' })
  h.add({ name: 'open', service: 'open', secret: 'open-secret-value-4242', bodyInspection: 'off' })
})
afterAll(() => h.close())

describe('a user token sent upstream by an agent', () => {
  const cases: [string, string, Parameters<typeof send>[2]][] = [
    ['body, raw', '/slack/api/chat.postMessage', { method: 'POST', body: `{"text":"${TOKEN}"}` }],
    ['body, inside a longer word-free text', '/slack/api/x', { method: 'POST', body: `token: ${TOKEN}.` }],
    ['body, form-encoded', '/slack/api/x', { method: 'POST', body: `t=${pct(TOKEN)}` }],
    [
      'body, only the prefix encoded',
      '/slack/api/x',
      { method: 'POST', body: `t=${pct(TOKEN.slice(0, 11))}${TOKEN.slice(11)}` },
    ],
    [
      'body, form-encoded twice',
      '/slack/api/x',
      { method: 'POST', body: `t=${encodeURIComponent(pct(TOKEN))}` },
    ],
    [
      'body, base64',
      '/slack/api/x',
      { method: 'POST', body: Buffer.from(`{"t":"${TOKEN}"}`).toString('base64') },
    ],
    ['body, hex', '/slack/api/x', { method: 'POST', body: `h=${Buffer.from(TOKEN).toString('hex')}` }],
    [
      'body, JSON-escaped',
      '/slack/api/x',
      { method: 'POST', body: `{"t":"\\u0061egis_user_${TOKEN.slice(11)}"}` },
    ],
    ['body, a letter glued in front', '/slack/api/x', { method: 'POST', body: `x${TOKEN}` }],
    ['query, raw', `/slack/api/search?q=${TOKEN}`, {}],
    ['query, base64url', `/slack/api/search?q=${Buffer.from(TOKEN).toString('base64url')}`, {}],
    ['query, percent-encoded', `/slack/api/search?q=${pct(TOKEN)}`, {}],
    ['header, percent-encoded', '/slack/api/x', { headers: { 'X-Note': pct(TOKEN) } }],
    ['path, raw', `/slack/api/${TOKEN}`, {}],
    ['path, percent-encoded', `/slack/api/${pct(TOKEN)}`, {}],
  ]
  it.each(cases)(
    'is refused with body_inspection (%s), and never reaches the upstream',
    async (_name, path, init) => {
      const before = h.upstream.received.length
      const reply = await send(h.port, path, init)
      expect(reply.status).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('body_inspection')
      expect(h.upstream.received.length).toBe(before)
      expect(reply.text).not.toContain(TOKEN)
      await h.ledger.flush()
      const entry = h.ledger.query({ limit: 5 }).find((e) => e.requestId === reply.headers['x-request-id'])
      expect(JSON.stringify(entry)).not.toContain(TOKEN.slice(20))
    },
  )

  it('is dropped, never forwarded, in a header as it is (the SDK key-slot rule for credential formats)', async () => {
    const before = h.upstream.received.length
    const reply = await send(h.port, '/slack/api/x', { headers: { 'X-Note': TOKEN } })
    const received = h.upstream.received.slice(before)
    expect(JSON.stringify(received)).not.toContain(TOKEN.slice(20))
    expect([200, 403]).toContain(reply.status)
  })
})

describe('a user token in a response', () => {
  it('is redacted (the upstream echoes what a credential without inspection let through)', async () => {
    const reply = await send(h.port, '/open/echo', { method: 'POST', body: `note ${TOKEN} end` })
    expect(reply.status).toBe(200)
    expect(reply.text).not.toContain(TOKEN.slice(11))
    expect(reply.text).toContain('note [REDACTED] end')
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text))
  })

  it('is redacted in a streamed (large) response too', async () => {
    const filler = 'x'.repeat(70_000)
    const reply = await send(h.port, '/open/echo', { method: 'POST', body: `${filler} ${TOKEN} ${filler}` })
    expect(reply.status).toBe(200)
    expect(reply.text).not.toContain(TOKEN.slice(11))
    expect(reply.text).toContain(' [REDACTED] ')
  })
})
