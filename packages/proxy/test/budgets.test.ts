import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Reply, send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * Issue 11, items 10 and 11: every budget (policy rule, agent rate, credential rate, in-flight) is
 * checked and taken in one synchronous step, before the destination lookup and the body read, and
 * given back when a later stage refuses. The lookup here REALLY waits (a timer), so a budget that
 * was only checked before the wait and spent after it would let a whole burst through.
 */

type Order = 'fixed' | 'reverse'

/** A resolver for `*.example.test` answering 127.0.0.1 after a timer; `bad.example.test` is private. */
function waitingDns() {
  let order: Order = 'fixed'
  let calls = 0
  let pending = 0
  const lookup = async (host: string) => {
    calls++
    const i = pending++
    // 'reverse': the first caller waits longest, so answers come back in reverse order.
    const ms = order === 'fixed' ? 40 : Math.max(5, 200 - i * 15)
    await new Promise((r) => setTimeout(r, ms))
    pending--
    return [{ address: host === 'bad.example.test' ? '10.0.0.1' : '127.0.0.1', family: 4 }]
  }
  return {
    lookup,
    get calls() {
      return calls
    },
    set order(o: Order) {
      order = o
    },
  }
}

const POLICY = (agent: string) => `agent: ${agent}
rules:
  - service: ruled
    rate_limit: 1/min
  - service: free
`

