import { type Encoding, encodedForms, FOLD } from './encodings.ts'

/** A value to look for and the label findings carry instead of it (e.g. `credential:slack-bot`). */
export interface SecretInput {
  readonly value: string
  readonly kind: string
}

export interface MatcherOptions {
  /**
   * Secrets shorter than this many UTF-8 bytes are not scanned (a short value would match ordinary
   * text everywhere). Default and minimum: 8.
   */
  readonly minLength?: number
}

/** One occurrence: which secret kind, in which encoding, at which byte offset, over how many bytes. */
export interface Hit {
  readonly kind: string
  readonly encoding: Encoding
  readonly index: number
  readonly length: number
}

export const DEFAULT_MIN_LENGTH = 8
/**
 * Prefilter geometry: the input is sampled as aligned 32-bit words (one every 4 bytes). Each pattern
 * registers the 4 consecutive 4-byte windows at offsets k..k+3, so exactly one of them is aligned in
 * any occurrence. A pattern therefore needs at least 7 bytes; every pattern of a secret of 8+ bytes has.
 */
const WORD = 4
const SPAN = 2 * WORD - 1
const MIX = 0x9e3779b1 | 0
/** Over-folding (setting 0x20 in every byte) makes ASCII letters case-blind; verification is exact. */
const WORD_FOLD = 0x20202020
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const ENCODINGS: readonly Encoding[] = ['raw', 'percent', 'base64', 'base64url', 'hex', 'json-escape', 'form']

/** The compiled tables. Kept out of the public object so nothing can print or serialise them. */
interface Tables {
  readonly count: number
  readonly bytes: Uint8Array
  readonly offset: Int32Array
  readonly length: Int32Array
  readonly fold: Uint8Array
  readonly encoding: Uint8Array
  readonly kind: Int32Array
  /** prefilter entries: folded 4-byte key, pattern, offset of the window in the pattern, chain link */
  readonly entryKey: Int32Array
  readonly entryPattern: Int32Array
  readonly entryOffset: Int32Array
  readonly next: Int32Array
  readonly heads: Int32Array
  readonly bits: Uint32Array
  readonly shift: number
  readonly kinds: readonly string[]
  /** 1 for every byte value that occurs in some pattern (both cases for folded patterns) */
  readonly patternByte: Uint8Array
}

const tables = new WeakMap<SecretMatcher, Tables>()

/** @internal Tables of a matcher, for the scanning and redacting modules of this package. */
export function tablesOf(matcher: SecretMatcher): Tables {
  const t = tables.get(matcher)
  if (t === undefined) throw new TypeError('not a SecretMatcher built by buildMatcher')
  return t
}

/**
 * An immutable multi-pattern matcher over every encoding of a set of secrets. Holds encodings of the
 * secrets but never exposes them: it prints and serialises as a summary.
 */
export class SecretMatcher {
  /** Distinct secret values scanned for. */
  readonly size: number
  /** Secrets left out because they are shorter than `minLength`. */
  readonly skipped: number
  /** Byte patterns compiled (every encoding of every secret). */
  readonly patternCount: number
  /** Length in bytes of the longest pattern; a streaming redactor holds back `longest - 1` bytes. */
  readonly longest: number
  readonly minLength: number

  /** @internal use buildMatcher */
  constructor(t: Tables, size: number, skipped: number, longest: number, minLength: number) {
    this.size = size
    this.skipped = skipped
    this.patternCount = t.count
    this.longest = longest
    this.minLength = minLength
    tables.set(this, t)
    Object.freeze(this)
  }

