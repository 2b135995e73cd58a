import { describe, expect, it } from 'vitest'
import { joinedRegions, percentDecoded } from '../src/views.js'

const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('latin1'))
const b = (s: string) => Buffer.from(s, 'latin1')

describe('percentDecoded', () => {
  it('decodes every well-formed escape, any hex case, and keeps malformed ones', () => {
    expect(text(percentDecoded(b('a%41%6a%6A%zz%4%'), false))).toBe('aAjj%zz%4%')
    expect(text(percentDecoded(b('%2541'), false))).toBe('%41')
    expect(text(percentDecoded(b('%ff%00'), false))).toBe('\xff\x00')
  })

  it('reads + as a space only in form mode', () => {
    expect(text(percentDecoded(b('a+b%20c'), true))).toBe('a b c')
    expect(text(percentDecoded(b('a+b%20c'), false))).toBe('a+b c')
    expect(text(percentDecoded(b('a+b'), true))).toBe('a b')
    // A + that an escape decodes to is a plus.
    expect(text(percentDecoded(b('a+%2B+b'), true))).toBe('a + b')
  })

  it('is null when nothing would change', () => {
    expect(percentDecoded(b('plain text'), false)).toBeNull()
    expect(percentDecoded(b('100% sure, %zz'), false)).toBeNull()
    expect(percentDecoded(b('a+b'), false)).toBeNull()
    expect(percentDecoded(b(''), true)).toBeNull()
  })
})

/** The whole input with its breaks taken out (one region, as context reaches everywhere). */
function joined(input: string): string | null {
  const regions = joinedRegions(b(input), 10_000)
  if (regions.length === 0) return null
  expect(regions).toHaveLength(1)
  return text(regions[0]?.bytes ?? null)
}

describe('joinedRegions', () => {
  it('takes out CR, LF and the JSON escapes \\n and \\r between encoded bytes, and reads \\/ as /', () => {
    expect(joined('ab\r\ncd\nef\rg')).toBe('abcdefg')
    expect(joined('ab\\ncd\\r\\nef')).toBe('abcdef')
    expect(joined('a\\/b\\/c')).toBe('a/b/c')
    expect(joined('Zm9v+/\n-_%41')).toBe('Zm9v+/-_%41')
  })

  it('keeps line breaks that are not inside encoded text', () => {
    expect(joined('{\n  "a": 1,\n  "b": 2\n}\n')).toBeNull()
    expect(joined('"x",\\n"y"')).toBeNull()
    expect(joined('\nstart and end\n')).toBeNull()
    expect(joined('keep,\nthis\nnot')).toBe('keep,\nthisnot')
  })

  it('keeps an escaped backslash and every other escape as they are', () => {
    // JSON "\\n" is a backslash and an n: no line break.
    expect(joined('x\\\\ny')).toBeNull()
    expect(joined('\\"q\\"\\t\\u0041\\/')).toBe('\\"q\\"\\t\\u0041/')
    expect(joined('end\\')).toBeNull()
  })

  it('handles the three bytes mixed in any order and density', () => {
    expect(joined('a\\\\b\\nc\r\\/d\n\ne\\\\f\\rg')).toBe('a\\\\bc\r/de\\\\fg')
    const long = `${'x\\\\'.repeat(1000)}y\n${'y'.repeat(1000)}`
    expect(joined(long)).toBe(`${'x\\\\'.repeat(1000)}y${'y'.repeat(1000)}`)
  })

  it('returns only the stretches around breaks, with their context, and where each join is', () => {
    const input = `${'a'.repeat(50)}\n${'b'.repeat(50)}, ${'c'.repeat(10)}\r\n${'d'.repeat(3)}\n${'e'.repeat(60)}`
    const regions = joinedRegions(b(input), 5)
    expect(regions.map((r) => [text(r.bytes), r.joins])).toEqual([
      ['aaaaabbbbb', [5]],
      // Two breaks 3 bytes apart (within 2 × 5) share one stretch.
      ['cccccdddeeeee', [5, 8]],
    ])
    // Context stops at the ends of the input.
    expect(joinedRegions(b('ab\ncd'), 5).map((r) => [text(r.bytes), r.joins])).toEqual([['abcd', [2]]])
  })
})
