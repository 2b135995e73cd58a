/**
 * The escape view: input with its character escapes decoded, for a secret of which a writer
 * escaped only some characters (ASP.NET Core writes `+` as `\u002B`, Go writes `<` as `\u003c`,
 * a form encoder may write one byte as `%2B`, an HTML encoder `&#43;` or `&plus;`). Three
 * syntaxes, mixed freely within one text, each decoded once (no layers):
 *
 * - JSON: `\uXXXX` (a surrogate pair as one character) and `\/ \" \\ \b \f \n \r \t`;
 * - percent: `%XX`, any hex case;
 * - HTML character references: `&#D;` and `&#xH;` (`x` or `X`, the `;` optional, at most
 *   `MAX_REF_DIGITS` digits, leading zeros included) and the named ones in `NAMED` (`;` required).
 *
 * Only escapes that decode to bytes some secret holds are decoded ("relevant"): `\n` in a JSON text
 * is not, unless a secret has a line break. Only the stretches around relevant escapes are copied
 * and decoded, with enough context for a whole secret on each side, and every decoded byte keeps
 * the offsets of the input bytes it came from, so a match maps back to the escaped span. Input with
 * no relevant escape costs three `indexOf` passes and a constant amount of work per `\`, `%` and
 * `&`; every byte is looked at a bounded number of times (an escape is at most 12 bytes long).
 */

/** Digits an HTML numeric reference may have (leading zeros included): `&#x0000002B;` has 8. */
export const MAX_REF_DIGITS = 8
/** The longest escape of one byte of a secret: `&#x` + 8 digits + `;` (`\uXXXX` has 6, `%XX` 3). */
export const MAX_ESCAPE_PER_BYTE = 4 + MAX_REF_DIGITS

/**
 * The named references decoded: every HTML5 name for an ASCII character a secret may hold
 * (punctuation; letters and digits are never written as names), plus the legacy upper-case four.
 * Names for non-ASCII characters are left out: an encoder writes those as numbers or raw UTF-8.
 */
const NAMED: ReadonlyMap<string, number> = new Map([
  ['amp', 0x26],
  ['AMP', 0x26],
  ['lt', 0x3c],
  ['LT', 0x3c],
  ['gt', 0x3e],
  ['GT', 0x3e],
  ['quot', 0x22],
  ['QUOT', 0x22],
  ['apos', 0x27],
  ['plus', 0x2b],
  ['sol', 0x2f],
  ['bsol', 0x5c],
  ['equals', 0x3d],
  ['num', 0x23],
  ['percnt', 0x25],
  ['excl', 0x21],
  ['quest', 0x3f],
  ['commat', 0x40],
  ['dollar', 0x24],
  ['lpar', 0x28],
  ['rpar', 0x29],
  ['ast', 0x2a],
  ['comma', 0x2c],
  ['period', 0x2e],
  ['colon', 0x3a],
  ['semi', 0x3b],
  ['lowbar', 0x5f],
  ['lsqb', 0x5b],
  ['rsqb', 0x5d],
  ['lbrack', 0x5b],
  ['rbrack', 0x5d],
  ['lcub', 0x7b],
  ['rcub', 0x7d],
  ['lbrace', 0x7b],
  ['rbrace', 0x7d],
  ['verbar', 0x7c],
  ['vert', 0x7c],
  ['Hat', 0x5e],
  ['grave', 0x60],
])
/** `&` + the longest name (6) + `;` */
const MAX_NAMED = 8

/**
 * Every byte an escape is written with, beyond the character it stands for (`\/` and `\"` are
 * written with the character itself, which a secret holding it already puts in the pattern bytes).
 */
export const ESCAPE_SYNTAX: Uint8Array = (() => {
  const table = new Uint8Array(256)
  for (const c of '\\ubfnrt%&#xX;0123456789abcdefABCDEF') table[c.charCodeAt(0)] = 1
  for (const name of NAMED.keys()) for (const c of name) table[c.charCodeAt(0)] = 1
  return table
})()

const BACKSLASH = 0x5c
const PERCENT = 0x25
const AMPERSAND = 0x26
/** Marks a decoded value that is one byte (`%XX`), not a code point. */
export const BYTE = 0x1000000
/** A decoded value of no bytes at all (a quoted-printable soft line break). */
export const NOTHING = 0x2000000

export function hexValue(b: number | undefined): number {
  if (b === undefined) return -1
  if (b >= 0x30 && b <= 0x39) return b - 0x30
  const lower = b | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1
}

/** The code unit of `\uXXXX` at `at` (which holds the backslash), or -1. */
function unitAt(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== BACKSLASH || bytes[at + 1] !== 0x75) return -1
  let unit = 0
  for (let k = 2; k < 6; k++) {
    const h = hexValue(bytes[at + k])
    if (h < 0) return -1
    unit = (unit << 4) | h
  }
  return unit
}

