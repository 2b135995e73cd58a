import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG_FILE, loadConfig } from '../src/index.js'
import { configError, tempDir, writeFile } from './helpers.js'

/** Loads `text` as ./aegis.config.yaml and returns the ConfigError. */
function fileError(text: string, env: Record<string, string> = {}) {
  const cwd = tempDir()
  const file = writeFile(cwd, DEFAULT_CONFIG_FILE, text)
  return { error: configError(() => loadConfig({ cwd, env })), file }
}

describe('errors from the file name the file, line and key', () => {
  it('wrong type', () => {
    const { error, file } = fileError('# comment\ngate:\n  port: "3100"\n')
    expect(error.message).toBe('aegis.config.yaml:3: gate.port: expected number, received string')
    expect(error).toMatchObject({ file, key: 'gate.port', line: 3, variable: null })
  })

  it('out-of-range and non-integer numbers', () => {
    expect(fileError('gate:\n  port: 70000\n').error.message).toMatch(
      /^aegis\.config\.yaml:2: gate\.port: Too big/,
    )
    expect(fileError('gate:\n  port: 31.5\n').error.message).toMatch(
      /^aegis\.config\.yaml:2: gate\.port: expected int/,
    )
    expect(fileError('gate:\n  max_body_size: 0\n').error.key).toBe('gate.max_body_size')
    expect(fileError('gate:\n  request_timeout: -1\n').error.key).toBe('gate.request_timeout')
    expect(fileError('gate:\n  shutdown_timeout: -1\n').error.key).toBe('gate.shutdown_timeout')
    // Connection limits: a timeout under 100 ms or a cap of 0 would refuse every agent.
    for (const [text, key, message] of [
      ['idle_timeout: 50', 'gate.idle_timeout', 'expected at least 100 (ms)'],
      ['headers_timeout: 0', 'gate.headers_timeout', 'expected at least 100 (ms)'],
      ['idle_timeout: 3000000000', 'gate.idle_timeout', 'Too big'],
      ['max_connections: 0', 'gate.max_connections', 'Too small'],
      ['max_connections: 1.5', 'gate.max_connections', 'expected int'],
      ['max_header_size: 512', 'gate.max_header_size', 'expected at least 1024 (bytes)'],
      ['max_header_size: 2000000', 'gate.max_header_size', 'Too big'],
    ]) {
      const { error } = fileError(`gate:\n  ${text}\n`)
      expect(error.key, text).toBe(key)
      expect(error.message, text).toContain(message)
    }
    expect(fileError('dashboard:\n  port: -1\n').error.key).toBe('dashboard.port')
  })

  it('strip_request_headers takes header names only, and lower-cases them', () => {
    for (const bad of ['"x api key"', '"x-key:"', '""', '42']) {
      const { error } = fileError(`gate:\n  strip_request_headers: [${bad}]\n`)
      expect(error.key, bad).toMatch(/^gate\.strip_request_headers/)
    }
    expect(fileError('gate:\n  strip_request_headers: [x\ty]\n').error.message).toContain('header name')
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'gate:\n  strip_request_headers: [X-My-Key, x-other]\n')
    expect(loadConfig({ cwd, env: {} }).gate.strip_request_headers).toEqual(['x-my-key', 'x-other'])
  })

  it('bad enum value lists the choices', () => {
    const { error } = fileError('\n\ngate:\n  policy_mode: audit\n')
    expect(error.message).toBe(
      'aegis.config.yaml:4: gate.policy_mode: Invalid option: expected one of "enforce"|"dry-run"|"off"',
    )
    expect(fileError('observability:\n  log_level: loud\n').error.key).toBe('observability.log_level')
    expect(fileError('mcp:\n  transport: ws\n').error.key).toBe('mcp.transport')
    expect(fileError('gate:\n  policy_default: maybe\n').error.key).toBe('gate.policy_default')
  })

  it('bad vault name', () => {
    const { error } = fileError('vault:\n  name: My Vault\n')
    expect(error.key).toBe('vault.name')
    expect(error.line).toBe(2)
    expect(error.message).toContain('lower-case letters')
  })

  it('a section that is not a mapping', () => {
    const { error } = fileError('gate: 3100\n')
    expect(error.message).toBe('aegis.config.yaml:1: gate: expected object, received number')
  })

  it('a top level that is not a mapping', () => {
    const { error } = fileError('- gate\n- vault\n')
    expect(error.message).toBe(
      'aegis.config.yaml:1: expected a mapping of sections (gate, vault, ...) at the top level',
    )
  })

  it('reports the earliest problem first and keeps all of them', () => {
    const { error } = fileError('vault:\n  name: BAD\ngate:\n  port: x\n  prot: 1\n')
    expect(error.line).toBe(2)
    expect(error.problems).toEqual([
      expect.stringMatching(/^aegis\.config\.yaml:2: vault\.name: /),
      'aegis.config.yaml:4: gate.port: expected number, received string',
      'aegis.config.yaml:5: unknown key "gate.prot"',
    ])
  })
})

