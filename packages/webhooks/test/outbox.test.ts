import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { type EventType, RETRY_SCHEDULE_MS } from '../src/index.js'
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

describe('coalescing floods', () => {
  it('100 unauthenticated requests in one second become 2 deliveries whose counts add up to 100', async () => {
    h = harness({ coalesceWindowMs: 10_000 })
    addHook()
    for (let i = 0; i < 100; i++) {
      // Requests arrive across many batches; the relay claims the first at once.
      await h.ledger.append(blocked())
      if (i === 0) expect(h.outbox.claim(10)).toHaveLength(1)
      h.clock.advance(10)
    }
    const events = new Database(h.file, { readonly: true })
      .prepare('SELECT data FROM webhook_events ORDER BY created_at')
      .all() as { data: string }[]
    const counts = events.map((e) => JSON.parse(e.data).count)
    expect(counts).toEqual([1, 99])
    expect(count('webhook_deliveries')).toBe(2)
    // The trailing event waits for the first one's window to end.
    expect(h.outbox.claim(10)).toHaveLength(0)
    h.clock.advance(10_000)
    const [late] = h.outbox.claim(10)
    expect(late?.payload.data).toMatchObject({ count: 99, code: 'agent_auth_required', service: 'github' })
  })

  it('100 in one batch (one event-loop turn) are one event with count 100', async () => {
    h = harness()
    addHook()
    await Promise.all(Array.from({ length: 100 }, () => h.ledger.append(blocked())))
    expect(count('webhook_deliveries')).toBe(1)
    expect(h.outbox.claim(10)[0]?.payload.data.count).toBe(100)
    expect(h.outbox.counters.coalesced).toBe(99)
  })

  it('different agents, codes or services are different events', async () => {
    h = harness()
    addHook()
    await Promise.all([
      h.ledger.append(blocked({ agent: 'a', code: 'grant_denied' })),
      h.ledger.append(blocked({ agent: 'b', code: 'grant_denied' })),
      h.ledger.append(blocked({ agent: 'a', code: 'scope_denied' })),
      h.ledger.append(blocked({ agent: 'a', code: 'grant_denied', credential: 'slack', service: 'slack' })),
    ])
    expect(count('webhook_events')).toBe(4)
  })

  it('an event already attempted is frozen: its body never changes between retries', async () => {
    h = harness()
    addHook()
    await h.ledger.append(blocked())
    const [first] = h.outbox.claim(1)
    h.outbox.record(first?.deliveryId ?? 0, { kind: 'failed', status: 500, error: 'HTTP 500' }, 0.5)
    await h.ledger.append(blocked())
    h.clock.advance(60_000)
    const claimed = h.outbox.claim(10)
    const again = claimed.find((c) => c.deliveryId === first?.deliveryId)
    expect(again?.payload).toEqual(first?.payload)
  })
})

describe('the cap per endpoint', () => {
  it('keeps the newest pending deliveries and cancels the oldest beyond the cap', async () => {
    h = harness({ maxPendingPerEndpoint: 3 })
    addHook()
    for (const agent of ['a', 'b', 'c', 'd', 'e'])
      await h.ledger.append(blocked({ agent, code: 'grant_denied' }))
    const pending = h.outbox.deliveries({ status: 'pending' })
    expect(pending).toHaveLength(3)
    expect(h.outbox.deliveries({ status: 'cancelled' })).toHaveLength(2)
    expect(h.outbox.deliveries({ status: 'cancelled' })[0]?.lastError).toBe('dropped: endpoint queue full')
    expect(h.outbox.counters.dropped).toBe(2)
    expect(h.outbox.queueDepth()).toBe(3)
  })
})