describe('budgets are taken atomically, before any wait', () => {
  const dns = waitingDns()
  const dir = mkdtempSync(join(tmpdir(), 'aegis-budgets-'))
  let h: Harness
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    for (const agent of ['ruled-a', 'ruled-b']) writeFileSync(join(dir, `${agent}.yaml`), POLICY(agent))
    h = await startHarness({
      gate: {
        // No DNS cache: every request looks its name up and really waits (a cached name answers
        // at once, which would hide a budget checked before the wait and spent after it).
        upstream: { lookup: dns.lookup, allowPrivate: ['127.0.0.1/32'], dnsCacheTtl: 0 },
        policies: { dir, mode: 'enforce', defaultPolicy: 'allow' },
      },
    })
    const at = `slow.example.test:${h.upstream.port}`
    h.add({ name: 'ruled', service: 'ruled', secret: 'ruled-secret-0001', domains: [at] })
    h.add({ name: 'free', service: 'free', secret: 'free-secret-00001', domains: [at, 'bad.example.test'] })
    h.add({
      name: 'metered',
      service: 'metered',
      secret: 'metered-secret-01',
      domains: [at],
      rateLimit: '2/min',
    })
    h.add({
      name: 'metered2',
      service: 'metered2',
      secret: 'metered-secret-02',
      domains: [at],
      rateLimit: '1/min',
    })
    const agents: Array<[string, { rateLimit?: string; maxInFlight?: number }]> = [
      ['ruled-a', {}],
      ['ruled-b', {}],
      ['limited-a', { rateLimit: '1/min' }],
      ['limited-b', { rateLimit: '1/min' }],
      ['narrow', { maxInFlight: 2 }],
      ['anyone', {}],
      ['refunded', { rateLimit: '1/min' }],
    ]
    for (const [name, limits] of agents) {
      tokens[name] = h.vault.addAgent({ name, ...limits }).token
      for (const c of ['ruled', 'free', 'metered', 'metered2']) h.vault.grant(name, c)
    }
    h.gate.refresh()
  })
  afterAll(async () => {
    await h.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Sends `n` requests at once; returns the statuses and how many the upstream received. */
  async function burst(n: number, path: string, agent: string, order: Order) {
    dns.order = order
    const before = h.upstream.received.length
    const replies = await Promise.all(
      Array.from({ length: n }, () =>
        send(h.port, path, { headers: { 'X-Aegis-Agent': tokens[agent] ?? '' } }),
      ),
    )
    await h.ledger.flush()
    const ids = new Set(replies.map((r) => String(r.headers['x-request-id'])))
    const rows = h.ledger.query({ limit: 1000 }).filter((e) => ids.has(String(e.requestId)))
    return {
      ok: replies.filter((r) => r.status === 200).length,
      limited: replies.filter((r) => r.status === 429).length,
      upstream: h.upstream.received.length - before,
      allowedRows: rows.filter((e) => e.decision === 'allowed').length,
      blockedRows: rows.filter((e) => e.code === 'rate_limited').length,
    }
  }

  const cases: Array<{ name: string; path: string; agent: string; allowed: number; order: Order }> = [
    { name: 'a 1/min policy rule', path: '/ruled/x', agent: 'ruled-a', allowed: 1, order: 'fixed' },
    {
      name: 'a 1/min policy rule, answers in reverse',
      path: '/ruled/x',
      agent: 'ruled-b',
      allowed: 1,
      order: 'reverse',
    },
    { name: 'a 1/min agent limit', path: '/free/x', agent: 'limited-a', allowed: 1, order: 'fixed' },
    {
      name: 'a 1/min agent limit, answers in reverse',
      path: '/free/x',
      agent: 'limited-b',
      allowed: 1,
      order: 'reverse',
    },
    { name: 'a 2/min credential limit', path: '/metered/x', agent: 'anyone', allowed: 2, order: 'fixed' },
    {
      name: 'a 1/min credential limit, answers in reverse',
      path: '/metered2/x',
      agent: 'anyone',
      allowed: 1,
      order: 'reverse',
    },
    { name: 'max 2 in flight', path: '/free/slow/300', agent: 'narrow', allowed: 2, order: 'reverse' },
  ]
  for (const c of cases) {
    it(`forwards exactly ${c.allowed} of a burst of 8 against ${c.name}`, async () => {
      const got = await burst(8, c.path, c.agent, c.order)
      expect(got).toEqual({
        ok: c.allowed,
        limited: 8 - c.allowed,
        upstream: c.allowed,
        allowedRows: c.allowed,
        blockedRows: 8 - c.allowed,
      })
    })
  }

  it('gives the budget back when a later stage refuses (address, inspection)', async () => {
    const as = { 'X-Aegis-Agent': tokens.refunded ?? '' }
    // Refused by the address guard after the lookup: after the budget stages.
    const denied = await send(h.port, '/free/x', { headers: { ...as, 'X-Target-Host': 'bad.example.test' } })
    expect(denied.headers['x-aegis-block']).toBe('address_denied')
    // Refused by inspection: the body carries a vault secret.
    const leaked = await send(h.port, '/free/x', {
      method: 'POST',
      headers: as,
      body: '{"note":"ruled-secret-0001"}',
    })
    expect(leaked.headers['x-aegis-block']).toBe('body_inspection')
    // Neither cost the agent its one request a minute; this one does.
    expect((await send(h.port, '/free/x', { headers: as })).status).toBe(200)
    expect((await send(h.port, '/free/x', { headers: as })).status).toBe(429)
  })

  it('gives the in-flight slot back when a later stage refuses', async () => {
    const as = { 'X-Aegis-Agent': tokens.narrow ?? '' }
    for (let i = 0; i < 3; i++) {
      const denied = await send(h.port, '/free/x', {
        headers: { ...as, 'X-Target-Host': 'bad.example.test' },
      })
      expect(denied.headers['x-aegis-block']).toBe('address_denied')
    }
    // max 2 in flight: both still free.
    const both = await Promise.all([
      send(h.port, '/free/slow/50', { headers: as }),
      send(h.port, '/free/slow/50', { headers: as }),
    ])
    expect(both.map((r) => r.status)).toEqual([200, 200])
  })

  it('gives the policy rule budget back when a later stage refuses', async () => {
    writeFileSync(
      join(dir, 'refunded.yaml'),
      POLICY('refunded').replace('service: free\n', 'service: free\n    rate_limit: 1/min\n'),
    )
    // Wait for the watcher to apply the file: the rule refuses an unknown service from then on.
    for (let i = 0; i < 60; i++) {
      const probe = await send(h.port, '/metered/x', { headers: { 'X-Aegis-Agent': tokens.refunded ?? '' } })
      if (probe.headers['x-aegis-block'] === 'policy_denied') break
      await new Promise((r) => setTimeout(r, 50))
    }
    h.vault.setAgentLimits('refunded', { rateLimit: null })
    h.gate.refresh()
    const as = { 'X-Aegis-Agent': tokens.refunded ?? '' }
    const denied = await send(h.port, '/free/x', { headers: { ...as, 'X-Target-Host': 'bad.example.test' } })
    expect(denied.headers['x-aegis-block']).toBe('address_denied')
    expect((await send(h.port, '/free/x', { headers: as })).status).toBe(200)
    const limited = await send(h.port, '/free/x', { headers: as })
    expect(limited.headers['x-aegis-block']).toBe('rate_limited')
  })
})

