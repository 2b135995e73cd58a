import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { BIN, listFiles, removeDir, runCli, tempDir } from './helpers/run-cli.js'
import { keyedWorkspace } from './helpers/shamir.js'

const SECRET = 'xoxb-quickstart-secret-7f3a'

interface RunningGate {
  child: ChildProcess
  port: number
  output: () => string
}

/** Starts `aegis gate` in the background and waits for its "listening on" line. */
async function startGate(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunningGate> {
  const child = spawn(process.execPath, [BIN, 'gate', '--port', '0', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gate did not start:\n${out}`)), 15_000)
    child.stdout?.on('data', () => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code) => reject(new Error(`gate exited ${code}:\n${out}`)))
  })
  return { child, port, output: () => out }
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

let upstream: TestUpstream
let caFile: string
let pkiDir: string
beforeAll(async () => {
  upstream = await startUpstream()
  pkiDir = tempDir()
  caFile = join(pkiDir, 'ca.pem')
  writeFileSync(caFile, testPki().caCert)
})
afterAll(async () => {
  await upstream.close()
  removeDir(pkiDir)
})

/** A data directory after the quick start's first two commands: init, and the Slack credential. */
async function quickStartDir(): Promise<string> {
  const dir = tempDir()
  await keyedWorkspace(dir, SECRET)
  return dir
}

describe('aegis gate (quick start)', () => {
  let dir: string
  let gate: RunningGate
  const resolveFlag = () => `api.example.test:443:127.0.0.1:${upstream.port}`

  beforeAll(async () => {
    dir = await quickStartDir()
    gate = await startGate(dir, ['--upstream-ca', caFile, '--resolve', resolveFlag()])
  })
  afterAll(() => {
    gate.child.kill('SIGKILL')
    removeDir(dir)
  })

  it('injects the credential for a plain request, as in the quick start', async () => {
    const reply = await get(gate.port, '/slack/api/auth.test', { 'X-Target-Host': 'api.example.test' })
    expect(reply.status).toBe(200)
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)
  })

  it('warns that agent authentication is off', () => {
    expect(gate.output()).toContain('Agent authentication is off')
  })

  it('serves a credential added by another process within a second', async () => {
    const added = await runCli(
      [
        'vault',
        'add',
        '--name',
        'gh',
        '--service',
        'github',
        '--secret',
        '-',
        '--domains',
        'api.example.test',
      ],
      { cwd: dir, input: 'ghp_second' },
    )
    expect(added.code, added.stderr).toBe(0)
    const started = Date.now()
    let status = 0
    while (Date.now() - started < 1500) {
      status = (await get(gate.port, '/github/user')).status
      if (status === 200) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(status).toBe(200)
    expect(Date.now() - started).toBeLessThan(1200)
    expect(upstream.received.at(-1)?.headers.authorization).toBe('Bearer ghp_second')
  })

  it('stops cleanly on SIGINT, pressed twice, and the ledger tells the story', async () => {
    await get(gate.port, '/nope/x')
    const exited = once(gate.child, 'exit')
    // Ctrl-C, then Ctrl-C again while the gate drains: the second one must not kill it half-way.
    gate.child.kill('SIGINT')
    await new Promise((r) => setTimeout(r, 5))
    gate.child.kill('SIGINT')
    const [code, signal] = await exited
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(gate.output()).not.toContain(SECRET)
    expect(gate.output()).not.toContain('ghp_second')

    const shown = await runCli(['ledger', 'show', '--json', '--limit', '100'], { cwd: dir })
    expect(shown.code, shown.stderr).toBe(0)
    const entries = JSON.parse(shown.stdout) as Array<Record<string, unknown>>
    expect(entries.filter((e) => e.decision === 'system').map((e) => e.event)).toEqual([
      'gate_stop',
      'gate_start',
    ])
    expect(entries.find((e) => e.service === 'slack')).toMatchObject({
      decision: 'allowed',
      status: 200,
      credential: 'slack-bot',
      targetHost: 'api.example.test',
      path: '/api/auth.test',
      channel: 'gate',
    })
    expect(entries.find((e) => e.code === 'service_not_found')).toMatchObject({
      decision: 'blocked',
      status: 404,
    })

    const stats = await runCli(['ledger', 'stats', '--json'], { cwd: dir })
    const blocked = entries.filter((e) => e.decision === 'blocked').length
    expect(blocked).toBeGreaterThanOrEqual(1)
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: entries.length - 2, blocked, system: 2 })

    const csv = await runCli(['ledger', 'export', '-f', 'csv'], { cwd: dir })
    expect(csv.code).toBe(0)
    expect(csv.stdout.split('\r\n')[0]).toContain('requestId')
    const jsonl = await runCli(['ledger', 'export', '-f', 'jsonl', '--service', 'slack'], { cwd: dir })
    const lines = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.every((l) => l.service === 'slack')).toBe(true)

    for (const file of listFiles(dir)) {
      const bytes = (await import('node:fs')).readFileSync(join(dir, file))
      if (file.endsWith('aegis.config.yaml')) continue
      expect(bytes.includes(Buffer.from(SECRET)), file).toBe(false)
    }
  })
})

describe('aegis gate request logging', () => {
  let dir: string
  const resolveFlag = () => `api.example.test:443:127.0.0.1:${upstream.port}`
  beforeAll(async () => {
    dir = await quickStartDir()
  })
  afterAll(() => removeDir(dir))

  it('logs refusals but not every forwarded request by default; AEGIS_LOG_REQUESTS=all logs each', async () => {
    const lines = (out: string, msg: string) => out.split('\n').filter((l) => l.includes(`"msg":"${msg}"`))
    const gate = await startGate(dir, ['--upstream-ca', caFile, '--resolve', resolveFlag()])
    const all = await startGate(dir, ['--upstream-ca', caFile, '--resolve', resolveFlag()], {
      AEGIS_LOG_REQUESTS: 'all',
    })
    try {
      for (const g of [gate, all]) {
        expect((await get(g.port, '/slack/api/logged')).status).toBe(200)
        expect((await get(g.port, '/no-such-service/x')).status).toBe(404)
      }
      await new Promise((r) => setTimeout(r, 300))
      expect(lines(gate.output(), 'request forwarded')).toEqual([])
      expect(lines(gate.output(), 'request refused').length).toBeGreaterThan(0)
      expect(lines(all.output(), 'request forwarded').some((l) => l.includes('/api/logged'))).toBe(true)
      expect(lines(all.output(), 'request refused').length).toBe(1)
      expect(gate.output() + all.output()).not.toContain(SECRET)
    } finally {
      all.child.kill('SIGKILL')
      gate.child.kill('SIGKILL')
    }
  })
})

describe('aegis gate with agent auth', () => {
  it('admits a granted agent and applies revocation and regeneration within a second', async () => {
    const dir = tempDir()
    try {
      await runCli(['init', '--write-secrets'], { cwd: dir })
      await runCli(
        [
          'vault',
          'add',
          '--name',
          'slack-bot',
          '--service',
          'slack',
          '--secret',
          '-',
          '--domains',
          'api.example.test',
        ],
        {
          cwd: dir,
          input: 'xoxb-agent-test',
        },
      )
      const added = await runCli(['agent', 'add', '--name', 'research-bot', '--json'], { cwd: dir })
      const { token } = JSON.parse(added.stdout) as { token: string }
      await runCli(['agent', 'grant', '--agent', 'research-bot', '--credential', 'slack-bot'], { cwd: dir })
      const gate = await startGate(dir, [
        '--require-agent-auth',
        '--upstream-ca',
        caFile,
        '--resolve',
        `api.example.test:443:127.0.0.1:${upstream.port}`,
      ])
      try {
        expect(gate.output()).not.toContain('Agent authentication is off')
        expect((await get(gate.port, '/slack/x')).status).toBe(401)
        expect((await get(gate.port, '/slack/x', { 'X-Aegis-Agent': token })).status).toBe(200)

        const within = async (want: number, headers: Record<string, string>) => {
          const started = Date.now()
          while (Date.now() - started < 1000) {
            if ((await get(gate.port, '/slack/x', headers)).status === want) return Date.now() - started
            await new Promise((r) => setTimeout(r, 25))
          }
          throw new Error(`status ${want} not seen within 1 s`)
        }
        await runCli(['agent', 'revoke', '--agent', 'research-bot', '--credential', 'slack-bot'], {
          cwd: dir,
        })
        await within(403, { 'X-Aegis-Agent': token })
        await runCli(['agent', 'grant', '--agent', 'research-bot', '--credential', 'slack-bot'], { cwd: dir })
        await within(200, { 'X-Aegis-Agent': token })
        const renewed = await runCli(['agent', 'regenerate', '--name', 'research-bot', '--json'], {
          cwd: dir,
        })
        const fresh = (JSON.parse(renewed.stdout) as { token: string }).token
        await within(401, { 'X-Aegis-Agent': token })
        expect((await get(gate.port, '/slack/x', { 'X-Aegis-Agent': fresh })).status).toBe(200)
        await runCli(['agent', 'remove', '--name', 'research-bot'], { cwd: dir })
        await within(401, { 'X-Aegis-Agent': fresh })
        expect(gate.output()).not.toContain(token)
        expect(gate.output()).not.toContain(fresh)
      } finally {
        gate.child.kill('SIGTERM')
        await once(gate.child, 'exit')
      }
      const shown = JSON.parse(
        (await runCli(['ledger', 'show', '--json', '--limit', '500'], { cwd: dir })).stdout,
      ) as Array<{
        agent: string | null
        code: string | null
      }>
      expect(shown.some((e) => e.agent === 'research-bot' && e.code === null)).toBe(true)
      expect(shown.some((e) => e.agent === 'research-bot' && e.code === 'grant_denied')).toBe(true)
      expect(shown.some((e) => e.code === 'agent_auth_invalid')).toBe(true)
    } finally {
      removeDir(dir)
    }
  })
})

describe('aegis gate with enforced policies and agent auth off', () => {
  it('says at start that anonymous requests are refused, and refuses them', async () => {
    const dir = tempDir()
    try {
      await runCli(['init', '--write-secrets'], { cwd: dir })
      await runCli(
        ['vault', 'add', '--name', 'p', '--service', 'p', '--secret', '-', '--domains', 'api.example.test'],
        { cwd: dir, input: 'policy-anon-secret-1' },
      )
      const policies = join(dir, 'policies')
      mkdirSync(policies)
      writeFileSync(join(policies, 'bot.yaml'), 'agent: bot\nrules: []\n')
      const gate = await startGate(dir, [
        '--policies-dir',
        policies,
        '--policy-mode',
        'enforce',
        '--upstream-ca',
        caFile,
        '--resolve',
        `api.example.test:443:127.0.0.1:${upstream.port}`,
      ])
      try {
        const before = upstream.received.length
        const reply = await get(gate.port, '/p/x')
        expect(reply.status).toBe(401)
        expect(JSON.parse(reply.body).code).toBe('agent_auth_required')
        expect(upstream.received.length).toBe(before)
        expect(gate.output()).toContain('Requests without an agent token are refused (agent_auth_required)')
        expect(gate.output()).not.toContain('Agent authentication is off')
      } finally {
        gate.child.kill('SIGTERM')
        await once(gate.child, 'exit')
      }
    } finally {
      removeDir(dir)
    }
  })
})

describe('aegis gate durability', () => {
  it('has a ledger entry for every request an upstream received, even after kill -9', async () => {
    const dir = tempDir()
    try {
      await runCli(['init', '--write-secrets'], { cwd: dir })
      await runCli(
        ['vault', 'add', '--name', 'k', '--service', 'k', '--secret', '-', '--domains', 'api.example.test'],
        {
          cwd: dir,
          input: 'kill-secret',
        },
      )
      const gate = await startGate(dir, [
        '--upstream-ca',
        caFile,
        '--resolve',
        `api.example.test:443:127.0.0.1:${upstream.port}`,
      ])
      const before = upstream.received.length
      let sent = 0
      const loops = Array.from({ length: 8 }, async (_, worker) => {
        while (gate.child.exitCode === null && gate.child.signalCode === null) {
          const n = sent++
          await get(gate.port, `/k/durable/${worker}-${n}`).catch(() => undefined)
        }
      })
      while (upstream.received.length - before < 200) await new Promise((r) => setTimeout(r, 10))
      gate.child.kill('SIGKILL')
      await Promise.all(loops)
      const reached = upstream.received
        .slice(before)
        .map((r) => r.url)
        .filter((u) => u.startsWith('/durable/'))
      expect(reached.length).toBeGreaterThanOrEqual(200)
      const exported = await runCli(['ledger', 'export', '-f', 'jsonl'], { cwd: dir })
      const paths = new Set(
        exported.stdout
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { path: string }).path),
      )
      const missing = reached.filter((u) => !paths.has(u))
      expect(missing).toEqual([])
    } finally {
      removeDir(dir)
    }
  })
})

describe('aegis gate errors', () => {
  it('says clearly that the port is in use', async () => {
    const dir = tempDir()
    const blocker = createServer().listen(0, '127.0.0.1')
    await once(blocker, 'listening')
    const port = (blocker.address() as import('node:net').AddressInfo).port
    try {
      await runCli(['init', '--write-secrets'], { cwd: dir })
      const result = await runCli(['gate', '--port', String(port)], { cwd: dir })
      expect(result.code).toBe(1)
      // The message the brief's troubleshooting table lists, with its fix: another port.
      expect(result.stderr).toContain(
        `Error: Port ${port} is already in use: stop the process that holds it, or choose another port with --port (gate.port in the config)\n`,
      )
    } finally {
      blocker.close()
      removeDir(dir)
    }
  })

  it('names the file and key when TLS or CA files hold the wrong PEM, and never starts', async () => {
    const dir = tempDir()
    const pki = testPki()
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string
    writeFileSync(join(dir, 'leaf.crt'), pki.cert)
    writeFileSync(join(dir, 'leaf.key'), pki.key)
    writeFileSync(join(dir, 'other.key'), otherKey)
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n')
    try {
      await runCli(['init', '--write-secrets'], { cwd: dir })
      const cases: Array<[string[], RegExp]> = [
        // cert and key swapped
        [
          ['--tls', '--cert', 'leaf.key', '--key', 'leaf.crt'],
          /gate\.tls\.cert \S*leaf\.key holds no PEM certificate.*private key/,
        ],
        [
          ['--tls', '--cert', 'leaf.crt', '--key', 'junk.pem'],
          /gate\.tls\.key \S*junk\.pem holds no usable PEM private key/,
        ],
        [
          ['--tls', '--cert', 'leaf.crt', '--key', 'other.key'],
          /gate\.tls\.key \S*other\.key does not belong to gate\.tls\.cert \S*leaf\.crt/,
        ],
        // a CA file that is not a certificate was trusted as nothing, silently
        [['--upstream-ca', 'junk.pem'], /gate\.upstream\.ca_file \S*junk\.pem holds no PEM certificate/],
        [
          ['--upstream-ca', 'leaf.key'],
          /gate\.upstream\.ca_file \S*leaf\.key holds no PEM certificate.*private key/,
        ],
      ]
      for (const [args, message] of cases) {
        const result = await runCli(['gate', '--port', '0', ...args], { cwd: dir })
        expect(result.code, args.join(' ')).toBe(1)
        expect(result.stderr, args.join(' ')).toMatch(message)
        expect(result.stderr).not.toContain('PEM routines')
        expect(result.stderr).not.toContain('PRIVATE KEY-----\n')
        expect(result.stdout).not.toContain('listening on')
      }
    } finally {
      removeDir(dir)
    }
  })

  it('names an unreadable --upstream-ca file', async () => {
    const dir = tempDir()
    try {
      await runCli(['init', '--write-secrets'], { cwd: dir })
      const result = await runCli(['gate', '--upstream-ca', 'missing.pem'], { cwd: dir })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/missing\.pem/)
    } finally {
      removeDir(dir)
    }
  })
})
