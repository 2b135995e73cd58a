import { createHmac } from 'node:crypto'
import { parseAllowList } from '@aegis/guard'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  attemptDelivery,
  generateSecret,
  Relay,
  type RelayOptions,
  signingKey,
  sqliteOutboxStore,
} from '../src/index.js'
import { blocked, type Harness, harness, seal, unseal } from './helpers.js'
import { receiver, type Scripted } from './receiver.js'

let h: Harness
let rx: Awaited<ReturnType<typeof receiver>>
afterEach(async () => {
  await rx?.close()
  await h?.cleanup()
})

const LOOPBACK = parseAllowList(['127.0.0.1'])

async function setup(script: Scripted[] = [], secret = generateSecret()) {
  rx = await receiver(script)
  h = harness()
  const endpoint = h.outbox.addEndpoint({
    url: rx.url,
    events: ['agent_auth_failure', 'blocked_request'],
    sealedSecret: seal(secret),
  })
  return { secret, endpoint }
}

const relayFor = (options: Partial<RelayOptions> = {}) =>
  new Relay({
    outbox: sqliteOutboxStore(h.outbox),
    openSecret: unseal,
    allowPrivate: LOOPBACK,
    now: h.clock.now,
    random: () => 0.5,
    ...options,
  })

// The receiver's clock is the real one; the relay's is the test's, so the test clock starts now.
const realNow = () => {
  h.clock.ms = Date.now()
}

