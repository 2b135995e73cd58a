/**
 * Next-page links in a JSON answer's body: Microsoft Graph's `@odata.nextLink`, Zendesk's
 * `next_page`, HAL's `_links.next.href`. Like the `Link` header (`links.ts`), each names the
 * upstream itself, and an SDK pointed at the gate follows it straight to the API: without the vault
 * credential, with the agent token in its key slot, or paging silently stops. The body is content,
 * so only what is unmistakably a page link is rebased onto the gate (`rebaseReference`, the header's
 * mapping): a whole JSON string value that is an absolute `https` URL on the upstream, under a key
 * of `BODY_LINK_KEYS`, or `href`/`link` in an object under a key of `LINK_OBJECT_KEYS`. A comment
 * that merely quotes such a URL, a key outside the sets, another host: left byte for byte.
 *
 * The bytes are scanned for the upstream's host (one `indexOf` per chunk: an answer that does not
 * hold it costs nothing more); only where it follows `"https://` (or JSON's `"https:\/\/`) is the
 * key read, backwards, within the `CONTEXT_WINDOW` bytes before the value. Only the value's origin
 * changes (`https://graph.microsoft.com` → `http://127.0.0.1:3100/graph`); its path, query and
 * escapes stay as the upstream wrote them.
 */
import { type LinkRebase, rebaseReference } from './links.js'

/** Keys whose string value, when it is an absolute URL on the upstream, is a page link. */
export const BODY_LINK_KEYS: ReadonlySet<string> = new Set([
  // OData v4 (Microsoft Graph, Dynamics 365, SharePoint), with and without the `@` of its 4.01 form.
  '@odata.nextLink',
  '@odata.deltaLink',
  'odata.nextLink',
  'odata.deltaLink',
  // Azure Resource Manager and Azure DevOps lists; OData v2 (SAP, SharePoint's `d.__next`).
  'nextLink',
  '__next',
  // Django REST Framework, Spotify, Bitbucket, Atlassian (`_links.next`), JSON:API (`links.next`).
  'next',
  'prev',
  'previous',
  'first',
  'last',
  // Zendesk; Laravel's paginator and Twilio (`*_page_url`); Polygon.io and others (`next_url`).
  'next_page',
  'previous_page',
  'next_page_url',
  'prev_page_url',
  'previous_page_url',
  'first_page_url',
  'last_page_url',
  'next_url',
  'prev_url',
])

/** Keys whose object value holds its URL under `LINK_OBJECT_MEMBERS`: HAL and JSON:API `next: {href}`, HubSpot `paging.next.link`. */
export const LINK_OBJECT_KEYS: ReadonlySet<string> = new Set(['next', 'prev', 'previous', 'first', 'last'])
const LINK_OBJECT_MEMBERS: ReadonlySet<string> = new Set(['href', 'link'])

/** How far before a value its key is looked for; a key further back (a long sibling member) is not found. */
export const CONTEXT_WINDOW = 4096
/** A value longer than this is never a page link worth holding a stream back for: left as written. */
export const MAX_LINK_LENGTH = 8 * 1024

/** Output parts kept by reference for the window before they are joined into one. */
const MAX_RECENT_PARTS = 32

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_BRACE = 0x7b

/** `application/json`, `application/problem+json`, `application/json; odata.metadata=minimal`. */
const JSON_TYPE = /^\s*application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i

/** Whether a `Content-Type` header names JSON (`application/json` or any `+json` type). */
export function isJsonContentType(type: string | readonly string[] | undefined): boolean {
  const value = typeof type === 'string' ? type : type?.[0]
  return value !== undefined && JSON_TYPE.test(value)
}

/**
 * Rebases the page links of a JSON body, chunk by chunk (see the module comment). `push` returns
 * the output that is final so far; a chunk that ends inside a candidate link (its `"https://host`
 * begun, its closing quote not yet arrived) is held back until it is decided, at most
 * `MAX_LINK_LENGTH` bytes. `end` returns what is still held. Chunks must not be changed afterwards:
 * the last `CONTEXT_WINDOW` bytes passed on are kept by reference to read a key from.
 */
