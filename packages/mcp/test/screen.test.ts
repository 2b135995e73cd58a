import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpHttpServer, createMcpServer, type McpHttpServer } from '../src/index.js'
import { postMcp, type RawReply } from './fixtures/raw-post.js'
import { silentLogger, startWorld, type World } from './fixtures/world.js'

// What an agent sends as a tool's name, or in place of its arguments, may be a secret it was told
// to exfiltrate: the answer must not carry it back, nor must the ledger keep it.
const LEAK = 'sk-live-SCREENED-NAME-7f3a91'
const UNKNOWN_TOOL = 'Unknown tool: the tools are aegis_proxy_request, aegis_list_services, aegis_health'
const ARGUMENTS_EXPECTED =
  'Invalid params: tools/call "arguments" must be an object of the tool\'s arguments by name, as its inputSchema in tools/list says'

let w: World
let client: Client
let http: McpHttpServer
let port: number
let alice: string
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-screen-secret-1' })
  alice = w.vault.addAgent({ name: 'alice' }).token
  w.vault.grant('alice', 'slack-bot')
  w.pipeline.refresh()
  client = await w.connect()
  http = createMcpHttpServer({ engine: w.pipeline.engine, logger: silentLogger(), port: 0 })
  ;({ port } = await http.listen())
})
afterAll(async () => {
  await http.close()
  await w.close()
})

/** A server on the world's pipeline and the raw JSON-RPC messages it answers. */
async function rawSession() {
  const server = createMcpServer({ engine: w.pipeline.engine, agentToken: null })
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  const received: JSONRPCMessage[] = []
  clientSide.onmessage = (m) => received.push(m)
  await server.connect(serverSide)
  await clientSide.start()
  return {
    received,
    send: (message: unknown) => clientSide.send(message as JSONRPCMessage),
    async answer(id: number): Promise<Record<string, unknown>> {
      for (let i = 0; i < 100; i++) {
        const found = received.find((m) => 'id' in m && m.id === id)
        if (found) return found as unknown as Record<string, unknown>
        await new Promise((r) => setTimeout(r, 20))
      }
      throw new Error(`no answer to ${id}`)
    },
    close: () => server.close(),
  }
}

function post(body: unknown): Promise<RawReply> {
  return postMcp(port, JSON.stringify(body), { authorization: `Bearer ${alice}` })
}

async function ledgerText(): Promise<string> {
  await w.ledger.flush()
  return JSON.stringify(w.ledger.query({ limit: 10_000 }))
}

describe('tools/call naming a tool the server does not have', () => {
  for (const name of [LEAK, 'constructor', '__proto__', 'toString', 'hasOwnProperty', '']) {
    it(`${JSON.stringify(name)}: -32602 Unknown tool, naming the server's tools, never the name sent`, async () => {
      const error = await client.callTool({ name, arguments: {} }).then(
        () => null,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(McpError)
      expect((error as McpError).code).toBe(-32602)
      expect((error as McpError).message).toBe(`MCP error -32602: ${UNKNOWN_TOOL}`)
    })
  }

  it('the name sent is in no answer (in memory, over HTTP) and no ledger row', async () => {
    const session = await rawSession()
    await session.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: LEAK, arguments: {} } })
    const answer = await session.answer(1)
    expect(answer).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: UNKNOWN_TOOL } })
    await session.close()

    const reply = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: LEAK } })
    expect(JSON.parse(reply.body)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: { code: -32602, message: UNKNOWN_TOOL },
    })
    expect(await ledgerText()).not.toContain(LEAK)
  })

  it('a name that is not a string is an unknown tool too', async () => {
    const session = await rawSession()
    await session.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: { toString: 1 } } })
    expect(await session.answer(1)).toMatchObject({ error: { code: -32602 } })
    expect(JSON.stringify(await session.answer(1))).not.toContain('toString')
    await session.close()
  })
})

