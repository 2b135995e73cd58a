import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/index.js'
import { tempDir, writeFile } from './helpers.js'

describe('relative paths', () => {
  it('resolve against the config file folder when they come from the file', () => {
    const cwd = tempDir()
    const other = tempDir()
    const file = writeFile(
      other,
      'conf/aegis.yaml',
      [
        'gate:',
        '  policies_dir: ./policies',
        '  tls: { cert: certs/a.crt, key: ../keys/a.key }',
        '  upstream:',
        '    ca_file: [ca/one.pem, /etc/ssl/two.pem]',
        'vault:',
        '  data_dir: ./.aegis',
      ].join('\n'),
    )
    const config = loadConfig({ cwd, env: {}, file })
    const dir = join(other, 'conf')
    expect(config.source).toMatchObject({ file, dir })
    expect(config.gate.policies_dir).toBe(join(dir, 'policies'))
    expect(config.gate.tls).toEqual({
      enabled: true,
      cert: join(dir, 'certs/a.crt'),
      key: join(other, 'keys/a.key'),
    })
    expect(config.gate.upstream.ca_file).toEqual([join(dir, 'ca/one.pem'), '/etc/ssl/two.pem'])
    expect(config.vault.data_dir).toBe(join(dir, '.aegis'))
  })

  it('a single ca_file string resolves and becomes a list', () => {
    const cwd = tempDir()
    const other = tempDir()
    const file = writeFile(other, 'aegis.yaml', 'gate:\n  upstream:\n    ca_file: ca.pem\n')
    expect(loadConfig({ cwd, env: {}, file }).gate.upstream.ca_file).toEqual([join(other, 'ca.pem')])
  })

  it('resolve against cwd when they come from env, flags or defaults', () => {
    const cwd = tempDir()
    const other = tempDir()
    const file = writeFile(other, 'aegis.yaml', 'gate:\n  policies_dir: pol\n')
    const config = loadConfig({
      cwd,
      env: { AEGIS_DATA_DIR: 'env-data' },
      file,
      overrides: {
        gate: {
          policies_dir: 'flag-pol',
          tls: { enabled: true, cert: 'c.crt', key: 'c.key' },
          upstream: { ca_file: 'x.pem' },
        },
      },
    })
    expect(config.vault.data_dir).toBe(join(cwd, 'env-data'))
    expect(config.gate.policies_dir).toBe(join(cwd, 'flag-pol'))
    expect(config.gate.tls).toEqual({ enabled: true, cert: join(cwd, 'c.crt'), key: join(cwd, 'c.key') })
    expect(config.gate.upstream.ca_file).toEqual([join(cwd, 'x.pem')])
    // the default data_dir is relative to cwd, not to the file
    expect(loadConfig({ cwd, env: {}, file }).vault.data_dir).toBe(join(cwd, '.aegis'))
  })

  it('a relative --config is found relative to cwd', () => {
    const cwd = tempDir()
    const file = writeFile(cwd, 'nested/dir/aegis.yaml', 'vault:\n  data_dir: data\n')
    const config = loadConfig({ cwd, env: {}, file: 'nested/dir/aegis.yaml' })
    expect(config.source.file).toBe(file)
    expect(config.vault.data_dir).toBe(join(cwd, 'nested/dir/data'))
  })
})
