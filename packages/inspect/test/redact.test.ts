import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import {
  buildMatcher,
  containsSecret,
  containsSecretIgnoringCase,
  createRedactor,
  redactStream,
  redactText,
  scan,
} from '../src/index.js'
import { base64Embedded, chunksOf, ENCODERS, SPECIAL, TOKEN } from './helpers.js'

const OTHER = 'zz-other-secret-0042'
const matcher = buildMatcher([
  { value: TOKEN, kind: 'credential:slack-bot' },
  { value: SPECIAL, kind: 'agent-token' },
  { value: OTHER, kind: 'credential:other' },
])

function redactChunks(chunks: readonly Uint8Array[]) {
  const r = createRedactor(matcher)
  const out = Buffer.concat([...chunks.map((c) => r.push(c)), r.end()])
  return { out, count: r.count, kinds: r.kinds }
}

/** A body holding both secrets in every encoding, separated by ordinary text. */
function everyEncodingBody(): Buffer {
  const parts: string[] = []
  for (const secret of [TOKEN, SPECIAL]) {
    for (const { encode } of Object.values(ENCODERS)) parts.push(encode(secret))
    for (const align of [0, 1, 2])
      parts.push(base64Embedded(secret, align), base64Embedded(secret, align, true))
    parts.push(new URLSearchParams({ p: secret }).toString(), JSON.stringify({ p: secret }))
  }
  return Buffer.from(parts.map((p, i) => `{"field${i}":"${p}"}`).join('\n'))
}

