import { CUT_OFF_MIN_BYTES, prefixStart } from './hold.js'
import { forEachHit, type SecretMatcher, tablesOf } from './matcher.js'
import {
  type ParsedRecord,
  type Piece,
  parseRecord,
  type RecordFraming,
  recordEnd,
  type SkipState,
  skipRecord,
  writeRecord,
} from './records.js'

const EMPTY = Buffer.alloc(0)

/**
 * A record longer than this is not a delta stream's: it passes as it comes, unparsed, and the
 * records after it are cut again from its end.
 */
const MAX_RECORD_BYTES = 64 * 1024
/** Records (and bytes) held at most while a secret may still be completing across them. */
const MAX_HELD_RECORDS = 256
const MAX_HELD_BYTES = 256 * 1024
/**
 * When a bound lets out a record that ends with the start of a possible secret, a start this short
 * leaves as it is (ordinary text ends in such bytes: the `s` of `yes`); a longer one is cut. Either
 * way the rest of the secret is still redacted from the records that bring it.
 */
const SHORT_START_BYTES = 3
/** Channels whose text let out under a bound still ends with the start of a possible secret. */
const MAX_CONTEXTS = 1024

/**
 * The second stage of a streamed body's redaction, for bodies made of records (records.ts): a reader
 * joins the strings at the same place of successive records (an LLM's text deltas), so a secret
 * split across records is found in the joined text and removed from every record that holds a
 * part of it (the first part becomes the replacement, the others lose theirs). A record leaves as
 * soon as no secret can still be completing in it; one that holds the start of a possible secret
 * waits for the records that tell. Records without a secret leave byte for byte as they came.
 *
 * A record is not held for a short start of a possible secret (SHORT_START_BYTES: one character
 * matches some secret's first one, in some encoding, all the time, and a token stream would lag one
 * event behind): it leaves, and that start is kept as the context of its channel, as when a bound
 * lets it out; the records that complete the secret lose the rest. A longer start holds the record.
 *
 * Held records are bounded (count, bytes, and the length of one record). When a bound lets out a
 * record that ends with the start of a possible secret, that start is cut unless it is a few bytes
 * (SHORT_START_BYTES), and the gate keeps it as the context of its channel: the records that complete
 * the secret later still lose their part of it. Nothing turns this stage off for the rest of a body.
 *
 * Its input is the first stage's output (a Redactor's: secrets whole inside a record are gone).
 */
export class RecordRedactor {
  readonly #framing: RecordFraming
  readonly #matcher: SecretMatcher
  readonly #replacement: string
  #pending: Buffer = EMPTY
  readonly #queue: ParsedRecord[] = []
  #queuedBytes = 0
  /** Inside a record too long to hold: its bytes pass until it ends. */
  #skip: SkipState | null = null
  /** Per channel (records.ts `Piece`): the end of its text already let out that may start a secret. */
  readonly #context = new Map<string, Buffer>()
  #count = 0

  constructor(matcher: SecretMatcher, framing: RecordFraming, replacement: string) {
    this.#matcher = matcher
    this.#framing = framing
    this.#replacement = replacement
  }

  /** Secrets removed across records so far (one per run). */
  get count(): number {
    return this.#count
  }

