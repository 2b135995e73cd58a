import { MIN_SECRET_BYTES } from '@aegis/guard'
import { asBuffer, type Encoding, encodedForms, FOLD } from './encodings.js'
import { ESCAPE_SYNTAX, MAX_ESCAPE_PER_BYTE } from './escapes.js'

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

/** The vault refuses shorter secrets with the same constant, so it never accepts one this skips. */
export const DEFAULT_MIN_LENGTH = MIN_SECRET_BYTES
/**
 * Prefilter geometry: the input is read as aligned 32-bit words. A pattern registers `WORD × stride`
 * consecutive windows (offsets k, k+1, …) of its most distinctive span, so in any occurrence exactly
 * one of them starts at a position the sweep reads — and the sweep reads only every `stride`-th word.
 * Patterns of 23+ bytes (nearly every encoded API key) are keyed by 8 bytes (two words) and swept at
 * every 4th word. Shorter ones are keyed by one word, which leaves room for a wider stride: every 4th
 * word from 19 bytes, every 3rd from 15, every 2nd from 11, every word from 7. Each table is only
 * swept when it is not empty.
 */
const WORD = 4
const MIX = 0x9e3779b1 | 0
const PAIR = 0x85ebca6b | 0
/** Over-folding (setting 0x20 in every byte) makes ASCII letters case-blind; verification is exact. */
const WORD_FOLD = 0x20202020
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const ENCODINGS: readonly Encoding[] = [
  'raw',
  'percent',
  'base64',
  'base64url',
  'hex',
  'json-escape',
  'form',
  'html',
  'utf-16le',
  'utf-16be',
]
/** Indexes of the UTF-16 forms in ENCODINGS (a pattern's `encoding`). */
export const UTF16LE = ENCODINGS.indexOf('utf-16le')
export const UTF16BE = ENCODINGS.indexOf('utf-16be')
/** Bytes a key of `words` words needs so that `stride` consecutive aligned reads can hold it. */
const spanOf = (words: number, stride: number): number => words * WORD + stride * WORD - 1
/** Shortest pattern keyed by one word. */
const SHORT_SPAN = spanOf(1, 1)
/** The prefilter tables; a pattern goes to the first one it is long enough for. */
const GEOMETRIES = [
  { words: 2, stride: 4 },
  { words: 1, stride: 4 },
  { words: 1, stride: 3 },
  { words: 1, stride: 2 },
  { words: 1, stride: 1 },
] as const

/**
 * One prefilter: a bit set over hashed keys (about 16 bits per entry, so few reads pass it), and
 * chains of (key, pattern, window offset) entries in buckets picked by the hash's top bits.
 */
interface Prefilter {
  /** key width in words (1 or 2) */
  readonly words: number
  /** the sweep reads every `stride`-th word */
  readonly stride: number
  readonly count: number
  readonly key0: Int32Array
  readonly key1: Int32Array
  readonly pattern: Int32Array
  readonly offset: Int32Array
  readonly next: Int32Array
  readonly heads: Int32Array
  readonly bits: Uint32Array
  /** hash >>> shift is the bit index */
  readonly shift: number
  /** hash >>> bucketShift is the chain head index */
  readonly bucketShift: number
}

/** The compiled tables. Kept out of the public object so nothing can print or serialise them. */
interface Tables {
  readonly count: number
  readonly bytes: Uint8Array
  readonly offset: Int32Array
  readonly length: Int32Array
  readonly fold: Uint8Array
  readonly encoding: Uint8Array
  readonly kind: Int32Array
  /** The non-empty prefilters, widest stride first. */
  readonly filters: readonly Prefilter[]
  readonly kinds: readonly string[]
  /** 1 for every byte value that occurs in some pattern (both cases for folded patterns) */
  readonly patternByte: Uint8Array
  /** 1 for every byte value that occurs in some secret (its UTF-8 bytes as they are) */
  readonly secretByte: Uint8Array
  /** patternByte, plus every byte of the escape syntaxes (see escapes.ts) */
  readonly escapedByte: Uint8Array
  /** Length in bytes of the longest secret (its raw form) */
  readonly rawLongest: number
  /** Length in bytes of the longest pattern */
  readonly longestPattern: number
  /** Per pattern: for a UTF-16 form, the same secret's form in the other byte order; else -1 */
  readonly counterpart: Int32Array
  /** The 8-byte windows a cut-off piece of a pattern may end with (see `mayEndCutOff`) */
  readonly cutOffs: CutOffIndex
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
  /** Length in bytes of the longest pattern. */
  readonly longest: number
  /**
   * The longest input an occurrence can span: the longest pattern, or the longest secret with every
   * byte written as the longest escape (12 bytes, `&#x0000002B;`). A streaming redactor holds back
   * at most `longestSpan - 1` bytes.
   */
  readonly longestSpan: number
  readonly minLength: number

