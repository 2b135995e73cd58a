import { asBuffer } from './encodings.js'
import { forEachDecodedHit, type OnEscapedHit } from './escaped-hits.js'
import { BYTE, type Escapes, hexValue, NOTHING } from './escapes.js'
import type { tablesOf } from './matcher.js'

type Tables = ReturnType<typeof tablesOf>

const EQUALS = 0x3d
const CR = 0x0d
const LF = 0x0a
const SPACE = 0x20
const TAB = 0x09

/**
 * The quoted-printable escapes (RFC 2045 §6.7) of `input` that matter to a secret: `=XX` (any hex
 * case) for a byte some secret holds, and every soft line break (`=` CRLF or `=` LF, with the
 * whitespace an encoder may leave between), which decodes to nothing and may split a secret
 * anywhere. Parsed left to right from `from`, each `=` once.
 */
export function findQuotedPrintable(input: Uint8Array, secretByte: Uint8Array, from = 0, cut = -1): Escapes {
  const bytes = asBuffer(input)
  const starts: number[] = []
  const ends: number[] = []
  const values: number[] = []
  let resume = cut
  for (let at = bytes.indexOf(EQUALS, from); at !== -1; ) {
    let end = at + 1
    let value = -1
    let i = at + 1
    while (bytes[i] === SPACE || bytes[i] === TAB) i++
    if (bytes[i] === CR && bytes[i + 1] === LF) {
      end = i + 2
      value = NOTHING
    } else if (bytes[i] === LF) {
      end = i + 1
      value = NOTHING
    } else {
      const h = hexValue(bytes[at + 1])
      const l = hexValue(bytes[at + 2])
      if (h >= 0 && l >= 0) {
        end = at + 3
        const b = (h << 4) | l
        if (secretByte[b] === 1) value = BYTE | b
      }
    }
    if (value !== -1) {
      starts.push(at)
      ends.push(end)
      values.push(value)
    }
    if (at < cut && cut < end) resume = end
    at = bytes.indexOf(EQUALS, end)
  }
  return { starts, ends, values, resume }
}

/**
 * Every occurrence of a pattern in the quoted-printable reading of `data` that some escape or soft
 * line break is part of, mapped back to the input range written for it (as forEachEscapedHit does
 * for the other escapes). Only for a body that may hold quoted-printable text (a MIME multipart
 * or message): elsewhere `=` is ordinary text (`?page=2`, base64 padding).
 */
export function forEachQuotedPrintableHit(t: Tables, data: Uint8Array, onHit: OnEscapedHit): void {
  if (t.count === 0 || asBuffer(data).indexOf(EQUALS) === -1) return
  const escapes = findQuotedPrintable(data, t.secretByte)
  if (escapes.starts.length === 0) return
  forEachDecodedHit(t, data, escapes, onHit)
}

/** Bytes a quoted-printable spelling of a secret may hold besides its own: `=`, hex digits, line breaks. */
export function isQuotedPrintableSyntax(b: number): boolean {
  return b === EQUALS || b === CR || b === LF || b === SPACE || b === TAB || hexValue(b) >= 0
}
