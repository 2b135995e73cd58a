import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CONNECTION_LIMITS, type PipelineConfig, pipelineOptionsFromConfig } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { testPki } from './fixtures/tls.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The gate's warnings, parsed. */
const warnings: Array<{ msg: string; [key: string]: unknown }> = []
const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) })

// Short limits so the tests run in seconds; the defaults are 10 s, 10 s and 512.
const LIMITS = { idleTimeout: 300, headersTimeout: 400, requestTimeout: 500, maxConnections: 6 }

let h: Harness
beforeAll(async () => {
  h = await startHarness({ gate: { logger, limits: LIMITS } })
  h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-connections-1' })
})
afterAll(() => h.close())

async function open(): Promise<Socket> {
  const socket = connect(h.port, '127.0.0.1')
  socket.on('error', () => undefined)
  await once(socket, 'connect')
  return socket
}

/** Milliseconds until the gate closes `socket` (or `limit`, if it does not), and what it answered. */
async function closedAfter(socket: Socket, limit = 5000): Promise<{ ms: number; text: string }> {
  const started = Date.now()
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  if (!socket.destroyed && !socket.readableEnded) {
    await Promise.race([once(socket, 'close'), sleep(limit)])
  }
  return { ms: Date.now() - started, text: Buffer.concat(chunks).toString('latin1') }
}

describe('idle and slow connections', () => {
  it('closes a connection that never sends a byte', async () => {
    const socket = await open()
    const { ms, text } = await closedAfter(socket)
    expect(ms).toBeLessThan(1500)
    expect(text).toBe('')
  })

  it('closes a slowloris connection although it keeps sending header bytes', async () => {
    const socket = await open()
    socket.write('GET /slack/x HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    let line = 0
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(`X-Drip-${line++}: a\r\n`)
    }, 50)
    const { ms, text } = await closedAfter(socket)
    clearInterval(drip)
    expect(line).toBeGreaterThan(5)
    expect(ms).toBeLessThan(2000)
    expect(text).toMatch(/^HTTP\/1\.1 408 /)
    expect(text).toContain('x-aegis-block: request_timeout')
  })

  it('closes a keep-alive connection idle between requests', async () => {
    const socket = await open()
    socket.write('GET /_aegis/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const { ms, text } = await closedAfter(socket)
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    // keep-alive idle (300 ms) plus the 1 s Node adds to it
    expect(ms).toBeLessThan(2500)
  })

  it('closes a connection whose body upload stalls', async () => {
    const socket = await open()
    socket.write('POST /slack/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789')
    const { ms } = await closedAfter(socket)
    // the request's silence limit: request timeout (500 ms) plus 1 s for the gate's own answer
    expect(ms).toBeLessThan(3000)
  })
})

describe('connection cap', () => {
  it('closes connections over the cap, says so once, and serves again once they are gone', async () => {
    const before = warnings.filter((w) => w.msg.startsWith('connection limit reached')).length
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, open))
    let heldClosed = 0
    for (const socket of held) socket.once('close', () => heldClosed++)
    const extra = await Promise.all(Array.from({ length: 5 }, open))
    for (const socket of extra) {
      // refused at once: closed while the connections opened before them still wait for their idle
      // limit (an order, not a clock, so a loaded machine cannot make it flaky)
      const { text } = await closedAfter(socket)
      expect(socket.destroyed).toBe(true)
      expect(heldClosed).toBe(0)
      expect(text).toBe('')
    }
    const lines = warnings.filter((w) => w.msg.startsWith('connection limit reached'))
    expect(lines.length - before).toBe(1)
    expect(lines.at(-1)).toMatchObject({ maxConnections: LIMITS.maxConnections, refused: 1 })
    // the silent ones are closed by the idle limit; then agents are served again
    await Promise.all(held.map((socket) => closedAfter(socket)))
    const health = await send(h.port, '/_aegis/health')
    expect(health.status).toBe(200)
    const proxied = await send(h.port, '/slack/api/ok')
    expect(proxied.status).toBe(200)
  })
})

describe('configuration', () => {
  const gate: PipelineConfig['gate'] = {
    max_body_size: 1024,
    request_timeout: 700,
    require_agent_auth: false,
    policy_mode: 'off',
    policy_default: 'allow',
    upstream: { ca_file: [], resolve: [], allow_private: [] },
  }
  const limitsFor = (config: PipelineConfig['gate']) =>
    pipelineOptionsFromConfig({ gate: config }, { credentials: h.vault, audit: h.ledger, logger }).limits
  const configured = { ...gate, idle_timeout: 200, headers_timeout: 250, max_connections: 3 }

  it('gate.idle_timeout, headers_timeout and max_connections become the gate limits', () => {
    const limits = limitsFor(configured)
    expect(limits).toMatchObject({
      idleTimeout: 200,
      headersTimeout: 250,
      maxConnections: 3,
      requestTimeout: 700,
    })
    // left out: the defaults
    const plain = limitsFor(gate)
    expect(plain.idleTimeout).toBeUndefined()
    expect(DEFAULT_CONNECTION_LIMITS).toMatchObject({
      idleTimeout: 10_000,
      headersTimeout: 10_000,
      maxConnections: 512,
    })
  })

  it('a gate started from the configured limits closes a silent connection in time', async () => {
    const limits = limitsFor(configured)
    const other = await startHarness({ gate: { limits } })
    try {
      const socket = connect(other.port, '127.0.0.1')
      socket.on('error', () => undefined)
      await once(socket, 'connect')
      const started = Date.now()
      await new Promise((r) => socket.once('close', r))
      expect(Date.now() - started).toBeLessThan(1000)
    } finally {
      await other.close()
    }
  })
})

describe('HTTPS gate', () => {
  it('closes a connection that never starts TLS, and one that says nothing after the handshake', async () => {
    const pki = testPki()
    const tls = await startHarness({ gate: { limits: LIMITS, tls: { cert: pki.cert, key: pki.key } } })
    try {
      const silent = connect(tls.port, '127.0.0.1')
      silent.on('error', () => undefined)
      await once(silent, 'connect')
      const quiet = connectTls({ port: tls.port, host: '127.0.0.1', rejectUnauthorized: false })
      quiet.on('error', () => undefined)
      await once(quiet, 'secureConnect')
      const [a, b] = await Promise.all([closedAfter(silent), closedAfter(quiet)])
      expect(a.ms).toBeLessThan(1500)
      expect(b.ms).toBeLessThan(1500)
    } finally {
      await tls.close()
    }
  })
})
