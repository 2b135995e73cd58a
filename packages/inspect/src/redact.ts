import { asBuffer, isLatin1 } from './encodings.js'
import { forEachEscapedHit, hasEscapedHit } from './escaped-hits.js'
import { forEachHit, type SecretMatcher, tablesOf } from './matcher.js'
import { USER_TOKEN_KIND, USER_TOKEN_STEM, UserTokenRedactor } from './token-redact.js'

export interface RedactorOptions {
  /** What replaces each redacted run. Default `[REDACTED]`. */
  readonly replacement?: string
}

export const DEFAULT_REPLACEMENT = '[REDACTED]'
const DEFAULT_REPLACEMENT_BYTES = Buffer.from(DEFAULT_REPLACEMENT, 'utf8')
const EMPTY = Buffer.alloc(0)
const NO_KINDS: readonly string[] = Object.freeze([])

/**
 * Streaming redaction of every secret of a matcher, in every encoding, across chunk boundaries,
 * also when some of its characters are escaped (`\u002B`, `%2B`, `&#43;`: see escapes.ts); the
 * whole escaped spelling is replaced. Overlapping or adjacent occurrences become one replacement.
 * Held back between pushes: at most `matcher.longestSpan - 1` bytes (the longest pattern, or the
 * longest secret with every byte written as a 12-byte escape, less one), and fewer when the
 * tail holds a byte that neither a pattern nor an escape contains (a newline, for secrets without
 * one), so line-based streams such as SSE come out event by event.
 */
export class Redactor {
  readonly #matcher: SecretMatcher
  readonly #replacement: Buffer
  #pending: Buffer = EMPTY
  /** absolute offset of #pending[0] in the whole stream */
  #pendingStart = 0
  /** absolute end of the last redacted run (bytes before it that are still pending are dropped) */
  #covered = -1
  /** bytes at the start of #pending that end an escape begun before it (a `\` pairs with them) */
  #lead = 0
  #count = 0
  #kinds: Set<string> | null = null
  #ended = false
  /** Second stage: operator tokens, recognised by shape (token-redact.ts). */
  readonly #tokens: UserTokenRedactor

  constructor(matcher: SecretMatcher, options: RedactorOptions = {}) {
    this.#matcher = matcher
    this.#replacement =
      options.replacement === undefined ? DEFAULT_REPLACEMENT_BYTES : Buffer.from(options.replacement, 'utf8')
    this.#tokens = new UserTokenRedactor(this.#replacement)
  }

  /** Replacements made so far (one per run of overlapping or adjacent occurrences). */
  get count(): number {
    return this.#count + this.#tokens.count
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
    return this.#tokens.push(this.#process(buf, false), false)
  }