describe('Redactor', () => {
  it('removes every encoding, and the output holds no encoding of any secret afterwards', () => {
    const body = everyEncodingBody()
    const before = scan(matcher, body)
    expect(new Set(before.map((h) => h.encoding))).toEqual(
      new Set(['raw', 'percent', 'form', 'base64', 'base64url', 'hex', 'json-escape']),
    )
    const { out, count, kinds } = redactChunks([body])
    expect(scan(matcher, out)).toEqual([])
    expect(count).toBeGreaterThanOrEqual(40)
    expect(kinds).toEqual(['agent-token', 'credential:slack-bot'])
    expect(out.toString()).toContain('[REDACTED]')
    expect(out.includes(Buffer.from(TOKEN))).toBe(false)
    expect(out.includes(Buffer.from(Buffer.from(TOKEN).toString('hex')))).toBe(false)
  })

  it('gives the same output for a secret split at every possible chunk boundary', () => {
    const body = Buffer.from(
      `{"a":"${TOKEN}","b":"${encodeURIComponent(SPECIAL)}","c":"${Buffer.from(OTHER).toString('base64')}"}`,
    )
    const whole = redactChunks([body])
    expect(whole.count).toBe(3)
    for (let cut = 0; cut <= body.length; cut++) {
      const split = redactChunks([body.subarray(0, cut), body.subarray(cut)])
      expect(split.out.equals(whole.out)).toBe(true)
      expect(split.count).toBe(3)
    }
    for (let a = 1; a < body.length; a += 3) {
      for (let b = a; b <= body.length; b += 5) {
        const three = redactChunks([body.subarray(0, a), body.subarray(a, b), body.subarray(b)])
        expect(three.out.equals(whole.out)).toBe(true)
      }
    }
  })

  it('works with 1-byte chunks over every encoding', () => {
    const body = everyEncodingBody()
    const whole = redactChunks([body])
    const bytewise = redactChunks(chunksOf(body, 1))
    expect(bytewise.out.equals(whole.out)).toBe(true)
    expect(bytewise.count).toBe(whole.count)
    for (const size of [2, 3, 7, 64, 333])
      expect(redactChunks(chunksOf(body, size)).out.equals(whole.out)).toBe(true)
  })

  it('merges overlapping and adjacent secrets into one replacement, keeps separate ones apart', () => {
    const a = 'alpha-secret-0001'
    const b = 'secret-0001-omega'
    const m = buildMatcher([
      { value: a, kind: 'k:a' },
      { value: b, kind: 'k:b' },
    ])
    const run = (text: string, size: number) => {
      const r = createRedactor(m)
      const chunks = chunksOf(Buffer.from(text), size)
      return {
        text: Buffer.concat([...chunks.map((c) => r.push(c)), r.end()]).toString(),
        count: r.count,
        kinds: r.kinds,
      }
    }
    for (const size of [1, 2, 5, 1000]) {
      expect(run('x alpha-secret-0001-omega y', size)).toEqual({
        text: 'x [REDACTED] y',
        count: 1,
        kinds: ['k:a', 'k:b'],
      })
      expect(run(`x ${a}${b} y`, size)).toEqual({ text: 'x [REDACTED] y', count: 1, kinds: ['k:a', 'k:b'] })
      expect(run(`x ${a}.${b} y`, size)).toEqual({
        text: 'x [REDACTED].[REDACTED] y',
        count: 2,
        kinds: ['k:a', 'k:b'],
      })
      expect(run(`${a}${a}${a}`, size)).toEqual({ text: '[REDACTED]', count: 1, kinds: ['k:a'] })
    }
  })

  it('passes binary data through unchanged when nothing matches', () => {
    const data = randomBytes(300_000)
    const sizes = [1, 17, 4096, 65_536]
    let at = 0
    const chunks: Buffer[] = []
    for (let i = 0; at < data.length; i++) {
      const size = sizes[i % sizes.length] ?? 1
      chunks.push(data.subarray(at, at + size))
      at += size
    }
    const { out, count } = redactChunks(chunks)
    expect(count).toBe(0)
    expect(out.equals(data)).toBe(true)
  })

  it('never holds back more than longestSpan - 1 bytes', () => {
    const r = createRedactor(matcher)
    const data = Buffer.from(`${'x'.repeat(5000)}${TOKEN}${'y'.repeat(3000)}`)
    let emitted = 0
    for (const chunk of chunksOf(data, 97)) {
      emitted += r.push(chunk).length
      expect(r.held).toBeLessThanOrEqual(matcher.longestSpan - 1)
    }
    emitted += r.end().length
    expect(emitted).toBe(data.length - TOKEN.length + '[REDACTED]'.length)
  })

  it('emits SSE events as they arrive (a newline no secret contains ends the carry)', () => {
    const r = createRedactor(matcher)
    let out = ''
    for (let i = 0; i < 5; i++) {
      const event = `event: message\ndata: {"i":${i},"token":"${TOKEN}","delta":"hello"}\n\n`
      out += r.push(Buffer.from(event)).toString()
      expect(out.endsWith(`data: {"i":${i},"token":"[REDACTED]","delta":"hello"}\n\n`)).toBe(true)
      expect(r.held).toBe(0)
    }
    expect(r.end().length).toBe(0)
    expect(r.count).toBe(5)
  })

  it('holds a secret split across SSE events only until the event that completes it', () => {
    const r = createRedactor(matcher)
    const first = r.push(Buffer.from(`data: ${TOKEN.slice(0, 10)}`)).toString()
    // Nothing of the half token leaves; the prefix up to it may (a space is in one of the secrets).
    expect('data: '.startsWith(first)).toBe(true)
    const second = r.push(Buffer.from(`${TOKEN.slice(10)}\n\n`)).toString()
    expect(first + second).toBe('data: [REDACTED]\n\n')
    expect(r.held).toBe(0)
  })

  it("releases a token stream without line breaks chunk by chunk, holding only a secret's start", () => {
    const r = createRedactor(matcher)
    const tokens = ['Once', 'upon', 'atime', 'there', 'was', 'agateway', '42']
    let out = ''
    for (const token of tokens) {
      out += r.push(Buffer.from(token)).toString()
      // Not a word waiting for the next one: at most a byte or two that begin some encoding.
      expect(r.held).toBeLessThanOrEqual(2)
    }
    out += r.push(Buffer.from(` key ${TOKEN.slice(0, 12)}`)).toString()
    // The secret's start is what waits; what came before it has gone.
    expect(out).toBe(`${tokens.join('')} key `)
    out += r.push(Buffer.from(`${TOKEN.slice(12)} done`)).toString()
    out += r.end().toString()
    expect(out).toBe(`${tokens.join('')} key [REDACTED] done`)
  })

  it('uses the configured replacement and refuses input after end', () => {
    const r = createRedactor(matcher, { replacement: '***' })
    expect(Buffer.concat([r.push(Buffer.from(`a ${TOKEN} b`)), r.end()]).toString()).toBe('a *** b')
    expect(() => r.push(Buffer.from('x'))).toThrow()
  })
})