export class JsonLinkRebaser {
  /** Values rebased so far. */
  rebased = 0
  readonly #to: LinkRebase
  readonly #host: Buffer
  /** `"https://host` and `"https:\/\/host`: what a value on the upstream starts with. */
  readonly #starts: readonly Buffer[]
  readonly #base: Buffer
  /** Bytes an answer may grow by; past it, links are left as written. */
  #room: number
  #held: Buffer | null = null
  /** The latest output, by reference, at least CONTEXT_WINDOW bytes when there was that much. */
  #recent: Buffer[] = []
  #recentBytes = 0

  constructor(to: LinkRebase, options: { maxGrowth?: number } = {}) {
    this.#to = to
    this.#host = Buffer.from(to.host, 'latin1')
    this.#starts = [
      Buffer.from(`"https://${to.host}`, 'latin1'),
      Buffer.from(`"https:\\/\\/${to.host}`, 'latin1'),
    ]
    this.#base = Buffer.from(JSON.stringify(to.base).slice(1, -1), 'utf8')
    this.#room = options.maxGrowth ?? 1024 * 1024
  }

  push(chunk: Uint8Array): Buffer {
    const input = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    const data = this.#held === null ? input : Buffer.concat([this.#held, input])
    this.#held = null
    const out: Buffer[] = []
    let emitted = 0
    let from = 0
    for (;;) {
      const at = data.indexOf(this.#host, from)
      if (at === -1) break
      from = at + 1
      const quote = this.#valueStart(data, at)
      if (quote === -1 || quote < emitted || !underLinkKey(this.#before(data, quote))) continue
      const close = closingQuote(data, quote + 1)
      if (close === -1) {
        if (data.length - quote > MAX_LINK_LENGTH) continue
        // A link's value goes on in the next chunk: hold it (and what follows) back until it is whole.
        this.#hold(out, data, emitted, quote)
        return this.#output(out)
      }
      from = close + 1
      const replacement = this.#rebase(data, quote, at, close)
      if (replacement === null) continue
      out.push(data.subarray(emitted, quote + 1), replacement.bytes)
      emitted = replacement.resume
    }
    const start = this.#partialStart(data, emitted)
    this.#hold(out, data, emitted, start)
    return this.#output(out)
  }

  end(): Buffer {
    const held = this.#held ?? Buffer.alloc(0)
    this.#held = null
    return held
  }

  /** Where the value's opening quote is, when the host at `at` follows `"https://` (or `"https:\/\/`); else -1. */
  #valueStart(data: Buffer, at: number): number {
    for (const start of this.#starts) {
      const quote = at + this.#host.length - start.length
      if (quote >= 0 && data.compare(start, 0, start.length, quote, at + this.#host.length) === 0)
        return quote
    }
    return -1
  }

  /**
   * The value (under a link key) from `quote` to `close` rebased, as the bytes that replace its own from just after
   * the opening quote up to `resume` (where the rest of `data` goes on); null when it stays as written.
   */
  #rebase(data: Buffer, quote: number, at: number, close: number): { bytes: Buffer; resume: number } | null {
    let value: unknown
    try {
      value = JSON.parse(data.toString('utf8', quote, close + 1))
    } catch {
      return null
    }
    // A URL is one token: a value with a space or a control character is text that starts with one.
    if (typeof value !== 'string' || !isOneToken(value)) return null
    const rebased = rebaseReference(value, this.#to)
    if (rebased === null) return null
    // The origin as written: the host, and a port after it.
    let originEnd = at + this.#host.length
    if (data[originEnd] === COLON) {
      originEnd++
      while (
        data[originEnd] !== undefined &&
        (data[originEnd] as number) >= 0x30 &&
        (data[originEnd] as number) <= 0x39
      )
        originEnd++
    }
    const origin = value.slice(0, value.indexOf('//') + 2 + (originEnd - at))
    let bytes: Buffer
    let resume: number
    if (rebased === this.#to.base + value.slice(origin.length)) {
      // Only the origin changes: the rest keeps its bytes (its escapes, `\/` included).
      bytes = this.#base
      resume = originEnd
    } else {
      bytes = Buffer.from(JSON.stringify(rebased).slice(1, -1), 'utf8')
      resume = close
    }
    const growth = bytes.length - (resume - quote - 1)
    if (growth > this.#room) return null
    this.#room -= Math.max(growth, 0)
    this.rebased++
    return { bytes, resume }
  }

  /**
   * The last CONTEXT_WINDOW bytes before `quote`: the input as it came (a value rebased before it
   * reads the same to a JSON parser as the bytes that replace it), after the recent output.
   */
  #before(data: Buffer, quote: number): Buffer {
    // The usual case, a value past the first bytes of a chunk: a view, no copy.
    if (quote >= CONTEXT_WINDOW) return data.subarray(quote - CONTEXT_WINDOW, quote)
    const pieces = [data.subarray(0, quote)]
    let bytes = quote
    for (let i = this.#recent.length - 1; i >= 0 && bytes < CONTEXT_WINDOW; i--) {
      const piece = this.#recent[i] as Buffer
      const wanted = Math.min(piece.length, CONTEXT_WINDOW - bytes)
      pieces.push(piece.subarray(piece.length - wanted))
      bytes += wanted
    }
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces.reverse(), bytes)
  }

  /**
   * Where a value on the upstream may begin that the data ends inside (`"https:/`, `"https://ho`):
   * held back for the next chunk. `data.length` when the end cannot be such a beginning.
   */
  #partialStart(data: Buffer, floor: number): number {
    const longest = (this.#starts[1] as Buffer).length
    for (let i = Math.max(floor, data.length - longest + 1); i < data.length; i++) {
      if (data[i] !== QUOTE) continue
      const tail = data.length - i
      if (this.#starts.some((s) => tail < s.length && data.compare(s, 0, tail, i) === 0)) return i
    }
    return data.length
  }

  /** Emits `data` from `emitted` up to `start`, and holds the rest back. */
  #hold(out: Buffer[], data: Buffer, emitted: number, start: number): void {
    if (emitted === 0 && start === data.length) out.push(data)
    else if (start > emitted) out.push(data.subarray(emitted, start))
    if (start < data.length) this.#held = data.subarray(start)
  }

  #output(out: Buffer[]): Buffer {
    for (const part of out) this.#remember(part)
    if (out.length === 1) return out[0] as Buffer
    return out.length === 0 ? Buffer.alloc(0) : Buffer.concat(out)
  }

  /** Keeps a reference to output, and only as much of it as the window needs. */
  #remember(part: Buffer): void {
    if (part.length === 0) return
    this.#recent.push(part)
    this.#recentBytes += part.length
    while (this.#recentBytes - (this.#recent[0] as Buffer).length >= CONTEXT_WINDOW) {
      this.#recentBytes -= (this.#recent.shift() as Buffer).length
    }
    // A body in tiny chunks (an upstream dripping bytes): one buffer of the window, not thousands.
    if (this.#recent.length > MAX_RECENT_PARTS) {
      const joined = Buffer.concat(this.#recent, this.#recentBytes)
      const kept = joined.subarray(Math.max(0, joined.length - CONTEXT_WINDOW))
      this.#recent = [kept]
      this.#recentBytes = kept.length
    }
  }
}

/**
 * A whole body's page links rebased (`JsonLinkRebaser` over its parts): the new parts, or null when
 * nothing changed (the parts then go out as they are, never copied).
 */
export function rebaseJsonLinks(
  parts: readonly Buffer[],
  to: LinkRebase,
  options: { maxGrowth?: number } = {},
): Buffer[] | null {
  const rebaser = new JsonLinkRebaser(to, options)
  const out: Buffer[] = []
  for (const part of parts) {
    const piece = rebaser.push(part)
    if (piece.length > 0) out.push(piece)
  }
  const tail = rebaser.end()
  if (tail.length > 0) out.push(tail)
  return rebaser.rebased === 0 ? null : out
}

/** Whether a string has no white space and no control character: a URL is one token, text is not. */
function isOneToken(value: string): boolean {
  if (/\s/.test(value)) return false
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return false
  }
  return true
}