  toJSON(): object {
    return { size: this.size, skipped: this.skipped, patternCount: this.patternCount, longest: this.longest }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretMatcher { size: ${this.size}, patterns: ${this.patternCount}, longest: ${this.longest} }`
  }
}

/** The folded 32-bit key of bytes[at..at+4), in the machine's byte order (as a Uint32Array reads it). */
function keyAt(bytes: Uint8Array, at: number): number {
  const b0 = bytes[at] as number
  const b1 = bytes[at + 1] as number
  const b2 = bytes[at + 2] as number
  const b3 = bytes[at + 3] as number
  const word = LITTLE_ENDIAN
    ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
    : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3
  return word | WORD_FOLD
}

/** How many different (folded) byte values bytes[at..at+len) holds. */
function distinct(bytes: Uint8Array, at: number, len: number): number {
  let seen0 = 0
  let seen1 = 0
  let seen2 = 0
  let seen3 = 0
  let n = 0
  for (let i = at; i < at + len; i++) {
    const b = (bytes[i] as number) | 0x20
    const bit = 1 << (b & 31)
    const word = b >> 5
    if (word === 1) {
      if ((seen1 & bit) === 0) n++
      seen1 |= bit
    } else if (word === 3) {
      if ((seen3 & bit) === 0) n++
      seen3 |= bit
    } else if (word === 0 || word === 4 || word === 6) {
      if ((seen0 & bit) === 0) n++
      seen0 |= bit
    } else {
      if ((seen2 & bit) === 0) n++
      seen2 |= bit
    }
  }
  return n
}

interface Pattern {
  readonly bytes: Uint8Array
  readonly encoding: Encoding
  readonly fold: boolean
  readonly kind: number
}

/**
 * Compile every encoding of every secret into one matcher. Cost per scanned byte does not depend on
 * the number of secrets: one aligned 32-bit word per 4 input bytes is looked up in a bit set, and only
 * words that begin some pattern window are verified byte by byte.
 */
export function buildMatcher(secrets: readonly SecretInput[], options: MatcherOptions = {}): SecretMatcher {
  const minLength = Math.max(DEFAULT_MIN_LENGTH, options.minLength ?? DEFAULT_MIN_LENGTH)
  const kinds: string[] = []
  const kindIndex = new Map<string, number>()
  const patterns: Pattern[] = []
  const seenPatterns = new Set<string>()
  const seenValues = new Set<string>()
  let skipped = 0
  for (const secret of secrets) {
    if (Buffer.byteLength(secret.value, 'utf8') < minLength) {
      skipped++
      continue
    }
    if (seenValues.has(secret.value)) continue
    seenValues.add(secret.value)
    let kind = kindIndex.get(secret.kind)
    if (kind === undefined) {
      kind = kinds.length
      kinds.push(secret.kind)
      kindIndex.set(secret.kind, kind)
    }
    for (const form of encodedForms(secret.value)) {
      if (form.bytes.length < SPAN) continue
      const key = `${form.fold ? 'f' : 'x'}${Buffer.from(form.bytes.buffer, form.bytes.byteOffset, form.bytes.length).toString('latin1')}`
      if (seenPatterns.has(key)) continue
      seenPatterns.add(key)
      patterns.push({ ...form, kind })
    }
  }
  return new SecretMatcher(compile(patterns, kinds), seenValues.size, skipped, longestOf(patterns), minLength)
}

function longestOf(patterns: readonly Pattern[]): number {
  let longest = 0
  for (const p of patterns) longest = Math.max(longest, p.bytes.length)
  return longest
}

function compile(patterns: readonly Pattern[], kinds: readonly string[]): Tables {
  const count = patterns.length
  const entries = count * WORD
  let bitsLog = 12
  while (1 << bitsLog < entries * 16 && bitsLog < 22) bitsLog++
  const size = 1 << bitsLog
  const shift = 32 - bitsLog
  const heads = new Int32Array(size).fill(-1)
  const bits = new Uint32Array(size >>> 5)
  const next = new Int32Array(entries)
  const entryKey = new Int32Array(entries)
  const entryPattern = new Int32Array(entries)
  const entryOffset = new Int32Array(entries)
  const offset = new Int32Array(count)
  const length = new Int32Array(count)
  const fold = new Uint8Array(count)
  const encoding = new Uint8Array(count)
  const kind = new Int32Array(count)
  const patternByte = new Uint8Array(256)
  let total = 0
  for (const p of patterns) total += p.bytes.length
  const bytes = new Uint8Array(total)
  const slotOf = (key: number): number => Math.imul(key, MIX) >>> shift
  const occupied = (key: number): number => {
    const slot = slotOf(key)
    return ((bits[slot >>> 5] as number) >>> (slot & 31)) & 1
  }

  let at = 0
  let e = 0
  patterns.forEach((p, i) => {
    const pb = p.bytes
    bytes.set(pb, at)
    offset[i] = at
    length[i] = pb.length
    fold[i] = p.fold ? 1 : 0
    encoding[i] = ENCODINGS.indexOf(p.encoding)
    kind[i] = p.kind
    for (const b of pb) {
      patternByte[b] = 1
      if (p.fold && b >= 0x61 && b <= 0x7a) patternByte[b - 0x20] = 1
    }
    // Register the most distinctive span: many different bytes, few slots already taken (secrets of one
    // provider share a prefix, and JSON/percent forms repeat `\u00` / `%`, so the start is a poor choice).
    const last = pb.length - SPAN
    const step = Math.max(1, Math.floor((last + 1) / 48))
    let best = last
    let bestScore = Number.NEGATIVE_INFINITY
    for (let k = last; k >= 0; k -= step) {
      let score = distinct(pb, k, SPAN) * 4
      for (let j = 0; j < WORD; j++) score -= occupied(keyAt(pb, k + j)) * 6
      if (score > bestScore) {
        best = k
        bestScore = score
      }
    }
    for (let j = 0; j < WORD; j++) {
      const key = keyAt(pb, best + j)
      const slot = slotOf(key)
      entryKey[e] = key
      entryPattern[e] = i
      entryOffset[e] = best + j
      next[e] = heads[slot] as number
      heads[slot] = e
      bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31))
      e++
    }
    at += pb.length
  })
  return {
    count,
    bytes,
    offset,
    length,
    fold,
    encoding,
    kind,
    entryKey,
    entryPattern,
    entryOffset,
    next,
    heads,
    bits,
    shift,
    kinds,
    patternByte,
  }
}

/**
 * Call `onHit(pattern, start)` for every occurrence of every pattern in `data` (overlaps included).
 * Order is by the position of the pattern's aligned window, not by start.
 */
export function forEachHit(
  t: Tables,
  data: Uint8Array,
  onHit: (pattern: number, start: number) => void,
): void {
  const n = data.length
  if (t.count === 0 || n < SPAN) return
  const { bits, heads, next, entryKey, entryPattern, entryOffset, length, offset, fold, bytes, shift } = t
  const lead = (WORD - (data.byteOffset % WORD)) % WORD
  const words = Math.floor((n - lead) / WORD)
  const view = new Uint32Array(data.buffer, data.byteOffset + lead, words)
  for (let w = 0; w < words; w++) {
    const key = (view[w] as number) | WORD_FOLD
    const slot = Math.imul(key, MIX) >>> shift
    if (((bits[slot >>> 5] as number) & (1 << (slot & 31))) === 0) continue
    const at = lead + w * WORD
    for (let e = heads[slot] as number; e !== -1; e = next[e] as number) {
      if (entryKey[e] !== key) continue
      const p = entryPattern[e] as number
      const start = at - (entryOffset[e] as number)
      const len = length[p] as number
      if (start < 0 || start + len > n) continue
      const off = offset[p] as number
      let k = 0
      if (fold[p] === 1) {
        while (k < len && (FOLD[data[start + k] as number] as number) === bytes[off + k]) k++
      } else {
        while (k < len && data[start + k] === bytes[off + k]) k++
      }
      if (k === len) onHit(p, start)
    }
  }
}

/** Every occurrence as a labelled hit, sorted by position (longer first at the same position). */
export function findHits(matcher: SecretMatcher, data: Uint8Array): Hit[] {
  const t = tablesOf(matcher)
  const hits: Hit[] = []
  forEachHit(t, data, (p, start) => {
    hits.push({
      kind: t.kinds[t.kind[p] as number] as string,
      encoding: ENCODINGS[t.encoding[p] as number] as Encoding,
      index: start,
      length: t.length[p] as number,
    })
  })
  hits.sort((a, b) => a.index - b.index || b.length - a.length)
  return hits
}