/** What the short JSON escape `\X` stands for, by X (-1: not one). */
const SHORT: Int16Array = (() => {
  const table = new Int16Array(256).fill(-1)
  const pairs = [
    [0x2f, 0x2f],
    [0x22, 0x22],
    [0x5c, 0x5c],
    [0x62, 0x08],
    [0x66, 0x0c],
    [0x6e, 0x0a],
    [0x72, 0x0d],
    [0x74, 0x09],
  ]
  for (const [x, value] of pairs) table[x as number] = value as number
  return table
})()

// The escape just parsed: where it ends, and what it decodes to (-1: nothing a secret can hold).
let parsedEnd = 0
let parsedValue = -1

/**
 * Parse the backslash escape at `at`. A backslash pairs with the byte after it when the two are a
 * JSON escape (so `\\u002B` is a backslash and `u002B`, as JSON reads it); any other backslash
 * stands alone, so `\%2B` still holds the percent escape.
 */
function parseBackslash(bytes: Uint8Array, at: number): void {
  parsedValue = -1
  parsedEnd = at + 1
  const unit = unitAt(bytes, at)
  if (unit === -1) {
    const next = bytes[at + 1]
    const short = next === undefined ? -1 : (SHORT[next] as number)
    if (short !== -1) {
      parsedEnd = at + 2
      parsedValue = short
    }
    return
  }
  parsedEnd = at + 6
  if (unit >= 0xd800 && unit <= 0xdbff) {
    const low = unitAt(bytes, at + 6)
    if (low >= 0xdc00 && low <= 0xdfff) {
      parsedEnd = at + 12
      parsedValue = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
    }
    return // a lone surrogate is not UTF-8 any secret can hold
  }
  if (unit < 0xdc00 || unit > 0xdfff) parsedValue = unit
}

/** Parse the `%` at `at`. */
function parsePercent(bytes: Uint8Array, at: number): void {
  const h = hexValue(bytes[at + 1])
  const l = hexValue(bytes[at + 2])
  if (h < 0 || l < 0) {
    parsedEnd = at + 1
    parsedValue = -1
    return
  }
  parsedEnd = at + 3
  parsedValue = BYTE | (h << 4) | l
}

