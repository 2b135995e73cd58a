import { asBuffer } from './encodings.js'
import { escapedRegions } from './escape-regions.js'
import { type Escapes, findEscapes } from './escapes.js'
import { forEachHit, type tablesOf } from './matcher.js'

type Tables = ReturnType<typeof tablesOf>

/** Called with the pattern and the input range `[start, end)` of its escaped spelling. */
export type OnEscapedHit = (pattern: number, start: number, end: number) => void

/**
 * Every occurrence of a pattern that the escape view (escapes.ts) holds and the input does not:
 * matches in the decoded stretches that cover at least one decoded escape, each mapped back to
 * the whole input range it was written over. `from` is where to start reading (past the tail of
 * an escape an earlier buffer began); returns where a scan of the bytes after `cut` must start.
 */
export function forEachEscapedHit(
  t: Tables,
  data: Uint8Array,
  onHit: OnEscapedHit,
  from = 0,
  cut = -1,
): number {
  if (t.count === 0 || !mayHoldEscape(data, from)) return cut
  const escapes = findEscapes(data, t.secretByte, from, cut)
  if (escapes.starts.length === 0) return escapes.resume
  forEachDecodedHit(t, data, escapes, onHit)
  return escapes.resume
}

/**
 * Every pattern found in the decoded stretches of `escapes` over `data` that covers at least one
 * escape, mapped back to the input range it was written over. A decoded escape is always shorter
 * than its spelling, so a range longer than the pattern holds one; the others are the direct
 * scan's. Shared by every escape view (backslash/percent/entity escapes, quoted-printable).
 */
export function forEachDecodedHit(t: Tables, data: Uint8Array, escapes: Escapes, onHit: OnEscapedHit): void {
  for (const region of escapedRegions(data, escapes, t.rawLongest - 1)) {
    forEachHit(t, region.bytes, (p, s) => {
      const length = t.length[p] as number
      const start = region.source(s)[0]
      const end = region.source(s + length - 1)[1]
      if (end - start > length) onHit(p, start, end)
    })
  }
}

/**
 * Whether data[from…] holds a byte an escape starts with (a backslash, `%` or `&`): three native scans,
 * and most bodies and header values (JSON without escapes) stop here, with nothing allocated.
 */
export function mayHoldEscape(data: Uint8Array, from = 0): boolean {
  const b = asBuffer(data)
  return b.indexOf(0x5c, from) !== -1 || b.indexOf(0x25, from) !== -1 || b.indexOf(0x26, from) !== -1
}

let found = false
const markFound: OnEscapedHit = () => {
  found = true
}

/** Whether the escape view of `data` holds an occurrence the input does not. */
export function hasEscapedHit(t: Tables, data: Uint8Array): boolean {
  found = false
  forEachEscapedHit(t, data, markFound)
  return found
}