describe('a required key missing beside an unknown key', () => {
  it('names the unknown key first, and the missing one as its likely misspelling', () => {
    const { error } = fileError(
      'webhooks:\n  - url: https://hooks.example.com/aegis\n    events: [blocked_request]\n    secrett: a-signing-secret-of-length\n',
    )
    expect(error.message).toBe('aegis.config.yaml:4: unknown key "webhooks[0].secrett"')
    expect(error.problems).toEqual([
      'aegis.config.yaml:4: unknown key "webhooks[0].secrett"',
      'aegis.config.yaml:2: webhooks[0].secret: required key is missing (is "secrett" on line 4 a misspelling of it?)',
    ])
    // The value never appears.
    expect(error.problems.join('\n')).not.toContain('a-signing-secret-of-length')
  })

  it('leaves a missing key alone when no unknown key stands beside it', () => {
    const { error } = fileError(
      'webhooks:\n  - url: https://hooks.example.com/aegis\n    events: [blocked_request]\n',
    )
    expect(error.message).toBe('aegis.config.yaml:2: webhooks[0].secret: required key is missing')
  })
})

describe('unknown keys are errors at every depth', () => {
  const cases: [string, string, number][] = [
    ['gates:\n  port: 1\n', 'gates', 1],
    ['gate:\n  host: a\n  prot: 1\n', 'gate.prot', 3],
    ['gate:\n  tls:\n    enable: true\n', 'gate.tls.enable', 3],
    ['gate:\n  upstream:\n    ca_files: []\n', 'gate.upstream.ca_files', 3],
    ['vault:\n  masterkey: x\n', 'vault.masterkey', 2],
    ['observability:\n  level: info\n', 'observability.level', 2],
    ['dashboard:\n  hosts: x\n', 'dashboard.hosts', 2],
    ['mcp:\n  path: /x\n', 'mcp.path', 2],
    [
      'webhooks:\n  - url: https://h.example/x\n    events: [blocked_request]\n    secret: s\n    retries: 3\n',
      'webhooks[0].retries',
      5,
    ],
  ]
  for (const [text, key, line] of cases) {
    it(key, () => {
      const { error } = fileError(text)
      expect(error.message).toBe(`aegis.config.yaml:${line}: unknown key "${key}"`)
      expect(error).toMatchObject({ key, line })
    })
  }
})

describe('YAML syntax errors name the line', () => {
  it('bad indentation', () => {
    const { error } = fileError('gate:\n  - 1\n  port: 2\n')
    expect(error.message).toBe(
      'aegis.config.yaml:3: YAML syntax error: All mapping items must start at the same column',
    )
    expect(error.line).toBe(3)
  })

  it('compact nested mapping', () => {
    const { error } = fileError('vault:\n  name: a: b\n')
    expect(error.message).toBe(
      'aegis.config.yaml:2: YAML syntax error: Nested mappings are not allowed in compact mappings',
    )
  })

  it('unterminated quote (reported where the scalar ends)', () => {
    const { error } = fileError('vault:\n  name: "abc\n')
    expect(error.message).toBe('aegis.config.yaml:3: YAML syntax error: Missing closing "quote')
  })

  it('messages holding ": " are kept whole', () => {
    expect(fileError('gate:\n  allowed_hosts: ["a" "b"]\n').error.message).toBe(
      'aegis.config.yaml:2: YAML syntax error: Missing , or : between flow sequence items',
    )
  })

  it('a second document names its line, in the terms of the file (not of the parser API)', () => {
    const { error } = fileError('gate:\n  port: 3100\n---\nvault:\n  name: x\n')
    expect(error.message).toBe(
      'aegis.config.yaml:3: YAML syntax error: a second document starts here (after ---): the file must hold one',
    )
  })

  it('duplicate keys name the key and the line of its first occurrence', () => {
    const { error } = fileError('gate:\n  port: 1\n  host: 127.0.0.1\n  port: 2\n')
    expect(error.message).toBe(
      'aegis.config.yaml:4: gate.port: duplicate key (first on line 2): each key may appear once',
    )
    expect(error).toMatchObject({ key: 'gate.port', line: 4 })
    const webhook = fileError('webhooks:\n  - url: https://a.example\n    url: https://b.example\n').error
    expect(webhook.message).toBe(
      'aegis.config.yaml:3: webhooks[0].url: duplicate key (first on line 2): each key may appear once',
    )
    // A key that may be a pasted secret is not repeated.
    const secret = fileError('gate:\n  sk_live_AbCdEf0123456789: 1\n  sk_live_AbCdEf0123456789: 2\n').error
    expect(secret.message).toBe(
      'aegis.config.yaml:3: duplicate key (first on line 2): each key may appear once',
    )
    expect(secret.key).toBeNull()
  })
})

