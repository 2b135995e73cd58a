import { generateUserToken } from '@aegis/guard'
import { describe, expect, it } from 'vitest'
import {
  buildMatcher,
  containsSecret,
  createRedactor,
  inspectOutbound,
  redactBuffer,
  redactText,
} from '../src/index.js'

// A vault secret too, so both stages run together.
const SECRET = 'vault-secret-value-0123456789'
const matcher = buildMatcher([{ value: SECRET, kind: 'credential:x' }])
const TOKEN = generateUserToken()

function streamed(text: string, cuts: number[]): { text: string; count: number; kinds: string[] } {
  const bytes = Buffer.from(text, 'latin1')
  const r = createRedactor(matcher)
  const out: Buffer[] = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    out.push(r.push(bytes.subarray(from, cut)))
    from = cut
  }
  out.push(r.end())
  return { text: Buffer.concat(out).toString('latin1'), count: r.count, kinds: r.kinds }
}

describe('operator (user) tokens in responses', () => {
  const body = `{"note":"${TOKEN}","other":"${SECRET}","tail":"ok"}`
  const expected = '{"note":"[REDACTED]","other":"[REDACTED]","tail":"ok"}'

  it('are redacted whole in a buffer and in text, and counted', () => {
    expect(containsSecret(Buffer.from(`x ${TOKEN}`), buildMatcher([]))).toBe(true)
    const r = redactBuffer(Buffer.from(body), matcher)
    expect(r.bytes.toString()).toBe(expected)
    expect(r.count).toBe(2)
    expect(redactText(`Bearer ${TOKEN}`, buildMatcher([])).text).toBe('Bearer [REDACTED]')
  })

  it('are redacted wherever the stream is cut (every single cut, and byte by byte)', () => {
    for (let cut = 1; cut < body.length; cut++) {
      expect(streamed(body, [cut]).text, `cut at ${cut}`).toBe(expected)
    }
    const bytewise = streamed(
      body,
      Array.from({ length: body.length - 1 }, (_, i) => i + 1),
    )
    expect(bytewise.text).toBe(expected)
    expect(bytewise.kinds).toEqual(['credential:x', 'format:aegis-user-token'])
  })

  it('redact a damaged or cut token too, and a very long run as one replacement with bounded holdback', () => {
    expect(redactText(`a ${TOKEN.slice(0, 30)} b`, matcher).text).toBe('a [REDACTED] b')
    expect(redactText(`${TOKEN.slice(0, 40)}X${TOKEN.slice(41)}`, matcher).text).toBe('[REDACTED]')
    const r = createRedactor(matcher)
    const parts = [r.push(Buffer.from(`x aegis_user_${'A'.repeat(100)}`))]
    for (let i = 0; i < 100; i++) {
      parts.push(r.push(Buffer.alloc(10_000, 'B')))
      expect(r.held).toBeLessThan(1000)
    }
    parts.push(r.push(Buffer.from(' y')), r.end())
    expect(Buffer.concat(parts).toString()).toBe('x [REDACTED] y')
    expect(r.count).toBe(1)
  })

  it('leave look-alikes alone: the bare prefix, the env var name, other words', () => {
    for (const text of [
      'aegis_user_',
      'AEGIS_USER_TOKEN=',
      'aegis_users list',
      'aegis_user_ next',
      'aegis_us',
    ]) {
      expect(streamed(text, [3]).text, text).toBe(text)
      expect(redactText(text, matcher).text).toBe(text)
    }
  })

  it('are refused outbound by shape in body, query, header and path, raw and percent-encoded (once or twice)', () => {
    const pct = [...Buffer.from(TOKEN)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
    const parts = [
      { body: Buffer.from(`{"t":"${TOKEN}"}`) },
      { body: Buffer.from(`glued${TOKEN}`) },
      { body: Buffer.from(`t=${pct}`) },
      { body: Buffer.from(`t=${encodeURIComponent(pct)}`) },
      { body: Buffer.from(`t=${pct.slice(0, 3 * 11)}${TOKEN.slice(11)}`) },
      { query: `q=${TOKEN}` },
      { query: `q=${pct}` },
      { headers: ['x-note', TOKEN] },
      { headers: ['x-note', pct] },
      { path: `/notes/${TOKEN}` },
      { path: `/notes/${pct}` },
    ]
    for (const part of parts) {
      const kinds = inspectOutbound(part, matcher).map((f) => f.kind)
      expect(kinds, JSON.stringify(part).slice(0, 40)).toContain('format:aegis-user-token')
    }
  })
})

describe('operator tokens written encoded, found outbound by shape', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  const jsonAll = (s: string) =>
    [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')
  const forms: [string, string][] = [
    ['base64', b64(TOKEN)],
    ['base64 inside a larger text, each alignment', b64(`x${TOKEN}y`)],
    ['base64, second alignment', b64(`xy${TOKEN}`)],
    ['base64url', Buffer.from(`{"k":"${TOKEN}"}`).toString('base64url')],
    ['base64 of a JSON document', b64(JSON.stringify({ auth: TOKEN }))],
    ['hex', Buffer.from(TOKEN).toString('hex')],
    ['HEX', Buffer.from(TOKEN).toString('hex').toUpperCase()],
    ['JSON-escaped, every character', jsonAll(TOKEN)],
    ['JSON-escaped, one character of the prefix', `a\\u0065gis_user_${TOKEN.slice(11)}`],
    ['JSON-escaped, upper-case hex digits', `\\u0061\\u0045`.replace('0045', '0065') + TOKEN.slice(2)],
  ]
  for (const where of ['body', 'query', 'header'] as const) {
    it.each(forms)(`in the ${where}: %s`, (_name, text) => {
      const part =
        where === 'body'
          ? { body: Buffer.from(`{"data":"${text}"}`) }
          : where === 'query'
            ? { query: `d=${text}` }
            : { headers: ['x-d', text] }
      expect(inspectOutbound(part, matcher).map((f) => f.kind)).toContain('format:aegis-user-token')
    })
  }
})

describe("operator tokens written encoded, found through the needles' probe bytes", () => {
  // The base64 and hex stems are found by one byte of theirs (memchr), then by Buffer#indexOf after
  // 16 misses: a body full of those bytes before the token must still give it up.
  const encoded: [string, string][] = [
    ['base64', Buffer.from(TOKEN).toString('base64')],
    ['base64 +1', Buffer.from(`x${TOKEN}`).toString('base64')],
    ['base64 +2', Buffer.from(`xy${TOKEN}`).toString('base64')],
    ['hex', Buffer.from(TOKEN).toString('hex')],
    ['HEX', Buffer.from(TOKEN).toString('hex').toUpperCase()],
  ]
  const noise = (n: number) => 'Y F Z f V W 6 1 '.repeat(n)
  for (const [name, text] of encoded) {
    it(`${name}: at the start, after a few probe bytes, after many`, () => {
      for (const before of ['', noise(2), noise(200)]) {
        for (const after of ['', noise(3)]) {
          const body = Buffer.from(`{"n":"${before}","d":"${text}","m":"${after}"}`)
          expect(
            inspectOutbound({ body }, matcher).map((f) => f.kind),
            `${before.length} bytes before`,
          ).toContain('format:aegis-user-token')
        }
      }
    })
  }
})

describe('bodies without an operator token', () => {
  it('are not format-scanned in their decoded views (what keeps the body scan cheap)', () => {
    // A percent-encoded look-alike of another format in a body stays unseen, as before.
    const gh = ['ghp', '_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('')
    const body = Buffer.from(`t=${[...Buffer.from(gh)].map((b) => `%${b.toString(16)}`).join('')}`)
    expect(inspectOutbound({ body }, matcher)).toEqual([])
  })
})
