import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG_FILE, loadConfig } from '../src/index.js'
import { configError, tempDir, writeFile } from './helpers.js'

function load(hooks: string) {
  const cwd = tempDir()
  writeFile(cwd, DEFAULT_CONFIG_FILE, `webhooks:\n${hooks}`)
  return () => loadConfig({ cwd, env: {} })
}

const hook = (url: string, events = '[blocked_request]', secret = 's3cret') =>
  `  - url: ${url}\n    events: ${events}\n    secret: ${secret}\n`

describe('webhooks', () => {
  it('accepts https anywhere and http on localhost; removes duplicate events', () => {
    const config = load(
      hook('https://hooks.example.com/aegis', '[blocked_request, credential_expiry, blocked_request]') +
        hook('http://localhost:9000/x', '[rate_limit_exceeded, agent_auth_failure, body_inspection]') +
        hook('http://127.0.0.1/x') +
        hook('"http://[::1]:8080/x"'),
    )()
    expect(config.webhooks).toHaveLength(4)
    expect(config.webhooks[0]).toEqual({
      url: 'https://hooks.example.com/aegis',
      events: ['blocked_request', 'credential_expiry'],
      secret: 's3cret',
    })
    expect(config.webhooks[1]?.events).toEqual([
      'rate_limit_exceeded',
      'agent_auth_failure',
      'body_inspection',
    ])
  })

  const bad: [string, string, string][] = [
    [
      hook('http://hooks.example.com/x'),
      'webhooks[0].url',
      'expected an https URL (http only for localhost/127.0.0.1)',
    ],
    [
      hook('http://127.0.0.2/x'),
      'webhooks[0].url',
      'expected an https URL (http only for localhost/127.0.0.1)',
    ],
    [
      hook('ftp://localhost/x'),
      'webhooks[0].url',
      'expected an https URL (http only for localhost/127.0.0.1)',
    ],
    [hook('/relative/path'), 'webhooks[0].url', 'expected an absolute URL'],
    [
      hook('https://user:pw@hooks.example.com/x'),
      'webhooks[0].url',
      'credentials in the URL are not allowed; use secret',
    ],
    [hook('https://h.example/x', '[]'), 'webhooks[0].events', 'expected at least one event'],
    [hook('https://h.example/x', 'blocked_request'), 'webhooks[0].events', 'expected array, received string'],
    [hook('https://h.example/x', '[blocked]'), 'webhooks[0].events[0]', 'Invalid option: expected one of'],
    [
      hook('https://h.example/x', '[blocked_request]', '""'),
      'webhooks[0].secret',
      'expected a non-empty signing secret',
    ],
    [
      '  - url: https://h.example/x\n    events: [blocked_request]\n',
      'webhooks[0].secret',
      'required key is missing',
    ],
    ['  url: https://h.example/x\n', 'webhooks', 'expected array, received object'],
  ]
  for (const [text, key, message] of bad) {
    it(`${key}: ${message}`, () => {
      const error = configError(load(text))
      expect(error.key).toBe(key)
      expect(error.message).toContain(`: ${key}: ${message}`)
      expect(error.line).not.toBeNull()
    })
  }

  it('names the index and line of the second webhook', () => {
    const error = configError(load(hook('https://a.example/x') + hook('http://b.example/x')))
    expect(error.message).toBe(
      'aegis.config.yaml:5: webhooks[1].url: expected an https URL (http only for localhost/127.0.0.1)',
    )
  })
})
