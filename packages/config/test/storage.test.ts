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

const PASSWORD = 'pg-pa55w0rd-7e1a'

describe('storage.postgres keys (state several gates share)', () => {
  it('defaults: no URL (SQLite), a pool of 10, a 5 s safety-net poll', () => {
    expect(loadConfig({ cwd: tempDir(), env: {} }).storage).toEqual({
      postgres: { pool_max: 10, poll_interval_ms: 5000 },
    })
  })

  it('reads the file, and AEGIS_PG_URL wins over it', () => {
    const cwd = tempDir()
    writeFile(
      cwd,
      DEFAULT_CONFIG_FILE,
      'storage:\n  postgres:\n    url: postgres://aegis@db.internal:5432/aegis\n    pool_max: 4\n    poll_interval_ms: 1000\n',
    )
    expect(loadConfig({ cwd, env: {} }).storage.postgres).toEqual({
      url: 'postgres://aegis@db.internal:5432/aegis',
      pool_max: 4,
      poll_interval_ms: 1000,
    })
    const fromEnv = loadConfig({ cwd, env: { AEGIS_PG_URL: 'postgresql://other@10.0.0.7/aegis' } })
    expect(fromEnv.storage.postgres).toEqual({
      url: 'postgresql://other@10.0.0.7/aegis',
      pool_max: 4,
      poll_interval_ms: 1000,
    })
  })

  const refused: Array<[string, string, string, RegExp]> = [
    [
      'a mysql URL',
      'url: mysql://db:3306/aegis',
      'storage.postgres.url',
      /postgres:\/\/ or postgresql:\/\/ URL, got mysql:/,
    ],
    ['not a URL', 'url: db:5432x y', 'storage.postgres.url', /postgres:\/\/ or postgresql:\/\/ URL/],
    // It is a postgres:// URL; telling the operator to write one sent them looking in the wrong place.
    [
      'a postgres URL with a port that is no number',
      'url: postgres://aegis@db:port/aegis',
      'storage.postgres.url',
      /^(?!.*expected a postgres:\/\/).*not a valid URL.*postgres:\/\/user:password@host:5432\/database/,
    ],
    ['a URL without host', 'url: "postgres://"', 'storage.postgres.url', /expected a host|postgres:\/\//],
    ['a zero pool', 'pool_max: 0', 'storage.postgres.pool_max', />=1|too small/i],
    ['a fractional pool', 'pool_max: 2.5', 'storage.postgres.pool_max', /int/i],
    ['a huge pool', 'pool_max: 100000', 'storage.postgres.pool_max', /<=1000|too big/i],
    ['a 10 ms poll', 'poll_interval_ms: 10', 'storage.postgres.poll_interval_ms', /at least 100/],
    ['a poll given as text', 'poll_interval_ms: soon', 'storage.postgres.poll_interval_ms', /number/],
    ['an unknown key', 'host: db', 'storage.postgres', /host/],
  ]
  it.each(refused)('refuses %s, naming the key', (_why, yaml, key, message) => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, `storage:\n  postgres:\n    ${yaml}\n`)
    const error = configError(() => loadConfig({ cwd, env: {} }))
    expect(error.key).toContain(key)
    expect(error.message).toMatch(message)
  })

  it('refuses an unknown engine section under storage', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'storage:\n  mysql:\n    url: x\n')
    const error = configError(() => loadConfig({ cwd, env: {} }))
    expect(error.key).toContain('storage')
    expect(error.message).toContain('mysql')
  })

  it('refuses a bad AEGIS_PG_URL, naming the variable, without echoing the password in it', () => {
    const error = configError(() =>
      loadConfig({ cwd: tempDir(), env: { AEGIS_PG_URL: `mysql://user:${PASSWORD}@db:3306/aegis` } }),
    )
    expect(error.variable).toBe('AEGIS_PG_URL')
    expect(error.message).toMatch(/^AEGIS_PG_URL: expected a postgres:\/\//)
    expect(error.message).not.toContain(PASSWORD)
  })

  it('refuses a password with a bare % (the driver cannot decode it), naming the variable and the fix', () => {
    // pg decodes the user and password with decodeURIComponent: unrefused, every command (config
    // show and doctor too) failed with a bare "URI malformed".
    const raw = 'pg%pa55-7e1a'
    const error = configError(() =>
      loadConfig({ cwd: tempDir(), env: { AEGIS_PG_URL: `postgres://aegis:${raw}@db:5432/aegis` } }),
    )
    expect(error.variable).toBe('AEGIS_PG_URL')
    expect(error.message).toMatch(/^AEGIS_PG_URL: .*percent-encode.*%25/)
    expect(error.message).not.toContain(raw)
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, `storage:\n  postgres:\n    url: postgres://aegis:${raw}@db/aegis\n`)
    const fromFile = configError(() => loadConfig({ cwd, env: {} }))
    expect(fromFile.key).toContain('storage.postgres.url')
    expect(fromFile.message).not.toContain(raw)
  })

  it('masks only the password of the URL when rendered, and warns about a group-readable file holding one', () => {
    const cwd = tempDir()
    const url = `postgres://aegis:${PASSWORD}@db.internal:5432/aegis`
    writeFile(cwd, DEFAULT_CONFIG_FILE, `storage:\n  postgres:\n    url: ${url}\n`, 0o644)
    const config = loadConfig({ cwd, env: {} })
    const text = renderConfig(config, { maskSecrets: true })
    expect(text).not.toContain(PASSWORD)
    expect(parse(text).storage.postgres.url).toBe(`postgres://aegis:${SECRET_MASK}@db.internal:5432/aegis`)
    expect(parse(renderConfig(config, { maskSecrets: false })).storage.postgres.url).toBe(url)
    expect(config.source.warnings.join('\n')).toContain('a password in storage.postgres.url')
  })

  it('masks the password of AEGIS_PG_URL too (an env value is rendered like a file value)', () => {
    const config = loadConfig({
      cwd: tempDir(),
      env: { AEGIS_PG_URL: `postgres://aegis:${PASSWORD}@db/aegis` },
    })
    expect(renderConfig(config, { maskSecrets: true })).not.toContain(PASSWORD)
  })

  it('a URL without a password renders as is and raises no warning', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'storage:\n  postgres:\n    url: postgres://db/aegis\n', 0o644)
    const config = loadConfig({ cwd, env: {} })
    expect(parse(renderConfig(config, { maskSecrets: true })).storage.postgres.url).toBe(
      'postgres://db/aegis',
    )
    expect(config.source.warnings).toEqual([])
  })

  it('the starter config shows the section commented out and loads to the defaults', () => {
    const starter = starterConfigYaml()
    expect(starter).toContain('# storage:\n#   postgres:')
    expect(starter).toContain('AEGIS_PG_URL')
    expect(parse(starter).storage).toBeUndefined()
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, starter)
    expect(loadConfig({ cwd, env: {} }).storage).toEqual(loadConfig({ cwd: tempDir(), env: {} }).storage)
  })

  it('the commented-out section, uncommented, is valid config', () => {
    const block = starterConfigYaml()
      .split('\n')
      .filter((line) => /^# (storage:| {2}postgres:| {4}(url|pool_max|poll_interval_ms):)/.test(line))
      .map((line) => line.slice(2).replace(/url: .*/, 'url: postgres://db/aegis'))
      .join('\n')
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, `${block}\n`)
    expect(loadConfig({ cwd, env: {} }).storage.postgres).toEqual({
      url: 'postgres://db/aegis',
      pool_max: 10,
      poll_interval_ms: 5000,
    })
  })
})
