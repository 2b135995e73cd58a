import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { BodyTooLargeError, ByteLimit } from '../src/upstream/body.js'
import { ByteCollector, collectBody } from '../src/upstream/collect.js'

/** `total` bytes 0..255 repeating, cut into chunks of the given sizes (cycled). */
function chunked(total: number, sizes: number[]): Buffer[] {
  const whole = Buffer.alloc(total)
  for (let i = 0; i < total; i++) whole[i] = i & 0xff
  const parts: Buffer[] = []
  for (let at = 0, i = 0; at < total; i++) {
    const size = sizes[i % sizes.length] as number
    parts.push(whole.subarray(at, at + size))
    at += size
  }
  return parts
}

const SHAPES: Array<[string, number, number[]]> = [
  ['empty', 0, [1]],
  ['one chunk', 1000, [1000]],
  ['1-byte chunks', 70_000, [1]],
  ['mixed small and large', 200_000, [1, 4095, 4096, 3, 65_536, 17]],
  ['exactly the limit', 1 << 16, [7, 1 << 15]],
]

describe('ByteCollector / collectBody', () => {
  for (const [why, total, sizes] of SHAPES) {
    it(`${why}: the exact bytes, in order`, async () => {
      const parts = chunked(total, sizes)
      const bytes = await collectBody(Readable.from(parts, { objectMode: false }), Math.max(total, 1 << 16))
      expect(bytes?.equals(Buffer.concat(parts))).toBe(true)
    })
  }

  it('refuses the chunk that passes the limit and keeps what came before', () => {
    const c = new ByteCollector(10)
    expect(c.append(Buffer.from('12345'))).toBe(true)
    expect(c.append(Buffer.from('678901'))).toBe(false)
    expect(c.append(Buffer.from('67890'))).toBe(true)
    expect(c.bytes().toString()).toBe('1234567890')
  })

  it('takes Uint8Array views without copying their whole buffer', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9])
    const c = new ByteCollector(100)
    c.append(backing.subarray(2, 5))
    expect([...c.bytes()]).toEqual([1, 2, 3])
    c.append(new Uint8Array([4]))
    expect([...c.bytes()]).toEqual([1, 2, 3, 4])
  })

  it('resolves null past the limit', async () => {
    expect(await collectBody(Readable.from(chunked(5000, [1])), 4999)).toBeNull()
  })
})

describe('ByteLimit', () => {
  for (const [why, total, sizes] of SHAPES) {
    it(`${why}: passes the exact bytes in order, joining small chunks`, async () => {
      const parts = chunked(total, sizes)
      const limit = new ByteLimit(1 << 20)
      const out: Buffer[] = []
      limit.on('data', (c: Buffer) => out.push(c))
      const ended = new Promise((r) => limit.once('end', r))
      Readable.from(parts).pipe(limit)
      await ended
      expect(Buffer.concat(out).equals(Buffer.concat(parts))).toBe(true)
      if (why === '1-byte chunks') expect(out.length).toBeLessThan(total / 1000)
    })
  }

  it('fails the stream once the count passes the limit', async () => {
    const limit = new ByteLimit(100)
    limit.resume()
    const failed = new Promise<Error>((r) => limit.once('error', r))
    Readable.from(chunked(101, [1])).pipe(limit)
    expect(await failed).toBeInstanceOf(BodyTooLargeError)
  })
})