describe('Relay against a real receiver', () => {
  it('delivers a signed event: both signatures verify, the body is the payload', async () => {
    const { secret } = await setup()
    realNow()
    await h.ledger.append(blocked())
    expect(await relayFor().deliverDue()).toBe(1)
    expect(rx.received).toHaveLength(1)
    const [got] = rx.received
    const payload = new Webhook(secret).verify(got?.body ?? '', got?.headers as Record<string, string>)
    expect(payload).toMatchObject({
      type: 'agent_auth_failure',
      data: { count: 1, code: 'agent_auth_required' },
    })
    const hex = createHmac('sha256', signingKey(secret))
      .update(got?.body ?? '')
      .digest('hex')
    expect(got?.headers['x-aegis-signature']).toBe(`sha256=${hex}`)
    expect(got?.headers['x-aegis-event']).toBe('agent_auth_failure')
    expect(got?.headers['x-aegis-delivery']).toBe(got?.headers['webhook-id'])
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'succeeded', attempt: 1, lastStatus: 200 })
  })

  it('a user-supplied secret verifies with format raw', async () => {
    const { secret } = await setup([], 'your-hmac-signing-secret')
    realNow()
    await h.ledger.append(blocked())
    await relayFor().deliverDue()
    const [got] = rx.received
    expect(() =>
      new Webhook(secret, { format: 'raw' }).verify(got?.body ?? '', got?.headers as Record<string, string>),
    ).not.toThrow()
  })

  it('while it cannot sign (a sealed gate) no attempt is spent; once it can, the delivery goes out at once', async () => {
    const { secret } = await setup()
    realNow()
    await h.ledger.append(blocked())
    let sealed = true
    const relay = relayFor({
      openSecret: (envelope) => {
        if (sealed) throw new Error('Vault is sealed')
        return unseal(envelope)
      },
      canSign: () => !sealed,
    })
    // An hour sealed, polled all along: nothing claimed, nothing recorded, nothing sent.
    for (let i = 0; i < 4; i++) {
      expect(await relay.deliverDue()).toBe(0)
      h.clock.advance(15 * 60_000)
    }
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'pending', attempt: 0, lastError: null })
    expect(rx.received).toHaveLength(0)
    sealed = false
    expect(await relay.deliverDue()).toBe(1)
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'succeeded', attempt: 1, lastStatus: 200 })
    // Signed with the secret (the test clock ran an hour ahead, so only the body signature is checked).
    const [got] = rx.received
    const hex = createHmac('sha256', signingKey(secret))
      .update(got?.body ?? '')
      .digest('hex')
    expect(got?.headers['x-aegis-signature']).toBe(`sha256=${hex}`)
  })

  it('sealed between the claim and the signing: the claim is not an attempt, and is delivered after unsealing', async () => {
    await setup()
    realNow()
    await h.ledger.append(blocked())
    let sealed = false
    const relay = relayFor({
      openSecret: (envelope, id) => {
        // The seal lands while the claimed delivery is being signed.
        sealed = true
        throw new Error(`Vault is sealed (${id}, ${envelope.length} bytes)`)
      },
      canSign: () => !sealed,
    })
    expect(await relay.deliverDue()).toBe(1)
    expect(h.outbox.deliveries()[0]).toMatchObject({ attempt: 0, lastError: null })
    expect(rx.received).toHaveLength(0)
    // Unsealed; the lease of the unfinished claim runs out and it is delivered, as its first attempt.
    sealed = false
    h.clock.advance(60_000)
    expect(await relayFor().deliverDue()).toBe(1)
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'succeeded', attempt: 1 })
    expect(rx.received).toHaveLength(1)
  })

  it('500 is retried on schedule with the same webhook-id and body', async () => {
    await setup([{ status: 500 }])
    realNow()
    await h.ledger.append(blocked())
    const relay = relayFor()
    await relay.deliverDue()
    expect(h.outbox.deliveries()[0]).toMatchObject({
      status: 'pending',
      attempt: 1,
      lastStatus: 500,
      lastError: 'HTTP 500',
    })
    h.clock.advance(4_999)
    expect(await relay.deliverDue()).toBe(0)
    h.clock.advance(1)
    expect(await relay.deliverDue()).toBe(1)
    expect(rx.received).toHaveLength(2)
    expect(rx.received[1]?.headers['webhook-id']).toBe(rx.received[0]?.headers['webhook-id'])
    expect(rx.received[1]?.body).toBe(rx.received[0]?.body)
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'succeeded', attempt: 2 })
  })

  it('a restart in the middle of the retry schedule loses nothing', async () => {
    await setup([{ status: 500 }, { status: 503 }])
    realNow()
    await h.ledger.append(blocked())
    await relayFor().deliverDue()
    h.clock.advance(5_000)
    await relayFor().deliverDue()
    await h.reopen()
    h.clock.advance(5 * 60_000)
    expect(await relayFor().deliverDue()).toBe(1)
    expect(rx.received.map((r) => r.headers['webhook-id'])).toEqual(
      Array(3).fill(rx.received[0]?.headers['webhook-id']),
    )
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'succeeded', attempt: 3 })
  })

  it('410 disables the endpoint: nothing more is sent to it', async () => {
    const { endpoint } = await setup([{ status: 410 }])
    realNow()
    await h.ledger.append(blocked())
    await relayFor().deliverDue()
    expect(h.outbox.endpoints()[0]).toMatchObject({ id: endpoint.id, status: 'disabled' })
    await h.ledger.append(blocked({ agent: 'other' }))
    h.clock.advance(3_600_000)
    expect(await relayFor().deliverDue()).toBe(0)
    expect(rx.received).toHaveLength(1)
  })

  it('enable makes an endpoint a 410 disabled active again, with the secret it had', async () => {
    const { secret, endpoint } = await setup([{ status: 410 }])
    realNow()
    await h.ledger.append(blocked())
    await relayFor().deliverDue()
    expect(h.outbox.endpoints()[0]).toMatchObject({
      status: 'disabled',
      disabledReason: 'endpoint answered 410 Gone',
    })
    expect(h.outbox.enable('ep_missing')).toBe('not_found')
    expect(h.outbox.enable(endpoint.id)).toBe('enabled')
    expect(h.outbox.enable(endpoint.id)).toBe('already_active')
    expect(h.outbox.endpoints()[0]).toMatchObject({ id: endpoint.id, status: 'active', disabledReason: null })
    await h.ledger.append(blocked({ agent: 'other' }))
    expect(await relayFor().deliverDue()).toBe(1)
    expect(rx.received).toHaveLength(2)
    const [, got] = rx.received
    expect(() =>
      new Webhook(secret).verify(got?.body ?? '', got?.headers as Record<string, string>),
    ).not.toThrow()
  })

  it.each([
    [429, '120', 120_000],
    [503, '600', 600_000],
    [429, 'soon', 5_000],
    [500, '600', 5_000], // Retry-After only counts on 429 and 503
  ])('%i with Retry-After %s waits %i ms', async (status, retryAfter, wait) => {
    await setup([{ status, headers: { 'retry-after': retryAfter } }])
    realNow()
    await h.ledger.append(blocked())
    await relayFor().deliverDue()
    const next = Date.parse(h.outbox.deliveries()[0]?.nextAttemptAt ?? '')
    expect(next - h.clock.ms).toBe(wait)
  })

  it('a failed attempt is logged with its reason, never with the URL (its path may be a secret)', async () => {
    await setup([{ status: 503 }])
    realNow()
    await h.ledger.append(blocked())
    const logged: Array<Record<string, unknown>> = []
    const logger = {
      warn: (fields: Record<string, unknown>) => logged.push(fields),
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
    }
    await relayFor({ logger: logger as unknown as RelayOptions['logger'] }).deliverDue()
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({ result: 'retry', status: 503, reason: 'HTTP 503' })
    expect(JSON.stringify(logged)).not.toContain(rx.url)
    // No endpoint listening: the connection error is the reason.
    const refused = h.outbox.addEndpoint({
      url: 'http://127.0.0.1:1/hooks/T000/B000/s3cr3t-path',
      events: ['agent_auth_failure', 'blocked_request'],
      sealedSecret: seal(generateSecret()),
    })
    await h.ledger.append(blocked())
    h.clock.advance(60_000)
    await relayFor({ logger: logger as unknown as RelayOptions['logger'] }).deliverDue()
    const mine = logged.filter((l) => l.endpoint === refused.id)
    expect(mine[0]?.reason).toBe(
      '127.0.0.1: the connection was refused (nothing listens on that port) (ECONNREFUSED)',
    )
    expect(JSON.stringify(logged)).not.toContain('s3cr3t-path')
  })

  it('a redirect is not followed', async () => {
    await setup([{ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }])
    realNow()
    await h.ledger.append(blocked())
    await relayFor().deliverDue()
    expect(rx.received).toHaveLength(1)
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'pending', lastStatus: 302 })
    expect(h.outbox.deliveries()[0]?.lastError).toContain('redirects are not followed')
  })

  it('an attempt that takes longer than its timeout fails and is retried', async () => {
    await setup([{ status: 200, hang: true }])
    realNow()
    await h.ledger.append(blocked())
    await relayFor({ timeoutMs: 200 }).deliverDue()
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'pending', lastError: 'timed out after 200 ms' })
  })

  it('exhaustion: dead, and the host hears of it once (the gate writes a system entry)', async () => {
    await setup(Array.from({ length: 8 }, () => ({ status: 500 })))
    realNow()
    await h.ledger.append(blocked())
    const dead: string[] = []
    const relay = relayFor({
      onDead: (d) => {
        dead.push(d.payload.id)
        void h.ledger.system('webhook_exhausted', `delivery ${d.deliveryId} to ${d.endpoint.id}`)
      },
    })
    for (let i = 0; i < 8; i++) {
      await relay.deliverDue()
      h.clock.advance(11 * 3_600_000)
    }
    expect(rx.received).toHaveLength(8)
    expect(dead).toHaveLength(1)
    expect(h.outbox.deliveries({ status: 'dead' })).toHaveLength(1)
    await h.ledger.flush()
    expect(h.ledger.query({ system: true }).map((e) => e.event)).toContain('webhook_exhausted')
  })

  it('start() polls and delivers; stop() waits for what is in flight', async () => {
    await setup()
    const relay = new Relay({
      outbox: sqliteOutboxStore(h.outbox),
      openSecret: unseal,
      allowPrivate: LOOPBACK,
      pollMs: 20,
    })
    h.clock.ms = Date.now()
    relay.start()
    await h.ledger.append(blocked())
    const deadline = Date.now() + 5000
    while (rx.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await relay.stop()
    expect(rx.received).toHaveLength(1)
  })
})

