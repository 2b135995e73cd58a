import { once } from 'node:events'
import { type IncomingMessage, request, type ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'
import { testPki } from './fixtures/tls.js'

/**
 * Streamed answers (SSE, NDJSON, token text) from a scripted upstream: each test says, step by step,
 * what the upstream writes, and moves on only when the agent saw the previous step — a gate that
 * held a step back would make the test time out, whatever the machine's load.
 */

const SECRET = 'sk-stream-0123456789abcdefghijklmnop'

type Script = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void
const scripts = new Map<string, Script>()
/** Paths whose answer was broken off (by the gate) before the upstream ended it. */
const cutOff: string[] = []

let upstream: Server
let h: Harness
beforeAll(async () => {
  const pki = testPki()
  upstream = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    res.on('close', () => {
      if (!res.writableFinished) cutOff.push(req.url ?? '')
    })
    const script = scripts.get(req.url ?? '')
    if (script === undefined) {
      res.writeHead(404).end()
      return
    }
    void script(req, res)
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  const port = (upstream.address() as AddressInfo).port
  h = await startHarness({
    extraResolve: [{ host: 'stream.example.test', port: 443, address: '127.0.0.1', addressPort: port }],
    gate: { limits: { requestTimeout: 1500 } },
  })
  h.add({ name: 'llm', service: 'llm', secret: SECRET, domains: ['stream.example.test'] })
})
afterAll(async () => {
  await h.close()
  upstream.closeAllConnections()
  await new Promise((r) => upstream.close(r))
})

/** A one-shot signal a script waits on and a test fires. */
function step(): { wait: Promise<void>; go: () => void } {
  let go = (): void => undefined
  const wait = new Promise<void>((r) => {
    go = r
  })
  return { wait, go }
}

/** Opens `path` on the gate; resolves at the response head, the body still to come. */
function open(path: string): Promise<{ res: IncomingMessage; req: ReturnType<typeof request> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.port, path, agent: false }, (res) =>
      resolve({ res, req }),
    )
    req.on('error', reject)
    req.end()
  })
}

/** Resolves with the next chunk the agent receives. */
function nextChunk(res: IncomingMessage): Promise<string> {
  return once(res, 'data').then(([chunk]) => (chunk as Buffer).toString('utf8'))
}

async function ledgerRow(path: string) {
  await vi.waitFor(async () => {
    await h.ledger.flush()
    const row = h.ledger.query({ limit: 50 }).find((e) => e.path === path)
    expect(row?.durationMs).not.toBeNull()
  })
  return h.ledger.query({ limit: 50 }).find((e) => e.path === path)
}