describe('cheap refusals come before expensive work', () => {
  const dns = waitingDns()
  let h: Harness
  let limited: string

  beforeAll(async () => {
    // No DNS cache: "without resolving" must not pass merely because the name was cached.
    h = await startHarness({
      gate: { upstream: { lookup: dns.lookup, allowPrivate: ['127.0.0.1/32'], dnsCacheTtl: 0 } },
    })
    h.add({
      name: 'api',
      service: 'api',
      secret: 'api-secret-000001',
      domains: [`slow.example.test:${h.upstream.port}`],
      bodyInspection: 'block',
    })
    limited = h.vault.addAgent({ name: 'limited', rateLimit: '1/min' }).token
    h.vault.grant('limited', 'api')
    h.gate.refresh()
    expect((await send(h.port, '/api/x', { headers: { 'X-Aegis-Agent': limited } })).status).toBe(200)
  })
  afterAll(() => h.close())

  it('refuses a rate-limited agent without resolving its destination', async () => {
    const before = dns.calls
    const reply = await send(h.port, '/api/x', { headers: { 'X-Aegis-Agent': limited } })
    expect(reply.status).toBe(429)
    expect(dns.calls).toBe(before)
  })

  it("refuses a rate-limited agent's brotli body without reading it", async () => {
    // The body is announced, one compressed chunk is sent, and the rest never comes: a gate that
    // read (and decoded) the body before the limit would wait here until the client gave up.
    const bomb = brotliCompressSync(Buffer.alloc(8 << 20))
    const reply = await new Promise<Pick<Reply, 'status' | 'headers'>>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: h.port,
        path: '/api/upload',
        method: 'POST',
        agent: false,
        headers: {
          'X-Aegis-Agent': limited,
          'Content-Encoding': 'br',
          'Transfer-Encoding': 'chunked',
        },
      })
      req.on('error', reject)
      req.write(bomb)
      const timer = setTimeout(() => reject(new Error('no answer within 2 s: the body was waited for')), 2000)
      req.on('response', (res) => {
        clearTimeout(timer)
        res.resume()
        res.on('end', () => {
          req.destroy()
          resolve({ status: res.statusCode ?? 0, headers: res.headers })
        })
      })
    })
    expect(reply.status).toBe(429)
    expect(reply.headers['x-aegis-block']).toBe('rate_limited')
  })

  it('refuses a forbidden destination before the body and the budget', async () => {
    const other = h.vault.addAgent({ name: 'other', rateLimit: '1/min' }).token
    h.vault.grant('other', 'api')
    h.gate.refresh()
    const before = dns.calls
    const reply = await send(h.port, '/api/x', {
      headers: { 'X-Aegis-Agent': other, 'X-Target-Host': 'evil.test' },
    })
    expect(reply.headers['x-aegis-block']).toBe('domain_denied')
    expect(dns.calls).toBe(before)
    expect((await send(h.port, '/api/x', { headers: { 'X-Aegis-Agent': other } })).status).toBe(200)
  })
})
