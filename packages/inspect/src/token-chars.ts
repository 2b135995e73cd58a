/** `[A-Za-z0-9_-]`, as a character code or a byte: the characters a token is made of. */
export function isTokenCode(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f ||
    c === 0x2d
  )
}
