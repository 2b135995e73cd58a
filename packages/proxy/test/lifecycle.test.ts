import { once } from 'node:events'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { openLedger } from '@aegis/ledger'
import { openVault } from '@aegis/vault'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AuditSink, createGate } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, MASTER_KEY, startHarness } from './fixtures/harness.js'
import { testPki } from './fixtures/tls.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < withinMs) {
    if (await check()) return Date.now() - started
    await sleep(20)
  }
  throw new Error(`not within ${withinMs} ms`)
}

describe('live state', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.close())

  it('serves changes written by another connection within a second, without a restart', async () => {
    // A second connection to the same vault file, as the CLI in another process would open.
    const other = openVault({ dataDir: h.dataDir, name: 'default', masterKey: MASTER_KEY })
    try {
      expect((await send(h.port, '/late/x')).status).toBe(404)
      other.add({ name: 'late', service: 'late', secret: 'first-secret', domains: ['api.example.test'] })
      const added = await eventually(async () => (await send(h.port, '/late/x')).status === 200, 1000)
      expect(added).toBeLessThan(1000)
      expect(h.upstream.received.at(-1)?.headers.authorization).toBe('Bearer first-secret')

      other.rotate('late', 'second-secret')
      await eventually(async () => {
        await send(h.port, '/late/x')
        return h.upstream.received.at(-1)?.headers.authorization === 'Bearer second-secret'
      }, 1000)

      other.update('late', { scopes: ['read'] })
      await eventually(async () => (await send(h.port, '/late/x', { method: 'DELETE' })).status === 403, 1000)

      other.remove('late')
      await eventually(async () => (await send(h.port, '/late/x')).status === 404, 1000)
    } finally {
      other.close()
    }
  })
})

describe('serving', () => {
  it('answers the health endpoint without touching the ledger', async () => {
    const h = await startHarness()
    try {
      const before = h.ledger.stats({}).total
      const reply = await send(h.port, '/_aegis/health')
      expect(reply.status).toBe(200)
      expect(reply.json()).toMatchObject({ status: 'ok' })
      await h.ledger.flush()
      expect(h.ledger.stats({}).total).toBe(before)
    } finally {
      await h.close()
    }
  })

  it('reports a port in use clearly', async () => {
    const h = await startHarness()
    const second = createGate({
      credentials: h.vault,
      audit: h.ledger,
      logger: pino({ level: 'silent' }),
      port: h.port,
    })
    try {
      await expect(second.listen()).rejects.toThrow(`Port ${h.port} is already in use`)
    } finally {
      await h.close()
    }
  })

  it('serves HTTPS with the given certificate', async () => {
    const pki = testPki()
    const h = await startHarness({ gate: { tls: { cert: pki.cert, key: pki.key } } })
    try {
      h.add({ name: 's', service: 's', secret: 'tls-secret' })
      const req = httpsRequest({
        host: '127.0.0.1',
        port: h.port,
        path: '/s/x',
        ca: pki.caCert,
        servername: 'api.example.test',
      })
      req.end()
      const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
      res.resume()
      expect(res.statusCode).toBe(200)
      expect(h.upstream.received.at(-1)?.headers.authorization).toBe('Bearer tls-secret')
    } finally {
      await h.close()
    }
  })
})

describe('graceful shutdown', () => {
  it('drains in-flight requests, refuses new ones, and records start and stop', async () => {
    const h = await startHarness()
    h.add({ name: 'slow', service: 'slow', secret: 'test-secret-s' })
    const inFlight = send(h.port, '/slow/slow/400')
    await sleep(100)
    const closing = h.gate.close()
    // The listener is closed: a new connection cannot get in.
    await expect(send(h.port, '/slow/x')).rejects.toThrow()
    const reply = await inFlight
    expect(reply.status).toBe(200)
    expect(reply.text).toBe('late')
    await closing
    await h.ledger.flush()
    const system = h.ledger.query({ system: true, limit: 10 })
    expect(system.map((e) => e.event)).toEqual(['gate_stop', 'gate_start'])
    await h.close()
  })

  it('answers 503 shutting_down to requests that still reach it while draining', async () => {
    const h = await startHarness()
    h.add({ name: 's', service: 's', secret: 'test-secret-s' })
    // Embedded in another server (as handle() allows), which keeps accepting after the gate closed.
    const { createServer } = await import('node:http')
    const server = createServer(h.gate.handle).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as import('node:net').AddressInfo).port
    try {
      expect((await send(port, '/s/x')).status).toBe(200)
      await h.gate.close()
      const before = h.upstream.received.length
      const reply = await send(port, '/s/x')
      expect(reply.status).toBe(503)
      expect(reply.headers['x-aegis-block']).toBe('shutting_down')
      expect(reply.headers['retry-after']).toBe('5')
      expect(reply.headers.connection).toBe('close')
      expect(h.upstream.received.length).toBe(before)
    } finally {
      server.close()
      await h.close()
    }
  })
})