describe('a file that is not UTF-8 text is an error naming the line', () => {
  /** Loads raw bytes as ./aegis.config.yaml and returns the ConfigError. */
  function bytesError(bytes: Buffer) {
    const cwd = tempDir()
    writeFileSync(join(cwd, DEFAULT_CONFIG_FILE), bytes, { mode: 0o600 })
    return configError(() => loadConfig({ cwd, env: {} }))
  }

  it('Latin-1 bytes are refused, not read as U+FFFD (a value would silently change)', () => {
    const error = bytesError(Buffer.from('gate:\n  port: 3100\nvault:\n  name: caf\xe9\n', 'latin1'))
    expect(error.message).toBe(
      'aegis.config.yaml:4: the file is not valid UTF-8 (saved as Latin-1 or Windows-1252?): save it as UTF-8',
    )
    expect(error.line).toBe(4)
  })

  it('UTF-16, with or without a byte order mark', () => {
    const utf16 = Buffer.from('gate:\n  port: 3100\n', 'utf16le')
    expect(bytesError(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16])).message).toBe(
      'aegis.config.yaml:1: the file is UTF-16 text, not UTF-8: save it as UTF-8',
    )
    expect(bytesError(utf16).message).toBe(
      'aegis.config.yaml:1: the file holds a NUL byte: it is not UTF-8 text (UTF-16?)',
    )
  })

  it('UTF-8 with a byte order mark and non-ASCII comments still loads', () => {
    const cwd = tempDir()
    writeFileSync(
      join(cwd, DEFAULT_CONFIG_FILE),
      Buffer.from('\ufeff# café\ngate:\n  port: 3101\n', 'utf8'),
      { mode: 0o600 },
    )
    expect(loadConfig({ cwd, env: {} }).gate.port).toBe(3101)
  })
})

describe('file lookup errors', () => {
  it('an explicit --config that does not exist', () => {
    const cwd = tempDir()
    const error = configError(() => loadConfig({ cwd, env: {}, file: 'missing.yaml' }))
    expect(error.message).toBe('missing.yaml: config file not found (named by --config)')
    expect(error.file).toBe(join(cwd, 'missing.yaml'))
  })

  it('an AEGIS_CONFIG that does not exist', () => {
    const cwd = tempDir()
    const error = configError(() => loadConfig({ cwd, env: { AEGIS_CONFIG: '/no/such/aegis.yaml' } }))
    expect(error.message).toBe('/no/such/aegis.yaml: config file not found (named by AEGIS_CONFIG)')
    expect(error.variable).toBe('AEGIS_CONFIG')
  })

  it('no default file is fine, unless required', () => {
    const cwd = tempDir()
    expect(loadConfig({ cwd, env: {} }).source.file).toBeNull()
    const error = configError(() => loadConfig({ cwd, env: {}, required: true }))
    expect(error.message).toContain('aegis.config.yaml not found')
  })

  it('a directory is not a config file', () => {
    const cwd = tempDir()
    mkdirSync(join(cwd, 'conf.yaml'))
    expect(configError(() => loadConfig({ cwd, env: {}, file: 'conf.yaml' })).message).toBe(
      'conf.yaml: not a regular file',
    )
  })
})

