import { MIN_SECRET_BYTES } from '@aegis/guard'
import { FOLD } from './encodings.js'
import { mayEndCutOff, type tablesOf, UTF16BE, UTF16LE } from './matcher.js'

type Tables = ReturnType<typeof tablesOf>

const BACKSLASH = 0x5c
const PERCENT = 0x25
const AMPERSAND = 0x26

/** Per matcher: the patterns each byte value can begin (both cases for a case-blind pattern). */
const byFirstByte = new WeakMap<Tables, (number[] | undefined)[]>()

function patternsByFirstByte(t: Tables): (number[] | undefined)[] {
  let index = byFirstByte.get(t)
  if (index !== undefined) return index
  index = new Array<number[] | undefined>(256)
  const add = (b: number, p: number) => {
    const list = index?.[b]
    if (list === undefined) (index as (number[] | undefined)[])[b] = [p]
    else list.push(p)
  }
  for (let p = 0; p < t.count; p++) {
    const first = t.bytes[t.offset[p] as number] as number
    add(first, p)
    if (t.fold[p] === 1 && first >= 0x61 && first <= 0x7a) add(first - 0x20, p)
  }
  byFirstByte.set(t, index)
  return index
}

/** Whether buf[at…n) is the start of pattern `p` cut off by the end `n` (a shorter run, same bytes). */
function runsOffAsPrefix(t: Tables, p: number, buf: Uint8Array, at: number, n = buf.length): boolean {
  const rest = n - at
  // A whole occurrence in `buf` is found by this scan; only one still growing is a reason to wait.
  if (rest >= (t.length[p] as number)) return false
  const { bytes } = t
  const off = t.offset[p] as number
  if (t.fold[p] === 1) {
    for (let k = 0; k < rest; k++) if (FOLD[buf[at + k] as number] !== bytes[off + k]) return false
  } else {
    for (let k = 0; k < rest; k++) if (buf[at + k] !== bytes[off + k]) return false
  }
  return true
}

/**
 * The first position in buf[from…] where an occurrence may begin that the next chunk could
 * complete: where the rest of `buf` is the start of some pattern, or (conservatively) `from` when
 * the rest holds the start of an escape (`\`, `%`, `&`), whose decoding could be a pattern's start.
 * `buf.length` when there is none: every byte is final, and a stream of words or tokens without
 * line breaks leaves chunk by chunk instead of waiting for the next one.
 */
export function holdStart(t: Tables, buf: Uint8Array, from: number): number {
  const n = buf.length
  for (let i = n - 1; i >= from; i--) {
    const b = buf[i] as number
    if (b === BACKSLASH || b === PERCENT || b === AMPERSAND) return from
  }
  return prefixStart(t, buf, from)
}

/**
 * The first position in buf[from…] where the rest of `buf` is the start of some pattern (no
 * escapes considered: for text already decoded); `buf.length` when there is none.
 */
export function prefixStart(t: Tables, buf: Uint8Array, from: number): number {
  const n = buf.length
  const index = patternsByFirstByte(t)
  for (let at = from; at < n; at++) {
    const candidates = index[buf[at] as number]
    if (candidates === undefined) continue
    for (const p of candidates) if (runsOffAsPrefix(t, p, buf, at)) return at
  }
  return n
}

/**
 * Shortest beginning of a pattern that is redacted when the input ends in it (`cutOffStart`): the
 * gate's shortest secret (MIN_SECRET_BYTES). Shorter is mostly a public prefix (`sk-`, `xoxb-`) and
 * text ends in such bytes by chance; from 8 bytes on it is as distinctive as a whole secret may be.
 */
export const CUT_OFF_MIN_BYTES = MIN_SECRET_BYTES

/**
 * Where data[…n) ends in the first `CUT_OFF_MIN_BYTES` or more bytes of some pattern — a secret an
 * answer broke off inside (the upstream ended it there, or cut its echo short) — at or after
 * `from`; the pattern, or -1 when it does not. The earliest such start wins (the longest piece).
 * Most inputs stop at the first test: their last byte occurs in no pattern.
 */
export function cutOffStart(
  t: Tables,
  data: Uint8Array,
  from: number,
  n = data.length,
  base = 0,
): CutOff | null {
  if (n - from < CUT_OFF_MIN_BYTES || t.patternByte[data[n - 1] as number] === 0) return null
  // One lookup rules out nearly every input: its last 8 bytes are inside no pattern.
  if (!mayEndCutOff(t, data, n)) return null
  for (let at = Math.max(from, n - t.longestPattern + 1); at <= n - CUT_OFF_MIN_BYTES; at++) {
    const p = prefixAt(t, data, at, n, -1)
    if (p === -1) continue
    // In UTF-16 an ASCII start reads in both byte orders, one byte apart: the one at an odd offset
    // of the body is the misreading when the other follows (see redact.ts `assemble`).
    const form = t.encoding[p] as number
    if ((form === UTF16LE || form === UTF16BE) && ((base + at) & 1) === 1 && n - at > CUT_OFF_MIN_BYTES) {
      const other = prefixAt(t, data, at + 1, n, form === UTF16LE ? UTF16BE : UTF16LE)
      if (other !== -1) return { start: at + 1, pattern: other }
    }
    return { start: at, pattern: p }
  }
  return null
}

/** A pattern (of encoding `form`, or any when -1) that data[at…n) is the cut-off start of; else -1. */
function prefixAt(t: Tables, data: Uint8Array, at: number, n: number, form: number): number {
  const candidates = patternsByFirstByte(t)[data[at] as number]
  if (candidates === undefined) return -1
  for (const p of candidates) {
    if ((form === -1 || t.encoding[p] === form) && runsOffAsPrefix(t, p, data, at, n)) return p
  }
  return -1
}

export interface CutOff {
  readonly start: number
  readonly pattern: number
}
