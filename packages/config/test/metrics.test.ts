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

const TOKEN = 'mt_3c9e1a7f5b2d8046e1f3a5c7'

describe('observability metrics keys', () => {
  it('defaults: metrics on, no token, no agent label', () => {
    const config = loadConfig({ cwd: tempDir(), env: {} })
    expect(config.observability.metrics).toBe(true)
    expect(config.observability.metrics_token).toBeUndefined()
    expect(config.observability.metrics_agent_label).toBe(false)
  })

  it('reads the token from the file and from AEGIS_METRICS_TOKEN (env wins)', () => {
    const cwd = tempDir()
    writeFile(
      cwd,
      DEFAULT_CONFIG_FILE,
      `observability:\n  metrics_token: ${TOKEN}\n  metrics_agent_label: true\n`,
    )
    expect(loadConfig({ cwd, env: {} }).observability).toMatchObject({
      metrics_token: TOKEN,
      metrics_agent_label: true,
    })
    const fromEnv = loadConfig({ cwd, env: { AEGIS_METRICS_TOKEN: `${TOKEN}-env` } })
    expect(fromEnv.observability.metrics_token).toBe(`${TOKEN}-env`)
  })

  // Each refused value: the message names the key and never echoes the value.
  const refused: Array<[string, string, RegExp]> = [
    ['short', 'abc123', /at least 16/],
    ['with a space', 'abcdefgh ijklmnopq', /printable ASCII without spaces/],
    ['with a newline', '"abcdefghijklmnop\\nq"', /printable ASCII without spaces/],
    ['not a string', '1234567890123456789', /expected string/],
  ]
  for (const [why, value, message] of refused) {
    it(`refuses a token ${why}`, () => {
      const cwd = tempDir()
      writeFile(cwd, DEFAULT_CONFIG_FILE, `observability:\n  metrics_token: ${value}\n`)
      const error = configError(() => loadConfig({ cwd, env: {} }))
      expect(error.key).toBe('observability.metrics_token')
      expect(error.message).toMatch(message)
      expect(error.message).not.toContain('abcdefgh')
    })
  }

  it('refuses a short AEGIS_METRICS_TOKEN without echoing it', () => {
    const error = configError(() =>
      loadConfig({ cwd: tempDir(), env: { AEGIS_METRICS_TOKEN: 'tiny-secret' } }),
    )
    expect(error.variable).toBe('AEGIS_METRICS_TOKEN')
    expect(error.message).not.toContain('tiny-secret')
  })

  it('masks the token when rendered, and warns about a group-readable file holding it', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, `observability:\n  metrics_token: ${TOKEN}\n`, 0o644)
    const config = loadConfig({ cwd, env: {} })
    const text = renderConfig(config, { maskSecrets: true })
    expect(text).not.toContain(TOKEN)
    expect(parse(text).observability.metrics_token).toBe(SECRET_MASK)
    expect(parse(renderConfig(config, { maskSecrets: false })).observability.metrics_token).toBe(TOKEN)
    expect(config.source.warnings.join('\n')).toContain('observability.metrics_token')
  })

  it('the starter config is valid and switches metrics on', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, starterConfigYaml())
    const config = loadConfig({ cwd, env: {} })
    expect(config.observability.metrics).toBe(true)
    expect(config.observability.metrics_agent_label).toBe(false)
  })
})
