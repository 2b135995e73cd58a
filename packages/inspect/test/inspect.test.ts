import { describe, expect, it } from 'vitest'
import { buildMatcher, FORMATS, inspectOutbound, scan } from '../src/index.js'
import { SPECIAL, TOKEN } from './helpers.js'

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

  describe('secrets wrapped or encoded twice', () => {
    // Long enough that a 64-column base64 line always breaks inside its encoding.
    const LONG = 'acme-live-9fK2mQ7xV4bT1nR8wZ3cL6pY0hJ5dG2sA7eU4iO1'
    const long = buildMatcher([{ value: LONG, kind: 'credential:stripe' }])
    /** base64 of filler + LONG + filler, broken into lines of `width` characters with `eol`. */
    const wrapped = (width: number, eol: string, lead = 40) => {
      const text = Buffer.concat([Buffer.alloc(lead, 7), Buffer.from(LONG), Buffer.alloc(50, 9)]).toString(
        'base64',
      )
      return text.match(new RegExp(`.{1,${width}}`, 'g'))?.join(eol) ?? ''
    }

    it('finds base64 broken into MIME or PEM lines, at every alignment', () => {
      for (const [width, eol] of [
        [76, '\r\n'],
        [64, '\n'],
      ] as const) {
        // 40+ bytes ahead put the secret across the first line end; six leads give every alignment twice.
        for (let lead = 40; lead < 46; lead++) {
          const body = Buffer.from(`-----BEGIN DATA-----\n${wrapped(width, eol, lead)}\n-----END DATA-----\n`)
          // The test only means something if the line break hides the secret from a plain scan.
          expect(scan(long, body), `${width}/${lead}`).toEqual([])
          expect(inspectOutbound({ body }, long), `${width}/${lead}`).toEqual([
            { kind: 'credential:stripe', where: 'body', encoding: 'base64', count: 1 },
          ])
        }
      }
    })

    it('finds line-broken base64 inside a JSON string (\\n escapes) and with \\/ for every slash', () => {
      const escaped = Buffer.from(JSON.stringify({ attachment: wrapped(64, '\n') }))
      expect(scan(long, escaped)).toEqual([])
      expect(inspectOutbound({ body: escaped }, long)).toEqual([
        { kind: 'credential:stripe', where: 'body', encoding: 'base64', count: 1 },
      ])
      // A secret whose base64 has slashes in it, as PHP's json_encode writes them.
      const slashy = '??>>??>>??>>secret'
      const slashyMatcher = buildMatcher([{ value: slashy, kind: 'credential:x' }])
      const b64 = Buffer.from(`xx${slashy}`).toString('base64')
      expect(b64).toContain('/')
      const php = Buffer.from(JSON.stringify({ data: b64 }).replaceAll('/', '\\/'))
      expect(scan(slashyMatcher, php)).toEqual([])
      expect(inspectOutbound({ body: php }, slashyMatcher)).toEqual([
        { kind: 'credential:x', where: 'body', encoding: 'base64', count: 1 },
      ])
    })

    it('counts a secret once when it is there both plainly and across line breaks', () => {
      const body = Buffer.from(`${LONG}\n${wrapped(64, '\n')}\n${LONG}`)
      expect(inspectOutbound({ body }, long)).toEqual([
        { kind: 'credential:stripe', where: 'body', encoding: 'raw', count: 2 },
        { kind: 'credential:stripe', where: 'body', encoding: 'base64', count: 1 },
      ])
    })

    it('finds a secret percent-encoded up to four times, in the query, the path, headers and the body', () => {
      // Three rounds of decoding, then the matcher's own percent forms.
      const once = [...Buffer.from(TOKEN)].map((b) => `%${b.toString(16)}`).join('')
      const again = (text: string, times: number): string =>
        times === 0 ? text : again(text.replaceAll('%', '%25'), times - 1)
      const percent = { kind: 'credential:slack-bot', encoding: 'percent', count: 1 }
      for (const encoded of [again(once, 1), again(once, 2), again(once, 3)]) {
        expect(inspectOutbound({ query: `q=${encoded}` }, matcher)).toEqual([{ ...percent, where: 'query' }])
        expect(inspectOutbound({ path: `/v1/${encoded}` }, matcher)).toEqual([{ ...percent, where: 'path' }])
        expect(inspectOutbound({ headers: ['x-note', encoded] }, matcher)).toEqual([
          { ...percent, where: 'header' },
        ])
        expect(inspectOutbound({ body: Buffer.from(`{"u":"${encoded}"}`) }, matcher)).toEqual([
          { ...percent, where: 'body' },
        ])
      }
      // Five times is past the limit.
      expect(inspectOutbound({ query: `q=${again(once, 4)}` }, matcher)).toEqual([])
    })

    it('leaves ordinary text with line breaks, backslashes and percent signs alone', () => {
      const body = Buffer.from(
        JSON.stringify({ path: 'C:\\temp\\new', note: '50% off\n100%25 sure', lines: 'a\nb\r\nc' }, null, 2),
      )
      expect(inspectOutbound({ body, query: 'd=50%25&e=%2Fx', path: '/a%2Fb' }, matcher)).toEqual([])
    })
  })
})
