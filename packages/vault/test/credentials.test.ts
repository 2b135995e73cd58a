import { describe, expect, it } from 'vitest'
import { isExpired, Secret } from '../src/index.js'
import { expectVaultError, newVault, sampleCredential } from './helpers.js'

describe('add / get / list', () => {
  it('adds with defaults and returns metadata without the secret', () => {
    const v = newVault()
    const info = v.add(sampleCredential())
    expect(info).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'slack-bot',
      service: 'slack',
      domains: ['slack.com', '*.slack.com'],
      authType: 'bearer',
      headerName: null,
      queryParam: null,
      scopes: ['*'],
      expiresAt: null,
      rateLimit: null,
      bodyInspection: 'block',
      createdAt: expect.any(String),
      updatedAt: info.createdAt,
      rotatedAt: null,
    })
    expect(JSON.stringify(info)).not.toContain('xoxb')
    expect(v.list()).toEqual([info])
    expect(JSON.stringify(v.list())).not.toContain('xoxb')
  })

  it('get decrypts into a Secret; unknown names give undefined', () => {
    const v = newVault()
    v.add(sampleCredential())
    const cred = v.get('slack-bot')
    expect(cred?.secret).toBeInstanceOf(Secret)
    expect(cred?.secret.reveal()).toBe('xoxb-super-secret-token-4242')
    expect(JSON.stringify(cred)).not.toContain('xoxb')
    expect(v.get('other')).toBeUndefined()
  })

  it('accepts a Secret as input and stores every option', () => {
    const v = newVault()
    const info = v.add({
      name: 'OpenAI.key_1',
      service: 'openai',
      secret: new Secret('sk-abcdef'),
      domains: ['API.OpenAI.com.', 'api.openai.com'],
      authType: 'header',
      headerName: 'X-API-Key',
      scopes: ['read', 'read'],
      ttlDays: 1,
      rateLimit: '100/min',
      bodyInspection: 'warn',
    })
    expect(info.domains).toEqual(['api.openai.com'])
    expect(info.headerName).toBe('X-API-Key')
    expect(info.scopes).toEqual(['read'])
    expect(info.rateLimit).toBe('100/min')
    expect(info.bodyInspection).toBe('warn')
    const ttlMs = Date.parse(info.expiresAt ?? '') - Date.parse(info.createdAt)
    expect(ttlMs).toBe(86_400_000)
    expect(v.get('OpenAI.key_1')?.secret.reveal()).toBe('sk-abcdef')
  })

  it('query auth defaults the parameter to "key"', () => {
    const v = newVault()
    expect(v.add(sampleCredential({ authType: 'query' })).queryParam).toBe('key')
    expect(
      v.add(sampleCredential({ name: 'b', service: 'b', authType: 'query', queryParam: 'api_key' }))
        .queryParam,
    ).toBe('api_key')
  })

  it('refuses duplicate names and services, naming the holder', () => {
    const v = newVault()
    v.add(sampleCredential())
    expectVaultError(
      () => v.add(sampleCredential({ service: 'other' })),
      'duplicate',
      'A credential named "slack-bot" already exists',
    )
    expectVaultError(
      () => v.add(sampleCredential({ name: 'slack-2' })),
      'duplicate',
      'Service "slack" is already used by credential "slack-bot"',
    )
    expect(v.list()).toHaveLength(1)
  })

  it('lists by name and loadAll decrypts everything', () => {
    const v = newVault()
    v.add(sampleCredential({ name: 'zeta', service: 'z', secret: 'secret-z' }))
    v.add(sampleCredential({ name: 'alpha', service: 'a', secret: 'secret-a' }))
    expect(v.list().map((c) => c.name)).toEqual(['alpha', 'zeta'])
    expect(v.loadAll().map((c) => [c.service, c.secret.reveal()])).toEqual([
      ['a', 'secret-a'],
      ['z', 'secret-z'],
    ])
  })
})