describe('streamed answers', () => {
  it('sends the response head as soon as the upstream does, before the first event', async () => {
    const first = step()
    scripts.set('/head-first', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.flushHeaders()
      await first.wait
      res.end('data: hello\n\n')
    })
    // Time to the first token can be long (a reasoning model): the agent sees the stream start.
    const { res } = await open('/llm/head-first')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream')
    first.go()
    expect(await nextChunk(res)).toBe('data: hello\n\n')
  })

  it('delivers a text stream without line breaks token by token, and a secret echoed in it redacted', async () => {
    const tokens = ['Once', 'upon', 'atime', 'there', 'lived', 'agateway']
    const next = tokens.map(() => step())
    scripts.set('/tokens', async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      for (const [i, token] of tokens.entries()) {
        res.write(token)
        await next[i]?.wait
      }
      // The credential, cut in two writes: its start waits at the gate, never leaves alone.
      const secret = String(req.headers.authorization).slice('Bearer '.length)
      res.write(` key ${secret.slice(0, 9)}`)
      await new Promise((r) => setTimeout(r, 50))
      res.end(`${secret.slice(9)} done`)
    })
    const { res } = await open('/llm/tokens')
    let got = ''
    res.on('data', (c: Buffer) => {
      got += c.toString()
    })
    for (let i = 0; i < tokens.length; i++) {
      // Each token reaches the agent before the upstream sends the next one.
      await vi.waitFor(() => expect(got).toBe(tokens.slice(0, i + 1).join('')), { timeout: 1000 })
      next[i]?.go()
    }
    await new Promise((r) => res.on('end', r))
    expect(got).toBe(`${tokens.join('')} key [REDACTED] done`)
  })

  describe('a credential echoed split across the records of a stream (each record alone holds no part long enough)', () => {
    /** The credential in `n` pieces, as an LLM streams a text it repeats. */
    const pieces = (secret: string, n: number) => {
      const size = Math.ceil(secret.length / n)
      return Array.from({ length: n }, (_, i) => secret.slice(i * size, (i + 1) * size))
    }
    const sse = (content: string) =>
      `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`
    const joined = (body: string) =>
      body
        .split('\n\n')
        .filter((e) => e.startsWith('data: {'))
        .map(
          (e) =>
            (JSON.parse(e.slice(6)) as { choices: [{ delta: { content: string } }] }).choices[0].delta
              .content,
        )
        .join('')

    it('SSE, streamed event by event: the joined text reaches the agent redacted', async () => {
      scripts.set('/split-sse', async (req, res) => {
        const secret = String(req.headers.authorization).slice('Bearer '.length)
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write(sse('The key is '))
        for (const piece of pieces(secret, 6)) {
          res.write(sse(piece))
          await new Promise((r) => setTimeout(r, 5))
        }
        res.end(`${sse('.')}data: [DONE]\n\n`)
      })
      const { res } = await open('/llm/split-sse')
      let got = ''
      res.on('data', (c: Buffer) => {
        got += c.toString()
      })
      await new Promise((r) => res.on('end', r))
      expect(joined(got)).toBe('The key is [REDACTED].')
      expect(got).toContain('data: [DONE]')
      expect(got).not.toContain(SECRET.slice(0, 12))
      const row = await ledgerRow('/split-sse')
      expect(row).toMatchObject({ decision: 'allowed', status: 200 })
      expect(row?.redactions).toBeGreaterThanOrEqual(1)
    })

    it('a small SSE answer with a Content-Length (redacted whole) gets a length that matches', async () => {
      scripts.set('/split-sse-small', (req, res) => {
        const secret = String(req.headers.authorization).slice('Bearer '.length)
        const body = pieces(secret, 3).map(sse).join('')
        res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      })
      const { res } = await open('/llm/split-sse-small')
      let got = ''
      res.on('data', (c: Buffer) => {
        got += c.toString()
      })
      await new Promise((r) => res.on('end', r))
      expect(joined(got)).toBe('[REDACTED]')
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(got))
    })

    it('JSON lines, gzip-compressed: decoded, redacted across lines, sent plain', async () => {
      const { gzipSync } = await import('node:zlib')
      scripts.set('/split-ndjson', (req, res) => {
        const secret = String(req.headers.authorization).slice('Bearer '.length)
        const lines = pieces(secret, 4).map((p) => `${JSON.stringify({ response: p, done: false })}\n`)
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' })
        res.end(gzipSync(`${lines.join('')}{"response":"","done":true}\n`))
      })
      const { res } = await open('/llm/split-ndjson')
      let got = ''
      res.on('data', (c: Buffer) => {
        got += c.toString()
      })
      await new Promise((r) => res.on('end', r))
      expect(res.headers['content-encoding']).toBeUndefined()
      const responses = got
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { response: string }).response)
      expect(responses.join('')).toBe('[REDACTED]')
      expect(responses).toHaveLength(5)
    })
  })

  it("keeps the upstream's x-request-id beside the gate's own", async () => {
    scripts.set('/ids', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_upstream_42' })
      res.end('data: [DONE]\n\n')
    })
    const { res } = await open('/llm/ids')
    res.resume()
    expect(res.headers['x-upstream-request-id']).toBe('req_upstream_42')
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    // An upstream without one cannot pass off a header of that name as its id.
    scripts.set('/no-id', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream-request-id': 'forged' })
      res.end('x')
    })
    const plain = await open('/llm/no-id')
    plain.res.resume()
    expect(plain.res.headers['x-upstream-request-id']).toBeUndefined()
  })

  it('records how many bytes reached the agent and client_closed when the agent hangs up mid-stream', async () => {
    const more = step()
    scripts.set('/abandoned', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: one\n\n')
      await more.wait
      // Keeps writing until the gate hangs up on it.
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        res.write('data: more\n\n')
        await new Promise((r) => setTimeout(r, 20))
      }
      if (!res.destroyed) res.end()
    })
    const { res, req } = await open('/llm/abandoned')
    expect(await nextChunk(res)).toBe('data: one\n\n')
    req.destroy()
    more.go()
    await vi.waitFor(() => expect(cutOff).toContain('/abandoned'))
    const row = await ledgerRow('/abandoned')
    expect(row).toMatchObject({ decision: 'failed', code: 'client_closed', status: 200 })
    expect(row?.bytesOut).toBeGreaterThanOrEqual('data: one\n\n'.length)
    // and the gate keeps serving
    scripts.set('/after', (_req, res) => {
      res.end('ok')
    })
    const after = await open('/llm/after')
    expect(await nextChunk(after.res)).toBe('ok')
  })

  it('records the bytes sent before an upstream pause cut the stream', async () => {
    scripts.set('/stalls', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write('{"n":1}\n')
      await new Promise((r) => setTimeout(r, 4000)) // past request_timeout (1500 ms)
      if (!res.destroyed) res.end('{"n":2}\n')
    })
    const { res } = await open('/llm/stalls')
    res.on('error', () => undefined) // the gate cuts the stream: 'aborted'
    let got = ''
    res.on('data', (c: Buffer) => {
      got += c.toString()
    })
    await new Promise((r) => res.on('close', r))
    expect(got).toBe('{"n":1}\n')
    const row = await ledgerRow('/stalls')
    expect(row).toMatchObject({ decision: 'failed', code: 'upstream_timeout', bytesOut: 8 })
  })
})