describe('redactStream', () => {
  it('redacts through a pipeline and exposes count and kinds', async () => {
    const body = everyEncodingBody()
    const stream = redactStream(matcher)
    const source = Readable.from(chunksOf(body, 13))
    const collected: Buffer[] = []
    await pipeline(source, stream, async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) collected.push(chunk)
    })
    const out = Buffer.concat(collected)
    expect(out.equals(redactChunks([body]).out)).toBe(true)
    expect(stream.count).toBeGreaterThan(0)
    expect(stream.kinds).toEqual(['agent-token', 'credential:slack-bot'])
  })

  it('passes data through untouched with an empty matcher', async () => {
    const data = randomBytes(10_000)
    const out = await buffer(Readable.from(chunksOf(data, 100)).pipe(redactStream(buildMatcher([]))))
    expect(out.equals(data)).toBe(true)
  })
})

describe('redactText', () => {
  it('redacts a header value in any encoding', () => {
    const result = redactText(`Bearer ${Buffer.from(`user:${TOKEN}`).toString('base64')}`, matcher)
    expect(result.count).toBe(1)
    expect(result.kinds).toEqual(['credential:slack-bot'])
    expect(scan(matcher, result.text)).toEqual([])
    expect(result.text.startsWith('Bearer ')).toBe(true)
  })

  it('redacts UTF-8 text and leaves other characters intact', () => {
    const result = redactText(`héllo ${SPECIAL} wörld ✓`, matcher)
    expect(result).toEqual({ text: 'héllo [REDACTED] wörld ✓', count: 1, kinds: ['agent-token'] })
  })

  it('redacts a secret in a latin1 header string (Node gives raw header bytes as latin1)', () => {
    const headerValue = Buffer.from(`x=${SPECIAL}`, 'utf8').toString('latin1')
    const result = redactText(headerValue, matcher)
    expect(result.count).toBe(1)
    expect(result.text).toBe('x=[REDACTED]')
  })

  it('returns text without secrets unchanged', () => {
    expect(redactText('nothing to see here', matcher)).toEqual({
      text: 'nothing to see here',
      count: 0,
      kinds: [],
    })
  })
})

describe('Redactor, randomised', () => {
  it('any chunking of a random mix gives the one-shot result, and no secret survives', () => {
    let seed = 7
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const secrets = [TOKEN, SPECIAL, OTHER]
    const encoders = Object.values(ENCODERS)
    for (let round = 0; round < 40; round++) {
      const parts: Buffer[] = []
      for (let i = 0; i < 12; i++) {
        parts.push(randomBytes(rand(40)))
        const secret = secrets[rand(secrets.length)] ?? TOKEN
        const encoder = encoders[rand(encoders.length)]
        parts.push(Buffer.from(encoder ? encoder.encode(secret) : secret))
      }
      const body = Buffer.concat(parts)
      const whole = redactChunks([body])
      expect(scan(matcher, whole.out)).toEqual([])
      const chunks: Buffer[] = []
      for (let at = 0; at < body.length; ) {
        const size = 1 + rand(60)
        chunks.push(body.subarray(at, at + size))
        at += size
      }
      const split = redactChunks(chunks)
      expect(split.out.equals(whole.out)).toBe(true)
      expect(split.count).toBe(whole.count)
    }
  })

  it('handles a long multi-line secret (a PEM key) split anywhere', () => {
    const pem = `-----BEGIN TEST KEY-----\n${randomBytes(600)
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')}\n-----END TEST KEY-----`
    const m = buildMatcher([{ value: pem, kind: 'credential:pem' }])
    const body = Buffer.from(
      `${JSON.stringify({ key: pem })}\n${pem}\n${Buffer.from(pem).toString('base64')}`,
    )
    const r = createRedactor(m)
    const out = Buffer.concat([...chunksOf(body, 50).map((c) => r.push(c)), r.end()])
    expect(r.count).toBe(3)
    expect(scan(m, out)).toEqual([])
  })
})

