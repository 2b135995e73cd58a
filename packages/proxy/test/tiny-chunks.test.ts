import { once } from 'node:events'
import { connect } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'

const MIB = 1_048_576

let h: Harness
beforeAll(async () => {
  h = await startHarness({ gate: { limits: { maxBodySize: MIB } } })
  h.add({ name: 'inspected', service: 'inspected', secret: 'inspected-secret-0001' })
  h.add({ name: 'streamed', service: 'streamed', secret: 'streamed-secret-00002', bodyInspection: 'off' })
})
afterAll(() => h.close())

// A full collection before each sample, so the samples are what is kept, not garbage not yet collected.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Kept heap plus Buffer memory: a kept 1-byte chunk costs far more in the heap than its one byte. */
function used(): number {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/**
 * Sends `size` bytes of `X` as chunked transfer-encoding, one byte per chunk (`1\r\nX\r\n`), and
 * samples this process's memory (the gate runs in it) until the answer is complete.
 */
async function sendOneByteChunks(path: string, size: number): Promise<{ status: number; peak: number }> {
  const socket = connect(h.port, '127.0.0.1')
  await once(socket, 'connect')
  const baseline = used()
  let peak = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, used() - baseline)
  }, 100)
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
  )
  socket.write(Buffer.from('1\r\nX\r\n'.repeat(size)))
  socket.write('0\r\n\r\n')
  await once(socket, 'close')
  clearInterval(sampler)
  peak = Math.max(peak, used() - baseline)
  const head = Buffer.concat(chunks).toString('latin1')
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), peak }
}

describe('a body in 1-byte chunks', () => {
  // Inspected bodies are read whole (collectBody); uninspected ones stream (ByteLimit).
  for (const service of ['inspected', 'streamed']) {
    it(`${service}: memory stays proportional to the body, and the upstream gets the exact bytes`, async () => {
      const before = h.upstream.received.length
      const { status, peak } = await sendOneByteChunks(`/${service}/upload`, MIB)
      expect(status).toBe(200)
      const received = h.upstream.received.slice(before)
      expect(received).toHaveLength(1)
      expect(received[0]?.body.equals(Buffer.alloc(MIB, 'X'))).toBe(true)
      // One Buffer kept per chunk cost about 400 MiB here; the wire data itself is 6 MiB.
      expect(peak).toBeLessThan(16 * MIB)
    }, 30_000)
  }
})
