/**
 * Streamed bodies made of records that each carry a piece of one text: Server-Sent Events (an LLM's
 * `data: {"choices":[{"delta":{"content":"…"}}]}` events) and JSON lines (`{"response":"…"}\n`).
 * A reader joins the pieces, so a secret may be split across records and never appear whole in the
 * bytes. This module finds the records and the pieces; delta-redact.ts joins and redacts them.
 */

import { createHash } from 'node:crypto'

/** How a body is cut into records: SSE events (ended by a blank line), or one record per line. */
export type RecordFraming = 'sse' | 'lines'

const LINE_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
  'application/stream+json',
])

/** The framing of a body by its Content-Type; null for a body that is not a stream of records. */
export function recordFraming(contentType: string | readonly string[] | undefined): RecordFraming | null {
  const value = Array.isArray(contentType) ? contentType[0] : contentType
  if (typeof value !== 'string') return null
  const semi = value.indexOf(';')
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
  if (type === 'text/event-stream') return 'sse'
  return LINE_TYPES.has(type) ? 'lines' : null
}

const LF = 0x0a
const CR = 0x0d

/**
 * Where the record that starts at `from` ends (the offset after its terminator), or -1 when `buf`
 * does not hold all of it yet. An SSE event ends with an empty line (`\n`, `\r\n` or `\r` line
 * ends); a line record with its line end. A `\r` as the last byte waits for the next chunk (it may
 * be the first half of `\r\n`), unless `final`.
 */
export function recordEnd(buf: Uint8Array, from: number, framing: RecordFraming, final: boolean): number {
  const n = buf.length
  let lineStart = from
  for (let i = from; i < n; i++) {
    const b = buf[i] as number
    if (b !== LF && b !== CR) continue
    let next = i + 1
    if (b === CR) {
      if (next === n && !final) return -1
      if (buf[next] === LF) next++
    }
    if (framing === 'lines' || i === lineStart) return next
    lineStart = next
    i = next - 1
  }
  return -1
}

/** Where a scan of an over-long record stands between chunks (see `skipRecord`). */
export interface SkipState {
  /** The last byte seen ended a line (an SSE event ends at an empty line). */
  lineStart: boolean
  /** The last byte seen was a `\r`: a `\n` first in the next chunk belongs to it. */
  cr: boolean
}

/**
 * Where the record being passed over ends in `buf` (the offset after its terminator), or -1 when it
 * goes on past `buf`; `state` carries what the scan needs into the next chunk. For a record too long
 * to hold: its bytes pass as they come, and the records after it are cut again from its end.
 */
export function skipRecord(buf: Uint8Array, framing: RecordFraming, state: SkipState): number {
  const n = buf.length
  for (let i = 0; i < n; i++) {
    const b = buf[i] as number
    if (state.cr) {
      state.cr = false
      if (b === LF) continue
    }
    if (b !== LF && b !== CR) {
      state.lineStart = false
      continue
    }
    // A `\n` that may follow a final `\r` in the next chunk reads as an empty record there.
    if (framing === 'lines' || state.lineStart) return b === CR && buf[i + 1] === LF ? i + 2 : i + 1
    state.lineStart = true
    if (b === CR) {
      if (i + 1 === n) state.cr = true
      else if (buf[i + 1] === LF) i++
    }
  }
  return -1
}

/**
 * One string of a record that a reader appends to others of the same channel. A string is in two
 * channels, each scanned: its JSON path (keys and array positions: the same field of successive
 * records), and its field name under the `index` of each array element that holds it (how SDKs
 * join: OpenAI's `choices[].index` and `tool_calls[].index`, Gemini's `candidates[].index`; the
 * parts of one candidate, Anthropic's `content_block.text` and the `delta.text` after it). '' alone
 * for a record's whole text.
 */
export interface Piece {
  readonly channels: readonly string[]
  value: string
  /** The object or array that holds it, and its key there (null for a whole text). */
  readonly holder: Record<string, unknown> | unknown[] | null
  readonly key: string | number
}

/** A parsed record: its pieces, and what it takes to write it again with other values. */
export interface ParsedRecord {
  readonly bytes: Buffer
  readonly pieces: Piece[]
  /** The parsed JSON (pieces point into it), or undefined for a text record. */
  readonly json: unknown
  /** SSE: the event's lines, without their ends (the empty closing line not included). */
  readonly lines: readonly string[]
  /** The record's line end, as written (`\n` by default). */
  readonly eol: string
  /** Whether the record ended with its terminator (not only at the end of the body). */
  readonly terminated: boolean
  dirty: boolean
}

/** Bounds on the walk of one record's JSON (a record beyond them is passed over). */
const MAX_DEPTH = 32
const MAX_PIECES = 512

/** Cuts one record into the pieces a reader joins with other records'. */
export function parseRecord(bytes: Buffer, framing: RecordFraming): ParsedRecord {
  const text = bytes.toString('utf8')
  const eol = lineEnd(text)
  if (framing === 'lines') {
    const body = stripEnd(text)
    const terminated = body.length < text.length
    return withPieces(bytes, body, [], eol, terminated)
  }
  const lines = stripEnd(stripEnd(text)).split(/\r\n|\r|\n/)
  const data: string[] = []
  for (const line of lines) {
    const field = fieldOf(line)
    if (field !== null && field.name === 'data') data.push(field.value)
  }
  const terminated = /(\r\n|\r|\n)(\r\n|\r|\n)$/.test(text)
  if (data.length === 0) return { bytes, pieces: [], json: undefined, lines, eol, terminated, dirty: false }
  return withPieces(bytes, data.join('\n'), lines, eol, terminated)
}

