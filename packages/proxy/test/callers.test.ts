import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * Web pages cannot use the gate: a page can send "simple" requests to 127.0.0.1 without any CORS
 * check (the credential would be injected and the side effect happen), and a DNS-rebinding page
 * can read the answers under its own name. The gate refuses a foreign Host (`host_denied`) and
 * anything a browser page sends (`origin_denied`), before the pipeline, and records it.
 */
describe('requests from web pages and foreign Host names', () => {
  let h: Harness
  let withNames: Harness
  beforeAll(async () => {
    h = await startHarness()
    h.add({ name: 'gh', service: 'github', secret: 'ghp_callers_secret_000000000001' })
    withNames = await startHarness({ gate: { allowedHosts: ['aegis', '*.svc.cluster.local'] } })
    withNames.add({ name: 'gh', service: 'github', secret: 'ghp_callers_secret_000000000002' })
  })
  afterAll(async () => {
    await h.close()
    await withNames.close()
  })

  async function refusedAndRecorded(
    headers: Record<string, string>,
    code: string,
    init: { method?: string; body?: string } = {},
  ) {
    const before = h.upstream.received.length
    const reply = await send(h.port, '/github/repos/acme/app/issues', { ...init, headers })
    expect(reply.status).toBe(403)
    expect(reply.headers['x-aegis-block']).toBe(code)
    expect(reply.headers['access-control-allow-origin']).toBeUndefined()
    expect(reply.text).not.toContain('ghp_callers_secret')
    expect(h.upstream.received.length).toBe(before)
    await h.ledger.flush()
    const row = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(row).toMatchObject({ decision: 'blocked', code, status: 403 })
    return reply
  }

  it.each([
    ['a rebinding name', 'evil.test'],
    ['a rebinding name with the gate port', `evil.test:3100`],
    ['a name that starts like loopback', '127.0.0.1.evil.test'],
    ['a name that starts with localhost', 'localhost.evil.test'],
    ['a hex address', '0x7f000001'],
  ])('refuses %s in Host: host_denied, recorded, never forwarded', async (_why, host) => {
    const reply = await refusedAndRecorded({ host }, 'host_denied')
    expect(reply.json<{ detail: string }>().detail).toContain('gate.allowed_hosts')
  })

  it.each([
    [
      'a cross-site form POST (no preflight)',
      { origin: 'https://evil.test', 'content-type': 'text/plain' },
      'POST',
    ],
    ['an opaque origin', { origin: 'null' }, 'POST'],
    [
      'a no-cors fetch (Sec-Fetch-Site only)',
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      'GET',
    ],
    ['a same-origin fetch of a rebound page', { 'sec-fetch-site': 'same-origin' }, 'GET'],
  ])('refuses %s: origin_denied, recorded, never forwarded', async (_why, headers, method) => {
    await refusedAndRecorded(headers, 'origin_denied', {
      method,
      body: method === 'POST' ? 'title=pwned' : undefined,
    })
  })

  it('records a refused request under the agent whose token it carries, with its service and path', async () => {
    const token = h.vault.addAgent({ name: 'paged' }).token
    h.gate.refresh()
    const reply = await refusedAndRecorded({ origin: 'null', 'x-aegis-agent': token }, 'origin_denied', {
      method: 'POST',
    })
    await h.ledger.flush()
    const row = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(row).toMatchObject({ agent: 'paged', service: 'github', path: '/repos/acme/app/issues' })
    expect(JSON.stringify(row)).not.toContain(token)
  })

  it('serves agents: 127.0.0.1, localhost, *.localhost, [::1]-style literals and no browser headers', async () => {
    for (const host of [
      `127.0.0.1:${h.port}`,
      `localhost:${h.port}`,
      'agent.localhost',
      '[::1]:3100',
      '10.1.2.3',
    ]) {
      const reply = await send(h.port, '/github/user', { headers: { host } })
      expect(reply.status, host).toBe(200)
    }
    // The user typing the address in a browser.
    expect((await send(h.port, '/github/user', { headers: { 'sec-fetch-site': 'none' } })).status).toBe(200)
  })

  it('the gate namespace is guarded too, and never a ledger row', async () => {
    await h.ledger.flush()
    const rows = h.ledger.query({ limit: 1000 }).length
    const health = await send(h.port, '/_aegis/health', { headers: { host: 'evil.test' } })
    expect(health.status).toBe(403)
    expect(health.headers['x-aegis-block']).toBe('host_denied')
    expect(health.text).not.toContain('uptime')
    const fromPage = await send(h.port, '/_aegis/health', { headers: { origin: 'http://evil.test' } })
    expect(fromPage.headers['x-aegis-block']).toBe('origin_denied')
    await h.ledger.flush()
    expect(h.ledger.query({ limit: 1000 }).length).toBe(rows)
    expect((await send(h.port, '/_aegis/health')).status).toBe(200)
  })

  it('gate.allowed_hosts adds names and *.suffix wildcards, and only those', async () => {
    for (const host of ['aegis:3100', 'AEGIS', 'aegis.default.svc.cluster.local:3100']) {
      expect((await send(withNames.port, '/github/user', { headers: { host } })).status, host).toBe(200)
    }
    for (const host of ['aegis.evil.test', 'svc.cluster.local', 'evil.test']) {
      const reply = await send(withNames.port, '/github/user', { headers: { host } })
      expect(reply.headers['x-aegis-block'], host).toBe('host_denied')
    }
  })

  it('a bad allowed_hosts entry fails createGate with the entry named', async () => {
    await expect(startHarness({ gate: { allowedHosts: ['http://aegis'] } })).rejects.toThrow(
      'Invalid allowed host: entry 0 ("http://aegis")',
    )
  })
})
