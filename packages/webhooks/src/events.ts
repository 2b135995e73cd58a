import { randomUUID } from 'node:crypto'
// The subpath, not the package: this module runs in the ledger's writer thread too (Outbox.worker).
import { WEBHOOK_EVENTS } from '@aegis/config/webhook-events'

/** The five event types of the brief, in config's order (config validates `webhooks[].events`). */
export const EVENT_TYPES = WEBHOOK_EVENTS
export type EventType = (typeof WEBHOOK_EVENTS)[number]

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES)

export function isEventType(value: string): value is EventType {
  return TYPES.has(value)
}

/**
 * What an event says. Deliberately absent: secrets, tokens, query strings, bodies, paths and
 * target hosts (an agent can put a secret in a path or a host name; body inspection refuses
 * exactly that, and the alert must not carry it on). `service` is a configured credential name or
 * null, never the agent's free text.
 */
export interface EventData {
  service: string | null
  agent: string | null
  code: string | null
  /** HTTP status the agent got, when there was a request. */
  status: number | null
  method: string | null
  /** The ledger's request id of the first request coalesced into this event. */
  requestId: string | null
  /** How many identical occurrences this one event stands for (see the outbox's coalescing). */
  count: number
  firstSeen: string
  lastSeen: string
  /** credential_expiry only: when the credential expires and the threshold crossed (days). */
  expiresAt?: string
  thresholdDays?: number
  /** Set only on what `webhook test` sends: no request or credential caused it. */
  test?: true
}

/** The JSON body of a delivery. `id` is also the `webhook-id` header (stable across retries). */
export interface EventPayload {
  id: string
  type: EventType
  timestamp: string
  data: EventData
}

/** The ledger entry fields an event is derived from (structurally `@aegis/ledger`'s LedgerEntry). */
export interface EntryLike {
  time: string
  requestId: string | null
  channel: string
  agent: string | null
  credential: string | null
  service: string | null
  method: string | null
  decision: string
  code: string | null
  status: number | null
}

const AUTH_FAILURES: ReadonlySet<string> = new Set(['agent_auth_required', 'agent_auth_invalid'])

/** The event a ledger entry raises, or null (allowed, failed and system entries raise none). */
export function eventTypeOf(entry: EntryLike): EventType | null {
  if (entry.decision !== 'blocked' || entry.code === null) return null
  if (AUTH_FAILURES.has(entry.code)) return 'agent_auth_failure'
  if (entry.code === 'rate_limited') return 'rate_limit_exceeded'
  if (entry.code === 'body_inspection') return 'body_inspection'
  return 'blocked_request'
}

/** The event data of one blocked entry (count 1). */
export function entryData(entry: EntryLike): EventData {
  return {
    // A service the agent named but no credential serves is the agent's text: left out.
    service: entry.credential === null ? null : entry.service,
    agent: entry.agent,
    code: entry.code,
    status: entry.status,
    method: entry.method,
    requestId: entry.requestId,
    count: 1,
    firstSeen: entry.time,
    lastSeen: entry.time,
  }
}

/** Identical events (type, service, agent, code) coalesce into one within a window. */
export function coalesceKey(type: EventType, data: EventData): string {
  return JSON.stringify([type, data.service, data.agent, data.code])
}

/** A new event id, the `webhook-id` of every attempt of that event. */
export function newEventId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`
}

/** What `webhook test` sends: an event of `type` marked `test`, about nothing that happened. */
export function testPayload(type: EventType, now: Date): EventPayload {
  const time = now.toISOString()
  return {
    id: newEventId(),
    type,
    timestamp: time,
    data: {
      service: null,
      agent: null,
      code: null,
      status: null,
      method: null,
      requestId: null,
      count: 0,
      firstSeen: time,
      lastSeen: time,
      test: true,
    },
  }
}