describe('errors from environment variables name the variable', () => {
  const cwd = tempDir()
  const cases: [Record<string, string>, string][] = [
    [{ AEGIS_GATE_PORT: 'abc' }, 'AEGIS_GATE_PORT: expected an integer 0-65535, got "abc"'],
    [{ AEGIS_GATE_PORT: '70000' }, 'AEGIS_GATE_PORT: expected an integer 0-65535, got "70000"'],
    [{ AEGIS_GATE_PORT: '-1' }, 'AEGIS_GATE_PORT: expected an integer 0-65535, got "-1"'],
    [
      { AEGIS_REQUIRE_AGENT_AUTH: 'yes' },
      'AEGIS_REQUIRE_AGENT_AUTH: expected true, false, 1 or 0, got "yes"',
    ],
    [
      { AEGIS_LOG_LEVEL: 'loud' },
      'AEGIS_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    [{ AEGIS_LOG_FORMAT: 'xml' }, 'AEGIS_LOG_FORMAT: expected one of json, pretty, got "xml"'],
    [{ AEGIS_LOG_REQUESTS: 'some' }, 'AEGIS_LOG_REQUESTS: expected one of off, refused, all, got "some"'],
    [{ AEGIS_POLICY_MODE: 'audit' }, 'AEGIS_POLICY_MODE: expected one of enforce, dry-run, off, got "audit"'],
    [{ AEGIS_GATE_HOST: 'a b' }, 'AEGIS_GATE_HOST: expected a host name or IP address, got "a b"'],
  ]
  for (const [env, message] of cases) {
    it(message, () => {
      const error = configError(() => loadConfig({ cwd, env }))
      expect(error.message).toBe(message)
      const [variable] = Object.keys(env)
      expect(error.variable).toBe(variable)
      expect(error.file).toBeNull()
      expect(error.line).toBeNull()
    })
  }

  it('AEGIS_VAULT is checked against the vault name rule', () => {
    const error = configError(() => loadConfig({ cwd, env: { AEGIS_VAULT: '../etc' } }))
    expect(error.message).toMatch(/^AEGIS_VAULT: expected lower-case letters.*, got "\.\.\/etc"$/)
    expect(error.key).toBe('vault.name')
  })

  it('env is validated even when the file is valid, and the file even when env would override it', () => {
    const file = writeFile(tempDir(), 'a.yaml', 'gate:\n  port: nope\n')
    const error = configError(() => loadConfig({ cwd, env: { AEGIS_GATE_PORT: '3000' }, file }))
    expect(error.message).toBe(
      'a.yaml: gate.port: expected number, received string'.replace('a.yaml', `${file}:2`),
    )
  })
})

describe('errors from flags name the key', () => {
  const cwd = tempDir()

  it('bad value', () => {
    const error = configError(() => loadConfig({ cwd, env: {}, overrides: { gate: { port: 99_999 } } }))
    expect(error.message).toBe('gate.port: Too big: expected number to be <=65535 (command-line option)')
    expect(error).toMatchObject({ key: 'gate.port', file: null, line: null, variable: null })
  })

  it('bad enum', () => {
    const overrides = { gate: { policy_mode: 'audit' } } as unknown as Parameters<
      typeof loadConfig
    >[0]['overrides']
    expect(configError(() => loadConfig({ cwd, env: {}, overrides })).key).toBe('gate.policy_mode')
  })

  it('unknown key', () => {
    const overrides = { gate: { prot: 1 } } as unknown as Parameters<typeof loadConfig>[0]['overrides']
    expect(configError(() => loadConfig({ cwd, env: {}, overrides })).message).toBe(
      'unknown key "gate.prot" (command-line option)',
    )
  })
})

describe('cross-field rules are checked on the merged result', () => {
  it('tls.enabled without cert and key points at the file', () => {
    const { error } = fileError('gate:\n  tls:\n    enabled: true\n')
    expect(error.message).toBe('aegis.config.yaml:2: gate.tls.cert: required when TLS is enabled')
    expect(error.problems).toHaveLength(2)
  })

  it('a cert without a key', () => {
    const { error } = fileError('gate:\n  tls:\n    cert: a.crt\n')
    expect(error.message).toBe('aegis.config.yaml:2: gate.tls.key: required together with gate.tls.cert')
  })

  it('tls enabled by a flag, with no cert anywhere, blames the flag', () => {
    const error = configError(() =>
      loadConfig({ cwd: tempDir(), env: {}, overrides: { gate: { tls: { enabled: true, key: 'k' } } } }),
    )
    expect(error.message).toBe('gate.tls.cert: required when TLS is enabled (command-line option)')
  })
})
