import { describe, expect, it } from 'vitest'
import { splitGatePath } from '../src/index.js'

describe('splitGatePath: accepted targets keep path and query byte for byte', () => {
  const cases: [raw: string, service: string, path: string, query: string, hasQuery: boolean][] = [
    ['/slack/api/chat.postMessage?x=1', 'slack', '/api/chat.postMessage', 'x=1', true],
    ['/slack', 'slack', '/', '', false],
    ['/slack/', 'slack', '/', '', false],
    ['/slack?x=1', 'slack', '/', 'x=1', true],
    ['/slack/api/', 'slack', '/api/', '', false],
    ['/slack/api?', 'slack', '/api', '', true],
    [
      '/github/repos/o/r/issues?state=open&per_page=100',
      'github',
      '/repos/o/r/issues',
      'state=open&per_page=100',
      true,
    ],
    ['/gh-2/a%20b/%C3%A9t%C3%A9', 'gh-2', '/a%20b/%C3%A9t%C3%A9', '', false],
    ['/my_svc/x/y.json', 'my_svc', '/x/y.json', '', false],
    ['/s/a//b', 's', '/a//b', '', false],
    ['/s/..foo/foo../.../.well-known', 's', '/..foo/foo../.../.well-known', '', false],
    ['/s/a%2Bb%3D', 's', '/a%2Bb%3D', '', false],
    ['/s/x?text=line1%0Aline2&q=%2e%2e%2f', 's', '/x', 'text=line1%0Aline2&q=%2e%2e%2f', true],
    ['/s/x?a=1?b=2', 's', '/x', 'a=1?b=2', true],
    ['/s/x?q=/../etc', 's', '/x', 'q=/../etc', true],
    ['/s/100%2525', 's', '/100%2525', '', false],
    // Non-ASCII that is strict UTF-8 and means nothing special once NFKC-normalised
    ['/s/%E2%82%AC/%F0%9F%98%80', 's', '/%E2%82%AC/%F0%9F%98%80', '', false],
    ['/s/%E6%97%A5%E6%9C%AC', 's', '/%E6%97%A5%E6%9C%AC', '', false],
    ['/s/r%C3%A9sum%C3%A9.pdf', 's', '/r%C3%A9sum%C3%A9.pdf', '', false],
    ['/s/%EF%BC%A1%E2%80%A6', 's', '/%EF%BC%A1%E2%80%A6', '', false], // fullwidth A, "…" (NFKC "A...")
    ['/s/a%EF%BC%8E%EF%BC%8E', 's', '/a%EF%BC%8E%EF%BC%8E', '', false], // "a．．" → "a..", a name
    // Emoji sequences keep their selectors and joiners (Discord reaction paths)
    ['/s/%E2%9D%A4%EF%B8%8F/%40me', 's', '/%E2%9D%A4%EF%B8%8F/%40me', '', false], // ❤️
    [
      '/s/%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7',
      's',
      '/%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7',
      '',
      false,
    ], // 👨‍👩‍👧
    [
      '/s/%E2%9D%A4%EF%B8%8F%E2%80%8D%F0%9F%94%A5',
      's',
      '/%E2%9D%A4%EF%B8%8F%E2%80%8D%F0%9F%94%A5',
      '',
      false,
    ], // ❤️‍🔥
    [
      '/s/%F0%9F%91%A9%F0%9F%8F%BD%E2%80%8D%F0%9F%A6%B0',
      's',
      '/%F0%9F%91%A9%F0%9F%8F%BD%E2%80%8D%F0%9F%A6%B0',
      '',
      false,
    ], // 👩🏽‍🦰
    ['/s/1%EF%B8%8F%E2%83%A3', 's', '/1%EF%B8%8F%E2%83%A3', '', false], // keycap 1️⃣
    ['/s/%25C3%25A9', 's', '/%25C3%25A9', '', false], // é, twice encoded
    ['/_aegis/health', '_aegis', '/health', '', false],
    ['/0/x', '0', '/x', '', false],
  ]
  it.each(cases)('%s', (raw, service, path, query, hasQuery) => {
    const result = splitGatePath(raw)
    expect(result).toEqual({
      ok: true,
      service,
      path,
      query,
      hasQuery,
      forward: hasQuery ? `${path}?${query}` : path,
    })
  })
})

