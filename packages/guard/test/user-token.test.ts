import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  generateUserToken,
  hashUserToken,
  isAgentTokenShape,
  parseUserToken,
  USER_TOKEN_PATTERN,
  USER_TOKEN_PREFIX,
} from '../src/index.js'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Replaces the character at `i` with another base62 character (a one-character typo). */
function typo(token: string, i: number): string {
  const c = token[i] as string
  const other = ALPHABET[(ALPHABET.indexOf(c) + 1) % 62] as string
  return token.slice(0, i) + other + token.slice(i + 1)
}

describe('user tokens (aegis_user_<id>_<secret><crc32>)', () => {
  const token = generateUserToken()

  it('have the documented shape, prefix and length, and parse with their public id', () => {
    expect(token).toMatch(USER_TOKEN_PATTERN)
    expect(token.startsWith(USER_TOKEN_PREFIX)).toBe(true)
    expect(token).toHaveLength(69)
    expect(parseUserToken(token)).toEqual({ id: token.slice(11, 19) })
    // Never mistaken for an agent token (the gate would take it as an identity).
    expect(isAgentTokenShape(token)).toBe(false)
  })

  it('carry at least 256 bits of entropy: 43 base62 characters, all distinct across many tokens', () => {
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256)
    const secrets = new Set(Array.from({ length: 2000 }, () => generateUserToken().slice(20, 63)))
    expect(secrets.size).toBe(2000)
    // Every base62 character turns up somewhere: the encoding uses the whole alphabet.
    const seen = new Set([...secrets].join(''))
    expect(seen.size).toBe(62)
  })

  it('end in the base62 CRC32 of everything before the checksum', () => {
    const body = token.slice(0, -6)
    let n = BigInt(crc32(body))
    let crc = ''
    while (n > 0n) {
      crc = ALPHABET[Number(n % 62n)] + crc
      n /= 62n
    }
    expect(token.slice(-6)).toBe(crc.padStart(6, '0'))
  })

  it('refuse every one-character typo, anywhere after the prefix (checksum, offline)', () => {
    for (let i = USER_TOKEN_PREFIX.length; i < token.length; i++) {
      if (token[i] === '_') continue
      expect(parseUserToken(typo(token, i)), `typo at ${i}`).toBeNull()
    }
  })

  it.each([
    ['truncated', () => token.slice(0, -1)],
    ['one extra character', () => `${token}A`],
    ['another kind', () => token.replace('aegis_user_', 'aegis_usrr_')],
    ['a trailing newline', () => `${token}\n`],
    ['a leading space', () => ` ${token}`],
    ['an agent token', () => `aegis_${'A'.repeat(43)}`],
    ['swapped neighbours', () => token.slice(0, 30) + token[31] + token[30] + token.slice(32)],
    ['a non-string', () => 42],
  ])('parseUserToken refuses %s', (_name, make) => {
    const value = make() as unknown
    if (value === token) return
    expect(parseUserToken(value)).toBeNull()
  })

  it('hash to the SHA-256 of the UTF-8 bytes', () => {
    expect(hashUserToken(token).equals(createHash('sha256').update(token).digest())).toBe(true)
  })
})