/** The index of the unescaped `"` that ends a JSON string whose content starts at `from`; -1 if not there yet. */
function closingQuote(data: Buffer, from: number): number {
  const limit = Math.min(data.length, from + MAX_LINK_LENGTH)
  for (let i = from; i < limit; i++) {
    const byte = data[i]
    if (byte === BACKSLASH) i++
    else if (byte === QUOTE) return i
  }
  return -1
}

/**
 * Whether a value whose opening quote follows `before` is the value of a link key (see the module
 * comment), read backwards. Anything the window does not hold whole (a key cut off, a backslash run
 * reaching its start) answers false: the value stays as written.
 */
function underLinkKey(before: Buffer): boolean {
  // The value's own quote must be a delimiter, not an escaped quote inside a string.
  if (!unescapedAt(before, before.length)) return false
  const key = keyBefore(before, before.length - 1)
  if (key === null) return false
  if (BODY_LINK_KEYS.has(key.name)) return true
  if (!LINK_OBJECT_MEMBERS.has(key.name)) return false
  // `href` / `link`: walk back over its object's earlier members to the `{`, then read the key that names the object.
  let i = skipSpace(before, key.start - 1)
  while (i >= 0 && before[i] === COMMA) {
    i = skipValue(before, skipSpace(before, i - 1))
    if (i < 0) return false
    const member = keyBefore(before, i)
    if (member === null) return false
    i = skipSpace(before, member.start - 1)
  }
  if (i < 0 || before[i] !== OPEN_BRACE) return false
  const parent = keyBefore(before, i - 1)
  return parent !== null && LINK_OBJECT_KEYS.has(parent.name)
}

