import { describe, expect, it } from 'vitest'
import { forwardRequestHeaders, forwardResponseHeaders } from '../src/index.js'

/** Names kept, lower-cased, in order. */
function keptNames(raw: string[], drop?: ReadonlySet<string>): string[] {
  const out = forwardRequestHeaders(raw, drop)
  return out.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
}

describe('forwardRequestHeaders', () => {
  it('keeps end-to-end headers with their original casing, order and duplicates', () => {
    const raw = [
      'Content-Type',
      'application/json',
      'Accept',
      'a/b',
      'X-Custom',
      'one',
      'x-custom',
      'two',
      'Cookie',
      'session=1',
      'User-Agent',
      'agent/1.0',
    ]
    expect(forwardRequestHeaders(raw)).toEqual(raw)
  })

  const stripped: [name: string, value: string][] = [
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['Proxy-Connection', 'keep-alive'],
    ['Proxy-Authenticate', 'Basic'],
    ['Proxy-Authorization', 'Basic Zm9vOmJhcg=='],
    ['Proxy-Anything', 'x'],
    ['TE', 'trailers'],
    ['Trailer', 'X-Checksum'],
    ['Transfer-Encoding', 'chunked'],
    ['Upgrade', 'websocket'],
    ['Host', 'evil.com'],
    ['HOST', 'evil.com'],
    ['Authorization', 'Bearer agent-supplied'],
    ['authorization', 'Bearer agent-supplied'],
    ['X-Aegis-Agent', 'aegis_agent_token'],
    ['x-aegis-anything', '1'],
    ['X-Target-Host', 'evil.com'],
    ['X-HTTP-Method-Override', 'DELETE'],
    ['X-HTTP-Method', 'DELETE'],
    ['X-Method-Override', 'DELETE'],
    ['X-Original-URL', '/admin'],
    ['X-Rewrite-URL', '/admin'],
    ['Forwarded', 'for=127.0.0.1'],
    ['X-Forwarded-For', '127.0.0.1'],
    ['X-Forwarded-Host', 'evil.com'],
    ['X-Forwarded-Proto', 'http'],
    ['X-Real-IP', '127.0.0.1'],
    ['X-Client-IP', '127.0.0.1'],
    ['True-Client-IP', '127.0.0.1'],
    ['X-Cluster-Client-IP', '127.0.0.1'],
    ['Content-Length', '5'],
    ['content-length', '0'],
    ['Expect', '100-continue'],
  ]
  it.each(stripped)('strips %s', (name, value) => {
    expect(forwardRequestHeaders([name, value, 'Accept', '*/*'])).toEqual(['Accept', '*/*'])
  })

  it('strips every header named in Connection, case-insensitively, across several Connection headers', () => {
    const raw = [
      'Connection',
      'x-secret, Authorization',
      'X-Secret',
      'hidden',
      'connection',
      ' X-Other ,,',
      'x-other',
      'hidden too',
      'X-Kept',
      'yes',
    ]
    expect(forwardRequestHeaders(raw)).toEqual(['X-Kept', 'yes'])
  })

  it('a Connection header listed after the header it names still strips it', () => {
    expect(keptNames(['X-Late', '1', 'Accept', '*/*', 'CONNECTION', 'x-late'])).toEqual(['accept'])
  })

  it('drops the extra names given (the credential header), whatever the casing', () => {
    const drop = new Set(['x-api-key', 'x-goog-api-key'])
    expect(
      keptNames(
        ['X-API-Key', 'agent-value', 'x-api-key', 'again', 'X-Goog-Api-Key', 'k', 'Accept', 'x'],
        drop,
      ),
    ).toEqual(['accept'])
  })

  const unsafeValues = ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\0b', 'a\x01b', 'a\x7fb']
  it.each(unsafeValues)('drops a value holding control characters: %j', (value) => {
    expect(forwardRequestHeaders(['X-Data', value, 'Accept', '*/*'])).toEqual(['Accept', '*/*'])
  })

  it('keeps a value with horizontal tab and obs-text', () => {
    expect(forwardRequestHeaders(['X-Data', 'a\tb\u00e9'])).toEqual(['X-Data', 'a\tb\u00e9'])
  })

  const badNames = ['X Bad', 'X:Bad', '', 'X\r\nInjected', 'X(Bad)', 'X-\u00e9']
  it.each(badNames)('drops a name that is not a token: %j', (name) => {
    expect(forwardRequestHeaders([name, 'v', 'Accept', '*/*'])).toEqual(['Accept', '*/*'])
  })

  it('ignores a dangling name without a value', () => {
    expect(forwardRequestHeaders(['Accept', '*/*', 'X-Dangling'])).toEqual(['Accept', '*/*'])
  })
})

