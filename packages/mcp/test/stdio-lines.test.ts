import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type McpConfig, type RunningMcp, startMcp } from '../src/index.js'
import { mcpConfig, silentLogger, startWorld, type World } from './fixtures/world.js'

const LIMIT = 4 * 1_048_576
const LEAK = 'sk-live-STDIO-LINE-5d2e'

let w: World
let config: McpConfig
let agent: string
const running: RunningMcp[] = []
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-stdio-lines-1' })
  agent = w.vault.addAgent({ name: 'liner' }).token
  w.vault.grant('liner', 'slack-bot')
  config = mcpConfig(w)
})
afterAll(async () => {
  for (const r of running) await r.close()
  await w.close()
})

/** Ledger rows on channel mcp recorded since `before` (an id), newest first. */
async function rowsSince(before: number) {
  await w.ledger.flush()
  return w.ledger.query({ limit: 1000 }).filter((e) => e.id > before && e.channel === 'mcp')
}

async function lastRowId(): Promise<number> {
  await w.ledger.flush()
  return w.ledger.query({ limit: 1 })[0]?.id ?? 0
}

/** `aegis mcp serve` over stdio (`startMcp`), written to byte for byte; every line it answers, parsed. */
async function stdio() {
  const input = new PassThrough()
  const output = new PassThrough()
  running.push(
    await startMcp({
      config,
      vault: w.vault,
      ledger: w.ledger,
      logger: silentLogger(),
      agentToken: agent,
      stdio: { input, output },
    }),
  )
  let text = ''
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8')
  })
  const lines = () =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown)
  return {
    write: (bytes: string | Buffer) => input.write(bytes),
    /** Waits until the server has written `count` lines, and returns them all. */
    async answers(count: number): Promise<unknown[]> {
      for (let i = 0; i < 250 && lines().length < count; i++) await new Promise((r) => setTimeout(r, 20))
      return lines()
    },
    text: () => text,
    end: () => input.end(),
  }
}

const ping = (id: number) => `${JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' })}\n`
const proxyCall = (id: number, path: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'aegis_proxy_request', arguments: { service: 'slack', path } },
})

describe('stdio: every line the server cannot take is answered, and the connection goes on', () => {
  it('a line over the limit, in many chunks: -32600 and a body_too_large row, then the next line is served', async () => {
    const s = await stdio()
    const before = await lastRowId()
    const chunk = 'x'.repeat(1_048_576)
    for (let i = 0; i < 6; i++) s.write(chunk)
    s.write(`${LEAK}\n`)
    s.write(ping(1))
    expect(await s.answers(2)).toEqual([
      {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: `Invalid Request: a message is at most ${LIMIT} bytes` },
      },
      { jsonrpc: '2.0', id: 1, result: {} },
    ])
    expect(await rowsSince(before)).toEqual([
      expect.objectContaining({
        decision: 'blocked',
        code: 'body_too_large',
        agent: 'liner',
        method: 'UNKNOWN',
      }),
    ])
    s.end()
  })

  it('a line of exactly the limit is read', async () => {
    const s = await stdio()
    const message = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping', params: { _meta: { pad: '' } } })
    const padded = message.replace('"pad":""', `"pad":"${'p'.repeat(LIMIT - message.length)}"`)
    expect(Buffer.byteLength(padded)).toBe(LIMIT)
    s.write(`${padded}\n`)
    expect(await s.answers(1)).toEqual([{ jsonrpc: '2.0', id: 2, result: {} }])
    s.end()
  })

  it('a line that is not UTF-8 is -32700 and never forwarded with replacement characters', async () => {
    const s = await stdio()
    const forwarded = w.upstream.received.length
    const call = Buffer.from(JSON.stringify(proxyCall(3, '/utf8-BAD')))
    const bad = Buffer.concat([
      call.subarray(0, call.indexOf('BAD')),
      Buffer.from([0xff, 0xfe]),
      call.subarray(call.indexOf('BAD')),
    ])
    s.write(Buffer.concat([bad, Buffer.from('\n')]))
    s.write(ping(4))
    expect(await s.answers(2)).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the message is not UTF-8' } },
      { jsonrpc: '2.0', id: 4, result: {} },
    ])
    expect(w.upstream.received.length).toBe(forwarded)
    s.end()
  })

  it('a line that is not JSON is -32700 and a bad_request row, and the line is not repeated', async () => {
    const s = await stdio()
    const before = await lastRowId()
    s.write(`not json ${LEAK}\n`)
    expect(await s.answers(1)).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the message is not JSON' } },
    ])
    expect(s.text()).not.toContain(LEAK)
    const rows = await rowsSince(before)
    expect(rows).toEqual([
      expect.objectContaining({ decision: 'blocked', code: 'bad_request', agent: 'liner' }),
    ])
    expect(JSON.stringify(rows)).not.toContain(LEAK)
    s.end()
  })

  it('JSON that is not JSON-RPC is -32600, with its id when it has one', async () => {
    const s = await stdio()
    s.write(`${JSON.stringify({ id: 5, method: 'ping' })}\n`)
    s.write(`${JSON.stringify({ hello: LEAK })}\n`)
    expect(await s.answers(2)).toEqual([
      {
        jsonrpc: '2.0',
        id: 5,
        error: { code: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message' },
      },
      {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message' },
      },
    ])
    expect(s.text()).not.toContain(LEAK)
    s.end()
  })

  it('blank lines are skipped and CRLF line ends are read', async () => {
    const s = await stdio()
    s.write('\n\r\n   \n')
    s.write(ping(6).replace('\n', '\r\n'))
    expect(await s.answers(1)).toEqual([{ jsonrpc: '2.0', id: 6, result: {} }])
    s.end()
  })
})