function withPieces(
  bytes: Buffer,
  body: string,
  lines: readonly string[],
  eol: string,
  terminated: boolean,
): ParsedRecord {
  const first = body.trimStart()[0]
  if (first === '{' || first === '[' || first === '"') {
    let json: unknown
    let parsed = false
    try {
      json = JSON.parse(body)
      parsed = true
    } catch {
      // Not JSON after all: the whole text is the piece.
    }
    if (parsed) {
      const pieces: Piece[] = []
      if (typeof json === 'string') pieces.push({ channels: WHOLE, value: json, holder: null, key: 0 })
      else collect(json, '', '', 0, pieces)
      return { bytes, pieces, json, lines, eol, terminated, dirty: false }
    }
  }
  const pieces = body.length === 0 ? [] : [{ channels: WHOLE, value: body, holder: null, key: 0 }]
  return { bytes, pieces, json: undefined, lines, eol, terminated, dirty: false }
}

const WHOLE: readonly string[] = ['']

/** `path`: JSON keys and positions joined by NUL; `under`: the `index` of each element on the way. */
function collect(node: unknown, path: string, under: string, depth: number, into: Piece[]): void {
  if (depth > MAX_DEPTH || node === null || typeof node !== 'object') return
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length && into.length < MAX_PIECES; i++) {
      const value = node[i]
      const at = `${path}\u0000${i}`
      if (typeof value === 'string') into.push(piece(at, `${under}\u0001[]`, value, node, i))
      else collect(value, at, `${under}\u0001${indexOf(value)}`, depth + 1, into)
    }
    return
  }
  const record = node as Record<string, unknown>
  for (const key in record) {
    if (into.length >= MAX_PIECES) return
    const value = record[key]
    const at = `${path}\u0000${key}`
    if (typeof value === 'string') into.push(piece(at, `${under}\u0002${key}`, value, record, key))
    else collect(value, at, under, depth + 1, into)
  }
}

function piece(
  path: string,
  field: string,
  value: string,
  holder: Piece['holder'],
  key: string | number,
): Piece {
  return { channels: [nameOf(path), nameOf(field)], value, holder, key }
}

/** A channel name longer than this is kept as its digest: state kept per channel stays small. */
const MAX_CHANNEL_NAME = 256

function nameOf(name: string): string {
  if (name.length <= MAX_CHANNEL_NAME) return name
  return `\u0003${createHash('sha256').update(name).digest('base64')}`
}

/** An array element's `index` field (a number), or '' when it has none. */
function indexOf(element: unknown): string {
  if (element === null || typeof element !== 'object' || Array.isArray(element)) return ''
  const index = (element as Record<string, unknown>).index
  return typeof index === 'number' ? String(index) : ''
}

/** The record written again with its pieces' current values (only for a record that changed). */
export function writeRecord(record: ParsedRecord, framing: RecordFraming): Buffer {
  const body = bodyOf(record)
  if (framing === 'lines') return Buffer.from(record.terminated ? body + record.eol : body, 'utf8')
  const out: string[] = []
  let written = false
  for (const line of record.lines) {
    const field = fieldOf(line)
    if (field === null || field.name !== 'data') {
      out.push(line)
      continue
    }
    if (written) continue
    written = true
    for (const part of body.split('\n')) out.push(`data: ${part}`)
  }
  const end = record.terminated ? record.eol + record.eol : ''
  return Buffer.from(out.join(record.eol) + end, 'utf8')
}

function bodyOf(record: ParsedRecord): string {
  if (record.json === undefined) return record.pieces[0]?.value ?? ''
  for (const piece of record.pieces) {
    if (piece.holder === null) return JSON.stringify(piece.value)
    ;(piece.holder as Record<string | number, unknown>)[piece.key] = piece.value
  }
  return JSON.stringify(record.json)
}

/** An SSE field line: `name: value` (one space after the colon dropped); null for a comment. */
function fieldOf(line: string): { name: string; value: string } | null {
  const colon = line.indexOf(':')
  if (colon === 0) return null
  if (colon === -1) return { name: line, value: '' }
  const value = line.charCodeAt(colon + 1) === 0x20 ? line.slice(colon + 2) : line.slice(colon + 1)
  return { name: line.slice(0, colon), value }
}

function lineEnd(text: string): string {
  const m = /\r\n|\r|\n/.exec(text)
  return m === null ? '\n' : m[0]
}

function stripEnd(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2)
  if (text.endsWith('\n') || text.endsWith('\r')) return text.slice(0, -1)
  return text
}

/**
 * Whether a body of this Content-Type may hold quoted-printable text (RFC 2045: the parts of a MIME
 * multipart or message carry their own `Content-Transfer-Encoding`), for
 * `RedactorOptions.quotedPrintable`. Elsewhere `=` is ordinary text and is not read as an escape.
 */
export function mayHoldQuotedPrintable(contentType: string | readonly string[] | undefined): boolean {
  if (contentType === undefined) return false
  const value = typeof contentType === 'string' ? contentType : (contentType[0] ?? '')
  return MIME_CONTAINER.test(value)
}

const MIME_CONTAINER = /^\s*(?:multipart|message)\//i
