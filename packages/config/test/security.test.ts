import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG_FILE, loadConfig } from '../src/index.js'
import { configError, tempDir, writeFile } from './helpers.js'

const SECRET = 'SuperSecretMasterKey0123456789'

function errorFor(text: string, env: Record<string, string> = {}) {
  const cwd = tempDir()
  writeFile(cwd, DEFAULT_CONFIG_FILE, text, 0o644)
  return configError(() => loadConfig({ cwd, env }))
}

describe('no secret in error messages', () => {
  const cases: [string, string][] = [
    ['unterminated quote', `vault:\n  master_key: "${SECRET}\n`],
    ['bad escape', `vault:\n  master_key: "\\q${SECRET}"\n`],
    [
      'bad escape right at the secret',
      `vault:\n  master_key: "${SECRET.slice(0, 4)}\\x${SECRET.slice(4)}"\n`,
    ],
    ['block scalar header', `vault:\n  master_key: |${SECRET}\n    x\n`],
    ['bad plain start', `vault:\n  master_key: @${SECRET}\n`],
    ['wrong type', `vault:\n  master_key: [${SECRET}]\n`],
    ['key typo', `vault:\n  master_kee: ${SECRET}\n`],
    ['secret used as a key', `vault:\n  ${SECRET}: 1\n`],
    [
      'webhook secret wrong type',
      `webhooks:\n  - url: https://a.example\n    events: [blocked_request]\n    secret: {${SECRET}: 1}\n`,
    ],
    [
      'webhook url with credentials',
      `webhooks:\n  - url: https://u:${SECRET}@a.example\n    events: [x]\n    secret: s\n`,
    ],
  ]
  for (const [name, text] of cases) {
    it(name, () => {
      const error = errorFor(text)
      for (const message of [error.message, ...error.problems]) {
        expect(message).not.toContain(SECRET)
        expect(message).not.toContain(SECRET.slice(4, 14))
      }
    })
  }

  it('an unknown key that looks like a pasted secret is described, not repeated', () => {
    const error = errorFor(`vault:\n  ${SECRET}: 1\n`)
    expect(error.message).toBe('aegis.config.yaml:2: unknown key "vault.<30-character name>"')
  })

  it('a bad AEGIS_MASTER_KEY-adjacent env error does not echo the key', () => {
    const cwd = tempDir()
    const error = configError(() =>
      loadConfig({ cwd, env: { AEGIS_MASTER_KEY: SECRET, AEGIS_GATE_PORT: 'x' } }),
    )
    expect(error.message).not.toContain(SECRET)
  })
})

describe('hostile YAML', () => {
  it('__proto__ keys are unknown keys and pollute nothing', () => {
    const error = errorFor('__proto__:\n  polluted: true\ngate:\n  __proto__: {polluted: true}\n')
    expect(error.message).toBe('aegis.config.yaml:1: unknown key "__proto__"')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('constructor / prototype keys are unknown keys', () => {
    expect(errorFor('vault:\n  constructor: x\n').message).toBe(
      'aegis.config.yaml:2: unknown key "vault.constructor"',
    )
  })

  it('an alias bomb is refused', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 0; i < 8; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`,
      )
    const error = errorFor(`${lines.join('\n')}\n`)
    // The line of the first alias, not no line at all.
    expect(error.message).toBe(
      'aegis.config.yaml:2: YAML error: aliases expand into too many nodes: an alias bomb is refused',
    )
    expect(error.line).toBe(2)
  })

  it('an alias with no anchor before it names its line', () => {
    const error = errorFor('gate:\n  port: 3100\nvault:\n  name: *missing\n')
    expect(error.message).toBe(
      'aegis.config.yaml:4: YAML error: an alias (*name) refers to no anchor (&name) defined before it',
    )
  })

  it('YAML merge keys are not special (unknown key)', () => {
    const error = errorFor('base: &b {port: 1}\ngate:\n  <<: *b\n')
    expect(error.message).toBe('aegis.config.yaml:1: unknown key "base"')
  })

  it('a path-traversing vault name is refused', () => {
    expect(errorFor('vault:\n  name: ../../etc\n').key).toBe('vault.name')
  })
})

describe('file mode warnings', () => {
  it('warns about a group/world-readable file holding a webhook secret', () => {
    const cwd = tempDir()
    writeFile(
      cwd,
      DEFAULT_CONFIG_FILE,
      'webhooks:\n  - url: https://a.example\n    events: [blocked_request]\n    secret: s\n',
      0o640,
    )
    expect(loadConfig({ cwd, env: {} }).source.warnings).toEqual([
      'aegis.config.yaml holds webhooks[].secret but is readable by group/others (mode 0640); run: chmod 600 aegis.config.yaml',
    ])
  })

  it('does not warn about a readable file without secrets', () => {
    const cwd = tempDir()
    writeFile(cwd, DEFAULT_CONFIG_FILE, 'gate:\n  port: 1\n', 0o644)
    expect(loadConfig({ cwd, env: {} }).source.warnings).toEqual([])
  })
})
