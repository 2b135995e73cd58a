import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stripeThroughGate } from './fixtures/stripe-client.js'
import { SECRETS, startWorld, type World } from './fixtures/world.js'

/**
 * The `stripe` SDK, unchanged, against a real gate. Stripe's client has no base path setting (its
 * paths are always `/v1/...` on `host:port`), so it is wired as a user must: a fetch HTTP client
 * that puts the `/stripe` service prefix in front of the path. Bob holds only his agent token as
 * the Stripe key; the vault holds the `sk_test_…` key, and his policy allows customers only.
 */
let w: World
beforeAll(async () => {
  w = await startWorld()
})
afterAll(() => w?.close())

const stripe = (token: string): Stripe => stripeThroughGate(w.gateUrl, token, 0)

/** The upstream saw the vault key and never the agent token. */
function expectInjected(): void {
  const got = w.upstream.received.at(-1)
  expect(got?.headers.authorization).toBe(`Bearer ${SECRETS.stripe}`)
  expect(JSON.stringify(got)).not.toContain(w.bobToken)
}

describe('stripe', () => {
  it('a form-encoded create with metadata and an idempotency key reaches Stripe with the vault key', async () => {
    const customer = await stripe(w.bobToken).customers.create(
      { email: 'a@example.com', metadata: { order: '42', note: 'a b&c' } },
      { idempotencyKey: 'order-42-create' },
    )
    expect(customer).toMatchObject({
      id: 'cus_new',
      email: 'a@example.com',
      metadata: { order: '42', note: 'a b&c' },
    })
    const got = w.upstream.received.at(-1)
    expect(got?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(got?.body).toBe('email=a%40example.com&metadata[order]=42&metadata[note]=a%20b%26c')
    expect(got?.headers['idempotency-key']).toBe('order-42-create')
    expectInjected()
  })

  it('auto-pagination (for await) follows every page through the gate', async () => {
    const before = w.upstream.received.length
    const ids: string[] = []
    for await (const customer of stripe(w.bobToken).customers.list({ limit: 2 })) ids.push(customer.id)
    expect(ids).toEqual(['cus_1', 'cus_2', 'cus_3', 'cus_4', 'cus_5'])
    const pages = w.upstream.received.slice(before).map((r) => r.url)
    expect(pages).toEqual([
      '/v1/customers?limit=2',
      '/v1/customers?limit=2&starting_after=cus_2',
      '/v1/customers?limit=2&starting_after=cus_4',
    ])
    expectInjected()
  })

  it('a response echoing the sk_test_ key reaches the SDK redacted', async () => {
    const customer = await stripe(w.bobToken).customers.retrieve('cus_echo')
    expect((customer as Stripe.Customer).description).toBe('key [REDACTED]')
    expect(JSON.stringify(customer)).not.toContain(SECRETS.stripe.slice(8))
    expectInjected()
  })

  it("a policy refusal is a StripePermissionError carrying the gate's detail, code and request id", async () => {
    const before = w.upstream.received.length
    const error = await stripe(w.bobToken)
      .charges.create({ amount: 100, currency: 'usd' })
      .then(
        () => expect.unreachable('the charge was not refused'),
        (e: unknown) => e,
      )
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError)
    const e = error as InstanceType<typeof Stripe.errors.StripePermissionError>
    expect(e.statusCode).toBe(403)
    // Stripe prefixes the message with the request id (its `request-id` header): the gate's.
    expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(e.message).toBe(
      `[${e.requestId}] no rule in bob.yaml allows POST stripe /v1/charges for agent bob (aegis: policy_denied)`,
    )
    expect(e.code).toBe('policy_denied')
    expect(e.rawType).toBe('policy_denied')
    expect(e.requestId).toBe(e.headers?.['x-request-id'])
    expect(w.upstream.received.length).toBe(before)
  })

  it('a secret in the form body is refused before Stripe sees it (body_inspection)', async () => {
    const before = w.upstream.received.length
    const error = await stripe(w.bobToken)
      .customers.create({ description: `pasted ${SECRETS.stripe}` })
      .then(
        () => expect.unreachable('the create was not refused'),
        (e: unknown) => e,
      )
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError)
    expect((error as { code: string }).code).toBe('body_inspection')
    expect(String((error as Error).message)).not.toContain(SECRETS.stripe)
    expect(w.upstream.received.length).toBe(before)
  })

  it('the ledger holds bob’s Stripe calls and neither his token nor the key', async () => {
    await w.ledger.flush()
    const entries = w.ledger.query({ limit: 100 }).filter((e) => e.service === 'stripe')
    expect(entries.filter((e) => e.decision === 'allowed')).toHaveLength(5)
    expect(
      entries
        .map((e) => e.code)
        .filter(Boolean)
        .sort(),
    ).toEqual(['body_inspection', 'policy_denied'])
    expect(JSON.stringify(entries)).not.toContain(w.bobToken)
    expect(JSON.stringify(entries)).not.toContain(SECRETS.stripe)
  })
})