  push(chunk: Buffer): Buffer {
    const out: Buffer[] = []
    let rest = chunk
    if (this.#skip !== null) {
      const end = skipRecord(rest, this.#framing, this.#skip)
      if (end === -1) return rest
      this.#skip = null
      out.push(rest.subarray(0, end))
      rest = rest.subarray(end)
    }
    if (rest.length === 0 && this.#pending.length === 0) return joined(out)
    const buf = this.#pending.length === 0 ? rest : Buffer.concat([this.#pending, rest])
    let at = 0
    for (;;) {
      const end = recordEnd(buf, at, this.#framing, false)
      if (end === -1) break
      this.#add(buf.subarray(at, end))
      at = end
    }
    this.#pending = at < buf.length ? Buffer.from(buf.subarray(at)) : EMPTY
    if (this.#pending.length > MAX_RECORD_BYTES) {
      // Not a delta stream's record: the held ones leave first (in order), this one as it comes.
      out.push(this.#release(this.#queue.length, true))
      const long = this.#pending
      this.#pending = EMPTY
      const state: SkipState = { lineStart: true, cr: false }
      const end = skipRecord(long, this.#framing, state)
      if (end === -1) {
        this.#skip = state
        out.push(long)
      } else {
        out.push(long.subarray(0, end), this.push(long.subarray(end)))
      }
      return joined(out)
    }
    const { free, ready, loose } = this.#ready()
    out.push(this.#release(ready, ready > free, loose))
    return joined(out)
  }

  end(): Buffer {
    if (this.#pending.length > 0) {
      this.#add(this.#pending)
      this.#pending = EMPTY
    }
    // The body ends: a text that ends in the start of a secret (an LLM stopped inside it) loses
    // it, from CUT_OFF_MIN_BYTES on, as the direct stage cuts a body that ends in one.
    return this.#release(this.#queue.length, true, undefined, CUT_OFF_MIN_BYTES - 1)
  }

  #add(bytes: Buffer): void {
    const record = parseRecord(Buffer.from(bytes), this.#framing)
    this.#queue.push(record)
    this.#queuedBytes += bytes.length
    if (record.pieces.length > 0) this.#scan(record)
  }

  /** Redacts what the record completes, in every text it adds to. */
  #scan(record: ParsedRecord): void {
    const names = channelsOf(record)
    let channels = this.#channels(names)
    for (const name of names) {
      const channel = channels.get(name) as Channel
      const runs = hitRuns(this.#matcher, channel.text)
      let rewritten = false
      // Last run first: a piece's earlier offsets stay valid while its end is rewritten.
      for (let r = runs.length - 2; r >= 0; r -= 2) {
        // A run inside what already left was redacted when it was found.
        if ((runs[r + 1] as number) <= channel.sent) continue
        this.#count++
        rewrite(channel, runs[r] as number, runs[r + 1] as number, this.#replacement)
        rewritten = true
      }
      // A piece is in more than one channel: the others are joined again from its new value.
      if (rewritten) channels = this.#channels(names)
    }
  }

  /**
   * The texts of the named channels (all the queue's when null), each joined from its context and
   * the queue's pieces, with where each piece sits; one pass over the queue.
   */
  #channels(names: ReadonlySet<string> | null): Map<string, Channel> {
    const building = new Map<string, { parts: Buffer[]; spans: Span[]; sent: number; offset: number }>()
    const open = (name: string) => {
      let b = building.get(name)
      if (b === undefined) {
        const context = this.#context.get(name)
        const sent = context?.length ?? 0
        b = { parts: context === undefined ? [] : [context], spans: [], sent, offset: sent }
        building.set(name, b)
      }
      return b
    }
    if (names !== null) for (const name of names) open(name)
    for (const record of this.#queue) {
      for (const piece of record.pieces) {
        let bytes: Buffer | null = null
        for (const name of piece.channels) {
          if (names !== null && !names.has(name)) continue
          const b = open(name)
          bytes ??= Buffer.from(piece.value, 'utf8')
          b.parts.push(bytes)
          b.spans.push({ record, piece, start: b.offset, end: b.offset + bytes.length })
          b.offset += bytes.length
        }
      }
    }
    const out = new Map<string, Channel>()
    for (const [name, b] of building) {
      const text = b.parts.length === 1 ? (b.parts[0] as Buffer) : Buffer.concat(b.parts)
      out.set(name, { text, spans: b.spans, sent: b.sent })
    }
    return out
  }

  /** Where the rest of the channel's text is the start of some secret (its length when nowhere). */
  #holdFrom(channel: Channel): number {
    const n = channel.text.length
    const reach = Math.max(0, this.#matcher.longest - 1)
    return prefixStart(tablesOf(this.#matcher), channel.text, Math.max(0, n - reach))
  }

  /**
   * How many records at the head of the queue no secret can still be completing in (`free`), and
   * how many leave now (`ready`: more when the held ones are past their bounds).
   */
  #ready(): { free: number; ready: number; loose: Set<string> } {
    let ready = this.#queue.length
    const loose = new Set<string>()
    if (ready === 0) return { free: 0, ready: 0, loose }
    const last = this.#queue[this.#queue.length - 1] as ParsedRecord
    for (const [name, channel] of this.#channels(null)) {
      const hold = this.#holdFrom(channel)
      if (hold >= channel.text.length) continue
      const first = channel.spans.findIndex((span) => span.end > hold)
      if (first === -1) continue
      // A short start holds nothing (see the class).
      const short = channel.text.length - hold <= SHORT_START_BYTES
      // Only while its start can be kept: else it is held, as any other.
      const room = this.#context.size + loose.size < MAX_CONTEXTS
      if (short && room) {
        loose.add(name)
        continue
      }
      ready = Math.min(ready, this.#queue.indexOf((channel.spans[first] as Span).record))
    }
    const free = ready
    // Held records are bounded: past that, the oldest leave (see #letOut).
    let held = this.#queue.length - ready
    let bytes = this.#queuedBytes
    for (let i = 0; i < ready; i++) bytes -= (this.#queue[i] as ParsedRecord).bytes.length
    while (held > 0 && (held > MAX_HELD_RECORDS || bytes > MAX_HELD_BYTES) && this.#queue[ready] !== last) {
      bytes -= (this.#queue[ready] as ParsedRecord).bytes.length
      ready++
      held--
    }
    return { free, ready, loose }
  }

  /**
   * Sends the first `count` queued records (written again where a secret was taken out). A start
   * of a possible secret longer than `short` bytes is cut from them (see #letOut).
   */
  #release(count: number, forced: boolean, loose?: ReadonlySet<string>, short = SHORT_START_BYTES): Buffer {
    if (count === 0) return EMPTY
    if (forced || this.#context.size > 0 || (loose?.size ?? 0) > 0) this.#letOut(count, forced, loose, short)
    const out: Buffer[] = []
    for (const record of this.#queue.splice(0, count)) {
      this.#queuedBytes -= record.bytes.length
      out.push(record.dirty ? writeRecord(record, this.#framing) : record.bytes)
    }
    return joined(out)
  }

  /**
   * Before the first `count` records leave: for each channel whose text they end with the start of
   * a possible secret (when a bound forces them out, or a short start in strings that may not be
   * deltas), that
   * start becomes the channel's context, so the records that complete the secret still lose their
   * part; a start longer than SHORT_START_BYTES is cut from the records leaving. A context that no
   * longer starts a secret goes.
   */
  #letOut(count: number, forced: boolean, loose: ReadonlySet<string> | undefined, short: number): void {
    const leaving = new Set(this.#queue.slice(0, count))
    // A context changes only when its channel has pieces in the queue.
    const queued = new Set<string>()
    for (const record of this.#queue) for (const name of channelsOf(record)) queued.add(name)
    const names = new Set<string>()
    for (const name of this.#context.keys()) if (queued.has(name)) names.add(name)
    for (const name of loose ?? []) names.add(name)
    if (forced)
      for (const record of leaving)
        for (const piece of record.pieces) for (const c of piece.channels) names.add(c)
    // The contexts come from the text as it came: a cut below also changes the channels that
    // share its pieces, which must still know what they let out.
    // Bounded: the contexts kept already come first (`names` starts with them); a start that finds
    // no room is cut whatever its length (never a context dropped, which would let the rest out).
    const contexts = new Map<string, Buffer | null>()
    const unkept = new Set<string>()
    let room = MAX_CONTEXTS - this.#context.size
    for (const name of names) if (this.#context.has(name)) room++
    let channels = this.#channels(names)
    for (const name of names) {
      const { channel, hold, leftEnd } = this.#leaving(channels, name, leaving)
      if (hold >= leftEnd) {
        contexts.set(name, null)
      } else if (room > 0) {
        room--
        contexts.set(name, Buffer.from(channel.text.subarray(hold, leftEnd)))
      } else {
        contexts.set(name, null)
        unkept.add(name)
      }
    }
    for (const name of names) {
      const { channel, hold, leftEnd } = this.#leaving(channels, name, leaving)
      const cutFrom = Math.max(hold, channel.sent)
      if ((leftEnd - hold > short || unkept.has(name)) && cutFrom < leftEnd) {
        this.#count++
        rewrite(channel, cutFrom, leftEnd, this.#replacement)
        channels = this.#channels(names)
      }
    }
    for (const [name, context] of contexts) {
      this.#context.delete(name)
      if (context !== null) this.#context.set(name, context)
    }
  }

  /** A channel's hold (see #holdFrom), and where the part of it in the records leaving ends. */
  #leaving(
    channels: Map<string, Channel>,
    name: string,
    leaving: ReadonlySet<ParsedRecord>,
  ): { channel: Channel; hold: number; leftEnd: number } {
    const channel = channels.get(name) as Channel
    let leftEnd = channel.sent
    for (const span of channel.spans) {
      if (!leaving.has(span.record)) break
      leftEnd = span.end
    }
    return { channel, hold: this.#holdFrom(channel), leftEnd }
  }
}

function joined(parts: Buffer[]): Buffer {
  if (parts.length === 0) return EMPTY
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}

interface Span {
  readonly record: ParsedRecord
  readonly piece: Piece
  readonly start: number
  readonly end: number
}

interface Channel {
  readonly text: Buffer
  readonly spans: readonly Span[]
  /** Bytes at the start of `text` that already left (the channel's context). */
  readonly sent: number
}

function channelsOf(record: ParsedRecord): Set<string> {
  const names = new Set<string>()
  for (const piece of record.pieces) for (const c of piece.channels) names.add(c)
  return names
}

/** The secrets in `text` as merged [start, end) runs, flattened: start0, end0, start1, end1… */
function hitRuns(matcher: SecretMatcher, text: Buffer): number[] {
  const t = tablesOf(matcher)
  const hits: Array<[number, number]> = []
  forEachHit(t, text, (p, start) => {
    hits.push([start, start + (t.length[p] as number)])
  })
  if (hits.length === 0) return []
  hits.sort((a, b) => a[0] - b[0])
  const runs: number[] = []
  for (const [start, end] of hits) {
    const last = runs.length - 1
    if (last > 0 && start <= (runs[last] as number)) runs[last] = Math.max(runs[last] as number, end)
    else runs.push(start, end)
  }
  return runs
}

/** Takes [start, end) of the joined text out of its pieces; the first part becomes `replacement`. */
function rewrite(channel: Channel, start: number, end: number, replacement: string): void {
  let first = true
  for (const span of channel.spans) {
    if (span.end <= start || span.start >= end) continue
    const bytes = Buffer.from(span.piece.value, 'utf8')
    const from = Math.max(start, span.start) - span.start
    const to = Math.min(end, span.end) - span.start
    const middle = first ? replacement : ''
    first = false
    span.piece.value = bytes.subarray(0, from).toString('utf8') + middle + bytes.subarray(to).toString('utf8')
    span.record.dirty = true
  }
}
