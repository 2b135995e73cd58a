import { FOLD } from './encodings.js'
import type { tablesOf } from './matcher.js'

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

/** Whether buf[at…] is the start of pattern `p` cut off by the end of `buf` (a shorter run, same bytes). */
function runsOffAsPrefix(t: Tables, p: number, buf: Uint8Array, at: number): boolean {
  const rest = buf.length - at
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
