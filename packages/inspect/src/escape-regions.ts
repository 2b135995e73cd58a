import { asBuffer } from './encodings.js'
import { type Escapes, writeValue } from './escapes.js'

/**
 * A stretch of input with its relevant escapes decoded. Copied bytes map back one to one; a
 * decoded escape's bytes (every byte of a multi-byte character) map back to the whole escape.
 * The map is kept per escape, not per byte: a per-byte map cost two Int32Arrays of the region's
 * size for every region, and regions are many (an escape every few hundred bytes in ordinary
 * JSON), while a match that needs mapping back is rare.
 */
export class EscapedRegion {
  readonly bytes: Buffer
  /** Input offset of bytes[0]. */
  readonly #from: number
  /** Per decoded escape, in order: where it starts in `bytes`, its decoded length, its input range. */
  readonly #at: Int32Array
  readonly #len: Int32Array
  readonly #inStart: Int32Array
  readonly #inEnd: Int32Array

  constructor(
    bytes: Buffer,
    from: number,
    at: Int32Array,
    len: Int32Array,
    inStart: Int32Array,
    inEnd: Int32Array,
  ) {
    this.bytes = bytes
    this.#from = from
    this.#at = at
    this.#len = len
    this.#inStart = inStart
    this.#inEnd = inEnd
  }

  /** The input range `[start, end)` that decoded byte `k` came from. */
  source(k: number): [start: number, end: number] {
    const at = this.#at
    // The last escape that starts at or before k (escapes are few per region; binary search anyway).
    let lo = 0
    let hi = at.length - 1
    let e = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if ((at[mid] as number) <= k) {
        e = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    if (e === -1) return [this.#from + k, this.#from + k + 1]
    const start = at[e] as number
    const end = start + (this.#len[e] as number)
    if (k < end) return [this.#inStart[e] as number, this.#inEnd[e] as number]
    const input = (this.#inEnd[e] as number) + (k - end)
    return [input, input + 1]
  }
}

/**
 * The stretches of `input` around its relevant escapes, decoded. Escapes less than `reach + 1`
 * bytes apart share a stretch, and each stretch has `reach` bytes of context on both sides: with
 * `reach` = the longest secret − 1, a secret any of whose characters are escaped lies whole inside
 * one stretch (the raw bytes of it between two escapes, or before the first or after the last,
 * are fewer than its length). Empty when there is nothing to decode.
 */
export function escapedRegions(input: Uint8Array, escapes: Escapes, reach: number): EscapedRegion[] {
  const source = asBuffer(input)
  const { starts, ends, values } = escapes
  const regions: EscapedRegion[] = []
  for (let i = 0; i < starts.length; ) {
    let j = i + 1
    while (j < starts.length && (starts[j] as number) - (ends[j - 1] as number) <= reach) j++
    const from = Math.max(0, (starts[i] as number) - reach)
    const to = Math.min(source.length, (ends[j - 1] as number) + reach)
    const bytes = Buffer.allocUnsafe(to - from)
    const n = j - i
    const at = new Int32Array(n)
    const len = new Int32Array(n)
    const inStart = new Int32Array(n)
    const inEnd = new Int32Array(n)
    let o = 0
    let pos = from
    for (let k = i; k < j; k++) {
      o += source.copy(bytes, o, pos, starts[k] as number)
      const written = writeValue(values[k] as number, bytes, o)
      at[k - i] = o
      len[k - i] = written
      inStart[k - i] = starts[k] as number
      inEnd[k - i] = ends[k] as number
      o += written
      pos = ends[k] as number
    }
    o += source.copy(bytes, o, pos, to)
    regions.push(new EscapedRegion(bytes.subarray(0, o), from, at, len, inStart, inEnd))
    i = j
  }
  return regions
}
