import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import {
  addCredential,
  BIN,
  initProject,
  type Project,
  parseJson,
  removeDir,
  runCli,
  tempDir,
} from './helpers/run-cli.js'

const SECRET = 'xoxb-cli-mcp-secret-3e8d'

let project: Project
let upstream: TestUpstream
let token: string
let caFile: string
beforeAll(async () => {
  project = await initProject()
  upstream = await startUpstream()
  caFile = join(project.dir, 'ca.pem')
  writeFileSync(caFile, testPki().caCert)
  await addCredential(
    project,
    ['--name', 'slack-bot', '--service', 'slack', '--domains', 'api.example.test'],
    SECRET,
  )
  const added = await project.run(['agent', 'add', '--name', 'desktop', '--json'])
  if (added.code !== 0) throw new Error(added.stderr)
  token = parseJson<{ token: string }>(added).token
  const granted = await project.run(['agent', 'grant', '--agent', 'desktop', '--credential', 'slack-bot'])
  if (granted.code !== 0) throw new Error(granted.stderr)
})
afterAll(async () => {
  await upstream.close()
  removeDir(project.dir)
})

describe('aegis mcp config', () => {
  for (const host of ['claude', 'cursor', 'vscode'] as const) {
    for (const json of [false, true]) {
      it(`${host}${json ? ' --json' : ''}: one JSON document, with the config path and no secret`, async () => {
        const result = await project.run(['mcp', 'config', host, ...(json ? ['--json'] : [])], {
          env: { AEGIS_AGENT_TOKEN: token },
        })
        expect(result.code, result.stderr).toBe(0)
        const doc =
          parseJson<
            Record<
              string,
              Record<string, { command: string; args: string[]; env: Record<string, string>; type?: string }>
            >
          >(result)
        const server = host === 'vscode' ? doc.servers?.aegis : doc.mcpServers?.aegis
        // Not installed from a registry (a workspace checkout): the snippet starts this CLI by
        // absolute path, since `npx -y @aegis/mcp-server` would find no such package.
        expect(server?.command).toBe(process.execPath)
        expect(server?.args).toEqual([BIN, 'mcp', 'serve'])
        expect(server?.env.AEGIS_CONFIG).toBe(join(project.dir, 'aegis.config.yaml'))
        if (host === 'vscode') {
          expect(server?.type).toBe('stdio')
          expect(server?.env.AEGIS_MASTER_KEY).toBe(`\${input:aegis-master-key}`)
          expect(server?.env.AEGIS_AGENT_TOKEN).toBe(`\${input:aegis-agent-token}`)
          expect(doc.inputs).toEqual(
            expect.arrayContaining([expect.objectContaining({ id: 'aegis-agent-token', password: true })]),
          )
        } else {
          expect(server?.env.AEGIS_MASTER_KEY).toMatch(/^<.*>$/)
          expect(server?.env.AEGIS_AGENT_TOKEN).toMatch(/^<.*>$/)
        }
        for (const secret of [project.key, token]) {
          expect(result.stdout).not.toContain(secret)
          expect(result.stderr).not.toContain(secret)
        }
        expect(result.stderr).toMatch(/AEGIS_AGENT_TOKEN|agent token/)
      })
    }
  }

  it('leaves the master key out when the config file holds it, and never prints that key', async () => {
    const dir = tempDir()
    try {
      const init = await runCli(['init', '--write-secrets', '--json'], { cwd: dir })
      expect(init.code, init.stderr).toBe(0)
      const key = readFileSync(join(dir, 'aegis.config.yaml'), 'utf8').match(/master_key:\s*"?([^"\s]+)/)?.[1]
      expect(key).toBeTruthy()
      for (const host of ['claude', 'vscode']) {
        const result = await runCli(['mcp', 'config', host], { cwd: dir })
        expect(result.code, result.stderr).toBe(0)
        const text = JSON.stringify(parseJson(result))
        expect(text).not.toContain('AEGIS_MASTER_KEY')
        expect(`${result.stdout}${result.stderr}`).not.toContain(key)
        expect(result.stderr).toContain('vault.master_key')
      }
    } finally {
      removeDir(dir)
    }
  })

  it('refuses an unknown host with a usage error', async () => {
    const result = await project.run(['mcp', 'config', 'emacs'])
    expect(result.code).toBe(2)
  })
})

/**
 * Starts the server entry `mcp config` printed, as a host would: from another folder, with no shell
 * environment but the entry's own and the two secrets filled in.
 */
