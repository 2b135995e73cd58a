import { RecordRedactor } from './delta-redact.js'
import { asBuffer, isLatin1 } from './encodings.js'
import { escapedCutOffStart } from './escaped-cut-off.js'
import { forEachEscapedHit, hasEscapedHit, mayHoldEscape } from './escaped-hits.js'
import { MAX_ESCAPE_PER_BYTE } from './escapes.js'
import { cutOffStart, holdStart } from './hold.js'
import {
  asciiHasHit,
  asciiMayEndCutOff,
  forEachHit,
  hasHit,
  hasHitIgnoringCase,
  isMisreading,
  type SecretMatcher,
  tablesOf,
  UTF16BE,
  UTF16LE,
} from './matcher.js'
import { forEachQuotedPrintableHit, isQuotedPrintableSyntax } from './quoted-printable.js'
import type { RecordFraming } from './records.js'
import { holdsStem, USER_TOKEN_KIND, USER_TOKEN_STEM, UserTokenRedactor } from './token-redact.js'

export interface RedactorOptions {
  /** What replaces each redacted run. Default `[REDACTED]`. */
  readonly replacement?: string
  /**
   * The body is a stream of records whose strings a reader joins (`recordFraming(contentType)`:
   * SSE events, JSON lines): a secret split across records is redacted too (delta-redact.ts).
   */
  readonly records?: RecordFraming | null
  /**
   * The body may hold quoted-printable text (a MIME multipart or message: `recordFraming`'s
   * sibling `mayHoldQuotedPrintable(contentType)`): a secret written with `=XX` escapes or split
   * by soft line breaks (`=` CRLF) is redacted too, the whole spelling replaced.
   */
  readonly quotedPrintable?: boolean
}

export const DEFAULT_REPLACEMENT = '[REDACTED]'
const DEFAULT_REPLACEMENT_BYTES = Buffer.from(DEFAULT_REPLACEMENT, 'utf8')
const EMPTY = Buffer.alloc(0)
const NO_KINDS: readonly string[] = Object.freeze([])

/**
 * Streaming redaction of every secret of a matcher, in every encoding, across chunk boundaries,
 * also when some of its characters are escaped (`\u002B`, `%2B`, `&#43;`: see escapes.ts); the
 * whole escaped spelling is replaced. Overlapping or adjacent occurrences become one replacement.
 * Held back between pushes: only a tail that may be the beginning of an occurrence — the start of
 * a pattern cut off by the chunk's end, or a tail holding an escape's start — and never more than
 * `matcher.longestSpan - 1` bytes (the longest pattern, or the longest secret with every byte
 * written as a 12-byte escape, less one). Line-based streams such as SSE come out event by event,
 * and a stream of words or tokens without line breaks chunk by chunk.
 */
export class Redactor {
  readonly #matcher: SecretMatcher
  readonly #replacement: Buffer
  /** Also read the body as quoted-printable (RedactorOptions.quotedPrintable). */
  readonly #qp: boolean
  #pending: Buffer = EMPTY
  /** absolute offset of #pending[0] in the whole stream */
  #pendingStart = 0
  /** absolute end of the last redacted run (bytes before it that are still pending are dropped) */
  #covered = -1
  /** bytes at the start of #pending that end an escape begun before it (a `\` pairs with them) */
  #lead = 0
  /** the last byte before #pending (UTF-16: the byte a misreading is told by), or -1 */
  #before = -1
  #count = 0
  #kinds: Set<string> | null = null
  #ended = false
  /** Second stage: operator tokens, recognised by shape (token-redact.ts). */
  readonly #tokens: UserTokenRedactor
  /** Third stage, for a stream of records: secrets split across them (delta-redact.ts). */
  readonly #records: RecordRedactor | null

