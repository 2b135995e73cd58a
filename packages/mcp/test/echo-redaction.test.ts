import zlib from 'node:zlib'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, problemOf, startWorld, textOf, type World } from './fixtures/world.js'

// The MCP channel redacts an upstream's answer with the gate's stages: what the agent reads.
const SECRET = 'sk-mcp-echo-0123456789abcdefXYZ'
const START = SECRET.slice(0, 21)

let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'echo', service: 'echo', secret: SECRET })
  client = await w.connect()
})
afterAll(() => w.close())

/** The tool's answer to a scripted upstream that sends `body` after `lines`, and its ledger row. */
async function proxy(name: string, lines: string[], body: Buffer) {
  w.upstream.scripts.set(name, (s) => {
    s.write(
      `HTTP/1.1 200 OK\r\n${[...lines, `Content-Length: ${body.length}`, 'Connection: close'].join('\r\n')}\r\n\r\n`,
    )
    s.end(body)
  })
  const result = await call(client, 'aegis_proxy_request', { service: 'echo', path: `/script/${name}` })
  await w.ledger.flush()
  const row = w.ledger.query({ limit: 1 })[0]
  return { text: textOf(result), body: (JSON.parse(textOf(result)) as { body: string }).body, row }
}

describe('MCP: an answer that ends inside an echoed secret', () => {
  for (const [name, lines, encode] of [
    ['plain', [], (b: Buffer) => b],
    ['gzip', ['Content-Encoding: gzip'], zlib.gzipSync],
  ] as const) {
    it(`${name}: the start of the secret reaches the agent as [REDACTED]`, async () => {
      const got = await proxy(`ends-${name}`, [...lines], encode(Buffer.from(`{"echo":"${START}`)))
      expect(got.body).toBe('{"echo":"[REDACTED]')
      expect(got.text).not.toContain(SECRET.slice(0, 8))
      expect(got.row).toMatchObject({ decision: 'allowed', redactions: 1 })
    })
  }
})

describe('MCP: a compressed answer that expands without bound (a compression bomb)', () => {
  it('is cut off near the gate bound, even under a larger MCP limit: response_too_large, in the result and the row', async () => {
    const roomy = await w.connect({ maxResponseBytes: 128 * 1_048_576 })
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1_048_576))
    w.upstream.scripts.set('bomb', (s) => {
      s.write(
        `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\nConnection: close\r\n\r\n`,
      )
      s.end(bomb)
    })
    const problem = problemOf(
      await call(roomy, 'aegis_proxy_request', { service: 'echo', path: '/script/bomb' }),
    )
    expect(problem).toMatchObject({ code: 'response_too_large', status: 502, upstreamStatus: 200 })
    expect(String(problem.detail)).toMatch(
      /decoded to more than 4194304 bytes and 100 times its compressed size/,
    )
    await w.ledger.flush()
    expect(w.ledger.query({ limit: 1 })[0]).toMatchObject({ decision: 'failed', code: 'response_too_large' })
  })
})

describe('MCP: a body in UTF-16 that does not say so', () => {
  it('UTF-16LE labelled charset=utf-8: the secret becomes [REDACTED] in UTF-16LE', async () => {
    const sent = Buffer.from(`{"echo":"${SECRET}"}`, 'utf16le')
    const got = await proxy('utf16', ['Content-Type: application/json; charset=utf-8'], sent)
    const bytes = Buffer.from(got.body, 'utf8')
    expect(bytes.equals(Buffer.from('{"echo":"[REDACTED]"}', 'utf16le'))).toBe(true)
    expect(got.row).toMatchObject({ decision: 'allowed', redactions: 1 })
  })
})
