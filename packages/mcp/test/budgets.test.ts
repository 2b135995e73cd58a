import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startWorld, type World } from './fixtures/world.js'

/**
 * The MCP channel runs the same stages as the gate: budgets are taken in one step before the
 * destination lookup (which really waits here), refunded when a later stage refuses, and a
 * rate-limited call never reaches the lookup.
 */
describe('MCP: budgets are taken atomically, before any wait', () => {
  let calls = 0
  const lookup = async (host: string) => {
    calls++
    await new Promise((r) => setTimeout(r, 40))
    return [{ address: host === 'bad.example.test' ? '10.0.0.1' : '127.0.0.1', family: 4 }]
  }
  const dir = mkdtempSync(join(tmpdir(), 'aegis-mcp-budgets-'))
  let w: World
  let ruled: string
  let limited: string

  beforeAll(async () => {
    writeFileSync(join(dir, 'ruled.yaml'), 'agent: ruled\nrules:\n  - service: api\n    rate_limit: 1/min\n')
    w = await startWorld({
      pipeline: {
        // No DNS cache: every call looks its name up and really waits, and "without a lookup"
        // cannot pass merely because the name was cached.
        upstream: { lookup, allowPrivate: ['127.0.0.1/32'], dnsCacheTtl: 0 },
        policies: { dir, mode: 'enforce', defaultPolicy: 'allow' },
      },
    })
    const at = `slow.example.test:${w.upstream.port}`
    w.add({ name: 'api', service: 'api', secret: 'api-secret-mcp-01', domains: [at, 'bad.example.test'] })
    ruled = w.vault.addAgent({ name: 'ruled' }).token
    limited = w.vault.addAgent({ name: 'limited', rateLimit: '1/min' }).token
    w.vault.grant('ruled', 'api')
    w.vault.grant('limited', 'api')
    w.gate.refresh()
    w.pipeline.refresh()
  })
  afterAll(async () => {
    await w.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('forwards exactly one of a burst of 8 calls against a 1/min policy rule', async () => {
    const client = await w.connect({ agentToken: ruled })
    const before = w.upstream.received.length
    const results = await Promise.all(
      Array.from({ length: 8 }, () => call(client, 'aegis_proxy_request', { service: 'api', path: '/x' })),
    )
    expect(results.filter((r) => !r.isError)).toHaveLength(1)
    expect(w.upstream.received.length - before).toBe(1)
  })

  it('refunds a refused call, and refuses a limited one without a lookup', async () => {
    const client = await w.connect({ agentToken: limited })
    const denied = await call(client, 'aegis_proxy_request', {
      service: 'api',
      path: '/x',
      targetHost: 'bad.example.test',
    })
    expect(JSON.parse((denied.content[0] as { text: string }).text).code).toBe('address_denied')
    expect((await call(client, 'aegis_proxy_request', { service: 'api', path: '/x' })).isError).toBeFalsy()
    const before = calls
    const limitedReply = await call(client, 'aegis_proxy_request', { service: 'api', path: '/x', body: 'x' })
    expect(JSON.parse((limitedReply.content[0] as { text: string }).text).code).toBe('rate_limited')
    expect(calls).toBe(before)
  })
})
