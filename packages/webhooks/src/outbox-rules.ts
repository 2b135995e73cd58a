import { randomUUID } from 'node:crypto'
import { type EventData, type EventPayload, type EventType, isEventType } from './events.js'
import type {
  AttemptOutcome,
  ClaimedDelivery,
  Delivery,
  Endpoint,
  NewEndpoint,
  RecordResult,
} from './outbox.js'
import { retryDelay } from './schedule.js'
import type { DeliveryStatus } from './schema.js'

/**
 * The outbox rules both engines follow (SQLite `Outbox`, PostgreSQL `PgOutbox`), written once:
 * how occurrences coalesce, what an attempt's outcome does to a delivery, which endpoints are
 * valid, and how rows read back. Each engine has only its SQL; both hold the same representations
 * (epoch-ms integers, JSON text, comma-separated event types, a sealed secret as bytes).
 */

export const DEFAULTS = {
  /** Identical events (type, service, agent, code) within this window become one with a count. */
  coalesceWindowMs: 10_000,
  /** Pending deliveries kept per endpoint; beyond it the oldest pending are cancelled. */
  maxPendingPerEndpoint: 1000,
  /** An attempt is cut at 15 s, so a 20 s lease outlives every attempt of a live process. */
  leaseMs: 20_000,
} as const

export const REASONS = {
  gone: 'endpoint answered 410 Gone',
  unavailable: 'endpoint removed or disabled',
  queueFull: 'dropped: endpoint queue full',
  removed: 'endpoint removed',
  disabled: (reason: string) => `endpoint disabled: ${reason}`,
} as const

/** Folds a new occurrence into an event not yet attempted: counts add up, the last time moves on. */
export function mergeOccurrence(stored: EventData, added: EventData): EventData {
  return { ...stored, count: stored.count + added.count, lastSeen: added.lastSeen }
}

/**
 * When a new event of a key is first due and when its window ends. A new event that follows one
 * already sent within the window waits for that window's end (`latestWindowEnd`, null when none is
 * open), so a sustained flood is one delivery per window per key.
 */
export function newEventWindow(
  latestWindowEnd: number | null,
  now: number,
  windowMs: number,
): { dueAt: number; windowEnd: number } {
  const dueAt = latestWindowEnd ?? now
  return { dueAt, windowEnd: dueAt + windowMs }
}

/** What recording an attempt writes to its delivery (and whether the endpoint is disabled). */
export interface AttemptRecord {
  result: RecordResult
  status: DeliveryStatus
  /** The next attempt's time; null keeps the stored one (a finished delivery). */
  nextAttemptAt: number | null
  lastStatus: number | null
  lastError: string | null
  /** The endpoint's disable reason when the attempt disables it (410). */
  disable: string | null
}

/**
 * How an attempt ends for its delivery: succeeded; retried on the schedule (never sooner than a
 * `Retry-After`); dead once the schedule is exhausted; or, on 410, cancelled with its endpoint
 * disabled. `attempt` is the number of attempts made before this one; `random` in [0, 1).
 */
export function recordAttempt(
  outcome: AttemptOutcome,
  attempt: number,
  random: number,
  now: number,
): AttemptRecord {
  if (outcome.kind === 'delivered') {
    return base('succeeded', 'succeeded', null, outcome.status, null)
  }
  if (outcome.kind === 'gone') {
    return { ...base('disabled', 'cancelled', null, outcome.status, REASONS.gone), disable: REASONS.gone }
  }
  const delay = retryDelay(attempt + 1, random)
  if (delay === null) return base('dead', 'dead', null, outcome.status, outcome.error)
  const wait = Math.max(delay, outcome.retryAfterMs ?? 0)
  return base('retry', 'pending', now + wait, outcome.status, outcome.error)
}

function base(
  result: RecordResult,
  status: DeliveryStatus,
  nextAttemptAt: number | null,
  lastStatus: number | null,
  lastError: string | null,
): AttemptRecord {
  return { result, status, nextAttemptAt, lastStatus, lastError, disable: null }
}

/** An endpoint's id and event list as stored, or an Error saying what is wrong with it. */
export function checkEndpoint(endpoint: NewEndpoint): { id: string; events: EventType[] } {
  const id = endpoint.id ?? `ep_${randomUUID().replaceAll('-', '').slice(0, 16)}`
  const events = [...new Set(endpoint.events)]
  for (const event of events)
    if (!isEventType(event)) throw new Error(`unknown event type ${JSON.stringify(event)}`)
  if (events.length === 0) throw new Error('an endpoint needs at least one event type')
  return { id, events }
}

/** The endpoints among `rows` (id, events) that subscribe to `type`. */
export function subscribers(rows: readonly Record<string, unknown>[], type: EventType): string[] {
  return rows.filter((r) => String(r.events).split(',').includes(type)).map((r) => String(r.id))
}

/** The data of a `credential_expiry` event. */
export function expiryData(
  credential: string,
  expiresAt: string,
  thresholdDays: number,
  now: number,
): EventData {
  const time = new Date(now).toISOString()
  return {
    service: credential,
    agent: null,
    code: null,
    status: null,
    method: null,
    requestId: null,
    count: 1,
    firstSeen: time,
    lastSeen: time,
    expiresAt,
    thresholdDays,
  }
}

type Row = Record<string, unknown>

const iso = (ms: unknown): string | null =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString()
/** PostgreSQL's int4 reads as a number, its int8 as a string; SQLite gives numbers. */
const numberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)

export function endpointOfRow(r: Row): Endpoint {
  return {
    id: String(r.id),
    url: String(r.url),
    events: String(r.events).split(',') as EventType[],
    status: r.status === 'active' ? 'active' : 'disabled',
    disabledReason: (r.disabled_reason as string | null) ?? null,
    createdAt: new Date(Number(r.created_at)).toISOString(),
  }
}

/** An endpoint with its sealed secret (columns id, url, secret). */
export function sealedEndpointOfRow(r: Row): ClaimedDelivery['endpoint'] {
  return { id: String(r.id), url: String(r.url), sealedSecret: Buffer.from(r.secret as Uint8Array) }
}

/** A delivery row joined with its event's `type`. */
export function deliveryOfRow(r: Row): Delivery {
  return {
    id: Number(r.id),
    eventId: String(r.event_id),
    endpointId: String(r.endpoint_id),
    type: String(r.type) as EventType,
    status: String(r.status) as DeliveryStatus,
    attempt: Number(r.attempt),
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    lastStatus: numberOrNull(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    lastAttemptAt: iso(r.last_attempt_at),
    createdAt: new Date(Number(r.created_at)).toISOString(),
  }
}

/** An event row (id, type, data, created_at) as the body every attempt sends. */
export function payloadOfRow(event: Row): EventPayload {
  return {
    id: String(event.id),
    type: String(event.type) as EventType,
    timestamp: new Date(Number(event.created_at)).toISOString(),
    data: JSON.parse(String(event.data)) as EventData,
  }
}