  /** @internal use buildMatcher */
  constructor(t: Tables, size: number, skipped: number, longest: number, minLength: number) {
    this.size = size
    this.skipped = skipped
    this.patternCount = t.count
    this.longest = longest
    this.longestSpan = Math.max(longest, t.rawLongest * MAX_ESCAPE_PER_BYTE)
    this.minLength = minLength
    tables.set(this, t)
    Object.freeze(this)
  }

  toJSON(): object {
    return {
      size: this.size,
      skipped: this.skipped,
      patternCount: this.patternCount,
      longest: this.longest,
      longestSpan: this.longestSpan,
    }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretMatcher { size: ${this.size}, patterns: ${this.patternCount}, longest: ${this.longest} }`
  }
}

/** The folded 32-bit word at bytes[at..at+4), in the machine's byte order (as a Uint32Array reads it). */
function wordAt(bytes: Uint8Array, at: number): number {
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
  const seen = [0, 0, 0, 0, 0, 0, 0, 0]
  let n = 0
  for (let i = at; i < at + len; i++) {
    const b = (bytes[i] as number) | 0x20
    const bit = 1 << (b & 31)
    const word = b >> 5
    const had = seen[word] as number
    if ((had & bit) === 0) {
      n++
      seen[word] = had | bit
    }
  }
  return n
}

interface Pattern {
  readonly bytes: Uint8Array
  readonly encoding: Encoding
  readonly fold: boolean
  readonly kind: number
  /** For a UTF-16 form: the same secret's form in the other byte order; else -1. */
  readonly counterpart: number
}

/**
 * Compile every encoding of every secret into one matcher. Cost per scanned byte does not depend on
 * the number of secrets: one aligned word per 4 input bytes is hashed and looked up in a bit set, and
 * only positions whose key belongs to some pattern are verified byte by byte.
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
    const wide = { le: -1, be: -1 }
    for (const form of encodedForms(secret.value)) {
      if (form.bytes.length < SHORT_SPAN) continue
      const key = `${form.fold ? 'f' : 'x'}${asBuffer(form.bytes).toString('latin1')}`
      if (seenPatterns.has(key)) continue
      seenPatterns.add(key)
      if (form.encoding === 'utf-16le') wide.le = patterns.length
      if (form.encoding === 'utf-16be') wide.be = patterns.length
      patterns.push({ ...form, kind, counterpart: -1 })
    }
    if (wide.le !== -1 && wide.be !== -1) {
      patterns[wide.le] = { ...(patterns[wide.le] as Pattern), counterpart: wide.be }
      patterns[wide.be] = { ...(patterns[wide.be] as Pattern), counterpart: wide.le }
    }
  }
  return new SecretMatcher(
    compile(patterns, kinds, seenValues),
    seenValues.size,
    skipped,
    longestOf(patterns),
    minLength,
  )
}

function longestOf(patterns: readonly Pattern[]): number {
  let longest = 0
  for (const p of patterns) longest = Math.max(longest, p.bytes.length)
  return longest
}

function hashKey(words: number, k0: number, k1: number): number {
  return words === 1 ? Math.imul(k0, MIX) : Math.imul(Math.imul(k0, PAIR) ^ k1, MIX)
}

/** Build one prefilter over the patterns (indexes into `patterns`) it is given. */
function prefilter(
  patterns: readonly Pattern[],
  members: readonly number[],
  words: number,
  stride: number,
): Prefilter {
  const windows = WORD * stride
  const entries = members.length * windows
  let bitsLog = 8
  while (1 << bitsLog < entries * 16 && bitsLog < 24) bitsLog++
  let bucketsLog = 4
  while (1 << bucketsLog < entries * 2 && bucketsLog < bitsLog) bucketsLog++
  const shift = 32 - bitsLog
  const bucketShift = 32 - bucketsLog
  const heads = new Int32Array(1 << bucketsLog).fill(-1)
  const bits = new Uint32Array(Math.max(1, (1 << bitsLog) >>> 5))
  const key0 = new Int32Array(entries)
  const key1 = new Int32Array(entries)
  const pattern = new Int32Array(entries)
  const offset = new Int32Array(entries)
  const next = new Int32Array(entries)
  const span = spanOf(words, stride)
  const hashAt = (pb: Uint8Array, at: number): number =>
    hashKey(words, wordAt(pb, at), words === 2 ? wordAt(pb, at + WORD) : 0)
  const taken = (slot: number): number => ((bits[slot >>> 5] as number) >>> (slot & 31)) & 1

  let e = 0
  for (const i of members) {
    const pb = (patterns[i] as Pattern).bytes
    // Register the most distinctive span: many different bytes, few slots already taken (secrets of one
    // provider share a prefix; JSON and percent forms repeat `\u00` / `%`).
    const last = pb.length - span
    const step = Math.max(1, Math.floor((last + 1) / 16))
    let best = last
    let bestScore = Number.NEGATIVE_INFINITY
    for (let k = last; k >= 0; k -= step) {
      let score = distinct(pb, k, span) * 4
      // (the first WORD windows are a fair sample of how crowded the span's slots are)
      for (let j = 0; j < WORD; j++) score -= taken(hashAt(pb, k + j) >>> shift) * 6
      if (score > bestScore) {
        best = k
        bestScore = score
      }
    }
    for (let j = 0; j < windows; j++) {
      const at = best + j
      const hash = hashAt(pb, at)
      const slot = hash >>> shift
      const bucket = hash >>> bucketShift
      key0[e] = wordAt(pb, at)
      key1[e] = words === 2 ? wordAt(pb, at + WORD) : 0
      pattern[e] = i
      offset[e] = at
      next[e] = heads[bucket] as number
      heads[bucket] = e
      bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31))
      e++
    }
  }
  return { words, stride, count: entries, key0, key1, pattern, offset, next, heads, bits, shift, bucketShift }
}

/**
 * Moves every one-word group into the one-word group with the narrowest stride that has patterns:
 * a pattern long enough for a wide stride is long enough for a narrower one, and one sweep at
 * stride s reads fewer words than that sweep plus another at a wider stride (1/3 of the words
 * instead of 1/3 + 1/4). The two-word group stays apart: its 8-byte keys pass fewer reads.
 */
function mergeOneWordGroups(members: number[][]): void {
  let narrowest = -1
  GEOMETRIES.forEach((g, i) => {
    if (g.words === 1 && (members[i] as number[]).length > 0) narrowest = i
  })
  if (narrowest === -1) return
  const into = members[narrowest] as number[]
  GEOMETRIES.forEach((g, i) => {
    if (g.words !== 1 || i === narrowest) return
    into.push(...(members[i] as number[]))
    members[i] = []
  })
}

/**
 * Patterns of a few secrets: moves the two-word group into the one-word group when there is one,
 * so a body is swept once, at the one-word group's stride, instead of twice (with one 18-byte
 * secret: 1/3 of the words read instead of 1/3 + 1/4). The two-word keys earn their second sweep
 * with many patterns, where one-word keys would pass more reads; up to `FEW_PATTERNS` they hardly do.
 */
function mergeTwoWordGroup(members: number[][]): void {
  const twoWord = members[0] as number[]
  const oneWord = members.find((group, i) => i > 0 && group.length > 0)
  if (oneWord === undefined || twoWord.length === 0 || twoWord.length + oneWord.length > FEW_PATTERNS) return
  oneWord.push(...twoWord)
  members[0] = []
}

/** Up to this many patterns (a secret has 7 to 12), one sweep with one-word keys is cheaper than two. */
const FEW_PATTERNS = 128

/** Which byte values the secrets hold, and the length of the longest, in UTF-8. */
function secretBytes(values: Iterable<string>): { secretByte: Uint8Array; rawLongest: number } {
  const secretByte = new Uint8Array(256)
  let rawLongest = 0
  for (const value of values) {
    const raw = Buffer.from(value, 'utf8')
    for (const b of raw) secretByte[b] = 1
    rawLongest = Math.max(rawLongest, raw.length)
  }
  return { secretByte, rawLongest }
}

function compile(patterns: readonly Pattern[], kinds: readonly string[], values: Iterable<string>): Tables {
  const count = patterns.length
  const offset = new Int32Array(count)
  const length = new Int32Array(count)
  const fold = new Uint8Array(count)
  const encoding = new Uint8Array(count)
  const kind = new Int32Array(count)
  const patternByte = new Uint8Array(256)
  let total = 0
  for (const p of patterns) total += p.bytes.length
  const bytes = new Uint8Array(total)
  const members: number[][] = GEOMETRIES.map(() => [])
  let at = 0
  patterns.forEach((p, i) => {
    bytes.set(p.bytes, at)
    offset[i] = at
    length[i] = p.bytes.length
    fold[i] = p.fold ? 1 : 0
    encoding[i] = ENCODINGS.indexOf(p.encoding)
    kind[i] = p.kind
    for (const b of p.bytes) {
      patternByte[b] = 1
      if (p.fold && b >= 0x61 && b <= 0x7a) patternByte[b - 0x20] = 1
    }
    // The widest stride the pattern is long enough for.
    const g = GEOMETRIES.findIndex((geometry) => p.bytes.length >= spanOf(geometry.words, geometry.stride))
    members[g]?.push(i)
    at += p.bytes.length
  })
  mergeOneWordGroups(members)
  mergeTwoWordGroup(members)
  const secret = secretBytes(values)
  return {
    count,
    bytes,
    offset,
    length,
    fold,
    encoding,
    kind,
    filters: GEOMETRIES.flatMap((g, i) => {
      const group = members[i] as number[]
      return group.length === 0 ? [] : [prefilter(patterns, group, g.words, g.stride)]
    }),
    kinds,
    patternByte,
    secretByte: secret.secretByte,
    escapedByte: patternByte.map((b, i) => b | (ESCAPE_SYNTAX[i] as number)),
    rawLongest: secret.rawLongest,
    longestPattern: longestOf(patterns),
    counterpart: Int32Array.from(patterns, (p) => p.counterpart),
    cutOffs: cutOffIndex(patterns),
  }
}

/** Bytes of the end of an input that `mayEndCutOff` looks at: the shortest cut-off piece. */
export const CUT_OFF_KEY_BYTES = 8

/**
 * Every 8-byte window inside every pattern that a cut-off piece of 8 bytes or more can end with
 * (pattern[j, j+8) with j + 8 < its length), hashed into a bit set: an input whose last 8 bytes
 * hash to no set bit ends in no pattern's start, which one lookup tells (see hold.ts cutOffStart).
 */
function cutOffIndex(patterns: readonly Pattern[]): CutOffIndex {
  let entries = 0
  for (const p of patterns) entries += Math.max(0, p.bytes.length - CUT_OFF_KEY_BYTES)
  let bitsLog = 8
  while (1 << bitsLog < entries * 16 && bitsLog < 24) bitsLog++
  const bits = new Uint32Array(Math.max(1, (1 << bitsLog) >>> 5))
  const shift = 32 - bitsLog
  for (const p of patterns) {
    for (let j = 0; j + CUT_OFF_KEY_BYTES < p.bytes.length; j++) {
      const slot = hashKey(2, wordAt(p.bytes, j), wordAt(p.bytes, j + WORD)) >>> shift
      bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31))
    }
  }
  return { bits, shift }
}

interface CutOffIndex {
  readonly bits: Uint32Array
  readonly shift: number
}

/** Whether data[n-8, n) may end a cut-off piece of a pattern (false: it surely does not). */
export function mayEndCutOff(t: Tables, data: Uint8Array, n: number): boolean {
  if (n < CUT_OFF_KEY_BYTES) return false
  const { bits, shift } = t.cutOffs
  const slot = hashKey(2, wordAt(data, n - 8), wordAt(data, n - WORD)) >>> shift
  return ((bits[slot >>> 5] as number) & (1 << (slot & 31))) !== 0
}

type OnHit = (pattern: number, start: number) => void

/**
 * Whether the UTF-16 occurrence of pattern `p` at data[start…n) is the misreading of the other
 * byte order one byte off: text below U+0100 in UTF-16 reads as both (`"\0s\0k\0` holds
 * `s\0k\0` and `\0s\0k`). The occurrence at an odd offset of the body (`base` + start) is the
 * misreading when the other order's occurrence is there beside it (after it for big-endian, before
 * it for little-endian, possibly from `before`, the byte ahead of `data`); false for anything else.
 */
