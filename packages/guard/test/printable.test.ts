import { describe, expect, it } from 'vitest'
import { escapeUnprintable } from '../src/index.js'

describe('escapeUnprintable', () => {
  it('returns printable ASCII as it is', () => {
    const text = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~'
    expect(escapeUnprintable(text)).toBe(text)
    expect(escapeUnprintable('')).toBe('')
  })

  it('escapes every ASCII control and DEL, wherever it sits', () => {
    for (let c = 0; c < 0x20; c++) {
      const ch = String.fromCharCode(c)
      const hex = c.toString(16).padStart(4, '0')
      expect(escapeUnprintable(`a${ch}`)).toBe(`a\\u${hex}`)
      expect(escapeUnprintable(`${ch}b`)).toBe(`\\u${hex}b`)
    }
    expect(escapeUnprintable('/x\x7f')).toBe('/x\\u007f')
    expect(escapeUnprintable('\x1b[31mred')).toBe('\\u001b[31mred')
  })

  it('keeps printable non-ASCII text and escapes what hides or reorders text beyond ASCII', () => {
    expect(escapeUnprintable('café ✓ 日本')).toBe('café ✓ 日本')
    expect(escapeUnprintable('a\u202Eb')).toBe('a\\u202eb') // right-to-left override
    expect(escapeUnprintable('a\u200Bb')).toBe('a\\u200bb') // zero-width space
    expect(escapeUnprintable('a\u0085b')).toBe('a\\u0085b') // C1 control
    expect(escapeUnprintable('\u{E0041}')).toBe('\\udb40\\udc41') // tag character
    expect(escapeUnprintable('x\uD800')).toBe('x\\ud800') // lone surrogate
  })
})
