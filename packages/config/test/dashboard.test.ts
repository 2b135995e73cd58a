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

  it('take host names, IPv4 and bracketed IPv6, lower-cased', () => {
    const { dashboard } = load(
      'dashboard:\n  host: 0.0.0.0\n  allowed_hosts: [Aegis.Internal, 10.0.0.5, "[fd00::5]", my-box]\n',
    )
    expect(dashboard.host).toBe('0.0.0.0')
    expect(dashboard.allowed_hosts).toEqual(['aegis.internal', '10.0.0.5', '[fd00::5]', 'my-box'])
  })

  // Each of these would either never match a Host header or match more than the operator meant.
  it.each([
    ['a port', 'aegis.internal:3200'],
    ['a wildcard', '*.internal'],
    ['a scheme', 'http://aegis.internal'],
    ['a path', 'aegis.internal/x'],
    ['an empty name', ''],
    ['a leading dot', '.internal'],
    ['an underscore', 'a_b.internal'],
    ['a bare IPv6', 'fd00::5'],
    ['a label over 63 characters', `${'a'.repeat(64)}.internal`],
  ])('refuses %s', (_why, value) => {
    const error = fails(`dashboard:\n  allowed_hosts: [${JSON.stringify(value)}]\n`)
    expect(error.key).toBe('dashboard.allowed_hosts[0]')
    expect(error.message).toContain('expected a host name without port or wildcard')
  })

  it('refuses a non-list and a bad bind host', () => {
    expect(fails('dashboard:\n  allowed_hosts: aegis.internal\n').key).toBe('dashboard.allowed_hosts')
    expect(fails('dashboard:\n  host: "a b"\n').key).toBe('dashboard.host')
  })
})
