import { randomBytes } from 'node:crypto'
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  createDecoder,
  DecodeError,
  decodeBody,
  decodeBodyAsync,
  describeCoding,
  isDecodable,
  listCodings,
} from '../src/index.js'

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

async function asyncError(promise: Promise<unknown>): Promise<DecodeError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError)
    return error as DecodeError
  }
  throw new Error('expected a DecodeError')
}

describe('listCodings', () => {
  it.each([
    [null, []],
    ['', []],
    ['identity', []],
    ['gzip', ['gzip']],
    [' GZIP ', ['gzip']],
    ['gzip,,', ['gzip']],
    [',, br ,', ['br']],
    ['identity, gzip', ['gzip']],
    ['gzip, br', ['gzip', 'br']],
    [['identity', 'gzip'], ['gzip']],
    [
      ['gzip', 'gzip'],
      ['gzip', 'gzip'],
    ],
    [
      ['x-gzip', 'Identity', 'ZSTD'],
      ['x-gzip', 'zstd'],
    ],
  ] as const)('%j lists %j', (values, expected) => {
    expect(listCodings(values as string | string[] | null)).toEqual(expected)
  })

  it('knows which codings it decodes, and quotes only registered names', () => {
    for (const c of ['gzip', 'x-gzip', 'deflate', 'br']) expect(isDecodable(c)).toBe(true)
    for (const c of ['zstd', 'compress', 'identity', 'chunked', 'GZIP']) expect(isDecodable(c)).toBe(false)
    expect(describeCoding('zstd')).toBe('"zstd"')
    expect(describeCoding('hunter2-secret')).toBe('an unknown coding')
    expect(createDecoder('zstd')).toBeNull()
  })
})

describe('decodeBodyAsync', () => {
  it.each([
    ['gzip', gzipSync(plain)],
    ['x-gzip', gzipSync(plain)],
    ['deflate', deflateSync(plain)],
    ['deflate', deflateRawSync(plain)],
    ['br', brotliCompressSync(plain)],
  ])('round-trips %s', async (coding, body) => {
    expect(Buffer.from(await decodeBodyAsync(body, [coding], 1_000_000)).equals(plain)).toBe(true)
  })

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('stops a %s bomb at maxBytes without holding the event loop', async (coding, compress) => {
    const bomb = compress(Buffer.alloc(64 * 1024 * 1024))
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    const started = performance.now()
    const error = await asyncError(decodeBodyAsync(bomb, [coding], 16 * 1024 * 1024))
    const took = performance.now() - started
    clearInterval(timer)
    expect(error.code).toBe('too_large')
    expect(error.message).toContain(`${16 * 1024 * 1024} bytes`)
    // Timers kept firing while zlib worked on the thread pool.
    if (took > 20) expect(ticks).toBeGreaterThan(2)
  })

  it('refuses corrupt input, an unknown coding, and output one byte over', async () => {
    expect((await asyncError(decodeBodyAsync(Buffer.from('not gzip'), ['gzip'], 1000))).code).toBe('corrupt')
    expect((await asyncError(decodeBodyAsync(plain, ['zstd'], 1_000_000))).code).toBe('unsupported')
    expect((await asyncError(decodeBodyAsync(gzipSync(plain), ['gzip'], plain.length - 1))).code).toBe(
      'too_large',
    )
    expect((await decodeBodyAsync(gzipSync(plain), ['gzip'], plain.length)).length).toBe(plain.length)
    await expect(decodeBodyAsync(plain, ['gzip'], -1)).rejects.toThrow(TypeError)
  })
})

describe('createDecoder: deflate as a stream', () => {
  const streamed = (stream: NonNullable<ReturnType<typeof createDecoder>>, chunks: Buffer[]) =>
    new Promise<Buffer>((resolve, reject) => {
      const out: Buffer[] = []
      stream.on('data', (c: Buffer) => out.push(c))
      stream.on('end', () => resolve(Buffer.concat(out))).on('error', reject)
      for (const c of chunks) stream.write(c)
      stream.end()
    })
  const bytewise = (b: Buffer) => [...b].map((x) => Buffer.from([x]))

  it.each([
    ['zlib', deflateSync(plain)],
    ['raw (as some servers send it)', deflateRawSync(plain)],
  ])('undoes %s, whole or one byte at a time, as decodeBody does', async (_name, encoded) => {
    expect(Buffer.from(decodeBody(encoded, 'deflate', 1 << 20))).toEqual(plain)
    expect(await streamed(createDecoder('deflate') as never, [encoded])).toEqual(plain)
    expect(await streamed(createDecoder('deflate') as never, bytewise(encoded))).toEqual(plain)
  })

  it('fails corrupt, cut and empty input, as the zlib decoder did', async () => {
    await expect(streamed(createDecoder('deflate') as never, [randomBytes(200)])).rejects.toThrow()
    await expect(streamed(createDecoder('deflate') as never, [Buffer.from([0x78])])).rejects.toThrow()
    await expect(streamed(createDecoder('deflate') as never, [])).rejects.toThrow('unexpected end of file')
  })
})

describe('one coding table: every decode entry point undoes the same codings', () => {
  const encoders: Record<string, (b: Buffer) => Buffer> = {
    gzip: gzipSync,
    'x-gzip': gzipSync,
    br: brotliCompressSync,
    deflate: deflateSync,
  }
  it.each(['gzip', 'x-gzip', 'br', 'deflate', 'zstd', 'compress', 'x-compress', 'aes128gcm'])(
    '%s: isDecodable, createDecoder, decodeBody and decodeBodyAsync agree',
    async (coding) => {
      const encode = encoders[coding]
      expect(isDecodable(coding)).toBe(encode !== undefined)
      const stream = createDecoder(coding)
      expect(stream !== null).toBe(encode !== undefined)
      if (encode === undefined) {
        expect(decodeError(() => decodeBody(plain, coding, 1 << 20)).code).toBe('unsupported')
        await expect(decodeBodyAsync(plain, [coding], 1 << 20)).rejects.toMatchObject({ code: 'unsupported' })
        return
      }
      const encoded = encode(plain)
      expect(Buffer.from(decodeBody(encoded, coding, 1 << 20))).toEqual(plain)
      expect(Buffer.from(await decodeBodyAsync(encoded, [coding], 1 << 20))).toEqual(plain)
      const chunks: Buffer[] = []
      stream?.on('data', (chunk: Buffer) => chunks.push(chunk))
      await new Promise<void>((resolve, reject) => {
        stream?.on('end', resolve).on('error', reject)
        stream?.end(encoded)
      })
      expect(Buffer.concat(chunks)).toEqual(plain)
    },
  )
})
