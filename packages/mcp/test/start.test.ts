import { PassThrough } from 'node:stream'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type McpConfig, McpStartError, startMcp } from '../src/index.js'
import { streamClient } from './fixtures/stream-client.js'
import { mcpConfig, silentLogger, startWorld, type World } from './fixtures/world.js'

let w: World
let config: McpConfig
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-start-1' })
  config = mcpConfig(w)
})
afterAll(() => w.close())

describe('startMcp', () => {
  it('serves stdio with the configured upstream settings and stops when the input ends', async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    const running = await startMcp({
      config,
      vault: w.vault,
      ledger: w.ledger,
      logger: silentLogger(),
      agentToken: null,
      stdio: { input, output },
    })
    expect(running).toMatchObject({ transport: 'stdio', url: null })
    const client = new Client({ name: 'stdio-agent', version: '1' })
    await client.connect(streamClient(input, output))
    const result = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/via-start' },
    })) as CallToolResult
    expect(result.structuredContent).toMatchObject({ status: 200 })
    expect(w.upstream.received.at(-1)?.headers.authorization).toBe('Bearer xoxb-start-1')
    await client.close()
    await running.done
    await running.close()
    await w.ledger.flush()
    const events = w.ledger.query({ system: true, limit: 10 }).map((e) => e.event)
    expect(events.slice(0, 2)).toEqual(['mcp_stop', 'mcp_start'])
  })

  it('answers what was piped in before the input ended; a call still running past the grace is abandoned', async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    let written = ''
    output.on('data', (chunk: Buffer) => {
      written += chunk.toString()
    })
    const running = await startMcp({
      config,
      vault: w.vault,
      ledger: w.ledger,
      logger: silentLogger(),
      agentToken: null,
      stdio: { input, output },
    })
    const call = (id: number, path: string) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'aegis_proxy_request', arguments: { service: 'slack', path } },
    })
    // As a shell pipe sends them (`printf … | aegis-mcp-server`): everything, then the end.
    for (const message of [
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'pipe', version: '1' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      call(1, '/slow/150'),
      call(2, '/slow/20005'),
    ])
      input.write(`${JSON.stringify(message)}\n`)
    input.end()
    await running.done
    await running.close()
    const answers = written
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { id?: number; result?: { structuredContent?: { status?: number } } },
      )
    // The quick call finished inside the grace and was answered; the held one was given up.
    expect(answers.find((m) => m.id === 1)?.result?.structuredContent).toMatchObject({ status: 200 })
    expect(answers.find((m) => m.id === 2)).toBeUndefined()
    await vi.waitFor(() => expect(w.upstream.cutOff).toContain('/slow/20005'))
    await w.ledger.flush()
    const rows = w.ledger.query({ limit: 20 })
    expect(rows.find((e) => e.path === '/slow/150')).toMatchObject({ decision: 'allowed', status: 200 })
    expect(rows.find((e) => e.path === '/slow/20005')).toMatchObject({
      decision: 'failed',
      code: 'client_closed',
      status: null,
    })
  })

  it('serves streamable HTTP when asked to', async () => {
    const token = w.vault.addAgent({ name: 'http-start' }).token
    w.vault.grant('http-start', 'slack-bot')
    const running = await startMcp({
      config,
      vault: w.vault,
      ledger: w.ledger,
      logger: silentLogger(),
      agentToken: null,
      transport: 'http',
      port: 0,
    })
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    const client = new Client({ name: 'http-agent', version: '1' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(running.url ?? ''), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    )
    const result = (await client.callTool({ name: 'aegis_health', arguments: {} })) as CallToolResult
    expect(result.structuredContent).toMatchObject({ status: 'ok', services: 1 })
    await client.close()
    await running.close()
  })

  it('names an unreadable CA file', async () => {
    const broken = {
      ...config,
      gate: { ...config.gate, upstream: { ...config.gate.upstream, ca_file: ['/nope/ca.pem'] } },
    }
    const start = startMcp({
      config: broken,
      vault: w.vault,
      ledger: w.ledger,
      logger: silentLogger(),
      agentToken: null,
    })
    await expect(start).rejects.toThrow(McpStartError)
    await expect(start).rejects.toThrow('Cannot read gate.upstream.ca_file /nope/ca.pem (ENOENT)')
  })
})
