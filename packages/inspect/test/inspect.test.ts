import { describe, expect, it } from 'vitest'
import { buildMatcher, FORMATS, inspectOutbound } from '../src/index.ts'
import { SPECIAL, TOKEN } from './helpers.ts'

const matcher = buildMatcher([
  { value: TOKEN, kind: 'credential:slack-bot' },
  { value: SPECIAL, kind: 'agent-token' },
])
const github = FORMATS.find((f) => f.id === 'github-token')?.example ?? ''

describe('inspectOutbound', () => {
  it('returns nothing for a clean request', () => {
    expect(
      inspectOutbound(
        {
          body: Buffer.from('{"text":"hello"}'),
          query: 'a=1&b=two',
          headers: ['content-type', 'application/json', 'accept', '*/*'],
          path: '/v1/items/42',
        },
        matcher,
      ),
    ).toEqual([])
    expect(inspectOutbound({}, matcher)).toEqual([])
    expect(inspectOutbound({ body: null }, matcher)).toEqual([])
  })

  it('finds a secret in each place, labelled, counted, without the value', () => {
    const findings = inspectOutbound(
      {
        body: Buffer.from(JSON.stringify({ a: TOKEN, b: TOKEN, c: Buffer.from(TOKEN).toString('hex') })),
        query: `q=${encodeURIComponent(SPECIAL)}`,
        headers: ['x-debug', Buffer.from(TOKEN).toString('base64')],
        path: `/v1/${TOKEN}/items`,
      },
      matcher,
    )
    expect(findings).toEqual(
      expect.arrayContaining([
        { kind: 'credential:slack-bot', where: 'body', encoding: 'raw', count: 2 },
        { kind: 'credential:slack-bot', where: 'body', encoding: 'hex', count: 1 },
        { kind: 'agent-token', where: 'query', encoding: 'percent', count: 1 },
        { kind: 'credential:slack-bot', where: 'header', encoding: 'base64', count: 1 },
        { kind: 'credential:slack-bot', where: 'path', encoding: 'raw', count: 1 },
      ]),
    )
    expect(findings).toHaveLength(5)
    expect(JSON.stringify(findings)).not.toContain(TOKEN)
  })

  it('scans header names as well as values', () => {
    const findings = inspectOutbound({ headers: [`x-${TOKEN}`, '1'] }, matcher)
    expect(findings).toEqual([{ kind: 'credential:slack-bot', where: 'header', encoding: 'raw', count: 1 }])
  })

  it('catches a secret only partly percent-encoded in the query or path', () => {
    const partial = [...TOKEN].map((c, i) => (i % 3 === 0 ? `%${c.charCodeAt(0).toString(16)}` : c)).join('')
    expect(inspectOutbound({ query: `x=${partial}` }, matcher)).toEqual([
      { kind: 'credential:slack-bot', where: 'query', encoding: 'percent', count: 1 },
    ])
    expect(inspectOutbound({ path: `/a/${partial}` }, matcher)).toEqual([
      { kind: 'credential:slack-bot', where: 'path', encoding: 'percent', count: 1 },
    ])
  })

  it('reads + as a space in the query (form encoding) but not in the path', () => {
    const plus = SPECIAL.replaceAll(' ', '+')
    expect(
      inspectOutbound({ query: `p=${encodeURIComponent(SPECIAL).replaceAll('%20', '+')}` }, matcher),
    ).toHaveLength(1)
    expect(inspectOutbound({ path: `/${plus}` }, matcher)).toEqual([])
  })

  it('does not report a raw secret in the query twice', () => {
    expect(inspectOutbound({ query: `a=${TOKEN}&b=%41` }, matcher)).toEqual([
      { kind: 'credential:slack-bot', where: 'query', encoding: 'raw', count: 1 },
    ])
  })

  it('reads latin1 header strings (raw header bytes) as bytes', () => {
    const value = Buffer.from(SPECIAL, 'utf8').toString('latin1')
    expect(inspectOutbound({ headers: ['x-a', value] }, matcher)).toEqual([
      { kind: 'agent-token', where: 'header', encoding: 'raw', count: 1 },
    ])
  })

  it('finds well-known credential formats unless told not to', () => {
    const parts = {
      body: Buffer.from(`{"token":"${github}"}`),
      headers: ['authorization', `token ${github}`],
    }
    expect(inspectOutbound(parts, matcher)).toEqual([
      { kind: 'format:github-token', where: 'header', encoding: 'raw', count: 1 },
      { kind: 'format:github-token', where: 'body', encoding: 'raw', count: 1 },
    ])
    expect(inspectOutbound(parts, matcher, { formats: false })).toEqual([])
    const encoded = encodeURIComponent(`x ${github}`)
    expect(inspectOutbound({ query: `q=${encoded}` }, matcher).map((f) => f.kind)).toEqual([
      'format:github-token',
    ])
  })
})
