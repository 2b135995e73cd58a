import { PassThrough } from 'node:stream'
import type { StageContext } from '@aegis/proxy'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createMcpHttpServer, createMcpServer, type McpHttpServer, PROXY_REQUEST_TOOL } from '../src/index.js'
import { serveStdio } from '../src/stdio.js'
import { streamClient } from './fixtures/stream-client.js'
import { silentLogger, startWorld, type World } from './fixtures/world.js'

// A call the client cancels: over stdio its `notifications/cancelled`, over streamable HTTP the
// same notification in a POST of its own (the SDK client's way), or the connection closing. The
// engine abandons it as the gate abandons a request whose client hung up.

/** An embedder stage that holds every request to `/held…` until `release`: a slow decision. */
const held = {
  waiting: [] as string[],
  release: (): void => undefined,
  gate: Promise.resolve(),
  reset() {
    this.gate = new Promise<void>((resolve) => {
      this.release = resolve
    })
  },
}
held.reset()
async function holdStage(ctx: StageContext) {
  if (!ctx.path.startsWith('/held')) return undefined
  held.waiting.push(ctx.path)
  await held.gate
  return undefined
}

let w: World
let token: string
let http: McpHttpServer
let httpUrl: string
beforeAll(async () => {
  w = await startWorld({ pipeline: { stages: [holdStage] } })
  w.add({ name: 'slow-api', service: 'slow', secret: 'slow-secret-5e6f' })
  // One call in flight at a time: an abandoned call must give its slot back at once.
  token = w.vault.addAgent({ name: 'solo', maxInFlight: 1 }).token
  w.vault.grant('solo', 'slow-api')
  w.pipeline.refresh()
  http = createMcpHttpServer({ engine: w.pipeline.engine, logger: silentLogger(), port: 0 })
  httpUrl = (await http.listen()).url
})
afterAll(async () => {
  held.release()
  await http.close(1000)
  await w.close()
})

/** What the client got back on the wire: JSON-RPC messages (stdio) or POST answers (HTTP). */
interface Connected {
  client: Client
  /** The id of every answer the server sent. */
  answeredIds(): unknown[]
  /** HTTP only: each POST's status and body, in order. */
  posts: { sent: string; status: number; body: string }[]
  /** The client goes away: stdio input ends, the HTTP connections close. */
  leave(): Promise<void>
}

async function connectStdio(): Promise<Connected> {
  const input = new PassThrough()
  const output = new PassThrough()
  const server = createMcpServer({ engine: w.pipeline.engine, agentToken: token })
  await serveStdio(server, { input, output })
  const transport = streamClient(input, output)
  const client = new Client({ name: 'stdio-agent', version: '1' })
  await client.connect(transport)
  return {
    client,
    answeredIds: () => transport.received.filter(isAnswer).map((m) => m.id),
    posts: [],
    leave: async () => {
      input.end()
    },
  }
}

async function connectHttp(): Promise<Connected> {
  const posts: Connected['posts'] = []
  const answered: unknown[] = []
  const controllers: AbortController[] = []
  const transport = new StreamableHTTPClientTransport(new URL(httpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
    // The real fetch, recording each answer; `leave` closes the connections it opened.
    fetch: async (url, init) => {
      const controller = new AbortController()
      controllers.push(controller)
      init?.signal?.addEventListener('abort', () => controller.abort())
      const response = await fetch(url, { ...init, signal: controller.signal })
      if (init?.method !== 'POST') return response
      const body = await response.text()
      posts.push({ sent: String(init.body), status: response.status, body })
      for (const m of body === '' ? [] : [JSON.parse(body)].flat()) if (isAnswer(m)) answered.push(m.id)
      return new Response(response.status === 202 ? null : body, {
        status: response.status,
        headers: response.headers,
      })
    },
  })
  const client = new Client({ name: 'http-agent', version: '1' })
  await client.connect(transport)
  return {
    client,
    answeredIds: () => answered,
    posts,
    leave: async () => {
      for (const controller of controllers) controller.abort()
    },
  }
}

function isAnswer(m: JSONRPCMessage): m is JSONRPCMessage & { id: unknown } {
  return 'id' in m && ('result' in m || 'error' in m)
}

function callProxy(client: Client, path: string, signal?: AbortSignal) {
  return client.callTool(
    { name: PROXY_REQUEST_TOOL, arguments: { service: 'slow', path } },
    undefined,
    signal === undefined ? undefined : { signal },
  ) as Promise<CallToolResult>
}

async function rowOf(path: string) {
  await w.ledger.flush()
  return w.ledger.query({ limit: 100 }).filter((e) => e.path === path)
}

/** The id the SDK client gave the tools/call for `path` (its requests count up from 0). */
function requestIdOf(sent: JSONRPCMessage[], path: string): unknown {
  const call = sent.find(
    (m) => 'method' in m && m.method === 'tools/call' && JSON.stringify(m).includes(JSON.stringify(path)),
  )
  return call !== undefined && 'id' in call ? call.id : undefined
}

