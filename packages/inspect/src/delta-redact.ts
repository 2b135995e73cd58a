import { prefixStart } from './hold.js'
import { forEachHit, type SecretMatcher, tablesOf } from './matcher.js'
import {
  type ParsedRecord,
  type Piece,
  parseRecord,
  type RecordFraming,
  recordEnd,
  writeRecord,
} from './records.js'

type Tables = ReturnType<typeof tablesOf>

const EMPTY = Buffer.alloc(0)

/** A record longer than this is not a delta stream's: the rest of the body passes as it is. */
const MAX_RECORD_BYTES = 64 * 1024
/** Records (and bytes) held at most while a secret may still be completing across them. */
const MAX_HELD_RECORDS = 64
const MAX_HELD_BYTES = 256 * 1024
/**
 * An open end shorter than this holds no record back (see #ready): at most its bytes of a secret
 * (a well-known prefix such as `sk-` or `xox`) can reach the reader before the rest is redacted.
 */
const MIN_HOLD = 4
/** Open ends kept beyond this are dropped once all their pieces left. */
const MAX_OPEN = 256

/**
 * The second stage of a streamed body's redaction, for bodies made of records (records.ts): a reader
 * joins the strings at the same place of successive records (an LLM's text deltas), so a secret
 * split across records is found in the joined text and removed from every record that holds a
 * part of it (the first part becomes the replacement, the others lose theirs). A record leaves as
 * soon as no secret can still be completing in it; one that holds the start of a possible secret
 * waits for the records that tell. Records without a secret leave byte for byte as they came.
 *
 * Per place (`path`), only the open end of its joined text is kept: the bytes from where a secret
 * may still be starting, and the pieces they come from. Most pieces open nothing, and cost one
 * look at their last `longest - 1` bytes.
 *
 * Its input is the first stage's output (a Redactor's: secrets whole inside a record are gone).
 */
export class RecordRedactor {
  readonly #framing: RecordFraming
  readonly #t: Tables
  readonly #reach: number
  readonly #replacement: string
  #pending: Buffer = EMPTY
  /** Records parsed and not sent yet, oldest first (`seq` counts every record of the body). */
  readonly #queue: Held[] = []
  #queuedBytes = 0
  #seq = 0
  /** Per path, the open end of its joined text (see the class comment). */
  readonly #open = new Map<string, Span[]>()
  /** Past a record too long for a delta stream: everything passes as it is. */
  #off = false
  #count = 0

  constructor(matcher: SecretMatcher, framing: RecordFraming, replacement: string) {
    this.#t = tablesOf(matcher)
    this.#reach = Math.max(0, matcher.longest - 1)
    this.#framing = framing
    this.#replacement = replacement
  }

  /** Secrets removed across records so far (one per run). */
  get count(): number {
    return this.#count
  }

