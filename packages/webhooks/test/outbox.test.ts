import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventType } from '../src/index.js'
import { blocked, type Harness, harness, seal } from './helpers.js'

let h: Harness
afterEach(async () => {
  await h?.cleanup()
})

const count = (table: string): number =>
  (
    new Database(h.file, { readonly: true }).prepare(`SELECT count(*) AS n FROM ${table}`).get() as {
      n: number
    }
  ).n

const ALL: EventType[] = [
  'blocked_request',
  'agent_auth_failure',
  'rate_limit_exceeded',
  'body_inspection',
  'credential_expiry',
]
const addHook = (events: EventType[] = ALL) =>
  h.outbox.addEndpoint({ url: 'https://hooks.example.com/aegis', events, sealedSecret: seal('s'.repeat(20)) })

describe('the outbox joins the ledger transaction', () => {
  it('a blocked entry commits with its event and one delivery per subscribed endpoint', async () => {
    h = harness()
    const a = addHook(['agent_auth_failure'])
    addHook(['blocked_request'])
    await h.ledger.append(blocked())
    const deliveries = h.outbox.deliveries()
    expect(deliveries).toHaveLength(1)
    expect(deliveries[0]).toMatchObject({
      endpointId: a.id,
      type: 'agent_auth_failure',
      status: 'pending',
      attempt: 0,
    })
  })

  it('a forwarded request a completion blocks (a streamed body too large) raises its event then', async () => {
    h = harness()
    addHook(['blocked_request'])
    const id = await h.ledger.append(blocked({ decision: 'allowed', code: null, status: null }))
    expect(count('webhook_events')).toBe(0)
    h.ledger.complete(id, {
      decision: 'blocked',
      code: 'body_too_large',
      status: 413,
      durationMs: 1,
      bytesIn: 0,
      bytesOut: 0,
    })
    await h.ledger.flush()
    const [c] = h.outbox.claim(1)
    expect(c?.payload).toMatchObject({
      type: 'blocked_request',
      data: { code: 'body_too_large', status: 413 },
    })
  })

  it('allowed, failed and system entries raise nothing; no endpoint, no event', async () => {
    h = harness()
    await h.ledger.append(blocked())
    expect(count('webhook_events')).toBe(0)
    addHook()
    await Promise.all([
      h.ledger.append(blocked({ decision: 'allowed', code: null, status: 200 })),
      h.ledger.append(blocked({ decision: 'failed', code: 'upstream_timeout', status: 504 })),
      h.ledger.system('gate_start'),
    ])
    expect(count('webhook_events')).toBe(0)
  })

  it('when the outbox write fails, the ledger entry does not commit either (one transaction)', async () => {
    h = harness()
    addHook()
    // Another connection breaks the outbox: the batch that would write to it must fail as a whole.
    const other = new Database(h.file)
    other.exec('DROP TABLE webhook_deliveries')
    other.close()
    await expect(h.ledger.append(blocked())).rejects.toThrow(/Ledger write failed/)
    const allowed = await h.ledger.append(blocked({ decision: 'allowed', code: null }))
    expect(h.ledger.query({}).map((e) => e.id)).toEqual([allowed])
  })
})

// Coalescing, the cap, claims and leases, the schedule, 410, expiry notices and endpoints are the
// OutboxStore contract (test/contract/outbox-store.ts), run for SQLite and PostgreSQL alike.

describe('claiming', () => {
  it('with nothing due, takes no write lock: another writer holding one does not stall it', async () => {
    h = harness()
    addHook()
    await h.ledger.append(blocked())
    // The one delivery is due now; claimed and leased, nothing else is due.
    expect(h.outbox.claim(10)).toHaveLength(1)
    // Another connection (the ledger's writer thread, in a gate) holds the write lock.
    const writer = new Database(h.file)
    writer.exec('BEGIN IMMEDIATE')
    try {
      const started = performance.now()
      expect(h.outbox.claim(10)).toEqual([])
      // Well under the ledger connection's 5 s busy timeout: no waiting for the lock at all.
      expect(performance.now() - started).toBeLessThan(1000)
    } finally {
      writer.exec('ROLLBACK')
      writer.close()
    }
  })

  it('claims a delivery whose lease ran out, and one that fell due', async () => {
    h = harness()
    addHook()
    await h.ledger.append(blocked())
    const [first] = h.outbox.claim(10)
    expect(first).toBeDefined()
    expect(h.outbox.claim(10)).toEqual([])
    // The lease (default 60 s) expires without a record: the delivery is claimed again.
    h.clock.advance(10 * 60_000)
    const [again] = h.outbox.claim(10)
    expect(again?.deliveryId).toBe(first?.deliveryId)
  })
})