describe('splitGatePath: refused targets', () => {
  const cases: [raw: string, detail: RegExp][] = [
    // Not origin-form / no service
    ['', /empty/],
    ['slack/api', /start with/],
    ['http://evil.com/slack/x', /start with/],
    ['https://api.slack.com/x', /start with/],
    ['api.slack.com:443', /start with/],
    ['*', /start with/],
    ['/', /missing service/],
    ['//x', /missing service/],
    ['//evil.com/x', /missing service/],
    ['/?x=1', /missing service/],
    // Service grammar
    ['/Slack/x', /invalid service/],
    ['/-slack/x', /invalid service/],
    ['/_other/x', /invalid service/],
    ['/sl%61ck/x', /invalid service/],
    ['/sl.ack/x', /invalid service/],
    ['/../x', /invalid service/],
    ['/%2e%2e/x', /invalid service/],
    ['/s:x/y', /invalid service/],
    ['/s@evil/x', /invalid service/],
    [`/${'a'.repeat(101)}/x`, /too long/],
    // Raw dot segments
    ['/s/../x', /dot segment/],
    ['/s/./x', /dot segment/],
    ['/s/a/..', /dot segment/],
    ['/s/a/.', /dot segment/],
    ['/s/a/../../admin', /dot segment/],
    ['/s/..;/admin', /dot segment/],
    ['/s/.;x/admin', /dot segment/],
    // Encoded dot segments, every case mix
    ['/s/%2e%2e/x', /percent-encoded dot segment/],
    ['/s/%2E%2E/x', /percent-encoded dot segment/],
    ['/s/%2e%2E/x', /percent-encoded dot segment/],
    ['/s/.%2e/x', /percent-encoded dot segment/],
    ['/s/%2e./x', /percent-encoded dot segment/],
    ['/s/%2e/x', /percent-encoded dot segment/],
    ['/s/a/%2e%2e', /percent-encoded dot segment/],
    ['/s/%2e%2e;x/admin', /percent-encoded dot segment/],
    // Double and triple encoding
    ['/s/%252e%252e/x', /multiply encoded/],
    ['/s/%252E./x', /multiply encoded/],
    ['/s/%25%32%65%25%32%65/x', /multiply encoded/],
    ['/s/a%252fb', /slash.*multiply encoded/],
    ['/s/a%255cb', /backslash.*multiply encoded/],
    ['/s/a%2500b', /NUL.*multiply encoded/],
    ['/s/%25252e%25252e/x', /multiply encoded/],
    ['/s/%2525252525252e', /too many layers/],
    // Percent-encoded bytes that are not strict UTF-8: an upstream decoding leniently reads "."
    ['/repos/myorg/%c0%ae%c0%ae/admin', /not valid UTF-8/], // overlong "." (2 bytes)
    ['/s/%C0%AE%C0%AE/x', /not valid UTF-8/],
    ['/s/%e0%80%ae%e0%80%ae/x', /not valid UTF-8/], // overlong "." (3 bytes)
    ['/s/%f0%80%80%ae/x', /not valid UTF-8/], // overlong "." (4 bytes)
    ['/s/a%c0%afb', /not valid UTF-8/], // overlong "/"
    ['/s/a%c1%9cb', /not valid UTF-8/], // overlong "\"
    ['/s/%c0%80', /not valid UTF-8/], // overlong NUL
    ['/s/%ed%a0%80', /not valid UTF-8/], // UTF-16 surrogate
    ['/s/%f4%90%80%80', /not valid UTF-8/], // past U+10FFFF
    ['/s/%80', /not valid UTF-8/], // stray continuation byte
    ['/s/%ff%fe', /not valid UTF-8/],
    ['/s/%e9t%e9', /not valid UTF-8/], // Latin-1, not UTF-8
    ['/s/%c3', /not valid UTF-8/], // truncated sequence
    ['/s/%25c0%25ae%25c0%25ae/x', /not valid UTF-8.*multiply encoded/],
    // Compatibility forms an NFKC-normalising upstream turns into dots, separators or "%"
    ['/s/%EF%BC%8E%EF%BC%8E/admin', /dot segment in a Unicode compatibility form/], // U+FF0E ×2
    ['/s/%ef%bc%8e/x', /dot segment in a Unicode compatibility form/],
    ['/s/.%EF%BC%8E/x', /dot segment in a Unicode compatibility form/], // mixed with ASCII
    ['/s/%2e%EF%BC%8E/x', /dot segment in a Unicode compatibility form/],
    ['/s/%E2%80%A4%E2%80%A4/x', /dot segment in a Unicode compatibility form/], // U+2024 ×2
    ['/s/%E2%80%A5/x', /dot segment in a Unicode compatibility form/], // U+2025 ".."
    ['/s/%EF%B9%92%EF%B9%92/x', /dot segment in a Unicode compatibility form/], // U+FE52 ×2
    ['/s/%EF%BC%8E%EF%BC%8E%EF%BC%9Bx/admin', /dot segment in a Unicode compatibility form/], // "..;x"
    ['/s/%25EF%25BC%258E%25EF%25BC%258E/x', /compatibility form.*multiply encoded/],
    ['/s/a%EF%BC%8Fb', /slash in a Unicode compatibility form/], // U+FF0F
    ['/s/%E2%80%A5%EF%BC%8Fadmin', /slash in a Unicode compatibility form/],
    ['/s/a%EF%BC%BCb', /backslash in a Unicode compatibility form/], // U+FF3C
    ['/s/%EF%BC%852e%EF%BC%852e', /percent sign in a Unicode compatibility form/], // U+FF05
    // Invisible (default-ignorable) code points an upstream may strip: `..` or a split word
    ['/s/.%E2%80%8B./admin', /invisible/], // ZWSP between the dots
    ['/s/%E2%80%8B../admin', /invisible/],
    ['/s/..%E2%80%8B/admin', /invisible/],
    ['/s/%EF%BB%BF../x', /invisible/], // BOM (kept by the decoder, stripped by many upstreams)
    ['/s/%EF%BB%BF/x', /invisible/], // alone, too
    ['/s/.%E2%80%8C./x', /invisible/], // ZWNJ
    ['/s/.%E2%80%8D./x', /invisible/], // ZWJ, not between pictographs
    ['/s/.%E2%81%A0./x', /invisible/], // word joiner U+2060
    ['/s/.%C2%AD./x', /invisible/], // soft hyphen U+00AD
    ['/s/.%CD%8F./x', /invisible/], // combining grapheme joiner U+034F
    ['/s/.%E1%A0%8E./x', /invisible/], // Mongolian vowel separator U+180E
    ['/s/.%EF%B8%8F./x', /invisible/], // variation selector 16 after a dot
    ['/s/.%EF%B8%80./x', /invisible/], // variation selector 1
    ['/s/.%F3%A0%84%80./x', /invisible/], // variation selector 17 (U+E0100)
    ['/s/.%E2%80%AE./x', /invisible/], // right-to-left override
    ['/s/.%F3%A0%80%A1./x', /invisible/], // tag character U+E0021
    ['/s/.%E3%85%A4./x', /invisible/], // Hangul filler U+3164
    ['/s/.%EF%BE%A0./x', /invisible/], // halfwidth Hangul filler U+FFA0
    ['/s/ad%C2%ADmin', /invisible/], // "admin" to an upstream that strips, past a rule on /admin
    ['/s/v1%EF%B8%8F/admin', /invisible/], // selector after an ASCII digit (no keycap)
    ['/s/a%E2%80%8D%F0%9F%94%A5', /invisible/], // ZWJ after a letter
    ['/s/%F0%9F%94%A5%E2%80%8Da', /invisible/], // ZWJ before a letter
    ['/s/%F0%9F%94%A5%E2%80%8B%F0%9F%94%A5', /invisible/], // ZWSP between pictographs
    ['/s/.%25E2%2580%258B./admin', /invisible.*multiply encoded/],
    ['/s/.%EF%BC%8E%E2%80%8B/x', /invisible/], // with a fullwidth dot
    // Encoded separators and NUL in the path
    ['/s/a%2fb', /percent-encoded slash/],
    ['/s/a%2Fb', /percent-encoded slash/],
    ['/s/..%2f..%2fadmin', /percent-encoded slash/],
    ['/s/a%5cb', /percent-encoded backslash/],
    ['/s/a%5C..%5Cb', /percent-encoded backslash/],
    ['/s/a%00b', /percent-encoded NUL/],
    ['/s/a%0d%0aHost:evil', /percent-encoded control/],
    ['/s/a%7f', /percent-encoded control/],
    // Raw forbidden characters
    ['/s/a\\b', /backslash/],
    ['/s\\..\\x', /backslash/],
    ['/s/a\0b', /NUL/],
    ['/s/a b', /control, space/],
    ['/s/a\tb', /control, space/],
    ['/s/a\r\nHost: evil', /control, space/],
    ['/s/a\x7fb', /control, space/],
    ['/s/caf\u00e9', /non-ASCII/],
    ['/s/\u2025/x', /non-ASCII/],
    ['/s/x#frag', /fragment/],
    ['/s/x?q=1#frag', /fragment/],
    ['/s/api.slack.com#@evil', /fragment/],
    // Malformed percent-encoding
    ['/s/%zz', /malformed percent-encoding in path/],
    ['/s/%4', /malformed percent-encoding in path/],
    ['/s/%', /malformed percent-encoding in path/],
    ['/s/a%g0', /malformed percent-encoding in path/],
    ['/s/%%30%30', /malformed percent-encoding in path/],
    // Empty segment right after the service
    ['/s//evil.com/x', /empty path segment/],
    ['/s//', /empty path segment/],
    // Query
    ['/s/x?q=%zz', /malformed percent-encoding in query/],
    ['/s/x?q=100%', /malformed percent-encoding in query/],
    ['/s/x?q=%4', /malformed percent-encoding in query/],
    ['/s/x?q=a%00b', /NUL in query/],
    ['/s/x?q=a\0b', /NUL/],
    ['/s/x?q=a\r\nb', /control/],
    ['/s/x?q=a b', /control, space/],
  ]
  it.each(cases)('%j', (raw, detail) => {
    const result = splitGatePath(raw)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.detail).toMatch(detail)
  })

  it('never echoes the query (which may carry a secret) in the refusal', () => {
    const result = splitGatePath('/s/x?token=sk-live-SECRET%zz')
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.detail).not.toContain('SECRET')
  })

  it('treats a non-string input as refused', () => {
    expect(splitGatePath(undefined as unknown as string).ok).toBe(false)
  })
})