describe('stdio: a batch', () => {
  it('of one request is answered with an array, and nothing in it runs', async () => {
    const s = await stdio()
    const forwarded = w.upstream.received.length
    s.write(`${JSON.stringify([proxyCall(7, '/batched')])}\n`)
    const why = 'Invalid Request: batches are not taken over stdio; send each message on a line of its own'
    expect(await s.answers(1)).toEqual([[{ jsonrpc: '2.0', id: 7, error: { code: -32600, message: why } }]])
    s.write(
      `${JSON.stringify([{ jsonrpc: '2.0', id: 'a', method: 'ping' }, { jsonrpc: '2.0', method: 'notifications/initialized' }, 5])}\n`,
    )
    expect((await s.answers(2))[1]).toEqual([
      { jsonrpc: '2.0', id: 'a', error: { code: -32600, message: why } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: why } },
    ])
    // Only notifications: nothing to answer. Empty: one error, not an array.
    s.write(`${JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/initialized' }])}\n`)
    s.write('[]\n')
    s.write(ping(8))
    expect((await s.answers(4)).slice(2)).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: an empty batch' } },
      { jsonrpc: '2.0', id: 8, result: {} },
    ])
    expect(w.upstream.received.length).toBe(forwarded)
    s.end()
  })
})

describe('stdio: ids and initialize', () => {
  it('two calls under one id in flight: the second is -32600 and never forwarded', async () => {
    const s = await stdio()
    const forwarded = w.upstream.received.length
    s.write(
      `${JSON.stringify(proxyCall(9, '/slow/300'))}\n${JSON.stringify(proxyCall(9, '/second-under-9'))}\n`,
    )
    // The refusal is written at once, the running call's answer once the upstream has answered.
    const answers = (await s.answers(2)) as Array<{ id: unknown; error?: { code: number }; result?: unknown }>
    expect(answers.map((a) => [a.id, a.error?.code ?? 'result'])).toEqual([
      [9, -32600],
      [9, 'result'],
    ])
    expect(w.upstream.received.slice(forwarded).map((r) => r.url)).toEqual(['/slow/300'])
    s.end()
  })

  it('a second initialize is -32600; a request before initialize is served', async () => {
    const s = await stdio()
    s.write(ping(10))
    const init = (id: number) =>
      `${JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
      })}\n`
    s.write(init(11))
    s.write(init(12))
    const answers = (await s.answers(3)) as Array<{ id: number; error?: { code: number } }>
    expect(answers.sort((a, b) => a.id - b.id).map((a) => [a.id, a.error?.code ?? 'ok'])).toEqual([
      [10, 'ok'],
      [11, 'ok'],
      [12, -32600],
    ])
    s.end()
  })
})