export function isMisreading(
  t: Tables,
  data: Uint8Array,
  n: number,
  p: number,
  start: number,
  base: number,
  before = -1,
): boolean {
  const other = t.counterpart[p] as number
  if (other === -1 || ((base + start) & 1) === 0) return false
  if (t.encoding[p] === UTF16BE) return verify(t, data, n, other, start + 1)
  if (start > 0) return verify(t, data, n, other, start - 1)
  // The other reading starts at `before`, the byte ahead of data[0] (an earlier chunk's last).
  const off = t.offset[other] as number
  const len = t.length[other] as number
  if (before !== t.bytes[off] || len - 1 > n) return false
  for (let k = 1; k < len; k++) if (data[k - 1] !== t.bytes[off + k]) return false
  return true
}

/** While set, `verify` compares ASCII letters without regard to case (see `asciiHasHitIgnoringCase`). */
let caseBlind = false

/** Whether pattern `p` occurs at data[start…], within the first `n` bytes of `data`. */
export function verify(t: Tables, data: Uint8Array, n: number, p: number, start: number): boolean {
  const len = t.length[p] as number
  if (start < 0 || start + len > n) return false
  const { bytes } = t
  const off = t.offset[p] as number
  let k = 0
  if (t.fold[p] === 1) {
    while (k < len && (FOLD[data[start + k] as number] as number) === bytes[off + k]) k++
  } else if (caseBlind) {
    while (k < len && FOLD[data[start + k] as number] === FOLD[bytes[off + k] as number]) k++
  } else {
    while (k < len && data[start + k] === bytes[off + k]) k++
  }
  return k === len
}

