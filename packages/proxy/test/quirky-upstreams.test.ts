import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'
import type { Script } from './fixtures/upstream.js'

// Upstreams that misbehave, written byte for byte on the upstream's socket (`/script/<name>`): what
// the agent gets back, what the ledger row says, and that the gate itself survives.

const SECRET = 'sk-quirk-0123456789abcdefXYZ'
let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'quirk', service: 'q', secret: SECRET })
  token = h.vault.addAgent({ name: 'quirky' }).token
  h.vault.grant('quirky', 'quirk')
  h.gate.refresh()
})
afterAll(() => h.close())

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** An answer head as an upstream writes it. */
const head = (lines: string[], status = '200 OK') => `HTTP/1.1 ${status}\r\n${lines.join('\r\n')}\r\n\r\n`

interface Answer {
  /** Everything the agent received, raw (latin1). */
  raw: string
  status: number
  body: Buffer
  row: Record<string, unknown>
}

/** Sends one GET through the gate to the scripted upstream answer; returns what the agent got. */
async function through(name: string, script: Script, method = 'GET'): Promise<Answer> {
  h.upstream.scripts.set(name, script)
  const socket = connect(h.port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(
    `${method} /q/script/${name} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
      `X-Aegis-Agent: ${token}\r\nConnection: close\r\n\r\n`,
  )
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', () => undefined)
  await Promise.race([once(socket, 'close'), sleep(15_000)])
  socket.destroy()
  const raw = Buffer.concat(chunks)
  const end = raw.indexOf('\r\n\r\n')
  const headText = raw.subarray(0, end).toString('latin1')
  let body: Buffer = raw.subarray(end + 4)
  if (/\r\ntransfer-encoding: chunked/i.test(headText)) body = unchunk(body)
  await h.ledger.flush()
  const row = h.ledger.query({ limit: 1 })[0] as unknown as Record<string, unknown>
  return { raw: raw.toString('latin1'), status: Number(headText.split(' ')[1]), body, row }
}

/** The payload of a chunked body (as far as it arrived). */
function unchunk(bytes: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = bytes.indexOf('\r\n', at)
    if (eol < 0) break
    const size = Number.parseInt(bytes.subarray(at, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    out.push(bytes.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}

const write = (s: Socket, ...parts: (string | Buffer)[]) => {
  for (const p of parts) s.write(p)
}

describe('an upstream that closes the connection while the gate holds its body back', () => {
  it('does not crash the gate (undici asserted in the socket end handler): the answer arrives whole', async () => {
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      // 50 MB of text, gzip-compressed to ~50 KB that arrives at once, then FIN: the decoder is the
      // slow reader, so the parser is paused on the last bytes when the socket ends.
      const size = 50_000_000
      const packed = zlib.gzipSync(Buffer.alloc(size, 'a'))
      const answer = await through('bomb-close', (s) => {
        write(s, head(['Content-Encoding: gzip', `Content-Length: ${packed.length}`, 'Connection: close']), packed)
        s.end()
      })
      await sleep(100)
      expect(uncaught).toEqual([])
      expect(answer.status).toBe(200)
      expect(answer.body.length).toBe(size)
      expect(answer.row).toMatchObject({ decision: 'allowed', status: 200, bytesOut: size })
    } finally {
      process.off('uncaughtException', onUncaught)
    }
  })
})