async function connectAsPrinted(server: { command: string; args: string[]; env: Record<string, string> }) {
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args,
    cwd: tempDir(),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: project.dir,
      ...server.env,
      AEGIS_MASTER_KEY: project.key,
      AEGIS_AGENT_TOKEN: token,
    },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'config-check', version: '0' })
  await client.connect(transport)
  return client
}

describe('aegis mcp config: the printed command starts a server', () => {
  it('answers MCP initialize when launched exactly as printed, with the printed env', async () => {
    const result = await project.run(['mcp', 'config', 'cursor'])
    expect(result.code, result.stderr).toBe(0)
    const server = parseJson<{
      mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }>
    }>(result).mcpServers.aegis
    if (!server) throw new Error('no aegis entry')
    const client = await connectAsPrinted(server)
    try {
      expect(client.getServerVersion()?.name).toBeTruthy()
    } finally {
      await client.close()
    }
  })
  it('carries what overrode the config in this shell (policies folder, policy mode, vault), so the server enforces the same', async () => {
    const policies = join(project.dir, 'shell-policies')
    mkdirSync(policies, { recursive: true })
    writeFileSync(
      join(policies, 'desktop.yaml'),
      'agent: desktop\nrules:\n  - service: slack\n    methods: [GET]\n    paths: [/only-this]\n',
    )
    // Relative, as typed in the shell: the host starts the server in another folder.
    const shell = {
      AEGIS_POLICIES_DIR: 'shell-policies',
      AEGIS_POLICY_MODE: 'enforce',
      AEGIS_VAULT: 'default',
    }
    const result = await project.run(['mcp', 'config', 'cursor'], { env: shell })
    expect(result.code, result.stderr).toBe(0)
    const server = parseJson<{
      mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }>
    }>(result).mcpServers.aegis
    if (!server) throw new Error('no aegis entry')
    expect(server.env).toMatchObject({
      AEGIS_POLICIES_DIR: policies,
      AEGIS_POLICY_MODE: 'enforce',
      AEGIS_VAULT: 'default',
    })
    expect(result.stderr).toContain('AEGIS_POLICIES_DIR')
    const before = upstream.received.length
    const client = await connectAsPrinted(server)
    try {
      const call = (await client.callTool({
        name: 'aegis_proxy_request',
        arguments: { service: 'slack', path: '/api/chat.postMessage', method: 'POST' },
      })) as CallToolResult
      expect(call.isError).toBe(true)
      expect(JSON.stringify(call.content)).toContain('policy_denied')
    } finally {
      await client.close()
    }
    expect(upstream.received.length).toBe(before)
  })

  it('a secret override (a Redis URL with its password) is a placeholder, or a VS Code input, never its value', async () => {
    const url = 'redis://:hunter2-redis-pass@127.0.0.1:6399'
    for (const host of ['claude', 'vscode'] as const) {
      const result = await project.run(['mcp', 'config', host], { env: { AEGIS_REDIS_URL: url } })
      expect(result.code, result.stderr).toBe(0)
      expect(`${result.stdout}${result.stderr}`).not.toContain('hunter2-redis-pass')
      const doc = parseJson<{
        inputs?: Array<{ id: string; password: boolean }>
        servers?: Record<string, { env: Record<string, string> }>
        mcpServers?: Record<string, { env: Record<string, string> }>
      }>(result)
      if (host === 'vscode') {
        expect(doc.servers?.aegis?.env.AEGIS_REDIS_URL).toBe(`\${input:aegis-redis-url}`)
        expect(doc.inputs).toContainEqual(expect.objectContaining({ id: 'aegis-redis-url', password: true }))
      } else {
        expect(doc.mcpServers?.aegis?.env.AEGIS_REDIS_URL).toBe('<paste AEGIS_REDIS_URL>')
        expect(result.stderr).toContain('AEGIS_REDIS_URL')
      }
    }
  })
})