describe('claim, lease and crash recovery', () => {
  it('a claim is one delivery once; an expired lease (the process died) hands it out again with the same id', async () => {
    h = harness({ leaseMs: 60_000 })
    addHook()
    await h.ledger.append(blocked())
    const [claimed] = h.outbox.claim(10)
    expect(h.outbox.claim(10)).toHaveLength(0)
    h.clock.advance(59_999)
    expect(h.outbox.claim(10)).toHaveLength(0)
    // Restart on the same file without recording anything: as after kill -9 mid-delivery.
    await h.reopen({ leaseMs: 60_000 })
    h.clock.advance(1)
    const [again] = h.outbox.claim(10)
    expect(again?.deliveryId).toBe(claimed?.deliveryId)
    expect(again?.payload).toEqual(claimed?.payload)
    expect(again?.attempt).toBe(0)
  })

  it('the retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±10 %), then dead', async () => {
    h = harness()
    addHook()
    await h.ledger.append(blocked())
    const waits: number[] = []
    let result = ''
    for (let attempt = 0; attempt < 8; attempt++) {
      const [c] = h.outbox.claim(1)
      expect(c?.attempt).toBe(attempt)
      const before = h.clock.ms
      result = h.outbox.record(
        c?.deliveryId ?? 0,
        { kind: 'failed', status: 500, error: 'HTTP 500' },
        1 - 1e-9,
      )
      const [d] = h.outbox.deliveries()
      if (result === 'retry') {
        const wait = Date.parse(d?.nextAttemptAt ?? '') - before
        waits.push(wait)
        h.clock.advance(wait - 1)
        expect(h.outbox.claim(1)).toHaveLength(0)
        h.clock.advance(1)
      }
    }
    expect(result).toBe('dead')
    expect(waits).toEqual(RETRY_SCHEDULE_MS.slice(1).map((ms) => Math.round(ms * 1.1)))
    expect(h.outbox.deliveries({ status: 'dead' })[0]).toMatchObject({
      attempt: 8,
      lastStatus: 500,
      lastError: 'HTTP 500',
    })
  })

  it('jitter stays within ±10 %', async () => {
    h = harness()
    addHook()
    await h.ledger.append(blocked())
    for (const [random, expected] of [
      [0, 4500],
      [0.5, 5000],
    ] as const) {
      const [c] = h.outbox.claim(1)
      h.outbox.record(c?.deliveryId ?? 0, { kind: 'failed', status: 500, error: 'x' }, random)
      const [d] = h.outbox.deliveries()
      expect(Date.parse(d?.nextAttemptAt ?? '') - h.clock.ms).toBe(expected === 4500 ? 4500 : 5 * 60_000)
      h.clock.advance(10 * 60_000)
    }
  })

  it('Retry-After longer than the schedule is honoured', async () => {
    h = harness()
    addHook()
    await h.ledger.append(blocked())
    const [c] = h.outbox.claim(1)
    h.outbox.record(
      c?.deliveryId ?? 0,
      { kind: 'failed', status: 429, error: 'HTTP 429', retryAfterMs: 120_000 },
      0.5,
    )
    expect(Date.parse(h.outbox.deliveries()[0]?.nextAttemptAt ?? '') - h.clock.ms).toBe(120_000)
  })

  it('410 disables the endpoint and cancels its queue; other endpoints go on', async () => {
    h = harness()
    const gone = addHook(['agent_auth_failure'])
    const other = addHook(['agent_auth_failure'])
    await h.ledger.append(blocked())
    await h.ledger.append(blocked({ agent: 'x', code: 'agent_auth_invalid' }))
    const claimed = h.outbox.claim(1)
    const mine = claimed.find((c) => c.endpoint.id === gone.id) ?? claimed[0]
    expect(h.outbox.record(mine?.deliveryId ?? 0, { kind: 'gone', status: 410 })).toBe('disabled')
    const endpoint = h.outbox.endpoints().find((e) => e.id === mine?.endpoint.id)
    expect(endpoint).toMatchObject({ status: 'disabled', disabledReason: 'endpoint answered 410 Gone' })
    expect(h.outbox.deliveries({ endpointId: endpoint?.id, status: 'pending' })).toHaveLength(0)
    const survivor = endpoint?.id === gone.id ? other.id : gone.id
    expect(h.outbox.deliveries({ endpointId: survivor, status: 'pending' }).length).toBeGreaterThan(0)
    // A disabled endpoint gets no new events.
    await h.ledger.append(blocked({ agent: 'y' }))
    expect(h.outbox.deliveries({ endpointId: endpoint?.id, status: 'pending' })).toHaveLength(0)
  })

  it('redeliver puts a dead delivery back with attempt 0 and the same event id', async () => {
    h = harness()
    addHook()
    await h.ledger.append(blocked())
    const [c] = h.outbox.claim(1)
    expect(h.outbox.redeliver(c?.deliveryId ?? 0)).toBe(false) // in flight: not finished
    h.outbox.record(c?.deliveryId ?? 0, { kind: 'delivered', status: 200 })
    expect(h.outbox.redeliver(c?.deliveryId ?? 0)).toBe(true)
    const [again] = h.outbox.claim(1)
    expect(again).toMatchObject({ deliveryId: c?.deliveryId, attempt: 0 })
    expect(again?.payload.id).toBe(c?.payload.id)
    expect(h.outbox.redeliver(9999)).toBe(false)
  })

  it('removing an endpoint cancels its queue and a claim never returns it', async () => {
    h = harness()
    const e = addHook()
    await h.ledger.append(blocked())
    expect(h.outbox.removeEndpoint(e.id)).toBe(true)
    expect(h.outbox.removeEndpoint(e.id)).toBe(false)
    expect(h.outbox.claim(10)).toHaveLength(0)
    expect(h.outbox.deliveries()[0]?.status).toBe('cancelled')
  })
})

