import { PassThrough } from 'node:stream'
import { createGate, type Gate, pipelineOptionsFromConfig } from '@aegis/proxy'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../../proxy/test/fixtures/client.js'
import { type McpConfig, type RunningMcp, startMcp } from '../src/index.js'
import { streamClient } from './fixtures/stream-client.js'
import { call, mcpConfig, problemOf, silentLogger, startWorld, type World } from './fixtures/world.js'

/**
 * One header limit, `gate.max_header_size`: the HTTP gate's parser answers 431 past it, and an MCP
 * tool call whose headers are over it is refused the same way (`headers_too_large`, 431), over
 * stdio and streamable HTTP alike. A limit raised in the configuration is honoured by both.
 */
let w: World
let token: string
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-header-limit-1' })
  token = w.vault.addAgent({ name: 'limits' }).token
  w.vault.grant('limits', 'slack-bot')
})
afterAll(() => w.close())

function configWith(maxHeaderSize: number | undefined): McpConfig {
  return mcpConfig(w, maxHeaderSize === undefined ? {} : { max_header_size: maxHeaderSize })
}

/** The HTTP gate and both MCP transports, all started from one configuration. */
async function channels(config: McpConfig) {
  const deps = { credentials: w.vault, audit: w.ledger, logger: silentLogger() }
  const gate: Gate = createGate({ ...pipelineOptionsFromConfig(config, deps), port: 0 })
  const { port } = await gate.listen()
  const base = { config, vault: w.vault, ledger: w.ledger, logger: silentLogger(), agentToken: token }
  const input = new PassThrough()
  const output = new PassThrough()
  const stdio: RunningMcp = await startMcp({ ...base, stdio: { input, output } })
  const stdioClient = new Client({ name: 'stdio-agent', version: '1' })
  await stdioClient.connect(streamClient(input, output))
  const http = await startMcp({ ...base, transport: 'http', port: 0 })
  const httpClient = new Client({ name: 'http-agent', version: '1' })
  await httpClient.connect(
    new StreamableHTTPClientTransport(new URL(http.url ?? ''), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  )
  return {
    gate: (headers: Record<string, string>) =>
      send(port, '/slack/h', { headers: { ...headers, 'X-Aegis-Agent': token } }),
    mcp: { stdio: stdioClient, http: httpClient },
    close: async () => {
      await stdioClient.close()
      await httpClient.close()
      await stdio.close()
      await http.close()
      await gate.close()
    },
  }
}

const big = (bytes: number) => ({ 'x-big': 'a'.repeat(bytes) })

describe.each([
  // [configured limit, a header block just over it, one under it]
  ['lowered to 4096', 4096, 4200, 2000],
  ['raised to 65536', 65_536, 66_000, 30_000],
])('gate.max_header_size %s', (_name, limit, over, under) => {
  let ch: Awaited<ReturnType<typeof channels>>
  beforeAll(async () => {
    ch = await channels(configWith(limit))
  })
  afterAll(() => ch.close())

  it('the HTTP gate answers 431 over the limit and forwards under it', async () => {
    const before = w.upstream.received.length
    expect((await ch.gate(big(over))).status).toBe(431)
    expect(w.upstream.received.length).toBe(before)
    expect((await ch.gate(big(under))).status).toBe(200)
  })

  it.each(['stdio', 'http'] as const)(
    'MCP over %s refuses over the limit and forwards under it',
    async (t) => {
      const client = ch.mcp[t]
      const before = w.upstream.received.length
      const refused = problemOf(
        await call(client, 'aegis_proxy_request', { service: 'slack', path: '/h', headers: big(over) }),
      )
      expect(refused).toMatchObject({ code: 'headers_too_large', status: 431 })
      expect(String(refused.detail)).toContain(`limit of ${limit}`)
      expect(w.upstream.received.length).toBe(before)
      const ok = (await call(client, 'aegis_proxy_request', {
        service: 'slack',
        path: '/h',
        headers: big(under),
      })) as CallToolResult
      expect(ok.isError, JSON.stringify(ok.content)).toBeFalsy()
      expect(ok.structuredContent).toMatchObject({ status: 200 })
      expect(w.upstream.received.at(-1)?.headers['x-big']).toHaveLength(under)
    },
  )
})

it('without the key, both channels keep the gate default (16384)', async () => {
  const ch = await channels(configWith(undefined))
  try {
    expect((await ch.gate(big(20_000))).status).toBe(431)
    const refused = problemOf(
      await call(ch.mcp.stdio, 'aegis_proxy_request', { service: 'slack', path: '/h', headers: big(20_000) }),
    )
    expect(refused).toMatchObject({ code: 'headers_too_large', status: 431 })
    expect(String(refused.detail)).toContain('limit of 16384')
  } finally {
    await ch.close()
  }
})