/** The member key whose `:` is the first non-space at or before `i`: its text and opening quote. */
function keyBefore(data: Buffer, i: number): { name: string; start: number } | null {
  let j = skipSpace(data, i)
  if (j < 0 || data[j] !== COLON) return null
  j = skipSpace(data, j - 1)
  if (j < 0 || data[j] !== QUOTE) return null
  const start = openingQuote(data, j - 1)
  if (start < 0) return null
  // A key written with escapes is never one of the sets' plain names.
  const name = data.toString('latin1', start + 1, j)
  return name.includes('\\') ? null : { name, start }
}

/** The index before the JSON value that ends at `i` (a string, object, array, number or literal); -1 when not in the window. */
function skipValue(data: Buffer, i: number): number {
  if (i < 0) return -1
  const byte = data[i] as number
  if (byte === QUOTE) {
    const start = openingQuote(data, i - 1)
    return start < 0 ? -1 : start - 1
  }
  if (byte === 0x7d || byte === 0x5d) {
    let depth = 0
    for (let j = i; j >= 0; j--) {
      const c = data[j]
      if (c === QUOTE) {
        j = openingQuote(data, j - 1)
        if (j < 0) return -1
      } else if (c === 0x7d || c === 0x5d) depth++
      else if (c === OPEN_BRACE || c === 0x5b) {
        depth--
        if (depth === 0) return j - 1
      }
    }
    return -1
  }
  let j = i
  while (j >= 0 && /[\w.+-]/.test(String.fromCharCode(data[j] as number))) j--
  return j === i || j < 0 ? -1 : j
}

/** The index of the unescaped `"` that opens a string whose content ends at `i`; -1 when not in the window. */
function openingQuote(data: Buffer, i: number): number {
  for (let j = i; j >= 0; j--) {
    if (data[j] === QUOTE && unescapedAt(data, j)) return j
  }
  return -1
}

/** Whether the byte at `i` is preceded by an even run of backslashes that starts inside the window. */
function unescapedAt(data: Buffer, i: number): boolean {
  let run = 0
  let j = i - 1
  while (j >= 0 && data[j] === BACKSLASH) {
    run++
    j--
  }
  return j >= 0 && run % 2 === 0
}

function skipSpace(data: Buffer, i: number): number {
  let j = i
  while (j >= 0) {
    const c = data[j]
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
    j--
  }
  return j
}