describe('update / rotate / remove', () => {
  it('updates metadata and keeps the secret', () => {
    const v = newVault()
    const before = v.add(sampleCredential({ rateLimit: '10/sec', ttlDays: 5 }))
    const after = v.update('slack-bot', {
      rateLimit: '200/min',
      bodyInspection: 'warn',
      scopes: ['read'],
      domains: ['api.slack.com'],
    })
    expect(after).toMatchObject({
      rateLimit: '200/min',
      bodyInspection: 'warn',
      scopes: ['read'],
      domains: ['api.slack.com'],
    })
    expect(after.id).toBe(before.id)
    expect(after.expiresAt).toBe(before.expiresAt)
    expect(after.createdAt).toBe(before.createdAt)
    expect(Date.parse(after.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt))
    expect(v.list()[0]).toEqual(after)
    expect(v.get('slack-bot')?.secret.reveal()).toBe('xoxb-super-secret-token-4242')
  })

  it('null clears rate limit and expiry; ttlDays and expiresAt set it', () => {
    const v = newVault()
    v.add(sampleCredential({ rateLimit: '10/sec', ttlDays: 5 }))
    expect(v.update('slack-bot', { rateLimit: null, ttlDays: null })).toMatchObject({
      rateLimit: null,
      expiresAt: null,
    })
    expect(v.update('slack-bot', { expiresAt: '2030-01-02T03:04:05Z' }).expiresAt).toBe(
      '2030-01-02T03:04:05.000Z',
    )
    expect(v.update('slack-bot', { expiresAt: null }).expiresAt).toBeNull()
    expect(v.update('slack-bot', { ttlDays: 2 }).expiresAt).not.toBeNull()
  })

  it('switching auth type carries, clears or requires the header/param', () => {
    const v = newVault()
    v.add(sampleCredential({ authType: 'header', headerName: 'X-Token' }))
    expect(v.update('slack-bot', { scopes: ['write'] }).headerName).toBe('X-Token')
    expect(v.update('slack-bot', { authType: 'bearer' })).toMatchObject({
      authType: 'bearer',
      headerName: null,
    })
    expectVaultError(
      () => v.update('slack-bot', { authType: 'header' }),
      'invalid_input',
      /headerName is required/,
    )
    expectVaultError(
      () => v.update('slack-bot', { headerName: 'X-A' }),
      'invalid_input',
      /headerName is only allowed/,
    )
    expect(v.update('slack-bot', { authType: 'header', headerName: 'X-B' }).headerName).toBe('X-B')
    expect(v.update('slack-bot', { authType: 'query' })).toMatchObject({
      headerName: null,
      queryParam: 'key',
    })
    expect(v.update('slack-bot', { queryParam: 'token' }).queryParam).toBe('token')
    expect(v.update('slack-bot', { authType: 'basic' })).toMatchObject({ headerName: null, queryParam: null })
  })

  it('a failed update changes nothing', () => {
    const v = newVault()
    const before = v.add(sampleCredential())
    expectVaultError(
      () => v.update('slack-bot', { domains: ['ok.example.com', 'not a domain'] }),
      'invalid_input',
    )
    expect(v.list()).toEqual([before])
  })

  it('rotate replaces the secret and sets rotatedAt', () => {
    const v = newVault()
    const before = v.add(sampleCredential())
    const after = v.rotate('slack-bot', 'xoxb-new-secret')
    expect(after.rotatedAt).not.toBeNull()
    expect(after.id).toBe(before.id)
    expect(v.get('slack-bot')?.secret.reveal()).toBe('xoxb-new-secret')
    expectVaultError(() => v.rotate('slack-bot', 'bad\nsecret'), 'invalid_input', /control character/)
    expect(v.get('slack-bot')?.secret.reveal()).toBe('xoxb-new-secret')
  })

  it('remove deletes; unknown names are not_found', () => {
    const v = newVault()
    v.add(sampleCredential())
    v.remove('slack-bot')
    expect(v.list()).toEqual([])
    expectVaultError(() => v.remove('slack-bot'), 'not_found', 'No credential named "slack-bot"')
    expectVaultError(
      () => v.update('ghost', { scopes: ['read'] }),
      'not_found',
      'No credential named "ghost"',
    )
    expectVaultError(() => v.rotate('ghost', 'x'.repeat(8)), 'not_found', 'No credential named "ghost"')
    // Name and service are free again.
    v.add(sampleCredential())
  })

  it('a closed vault refuses every call', () => {
    const v = newVault()
    v.close()
    v.close()
    expectVaultError(() => v.list(), 'io', 'Vault "default" is closed')
    expectVaultError(() => v.add(sampleCredential()), 'io', /closed/)
    expectVaultError(() => v.changeToken(), 'io', /closed/)
  })
})

describe('expiry', () => {
  it('isExpired compares against the given time', () => {
    const now = new Date('2026-06-01T00:00:00Z')
    expect(isExpired({ expiresAt: null }, now)).toBe(false)
    expect(isExpired({ expiresAt: '2026-06-01T00:00:00.001Z' }, now)).toBe(false)
    expect(isExpired({ expiresAt: '2026-06-01T00:00:00.000Z' }, now)).toBe(true)
    expect(isExpired({ expiresAt: '2026-05-01T00:00:00.000Z' }, now)).toBe(true)
    expect(isExpired({ expiresAt: 'garbage' }, now)).toBe(true)
  })

  it('a credential with a TTL expires after that many days', () => {
    const v = newVault()
    const info = v.add(sampleCredential({ ttlDays: 30 }))
    const created = new Date(info.createdAt)
    expect(isExpired(info, created)).toBe(false)
    expect(isExpired(info, new Date(created.getTime() + 29.9 * 86_400_000))).toBe(false)
    expect(isExpired(info, new Date(created.getTime() + 30 * 86_400_000))).toBe(true)
    const past = v.add(
      sampleCredential({ name: 'old', service: 'old', expiresAt: new Date('2020-01-01T00:00:00Z') }),
    )
    expect(isExpired(past, new Date())).toBe(true)
    expect(isExpired(v.get('old') ?? { expiresAt: null }, new Date())).toBe(true)
  })
})
