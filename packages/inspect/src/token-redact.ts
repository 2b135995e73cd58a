/**
 * Aegis operator (user) tokens in responses. The gate knows them only as hashes in a store it never
 * reads, so a response is redacted by their shape: `aegis_user_` (or the older `aegis_usr_`) and
 * the run of token characters after it, whatever its length or checksum — a token with a typo or
 * cut short still gives most of a real one away. The whole run becomes one replacement.
 */

import { isTokenCode } from './token-chars.js'

const PREFIXES = ['aegis_user_', 'aegis_usr_'].map((p) => Buffer.from(p, 'latin1'))
/** Both prefixes start with this; a chunk without it (or a partial one at its end) is passed as is. */
export const USER_TOKEN_STEM = Buffer.from('aegis_us', 'latin1')
const LONGEST_PREFIX = 11
export const USER_TOKEN_KIND = 'format:aegis-user-token'

/** Offset of the stem's `_`, the byte it is looked for by. */
const STEM_UNDERSCORE = 5
/** Underscores checked one by one before handing the rest to a substring search. */
const UNDERSCORE_TRIES = 8

/**
 * Whether `buf` holds `aegis_us`. Buffer#indexOf with the 8-byte needle costs 8 µs per 16 KiB of
 * JSON (it restarts at every `a`); most bodies have no `_`, or a few, which one memchr each rules
 * out. A body full of them (snake_case JSON) goes to the substring search after a few.
 */
export function holdsStem(buf: Buffer): boolean {
  let at = buf.indexOf(0x5f, STEM_UNDERSCORE)
  for (let tries = 0; at !== -1; tries++) {
    if (tries === UNDERSCORE_TRIES) return buf.indexOf(USER_TOKEN_STEM, at - STEM_UNDERSCORE) !== -1
    const start = at - STEM_UNDERSCORE
    let k = 0
    while (k < USER_TOKEN_STEM.length && buf[start + k] === USER_TOKEN_STEM[k]) k++
    if (k === USER_TOKEN_STEM.length) return true
    at = buf.indexOf(0x5f, at + 1)
  }
  return false
}

/** Whether `buf` at `i` starts a whole prefix (its length), a partial one running off the end (-1), or neither (0). */
function prefixAt(buf: Buffer, i: number): number {
  let partial = false
  for (const prefix of PREFIXES) {
    let k = 0
    while (k < prefix.length && i + k < buf.length && buf[i + k] === prefix[k]) k++
    if (k === prefix.length) return prefix.length
    if (i + k === buf.length) partial = true
  }
  return partial ? -1 : 0
}

/**
 * Streaming stage: holds back at most a partial prefix (under 11 bytes) between pushes, and while
 * inside a token, drops its bytes as they come, so memory stays bounded whatever the upstream sends.
 */
export class UserTokenRedactor {
  readonly #replacement: Buffer
  #pending: Buffer | null = null
  #inRun = false
  count = 0

  constructor(replacement: Buffer) {
    this.#replacement = replacement
  }

  /** Bytes held back for the next push (a partial prefix). */
  get held(): number {
    return this.#pending?.length ?? 0
  }

  push(chunk: Buffer, final: boolean): Buffer {
    let buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk])
    this.#pending = null
    let from = 0
    if (this.#inRun) {
      while (from < buf.length && isTokenCode(buf[from] as number)) from++
      if (from === buf.length) return EMPTY
      this.#inRun = false
      buf = buf.subarray(from)
      from = 0
    }
    // The usual chunk: no stem, and no partial stem at its end.
    if (!holdsStem(buf) && !this.#mayEndInPrefix(buf, final)) return buf
    const out: Buffer[] = []
    let emitted = 0
    for (let i = buf.indexOf(0x61); i !== -1 && i < buf.length; i = buf.indexOf(0x61, i + 1)) {
      const n = prefixAt(buf, i)
      if (n === 0) continue
      if (n === -1) {
        if (final) break
        this.#pending = Buffer.from(buf.subarray(i))
        out.push(buf.subarray(emitted, i))
        return concat(out)
      }
      let end = i + n
      if (end === buf.length && !final) {
        // A whole prefix at the end: whether a token follows is in the next chunk.
        this.#pending = Buffer.from(buf.subarray(i))
        out.push(buf.subarray(emitted, i))
        return concat(out)
      }
      if (end === buf.length || !isTokenCode(buf[end] as number)) continue
      while (end < buf.length && isTokenCode(buf[end] as number)) end++
      out.push(buf.subarray(emitted, i), this.#replacement)
      this.count++
      emitted = end
      if (end === buf.length && !final) this.#inRun = true
      i = end - 1
    }
    out.push(buf.subarray(emitted))
    return concat(out)
  }

  #mayEndInPrefix(buf: Buffer, final: boolean): boolean {
    if (final) return false
    for (let i = Math.max(0, buf.length - LONGEST_PREFIX); i < buf.length; i++) {
      if (buf[i] === 0x61 && prefixAt(buf, i) !== 0) return true
    }
    return false
  }
}

const EMPTY = Buffer.alloc(0)

function concat(parts: Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}