/**
 * Run one prefilter over the aligned words of data[0, n) (every `stride`-th one); `view` holds
 * them, its word 0 at byte `lead` of `data`.
 */
function sweep(
  t: Tables,
  f: Prefilter,
  data: Uint8Array,
  n: number,
  view: Uint32Array,
  lead: number,
  onHit: OnHit,
): void {
  if (n < f.words * WORD + WORD - 1) return
  const { bits, heads, next, key0, key1, pattern, offset, shift, bucketShift, stride } = f
  const words = Math.floor((n - lead) / WORD)
  if (f.words === 1) {
    for (let w = 0; w < words; w += stride) {
      const k0 = (view[w] as number) | WORD_FOLD
      const hash = Math.imul(k0, MIX)
      const slot = hash >>> shift
      if (((bits[slot >>> 5] as number) & (1 << (slot & 31))) === 0) continue
      for (let e = heads[hash >>> bucketShift] as number; e !== -1; e = next[e] as number) {
        if (key0[e] !== k0) continue
        const p = pattern[e] as number
        const start = lead + w * WORD - (offset[e] as number)
        if (verify(t, data, n, p, start)) onHit(p, start)
      }
    }
    return
  }
  for (let w = 0; w + 1 < words; w += stride) {
    const k0 = (view[w] as number) | WORD_FOLD
    const k1 = (view[w + 1] as number) | WORD_FOLD
    const hash = Math.imul(Math.imul(k0, PAIR) ^ k1, MIX)
    const slot = hash >>> shift
    if (((bits[slot >>> 5] as number) & (1 << (slot & 31))) === 0) continue
    for (let e = heads[hash >>> bucketShift] as number; e !== -1; e = next[e] as number) {
      if (key0[e] !== k0 || key1[e] !== k1) continue
      const p = pattern[e] as number
      const start = lead + w * WORD - (offset[e] as number)
      if (verify(t, data, n, p, start)) onHit(p, start)
    }
  }
}

