import { describe, expect, it } from 'vitest'
import { browserRefusal, hostAllowed, hostAllowlistProblem, parseHostAllowlist } from '../src/index.js'

const plain = parseHostAllowlist()
const configured = parseHostAllowlist(['aegis', 'gate.corp.example', '*.svc.cluster.local'])

describe('hostAllowed: loopback names, IP literals and configured names only', () => {
  const accepted: Array<[string, string | undefined]> = [
    ['127.0.0.1 with port', '127.0.0.1:3100'],
    ['127.0.0.1 without port', '127.0.0.1'],
    ['another loopback address', '127.0.0.2:3100'],
    ['a LAN address (reached directly, not through a name)', '10.0.0.5:3100'],
    ['localhost', 'localhost:3100'],
    ['LOCALHOST in capitals', 'LOCALHOST:3100'],
    ['localhost with the root dot', 'localhost.:3100'],
    ['a *.localhost name (RFC 6761: always loopback)', 'agent.localhost:3100'],
    ['IPv6 loopback', '[::1]:3100'],
    ['IPv6 mapped', '[::ffff:127.0.0.1]:3100'],
    ['no Host header (HTTP/1.0 client)', undefined],
    ['an empty Host header', ''],
  ]
  it.each(accepted)('accepts %s', (_why, host) => {
    expect(hostAllowed(host, plain)).toBe(true)
  })

  const refused: Array<[string, string]> = [
    ['a foreign name (DNS rebinding)', 'evil.test:3100'],
    ['a name that starts like loopback', '127.0.0.1.evil.test:3100'],
    ['a name that starts with localhost', 'localhost.evil.test:3100'],
    ['a name ending in localhost without the dot', 'evillocalhost:3100'],
    ['the bare ".localhost"', '.localhost:3100'],
    ['a hex IPv4 (not a literal browsers send)', '0x7f000001:3100'],
    ['a short IPv4', '127.1:3100'],
    ['an octal-looking IPv4', '0177.0.0.1:3100'],
    ['userinfo', 'user@127.0.0.1:3100'],
    ['a path', '127.0.0.1/x'],
    ['two hosts', '127.0.0.1, evil.test'],
    ['a space inside', 'local host'],
    ['a port over 65535', '127.0.0.1:70000'],
    ['a bad IPv6', '[::g]:3100'],
    ['an unbracketed IPv6', '::1'],
    ['a configured name when nothing is configured', 'aegis:3100'],
    ['an empty label', 'a..localhost:3100'],
    ['a label starting with a hyphen', '-x.localhost'],
    ['a label over 63 characters', `${'a'.repeat(64)}.localhost`],
  ]
  it.each(refused)('refuses %s', (_why, host) => {
    expect(hostAllowed(host, plain)).toBe(false)
  })

  it('accepts configured names and wildcard suffixes, and nothing near them', () => {
    expect(hostAllowed('aegis:3100', configured)).toBe(true)
    expect(hostAllowed('Gate.Corp.Example', configured)).toBe(true)
    expect(hostAllowed('aegis.default.svc.cluster.local:3100', configured)).toBe(true)
    expect(hostAllowed('svc.cluster.local:3100', configured)).toBe(false)
    expect(hostAllowed('aegis.evil.test', configured)).toBe(false)
    expect(hostAllowed('xgate.corp.example', configured)).toBe(false)
    expect(hostAllowed('gate.corp.example.evil.test', configured)).toBe(false)
  })
})

describe('hostAllowlistProblem / parseHostAllowlist', () => {
  it.each([
    ['http://aegis', 0],
    ['aegis:3100', 0],
    ['*', 0],
    ['*.', 0],
    ['a b', 0],
    ['aegis/x', 0],
    ['', 0],
  ])('refuses %j, naming the entry', (entry, index) => {
    expect(hostAllowlistProblem([entry])).toContain(`entry ${index} ("${entry}")`)
    expect(() => parseHostAllowlist([entry])).toThrow('Invalid allowed host')
  })
  it('accepts names and *.suffix entries', () => {
    expect(hostAllowlistProblem(['aegis', '*.corp.example', 'gate-1.internal'])).toBeNull()
  })
})

describe('browserRefusal: what a web page sends, the gate refuses', () => {
  it('lets an agent through (loopback Host, no Origin, no Sec-Fetch-*)', () => {
    expect(browserRefusal({ host: '127.0.0.1:3100' }, plain)).toBeNull()
    expect(browserRefusal({}, plain)).toBeNull()
  })
  it('lets the user typing the address through (Sec-Fetch-Site: none)', () => {
    expect(browserRefusal({ host: 'localhost:3100', 'sec-fetch-site': 'none' }, plain)).toBeNull()
  })
  it.each([
    ['a cross-site page', { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' }],
    ['an opaque origin (sandboxed iframe, file://)', { origin: 'null' }],
    ['an Origin alone (older browsers)', { origin: 'http://localhost:8080' }],
    ['a same-site page', { 'sec-fetch-site': 'same-site' }],
    ['a same-origin page (a rebound name the Host check let through)', { 'sec-fetch-site': 'same-origin' }],
    ['odd casing', { 'sec-fetch-site': 'Cross-Site' }],
  ])('refuses %s: origin_denied', (_why, headers) => {
    expect(browserRefusal({ host: '127.0.0.1:3100', ...headers }, plain)?.code).toBe('origin_denied')
  })
  it('refuses a foreign Host first: host_denied', () => {
    const refusal = browserRefusal({ host: 'evil.test:3100', origin: 'http://evil.test:3100' }, plain)
    expect(refusal?.code).toBe('host_denied')
    expect(refusal?.detail).toContain('gate.allowed_hosts')
  })
})
