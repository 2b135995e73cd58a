import { once } from 'node:events'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpHttpServer, type McpHttpServer } from '../src/index.js'
import { silentLogger, startWorld, type World } from './fixtures/world.js'

// The MCP endpoint is an HTTP server like the gate, and had none of the gate's protocol-level
// refusals: Node answered a parser error, a missing Host and an `Expect` other than 100-continue by
// itself (a bare 400 or 417: no request id, no ledger row), served two Host headers and `HTTP/2.0`
// as HTTP/1.1, and left a connection open after an Upgrade request whose pipelined successor its
// parser had dropped. Each is now refused and recorded as the gate does.

let w: World
let server: McpHttpServer
let port: number
let token: string
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-mcp-protocol-secret-1' })
  token = w.vault.addAgent({ name: 'alice' }).token
  w.vault.grant('alice', 'slack-bot')
  w.pipeline.refresh()
  server = createMcpHttpServer({ engine: w.pipeline.engine, port: 0, logger: silentLogger() })
  ;({ port } = await server.listen())
})
afterAll(async () => {
  await server.close()
  await w.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Writes `data` raw; everything answered until the server closes (or `wait` ms pass). */
async function raw(data: string, wait = 1500): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', () => undefined)
  socket.write(data)
  await Promise.race([once(socket, 'close'), sleep(wait)])
  socket.destroy()
  return Buffer.concat(chunks).toString('latin1')
}

const message = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
const post = (extra: string, version = '1.1') =>
  `POST /mcp HTTP/${version}\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
  `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${extra}` +
  `Content-Length: ${message.length}\r\n\r\n${message}`

describe('MCP HTTP: requests Node would answer (or serve) by itself', () => {
  const cases: [string, string, string][] = [
    [
      'an Expect other than 100-continue',
      post('Expect: foo\r\nConnection: close\r\n'),
      'Expect supports only',
    ],
    ['no Host', post('Connection: close\r\n').replace('Host: 127.0.0.1\r\n', ''), 'exactly one Host header'],
    ['two Host headers', post('Host: evil.test\r\nConnection: close\r\n'), 'single value'],
    ['HTTP/2.0 in the request line', post('', '2.0'), 'Only HTTP/1.1 and HTTP/1.0'],
    [
      'Transfer-Encoding on HTTP/1.0',
      post('Transfer-Encoding: chunked\r\n', '1.0').replace(
        /Content-Length: \d+\r\n\r\n.*$/s,
        `\r\n${message.length.toString(16)}\r\n${message}\r\n0\r\n\r\n`,
      ),
      'HTTP/1.0 request cannot use Transfer-Encoding',
    ],
    [
      'a header name with a control character (the parser)',
      post('Bad\u0001: x\r\n'),
      'Malformed HTTP request',
    ],
    [
      'Transfer-Encoding beside Content-Length (the parser)',
      post('Transfer-Encoding: chunked\r\n'),
      'Malformed',
    ],
  ]
  for (const [name, request, detail] of cases) {
    it(`${name}: 400 bad_request naming its request id, one ledger row on channel mcp`, async () => {
      const reply = await raw(request)
      expect(reply).toMatch(/^HTTP\/1\.1 400 /)
      expect(reply).not.toMatch(/ 417 /)
      expect(reply).toMatch(/\r\nx-aegis-block: bad_request\r\n/i)
      expect(reply).toContain(detail)
      const requestId = /\r\nx-request-id: (\S+)/i.exec(reply)?.[1]
      expect(requestId).toBeDefined()
      await w.ledger.flush()
      const rows = w.ledger.query({ limit: 500 }).filter((r) => r.requestId === requestId)
      expect(rows).toMatchObject([{ channel: 'mcp', decision: 'blocked', code: 'bad_request', status: 400 }])
    })
  }

  it('an oversized header block: 431 headers_too_large, recorded', async () => {
    const reply = await raw(post(`X-Big: ${'a'.repeat(20_000)}\r\n`))
    expect(reply).toMatch(/^HTTP\/1\.1 431 /)
    const requestId = /\r\nx-request-id: (\S+)/i.exec(reply)?.[1]
    await w.ledger.flush()
    expect(w.ledger.query({ limit: 500 }).filter((r) => r.requestId === requestId)).toMatchObject([
      { channel: 'mcp', code: 'headers_too_large', status: 431 },
    ])
  })

  it('an Upgrade request is served without switching, and its connection closes after the answer', async () => {
    // The second request rides in the same packet: Node's parser stops at the Upgrade and drops it.
    const reply = await raw(post('Connection: Upgrade\r\nUpgrade: websocket\r\n') + post(''), 3000)
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).not.toMatch(/ 101 /)
    expect(reply).toMatch(/\r\nconnection: close\r\n/i)
  })

  it('a well-formed POST is still served', async () => {
    const reply = await raw(post('Connection: close\r\n'))
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).toContain('proxy_request')
  })
})
