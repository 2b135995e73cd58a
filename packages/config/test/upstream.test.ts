import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG_FILE, loadConfig } from '../src/index.js'
import { configError, tempDir, writeFile } from './helpers.js'

function load(upstream: string) {
  const cwd = tempDir()
  writeFile(cwd, DEFAULT_CONFIG_FILE, `gate:\n  upstream:\n${upstream}`)
  return () => loadConfig({ cwd, env: {} })
}

describe('gate.upstream.resolve', () => {
  it('normalises the list form (curl syntax), IPv6 in brackets, optional address port', () => {
    const config = load(
      [
        '    resolve:',
        '      - api.example.com:443:127.0.0.1:8443',
        '      - API.Example.ORG.:443:[::1]:9443',
        '      - plain.example:8080:10.0.0.7',
        '',
      ].join('\n'),
    )()
    expect(config.gate.upstream.resolve).toEqual([
      { host: 'api.example.com', port: 443, address: '127.0.0.1', addressPort: 8443 },
      { host: 'api.example.org', port: 443, address: '::1', addressPort: 9443 },
      { host: 'plain.example', port: 8080, address: '10.0.0.7', addressPort: 8080 },
    ])
  })

  it('normalises the map form', () => {
    const config = load(
      '    resolve:\n      "api.example.com:443": "127.0.0.1:8443"\n      "b.example:443": "[fd00::1]"\n',
    )()
    expect(config.gate.upstream.resolve).toEqual([
      { host: 'api.example.com', port: 443, address: '127.0.0.1', addressPort: 8443 },
      { host: 'b.example', port: 443, address: 'fd00::1', addressPort: 443 },
    ])
  })

  const bad: [string, string][] = [
    ['api.example.com:443', 'gate.upstream.resolve[0]: expected "host:port:address:port"'],
    ['api.example.com:x:1.2.3.4:1', 'gate.upstream.resolve[0]: upstream port: expected a port 1-65535'],
    ['api.example.com:0:1.2.3.4:1', 'gate.upstream.resolve[0]: upstream port: expected a port 1-65535'],
    ['api.example.com:443:1.2.3.4:70000', 'gate.upstream.resolve[0]: address port: expected a port 1-65535'],
    ['api.example.com:443:localhost:8443', 'gate.upstream.resolve[0]: address: expected an IP address'],
    ['api.example.com:443:::1:8443', 'gate.upstream.resolve[0]: address: write an IPv6 address in brackets'],
    ['api.example.com:443:[::1:8443', 'gate.upstream.resolve[0]: address: missing "]" after IPv6 address'],
    [
      'api.example.com:443:[1.2.3.4]:1',
      'gate.upstream.resolve[0]: address: "[...]" must hold an IPv6 address',
    ],
    [
      'api.example.com:443:1.2.3.4:1:2',
      'gate.upstream.resolve[0]: address: write an IPv6 address in brackets',
    ],
    ['bad_host!:443:1.2.3.4:1', 'gate.upstream.resolve[0]: upstream host: expected a host name'],
  ]
  for (const [entry, message] of bad) {
    it(`rejects ${entry}`, () => {
      const error = configError(load(`    resolve:\n      - "${entry}"\n`))
      expect(error.message).toContain(`aegis.config.yaml:4: ${message}`)
      expect(error.key).toBe('gate.upstream.resolve[0]')
    })
  }

  it('names the map key of a bad map entry, and its line', () => {
    const error = configError(
      load('    resolve:\n      "a.example:443": "1.2.3.4:1"\n      "b.example:443": "nope"\n'),
    )
    expect(error.message).toBe(
      'aegis.config.yaml:5: gate.upstream.resolve["b.example:443"]: address: expected an IP address',
    )
  })

  it('rejects a map key that is not host:port', () => {
    const error = configError(load('    resolve:\n      "a.example": "1.2.3.4:1"\n'))
    expect(error.message).toContain('upstream port: expected a port 1-65535')
  })

  it('rejects duplicate host:port entries (case-insensitively)', () => {
    const error = configError(
      load('    resolve:\n      - a.example:443:1.1.1.1:1\n      - A.example:443:2.2.2.2:1\n'),
    )
    expect(error.message).toBe(
      'aegis.config.yaml:5: gate.upstream.resolve[1]: duplicate entry for a.example:443',
    )
  })

  it('rejects a scalar', () => {
    const error = configError(load('    resolve: a.example:443:1.1.1.1:1\n'))
    expect(error.message).toMatch(/^aegis\.config\.yaml:3: gate\.upstream\.resolve: expected a list of/)
  })

  it('validates flag entries too', () => {
    const cwd = tempDir()
    const error = configError(() =>
      loadConfig({ cwd, env: {}, overrides: { gate: { upstream: { resolve: ['x.example:443:nope:1'] } } } }),
    )
    expect(error.message).toBe(
      'gate.upstream.resolve[0]: address: expected an IP address (command-line option)',
    )
  })
})

