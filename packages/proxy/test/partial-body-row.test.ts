import { once } from 'node:events'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'

// A streamed body the gate cuts off part way has already sent some bytes upstream, with the
// credential: the ledger row says how many went out, not 0.

const LIMIT = 1000
let h: Harness
beforeAll(async () => {
  h = await startHarness({ gate: { limits: { maxBodySize: LIMIT } } })
  // Inspection off: the body streams as it arrives instead of being read whole first.
  h.add({ name: 'open', service: 'open', secret: 'open-secret-value-4242', bodyInspection: 'off' })
})
afterAll(() => h.close())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A chunked upload written one chunk at a time, `gapMs` apart; resolves with the gate's answer. */
async function upload(chunks: Buffer[], gapMs: number): Promise<string> {
  const socket = connect(h.port, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => undefined)
  const out: Buffer[] = []
  socket.on('data', (c: Buffer) => out.push(c))
  socket.write('POST /open/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n')
  for (const chunk of chunks) {
    await sleep(gapMs)
    if (socket.destroyed) break
    socket.write(`${chunk.length.toString(16)}\r\n`)
    socket.write(chunk)
    socket.write('\r\n')
  }
  if (!socket.destroyed) socket.write('0\r\n\r\n')
  await Promise.race([once(socket, 'close'), sleep(3000)])
  socket.destroy()
  return Buffer.concat(out).toString('latin1')
}

async function rowOf(id: string) {
  await h.ledger.flush()
  return h.ledger.query({ limit: 50 }).find((row) => row.requestId === id)
}

describe('a streamed body over the limit, cut off after part of it went upstream', () => {
  it('its row counts the bytes the upstream was sent', async () => {
    const before = h.upstream.received.length
    const answer = await upload([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b'), Buffer.alloc(600, 'c')], 150)
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    const id = /x-request-id: (\S+)/i.exec(answer)?.[1] as string
    // The upstream saw the request (the credential went out) and the first chunk of its body.
    for (let i = 0; i < 40 && h.upstream.received.length === before; i++) await sleep(50)
    const got = h.upstream.received.at(-1)
    expect(got?.url).toBe('/upload')
    expect(got?.body.length).toBe(600)
    const row = await rowOf(id)
    expect(row).toMatchObject({ decision: 'blocked', code: 'body_too_large', bytesIn: 600 })
  })

  it('a body within the limit still records its whole length', async () => {
    const answer = await upload([Buffer.alloc(400, 'a'), Buffer.alloc(400, 'b')], 20)
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    const id = /x-request-id: (\S+)/i.exec(answer)?.[1] as string
    expect(await rowOf(id)).toMatchObject({ decision: 'allowed', bytesIn: 800 })
  })
})