describe('tools/call with arguments that are not an object', () => {
  for (const args of [[1], [], LEAK, 5, null, true]) {
    it(`${JSON.stringify(args)}: one -32602 saying an object is expected, nothing forwarded`, async () => {
      const forwarded = w.upstream.received.length
      const session = await rawSession()
      for (const [id, tool] of [
        [1, 'aegis_proxy_request'],
        [2, 'aegis_health'],
        [3, 'aegis_list_services'],
      ] as const) {
        await session.send({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: tool, arguments: args },
        })
        expect(await session.answer(id)).toEqual({
          jsonrpc: '2.0',
          id,
          error: { code: -32602, message: ARGUMENTS_EXPECTED },
        })
      }
      await session.close()
      expect(w.upstream.received.length).toBe(forwarded)
      const reply = await post({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'aegis_proxy_request', arguments: args },
      })
      expect(JSON.parse(reply.body)).toEqual({
        jsonrpc: '2.0',
        id: 9,
        error: { code: -32602, message: ARGUMENTS_EXPECTED },
      })
      expect(await ledgerText()).not.toContain(LEAK)
    })
  }
})

describe('params MCP does not define for a method', () => {
  it('are one -32602 sentence naming the method, not the validator’s dump of what was sent', async () => {
    const session = await rawSession()
    await session.send({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { cursor: { [LEAK]: 1 } } })
    expect(await session.answer(1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32602, message: 'Invalid params: not the params tools/list takes' },
    })
    await session.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { arguments: {} } })
    expect(await session.answer(2)).toMatchObject({
      error: {
        code: -32602,
        message: 'Invalid params: tools/call "name" must be the name of a tool, as tools/list lists them',
      },
    })
    // An unknown method is answered by JSON-RPC's own words, without the method.
    await session.send({ jsonrpc: '2.0', id: 3, method: LEAK })
    expect(await session.answer(3)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32601, message: 'Method not found' },
    })
    await session.close()
  })
})

describe('one connection', () => {
  it('is initialized once: a second initialize is -32600, the first session stands', async () => {
    const session = await rawSession()
    const init = (id: number, name: string) => ({
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name, version: '1' } },
    })
    await session.send(init(1, 'first'))
    expect(await session.answer(1)).toMatchObject({ result: { serverInfo: { name: 'aegis' } } })
    await session.send(init(2, LEAK))
    expect(await session.answer(2)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: { code: -32600, message: 'Invalid Request: this connection is already initialized' },
    })
    await session.send({ jsonrpc: '2.0', id: 3, method: 'ping' })
    expect(await session.answer(3)).toMatchObject({ result: {} })
    await session.close()
  })

  it('runs one request per id at a time: a second one under a running id is -32600 and never runs', async () => {
    const session = await rawSession()
    const forwarded = w.upstream.received.length
    const slow = { service: 'slack', path: '/slow/300' }
    await session.send({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'aegis_proxy_request', arguments: slow },
    })
    await session.send({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'aegis_proxy_request', arguments: { service: 'slack', path: '/dup-second' } },
    })
    const first = await session.answer(7)
    expect(first).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32600,
        message: 'Invalid Request: a request with this id is still being answered; use a new id',
      },
    })
    for (let i = 0; i < 100 && session.received.length < 2; i++) await new Promise((r) => setTimeout(r, 20))
    expect(session.received.filter((m) => 'id' in m && m.id === 7)).toHaveLength(2)
    expect(w.upstream.received.slice(forwarded).map((r) => r.url)).toEqual(['/slow/300'])
    // Answered: the id may be used again.
    await session.send({ jsonrpc: '2.0', id: 7, method: 'ping' })
    for (let i = 0; i < 100 && session.received.length < 3; i++) await new Promise((r) => setTimeout(r, 20))
    expect(session.received.at(-1)).toEqual({ jsonrpc: '2.0', id: 7, result: {} })
    await session.close()
  })
})
