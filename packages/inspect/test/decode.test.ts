import { randomBytes } from 'node:crypto'
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DecodeError, decodeBody } from '../src/index.ts'

const plain = Buffer.from(
  JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ i, s: `v${i}` })) }),
)

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError)
    return error as DecodeError
  }
  throw new Error('expected a DecodeError')
}

describe('decodeBody', () => {
  it.each([
    ['gzip', gzipSync(plain)],
    ['x-gzip', gzipSync(plain)],
    ['deflate', deflateSync(plain)],
    ['deflate', deflateRawSync(plain)],
    ['br', brotliCompressSync(plain)],
    ['identity', plain],
    ['GZIP', gzipSync(plain)],
  ])('round-trips %s', (coding, body) => {
    expect(Buffer.from(decodeBody(body, coding, 1_000_000)).equals(plain)).toBe(true)
  })

  it('passes bodies with no content encoding through', () => {
    expect(decodeBody(plain, undefined, 1_000_000)).toBe(plain)
    expect(decodeBody(plain, '', 1_000_000)).toBe(plain)
  })

  it('undoes a list of codings in reverse order', () => {
    const twice = brotliCompressSync(gzipSync(plain))
    expect(Buffer.from(decodeBody(twice, 'gzip, br', 1_000_000)).equals(plain)).toBe(true)
  })

  it.each([
    ['gzip', Buffer.from('definitely not gzip')],
    ['gzip', gzipSync(plain).subarray(0, 40)],
    ['deflate', randomBytes(200)],
    ['br', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x13])],
  ])('refuses corrupt %s input with a typed error', (coding, body) => {
    const error = decodeError(() => decodeBody(body, coding, 1_000_000))
    expect(error.code).toBe('corrupt')
    expect(error.encoding).toBe(coding)
  })

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('stops a %s bomb at maxBytes', (coding, compress) => {
    const bomb = compress(Buffer.alloc(64 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(200_000)
    const error = decodeError(() => decodeBody(bomb, coding, 1024 * 1024))
    expect(error.code).toBe('too_large')
    expect(error.message).not.toContain('\u0000')
  })

  it('accepts output of exactly maxBytes and refuses one byte more', () => {
    expect(decodeBody(gzipSync(plain), 'gzip', plain.length).length).toBe(plain.length)
    expect(decodeError(() => decodeBody(gzipSync(plain), 'gzip', plain.length - 1)).code).toBe('too_large')
    expect(decodeError(() => decodeBody(plain, 'identity', plain.length - 1)).code).toBe('too_large')
  })

  it('refuses an unknown coding', () => {
    const error = decodeError(() => decodeBody(plain, 'zstd', 1_000_000))
    expect(error.code).toBe('unsupported')
  })

  it('rejects a nonsensical limit', () => {
    expect(() => decodeBody(plain, 'gzip', -1)).toThrow(TypeError)
  })
})
