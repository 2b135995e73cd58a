import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG_FILE, findConfigFile, loadConfig } from '../src/index.js'
import { configSchema } from '../src/schema.js'
import { tempDir, writeFile } from './helpers.js'

describe('defaults', () => {
  it('applies every default when there is no file, env or flag', () => {
    const cwd = tempDir()
    const config = loadConfig({ cwd, env: {} })
    expect(config).toEqual({
      gate: {
        host: '127.0.0.1',
        port: 3100,
        allowed_hosts: [],
        tls: { enabled: false },
        require_agent_auth: false,
        policy_mode: 'enforce',
        policy_default: 'allow',
        max_body_size: 1_048_576,
        strip_request_headers: [],
        agent_max_in_flight: 64,
        request_timeout: 30_000,
        shutdown_timeout: 10_000,
        idle_timeout: 10_000,
        headers_timeout: 10_000,
        max_connections: 512,
        max_header_size: 16_384,
        upstream: {
          ca_file: [],
          resolve: [],
          allow_private: [],
          dns_cache_ttl: 10_000,
          dns_cache_size: 1024,
        },
      },
      vault: { name: 'default', data_dir: join(cwd, '.aegis') },
      observability: {
        log_level: 'info',
        log_format: 'json',
        log_requests: 'refused',
        metrics: true,
        metrics_agent_label: false,
      },
      rate_limit: { failure_mode: 'closed', redis: { timeout_ms: 250, prefix: 'aegis:rate:' } },
      storage: { postgres: { pool_max: 10, poll_interval_ms: 5000 } },
      dashboard: { enabled: false, host: '127.0.0.1', port: 3200, allowed_hosts: [] },
      mcp: { transport: 'stdio', port: 3300 },
      webhooks: [],
      source: { file: null, dir: cwd, mode: null, warnings: [] },
    })
    expect(config.gate.policies_dir).toBeUndefined()
    expect(config.vault.master_key).toBeUndefined()
  })

  it('treats an empty file, a comment-only file and empty sections as defaults', () => {
    const cwd = tempDir()
    const baseline = loadConfig({ cwd, env: {} })
    for (const text of ['', '# nothing here\n', 'gate:\nvault:\n  master_key:\n']) {
      const file = writeFile(cwd, DEFAULT_CONFIG_FILE, text)
      const config = loadConfig({ cwd, env: {} })
      expect(config.source.file).toBe(file)
      expect({ ...config, source: null }).toEqual({ ...baseline, source: null })
    }
  })

  it('exposes the schema, which fills defaults for a partial input', () => {
    const parsed = configSchema.parse({ gate: { port: 0 } })
    expect(parsed.gate.port).toBe(0)
    expect(parsed.gate.host).toBe('127.0.0.1')
    expect(parsed.vault.data_dir).toBe('./.aegis')
  })
})

describe('findConfigFile', () => {
  it('prefers --config, then AEGIS_CONFIG, then ./aegis.config.yaml', () => {
    const cwd = tempDir()
    expect(findConfigFile(cwd, {})).toBeNull()
    const local = writeFile(cwd, DEFAULT_CONFIG_FILE, '')
    expect(findConfigFile(cwd, {})).toBe(local)
    expect(findConfigFile(cwd, { AEGIS_CONFIG: 'env.yaml' })).toBe(join(cwd, 'env.yaml'))
    expect(findConfigFile(cwd, { AEGIS_CONFIG: 'env.yaml' }, 'sub/flag.yaml')).toBe(
      join(cwd, 'sub/flag.yaml'),
    )
  })

  it('returns an explicitly named file even when it does not exist', () => {
    const cwd = tempDir()
    expect(findConfigFile(cwd, {}, '/nowhere/aegis.yaml')).toBe('/nowhere/aegis.yaml')
  })

  it('ignores an empty AEGIS_CONFIG', () => {
    const cwd = tempDir()
    expect(findConfigFile(cwd, { AEGIS_CONFIG: '' })).toBeNull()
  })
})
