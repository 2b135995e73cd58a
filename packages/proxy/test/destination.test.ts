import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, sendRaw } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/** A resolver answering from a table, counting calls: stands in for an attacker-controlled zone. */
function zone(table: Record<string, string[] | (() => string[])>) {
  const calls: string[] = []
  const lookup = async (host: string) => {
    calls.push(host)
    const entry = table[host]
    const addresses = typeof entry === 'function' ? entry() : entry
    if (!addresses) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return { lookup, calls }
}

describe('private-address guard', () => {
  const forbidden: Record<string, string[]> = {
    'loop.example.test': ['127.0.0.1'],
    'ten.example.test': ['10.1.2.3'],
    'meta.example.test': ['169.254.169.254'],
    'cgnat.example.test': ['100.64.0.1'],
    'v6loop.example.test': ['::1'],
    'mapped.example.test': ['::ffff:127.0.0.1'],
    'nat64.example.test': ['64:ff9b::a9fe:a9fe'],
    'ula.example.test': ['fd00:ec2::254'],
    'mixed.example.test': ['93.184.216.34', '192.168.1.1'],
    'zero.example.test': ['0.0.0.0'],
  }
  const dns = zone({ ...forbidden, 'gone.example.test': [] })
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ gate: { upstream: { lookup: dns.lookup } } })
    h.add({ name: 'any', service: 'any', secret: 'test-secret-s', domains: ['*.example.test'] })
  })
  afterAll(() => h.close())

  for (const host of Object.keys(forbidden)) {
    it(`refuses ${host} → ${forbidden[host]?.join(', ')}`, async () => {
      const reply = await send(h.port, '/any/x', { headers: { 'X-Target-Host': host } })
      expect(reply.status).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('address_denied')
    })
  }

  it('answers 502 when the name does not resolve', async () => {
    const reply = await send(h.port, '/any/x', { headers: { 'X-Target-Host': 'nowhere.example.test' } })
    expect(reply.status).toBe(502)
    expect(reply.headers['x-aegis-block']).toBe('upstream_unreachable')
  })
})

describe('DNS rebinding', () => {
  // First answer: the (allowed) test upstream. Every later answer: a loopback address that is not.
  let answers = 0
  const dns = zone({
    'rebind.example.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['127.0.0.3']),
  })
  const TTL = 300
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({
      gate: { upstream: { lookup: dns.lookup, allowPrivate: ['127.0.0.1/32'], dnsCacheTtl: TTL } },
    })
    // Allowlist entries may name a port: point this one at the test upstream's.
    h.add({
      name: 'r',
      service: 'r',
      secret: 'test-secret-s',
      domains: [`rebind.example.test:${h.upstream.port}`],
    })
  })
  afterAll(() => h.close())

  it('dials the address it checked, and refuses the new answer once the checked one expires', async () => {
    const port = h.upstream.port
    const headers = { 'X-Target-Host': `rebind.example.test:${port}` }
    const reply = await send(h.port, '/r/x', { headers })
    // Answered by the upstream on 127.0.0.1 (the checked address), with one lookup in all: the
    // connector never asked the zone again, so its second (loopback) answer had no effect.
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.host).toBe(`rebind.example.test:${port}`)
    expect(dns.calls.filter((c) => c === 'rebind.example.test')).toHaveLength(1)
    // While the checked answer lives it is reused, verdict and all: still the checked address.
    expect((await send(h.port, '/r/x', { headers })).status).toBe(200)
    expect(dns.calls.filter((c) => c === 'rebind.example.test')).toHaveLength(1)
    // Once it expires the name is looked up again, and the rebound answer is refused.
    await new Promise((r) => setTimeout(r, TTL + 50))
    const again = await send(h.port, '/r/x', { headers })
    expect(again.status).toBe(403)
    expect(again.headers['x-aegis-block']).toBe('address_denied')
    expect(dns.calls.filter((c) => c === 'rebind.example.test')).toHaveLength(2)
  })
})

describe('upstream failures', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({
      // A deadline well apart from every pause below, so a loaded machine does not blur the two.
      gate: { limits: { requestTimeout: 1000 } },
      extraResolve: [{ host: 'closed.example.test', port: 443, address: '127.0.0.1', addressPort: 1 }],
    })
    h.add({ name: 'slow', service: 'slow', secret: 'test-secret-s' })
    h.add({ name: 'closed', service: 'closed', secret: 'test-secret-s', domains: ['closed.example.test'] })
    h.add({
      name: 'wrongname',
      service: 'wrongname',
      secret: 'test-secret-s',
      domains: ['other.test', 'nomatch.example.test'],
    })
  })
  afterAll(() => h.close())

  it.each([
    { when: 'sends no headers in time', path: '/slow/slow/2000' },
    { when: 'stalls in the middle of a body', path: '/slow/stall/2000' },
  ])('answers 504 when the upstream $when', async ({ path }) => {
    const reply = await send(h.port, path)
    expect(reply.status).toBe(504)
    expect(reply.headers['x-aegis-block']).toBe('upstream_timeout')
    expect(reply.text).not.toContain('0123456789')
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 5 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(entry).toMatchObject({ decision: 'failed', code: 'upstream_timeout', status: 504 })
  })

  it('records upstream_timeout when a streamed body stalls after its headers were sent', async () => {
    // No Content-Length: the 200 and the first chunk go out at once, then a pause over the deadline.
    const raw = await sendRaw(h.port, 'GET /slow/drip/3/2000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 4000)
    expect(raw).toMatch(/^HTTP\/1\.1 200/)
    const requestId = /x-request-id: ([\w-]+)/.exec(raw)?.[1]
    await new Promise((r) => setTimeout(r, 50))
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 5 }).find((e) => e.requestId === requestId)
    expect(entry).toMatchObject({ decision: 'failed', code: 'upstream_timeout', status: 200 })
  })

  it('lets a slow body through when no pause is longer than the deadline', async () => {
    // 14 chunks 100 ms apart: about 1.4 s in all, over the 1 s deadline, but never idle that long
    const reply = await send(h.port, '/slow/drip/14/100')
    expect(reply.status).toBe(200)
    expect(reply.text).toBe(Array.from({ length: 14 }, (_, i) => `chunk-${i};`).join(''))
  })

  it('does not time out a body the agent itself holds back (backpressure is not a stall)', async () => {
    const size = 48_000_000 // well over what socket buffers hold
    const { request } = await import('node:http')
    const req = request({ host: '127.0.0.1', port: h.port, path: `/slow/big/${size}`, agent: false })
    req.end()
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
    expect(res.statusCode).toBe(200)
    res.pause()
    await new Promise((resolve) => setTimeout(resolve, 2500)) // over two deadlines without reading
    let received = 0
    for await (const chunk of res) received += (chunk as Buffer).length
    expect(received).toBe(size)
  })

  it('answers 502 when the upstream refuses connections', async () => {
    const reply = await send(h.port, '/closed/x')
    expect(reply.status).toBe(502)
    expect(reply.headers['x-aegis-block']).toBe('upstream_unreachable')
    expect(reply.json().detail).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/)
  })
})

describe('upstream TLS', () => {
  it('refuses an upstream whose certificate is not trusted', async () => {
    const h = await startHarness({ gate: { upstream: { ca: [] } } })
    try {
      h.add({ name: 's', service: 's', secret: 'never-sent' })
      const reply = await send(h.port, '/s/x')
      expect(reply.status).toBe(502)
      expect(h.upstream.received).toHaveLength(0)
    } finally {
      await h.close()
    }
  })
})
