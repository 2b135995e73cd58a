import { type Escapes, writeValue } from './escapes.js'

/**
 * A stretch of input with its relevant escapes decoded. Decoded byte k came from input bytes
 * `[from[k], to[k])`: one byte when copied, the whole escape when decoded (every byte of a
 * multi-byte character gets the escape's range).
 */
export interface EscapedRegion {
  readonly bytes: Buffer
  readonly from: Int32Array
  readonly to: Int32Array
}

/**
 * The stretches of `input` around its relevant escapes, decoded. Escapes less than `reach + 1`
 * bytes apart share a stretch, and each stretch has `reach` bytes of context on both sides: with
 * `reach` = the longest secret − 1, a secret any of whose characters are escaped lies whole inside
 * one stretch (the raw bytes of it between two escapes, or before the first or after the last,
 * are fewer than its length). Empty when there is nothing to decode.
 */
export function escapedRegions(input: Uint8Array, escapes: Escapes, reach: number): EscapedRegion[] {
  const { starts, ends, values } = escapes
  const regions: EscapedRegion[] = []
  for (let i = 0; i < starts.length; ) {
    let j = i + 1
    while (j < starts.length && (starts[j] as number) - (ends[j - 1] as number) <= reach) j++
    const from = Math.max(0, (starts[i] as number) - reach)
    const to = Math.min(input.length, (ends[j - 1] as number) + reach)
    const bytes = Buffer.allocUnsafe(to - from)
    const mapFrom = new Int32Array(to - from)
    const mapTo = new Int32Array(to - from)
    let o = 0
    let at = from
    for (let k = i; k <= j; k++) {
      const stop = k < j ? (starts[k] as number) : to
      for (; at < stop; at++, o++) {
        bytes[o] = input[at] as number
        mapFrom[o] = at
        mapTo[o] = at + 1
      }
      if (k === j) break
      const n = writeValue(values[k] as number, bytes, o)
      for (let d = 0; d < n; d++, o++) {
        mapFrom[o] = at
        mapTo[o] = ends[k] as number
      }
      at = ends[k] as number
    }
    regions.push({ bytes: bytes.subarray(0, o), from: mapFrom.subarray(0, o), to: mapTo.subarray(0, o) })
    i = j
  }
  return regions
}
