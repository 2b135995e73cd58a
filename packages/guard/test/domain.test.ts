import { describe, expect, it } from 'vitest'
import {
  type DomainPattern,
  defaultTarget,
  findAllowlistMatch,
  matchesAllowlist,
  normalizeHostname,
  parseDomainPattern,
  parseTargetHost,
} from '../src/index.js'

const CYRILLIC_A = '\u0430'

function pattern(text: string): DomainPattern {
  const result = parseDomainPattern(text)
  if (!result.ok) throw new Error(result.reason)
  return result.pattern
}

describe('normalizeHostname', () => {
  const good: [input: string, expected: string][] = [
    ['api.slack.com', 'api.slack.com'],
    ['API.Slack.COM', 'api.slack.com'],
    ['api.slack.com.', 'api.slack.com'],
    ['localhost', 'localhost'],
    ['a-b.example', 'a-b.example'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['XN--BCHER-KVA.DE', 'xn--bcher-kva.de'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['BÜCHER.de', 'xn--bcher-kva.de'],
    ['\uff21\uff30\uff29.slack.com', 'api.slack.com'], // full-width letters map as in browsers
    ['api.slack\u3002com', 'api.slack.com'], // ideographic full stop is a label separator (UTS #46)
    [`${CYRILLIC_A}pi.slack.com`, 'xn--pi-6kc.slack.com'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
    ['1a.example', '1a.example'],
    ['example.1a', 'example.1a'],
  ]
  it.each(good)('%j → %j', (input, expected) => {
    expect(normalizeHostname(input)).toBe(expected)
  })

  const bad: [input: string, why: string][] = [
    ['', 'empty'],
    ['.', 'only the root'],
    ['api.slack.com..', 'two trailing dots'],
    ['.api.slack.com', 'leading dot'],
    ['api..slack.com', 'empty label'],
    ['api.slack.com@evil.com', 'userinfo'],
    ['user:pw@api.slack.com', 'userinfo'],
    ['api.slack.com/evil', 'path'],
    ['api.slack.com\\evil.com', 'backslash'],
    ['api.slack.com?x', 'query'],
    ['api.slack.com#@evil', 'fragment'],
    ['api.slack.com:443', 'port'],
    ['api.slack.com%2f', 'percent-encoding'],
    ['%61pi.slack.com', 'percent-encoding (node would decode it)'],
    ['api .slack.com', 'space'],
    [' api.slack.com', 'leading space'],
    ['api.slack.com\r\nx', 'CRLF'],
    ['api.slack.com\0', 'NUL'],
    ['api\u200b.slack.com', 'zero-width space'],
    ['api\u00adslack.com', 'soft hyphen (node would drop it)'],
    ['api.slack.com\u202e', 'bidi override'],
    ['api.slack.com\uff0f.evil.com', 'full-width solidus'],
    ['api.slack.com\uff20evil.com', 'full-width commercial at'],
    ['evil.com\uff03api.slack.com', 'full-width number sign'],
    ['a\u2024b.com', 'one-dot leader'],
    ['-api.slack.com', 'leading hyphen'],
    ['api-.slack.com', 'trailing hyphen'],
    ['a_b.example', 'underscore'],
    ['*.slack.com', 'wildcard'],
    [`${'a'.repeat(64)}.com`, '64-char label'],
    [`${'a.'.repeat(126)}aa`, '254 chars'],
    ['xn--zz.com', 'invalid punycode'],
    ['xn--a.com', 'invalid punycode'],
    ['xn--.com', 'empty punycode'],
    ['1.2.3.4', 'IPv4 literal'],
    ['127.1', 'short IPv4'],
    ['2130706433', 'integer IPv4'],
    ['0x7f.0.0.1', 'hex IPv4'],
    ['0x7f000001', 'hex integer IPv4'],
    ['example.0x1', 'hex last label'],
    ['example.123', 'numeric last label'],
    ['[::1]', 'IPv6 literal'],
    ['::1', 'bare IPv6'],
    ['a'.repeat(2000), 'huge input'],
  ]
  it.each(bad)('%j is refused (%s)', (input) => {
    expect(normalizeHostname(input)).toBeNull()
  })

  it('accepts exactly 253 characters', () => {
    const host = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`
    expect(host.length).toBe(253)
    expect(normalizeHostname(host)).toBe(host)
    expect(normalizeHostname(`${host}.`)).toBe(host)
  })
})

describe('parseDomainPattern', () => {
  const good: [input: string, expected: DomainPattern][] = [
    ['api.slack.com', { text: 'api.slack.com', host: 'api.slack.com', wildcard: false, port: null }],
    ['  API.Slack.com.  ', { text: 'api.slack.com', host: 'api.slack.com', wildcard: false, port: null }],
    ['*.slack.com', { text: '*.slack.com', host: 'slack.com', wildcard: true, port: null }],
    ['*.Slack.COM.', { text: '*.slack.com', host: 'slack.com', wildcard: true, port: null }],
    ['api.x.com:8443', { text: 'api.x.com:8443', host: 'api.x.com', wildcard: false, port: 8443 }],
    ['*.x.com:8443', { text: '*.x.com:8443', host: 'x.com', wildcard: true, port: 8443 }],
    ['api.x.com:443', { text: 'api.x.com:443', host: 'api.x.com', wildcard: false, port: 443 }],
    ['h.example:1', { text: 'h.example:1', host: 'h.example', wildcard: false, port: 1 }],
    ['h.example:65535', { text: 'h.example:65535', host: 'h.example', wildcard: false, port: 65535 }],
    ['*.bücher.de', { text: '*.xn--bcher-kva.de', host: 'xn--bcher-kva.de', wildcard: true, port: null }],
    ['*.foo.github.io', { text: '*.foo.github.io', host: 'foo.github.io', wildcard: true, port: null }],
    ['*.corp.internal', { text: '*.corp.internal', host: 'corp.internal', wildcard: true, port: null }],
    ['*.example.co.uk', { text: '*.example.co.uk', host: 'example.co.uk', wildcard: true, port: null }],
    // An exact public-suffix host is a single host, not a wildcard: allowed.
    ['github.io', { text: 'github.io', host: 'github.io', wildcard: false, port: null }],
  ]
  it.each(good)('%j', (input, expected) => {
    expect(parseDomainPattern(input)).toEqual({ ok: true, pattern: expected })
  })

  const bad: [input: string, reason: RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['*', /not a valid host name|wildcard/],
    ['*.', /not a valid host name/],
    ['*.com', /public suffix "com"/],
    ['*.co.uk', /public suffix "co.uk"/],
    ['*.github.io', /public suffix "github.io"/],
    ['*.herokuapp.com', /public suffix "herokuapp.com"/],
    ['*.s3.amazonaws.com', /public suffix/],
    ['*.internal', /public suffix/],
    ['*.localhost', /public suffix/],
    ['*.xn--p1ai', /public suffix/],
    ['**.slack.com', /wildcard must be exactly one leftmost/],
    ['*.*.slack.com', /wildcard must be exactly one leftmost/],
    ['*slack.com', /wildcard must be exactly one leftmost/],
    ['*foo.com', /wildcard must be exactly one leftmost/],
    ['a.*.com', /wildcard must be exactly one leftmost/],
    ['api.slack.*', /wildcard must be exactly one leftmost/],
    ['api*.slack.com', /wildcard must be exactly one leftmost/],
    ['https://api.slack.com', /not a URL/],
    ['api.slack.com/path', /path/],
    ['user@api.slack.com', /userinfo/],
    ['api.slack.com?x=1', /query/],
    ['api.slack.com#x', /query or fragment/],
    ['api.slack.com%2f', /percent/],
    ['api.slack.com:0', /port/],
    ['api.slack.com:65536', /port/],
    ['api.slack.com:08443', /port/],
    ['api.slack.com:', /port/],
    ['api.slack.com:http', /port/],
    ['api.slack.com:-1', /port/],
    ['api.slack.com:443:443', /not a valid host name|IP/],
    ['1.2.3.4', /IP addresses are not allowed/],
    ['10.0.0.1:8443', /IP addresses are not allowed/],
    ['[::1]', /IP addresses are not allowed/],
    ['[::1]:443', /IP addresses are not allowed/],
    ['::1', /IP addresses are not allowed/],
    ['api slack.com', /whitespace/],
    ['a_b.example', /not a valid host name/],
  ]
  it.each(bad)('%j is refused', (input, reason) => {
    const result = parseDomainPattern(input)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.reason).toMatch(reason)
      expect(result.reason).toContain(`"${input}"`)
    }
  })
})

describe('parseTargetHost', () => {
  const good: [input: string, host: string, port: number | null][] = [
    ['api.slack.com', 'api.slack.com', null],
    ['API.SLACK.COM', 'api.slack.com', null],
    ['api.slack.com.', 'api.slack.com', null],
    ['api.slack.com:443', 'api.slack.com', 443],
    ['api.slack.com.:8443', 'api.slack.com', 8443],
    ['xn--pi-6kc.slack.com', 'xn--pi-6kc.slack.com', null],
    ['bücher.de', 'xn--bcher-kva.de', null],
  ]
  it.each(good)('%j', (input, host, port) => {
    expect(parseTargetHost(input)).toEqual({ ok: true, host, port })
  })

  const bad: [input: string, detail: RegExp][] = [
    ['', /empty/],
    [' api.slack.com', /whitespace/],
    ['api.slack.com ', /whitespace/],
    ['api.slack.com\r\nX-Evil: 1', /whitespace or control/],
    ['api.slack.com\t', /whitespace or control/],
    ['api.slack.com\0', /control/],
    ['api.slack.com,evil.com', /single value/],
    // How Node joins a repeated header: named as the repetition, not as the space it holds.
    ['api.slack.com, api.slack.com', /single value/],
    ['api.slack.com, evil.com', /single value/],
    ['api.slack.com@evil.com', /userinfo/],
    ['user:pw@evil.com', /userinfo/],
    ['api.slack.com:443@evil.com', /userinfo/],
    ['api.slack.com/x', /path/],
    ['api.slack.com:443/x', /path/],
    ['api.slack.com\\x', /path/],
    ['api.slack.com?x', /query/],
    ['api.slack.com#@evil', /userinfo|fragment/],
    ['api.slack.com%2f', /percent/],
    ['api%2eslack.com', /percent/],
    ['https://api.slack.com', /not a URL/],
    ['[::1]', /IP literal/],
    ['[::1]:443', /IP literal/],
    ['::1', /IP literal/],
    ['fe80::1', /IP literal/],
    ['127.0.0.1', /IP addresses/],
    ['169.254.169.254:80', /IP addresses/],
    ['2130706433', /IP addresses/],
    ['0x7f.1', /IP addresses/],
    ['api.slack.com:', /port/],
    ['api.slack.com:0', /port/],
    ['api.slack.com:99999', /port/],
    ['api.slack.com:+443', /port|not a valid/],
    [':443', /not a valid host name/],
    ['api..slack.com', /not a valid host name/],
    [`${'a'.repeat(64)}.slack.com`, /not a valid host name/],
    ['api\u200b.slack.com', /not a valid host name/],
  ]
  it.each(bad)('%j is refused', (input, detail) => {
    const result = parseTargetHost(input)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.detail).toMatch(detail)
  })

  it('never echoes the header value', () => {
    const result = parseTargetHost('sk-live-SECRET@evil.com')
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.detail).not.toContain('SECRET')
  })
})

describe('matchesAllowlist', () => {
  const list = [pattern('api.slack.com'), pattern('*.slack-edge.com'), pattern('api.x.com:8443')]

  /** The agent's X-Target-Host, parsed as the gate does, then matched. */
  function admits(header: string, patterns: readonly DomainPattern[] = list): boolean {
    const target = parseTargetHost(header)
    return target.ok && matchesAllowlist(target.host, target.port, patterns)
  }

  const cases: [header: string, expected: boolean][] = [
    ['api.slack.com', true],
    ['API.SLACK.COM', true],
    ['Api.Slack.Com.', true],
    ['api.slack.com:443', true],
    ['a.slack-edge.com', true],
    ['files.slack-edge.com.', true],
    ['slack-edge.com', false],
    ['a.b.slack-edge.com', false],
    ['.slack-edge.com', false],
    ['evilslack-edge.com', false],
    ['slack.com', false],
    ['evilslack.com', false],
    ['apislack.com', false],
    ['api.slack.com.evil.com', false],
    ['slack.com.evil.com', false],
    ['api.slack.co', false],
    ['api.slack.com.evil', false],
    ['xapi.slack.com', false],
    ['a.api.slack.com', false],
    ['api.slack.com@evil.com', false],
    ['evil.com@api.slack.com', false],
    ['api.slack.com#@evil', false],
    ['api.slack.com%2f', false],
    ['api.slack.com%2f.evil.com', false],
    ['api.slack.com/.evil.com', false],
    [`${CYRILLIC_A}pi.slack.com`, false],
    ['xn--pi-6kc.slack.com', false],
    ['api.slack.com\uff0f.evil.com', false],
    ['api\u200b.slack.com', false],
    ['api.slack.com:8443', false],
    ['api.slack.com:80', false],
    ['api.x.com:8443', true],
    ['api.x.com', false],
    ['api.x.com:443', false],
    ['api.x.com:9443', false],
    [`${'a'.repeat(64)}.slack-edge.com`, false],
    [`${'a'.repeat(63)}.slack-edge.com`, true],
  ]
  it.each(cases)('%j → %s', (header, expected) => {
    expect(admits(header)).toBe(expected)
  })

  it('an entry naming :443 admits the default port and explicit 443', () => {
    const list443 = [pattern('api.y.com:443')]
    expect(matchesAllowlist('api.y.com', null, list443)).toBe(true)
    expect(matchesAllowlist('api.y.com', 443, list443)).toBe(true)
    expect(matchesAllowlist('api.y.com', 8443, list443)).toBe(false)
  })

  it('does not normalise on its own: un-normalised input never matches', () => {
    expect(matchesAllowlist('API.slack.com', null, list)).toBe(false)
    expect(matchesAllowlist('api.slack.com.', null, list)).toBe(false)
  })

  it('an empty allowlist admits nothing', () => {
    expect(matchesAllowlist('api.slack.com', null, [])).toBe(false)
  })

  it('findAllowlistMatch returns the entry that matched (first wins)', () => {
    const both = [pattern('*.x.com'), pattern('api.x.com:8443'), pattern('api.x.com')]
    expect(findAllowlistMatch('api.x.com', 8443, both)?.text).toBe('api.x.com:8443')
    expect(findAllowlistMatch('api.x.com', null, both)?.text).toBe('*.x.com')
    expect(findAllowlistMatch('x.com', null, both)).toBeNull()
  })
})

describe('defaultTarget', () => {
  it('is the first non-wildcard entry', () => {
    expect(defaultTarget([pattern('*.slack.com'), pattern('api.slack.com'), pattern('b.com')])?.text).toBe(
      'api.slack.com',
    )
    expect(defaultTarget([pattern('api.x.com:8443')])).toEqual({
      text: 'api.x.com:8443',
      host: 'api.x.com',
      wildcard: false,
      port: 8443,
    })
  })
  it('is null when every entry is a wildcard, or there are none', () => {
    expect(defaultTarget([pattern('*.slack.com')])).toBeNull()
    expect(defaultTarget([])).toBeNull()
  })
})
