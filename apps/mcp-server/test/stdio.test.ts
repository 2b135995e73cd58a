import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openLedger } from '@aegis/ledger'
import { createVault } from '@aegis/vault'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'

const BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
if (!existsSync(BIN))
  throw new Error('apps/mcp-server is not built: run turbo build --filter=@aegis/mcp-server... first')

const MASTER_KEY = 'mcp-server-test-key-5c1d0e9a8b7f6e5d4c3b2a1908f7e6d5'
const SECRET = 'xoxb-stdio-secret-91ac'

let dir: string
let upstream: TestUpstream
let agentToken: string
let soloToken: string
let configFile: string

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'aegis-mcp-server-')))
  upstream = await startUpstream()
  const dataDir = join(dir, 'data')
  const vault = createVault({ dataDir, name: 'default', masterKey: MASTER_KEY })
  vault.add({ name: 'slack-bot', service: 'slack', secret: SECRET, domains: ['api.example.test'] })
  vault.add({ name: 'other-bot', service: 'other', secret: 'other-secret', domains: ['other.test'] })
  agentToken = vault.addAgent({ name: 'desktop' }).token
  vault.grant('desktop', 'slack-bot')
  // One call in flight at a time: an abandoned call must give its slot back at once.
  soloToken = vault.addAgent({ name: 'solo', maxInFlight: 1 }).token
  vault.grant('solo', 'slack-bot')
  vault.close()
  writeFileSync(join(dir, 'ca.pem'), testPki().caCert)
  configFile = join(dir, 'aegis.config.yaml')
  writeFileSync(
    configFile,
    [
      'vault:',
      '  data_dir: ./data',
      'gate:',
      '  require_agent_auth: true',
      '  upstream:',
      '    ca_file: ./ca.pem',
      '    resolve:',
      `      - api.example.test:443:127.0.0.1:${upstream.port}`,
      `      - other.test:443:127.0.0.1:${upstream.port}`,
      'observability:',
      '  log_level: info',
      '',
    ].join('\n'),
  )
})
afterAll(async () => {
  await upstream.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs the built server as an MCP host would: its own cwd, only the variables the host config sets. */
async function connect(env: Record<string, string>): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env },
    stderr: 'pipe',
  })
  let stderr = ''
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8')
  })
  const client = new Client({ name: 'stdio-test-host', version: '1.0.0' })
  await client.connect(transport)
  return { client, stderr: () => stderr }
}

describe('aegis-mcp-server over stdio', () => {
  it('makes a real proxied call as the AEGIS_AGENT_TOKEN agent, logging only to stderr', async () => {
    const { client, stderr } = await connect({
      AEGIS_CONFIG: configFile,
      AEGIS_MASTER_KEY: MASTER_KEY,
      AEGIS_AGENT_TOKEN: agentToken,
    })
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([
      'aegis_health',
      'aegis_list_services',
      'aegis_proxy_request',
    ])

    const result = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/api/auth.test?probe=1' },
    })) as CallToolResult
    expect(result.isError).toBeFalsy()
    expect(result.structuredContent).toMatchObject({ status: 200 })
    const got = upstream.received.at(-1)
    expect(got?.url).toBe('/api/auth.test?probe=1')
    expect(got?.headers.authorization).toBe(`Bearer ${SECRET}`)

    const listed = (await client.callTool({ name: 'aegis_list_services', arguments: {} })) as CallToolResult
    expect(listed.structuredContent).toEqual({
      services: [{ name: 'slack-bot', service: 'slack', domains: ['api.example.test'], scopes: ['*'] }],
    })
    const refused = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'other', path: '/x' },
    })) as CallToolResult
    expect(refused.isError).toBe(true)
    expect(JSON.parse((refused.content[0] as { text: string }).text)).toMatchObject({ code: 'grant_denied' })

    await client.close()
    expect(stderr()).toContain('Aegis MCP server on stdio')
    for (const secret of [SECRET, MASTER_KEY, agentToken]) expect(stderr()).not.toContain(secret)

    const ledger = openLedger({ file: join(dir, 'data', 'ledger.db') })
    const entries = ledger.query({ limit: 50 })
    expect(entries.find((e) => e.path === '/api/auth.test')).toMatchObject({
      channel: 'mcp',
      agent: 'desktop',
      decision: 'allowed',
      status: 200,
    })
    expect(entries.find((e) => e.service === 'other')).toMatchObject({ channel: 'mcp', code: 'grant_denied' })
    const events = ledger.query({ system: true, limit: 10 }).map((e) => e.event)
    expect(events.slice(0, 2)).toEqual(['mcp_stop', 'mcp_start'])
    await ledger.close()
  })

  it("refuses tool calls when agent auth is required and the server has no token: a token in the call's headers is a second identity, refused as the gate refuses two tokens", async () => {
    const { client } = await connect({ AEGIS_CONFIG: configFile, AEGIS_MASTER_KEY: MASTER_KEY })
    const result = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/x', headers: { 'X-Aegis-Agent': agentToken } },
    })) as CallToolResult
    expect(result.isError).toBe(true)
    expect(JSON.parse((result.content[0] as { text: string }).text)).toMatchObject({
      code: 'agent_auth_invalid',
    })
    await client.close()
  })
})

