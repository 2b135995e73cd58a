import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { redactUrlPassword } from '@aegis/guard'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  renderConfig,
  SECRET_MASK,
  starterConfigYaml,
} from '../src/index.js'
import { tempDir, writeFile } from './helpers.js'

const MASTER_KEY = 'mk_7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e'
const HOOK_SECRET = 'whsec_Zq81LmPx0v'

function loaded() {
  const cwd = tempDir()
  writeFile(
    cwd,
    DEFAULT_CONFIG_FILE,
    [
      'gate:',
      '  port: 4000',
      '  tls: { cert: a.crt, key: a.key }',
      '  upstream:',
      '    resolve: ["api.example.com:443:[::1]:8443", "b.example:443:10.0.0.1:443"]',
      'vault:',
      `  master_key: ${MASTER_KEY}`,
      'webhooks:',
      '  - url: https://hooks.example.com/a',
      '    events: [blocked_request]',
      `    secret: ${HOOK_SECRET}`,
    ].join('\n'),
  )
  return { cwd, config: loadConfig({ cwd, env: {} }) }
}

describe('renderConfig', () => {
  it('masks secrets: neither secret appears anywhere in the output', () => {
    const { config } = loaded()
    const text = renderConfig(config, { maskSecrets: true })
    expect(text).not.toContain(MASTER_KEY)
    expect(text).not.toContain(HOOK_SECRET)
    const doc = parse(text)
    expect(doc.vault.master_key).toBe(SECRET_MASK)
    expect(doc.webhooks[0].secret).toBe(SECRET_MASK)
  })

  it("masks a webhook URL's path and query (Slack's token is its path, others a ?token=), keeps where it goes", () => {
    const cwd = tempDir()
    const slack = 'https://hooks.slack.com/services/T0AAAA/B0BBBB/XyZ1slackWebhookToken'
    const query = 'https://alerts.example.com/hook?token=qtok-8c1f0e'
    const bare = 'https://alerts.example.com/'
    writeFile(
      cwd,
      DEFAULT_CONFIG_FILE,
      [
        'webhooks:',
        ...[slack, query, bare].flatMap((url) => [
          `  - url: "${url}"`,
          '    events: [blocked_request]',
          `    secret: ${HOOK_SECRET}`,
        ]),
      ].join('\n'),
    )
    const config = loadConfig({ cwd, env: {} })
    const text = renderConfig(config, { maskSecrets: true })
    for (const secret of ['XyZ1slackWebhookToken', 'qtok-8c1f0e', 'T0AAAA'])
      expect(text).not.toContain(secret)
    expect(parse(text).webhooks.map((w: { url: string }) => w.url)).toEqual([
      `https://hooks.slack.com/${SECRET_MASK}`,
      `https://alerts.example.com/${SECRET_MASK}`,
      'https://alerts.example.com',
    ])
    // Unmasked, the URLs are as configured.
    expect(parse(renderConfig(config, { maskSecrets: false })).webhooks[0].url).toBe(slack)
  })

  it('also masks a master key that came from the environment', () => {
    const cwd = tempDir()
    const config = loadConfig({ cwd, env: { AEGIS_MASTER_KEY: MASTER_KEY } })
    expect(renderConfig(config, { maskSecrets: true })).not.toContain(MASTER_KEY)
  })

  it('shows secrets when not masked, omits source, and writes snake_case keys', () => {
    const { cwd, config } = loaded()
    const doc = parse(renderConfig(config, { maskSecrets: false }))
    expect(doc.vault.master_key).toBe(MASTER_KEY)
    expect(doc.webhooks[0].secret).toBe(HOOK_SECRET)
    expect(doc.source).toBeUndefined()
    expect(Object.keys(doc)).toEqual([
      'gate',
      'vault',
      'observability',
      'rate_limit',
      'storage',
      'dashboard',
      'mcp',
      'webhooks',
    ])
    expect(doc.gate.max_body_size).toBe(1_048_576)
    expect(doc.gate.tls).toEqual({ enabled: true, cert: join(cwd, 'a.crt'), key: join(cwd, 'a.key') })
    expect(doc.gate.upstream.resolve).toEqual({
      'api.example.com:443': '[::1]:8443',
      'b.example:443': '10.0.0.1:443',
    })
  })

  it('omits master_key when there is none', () => {
    const config = loadConfig({ cwd: tempDir(), env: {} })
    expect(renderConfig(config, { maskSecrets: true })).not.toContain('master_key')
  })

  it('round-trips: the unmasked rendering loads back to the same configuration', () => {
    const { config } = loaded()
    const other = tempDir()
    const file = writeFile(other, 'rendered.yaml', renderConfig(config, { maskSecrets: false }))
    const again = loadConfig({ cwd: other, env: {}, file })
    expect({ ...again, source: null }).toEqual({ ...config, source: null })
  })
})

describe('starterConfigYaml', () => {
  it('is valid and loads to the defaults when given nothing', () => {
    const cwd = tempDir()
    const defaults = loadConfig({ cwd, env: {} })
    writeFile(cwd, DEFAULT_CONFIG_FILE, starterConfigYaml({}))
    const config = loadConfig({ cwd, env: {} })
    expect({ ...config, source: null }).toEqual({ ...defaults, source: null })
    expect(starterConfigYaml({})).not.toMatch(/^\s*master_key:/m)
    expect(starterConfigYaml({})).toContain('#')
  })

  it('round-trips the master key and data dir, even with characters YAML cares about', () => {
    const cwd = tempDir()
    const masterKey = `k: "#'\\ {x} - [y] \u2028`
    writeFile(cwd, DEFAULT_CONFIG_FILE, starterConfigYaml({ masterKey, dataDir: './my data: #1' }))
    const config = loadConfig({ cwd, env: {} })
    expect(config.vault.master_key).toBe(masterKey)
    expect(config.vault.data_dir).toBe(join(cwd, 'my data: #1'))
  })

  it('a 0600 starter holding a key raises no warning; a 0644 one does', () => {
    const cwd = tempDir()
    const file = writeFile(cwd, DEFAULT_CONFIG_FILE, starterConfigYaml({ masterKey: MASTER_KEY }))
    expect(loadConfig({ cwd, env: {} }).source.warnings).toEqual([])
    chmodSync(file, 0o644)
    const { source } = loadConfig({ cwd, env: {} })
    expect(source.mode).toBe(0o644)
    expect(source.warnings).toEqual([
      'aegis.config.yaml holds vault.master_key but is readable by group/others (mode 0644); run: chmod 600 aegis.config.yaml',
    ])
    expect(source.warnings.join('\n')).not.toContain(MASTER_KEY)
  })
})

describe('one mask', () => {
  it('masks as redactUrlPassword does in log lines and start messages', () => {
    expect(redactUrlPassword('postgres://aegis:pw@db.internal/aegis')).toBe(
      `postgres://aegis:${SECRET_MASK}@db.internal/aegis`,
    )
  })
})
