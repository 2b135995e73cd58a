import { describe, expect, it } from 'vitest'
import {
  buildMatcher,
  containsSecret,
  createRedactor,
  inspectOutbound,
  redactBuffer,
  redactText,
  scan,
} from '../src/index.js'

/**
 * Secrets of which a writer escaped only some characters, in every escaping style, one, several or
 * all characters at once, styles mixed, at the start, middle and end of a body, split across
 * stream chunks. Every escaped body is checked against an independent reference decoder: what the
 * agent (or upstream) reads after decoding must never hold the secret.
 */

const SECRETS = [
  { value: 'Qx9+aZ/bK=7<m&Tr2', kind: 'credential:punct' }, // + / = < & (ASP.NET, Go, PHP escape these)
  { value: 'pässwörd-ünï-9vQ2', kind: 'credential:latin' }, // non-ASCII (2-byte UTF-8)
  { value: 'tk😀R4-🔑-pw8Lz', kind: 'credential:emoji' }, // astral: a surrogate pair per emoji
  { value: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', kind: 'credential:plain' }, // letters and digits only
  { value: 'k"e\\y+Zr8/Lm2pQw', kind: 'credential:quoted' }, // a quote and a backslash JSON must escape
  { value: 'vQ"7/nR+2Lm=9xZw', kind: 'credential:slashed' }, // a quote and a slash, no backslash
] as const
const matcher = buildMatcher([...SECRETS])

type Style = (char: string) => string | null
const hex4 = (unit: number) => unit.toString(16).padStart(4, '0')
const utf16 = (char: string) => [...Array(char.length).keys()].map((i) => char.charCodeAt(i))
const cp = (char: string) => char.codePointAt(0) as number
const NAMES: Record<string, string> = { '+': 'plus', '/': 'sol', '=': 'equals', '<': 'lt', '&': 'amp' }

/** How each style writes one character (null: the style never writes that character escaped). */
const STYLES: Record<string, Style> = {
  'json \\u lower (Go)': (c) =>
    utf16(c)
      .map((u) => `\\u${hex4(u)}`)
      .join(''),
  'json \\u upper (ASP.NET)': (c) =>
    utf16(c)
      .map((u) => `\\u${hex4(u).toUpperCase()}`)
      .join(''),
  'json \\/ (PHP)': (c) => (c === '/' ? '\\/' : null),
  'percent upper': (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase()}`).join(''),
  'percent lower': (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16)}`).join(''),
  'html decimal': (c) => `&#${cp(c)};`,
  'html decimal, leading zeros': (c) => `&#${String(cp(c)).padStart(7, '0')};`,
  'html hex lower': (c) => `&#x${cp(c).toString(16)};`,
  'html hex upper X, leading zeros': (c) => `&#X${cp(c).toString(16).toUpperCase().padStart(6, '0')};`,
  'html named': (c) => (NAMES[c] ? `&${NAMES[c]};` : null),
}

