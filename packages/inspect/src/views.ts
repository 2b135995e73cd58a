/**
 * Views of agent-controlled input that undo the ways a writer wraps or re-encodes text, so a secret
 * written that way is still found: percent-encoding, once or several times (`%2541` is `%41` is
 * `A`), and line breaks, which MIME and PEM put into base64 every 64 or 76 characters (raw, or as
 * the JSON escapes `\n` and `\r`), plus the JSON escape `\/` that some encoders write for every `/`
 * of a base64 text. Input with nothing to undo costs an `indexOf` pass per view and no copy: the
 * decoded view is then null, and the line-break view has no regions.
 */

import { asBuffer } from './encodings.js'

/** How many times percent-encoding is undone at most (`%252541` takes three). */
export const MAX_PERCENT_ROUNDS = 3

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
}

function hexValue(b: number): number {
  return b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x57
}

/**
 * Lenient percent-decoding: `%XX` (any hex case) becomes its byte, a malformed escape stays as it
 * is, and a `+` as written becomes a space when `form` (a `+` an escape decodes to stays). Null
 * when nothing would change. Runs between escapes are copied whole.
 */
export function percentDecoded(input: Uint8Array, form: boolean): Uint8Array | null {
  const bytes = asBuffer(input)
  const plus = form && bytes.indexOf(0x2b) !== -1
  let next = nextPercent(bytes, 0)
  if (next === -1 && !plus) return null
  const out = Buffer.allocUnsafe(bytes.length)
  let o = 0
  let from = 0
  const copyTo = (to: number): void => {
    const start = o
    o += bytes.copy(out, o, from, to)
    if (plus) for (let i = start; i < o; i++) if (out[i] === 0x2b) out[i] = 0x20
  }
  while (next !== -1) {
    copyTo(next)
    out[o++] = (hexValue(bytes[next + 1] as number) << 4) | hexValue(bytes[next + 2] as number)
    from = next + 3
    next = nextPercent(bytes, from)
  }
  copyTo(bytes.length)
  return out.subarray(0, o)
}

const USER_TOKEN_STEM = 'aegis_us'

/** Escapes seen in an operator-token stem (`escapedUserTokenStem`). */
export const STEM_PERCENT = 1
export const STEM_JSON = 2

/**
 * Whether `bytes` holds the start of an operator token (`aegis_us`) with some of its characters
 * escaped, and how: `STEM_PERCENT` for `%61`, `STEM_JSON` for `\u0061` (bits; 0 for none).
 * Operator tokens are found by shape (the gate cannot know them), and a body's decoded views are
 * not searched for formats in general (too costly per byte), so a body is decoded for them only
 * when this finds one. No copy: a walk from each `a`, `%` or `\`.
 */
export function escapedUserTokenStem(input: Uint8Array): number {
  const bytes = asBuffer(input)
  let found = 0
  // An escaped stem holds an escape within its first 8 characters, so it starts at that escape or
  // at an `a` up to 7 bytes before it: the walk costs a few steps per escape, not one per byte.
  for (const mark of [0x25, 0x5c]) {
    for (let e = bytes.indexOf(mark); e !== -1; e = bytes.indexOf(mark, e + 1)) {
      // Only `%XX` and `\uXXXX` spell a stem character (`\n`, `\"` and the like are passed over).
      if (mark === 0x5c ? bytes[e + 1] !== 0x75 : hexAt(bytes, e + 1, 2) === -1) continue
      for (let i = Math.max(0, e - USER_TOKEN_STEM.length + 1); i <= e; i++) {
        if (i < e && bytes[i] !== 0x61) continue
        found |= stemAt(bytes, i)
      }
    }
  }
  return found
}

/** The escapes of an `aegis_us` written at `i` with at least one escape, or 0. */
function stemAt(bytes: Buffer, i: number): number {
  const n = bytes.length
  let j = i
  let seen = 0
  for (let k = 0; k < USER_TOKEN_STEM.length; k++) {
    if (j >= n) return 0
    const want = USER_TOKEN_STEM.charCodeAt(k)
    const b = bytes[j]
    if (b === want) j++
    else if (b === 0x25 && hexAt(bytes, j + 1, 2) === want) {
      j += 3
      seen |= STEM_PERCENT
    } else if (b === 0x5c && bytes[j + 1] === 0x75 && hexAt(bytes, j + 2, 4) === want) {
      j += 6
      seen |= STEM_JSON
    } else return 0
  }
  return seen
}

/** The value of `digits` hex digits at `at`, or -1. */
function hexAt(bytes: Buffer, at: number, digits: number): number {
  let value = 0
  for (let d = 0; d < digits; d++) {
    const b = bytes[at + d]
    if (b === undefined || !isHex(b)) return -1
    value = (value << 4) | hexValue(b)
  }
  return value
}

/** Whether `bytes` holds `%25`, an encoded percent sign: the mark of a second layer of encoding. */
export function hasEncodedPercent(bytes: Uint8Array): boolean {
  return asBuffer(bytes).indexOf('%25', 0, 'latin1') !== -1
}

