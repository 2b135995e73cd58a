import { describe, expect, it } from 'vitest'
import type { NewCredential } from '../src/index.js'
import { expectVaultError, newVault, sampleCredential } from './helpers.js'

/** Each case: a bad input, and the field the error message must name. */
const cases: Array<[string, Partial<NewCredential> | Record<string, unknown>, RegExp]> = [
  ['empty name', { name: '' }, /^name /],
  ['name with space', { name: 'my key' }, /^name /],
  ['name starting with dot', { name: '.hidden' }, /^name /],
  ['name too long', { name: 'a'.repeat(129) }, /^name /],
  ['name not a string', { name: 42 }, /^name /],
  ['uppercase service', { service: 'Slack' }, /^service /],
  ['service with dot', { service: 'a.b' }, /^service /],
  ['service _aegis', { service: '_aegis' }, /^service /],
  ['empty service', { service: '' }, /^service /],
  ['empty secret', { secret: '' }, /^secret must not be empty/],
  ['secret with LF', { secret: 'abcd\nefgh' }, /^secret contains a control character \(newline \(LF\)\)/],
  ['secret with CR', { secret: 'abcd\refgh' }, /^secret contains a control character \(carriage return/],
  ['secret with NUL', { secret: 'abcd\0efgh' }, /^secret contains a control character \(NUL/],
  ['secret over 16 KiB', { secret: 'x'.repeat(16 * 1024 + 1) }, /^secret must be at most 16 KiB/],
  ['secret not a string', { secret: 123 }, /^secret must be a string/],
  ['no domains', { domains: [] }, /^domains /],
  ['domains not an array', { domains: 'slack.com' }, /^domains /],
  ['invalid domain', { domains: ['slack.com', 'not a domain'] }, /^domains: Invalid domain "not a domain"/],
  ['unknown auth type', { authType: 'digest' }, /^authType /],
  ['header without headerName', { authType: 'header' }, /^headerName is required/],
  ['headerName with bearer', { headerName: 'X-Key' }, /^headerName is only allowed/],
  ['headerName with basic', { authType: 'basic', headerName: 'X-Key' }, /^headerName is only allowed/],
  ['queryParam with bearer', { queryParam: 'key' }, /^queryParam is only allowed/],
  [
    'headerName not a token',
    { authType: 'header', headerName: 'X Key' },
    /^headerName must be a valid HTTP header name/,
  ],
  ['headerName with colon', { authType: 'header', headerName: 'X-Key:' }, /^headerName must be a valid/],
  ['headerName host', { authType: 'header', headerName: 'Host' }, /^headerName "Host" is reserved/],
  [
    'headerName content-length',
    { authType: 'header', headerName: 'Content-Length' },
    /^headerName .* reserved/,
  ],
  [
    'headerName transfer-encoding',
    { authType: 'header', headerName: 'transfer-encoding' },
    /^headerName .* reserved/,
  ],
  ['headerName connection', { authType: 'header', headerName: 'Connection' }, /^headerName .* reserved/],
  [
    'headerName proxy-authorization',
    { authType: 'header', headerName: 'Proxy-Authorization' },
    /^headerName .* reserved/,
  ],
  ['headerName x-aegis-*', { authType: 'header', headerName: 'X-Aegis-Agent' }, /^headerName .* reserved/],
  [
    'headerName x-target-host',
    { authType: 'header', headerName: 'X-Target-Host' },
    /^headerName .* reserved/,
  ],
  ['bad queryParam', { authType: 'query', queryParam: 'a&b' }, /^queryParam /],
  ['empty scopes', { scopes: [] }, /^scopes /],
  ['unknown scope', { scopes: ['read', 'admin'] as never }, /^scopes: "admin"/],
  ['zero ttl', { ttlDays: 0 }, /^ttlDays /],
  ['negative ttl', { ttlDays: -1 }, /^ttlDays /],
  ['NaN ttl', { ttlDays: Number.NaN }, /^ttlDays /],
  ['string ttl', { ttlDays: '5' as never }, /^ttlDays /],
  ['ttl and expiresAt', { ttlDays: 5, expiresAt: '2030-01-01' }, /ttlDays or expiresAt/],
  ['bad expiresAt', { expiresAt: 'next tuesday' }, /^expiresAt /],
  ['invalid date expiresAt', { expiresAt: '2030-13-45' }, /^expiresAt /],
  ['bad rate', { rateLimit: 'lots' }, /^rateLimit: /],
  ['rate not string', { rateLimit: 5 as never }, /^rateLimit /],
  ['bad body inspection', { bodyInspection: 'maybe' as never }, /^bodyInspection /],
  ['unknown field', { ttl: 5 }, /unknown field "ttl"/],
]

describe('validation at write time', () => {
  for (const [label, patch, message] of cases) {
    it(`refuses ${label}`, () => {
      const v = newVault()
      const input = { ...sampleCredential(), ...patch } as NewCredential
      const err = expectVaultError(() => v.add(input), 'invalid_input', message)
      expect(err.message).not.toContain('xoxb-super-secret')
      expect(v.list()).toEqual([])
    })
  }

  it('never echoes a refused secret', () => {
    const v = newVault()
    const secret = 'very-secret-value\nwith-newline'
    const err = expectVaultError(() => v.add(sampleCredential({ secret })), 'invalid_input')
    expect(err.message).not.toContain('very-secret-value')
  })

  it('accepts boundary values', () => {
    const v = newVault()
    v.add(sampleCredential({ name: 'a'.repeat(128), secret: 'x'.repeat(16 * 1024), service: 'a_b-c9' }))
    v.add(sampleCredential({ name: 'X', service: 'x', authType: 'header', headerName: 'Authorization' }))
    expect(v.list()).toHaveLength(2)
  })

  it('update validates the same way', () => {
    const v = newVault()
    v.add(sampleCredential())
    expectVaultError(() => v.update('slack-bot', { scopes: [] }), 'invalid_input', /^scopes /)
    expectVaultError(() => v.update('slack-bot', { rateLimit: 'fast' }), 'invalid_input', /^rateLimit: /)
    expectVaultError(
      () => v.update('slack-bot', { name: 'x' } as never),
      'invalid_input',
      /unknown field "name"/,
    )
    expectVaultError(() => v.update('slack-bot', { ttlDays: -3 }), 'invalid_input', /^ttlDays /)
  })
})
