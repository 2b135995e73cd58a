import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG_FILE, loadConfig } from '../src/index.js'
import { tempDir, writeFile } from './helpers.js'

const FILE = `
gate:
  host: 0.0.0.0
  port: 4000
  require_agent_auth: true
  policy_mode: dry-run
vault:
  name: from-file
  master_key: file-key
observability:
  log_level: debug
  log_format: pretty
`

describe('layering: flags > env > file > defaults', () => {
  it('file overrides defaults', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, FILE)
    const config = loadConfig({ cwd, env: {} })
    expect(config.gate.host).toBe('0.0.0.0')
    expect(config.gate.port).toBe(4000)
    expect(config.gate.require_agent_auth).toBe(true)
    expect(config.gate.policy_mode).toBe('dry-run')
    expect(config.vault.name).toBe('from-file')
    expect(config.vault.master_key).toBe('file-key')
    expect(config.observability).toEqual({
      log_level: 'debug',
      log_format: 'pretty',
      log_requests: 'refused',
      metrics: true,
      metrics_agent_label: false,
    })
    expect(config.gate.max_body_size).toBe(1_048_576)
  })

  it('env overrides the file, key by key', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, FILE)
    const env = {
      AEGIS_GATE_HOST: '::1',
      AEGIS_GATE_PORT: '4100',
      AEGIS_REQUIRE_AGENT_AUTH: '0',
      AEGIS_POLICY_MODE: 'off',
      AEGIS_VAULT: 'from-env',
      AEGIS_MASTER_KEY: 'env-key',
      AEGIS_LOG_LEVEL: 'warn',
    }
    const config = loadConfig({ cwd, env })
    expect(config.gate.host).toBe('::1')
    expect(config.gate.port).toBe(4100)
    expect(config.gate.require_agent_auth).toBe(false)
    expect(config.gate.policy_mode).toBe('off')
    expect(config.vault.name).toBe('from-env')
    expect(config.vault.master_key).toBe('env-key')
    expect(config.observability.log_level).toBe('warn')
    // not overridden by env: still from the file
    expect(config.observability.log_format).toBe('pretty')
  })

  it('flags override env and file; undefined flags are ignored', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, FILE)
    const env = {
      AEGIS_GATE_PORT: '4100',
      AEGIS_POLICY_MODE: 'off',
      AEGIS_LOG_LEVEL: 'warn',
      AEGIS_VAULT: 'from-env',
    }
    const config = loadConfig({
      cwd,
      env,
      overrides: {
        gate: { port: 0, policy_mode: 'enforce', host: undefined, require_agent_auth: undefined },
        vault: { name: 'from-flag' },
        observability: { log_level: undefined },
      },
    })
    expect(config.gate.port).toBe(0)
    expect(config.gate.policy_mode).toBe('enforce')
    expect(config.vault.name).toBe('from-flag')
    expect(config.gate.host).toBe('0.0.0.0')
    expect(config.gate.require_agent_auth).toBe(true)
    expect(config.observability.log_level).toBe('warn')
  })

  it('reads AEGIS_LOG_FORMAT, AEGIS_LOG_REQUESTS, AEGIS_DATA_DIR, AEGIS_POLICIES_DIR and AEGIS_SALT', () => {
    const cwd = tempDir()
    const config = loadConfig({
      cwd,
      env: {
        AEGIS_LOG_FORMAT: 'pretty',
        AEGIS_LOG_REQUESTS: 'all',
        AEGIS_DATA_DIR: 'data',
        AEGIS_POLICIES_DIR: '/etc/pol',
        AEGIS_SALT: 's4lt',
      },
    })
    expect(config.observability.log_format).toBe('pretty')
    expect(config.observability.log_requests).toBe('all')
    expect(config.vault.data_dir).toBe(join(cwd, 'data'))
    expect(config.gate.policies_dir).toBe('/etc/pol')
    expect(config.vault.salt).toBe('s4lt')
  })

  it('accepts true/false/1/0 in any case for AEGIS_REQUIRE_AGENT_AUTH', () => {
    const cwd = tempDir()
    for (const [raw, value] of [
      ['TRUE', true],
      ['1', true],
      ['False', false],
      ['0', false],
    ] as const) {
      expect(loadConfig({ cwd, env: { AEGIS_REQUIRE_AGENT_AUTH: raw } }).gate.require_agent_auth).toBe(value)
    }
  })

  it('treats empty environment variables as unset', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, FILE)
    const config = loadConfig({ cwd, env: { AEGIS_GATE_PORT: '', AEGIS_MASTER_KEY: '' } })
    expect(config.gate.port).toBe(4000)
    expect(config.vault.master_key).toBe('file-key')
  })

  it('AEGIS_CONFIG picks the file, and --config beats it', () => {
    const cwd = tempDir()
    writeFile(cwd, 'a.yaml', 'gate:\n  port: 1111\n')
    writeFile(cwd, 'b.yaml', 'gate:\n  port: 2222\n')
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'gate:\n  port: 3333\n')
    expect(loadConfig({ cwd, env: {} }).gate.port).toBe(3333)
    expect(loadConfig({ cwd, env: { AEGIS_CONFIG: 'a.yaml' } }).gate.port).toBe(1111)
    expect(loadConfig({ cwd, env: { AEGIS_CONFIG: 'a.yaml' }, file: 'b.yaml' }).gate.port).toBe(2222)
  })

  it('replaces lists whole instead of merging them', () => {
    const cwd = tempDir()
    writeFile(
      cwd,
      DEFAULT_CONFIG_FILE,
      'gate:\n  upstream:\n    allow_private: [10.0.0.0/8, 192.168.0.0/16]\n',
    )
    const config = loadConfig({
      cwd,
      env: {},
      overrides: { gate: { upstream: { allow_private: ['172.16.0.1'] } } },
    })
    expect(config.gate.upstream.allow_private).toEqual(['172.16.0.1'])
  })

  it('replaces the resolve map whole: a flag entry does not merge with file entries', () => {
    const cwd = tempDir()
    writeFile(
      cwd,
      DEFAULT_CONFIG_FILE,
      'gate:\n  upstream:\n    resolve:\n      "a.example:443": "10.0.0.1:443"\n',
    )
    const config = loadConfig({
      cwd,
      env: {},
      overrides: { gate: { upstream: { resolve: ['b.example:443:10.0.0.2:8443'] } } },
    })
    expect(config.gate.upstream.resolve).toEqual([
      { host: 'b.example', port: 443, address: '10.0.0.2', addressPort: 8443 },
    ])
  })

  it('TLS: cert and key from the file, enabled by a flag; disabled by a flag even with cert and key', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'gate:\n  tls:\n    cert: c.pem\n    key: k.pem\n')
    const implicit = loadConfig({ cwd, env: {} })
    expect(implicit.gate.tls).toEqual({ enabled: true, cert: join(cwd, 'c.pem'), key: join(cwd, 'k.pem') })
    const off = loadConfig({ cwd, env: {}, overrides: { gate: { tls: { enabled: false } } } })
    expect(off.gate.tls.enabled).toBe(false)
  })

  it('TLS: a flag may supply the key the file lacks', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'gate:\n  tls:\n    enabled: true\n    cert: c.pem\n')
    const config = loadConfig({ cwd, env: {}, overrides: { gate: { tls: { key: '/abs/k.pem' } } } })
    expect(config.gate.tls).toEqual({ enabled: true, cert: join(cwd, 'c.pem'), key: '/abs/k.pem' })
  })
})