/** The index of the next well-formed `%XX` at or after `from`, or -1. */
function nextPercent(bytes: Buffer, from: number): number {
  for (let i = bytes.indexOf(0x25, from); i !== -1; i = bytes.indexOf(0x25, i + 1)) {
    const h = bytes[i + 1]
    const l = bytes[i + 2]
    if (h !== undefined && l !== undefined && isHex(h) && isHex(l)) return i
  }
  return -1
}

/** Letters, digits, `+ / - _` (base64 and base64url) and `%`: what an encoded secret is made of. */
function isEncodedByte(b: number | undefined): boolean {
  if (b === undefined) return false
  const lower = b | 0x20
  return (
    (b >= 0x30 && b <= 0x39) ||
    (lower >= 0x61 && lower <= 0x7a) ||
    b === 0x2b ||
    b === 0x2f ||
    b === 0x2d ||
    b === 0x5f ||
    b === 0x25
  )
}

/** The length of the line break at `at`: 1 for CR or LF, 2 for the JSON escapes `\n` and `\r`, else 0. */
function breakLength(bytes: Uint8Array, at: number): number {
  const b = bytes[at]
  if (b === 0x0a || b === 0x0d) return 1
  if (b === 0x5c) {
    const next = bytes[at + 1]
    if (next === 0x6e || next === 0x72) return 2
  }
  return 0
}

/**
 * Where the line breaks inside encoded text are, as a flat list `[start, end, start, end, …]` of
 * input ranges to take out: a run of CR, LF and the JSON escapes `\n` and `\r` when the bytes on
 * both sides of it are letters, digits, `+ / - _` or `%`. That is where MIME and PEM break base64,
 * and where a break could split a secret; a line break after a comma or before an indent
 * (pretty-printed JSON) is not one. A `\/` is also listed (its range is the backslash alone: the
 * `/` stays). Other escapes, `\\` included, are skipped with the byte after them.
 */
function breaksToTakeOut(bytes: Buffer): number[] {
  const cuts: number[] = []
  // Where the next LF, CR and backslash are; each is searched again only once passed.
  let lf = bytes.indexOf(0x0a)
  let cr = bytes.indexOf(0x0d)
  let bs = bytes.indexOf(0x5c)
  for (let at = first(lf, cr, bs); at !== -1; at = first(lf, cr, bs)) {
    let resume: number
    if (bytes[at] === 0x5c && bytes[at + 1] === 0x2f) {
      cuts.push(at, at + 1)
      resume = at + 2
    } else {
      const length = breakLength(bytes, at)
      if (length === 0) {
        resume = at + 2 // another escape: it and the byte after it stay
      } else if (!isEncodedByte(bytes[at - 1])) {
        resume = at + length
      } else {
        let end = at + length
        for (let more = breakLength(bytes, end); more > 0; more = breakLength(bytes, end)) end += more
        if (isEncodedByte(bytes[end])) cuts.push(at, end)
        resume = end
      }
    }
    if (lf !== -1 && lf < resume) lf = bytes.indexOf(0x0a, resume)
    if (cr !== -1 && cr < resume) cr = bytes.indexOf(0x0d, resume)
    if (bs !== -1 && bs < resume) bs = bytes.indexOf(0x5c, resume)
  }
  return cuts
}

/** The smallest of three positions that are not -1, or -1. */
function first(a: number, b: number, c: number): number {
  let min = a
  if (b !== -1 && (min === -1 || b < min)) min = b
  if (c !== -1 && (min === -1 || c < min)) min = c
  return min
}

/**
 * A stretch of input with its line breaks taken out. `joins` holds, for each break taken out, the
 * offset in `bytes` of the byte right after it: a match covering `join - 1` and `join` is one the
 * break hid.
 */
export interface JoinedRegion {
  readonly bytes: Uint8Array
  readonly joins: readonly number[]
}

/**
 * The stretches of `input` around its line breaks inside encoded text (see `breaksToTakeOut`),
 * with those breaks taken out, each with `reach` bytes of context on both sides; breaks closer
 * than `2 × reach` share a stretch. With `reach` = the longest pattern − 1, every match that a
 * break hid lies whole inside one stretch, so only the stretches need scanning, not the input:
 * plain text with line breaks costs one pass of `indexOf`. Empty when there is nothing to take out.
 */
export function joinedRegions(input: Uint8Array, reach: number): JoinedRegion[] {
  const bytes = asBuffer(input)
  const cuts = breaksToTakeOut(bytes)
  const regions: JoinedRegion[] = []
  for (let k = 0; k < cuts.length; ) {
    // One region: cuts k .. j-1 (pairs), each within 2 × reach of the one before.
    let j = k + 2
    while (j < cuts.length && (cuts[j] as number) - (cuts[j - 1] as number) <= 2 * reach) j += 2
    const from = Math.max(0, (cuts[k] as number) - reach)
    const to = Math.min(bytes.length, (cuts[j - 1] as number) + reach)
    const out = Buffer.allocUnsafe(to - from)
    const joins: number[] = []
    let o = 0
    let at = from
    for (let c = k; c < j; c += 2) {
      o += bytes.copy(out, o, at, cuts[c] as number)
      joins.push(o)
      at = cuts[c + 1] as number
    }
    o += bytes.copy(out, o, at, to)
    regions.push({ bytes: out.subarray(0, o), joins })
    k = j
  }
  return regions
}