describe('forwardResponseHeaders', () => {
  it('strips hop-by-hop and Connection-named headers, keeps the rest', () => {
    const out = forwardResponseHeaders({
      'content-type': 'application/json',
      'set-cookie': ['a=1', 'b=2'],
      connection: 'keep-alive, x-internal',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'Basic',
      trailer: 'x',
      upgrade: 'h2c',
      te: 'trailers',
      'x-internal': 'secret-routing',
      'content-length': '12',
      location: 'https://api.slack.com/next',
      'x-missing': undefined,
    })
    expect(out).toEqual({
      'content-type': 'application/json',
      'set-cookie': ['a=1', 'b=2'],
      'content-length': '12',
      location: 'https://api.slack.com/next',
    })
  })

  it('handles Connection given as an array and mixed-case keys', () => {
    const out = forwardResponseHeaders({ Connection: ['x-a', 'X-B'], 'X-A': '1', 'x-b': '2', 'x-c': '3' })
    expect(out).toEqual({ 'x-c': '3' })
  })

  it.each([
    ['close, X-Internal', { 'x-keep': '1' }],
    ['Keep-Alive', { 'x-internal': 's', 'x-keep': '1' }],
    ['keep-alive,x-internal , ,', { 'x-keep': '1' }],
    [['close', 'x-internal'], { 'x-keep': '1' }],
  ])('Connection %j removes only the names it lists', (connection, expected) => {
    expect(forwardResponseHeaders({ connection, 'x-internal': 's', 'x-keep': '1' })).toEqual(expected)
  })

  it('honours every Connection header, whatever its spelling', () => {
    const out = forwardResponseHeaders({
      Connection: 'x-a',
      connection: 'x-b',
      'x-a': '1',
      'x-b': '2',
      'x-c': '3',
    })
    expect(out).toEqual({ 'x-c': '3' })
  })

  it('strips x-aegis-* so the upstream cannot impersonate the gate', () => {
    expect(forwardResponseHeaders({ 'x-aegis-block': 'domain_denied', 'x-ok': '1' })).toEqual({ 'x-ok': '1' })
  })

  it('drops unsafe values, keeping safe array entries', () => {
    const out = forwardResponseHeaders({ 'x-a': 'a\r\nb', 'set-cookie': ['ok=1', 'bad=\n1'], 'x-b': ['\0'] })
    expect(out).toEqual({ 'set-cookie': ['ok=1'] })
  })

  it('drops the extra names given', () => {
    expect(forwardResponseHeaders({ 'set-cookie': 'a=1', etag: '"x"' }, new Set(['set-cookie']))).toEqual({
      etag: '"x"',
    })
  })

  it('returns an object that inherits nothing, so a "__proto__" header cannot pollute it', () => {
    const raw = JSON.parse('{"__proto__": "x", "ok": "1"}') as Record<string, string>
    const out = forwardResponseHeaders(raw)
    expect(Object.keys(out).sort()).toEqual(['__proto__', 'ok'])
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe('x')
    // Nothing from Object.prototype answers for a header the upstream did not send.
    for (const name of ['toString', 'constructor', 'hasOwnProperty', 'valueOf']) {
      expect(name in out, name).toBe(false)
      expect(out[name], name).toBeUndefined()
    }
    expect(Object.getPrototypeOf(Object.getPrototypeOf(out))).toBeNull()
  })

  it('judges a name the same on every call (a name passed once is not let through when dropped)', () => {
    const raw = { 'x-seen': '1', 'Keep-Alive': 'timeout=5', 'x-aegis-x': '1', 'bad name': '1' }
    for (let i = 0; i < 3; i++) {
      expect(forwardResponseHeaders(raw)).toEqual({ 'x-seen': '1' })
      expect(forwardResponseHeaders(raw, new Set(['x-seen']))).toEqual({})
    }
  })

  it('keeps filtering every name when an upstream sends thousands of different ones', () => {
    for (let i = 0; i < 3000; i++) {
      expect(forwardResponseHeaders({ [`x-n${i}`]: 'v', connection: `x-n${i}`, te: 'x' })).toEqual({})
      expect(forwardResponseHeaders({ [`x-m${i}`]: 'v', 'x-aegis-m': 'v' })).toEqual({ [`x-m${i}`]: 'v' })
    }
  })
})
