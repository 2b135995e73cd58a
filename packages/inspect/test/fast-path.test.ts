import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  buildMatcher,
  createRedactor,
  redactParts,
  redactText,
  type SecretInput,
  type SecretMatcher,
} from '../src/index.js'
import { base64Embedded, ENCODERS } from './helpers.js'

/**
 * The whole-body and header fast paths (`redactParts`, `redactText`) against the streaming
 * Redactor, whose output does not depend on how a body is cut: for every matcher shape, every
 * encoding, a secret at the start, middle and end, in a small body (swept in scratch memory) and
 * a large one (swept in place, at every alignment), whole and split, the fast path must make
 * exactly the Redactor's output. A clean body must come back as null (sent as it arrived).
 */

const BENCH = 'bench-secret-token' // 18 bytes: its raw form is keyed by one word
const PLUS = 'Qx9+aZ/bK=7<m&Tr2' // characters writers escape one by one
const SHORT = 'k8#Zq2!w' // the shortest secret the vault takes
const LONG = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'.repeat(3)}`

const random = (n: number): SecretInput[] =>
  Array.from({ length: n }, (_, i) => ({
    value: randomBytes(24).toString('base64url'),
    kind: `credential:r${i}`,
  }))

/** Matcher shapes: one sweep (few patterns, merged groups) and two sweeps (many), short and long keys. */
const MATCHERS: { name: string; secrets: SecretInput[] }[] = [
  { name: 'one 18-byte secret', secrets: [{ value: BENCH, kind: 'credential:bench' }] },
  { name: 'one 8-byte secret', secrets: [{ value: SHORT, kind: 'credential:short' }] },
  { name: 'one long secret', secrets: [{ value: LONG, kind: 'credential:long' }] },
  {
    name: 'three secrets, punctuation',
    secrets: [
      { value: BENCH, kind: 'credential:bench' },
      { value: PLUS, kind: 'credential:plus' },
      { value: SHORT, kind: 'credential:short' },
    ],
  },
  {
    name: '40 secrets (two sweeps)',
    secrets: [
      { value: BENCH, kind: 'credential:bench' },
      { value: PLUS, kind: 'credential:plus' },
      ...random(38),
    ],
  },
]

/** Every spelling of `secret` the matcher or the escape view recognises. */
function spellings(secret: string): { name: string; text: string }[] {
  const out = Object.entries(ENCODERS).map(([name, { encode }]) => ({ name, text: encode(secret) }))
  for (const align of [0, 1, 2]) {
    out.push({ name: `base64 embedded +${align}`, text: base64Embedded(secret, align) })
    out.push({ name: `base64url embedded +${align}`, text: base64Embedded(secret, align, true) })
  }
  out.push({ name: 'form', text: new URLSearchParams({ v: secret }).toString().slice(2) })
  out.push({ name: 'json string', text: JSON.stringify(secret).slice(1, -1) })
  const i = Math.floor(secret.length / 2)
  const c = secret.charCodeAt(i)
  const one = (written: string) => `${secret.slice(0, i)}${written}${secret.slice(i + 1)}`
  out.push({ name: 'one char \\u', text: one(`\\u${c.toString(16).padStart(4, '0')}`) })
  out.push({ name: 'one char %XX', text: one(`%${c.toString(16).toUpperCase()}`) })
  out.push({ name: 'one char &#D;', text: one(`&#${c};`) })
  out.push({ name: 'one char &#xH;', text: one(`&#x${c.toString(16)};`) })
  return out
}

function oracle(parts: readonly Buffer[], matcher: SecretMatcher): { bytes: Buffer; count: number } {
  const r = createRedactor(matcher)
  const bytes = Buffer.concat([...parts.map((p) => r.push(p)), r.end()])
  return { bytes, count: r.count }
}

/** `text` copied to byte offset `shift` of a fresh buffer, so the sweep meets every alignment. */
function at(text: string, shift: number): Buffer {
  const raw = Buffer.from(text, 'latin1')
  const room = Buffer.alloc(raw.length + shift)
  raw.copy(room, shift)
  return room.subarray(shift)
}

const FILLER_SMALL = '{"ok":true,"n":1} '
const FILLER_LARGE = '{"id":1,"name":"item","note":"lorem ipsum dolor sit amet"} '.repeat(100) // ~6 KiB