/**
 * Inputs up to this size are copied into one aligned scratch area and swept there: a header value
 * or a small body then costs a memcpy instead of a Uint32Array view object per scan (measured: the
 * view was a third of the time of a 50-byte scan). Larger inputs get one view for all prefilters.
 */
const SCRATCH_BYTES = 4096
const scratch = new Uint8Array(SCRATCH_BYTES)
const scratchWords = new Uint32Array(scratch.buffer)
/** True while a sweep runs in the scratch area: an `onHit` that scans again (countEscaped does) gets a view. */
let scratchBusy = false

/**
 * Call `onHit(pattern, start)` for every occurrence of every pattern in the first `n` bytes of
 * `data` (overlaps included), in no particular order.
 */
export function forEachHit(t: Tables, data: Uint8Array, onHit: OnHit, n = data.length): void {
  const filters = t.filters
  if (filters.length === 0 || n < SHORT_SPAN) return
  if (n <= SCRATCH_BYTES && !scratchBusy) {
    if (n === data.length) scratch.set(data)
    else for (let i = 0; i < n; i++) scratch[i] = data[i] as number
    sweepScratch(t, n, onHit)
    return
  }
  const lead = (WORD - (data.byteOffset % WORD)) % WORD
  const view = new Uint32Array(data.buffer, data.byteOffset + lead, Math.floor((n - lead) / WORD))
  for (let i = 0; i < filters.length; i++) sweep(t, filters[i] as Prefilter, data, n, view, lead, onHit)
}

