import type { LedgerEntryInput } from '@aegis/ledger'
import { afterEach, describe, expect, it } from 'vitest'
import { type EventType, type OutboxOptions, type OutboxStore, RETRY_SCHEDULE_MS } from '../../src/index.js'
import { blocked, type Clock, seal } from '../helpers.js'

/** One engine's outbox wired to its ledger, as a gate runs it. */
export interface OutboxHarness {
  /** Replaced by `reopen`. */
  store: OutboxStore
  clock: Clock
  /** Appends entries to the ledger the outbox extends (all in one event-loop turn) and waits for their commit. */
  emit(entries: readonly LedgerEntryInput[]): Promise<void>
  /** How many event rows the storage holds (retention deletes spent ones). */
  eventRows(): Promise<number>
  /** A restart: a new outbox and ledger over the same storage, as after kill -9 and start. */
  reopen(options?: OutboxOptions): Promise<void>
  close(): Promise<void>
}

const ALL: EventType[] = [
  'blocked_request',
  'agent_auth_failure',
  'rate_limit_exceeded',
  'body_inspection',
  'credential_expiry',
]

/**
 * One suite, every engine: `open` gives an outbox over EMPTY tables, attached to a ledger, with a
 * clock the test moves. The expectations are the same for both, so SQLite and PostgreSQL cannot
 * drift apart in coalescing, schedule, leases or endpoint handling. (Writing the events inside the
 * ledger's transaction is each engine's own test: it needs the engine's ledger.)
 */