describe('a failing outbox (the database away)', () => {
  it('the running relay warns at the first failed round, not at every one, and again after a round succeeded', async () => {
    await setup()
    let failing = true
    const store = sqliteOutboxStore(h.outbox)
    const warnings: Array<{ object: object; message: string }> = []
    const relay = new Relay({
      outbox: {
        ...store,
        claim: (limit, exclude) =>
          failing
            ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'))
            : store.claim(limit, exclude),
      },
      openSecret: unseal,
      allowPrivate: LOOPBACK,
      pollMs: 10,
      logger: { warn: (object, message) => warnings.push({ object, message }), debug() {} },
    })
    relay.start()
    await new Promise((r) => setTimeout(r, 300))
    expect(warnings.filter((w) => w.message === 'webhook relay round failed')).toEqual([
      {
        message: 'webhook relay round failed',
        object: { err: 'connect ECONNREFUSED 127.0.0.1:5432', suppressed: 0 },
      },
    ])
    failing = false
    await new Promise((r) => setTimeout(r, 100))
    failing = true
    await vi.waitFor(() => expect(warnings).toHaveLength(2), { timeout: 3_000 })
    await relay.stop()
  })
})

describe('retention', () => {
  const DAY = 86_400_000

  it('the running relay deletes deliveries finished over retentionMs ago, then waits pruneEveryMs', async () => {
    await setup()
    realNow()
    await h.ledger.append(blocked({ agent: 'old', code: 'grant_denied' }))
    expect(await relayFor().deliverDue()).toBe(1)
    h.clock.advance(8 * DAY)
    await h.ledger.append(blocked({ agent: 'new', code: 'grant_denied' }))
    const relay = relayFor({ pollMs: 20, pruneEveryMs: 30 * DAY })
    relay.start()
    // The round delivers "new" first, then prunes "old" (finished 8 days ago; retention 7).
    await vi.waitFor(() => expect(h.outbox.deliveries()).toHaveLength(1), { timeout: 3_000 })
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'succeeded', lastAttemptAt: expect.any(String) })
    expect(rx.received).toHaveLength(2)

    // Pruned once: the next rounds leave a newly expired delivery until pruneEveryMs has passed.
    h.clock.advance(8 * DAY)
    await new Promise((r) => setTimeout(r, 100))
    expect(h.outbox.deliveries()).toHaveLength(1)
    h.clock.advance(22 * DAY)
    await vi.waitFor(() => expect(h.outbox.deliveries()).toHaveLength(0), { timeout: 3_000 })
    await relay.stop()
  })

  it('honours retentionMs, and never deletes a pending delivery however old its last attempt', async () => {
    await setup([{ status: 200 }, { status: 500 }, { status: 500 }])
    realNow()
    await h.ledger.append(blocked({ agent: 'done', code: 'grant_denied' }))
    expect(await relayFor().deliverDue()).toBe(1) // 200: succeeded
    await h.ledger.append(blocked({ agent: 'kept', code: 'grant_denied' }))
    expect(await relayFor().deliverDue()).toBe(1) // 500: pending, next attempt in about 5 s
    h.clock.advance(6000)
    expect(await relayFor().deliverDue()).toBe(1) // 500 again: next attempt in about 5 min
    // 30 s on: "done" (and its 10 s coalescing window) is past a 15 s retention; "kept" is pending.
    h.clock.advance(24_000)
    const relay = relayFor({ retentionMs: 15_000, pollMs: 20 })
    relay.start()
    await vi.waitFor(() => expect(h.outbox.deliveries()).toHaveLength(1), { timeout: 3_000 })
    await relay.stop()
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'pending', attempt: 2, lastStatus: 500 })
    expect(rx.received).toHaveLength(3)
  })
})

