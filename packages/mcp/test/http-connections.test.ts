import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpHttpServer, type McpHttpServer } from '../src/index.js'
import { startWorld, type World } from './fixtures/world.js'

const run = promisify(execFile)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const MIB = 1_048_576
const BIG = 5 * 1_000_000
const LIMITS = { idleTimeout: 300, headersTimeout: 400, requestTimeout: 500, maxConnections: 6 }

const warnings: Array<{ msg: string; [key: string]: unknown }> = []
// pino is a dependency of @aegis/proxy, not of this package (as in fixtures/world.ts).
const pino = createRequire(new URL('../../proxy/package.json', import.meta.url))('pino')
const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) })

let w: World
let server: McpHttpServer
let port: number
let token: string
let dir: string
let big: string
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-http-connections-1' })
  token = w.vault.addAgent({ name: 'alice' }).token
  w.vault.grant('alice', 'slack-bot')
  w.pipeline.refresh()
  server = createMcpHttpServer({
    engine: w.pipeline.engine,
    logger,
    port: 0,
    maxMessageBytes: MIB,
    connections: LIMITS,
  })
  ;({ port } = await server.listen())
  dir = mkdtempSync(join(tmpdir(), 'aegis-mcp-upload-'))
  big = join(dir, 'big.bin')
  writeFileSync(big, Buffer.alloc(BIG, 'a'))
})
afterAll(async () => {
  await server.close()
  await w.close()
  rmSync(dir, { recursive: true, force: true })
})

async function open(options: { allowHalfOpen?: boolean } = {}): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', ...options })
  socket.on('error', () => undefined)
  await once(socket, 'connect')
  return socket
}

/** Milliseconds until the server closes `socket` (or `limit`), and everything it answered. */
async function closedAfter(socket: Socket, limit = 5000): Promise<{ ms: number; text: string }> {
  const started = Date.now()
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  if (!socket.destroyed) await Promise.race([new Promise((r) => socket.once('close', r)), sleep(limit)])
  return { ms: Date.now() - started, text: Buffer.concat(chunks).toString('latin1') }
}

const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
const head = (extra: string) =>
  `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
  `Accept: application/json, text/event-stream\r\n${extra}`

describe('MCP HTTP: idle and slow connections, connection cap', () => {
  it('closes a connection that never sends a byte', async () => {
    const { ms, text } = await closedAfter(await open())
    expect(ms).toBeLessThan(1500)
    expect(text).toBe('')
  })

  it('closes a slowloris connection although it keeps sending header bytes', async () => {
    const socket = await open()
    socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`)
    let line = 0
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(`X-Drip-${line++}: a\r\n`)
    }, 50)
    const { ms } = await closedAfter(socket)
    clearInterval(drip)
    expect(line).toBeGreaterThan(5)
    expect(ms).toBeLessThan(2000)
  })

  it('closes connections over the cap, says so once, and serves again once they are gone', async () => {
    const before = warnings.filter((l) => l.msg.startsWith('connection limit reached')).length
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => open()))
    let heldClosed = 0
    for (const socket of held) socket.once('close', () => heldClosed++)
    const extra = await Promise.all(Array.from({ length: 4 }, () => open()))
    // Refused at once: closed while the connections opened before them still wait for their idle
    // limit (an order, not a clock, so a loaded machine cannot make it flaky).
    for (const socket of extra) {
      await closedAfter(socket)
      expect(socket.destroyed).toBe(true)
      expect(heldClosed).toBe(0)
    }
    expect(warnings.filter((l) => l.msg.startsWith('connection limit reached')).length - before).toBe(1)
    await Promise.all(held.map((socket) => closedAfter(socket)))
    const socket = await open()
    socket.write(
      `${head(`Authorization: Bearer ${token}\r\nContent-Length: ${ping.length}\r\nConnection: close\r\n`)}\r\n${ping}`,
    )
    expect((await closedAfter(socket)).text).toMatch(/^HTTP\/1\.1 200 /)
  })
})

describe('MCP HTTP: early refusals are read, not reset', () => {
  const rows: Array<[string, () => string, number]> = [
    ['no bearer token', () => head(`Content-Length: ${BIG}\r\n\r\n`), 401],
    [
      'message declared over the limit',
      () => head(`Authorization: Bearer ${token}\r\nContent-Length: ${BIG}\r\n\r\n`),
      413,
    ],
    ['foreign Host', () => `POST /mcp HTTP/1.1\r\nHost: evil.test\r\nContent-Length: ${BIG}\r\n\r\n`, 403],
  ]
  for (const [why, request, status] of rows) {
    it(`${why}: a client writing its whole body first reads the ${status}`, async () => {
      const socket = await open()
      const answered = closedAfter(socket)
      socket.write(request())
      socket.write(Buffer.alloc(BIG, 'a'))
      socket.end()
      const { text } = await answered
      expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
      // the whole answer: its JSON document closes (chunked or not)
      expect(text).toMatch(new RegExp(`"(status|code)":(${status}|-32600)`))
      expect(text).toMatch(/\}(\r\n0\r\n\r\n)?$/)
    })
  }

  it('a chunked message passing the limit: the 413 is read', async () => {
    const socket = await open()
    const answered = closedAfter(socket)
    socket.write(head(`Authorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`))
    socket.write(
      Buffer.concat([
        Buffer.from(`${BIG.toString(16)}\r\n`),
        Buffer.alloc(BIG, '{'),
        Buffer.from('\r\n0\r\n\r\n'),
      ]),
    )
    socket.end()
    expect((await answered).text).toMatch(/^HTTP\/1\.1 413 /)
  })

  for (const expect100 of [true, false]) {
    it(`curl -T of a 5 MB message prints the 413 (${expect100 ? 'with' : 'without'} Expect: 100-continue)`, async () => {
      const { stdout } = await run(
        'curl',
        [
          '-sS',
          '-T',
          big,
          '-X',
          'POST',
          '-H',
          `Authorization: Bearer ${token}`,
          '-H',
          expect100 ? 'Expect: 100-continue' : 'Expect:',
          '-w',
          '\n%{http_code} %{size_upload}',
          `http://127.0.0.1:${port}/mcp`,
        ],
        { timeout: 20_000 },
      )
      const at = stdout.lastIndexOf('\n')
      const [status, uploaded] = stdout
        .slice(at + 1)
        .split(' ')
        .map(Number)
      expect(status).toBe(413)
      expect(JSON.parse(stdout.slice(0, at))).toMatchObject({ error: { code: -32600 } })
      if (expect100) expect(uploaded).toBe(0)
    })
  }
})

describe('MCP HTTP: a message in 1-byte chunks', () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const used = () => {
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }

  it('keeps memory proportional to the message', async () => {
    const message = Buffer.from(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(MIB - 100) } }),
    )
    // Built before connecting: the server shares this thread, and its header limit is short.
    const wire = Buffer.alloc(message.length * 6)
    for (let i = 0; i < message.length; i++) {
      wire.write('1\r\n', i * 6, 'latin1')
      wire[i * 6 + 3] = message[i] as number
      wire.write('\r\n', i * 6 + 4, 'latin1')
    }
    const socket = await open()
    const baseline = used()
    let peak = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, used() - baseline)
    }, 250)
    const answered = closedAfter(socket, 30_000)
    socket.write(
      `${head(`Authorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n`)}\r\n`,
    )
    socket.write(wire)
    socket.write('0\r\n\r\n')
    const { text } = await answered
    clearInterval(sampler)
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    // One Buffer kept per chunk cost about 200 MiB here; the wire data itself is 6 MiB.
    expect(peak).toBeLessThan(16 * MIB)
  }, 60_000)
})
