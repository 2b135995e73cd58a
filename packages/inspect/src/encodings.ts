/** How a secret was written where it was found. */
export type Encoding =
  | 'raw'
  | 'percent'
  | 'base64'
  | 'base64url'
  | 'hex'
  | 'json-escape'
  | 'form'
  /** HTML character references (`&#43;`, `&plus;`); only partly escaped secrets are found this way */
  | 'html'
  /** UTF-16 code units, low byte first (a body in UTF-16LE, whatever its charset says) */
  | 'utf-16le'
  /** UTF-16 code units, high byte first */
  | 'utf-16be'

/** One byte pattern derived from a secret. `fold` patterns match ASCII letters case-insensitively. */
export interface EncodedForm {
  readonly bytes: Uint8Array
  readonly encoding: Encoding
  readonly fold: boolean
}

const HEX = '0123456789abcdef'

function hex2(byte: number): string {
  return HEX.charAt(byte >> 4) + HEX.charAt(byte & 15)
}

/** `%xx` for every byte of the UTF-8 encoding. */
function percentEveryByte(raw: Uint8Array): string {
  let out = ''
  for (const b of raw) out += `%${hex2(b)}`
  return out
}

/** `\u00xx` for every UTF-16 code unit, as a JSON encoder that escapes everything would write it. */
function jsonEscapeEveryChar(value: string): string {
  let out = ''
  for (let i = 0; i < value.length; i++) {
    out += `\\u${value.charCodeAt(i).toString(16).padStart(4, '0')}`
  }
  return out
}

/**
 * The base64 characters of `raw` that do not depend on its neighbours, for each of the three
 * alignments (offset mod 3) it can have inside a larger base64 text. Character k covers bits
 * [6k, 6k+6); it is stable when those bits all belong to the secret.
 */
export function base64StableMiddles(raw: Uint8Array): string[] {
  const out: string[] = []
  for (let align = 0; align < 3; align++) {
    const padded = new Uint8Array(align + raw.length)
    padded.set(raw, align)
    const text = asBuffer(padded).toString('base64')
    const first = Math.ceil((8 * align) / 6)
    const end = Math.floor((8 * align + 8 * raw.length) / 6)
    out.push(text.slice(first, end))
  }
  return out
}

/** The same bytes as a Buffer, without a copy (Buffer's `indexOf`, `copy` and `toString` run natively). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function latin1(text: string): Uint8Array {
  return Buffer.from(text, 'latin1')
}

/**
 * Every form of `value` the matcher looks for. Forms identical to one already listed are left out.
 * Folded forms are stored lower-cased (the matcher compares folded input against them).
 */
export function encodedForms(value: string): EncodedForm[] {
  const raw = Buffer.from(value, 'utf8')
  const forms: EncodedForm[] = []
  const seen = new Set<string>()
  const add = (text: string | Uint8Array, encoding: Encoding, fold: boolean): void => {
    let bytes = typeof text === 'string' ? latin1(text) : text
    if (fold) bytes = foldBytes(bytes)
    const key = `${fold ? 'f' : 'x'}:${Buffer.from(bytes).toString('latin1')}`
    if (seen.has(key)) return
    seen.add(key)
    forms.push({ bytes, encoding, fold })
  }

  add(raw, 'raw', false)
  // Percent forms only where they differ from the raw text (a folded copy of the raw text would
  // report case variants of the secret as "percent").
  const component = encodeURIComponent(value)
  if (component !== value) add(component, 'percent', true)
  add(percentEveryByte(raw), 'percent', true)
  const form = new URLSearchParams({ v: value }).toString().slice(2)
  if (form !== value && form !== component) add(form, 'form', true)
  const middles = base64StableMiddles(raw)
  for (const middle of middles) add(middle, 'base64', false)
  for (const middle of middles) add(middle.replaceAll('+', '-').replaceAll('/', '_'), 'base64url', false)
  add(raw.toString('hex'), 'hex', true)
  add(jsonEscapeEveryChar(value), 'json-escape', true)
  // A body in UTF-16 with no charset, or the wrong one, holds the secret as these bytes: found and
  // redacted whatever the Content-Type says (see redact.ts for the replacement in kind).
  const wide = Buffer.from(value, 'utf16le')
  add(wide, 'utf-16le', false)
  add(Buffer.from(wide).swap16(), 'utf-16be', false)
  const stringified = JSON.stringify(value).slice(1, -1)
  if (stringified !== value) add(Buffer.from(stringified, 'utf8'), 'json-escape', false)
  if (value.includes('/')) add(Buffer.from(stringified.replaceAll('/', '\\/'), 'utf8'), 'json-escape', false)
  // A header carries the secret one byte per character (Latin-1: Node and undici write header values
  // so), not as UTF-8: for `é` or `ü` those bytes differ, and an upstream that echoes the header it
  // received sends them back (raw, or base64/hex/percent of them). They went unredacted.
  if (raw.length !== value.length && isLatin1(value)) {
    const wire = latin1(value)
    add(wire, 'raw', false)
    add(percentEveryByte(wire), 'percent', true)
    const wireMiddles = base64StableMiddles(wire)
    for (const middle of wireMiddles) add(middle, 'base64', false)
    for (const middle of wireMiddles)
      add(middle.replaceAll('+', '-').replaceAll('/', '_'), 'base64url', false)
    add(asBuffer(wire).toString('hex'), 'hex', true)
  }
  return forms
}

/** ASCII lower-casing of each byte (other bytes unchanged). */
export const FOLD: Uint8Array = (() => {
  const table = new Uint8Array(256)
  for (let b = 0; b < 256; b++) table[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b
  return table
})()

export function foldBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = FOLD[bytes[i] ?? 0] ?? 0
  return out
}

/** Every character fits in one byte (how Node hands out raw header bytes). */
export function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false
  return true
}