describe('aegis-mcp-server abandons the calls its client gives up', () => {
  const env = () => ({ AEGIS_CONFIG: configFile, AEGIS_MASTER_KEY: MASTER_KEY, AEGIS_AGENT_TOKEN: soloToken })
  const callSlow = (client: Client, path: string, signal?: AbortSignal) =>
    client.callTool(
      { name: 'aegis_proxy_request', arguments: { service: 'slack', path } },
      undefined,
      signal === undefined ? undefined : { signal },
    ) as Promise<CallToolResult>

  async function rowsOf(path: string) {
    const ledger = openLedger({ file: join(dir, 'data', 'ledger.db') })
    try {
      return ledger.query({ limit: 200 }).filter((e) => e.path === path)
    } finally {
      await ledger.close()
    }
  }

  it('a call cancelled (notifications/cancelled) while the upstream holds its answer: upstream request aborted, slot free at once, row failed/client_closed', async () => {
    const { client } = await connect(env())
    const path = '/slow/20003'
    const cancel = new AbortController()
    const pending = callSlow(client, path, cancel.signal)
    await vi.waitFor(() => expect(upstream.received.map((r) => r.url)).toContain(path))
    cancel.abort()
    await expect(pending).rejects.toThrow()
    await vi.waitFor(() => expect(upstream.cutOff).toContain(path), { timeout: 3000 })
    const started = Date.now()
    expect((await callSlow(client, '/api/after-cancel')).structuredContent).toMatchObject({ status: 200 })
    expect(Date.now() - started).toBeLessThan(2000)
    await client.close()
    expect(await rowsOf(path)).toEqual([
      expect.objectContaining({
        channel: 'mcp',
        agent: 'solo',
        decision: 'failed',
        code: 'client_closed',
        status: null,
      }),
    ])
  })

  it('a client that exits with a call running: the server abandons it and exits on its own', async () => {
    const { client } = await connect(env())
    const path = '/slow/20004'
    const pending = callSlow(client, path)
    pending.catch(() => undefined)
    await vi.waitFor(() => expect(upstream.received.map((r) => r.url)).toContain(path))
    // The SDK client closes the server's stdin, then waits 2 s before a SIGTERM.
    const started = Date.now()
    await client.close()
    expect(Date.now() - started).toBeLessThan(2000)
    await vi.waitFor(() => expect(upstream.cutOff).toContain(path), { timeout: 3000 })
    expect(await rowsOf(path)).toEqual([
      expect.objectContaining({ decision: 'failed', code: 'client_closed', status: null }),
    ])
  })
})

