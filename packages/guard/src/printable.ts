/**
 * What forges or hides text where an operator reads it (a terminal, a log line, the dashboard): the
 * C0/C1 controls and DEL (escape sequences, CR/backspace overwrites, BEL), line and paragraph
 * separators, every format character (all bidi controls — overrides, isolates, LRM/RLM/ALM —,
 * zero-width characters, the BOM, tag characters), the other default-ignorable code points
 * (Hangul fillers, variation selectors), which render as nothing, and lone surrogates.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu

/** `\u001b`; a character beyond the BMP as its two UTF-16 escapes, as JSON writes it. */
function escapeCharacter(char: string): string {
  let out = ''
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`
  return out
}

/**
 * `text` with every character that could forge or hide what an operator reads replaced by its
 * `\uXXXX` escape. The one definition of "printable" for the ledger sanitiser and the CLI's text
 * views. Idempotent: an escape is printable.
 */
export function escapeUnprintable(text: string): string {
  // Printable ASCII (what nearly every path, name and message is) has nothing to escape: a loop
  // over the char codes costs a fraction of the Unicode-property regex, which is run otherwise.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c > 0x7e) return text.replace(UNPRINTABLE, escapeCharacter)
  }
  return text
}
