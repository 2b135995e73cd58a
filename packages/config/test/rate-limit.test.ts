import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  renderConfig,
  SECRET_MASK,
  starterConfigYaml,
} from '../src/index.js'
import { configError, tempDir, writeFile } from './helpers.js'

const PASSWORD = 'r3d1s-pa55w0rd-9f2c'

describe('rate_limit keys (budgets shared through Redis)', () => {
  it('defaults: no Redis, fail closed, 250 ms, prefix aegis:rate:', () => {
    expect(loadConfig({ cwd: tempDir(), env: {} }).rate_limit).toEqual({
      failure_mode: 'closed',
      redis: { timeout_ms: 250, prefix: 'aegis:rate:' },
    })
  })

  it('reads the file, and AEGIS_REDIS_URL wins over it', () => {
    const cwd = tempDir()
    writeFile(
      cwd,
      DEFAULT_CONFIG_FILE,
      'rate_limit:\n  failure_mode: open\n  redis:\n    url: redis://10.0.0.5:6379/2\n    timeout_ms: 100\n    prefix: "team-a:"\n',
    )
    expect(loadConfig({ cwd, env: {} }).rate_limit).toEqual({
      failure_mode: 'open',
      redis: { url: 'redis://10.0.0.5:6379/2', timeout_ms: 100, prefix: 'team-a:' },
    })
    const fromEnv = loadConfig({ cwd, env: { AEGIS_REDIS_URL: 'rediss://cache.internal:6380' } })
    expect(fromEnv.rate_limit.redis).toEqual({
      url: 'rediss://cache.internal:6380',
      timeout_ms: 100,
      prefix: 'team-a:',
    })
  })

  const refused: Array<[string, string, string, RegExp]> = [
    [
      'an http URL',
      'redis:\n    url: http://cache:6379',
      'rate_limit.redis.url',
      /redis:\/\/ or rediss:\/\/ URL, got http:/,
    ],
    ['not a URL', 'redis:\n    url: cache:6379x y', 'rate_limit.redis.url', /redis:\/\/ or rediss:\/\/ URL/],
    [
      'a redis URL with a port that is no number',
      'redis:\n    url: redis://cache:port',
      'rate_limit.redis.url',
      /^(?!.*expected a redis:\/\/).*not a valid URL.*redis:\/\/\[user:password@\]host:6379/,
    ],
    [
      'a URL without host',
      'redis:\n    url: "redis://"',
      'rate_limit.redis.url',
      /expected a host|redis:\/\/ or rediss/,
    ],
    ['an unknown failure mode', 'failure_mode: allow', 'rate_limit.failure_mode', /closed|open/],
    ['a zero timeout', 'redis:\n    timeout_ms: 0', 'rate_limit.redis.timeout_ms', />=1|too small/i],
    [
      'a timeout over 10 s',
      'redis:\n    timeout_ms: 60000',
      'rate_limit.redis.timeout_ms',
      /<=10000|too big/i,
    ],
    ['a prefix with a space', 'redis:\n    prefix: "a b"', 'rate_limit.redis.prefix', /printable ASCII/],
    ['an unknown key', 'redis:\n    host: cache', 'rate_limit.redis', /host/],
  ]
  it.each(refused)('refuses %s, naming the key', (_why, yaml, key, message) => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, `rate_limit:\n  ${yaml}\n`)
    const error = configError(() => loadConfig({ cwd, env: {} }))
    expect(error.key).toContain(key)
    expect(error.message).toMatch(message)
  })

  it('refuses a bad AEGIS_REDIS_URL without echoing the password in it', () => {
    const error = configError(() =>
      loadConfig({ cwd: tempDir(), env: { AEGIS_REDIS_URL: `http://user:${PASSWORD}@cache:6379` } }),
    )
    expect(error.variable).toBe('AEGIS_REDIS_URL')
    expect(error.message).not.toContain(PASSWORD)
  })

  it('refuses a password with a bare % (the client cannot decode it), naming the variable and the fix', () => {
    const raw = 'redis%pa55'
    const error = configError(() =>
      loadConfig({ cwd: tempDir(), env: { AEGIS_REDIS_URL: `redis://:${raw}@cache:6379` } }),
    )
    expect(error.variable).toBe('AEGIS_REDIS_URL')
    expect(error.message).toMatch(/^AEGIS_REDIS_URL: .*percent-encode.*%25/)
    expect(error.message).not.toContain(raw)
  })

  it('masks only the password of the URL when rendered, and warns about a group-readable file holding one', () => {
    const cwd = tempDir()
    const url = `redis://aegis:${PASSWORD}@cache.internal:6379/0`
    writeFile(cwd, DEFAULT_CONFIG_FILE, `rate_limit:\n  redis:\n    url: ${url}\n`, 0o644)
    const config = loadConfig({ cwd, env: {} })
    const text = renderConfig(config, { maskSecrets: true })
    expect(text).not.toContain(PASSWORD)
    expect(parse(text).rate_limit.redis.url).toBe(`redis://aegis:${SECRET_MASK}@cache.internal:6379/0`)
    expect(parse(renderConfig(config, { maskSecrets: false })).rate_limit.redis.url).toBe(url)
    expect(config.source.warnings.join('\n')).toContain('a password in rate_limit.redis.url')
  })

  it('a URL without a password renders as is and raises no warning', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'rate_limit:\n  redis:\n    url: redis://cache:6379\n', 0o644)
    const config = loadConfig({ cwd, env: {} })
    expect(parse(renderConfig(config, { maskSecrets: true })).rate_limit.redis.url).toBe('redis://cache:6379')
    expect(config.source.warnings).toEqual([])
  })

  it('the starter config documents the section and loads to the defaults', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, starterConfigYaml())
    expect(starterConfigYaml()).toContain('AEGIS_REDIS_URL')
    expect(loadConfig({ cwd, env: {} }).rate_limit).toEqual(
      loadConfig({ cwd: tempDir(), env: {} }).rate_limit,
    )
  })
})

describe('gate.allowed_hosts', () => {
  it('defaults to none and takes names and *.suffix entries', () => {
    expect(loadConfig({ cwd: tempDir(), env: {} }).gate.allowed_hosts).toEqual([])
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'gate:\n  allowed_hosts: [aegis, "*.svc.cluster.local"]\n')
    expect(loadConfig({ cwd, env: {} }).gate.allowed_hosts).toEqual(['aegis', '*.svc.cluster.local'])
  })
  it.each(['http://aegis', 'aegis:3100', '*', 'a b'])('refuses %j, naming the key and the entry', (entry) => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, `gate:\n  allowed_hosts: ["ok", ${JSON.stringify(entry)}]\n`)
    const error = configError(() => loadConfig({ cwd, env: {} }))
    expect(error.key).toBe('gate.allowed_hosts')
    expect(error.message).toContain(`entry 1 ("${entry}")`)
  })
})