describe('credential expiry notices', () => {
  it('once per credential, expiry date and threshold', async () => {
    h = harness()
    addHook(['credential_expiry'])
    const first = h.outbox.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)
    expect(first).toMatch(/^msg_/)
    expect(h.outbox.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).toBeNull()
    expect(h.outbox.noteExpiry('github', '2026-12-05T00:00:00.000Z', 1)).not.toBeNull()
    // A renewed credential (new expiry) is noticed again.
    expect(h.outbox.noteExpiry('github', '2027-12-05T00:00:00.000Z', 7)).not.toBeNull()
    await h.reopen()
    expect(h.outbox.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).toBeNull()
    const [c] = h.outbox.claim(1)
    expect(c?.payload).toMatchObject({
      type: 'credential_expiry',
      data: { service: 'github', thresholdDays: 7 },
    })
  })

  it('nobody subscribed: nothing recorded, so a later subscriber still hears of it', async () => {
    h = harness()
    addHook(['blocked_request'])
    expect(h.outbox.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).toBeNull()
    addHook(['credential_expiry'])
    expect(h.outbox.noteExpiry('github', '2026-12-05T00:00:00.000Z', 7)).not.toBeNull()
  })
})

describe('endpoints', () => {
  it('list never includes the secret; unknown event types are refused', () => {
    h = harness()
    const e = addHook(['blocked_request'])
    expect(JSON.stringify(h.outbox.endpoints())).not.toContain('sssss')
    expect(h.outbox.endpoints()).toEqual([e])
    expect(() =>
      h.outbox.addEndpoint({ url: 'https://x.example', events: ['nope' as never], sealedSecret: seal('x') }),
    ).toThrow(/unknown event type "nope"/)
  })
})

describe('putEndpoint (endpoints from a config file)', () => {
  it('adds, then replaces url, events and secret in place, keeping a disabled status', async () => {
    h = harness()
    const first = h.outbox.putEndpoint({
      id: 'cfg_1',
      url: 'https://a.example/x',
      events: ['blocked_request'],
      sealedSecret: seal('one-secret-0123456789'),
    })
    expect(first).toMatchObject({ id: 'cfg_1', status: 'active', events: ['blocked_request'] })
    h.outbox.disable('cfg_1', 'endpoint answered 410 Gone')
    const second = h.outbox.putEndpoint({
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
    })
    expect(h.outbox.endpointForDelivery('cfg_1')?.sealedSecret.toString()).toBe(
      'sealed:two-secret-0123456789',
    )
    expect(h.outbox.endpoints()).toHaveLength(1)
    expect(() =>
      h.outbox.addEndpoint({
        id: 'cfg_1',
        url: 'https://c.example',
        events: ['blocked_request'],
        sealedSecret: seal('x'),
      }),
    ).toThrow()
  })
})
