import { parseAllowList } from '@aegis/guard'
import { schemaStatus } from '@aegis/pg'
import type { ScratchDatabase } from '@aegis/pg/testing'
import type pg from 'pg'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { type ClaimedDelivery, generateSecret, Relay, WEBHOOKS_PG_MIGRATIONS } from '../src/index.js'
import { blocked, Clock, seal, unseal } from './helpers.js'
import { emptyOutbox, type PgGate, pgDatabase, pgGate } from './pg-helpers.js'
import { receiver } from './receiver.js'

const adminUrl = pgTestUrl('@aegis/webhooks PostgreSQL outbox across gates')
const LOOPBACK = parseAllowList(['127.0.0.1'])

describe.skipIf(adminUrl === undefined)('PgOutbox on one database shared by several gates', () => {
  let scratch: ScratchDatabase
  let pool: pg.Pool
  let gates: PgGate[] = []
  beforeAll(async () => {
    ;({ scratch, pool } = await pgDatabase(adminUrl as string))
  })
  afterAll(async () => {
    await pool?.end()
    await scratch?.drop()
  })
  beforeEach(async () => {
    await emptyOutbox(pool)
  })
  afterEach(async () => {
    await Promise.all(gates.map((g) => g.close()))
    gates = []
  })
  const gate = (options: Parameters<typeof pgGate>[1] = {}) => {
    const g = pgGate(scratch.url, options)
    gates.push(g)
    return g
  }
  const hook = (g: PgGate, secret = 's'.repeat(20), url = 'https://hooks.example.com/aegis') =>
    g.outbox.addEndpoint({
      url,
      events: ['agent_auth_failure', 'blocked_request'],
      sealedSecret: seal(secret),
    })
  const rows = async (sql: string) => (await pool.query(sql)).rows

  it('migrates to the current schema', async () => {
    expect(await schemaStatus(pool, WEBHOOKS_PG_MIGRATIONS)).toEqual({
      set: 'webhooks',
      state: 'current',
      applied: 2,
      known: 2,
    })
  })

  it('an endpoint change bumps the webhooks topic at commit; events and deliveries do not', async () => {
    const a = gate()
    const version = async () =>
      Number(
        (await rows(`SELECT version FROM aegis.aegis_versions WHERE topic = 'webhooks'`))[0]?.version ?? 0,
      )
    const v0 = await version()
    const e = await hook(a)
    const v1 = await version()
    expect(v1).toBeGreaterThan(v0)
    await a.ledger.append(blocked())
    await a.outbox.claim(1)
    expect(await version()).toBe(v1)
    await a.outbox.disable(e.id, 'test')
    expect(await version()).toBeGreaterThan(v1)
  })

  it('the event commits in the ledger batch: when the outbox write fails, the entry does not commit', async () => {
    const a = gate()
    await hook(a)
    const id = await a.ledger.append(blocked())
    expect(await rows(`SELECT id FROM aegis.ledger_entries WHERE id = ${id}`)).toHaveLength(1)
    expect(await a.outbox.deliveries()).toHaveLength(1)
    // Another connection breaks the outbox: the batch that would write to it must fail as a whole.
    await pool.query('ALTER TABLE aegis.webhook_deliveries RENAME TO webhook_deliveries_away')
    try {
      await expect(a.ledger.append(blocked({ agent: 'x' }))).rejects.toThrow()
    } finally {
      await pool.query('ALTER TABLE aegis.webhook_deliveries_away RENAME TO webhook_deliveries')
    }
    expect(await rows(`SELECT agent FROM aegis.ledger_entries WHERE agent = 'x'`)).toEqual([])
    const allowed = await a.ledger.append(blocked({ decision: 'allowed', code: null, agent: 'y' }))
    expect(allowed).toBeGreaterThan(id)
  })

  it('two gates claiming at once never hold one delivery at the same time', async () => {
    const [a, b] = [gate(), gate()]
    await hook(a)
    // 300 distinct events (one agent each), so 300 deliveries wait.
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => a.ledger.append(blocked({ agent: `agent-${i}` }))),
    )
    expect(await a.outbox.queueDepth()).toBe(300)
    const held = new Map<number, string>()
    const overlaps: string[] = []
    const drain = async (g: PgGate, name: string) => {
      for (;;) {
        const claimed: ClaimedDelivery[] = await g.outbox.claim(7)
        if (claimed.length === 0) return
        for (const c of claimed) {
          const holder = held.get(c.deliveryId)
          if (holder !== undefined) overlaps.push(`${c.deliveryId}: ${holder} and ${name}`)
          held.set(c.deliveryId, name)
        }
        await new Promise((resolve) => setImmediate(resolve))
        for (const c of claimed) await g.outbox.record(c.deliveryId, { kind: 'delivered', status: 200 })
      }
    }
    await Promise.all([drain(a, 'a'), drain(b, 'b'), drain(a, 'a2'), drain(b, 'b2')])
    expect(overlaps).toEqual([])
    expect(held.size).toBe(300)
    expect(new Set(held.values()).size).toBeGreaterThan(1)
    expect(await a.outbox.deliveries({ status: 'succeeded', limit: 1000 })).toHaveLength(300)
  })

  it('a claim whose lease expired (its gate died) is handed to another gate, once', async () => {
    const clock = new Clock(Date.now())
    const [a, b] = [gate({ now: clock.now, leaseMs: 20_000 }), gate({ now: clock.now, leaseMs: 20_000 })]
    await hook(a)
    await a.ledger.append(blocked())
    const [held] = await a.outbox.claim(5)
    expect(await b.outbox.claim(5)).toEqual([])
    clock.advance(20_000)
    const [taken] = await b.outbox.claim(5)
    expect(taken).toMatchObject({ deliveryId: held?.deliveryId, payload: held?.payload })
    expect(await a.outbox.claim(5)).toEqual([])
  })

  it('a flood through two gates (100 blocked requests in a second) is one pending event per endpoint per key', async () => {
    const clock = new Clock(Date.now())
    const [a, b] = [gate({ now: clock.now }), gate({ now: clock.now })]
    const first = await hook(a, 's'.repeat(20), 'https://one.example/hook')
    const second = await hook(a, 's'.repeat(20), 'https://two.example/hook')
    // 50 requests through each gate, interleaved, in separate batches; two keys (agents x and y).
    await Promise.all(
      [a, b].map(async (g, n) => {
        for (let i = 0; i < 50; i++) {
          await g.ledger.append(blocked({ agent: i % 2 === 0 ? 'x' : 'y', requestId: `g${n}-${i}` }))
          clock.advance(5)
        }
      }),
    )
    for (const endpoint of [first, second]) {
      const pending = await a.outbox.deliveries({ endpointId: endpoint.id, status: 'pending' })
      expect(pending, endpoint.url).toHaveLength(2)
    }
    const events = await rows(`SELECT data FROM aegis.webhook_events ORDER BY coalesce_key`)
    expect(events.map((e) => JSON.parse(e.data).count)).toEqual([50, 50])
    expect(events.map((e) => JSON.parse(e.data).agent).sort()).toEqual(['x', 'y'])
    expect(a.outbox.counters.coalesced + b.outbox.counters.coalesced).toBe(98)
  })

  it('a claim racing a flood: what was claimed is what stays stored (an attempted event is frozen)', async () => {
    const [a, b] = [gate(), gate()]
    await hook(a)
    const claimed: ClaimedDelivery[] = []
    for (let round = 0; round < 40; round++) {
      const [, got] = await Promise.all([
        Promise.all(Array.from({ length: 5 }, () => a.ledger.append(blocked()))),
        b.outbox.claim(10),
      ])
      claimed.push(...got)
      for (const c of got)
        await b.outbox.record(c.deliveryId, { kind: 'failed', status: 500, error: 'x' }, 0.5)
    }
    expect(claimed.length).toBeGreaterThan(0)
    for (const c of claimed) {
      const [stored] = await rows(`SELECT data FROM aegis.webhook_events WHERE id = '${c.payload.id}'`)
      expect(JSON.parse(stored?.data), c.payload.id).toEqual(c.payload.data)
    }
    const total = (await rows('SELECT data FROM aegis.webhook_events')).reduce(
      (sum, e) => sum + JSON.parse(e.data).count,
      0,
    )
    expect(total).toBe(200)
  })

  describe('relays of two gates delivering to a real receiver', () => {
    let rx: Awaited<ReturnType<typeof receiver>> | undefined
    afterEach(async () => {
      await rx?.close()
      rx = undefined
    })
    const relayOf = (g: PgGate, extra: Partial<ConstructorParameters<typeof Relay>[0]> = {}) =>
      new Relay({ outbox: g.outbox, openSecret: unseal, allowPrivate: LOOPBACK, random: () => 0.5, ...extra })

    it('every event arrives once, signed: both relays work the one queue', async () => {
      rx = await receiver()
      const secret = generateSecret()
      const [a, b] = [gate(), gate()]
      await hook(a, secret, rx.url)
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => b.ledger.append(blocked({ agent: `agent-${i}` }))),
      )
      const [na, nb] = await Promise.all([
        relayOf(a, { concurrency: 3 }).deliverDue(),
        relayOf(b, { concurrency: 3 }).deliverDue(),
      ])
      expect(na + nb).toBe(40)
      const ids = rx.received.map((r) => r.headers['webhook-id'])
      expect(new Set(ids).size).toBe(40)
      expect(ids).toHaveLength(40)
      const verifier = new Webhook(secret)
      const agents = rx.received.map(
        (r) =>
          (verifier.verify(r.body, r.headers as Record<string, string>) as { data: { agent: string } }).data
            .agent,
      )
      expect(new Set(agents).size).toBe(40)
      expect(await a.outbox.deliveries({ status: 'succeeded', limit: 100 })).toHaveLength(40)
      expect(await a.outbox.queueDepth()).toBe(0)
    })

    it('500 is retried on schedule by whichever gate claims next, with the same webhook-id and body', async () => {
      rx = await receiver([{ status: 500 }])
      const secret = generateSecret()
      const clock = new Clock(Date.now())
      const [a, b] = [gate({ now: clock.now }), gate({ now: clock.now })]
      await hook(a, secret, rx.url)
      await a.ledger.append(blocked())
      expect(await relayOf(a, { now: clock.now }).deliverDue()).toBe(1)
      expect((await b.outbox.deliveries())[0]).toMatchObject({
        status: 'pending',
        attempt: 1,
        lastStatus: 500,
      })
      clock.advance(4_999)
      expect(await relayOf(b, { now: clock.now }).deliverDue()).toBe(0)
      clock.advance(1)
      expect(await relayOf(b, { now: clock.now }).deliverDue()).toBe(1)
      expect(rx.received).toHaveLength(2)
      expect(rx.received[1]?.headers['webhook-id']).toBe(rx.received[0]?.headers['webhook-id'])
      expect(rx.received[1]?.body).toBe(rx.received[0]?.body)
      expect(() =>
        new Webhook(secret).verify(
          rx?.received[1]?.body ?? '',
          rx?.received[1]?.headers as Record<string, string>,
        ),
      ).not.toThrow()
      expect((await a.outbox.deliveries())[0]).toMatchObject({
        status: 'succeeded',
        attempt: 2,
        lastStatus: 200,
      })
    })

    it('410 from the receiver disables the endpoint for every gate', async () => {
      rx = await receiver([{ status: 410 }])
      const [a, b] = [gate(), gate()]
      const endpoint = await hook(a, generateSecret(), rx.url)
      await a.ledger.append(blocked())
      await relayOf(a).deliverDue()
      expect((await b.outbox.endpoints())[0]).toMatchObject({
        id: endpoint.id,
        status: 'disabled',
        disabledReason: 'endpoint answered 410 Gone',
      })
      await b.ledger.append(blocked({ agent: 'other' }))
      expect(await relayOf(b).deliverDue()).toBe(0)
      expect(rx.received).toHaveLength(1)
    })

    it('an endpoint enabled on one gate is delivered to by every gate, with the secret it had', async () => {
      rx = await receiver([{ status: 410 }])
      const [a, b] = [gate(), gate()]
      const secret = generateSecret()
      const endpoint = await hook(a, secret, rx.url)
      await a.ledger.append(blocked())
      await relayOf(a).deliverDue()
      expect(await a.outbox.enable('ep_missing')).toBe('not_found')
      expect(await a.outbox.enable(endpoint.id)).toBe('enabled')
      expect(await b.outbox.enable(endpoint.id)).toBe('already_active')
      expect((await b.outbox.endpoints())[0]).toMatchObject({
        id: endpoint.id,
        status: 'active',
        disabledReason: null,
      })
      await b.ledger.append(blocked({ agent: 'other' }))
      expect(await relayOf(b).deliverDue()).toBe(1)
      expect(rx.received).toHaveLength(2)
      expect(() =>
        new Webhook(secret).verify(
          rx?.received[1]?.body ?? '',
          rx?.received[1]?.headers as Record<string, string>,
        ),
      ).not.toThrow()
    })
  })
})
