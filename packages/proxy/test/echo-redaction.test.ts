import { randomBytes } from 'node:crypto'
import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'
import { head, throughScript, write } from './fixtures/scripted.js'
import type { Script } from './fixtures/upstream.js'

// Upstreams that echo the credential back in a form the agent could read: what the agent receives,
// byte for byte, and what the ledger row says.

const SECRET = 'sk-quirk-0123456789abcdefXYZ'
/** The first 21 of its 28 characters: what a broken-off echo used to give away. */
const START = SECRET.slice(0, 21)
let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'quirk', service: 'q', secret: SECRET })
  token = h.vault.addAgent({ name: 'echoing' }).token
  h.vault.grant('echoing', 'quirk')
  h.gate.refresh()
})
afterAll(async () => {
  await h.close()
})

const through = (name: string, script: Script) => throughScript(h, token, 'q', name, script)

/** A whole answer: the head lines, then the body, then the end of the connection. */
const answer =
  (lines: string[], body: Buffer): Script =>
  (s) => {
    write(s, head([...lines, 'Connection: close']), body)
    s.end()
  }

/** Every piece of the secret of 8 characters or more the agent could read in `bytes`. */
function pieces(bytes: Buffer): string[] {
  const text = bytes.toString('latin1')
  const out: string[] = []
  for (let at = 0; at + 8 <= SECRET.length; at++)
    if (text.includes(SECRET.slice(at, at + 8))) out.push(SECRET.slice(at, at + 8))
  return out
}

describe('an answer that ends inside an echoed secret', () => {
  const PAD = 'p'.repeat(70_000) // past the whole-body limit: streamed
  const cases: [string, string, (b: Buffer) => Buffer, string[]][] = [
    ['small, with a Content-Length (redacted whole)', '', (b) => b, []],
    ['large (streamed)', PAD, (b) => b, []],
    ['gzip (decoded as a stream)', '', zlib.gzipSync, ['Content-Encoding: gzip']],
    [
      'stored deflate (decoded as a stream)',
      '',
      (b) => zlib.deflateRawSync(b, { level: 0 }),
      ['Content-Encoding: deflate'],
    ],
  ]
  for (const [name, pad, encode, extra] of cases) {
    it(`${name}: the start of the secret becomes [REDACTED], and the row counts it`, async () => {
      const sent = encode(Buffer.from(`${pad}{"echo":"${START}`))
      const got = await through('ends-inside', answer([...extra, `Content-Length: ${sent.length}`], sent))
      expect(got.status).toBe(200)
      expect(got.body.toString()).toBe(`${pad}{"echo":"[REDACTED]`)
      expect(pieces(Buffer.from(got.raw, 'latin1'))).toEqual([])
      expect(got.row).toMatchObject({ decision: 'allowed', status: 200, redactions: 1 })
      expect(got.row.bytesOut).toBe(got.body.length)
      if (name.startsWith('small'))
        expect(got.raw).toMatch(new RegExp(`\\r\\ncontent-length: ${got.body.length}\\r\\n`, 'i'))
    })
  }

  it('its start partly escaped (`\\u002d`, as ASP.NET Core writes `-`): the whole spelling becomes [REDACTED]', async () => {
    const sent = Buffer.from(`{"echo":"${START.replaceAll('-', '\\u002d')}`)
    const got = await through('ends-escaped', answer([`Content-Length: ${sent.length}`], sent))
    expect(got.body.toString()).toBe('{"echo":"[REDACTED]')
    expect(got.row).toMatchObject({ decision: 'allowed', redactions: 1 })
  })

  it('a header value that ends in it (a Location that echoes a cut key) is redacted too', async () => {
    const got = await through(
      'header-ends-inside',
      answer([`Location: https://cb.example.test/done?key=${START}`, 'Content-Length: 0'], Buffer.alloc(0)),
    )
    expect(got.raw).toMatch(/\r\nlocation: https:\/\/cb\.example\.test\/done\?key=\[REDACTED\]\r\n/i)
    expect(pieces(Buffer.from(got.raw, 'latin1'))).toEqual([])
    expect(got.row).toMatchObject({ decision: 'allowed', redactions: 1 })
  })

  it('a start under 8 characters (`sk-quir`, a public prefix) is left as it is', async () => {
    const sent = Buffer.from(`{"echo":"${SECRET.slice(0, 7)}`)
    const got = await through('short-start', answer([`Content-Length: ${sent.length}`], sent))
    expect(got.body.toString()).toBe(sent.toString())
    expect(got.row).toMatchObject({ decision: 'allowed' })
    expect(got.row.redactions ?? 0).toBe(0)
  })

  it('a deflate body broken off inside the secret (a failed decode): no piece of it is sent, the row says failed', async () => {
    const whole = zlib.deflateRawSync(Buffer.from(`${PAD}{"echo":"${SECRET}"}`), { level: 0 })
    // Stored blocks carry the text as it is: cut the compressed body 21 characters into the secret.
    const cut = whole.subarray(0, whole.indexOf(START) + START.length)
    const got = await through(
      'deflate-cut',
      answer(['Content-Encoding: deflate', `Content-Length: ${cut.length}`], cut),
    )
    expect(pieces(Buffer.from(got.raw, 'latin1'))).toEqual([])
    expect(got.row).toMatchObject({ decision: 'failed' })
  })

  it('an upstream that closes the connection inside the secret (streamed): no piece of it is sent', async () => {
    const sent = Buffer.from(`${PAD}{"echo":"${START}`)
    const got = await through('broken-off', answer([`Content-Length: ${sent.length + 100}`], sent))
    expect(pieces(Buffer.from(got.raw, 'latin1'))).toEqual([])
    expect(got.row).toMatchObject({ decision: 'failed' })
  })
})