/** Independent reference decoder: every escape of every style, as a parser would read it. */
function reference(text: string): string {
  const named: Record<string, number> = { plus: 43, sol: 47, equals: 61, lt: 60, amp: 38 }
  const latin1 = (chars: string) => Buffer.from(chars, 'utf8').toString('latin1')
  const pattern =
    /\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\([/"\\])|%([0-9a-fA-F]{2})|&#[xX]([0-9a-fA-F]+);|&#([0-9]+);|&([a-z]+);/g
  const decoded = Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(pattern, (all, high, low, unit, short, pct, hex, dec, name) => {
      if (high) return latin1(String.fromCharCode(Number.parseInt(high, 16), Number.parseInt(low, 16)))
      if (unit) return latin1(String.fromCharCode(Number.parseInt(unit, 16)))
      if (short) return short
      if (pct) return String.fromCharCode(Number.parseInt(pct, 16))
      if (hex) return latin1(String.fromCodePoint(Number.parseInt(hex, 16)))
      if (dec) return latin1(String.fromCodePoint(Number.parseInt(dec, 10)))
      return named[name] === undefined ? all : String.fromCharCode(named[name] as number)
    })
  return Buffer.from(decoded, 'latin1').toString('utf8')
}

/** The characters of `value` (code points), with those at `which` written by `style`. */
function escapeSome(value: string, styles: Style[], which: (i: number, n: number) => boolean): string | null {
  const chars = [...value]
  let escaped = 0
  const out = chars.map((c, i) => {
    if (!which(i, chars.length)) return c
    const style = styles[escaped % styles.length] as Style
    const e = style(c)
    if (e === null) return c
    escaped++
    return e
  })
  if (escaped === 0) return null
  // A JSON writer that escapes anything escapes every backslash.
  const json = out.some((e, i) => e !== chars[i] && e.includes('\\'))
  return out.map((e, i) => (json && e === '\\' && chars[i] === '\\' ? '\\\\' : e)).join('')
}

/** Which characters are escaped: the first special one (or the middle one), every other one, or all. */
const SELECTIONS: Record<string, (value: string) => (i: number, n: number) => boolean> = {
  one: (value) => {
    const chars = [...value]
    const special = chars.findIndex((c) => !/[A-Za-z0-9]/.test(c))
    const at = special === -1 ? chars.length >> 1 : special
    return (i) => i === at
  },
  several: () => (i) => i % 3 === 1,
  all: () => () => true,
}

const POSITIONS: Record<string, [string, string]> = {
  start: ['', '","code":401}'],
  middle: ['{"error":"invalid api key \'', '\' (check your settings)"}'],
  end: ['{"error":"invalid api key: ', ''],
}

interface Case {
  name: string
  secret: string
  escaped: string
  body: Buffer
  /** the style of each escape writes characters a plain scan cannot see */
  partial: boolean
}

function cases(styleSets: Record<string, Style[]>): Case[] {
  const out: Case[] = []
  for (const { value } of SECRETS) {
    for (const [styleName, styles] of Object.entries(styleSets)) {
      for (const [selectionName, selection] of Object.entries(SELECTIONS)) {
        const escaped = escapeSome(value, styles, selection(value))
        if (escaped === null) continue // the style has no escape for any chosen character
        for (const [positionName, [before, after]] of Object.entries(POSITIONS)) {
          out.push({
            name: `${value} / ${styleName} / ${selectionName} / ${positionName}`,
            secret: value,
            escaped,
            body: Buffer.from(`${before}${escaped}${after}`),
            partial: selectionName !== 'all',
          })
        }
      }
    }
  }
  return out
}

const SINGLE = Object.fromEntries(Object.entries(STYLES).map(([name, style]) => [name, [style]]))
const MIXED: Record<string, Style[]> = {
  'mixed \\u, %, &#': [
    STYLES['json \\u upper (ASP.NET)'] as Style,
    STYLES['percent lower'] as Style,
    STYLES['html hex lower'] as Style,
  ],
  'mixed &name;, \\u, &#0…': [
    (c) =>
      NAMES[c]
        ? `&${NAMES[c]};`
        : `\\u${hex4(c.charCodeAt(0))}${c.length > 1 ? `\\u${hex4(c.charCodeAt(1))}` : ''}`,
    STYLES['html decimal, leading zeros'] as Style,
  ],
}
/** Encoders that write some characters one way and others another. */
const JSON_ENCODERS: Record<string, Style[]> = {
  // PHP json_encode with JSON_HEX_TAG, JSON_HEX_AMP and JSON_HEX_QUOT: \/ for /, \u for < & " and non-ASCII
  'php json_encode': [
    (c) =>
      c === '/'
        ? '\\/'
        : /[<&"]/.test(c) || c.charCodeAt(0) > 0x7f
          ? (STYLES['json \\u lower (Go)'] as Style)(c)
          : null,
  ],
  // System.Text.Json: \" and \\ as short escapes, + and non-ASCII as \u (upper case hex)
  'System.Text.Json': [
    (c) =>
      c === '"'
        ? '\\"'
        : c === '\\'
          ? '\\\\'
          : /[+<>&']/.test(c) || c.charCodeAt(0) > 0x7f
            ? (STYLES['json \\u upper (ASP.NET)'] as Style)(c)
            : null,
  ],
}
const ALL_CASES = cases({ ...SINGLE, ...MIXED, ...JSON_ENCODERS })

function redactChunks(chunks: readonly Uint8Array[]): Buffer {
  const r = createRedactor(matcher)
  return Buffer.concat([...chunks.map((c) => r.push(c)), r.end()])
}

/** What the agent reads, decoded every way it could decode it, holds no secret. */
function expectNoSecret(out: Buffer, secret: string, name: string): void {
  const text = out.toString('utf8')
  expect(text.includes(secret), name).toBe(false)
  expect(reference(text).includes(secret), name).toBe(false)
  expect(text, name).toContain('[REDACTED]')
}

describe('secrets with some characters escaped', () => {
  it('the table is what it claims: every body decodes to the secret, and a plain scan misses the partial ones', () => {
    expect(ALL_CASES.length).toBeGreaterThan(250)
    for (const c of ALL_CASES) {
      expect(reference(c.escaped), c.name).toBe(c.secret)
      // Without the escape view these went through: the plain scan does not see them (unless the
      // escaping chosen is exactly JSON.stringify's, which the matcher has as a form of its own).
      const stringified = JSON.stringify(c.secret).slice(1, -1)
      const ownForm = c.escaped === stringified || c.escaped === stringified.replaceAll('/', '\\/')
      if (c.partial && !ownForm) expect(scan(matcher, c.body), c.name).toEqual([])
    }
  })

  it('outbound: inspectOutbound finds them in the body, query, path and headers', () => {
    for (const c of ALL_CASES) {
      const kind = SECRETS.find((s) => s.value === c.secret)?.kind
      const found = (parts: Parameters<typeof inspectOutbound>[0]) =>
        inspectOutbound(parts, matcher, { formats: false }).map((f) => `${f.kind}@${f.where}`)
      expect(found({ body: c.body }), c.name).toContain(`${kind}@body`)
      const text = c.escaped
      expect(found({ query: `key=${text}` }), c.name).toContain(`${kind}@query`)
      expect(found({ path: `/v1/keys/${text}` }), c.name).toContain(`${kind}@path`)
      expect(found({ headers: ['x-note', text] }), c.name).toContain(`${kind}@header`)
    }
  })

  it('inbound: redactBuffer, containsSecret, redactText and the Redactor remove the whole escaped spelling', () => {
    for (const c of ALL_CASES) {
      expect(containsSecret(c.body, matcher), c.name).toBe(true)
      // Parts of one small body, split inside the escaped secret.
      const mid = c.body.indexOf(c.escaped.slice(0, 2)) + 3
      expect(containsSecret([c.body.subarray(0, mid), c.body.subarray(mid)], matcher), c.name).toBe(true)
      const whole = redactBuffer(c.body, matcher)
      expect(whole.count, c.name).toBeGreaterThan(0)
      expectNoSecret(whole.bytes, c.secret, c.name)
      const header = redactText(c.body.toString('utf8'), matcher)
      expectNoSecret(Buffer.from(header.text), c.secret, c.name)
      expect(redactChunks([c.body]).equals(whole.bytes), c.name).toBe(true)
    }
  })

  it('the Redactor gives the one-shot output when the body is split at every offset, and in 1-byte chunks', () => {
    for (const c of ALL_CASES.filter((k) => k.name.endsWith('/ middle'))) {
      const whole = redactBuffer(c.body, matcher).bytes
      for (let cut = 0; cut <= c.body.length; cut++) {
        const split = redactChunks([c.body.subarray(0, cut), c.body.subarray(cut)])
        expect(split.equals(whole), `${c.name} @${cut}`).toBe(true)
      }
      const bytewise = redactChunks([...c.body].map((b) => Buffer.of(b)))
      expect(bytewise.equals(whole), `${c.name} bytewise`).toBe(true)
    }
  })

  it('finds several escaped secrets in one streamed body far apart, and leaves the rest byte for byte', () => {
    const filler = 'x'.repeat(9000)
    const pieces = ALL_CASES.filter((_, i) => i % 23 === 0)
    const body = Buffer.from(pieces.map((c) => `${filler}"${c.escaped}"`).join('') + filler)
    const chunks = [...Array(Math.ceil(body.length / 4093)).keys()].map((i) =>
      body.subarray(i * 4093, (i + 1) * 4093),
    )
    const out = redactChunks(chunks)
    const text = out.toString('utf8')
    for (const c of pieces) expect(reference(text).includes(c.secret), c.name).toBe(false)
    expect(text.split('[REDACTED]')).toHaveLength(pieces.length + 1)
    expect(text.replaceAll('"[REDACTED]"', '')).toBe(filler.repeat(pieces.length + 1))
  })

  it('with no backslash in any secret (escapes found as two-byte needles), every case is found the same', () => {
    const unpaired = buildMatcher(SECRETS.filter((x) => !x.value.includes('\\')))
    const redactWith = (chunks: readonly Uint8Array[]) => {
      const r = createRedactor(unpaired)
      return Buffer.concat([...chunks.map((c) => r.push(c)), r.end()])
    }
    for (const c of ALL_CASES.filter((k) => !k.secret.includes('\\'))) {
      expect(inspectOutbound({ body: c.body }, unpaired, { formats: false }).length, c.name).toBeGreaterThan(
        0,
      )
      expect(containsSecret(c.body, unpaired), c.name).toBe(true)
      const whole = redactBuffer(c.body, unpaired).bytes
      expectNoSecret(whole, c.secret, c.name)
      if (!c.name.endsWith('/ middle')) continue
      for (let cut = 0; cut <= c.body.length; cut += 3) {
        const split = redactWith([c.body.subarray(0, cut), c.body.subarray(cut)])
        expect(split.equals(whole), `${c.name} @${cut}`).toBe(true)
      }
    }
  })

  it('finds an HTML reference percent-encoded in a query, path or header (a # cannot stand raw in a URL)', () => {
    const { value, kind } = SECRETS[0]
    const text = encodeURIComponent(value.replace('+', '&#43;'))
    expect(text).toContain('%26%2343%3B')
    for (const parts of [{ query: `q=${text}` }, { path: `/v1/${text}` }, { headers: ['x-note', text] }]) {
      const found = inspectOutbound(parts, matcher, { formats: false })
      expect(
        found.map((f) => f.kind),
        JSON.stringify(parts),
      ).toEqual([kind])
    }
  })

  it('counts an escaped secret outbound as the style of its first escape, once', () => {
    const { value, kind } = SECRETS[0]
    const asp = value.replace('+', '\\u002B')
    const form = value.replace('/', '%2F')
    const html = value.replace('<', '&lt;')
    const body = Buffer.from(`{"a":"${asp}","b":"${form}","c":"${html}","d":"${value}"}`)
    expect(inspectOutbound({ body }, matcher, { formats: false })).toEqual([
      { kind, where: 'body', encoding: 'raw', count: 1 },
      { kind, where: 'body', encoding: 'json-escape', count: 1 },
      { kind, where: 'body', encoding: 'percent', count: 1 },
      { kind, where: 'body', encoding: 'html', count: 1 },
    ])
    // Every character as \u: the matcher's own json-escape form finds it; the escape view adds nothing.
    const all = [...value].map((c) => `\\u${hex4(c.charCodeAt(0))}`).join('')
    expect(inspectOutbound({ body: Buffer.from(`"${all}"`) }, matcher, { formats: false })).toEqual([
      { kind, where: 'body', encoding: 'json-escape', count: 1 },
    ])
  })

  it('reads a backslash as JSON does: an escaped backslash before u002B is no escape', () => {
    const { value } = SECRETS[0]
    // JSON text `\\u002B` is a backslash and the letters u002B: the secret is not there.
    const literal = Buffer.from(`"${value.replace('+', '\\\\u002B')}"`)
    expect(containsSecret(literal, matcher)).toBe(false)
    // Three backslashes: an escaped backslash, then \u002B (+). Split at every offset.
    const three = Buffer.from(`"${value.replace('+', '\\\\\\u002B')}"`)
    expect(containsSecret(three, matcher)).toBe(false) // the backslash stays in the decoded text
    const body = Buffer.from(`"x\\\\${value.replace('+', '\\u002B')}"`)
    const whole = redactBuffer(body, matcher).bytes
    expect(whole.toString()).toBe('"x\\\\[REDACTED]"')
    for (let cut = 0; cut <= body.length; cut++) {
      expect(redactChunks([body.subarray(0, cut), body.subarray(cut)]).equals(whole), `@${cut}`).toBe(true)
    }
  })

  it('reads a backslash run cut by a chunk boundary as it was: every offset, even and odd runs', () => {
    // The secret starts with the escaped character, right after an escaped backslash: a scan that
    // began in the middle of the `\\` pair would read the `\` of `\u002B` as escaped and miss it.
    // With a backslash in it, so backslashes are read in pairs (see escapes.ts).
    const secret = '+Lm2pQw9\\Zr8-Tk4'
    const only = buildMatcher([{ value: secret, kind: 'credential:x' }])
    const filler = 'a'.repeat(only.longestSpan + 20) // hex letters: the redactor holds back its full carry
    for (const run of ['\\\\', '\\\\\\\\']) {
      const body = Buffer.from(`${filler}${run}\\u002B${secret.slice(1).replace('\\', '\\\\')}${filler}`)
      expect(scan(only, body)).toEqual([])
      const whole = redactBuffer(body, only).bytes
      expect(whole.toString()).toBe(`${filler}${run}[REDACTED]${filler}`)
      for (let cut = 0; cut <= body.length; cut++) {
        const r = createRedactor(only)
        const out = Buffer.concat([r.push(body.subarray(0, cut)), r.push(body.subarray(cut)), r.end()])
        expect(out.toString(), `@${cut}`).toBe(whole.toString())
      }
    }
  })

  it('leaves escapes that decode to bytes no secret holds, and text with no secret, as they are', () => {
    const body = Buffer.from(
      '{"msg":"line\\nbreak \\"quoted\\" \\u00e9t\\u00e9 50%25 &amp; &lt;b&gt; &#233; %2B\\/ &bogus; &#;"}',
    )
    expect(containsSecret(body, matcher)).toBe(false)
    expect(redactBuffer(body, matcher).bytes).toBe(body)
    expect(inspectOutbound({ body }, matcher, { formats: false })).toEqual([])
  })
})
