import { LedgerError } from './errors.js'
import type { Decision, LedgerEntry, LedgerEntryInput, LedgerOutcome, RequestChannel } from './types.js'

/** A row of `entries` as better-sqlite3 reads and writes it (named parameters = column names). */
export interface EntryRow {
  id?: number
  time: string
  ts: number
  request_id: string | null
  channel: RequestChannel | 'system'
  agent: string | null
  credential: string | null
  service: string | null
  target_host: string | null
  method: string | null
  path: string | null
  decision: Decision
  code: string | null
  status: number | null
  duration_ms: number | null
  bytes_in: number | null
  bytes_out: number | null
  dry_run: string | null
  redactions: number | null
  inspection: string | null
  event: string | null
  detail: string | null
}

/** Named parameters of the completion UPDATE. */
export interface CompleteParams {
  id: number
  decision: string | null
  code: string | null
  status: number | null
  duration_ms: number
  bytes_in: number
  bytes_out: number
  redactions: number | null
  inspection: string | null
}

const CHANNELS = new Set(['gate', 'mcp'])
const DECISIONS = new Set(['allowed', 'blocked', 'failed'])
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/
const EVENT = /^[a-z][a-z0-9_]{0,63}$/
/** Kinds of findings only: `warn:github-token`, `block:aws-key,warn:jwt`. */
const INSPECTION = /^[A-Za-z0-9:_,.-]{1,200}$/

/** Longest stored path; longer paths are cut (the gate's URL limit is far below this anyway). */
export const MAX_PATH = 2048
const MAX_NAME = 256
const MAX_DETAIL = 500

/** ES2024's well-formed string methods (Node ≥ 20; not in the ES2023 lib this package compiles against). */
interface WellFormed {
  isWellFormed(): boolean
  toWellFormed(): string
}

/**
 * Text as both engines can store it: PostgreSQL text cannot hold U+0000 (the whole batch would
 * fail, refusing every request in it), so it becomes U+FFFD here, for SQLite too; a lone surrogate
 * (an MCP agent can send one in JSON) becomes U+FFFD too, so every engine stores the same valid
 * UTF-8 (SQLite's binding wrote the surrogate's raw bytes). A filter value is cleaned the same way
 * so it still finds the row.
 */
export function storable(text: string): string {
  const clean = text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text
  return (clean as unknown as WellFormed).isWellFormed()
    ? clean
    : (clean as unknown as WellFormed).toWellFormed()
}

function invalid(field: string): never {
  throw new LedgerError('invalid_entry', `Invalid ledger entry: bad ${field}`)
}

function optionalText(value: unknown, field: string, max = MAX_NAME): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') invalid(field)
  return storable(value.length > max ? value.slice(0, max) : value)
}

/** Non-negative safe integer, or null for anything else (a bad metric is not worth a refusal). */
function count(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null
  return Math.min(Math.round(value), Number.MAX_SAFE_INTEGER)
}

function httpStatus(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 999 ? value : null
}