/** Sweep the first `n` bytes of the scratch area (filled by the caller). */
function sweepScratch(t: Tables, n: number, onHit: OnHit): void {
  scratchBusy = true
  try {
    const filters = t.filters
    for (let i = 0; i < filters.length; i++)
      sweep(t, filters[i] as Prefilter, scratch, n, scratchWords, 0, onHit)
  } finally {
    scratchBusy = false
  }
}

let anyHit = false
const markHit: OnHit = () => {
  anyHit = true
}

/** Whether data[0, n) holds an occurrence of any pattern (allocates nothing up to 4 KiB). */
export function hasHit(t: Tables, data: Uint8Array, n = data.length): boolean {
  anyHit = false
  forEachHit(t, data, markHit, n)
  return anyHit
}

/**
 * Whether the text `text` holds an occurrence of any pattern, when every character of it is ASCII
 * (so its bytes, UTF-8 or latin1, are its characters); null when one is not, or when it is too long
 * for the scratch area. Copied by a loop, not Buffer#write: for a header value the native call cost
 * more than the copy and the sweep together.
 */
export function asciiHasHit(t: Tables, text: string): boolean | null {
  const n = text.length
  if (n > SCRATCH_BYTES || scratchBusy) return null
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c > 0x7f) return null
    scratch[i] = c
  }
  if (t.filters.length === 0 || n < SHORT_SPAN) return false
  anyHit = false
  sweepScratch(t, n, markHit)
  return anyHit
}

/**
 * Whether `text` holds an occurrence of any pattern with its ASCII letters in either case: for text
 * whose case is not its own (a header name, which HTTP clients lower-case), where a secret written
 * in other letters is still the secret to anyone who reads it. (The prefilter is case-blind
 * already; only the verification is told to be.)
 */
export function hasHitIgnoringCase(t: Tables, text: string): boolean {
  caseBlind = true
  try {
    return asciiHasHit(t, text) ?? hasHit(t, Buffer.from(text, 'utf8'))
  } finally {
    caseBlind = false
  }
}

/**
 * After `asciiHasHit` said false for `text`: whether it may end in a cut-off piece of a pattern
 * (see `mayEndCutOff`), read from the copy that call left in scratch memory.
 */
export function asciiMayEndCutOff(t: Tables, text: string): boolean {
  const n = text.length
  if (n < CUT_OFF_KEY_BYTES || t.patternByte[scratch[n - 1] as number] === 0) return false
  const { bits, shift } = t.cutOffs
  const slot = Math.imul(Math.imul(wordAt(scratch, n - 8), PAIR) ^ wordAt(scratch, n - 4), MIX) >>> shift
  return ((bits[slot >>> 5] as number) & (1 << (slot & 31))) !== 0
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