describe('endpoints do not wait on each other', () => {
  it("a fast endpoint's events arrive while a slow one is still hanging", async () => {
    rx = await receiver()
    const slow = await receiver([{ status: 200, hang: true }])
    try {
      h = harness({ now: () => Date.now() })
      for (const url of [slow.url, rx.url]) {
        h.outbox.addEndpoint({ url, events: ['agent_auth_failure'], sealedSecret: seal(generateSecret()) })
      }
      const relay = new Relay({
        outbox: sqliteOutboxStore(h.outbox),
        openSecret: unseal,
        allowPrivate: LOOPBACK,
        pollMs: 20,
        timeoutMs: 10_000,
      })
      relay.start()
      await h.ledger.append(blocked({ agent: 'a' }))
      await vi.waitFor(() => expect(rx.received).toHaveLength(1), { timeout: 3_000 })
      await vi.waitFor(() => expect(slow.received).toHaveLength(1), { timeout: 3_000 })
      // The slow endpoint's first attempt still hangs; new events reach the fast one meanwhile.
      for (const agent of ['b', 'c']) {
        await h.ledger.append(blocked({ agent }))
        await vi.waitFor(() => expect(rx.received.length).toBeGreaterThan(agent === 'b' ? 1 : 2), {
          timeout: 2_000,
        })
      }
      // One delivery per endpoint at a time: the slow one got nothing more while it hangs.
      expect(slow.received).toHaveLength(1)
      expect(h.outbox.deliveries({ status: 'delivering' }).map((d) => d.endpointId)).toHaveLength(1)
      await slow.close() // the hanging attempt fails now; stop() waits for it to be recorded
      await relay.stop()
      expect(h.outbox.deliveries({ status: 'succeeded' })).toHaveLength(3)
    } finally {
      await slow.close()
    }
  })

  it('never has more than `concurrency` attempts in flight', async () => {
    const hanging = await Promise.all(
      Array.from({ length: 3 }, () => receiver([{ status: 200, hang: true }])),
    )
    try {
      h = harness({ now: () => Date.now() })
      for (const r of hanging) {
        h.outbox.addEndpoint({
          url: r.url,
          events: ['agent_auth_failure'],
          sealedSecret: seal(generateSecret()),
        })
      }
      const relay = new Relay({
        outbox: sqliteOutboxStore(h.outbox),
        openSecret: unseal,
        allowPrivate: LOOPBACK,
        pollMs: 20,
        concurrency: 2,
      })
      relay.start()
      await h.ledger.append(blocked())
      await vi.waitFor(() => expect(hanging.flatMap((r) => r.received)).toHaveLength(2), { timeout: 3_000 })
      await new Promise((r) => setTimeout(r, 200))
      expect(hanging.flatMap((r) => r.received)).toHaveLength(2)
      for (const r of hanging) await r.close()
      await relay.stop()
    } finally {
      for (const r of hanging) await r.close()
    }
    rx = await receiver()
  })
})