/** Cuts the query string and fragment: a path in the ledger never carries either. */
export function stripQuery(path: string): string {
  const cut = path.search(/[?#]/)
  const bare = cut === -1 ? path : path.slice(0, cut)
  return storable(bare.length > MAX_PATH ? bare.slice(0, MAX_PATH) : bare)
}

let lastTs = Number.NaN
let lastIso = ''
/** The second `secondPrefix` is for (epoch seconds), and its ISO form up to the dot. */
let lastSecond = Number.NaN
let secondPrefix = ''
/** `000Z` … `999Z`: the milliseconds and the zone of an ISO time. */
const MILLIS = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z`)

/**
 * ISO form of an epoch-ms instant (`toISOString`): rows written in the same millisecond share one
 * string, and in the same second one formatted prefix (under load a row every few dozen µs).
 */
export function isoOf(ts: number): string {
  if (ts === lastTs) return lastIso
  if (!Number.isSafeInteger(ts)) return new Date(ts).toISOString()
  const second = Math.floor(ts / 1000)
  if (second !== lastSecond) {
    const iso = new Date(ts).toISOString()
    // A year past 9999 or before 0 is written with a sign and six digits: not cached.
    if (iso.length !== 24) return iso
    lastSecond = second
    secondPrefix = iso.slice(0, 20)
  }
  lastIso = secondPrefix + (MILLIS[ts - second * 1000] as string)
  lastTs = ts
  return lastIso
}

function timeOf(time: Date | undefined): number {
  if (time === undefined) return Date.now()
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) invalid('time')
  return time.getTime()
}

/** Validates a request entry and turns it into a row. Throws `LedgerError('invalid_entry')`. */
export function requestRow(input: LedgerEntryInput): EntryRow {
  if (typeof input !== 'object' || input === null) invalid('entry')
  if (typeof input.requestId !== 'string' || input.requestId === '' || input.requestId.length > MAX_NAME) {
    invalid('requestId')
  }
  if (!CHANNELS.has(input.channel)) invalid('channel')
  if (!DECISIONS.has(input.decision)) invalid('decision')
  if (typeof input.method !== 'string' || !METHOD.test(input.method)) invalid('method')
  if (typeof input.path !== 'string') invalid('path')
  const inspection = optionalText(input.inspection, 'inspection')
  if (inspection !== null && !INSPECTION.test(inspection)) invalid('inspection')
  const ts = timeOf(input.time)
  // A plain literal (no spread): this runs once per request on the gate's hot path.
  return {
    time: isoOf(ts),
    ts,
    request_id: storable(input.requestId),
    channel: input.channel,
    agent: optionalText(input.agent, 'agent'),
    credential: optionalText(input.credential, 'credential'),
    service: optionalText(input.service, 'service'),
    target_host: optionalText(input.targetHost, 'targetHost'),
    method: input.method,
    path: stripQuery(input.path),
    decision: input.decision,
    code: optionalText(input.code, 'code'),
    status: httpStatus(input.status),
    duration_ms: count(input.durationMs),
    bytes_in: count(input.bytesIn),
    bytes_out: count(input.bytesOut),
    dry_run: optionalText(input.dryRun, 'dryRun'),
    redactions: count(input.redactions),
    inspection,
    event: null,
    detail: null,
  }
}

/** A system entry (`gate_start`, `gate_stop`, …). Throws `LedgerError('invalid_entry')`. */
export function systemRow(event: string, detail?: string): EntryRow {
  if (typeof event !== 'string' || !EVENT.test(event)) invalid('event')
  const ts = timeOf(undefined)
  return {
    time: isoOf(ts),
    ts,
    request_id: null,
    channel: 'system',
    agent: null,
    credential: null,
    service: null,
    target_host: null,
    method: null,
    path: null,
    decision: 'system',
    code: null,
    status: null,
    duration_ms: null,
    bytes_in: null,
    bytes_out: null,
    dry_run: null,
    redactions: null,
    inspection: null,
    event,
    detail: optionalText(detail, 'detail', MAX_DETAIL),
  }
}

/**
 * Parameters for a completion. Completions are best-effort, so malformed optional fields are
 * dropped rather than thrown; returns null when the id itself is unusable.
 */
export function completeParams(id: number, outcome: LedgerOutcome): CompleteParams | null {
  if (!Number.isSafeInteger(id) || id <= 0 || typeof outcome !== 'object' || outcome === null) return null
  const text = (value: unknown): string | null =>
    typeof value === 'string' && value !== '' ? storable(value.slice(0, MAX_NAME)) : null
  const inspection = text(outcome.inspection)
  return {
    id,
    decision:
      typeof outcome.decision === 'string' && DECISIONS.has(outcome.decision) ? outcome.decision : null,
    code: text(outcome.code),
    status: httpStatus(outcome.status),
    duration_ms: count(outcome.durationMs) ?? 0,
    bytes_in: count(outcome.bytesIn) ?? 0,
    bytes_out: count(outcome.bytesOut) ?? 0,
    redactions: count(outcome.redactions),
    inspection: inspection !== null && INSPECTION.test(inspection) ? inspection : null,
  }
}

/** The `--json` entry shape; optional keys are left out when the column is null. */
export function toEntry(row: EntryRow & { id: number }): LedgerEntry {
  const entry: LedgerEntry = {
    id: row.id,
    time: row.time,
    requestId: row.request_id,
    channel: row.channel,
    agent: row.agent,
    credential: row.credential,
    service: row.service,
    targetHost: row.target_host,
    method: row.method,
    path: row.path,
    decision: row.decision,
    code: row.code,
    status: row.status,
    durationMs: row.duration_ms,
    bytesIn: row.bytes_in,
    bytesOut: row.bytes_out,
  }
  if (row.dry_run !== null) entry.dryRun = row.dry_run
  if (row.redactions !== null) entry.redactions = row.redactions
  if (row.inspection !== null) entry.inspection = row.inspection
  if (row.event !== null) entry.event = row.event
  if (row.detail !== null) entry.detail = row.detail
  return entry
}

/** Values per row in the flat form (`pushRow`): the `entries` columns in `ROW_COLUMNS` order. */
export const ROW_WIDTH = 21
/** Values per completion in the flat form (`pushCompletion`). */
export const COMPLETION_WIDTH = 9
/** Where the decision sits in a flat row, and the decision and id in a flat completion. */
export const ROW_DECISION = 10
export const COMPLETION_DECISION = 0
export const COMPLETION_CODE = 1
/** status, duration_ms, bytes_in, bytes_out, redactions: what the plain UPDATE sets. */
export const COMPLETION_FIGURES = 2
export const COMPLETION_INSPECTION = 7
export const COMPLETION_ID = 8

/** The `entries` columns in the order of a flat row. */
export const ROW_COLUMNS =
  'time, ts, request_id, channel, agent, credential, service, target_host, method, path, decision, code, ' +
  'status, duration_ms, bytes_in, bytes_out, dry_run, redactions, inspection, event, detail'

/**
 * Appends a row's values to a flat batch: a batch travels to the writer (and to a writer thread,
 * by structured clone) as one array of `ROW_WIDTH` values per row, not one object of 21 keys.
 */
export function pushRow(out: unknown[], r: EntryRow): void {
  out.push(
    r.time,
    r.ts,
    r.request_id,
    r.channel,
    r.agent,
    r.credential,
    r.service,
    r.target_host,
    r.method,
    r.path,
    r.decision,
    r.code,
    r.status,
    r.duration_ms,
    r.bytes_in,
    r.bytes_out,
    r.dry_run,
    r.redactions,
    r.inspection,
    r.event,
    r.detail,
  )
}

/** Appends a completion's values to a flat batch (the order of the completion UPDATE's parameters). */
export function pushCompletion(out: unknown[], p: CompleteParams): void {
  out.push(
    p.decision,
    p.code,
    p.status,
    p.duration_ms,
    p.bytes_in,
    p.bytes_out,
    p.redactions,
    p.inspection,
    p.id,
  )
}

/** The entry of the flat row at `offset`, stored under `id`. */
export function entryOfValues(values: readonly unknown[], offset: number, id: number): LedgerEntry {
  const v = (i: number) => values[offset + i] as never
  return toEntry({
    id,
    time: v(0),
    ts: v(1),
    request_id: v(2),
    channel: v(3),
    agent: v(4),
    credential: v(5),
    service: v(6),
    target_host: v(7),
    method: v(8),
    path: v(9),
    decision: v(10),
    code: v(11),
    status: v(12),
    duration_ms: v(13),
    bytes_in: v(14),
    bytes_out: v(15),
    dry_run: v(16),
    redactions: v(17),
    inspection: v(18),
    event: v(19),
    detail: v(20),
  })
}