describe('aegis mcp serve', () => {
  it('serves stdio with --upstream-ca/--resolve and AEGIS_AGENT_TOKEN, stdout carrying only the protocol', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        BIN,
        'mcp',
        'serve',
        '--upstream-ca',
        caFile,
        '--resolve',
        `api.example.test:443:127.0.0.1:${upstream.port}`,
      ],
      cwd: project.dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: project.dir,
        AEGIS_MASTER_KEY: project.key,
        AEGIS_AGENT_TOKEN: token,
        AEGIS_REQUIRE_AGENT_AUTH: 'true',
      },
      stderr: 'pipe',
    })
    let stderr = ''
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8')
    })
    const client = new Client({ name: 'cli-test-host', version: '1.0.0' })
    await client.connect(transport)
    const result = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/api/auth.test' },
    })) as CallToolResult
    expect(result.isError, JSON.stringify(result)).toBeFalsy()
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)
    await client.close()
    for (const secret of [SECRET, project.key, token]) expect(stderr).not.toContain(secret)

    const ledger = await project.run(['ledger', 'show', '--json'])
    const entries = parseJson<Array<{ channel: string; agent: string | null; path: string }>>(ledger)
    expect(entries.find((e) => e.path === '/api/auth.test')).toMatchObject({
      channel: 'mcp',
      agent: 'desktop',
    })
  })

  it('log_format pretty: a path the agent chose forges no field and no terminal control', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'serve'],
      cwd: project.dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: project.dir,
        AEGIS_MASTER_KEY: project.key,
        AEGIS_AGENT_TOKEN: token,
        AEGIS_LOG_FORMAT: 'pretty',
      },
      stderr: 'pipe',
    })
    let stderr = ''
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8')
    })
    const client = new Client({ name: 'cli-test-host', version: '1.0.0' })
    await client.connect(transport)
    const result = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/x status=200 code=ok msg="allowed"\u200f' },
    })) as CallToolResult
    expect(result.isError).toBe(true)
    await client.close()
    const line = stderr.split('\n').find((l) => l.includes(' request refused ')) ?? ''
    expect(line).toContain(' path="/slack/x status=200 code=ok msg=\\"allowed\\"\\\\u200f" ')
    expect(line).toMatch(/ status=400 code=bad_request$/)
    // Outside the quoted path, the line names one status and one code: the gate's.
    const outside = line.replace(/ path="(?:[^"\\]|\\.)*"/, '')
    expect(outside.match(/ (status|code)=/g)).toEqual([' status=', ' code='])
    expect(stderr).not.toContain('\u200f')
    expect(stderr).not.toContain('\u001b')
  })

  it('refuses to start while a "<paste …>" placeholder from mcp config is left, naming the variable', async () => {
    for (const [variable, value] of [
      ['AEGIS_AGENT_TOKEN', '<paste agent token>'],
      ['AEGIS_USER_TOKEN', '<paste user token>'],
      ['AEGIS_REDIS_URL', '<paste AEGIS_REDIS_URL>'],
    ] as const) {
      const r = await project.run(['mcp', 'serve'], { env: { AEGIS_AGENT_TOKEN: token, [variable]: value } })
      expect([r.code, r.stdout], r.stderr).toEqual([1, ''])
      expect(r.stderr).toContain(`Error: ${variable} still holds a placeholder`)
    }
  })

  it('a port in use is one line naming the way out (--port, mcp.port), exit 1', async () => {
    const busy = createServer()
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
    const { port } = busy.address() as { port: number }
    try {
      const r = await project.run(['mcp', 'serve', '--transport', 'http', '--port', String(port)])
      expect([r.code, r.stdout]).toEqual([1, ''])
      expect(r.stderr).toContain(
        `Error: Port ${port} is already in use: stop the process that holds it, or choose another port with --port (mcp.port in the config)\n`,
      )
    } finally {
      busy.close()
    }
  })

  it('serves streamable HTTP, prints the endpoint, and stops cleanly on SIGTERM', async () => {
    const redis = process.env.AEGIS_REDIS_URL
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, 'mcp', 'serve', '--transport', 'http', '--port', '0'],
      {
        cwd: project.dir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: project.dir,
          AEGIS_MASTER_KEY: project.key,
          // With a Redis, it says where its budgets live, as aegis gate does.
          ...(redis === undefined ? {} : { AEGIS_REDIS_URL: redis }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mcp serve did not start:\n${out}`)), 15_000)
      child.stdout?.on('data', () => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(out)
        if (match?.[1]) {
          clearTimeout(timer)
          resolve(match[1])
        }
      })
      child.once('exit', (code) => reject(new Error(`mcp serve exited ${code}:\n${out}`)))
    })
    const unauthenticated = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    })
    expect(unauthenticated.status).toBe(401)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(out).toContain('stopped')
    if (redis !== undefined)
      expect(out).toMatch(/Rate limits shared through Redis at redis:\/\/127\.0\.0\.1:\d+ \(prefix/)
  })
})