describe('gate.upstream.ca_file', () => {
  it('accepts a string or a list and always yields a list', () => {
    const one = load('    ca_file: /etc/ca.pem\n')()
    expect(one.gate.upstream.ca_file).toEqual(['/etc/ca.pem'])
    const many = load('    ca_file:\n      - /etc/a.pem\n      - /etc/b.pem\n')()
    expect(many.gate.upstream.ca_file).toEqual(['/etc/a.pem', '/etc/b.pem'])
  })

  it('names the bad list item', () => {
    const error = configError(load('    ca_file:\n      - /etc/a.pem\n      - 42\n'))
    expect(error.message).toBe(
      'aegis.config.yaml:5: gate.upstream.ca_file[1]: expected string, received number',
    )
  })

  it('rejects an empty path and a non-path', () => {
    expect(configError(load('    ca_file: ""\n')).message).toBe(
      'aegis.config.yaml:3: gate.upstream.ca_file: expected a non-empty path',
    )
    expect(configError(load('    ca_file: {a: 1}\n')).message).toBe(
      'aegis.config.yaml:3: gate.upstream.ca_file: expected a path or a list of paths',
    )
  })
})

describe('gate.upstream.allow_private', () => {
  it('accepts IPs and CIDR ranges', () => {
    const config = load('    allow_private: [10.0.0.0/8, 192.168.1.5, "fd00::/8", "::1"]\n')()
    expect(config.gate.upstream.allow_private).toEqual(['10.0.0.0/8', '192.168.1.5', 'fd00::/8', '::1'])
  })

  for (const bad of [
    '10.0.0.0/33',
    'fd00::/129',
    'intranet.local',
    '10.0.0.0/8/1',
    '10.0.0.0/',
    '300.1.1.1',
  ]) {
    it(`rejects ${bad}`, () => {
      const error = configError(load(`    allow_private: ["${bad}"]\n`))
      expect(error.message).toBe(
        'aegis.config.yaml:3: gate.upstream.allow_private[0]: expected an IP address or CIDR range like 10.0.0.0/8',
      )
    })
  }
})

describe('gate.upstream.dns_cache_ttl and dns_cache_size', () => {
  it('default to 10 s and 1024 names', () => {
    const config = load('    allow_private: []\n')()
    expect(config.gate.upstream).toMatchObject({ dns_cache_ttl: 10_000, dns_cache_size: 1024 })
  })

  it('take 0 (no cache) up to 5 min, and a size', () => {
    for (const ttl of [0, 1, 300_000]) {
      expect(load(`    dns_cache_ttl: ${ttl}\n`)().gate.upstream.dns_cache_ttl).toBe(ttl)
    }
    expect(load('    dns_cache_size: 5\n')().gate.upstream.dns_cache_size).toBe(5)
  })

  const bad: [string, string][] = [
    ['dns_cache_ttl: 300001', 'gate.upstream.dns_cache_ttl: expected at most 300000 (ms, 5 min)'],
    ['dns_cache_ttl: -1', 'gate.upstream.dns_cache_ttl: expected 0 (no cache) or more (ms)'],
    ['dns_cache_ttl: 1.5', 'gate.upstream.dns_cache_ttl: expected int, received number'],
    ['dns_cache_ttl: "10s"', 'gate.upstream.dns_cache_ttl: expected number, received string'],
    ['dns_cache_size: 0', 'gate.upstream.dns_cache_size: Too small: expected number to be >=1'],
  ]
  for (const [line, message] of bad) {
    it(`rejects ${line}`, () => {
      const error = configError(load(`    ${line}\n`))
      expect(error.message).toBe(`aegis.config.yaml:3: ${message}`)
      expect(error.key).toBe(`gate.upstream.${line.split(':')[0]}`)
    })
  }

  it('AEGIS_DNS_CACHE_TTL overrides the file, and is checked like it', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'gate:\n  upstream:\n    dns_cache_ttl: 30000\n')
    expect(loadConfig({ cwd, env: { AEGIS_DNS_CACHE_TTL: '0' } }).gate.upstream.dns_cache_ttl).toBe(0)
    expect(loadConfig({ cwd, env: {} }).gate.upstream.dns_cache_ttl).toBe(30_000)
    for (const [raw, message] of [
      ['10s', 'AEGIS_DNS_CACHE_TTL: expected a whole number, got "10s"'],
      ['-5', 'AEGIS_DNS_CACHE_TTL: expected a whole number, got "-5"'],
      ['400000', 'AEGIS_DNS_CACHE_TTL: expected at most 300000 (ms, 5 min), got "400000"'],
    ]) {
      const error = configError(() => loadConfig({ cwd, env: { AEGIS_DNS_CACHE_TTL: raw } }))
      expect(error.message).toBe(message)
      expect(error.variable).toBe('AEGIS_DNS_CACHE_TTL')
    }
  })
})