describe('aegis-mcp-server startup errors', () => {
  const run = (env: Record<string, string>, args: string[] = []) =>
    spawnSync(process.execPath, [BIN, ...args], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env },
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    })

  it('exits 1 with a clear line when the master key is missing', () => {
    const r = run({ AEGIS_CONFIG: configFile })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/AEGIS_MASTER_KEY is not set/)
    expect(r.stdout).toBe('')
  })

  it('exits 1 with "Invalid master key" for a wrong key, and leaves stdout empty', () => {
    const r = run({ AEGIS_CONFIG: configFile, AEGIS_MASTER_KEY: 'wrong-key-wrong-key-wrong-key-wrong' })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('Invalid master key')
    expect(r.stderr).not.toContain('wrong-key')
    expect(r.stdout).toBe('')
  })

  it('refuses a placeholder agent token left from `aegis mcp config`', () => {
    const r = run({
      AEGIS_CONFIG: configFile,
      AEGIS_MASTER_KEY: MASTER_KEY,
      AEGIS_AGENT_TOKEN: '<paste agent token>',
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('AEGIS_AGENT_TOKEN still holds a placeholder')
  })

  it('refuses any AEGIS_* variable still holding a placeholder (a Redis URL, a user token), naming it', () => {
    for (const variable of ['AEGIS_REDIS_URL', 'AEGIS_USER_TOKEN']) {
      const r = run({
        AEGIS_CONFIG: configFile,
        AEGIS_MASTER_KEY: MASTER_KEY,
        [variable]: `<paste ${variable}>`,
      })
      expect(r.status).toBe(1)
      expect(r.stderr).toContain(`${variable} still holds a placeholder`)
      expect(r.stdout).toBe('')
    }
  })

  it('exits 2 on an unknown option and never takes secrets from argv', () => {
    const r = run({ AEGIS_CONFIG: configFile }, ['--master-key', 'x'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('Usage: aegis-mcp-server')
  })

  it('prints its version', () => {
    const r = run({}, ['--version'])
    expect(r.status).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  /**
   * Starts the server over HTTP (node `nodeArgs` first); `onStderr` hears everything printed so far
   * at each chunk (the "listening" line goes to stderr).
   */
  function serveHttp(nodeArgs: string[], onStderr: (all: string, child: ChildProcess) => void) {
    const child = spawn(process.execPath, [...nodeArgs, BIN, '--transport', 'http', '--port', '0'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        AEGIS_CONFIG: configFile,
        AEGIS_MASTER_KEY: MASTER_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d
      onStderr(err, child)
    })
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    return { child, exited, stderr: () => err }
  }

  it('over HTTP, a SIGTERM the instant it says it is listening still ends in a clean stop and an mcp_stop row', async () => {
    const server = serveHttp([], (all, child) => {
      if (all.includes('listening on') && !child.killed) child.kill('SIGTERM')
    })
    const [code, signal] = await server.exited
    expect({ code, signal }, server.stderr()).toEqual({ code: 0, signal: null })
    const ledger = openLedger({ file: join(dir, 'data', 'ledger.db') })
    const events = ledger.query({ system: true, limit: 10 }).map((e) => e.event)
    expect(events.slice(0, 2)).toEqual(['mcp_stop', 'mcp_start'])
    await ledger.close()
  })

  it("SIGUSR1 (any process of the user can send it) never opens Node's inspector, where the master key is", async () => {
    // --inspect-port=0: an inspector that opens says so on stderr, on a free port.
    let listening: () => void = () => undefined
    const up = new Promise<void>((resolve) => {
      listening = resolve
    })
    const server = serveHttp(['--inspect-port=0'], (all) => {
      if (all.includes('listening on')) listening()
    })
    await up
    server.child.kill('SIGUSR1')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(server.child.exitCode, server.stderr()).toBeNull()
    server.child.kill('SIGTERM')
    const [code, signal] = await server.exited
    expect({ code, signal }, server.stderr()).toEqual({ code: 0, signal: null })
    expect(server.stderr()).not.toMatch(/Debugger listening|inspector/i)
  })
})
