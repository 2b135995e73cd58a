import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG_FILE, loadConfig } from '../src/index.js'
import { configError, tempDir, writeFile } from './helpers.js'

function load(text: string) {
  const cwd = tempDir()
  writeFile(cwd, DEFAULT_CONFIG_FILE, text)
  return loadConfig({ cwd, env: {} })
}

function fails(text: string) {
  const cwd = tempDir()
  writeFile(cwd, DEFAULT_CONFIG_FILE, text)
  return configError(() => loadConfig({ cwd, env: {} }))
}

describe('dashboard.host and dashboard.allowed_hosts', () => {
  it('default to 127.0.0.1 and no extra hosts', () => {
    const { dashboard } = load('{}\n')
    expect(dashboard.host).toBe('127.0.0.1')
    expect(dashboard.allowed_hosts).toEqual([])
  })

  it('take host names, *.suffix wildcards and IP addresses, lower-cased (the rule of gate.allowed_hosts)', () => {
    const { dashboard } = load(
      'dashboard:\n  host: 0.0.0.0\n  allowed_hosts: [Aegis.Internal, 10.0.0.5, "[fd00::5]", my-box, "*.corp.example"]\n',
    )
    expect(dashboard.host).toBe('0.0.0.0')
    expect(dashboard.allowed_hosts).toEqual([
      'aegis.internal',
      '10.0.0.5',
      '[fd00::5]',
      'my-box',
      '*.corp.example',
    ])
  })

  // Each of these would either never match a Host header or match more than the operator meant.
  it.each([
    ['a port', 'aegis.internal:3200'],
    ['a bare wildcard', '*'],
    ['a scheme', 'http://aegis.internal'],
    ['a path', 'aegis.internal/x'],
    ['an empty name', ''],
    ['a leading dot', '.internal'],
    ['an underscore', 'a_b.internal'],
    ['a bare IPv6', 'fd00::5'],
    ['a label over 63 characters', `${'a'.repeat(64)}.internal`],
  ])('refuses %s', (_why, value) => {
    const error = fails(`dashboard:\n  allowed_hosts: [${JSON.stringify(value)}]\n`)
    expect(error.key).toBe('dashboard.allowed_hosts')
    expect(error.message).toContain(`entry 0 (${JSON.stringify(value)}) is not a host name or *.suffix`)
  })

  it('refuses a non-list and a bad bind host', () => {
    expect(fails('dashboard:\n  allowed_hosts: aegis.internal\n').key).toBe('dashboard.allowed_hosts')
    expect(fails('dashboard:\n  host: "a b"\n').key).toBe('dashboard.host')
  })
})
