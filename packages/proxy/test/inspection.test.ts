import { once } from 'node:events'
import { request } from 'node:http'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { send, streamInTwo } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

const SLACK = 'xoxb-1111-2222-slacksecretvalue'
const GITHUB = 'gh-vault-secret-0123456789abcdef'
// A well-known format that is not in the vault (built in parts so no token literal sits here).
const FOREIGN_GITHUB_TOKEN = ['ghp', '_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('')

let h: Harness
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'slack-bot', service: 'slack', secret: SLACK })
  h.add({ name: 'github-bot', service: 'github', secret: GITHUB })
  h.add({ name: 'lenient', service: 'lenient', secret: 'lenient-secret-value-42', bodyInspection: 'warn' })
  h.add({ name: 'open', service: 'open', secret: 'open-secret-value-4242', bodyInspection: 'off' })
})
afterAll(() => h.close())

async function expectBlocked(path: string, init: Parameters<typeof send>[2]) {
  const before = h.upstream.received.length
  const reply = await send(h.port, path, init)
  expect(reply.status, path).toBe(403)
  expect(reply.headers['x-aegis-block']).toBe('body_inspection')
  expect(h.upstream.received.length).toBe(before)
  expect(reply.text).not.toContain(GITHUB)
  return reply
}

describe('outbound inspection (block)', () => {
  const encodings: Record<string, string> = {
    raw: GITHUB,
    base64: Buffer.from(`token=${GITHUB}&x=1`).toString('base64'),
    base64url: Buffer.from(`{"t":"${GITHUB}"}`).toString('base64url'),
    hex: Buffer.from(GITHUB).toString('hex'),
    percent: [...Buffer.from(GITHUB)]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
    jsonEscape: [...GITHUB].map((c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
  }
  for (const [name, encoded] of Object.entries(encodings)) {
    it(`finds another credential's secret in the body (${name})`, async () => {
      await expectBlocked('/slack/api/chat.postMessage', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"text":"look: ${encoded}"}`,
      })
    })
  }

  it('finds a secret base64-encoded across line breaks, and percent-encoded twice', async () => {
    const pem = Buffer.concat([Buffer.alloc(45, 1), Buffer.from(GITHUB), Buffer.alloc(45, 2)])
      .toString('base64')
      .replace(/.{64}/g, '$&\n')
    await expectBlocked('/slack/api/files.upload', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: pem }),
    })
    const twice = encodeURIComponent(
      encodeURIComponent(GITHUB).replace(/[-_]/g, (c) => `%${c.charCodeAt(0).toString(16)}`),
    )
    expect(twice).toContain('%25')
    await expectBlocked(`/slack/api/search?q=${twice}`, {})
  })

  it('finds a secret in the query, percent-encoded', async () => {
    await expectBlocked(`/slack/api/search?q=${encodeURIComponent(GITHUB)}`, {})
  })

  it('finds a secret in a forwarded header', async () => {
    await expectBlocked('/slack/api/x', { headers: { 'X-Note': `Bearer ${GITHUB}` } })
  })

  it('finds a secret in the path and keeps it out of the ledger', async () => {
    const reply = await expectBlocked(`/slack/api/${GITHUB}`, {})
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(entry?.path).toBe('[REDACTED]')
    expect(JSON.stringify(h.ledger.query({ limit: 500 }))).not.toContain(GITHUB)
  })

  it('finds well-known credential formats that are not in the vault', async () => {
    const reply = await expectBlocked('/slack/api/x', {
      method: 'POST',
      body: `leak ${FOREIGN_GITHUB_TOKEN}`,
    })
    expect(reply.json().detail).toContain('format:')
    expect(reply.text).not.toContain(FOREIGN_GITHUB_TOKEN)
  })

  it('decodes a gzip body to scan it, and refuses one that does not decode', async () => {
    await expectBlocked('/slack/api/x', {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync(`{"secret":"${GITHUB}"}`),
    })
    await expectBlocked('/slack/api/x', {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: Buffer.from('this is not gzip at all'),
    })
    const clean = await send(h.port, '/slack/api/x', {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync('{"text":"hello"}'),
    })
    expect(clean.status).toBe(200)
  })

  it('lets ordinary bodies through untouched', async () => {
    const body = JSON.stringify({
      id: '4f9c2d1e-8b7a-4c3d-9e2f-1a2b3c4d5e6f',
      sha: 'a'.repeat(40),
      text: 'hi',
    })
    const reply = await send(h.port, '/slack/api/x', { method: 'POST', body })
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.body.toString()).toBe(body)
  })
})

describe('outbound inspection (warn and off)', () => {
  it('forwards in warn mode and marks the ledger entry', async () => {
    const reply = await send(h.port, '/lenient/x', { method: 'POST', body: `x ${GITHUB}` })
    expect(reply.status).toBe(200)
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(entry?.inspection).toBe('warn:credential:github-bot:body')
    expect(entry?.decision).toBe('allowed')
  })

  it('does not inspect when inspection is off', async () => {
    const reply = await send(h.port, '/open/x', { method: 'POST', body: `x ${GITHUB}` })
    expect(reply.status).toBe(200)
  })
})

describe('response redaction', () => {
  it('replaces an echoed credential in the body, keeping Content-Length exact', async () => {
    const reply = await send(h.port, '/slack/echo')
    expect(reply.status).toBe(200)
    expect(reply.text).not.toContain(SLACK)
    expect(reply.text).toContain('[REDACTED]')
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text))
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(entry?.redactions).toBeGreaterThan(0)
  })

  it.each([1, 9, 20])(
    'redacts a credential split across the parts of a small body (cut at byte %i), Content-Length exact',
    async (cut) => {
      const reply = await send(h.port, `/slack/split-echo/${cut}`)
      expect(reply.status).toBe(200)
      expect(reply.text).not.toContain(SLACK)
      expect(reply.text).toBe('{"echo":"Bearer [REDACTED]"}')
      expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text))
    },
  )

  it('redacts across chunk boundaries in large streamed bodies', async () => {
    const reply = await send(h.port, '/slack/repeat/300000')
    expect(reply.status).toBe(200)
    expect(reply.text.length).toBeGreaterThan(100_000)
    expect(reply.text).not.toContain(SLACK)
    expect(reply.text).not.toContain(SLACK.slice(0, 12))
    expect(reply.headers['content-length']).toBeUndefined()
  })

  it('stops a compressed streamed response at the upstream when the agent hangs up', async () => {
    const req = request({ host: '127.0.0.1', port: h.port, path: '/slack/gzip-stream/64', agent: false })
    req.on('error', () => undefined)
    req.end()
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
    expect(res.headers['content-encoding']).toBeUndefined()
    res.destroy()
    await vi.waitFor(() => expect(h.upstream.cutOff).toContain('/gzip-stream/64'), { timeout: 5000 })
  })

  it('decodes a compressed response to redact it', async () => {
    const reply = await send(h.port, '/slack/gzip-echo')
    expect(reply.headers['content-encoding']).toBeUndefined()
    expect(reply.text).not.toContain(SLACK)
    expect(reply.json()).toHaveProperty('headers')
    expect(h.upstream.received.at(-1)?.headers['accept-encoding']).toBe('identity')
  })

  it('redacts headers and server-sent events as they stream', async () => {
    // The upstream sends its last event only once the first reached us.
    const { first, rest, headers } = await streamInTwo(h.port, '/slack/sse-echo', () => h.upstream.release())
    const header = headers['x-echo']
    expect(first).toContain('[REDACTED]')
    expect(first).not.toContain(SLACK)
    expect(String(header)).not.toContain(SLACK)
    const whole = `${first}${await rest}`
    expect(whole).toContain('data: done')
    expect(whole).not.toContain(SLACK)
  })
})
