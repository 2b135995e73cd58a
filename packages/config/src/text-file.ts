/**
 * Decoding a YAML file's bytes as UTF-8 text, strictly: a file saved in another encoding (Latin-1,
 * Windows-1252, UTF-16) is an error naming its line, never text with U+FFFD where its bytes were
 * (a pattern or secret silently changed). Shared by the config file and policy files.
 */

export type DecodedText = { ok: true; text: string } | { ok: false; line: number; reason: string }

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** `ff fe` / `fe ff`: the byte order marks Windows editors write for "Unicode" (UTF-16). */
function utf16Bom(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  )
}

/**
 * The file's text, or the 1-based line of the first byte that is not UTF-8 text (an invalid
 * sequence, or a NUL: UTF-16 without a byte order mark puts one beside every ASCII character).
 * A UTF-8 byte order mark is kept (YAML parsers skip it).
 */
export function decodeUtf8Text(bytes: Uint8Array): DecodedText {
  if (utf16Bom(bytes)) {
    return { ok: false, line: 1, reason: 'the file is UTF-16 text, not UTF-8: save it as UTF-8' }
  }
  // Line by line: 0x0a never occurs inside a multi-byte UTF-8 sequence, so each line decodes alone.
  let start = 0
  let line = 1
  const parts: string[] = []
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start)
    if (end === -1) end = bytes.length
    const chunk = bytes.subarray(start, end)
    if (chunk.includes(0)) {
      return { ok: false, line, reason: 'the file holds a NUL byte: it is not UTF-8 text (UTF-16?)' }
    }
    try {
      parts.push(STRICT_UTF8.decode(chunk))
    } catch {
      return {
        ok: false,
        line,
        reason: 'the file is not valid UTF-8 (saved as Latin-1 or Windows-1252?): save it as UTF-8',
      }
    }
    start = end + 1
    line++
  }
  return { ok: true, text: parts.join('\n') }
}