  /** Flush what is held back. The redactor takes no more input afterwards. */
  end(): Buffer {
    if (this.#ended) return EMPTY
    this.#ended = true
    return this.#tokens.push(this.#process(this.#pending, true), true)
  }

  /** The first position in `buf` where an occurrence still growing into the next chunk may start. */
  #safeLimit(buf: Buffer): number {
    const t = tablesOf(this.#matcher)
    const n = buf.length
    const carry = Math.max(0, this.#matcher.longestSpan - 1)
    const limit = Math.max(0, n - carry)
    for (let i = n - 1; i >= limit; i--) {
      if (t.escapedByte[buf[i] as number] === 0) return i + 1
    }
    return limit
  }

  #process(buf: Buffer, final: boolean): Buffer {
    const t = tablesOf(this.#matcher)
    const base = this.#pendingStart
    const limit = final ? buf.length : this.#safeLimit(buf)
    const starts: number[] = []
    const ends: number[] = []
    const kinds: number[] = []
    forEachHit(t, buf, (p, start) => {
      if (start >= limit) return // found again, whole, with the next chunk
      starts.push(start)
      ends.push(start + (t.length[p] as number))
      kinds.push(t.kind[p] as number)
    })
    const onEscaped = (p: number, start: number, end: number): void => {
      if (start >= limit) return
      starts.push(start)
      ends.push(end)
      kinds.push(t.kind[p] as number)
    }
    const resume = forEachEscapedHit(t, buf, onEscaped, this.#lead, final ? -1 : limit)
    this.#lead = final ? 0 : resume - limit
    const order = starts.map((_, i) => i).sort((a, b) => (starts[a] as number) - (starts[b] as number))

    const out: Uint8Array[] = []
    let covered = this.#covered - base
    let emitted = Math.min(Math.max(covered, 0), limit)
    for (const i of order) {
      const start = starts[i] as number
      const end = ends[i] as number
      if (start <= covered) {
        covered = Math.max(covered, end)
      } else {
        out.push(buf.subarray(emitted, start), this.#replacement)
        this.#count++
        covered = end
      }
      this.#kinds ??= new Set()
      this.#kinds.add(t.kinds[kinds[i] as number] as string)
      emitted = Math.min(covered, limit)
    }
    if (emitted < limit) out.push(buf.subarray(emitted, limit))

    this.#covered = base + covered
    this.#pendingStart = base + limit
    this.#pending = limit < buf.length ? Buffer.from(buf.subarray(limit)) : EMPTY
    if (out.length === 1) return out[0] as Buffer
    return Buffer.concat(out)
  }
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
 * costs one scan and allocates nothing: the input comes back as it is.
 */
export function redactBuffer(
  bytes: Buffer,
  matcher: SecretMatcher,
  options: RedactorOptions = {},
): RedactedBytes {
  if (!containsSecret(bytes, matcher)) return { bytes, count: 0 }
  const [out, redactor] = redactBytes(bytes, matcher, options)
  return { bytes: out, count: redactor.count }
}

/**
 * Whether `bytes` holds any secret of the matcher, in any encoding. Given the parts of one body (as
 * they arrived), it also finds an occurrence split across parts, without joining them.
 */
export function containsSecret(bytes: Uint8Array | readonly Uint8Array[], matcher: SecretMatcher): boolean {
  if (holdsUserTokenStem(bytes)) return true
  const t = tablesOf(matcher)
  if (bytes instanceof Uint8Array) return hitsIn(t, bytes) || hasEscapedHit(t, bytes)
  for (const part of bytes) if (hitsIn(t, part)) return true
  // An occurrence split by a boundary starts less than `longest` bytes before it and ends less than
  // `longest` after it: it lies whole in the window of those bytes.
  const reach = matcher.longest - 1
  if (reach <= 0) return false
  for (let i = 1; i < bytes.length; i++) {
    if (hitsIn(t, boundaryWindow(bytes, i, reach))) return true
  }
  // Escapes are read left to right (a `\` pairs with the byte after it), so the escape view needs
  // the body in one piece; a body without `\`, `%` or `&` has none.
  if (!bytes.some(mayHoldEscape)) return false
  return hasEscapedHit(t, bytes.length === 1 ? (bytes[0] as Uint8Array) : Buffer.concat(bytes))
}

/** Whether a part holds the start of an operator token (`aegis_us`), also split across two parts. */
function holdsUserTokenStem(bytes: Uint8Array | readonly Uint8Array[]): boolean {
  if (bytes instanceof Uint8Array) return asBuffer(bytes).indexOf(USER_TOKEN_STEM) !== -1
  for (const part of bytes) if (asBuffer(part).indexOf(USER_TOKEN_STEM) !== -1) return true
  for (let i = 1; i < bytes.length; i++) {
    if (boundaryWindow(bytes, i, USER_TOKEN_STEM.length - 1).indexOf(USER_TOKEN_STEM) !== -1) return true
  }
  return false
}

function mayHoldEscape(part: Uint8Array): boolean {
  const b = asBuffer(part)
  return b.indexOf(0x5c) !== -1 || b.indexOf(0x25) !== -1 || b.indexOf(0x26) !== -1
}

function hitsIn(t: ReturnType<typeof tablesOf>, bytes: Uint8Array): boolean {
  let found = false
  forEachHit(t, bytes, () => {
    found = true
  })
  return found
}

/** Up to `reach` bytes before the start of parts[at] and up to `reach` from it, joined. */
function boundaryWindow(parts: readonly Uint8Array[], at: number, reach: number): Buffer {
  const before: Uint8Array[] = []
  let need = reach
  for (let i = at - 1; i >= 0 && need > 0; i--) {
    const part = parts[i] as Uint8Array
    const take = Math.min(need, part.length)
    before.unshift(part.subarray(part.length - take))
    need -= take
  }
  const after: Uint8Array[] = []
  need = reach
  for (let i = at; i < parts.length && need > 0; i++) {
    const part = parts[i] as Uint8Array
    const take = Math.min(need, part.length)
    after.push(part.subarray(0, take))
    need -= take
  }
  return Buffer.concat([...before, ...after])
}

function redactBytes(bytes: Buffer, matcher: SecretMatcher, options: RedactorOptions): [Buffer, Redactor] {
  const redactor = new Redactor(matcher, options)
  return [Buffer.concat([redactor.push(bytes), redactor.end()]), redactor]
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
  const bytes = Buffer.from(text, 'utf8')
  // The common case: plain ASCII with no secret in it comes back as it is, after one scan.
  if (bytes.length === text.length && !containsSecret(bytes, matcher))
    return { text, count: 0, kinds: NO_KINDS }
  const [utf8, first] = redactBytes(bytes, matcher, options)
  let result = utf8.toString('utf8')
  let count = first.count
  const kinds = new Set(first.kinds)
  if (isLatin1(result) && Buffer.byteLength(result, 'utf8') !== result.length) {
    const [latin1, second] = redactBytes(Buffer.from(result, 'latin1'), matcher, options)
    result = latin1.toString('latin1')
    count += second.count
    for (const kind of second.kinds) kinds.add(kind)
  }
  return { text: result, count, kinds: [...kinds].sort() }
}
