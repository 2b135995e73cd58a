import { describe, expect, it } from 'vitest'
import { escapedRegions } from '../src/escape-regions.js'
import { findEscapes } from '../src/escapes.js'
import { buildMatcher, createRedactor, inspectOutbound, redactBuffer } from '../src/index.js'
import { joinedRegions, MAX_PERCENT_ROUNDS, percentDecoded } from '../src/views.js'

/**
 * Issue 11: every inspection view is one left-to-right pass. Adversarial bodies of 1 MiB made of
 * nothing but escape starts, escapes, backslashes or line breaks must cost about what a clean body
 * costs. The assertions are structural (how much each view copies, how many escapes and joins it
 * lists), not timed; the tests that would be quadratic without the fix also finish well inside the
 * test timeout (a quadratic pass over these inputs takes minutes).
 */

const MiB = 1 << 20
const SECRET = 'Zm9vYmFyQkFaLXNlY3JldC0xMjM0NTY3ODkw' // letters and digits: `Y`, `1` … are secret bytes
const matcher = buildMatcher([{ value: SECRET, kind: 'credential:x' }])
const secretByte = (() => {
  const table = new Uint8Array(256)
  for (const b of Buffer.from(SECRET)) table[b] = 1
  return table
})()
const fill = (unit: string, size = MiB) =>
  Buffer.from(unit.repeat(Math.ceil(size / unit.length)).slice(0, size))

/** Bodies made of one unit repeated, and how many relevant escapes each holds per byte at most. */
const ADVERSARIAL: Record<string, { unit: string; escapesPerByte: number }> = {
  '%25%25%25…': { unit: '%25', escapesPerByte: 0 }, // `%` is no secret byte
  '%59%59… (decoded: Y is a secret byte)': { unit: '%59', escapesPerByte: 1 / 3 },
  '\\u\\u\\u… (no hex after it)': { unit: '\\u', escapesPerByte: 0 },
  '\\u0059\\u0059… (decoded)': { unit: '\\u0059', escapesPerByte: 1 / 6 },
  '&#&#&#…': { unit: '&#', escapesPerByte: 0 },
  '&#x59;&#x59;… (decoded)': { unit: '&#x59;', escapesPerByte: 1 / 6 },
  '&#00000000… (too many digits, never ends)': { unit: '&#0000000000', escapesPerByte: 0 },
  '&amp&amp… (no semicolon)': { unit: '&amp', escapesPerByte: 0 },
  'a run of backslashes': { unit: '\\', escapesPerByte: 0 },
  'a line break between every byte': { unit: 'a\n', escapesPerByte: 0 },
  'a JSON \\n between every byte': { unit: 'a\\n', escapesPerByte: 0 },
}

describe('every view is one linear pass (issue 11)', () => {
  it('the escape view lists each escape once and copies each input byte at most once, plus context', () => {
    const reach = SECRET.length - 1
    for (const [name, { unit, escapesPerByte }] of Object.entries(ADVERSARIAL)) {
      const input = fill(unit)
      const escapes = findEscapes(input, secretByte)
      expect(escapes.starts.length, name).toBeLessThanOrEqual(Math.ceil(input.length * escapesPerByte))
      // Escapes come in order and never overlap: the scan never went back.
      let ordered = true
      for (let i = 1; i < escapes.starts.length; i++) {
        ordered &&= (escapes.starts[i] as number) >= (escapes.ends[i - 1] as number)
      }
      expect(ordered, name).toBe(true)
      const regions = escapedRegions(input, escapes, reach)
      const copied = regions.reduce((n, r) => n + r.bytes.length, 0)
      expect(copied, name).toBeLessThanOrEqual(input.length + 2 * reach * regions.length)
      expect(regions.length, name).toBeLessThanOrEqual(1)
    }
  })

  it('the line-break view takes out each break once, in one region with a join per break', () => {
    for (const [name, { unit }] of Object.entries(ADVERSARIAL)) {
      const input = fill(unit)
      const regions = joinedRegions(input, SECRET.length - 1)
      const copied = regions.reduce((n, r) => n + r.bytes.length, 0)
      const joins = regions.reduce((n, r) => n + r.joins.length, 0)
      expect(copied, name).toBeLessThanOrEqual(input.length)
      expect(joins, name).toBeLessThanOrEqual(input.length / 2)
      let ordered = true
      for (const r of regions) {
        for (let i = 1; i < r.joins.length; i++)
          ordered &&= (r.joins[i] as number) > (r.joins[i - 1] as number)
      }
      expect(ordered, name).toBe(true)
    }
  })

  it('percent-decoding takes at most MAX_PERCENT_ROUNDS linear rounds, each shorter than the last', () => {
    let level: Uint8Array | null = fill('%25252541') // four layers
    let rounds = 0
    let previous = level.length
    while (level !== null && rounds < MAX_PERCENT_ROUNDS) {
      level = percentDecoded(level, false)
      if (level === null) break
      expect(level.length).toBeLessThan(previous)
      previous = level.length
      rounds++
    }
    expect(rounds).toBe(MAX_PERCENT_ROUNDS)
  })

  it('inspectOutbound and redaction get through 1 MiB of each adversarial body, finding nothing', () => {
    for (const [name, { unit }] of Object.entries(ADVERSARIAL)) {
      const body = fill(unit)
      expect(inspectOutbound({ body }, matcher), name).toEqual([])
      expect(
        inspectOutbound({ query: body.subarray(0, 64 * 1024).toString('latin1') }, matcher),
        name,
      ).toEqual([])
      expect(redactBuffer(body, matcher).bytes, name).toBe(body)
      const r = createRedactor(matcher)
      const parts: Buffer[] = []
      for (let i = 0; i < body.length; i += 65536) {
        parts.push(r.push(body.subarray(i, i + 65536)))
        // The operator-token stage holds back at most a partial `aegis_user_` (10 bytes) more.
        expect(r.held, name).toBeLessThan(matcher.longestSpan + 10)
      }
      parts.push(r.end())
      expect(Buffer.concat(parts).equals(body), name).toBe(true)
    }
  })

  it('a secret repeated with a line break between every byte: each hit checks its joins in log time', () => {
    // 21,000 hits in one region with 500,000 joins: checking every join per hit (as before) is
    // about 10^10 steps; a binary search is about 20 per hit.
    const body = Buffer.from(`${SECRET.split('').join('\n')}\n`.repeat(Math.floor(MiB / (2 * SECRET.length))))
    const findings = inspectOutbound({ body }, matcher, { formats: false })
    expect(findings).toEqual([
      { kind: 'credential:x', where: 'body', encoding: 'raw', count: Math.floor(MiB / (2 * SECRET.length)) },
    ])
  })

  it('a secret repeated with every character escaped in turns: every one is found and redacted', () => {
    const one = [...SECRET].map((c, i) => (i % 2 ? `\\u00${c.charCodeAt(0).toString(16)}` : c)).join('')
    const copies = Math.floor(MiB / one.length)
    const body = Buffer.from(one.repeat(copies))
    expect(inspectOutbound({ body }, matcher, { formats: false })).toEqual([
      { kind: 'credential:x', where: 'body', encoding: 'json-escape', count: copies },
    ])
    const out = redactBuffer(body, matcher)
    expect(out.bytes.toString()).toBe('[REDACTED]')
    expect(out.count).toBe(1) // adjacent occurrences become one replacement
  })
})
