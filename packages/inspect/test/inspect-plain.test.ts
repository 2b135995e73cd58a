import { describe, expect, it } from 'vitest'
import { buildMatcher, type Finding, FORMATS, inspectOutbound, type OutboundParts } from '../src/index.js'
import { base64Embedded, TOKEN } from './helpers.js'

/**
 * Plain header values, paths and queries (printable ASCII without `%`, a backslash, `&` or `+`) are
 * decided from the string (inspect.ts `plainAndClean`). Every finding the general path makes must
 * still be made: each row is checked as it is and with ` &` appended, which sends the same text
 * down the general path without changing what it holds; both must give the same findings, and
 * a row that holds something must give at least one.
 */

const BENCH = 'bench-secret-token'
const SHORT = 'k8#Zq2!w'
const matcher = buildMatcher([
  { value: TOKEN, kind: 'credential:slack-bot' },
  { value: BENCH, kind: 'credential:bench' },
  { value: SHORT, kind: 'credential:short' },
])
const OPERATOR = `aegis_user_${'Zm9vYmFyYmF6cXV4'.repeat(3)}`

const plain = (s: string) => /^[\x20-\x24\x27-\x2a\x2c-\x5b\x5d-\x7e]*$/.test(s)

/** Texts that hold something, in spellings that stay plain. */
const HOLDING: { name: string; text: string }[] = [
  { name: 'raw secret', text: `Bearer ${BENCH}` },
  { name: 'raw short secret', text: `x ${SHORT} y` },
  { name: 'secret alone', text: TOKEN },
  { name: 'base64url', text: Buffer.from(BENCH).toString('base64url') },
  { name: 'hex', text: Buffer.from(TOKEN).toString('hex') },
  { name: 'HEX', text: Buffer.from(BENCH).toString('hex').toUpperCase() },
  ...[0, 1, 2].map((align) => ({
    name: `base64url embedded +${align}`,
    text: base64Embedded(BENCH, align, true),
  })),
  { name: 'operator token', text: `token=${OPERATOR}` },
  { name: 'operator token, base64url', text: Buffer.from(OPERATOR).toString('base64url') },
  { name: 'operator token, hex', text: Buffer.from(OPERATOR).toString('hex') },
  ...FORMATS.map((f) => ({ name: `format ${f.id}`, text: `k ${f.example.split('\n')[0]} v` })),
].filter((row) => plain(row.text))

const CLEAN = [
  'nginx/1.22.1',
  'application/json',
  'wrk/4.1',
  '/v1/items/42',
  'limit=10',
  'api.bench.test',
  'Mozilla/5.0 (X11)',
]

function where(text: string, place: 'path' | 'query' | 'header' | 'name'): OutboundParts {
  if (place === 'path') return { path: `/v1/${text}` }
  if (place === 'query') return { query: `q=${text}` }
  if (place === 'name') return { headers: [text, 'x'] }
  return { headers: ['x-debug', text] }
}

const sorted = (findings: Finding[]) =>
  findings.map((f) => `${f.kind}|${f.where}|${f.encoding}|${f.count}`).sort()

describe('inspectOutbound: plain header values, paths and queries', () => {
  it('has plain rows for every kind of spelling (the table did not filter them all away)', () => {
    expect(HOLDING.length).toBeGreaterThan(20)
  })

  for (const place of ['path', 'query', 'header', 'name'] as const) {
    it(`finds in a ${place} what the general path finds`, () => {
      for (const row of HOLDING) {
        const fast = inspectOutbound(where(row.text, place), matcher)
        const general = inspectOutbound(where(`${row.text} &`, place), matcher)
        expect(fast.length, `${row.name} in the ${place}`).toBeGreaterThan(0)
        expect(sorted(fast), `${row.name} in the ${place}`).toEqual(sorted(general))
      }
    })
  }

  it('finds the caller token (a matcher without formats) in a plain header', () => {
    const agentToken = `aegis_${'A'.repeat(43)}`
    const own = buildMatcher([{ value: agentToken, kind: 'agent-token' }])
    for (const text of [
      agentToken,
      Buffer.from(agentToken).toString('hex'),
      base64Embedded(agentToken, 1, true),
    ]) {
      expect(
        inspectOutbound({ headers: ['x-a', text] }, own, { formats: false }).length,
        text,
      ).toBeGreaterThan(0)
    }
  })

  it('still sends texts that are not plain through every view', () => {
    const i = 6 // the 's' of bench-secret-token
    const one = (written: string) => `${BENCH.slice(0, i)}${written}${BENCH.slice(i + 1)}`
    const rows = [
      one('%73'), // percent, one character
      one('%2573'), // percent-encoded twice
      one('\\u0073'), // JSON escape
      one('&#115;'), // HTML reference
      `${Buffer.from(BENCH).toString('base64').slice(0, 12)}\n${Buffer.from(BENCH).toString('base64').slice(12)}`, // a line break in base64
    ]
    for (const text of rows) {
      for (const place of ['path', 'query', 'header'] as const) {
        expect(
          inspectOutbound(where(text, place), matcher).length,
          `${text} in the ${place}`,
        ).toBeGreaterThan(0)
      }
    }
    // `+` is a space in a form query: a secret with a space written `+` and its `/` left as it is
    // (no form or percent pattern of it matches) is found in the decoded view only
    const spaced = buildMatcher([{ value: 'bench secret/token', kind: 'credential:spaced' }])
    expect(inspectOutbound({ query: 'q=bench+secret/token' }, spaced).length).toBeGreaterThan(0)
  })

  it('finds nothing in clean plain strings', () => {
    for (const text of CLEAN) {
      for (const place of ['path', 'query', 'header', 'name'] as const) {
        expect(inspectOutbound(where(text, place), matcher), `${text} in the ${place}`).toEqual([])
      }
    }
  })
})
