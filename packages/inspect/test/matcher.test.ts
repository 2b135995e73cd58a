import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { buildMatcher, scan } from '../src/index.js'
import { base64Embedded, ENCODERS, SPECIAL, TOKEN } from './helpers.js'

const matcher = buildMatcher([
  { value: TOKEN, kind: 'credential:slack-bot' },
  { value: SPECIAL, kind: 'agent-token' },
])

describe('buildMatcher', () => {
  it('reports its size and never prints or serialises a secret', () => {
    expect(matcher.size).toBe(2)
    expect(matcher.skipped).toBe(0)
    expect(matcher.longest).toBeGreaterThan(SPECIAL.length)
    const shown = `${inspect(matcher, { showHidden: true, depth: 5 })} ${JSON.stringify(matcher)} ${String(matcher)}`
    for (const s of [
      TOKEN,
      SPECIAL,
      Buffer.from(TOKEN).toString('hex'),
      Buffer.from(TOKEN).toString('base64'),
    ]) {
      expect(shown).not.toContain(s)
    }
    expect(Object.isFrozen(matcher)).toBe(true)
  })

  it('does not scan secrets shorter than 8 bytes (they would match ordinary text)', () => {
    const m = buildMatcher([
      { value: 'abc1234', kind: 'credential:short' },
      { value: 'abc12345', kind: 'credential:eight' },
    ])
    expect(m.size).toBe(1)
    expect(m.skipped).toBe(1)
    expect(scan(m, 'x abc1234 y').map((h) => h.kind)).toEqual([])
    expect(scan(m, 'x abc12345 y').map((h) => h.kind)).toEqual(['credential:eight'])
  })

  it('raises the minimum on request but never lowers it below 8', () => {
    expect(buildMatcher([{ value: 'abcdefgh1234', kind: 'k' }], { minLength: 16 }).size).toBe(0)
    const low = buildMatcher([{ value: 'abcdef', kind: 'k' }], { minLength: 2 })
    expect(low.size).toBe(0)
    expect(low.minLength).toBe(8)
  })

  it('scans nothing with no secrets', () => {
    const empty = buildMatcher([])
    expect(empty.longest).toBe(0)
    expect(scan(empty, `a ${TOKEN} b`)).toEqual([])
  })

  it('keeps one entry per distinct value (first kind wins)', () => {
    const m = buildMatcher([
      { value: TOKEN, kind: 'credential:a' },
      { value: TOKEN, kind: 'credential:b' },
    ])
    expect(m.size).toBe(1)
    expect(scan(m, TOKEN).map((h) => h.kind)).toEqual(['credential:a'])
  })
})

