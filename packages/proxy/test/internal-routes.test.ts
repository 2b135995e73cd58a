import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPipeline, type MetricsExposition } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memoryCredential, memorySource } from './fixtures/memory-source.js'

/** A stand-in for @aegis/telemetry: this package serves whatever exposition it is given. */
const exposition: MetricsExposition = {
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  render: async () => '# HELP up test\n# TYPE up gauge\nup 1\n',
}
const TOKEN = 'metrics-token-0123456789abcdef'

/** Request rows (not gate_start/stop) the ledger holds. */
function requestRows(h: Harness) {
  return h.ledger.query({ limit: 1000 }).filter((e) => e.decision !== 'system')
}

describe('the /_aegis/ namespace is the gate’s own', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ gate: { metrics: exposition } })
    h.add({ name: 'svc', service: 'svc', secret: 'svc-secret-value-0123456789' })
  })
  afterAll(() => h.close())

  // Every member of the class: unknown endpoints, the bare prefix, with a query, deeper paths,
  // known endpoints with extra segments. None is a service, none is recorded, none reaches upstream.
  const unknown = [
    '/_aegis/unknown',
    '/_aegis',
    '/_aegis/',
    '/_aegis?x=1',
    '/_aegis/metrics/extra',
    '/_aegis/health/x',
    '/_aegis/../svc/x',
    '/_aegis//metrics',
  ]
  for (const path of unknown) {
    it(`${path} is a 404 from the gate itself, with no ledger row`, async () => {
      const before = h.upstream.received.length
      const reply = await send(h.port, path, { method: 'POST', body: 'x' })
      expect(reply.status).toBe(404)
      expect(reply.json()).toMatchObject({ code: 'not_found', status: 404 })
      expect(reply.headers['x-aegis-block']).toBeUndefined()
      expect(h.upstream.received.length).toBe(before)
    })
  }

  it('recorded none of them (a request after them is the only row)', async () => {
    const reply = await send(h.port, '/svc/after')
    expect(reply.status).toBe(200)
    const rows = requestRows(h)
    expect(rows.map((r) => r.path)).toEqual(['/after'])
    expect(rows.some((r) => r.service === '_aegis')).toBe(false)
  })

  it('serves the metrics exposition on a loopback bind without a token', async () => {
    const reply = await send(h.port, '/_aegis/metrics')
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe(exposition.contentType)
    expect(reply.text).toBe('# HELP up test\n# TYPE up gauge\nup 1\n')
    const head = await send(h.port, '/_aegis/metrics?x', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.text).toBe('')
  })

  it('answers other methods with 405', async () => {
    const reply = await send(h.port, '/_aegis/metrics', { method: 'POST', body: '{}' })
    expect(reply.status).toBe(405)
    expect(reply.headers.allow).toBe('GET, HEAD')
  })

  it('a service segment that only decodes to _aegis is not the namespace (and not a service)', async () => {
    const reply = await send(h.port, '/%5Faegis/metrics')
    expect(reply.status).toBe(400)
    expect(reply.headers['x-aegis-block']).toBe('bad_request')
  })
})

describe('without metrics configured', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.close())

  it('/_aegis/metrics is the same 404 as any unknown endpoint, with no ledger row', async () => {
    const reply = await send(h.port, '/_aegis/metrics')
    expect(reply.status).toBe(404)
    expect(reply.json()).toMatchObject({ code: 'not_found' })
    await send(h.port, '/nosuch/x')
    expect(requestRows(h).map((r) => r.service)).toEqual(['nosuch'])
  })
})

describe('metrics on a non-loopback bind', () => {
  const open: Harness[] = []
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close()
  })

  it('refuses every scrape without a configured token (0.0.0.0)', async () => {
    const h = await startHarness({ gate: { host: '0.0.0.0', metrics: exposition } })
    open.push(h)
    const reply = await send(h.port, '/_aegis/metrics')
    expect(reply.status).toBe(403)
    expect(reply.json()).toMatchObject({ code: 'metrics_token_required' })
    expect(reply.text).not.toContain('up 1')
  })

  it('requires the configured token as a Bearer token, compared exactly', async () => {
    const h = await startHarness({ gate: { host: '0.0.0.0', metrics: exposition, metricsToken: TOKEN } })
    open.push(h)
    const wrong = [
      undefined,
      '',
      'Bearer',
      `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN.slice(0, -1)}X`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.toUpperCase()}`,
      `Bearer ${TOKEN} extra`,
      TOKEN,
    ]
    for (const authorization of wrong) {
      const reply = await send(h.port, '/_aegis/metrics', {
        headers: authorization === undefined ? {} : { authorization },
      })
      expect(reply.status, String(authorization)).toBe(401)
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="aegis-metrics"')
      expect(reply.text).not.toContain('up 1')
    }
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const reply = await send(h.port, '/_aegis/metrics', { headers: { authorization } })
      expect(reply.status).toBe(200)
      expect(reply.text).toContain('up 1')
    }
    expect(requestRows(h)).toEqual([])
  })

  it('a configured token is required on loopback too', async () => {
    const h = await startHarness({ gate: { metrics: exposition, metricsToken: TOKEN } })
    open.push(h)
    expect((await send(h.port, '/_aegis/metrics')).status).toBe(401)
    const ok = await send(h.port, '/_aegis/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(ok.status).toBe(200)
  })
})

describe('an embedded gate (handle only)', () => {
  it('does not know its bind, so metrics need a token', async () => {
    const { createGate } = await import('../src/index.js')
    const gate = createGate({
      credentials: memorySource(memoryCredential({ secret: 'svc-secret-value-0123456789' })),
      audit: { append: async () => 1, complete: () => undefined, system: async () => 1 },
      metrics: exposition,
    })
    const server = createServer((req, res) => gate.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    try {
      const port = (server.address() as AddressInfo).port
      expect((await send(port, '/_aegis/metrics')).status).toBe(403)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
      await gate.close()
    }
  })
})

describe('the pipeline refuses the namespace too (MCP tool calls reach it directly)', () => {
  it('is service_not_found without a lookup (a credential for "_aegis" is never used), recorded without a service', async () => {
    const rows: Array<{ service: string | null; code: string | null }> = []
    const pipeline = createPipeline({
      credentials: memorySource(
        memoryCredential({ service: '_aegis', secret: 'svc-secret-value-0123456789' }),
      ),
      audit: {
        append: async (entry) => {
          rows.push({ service: entry.service, code: entry.code })
          return rows.length
        },
        complete: () => undefined,
        system: async () => 0,
      },
    })
    try {
      const outcome = await pipeline.engine.process({
        id: 'r1',
        channel: 'mcp',
        receivedAt: Date.now(),
        method: 'GET',
        target: '/_aegis/metrics',
        rawHeaders: [],
        agentToken: null,
        targetHost: null,
        contentLength: null,
        body: null,
        clientAddress: null,
      })
      expect(outcome.kind).toBe('refused')
      expect(outcome.kind === 'refused' && outcome.refusal.code).toBe('service_not_found')
      expect(rows).toEqual([{ service: null, code: 'service_not_found' }])
    } finally {
      await pipeline.close()
    }
  })
})
