import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stripeThroughGate } from './fixtures/stripe-client.js'
import { SECRETS, startWorld, type World } from './fixtures/world.js'

/**
 * What the SDKs' own retries do with the gate's refusals, default retry settings (openai and
 * anthropic: 2 retries honouring `retry-after-ms`/`Retry-After` and `x-should-retry`; Stripe: as
 * configured, backing off 0.5–1 s, honouring `stripe-should-retry`). A limit or a ledger outage is
 * retried after the gate's Retry-After and then passes; a refusal that will not pass is raised at
 * once, never sent again.
 */
let w: World
beforeAll(async () => {
  w = await startWorld()
})
afterAll(() => w?.close())

const openai = (token: string, service = 'openai') =>
  new OpenAI({ apiKey: token, baseURL: `${w.gateUrl}/${service}/v1` })
const anthropic = (token: string) => new Anthropic({ apiKey: token, baseURL: `${w.gateUrl}/anthropic` })
const chat = (model = 'gpt-x') => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] })
const ask = { model: 'claude-x', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] }

const stripe = (token: string): Stripe => stripeThroughGate(w.gateUrl, token, 2)

/** The ledger rows written since `mark` (a row count), after flushing. */
async function rowsSince(mark: number) {
  await w.ledger.flush()
  return w.ledger
    .query({ limit: 1000 })
    .filter((e) => e.decision !== 'system')
    .slice(0, Math.max(0, (await countRows()) - mark))
}
async function countRows(): Promise<number> {
  await w.ledger.flush()
  return w.ledger.query({ limit: 1000 }).filter((e) => e.decision !== 'system').length
}

/** One chat call through openai's SDK and one through anthropic's, with the agent token `token()` names. */
function chatCalls(token: () => string): [string, () => Promise<string | null | undefined>][] {
  return [
    [
      'openai',
      async () => (await openai(token()).chat.completions.create(chat())).choices[0]?.message.content,
    ],
    [
      'anthropic',
      async () => ((await anthropic(token()).messages.create(ask)).content[0] as { text: string }).text,
    ],
  ]
}

/** Waits until carol's one-a-second budget is whole again. */
const carolRested = () => new Promise((r) => setTimeout(r, 1100))

/** The rejection of `call`, and how long it took. */
async function refused(
  call: () => Promise<unknown>,
): Promise<{ error: Error & Record<string, unknown>; ms: number }> {
  const started = Date.now()
  try {
    await call()
  } catch (error) {
    return { error: error as Error & Record<string, unknown>, ms: Date.now() - started }
  }
  throw new Error('expected the call to be refused')
}

describe('a rate limit (429, Retry-After) is waited out and the retried request passes', () => {
  it.each(chatCalls(() => w.carolToken))('%s', async (_name, call) => {
    await carolRested()
    const mark = await countRows()
    const sent = w.upstream.received.length
    expect(await call()).toBe('Hello')
    const started = Date.now()
    expect(await call()).toBe('Hello')
    // The second call met carol's limit, waited the Retry-After (1 s) and was retried.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    const rows = await rowsSince(mark)
    expect(rows.map((r) => r.code ?? r.decision).sort()).toEqual(['allowed', 'allowed', 'rate_limited'])
    expect(w.upstream.received.length - sent).toBe(2)
  })

  it('stripe does not retry a 429 (its rule: 409 and 5xx only) and raises StripeRateLimitError', async () => {
    await carolRested()
    await stripe(w.carolToken).customers.list({ limit: 1 })
    const { error } = await refused(() => stripe(w.carolToken).customers.list({ limit: 1 }))
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError)
    expect(error.code).toBe('rate_limited')
    expect((error.headers as Record<string, string>)['retry-after']).toBe('1')
  })
})

describe('a limit that refills within a second is retried after Retry-After-Ms, not a whole second', () => {
  it.each(chatCalls(() => w.daveToken))('%s', async (_name, call) => {
    await new Promise((r) => setTimeout(r, 1100)) // dave's burst of four is whole again
    const mark = await countRows()
    for (let i = 0; i < 4; i++) expect(await call()).toBe('Hello')
    const started = Date.now()
    expect(await call()).toBe('Hello')
    // Refused (the next slot is ≤ 250 ms away), waited Retry-After-Ms, retried: well under the
    // 1 s the whole-second Retry-After alone would have cost.
    const waited = Date.now() - started
    expect(waited).toBeLessThan(800)
    const rows = await rowsSince(mark)
    expect(rows.filter((r) => r.code === 'rate_limited').length).toBeGreaterThanOrEqual(1)
    expect(rows.filter((r) => r.decision === 'allowed')).toHaveLength(5)
  })
})

describe('a ledger outage (503 ledger_unavailable, Retry-After 5) is retried once it is over', () => {
  it('openai and anthropic wait the Retry-After and pass when the ledger is back', async () => {
    const sent = w.upstream.received.length
    w.ledgerDown = true
    setTimeout(() => {
      w.ledgerDown = false
    }, 300)
    const started = Date.now()
    const [a, b] = await Promise.all([
      openai(w.token).chat.completions.create(chat()),
      anthropic(w.token).messages.create(ask),
    ])
    expect(a.choices[0]?.message.content).toBe('Hello')
    expect(b.content[0]).toMatchObject({ text: 'Hello' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900)
    // Nothing was forwarded while the ledger could not record it: one upstream call each.
    expect(w.upstream.received.length - sent).toBe(2)
  }, 15_000)
})

describe('a sealed vault (503 sealed) is raised at once, not slept on', () => {
  it.each([
    ['openai', () => openai(w.token).chat.completions.create(chat()), OpenAI.InternalServerError],
    ['anthropic', () => anthropic(w.token).messages.create(ask), Anthropic.InternalServerError],
    ['stripe', () => stripe(w.token).customers.list({ limit: 1 }), Stripe.errors.StripeAPIError],
  ] as const)(
    '%s',
    async (_name, call, type) => {
      const mark = await countRows()
      w.seal()
      try {
        const { error, ms } = await refused(call)
        expect(error).toBeInstanceOf(type)
        expect(error.message).toContain('The vault is sealed')
        expect(ms).toBeLessThan(400)
        expect((await rowsSince(mark)).map((r) => r.code)).toEqual(['sealed'])
      } finally {
        w.unseal()
      }
    },
    10_000,
  )
})

describe('a refusal that will never pass is not retried', () => {
  const secretInBody = { model: 'gpt-x', messages: [{ role: 'user' as const, content: SECRETS.anthropic }] }
  it.each([
    ['openai, grant_denied', () => openai(w.token, 'locked').chat.completions.create(chat()), 'grant_denied'],
    [
      'openai, body_inspection',
      () => openai(w.token).chat.completions.create(secretInBody),
      'body_inspection',
    ],
    ['anthropic, grant_denied', () => anthropic(w.bobToken).messages.create(ask), 'grant_denied'],
    [
      'stripe, policy_denied',
      () => stripe(w.bobToken).charges.create({ amount: 1, currency: 'usd' }),
      'policy_denied',
    ],
  ] as const)('%s: one ledger row, nothing upstream, x-should-retry: false', async (_name, call, code) => {
    const mark = await countRows()
    const sent = w.upstream.received.length
    const { error } = await refused(call)
    const headers = error.headers as Headers | Record<string, string>
    const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name])
    expect(get('x-aegis-block')).toBe(code)
    expect(get('x-should-retry')).toBe('false')
    expect((await rowsSince(mark)).map((r) => r.code)).toEqual([code])
    expect(w.upstream.received.length).toBe(sent)
  })
})
