import { Transform, type TransformCallback } from 'node:stream'
import { TextDecoder } from 'node:util'
import { UnredactableResponseError } from './coding.js'

/** The text encodings a response body is transcoded from (to UTF-8) before redaction. */
export type Utf16 = 'utf-16' | 'utf-16le' | 'utf-16be'

/** Labels of UTF-16 (RFC 2781, WHATWG, IANA aliases); `utf-16` alone is read by its BOM. */
const UTF16_LABELS: ReadonlyMap<string, Utf16> = new Map([
  ['utf-16', 'utf-16'],
  ['utf16', 'utf-16'],
  ['unicode', 'utf-16'],
  ['csunicode', 'utf-16'],
  ['ucs-2', 'utf-16'],
  ['iso-10646-ucs-2', 'utf-16'],
  ['unicodefeff', 'utf-16'],
  ['utf-16le', 'utf-16le'],
  ['utf16le', 'utf-16le'],
  ['utf-16be', 'utf-16be'],
  ['utf16be', 'utf-16be'],
  ['unicodefffe', 'utf-16be'],
])

/**
 * Charsets in which ASCII text is not written as its ASCII bytes, which the gate does not decode:
 * UTF-32 / UCS-4, UTF-7 and the EBCDIC code pages. A secret echoed in them would pass redaction.
 */
const UNREDACTABLE =
  /^(?:utf-?32(?:le|be)?|ucs-?4|iso-10646-ucs-4|utf-?7|csutf7|unicode-1-1-utf-7|x-?ebcdic.*|ebcdic.*|(?:cp|ibm|ccsid)0?(?:37|273|277|278|280|284|285|290|297|420|424|500|870|871|875|880|905|918|1025|1026|1047|114[0-9])|cs(?:ibm|ebcdic).*)$/

/** The `charset` parameter of a Content-Type value, lower-cased, or null. */
function charsetOf(contentType: string): string | null {
  const at = contentType.toLowerCase().indexOf('charset')
  if (at === -1) return null
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType)
  if (match === null) return null
  return (match[1] ?? match[2] ?? '').trim().toLowerCase()
}

/**
 * The UTF-16 flavour to transcode a response body from, decided by its Content-Type charset (every
 * value, when the upstream sent the header twice); null for a charset that writes ASCII as ASCII
 * (the matcher's UTF-8 forms then find an ASCII secret). A charset the gate cannot read throws
 * `UnredactableResponseError`, as does more than one UTF-16 flavour: the body is never sent
 * unredacted. `detail` names registered labels only (the header is the upstream's).
 */
export function responseCharset(contentType: string | readonly string[] | undefined): Utf16 | null {
  if (contentType === undefined) return null
  let found: Utf16 | null = null
  for (const value of typeof contentType === 'string' ? [contentType] : contentType) {
    const charset = charsetOf(value)
    if (charset === null) continue
    if (UNREDACTABLE.test(charset)) {
      throw new UnredactableResponseError(
        `the upstream declared a charset the gate cannot decode for redaction ("${charset}")`,
      )
    }
    const utf16 = UTF16_LABELS.get(charset)
    if (utf16 === undefined) continue
    if (found !== null && found !== utf16) {
      throw new UnredactableResponseError('the upstream declared two different UTF-16 charsets')
    }
    found = utf16
  }
  return found
}

/** The Content-Type with its charset said to be UTF-8 (the body the agent gets is transcoded). */
export function utf8ContentType(contentType: string | readonly string[]): string {
  const value = typeof contentType === 'string' ? contentType : (contentType[0] as string)
  return value.replace(/(;\s*charset\s*=\s*)(?:"[^"]*"|[^;\s]*)/i, '$1utf-8')
}

/**
 * Transcodes UTF-16 text to UTF-8, chunk by chunk (a character split across chunks is kept for the
 * next). `utf-16` without an order reads the byte-order mark, little-endian without one.
 */
export class Utf16ToUtf8 extends Transform {
  #decoder: TextDecoder | null = null
  /** The first byte, while it is all there is. */
  #first: Buffer = Buffer.alloc(0)
  #label: Utf16

  constructor(label: Utf16) {
    super()
    this.#label = label
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#decoder === null) {
      if (this.#label === 'utf-16' && this.#first.length + chunk.length < 2) {
        this.#first = Buffer.concat([this.#first, chunk]) // the byte-order mark is two bytes
        callback()
        return
      }
      chunk = this.#first.length === 0 ? chunk : Buffer.concat([this.#first, chunk])
      let label = this.#label
      if (label === 'utf-16') label = chunk[0] === 0xfe && chunk[1] === 0xff ? 'utf-16be' : 'utf-16le'
      this.#decoder = new TextDecoder(label)
    }
    const text = this.#decoder.decode(chunk, { stream: true })
    callback(null, text.length === 0 ? undefined : Buffer.from(text, 'utf8'))
  }

  override _flush(callback: TransformCallback): void {
    this.#decoder ??= new TextDecoder('utf-16le')
    const text = this.#decoder.decode(
      this.#first.length === 0 || this.#label !== 'utf-16' ? undefined : this.#first,
    )
    callback(null, text.length === 0 ? undefined : Buffer.from(text, 'utf8'))
  }
}