function bodies(form: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = []
  for (const [size, filler] of [
    ['small', FILLER_SMALL],
    ['large', FILLER_LARGE],
  ] as const) {
    out.push({ name: `${size}, at start`, text: `${form}${filler}` })
    out.push({ name: `${size}, in the middle`, text: `${filler}"${form}"${filler}` })
    out.push({ name: `${size}, at end`, text: `${filler}${form}` })
    out.push({ name: `${size}, alone`, text: form })
  }
  return out
}

describe('redactParts and redactText: the fast paths make what the Redactor makes', () => {
  for (const { name: matcherName, secrets } of MATCHERS) {
    it(`${matcherName}: every spelling, start/middle/end, whole and split, every alignment`, () => {
      const matcher = buildMatcher(secrets)
      const targets = secrets.slice(0, 3).map((s) => s.value)
      for (const secret of targets) {
        for (const spelling of spellings(secret)) {
          for (const body of bodies(spelling.text)) {
            const label = `${spelling.name}, ${body.name}`
            const whole = Buffer.from(body.text, 'latin1')
            const expected = oracle([whole], matcher)
            expect(expected.count, `${label}: the Redactor finds it`).toBeGreaterThan(0)
            for (const shift of [0, 1, 2, 3]) {
              const got = redactParts([at(body.text, shift)], matcher)
              expect(got?.bytes.equals(expected.bytes), `${label}, shift ${shift}`).toBe(true)
              expect(got?.count, `${label}, shift ${shift}`).toBe(expected.count)
            }
            // Split through the spelling (every cut for a small body, a few for a large one).
            const start = body.text.indexOf(spelling.text)
            const cuts = whole.length < 400 ? whole.length : 9
            for (let k = 1; k < cuts; k++) {
              const cut = whole.length < 400 ? k : start + Math.ceil((k * spelling.text.length) / cuts)
              if (cut <= 0 || cut >= whole.length) continue
              const parts = [whole.subarray(0, cut), whole.subarray(cut)]
              const got = redactParts(parts, matcher)
              expect(got?.bytes.equals(expected.bytes), `${label}, cut at ${cut}`).toBe(true)
            }
            if (/^[\x20-\x7e]*$/.test(body.text) && whole.length < 400) {
              const text = redactText(body.text, matcher)
              expect(text.text, `${label}, as a header value`).toBe(expected.bytes.toString('latin1'))
              expect(text.count, `${label}, as a header value`).toBe(expected.count)
            }
          }
        }
      }
    })
  }

  it('finds an operator token by shape in a body, split, and in a header value', () => {
    const matcher = buildMatcher([{ value: BENCH, kind: 'credential:bench' }])
    const token = 'aegis_user_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5'
    for (const body of bodies(token)) {
      const whole = Buffer.from(body.text)
      const expected = oracle([whole], matcher)
      expect(expected.count).toBe(1)
      expect(redactParts([whole], matcher)?.bytes.equals(expected.bytes), body.name).toBe(true)
      const cut = body.text.indexOf(token) + 4
      expect(
        redactParts([whole.subarray(0, cut), whole.subarray(cut)], matcher)?.bytes.equals(expected.bytes),
      ).toBe(true)
    }
    expect(redactText(`Bearer ${token}`, matcher).text).toBe('Bearer [REDACTED]')
    // snake_case bodies (an underscore every few bytes) still find the token after the first few
    const snake = `${'{"created_at":1,"updated_at":2,"owner_id":3}'.repeat(20)}${token}`
    expect(redactParts([Buffer.from(snake)], matcher)?.count).toBe(1)
  })

  it('gives null (send the parts as they came) for clean bodies, and header values back as they are', () => {
    for (const { name, secrets } of MATCHERS) {
      const matcher = buildMatcher(secrets)
      for (const text of [FILLER_SMALL, FILLER_LARGE, `a\\nb %41 &amp; ${secrets[0]?.value.slice(1)}`]) {
        expect(redactParts([Buffer.from(text)], matcher), name).toBeNull()
        const cut = Math.floor(text.length / 2)
        expect(
          redactParts([Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))], matcher),
          name,
        ).toBeNull()
      }
      expect(redactParts([], matcher)).toBeNull()
      for (const value of [
        'nginx/1.22.1',
        'Sun, 06 Dec 2026 12:00:00 GMT',
        'application/json; charset=utf-8',
      ]) {
        const result = redactText(value, matcher)
        expect(result.text).toBe(value)
        expect(result.count).toBe(0)
      }
    }
  })
})