export function outboxStoreContract(
  name: string,
  open: (options?: OutboxOptions) => Promise<OutboxHarness>,
): void {
  describe(`OutboxStore contract: ${name}`, () => {
    let h: OutboxHarness
    afterEach(async () => {
      await h?.close()
    })
    const start = async (options?: OutboxOptions) => {
      h = await open(options)
      return h
    }
    const addHook = (events: EventType[] = ALL) =>
      h.store.addEndpoint({
        url: 'https://hooks.example.com/aegis',
        events,
        sealedSecret: seal('s'.repeat(20)),
      })
    const one = (overrides: Partial<LedgerEntryInput> = {}) => h.emit([blocked(overrides)])

    describe('events', () => {
      it('a blocked entry is one delivery per subscribed endpoint, pending, attempt 0', async () => {
        await start()
        const a = await addHook(['agent_auth_failure'])
        await addHook(['blocked_request'])
        await one()
        const deliveries = await h.store.deliveries()
        expect(deliveries).toHaveLength(1)
        expect(deliveries[0]).toMatchObject({
          endpointId: a.id,
          type: 'agent_auth_failure',
          status: 'pending',
          attempt: 0,
          lastStatus: null,
          lastError: null,
          lastAttemptAt: null,
        })
        expect(await h.store.queueDepth()).toBe(1)
        expect(await h.store.nextDueAt()).toBe(h.clock.ms)
      })

      it('allowed and failed entries raise nothing; with no endpoint nothing is queued', async () => {
        await start()
        await one()
        expect(await h.store.deliveries()).toEqual([])
        await addHook()
        await h.emit([
          blocked({ decision: 'allowed', code: null, status: 200 }),
          blocked({ decision: 'failed', code: 'upstream_timeout', status: 504 }),
        ])
        expect(await h.store.deliveries()).toEqual([])
        expect(await h.store.queueDepth()).toBe(0)
        expect(await h.store.nextDueAt()).toBeNull()
      })

      it('the payload carries the entry’s fields and no path', async () => {
        await start()
        await addHook()
        await one({ agent: 'bot', code: 'grant_denied', status: 403, path: '/github/secret-path?q=1' })
        const [c] = await h.store.claim(1)
        expect(c?.payload).toMatchObject({
          id: expect.stringMatching(/^msg_/),
          type: 'blocked_request',
          data: { agent: 'bot', code: 'grant_denied', status: 403, service: 'github', count: 1 },
        })
        expect(JSON.stringify(c?.payload)).not.toContain('secret-path')
      })
    })

    describe('coalescing floods', () => {
      it('100 unauthenticated requests in one second become 2 deliveries whose counts add up to 100', async () => {
        await start({ coalesceWindowMs: 10_000 })
        await addHook()
        for (let i = 0; i < 100; i++) {
          // Requests arrive across many batches; the relay claims the first at once.
          await one()
          if (i === 0) expect(await h.store.claim(10)).toHaveLength(1)
          h.clock.advance(10)
        }
        const deliveries = await h.store.deliveries()
        expect(deliveries).toHaveLength(2)
        // The trailing event waits for the first one's window to end.
        expect(await h.store.claim(10)).toHaveLength(0)
        h.clock.advance(10_000)
        const [late] = await h.store.claim(10)
        expect(late?.payload.data).toMatchObject({
          count: 99,
          code: 'agent_auth_required',
          service: 'github',
        })
      })

      it('100 at once are one event with count 100', async () => {
        await start()
        await addHook()
        await h.emit(Array.from({ length: 100 }, () => blocked()))
        expect(await h.store.deliveries()).toHaveLength(1)
        expect((await h.store.claim(10))[0]?.payload.data.count).toBe(100)
        expect(h.store.counters.coalesced).toBe(99)
      })

      it('different agents, codes or services are different events', async () => {
        await start()
        await addHook()
        await h.emit([
          blocked({ agent: 'a', code: 'grant_denied' }),
          blocked({ agent: 'b', code: 'grant_denied' }),
          blocked({ agent: 'a', code: 'scope_denied' }),
          blocked({ agent: 'a', code: 'grant_denied', credential: 'slack', service: 'slack' }),
        ])
        const claimed = await h.store.claim(10)
        expect(claimed).toHaveLength(4)
        expect(new Set(claimed.map((c) => c.payload.id)).size).toBe(4)
      })

      it('an event already attempted is frozen: its body never changes between retries', async () => {
        await start()
        await addHook()
        await one()
        const [first] = await h.store.claim(1)
        await h.store.record(first?.deliveryId ?? 0, { kind: 'failed', status: 500, error: 'HTTP 500' }, 0.5)
        await one()
        h.clock.advance(60_000)
        const claimed = await h.store.claim(10)
        expect(claimed).toHaveLength(2)
        const again = claimed.find((c) => c.deliveryId === first?.deliveryId)
        expect(again?.payload).toEqual(first?.payload)
      })
    })

    it('the cap per endpoint keeps the newest pending deliveries and cancels the oldest', async () => {
      await start({ maxPendingPerEndpoint: 3 })
      await addHook()
      for (const agent of ['a', 'b', 'c', 'd', 'e']) await one({ agent, code: 'grant_denied' })
      expect(await h.store.deliveries({ status: 'pending' })).toHaveLength(3)
      const cancelled = await h.store.deliveries({ status: 'cancelled' })
      expect(cancelled).toHaveLength(2)
      expect(cancelled.map((d) => d.lastError)).toEqual([
        'dropped: endpoint queue full',
        'dropped: endpoint queue full',
      ])
      expect(h.store.counters.dropped).toBe(2)
      expect(await h.store.queueDepth()).toBe(3)
      const oldest = Math.min(...(await h.store.deliveries()).map((d) => d.id))
      expect(cancelled.map((d) => d.id)).toContain(oldest)
    })

    describe('claim, lease and crash recovery', () => {
      it('a claim is one delivery once; an expired lease (the process died) hands it out again', async () => {
        await start({ leaseMs: 60_000 })
        await addHook()
        await one()
        const [claimed] = await h.store.claim(10)
        expect(await h.store.claim(10)).toHaveLength(0)
        expect((await h.store.deliveries())[0]).toMatchObject({ status: 'delivering', nextAttemptAt: null })
        h.clock.advance(59_999)
        expect(await h.store.claim(10)).toHaveLength(0)
        // Restart over the same storage without recording anything: as after kill -9 mid-delivery.
        await h.reopen({ leaseMs: 60_000 })
        h.clock.advance(1)
        const [again] = await h.store.claim(10)
        expect(again?.deliveryId).toBe(claimed?.deliveryId)
        expect(again?.payload).toEqual(claimed?.payload)
        expect(again?.attempt).toBe(0)
        expect(again?.endpoint).toEqual(claimed?.endpoint)
      })

      it('claims in due order, at most `limit`', async () => {
        await start()
        await addHook()
        for (const agent of ['a', 'b', 'c']) {
          await one({ agent })
          h.clock.advance(1)
        }
        const first = await h.store.claim(2)
        expect(first.map((c) => c.payload.data.agent)).toEqual(['a', 'b'])
        expect((await h.store.claim(2)).map((c) => c.payload.data.agent)).toEqual(['c'])
      })

      it('leaves deliveries to excluded endpoints pending (the relay waits on them)', async () => {
        await start()
        const busy = await addHook()
        const free = await addHook()
        await one({ agent: 'a' })
        const claimed = await h.store.claim(10, [busy.id])
        expect(claimed.map((c) => c.endpoint.id)).toEqual([free.id])
        expect(await h.store.claim(10, [busy.id])).toEqual([])
        expect((await h.store.claim(10)).map((c) => c.endpoint.id)).toEqual([busy.id])
      })

      it('the retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±10 %), then dead', async () => {
        await start()
        await addHook()
        await one()
        const waits: number[] = []
        const results: string[] = []
        for (let attempt = 0; attempt < 8; attempt++) {
          const [c] = await h.store.claim(1)
          expect(c?.attempt).toBe(attempt)
          const before = h.clock.ms
          const result = await h.store.record(
            c?.deliveryId ?? 0,
            { kind: 'failed', status: 500, error: 'HTTP 500' },
            1 - 1e-9,
          )
          results.push(result)
          const [d] = await h.store.deliveries()
          if (result === 'retry') {
            const wait = Date.parse(d?.nextAttemptAt ?? '') - before
            waits.push(wait)
            h.clock.advance(wait - 1)
            expect(await h.store.claim(1)).toHaveLength(0)
            h.clock.advance(1)
          }
        }
        expect(results).toEqual([...Array(7).fill('retry'), 'dead'])
        expect(waits).toEqual(RETRY_SCHEDULE_MS.slice(1).map((ms) => Math.round(ms * 1.1)))
        expect((await h.store.deliveries({ status: 'dead' }))[0]).toMatchObject({
          attempt: 8,
          lastStatus: 500,
          lastError: 'HTTP 500',
          nextAttemptAt: null,
          lastAttemptAt: new Date(h.clock.ms).toISOString(),
        })
        expect(await h.store.queueDepth()).toBe(0)
      })

      it('jitter stays within ±10 %', async () => {
        await start()
        await addHook()
        await one()
        for (const [random, expected] of [
          [0, 4500],
          [0.5, 5 * 60_000],
        ] as const) {
          const [c] = await h.store.claim(1)
          await h.store.record(c?.deliveryId ?? 0, { kind: 'failed', status: 500, error: 'x' }, random)
          const [d] = await h.store.deliveries()
          expect(Date.parse(d?.nextAttemptAt ?? '') - h.clock.ms).toBe(expected)
          expect(await h.store.nextDueAt()).toBe(h.clock.ms + expected)
          h.clock.advance(10 * 60_000)
        }
      })

      it('Retry-After longer than the schedule is honoured', async () => {
        await start()
        await addHook()
        await one()
        const [c] = await h.store.claim(1)
        expect(
          await h.store.record(
            c?.deliveryId ?? 0,
            { kind: 'failed', status: 429, error: 'HTTP 429', retryAfterMs: 120_000 },
            0.5,
          ),
        ).toBe('retry')
        expect(Date.parse((await h.store.deliveries())[0]?.nextAttemptAt ?? '') - h.clock.ms).toBe(120_000)
      })

      it('delivered: succeeded with the status, out of the queue', async () => {
        await start()
        await addHook()
        await one()
        const [c] = await h.store.claim(1)
        expect(await h.store.record(c?.deliveryId ?? 0, { kind: 'delivered', status: 204 })).toBe('succeeded')
        expect((await h.store.deliveries())[0]).toMatchObject({
          status: 'succeeded',
          attempt: 1,
          lastStatus: 204,
        })
        expect(await h.store.queueDepth()).toBe(0)
        expect(await h.store.claim(1)).toEqual([])
      })

      it('410 disables the endpoint and cancels its queue; other endpoints go on', async () => {
        await start()
        const gone = await addHook(['agent_auth_failure'])
        const other = await addHook(['agent_auth_failure'])
        await one()
        await one({ agent: 'x', code: 'agent_auth_invalid' })
        const claimed = await h.store.claim(1)
        const mine = claimed.find((c) => c.endpoint.id === gone.id) ?? claimed[0]
        expect(await h.store.record(mine?.deliveryId ?? 0, { kind: 'gone', status: 410 })).toBe('disabled')
        const endpoint = (await h.store.endpoints()).find((e) => e.id === mine?.endpoint.id)
        expect(endpoint).toMatchObject({ status: 'disabled', disabledReason: 'endpoint answered 410 Gone' })
        expect(await h.store.deliveries({ endpointId: endpoint?.id, status: 'pending' })).toHaveLength(0)
        expect(
          (await h.store.deliveries({ endpointId: endpoint?.id, status: 'cancelled' })).map(
            (d) => d.lastError,
          ),
        ).toContain('endpoint answered 410 Gone')
        const survivor = endpoint?.id === gone.id ? other.id : gone.id
        expect(
          (await h.store.deliveries({ endpointId: survivor, status: 'pending' })).length,
        ).toBeGreaterThan(0)
        // A disabled endpoint gets no new events.
        await one({ agent: 'y' })
        expect(await h.store.deliveries({ endpointId: endpoint?.id, status: 'pending' })).toHaveLength(0)
      })

      it('a delivery whose endpoint was disabled meanwhile is cancelled, not handed out', async () => {
        await start()
        const e = await addHook()
        await one()
        await h.store.disable(e.id, 'operator said so')
        expect(await h.store.claim(10)).toEqual([])
        expect((await h.store.deliveries())[0]).toMatchObject({
          status: 'cancelled',
          lastError: 'endpoint disabled: operator said so',
        })
      })

      it('redeliver puts a finished delivery back with attempt 0 and the same event id', async () => {
        await start()
        await addHook()
        await one()
        const [c] = await h.store.claim(1)
        expect(await h.store.redeliver(c?.deliveryId ?? 0)).toBe(false) // in flight: not finished
        await h.store.record(c?.deliveryId ?? 0, { kind: 'delivered', status: 200 })
        expect(await h.store.redeliver(c?.deliveryId ?? 0)).toBe(true)
        const [again] = await h.store.claim(1)
        expect(again).toMatchObject({ deliveryId: c?.deliveryId, attempt: 0 })
        expect(again?.payload.id).toBe(c?.payload.id)
        expect(await h.store.redeliver(9999)).toBe(false)
      })

      it('removing an endpoint cancels its queue and a claim never returns it', async () => {
        await start()
        const e = await addHook()
        await one()
        expect(await h.store.removeEndpoint(e.id)).toBe(true)
        expect(await h.store.removeEndpoint(e.id)).toBe(false)
        expect(await h.store.claim(10)).toHaveLength(0)
        expect((await h.store.deliveries())[0]).toMatchObject({
          status: 'cancelled',
          lastError: 'endpoint removed',
        })
        expect(await h.store.endpoints()).toEqual([])
        expect(await h.store.endpointForDelivery(e.id)).toBeNull()
      })
    })

    describe('retention (prune)', () => {
      const DAY = 86_400_000

      it('deletes finished deliveries older than the cutoff and their events; never pending or in-flight ones', async () => {
        await start({ maxPendingPerEndpoint: 1, leaseMs: 30 * DAY })
        await addHook()
        await one({ agent: 'a', code: 'grant_denied' })
        const [a] = await h.store.claim(1)
        await h.store.record(a?.deliveryId ?? 0, { kind: 'delivered', status: 200 })
        await one({ agent: 'b', code: 'grant_denied' })
        await one({ agent: 'c', code: 'grant_denied' }) // the cap of 1 cancels b
        const [c] = await h.store.claim(1)
        expect(c?.payload.data.agent).toBe('c')
        await one({ agent: 'd', code: 'grant_denied' }) // pending
        await one({ agent: 'e', code: 'grant_denied' }) // pending: d is cancelled by the cap
        const statuses = async () =>
          Object.fromEntries((await h.store.deliveries()).map((d) => [d.id, d.status]))
        expect(Object.values(await statuses()).sort()).toEqual([
          'cancelled',
          'cancelled',
          'delivering',
          'pending',
          'succeeded',
        ])
        expect(await h.eventRows()).toBe(5)

        h.clock.advance(8 * DAY)
        // A delivery that finishes now is recent: it stays.
        await h.store.record(c?.deliveryId ?? 0, { kind: 'delivered', status: 200 })
        expect(await h.store.prune(h.clock.ms - 7 * DAY, 100)).toBe(3)
        const after = await h.store.deliveries()
        expect(after.map((d) => d.status).sort()).toEqual(['pending', 'succeeded'])
        expect(after.find((d) => d.status === 'succeeded')?.id).toBe(c?.deliveryId)
        expect(await h.eventRows()).toBe(2)
        expect(await h.store.redeliver(a?.deliveryId ?? 0)).toBe(false)
        expect(await h.store.queueDepth()).toBe(1)
        expect(await h.store.prune(h.clock.ms - 7 * DAY, 100)).toBe(0)
      })

      it('deletes at most `limit` per call, oldest first', async () => {
        await start()
        await addHook()
        for (const agent of ['a', 'b', 'c']) {
          await one({ agent, code: 'grant_denied' })
          const [d] = await h.store.claim(1)
          await h.store.record(d?.deliveryId ?? 0, { kind: 'delivered', status: 200 })
          h.clock.advance(1000)
        }
        const ids = (await h.store.deliveries()).map((d) => d.id).sort((x, y) => x - y)
        h.clock.advance(8 * DAY)
        expect(await h.store.prune(h.clock.ms - 7 * DAY, 2)).toBe(2)
        expect((await h.store.deliveries()).map((d) => d.id)).toEqual([ids[2]])
        expect(await h.store.prune(h.clock.ms - 7 * DAY, 2)).toBe(1)
        expect(await h.eventRows()).toBe(0)
      })

      it('keeps a finished delivery whose event can still take occurrences (window open)', async () => {
        await start({ coalesceWindowMs: 30 * DAY })
        await addHook()
        await one()
        const [d] = await h.store.claim(1)
        await h.store.record(d?.deliveryId ?? 0, { kind: 'delivered', status: 200 })
        h.clock.advance(8 * DAY)
        expect(await h.store.prune(h.clock.ms - 7 * DAY, 100)).toBe(0)
        h.clock.advance(23 * DAY)
        expect(await h.store.prune(h.clock.ms - 7 * DAY, 100)).toBe(1)
        expect(await h.eventRows()).toBe(0)
      })
    })

    describe('credential expiry notices', () => {
      it('once per credential, expiry date and threshold, across a restart', async () => {
        await start()
        await addHook(['credential_expiry'])
        const first = await h.store.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)
        expect(first).toMatch(/^msg_/)
        expect(await h.store.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).toBeNull()
        expect(await h.store.noteExpiry('github', '2026-12-05T00:00:00.000Z', 1)).not.toBeNull()
        // A renewed credential (new expiry) is noticed again.
        expect(await h.store.noteExpiry('github', '2027-12-05T00:00:00.000Z', 7)).not.toBeNull()
        await h.reopen()
        expect(await h.store.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).toBeNull()
        const [c] = await h.store.claim(1)
        expect(c?.payload).toMatchObject({
          id: first,
          type: 'credential_expiry',
          data: { service: 'github', thresholdDays: 7, expiresAt: '2026-12-05T00:00:00.000Z', count: 1 },
        })
      })

      it('nobody subscribed: nothing recorded, so a later subscriber still hears of it', async () => {
        await start()
        await addHook(['blocked_request'])
        expect(await h.store.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).toBeNull()
        await addHook(['credential_expiry'])
        expect(await h.store.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).not.toBeNull()
      })
    })

    describe('endpoints', () => {
      it('list never includes the secret; unknown or no event types are refused', async () => {
        await start()
        const e = await addHook(['blocked_request'])
        expect(JSON.stringify(await h.store.endpoints())).not.toContain('sssss')
        expect(await h.store.endpoints()).toEqual([e])
        expect(await h.store.endpointForDelivery(e.id)).toEqual({
          id: e.id,
          url: 'https://hooks.example.com/aegis',
          sealedSecret: seal('s'.repeat(20)),
        })
        await expect(
          h.store.addEndpoint({
            url: 'https://x.example',
            events: ['nope' as never],
            sealedSecret: seal('x'),
          }),
        ).rejects.toThrow('unknown event type "nope"')
        await expect(
          h.store.addEndpoint({ url: 'https://x.example', events: [], sealedSecret: seal('x') }),
        ).rejects.toThrow('an endpoint needs at least one event type')
        expect(await h.store.endpoints()).toHaveLength(1)
      })

      it('putEndpoint adds, then replaces url, events and secret in place, keeping a disabled status', async () => {
        await start()
        const first = await h.store.putEndpoint({
          id: 'cfg_1',
          url: 'https://a.example/x',
          events: ['blocked_request', 'blocked_request'],
          sealedSecret: seal('one-secret-0123456789'),
        })
        expect(first).toMatchObject({ id: 'cfg_1', status: 'active', events: ['blocked_request'] })
        await h.store.disable('cfg_1', 'endpoint answered 410 Gone')
        const second = await h.store.putEndpoint({
          id: 'cfg_1',
          url: 'https://b.example/y',
          events: ['body_inspection'],
          sealedSecret: seal('two-secret-0123456789'),
        })
        expect(second).toMatchObject({
          id: 'cfg_1',
          url: 'https://b.example/y',
          events: ['body_inspection'],
          status: 'disabled',
          disabledReason: 'endpoint answered 410 Gone',
        })
        expect((await h.store.endpointForDelivery('cfg_1'))?.sealedSecret.toString()).toBe(
          'sealed:two-secret-0123456789',
        )
        expect(await h.store.endpoints()).toHaveLength(1)
        await expect(
          h.store.addEndpoint({
            id: 'cfg_1',
            url: 'https://c.example',
            events: ['blocked_request'],
            sealedSecret: seal('x'),
          }),
        ).rejects.toThrow()
      })
    })
  })
}