describe('containsSecret over the parts of a body', () => {
  const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'
  const m = buildMatcher([{ value: secret, kind: 'credential:stripe' }])
  const forms = [
    secret,
    Buffer.from(secret).toString('base64'),
    [...Buffer.from(secret)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    // the longest form, so a window one byte short would miss it at the extreme cuts
    [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  ]

  it('finds an occurrence split at every position, and in one-byte parts', () => {
    for (const form of forms) {
      const body = Buffer.from(`{"echo":"${form}","n":1}`)
      for (let cut = 1; cut < body.length; cut++) {
        expect(containsSecret([body.subarray(0, cut), body.subarray(cut)], m), `${form} cut at ${cut}`).toBe(
          true,
        )
      }
      expect(
        containsSecret(
          [...body].map((b) => Buffer.from([b])),
          m,
        ),
      ).toBe(true)
      expect(containsSecret([Buffer.alloc(0), body, Buffer.alloc(0)], m)).toBe(true)
    }
  })

  it('finds nothing in a clean body however it is cut', () => {
    const body = Buffer.from(`{"echo":"${secret.slice(0, -1)}","other":"${secret.slice(1)}"}`)
    for (let cut = 0; cut <= body.length; cut++) {
      expect(containsSecret([body.subarray(0, cut), body.subarray(cut)], m)).toBe(false)
    }
    expect(containsSecret([], m)).toBe(false)
  })
})

describe('a secret with Latin-1 letters (é, ü), as a header carries it', () => {
  // Node and undici write a header value one byte per character (Latin-1), not UTF-8: the gate
  // sends `Bearer s\xe9cret…`, and an upstream that echoes the raw header sends those bytes back.
  const secret = 'sécret-ünïcode-1234'
  const wire = Buffer.from(secret, 'latin1')
  const latin = buildMatcher([{ value: secret, kind: 'credential:latin' }])
  const redactWhole = (body: Buffer) => {
    const r = createRedactor(latin)
    return Buffer.concat([r.push(body), r.end()])
  }

  it.each([
    ['raw bytes', wire],
    ['base64 of the bytes', Buffer.from(`x=${wire.toString('base64')}`)],
    ['base64 of a larger blob', Buffer.from(Buffer.concat([Buffer.from('ab'), wire]).toString('base64'))],
    ['hex of the bytes', Buffer.from(wire.toString('hex'))],
    ['percent-encoded bytes', Buffer.from([...wire].map((b) => `%${b.toString(16)}`).join(''))],
  ])('finds and redacts its %s', (_, body) => {
    expect(containsSecret(body, latin)).toBe(true)
    const out = redactWhole(body)
    expect(out.includes(wire)).toBe(false)
    expect(containsSecret(out, latin)).toBe(false)
  })

  it('still finds its UTF-8 spelling', () => {
    expect(containsSecret(Buffer.from(`{"t":"${secret}"}`), latin)).toBe(true)
  })
})

describe('containsSecretIgnoringCase (a header name: HTTP lower-cases it)', () => {
  const secret = 'sk-Case-0123456789abcdefXYZ'
  const m = buildMatcher([{ value: secret, kind: 'credential:case' }])
  it.each([
    ['as written', `x-${secret}`],
    ['lower-cased', `x-${secret.toLowerCase()}`],
    ['upper-cased', `X-${secret.toUpperCase()}`],
    ['percent-encoded, lower-cased', `x-${encodeURIComponent(`${secret}/`).toLowerCase()}`],
    ['base64, lower-cased', `x-${Buffer.from(secret).toString('base64').toLowerCase()}`],
    ['past the 4 KiB scratch area, non-ASCII before it', `${'é'.repeat(3000)}${secret.toUpperCase()}`],
  ])('%s: found', (_name, text) => {
    expect(containsSecretIgnoringCase(text, m)).toBe(true)
  })
  it('text without it, or with a different character, is clean', () => {
    expect(containsSecretIgnoringCase('x-ratelimit-remaining-requests', m)).toBe(false)
    expect(containsSecretIgnoringCase(`x-${secret.toLowerCase().replace('9', '8')}`, m)).toBe(false)
  })
  it('leaves the other checks exact', () => {
    containsSecretIgnoringCase(secret.toLowerCase(), m)
    expect(containsSecret(Buffer.from(secret.toLowerCase()), m)).toBe(false)
    expect(redactText(secret.toLowerCase(), m).count).toBe(0)
    expect(redactText(secret, m).count).toBe(1)
  })
})