/** Parse the `&` at `at`: a numeric or named character reference, or nothing. */
function parseReference(bytes: Uint8Array, at: number): void {
  parsedEnd = at + 1
  parsedValue = -1
  if (bytes[at + 1] === 0x23) {
    const hex = (bytes[at + 2] as number | undefined) === 0x78 || bytes[at + 2] === 0x58
    let i = at + (hex ? 3 : 2)
    const digitsFrom = i
    let value = 0
    for (; i - digitsFrom < MAX_REF_DIGITS + 1; i++) {
      const d = hexValue(bytes[i])
      if (d < 0 || (!hex && d > 9)) break
      value = value * (hex ? 16 : 10) + d
    }
    const digits = i - digitsFrom
    if (digits === 0 || digits > MAX_REF_DIGITS) return
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return
    parsedEnd = bytes[i] === 0x3b ? i + 1 : i
    parsedValue = value
    return
  }
  const limit = Math.min(bytes.length, at + MAX_NAMED)
  for (let i = at + 1; i < limit; i++) {
    const b = bytes[i] as number
    if (b === 0x3b) {
      const code = NAMED.get(
        Buffer.from(bytes.buffer, bytes.byteOffset + at + 1, i - at - 1).toString('latin1'),
      )
      if (code !== undefined) {
        parsedEnd = i + 1
        parsedValue = code
      }
      return
    }
    if (!((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a)) return
  }
}

/** The UTF-8 bytes of a decoded value, written at out[o…]; returns how many. */
export function writeValue(value: number, out: Uint8Array, o: number): number {
  if (value === NOTHING) return 0
  if (value & BYTE) {
    out[o] = value & 0xff
    return 1
  }
  if (value < 0x80) {
    out[o] = value
    return 1
  }
  if (value < 0x800) {
    out[o] = 0xc0 | (value >> 6)
    out[o + 1] = 0x80 | (value & 0x3f)
    return 2
  }
  if (value < 0x10000) {
    out[o] = 0xe0 | (value >> 12)
    out[o + 1] = 0x80 | ((value >> 6) & 0x3f)
    out[o + 2] = 0x80 | (value & 0x3f)
    return 3
  }
  out[o] = 0xf0 | (value >> 18)
  out[o + 1] = 0x80 | ((value >> 12) & 0x3f)
  out[o + 2] = 0x80 | ((value >> 6) & 0x3f)
  out[o + 3] = 0x80 | (value & 0x3f)
  return 4
}

const scratch = new Uint8Array(4)

/** Whether every byte a value decodes to occurs in some secret. */
function isRelevant(value: number, secretByte: Uint8Array): boolean {
  if (value & BYTE) return secretByte[value & 0xff] === 1
  if (value < 0x80) return secretByte[value] === 1
  const n = writeValue(value, scratch, 0)
  for (let k = 0; k < n; k++) if (secretByte[scratch[k] as number] === 0) return false
  return true
}

/** The relevant escapes of an input, in order, as parallel lists. */
export interface Escapes {
  readonly starts: number[]
  readonly ends: number[]
  readonly values: number[]
  /**
   * Where the next scan must start to read the escapes after `cut` as this one did: past the end
   * of an escape that straddles `cut` (a backslash pairs with the byte after it), else `cut`.
   */
  readonly resume: number
}

/** Bytes looked at one by one before asking `indexOf` (a native call costs as much as ~100). */
const NEAR = 32

/** What to search for: a first byte, a second byte (-1: none), and the same for `indexOf`. */
interface Needles {
  readonly first: readonly number[]
  readonly second: readonly number[]
  readonly native: readonly (number | Buffer)[]
}

/**
 * Where the escapes start that can decode to a secret byte: `%` and `&`, and, when some secret
 * holds a backslash, every `\` (read in pairs, as JSON does). When none does, a decoded backslash
 * can never be part of a secret, so only `\u` and the short escapes of secret bytes (`\/` for a
 * secret with a `/`) are searched for, as two-byte needles: the `\n` and `\"` of ordinary JSON
 * text cost nothing. (Unpaired, `\\u002B` reads as a backslash and `+`: a secret there is found.)
 */
function needlesFor(secretByte: Uint8Array): Needles {
  const first = [PERCENT, AMPERSAND]
  const second = [-1, -1]
  const native: (number | Buffer)[] = [PERCENT, AMPERSAND]
  if (secretByte[BACKSLASH] === 1) {
    first.push(BACKSLASH)
    second.push(-1)
    native.push(BACKSLASH)
    return { first, second, native }
  }
  for (let x = 0; x < 256; x++) {
    const short = SHORT[x] as number
    if (x === 0x75 || (short !== -1 && secretByte[short] === 1)) {
      first.push(BACKSLASH)
      second.push(x)
      native.push(Buffer.of(BACKSLASH, x))
    }
  }
  return { first, second, native }
}

/** One set of needles per secret-byte table (one per matcher). */
const needleCache = new WeakMap<Uint8Array, Needles>()

/** The next position at or after `from` where a needle starts, or -1. */
function nextNeedle(
  bytes: Buffer,
  first: number,
  second: number,
  native: number | Buffer,
  from: number,
): number {
  const stop = Math.min(bytes.length, from + NEAR)
  for (let i = from; i < stop; i++) {
    if (bytes[i] === first && (second === -1 || bytes[i + 1] === second)) return i
  }
  return stop === bytes.length ? -1 : bytes.indexOf(native, stop)
}

/**
 * Find the relevant escapes of `input` from `from` on, in one left-to-right pass: the start of each
 * escape (see `needlesFor`) is found by a short look or by `indexOf`, parsed once, and the next
 * search for each needle starts after it (the searches for one needle never overlap).
 */
export function findEscapes(input: Uint8Array, secretByte: Uint8Array, from = 0, cut = -1): Escapes {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  let needles = needleCache.get(secretByte)
  if (needles === undefined) {
    needles = needlesFor(secretByte)
    needleCache.set(secretByte, needles)
  }
  const { first, second, native } = needles
  const k = first.length
  // A text without a backslash (most) is ruled out by one memchr instead of one needle search each.
  const anyBackslash = bytes.indexOf(BACKSLASH, from) !== -1
  const at: number[] = []
  for (let j = 0; j < k; j++) {
    const needle = native[j] as number | Buffer
    at.push(first[j] === BACKSLASH && !anyBackslash ? -1 : bytes.indexOf(needle, from))
  }
  const starts: number[] = []
  const ends: number[] = []
  const values: number[] = []
  let resume = cut
  for (;;) {
    let start = -1
    for (let j = 0; j < k; j++) {
      const p = at[j] as number
      if (p !== -1 && (start === -1 || p < start)) start = p
    }
    if (start === -1) break
    const b = bytes[start]
    if (b === BACKSLASH) parseBackslash(bytes, start)
    else if (b === PERCENT) parsePercent(bytes, start)
    else parseReference(bytes, start)
    const end = parsedEnd
    if (parsedValue !== -1 && isRelevant(parsedValue, secretByte)) {
      starts.push(start)
      ends.push(end)
      values.push(parsedValue)
    }
    if (start < cut && cut < end) resume = end
    for (let j = 0; j < k; j++) {
      const p = at[j] as number
      if (p !== -1 && p < end) {
        at[j] = nextNeedle(bytes, first[j] as number, second[j] as number, native[j] as number | Buffer, end)
      }
    }
  }
  return { starts, ends, values, resume }
}