describe('ledger outage', () => {
  it('refuses with 503 and forwards nothing when the ledger cannot be written', async () => {
    const h = await startHarness()
    h.add({ name: 's', service: 's', secret: 'test-secret-s' })
    // An agent allowed one request in flight: a refused request must give its slot back.
    const { agent, token } = h.vault.addAgent({ name: 'solo', maxInFlight: 1 })
    h.vault.grant(agent.name, 's')
    const broken = openLedger({ file: join(h.dataDir, 'broken.db') })
    await broken.close()
    const gate = createGate({
      credentials: h.vault,
      audit: broken,
      logger: pino({ level: 'silent' }),
      upstream: {
        ca: [testPki().caCert],
        resolve: [
          { host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: h.upstream.port },
        ],
      },
    })
    // listen() records gate_start; with a closed ledger that fails, so serve through handle().
    const { createServer } = await import('node:http')
    const server = createServer(gate.handle).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as import('node:net').AddressInfo).port
    try {
      for (let i = 0; i < 3; i++) {
        const reply = await send(port, '/s/x', { headers: { 'X-Aegis-Agent': token } })
        expect(reply.status).toBe(503)
        expect(reply.headers['x-aegis-block']).toBe('ledger_unavailable')
        expect(reply.headers['retry-after']).toBe('5')
      }
      expect(h.upstream.received).toHaveLength(0)
    } finally {
      server.close()
      await gate.close()
      await h.close()
    }
  })

  it('logs why the ledger refused a write (its own one-line reason), not only the error name', async () => {
    const h = await startHarness()
    h.add({ name: 's', service: 's', secret: 'test-secret-s' })
    const broken = openLedger({ file: join(h.dataDir, 'broken.db') })
    await broken.close()
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)))
        done()
      },
    })
    const gate = createGate({
      credentials: h.vault,
      audit: broken,
      logger: pino({ level: 'error' }, sink),
      upstream: {
        ca: [testPki().caCert],
        resolve: [
          { host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: h.upstream.port },
        ],
      },
    })
    const { createServer } = await import('node:http')
    const server = createServer(gate.handle).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as import('node:net').AddressInfo).port
    try {
      expect((await send(port, '/s/x')).status).toBe(503)
      expect(lines.find((line) => line.msg === 'ledger write failed')).toMatchObject({
        err: 'LedgerError:closed',
        reason: 'Ledger is closed',
      })
    } finally {
      server.close()
      await gate.close()
      await h.close()
    }
  })

  it('answers health 503 ledger_unavailable while the ledger fails, and recovers without traffic', async () => {
    const h = await startHarness()
    h.add({ name: 's', service: 's', secret: 'test-secret-s' })
    // The real ledger behind a switch: an outage the test can end (PostgreSQL coming back).
    let down = false
    let systemCalls = 0
    const outage = () => Promise.reject(new Error('connection refused'))
    const sink: AuditSink = {
      append: (entry) => (down ? outage() : h.ledger.append(entry)),
      complete: (id, outcome) => h.ledger.complete(id, outcome),
      system: (event, detail) => {
        systemCalls++
        return down ? outage() : h.ledger.system(event, detail)
      },
    }
    const gate = createGate({
      credentials: h.vault,
      audit: sink,
      logger: pino({ level: 'silent' }),
      port: 0,
      upstream: {
        ca: [testPki().caCert],
        resolve: [
          { host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: h.upstream.port },
        ],
      },
    })
    const { port } = await gate.listen()
    try {
      expect((await send(port, '/s/x')).status).toBe(200)
      expect((await send(port, '/_aegis/health')).json()).toMatchObject({ status: 'ok', ledger: 'ok' })
      down = true
      systemCalls = 0
      expect((await send(port, '/s/x')).headers['x-aegis-block']).toBe('ledger_unavailable')
      const failing = await send(port, '/_aegis/health')
      expect(failing.status).toBe(503)
      expect(failing.headers['retry-after']).toBe('5')
      expect(failing.json()).toMatchObject({ status: 'ledger_unavailable', ledger: 'unavailable' })
      // The same check without a request (the dashboard's embedded gate asks this way).
      expect(gate.health()).toMatchObject({
        status: 'ledger_unavailable',
        ledger: 'unavailable',
        sealed: false,
      })
      // A flood of health calls is not a flood of writes: one attempt per second at most.
      await Promise.all(Array.from({ length: 50 }, () => send(port, '/_aegis/health')))
      expect(systemCalls).toBeLessThanOrEqual(1)
      // The ledger is back; no agent traffic arrives (the load balancer withdrew it), yet health
      // notices within about a second.
      down = false
      const recovered = await eventually(
        async () => (await send(port, '/_aegis/health')).status === 200,
        3000,
      )
      expect(recovered).toBeLessThan(1500)
      expect((await send(port, '/_aegis/health')).json()).toMatchObject({ status: 'ok', ledger: 'ok' })
      await h.ledger.flush()
      const events = h.ledger.query({ system: true, limit: 5 }).map((e) => e.event)
      expect(events).toContain('ledger_recovered')
      expect((await send(port, '/s/x')).status).toBe(200)
    } finally {
      await gate.close()
      await h.close()
    }
  })
})