  push(chunk: Buffer): Buffer {
    if (this.#off) return chunk
    if (chunk.length === 0 && this.#pending.length === 0) return EMPTY
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    let at = 0
    for (;;) {
      const end = recordEnd(buf, at, this.#framing, false)
      if (end === -1) break
      this.#add(buf.subarray(at, end))
      at = end
    }
    this.#pending = at < buf.length ? Buffer.from(buf.subarray(at)) : EMPTY
    if (this.#pending.length > MAX_RECORD_BYTES) {
      this.#off = true
      this.#open.clear()
      const out = this.#release(this.#queue.length)
      const rest = this.#pending
      this.#pending = EMPTY
      return out.length === 0 ? rest : Buffer.concat([out, rest])
    }
    return this.#release(this.#ready())
  }

  end(): Buffer {
    if (this.#off) return EMPTY
    if (this.#pending.length > 0) {
      this.#add(this.#pending)
      this.#pending = EMPTY
    }
    this.#open.clear()
    return this.#release(this.#queue.length)
  }

  #add(bytes: Buffer): void {
    const held: Held = { record: parseRecord(Buffer.from(bytes), this.#framing), seq: this.#seq++ }
    this.#queue.push(held)
    this.#queuedBytes += bytes.length
    for (const piece of held.record.pieces) this.#extend(held, piece)
  }

  /** Appends a piece to its path's text: redacts what it completes, keeps what stays open. */
  #extend(held: Held, piece: Piece): void {
    const t = this.#t
    const open = this.#open.get(piece.path)
    if (open === undefined) {
      // Nothing open at this path: a secret whole in the piece was the first stage's; only the
      // piece's end can start one that later pieces complete.
      const bytes = Buffer.from(piece.value, 'utf8')
      const hold = prefixStart(t, bytes, Math.max(0, bytes.length - this.#reach))
      if (hold < bytes.length) this.#open.set(piece.path, [{ held, piece, from: hold }])
      return
    }
    open.push({ held, piece, from: 0 })
    let text = joined(open)
    const runs = hitRuns(t, text)
    if (runs.length > 0) {
      this.#count += runs.length / 2
      // Last run first: a piece's earlier offsets stay valid while its end is rewritten.
      const unsent = (this.#queue[0] as Held).seq
      for (let r = runs.length - 2; r >= 0; r -= 2) {
        rewrite(open, runs[r] as number, runs[r + 1] as number, this.#replacement, unsent)
      }
      text = joined(open)
    }
    const hold = prefixStart(t, text, Math.max(0, text.length - this.#reach))
    if (hold >= text.length) {
      this.#open.delete(piece.path)
      return
    }
    // Keep the spans from the one holding `hold` on, that one from `hold`.
    let offset = 0
    for (let i = 0; i < open.length; i++) {
      const span = open[i] as Span
      const length = Buffer.byteLength(span.piece.value, 'utf8') - span.from
      if (offset + length > hold) {
        span.from += hold - offset
        open.splice(0, i)
        return
      }
      offset += length
    }
  }

  /**
   * How many records at the head of the queue no secret can still be completing in: those before
   * the first unsent piece of an open end of at least MIN_HOLD bytes. A shorter one (a delta ending
   * in `s` or `x`, as text often does) holds nothing: if a secret does grow from it, its first bytes
   * are out already and the rest is redacted from the records still here.
   */
  #ready(): number {
    const queue = this.#queue
    if (queue.length === 0) return 0
    const firstSeq = (queue[0] as Held).seq
    let oldest = Number.POSITIVE_INFINITY
    for (const spans of this.#open.values()) {
      let length = 0
      let unsent = Number.POSITIVE_INFINITY
      for (const span of spans) {
        length += Buffer.byteLength(span.piece.value, 'utf8') - span.from
        if (span.held.seq >= firstSeq && unsent === Number.POSITIVE_INFINITY) unsent = span.held.seq
      }
      if (length >= MIN_HOLD) oldest = Math.min(oldest, unsent)
    }
    let ready = Math.min(queue.length, oldest - firstSeq)
    // Held records are bounded: past that, the oldest leave as they are.
    let bytes = this.#queuedBytes
    for (let i = 0; i < ready; i++) bytes -= (queue[i] as Held).record.bytes.length
    while (ready < queue.length - 1 && (queue.length - ready > MAX_HELD_RECORDS || bytes > MAX_HELD_BYTES)) {
      bytes -= (queue[ready] as Held).record.bytes.length
      ready++
    }
    return ready
  }

  /** Sends the first `count` queued records (written again where a secret was taken out). */
  #release(count: number): Buffer {
    if (count === 0) return EMPTY
    const out: Buffer[] = []
    for (const { record } of this.#queue.splice(0, count)) {
      this.#queuedBytes -= record.bytes.length
      out.push(record.dirty ? writeRecord(record, this.#framing) : record.bytes)
    }
    if (this.#open.size > MAX_OPEN) {
      // Ends whose pieces all left can still redact what follows them, but not without bound.
      const unsent = this.#queue.length === 0 ? this.#seq : (this.#queue[0] as Held).seq
      for (const [path, spans] of this.#open) {
        if ((spans[spans.length - 1] as Span).held.seq < unsent) this.#open.delete(path)
      }
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)
  }
}

interface Held {
  readonly record: ParsedRecord
  readonly seq: number
}

/** A piece's part in an open text: its bytes from `from` on. */
interface Span {
  readonly held: Held
  readonly piece: Piece
  from: number
}

function joined(spans: readonly Span[]): Buffer {
  const parts = spans.map((span) => Buffer.from(span.piece.value, 'utf8').subarray(span.from))
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}

/** The secrets in `text` as merged [start, end) runs, flattened: start0, end0, start1, end1… */
function hitRuns(t: Tables, text: Buffer): number[] {
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

/**
 * Takes [start, end) of the joined text out of its pieces; the first part becomes `replacement`.
 * Pieces of records already sent (`seq` below `unsent`) are past changing and left as they are.
 */
function rewrite(
  spans: readonly Span[],
  start: number,
  end: number,
  replacement: string,
  unsent: number,
): void {
  let first = true
  let offset = 0
  for (const span of spans) {
    const bytes = Buffer.from(span.piece.value, 'utf8')
    const length = bytes.length - span.from
    const spanStart = offset
    offset += length
    if (offset <= start || spanStart >= end || span.held.seq < unsent) continue
    const from = span.from + Math.max(start, spanStart) - spanStart
    const to = span.from + Math.min(end, offset) - spanStart
    const middle = first ? replacement : ''
    first = false
    span.piece.value = bytes.subarray(0, from).toString('utf8') + middle + bytes.subarray(to).toString('utf8')
    span.held.record.dirty = true
  }
}