describe('scan finds every encoding', () => {
  for (const [secret, kind] of [
    [TOKEN, 'credential:slack-bot'],
    [SPECIAL, 'agent-token'],
  ] as const) {
    for (const [name, { label, encode }] of Object.entries(ENCODERS)) {
      it(`${name} of ${kind}`, () => {
        const encoded = encode(secret)
        const text = `{"note":"before","value":"${encoded}","after":1}`
        const hits = scan(
          matcher,
          Buffer.from(text, 'latin1').length === text.length ? Buffer.from(text) : text,
        )
        const labels = hits.filter((h) => h.kind === kind).map((h) => h.encoding)
        // A token without special characters percent-encodes to itself.
        if (encoded === secret) expect(labels).toContain('raw')
        else if (label === 'base64url')
          expect(labels.some((l) => l === 'base64url' || l === 'base64')).toBe(true)
        else expect(labels).toContain(label)
        // The hit is located where the encoding sits.
        const hit = hits.find((h) => h.kind === kind)
        expect(hit?.index).toBeGreaterThanOrEqual(Buffer.byteLength('{"note":"before","value":"'))
      })
    }

    for (const align of [0, 1, 2]) {
      for (const url of [false, true]) {
        it(`${url ? 'base64url' : 'base64'} inside a larger blob at offset ${align} mod 3, ${kind}`, () => {
          for (let round = 0; round < 20; round++) {
            const hits = scan(matcher, `data=${base64Embedded(secret, align, url)}&x=1`)
            expect(hits.filter((h) => h.kind === kind && h.encoding.startsWith('base64')).length).toBe(1)
          }
        })
      }
    }
  }

  it('finds secrets of the minimum length (8 and 10 bytes) in every encoding, at every base64 offset', () => {
    const short = [
      { value: 'Zq8#kLw2', kind: 'credential:eight' },
      { value: 'x9/Rt+e=Pq', kind: 'credential:ten' },
    ]
    const m = buildMatcher(short)
    for (const { value, kind } of short) {
      for (const { encode } of Object.values(ENCODERS)) {
        expect(scan(m, `[${encode(value)}]`).map((h) => h.kind)).toContain(kind)
      }
      for (const align of [0, 1, 2]) {
        for (const url of [false, true]) {
          expect(scan(m, base64Embedded(value, align, url)).map((h) => h.kind)).toContain(kind)
        }
      }
    }
  })

  it('form encoding (space as +)', () => {
    const form = new URLSearchParams({ password: SPECIAL }).toString()
    expect(form).toContain('+')
    expect(scan(matcher, form).map((h) => h.encoding)).toContain('form')
  })

  it('JSON.stringify form for quotes, backslashes and control characters, and PHP-style \\/', () => {
    const json = JSON.stringify({ password: SPECIAL })
    expect(scan(matcher, json).map((h) => [h.kind, h.encoding])).toContainEqual([
      'agent-token',
      'json-escape',
    ])
    const php = json.replaceAll('/', '\\/')
    expect(scan(matcher, php).map((h) => [h.kind, h.encoding])).toContainEqual(['agent-token', 'json-escape'])
  })

  it('finds every occurrence, including many secrets in one text', () => {
    const secrets = Array.from({ length: 300 }, (_, i) => ({
      value: `secret-${i}-${'x'.repeat(i % 7)}-value`,
      kind: `k${i}`,
    }))
    const m = buildMatcher(secrets)
    const text = secrets.map((s) => `<${s.value}>`).join('')
    expect(new Set(scan(m, text).map((h) => h.kind)).size).toBe(300)
  })

  it('does not match a near miss (one character changed, or cut short)', () => {
    expect(scan(matcher, TOKEN.slice(0, -1))).toEqual([])
    expect(scan(matcher, `${TOKEN.slice(0, 5)}X${TOKEN.slice(6)}`)).toEqual([])
    expect(scan(matcher, TOKEN.toUpperCase())).toEqual([])
  })

  it('reports byte positions and lengths for redaction', () => {
    const text = `ab${TOKEN}cd`
    expect(scan(matcher, text)).toEqual([
      { kind: 'credential:slack-bot', encoding: 'raw', index: 2, length: TOKEN.length },
    ])
  })

  it('reads any alignment of a Uint8Array view', () => {
    const body = Buffer.from(`....${TOKEN}....`)
    for (let offset = 0; offset < 4; offset++) {
      const view = new Uint8Array(body.buffer, body.byteOffset + offset, body.length - offset)
      expect(scan(matcher, view).map((h) => h.index)).toEqual([4 - offset])
    }
  })

  it('finds a secret of every length class at every position and view alignment (strided sweep)', () => {
    // 8-10 bytes: one-word keys; 11-22: two-word keys read at every word; 23+: read at every 4th.
    const lengths = [8, 10, 11, 14, 15, 18, 22, 23, 24, 26, 30, 31, 40, 64]
    for (const length of lengths) {
      const secret = 'Zq7#kP2v_x9Lm4Wt'.repeat(5).slice(0, length)
      const m = buildMatcher([{ value: secret, kind: `len-${length}` }])
      for (const [name, { encode }] of Object.entries(ENCODERS)) {
        const form = Buffer.from(encode(secret))
        for (let before = 0; before < 20; before++) {
          const data = Buffer.concat([Buffer.alloc(before, 0x2e), form, Buffer.alloc(3, 0x2e)])
          for (let view = 0; view < 4; view++) {
            const bytes = new Uint8Array(data.buffer, data.byteOffset + view, data.length - view)
            const found = before >= view ? scan(m, bytes).map((h) => h.index) : []
            if (before >= view && !found.includes(before - view)) {
              throw new Error(`missed ${name} of a ${length}-byte secret at ${before - view} (view +${view})`)
            }
          }
        }
        // flush against both ends
        expect(
          scan(m, form).some((h) => h.index === 0),
          `${name} alone, ${length} bytes`,
        ).toBe(true)
      }
    }
  })
})