describe('a secret base64-encoded inside a larger blob', () => {
  for (const [align, url] of [
    [0, false],
    [1, false],
    [2, false],
    [0, true],
    [1, true],
    [2, true],
  ] as const) {
    it(`at offset ${align} mod 3${url ? ', base64url' : ''}: its stable middle becomes [REDACTED]`, async () => {
      const blob = Buffer.concat([Buffer.from('ab'.slice(0, align)), Buffer.from(`id:${SECRET};ok`)])
      const text = blob.toString(url ? 'base64url' : 'base64')
      const sent = Buffer.from(`{"blob":"${text}"}`)
      const got = await through('base64', answer([`Content-Length: ${sent.length}`], sent))
      const blobOut = /"blob":"([^"]*)"/.exec(got.body.toString())?.[1] ?? ''
      expect(blobOut).toContain('[REDACTED]')
      // What is left of the text, decoded at every alignment, gives no 8 characters of the secret.
      const kept = blobOut.split('[REDACTED]').join('')
      for (let skip = 0; skip < 4; skip++) {
        expect(pieces(Buffer.from(kept.slice(skip), 'base64'))).toEqual([])
      }
      expect(got.row).toMatchObject({ decision: 'allowed', redactions: 1 })
    })
  }
})

describe('a compressed answer that expands without bound (a compression bomb)', () => {
  /** The gate's default body limit is 1 MiB: a compressed answer decodes freely to 4 × that. */
  const FLOOR = 4 * 1_048_576

  it('64 MiB of gzip-compressed zeros (64 KiB sent): cut off near the bound, the row says response_too_large', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1_048_576))
    const got = await through(
      'bomb',
      answer(['Content-Encoding: gzip', `Content-Length: ${bomb.length}`], bomb),
    )
    expect(got.status).toBe(200) // the head went out before the body expanded
    expect(got.body.length).toBeLessThanOrEqual(FLOOR + 1_048_576)
    expect(got.raw.endsWith('0\r\n\r\n')).toBe(false) // cut off: never a complete answer
    expect(got.row).toMatchObject({ decision: 'failed', code: 'response_too_large', status: 200 })
    expect(got.row.bytesOut).toBe(got.body.length)
  })

  it('a large answer that compresses as text does (6 MiB of base64 text) arrives whole', async () => {
    const text = Buffer.from(randomBytes(4_718_592).toString('base64'))
    const sent = zlib.gzipSync(text, { level: 1 })
    const got = await through(
      'big-gzip',
      answer(['Content-Encoding: gzip', `Content-Length: ${sent.length}`], sent),
    )
    expect(got.body.equals(text)).toBe(true)
    expect(got.row).toMatchObject({ decision: 'allowed', status: 200, bytesOut: text.length })
  })

  it('a compressed answer under the floor decodes however far it expands (1 MiB of zeros)', async () => {
    const zeros = Buffer.alloc(1_048_576)
    const sent = zlib.gzipSync(zeros)
    const got = await through(
      'small-bomb',
      answer(['Content-Encoding: gzip', `Content-Length: ${sent.length}`], sent),
    )
    expect(got.body.equals(zeros)).toBe(true)
    expect(got.row).toMatchObject({ decision: 'allowed' })
  })
})