  constructor(matcher: SecretMatcher, options: RedactorOptions = {}) {
    this.#matcher = matcher
    this.#replacement = replacementOf(options)
    this.#qp = options.quotedPrintable === true
    this.#tokens = new UserTokenRedactor(this.#replacement)
    this.#records =
      options.records == null
        ? null
        : new RecordRedactor(matcher, options.records, this.#replacement.toString('utf8'))
  }

  /** Replacements made so far (one per run of overlapping or adjacent occurrences). */
  get count(): number {
    return this.#count + this.#tokens.count + (this.#records?.count ?? 0)
  }

  /** Kind labels of the secrets redacted so far, sorted. */
  get kinds(): string[] {
    const kinds = new Set(this.#kinds)
    if (this.#tokens.count > 0) kinds.add(USER_TOKEN_KIND)
    return [...kinds].sort()
  }

  /** Bytes currently held back waiting for the next chunk. */
  get held(): number {
    return this.#pending.length + this.#tokens.held
  }

  /** Feed the next chunk; returns the output that is final so far (may share memory with `chunk`). */
  push(chunk: Uint8Array): Buffer {
    if (this.#ended) throw new Error('Redactor: push after end')
    const input = asBuffer(chunk)
    const buf = this.#pending.length === 0 ? input : Buffer.concat([this.#pending, input])
    const out = this.#tokens.push(this.#process(buf, false), false)
    return this.#records === null ? out : this.#records.push(out)
  }

  /** Flush what is held back. The redactor takes no more input afterwards. */
  end(): Buffer {
    if (this.#ended) return EMPTY
    this.#ended = true
    const out = this.#tokens.push(this.#process(this.#pending, true), true)
    if (this.#records === null) return out
    const last = this.#records.push(out)
    const rest = this.#records.end()
    return rest.length === 0 ? last : Buffer.concat([last, rest])
  }

  /** The first position in `buf` where an occurrence still growing into the next chunk may start. */
  #safeLimit(buf: Buffer): number {
    const t = tablesOf(this.#matcher)
    const n = buf.length
    const carry = Math.max(0, this.#matcher.longestSpan - 1)
    const limit = Math.max(0, n - carry)
    // Such an occurrence starts within `carry` bytes of the end, after the last byte no pattern
    // or escape holds, and where the rest of `buf` is a pattern's (or an escape's) beginning.
    let from = limit
    const qp = this.#qp
    for (let i = n - 1; i >= limit; i--) {
      const b = buf[i] as number
      if (t.escapedByte[b] === 0 && !(qp && isQuotedPrintableSyntax(b))) {
        from = i + 1
        break
      }
    }
    // Quoted-printable: an `=` in the tail may start an escape or a soft line break.
    if (qp && buf.indexOf(0x3d, from) !== -1) return from
    return holdStart(t, buf, from)
  }

  #process(buf: Buffer, final: boolean): Buffer {
    const t = tablesOf(this.#matcher)
    const base = this.#pendingStart
    let limit = final ? buf.length : this.#safeLimit(buf)
    const cutFrom = Math.max(0, this.#covered - base)
    let resume = collect(t, buf, limit, this.#lead, final ? -1 : limit, cutFrom, base, this.#qp)
    const undecided = final || found.starts.length === 0 ? -1 : undecidedStart(t, buf, base)
    if (undecided !== -1) {
      // A UTF-16 occurrence that may be a misreading waits for the byte that tells.
      limit = undecided
      resume = collect(t, buf, limit, this.#lead, limit, cutFrom, base, this.#qp)
    }
    const before = this.#before
    if (limit > 0) this.#before = buf[limit - 1] as number
    this.#lead = final ? 0 : resume - limit
    let covered = this.#covered - base
    let out: Buffer
    if (found.starts.length === 0) {
      const emitted = Math.min(Math.max(covered, 0), limit)
      out = emitted === 0 && limit === buf.length ? buf : buf.subarray(emitted, limit)
    } else {
      this.#kinds ??= new Set()
      out = assemble(t, buf, covered, limit, this.#replacement, this.#kinds, base, before)
      covered = assembled.covered
      this.#count += assembled.runs
    }
    this.#covered = base + covered
    this.#pendingStart = base + limit
    this.#pending = limit < buf.length ? Buffer.from(buf.subarray(limit)) : EMPTY
    return out
  }
}

type Tables = ReturnType<typeof tablesOf>

/**
 * The occurrences one scan found, as parallel lists. Reused by every scan: a scan runs to its end
 * synchronously and never starts another, so a body without a secret allocates nothing here.
 */
const found = {
  starts: [] as number[],
  ends: [] as number[],
  kinds: [] as number[],
  /** the pattern found as it is (or cut off at the end), -1 for an escaped spelling */
  patterns: [] as number[],
}
let collecting: Tables | null = null
/** occurrences that start at or after it are found again, whole, with the next chunk */
let collectLimit = 0

const onDirect = (p: number, start: number): void => {
  const t = collecting as Tables
  if (start >= collectLimit) return
  found.starts.push(start)
  found.ends.push(start + (t.length[p] as number))
  found.kinds.push(t.kind[p] as number)
  found.patterns.push(p)
}

const onEscaped = (p: number, start: number, end: number): void => {
  if (start >= collectLimit) return
  found.starts.push(start)
  found.ends.push(end)
  found.kinds.push((collecting as Tables).kind[p] as number)
  found.patterns.push(-1)
}

/**
 * Fill `found` with every occurrence in `buf` (raw and escaped) that starts before `limit`; returns
 * where the escape scan of the next chunk must start (see forEachEscapedHit). `cut` -1 says `buf`
 * ends the body: a secret it ends inside counts too, from `cutFrom` on (see cutOffStart).
 */
function collect(
  t: Tables,
  buf: Buffer,
  limit: number,
  lead: number,
  cut: number,
  cutFrom = 0,
  base = 0,
  qp = false,
): number {
  found.starts.length = 0
  found.ends.length = 0
  found.kinds.length = 0
  found.patterns.length = 0
  collecting = t
  collectLimit = limit
  try {
    forEachHit(t, buf, onDirect)
    const resume = forEachEscapedHit(t, buf, onEscaped, lead, cut)
    if (qp) forEachQuotedPrintableHit(t, buf, onEscaped)
    if (cut === -1) {
      // The body ends inside a secret (broken off, or its echo cut short): the piece is not sent.
      let cutOff = cutOffStart(t, buf, cutFrom, buf.length, base)
      // Its spelling may end in an escape (`\u002d`, `%2D`, `=3D`): the last byte is then one
      // an escape is written with, which ends few bodies (`}`, a line break never).
      if (cutOff === null && buf.length > 0 && isEscapeEnd(t, buf[buf.length - 1] as number, qp)) {
        cutOff = escapedCutOffStart(t, buf, cutFrom, qp)
      }
      if (cutOff !== null) {
        found.starts.push(cutOff.start)
        found.ends.push(buf.length)
        found.kinds.push(t.kind[cutOff.pattern] as number)
        found.patterns.push(cutOff.pattern)
      }
    }
    return resume
  } finally {
    collecting = null
  }
}

/** Whether `b` may end the escaped spelling of a secret's start (a pattern byte, or escape syntax). */
function isEscapeEnd(t: Tables, b: number, qp: boolean): boolean {
  return t.escapedByte[b] === 1 || (qp && isQuotedPrintableSyntax(b))
}

/** What the last `assemble` left: the end of the last run (relative to its buffer), and runs made. */
const assembled = { covered: 0, runs: 0 }

/**
 * buf[…limit) with every run of overlapping or adjacent occurrences in `found` replaced. Bytes
 * before `covered` (the end of a run an earlier chunk began) are dropped. Adds the kinds replaced.
 * A run that starts with a UTF-16 form is replaced by the replacement in that form, so a UTF-16
 * body stays UTF-16; an occurrence that is the other byte order's misreading (see isMisreading:
 * `base` is buf[0]'s offset in the body, `before` the byte ahead of it) is none, so the
 * replacement keeps the characters aligned.
 */
function assemble(
  t: Tables,
  buf: Buffer,
  covered: number,
  limit: number,
  replacement: Buffer,
  kinds: Set<string>,
  base = 0,
  before = -1,
): Buffer {
  const { starts, ends, patterns } = found
  const order = starts.map((_, i) => i)
  if (order.length > 1) order.sort((a, b) => (starts[a] as number) - (starts[b] as number))
  const out: Uint8Array[] = []
  let runs = 0
  let emitted = Math.min(Math.max(covered, 0), limit)
  for (const i of order) {
    const start = starts[i] as number
    const end = ends[i] as number
    const p = patterns[i] as number
    const form = p === -1 ? -1 : (t.encoding[p] as number)
    const wide = form === UTF16LE || form === UTF16BE
    if (wide && isMisreading(t, buf, buf.length, p, start, base, before)) continue
    if (start <= covered) {
      covered = Math.max(covered, end)
    } else {
      out.push(buf.subarray(emitted, start), wide ? replacementIn(replacement, form) : replacement)
      runs++
      covered = end
    }
    kinds.add(t.kinds[found.kinds[i] as number] as string)
    emitted = Math.min(covered, limit)
  }
  if (emitted < limit) out.push(buf.subarray(emitted, limit))
  assembled.covered = covered
  assembled.runs = runs
  return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)
}

/**
 * Where the first odd big-endian UTF-16 occurrence in `found` starts whose other reading (one byte
 * later) would end past `buf`: whether it is a misreading is told by the next chunk. -1 for none.
 */
function undecidedStart(t: Tables, buf: Buffer, base: number): number {
  const { starts, ends, patterns } = found
  let first = -1
  for (let i = 0; i < starts.length; i++) {
    const p = patterns[i] as number
    const start = starts[i] as number
    if (p === -1 || t.encoding[p] !== UTF16BE || ((base + start) & 1) === 0) continue
    if (ends[i] === buf.length && (first === -1 || start < first)) first = start
  }
  return first
}

/** The replacement written in UTF-16 (LE or BE), per replacement; made the first time one is needed. */
const wideReplacements = new WeakMap<Buffer, { le: Buffer; be: Buffer }>()

function replacementIn(replacement: Buffer, form: number): Buffer {
  let wide = wideReplacements.get(replacement)
  if (wide === undefined) {
    const le = Buffer.from(replacement.toString('utf8'), 'utf16le')
    wide = { le, be: Buffer.from(le).swap16() }
    wideReplacements.set(replacement, wide)
  }
  return form === UTF16LE ? wide.le : wide.be
}

/**
 * Redact a whole body in one scan: what a Redactor given it in one push and ended makes, without
 * its held-back tail and second pass. Null when there is nothing to replace.
 */
function redactWhole(
  t: Tables,
  bytes: Buffer,
  replacement: Buffer,
  qp = false,
): { bytes: Buffer; count: number; kinds: Set<string> } | null {
  collect(t, bytes, bytes.length, 0, -1, 0, 0, qp)
  const stem = holdsStem(bytes)
  if (found.starts.length === 0 && !stem) return null
  const kinds = new Set<string>()
  let out = bytes
  let count = 0
  if (found.starts.length > 0) {
    out = assemble(t, bytes, -1, bytes.length, replacement, kinds)
    count = assembled.runs
  }
  if (stem) {
    const tokens = new UserTokenRedactor(replacement)
    out = tokens.push(out, true)
    count += tokens.count
    if (tokens.count > 0) kinds.add(USER_TOKEN_KIND)
  }
  return { bytes: out, count, kinds }
}

function replacementOf(options: RedactorOptions): Buffer {
  return options.replacement === undefined
    ? DEFAULT_REPLACEMENT_BYTES
    : Buffer.from(options.replacement, 'utf8')
}

/** A streaming redactor for one body. */
export function createRedactor(matcher: SecretMatcher, options: RedactorOptions = {}): Redactor {
  return new Redactor(matcher, options)
}

export interface RedactedText {
  readonly text: string
  readonly count: number
  readonly kinds: readonly string[]
}

export interface RedactedBytes {
  /** The redacted bytes: the input itself when nothing matched. */
  readonly bytes: Buffer
  readonly count: number
}

/**
 * Redact a whole buffer (a small response body read in full). The common case — nothing to redact —
 * costs one scan and allocates nothing but the result: the input comes back as it is.
 */
export function redactBuffer(
  bytes: Buffer,
  matcher: SecretMatcher,
  options: RedactorOptions = {},
): RedactedBytes {
  const whole = redactWhole(tablesOf(matcher), bytes, replacementOf(options), options.quotedPrintable)
  return whole === null ? { bytes, count: 0 } : { bytes: whole.bytes, count: whole.count }
}

/**
 * Redact a whole body given in the parts it arrived in. Null — the usual answer — when none of them
 * holds a secret, also split across parts: send them as they are (nothing joined, copied or
 * allocated for one part; one scan of each part and of the bytes around each boundary for more).
 * Else the redacted body, joined.
 */
export function redactParts(
  parts: readonly Buffer[],
  matcher: SecretMatcher,
  options: RedactorOptions = {},
): RedactedBytes | null {
  const direct = redactPartsDirect(parts, matcher, options)
  if (options.records == null || parts.length === 0) return direct
  const bytes = direct?.bytes ?? (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts))
  const across = new RecordRedactor(matcher, options.records, replacementOf(options).toString('utf8'))
  const head = across.push(bytes)
  const tail = across.end()
  // Nothing split across records (the usual answer): what the first pass made, unchanged.
  if (across.count === 0) return direct
  const out = tail.length === 0 ? head : Buffer.concat([head, tail])
  return { bytes: out, count: (direct?.count ?? 0) + across.count }
}

function redactPartsDirect(
  parts: readonly Buffer[],
  matcher: SecretMatcher,
  options: RedactorOptions,
): RedactedBytes | null {
  const t = tablesOf(matcher)
  const qp = options.quotedPrintable === true
  if (parts.length === 1) return redactWhole(t, parts[0] as Buffer, replacementOf(options), qp)
  if (parts.length === 0) return null
  // (containsSecret knows no quoted-printable: such a body is read whole)
  if (!qp && !containsSecret(parts, matcher) && !endsCutOff(t, parts)) return null
  return redactWhole(t, Buffer.concat(parts), replacementOf(options), qp)
}

/** Whether the parts end inside a secret (see cutOffStart), also one that spans several parts. */
function endsCutOff(t: Tables, parts: readonly Buffer[]): boolean {
  const last = parts[parts.length - 1] as Buffer
  // Most bodies end in a byte no pattern holds (`}`, a newline): nothing is copied.
  if (last.length > 0 && t.patternByte[last[last.length - 1] as number] === 0) return false
  const n = tailWindow(parts, Math.max(t.longestPattern - 1, t.rawLongest * MAX_ESCAPE_PER_BYTE))
  if (cutOffStart(t, windowBytes, 0, n) !== null) return true
  const lastByte = windowBytes[n - 1] as number
  return (
    n > 0 &&
    isEscapeEnd(t, lastByte, false) &&
    escapedCutOffStart(t, windowBytes.subarray(0, n), 0, false) !== null
  )
}

/** Writes the last `reach` bytes of the parts into `windowBytes`; returns how many. */
function tailWindow(parts: readonly Buffer[], reach: number): number {
  if (windowBytes.length < reach) windowBytes = Buffer.alloc(2 * reach)
  let first = parts.length
  let taken = 0
  while (first > 0 && taken < reach) taken += (parts[--first] as Buffer).length
  let skip = Math.max(0, taken - reach)
  let o = 0
  for (let i = first; i < parts.length; i++) {
    o += (parts[i] as Buffer).copy(windowBytes, o, skip)
    skip = 0
  }
  return o
}

/**
 * Whether `text` holds a secret (in any of its encodings) with its ASCII letters in either case:
 * for text whose case is not its own, such as a header name (HTTP lower-cases names, and a secret
 * lower-cased still gives it away). Only whole occurrences; escapes and cut-off starts are
 * `redactText`'s.
 */
export function containsSecretIgnoringCase(text: string, matcher: SecretMatcher): boolean {
  return hasHitIgnoringCase(tablesOf(matcher), text)
}

/**
 * Whether `bytes` holds any secret of the matcher, in any encoding. Given the parts of one body (as
 * they arrived), it also finds an occurrence split across parts, without joining them.
 */
export function containsSecret(bytes: Uint8Array | readonly Uint8Array[], matcher: SecretMatcher): boolean {
  if (holdsUserTokenStem(bytes)) return true
  const t = tablesOf(matcher)
  if (bytes instanceof Uint8Array) return hasHit(t, bytes) || hasEscapedHit(t, bytes)
  for (const part of bytes) if (hasHit(t, part)) return true
  // An occurrence split by a boundary starts less than `longest` bytes before it and ends less than
  // `longest` after it: it lies whole in the window of those bytes.
  const reach = matcher.longest - 1
  if (reach <= 0) return false
  for (let i = 1; i < bytes.length; i++) {
    const n = boundaryWindow(bytes, i, reach)
    if (hasHit(t, windowBytes, n)) return true
  }
  // Escapes are read left to right (a `\` pairs with the byte after it), so the escape view needs
  // the body in one piece; a body without `\`, `%` or `&` has none.
  if (!bytes.some((part) => mayHoldEscape(part))) return false
  return hasEscapedHit(t, bytes.length === 1 ? (bytes[0] as Uint8Array) : Buffer.concat(bytes))
}

/** Whether a part holds the start of an operator token (`aegis_us`), also split across two parts. */
function holdsUserTokenStem(bytes: Uint8Array | readonly Uint8Array[]): boolean {
  if (bytes instanceof Uint8Array) return holdsStem(asBuffer(bytes))
  for (const part of bytes) if (holdsStem(asBuffer(part))) return true
  const stem = USER_TOKEN_STEM.length
  for (let i = 1; i < bytes.length; i++) {
    const n = boundaryWindow(bytes, i, stem - 1)
    for (let at = 0; at + stem <= n; at++) {
      let k = 0
      while (k < stem && windowBytes[at + k] === USER_TOKEN_STEM[k]) k++
      if (k === stem) return true
    }
  }
  return false
}

/** The window `boundaryWindow` fills; grown when a matcher's longest pattern needs more. */
let windowBytes = Buffer.alloc(1024)

/**
 * Writes up to `reach` bytes before the start of parts[at] and up to `reach` from it into
 * `windowBytes`; returns how many.
 */
function boundaryWindow(parts: readonly Uint8Array[], at: number, reach: number): number {
  if (windowBytes.length < 2 * reach) windowBytes = Buffer.alloc(2 * reach)
  // The first part the window starts in, and where in it.
  let first = at
  let skip = 0
  for (let before = 0; first > 0 && before < reach; ) {
    first--
    const len = (parts[first] as Uint8Array).length
    const take = Math.min(len, reach - before)
    skip = len - take
    before += take
  }
  let o = 0
  for (let i = first; i < at; i++)
    o += asBuffer(parts[i] as Uint8Array).copy(windowBytes, o, i === first ? skip : 0)
  let need = reach
  for (let i = at; i < parts.length && need > 0; i++) {
    const part = asBuffer(parts[i] as Uint8Array)
    const take = Math.min(need, part.length)
    o += part.copy(windowBytes, o, 0, take)
    need -= take
  }
  return o
}

/**
 * Redact a whole string (a header value, an error text). It is read as UTF-8 and, when every character
 * fits in a byte, also as latin1 (Node gives raw header bytes as latin1 characters).
 */
export function redactText(
  text: string,
  matcher: SecretMatcher,
  options: RedactorOptions = {},
): RedactedText {
  const t = tablesOf(matcher)
  // The common case: an ASCII value with no escape, no operator token and no secret comes back as it
  // is, after one scan of a copy in scratch memory (ASCII: its UTF-8 and latin1 bytes are its chars).
  if (
    text.indexOf('aegis_us') === -1 &&
    text.indexOf('\\') === -1 &&
    text.indexOf('%') === -1 &&
    text.indexOf('&') === -1 &&
    asciiHasHit(t, text) === false &&
    !asciiMayEndCutOff(t, text)
  ) {
    return { text, count: 0, kinds: NO_KINDS }
  }
  const replacement = replacementOf(options)
  const bytes = Buffer.from(text, 'utf8')
  const first = redactWhole(t, bytes, replacement)
  if (first === null && bytes.length === text.length) return { text, count: 0, kinds: NO_KINDS }
  let result = first === null ? text : first.bytes.toString('utf8')
  let count = first?.count ?? 0
  const kinds = new Set(first?.kinds)
  if (isLatin1(result) && Buffer.byteLength(result, 'utf8') !== result.length) {
    const second = redactWhole(t, Buffer.from(result, 'latin1'), replacement)
    if (second !== null) {
      result = second.bytes.toString('latin1')
      count += second.count
      for (const kind of second.kinds) kinds.add(kind)
    }
  }
  return count === 0 && result === text
    ? { text, count: 0, kinds: NO_KINDS }
    : { text: result, count, kinds: [...kinds].sort() }
}