/** Every message the client sends, by wrapping its transport's `send`. */
function recordSent(client: Client): JSONRPCMessage[] {
  const sent: JSONRPCMessage[] = []
  const transport = client.transport
  if (transport === undefined) throw new Error('not connected')
  const send = transport.send.bind(transport)
  transport.send = (message, options) => {
    sent.push(message)
    return send(message, options)
  }
  return sent
}

describe.each([
  ['stdio', connectStdio, 1],
  ['streamable HTTP', connectHttp, 2],
])('over %s', (_name, connect, n) => {
  it('a call cancelled while the upstream holds its answer: the upstream request is aborted, the slot is free at once, the row is failed/client_closed, and the client gets no answer', async () => {
    const c = await connect()
    const sent = recordSent(c.client)
    const path = `/slow/2000${n}`
    const cancel = new AbortController()
    const pending = callProxy(c.client, path, cancel.signal)
    await vi.waitFor(() => expect(w.upstream.received.map((r) => r.url)).toContain(path))
    cancel.abort('the user pressed stop')
    await expect(pending).rejects.toThrow()

    // The upstream saw its request's socket close, not answered.
    await vi.waitFor(() => expect(w.upstream.cutOff).toContain(path), { timeout: 3000 })
    // Max in flight 1: the next call goes through at once, not after the upstream's 20 s.
    const started = Date.now()
    const next = await callProxy(c.client, `/after-cancel-${n}`)
    expect(next.structuredContent).toMatchObject({ status: 200 })
    expect(Date.now() - started).toBeLessThan(2000)

    expect(await rowOf(path)).toEqual([
      expect.objectContaining({ channel: 'mcp', decision: 'failed', code: 'client_closed', status: null }),
    ])
    // Per the spec the cancelled request gets no answer (over HTTP: its POST ends 202, no body).
    const id = requestIdOf(sent, path)
    expect(id).not.toBeUndefined()
    expect(c.answeredIds()).not.toContain(id)
    if (c.posts.length > 0) {
      const post = c.posts.find((p) => p.sent.includes(path))
      expect(post).toMatchObject({ status: 202, body: '' })
    }
    await c.client.close()
  })

  it('a call cancelled while the answer is read is recorded as client_closed, as the gate records an agent gone mid-answer', async () => {
    const c = await connect()
    // A streamed body (no length): a chunk every 200 ms for 20 s.
    const path = `/drip/10${n}/200`
    const cancel = new AbortController()
    const pending = callProxy(c.client, path, cancel.signal)
    await vi.waitFor(() => expect(w.upstream.received.map((r) => r.url)).toContain(path))
    await new Promise((resolve) => setTimeout(resolve, 150))
    cancel.abort()
    await expect(pending).rejects.toThrow()

    await vi.waitFor(async () =>
      expect(await rowOf(path)).toEqual([
        expect.objectContaining({ decision: 'failed', code: 'client_closed', status: 200, bytesOut: 0 }),
      ]),
    )
    const started = Date.now()
    expect((await callProxy(c.client, `/after-stall-${n}`)).structuredContent).toMatchObject({ status: 200 })
    expect(Date.now() - started).toBeLessThan(2000)
    await c.client.close()
  })

  it('a call cancelled before it is forwarded never reaches the upstream', async () => {
    const c = await connect()
    const path = `/held/${n}`
    held.reset()
    held.waiting.length = 0
    const cancel = new AbortController()
    const pending = callProxy(c.client, path, cancel.signal)
    await vi.waitFor(() => expect(held.waiting).toContain(path))
    cancel.abort()
    await expect(pending).rejects.toThrow()
    held.release()

    await vi.waitFor(async () =>
      expect(await rowOf(path)).toEqual([
        expect.objectContaining({ decision: 'failed', code: 'client_closed', status: null }),
      ]),
    )
    expect(w.upstream.received.map((r) => r.url)).not.toContain(path)
    // Its slot came back with its row: the next call goes through.
    expect((await callProxy(c.client, `/after-held-${n}`)).structuredContent).toMatchObject({ status: 200 })
    await c.client.close()
  })

  it('a cancellation for an unknown or finished request changes nothing', async () => {
    const c = await connect()
    const sent = recordSent(c.client)
    const done = `/finished-${n}`
    expect((await callProxy(c.client, done)).structuredContent).toMatchObject({ status: 200 })
    const finishedId = requestIdOf(sent, done)
    for (const requestId of [finishedId, 987_654, 'no-such-request']) {
      await c.client.notification({
        method: 'notifications/cancelled',
        params: { requestId: requestId as string, reason: 'late' },
      })
    }
    const after = `/after-stray-cancel-${n}`
    expect((await callProxy(c.client, after)).structuredContent).toMatchObject({ status: 200 })
    expect(await rowOf(done)).toEqual([expect.objectContaining({ decision: 'allowed', status: 200 })])
    expect(await rowOf(after)).toEqual([expect.objectContaining({ decision: 'allowed', status: 200 })])
    await c.client.close()
  })

  it('a client that goes away abandons its running call', async () => {
    const c = await connect()
    const path = `/slow/2100${n}`
    const pending = callProxy(c.client, path)
    pending.catch(() => undefined)
    await vi.waitFor(() => expect(w.upstream.received.map((r) => r.url)).toContain(path))
    await c.leave()

    await vi.waitFor(() => expect(w.upstream.cutOff).toContain(path), { timeout: 3000 })
    await vi.waitFor(async () =>
      expect(await rowOf(path)).toEqual([
        expect.objectContaining({ decision: 'failed', code: 'client_closed', status: null }),
      ]),
    )
    const other = await connect()
    expect((await callProxy(other.client, `/after-leave-${n}`)).structuredContent).toMatchObject({
      status: 200,
    })
    await other.client.close()
    await c.client.close().catch(() => undefined)
  })
})