describe('a body in UTF-16 that does not say so', () => {
  const json = `{"echo":"${SECRET}","note":"caf\u00e9 \u2603"}`
  const redacted = '{"echo":"[REDACTED]","note":"caf\u00e9 \u2603"}'
  const le = (text: string) => Buffer.from(text, 'utf16le')
  const be = (text: string) => Buffer.from(text, 'utf16le').swap16()
  const cases: [string, string | null, (text: string) => Buffer, string, string[]][] = [
    ['UTF-16LE, no charset', 'application/json', le, '', []],
    ['UTF-16LE labelled charset=utf-8', 'application/json; charset=utf-8', le, '', []],
    ['UTF-16BE with a BOM, no Content-Type', null, be, '\ufeff', []],
    ['UTF-16LE, larger than the whole-body limit (streamed)', 'text/plain', le, 'p'.repeat(40_000), []],
    [
      'UTF-16BE labelled utf-8, gzip-compressed',
      'text/plain; charset=utf-8',
      be,
      '',
      ['Content-Encoding: gzip'],
    ],
  ]
  for (const [name, type, encode, pad, extra] of cases) {
    it(`${name}: the secret becomes [REDACTED] in the same encoding, the body still valid`, async () => {
      const plain = encode(`${pad}${json}`)
      const sent = extra.length > 0 ? zlib.gzipSync(plain) : plain
      const lines = [
        ...(type === null ? [] : [`Content-Type: ${type}`]),
        ...extra,
        `Content-Length: ${sent.length}`,
      ]
      const got = await through('utf16-unsaid', answer(lines, sent))
      expect(got.status).toBe(200)
      expect(got.body.equals(encode(`${pad}${redacted}`))).toBe(true)
      expect(Buffer.from(got.raw, 'latin1').includes(encode(SECRET.slice(0, 8)))).toBe(false)
      if (type !== null) expect(got.raw).toContain(`\r\ncontent-type: ${type}\r\n`)
      expect(got.row).toMatchObject({ decision: 'allowed', status: 200, redactions: 1 })
      expect(got.row.bytesOut).toBe(got.body.length)
    })
  }
})

