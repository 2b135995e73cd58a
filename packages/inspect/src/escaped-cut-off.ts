import { escapedRegions } from './escape-regions.js'
import { mayHoldEscape } from './escaped-hits.js'
import { type Escapes, findEscapes, MAX_ESCAPE_PER_BYTE, NOTHING } from './escapes.js'
import { CUT_OFF_MIN_BYTES, type CutOff, cutOffStart } from './hold.js'
import type { tablesOf } from './matcher.js'
import { findQuotedPrintable, isQuotedPrintableSyntax } from './quoted-printable.js'

type Tables = ReturnType<typeof tablesOf>

const EQUALS = 0x3d
const BACKSLASH = 0x5c
const PERCENT = 0x25
const AMPERSAND = 0x26

/**
 * `cutOffStart` for a secret some of whose characters are escaped (`sk-quirk\u002d0123…`, or
 * `=3D` and soft line breaks when `qp`): where data[from…] ends in the escaped spelling of 8 or
 * more bytes of a pattern's start, mapped back to the input; null when it does not. Only the last
 * bytes a secret's spelling can span are read, and only when they hold an escape.
 */
export function escapedCutOffStart(t: Tables, data: Buffer, from: number, qp: boolean): CutOff | null {
  const n = data.length
  const tail = Math.max(from, n - t.rawLongest * MAX_ESCAPE_PER_BYTE)
  // The spelling is a run of pattern bytes and escape syntax at the very end, with an escape in
  // it: most inputs end in a shorter run (a word after a space) or one without.
  let escaped = false
  let i = n - 1
  for (; i >= tail; i--) {
    const b = data[i] as number
    if (b === BACKSLASH || b === PERCENT || b === AMPERSAND || (qp && b === EQUALS)) escaped = true
    else if (t.escapedByte[b] === 0 && !(qp && isQuotedPrintableSyntax(b))) break
  }
  if (!escaped || n - (i + 1) < CUT_OFF_MIN_BYTES) return null
  if (mayHoldEscape(data, tail)) {
    const found = lastRegionCutOff(t, data, tail, findEscapes(data.subarray(tail), t.secretByte))
    if (found !== null) return found
  }
  if (qp && data.indexOf(EQUALS, tail) !== -1) {
    return lastRegionCutOff(t, data, tail, findQuotedPrintable(data.subarray(tail), t.secretByte))
  }
  return null
}

/** The cut-off start in the decoded stretch that ends the input, if one does. */
function lastRegionCutOff(t: Tables, data: Buffer, tail: number, escapes: Escapes): CutOff | null {
  if (escapes.starts.length === 0) return null
  const view = data.subarray(tail)
  const regions = escapedRegions(view, escapes, t.rawLongest - 1)
  const last = regions[regions.length - 1]
  if (last === undefined || last.bytes.length === 0) return null
  // The stretch must reach the end of the input (but for soft line breaks, which decode to
  // nothing): a cut-off secret ends there.
  let end = view.length
  for (
    let i = escapes.starts.length - 1;
    i >= 0 && escapes.ends[i] === end && escapes.values[i] === NOTHING;
    i--
  ) {
    end = escapes.starts[i] as number
  }
  if (last.source(last.bytes.length - 1)[1] !== end) return null
  const cut = cutOffStart(t, last.bytes, 0)
  if (cut === null) return null
  return { start: tail + last.source(cut.start)[0], pattern: cut.pattern }
}