describe('stdio output broken (the client closed its read end: EPIPE)', () => {
  it('abandons the running call and raises no unhandled error', async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    const server = createMcpServer({ engine: w.pipeline.engine, agentToken: token })
    await serveStdio(server, { input, output })
    const transport = streamClient(input, output)
    const client = new Client({ name: 'stdio-agent', version: '1' })
    await client.connect(transport)
    const path = '/slow/21999'
    const pending = callProxy(client, path)
    pending.catch(() => undefined)
    await vi.waitFor(() => expect(w.upstream.received.map((r) => r.url)).toContain(path))
    // Without a listener, this 'error' would be thrown out of the stream: the process would crash.
    output.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    await vi.waitFor(() => expect(w.upstream.cutOff).toContain(path), { timeout: 3000 })
    await vi.waitFor(async () =>
      expect(await rowOf(path)).toEqual([
        expect.objectContaining({ decision: 'failed', code: 'client_closed', status: null }),
      ]),
    )
    input.end()
  })
})

describe('cancellations over stateless streamable HTTP (each POST its own server)', () => {
  /** One raw POST /mcp as `bearer`; resolves with its status and body. */
  async function rawPost(bearer: string, body: unknown): Promise<{ status: number; body: string }> {
    const response = await fetch(httpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify(body),
    })
    return { status: response.status, body: await response.text() }
  }
  const toolCall = (id: number | string, path: string) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: PROXY_REQUEST_TOOL, arguments: { service: 'slow', path } },
  })
  const cancelOf = (requestId: number | string) => ({
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId, reason: 'stop' },
  })

  it("reach only the calls of the same agent token: another agent's cancellation of the same id changes nothing", async () => {
    const intruder = w.vault.addAgent({ name: 'intruder' }).token
    w.pipeline.refresh()
    const path = '/slow/1500'
    const running = rawPost(token, toolCall(41, path))
    await vi.waitFor(() => expect(w.upstream.received.map((r) => r.url)).toContain(path))
    // A valid token, but not the caller's: the call it names is not its own.
    expect(await rawPost(intruder, cancelOf(41))).toMatchObject({ status: 202, body: '' })
    const answer = await running
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toMatchObject({ id: 41, result: { structuredContent: { status: 200 } } })
    expect(w.upstream.cutOff).not.toContain(path)
    expect(await rowOf(path)).toEqual([expect.objectContaining({ decision: 'allowed', status: 200 })])
  })

  it('the POST of a call cancelled from another POST ends 202, with no answer, and the call is abandoned', async () => {
    const slow = '/slow/20009'
    const running = rawPost(token, toolCall('slow-1', slow))
    await vi.waitFor(() => expect(w.upstream.received.map((r) => r.url)).toContain(slow))
    expect(await rawPost(token, cancelOf('slow-1'))).toMatchObject({ status: 202 })
    expect(await running).toEqual({ status: 202, body: '' })
    await vi.waitFor(() => expect(w.upstream.cutOff).toContain(slow), { timeout: 3000 })
    await vi.waitFor(async () =>
      expect(await rowOf(slow)).toEqual([
        expect.objectContaining({ decision: 'failed', code: 'client_closed' }),
      ]),
    )
  })

  it('a batch with one call cancelled gets the answers of the others, and nothing for the cancelled one', async () => {
    held.reset()
    const mixed = rawPost(token, [toolCall('a', '/held/batch'), { jsonrpc: '2.0', id: 'b', method: 'ping' }])
    await vi.waitFor(() => expect(held.waiting).toContain('/held/batch'))
    expect(await rawPost(token, cancelOf('a'))).toMatchObject({ status: 202 })
    held.release()
    const answer = await mixed
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toMatchObject([{ id: 'b', result: {} }])
    await vi.waitFor(async () =>
      expect(await rowOf('/held/batch')).toEqual([
        expect.objectContaining({ decision: 'failed', code: 'client_closed' }),
      ]),
    )
    expect(w.upstream.received.map((r) => r.url)).not.toContain('/held/batch')
  })

  it('a POST that cancels its own call ends 202; the call is never forwarded', async () => {
    const path = '/api/self-cancelled'
    expect(await rawPost(token, [toolCall(9, path), cancelOf(9)])).toEqual({ status: 202, body: '' })
    await vi.waitFor(async () =>
      expect(await rowOf(path)).toEqual([
        expect.objectContaining({ decision: 'failed', code: 'client_closed' }),
      ]),
    )
    expect(w.upstream.received.map((r) => r.url)).not.toContain(path)
  })
})