describe('a secret in a quoted-printable MIME part', () => {
  // A secret with `=` (base64 padding) is written with `=3D`; a long line gets soft line breaks.
  const PADDED = 'qp-secret-0123456789abcdef/+=='
  let qpToken: string
  beforeAll(() => {
    h.add({ name: 'padded', service: 'mail', secret: PADDED })
    qpToken = h.vault.addAgent({ name: 'mailer' }).token
    h.vault.grant('mailer', 'padded')
    h.gate.refresh()
  })
  const qp = (every: number) => {
    const tokens = [...PADDED].map((c) => (c === '=' ? '=3D' : c))
    const lines: string[] = []
    for (let at = 0; at < tokens.length; at += every) lines.push(tokens.slice(at, at + every).join(''))
    return lines.join('=\r\n')
  }
  const mime = (pad: string, text: string) =>
    Buffer.from(
      `--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${pad}key: ${text}\r\n--b--\r\n`,
    )
  for (const [name, every, pad] of [
    ['`=3D`, one line', 100, ''],
    ['split by soft line breaks', 7, ''],
    ['split by soft line breaks, streamed', 7, 'p'.repeat(70_000)],
  ] as const) {
    it(`${name}: the whole spelling becomes [REDACTED]`, async () => {
      const sent = mime(pad, qp(every))
      const got = await throughScript(
        h,
        qpToken,
        'mail',
        'qp',
        answer(['Content-Type: multipart/mixed; boundary=b', `Content-Length: ${sent.length}`], sent),
      )
      expect(got.body.toString()).toBe(mime(pad, '[REDACTED]').toString())
      expect(got.row).toMatchObject({ decision: 'allowed', status: 200, redactions: 1 })
    })
  }
})

describe('a header whose name echoes the secret (a name has no redacted form)', () => {
  // undici lower-cases names: the agent read `x-sk-quirk-0123456789abcdefxyz` whole.
  const cases: [string, (secret: string) => string][] = [
    ['as sent (mixed case)', (secret) => `X-${secret}`],
    ['upper-cased, which undici lower-cases to something else', (secret) => `X-${secret.toUpperCase()}`],
    ['all lower-case', (secret) => `x-${secret.toLowerCase()}`],
    ['its start only (an echo cut short)', (secret) => `X-Echo-${secret.slice(0, 21)}`],
    ['percent-encoded', (secret) => `X-${encodeURIComponent(`${secret}/`).replace('%2F', '%2f')}`],
  ]
  for (const [name, spell] of cases) {
    it(`${name}: the header is dropped, the others arrive, and the row counts it`, async () => {
      const reply = await through('header-name', (s, request) => {
        const secret = String(request.headers.authorization).slice('Bearer '.length)
        const spelled = spell(secret)
        write(s, head([`${spelled}: 1`, 'X-Kept: yes', 'Content-Length: 2', 'Connection: close']), 'ok')
        s.end()
      })
      expect(reply.status).toBe(200)
      expect(reply.body.toString()).toBe('ok')
      expect(reply.raw).toMatch(/\r\nx-kept: yes\r\n/i)
      // Not even lower-cased: undici lower-cases every name, and the agent reads that.
      expect(reply.raw.toLowerCase()).not.toContain(SECRET.slice(0, 21).toLowerCase())
      expect(reply.row).toMatchObject({ decision: 'allowed', status: 200 })
      expect(Number(reply.row.redactions)).toBeGreaterThan(0)
    })
  }

  it('a name that passed is dropped once the vault holds a secret it spells (names passed are remembered per vault state)', async () => {
    const later = 'Rotated-Key-0f9e8d7c6b5a4321'
    const send = () =>
      through('name-later', (s) => {
        write(s, head([`X-${later}: 1`, 'Content-Length: 2', 'Connection: close']), 'ok')
        s.end()
      })
    const before = await send()
    expect(before.raw.toLowerCase()).toContain(`x-${later.toLowerCase()}: 1`)
    h.add({ name: 'later', service: 'later', secret: later })
    h.gate.refresh()
    const after = await send()
    expect(after.body.toString()).toBe('ok')
    expect(after.raw.toLowerCase()).not.toContain(later.toLowerCase())
    expect(Number(after.row.redactions)).toBeGreaterThan(0)
  })

  it('a header name that is merely long passes', async () => {
    const reply = await through('long-name', (s) => {
      write(
        s,
        head(['X-Ratelimit-Remaining-Requests-Per-Minute: 5', 'Content-Length: 2', 'Connection: close']),
        'ok',
      )
      s.end()
    })
    expect(reply.raw).toMatch(/\r\nx-ratelimit-remaining-requests-per-minute: 5\r\n/)
  })
})