describe('the running relay under a faked clock', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('steps through 500, a restart, 503 and 200 with the real Date faked forward; one webhook-id', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const secret = generateSecret()
    rx = await receiver([{ status: 500 }, { status: 503 }])
    h = harness({ now: () => Date.now() })
    h.outbox.addEndpoint({ url: rx.url, events: ['agent_auth_failure'], sealedSecret: seal(secret) })
    const start = () => {
      const relay = new Relay({
        outbox: sqliteOutboxStore(h.outbox),
        openSecret: unseal,
        allowPrivate: LOOPBACK,
        pollMs: 10,
      })
      relay.start()
      return relay
    }
    let relay = start()
    await h.ledger.append(blocked())
    await vi.waitFor(() => expect(rx.received).toHaveLength(1))
    await relay.stop()
    await h.reopen({ now: () => Date.now() })
    relay = start()
    vi.setSystemTime(Date.now() + 5_501)
    await vi.waitFor(() => expect(rx.received).toHaveLength(2))
    vi.setSystemTime(Date.now() + 5.5 * 60_000)
    await vi.waitFor(() => expect(rx.received).toHaveLength(3))
    await relay.stop()
    const ids = new Set(rx.received.map((r) => r.headers['webhook-id']))
    expect(ids.size).toBe(1)
    const last = rx.received[2]
    expect(() =>
      new Webhook(secret).verify(last?.body ?? '', last?.headers as Record<string, string>),
    ).not.toThrow()
    expect(h.outbox.deliveries()[0]).toMatchObject({ status: 'succeeded', attempt: 3 })
  })
})

describe('the address guard', () => {
  const payload = { id: 'msg_x', type: 'blocked_request' as const, timestamp: '', data: {} as never }
  const key = signingKey(generateSecret())

  it('refuses a private address unless allowed', async () => {
    rx = await receiver()
    const outcome = await attemptDelivery({ url: rx.url, key, payload })
    expect(outcome).toMatchObject({ kind: 'failed', status: null })
    expect(outcome.kind === 'failed' && outcome.error).toContain('loopback')
    expect(rx.received).toHaveLength(0)
    h = harness()
  })

  it('a name that does not resolve says so in words, with the code (not a bare ENOTFOUND)', async () => {
    const outcome = await attemptDelivery({
      url: 'https://hooks.example.com/T000/s3cr3t-path',
      key,
      payload,
      lookup: () =>
        Promise.reject(
          Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' }),
        ),
    })
    expect(outcome).toEqual({
      kind: 'failed',
      status: null,
      error: 'hooks.example.com: the host name does not resolve (ENOTFOUND)',
    })
    h = harness()
  })

  it('a DNS lookup that never answers ends at the attempt timeout', async () => {
    const started = Date.now()
    const outcome = await attemptDelivery({
      url: 'https://hooks.example.com/x',
      key,
      payload,
      timeoutMs: 200,
      lookup: () => new Promise(() => {}),
    })
    expect(outcome).toEqual({ kind: 'failed', status: null, error: 'timed out after 200 ms' })
    expect(Date.now() - started).toBeLessThan(2_000)
    h = harness()
  })

  it.each([
    ['every answer is checked, not only the first', ['93.184.215.14', '10.0.0.5'], 'private'],
    ['an IPv4-mapped IPv6 loopback', ['::ffff:127.0.0.1'], null],
    ['the cloud metadata address', ['169.254.169.254'], 'cloud-metadata'],
    ['no answer', [], 'no address'],
  ])('refuses %s', async (_name, answers, reason) => {
    const outcome = await attemptDelivery({
      url: 'https://hooks.example.com/x',
      key,
      payload,
      lookup: async () => answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    })
    expect(outcome.kind).toBe('failed')
    if (outcome.kind === 'failed') {
      expect(outcome.status).toBeNull()
      if (reason !== null) expect(outcome.error).toContain(reason)
      expect(outcome.error).toMatch(/not allowed|no address/)
    }
    h = harness()
  })
})
