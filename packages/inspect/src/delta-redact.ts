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

const EMPTY = Buffer.alloc(0)

/** A record longer than this is not a delta stream's: the rest of the body passes as it is. */
const MAX_RECORD_BYTES = 64 * 1024
/** Records (and bytes) held at most while a secret may still be completing across them. */
const MAX_HELD_RECORDS = 256
const MAX_HELD_BYTES = 256 * 1024

/**
 * The second stage of a streamed body's redaction, for bodies made of records (records.ts): a reader
 * joins the strings at the same place of successive records (an LLM's text deltas), so a secret
 * split across records is found in the joined text and removed from every record that holds a
 * part of it (the first part becomes the replacement, the others lose theirs). A record leaves as
 * soon as no secret can still be completing in it; one that holds the start of a possible secret
 * waits for the records that tell. Records without a secret leave byte for byte as they came.
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
  /** Past a record too long for a delta stream: everything passes as it is. */
  #off = false
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
    return this.#release(this.#queue.length)
  }

  #add(bytes: Buffer): void {
    const record = parseRecord(Buffer.from(bytes), this.#framing)
    this.#queue.push(record)
    this.#queuedBytes += bytes.length
    if (record.pieces.length > 0) this.#scan(record)
  }

  /** Redacts what the record completes, in every text it adds to. */
  #scan(record: ParsedRecord): void {
    for (const path of pathsOf(record)) {
      const channel = this.#channel(path)
      const runs = hitRuns(this.#matcher, channel.text)
      if (runs.length === 0) continue
      this.#count += runs.length / 2
      // Last run first: a piece's earlier offsets stay valid while its end is rewritten.
      for (let r = runs.length - 2; r >= 0; r -= 2) {
        rewrite(channel, runs[r] as number, runs[r + 1] as number, this.#replacement)
      }
    }
  }

  /** The text joined from the queue's pieces at `path`, with where each piece sits in it. */
  #channel(path: string): Channel {
    const parts: Buffer[] = []
    const spans: Span[] = []
    let offset = 0
    for (const record of this.#queue) {
      for (const piece of record.pieces) {
        if (piece.path !== path) continue
        const bytes = Buffer.from(piece.value, 'utf8')
        parts.push(bytes)
        spans.push({ record, piece, start: offset, end: offset + bytes.length })
        offset += bytes.length
      }
    }
    return { text: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), spans }
  }

  /** How many records at the head of the queue no secret can still be completing in. */
  #ready(): number {
    let ready = this.#queue.length
    if (ready === 0) return 0
    const t = tablesOf(this.#matcher)
    const reach = Math.max(0, this.#matcher.longest - 1)
    const last = this.#queue[this.#queue.length - 1] as ParsedRecord
    const paths = new Set<string>()
    for (const record of this.#queue) for (const piece of record.pieces) paths.add(piece.path)
    for (const path of paths) {
      const channel = this.#channel(path)
      const n = channel.text.length
      const hold = prefixStart(t, channel.text, Math.max(0, n - reach))
      if (hold >= n) continue
      for (const span of channel.spans) {
        if (span.end > hold) {
          ready = Math.min(ready, this.#queue.indexOf(span.record))
          break
        }
      }
    }
    // Held records are bounded: past that, the oldest leave as they are.
    let held = this.#queue.length - ready
    let bytes = this.#queuedBytes
    for (let i = 0; i < ready; i++) bytes -= (this.#queue[i] as ParsedRecord).bytes.length
    while (held > 0 && (held > MAX_HELD_RECORDS || bytes > MAX_HELD_BYTES) && this.#queue[ready] !== last) {
      bytes -= (this.#queue[ready] as ParsedRecord).bytes.length
      ready++
      held--
    }
    return ready
  }

  /** Sends the first `count` queued records (written again where a secret was taken out). */
  #release(count: number): Buffer {
    if (count === 0) return EMPTY
    const out: Buffer[] = []
    for (const record of this.#queue.splice(0, count)) {
      this.#queuedBytes -= record.bytes.length
      out.push(record.dirty ? writeRecord(record, this.#framing) : record.bytes)
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)
  }
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
}

function pathsOf(record: ParsedRecord): Set<string> {
  const paths = new Set<string>()
  for (const piece of record.pieces) paths.add(piece.path)
  return paths
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
