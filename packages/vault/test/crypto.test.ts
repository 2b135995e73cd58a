import { describe, expect, it } from 'vitest'
import {
  credentialContext,
  deriveKey,
  deriveKeySync,
  ENVELOPE_VERSION,
  generateMasterKey,
  generateSalt,
  KDF,
  open,
  seal,
} from '../src/crypto.js'
import { VaultError } from '../src/index.js'
import { expectVaultError } from './helpers.js'

const key = Buffer.alloc(32, 1)
const otherKey = Buffer.alloc(32, 2)
const ctx = credentialContext('default', '00000000-0000-4000-8000-000000000001')

describe('seal / open', () => {
  it('round-trips text and binary plaintext', () => {
    expect(open(key, seal(key, 'hello wörld', ctx), ctx).toString('utf8')).toBe('hello wörld')
    const bin = Buffer.from([0, 255, 1, 254])
    expect(open(key, seal(key, bin, ctx), ctx)).toEqual(bin)
    expect(open(key, seal(key, '', ctx), ctx).length).toBe(0)
  })

  it('writes a versioned envelope: version ‖ 12-byte nonce ‖ 16-byte tag ‖ ciphertext', () => {
    const env = seal(key, 'abcdef', ctx)
    expect(env[0]).toBe(ENVELOPE_VERSION)
    expect(env.length).toBe(1 + 12 + 16 + 6)
    expect(env.includes(Buffer.from('abcdef'))).toBe(false)
  })

  it('uses a fresh nonce for every encryption', () => {
    const nonces = new Set<string>()
    const bodies = new Set<string>()
    for (let i = 0; i < 5000; i++) {
      const env = seal(key, 'same plaintext', ctx)
      nonces.add(env.subarray(1, 13).toString('hex'))
      bodies.add(env.toString('hex'))
    }
    expect(nonces.size).toBe(5000)
    expect(bodies.size).toBe(5000)
  })

  it('refuses the wrong key', () => {
    expectVaultError(() => open(otherKey, seal(key, 's3cret', ctx), ctx), 'corrupt', /failed authentication/)
  })

  it('refuses another context (row or vault) — the AAD binding', () => {
    const env = seal(key, 's3cret', ctx)
    expectVaultError(() => open(key, env, credentialContext('default', 'another-id')), 'corrupt')
    expectVaultError(
      () => open(key, env, credentialContext('staging', '00000000-0000-4000-8000-000000000001')),
      'corrupt',
    )
  })

  it('detects a flipped bit anywhere: version, nonce, tag, ciphertext', () => {
    const env = seal(key, 'a secret worth protecting', ctx)
    for (let i = 0; i < env.length; i++) {
      const bad = Buffer.from(env)
      bad[i] = (bad[i] ?? 0) ^ 0x01
      expect(() => open(key, bad, ctx), `byte ${i}`).toThrow(VaultError)
    }
  })

  it('refuses truncated and extended envelopes', () => {
    const env = seal(key, 'abc', ctx)
    expectVaultError(() => open(key, env.subarray(0, 20), ctx), 'corrupt', /truncated/)
    expectVaultError(() => open(key, env.subarray(0, env.length - 1), ctx), 'corrupt')
    expectVaultError(() => open(key, Buffer.concat([env, Buffer.of(0)]), ctx), 'corrupt')
  })

  it('refuses an unknown envelope version even if otherwise intact', () => {
    const env = seal(key, 'abc', ctx)
    env[0] = 2
    expectVaultError(() => open(key, env, ctx), 'corrupt', /unsupported format version 2/)
  })

  it('requires a 32-byte key', () => {
    expectVaultError(() => seal(Buffer.alloc(16), 'x', ctx), 'invalid_input')
  })
})

describe('key derivation', () => {
  const salt = generateSalt()

  it('is PBKDF2-HMAC-SHA512 with at least 210,000 iterations', () => {
    expect(KDF.iterations).toBeGreaterThanOrEqual(210_000)
    expect(KDF.digest).toBe('sha512')
    expect(salt.length).toBe(32)
  })

  it('async and sync derivations agree; salt and key both matter', async () => {
    const a = await deriveKey('master', salt)
    expect(a.length).toBe(32)
    expect(deriveKeySync('master', salt).equals(a)).toBe(true)
    expect((await deriveKey('master2', salt)).equals(a)).toBe(false)
    expect((await deriveKey('master', generateSalt())).equals(a)).toBe(false)
  })

  it('refuses weak parameters', () => {
    expectVaultError(() => deriveKeySync('master', salt, 1000), 'invalid_input')
    expectVaultError(() => deriveKeySync('master', Buffer.alloc(8)), 'invalid_input')
    expectVaultError(() => deriveKeySync('', salt), 'invalid_input')
  })

  it('generates 256-bit base64url master keys', () => {
    const k = generateMasterKey()
    expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(k, 'base64url').length).toBe(32)
    expect(generateMasterKey()).not.toBe(k)
  })
})
